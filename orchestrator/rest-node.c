/* REST handler of the node description: /v1/node. */
#include <config.h>
#include "rest-private.h"

#include <json-c/json.h>
#include <microhttpd.h>

#include "node.h"

static void
rest_node_get(struct rest_request *rq)
{
    if (!rest_authorize(rq, SECURITY_NODE_READ, NULL))
        return;
    rest_reply_json(rq, MHD_HTTP_OK, node_describe(rq->srv->nrm));
}

static const struct rest_route routes[] = {
    { { "v1", "node" }, true, rest_node_get, NULL, NULL, NULL },
};
const struct rest_route_table rest_node_routes = {
    routes, ARRAY_SIZE(routes), false
};
