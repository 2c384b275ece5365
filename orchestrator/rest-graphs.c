/* REST handlers of API v1's graphs: /v1/graphs[/<id>[/status]]. */
#include <config.h>
#include "rest-private.h"

#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "corch-config.h"
#include "log.h"
#include "nrm.h"

LOG_MODULE(rest);

/* The graph id in segment 'i': replies 400 if it is not a valid id. */
const char *
rest_graph_id(struct rest_request *rq, size_t i)
{
    const char *id = rq->segs[i];
    if (!name_is_valid_id(id)) {
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid-request", "id",
                         "invalid graph id in the URL (expected "
                         "[A-Za-z0-9_.:-]{1,64}, not starting with '.' or '-')");
        return NULL;
    }
    return id;
}

void
rest_reply_no_graph(struct rest_request *rq, int error, const char *id)
{
    struct corch_err err = { .path = "", .msg = "" };

    corch_err_setk(&err, CORCH_ERR_NOT_FOUND, error, NULL, "no graph \"%s\"",
                   id);
    rest_reply_err(rq, error, &err);
}

/* Looks up the owner of graph 'id' and checks 'action' on it.  Replies
 * 404 / 403 and returns false on refusal. */
bool
rest_authorize_graph(struct rest_request *rq, const char *id,
                     enum security_action action)
{
    _cleanup_free_ char *owner = NULL;
    int r = nrm_graph_owner(rq->srv->nrm, id, &owner);
    if (r < 0) {
        /* A user who could not do this even to a graph of its own gets 403
         * (a viewer deleting): the answer does not depend on what exists. */
        if (!rest_authorize(rq, action, rq->user))
            return false;
        rest_reply_no_graph(rq, r, id);
        return false;
    }
    return rest_authorize(rq, action, owner);
}

/* ------------------------------------------------------------- graphs --- */

struct graph_limits
rest_limits(const struct rest_server *srv)
{
    return srv->limits;
}

/* Deploys 'graph' (taken) after the authorisation of a create or an
 * update; on success sets '*ret_created' and returns 0; on failure has
 * replied. */
int
rest_deploy(struct rest_request *rq, struct graph *graph, const char *format,
            bool *ret_created)
{
    _cleanup_free_ char *owner = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    bool created = false;
    int r;

    r = nrm_graph_owner(rq->srv->nrm, graph->id, &owner);
    if (r == 0) {
        if (!rest_authorize(rq, SECURITY_GRAPH_UPDATE, owner)) {
            graph_free(graph);
            return -EPERM;
        }
    } else if (!rest_authorize(rq, SECURITY_GRAPH_CREATE, NULL)) {
        graph_free(graph);
        return -EPERM;
    }

    r = nrm_graph_put(rq->srv->nrm, graph, rq->user, format, &created, &err);
    if (r < 0) {
        rest_reply_err(rq, r, &err);
        return r;
    }
    *ret_created = created;
    return 0;
}

/* Parses an SF-FG body; replies and returns NULL on failure. */
static struct graph *
rest_parse_sffg(struct rest_request *rq)
{
    struct graph_limits limits = rest_limits(rq->srv);
    struct corch_err err = { .path = "", .msg = "" };
    struct graph *graph = NULL;

    if (!rq->body || rq->body_len == 0) {
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid-graph", "",
                         "the request needs an SF-FG body");
        return NULL;
    }
    int r = graph_parse(rq->body, rq->body_len,
                        rq->srv->cfg->limits_max_json_depth, &limits,
                        &graph, &err);
    if (r < 0) {
        rest_reply_err(rq, r, &err);
        return NULL;
    }
    return graph;
}

static void
rest_graph_put(struct rest_request *rq)
{
    const char *id = rest_graph_id(rq, 2);
    if (!id)
        return;
    struct graph *graph = rest_parse_sffg(rq);
    if (!graph)
        return;
    if (strcmp(graph->id, id)) {
        struct corch_err err = { .path = "", .msg = "" };
        int r = corch_err_setk(&err, CORCH_ERR_CONFLICT, -EINVAL, "sffg.id",
                               "the graph id in the body (\"%s\") differs "
                               "from the one in the URL (\"%s\")", graph->id,
                               id);
        graph_free(graph);
        rest_reply_err(rq, r, &err);
        return;
    }

    bool created;
    if (rest_deploy(rq, graph, "sffg", &created) < 0)
        return;

    json_object *status = NULL;
    int r = nrm_graph_status(rq->srv->nrm, id, &status);
    if (r < 0) {
        /* Deleted by someone else right after the deploy. */
        status = json_object_new_object();
        json_object_object_add(status, "id", json_object_new_string(id));
    }
    rest_reply_json(rq, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, status);
}

/* Replies with the graph whose id is URL segment 'seg', in the form
 * 'to_json' makes (SF-FG or NF-FG). */
void
rest_reply_graph(struct rest_request *rq, size_t seg,
                 json_object *(*to_json)(const struct graph *))
{
    const char *id = rest_graph_id(rq, seg);
    if (!id || !rest_authorize_graph(rq, id, SECURITY_GRAPH_READ))
        return;

    struct graph *graph = NULL;
    int r = nrm_graph_get(rq->srv->nrm, id, &graph, NULL, NULL);
    if (r < 0) {
        rest_reply_no_graph(rq, r, id);     /* Deleted since the check. */
        return;
    }
    json_object *obj = to_json(graph);
    graph_free(graph);
    rest_reply_json(rq, MHD_HTTP_OK, obj);
}

static void
rest_graph_get(struct rest_request *rq)
{
    rest_reply_graph(rq, 2, graph_to_json);
}

static void
rest_graph_status(struct rest_request *rq)
{
    const char *id = rest_graph_id(rq, 2);
    if (!id || !rest_authorize_graph(rq, id, SECURITY_GRAPH_READ))
        return;

    json_object *status = NULL;
    int r = nrm_graph_status(rq->srv->nrm, id, &status);
    if (r < 0) {
        rest_reply_no_graph(rq, r, id);     /* Deleted since the check. */
        return;
    }
    rest_reply_json(rq, MHD_HTTP_OK, status);
}

void
rest_graph_delete(struct rest_request *rq)
{
    const char *id = rest_graph_id(rq, rq->n_segs - 1);
    if (!id || !rest_authorize_graph(rq, id, SECURITY_GRAPH_DELETE))
        return;

    struct corch_err err = { .path = "", .msg = "" };
    int r = nrm_graph_delete(rq->srv->nrm, id, &err);
    if (r < 0) {
        rest_reply_err(rq, r, &err);
        return;
    }
    rest_reply_json(rq, MHD_HTTP_NO_CONTENT, NULL);
}

/* The owner filter of a list: an operator sees only its own graphs. */
const char *
rest_list_owner(const struct rest_request *rq)
{
    return rq->role == SECURITY_ROLE_OPERATOR ? rq->user : NULL;
}

static void
rest_graph_list(struct rest_request *rq)
{
    if (!rest_authorize(rq, SECURITY_GRAPH_LIST, NULL))
        return;
    rest_reply_json(rq, MHD_HTTP_OK,
                    nrm_graph_list(rq->srv->nrm, rest_list_owner(rq)));
}

static const struct rest_route routes[] = {
    { { "v1", "graphs" }, true, rest_graph_list, NULL, NULL, NULL },
    { { "v1", "graphs", "*" }, true,
      rest_graph_get, rest_graph_put, NULL, rest_graph_delete },
    { { "v1", "graphs", "*", "status" }, true,
      rest_graph_status, NULL, NULL, NULL },
};
const struct rest_route_table rest_graphs_routes = {
    routes, ARRAY_SIZE(routes), true
};
