/* The REST server (libmicrohttpd): API v1 and the un-orchestrator
 * compatibility API (docs/rest-api.md, docs/openapi.yaml).  rest.c is the
 * transport, authentication and routing; the handlers of each resource
 * live in rest-graphs.c, rest-nffg.c, rest-users.c and rest-node.c, behind
 * rest-private.h. */
#ifndef CORCH_REST_H
#define CORCH_REST_H 1

#include "util.h"

struct corch_config;
struct security;
struct nrm;
struct rest_server;

/* Starts listening on rest.address:rest.port (TLS if configured). */
int rest_start(const struct corch_config *, struct security *, struct nrm *,
               struct rest_server **ret, struct corch_err *err);
/* Stops accepting connections, finishes in-flight requests, stops. */
void rest_stop(struct rest_server *);           /* Accepts NULL. */

#endif
