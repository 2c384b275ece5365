/* A checker for the subset of JSON Schema that SF templates use for their
 * "config_schema" (docs/sf-repository.md): an SF's config is checked
 * against its template's schema before anything is deployed.
 *
 * Understood: type, enum, const, properties, required,
 * additionalProperties, items, minItems, maxItems, pattern (POSIX extended
 * regular expressions), minLength, maxLength, minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum, allOf, anyOf, oneOf; other keywords
 * are ignored (a schema is a template author's, not a client's: lenient
 * on what it says, strict on what the value does).  A schema that is not
 * an object (true, absent) accepts anything. */
#ifndef CORCH_JSONSCHEMA_H
#define CORCH_JSONSCHEMA_H 1

#include <json-c/json.h>

#include "util.h"

/* Checks 'value' against 'schema'; 'path' names 'value' in the request
 * ("sffg.SFs[2].config") and prefixes the path of the error
 * ("sffg.SFs[2].config.rules[0].dest_port").  Returns 0, or -EINVAL with
 * 'err' (kind CORCH_ERR_INVALID) saying which member breaks which
 * keyword. */
int jsonschema_check(json_object *schema, json_object *value,
                     const char *path, struct corch_err *err);

#endif
