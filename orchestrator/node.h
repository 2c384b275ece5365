/* The node description (paper 5.1.2): the document GET /v1/node returns
 * and the bus publishes (schemas/node-description.schema.json). */
#ifndef CORCH_NODE_H
#define CORCH_NODE_H 1

#include <json-c/json.h>

struct nrm;

/* Builds the current description.  Caller owns it. */
json_object *node_describe(struct nrm *);

#endif
