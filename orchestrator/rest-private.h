/* What the REST transport (rest.c) and the handlers of each resource
 * (rest-graphs.c, rest-users.c, rest-nffg.c, rest-node.c) share: the
 * request, the route tables each handler file exports, and the reply and
 * authorisation helpers.  Private to orchestrator/rest*.c. */
#ifndef CORCH_REST_PRIVATE_H
#define CORCH_REST_PRIVATE_H 1

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "rest.h"
#include "security.h"
#include "util.h"

/* Path segments we route on; deeper paths are not ours (404). */
#define REST_MAX_SEGMENTS 4
/* Small bodies (login, users) never need more than this. */
#define REST_SMALL_BODY_MAX 65536

struct rest_server {
    const struct corch_config *cfg; /* Limits, auth switch; outlives us. */
    struct security *sec;       /* Users and tokens; outlives us. */
    struct nrm *nrm;            /* The graphs; outlives us. */
    struct MHD_Daemon *mhd;     /* The HTTP server. */
    struct graph_limits limits; /* From cfg, handed to the parsers. */
    char *tls_cert;             /* PEM text; MHD keeps pointers to it. */
    char *tls_key;              /* PEM text; wiped and freed at stop. */
    atomic_uint in_flight;      /* Requests between first call and done. */
    atomic_bool stopping;       /* rest_stop() started: refuse new work. */
    atomic_bool starting;       /* In rest_start(): keep MHD's message. */
    char start_msg[256];        /* MHD's last message during start-up, for
                                 * the error that names the key. */
};

struct rest_request;
typedef void rest_handler_func(struct rest_request *);

/* One route: a path pattern of literal segments and "*" (one id), and
 * the handler per method. */
struct rest_route {
    const char *pattern[REST_MAX_SEGMENTS]; /* NULL-terminated. */
    bool auth;                  /* Needs a token (when security.auth). */
    rest_handler_func *get;     /* Each may be NULL: 405. */
    rest_handler_func *put;
    rest_handler_func *post;
    rest_handler_func *delete;
};

/* The state of one request, from its first call to its completion. */
struct rest_request {
    struct rest_server *srv;    /* The server it came to. */
    struct MHD_Connection *conn; /* To queue the response. */
    const char *method;         /* MHD's string, valid for the request. */
    char *path;                 /* Sanitised copy of the URL for the log. */
    char *segs[REST_MAX_SEGMENTS]; /* The URL's segments (owned). */
    size_t n_segs;
    const struct rest_route_table *table; /* The matched route's table. */
    const struct rest_route *route; /* Matched route, NULL if none. */
    rest_handler_func *handler; /* The route's handler for 'method'. */
    char *user;                 /* Authenticated user, or NULL. */
    enum security_role role;    /* Its role (admin when auth is off). */
    char *body;                 /* Body received so far (NUL-terminated). */
    size_t body_len;            /* Bytes in 'body'. */
    size_t body_cap;            /* Allocated bytes of 'body'. */
    size_t body_seen;           /* Bytes received, kept or not. */
    bool too_large;             /* The body exceeded the limit. */
    bool responded;             /* A response is queued. */
    unsigned int status;        /* HTTP status queued (for the log). */
    uint64_t start_ms;          /* When the headers arrived. */
};

/* A resource's routes, as one handler file exports them; rest.c tries
 * each table in turn. */
struct rest_route_table {
    const struct rest_route *routes;    /* The routes... */
    size_t n_routes;                    /* ...and how many. */
    bool graph_api;                     /* Its requests carry or name
                                         * graphs: errors get the graph
                                         * codes ("invalid-graph",
                                         * "deploy-failed"). */
};
extern const struct rest_route_table rest_graphs_routes;
extern const struct rest_route_table rest_node_routes;
extern const struct rest_route_table rest_users_routes;
extern const struct rest_route_table rest_nffg_routes;

/* rest.c: replies.  Each queues one response (the first one wins). */
/* Sends 'obj' (may be NULL: an empty body) and releases it. */
void rest_reply_json(struct rest_request *, unsigned int status,
                     json_object *obj);
/* The error body {"error": {"code", "message", "path"}}; 'allow' is the
 * Allow header of a 405, or NULL. */
void rest_reply_error_full(struct rest_request *, unsigned int status,
                           const char *code, const char *path,
                           const char *msg, const char *allow);
void rest_reply_error(struct rest_request *, unsigned int status,
                      const char *code, const char *path, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
/* Replies with the status and code of err->kind (the table in rest.c:
 * the only place where errors become statuses), err->path and err->msg
 * (strerror(-error) if it is empty). */
void rest_reply_err(struct rest_request *, int error,
                    const struct corch_err *err);
/* The status and error code of an error of 'kind' in a route table whose
 * 'graph_api' is as given. */
void rest_error_status(enum corch_err_kind kind, bool graph_api,
                       unsigned int *ret_status, const char **ret_code);

/* rest.c: request bodies. */
/* Parses the request body as one JSON document no deeper than the limit.
 * On failure replies 400 with 'code' and returns NULL. */
json_object *rest_parse_body(struct rest_request *, const char *code);
/* The body of a small request (login, a user): at most
 * REST_SMALL_BODY_MAX bytes ('what' names it in the 413), one JSON object
 * ('shape' lists its members in the 400).  On failure replies and returns
 * NULL; the caller puts the object. */
json_object *rest_parse_small_object(struct rest_request *, const char *what,
                                     const char *shape);
/* A string member of a small request object, or NULL (absent).  Replies
 * 400 and sets '*bad' when present with another type. */
const char *rest_body_string(struct rest_request *, json_object *obj,
                             const char *key, bool *bad);

/* rest.c: checks the role matrix for 'action' on an object of 'owner';
 * replies 403 and returns false if refused. */
bool rest_authorize(struct rest_request *, enum security_action action,
                    const char *owner);

/* rest-graphs.c: what the NF-FG handlers share with the SF-FG ones. */
/* The graph id in segment 'i': replies 400 if it is not a valid id. */
const char *rest_graph_id(struct rest_request *, size_t i);
/* Replies 404 for graph 'id', which a lookup of the nrm ('error' is what
 * it returned) did not find: nrm_graph_owner(), _get() and _status() have
 * no other failure (nrm.h). */
void rest_reply_no_graph(struct rest_request *, int error, const char *id);
/* Looks up the owner of graph 'id' and checks 'action' on it.  Replies
 * 404 / 403 and returns false on refusal. */
bool rest_authorize_graph(struct rest_request *, const char *id,
                          enum security_action action);
struct graph_limits rest_limits(const struct rest_server *);
/* Deploys 'graph' (taken) after the authorisation of a create or an
 * update; on success sets '*ret_created' and returns 0; on failure has
 * replied. */
int rest_deploy(struct rest_request *, struct graph *graph,
                const char *format, bool *ret_created);
/* Replies with the graph whose id is URL segment 'seg', in the form
 * 'to_json' makes (SF-FG or NF-FG). */
void rest_reply_graph(struct rest_request *, size_t seg,
                      json_object *(*to_json)(const struct graph *));
/* The owner filter of a list: an operator sees only its own graphs. */
const char *rest_list_owner(const struct rest_request *);
void rest_graph_delete(struct rest_request *);

#endif
