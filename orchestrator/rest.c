/* The REST server: API v1 and the un-orchestrator compatibility API on
 * libmicrohttpd (docs/rest-api.md is the reference for clients).  This
 * file is the transport: requests, bodies and their limits, tokens,
 * routing through the route table of each handler file, replies, and the
 * one table that turns error kinds into statuses.
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
#include "rest-private.h"

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
#include "log.h"
#include "nrm.h"
#include "security.h"

LOG_MODULE(rest);

/* URLs longer than this are refused (414) before anything else: no route
 * needs more than a few ids of at most 64 characters. */
#define REST_MAX_URL 2048
/* Connections (hence threads) per rest.threads. */
#define REST_CONNECTIONS_PER_THREAD 16
/* How long rest_stop() waits for in-flight requests (a deploy). */
#define REST_STOP_WAIT_MS 60000
/* Largest TLS key or certificate file we read. */
#define REST_TLS_FILE_MAX (1024 * 1024)

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
void
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

void
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

void __attribute__((format(printf, 5, 6)))
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

/* What each kind of error answers (docs/rest-api.md, "Errors"): the one
 * place where errors become statuses.  Two codes per kind, because the
 * API names an invalid graph "invalid-graph" but an invalid login or user
 * body "invalid-request", and a failure while deploying or removing a
 * graph "deploy-failed" but a failure of the store behind a user
 * "internal". */
static const struct rest_kind_reply {
    unsigned int status;        /* HTTP status. */
    const char *graph_code;     /* Code in a route table with graph_api. */
    const char *code;           /* Code everywhere else. */
} rest_kind_replies[] = {
    [CORCH_ERR_FAILED] = { MHD_HTTP_INTERNAL_SERVER_ERROR, "deploy-failed",
                           "internal" },
    [CORCH_ERR_INVALID] = { MHD_HTTP_BAD_REQUEST, "invalid-graph",
                            "invalid-request" },
    [CORCH_ERR_UNRESOLVABLE] = { MHD_HTTP_CONFLICT, "unresolvable",
                                 "unresolvable" },
    [CORCH_ERR_CONFLICT] = { MHD_HTTP_CONFLICT, "conflict", "conflict" },
    [CORCH_ERR_NOT_FOUND] = { MHD_HTTP_NOT_FOUND, "not-found", "not-found" },
    /* The same request succeeds later: 409, as the API always said. */
    [CORCH_ERR_BUSY] = { MHD_HTTP_CONFLICT, "conflict", "conflict" },
    [CORCH_ERR_TOO_LARGE] = { MHD_HTTP_CONTENT_TOO_LARGE, "too-large",
                              "too-large" },
    /* A graph that asks for what this node cannot do is a request this
     * node refuses (400), not a missing server feature (501): another
     * node may take the same graph. */
    [CORCH_ERR_UNSUPPORTED] = { MHD_HTTP_BAD_REQUEST, "unsupported",
                                "unsupported" },
};

void
rest_error_status(enum corch_err_kind kind, bool graph_api,
                  unsigned int *ret_status, const char **ret_code)
{
    const struct rest_kind_reply *k = &rest_kind_replies[CORCH_ERR_FAILED];

    if ((size_t) kind < ARRAY_SIZE(rest_kind_replies)
        && rest_kind_replies[kind].code)
        k = &rest_kind_replies[kind];
    *ret_status = k->status;
    *ret_code = graph_api ? k->graph_code : k->code;
}

void
rest_reply_err(struct rest_request *rq, int error, const struct corch_err *err)
{
    unsigned int status;
    const char *code;

    rest_error_status(err->kind, rq->table && rq->table->graph_api, &status,
                      &code);
    rest_reply_error_full(rq, status, code, err->path,
                          err->msg[0] ? err->msg : strerror(-error), NULL);
}

/* -------------------------------------------------------- JSON bodies --- */

/* Parses the request body as one JSON document no deeper than the limit.
 * On failure replies 400 with 'code' and returns NULL. */
json_object *
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
    /* Every body obeys the graphs' string rule (util.h). */
    struct corch_err err = { .path = "", .msg = "" };
    if (json_text_check(rq->body, end, &err) < 0) {
        json_object_put(obj);
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, code, err.path, "%s",
                         err.msg);
        return NULL;
    }
    return obj;
}

/* A string member of a small request object, or NULL (absent).  Replies
 * 400 and sets '*bad' when present with another type. */
const char *
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
bool
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

static void
rest_healthz(struct rest_request *rq)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("ok"));
    rest_reply_json(rq, MHD_HTTP_OK, o);
}

/* -------------------------------------------------- login and users --- */

json_object *
rest_parse_small_object(struct rest_request *rq, const char *what,
                        const char *shape)
{
    if (rq->body_len > REST_SMALL_BODY_MAX) {
        rest_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too-large", "",
                         "a %s body is at most %d bytes", what,
                         REST_SMALL_BODY_MAX);
        return NULL;
    }
    json_object *body = rest_parse_body(rq, "invalid-request");
    if (body && !json_object_is_type(body, json_type_object)) {
        json_object_put(body);
        rest_reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid-request", "",
                         "the body must be an object %s", shape);
        return NULL;
    }
    return body;
}

static void
rest_login(struct rest_request *rq)
{
    json_object *body = rest_parse_small_object(
        rq, "login", "{\"username\",\"password\"}");
    if (!body)
        return;

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
/* ------------------------------------------------------------- routes --- */

/* The server's own routes: health and the login / logout of both APIs. */
static const struct rest_route rest_own_routes[] = {
    { { "healthz" }, false, rest_healthz, NULL, NULL, NULL },
    { { "v1", "login" }, false, NULL, NULL, rest_login, NULL },
    { { "v1", "logout" }, true, NULL, NULL, rest_logout, NULL },
    { { "login" }, false, NULL, NULL, rest_login, NULL },
};
static const struct rest_route_table rest_own_table = {
    rest_own_routes, ARRAY_SIZE(rest_own_routes), false
};

/* Every route, table by table. */
static const struct rest_route_table *const rest_tables[] = {
    &rest_own_table, &rest_graphs_routes, &rest_node_routes,
    &rest_users_routes, &rest_nffg_routes,
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

/* Finds the route of the request's path; sets rq->table and rq->route.
 * Returns false if there is none. */
static bool
rest_match(struct rest_request *rq)
{
    for (size_t t = 0; t < ARRAY_SIZE(rest_tables); t++) {
        const struct rest_route_table *table = rest_tables[t];
        for (size_t i = 0; i < table->n_routes; i++) {
            const struct rest_route *r = &table->routes[i];
            size_t n = 0;
            while (n < REST_MAX_SEGMENTS && r->pattern[n])
                n++;
            if (n != rq->n_segs)
                continue;
            bool ok = true;
            for (size_t j = 0; ok && j < n; j++)
                ok = !strcmp(r->pattern[j], "*")
                     || !strcmp(r->pattern[j], rq->segs[j]);
            if (ok) {
                rq->table = table;
                rq->route = r;
                return true;
            }
        }
    }
    return false;
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
    if (!rest_split(rq, url) || !rest_match(rq)) {
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
            /* security.auth=false: everyone has the admin's rights, but
             * is nobody: a graph created now has no owner (no operator
             * owns it, and no user named "admin" later inherits it), as
             * docs/security.md says. */
            rq->user = NULL;
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
    __attribute__((format(printf, 2, 0)));
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

