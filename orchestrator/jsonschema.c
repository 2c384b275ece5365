/* The JSON-Schema subset checker: see jsonschema.h. */
#include <config.h>
#include "jsonschema.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

LOG_MODULE(jsonschema);

static bool
type_matches(const char *type, json_object *v)
{
    enum json_type t = json_object_get_type(v);
    if (!strcmp(type, "object"))
        return t == json_type_object;
    if (!strcmp(type, "array"))
        return t == json_type_array;
    if (!strcmp(type, "string"))
        return t == json_type_string;
    if (!strcmp(type, "boolean"))
        return t == json_type_boolean;
    if (!strcmp(type, "null"))
        return t == json_type_null;
    if (!strcmp(type, "integer"))
        return t == json_type_int
               || (t == json_type_double
                   && floor(json_object_get_double(v))
                      == json_object_get_double(v));
    if (!strcmp(type, "number"))
        return t == json_type_int || t == json_type_double;
    return true;                        /* Unknown type names: lenient. */
}

static const char *
type_name_of(json_object *v)
{
    return json_type_to_name(json_object_get_type(v));
}

static int check_value(json_object *schema, json_object *v, const char *path,
                       unsigned int depth, struct corch_err *err);

static int
bad(struct corch_err *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
bad(struct corch_err *err, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, path, "%s: %s",
                          path, msg);
}

static int
check_object(json_object *schema, json_object *v, const char *path,
             unsigned int depth, struct corch_err *err)
{
    json_object *props = NULL, *addl = NULL, *req = NULL;
    json_object_object_get_ex(schema, "properties", &props);
    json_object_object_get_ex(schema, "additionalProperties", &addl);
    json_object_object_get_ex(schema, "required", &req);
    if (req && json_object_is_type(req, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(req); i++) {
            const char *k = json_object_get_string(
                json_object_array_get_idx(req, i));
            if (k && !json_object_object_get_ex(v, k, NULL)) {
                _cleanup_free_ char *p = xasprintf("%s.%s", path, k);
                return bad(err, p, "required");
            }
        }
    }
    json_object_object_foreach(v, key, val) {
        _cleanup_free_ char *p = xasprintf("%s.%s", path, key);
        json_object *sub = NULL;
        if (props && json_object_object_get_ex(props, key, &sub)) {
            int r = check_value(sub, val, p, depth + 1, err);
            if (r)
                return r;
        } else if (addl && json_object_is_type(addl, json_type_boolean)
                   && !json_object_get_boolean(addl)) {
            return bad(err, p, "unknown member");
        } else if (addl && json_object_is_type(addl, json_type_object)) {
            int r = check_value(addl, val, p, depth + 1, err);
            if (r)
                return r;
        }
    }
    return 0;
}

static int
check_value(json_object *schema, json_object *v, const char *path,
            unsigned int depth, struct corch_err *err)
{
    json_object *k;
    if (!schema || !json_object_is_type(schema, json_type_object))
        return 0;                       /* true / {}: anything goes. */
    if (depth > 64)
        return bad(err, path, "nested too deeply");

    if (json_object_object_get_ex(schema, "type", &k)) {
        bool ok = false;
        if (json_object_is_type(k, json_type_string))
            ok = type_matches(json_object_get_string(k), v);
        else if (json_object_is_type(k, json_type_array))
            for (size_t i = 0; i < json_object_array_length(k) && !ok; i++)
                ok = type_matches(json_object_get_string(
                                      json_object_array_get_idx(k, i)), v);
        else
            ok = true;
        if (!ok)
            return bad(err, path, "must be of type %s, not %s",
                       json_object_to_json_string(k), type_name_of(v));
    }
    if (json_object_object_get_ex(schema, "const", &k)
        && !json_object_equal(k, v))
        return bad(err, path, "must be %s", json_object_to_json_string(k));
    if (json_object_object_get_ex(schema, "enum", &k)
        && json_object_is_type(k, json_type_array)) {
        bool ok = false;
        for (size_t i = 0; i < json_object_array_length(k) && !ok; i++)
            ok = json_object_equal(json_object_array_get_idx(k, i), v);
        if (!ok)
            return bad(err, path, "must be one of %s",
                       json_object_to_json_string_ext(k,
                                                      JSON_C_TO_STRING_PLAIN));
    }

    switch (json_object_get_type(v)) {
    case json_type_object: {
        int r = check_object(schema, v, path, depth, err);
        if (r)
            return r;
        break;
    }
    case json_type_array: {
        size_t n = json_object_array_length(v);
        if (json_object_object_get_ex(schema, "minItems", &k)
            && (int64_t) n < json_object_get_int64(k))
            return bad(err, path, "needs at least %lld items",
                       (long long) json_object_get_int64(k));
        if (json_object_object_get_ex(schema, "maxItems", &k)
            && (int64_t) n > json_object_get_int64(k))
            return bad(err, path, "takes at most %lld items",
                       (long long) json_object_get_int64(k));
        if (json_object_object_get_ex(schema, "items", &k)) {
            for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
                int r = check_value(k, json_object_array_get_idx(v, i), p,
                                    depth + 1, err);
                if (r)
                    return r;
            }
        }
        break;
    }
    case json_type_string: {
        const char *str = json_object_get_string(v);
        int64_t len = json_object_get_string_len(v);
        if (json_object_object_get_ex(schema, "minLength", &k)
            && len < json_object_get_int64(k))
            return bad(err, path, "shorter than %lld",
                       (long long) json_object_get_int64(k));
        if (json_object_object_get_ex(schema, "maxLength", &k)
            && len > json_object_get_int64(k))
            return bad(err, path, "longer than %lld",
                       (long long) json_object_get_int64(k));
        if (json_object_object_get_ex(schema, "pattern", &k)
            && json_object_is_type(k, json_type_string)) {
            regex_t re;
            if (regcomp(&re, json_object_get_string(k),
                        REG_EXTENDED | REG_NOSUB)) {
                LOG_WARN_RL("config_schema pattern \"%s\" is not a POSIX "
                            "regular expression; not checked",
                            json_object_get_string(k));
                break;
            }
            int m = regexec(&re, str, 0, NULL, 0);
            regfree(&re);
            if (m)
                return bad(err, path, "\"%.64s\" does not match %s", str,
                           json_object_get_string(k));
        }
        break;
    }
    case json_type_int:
    case json_type_double: {
        double d = json_object_get_double(v);
        if (json_object_object_get_ex(schema, "minimum", &k)
            && d < json_object_get_double(k))
            return bad(err, path, "below the minimum %s",
                       json_object_to_json_string(k));
        if (json_object_object_get_ex(schema, "maximum", &k)
            && d > json_object_get_double(k))
            return bad(err, path, "above the maximum %s",
                       json_object_to_json_string(k));
        if (json_object_object_get_ex(schema, "exclusiveMinimum", &k)
            && d <= json_object_get_double(k))
            return bad(err, path, "must be above %s",
                       json_object_to_json_string(k));
        if (json_object_object_get_ex(schema, "exclusiveMaximum", &k)
            && d >= json_object_get_double(k))
            return bad(err, path, "must be below %s",
                       json_object_to_json_string(k));
        break;
    }
    default:
        break;
    }

    if (json_object_object_get_ex(schema, "allOf", &k)
        && json_object_is_type(k, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(k); i++) {
            int r = check_value(json_object_array_get_idx(k, i), v, path,
                                depth + 1, err);
            if (r)
                return r;
        }
    }
    static const char *const alts[] = { "anyOf", "oneOf" };
    for (size_t a = 0; a < ARRAY_SIZE(alts); a++) {
        if (!json_object_object_get_ex(schema, alts[a], &k)
            || !json_object_is_type(k, json_type_array))
            continue;
        size_t matched = 0;
        struct corch_err first = { .path = "", .msg = "" };
        for (size_t i = 0; i < json_object_array_length(k); i++) {
            struct corch_err e = { .path = "", .msg = "" };
            if (!check_value(json_object_array_get_idx(k, i), v, path,
                             depth + 1, &e))
                matched++;
            else if (!first.msg[0])
                first = e;
        }
        if (!matched) {
            if (err)
                *err = first;
            return -EINVAL;
        }
        if (a == 1 && matched > 1)
            return bad(err, path, "matches more than one alternative");
    }
    return 0;
}


int
jsonschema_check(json_object *schema, json_object *value, const char *path,
                 struct corch_err *err)
{
    return check_value(schema, value, path, 0, err);
}
