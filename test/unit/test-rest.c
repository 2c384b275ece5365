/* Unit tests of the REST server: the real store, security manager and
 * node resource manager (dummy drivers) behind a real libmicrohttpd server
 * on a loopback port, driven with libcurl. */
#include <config.h>
#include "rest.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "compute.h"
#include "compute/dummy/compute-dummy.h"
#include "corch-config.h"
#include "nrm.h"
#include "proc.h"
#include "rest-private.h"
#include "security.h"
#include "store.h"

/* The dummy engine the daemon under test enabled (compute.drivers). */
#define DUMMY_ENGINE compute_engine_find("dummy")

/* Everything the tests share: one daemon's worth of modules. */
struct fixture {
    char dir[64];               /* Scratch state dir. */
    struct corch_config cfg;    /* The configuration the server reads. */
    struct store *store;
    struct security *sec;
    struct nrm *nrm;
    struct rest_server *rest;
    char url[64];               /* "http://127.0.0.1:PORT". */
    char *tok_admin, *tok_op1, *tok_op2, *tok_viewer; /* Login tokens. */
};
static struct fixture fx;

/* A token that is well formed but was never issued. */
#define BAD_TOKEN "00000000000000000000000000000000"

static uint16_t
free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sin;
    assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

/* ----------------------------------------------- nrm_graph_put, wrapped --- */

/* When 'active', the next nrm_graph_put() fails with 'error' and 'kind'
 * without doing anything (as a driver failing deep in a deploy would). */
static struct {
    bool active;                /* Fail the next call. */
    int error;                  /* The errno it returns. */
    enum corch_err_kind kind;   /* The kind it sets. */
} put_fault;

int __real_nrm_graph_put(struct nrm *, struct graph *, const char *,
                         const char *, bool *, struct corch_err *);
int __wrap_nrm_graph_put(struct nrm *, struct graph *, const char *,
                         const char *, bool *, struct corch_err *);

int
__wrap_nrm_graph_put(struct nrm *nrm, struct graph *graph, const char *owner,
                     const char *format, bool *ret_created,
                     struct corch_err *err)
{
    if (!put_fault.active)
        return __real_nrm_graph_put(nrm, graph, owner, format, ret_created,
                                    err);
    put_fault.active = false;
    graph_free(graph);
    return corch_err_setk(err, put_fault.kind, put_fault.error, NULL,
                          "step 4 (compute create): sf 'x': injected %s",
                          strerror(-put_fault.error));
}

/* --------------------------------------------------------------- HTTP --- */

struct buf {
    char *data;
    size_t len;
};

static size_t
write_cb(char *p, size_t size, size_t n, void *aux)
{
    struct buf *b = aux;
    b->data = xrealloc(b->data, b->len + size * n + 1);
    memcpy(b->data + b->len, p, size * n);
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

/* The result of one call. */
struct reply {
    long status;                /* HTTP status, 0 on transport error. */
    char *body;                 /* Response body (NUL-terminated). */
    size_t len;
    char *headers;              /* Raw response headers. */
    json_object *json;          /* Parsed body, or NULL. */
};

static void
reply_free(struct reply *r)
{
    free(r->body);
    free(r->headers);
    json_object_put(r->json);
    memset(r, 0, sizeof *r);
}

/* Options of http_ex(). */
struct req {
    const char *method;
    const char *path;           /* Appended to the base URL. */
    const char *token;          /* Authorization: Bearer, or NULL. */
    const char *x_token;        /* X-Auth-Token, or NULL. */
    const char *body;           /* NULL: none. */
    size_t body_len;            /* 0: strlen(body). */
    bool chunked;               /* Send the body chunked (no length). */
};

static void
http_ex(const struct req *q, struct reply *ret)
{
    CURL *c = curl_easy_init();
    struct buf body = { NULL, 0 }, hdr = { NULL, 0 };
    struct curl_slist *h = NULL;
    char line[256];
    _cleanup_free_ char *url = xasprintf("%s%s", fx.url, q->path);

    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    if (!strcmp(q->method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (q->token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", q->token);
        h = curl_slist_append(h, line);
    }
    if (q->x_token) {
        snprintf(line, sizeof line, "X-Auth-Token: %s", q->x_token);
        h = curl_slist_append(h, line);
    }
    if (q->body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        size_t n = q->body_len ? q->body_len : strlen(q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        if (q->chunked)
            h = curl_slist_append(h, "Transfer-Encoding: chunked");
        else
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) n);
    }
    /* No "Expect: 100-continue" round trip. */
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);

    memset(ret, 0, sizeof *ret);
    CURLcode cr = curl_easy_perform(c);
    if (cr == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ret->status);
    ret->body = body.data ? body.data : xstrdup("");
    ret->len = body.len;
    ret->headers = hdr.data ? hdr.data : xstrdup("");
    if (ret->len)
        ret->json = json_tokener_parse(ret->body);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static long
http(const char *method, const char *path, const char *token,
     const char *body, struct reply *ret)
{
    struct req q = { .method = method, .path = path, .token = token,
                     .body = body };
    http_ex(&q, ret);
    return ret->status;
}

/* Status of a call whose body we do not need. */
static long
status_of(const char *method, const char *path, const char *token,
          const char *body)
{
    struct reply r;
    long s = http(method, path, token, body, &r);
    reply_free(&r);
    return s;
}

/* A string member at a dotted path of the reply's JSON ("error.code"). */
static const char *
jget(const struct reply *r, const char *dotted)
{
    json_object *o = r->json;
    char key[128];
    const char *p = dotted;

    while (o && *p) {
        const char *e = strchrnul(p, '.');
        snprintf(key, sizeof key, "%.*s", (int) (e - p), p);
        if (!json_object_object_get_ex(o, key, &o))
            return NULL;
        p = *e ? e + 1 : e;
    }
    return o ? json_object_get_string(o) : NULL;
}

static void
expect_error(const struct reply *r, long status, const char *code)
{
    if (r->status != status)
        print_error("status %ld, expected %ld; body: %s\n", r->status, status,
                    r->body);
    assert_int_equal(r->status, status);
    assert_non_null(jget(r, "error.code"));
    assert_string_equal(jget(r, "error.code"), code);
    assert_non_null(jget(r, "error.message"));
    assert_non_null(jget(r, "error.path"));
}

static char *
login(const char *user, const char *pw)
{
    struct reply r;
    _cleanup_free_ char *body = xasprintf(
        "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
    assert_int_equal(http("POST", "/v1/login", NULL, body, &r), 200);
    assert_non_null(jget(&r, "token"));
    assert_non_null(jget(&r, "expires"));
    char *t = xstrdup(jget(&r, "token"));
    reply_free(&r);
    return t;
}

/* ------------------------------------------------------------- graphs --- */

/* A graph the dummy drivers deploy: two host-stack SAPs joined by rules
 * (no SF, so no template is needed). */
static char *
sffg(const char *id)
{
    return xasprintf(
        "{\"sffg\":{\"id\":\"%s\",\"name\":\"rest test\",\"SFs\":[],"
        "\"saps\":["
        "{\"id\":\"a\",\"type\":\"host-stack\",\"host-stack\":"
        "{\"configuration\":\"static\",\"ipv4\":\"10.9.0.1/24\"}},"
        "{\"id\":\"b\",\"type\":\"gre\",\"gre\":{\"local-ip\":\"10.9.1.1\","
        "\"remote-ip\":\"10.9.1.2\",\"gre-key\":\"0x%x\"}}],"
        "\"flowrules\":["
        "{\"id\":\"r1\",\"priority\":10,\"match\":{\"port_in\":"
        "\"service-access-point:a\"},\"actions\":{\"output_to_port\":"
        "\"service-access-point:b\"}},"
        "{\"id\":\"r2\",\"priority\":10,\"match\":{\"port_in\":"
        "\"service-access-point:b\"},\"actions\":{\"output_to_port\":"
        "\"service-access-point:a\"}}]}}",
        id, (unsigned) (strlen(id) * 7919 + (unsigned char) id[strlen(id) - 1]));
}

/* The same in the un-orchestrator's format. */
static const char *const nffg_body =
    "{\"forwarding-graph\":{\"id\":\"ignored\",\"name\":\"compat\","
    "\"VNFs\":[],\"end-points\":["
    "{\"id\":\"00000001\",\"type\":\"host-stack\",\"host-stack\":"
    "{\"configuration\":\"static\",\"ipv4\":\"10.8.0.1/24\"}},"
    "{\"id\":\"00000002\",\"type\":\"gre-tunnel\",\"gre-tunnel\":"
    "{\"local-ip\":\"10.8.1.1\",\"remote-ip\":\"10.8.1.2\",\"gre-key\":\"77\"}}],"
    "\"big-switch\":{\"flow-rules\":["
    "{\"id\":\"1\",\"priority\":1,\"match\":{\"port_in\":\"endpoint:00000001\"},"
    "\"actions\":[{\"output_to_port\":\"endpoint:00000002\"}]}]}}}";

static void
put_graph_as(const char *token, const char *id, long expect)
{
    struct reply r;
    _cleanup_free_ char *path = xasprintf("/v1/graphs/%s", id);
    _cleanup_free_ char *body = sffg(id);
    http("PUT", path, token, body, &r);
    if (r.status != expect)
        print_error("PUT %s: %ld %s\n", id, r.status, r.body);
    assert_int_equal(r.status, expect);
    reply_free(&r);
}

/* -------------------------------------------------------------- setup --- */

static void
set(const char *kv)
{
    struct corch_err err = { .path = "", .msg = "" };
    if (config_set(&fx.cfg, kv, &err) < 0)
        fail_msg("config_set %s: %s", kv, err.msg);
}

static int
group_setup(void **state)
{
    struct corch_err err = { .path = "", .msg = "" };
    char kv[512];

    curl_global_init(CURL_GLOBAL_DEFAULT);
    security_set_fast_hash_for_tests(true);
    snprintf(fx.dir, sizeof fx.dir, "/tmp/corch-rest-unit.XXXXXX");
    assert_non_null(mkdtemp(fx.dir));

    config_init(&fx.cfg);
    snprintf(kv, sizeof kv, "state.dir=%s", fx.dir);
    set(kv);
    set("vswitch.driver=dummy");
    set("compute.drivers=dummy");
    set("bus.endpoint=");
    set("security.admin_password=admin-pw-rest");
    set("limits.max_sfs=4");
    set("limits.max_body_bytes=65536");
    set("limits.max_json_depth=16");
    /* A private repository: one template for the dummy engine. */
    _cleanup_free_ char *tdir = xasprintf("%s/repo/templates", fx.dir);
    assert_int_equal(mkdir_p(tdir, 0700), 0);
    _cleanup_free_ char *tfile = xasprintf("%s/dummy.json", tdir);
    FILE *f = fopen(tfile, "w");
    assert_non_null(f);
    fputs("{\"id\":\"dummy-1\",\"functional-capability\":\"dummy\","
          "\"engine\":\"dummy\",\"ports\":[{\"name\":\"eth0\"}]}\n", f);
    fclose(f);
    snprintf(kv, sizeof kv, "repository.path=%s/repo", fx.dir);
    set(kv);
    uint16_t port = free_port();
    snprintf(kv, sizeof kv, "rest.port=%u", port);
    set(kv);
    unsetenv("CORCH_ADMIN_PASSWORD");
    if (config_finish(&fx.cfg, &err) < 0)
        fail_msg("config_finish: %s", err.msg);

    _cleanup_free_ char *db = xasprintf("%s/c-orch.db", fx.dir);
    if (store_open(db, &fx.store, &err) < 0)
        fail_msg("store_open: %s", err.msg);
    if (security_create(&fx.cfg, fx.store, &fx.sec, &err) < 0)
        fail_msg("security_create: %s", err.msg);
    if (nrm_create(&fx.cfg, fx.store, &fx.nrm, &err) < 0)
        fail_msg("nrm_create: %s", err.msg);
    if (rest_start(&fx.cfg, fx.sec, fx.nrm, &fx.rest, &err) < 0)
        fail_msg("rest_start: %s", err.msg);
    snprintf(fx.url, sizeof fx.url, "http://127.0.0.1:%u", port);

    bool created;
    assert_int_equal(security_user_put(fx.sec, "op1", "op1-password", "operator",
                                       &created, &err), 0);
    assert_int_equal(security_user_put(fx.sec, "op2", "op2-password", "operator",
                                       &created, &err), 0);
    assert_int_equal(security_user_put(fx.sec, "viewer", "viewer-password",
                                       "viewer", &created, &err), 0);
    fx.tok_admin = login("admin", "admin-pw-rest");
    fx.tok_op1 = login("op1", "op1-password");
    fx.tok_op2 = login("op2", "op2-password");
    fx.tok_viewer = login("viewer", "viewer-password");
    *state = &fx;
    return 0;
}

static int
group_teardown(void **state)
{
    rest_stop(fx.rest);
    nrm_destroy(fx.nrm);
    security_destroy(fx.sec);
    store_close(fx.store);
    config_destroy(&fx.cfg);
    free(fx.tok_admin);
    free(fx.tok_op1);
    free(fx.tok_op2);
    free(fx.tok_viewer);
    /* The scratch dir holds only what we made; no shell, as everywhere. */
    char *const argv[] = { (char *) "/bin/rm", (char *) "-rf", fx.dir, NULL };
    struct proc_options o = { .netns_fd = -1, .timeout_ms = 30000 };
    struct proc_result res = { 0 };
    if (proc_run(argv, &o, &res) < 0 || res.status != 0)
        fprintf(stderr, "could not remove %s\n", fx.dir);
    proc_result_free(&res);
    curl_global_cleanup();
    return 0;
}

/* -------------------------------------------------------------- tests --- */

static void
test_healthz(void **state)
{
    struct reply r;
    assert_int_equal(http("GET", "/healthz", NULL, NULL, &r), 200);
    assert_string_equal(jget(&r, "status"), "ok");
    assert_non_null(strcasestr(r.headers, "Content-Type: application/json"));
    reply_free(&r);
    /* With a bad token too: the health check never authenticates. */
    assert_int_equal(status_of("GET", "/healthz", BAD_TOKEN, NULL), 200);
}

static void
test_login(void **state)
{
    struct reply r;

    http("POST", "/v1/login", NULL,
         "{\"username\":\"admin\",\"password\":\"wrong\"}", &r);
    expect_error(&r, 401, "unauthenticated");
    assert_non_null(strcasestr(r.headers, "WWW-Authenticate: Bearer"));
    reply_free(&r);

    http("POST", "/v1/login", NULL,
         "{\"username\":\"nobody\",\"password\":\"x\"}", &r);
    expect_error(&r, 401, "unauthenticated");
    reply_free(&r);

    http("POST", "/v1/login", NULL, "{\"username\":\"admin\"}", &r);
    expect_error(&r, 400, "invalid-request");
    assert_string_equal(jget(&r, "error.path"), "password");
    reply_free(&r);

    http("POST", "/v1/login", NULL, "{\"username\":1,\"password\":\"x\"}", &r);
    expect_error(&r, 400, "invalid-request");
    assert_string_equal(jget(&r, "error.path"), "username");
    reply_free(&r);

    http("POST", "/v1/login", NULL, "{\"username\":", &r);
    expect_error(&r, 400, "invalid-request");
    reply_free(&r);

    http("POST", "/v1/login", NULL, NULL, &r);
    expect_error(&r, 400, "invalid-request");
    reply_free(&r);

    /* The un-orchestrator's /login takes the same body. */
    assert_int_equal(http("POST", "/login", NULL,
                          "{\"username\":\"op1\",\"password\":\"op1-password\"}",
                          &r), 200);
    assert_non_null(jget(&r, "token"));
    /* X-Auth-Token works like Authorization: Bearer. */
    struct req q = { .method = "GET", .path = "/v1/graphs",
                     .x_token = jget(&r, "token") };
    struct reply r2;
    http_ex(&q, &r2);
    assert_int_equal(r2.status, 200);
    reply_free(&r2);

    /* Logout revokes the token. */
    q.method = "POST";
    q.path = "/v1/logout";
    http_ex(&q, &r2);
    assert_int_equal(r2.status, 204);
    reply_free(&r2);
    q.method = "GET";
    q.path = "/v1/graphs";
    http_ex(&q, &r2);
    expect_error(&r2, 401, "unauthenticated");
    reply_free(&r2);
    reply_free(&r);
}

/* One row of the role x endpoint matrix. */
struct row {
    const char *method;
    const char *path;
    long admin, op_own, op_other, viewer, none, bad; /* Expected statuses. */
};

/* Read-only routes, on graph "m-op1" owned by op1: nothing changes, so
 * every role runs every row. */
static void
test_matrix_read(void **state)
{
    put_graph_as(fx.tok_op1, "m-op1", 201);

    static const struct row rows[] = {
        { "GET", "/v1/graphs", 200, 200, 200, 200, 401, 401 },
        { "GET", "/v1/graphs/m-op1", 200, 200, 403, 200, 401, 401 },
        { "GET", "/v1/graphs/m-op1/status", 200, 200, 403, 200, 401, 401 },
        { "GET", "/v1/graphs/m-none", 404, 404, 404, 404, 401, 401 },
        { "GET", "/v1/node", 200, 200, 200, 200, 401, 401 },
        { "GET", "/v1/users", 200, 403, 403, 403, 401, 401 },
        { "GET", "/NF-FG", 200, 200, 200, 200, 401, 401 },
        { "GET", "/NF-FG/", 200, 200, 200, 200, 401, 401 },
        { "GET", "/NF-FG/m-op1", 200, 200, 403, 200, 401, 401 },
        { "GET", "/NF-FG/status/m-op1", 200, 200, 403, 200, 401, 401 },
        { "GET", "/healthz", 200, 200, 200, 200, 200, 200 },
        { "HEAD", "/v1/graphs/m-op1", 200, 200, 403, 200, 401, 401 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        const struct row *w = &rows[i];
        const char *toks[] = { fx.tok_admin, fx.tok_op1, fx.tok_op2,
                               fx.tok_viewer, NULL, BAD_TOKEN };
        const long want[] = { w->admin, w->op_own, w->op_other, w->viewer,
                              w->none, w->bad };
        for (size_t j = 0; j < ARRAY_SIZE(toks); j++) {
            long got = status_of(w->method, w->path, toks[j], NULL);
            if (got != want[j])
                fail_msg("%s %s as #%zu: %ld, expected %ld", w->method,
                         w->path, j, got, want[j]);
        }
    }

    /* The operator's list holds only its own graphs. */
    struct reply r;
    put_graph_as(fx.tok_admin, "m-admin", 201);
    http("GET", "/v1/graphs", fx.tok_op2, NULL, &r);
    assert_non_null(strstr(r.body, "\"graphs\":[]"));
    reply_free(&r);
    http("GET", "/v1/graphs", fx.tok_op1, NULL, &r);
    assert_non_null(strstr(r.body, "m-op1"));
    assert_null(strstr(r.body, "m-admin"));
    reply_free(&r);
    http("GET", "/v1/graphs", fx.tok_viewer, NULL, &r);
    assert_non_null(strstr(r.body, "m-op1"));
    assert_non_null(strstr(r.body, "m-admin"));
    reply_free(&r);
    http("GET", "/NF-FG", fx.tok_op2, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"NF-FG\":[]"));
    reply_free(&r);

    assert_int_equal(status_of("DELETE", "/v1/graphs/m-op1", fx.tok_op1, NULL), 204);
    assert_int_equal(status_of("DELETE", "/v1/graphs/m-admin", fx.tok_admin, NULL), 204);
}

/* Routes that change things, in an order where each step's outcome is
 * known. */
static void
test_matrix_write(void **state)
{
    _cleanup_free_ char *g = sffg("m-w");
    const char *p = "/v1/graphs/m-w";

    assert_int_equal(status_of("PUT", p, NULL, g), 401);
    assert_int_equal(status_of("PUT", p, BAD_TOKEN, g), 401);
    assert_int_equal(status_of("PUT", p, fx.tok_viewer, g), 403);
    assert_int_equal(status_of("PUT", p, fx.tok_op2, g), 201);  /* op2 owns it. */
    assert_int_equal(status_of("PUT", p, fx.tok_op1, g), 403);
    assert_int_equal(status_of("PUT", p, fx.tok_op2, g), 200);
    assert_int_equal(status_of("PUT", p, fx.tok_admin, g), 200);
    assert_int_equal(status_of("DELETE", p, NULL, NULL), 401);
    assert_int_equal(status_of("DELETE", p, BAD_TOKEN, NULL), 401);
    assert_int_equal(status_of("DELETE", p, fx.tok_viewer, NULL), 403);
    assert_int_equal(status_of("DELETE", p, fx.tok_op1, NULL), 403);
    assert_int_equal(status_of("DELETE", p, fx.tok_op2, NULL), 204);
    assert_int_equal(status_of("DELETE", p, fx.tok_op2, NULL), 404);
    assert_int_equal(status_of("DELETE", p, fx.tok_admin, NULL), 404);
    /* A viewer may not delete, whether the graph exists or not. */
    assert_int_equal(status_of("DELETE", p, fx.tok_viewer, NULL), 403);

    /* Admin-created graphs are the admin's: operators cannot touch them. */
    assert_int_equal(status_of("PUT", p, fx.tok_admin, g), 201);
    assert_int_equal(status_of("PUT", p, fx.tok_op1, g), 403);
    assert_int_equal(status_of("DELETE", p, fx.tok_op1, NULL), 403);
    assert_int_equal(status_of("DELETE", p, fx.tok_admin, NULL), 204);

    /* Users. */
    const char *u = "{\"password\":\"user-password-1\",\"role\":\"viewer\"}";
    assert_int_equal(status_of("PUT", "/v1/users/u1", NULL, u), 401);
    assert_int_equal(status_of("PUT", "/v1/users/u1", BAD_TOKEN, u), 401);
    assert_int_equal(status_of("PUT", "/v1/users/u1", fx.tok_op1, u), 403);
    assert_int_equal(status_of("PUT", "/v1/users/u1", fx.tok_viewer, u), 403);
    struct reply r;
    assert_int_equal(http("PUT", "/v1/users/u1", fx.tok_admin, u, &r), 201);
    assert_string_equal(jget(&r, "name"), "u1");
    assert_string_equal(jget(&r, "role"), "viewer");
    reply_free(&r);
    assert_int_equal(http("PUT", "/v1/users/u1", fx.tok_admin,
                          "{\"role\":\"operator\"}", &r), 200);
    assert_string_equal(jget(&r, "role"), "operator");
    reply_free(&r);
    free(login("u1", "user-password-1"));
    http("GET", "/v1/users", fx.tok_admin, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"u1\""));
    reply_free(&r);
    assert_int_equal(status_of("DELETE", "/v1/users/u1", fx.tok_op1, NULL), 403);
    assert_int_equal(status_of("DELETE", "/v1/users/u1", fx.tok_viewer, NULL), 403);
    assert_int_equal(status_of("DELETE", "/v1/users/u1", NULL, NULL), 401);
    assert_int_equal(status_of("DELETE", "/v1/users/u1", fx.tok_admin, NULL), 204);
    http("DELETE", "/v1/users/u1", fx.tok_admin, NULL, &r);
    expect_error(&r, 404, "not-found");
    reply_free(&r);
    http("PUT", "/v1/users/u2", fx.tok_admin, "{\"password\":\"pw-long-enough\","
         "\"role\":\"emperor\"}", &r);
    expect_error(&r, 400, "invalid-request");
    assert_string_equal(jget(&r, "error.path"), "role");
    reply_free(&r);
    http("PUT", "/v1/users/u2", fx.tok_admin, "{\"role\":\"viewer\"}", &r);
    expect_error(&r, 400, "invalid-request");
    assert_string_equal(jget(&r, "error.path"), "password");
    reply_free(&r);
    http("DELETE", "/v1/users/admin", fx.tok_admin, NULL, &r);
    expect_error(&r, 409, "conflict");
    reply_free(&r);

    /* The compatibility API. */
    assert_int_equal(status_of("POST", "/NF-FG/", NULL, nffg_body), 401);
    assert_int_equal(status_of("POST", "/NF-FG/", fx.tok_viewer, nffg_body), 403);
    assert_int_equal(http("POST", "/NF-FG/", fx.tok_op1, nffg_body, &r), 201);
    _cleanup_free_ char *uuid = xstrdup(jget(&r, "nffg-uuid"));
    assert_int_equal(strlen(uuid), 36);
    reply_free(&r);
    _cleanup_free_ char *up = xasprintf("/NF-FG/%s", uuid);
    _cleanup_free_ char *sp = xasprintf("/NF-FG/status/%s", uuid);
    assert_int_equal(http("GET", up, fx.tok_op1, NULL, &r), 200);
    assert_non_null(strstr(r.body, "forwarding-graph"));
    reply_free(&r);
    assert_int_equal(http("GET", sp, fx.tok_op1, NULL, &r), 200);
    assert_string_equal(jget(&r, "status"), "complete");
    assert_string_equal(jget(&r, "percentage_completed"), "100");
    reply_free(&r);
    /* The graph is a v1 graph too. */
    _cleanup_free_ char *vp = xasprintf("/v1/graphs/%s", uuid);
    assert_int_equal(http("GET", vp, fx.tok_op1, NULL, &r), 200);
    assert_non_null(strstr(r.body, "\"sffg\""));
    reply_free(&r);
    assert_int_equal(status_of("PUT", up, fx.tok_op2, nffg_body), 403);
    assert_int_equal(status_of("PUT", up, fx.tok_op1, nffg_body), 202);
    assert_int_equal(status_of("PUT", "/NF-FG/c-put", fx.tok_op1, nffg_body), 202);
    assert_int_equal(status_of("PUT", "/NF-FG/c-put", fx.tok_viewer, nffg_body), 403);
    assert_int_equal(status_of("DELETE", up, fx.tok_op2, NULL), 403);
    assert_int_equal(status_of("DELETE", up, fx.tok_op1, NULL), 204);
    assert_int_equal(status_of("DELETE", up, fx.tok_op1, NULL), 404);
    assert_int_equal(status_of("DELETE", "/NF-FG/c-put", fx.tok_admin, NULL), 204);
}

static void
test_errors(void **state)
{
    struct reply r;
    _cleanup_free_ char *g = sffg("e-1");

    /* Bad JSON. */
    http("PUT", "/v1/graphs/e-1", fx.tok_admin, "{\"sffg\":", &r);
    expect_error(&r, 400, "invalid-graph");
    reply_free(&r);
    http("PUT", "/v1/graphs/e-1", fx.tok_admin, NULL, &r);
    expect_error(&r, 400, "invalid-graph");
    reply_free(&r);

    /* A bad graph: the path names the field. */
    http("PUT", "/v1/graphs/e-1", fx.tok_admin,
         "{\"sffg\":{\"id\":\"e-1\",\"saps\":[{\"id\":\"a\",\"type\":\"vlan\","
         "\"vlan\":{\"vlan-id\":5000,\"if-name\":\"eth0\"}}],\"flowrules\":[]}}",
         &r);
    expect_error(&r, 400, "invalid-graph");
    assert_non_null(strstr(jget(&r, "error.path"), "sffg.saps[0]"));
    reply_free(&r);

    /* The URL's id and the body's. */
    http("PUT", "/v1/graphs/e-2", fx.tok_admin, g, &r);
    expect_error(&r, 409, "conflict");
    assert_string_equal(jget(&r, "error.path"), "sffg.id");
    reply_free(&r);

    /* Invalid ids in the URL. */
    http("PUT", "/v1/graphs/-bad", fx.tok_admin, g, &r);
    expect_error(&r, 400, "invalid-request");
    reply_free(&r);
    http("GET", "/v1/graphs/a%20b", fx.tok_admin, NULL, &r);
    expect_error(&r, 400, "invalid-request");
    reply_free(&r);
    char longid[100];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    _cleanup_free_ char *lp = xasprintf("/v1/graphs/%s", longid);
    assert_int_equal(status_of("GET", lp, fx.tok_admin, NULL), 400);

    /* Unknown routes and methods. */
    http("GET", "/v1/nothing", fx.tok_admin, NULL, &r);
    expect_error(&r, 404, "not-found");
    reply_free(&r);
    http("GET", "/v1/graphs/a/b/c/d/e", fx.tok_admin, NULL, &r);
    expect_error(&r, 404, "not-found");
    reply_free(&r);
    http("POST", "/v1/graphs", fx.tok_admin, "{}", &r);
    expect_error(&r, 405, "method-not-allowed");
    assert_non_null(strcasestr(r.headers, "Allow: GET, HEAD"));
    reply_free(&r);
    http("PATCH", "/v1/graphs/e-1", fx.tok_admin, "{}", &r);
    expect_error(&r, 405, "method-not-allowed");
    assert_non_null(strcasestr(r.headers, "Allow: GET, HEAD, PUT, DELETE"));
    reply_free(&r);
    http("GET", "/v1/login", NULL, NULL, &r);
    expect_error(&r, 405, "method-not-allowed");
    reply_free(&r);

    /* Unauthenticated errors carry WWW-Authenticate. */
    http("GET", "/v1/graphs", NULL, NULL, &r);
    expect_error(&r, 401, "unauthenticated");
    assert_non_null(strcasestr(r.headers, "WWW-Authenticate: Bearer"));
    reply_free(&r);

    /* Deploy failures: 500, rolled back. */
    compute_dummy_fail_at(DUMMY_ENGINE, "start", 1);
    const char *with_sf =
        "{\"sffg\":{\"id\":\"e-sf\",\"SFs\":[{\"id\":\"f\",\"name\":\"dummy\","
        "\"ports\":[{\"id\":\"p\"}]}],\"saps\":[],\"flowrules\":[]}}";
    http("PUT", "/v1/graphs/e-sf", fx.tok_admin, with_sf, &r);
    compute_dummy_fail_at(DUMMY_ENGINE, "start", 0);
    if (r.status != 500 && r.status != 409)
        fail_msg("deploy with a failing engine: %ld %s", r.status, r.body);
    assert_non_null(jget(&r, "error.code"));
    assert_true(!strcmp(jget(&r, "error.code"), "deploy-failed")
                || !strcmp(jget(&r, "error.code"), "unresolvable"));
    /* The message says which step and which SF. */
    assert_non_null(strstr(jget(&r, "error.message"), "start"));
    reply_free(&r);
    /* Rolled back: either gone, or kept as "failed" with the reason. */
    http("GET", "/v1/graphs/e-sf/status", fx.tok_admin, NULL, &r);
    if (r.status == 200) {
        assert_string_equal(jget(&r, "status"), "failed");
        assert_non_null(jget(&r, "error"));
        assert_int_equal(status_of("DELETE", "/v1/graphs/e-sf", fx.tok_admin,
                                   NULL), 204);
    } else {
        assert_int_equal(r.status, 404);
    }
    reply_free(&r);
    assert_int_equal(compute_dummy_count_sfs(DUMMY_ENGINE), 0);

    /* A template that does not exist: 409 unresolvable. */
    http("PUT", "/v1/graphs/e-sf", fx.tok_admin,
         "{\"sffg\":{\"id\":\"e-sf\",\"SFs\":[{\"id\":\"f\",\"name\":"
         "\"dummy\",\"template\":\"teleporter\",\"ports\":[]}],"
         "\"saps\":[],\"flowrules\":[]}}", &r);
    expect_error(&r, 409, "unresolvable");
    assert_non_null(strstr(jget(&r, "error.message"), "teleporter"));
    assert_string_equal(jget(&r, "error.path"), "sffg.SFs[0].template");
    reply_free(&r);
    status_of("DELETE", "/v1/graphs/e-sf", fx.tok_admin, NULL);
}

/* The status comes from the error's kind, never from its errno: a
 * driver's -ENOENT in the middle of a PUT is a failed deploy (500), not a
 * missing graph (404). */
static void
test_error_kinds(void **state)
{
    static const struct {
        enum corch_err_kind kind;
        unsigned int status;    /* Expected status... */
        const char *graph_code; /* ...code on a graph route... */
        const char *code;       /* ...and elsewhere. */
    } table[] = {
        { CORCH_ERR_FAILED, 500, "deploy-failed", "internal" },
        { CORCH_ERR_INVALID, 400, "invalid-graph", "invalid-request" },
        { CORCH_ERR_UNRESOLVABLE, 409, "unresolvable", "unresolvable" },
        { CORCH_ERR_CONFLICT, 409, "conflict", "conflict" },
        { CORCH_ERR_NOT_FOUND, 404, "not-found", "not-found" },
        { CORCH_ERR_BUSY, 409, "conflict", "conflict" },
        { CORCH_ERR_TOO_LARGE, 413, "too-large", "too-large" },
        { CORCH_ERR_UNSUPPORTED, 400, "unsupported", "unsupported" },
    };
    (void) state;

    for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
        unsigned int status;
        const char *code;
        rest_error_status(table[i].kind, true, &status, &code);
        assert_int_equal(status, table[i].status);
        assert_string_equal(code, table[i].graph_code);
        rest_error_status(table[i].kind, false, &status, &code);
        assert_int_equal(status, table[i].status);
        assert_string_equal(code, table[i].code);
    }
    /* A kind out of range is a failure, not a crash. */
    unsigned int status;
    const char *code;
    rest_error_status((enum corch_err_kind) 99, true, &status, &code);
    assert_int_equal(status, 500);

    static const struct {
        int error;                  /* Injected errno... */
        enum corch_err_kind kind;   /* ...and kind. */
        long status;                /* What the PUT must answer. */
        const char *code;
    } cases[] = {
        { -ENOENT, CORCH_ERR_FAILED, 500, "deploy-failed" },
        { -EINVAL, CORCH_ERR_FAILED, 500, "deploy-failed" },
        { -EBUSY, CORCH_ERR_FAILED, 500, "deploy-failed" },
        { -E2BIG, CORCH_ERR_FAILED, 500, "deploy-failed" },
        { -EIO, CORCH_ERR_NOT_FOUND, 404, "not-found" },
        { -ENOENT, CORCH_ERR_CONFLICT, 409, "conflict" },
        { -EIO, CORCH_ERR_UNRESOLVABLE, 409, "unresolvable" },
        { -EIO, CORCH_ERR_TOO_LARGE, 413, "too-large" },
    };
    _cleanup_free_ char *g = sffg("k-1");
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct reply r;
        put_fault.error = cases[i].error;
        put_fault.kind = cases[i].kind;
        put_fault.active = true;
        http("PUT", "/v1/graphs/k-1", fx.tok_admin, g, &r);
        assert_false(put_fault.active);
        expect_error(&r, cases[i].status, cases[i].code);
        /* The message is the deploy's, naming the step. */
        assert_non_null(strstr(jget(&r, "error.message"), "step 4"));
        reply_free(&r);
    }

    /* The same through the compatibility API. */
    struct reply r;
    put_fault = (typeof(put_fault)) { true, -ENOENT, CORCH_ERR_FAILED };
    http("PUT", "/NF-FG/k-2", fx.tok_admin, nffg_body, &r);
    expect_error(&r, 500, "deploy-failed");
    reply_free(&r);
    assert_int_equal(status_of("GET", "/v1/graphs/k-1", fx.tok_admin, NULL),
                     404);
    assert_int_equal(status_of("GET", "/NF-FG/k-2", fx.tok_admin, NULL), 404);

    /* Checks the nrm makes before deploying keep the statuses of their
     * kind: a SAP on an interface the node does not have is invalid. */
    http("PUT", "/v1/graphs/k-3", fx.tok_admin,
         "{\"sffg\":{\"id\":\"k-3\",\"saps\":[{\"id\":\"a\",\"type\":"
         "\"interface\",\"interface\":{\"if-name\":\"nosuch0\"}}],"
         "\"flowrules\":[]}}", &r);
    expect_error(&r, 400, "invalid-graph");
    assert_string_equal(jget(&r, "error.path"),
                        "sffg.saps[0].interface.if-name");
    reply_free(&r);

    /* Users: not-found and the last admin, by kind. */
    http("DELETE", "/v1/users/nobody", fx.tok_admin, NULL, &r);
    expect_error(&r, 404, "not-found");
    reply_free(&r);
    http("DELETE", "/v1/users/-bad-", fx.tok_admin, NULL, &r);
    expect_error(&r, 404, "not-found");
    reply_free(&r);
    http("PUT", "/v1/users/u-k", fx.tok_admin, "{\"password\":\"x\"}", &r);
    expect_error(&r, 400, "invalid-request");
    assert_string_equal(jget(&r, "error.path"), "password");
    reply_free(&r);
}

static void
test_limits(void **state)
{
    struct reply r;
    size_t max = fx.cfg.limits_max_body_bytes;

    /* Declared too large: refused before the upload. */
    char *big = xmalloc(max + 2);
    memset(big, ' ', max + 1);
    big[0] = '{';
    big[max + 1] = '\0';
    http("PUT", "/v1/graphs/l-1", fx.tok_admin, big, &r);
    expect_error(&r, 413, "too-large");
    reply_free(&r);
    /* Chunked: counted while receiving. */
    struct req q = { .method = "PUT", .path = "/v1/graphs/l-1",
                     .token = fx.tok_admin, .body = big, .chunked = true };
    http_ex(&q, &r);
    expect_error(&r, 413, "too-large");
    reply_free(&r);
    q.path = "/NF-FG/";
    q.method = "POST";
    http_ex(&q, &r);
    expect_error(&r, 413, "too-large");
    reply_free(&r);
    free(big);

    /* Far past the limit, chunked: the connection is dropped (or, if the
     * client was quick, answered 413); the server carries on. */
    size_t huge = 4 * max + 4 * 65536;
    big = xmalloc(huge + 1);
    memset(big, '[', huge);
    big[huge] = '\0';
    q.body = big;
    q.chunked = true;
    http_ex(&q, &r);
    assert_true(r.status == 0 || r.status == 413);
    reply_free(&r);
    free(big);
    assert_int_equal(status_of("GET", "/healthz", NULL, NULL), 200);

    /* Deep JSON. */
    char deep[400];
    size_t n = 0;
    n += (size_t) snprintf(deep, sizeof deep, "{\"sffg\":{\"id\":\"l-1\",\"x\":");
    for (int i = 0; i < 40; i++)
        deep[n++] = '[';
    for (int i = 0; i < 40; i++)
        deep[n++] = ']';
    strcpy(deep + n, "}}");
    http("PUT", "/v1/graphs/l-1", fx.tok_admin, deep, &r);
    expect_error(&r, 400, "invalid-graph");
    reply_free(&r);
    q.body = deep;
    q.chunked = false;
    http_ex(&q, &r);
    expect_error(&r, 400, "invalid-graph");
    reply_free(&r);

    /* More SFs than limits.max_sfs. */
    _cleanup_free_ char *many = xstrdup("{\"sffg\":{\"id\":\"l-2\",\"SFs\":[");
    for (int i = 0; i < 5; i++) {
        char *t = xasprintf("%s%s{\"id\":\"f%d\",\"name\":\"dummy\",\"ports\":[]}",
                            many, i ? "," : "", i);
        free(many);
        many = t;
    }
    char *t = xasprintf("%s],\"saps\":[],\"flowrules\":[]}}", many);
    free(many);
    many = t;
    http("PUT", "/v1/graphs/l-2", fx.tok_admin, many, &r);
    expect_error(&r, 413, "too-large");
    assert_non_null(strstr(jget(&r, "error.path"), "SFs"));
    reply_free(&r);
}

/* Input that is not what anyone should send: the server answers 4xx and
 * stays up. */
static void
test_garbage(void **state)
{
    struct reply r;
    uint8_t bin[4096];

    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t) (i * 131 + 7);
    const char *paths[] = { "/v1/graphs/gb", "/NF-FG/gb", "/NF-FG/",
                            "/v1/login", "/login", "/v1/users/gb" };
    const char *methods[] = { "PUT", "PUT", "POST", "POST", "POST", "PUT" };
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        struct req q = { .method = methods[i], .path = paths[i],
                         .token = fx.tok_admin, .body = (const char *) bin,
                         .body_len = sizeof bin };
        http_ex(&q, &r);
        if (r.status != 400)
            fail_msg("%s %s with binary: %ld %s", methods[i], paths[i],
                     r.status, r.body);
        reply_free(&r);
        /* A NUL byte in otherwise good JSON. */
        q.body = "{\"a\":\"b\0\"}";
        q.body_len = 10;
        http_ex(&q, &r);
        assert_int_equal(r.status, 400);
        reply_free(&r);
        q.body = "[1,2,3]";
        q.body_len = 0;
        http_ex(&q, &r);
        assert_int_equal(r.status, 400);
        reply_free(&r);
        q.body = "{} trailing";
        http_ex(&q, &r);
        assert_int_equal(r.status, 400);
        reply_free(&r);
        q.body = "\"just a string\"";
        http_ex(&q, &r);
        assert_int_equal(r.status, 400);
        reply_free(&r);
    }

    /* A long URL. */
    char *url = xmalloc(20000);
    strcpy(url, "/v1/graphs/");
    memset(url + 11, 'a', 19000);
    url[19011] = '\0';
    long s = status_of("GET", url, fx.tok_admin, NULL);
    assert_true(s == 414 || s == 400 || s == 431);
    free(url);
    /* Odd methods and paths. */
    assert_int_equal(status_of("FOO", "/v1/graphs", fx.tok_admin, NULL), 405);
    assert_int_equal(status_of("GET", "/", fx.tok_admin, NULL), 404);
    assert_int_equal(status_of("GET", "//v1//graphs//", fx.tok_admin, NULL), 200);
    /* MHD unescapes the URL: "%00" ends it, and what is left is a list. */
    s = status_of("GET", "/v1/graphs/%00", fx.tok_admin, NULL);
    assert_true(s == 200 || s == 400);
    assert_int_equal(status_of("GET", "/v1/graphs/a%2Fb", fx.tok_admin, NULL), 404);
    /* A token header full of junk. */
    assert_int_equal(status_of("GET", "/v1/graphs", "\x01\x02 ''\"", NULL), 401);

    assert_int_equal(status_of("GET", "/healthz", NULL, NULL), 200);
}

/* GETs are answered while other requests are in progress: a slow client
 * that sent half a body holds a connection, not the server. */
static void
test_concurrent(void **state)
{
    /* Connections that send headers announcing a body and never send it. */
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sin = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                   .sin_port = htons(fx.cfg.rest_port) };
        assert_int_equal(connect(fds[i], (struct sockaddr *) &sin, sizeof sin), 0);
        _cleanup_free_ char *req = xasprintf(
            "PUT /v1/graphs/c-%d HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Length: 100\r\n\r\n{", i, fx.tok_admin);
        assert_int_equal(write(fds[i], req, strlen(req)), (ssize_t) strlen(req));
    }
    uint64_t t0 = time_ms();
    for (int i = 0; i < 20; i++)
        assert_int_equal(status_of("GET", "/v1/graphs", fx.tok_admin, NULL), 200);
    assert_true(time_ms() - t0 < 5000);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
}

/* A PUT running in a thread of its own. */
struct slow_put {
    const char *id;             /* Graph to deploy. */
    long status;                /* Its answer. */
    uint64_t ms;                /* How long it took. */
};

static void *
slow_put_main(void *aux)
{
    struct slow_put *sp = aux;
    _cleanup_free_ char *path = xasprintf("/v1/graphs/%s", sp->id);
    _cleanup_free_ char *body = xasprintf(
        "{\"sffg\":{\"id\":\"%s\",\"SFs\":[{\"id\":\"f\",\"name\":"
        "\"dummy\",\"ports\":[{\"id\":\"p\"}]}],\"saps\":[],"
        "\"flowrules\":[]}}", sp->id);
    uint64_t t0 = time_ms();
    struct reply r;
    struct req q = { .method = "PUT", .path = path, .token = fx.tok_admin,
                     .body = body };
    http_ex(&q, &r);
    sp->status = r.status;
    sp->ms = time_ms() - t0;
    reply_free(&r);
    return NULL;
}

/* Deploys take seconds: GETs are answered meanwhile, deploys of
 * different graphs run in parallel, and a second request on a graph being
 * deployed gets 409 at once. */
static void
test_slow_deploys(void **state)
{
    const unsigned int delay = 1500;
    struct slow_put a = { "slow-a", 0, 0 }, b = { "slow-b", 0, 0 };
    pthread_t ta, tb;

    compute_dummy_set_delay_ms(DUMMY_ENGINE, delay);
    assert_int_equal(pthread_create(&ta, NULL, slow_put_main, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, slow_put_main, &b), 0);
    usleep(400 * 1000);

    uint64_t t0 = time_ms();
    for (int i = 0; i < 10; i++)
        assert_int_equal(status_of("GET", "/v1/graphs", fx.tok_viewer, NULL), 200);
    assert_int_equal(status_of("GET", "/v1/node", fx.tok_viewer, NULL), 200);
    uint64_t gets = time_ms() - t0;

    struct reply r;
    http("GET", "/v1/graphs/slow-a/status", fx.tok_admin, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jget(&r, "status"), "deploying");
    reply_free(&r);
    http("DELETE", "/v1/graphs/slow-a", fx.tok_admin, NULL, &r);
    expect_error(&r, 409, "conflict");
    reply_free(&r);
    uint64_t t1 = time_ms();
    _cleanup_free_ char *again = xasprintf(
        "{\"sffg\":{\"id\":\"slow-b\",\"SFs\":[],\"saps\":[],\"flowrules\":[]}}");
    http("PUT", "/v1/graphs/slow-b", fx.tok_admin, again, &r);
    expect_error(&r, 409, "conflict");
    reply_free(&r);
    assert_true(time_ms() - t1 < delay / 2);

    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    compute_dummy_set_delay_ms(DUMMY_ENGINE, 0);
    assert_int_equal(a.status, 201);
    assert_int_equal(b.status, 201);
    if (gets >= delay / 2)
        fail_msg("GETs took %" PRIu64 " ms behind deploys of %u ms", gets, delay);
    /* In parallel: both done in well under two delays. */
    assert_true(a.ms < 2 * delay - 200 && b.ms < 2 * delay - 200);
    assert_int_equal(status_of("DELETE", "/v1/graphs/slow-a", fx.tok_admin, NULL), 204);
    assert_int_equal(status_of("DELETE", "/v1/graphs/slow-b", fx.tok_admin, NULL), 204);
}

/* rest_stop() lets a deploy in flight finish and answer. */
static void
test_stop_in_flight(void **state)
{
    struct corch_config cfg = fx.cfg;
    struct rest_server *rs = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    char saved[64];

    cfg.rest_port = free_port();
    assert_int_equal(rest_start(&cfg, fx.sec, fx.nrm, &rs, &err), 0);
    memcpy(saved, fx.url, sizeof saved);
    snprintf(fx.url, sizeof fx.url, "http://127.0.0.1:%u", cfg.rest_port);

    struct slow_put a = { "stop-a", 0, 0 };
    pthread_t ta;
    compute_dummy_set_delay_ms(DUMMY_ENGINE, 800);
    assert_int_equal(pthread_create(&ta, NULL, slow_put_main, &a), 0);
    usleep(300 * 1000);
    uint64_t t0 = time_ms();
    rest_stop(rs);
    uint64_t stop_ms = time_ms() - t0;
    pthread_join(ta, NULL);
    compute_dummy_set_delay_ms(DUMMY_ENGINE, 0);
    assert_int_equal(a.status, 201);
    assert_true(stop_ms >= 200);
    /* Nothing listens any more. */
    assert_int_equal(status_of("GET", "/healthz", NULL, NULL), 0);
    memcpy(fx.url, saved, sizeof saved);
    assert_int_equal(status_of("DELETE", "/v1/graphs/stop-a", fx.tok_admin, NULL), 204);
}

/* A user that owns graphs cannot be deleted (issue 16, point 5): graphs
 * record their owner by name, and a new user of that name would inherit
 * them.  409 conflict saying how many; the user and its tokens stay. */
static void
test_user_delete_owner(void **state)
{
    struct reply r;

    (void) state;
    assert_int_equal(status_of("PUT", "/v1/users/heir", fx.tok_admin,
                               "{\"password\":\"heir-password\","
                               "\"role\":\"operator\"}"), 201);
    char *tok = login("heir", "heir-password");
    put_graph_as(tok, "heir-1", 201);
    put_graph_as(tok, "heir-2", 201);

    http("DELETE", "/v1/users/heir", fx.tok_admin, NULL, &r);
    expect_error(&r, 409, "conflict");
    assert_non_null(strstr(jget(&r, "error.message"), "2 graphs"));
    reply_free(&r);
    /* Refused: nothing changed. */
    assert_int_equal(status_of("GET", "/v1/graphs/heir-1", tok, NULL), 200);

    assert_int_equal(status_of("DELETE", "/v1/graphs/heir-1", tok, NULL), 204);
    http("DELETE", "/v1/users/heir", fx.tok_admin, NULL, &r);
    expect_error(&r, 409, "conflict");
    assert_non_null(strstr(jget(&r, "error.message"), "1 graph:"));
    reply_free(&r);

    /* Another user's graphs do not count. */
    assert_int_equal(status_of("DELETE", "/v1/graphs/heir-2", fx.tok_admin,
                               NULL), 204);
    put_graph_as(fx.tok_op1, "not-heirs", 201);
    assert_int_equal(status_of("DELETE", "/v1/users/heir", fx.tok_admin, NULL),
                     204);
    assert_int_equal(status_of("GET", "/v1/graphs", tok, NULL), 401);
    assert_int_equal(status_of("DELETE", "/v1/graphs/not-heirs", fx.tok_op1,
                               NULL), 204);
    free(tok);
}

/* security.auth=false: everyone is the admin. */
static void
test_auth_off(void **state)
{
    struct corch_config cfg = fx.cfg;
    struct rest_server *rs = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    char saved[64];

    cfg.security_auth = false;
    cfg.rest_port = free_port();
    assert_int_equal(rest_start(&cfg, fx.sec, fx.nrm, &rs, &err), 0);
    memcpy(saved, fx.url, sizeof saved);
    snprintf(fx.url, sizeof fx.url, "http://127.0.0.1:%u", cfg.rest_port);
    assert_int_equal(status_of("GET", "/v1/users", NULL, NULL), 200);
    assert_int_equal(status_of("GET", "/v1/graphs", NULL, NULL), 200);
    assert_int_equal(status_of("GET", "/v1/node", BAD_TOKEN, NULL), 200);

    /* ...with the admin's rights but nobody's name: a graph created
     * without authentication has no owner (docs/security.md), so neither
     * an operator nor a later user called "admin" owns it, and it does
     * not hold up the deletion of any user. */
    put_graph_as(NULL, "no-owner", 201);
    char *owner = NULL;
    assert_int_equal(nrm_graph_owner(fx.nrm, "no-owner", &owner), 0);
    assert_string_equal(owner, "");
    free(owner);
    memcpy(fx.url, saved, sizeof saved);
    assert_int_equal(status_of("GET", "/v1/graphs/no-owner", fx.tok_op1, NULL),
                     403);
    assert_int_equal(status_of("GET", "/v1/graphs/no-owner", fx.tok_admin,
                               NULL), 200);
    assert_int_equal(status_of("DELETE", "/v1/graphs/no-owner", fx.tok_admin,
                               NULL), 204);
    rest_stop(rs);
}

/* rest.address may be IPv6. */
static void
test_ipv6(void **state)
{
    struct corch_config cfg = fx.cfg;
    struct rest_server *rs = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    char saved[64];

    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
                                 .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    socklen_t len = sizeof sin6;
    if (fd < 0 || bind(fd, (struct sockaddr *) &sin6, sizeof sin6) < 0) {
        if (fd >= 0)
            close(fd);
        skip();                 /* No IPv6 loopback here. */
    }
    assert_int_equal(getsockname(fd, (struct sockaddr *) &sin6, &len), 0);
    close(fd);
    cfg.rest_port = ntohs(sin6.sin6_port);
    cfg.rest_address = (char *) "::1";
    assert_int_equal(rest_start(&cfg, fx.sec, fx.nrm, &rs, &err), 0);
    memcpy(saved, fx.url, sizeof saved);
    snprintf(fx.url, sizeof fx.url, "http://[::1]:%u", cfg.rest_port);
    assert_int_equal(status_of("GET", "/healthz", NULL, NULL), 200);
    assert_int_equal(status_of("GET", "/v1/graphs", fx.tok_viewer, NULL), 200);
    memcpy(fx.url, saved, sizeof saved);
    rest_stop(rs);
}

/* Start-up errors name the key. */
static void
test_start_errors(void **state)
{
    struct corch_config cfg = fx.cfg;
    struct rest_server *rs = NULL;
    struct corch_err err = { .path = "", .msg = "" };

    /* The port the fixture's server holds. */
    assert_true(rest_start(&cfg, fx.sec, fx.nrm, &rs, &err) < 0);
    assert_string_equal(err.path, "rest.port");
    assert_null(rs);

    cfg.rest_port = free_port();
    cfg.rest_address = (char *) "not-an-address";
    memset(&err, 0, sizeof err);
    assert_int_equal(rest_start(&cfg, fx.sec, fx.nrm, &rs, &err), -EINVAL);
    assert_string_equal(err.path, "rest.address");

    cfg.rest_address = (char *) "127.0.0.1";
    cfg.rest_tls_cert = (char *) "/nonexistent/cert.pem";
    cfg.rest_tls_key = (char *) "/nonexistent/key.pem";
    memset(&err, 0, sizeof err);
    assert_true(rest_start(&cfg, fx.sec, fx.nrm, &rs, &err) < 0);
    assert_string_equal(err.path, "rest.tls_cert");
    assert_non_null(strstr(err.msg, "rest.tls_cert"));

    /* A key file that is not a key. */
    _cleanup_free_ char *bad = xasprintf("%s/bad.pem", fx.dir);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("-----BEGIN PRIVATE KEY-----\nnot base64 at all\n"
          "-----END PRIVATE KEY-----\n", f);
    fclose(f);
    cfg.rest_tls_cert = bad;
    cfg.rest_tls_key = bad;
    memset(&err, 0, sizeof err);
    assert_true(rest_start(&cfg, fx.sec, fx.nrm, &rs, &err) < 0);
    assert_string_equal(err.path, "rest.tls_key");
    assert_null(rs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_matrix_read),
        cmocka_unit_test(test_matrix_write),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_kinds),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_slow_deploys),
        cmocka_unit_test(test_stop_in_flight),
        cmocka_unit_test(test_user_delete_owner),
        cmocka_unit_test(test_auth_off),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_start_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
