/* Tests of the remote SF repository (a real HTTP server on loopback, in a
 * thread of this program) and of the expansion of subgraph templates
 * (resolver_expand), with the dummy engine. */
#include <config.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "compute.h"
#include "compute/dummy/compute-dummy.h"
#include "corch-config.h"
#include "graph.h"
#include "repository.h"
#include "resolver.h"

/* --- A small HTTP/1.0 file server. --- */

static struct {
    int fd;                     /* Listening socket. */
    int port;                   /* Its port. */
    char root[256];             /* Directory served. */
    pthread_t thread;
    pthread_mutex_t mutex;      /* Protects 'hits'. */
    unsigned int hits;          /* Requests answered. */
    char last[256];             /* Path of the last request. */
} srv;

static void
send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w <= 0)
            return;
        p += w;
        len -= (size_t) w;
    }
}

static void *
serve(void *aux)
{
    (void) aux;
    for (;;) {
        int c = accept(srv.fd, NULL, NULL);
        if (c < 0)
            return NULL;                /* Closed: the end. */
        char req[2048] = "";
        size_t len = 0;
        while (len < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
            ssize_t r = read(c, req + len, sizeof req - 1 - len);
            if (r <= 0)
                break;
            len += (size_t) r;
            req[len] = '\0';
        }
        req[len] = '\0';
        char path[256] = "";
        sscanf(req, "GET %255s", path);
        pthread_mutex_lock(&srv.mutex);
        srv.hits++;
        snprintf(srv.last, sizeof srv.last, "%s", path);
        pthread_mutex_unlock(&srv.mutex);
        char file[600];
        snprintf(file, sizeof file, "%s%s", srv.root, path);
        FILE *f = strstr(path, "..") ? NULL : fopen(file, "re");
        struct stat st;
        if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
            static const char nf[] = "HTTP/1.0 404 Not Found\r\n"
                                     "Content-Length: 0\r\n\r\n";
            send_all(c, nf, sizeof nf - 1);
        } else {
            char head[128];
            int n = snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\n"
                             "Content-Length: %lld\r\n\r\n",
                             (long long) st.st_size);
            send_all(c, head, (size_t) n);
            char buf[8192];
            size_t r;
            while ((r = fread(buf, 1, sizeof buf, f)) > 0)
                send_all(c, buf, r);
        }
        if (f)
            fclose(f);
        close(c);
    }
}

static void
server_start(const char *root)
{
    snprintf(srv.root, sizeof srv.root, "%s", root);
    srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(srv.fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    assert_int_equal(bind(srv.fd, (struct sockaddr *) &a, sizeof a), 0);
    assert_int_equal(listen(srv.fd, 16), 0);
    assert_int_equal(getsockname(srv.fd, (struct sockaddr *) &a, &alen), 0);
    srv.port = ntohs(a.sin_port);
    pthread_mutex_init(&srv.mutex, NULL);
    assert_int_equal(pthread_create(&srv.thread, NULL, serve, NULL), 0);
}

static void
server_stop(void)
{
    shutdown(srv.fd, SHUT_RDWR);
    close(srv.fd);
    pthread_join(srv.thread, NULL);
    pthread_mutex_destroy(&srv.mutex);
}

static unsigned int
server_hits(void)
{
    pthread_mutex_lock(&srv.mutex);
    unsigned int n = srv.hits;
    pthread_mutex_unlock(&srv.mutex);
    return n;
}

/* --- Scratch directories. --- */

static char scratch[64];        /* Per test program run. */

static void
write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            rm_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static size_t
count_files(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))   /* Temporary files included. */
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

/* An image and its digest (sha256sum). */
#define IMAGE_TEXT "hello image\n"
static const char image_sha[] =
    "cd4abdb93d8aaaca98bf3cda338348a8c1a6902bcdee5ea71f1b09cb6081028e";

static void
make_remote(const char *root)
{
    char dir[512];
    mkdir(root, 0755);
    snprintf(dir, sizeof dir, "%s/templates", root);
    mkdir(dir, 0755);
    snprintf(dir, sizeof dir, "%s/images", root);
    mkdir(dir, 0755);
    write_file(dir, "hello.tgz", IMAGE_TEXT);
    snprintf(dir, sizeof dir, "%s/templates", root);
    char t[1024];
    snprintf(t, sizeof t,
             "{\"id\":\"hello-remote\",\"functional-capability\":\"hello\","
             "\"engine\":\"dummy\",\"uri\":\"images/hello.tgz\","
             "\"sha256\":\"%s\",\"ports\":[{\"name\":\"eth0\"}]}", image_sha);
    write_file(dir, "hello-remote.json", t);
    write_file(dir, "tampered.json",
               "{\"id\":\"tampered\",\"functional-capability\":\"hello\","
               "\"engine\":\"dummy\",\"uri\":\"images/hello.tgz\","
               "\"sha256\":\"" "0000000000000000000000000000000000000000"
               "000000000000000000000000\"}");
    write_file(dir, "missing.json",
               "{\"id\":\"missing\",\"functional-capability\":\"hello\","
               "\"engine\":\"dummy\",\"uri\":\"images/nope.tgz\","
               "\"sha256\":\"" "1111111111111111111111111111111111111111"
               "111111111111111111111111\"}");
    write_file(dir, "shared.json",
               "{\"id\":\"shared\",\"functional-capability\":\"remote-one\","
               "\"engine\":\"dummy\"}");
    write_file(dir, "ftp.json",
               "{\"id\":\"ftp\",\"functional-capability\":\"hello\","
               "\"engine\":\"dummy\",\"uri\":\"ftp://127.0.0.1/x.tgz\","
               "\"sha256\":\"" "1111111111111111111111111111111111111111"
               "111111111111111111111111\"}");
    write_file(root, "index.json",
               "{\"templates\":[\"hello-remote.json\",\"tampered.json\","
               "\"missing.json\",\"shared.json\",\"ftp.json\","
               "\"not-there.json\",\"../evil.json\"]}");
}

static int
open_repo(const char *path, const char *url, const char *state,
          struct repository **ret, struct corch_err *err)
{
    struct corch_config cfg;
    char set[600];
    config_init(&cfg);
    snprintf(set, sizeof set, "repository.path=%s", path ? path : "");
    assert_int_equal(config_set(&cfg, set, err), 0);
    snprintf(set, sizeof set, "repository.url=%s", url ? url : "");
    assert_int_equal(config_set(&cfg, set, err), 0);
    snprintf(set, sizeof set, "state.dir=%s", state);
    assert_int_equal(config_set(&cfg, set, err), 0);
    int r = repository_open(&cfg, ret, err);
    config_destroy(&cfg);
    return r;
}

static int
setup(void **state)
{
    (void) state;
    compute_register(&compute_dummy_class);
    struct corch_config cfg;
    struct corch_err err = { .path = "", .msg = "" };
    config_init(&cfg);
    assert_int_equal(config_set(&cfg, "compute.drivers=dummy", &err), 0);
    assert_int_equal(compute_engines_init(&cfg, &err), 0);
    config_destroy(&cfg);

    snprintf(scratch, sizeof scratch, "/tmp/corch-test-repository.XXXXXX");
    assert_non_null(mkdtemp(scratch));
    char root[128];
    snprintf(root, sizeof root, "%s/www", scratch);
    make_remote(root);
    server_start(root);
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    server_stop();
    compute_engines_fini();
    rm_tree(scratch);
    return 0;
}

static char *
url_of(const char *suffix)
{
    return xasprintf("http://127.0.0.1:%d/%s", srv.port, suffix);
}

/* --- The remote source. --- */

static void
test_remote_load(void **state)
{
    (void) state;
    struct corch_err err = { .path = "", .msg = "" };
    struct repository *r = NULL;
    _cleanup_free_ char *url = url_of("");
    _cleanup_free_ char *state_dir = xasprintf("%s/state-load", scratch);

    /* Without the trailing slash too. */
    url[strlen(url) - 1] = '\0';
    assert_int_equal(open_repo(NULL, url, state_dir, &r, &err), 0);
    /* hello-remote, tampered, missing, shared; not ftp (scheme), not
     * not-there (404), not ../evil.json (name). */
    assert_int_equal(repository_count(r), 4);
    const struct sf_template *t = repository_find(r, "hello-remote");
    assert_non_null(t);
    assert_string_equal(t->capability, "hello");
    assert_null(repository_find(r, "ftp"));
    repository_close(r);

    /* Local and remote: the local definition of an id wins. */
    _cleanup_free_ char *local = xasprintf("%s/local", scratch);
    _cleanup_free_ char *ltmpl = xasprintf("%s/templates", local);
    mkdir(local, 0755);
    mkdir(ltmpl, 0755);
    write_file(ltmpl, "shared.json",
               "{\"id\":\"shared\",\"functional-capability\":\"local-one\","
               "\"engine\":\"dummy\"}");
    url[strlen(url)] = '/';
    assert_int_equal(open_repo(local, url, state_dir, &r, &err), 0);
    assert_int_equal(repository_count(r), 4);
    assert_string_equal(repository_get(r, 0)->id, "shared");
    assert_string_equal(repository_find(r, "shared")->capability,
                        "local-one");
    repository_close(r);
}

static void
test_remote_bad_config(void **state)
{
    (void) state;
    struct corch_err err = { .path = "", .msg = "" };
    struct repository *r = NULL;
    _cleanup_free_ char *state_dir = xasprintf("%s/state-bad", scratch);
    assert_int_equal(open_repo(NULL, "ftp://127.0.0.1/", state_dir, &r, &err),
                     -EINVAL);
    assert_string_equal(err.path, "repository.url");
    assert_non_null(strstr(err.msg, "only http:// and https://"));
    assert_int_equal(open_repo(NULL, NULL, state_dir, &r, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "both empty"));
    /* A server that is down is not fatal: no templates, until a refresh. */
    assert_int_equal(open_repo(NULL, "http://127.0.0.1:1/", state_dir, &r,
                               &err), 0);
    assert_int_equal(repository_count(r), 0);
    repository_close(r);
}

static void
test_remote_image(void **state)
{
    (void) state;
    struct corch_err err = { .path = "", .msg = "" };
    struct repository *r = NULL;
    _cleanup_free_ char *url = url_of("");
    _cleanup_free_ char *state_dir = xasprintf("%s/state-image", scratch);
    _cleanup_free_ char *images = xasprintf("%s/images", state_dir);
    assert_int_equal(open_repo(NULL, url, state_dir, &r, &err), 0);

    char *path = NULL;
    const struct sf_template *t = repository_find(r, "hello-remote");
    assert_int_equal(repository_fetch_image(r, t, &path, &err), 0);
    _cleanup_free_ char *want = xasprintf("%s/%s", images, image_sha);
    assert_string_equal(path, want);
    free(path);
    FILE *f = fopen(want, "re");
    char buf[64] = "";
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, IMAGE_TEXT);

    /* Reused by digest: no second download. */
    unsigned int hits = server_hits();
    assert_int_equal(repository_fetch_image(r, t, &path, &err), 0);
    free(path);
    assert_int_equal(server_hits(), hits);
    assert_int_equal(count_files(images), 1);

    /* A corrupted cache entry is downloaded again. */
    f = fopen(want, "we");
    fputs("corrupt", f);
    fclose(f);
    assert_int_equal(repository_fetch_image(r, t, &path, &err), 0);
    free(path);
    assert_int_equal(server_hits(), hits + 1);

    /* Wrong digest: refused naming both, nothing left behind. */
    path = NULL;
    t = repository_find(r, "tampered");
    assert_int_equal(repository_fetch_image(r, t, &path, &err), -EBADMSG);
    assert_null(path);
    assert_non_null(strstr(err.msg, "template tampered"));
    assert_non_null(strstr(err.msg, image_sha));
    assert_non_null(strstr(err.msg, "0000000000000000"));
    assert_non_null(strstr(err.msg, "removed"));
    assert_int_equal(count_files(images), 1);

    /* Not on the server: an error of the node (not -ENOENT: that would
     * read "no such graph"), naming the URL. */
    t = repository_find(r, "missing");
    assert_int_equal(repository_fetch_image(r, t, &path, &err), -EIO);
    assert_non_null(strstr(err.msg, "images/nope.tgz"));
    assert_non_null(strstr(err.msg, "404"));
    assert_int_equal(count_files(images), 1);
    repository_close(r);

    /* An absolute image URL in a local template; and one that is not
     * http(s). */
    struct sf_template *own = NULL;
    _cleanup_free_ char *img = url_of("images/hello.tgz");
    _cleanup_free_ char *doc = xasprintf(
        "{\"id\":\"abs\",\"functional-capability\":\"hello\",\"engine\":"
        "\"dummy\",\"uri\":\"%s\",\"sha256\":\"%s\"}", img, image_sha);
    json_object *j = json_tokener_parse(doc);
    _cleanup_free_ char *local = xasprintf("%s/local-empty", scratch);
    mkdir(local, 0755);
    _cleanup_free_ char *state2 = xasprintf("%s/state-abs", scratch);
    assert_int_equal(open_repo(local, NULL, state2, &r, &err), 0);
    assert_int_equal(sf_template_from_json(j, &own, &err), 0);
    json_object_put(j);
    assert_int_equal(repository_fetch_image(r, own, &path, &err), 0);
    assert_non_null(strstr(path, image_sha));
    free(path);
    free(own->uri);
    own->uri = xstrdup("file:///etc/passwd");
    assert_int_equal(repository_fetch_image(r, own, &path, &err),
                     -EPROTONOSUPPORT);
    sf_template_free(own);
    repository_close(r);
}

static void
test_remote_refresh(void **state)
{
    (void) state;
    struct corch_err err = { .path = "", .msg = "" };
    struct repository *r = NULL;
    _cleanup_free_ char *root = xasprintf("%s/www/www2", scratch);
    _cleanup_free_ char *tdir = xasprintf("%s/templates", root);
    mkdir(root, 0755);
    mkdir(tdir, 0755);
    write_file(root, "index.json", "{\"templates\":[\"a.json\"]}");
    write_file(tdir, "a.json", "{\"id\":\"a\",\"functional-capability\":"
               "\"cap-a\",\"engine\":\"dummy\"}");
    _cleanup_free_ char *url = url_of("www2/");
    _cleanup_free_ char *state_dir = xasprintf("%s/state-refresh", scratch);
    assert_int_equal(open_repo(NULL, url, state_dir, &r, &err), 0);
    assert_int_equal(repository_count(r), 1);

    /* A new template on the server: found after a refresh, not before the
     * interval is over. */
    write_file(tdir, "b.json", "{\"id\":\"b\",\"functional-capability\":"
               "\"cap-b\",\"engine\":\"dummy\"}");
    write_file(root, "index.json", "{\"templates\":[\"a.json\",\"b.json\"]}");
    assert_int_equal(repository_refresh(r), 0);
    assert_null(repository_find(r, "b"));
    repository_set_refresh_interval(r, 0);
    unsigned int hits = server_hits();
    assert_int_equal(repository_refresh(r), 1);
    /* The index and b.json only: a.json is not fetched again. */
    assert_int_equal(server_hits(), hits + 2);
    assert_non_null(repository_find(r, "b"));

    /* The resolver refreshes on a miss. */
    write_file(tdir, "c.json", "{\"id\":\"c\",\"functional-capability\":"
               "\"cap-c\",\"engine\":\"dummy\",\"ports\":[{\"name\":\"e0\"}]}");
    write_file(root, "index.json",
               "{\"templates\":[\"a.json\",\"b.json\",\"c.json\"]}");
    static const char text[] =
        "{\"sffg\":{\"id\":\"g\",\"SFs\":[{\"id\":\"s\",\"name\":\"x\","
        "\"template\":\"c\",\"ports\":[{\"id\":\"p\"}]}]}}";
    struct graph *g = NULL;
    assert_int_equal(graph_parse(text, strlen(text), 64, NULL, &g, &err), 0);
    struct resolver_env env = { .repo = r, .cores_total = 2,
                                .memory_mb_free = 100 };
    struct resolver_choice *c = NULL;
    assert_int_equal(resolver_resolve(&env, g, NULL, &c, &err), 0);
    assert_string_equal(c[0].tmpl->id, "c");
    resolver_choices_free(c, g->n_sfs);
    graph_free(g);
    repository_close(r);
}

/* --- Subgraph templates. --- */

static struct repository *sub_repo;

/* A subgraph template: 'sfs' and 'rules' are JSON array bodies; two SAPs
 * "in" and "out". */
static void
sub_template(const char *dir, const char *id, const char *cap,
             const char *sfs, const char *rules)
{
    char text[4096], name[128];
    snprintf(text, sizeof text,
             "{\"id\":\"%s\",\"functional-capability\":\"%s\","
             "\"engine\":\"subgraph\","
             "\"ports\":[{\"name\":\"inside\"},{\"name\":\"outside\"}],"
             "\"subgraph\":{\"sffg\":{\"id\":\"%s\",\"SFs\":[%s],"
             "\"saps\":[{\"id\":\"in\",\"type\":\"internal\",\"internal\":"
             "{\"internal-group\":\"in\"}},{\"id\":\"out\",\"type\":"
             "\"internal\",\"internal\":{\"internal-group\":\"out\"}}],"
             "\"flowrules\":[%s]}}}", id, cap, id, sfs, rules);
    snprintf(name, sizeof name, "%s.json", id);
    write_file(dir, name, text);
}

/* Rules joining SAP in to X:a and X:b to SAP out (both ways) for the one
 * SF "x" of a subgraph. */
#define ONE_SF_RULES(x) \
    "{\"id\":\"r1\",\"match\":{\"port_in\":\"service-access-point:in\"}," \
    "\"actions\":{\"output_to_port\":\"sf:" x ":a\"}}," \
    "{\"id\":\"r2\",\"match\":{\"port_in\":\"sf:" x ":a\"}," \
    "\"actions\":{\"output_to_port\":\"service-access-point:in\"}}," \
    "{\"id\":\"r3\",\"match\":{\"port_in\":\"service-access-point:out\"}," \
    "\"actions\":{\"output_to_port\":\"sf:" x ":b\"}}," \
    "{\"id\":\"r4\",\"match\":{\"port_in\":\"sf:" x ":b\"}," \
    "\"actions\":{\"output_to_port\":\"service-access-point:out\"}}"
#define TWO_PORTS "\"ports\":[{\"id\":\"a\"},{\"id\":\"b\"}]"

static int
setup_sub(void **state)
{
    (void) state;
    _cleanup_free_ char *dir = xasprintf("%s/sub", scratch);
    _cleanup_free_ char *tdir = xasprintf("%s/templates", dir);
    mkdir(dir, 0755);
    mkdir(tdir, 0755);
    write_file(tdir, "fw.json", "{\"id\":\"fw-dummy\",\"functional-"
               "capability\":\"firewall\",\"engine\":\"dummy\",\"ports\":"
               "[{\"name\":\"eth0\"},{\"name\":\"eth1\"}],\"config_schema\":"
               "{\"type\":\"object\",\"required\":[\"default\"]}}");
    /* security: in -> fw -> nat -> out, with a default config. */
    sub_template(tdir, "sec", "security",
        "{\"id\":\"fw\",\"name\":\"firewall\",\"config\":{\"default\":"
        "\"deny\"}," TWO_PORTS "},"
        "{\"id\":\"nat\",\"name\":\"nat\"," TWO_PORTS "}",
        "{\"id\":\"i1\",\"match\":{\"port_in\":\"service-access-point:in\"},"
        "\"actions\":{\"output_to_port\":\"sf:fw:a\"}},"
        "{\"id\":\"i2\",\"match\":{\"port_in\":\"sf:fw:a\"},"
        "\"actions\":{\"output_to_port\":\"service-access-point:in\"}},"
        "{\"id\":\"m1\",\"priority\":7,\"match\":{\"port_in\":\"sf:fw:b\"},"
        "\"actions\":{\"output_to_port\":\"sf:nat:a\"}},"
        "{\"id\":\"m2\",\"match\":{\"port_in\":\"sf:nat:a\"},"
        "\"actions\":{\"output_to_port\":\"sf:fw:b\"}},"
        "{\"id\":\"o1\",\"match\":{\"port_in\":\"sf:nat:b\"},"
        "\"actions\":{\"output_to_port\":\"service-access-point:out\"}},"
        "{\"id\":\"o2\",\"match\":{\"port_in\":\"service-access-point:out\"},"
        "\"actions\":{\"output_to_port\":\"sf:nat:b\"}}");
    /* Two levels: an SF "s" taking capability security. */
    sub_template(tdir, "wrap", "wrapped",
                 "{\"id\":\"s\",\"name\":\"security\"," TWO_PORTS "}",
                 ONE_SF_RULES("s"));
    /* A cycle: cyc-a -> cyc-b -> cyc-a. */
    sub_template(tdir, "cyc-a", "cyc",
                 "{\"id\":\"x\",\"name\":\"y\",\"template\":\"cyc-b\","
                 TWO_PORTS "}", ONE_SF_RULES("x"));
    sub_template(tdir, "cyc-b", "cyc2",
                 "{\"id\":\"x\",\"name\":\"y\",\"template\":\"cyc-a\","
                 TWO_PORTS "}", ONE_SF_RULES("x"));
    /* Ten levels: deep-0 -> deep-1 -> ... -> deep-9 (atomic). */
    for (int i = 0; i < 10; i++) {
        char id[16], sf[128];
        snprintf(id, sizeof id, "deep-%d", i);
        if (i < 9)
            snprintf(sf, sizeof sf, "{\"id\":\"d\",\"name\":\"deep\","
                     "\"template\":\"deep-%d\"," TWO_PORTS "}", i + 1);
        else
            snprintf(sf, sizeof sf, "{\"id\":\"d\",\"name\":\"leaf\","
                     TWO_PORTS "}");
        sub_template(tdir, id, "deep", sf, ONE_SF_RULES("d"));
    }
    /* A SAP reached by a rule with a match: not a plain join. */
    sub_template(tdir, "bad-join", "badjoin",
                 "{\"id\":\"x\",\"name\":\"y\"," TWO_PORTS "}",
                 "{\"id\":\"j1\",\"match\":{\"port_in\":"
                 "\"service-access-point:in\",\"ether_type\":2048},"
                 "\"actions\":{\"output_to_port\":\"sf:x:a\"}}");
    /* SAP out joined to nothing. */
    sub_template(tdir, "half", "half",
                 "{\"id\":\"x\",\"name\":\"y\"," TWO_PORTS "}",
                 "{\"id\":\"j1\",\"match\":{\"port_in\":"
                 "\"service-access-point:in\"},"
                 "\"actions\":{\"output_to_port\":\"sf:x:a\"}}");
    /* An inner SF id long enough that the prefix makes it too long. */
    char lid[63], lsf[256], lrule[512];
    memset(lid, 'x', sizeof lid - 1);
    lid[sizeof lid - 1] = '\0';
    snprintf(lsf, sizeof lsf, "{\"id\":\"%s\",\"name\":\"y\","
             TWO_PORTS "}", lid);
    snprintf(lrule, sizeof lrule, "{\"id\":\"j1\",\"match\":{\"port_in\":"
             "\"service-access-point:in\"},\"actions\":{\"output_to_port"
             "\":\"sf:%s:a\"}},{\"id\":\"j2\",\"match\":{\"port_in\":"
             "\"service-access-point:out\"},\"actions\":{\"output_to_port"
             "\":\"sf:%s:b\"}}", lid, lid);
    sub_template(tdir, "long", "long", lsf, lrule);
    struct corch_err err = { .path = "", .msg = "" };
    _cleanup_free_ char *state_dir = xasprintf("%s/state-sub", scratch);
    return open_repo(dir, NULL, state_dir, &sub_repo, &err);
}

static int
teardown_sub(void **state)
{
    (void) state;
    repository_close(sub_repo);
    return 0;
}

/* SAP lan -> SF "sec" (name 'cap', template 'tmpl' or none) -> SAP wan,
 * both ways; 'config' is the SF's config member or "". */
static struct graph *
outer_graph(const char *cap, const char *tmpl, const char *config)
{
    char text[2048];
    snprintf(text, sizeof text,
        "{\"sffg\":{\"id\":\"g\",\"SFs\":[{\"id\":\"sec\",\"name\":\"%s\"%s%s%s"
        "%s," TWO_PORTS "}],\"saps\":["
        "{\"id\":\"lan\",\"type\":\"interface\",\"interface\":{\"if-name\":"
        "\"eth1\"}},{\"id\":\"wan\",\"type\":\"interface\",\"interface\":"
        "{\"if-name\":\"eth2\"}}],\"flowrules\":["
        "{\"id\":\"r1\",\"priority\":10,\"match\":{\"port_in\":"
        "\"service-access-point:lan\",\"ether_type\":2048},"
        "\"actions\":{\"output_to_port\":\"sf:sec:a\"}},"
        "{\"id\":\"r2\",\"match\":{\"port_in\":\"sf:sec:a\"},"
        "\"actions\":{\"output_to_port\":\"service-access-point:lan\"}},"
        "{\"id\":\"r3\",\"match\":{\"port_in\":\"sf:sec:b\"},"
        "\"actions\":{\"output_to_port\":\"service-access-point:wan\"}},"
        "{\"id\":\"r4\",\"match\":{\"port_in\":\"service-access-point:wan\"},"
        "\"actions\":{\"output_to_port\":\"sf:sec:b\"}}]}}",
        cap, tmpl ? ",\"template\":\"" : "", tmpl ? tmpl : "",
        tmpl ? "\"" : "", config);
    struct graph *g = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    if (graph_parse(text, strlen(text), 64, NULL, &g, &err) < 0)
        fail_msg("graph_parse: %s", err.msg);
    return g;
}

static int
expand_graph(const struct graph *g, struct graph **ret, struct corch_err *err)
{
    struct resolver_env env = { .repo = sub_repo, .cores_total = 2,
                                .memory_mb_free = 1000 };
    memset(err, 0, sizeof *err);
    *ret = NULL;
    return resolver_expand(&env, g, ret, err);
}

/* "rule: in -> out, out..." for rule 'id' of 'g'. */
static void
rule_text(const struct graph *g, const char *id, char *buf, size_t size)
{
    const struct graph_flowrule *r = graph_find_flowrule(g, id);
    if (!r)
        fail_msg("no rule %s", id);
    graph_port_ref_format(g, &r->port_in, buf, size);
    for (size_t o = 0; o < r->n_outputs; o++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, " -> ");
        len = strlen(buf);
        graph_port_ref_format(g, &r->outputs[o], buf + len, size - len);
    }
}

static void
test_expand_none(void **state)
{
    (void) state;
    struct corch_err err;
    struct graph *g = outer_graph("firewall", NULL, ""), *f = NULL;
    assert_int_equal(expand_graph(g, &f, &err), 0);
    assert_null(f);
    graph_free(g);
}

static void
test_expand_stitch(void **state)
{
    (void) state;
    struct corch_err err;
    struct graph *g = outer_graph("security", NULL,
        ",\"config\":{\"fw\":{\"default\":\"allow\"}}"), *f = NULL;
    assert_int_equal(expand_graph(g, &f, &err), 0);
    assert_non_null(f);
    assert_int_equal(f->n_sfs, 2);
    assert_string_equal(f->sfs[0].id, "sec.fw");
    assert_string_equal(f->sfs[0].name, "firewall");
    assert_string_equal(f->sfs[1].id, "sec.nat");
    /* The outer config replaced the subgraph's for fw. */
    assert_string_equal(json_object_get_string(
        json_object_object_get(f->sfs[0].config, "default")), "allow");
    assert_null(f->sfs[1].config);
    assert_int_equal(f->n_saps, 2);
    /* Outer rules now lead to the inner ports; the joining rules are
     * gone; the middle rules are prefixed. */
    assert_int_equal(f->n_flowrules, 6);
    char buf[256];
    rule_text(f, "r1", buf, sizeof buf);
    assert_string_equal(buf, "service-access-point:lan -> sf:sec.fw:a");
    assert_int_equal(graph_find_flowrule(f, "r1")->priority, 10);
    assert_true(graph_find_flowrule(f, "r1")->match.fields != 0);
    rule_text(f, "r2", buf, sizeof buf);
    assert_string_equal(buf, "sf:sec.fw:a -> service-access-point:lan");
    rule_text(f, "r3", buf, sizeof buf);
    assert_string_equal(buf, "sf:sec.nat:b -> service-access-point:wan");
    rule_text(f, "r4", buf, sizeof buf);
    assert_string_equal(buf, "service-access-point:wan -> sf:sec.nat:b");
    rule_text(f, "sec.m1", buf, sizeof buf);
    assert_string_equal(buf, "sf:sec.fw:b -> sf:sec.nat:a");
    assert_int_equal(graph_find_flowrule(f, "sec.m1")->priority, 7);
    rule_text(f, "sec.m2", buf, sizeof buf);
    assert_string_equal(buf, "sf:sec.nat:a -> sf:sec.fw:b");
    assert_null(graph_find_flowrule(f, "sec.i1"));

    /* The flattened graph resolves: fw to its template, nat to dummy. */
    struct resolver_env env = { .repo = sub_repo, .cores_total = 2,
                                .memory_mb_free = 1000 };
    struct resolver_choice *c = NULL;
    assert_int_equal(resolver_resolve(&env, f, NULL, &c, &err), 0);
    assert_string_equal(c[0].tmpl->id, "fw-dummy");
    resolver_choices_free(c, f->n_sfs);
    graph_free(f);
    graph_free(g);

    /* The subgraph's default config for fw is checked like any other. */
    g = outer_graph("security", "sec", "");
    assert_int_equal(expand_graph(g, &f, &err), 0);
    assert_string_equal(json_object_get_string(
        json_object_object_get(f->sfs[0].config, "default")), "deny");
    graph_free(f);
    graph_free(g);
}

static void
test_expand_nested(void **state)
{
    (void) state;
    struct corch_err err;
    struct graph *g = outer_graph("wrapped", NULL, ""), *f = NULL;
    assert_int_equal(expand_graph(g, &f, &err), 0);
    assert_int_equal(f->n_sfs, 2);
    assert_string_equal(f->sfs[0].id, "sec.s.fw");
    assert_string_equal(f->sfs[1].id, "sec.s.nat");
    char buf[256];
    rule_text(f, "r1", buf, sizeof buf);
    assert_string_equal(buf, "service-access-point:lan -> sf:sec.s.fw:a");
    rule_text(f, "r3", buf, sizeof buf);
    assert_string_equal(buf, "sf:sec.s.nat:b -> service-access-point:wan");
    rule_text(f, "sec.s.m1", buf, sizeof buf);
    assert_string_equal(buf, "sf:sec.s.fw:b -> sf:sec.s.nat:a");
    graph_free(f);
    graph_free(g);
}

static void
test_expand_errors(void **state)
{
    (void) state;
    struct corch_err err;
    struct graph *g, *f = NULL;

    g = outer_graph("cyc", NULL, "");
    assert_int_equal(expand_graph(g, &f, &err), -ENOPKG);
    assert_null(f);
    assert_string_equal(err.path, "sffg.SFs[0].name");
    assert_non_null(strstr(err.msg, "template cycle: cyc-a -> cyc-b -> cyc-a"));
    graph_free(g);

    g = outer_graph("deep", "deep-0", "");
    assert_int_equal(expand_graph(g, &f, &err), -ENOPKG);
    assert_string_equal(err.path, "sffg.SFs[0].template");
    assert_non_null(strstr(err.msg, "nested more than 8 deep"));
    assert_non_null(strstr(err.msg, "deep-0 -> deep-1 -> deep-2"));
    assert_non_null(strstr(err.msg, "deep-8"));
    graph_free(g);
    /* Eight levels are fine. */
    g = outer_graph("deep", "deep-2", "");
    assert_int_equal(expand_graph(g, &f, &err), 0);
    assert_string_equal(f->sfs[0].id, "sec.d.d.d.d.d.d.d.d");
    graph_free(f);
    graph_free(g);

    g = outer_graph("badjoin", NULL, "");
    assert_int_equal(expand_graph(g, &f, &err), -ENOPKG);
    assert_non_null(strstr(err.msg, "template bad-join: subgraph flowrule "
                                    "'j1'"));
    graph_free(g);

    g = outer_graph("half", NULL, "");
    assert_int_equal(expand_graph(g, &f, &err), -ENOPKG);
    assert_non_null(strstr(err.msg, "subgraph SAP 'out' (port 2 of the SF) "
                                    "is joined to no SF port"));
    graph_free(g);

    g = outer_graph("long", NULL, "");
    assert_int_equal(expand_graph(g, &f, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "subgraph templates expanded is not "
                                    "valid"));
    graph_free(g);

    /* The outer config is checked against nothing here (no schema on
     * "sec"), but an inner config that breaks the inner template's schema
     * is found by the resolver, naming the inner SF. */
    g = outer_graph("security", NULL, ",\"config\":{\"fw\":{\"x\":1}}");
    assert_int_equal(expand_graph(g, &f, &err), 0);
    struct resolver_env env = { .repo = sub_repo, .cores_total = 2,
                                .memory_mb_free = 1000 };
    struct resolver_choice *c = NULL;
    assert_int_equal(resolver_resolve(&env, f, NULL, &c, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "sf 'sec.fw'"));
    graph_free(f);
    graph_free(g);
}

/* 500 security SFs in a chain: 1000 SFs after the expansion.  Prints the
 * time (a figure, never a failure). */
static void
test_expand_many(void **state)
{
    (void) state;
    enum { N = 500 };
    size_t size = 256 * N + 256, len = 0;
    char *text = xmalloc(size);
    len += (size_t) snprintf(text + len, size - len,
                             "{\"sffg\":{\"id\":\"g\",\"SFs\":[");
    for (int i = 0; i < N; i++)
        len += (size_t) snprintf(text + len, size - len,
                                 "%s{\"id\":\"s%d\",\"name\":\"security\","
                                 TWO_PORTS "}", i ? "," : "", i);
    len += (size_t) snprintf(text + len, size - len, "],\"flowrules\":[");
    for (int i = 0; i + 1 < N; i++)
        len += (size_t) snprintf(text + len, size - len,
                                 "%s{\"id\":\"c%d\",\"match\":{\"port_in\":"
                                 "\"sf:s%d:b\"},\"actions\":{\"output_to_port\":"
                                 "\"sf:s%d:a\"}}", i ? "," : "", i, i, i + 1);
    snprintf(text + len, size - len, "]}}");
    struct graph *g = NULL, *f = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(graph_parse(text, strlen(text), 64, NULL, &g, &err), 0);
    free(text);
    uint64_t t0 = time_ns();
    assert_int_equal(expand_graph(g, &f, &err), 0);
    uint64_t t1 = time_ns();
    assert_int_equal(f->n_sfs, 2 * N);
    assert_int_equal(f->n_flowrules, (N - 1) + 2 * N);
    char buf[256];
    rule_text(f, "c0", buf, sizeof buf);
    assert_string_equal(buf, "sf:s0.nat:b -> sf:s1.fw:a");
    printf("# expand: %d security SFs -> %zu SFs, %zu rules in %.1f ms "
           "(%.1f us per subgraph SF)\n", N, f->n_sfs, f->n_flowrules,
           (double) (t1 - t0) / 1e6, (double) (t1 - t0) / 1e3 / N);
    graph_free(f);
    graph_free(g);
}

int
main(void)
{
    const struct CMUnitTest remote[] = {
        cmocka_unit_test(test_remote_load),
        cmocka_unit_test(test_remote_bad_config),
        cmocka_unit_test(test_remote_image),
        cmocka_unit_test(test_remote_refresh),
    };
    const struct CMUnitTest sub[] = {
        cmocka_unit_test(test_expand_none),
        cmocka_unit_test(test_expand_stitch),
        cmocka_unit_test(test_expand_nested),
        cmocka_unit_test(test_expand_errors),
        cmocka_unit_test(test_expand_many),
    };
    int failed = 0;
    if (setup(NULL))
        return 1;
    failed += cmocka_run_group_tests_name("remote", remote, NULL, NULL);
    failed += cmocka_run_group_tests_name("subgraph", sub, setup_sub,
                                          teardown_sub);
    teardown(NULL);
    return failed;
}
