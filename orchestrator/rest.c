/* The REST server: API v1 and the un-orchestrator compatibility API on
 * libmicrohttpd (docs/rest-api.md is the reference for clients).
 *
 * Threading: one thread per connection.  A PUT or DELETE blocks its
 * handler for the whole deploy (seconds); with a thread per connection a
 * GET never waits behind one, and requests on different graphs run in
 * parallel (the nrm serialises requests on one graph and answers -EBUSY).
 * The number of threads is bounded by the connection limit.
 *
 * Request life: the access handler is called once when the headers are in
 * (routing, authentication and the Content-Length check happen there, so
 * that a refused request never uploads its body), then once per chunk of
 * body, then a last time with no data, when the route's handler runs.  The
 * completion callback writes the access log line and frees the request. */
#include <config.h>
#include "rest.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corch-config.h"
#include "graph.h"
#include "log.h"
#include "nffg.h"
#include "node.h"
#include "nrm.h"
#include "security.h"

LOG_MODULE(rest);

/* Path segments we route on; deeper paths are not ours (404). */
#define REST_MAX_SEGMENTS 4
/* URLs longer than this are refused (414) before anything else: no route
 * needs more than a few ids of at most 64 characters. */
#define REST_MAX_URL 2048
/* Connections (hence threads) per rest.threads. */
#define REST_CONNECTIONS_PER_THREAD 16
/* How long rest_stop() waits for in-flight requests (a deploy). */
#define REST_STOP_WAIT_MS 60000
/* Largest TLS key or certificate file we read. */
#define REST_TLS_FILE_MAX (1024 * 1024)
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

/* ------------------------------------------------------------ replies --- */

static void
rest_queue(struct rest_request *rq, unsigned int status, char *text,
           size_t len, const char *allow, bool www_auth)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/json");
    /* Responses carry graphs and tokens: never cached by anything. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (www_auth)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"c-orch\"");
    if (atomic_load(&rq->srv->stopping))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (MHD_queue_response(rq->conn, status, resp) == MHD_YES) {
        rq->responded = true;
        rq->status = status;
    }
    MHD_destroy_response(resp);
}

/* Sends 'obj' (may be NULL: an empty body) and releases it. */
static void
rest_reply_json(struct rest_request *rq, unsigned int status, json_object *obj)
{
    char *text;
    size_t len = 0;

    if (obj) {
        const char *s = json_object_to_json_string_length(
            obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        text = xmalloc(len + 1);
        memcpy(text, s, len);
        text[len] = '\n';
        len++;
        json_object_put(obj);
    } else {
        text = xstrdup("");
    }
    rest_queue(rq, status, text, len, NULL, false);
}

static void
rest_reply_error_full(struct rest_request *rq, unsigned int status,
                      const char *code, const char *path, const char *msg,
                      const char *allow)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_string(code));
    json_object_object_add(e, "message", json_object_new_string(msg ? msg : ""));
    json_object_object_add(e, "path", json_object_new_string(path ? path : ""));
    json_object *root = json_object_new_object();
    json_object_object_add(root, "error", e);

    size_t len;
    const char *s = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char *text = xmalloc(len + 2);
    memcpy(text, s, len);
    text[len++] = '\n';
    text[len] = '\0';
    json_object_put(root);
    rest_queue(rq, status, text, len, allow, status == MHD_HTTP_UNAUTHORIZED);
}

static void __attribute__((format(printf, 5, 6)))
rest_reply_error(struct rest_request *rq, unsigned int status,
                 const char *code, const char *path, const char *fmt, ...)
{
    char msg[CORCH_ERR_MSG_MAX];
    va_list args;

    va_start(args, fmt);
    vsnprintf(msg, sizeof msg, fmt, args);
    va_end(args);
    rest_reply_error_full(rq, status, code, path, msg, NULL);
}

/* Maps an nrm error to the HTTP status and error code of the API
 * (docs/rest-api.md, "Errors"). */
static void
rest_reply_nrm_error(struct rest_request *rq, int error,
                     const struct corch_err *err)
{
    const char *msg = err->msg[0] ? err->msg : strerror(-error);
    unsigned int status;
    const char *code;

    switch (error) {
    case -EINVAL:
        status = MHD_HTTP_BAD_REQUEST;
        code = "invalid-graph";
        break;
    case -ENOENT:
        status = MHD_HTTP_NOT_FOUND;
        code = "not-found";
        break;
    case -EBUSY:
    case -EADDRINUSE:
        status = MHD_HTTP_CONFLICT;
        code = "conflict";
        break;
    case -ENOPKG:
        status = MHD_HTTP_CONFLICT;
        code = "unresolvable";
        break;
    case -E2BIG:
        /* The node is full (limits.max_graphs): the state of the node, not
         * the request, is the problem, and retrying after a DELETE
         * works; hence 409 rather than 413. */
        status = MHD_HTTP_CONFLICT;
        code = "conflict";
        break;
    default:
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        code = "deploy-failed";
        break;
    }
    rest_reply_error_full(rq, status, code, err->path, msg, NULL);
}

/* -------------------------------------------------------- JSON bodies --- */

/* Parses the request body as one JSON document no deeper than the limit.
 * On failure replies 400 with 'code' and returns NULL. */
static json_object *
rest_parse_body(struct rest_request *rq, const char *code)
{
    if (!rq->body || rq->body_len == 0) {
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, code, "",
                         "the request needs a JSON body");
        return NULL;
    }
    if (memchr(rq->body, '\0', rq->body_len)) {
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, code, "",
                         "the body is not JSON text (it contains a NUL byte)");
        return NULL;
    }

    struct json_tokener *tok = json_tokener_new_ex(
        (int) rq->srv->cfg->limits_max_json_depth);
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = json_tokener_parse_ex(tok, rq->body, (int) rq->body_len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);

    if (jerr == json_tokener_continue) {
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, code, "",
                         "bad JSON: the document is incomplete");
        return NULL;
    }
    if (!obj || jerr != json_tokener_success) {
        json_object_put(obj);
        if (jerr == json_tokener_error_depth)
            rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, code, "",
                             "bad JSON: nested deeper than limits.max_json_depth=%u",
                             rq->srv->cfg->limits_max_json_depth);
        else
            rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, code, "",
                             "bad JSON at offset %zu: %s", end,
                             json_tokener_error_desc(jerr));
        return NULL;
    }
    for (size_t i = end; i < rq->body_len; i++)
        if (!isspace((unsigned char) rq->body[i])) {
            json_object_put(obj);
            rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, code, "",
                             "bad JSON: trailing data at offset %zu", i);
            return NULL;
        }
    return obj;
}

/* A string member of a small request object, or NULL (absent).  Replies
 * 400 and sets '*bad' when present with another type. */
static const char *
rest_body_string(struct rest_request *rq, json_object *obj, const char *key,
                 bool *bad)
{
    json_object *v;

    if (*bad || !json_object_object_get_ex(obj, key, &v) || !v)
        return NULL;
    if (!json_object_is_type(v, json_type_string)) {
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid-request", key,
                         "\"%s\" must be a string", key);
        *bad = true;
        return NULL;
    }
    return json_object_get_string(v);
}

/* ---------------------------------------------------- authorisation --- */

/* Checks the role matrix for 'action' on an object of 'owner'; replies
 * 403 and returns false if refused. */
static bool
rest_authorize(struct rest_request *rq, enum security_action action,
               const char *owner)
{
    if (security_authorize(rq->role, rq->user, action, owner))
        return true;
    rest_reply_error(rq, MHD_HTTP_FORBIDDEN, "forbidden", "",
                     "user \"%s\" (%s) may not do this", rq->user ? rq->user : "",
                     security_role_name(rq->role));
    return false;
}

/* The graph id in segment 'i': replies 400 if it is not a valid id. */
static const char *
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

/* Looks up the owner of graph 'id' and checks 'action' on it.  Replies
 * 404 / 403 and returns false on refusal. */
static bool
rest_authorize_graph(struct rest_request *rq, const char *id,
                     enum security_action action)
{
    _cleanup_free_ char *owner = NULL;
    int r = nrm_graph_owner(rq->srv->nrm, id, &owner);
    if (r == -ENOENT) {
        /* A user who could not do this even to a graph of its own gets 403
         * (a viewer deleting): the answer does not depend on what exists. */
        if (!rest_authorize(rq, action, rq->user))
            return false;
        rest_reply_error(rq, MHD_HTTP_NOT_FOUND, "not-found", "",
                         "no graph \"%s\"", id);
        return false;
    }
    if (r < 0) {
        rest_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "",
                         "cannot read graph \"%s\": %s", id, strerror(-r));
        return false;
    }
    return rest_authorize(rq, action, owner);
}

/* ------------------------------------------------------------- graphs --- */

static struct graph_limits
rest_limits(const struct rest_server *srv)
{
    return srv->limits;
}

/* Deploys 'graph' (taken) as graph 'id' after the authorisation of a
 * create or an update; on success sets '*ret_created' and returns 0; on
 * failure has replied. */
static int
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
        rest_reply_nrm_error(rq, r, &err);
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
    if (r == -E2BIG) {
        rest_reply_error_full(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too-large",
                              err.path, err.msg, NULL);
        return NULL;
    }
    if (r < 0) {
        rest_reply_error_full(rq, MHD_HTTP_BAD_REQUEST, "invalid-graph",
                              err.path, err.msg[0] ? err.msg : strerror(-r),
                              NULL);
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
        rest_reply_error(rq, MHD_HTTP_CONFLICT, "conflict", "sffg.id",
                         "the graph id in the body (\"%s\") differs from the "
                         "one in the URL (\"%s\")", graph->id, id);
        graph_free(graph);
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
static void
rest_reply_graph(struct rest_request *rq, size_t seg,
                 json_object *(*to_json)(const struct graph *))
{
    const char *id = rest_graph_id(rq, seg);
    if (!id || !rest_authorize_graph(rq, id, SECURITY_GRAPH_READ))
        return;

    struct graph *graph = NULL;
    int r = nrm_graph_get(rq->srv->nrm, id, &graph, NULL, NULL);
    if (r < 0) {
        struct corch_err err = { .path = "", .msg = "" };
        snprintf(err.msg, sizeof err.msg, "no graph \"%s\"", id);
        rest_reply_nrm_error(rq, r, &err);
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
        struct corch_err err = { .path = "", .msg = "" };
        snprintf(err.msg, sizeof err.msg, "no graph \"%s\"", id);
        rest_reply_nrm_error(rq, r, &err);
        return;
    }
    rest_reply_json(rq, MHD_HTTP_OK, status);
}

static void
rest_graph_delete(struct rest_request *rq)
{
    const char *id = rest_graph_id(rq, rq->n_segs - 1);
    if (!id || !rest_authorize_graph(rq, id, SECURITY_GRAPH_DELETE))
        return;

    struct corch_err err = { .path = "", .msg = "" };
    int r = nrm_graph_delete(rq->srv->nrm, id, &err);
    if (r < 0) {
        if (r == -ENOENT && !err.msg[0])
            snprintf(err.msg, sizeof err.msg, "no graph \"%s\"", id);
        rest_reply_nrm_error(rq, r, &err);
        return;
    }
    rest_reply_json(rq, MHD_HTTP_NO_CONTENT, NULL);
}

/* The owner filter of a list: an operator sees only its own graphs. */
static const char *
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

/* ------------------------------------------------------ node, health --- */

static void
rest_node_get(struct rest_request *rq)
{
    if (!rest_authorize(rq, SECURITY_NODE_READ, NULL))
        return;
    rest_reply_json(rq, MHD_HTTP_OK, node_describe(rq->srv->nrm));
}

static void
rest_healthz(struct rest_request *rq)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("ok"));
    rest_reply_json(rq, MHD_HTTP_OK, o);
}

/* -------------------------------------------------- login and users --- */

static void
rest_login(struct rest_request *rq)
{
    if (rq->body_len > REST_SMALL_BODY_MAX) {
        rest_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too-large", "",
                         "a login body is at most %d bytes", REST_SMALL_BODY_MAX);
        return;
    }
    json_object *body = rest_parse_body(rq, "invalid-request");
    if (!body)
        return;
    if (!json_object_is_type(body, json_type_object)) {
        json_object_put(body);
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid-request", "",
                         "the body must be an object {\"username\",\"password\"}");
        return;
    }

    bool bad = false;
    /* The un-orchestrator's clients send "username" too; "user" and
     * "pass" are accepted for the older ones. */
    const char *user = rest_body_string(rq, body, "username", &bad);
    if (!user)
        user = rest_body_string(rq, body, "user", &bad);
    const char *pw = rest_body_string(rq, body, "password", &bad);
    if (!pw)
        pw = rest_body_string(rq, body, "pass", &bad);
    if (bad) {
        json_object_put(body);
        return;
    }
    if (!user || !pw) {
        json_object_put(body);
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid-request",
                         user ? "password" : "username",
                         "\"%s\" is required", user ? "password" : "username");
        return;
    }

    char *token = NULL;
    int64_t expires = 0;
    int r = security_login(rq->srv->sec, user, pw, &token, &expires);
    if (r == 0) {
        free(rq->user);
        rq->user = xstrdup(user);
    }
    json_object_put(body);
    if (r == -EACCES) {
        rest_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "unauthenticated", "",
                         "bad user name or password");
        return;
    }
    if (r < 0) {
        rest_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "",
                         "login failed: %s", strerror(-r));
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "token", json_object_new_string(token));
    json_object_object_add(o, "expires", json_object_new_int64(expires));
    free(token);
    rest_reply_json(rq, MHD_HTTP_OK, o);
}

/* The token of the request, from either header; NULL if none. */
static const char *
rest_request_token(struct MHD_Connection *conn)
{
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth) {
        if (!strncasecmp(auth, "Bearer ", 7)) {
            auth += 7;
            while (*auth == ' ')
                auth++;
            return auth;
        }
        return "";              /* Another scheme: not a token of ours. */
    }
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Auth-Token");
}

static void
rest_logout(struct rest_request *rq)
{
    const char *token = rest_request_token(rq->conn);
    if (token && *token)
        security_logout(rq->srv->sec, token);
    rest_reply_json(rq, MHD_HTTP_NO_CONTENT, NULL);
}

static void
rest_user_list(struct rest_request *rq)
{
    if (!rest_authorize(rq, SECURITY_USER_ADMIN, NULL))
        return;
    rest_reply_json(rq, MHD_HTTP_OK, security_user_list(rq->srv->sec));
}

static void
rest_user_put(struct rest_request *rq)
{
    if (!rest_authorize(rq, SECURITY_USER_ADMIN, NULL))
        return;
    const char *name = rq->segs[2];
    if (rq->body_len > REST_SMALL_BODY_MAX) {
        rest_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too-large", "",
                         "a user body is at most %d bytes", REST_SMALL_BODY_MAX);
        return;
    }
    json_object *body = rest_parse_body(rq, "invalid-request");
    if (!body)
        return;
    if (!json_object_is_type(body, json_type_object)) {
        json_object_put(body);
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid-request", "",
                         "the body must be an object {\"password\",\"role\"}");
        return;
    }
    bool bad = false;
    const char *pw = rest_body_string(rq, body, "password", &bad);
    const char *role = rest_body_string(rq, body, "role", &bad);
    if (bad) {
        json_object_put(body);
        return;
    }

    struct corch_err err = { .path = "", .msg = "" };
    bool created = false;
    int r = security_user_put(rq->srv->sec, name, pw, role, &created, &err);
    json_object_put(body);
    if (r == -EINVAL) {
        rest_reply_error_full(rq, MHD_HTTP_BAD_REQUEST, "invalid-request",
                              err.path, err.msg, NULL);
        return;
    }
    if (r == -EPERM) {
        rest_reply_error_full(rq, MHD_HTTP_CONFLICT, "conflict", err.path,
                              err.msg, NULL);
        return;
    }
    if (r < 0) {
        rest_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "",
                         "cannot store user \"%s\": %s", name, strerror(-r));
        return;
    }
    LOG_INFO("user \"%s\" %s by \"%s\"", name, created ? "created" : "updated",
             rq->user ? rq->user : "");

    /* The answer is the user as stored (its role may have been kept). */
    json_object *list = security_user_list(rq->srv->sec);
    json_object *users = NULL, *found = NULL;
    if (json_object_object_get_ex(list, "users", &users)
        && json_object_is_type(users, json_type_array))
        for (size_t i = 0; i < json_object_array_length(users); i++) {
            json_object *u = json_object_array_get_idx(users, i), *n;
            if (json_object_object_get_ex(u, "name", &n)
                && !strcmp(json_object_get_string(n), name))
                found = json_object_get(u);
        }
    json_object_put(list);
    if (!found) {
        found = json_object_new_object();
        json_object_object_add(found, "name", json_object_new_string(name));
    }
    rest_reply_json(rq, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, found);
}

static void
rest_user_delete(struct rest_request *rq)
{
    if (!rest_authorize(rq, SECURITY_USER_ADMIN, NULL))
        return;
    const char *name = rq->segs[2];
    struct corch_err err = { .path = "", .msg = "" };
    int r = security_user_delete_err(rq->srv->sec, name, &err);
    if (r == -ENOENT) {
        rest_reply_error(rq, MHD_HTTP_NOT_FOUND, "not-found", "",
                         "no user \"%s\"", name);
        return;
    }
    if (r == -EPERM) {
        rest_reply_error_full(rq, MHD_HTTP_CONFLICT, "conflict", err.path,
                              err.msg[0] ? err.msg
                              : "the last admin cannot be deleted", NULL);
        return;
    }
    if (r < 0) {
        rest_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "",
                         "cannot delete user \"%s\": %s", name, strerror(-r));
        return;
    }
    LOG_INFO("user \"%s\" deleted by \"%s\"", name, rq->user ? rq->user : "");
    rest_reply_json(rq, MHD_HTTP_NO_CONTENT, NULL);
}

/* ------------------------------------------- un-orchestrator NF-FG API --- */

/* Parses an NF-FG body into graph 'id'; replies and returns NULL on
 * failure. */
static struct graph *
rest_parse_nffg(struct rest_request *rq, const char *id)
{
    json_object *root = rest_parse_body(rq, "invalid-graph");
    if (!root)
        return NULL;

    struct graph_limits limits = rest_limits(rq->srv);
    struct corch_err err = { .path = "", .msg = "" };
    struct graph *graph = NULL;
    int r = nffg_to_graph(root, id, &limits, &graph, &err);
    json_object_put(root);
    if (r == -E2BIG) {
        rest_reply_error_full(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too-large",
                              err.path, err.msg, NULL);
        return NULL;
    }
    if (r < 0) {
        rest_reply_error_full(rq, MHD_HTTP_BAD_REQUEST, "invalid-graph",
                              err.path, err.msg[0] ? err.msg : strerror(-r),
                              NULL);
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
        struct corch_err err = { .path = "", .msg = "" };
        snprintf(err.msg, sizeof err.msg, "no graph \"%s\"", id);
        rest_reply_nrm_error(rq, r, &err);
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

/* ------------------------------------------------------------- routes --- */

static const struct rest_route rest_routes[] = {
    { { "healthz" }, false, rest_healthz, NULL, NULL, NULL },
    { { "v1", "login" }, false, NULL, NULL, rest_login, NULL },
    { { "v1", "logout" }, true, NULL, NULL, rest_logout, NULL },
    { { "v1", "graphs" }, true, rest_graph_list, NULL, NULL, NULL },
    { { "v1", "graphs", "*" }, true,
      rest_graph_get, rest_graph_put, NULL, rest_graph_delete },
    { { "v1", "graphs", "*", "status" }, true,
      rest_graph_status, NULL, NULL, NULL },
    { { "v1", "node" }, true, rest_node_get, NULL, NULL, NULL },
    { { "v1", "users" }, true, rest_user_list, NULL, NULL, NULL },
    { { "v1", "users", "*" }, true, NULL, rest_user_put, NULL,
      rest_user_delete },
    /* The un-orchestrator's API. */
    { { "login" }, false, NULL, NULL, rest_login, NULL },
    { { "NF-FG" }, true, rest_nffg_list, NULL, rest_nffg_post, NULL },
    { { "NF-FG", "status", "*" }, true, rest_nffg_status, NULL, NULL, NULL },
    { { "NF-FG", "*" }, true, rest_nffg_get, rest_nffg_put, NULL,
      rest_graph_delete },
};

/* "GET, PUT, DELETE" for the route's methods. */
static void
rest_allow(const struct rest_route *route, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s%s",
             route->get ? "GET, HEAD, " : "", route->put ? "PUT, " : "",
             route->post ? "POST, " : "", route->delete ? "DELETE, " : "");
    size_t n = strlen(buf);
    if (n >= 2)
        buf[n - 2] = '\0';
}

/* Splits the URL into segments (empty segments, as in "/NF-FG/" or
 * "//v1", are dropped).  Returns false if there are too many to be one of
 * ours. */
static bool
rest_split(struct rest_request *rq, const char *url)
{
    const char *p = url;

    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchrnul(p, '/');
        if (rq->n_segs == REST_MAX_SEGMENTS)
            return false;
        rq->segs[rq->n_segs++] = strndup(p, e - p);
        if (!rq->segs[rq->n_segs - 1])
            abort();
        p = e;
    }
    return true;
}

static const struct rest_route *
rest_match(const struct rest_request *rq)
{
    for (size_t i = 0; i < ARRAY_SIZE(rest_routes); i++) {
        const struct rest_route *r = &rest_routes[i];
        size_t n = 0;
        while (n < REST_MAX_SEGMENTS && r->pattern[n])
            n++;
        if (n != rq->n_segs)
            continue;
        bool ok = true;
        for (size_t j = 0; ok && j < n; j++)
            ok = !strcmp(r->pattern[j], "*") || !strcmp(r->pattern[j], rq->segs[j]);
        if (ok)
            return r;
    }
    return NULL;
}

/* A copy of 'url' fit for a log line: printable ASCII only, bounded. */
static char *
rest_log_path(const char *url)
{
    size_t n = strnlen(url, 200);
    char *s = xmalloc(n + 4);
    for (size_t i = 0; i < n; i++)
        s[i] = url[i] > 0x20 && url[i] < 0x7f ? url[i] : '?';
    strcpy(s + n, url[n] ? "..." : "");
    return s;
}

static void
rest_request_free(struct rest_request *rq)
{
    if (!rq)
        return;
    for (size_t i = 0; i < rq->n_segs; i++)
        free(rq->segs[i]);
    free(rq->path);
    free(rq->user);
    free(rq->body);
    free(rq);
}

/* First call of a request: routing, authentication, size check.  Returns
 * with a response queued when the request is refused. */
static void
rest_begin(struct rest_request *rq, const char *url)
{
    struct rest_server *srv = rq->srv;

    if (atomic_load(&srv->stopping)) {
        rest_reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "",
                         "the server is shutting down");
        return;
    }
    if (strnlen(url, REST_MAX_URL + 1) > REST_MAX_URL) {
        rest_reply_error(rq, MHD_HTTP_URI_TOO_LONG, "invalid-request", "",
                         "the URL is longer than %d bytes", REST_MAX_URL);
        return;
    }
    if (!rest_split(rq, url) || !(rq->route = rest_match(rq))) {
        rest_reply_error(rq, MHD_HTTP_NOT_FOUND, "not-found", "",
                         "no such resource");
        return;
    }

    const struct rest_route *route = rq->route;
    const char *m = rq->method;
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
        rq->handler = route->get;
    else if (!strcmp(m, "PUT"))
        rq->handler = route->put;
    else if (!strcmp(m, "POST"))
        rq->handler = route->post;
    else if (!strcmp(m, "DELETE"))
        rq->handler = route->delete;
    if (!rq->handler) {
        char allow[64];
        rest_allow(route, allow, sizeof allow);
        char msg[128];
        snprintf(msg, sizeof msg, "method not allowed here; allowed: %s", allow);
        rest_reply_error_full(rq, MHD_HTTP_METHOD_NOT_ALLOWED,
                              "method-not-allowed", "", msg, allow);
        return;
    }

    if (route->auth) {
        if (srv->cfg->security_auth) {
            const char *token = rest_request_token(rq->conn);
            if (!token || !*token) {
                rest_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
                                 "", "a token is required (Authorization: "
                                 "Bearer <token>, or X-Auth-Token)");
                return;
            }
            int r = security_authenticate(srv->sec, token, &rq->user, &rq->role);
            if (r == -EACCES) {
                rest_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
                                 "", "unknown or expired token");
                return;
            }
            if (r < 0) {
                rest_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                 "internal", "", "cannot check the token: %s",
                                 strerror(-r));
                return;
            }
        } else {
            /* security.auth=false: everyone is the administrator. */
            rq->user = xstrdup("admin");
            rq->role = SECURITY_ROLE_ADMIN;
        }
    }

    const char *cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        uint64_t n;
        if (parse_uint(cl, UINT64_MAX, &n) < 0 || n > srv->cfg->limits_max_body_bytes)
            rest_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too-large", "",
                             "the body is larger than limits.max_body_bytes=%zu",
                             srv->cfg->limits_max_body_bytes);
    }
}

/* Keeps one chunk of the body, or counts it once past the limit. */
static void
rest_receive(struct rest_request *rq, const char *data, size_t size)
{
    size_t max = rq->srv->cfg->limits_max_body_bytes;

    rq->body_seen += size;
    if (rq->too_large || rq->body_seen > max) {
        /* Past the limit nothing is kept; MHD only lets us answer once the
         * body is over, and we never will buffer it. */
        rq->too_large = true;
        free(rq->body);
        rq->body = NULL;
        rq->body_len = rq->body_cap = 0;
        return;
    }
    if (rq->body_len + size + 1 > rq->body_cap) {
        size_t cap = rq->body_cap ? rq->body_cap : 4096;
        while (cap < rq->body_len + size + 1)
            cap *= 2;
        if (cap > max + 1)
            cap = max + 1;
        rq->body = xrealloc(rq->body, cap);
        rq->body_cap = cap;
    }
    memcpy(rq->body + rq->body_len, data, size);
    rq->body_len += size;
    rq->body[rq->body_len] = '\0';
}

static enum MHD_Result
rest_access(void *cls, struct MHD_Connection *conn, const char *url,
            const char *method, const char *version, const char *upload_data,
            size_t *upload_data_size, void **con_cls)
{
    struct rest_server *srv = cls;
    struct rest_request *rq = *con_cls;

    if (!rq) {
        rq = xcalloc(1, sizeof *rq);
        rq->srv = srv;
        rq->conn = conn;
        rq->method = method;
        rq->path = rest_log_path(url);
        rq->start_ms = time_ms();
        rq->role = SECURITY_ROLE_VIEWER;
        *con_cls = rq;
        atomic_fetch_add(&srv->in_flight, 1);
        rest_begin(rq, url);
        return MHD_YES;
    }

    if (*upload_data_size) {
        /* A response queued at the first call: MHD discards the body. */
        if (!rq->responded)
            rest_receive(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* A chunked body far past the limit is not a mistake: rather
         * than read it to its end for a 413, drop the connection. */
        size_t max = srv->cfg->limits_max_body_bytes;
        if (rq->too_large && rq->body_seen / 2 > max + REST_SMALL_BODY_MAX) {
            LOG_WARN_RL("%s %s: body far over limits.max_body_bytes: "
                        "connection dropped", rq->method, rq->path);
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (rq->responded)
        return MHD_YES;

    if (rq->too_large)
        rest_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too-large", "",
                         "the body is larger than limits.max_body_bytes=%zu",
                         srv->cfg->limits_max_body_bytes);
    else
        rq->handler(rq);
    if (!rq->responded) {
        /* Only an allocation failure inside MHD gets here. */
        LOG_WARN_RL("%s %s: no response could be queued", rq->method, rq->path);
        return MHD_NO;
    }
    return MHD_YES;
}

static void
rest_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
               enum MHD_RequestTerminationCode toe)
{
    struct rest_server *srv = cls;
    struct rest_request *rq = *con_cls;

    if (!rq)
        return;
    *con_cls = NULL;
    /* The access log: never bodies nor tokens. */
    LOG_INFO("%s %s %u user=%s %" PRIu64 "ms%s", rq->method, rq->path,
             rq->status, rq->user ? rq->user : "-", time_ms() - rq->start_ms,
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    rest_request_free(rq);
    atomic_fetch_sub(&srv->in_flight, 1);
}

static void
rest_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    struct rest_server *srv = cls;
    /* Only rest_start()'s thread runs while 'starting' is set. */
    if (atomic_load(&srv->starting) && !srv->start_msg[0])
        snprintf(srv->start_msg, sizeof srv->start_msg, "%s", buf);
    LOG_WARN_RL("libmicrohttpd: %s", buf);
}

/* -------------------------------------------------------- start, stop --- */

/* Reads a PEM file for TLS.  Errors name the configuration key. */
static int
rest_read_pem(const char *path, const char *key, char **ret_text,
              struct corch_err *err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return corch_err_set(err, -errno, key, "%s: cannot open %s: %s", key,
                             path, strerror(errno));
    char *text = xmalloc(REST_TLS_FILE_MAX + 1);
    size_t n = fread(text, 1, REST_TLS_FILE_MAX + 1, f);
    int rerr = ferror(f);
    fclose(f);
    if (rerr || n == 0 || n > REST_TLS_FILE_MAX) {
        free(text);
        return corch_err_set(err, -EINVAL, key, "%s: cannot read %s (%s)", key,
                             path, rerr ? "read error"
                             : n ? "larger than 1 MiB" : "empty file");
    }
    text[n] = '\0';
    if (!strstr(text, "-----BEGIN ")) {
        free(text);
        return corch_err_set(err, -EINVAL, key, "%s: %s is not a PEM file",
                             key, path);
    }
    *ret_text = text;
    return 0;
}

static void
rest_free(struct rest_server *srv)
{
    if (!srv)
        return;
    free(srv->tls_cert);
    if (srv->tls_key) {
        explicit_bzero(srv->tls_key, strlen(srv->tls_key));
        free(srv->tls_key);
    }
    free(srv);
}

int
rest_start(const struct corch_config *cfg, struct security *sec,
           struct nrm *nrm, struct rest_server **ret,
           struct corch_err *err)
{
    struct rest_server *srv = xcalloc(1, sizeof *srv);
    int r;

    srv->cfg = cfg;
    srv->sec = sec;
    srv->nrm = nrm;
    srv->limits.max_sfs = cfg->limits_max_sfs;
    srv->limits.max_flowrules = cfg->limits_max_flowrules;
    /* No key of its own: a SAP is cheap, but not free; as many as the
     * graph may have rules is more than any real graph needs. */
    srv->limits.max_saps = cfg->limits_max_flowrules > 64
                           ? cfg->limits_max_flowrules : 64;

    /* The listen address: numeric IPv4 or IPv6. */
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION
                         | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL
                         | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    const char *addr = cfg->rest_address ? cfg->rest_address : "127.0.0.1";
    struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(cfg->rest_port);
    } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(cfg->rest_port);
        flags |= MHD_USE_IPv6;
    } else {
        rest_free(srv);
        return corch_err_set(err, -EINVAL, "rest.address",
                             "rest.address: \"%s\" is not an IPv4 or IPv6 address",
                             addr);
    }

    bool tls = cfg->rest_tls_cert || cfg->rest_tls_key;
    if (tls) {
        if (!cfg->rest_tls_cert || !cfg->rest_tls_key) {
            rest_free(srv);
            return corch_err_set(err, -EINVAL,
                                 cfg->rest_tls_cert ? "rest.tls_key" : "rest.tls_cert",
                                 "TLS needs both rest.tls_cert and rest.tls_key");
        }
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            rest_free(srv);
            return corch_err_set(err, -ENOTSUP, "rest.tls_cert",
                                 "rest.tls_cert: this libmicrohttpd has no TLS support");
        }
        r = rest_read_pem(cfg->rest_tls_cert, "rest.tls_cert", &srv->tls_cert, err);
        if (r == 0)
            r = rest_read_pem(cfg->rest_tls_key, "rest.tls_key", &srv->tls_key, err);
        if (r < 0) {
            rest_free(srv);
            return r;
        }
        flags |= MHD_USE_TLS;
    }

    unsigned int threads = cfg->rest_threads ? cfg->rest_threads : 1;
    struct MHD_OptionItem opts[] = {
        { MHD_OPTION_SOCK_ADDR, 0, &ss },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) rest_completed, srv },
        { MHD_OPTION_CONNECTION_LIMIT, threads * REST_CONNECTIONS_PER_THREAD, NULL },
        { MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL },
        /* Headers and the URL must fit in this; MHD answers 414 / 431. */
        { MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL },
        { tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls_cert },
        { tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, srv->tls_key },
        /* TLS 1.2 and 1.3 only: older versions have known weaknesses. */
        { tls ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END, 0,
          (void *) "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" },
        { MHD_OPTION_END, 0, NULL },
    };
    /* The logger first, so that MHD's own start-up errors go through it. */
    atomic_store(&srv->starting, true);
    errno = 0;
    srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, rest_access, srv,
                                MHD_OPTION_EXTERNAL_LOGGER, rest_mhd_log, srv,
                                MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    atomic_store(&srv->starting, false);
    if (!srv->mhd) {
        int saved_errno = errno;
        int e = saved_errno ? saved_errno : EIO;
        char msg[sizeof srv->start_msg];
        snprintf(msg, sizeof msg, "%s", srv->start_msg[0] ? srv->start_msg
                 : strerror(e));
        rest_free(srv);
        /* MHD's message says whether TLS or the socket failed. */
        if (tls && (strstr(msg, "TLS") || strstr(msg, "x509")
                    || strstr(msg, "certificate") || strstr(msg, "key")))
            return corch_err_set(err, -EINVAL, "rest.tls_key",
                                 "rest.tls_key (%s) and rest.tls_cert (%s) "
                                 "are not a usable key / certificate pair: %s",
                                 cfg->rest_tls_key, cfg->rest_tls_cert, msg);
        return corch_err_set(err, e == EADDRINUSE ? -EADDRINUSE : -EIO,
                             "rest.port", "rest.port: cannot listen on %s "
                             "port %u: %s", addr, (unsigned) cfg->rest_port,
                             saved_errno ? strerror(e) : msg);
    }

    if (!cfg->security_auth)
        LOG_WARN("security.auth=false: every request acts as the administrator");
    LOG_INFO("listening on %s%s%s port %u (%s)",
             strchr(addr, ':') ? "[" : "", addr, strchr(addr, ':') ? "]" : "",
             (unsigned) cfg->rest_port, tls ? "https" : "http");
    *ret = srv;
    return 0;
}

void
rest_stop(struct rest_server *srv)
{
    if (!srv)
        return;
    atomic_store(&srv->stopping, true);
    /* No new connections; requests already being handled finish and get
     * their answer before the connections are closed. */
    MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    uint64_t deadline = time_ms() + REST_STOP_WAIT_MS;
    unsigned int n;
    while ((n = atomic_load(&srv->in_flight)) && time_ms() < deadline)
        usleep(10 * 1000);
    if (n)
        LOG_WARN("stopping with %u request(s) still running", n);
    MHD_stop_daemon(srv->mhd);
    rest_free(srv);
    LOG_INFO("stopped");
}
