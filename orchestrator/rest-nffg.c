/* REST handlers of the un-orchestrator compatibility API: /NF-FG. */
#include <config.h>
#include "rest-private.h"

#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "corch-config.h"
#include "nffg.h"
#include "nrm.h"

/* ------------------------------------------- un-orchestrator NF-FG API --- */

/* Parses an NF-FG body into graph 'id'; replies and returns NULL on
 * failure. */
static struct graph *
rest_parse_nffg(struct rest_request *rq, const char *id)
{
    struct graph_limits limits = rest_limits(rq->srv);
    struct corch_err err = { .path = "", .msg = "" };
    struct graph *graph = NULL;

    if (!rq->body || rq->body_len == 0) {
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid-graph", "",
                         "the request needs an NF-FG body");
        return NULL;
    }
    int r = nffg_parse(rq->body, rq->body_len,
                       rq->srv->cfg->limits_max_json_depth, id, &limits,
                       &graph, &err);
    if (r < 0) {
        rest_reply_err(rq, r, &err);
        return NULL;
    }
    return graph;
}

/* A random (version 4) UUID for a POSTed graph. */
static void
rest_uuid(char out[37])
{
    uint8_t b[16];
    random_bytes(b, sizeof b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
}

static void
rest_nffg_post(struct rest_request *rq)
{
    char id[37];
    rest_uuid(id);
    struct graph *graph = rest_parse_nffg(rq, id);
    if (!graph)
        return;
    bool created;
    if (rest_deploy(rq, graph, "nffg", &created) < 0)
        return;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "nffg-uuid", json_object_new_string(id));
    rest_reply_json(rq, MHD_HTTP_CREATED, o);
}

static void
rest_nffg_put(struct rest_request *rq)
{
    const char *id = rest_graph_id(rq, 1);
    if (!id)
        return;
    struct graph *graph = rest_parse_nffg(rq, id);
    if (!graph)
        return;
    bool created;
    if (rest_deploy(rq, graph, "nffg", &created) < 0)
        return;
    /* The un-orchestrator answers 202 to a PUT, created or updated. */
    json_object *o = json_object_new_object();
    json_object_object_add(o, "nffg-uuid", json_object_new_string(id));
    rest_reply_json(rq, MHD_HTTP_ACCEPTED, o);
}

static void
rest_nffg_get(struct rest_request *rq)
{
    rest_reply_graph(rq, 1, nffg_from_graph);
}

static void
rest_nffg_list(struct rest_request *rq)
{
    if (!rest_authorize(rq, SECURITY_GRAPH_LIST, NULL))
        return;
    json_object *list = nrm_graph_list(rq->srv->nrm, rest_list_owner(rq));
    json_object *graphs = NULL;
    json_object *out = json_object_new_array();

    if (json_object_object_get_ex(list, "graphs", &graphs)
        && json_object_is_type(graphs, json_type_array))
        for (size_t i = 0; i < json_object_array_length(graphs); i++) {
            json_object *g = json_object_array_get_idx(graphs, i), *jid;
            if (!json_object_object_get_ex(g, "id", &jid))
                continue;
            struct graph *graph = NULL;
            /* A graph deleted since the list is skipped. */
            if (nrm_graph_get(rq->srv->nrm, json_object_get_string(jid),
                              &graph, NULL, NULL) < 0)
                continue;
            json_object_array_add(out, nffg_from_graph(graph));
            graph_free(graph);
        }
    json_object_put(list);
    json_object *root = json_object_new_object();
    json_object_object_add(root, "NF-FG", out);
    rest_reply_json(rq, MHD_HTTP_OK, root);
}

/* The un-orchestrator's status document: "complete", "in_progress" or
 * "error", with a percentage (the share of SFs running while deploying). */
static void
rest_nffg_status(struct rest_request *rq)
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

    json_object *v;
    const char *s = json_object_object_get_ex(status, "status", &v)
                    ? json_object_get_string(v) : "";
    const char *out;
    int pct;
    if (!strcmp(s, "running")) {
        out = "complete";
        pct = 100;
    } else if (!strcmp(s, "failed")) {
        out = "error";
        pct = 0;
    } else {
        size_t n = 0, up = 0;
        json_object *sfs;
        if (json_object_object_get_ex(status, "sfs", &sfs)
            && json_object_is_type(sfs, json_type_array)) {
            n = json_object_array_length(sfs);
            for (size_t i = 0; i < n; i++) {
                json_object *st;
                if (json_object_object_get_ex(json_object_array_get_idx(sfs, i),
                                              "state", &st)
                    && !strcmp(json_object_get_string(st), "running"))
                    up++;
            }
        }
        out = "in_progress";
        pct = n ? (int) (up * 100 / n) : 0;
        if (pct >= 100)
            pct = 99;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(out));
    json_object_object_add(o, "percentage_completed", json_object_new_int(pct));
    json_object_put(status);
    rest_reply_json(rq, MHD_HTTP_OK, o);
}

static const struct rest_route routes[] = {
    { { "NF-FG" }, true, rest_nffg_list, NULL, rest_nffg_post, NULL },
    { { "NF-FG", "status", "*" }, true, rest_nffg_status, NULL, NULL, NULL },
    { { "NF-FG", "*" }, true, rest_nffg_get, rest_nffg_put, NULL,
      rest_graph_delete },
};
const struct rest_route_table rest_nffg_routes = {
    routes, ARRAY_SIZE(routes), true
};
