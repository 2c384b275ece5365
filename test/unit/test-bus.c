/* Unit tests of the bus publisher (bus.c) and of the description document
 * (node.c), without an nrm: the publisher gets a hand-made description. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <czmq.h>
#undef LOG_ERR
#undef LOG_INFO
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus.h"
#include "corch-config.h"
#include "node.h"
#include "util.h"

/* ------------------------------------------------ a hand-made node --- */

static pthread_mutex_t fake_mutex = PTHREAD_MUTEX_INITIALIZER;
static unsigned int fake_cores_free = 4; /* Changed by the tests. */
static unsigned int fake_graphs;        /* Number of graphs shown. */
static unsigned int fake_probes;        /* Calls of the probe hook. */

static void
fake_info(struct node_info *info)
{
    memset(info, 0, sizeof *info);
    info->id = xstrdup("bus-test-node");
    info->name = xstrdup("bus test node");
    info->mgmt_address = xstrdup("127.0.0.1");
    info->mgmt_port = 8080;
    info->n_endpoints = 1;
    info->endpoints = xcalloc(1, sizeof *info->endpoints);
    struct node_endpoint *e = &info->endpoints[0];
    e->name = xstrdup("eth-bus0");
    e->present = true;
    e->mac = xstrdup("02:00:00:00:00:01");
    e->ipv4 = xcalloc(2, sizeof *e->ipv4);
    e->ipv4[0] = xstrdup("10.0.0.1/24");
    e->neighbour = xstrdup("node-b");
    e->vlan = true;
    uint16_t used[] = { 100, 200, 201 };
    e->vlans_free = node_vlan_free_ranges(used, 3);
    e->gre = true;
    info->n_capabilities = 1;
    info->capabilities = xcalloc(1, sizeof *info->capabilities);
    struct node_capability *c = &info->capabilities[0];
    c->name = xstrdup("firewall");
    c->n_templates = 2;
    c->templates = xcalloc(2, sizeof *c->templates);
    c->templates[0].id = xstrdup("firewall-native");
    c->templates[0].engine = xstrdup("native");
    c->templates[0].ready = true;
    c->templates[1].id = xstrdup("firewall-docker");
    c->templates[1].engine = xstrdup("docker");
    c->ready = true;
    info->arch = xstrdup("x86_64");
    info->vswitch = xstrdup("dummy");
    info->sap_types = xcalloc(3, sizeof *info->sap_types);
    info->sap_types[0] = xstrdup("interface");
    info->sap_types[1] = xstrdup("vlan");
    info->n_engines = 2;
    info->engines = xcalloc(2, sizeof *info->engines);
    info->engines[0].type = xstrdup("native");
    info->engines[0].usable = true;
    info->engines[1].type = xstrdup("docker");
    info->engines[1].why = xstrdup("docker: not found");
    pthread_mutex_lock(&fake_mutex);
    info->cores_total = 8;
    info->cores_free = fake_cores_free;
    info->n_graphs = fake_graphs;
    pthread_mutex_unlock(&fake_mutex);
    info->memory_mb_total = 4096;
    info->memory_mb_free = 2048;
    info->load[0] = 0.25;
    info->load[1] = 0.5;
    info->load[2] = 0.75;
    info->graphs = xcalloc(info->n_graphs + 1, sizeof *info->graphs);
    for (size_t i = 0; i < info->n_graphs; i++) {
        info->graphs[i].id = xasprintf("g%zu", i);
        info->graphs[i].status = xstrdup("running");
    }
}

static json_object *
fake_describe(void *aux)
{
    struct node_info info;
    fake_info(&info);
    json_object *d = node_info_to_json(&info);
    node_info_clear(&info);
    return d;
}

static void
fake_probe(void *aux)
{
    pthread_mutex_lock(&fake_mutex);
    fake_probes++;
    pthread_mutex_unlock(&fake_mutex);
}

static void
fake_set(unsigned int cores_free, unsigned int graphs)
{
    pthread_mutex_lock(&fake_mutex);
    fake_cores_free = cores_free;
    fake_graphs = graphs;
    pthread_mutex_unlock(&fake_mutex);
}

static struct bus_options
opts_for(const char *endpoint)
{
    struct bus_options o = {
        .endpoint = endpoint,
        .topic_prefix = "bustest",
        .node_id = "bus-test-node",
        .resource_step = 10,
        .describe = fake_describe,
        .probe = fake_probe,
    };
    return o;
}

/* ------------------------------------------------------- subscriber --- */

/* One received message. */
struct rx {
    char *topic;                /* First frame. */
    json_object *msg;           /* Second frame, parsed. */
    uint64_t at_ms;             /* Arrival (monotonic). */
};

static void
rx_clear(struct rx *r)
{
    free(r->topic);
    json_object_put(r->msg);
    memset(r, 0, sizeof *r);
}

static zsock_t *
sub_open(const char *endpoint, const char *topic)
{
    zsock_t *s = zsock_new(ZMQ_SUB);
    assert_non_null(s);
    zsock_set_subscribe(s, topic);
    assert_int_equal(zsock_connect(s, "%s", endpoint), 0);
    return s;
}

/* Waits up to 'ms' for a message.  Returns false on timeout. */
static bool
sub_recv(zsock_t *s, int ms, struct rx *ret)
{
    zmq_pollitem_t item = { zsock_resolve(s), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&item, 1, ms) <= 0)
        return false;
    zmsg_t *m = zmsg_recv(s);
    assert_non_null(m);
    assert_int_equal(zmsg_size(m), 2);
    char *topic = zmsg_popstr(m);
    char *body = zmsg_popstr(m);
    ret->topic = topic;
    ret->msg = json_tokener_parse(body);
    ret->at_ms = time_ms();
    assert_non_null(ret->msg);
    free(body);
    zmsg_destroy(&m);
    return true;
}

static const char *
msg_str(json_object *m, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(m, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t
msg_int(json_object *m, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(m, key, &v) ? json_object_get_int64(v) : -1;
}

/* Receives until a message on 'topic' arrives (others are skipped). */
static bool
sub_recv_topic(zsock_t *s, const char *topic, int ms, struct rx *ret)
{
    uint64_t deadline = time_ms() + (uint64_t) ms;
    while (time_ms() < deadline) {
        struct rx r = { 0 };
        if (!sub_recv(s, (int) (deadline - time_ms()) + 1, &r))
            return false;
        if (!strcmp(r.topic, topic)) {
            *ret = r;
            return true;
        }
        rx_clear(&r);
    }
    return false;
}

/* ------------------------------------------------------ pure parts --- */

static void
check_ranges(const uint16_t *used, size_t n, const char *expect)
{
    char **v = node_vlan_free_ranges(used, n);
    char buf[256] = "";
    for (char **p = v; *p; p++) {
        if (p != v)
            strcat(buf, ",");
        strcat(buf, *p);
    }
    assert_string_equal(buf, expect);
    strv_free(v);
}

static void
test_vlan_ranges(void **state)
{
    check_ranges(NULL, 0, "1-4094");
    uint16_t a[] = { 100 };
    check_ranges(a, 1, "1-99,101-4094");
    uint16_t b[] = { 1, 2, 4094 };
    check_ranges(b, 3, "3-4093");
    uint16_t c[] = { 5, 5, 7 };     /* Duplicates are harmless. */
    check_ranges(c, 3, "1-4,6,8-4094");
    uint16_t d[] = { 1, 4094 };
    check_ranges(d, 2, "2-4093");
}

static void
test_neighbours(void **state)
{
    char *n = node_neighbour_of("eth0=node-b, eth1 = node-c,bad", "eth1");
    assert_non_null(n);
    assert_string_equal(n, "node-c");
    free(n);
    n = node_neighbour_of("eth0=node-b", "eth0");
    assert_string_equal(n, "node-b");
    free(n);
    assert_null(node_neighbour_of("eth0=node-b", "eth9"));
    assert_null(node_neighbour_of(NULL, "eth0"));
}

/* Runs python3-jsonschema on 'doc' against the shipped schema. */
static int
validate_with_schema(json_object *doc)
{
    char path[] = "/tmp/bus-test-doc.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *s = json_object_to_json_string(doc);
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t) strlen(s));
    close(fd);
    pid_t pid = fork();
    if (pid == 0) {
        /* The expected failures would only clutter the test log. */
        if (!freopen("/dev/null", "w", stderr))
            _exit(126);
        execl("/usr/bin/python3", "python3", "-c",
              "import json,sys,jsonschema\n"
              "s=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2]))\n"
              "jsonschema.validate(d, s)\n",
              TOP_SRCDIR "/schemas/node-description.schema.json", path, (char *) NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_description_schema(void **state)
{
    if (access("/usr/bin/python3", X_OK) < 0)
        skip();
    json_object *d = fake_describe(NULL);
    assert_int_equal(validate_with_schema(d), 0);

    json_object *eps, *ep, *vlan, *free_;
    assert_true(json_object_object_get_ex(d, "big_switch", &eps));
    assert_true(json_object_object_get_ex(eps, "endpoints", &eps));
    ep = json_object_array_get_idx(eps, 0);
    assert_true(json_object_object_get_ex(ep, "vlan", &vlan));
    assert_true(json_object_object_get_ex(vlan, "free", &free_));
    assert_string_equal(json_object_to_json_string_ext(free_, JSON_C_TO_STRING_PLAIN),
                        "[\"1-99\",\"101-199\",\"202-4094\"]");
    assert_string_equal(msg_str(ep, "neighbour_domain"), "node-b");

    /* A broken document is refused (the check is not vacuous). */
    json_object_object_add(d, "node_id", json_object_new_int(3));
    assert_int_not_equal(validate_with_schema(d), 0);
    json_object_put(d);

    /* An empty node is still a valid description. */
    struct node_info empty;
    memset(&empty, 0, sizeof empty);
    empty.id = xstrdup("n1");
    empty.name = xstrdup("n1");
    empty.mgmt_address = xstrdup("::1");
    empty.mgmt_port = 1;
    d = node_info_to_json(&empty);
    assert_int_equal(validate_with_schema(d), 0);
    json_object *mgmt;
    assert_true(json_object_object_get_ex(d, "management", &mgmt));
    assert_string_equal(msg_str(mgmt, "url"), "http://[::1]:1");
    json_object_put(d);
    node_info_clear(&empty);
}

static void
test_signature(void **state)
{
    fake_set(4, 0);
    json_object *a = fake_describe(NULL);
    fake_set(4, 0);
    json_object *b = fake_describe(NULL);
    json_object *res;
    json_object_object_get_ex(b, "resources", &res);
    json_object_object_add(res, "cpu_load", NULL);
    char *sa = bus_description_signature(a, 10);
    char *sb = bus_description_signature(b, 10);
    /* Load inside the same bucket (both under 10% of 8 cores): same. */
    json_object *load = json_object_new_object();
    json_object_object_add(load, "1m", json_object_new_double(0.3));
    json_object_object_add(res, "cpu_load", load);
    free(sb);
    sb = bus_description_signature(b, 10);
    assert_string_equal(sa, sb);
    /* Crossing a step: different. */
    json_object_object_add(res, "cores_free", json_object_new_int(2));
    free(sb);
    sb = bus_description_signature(b, 10);
    assert_string_not_equal(sa, sb);
    /* Step 0: resources never count. */
    free(sa);
    free(sb);
    sa = bus_description_signature(a, 0);
    sb = bus_description_signature(b, 0);
    assert_string_equal(sa, sb);
    free(sa);
    free(sb);
    json_object_put(a);
    json_object_put(b);
}

/* ------------------------------------------------------- publishing --- */

static void
expect_description(const struct rx *r, const char *reason)
{
    assert_string_equal(r->topic, "bustest:domain-description");
    assert_string_equal(msg_str(r->msg, "node_id"), "bus-test-node");
    assert_true(msg_int(r->msg, "seq") > 0);
    const char *ts = msg_str(r->msg, "timestamp");
    assert_non_null(ts);
    assert_int_equal(strlen(ts), strlen("2026-01-01T00:00:00.000Z"));
    if (reason)
        assert_string_equal(msg_str(r->msg, "reason"), reason);
    json_object *d;
    assert_true(json_object_object_get_ex(r->msg, "description", &d));
    assert_string_equal(msg_str(d, "node_id"), "bus-test-node");
}

/* Publish / receive, events, order and seq on one endpoint. */
static void
run_publish(const char *endpoint)
{
    fake_set(4, 0);
    struct bus_options o = opts_for(endpoint);
    struct bus *bus = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(bus_open(&o, &bus, &err), 0);

    zsock_t *sub = sub_open(endpoint, "bustest:");
    struct rx r = { 0 };
    /* The subscription itself brings the description (the start-up one
     * went out before anyone listened, unless inproc connected first:
     * then both come). */
    assert_true(sub_recv(sub, 1000, &r));
    expect_description(&r, NULL);
    int64_t seq = msg_int(r.msg, "seq");
    rx_clear(&r);
    while (sub_recv(sub, 100, &r)) {
        expect_description(&r, "subscription");
        assert_true(msg_int(r.msg, "seq") > seq);
        seq = msg_int(r.msg, "seq");
        rx_clear(&r);
    }

    fake_set(4, 1);
    bus_notify_event(bus, "deployed", "g0", NULL);
    assert_true(sub_recv(sub, 1000, &r));
    assert_string_equal(r.topic, "bustest:graph-event");
    assert_true(msg_int(r.msg, "seq") > seq);
    seq = msg_int(r.msg, "seq");
    json_object *ev;
    assert_true(json_object_object_get_ex(r.msg, "event", &ev));
    assert_string_equal(msg_str(ev, "type"), "deployed");
    assert_string_equal(msg_str(ev, "graph_id"), "g0");
    assert_null(msg_str(ev, "error"));
    rx_clear(&r);
    assert_true(sub_recv(sub, 1000, &r));
    expect_description(&r, "change");
    assert_true(msg_int(r.msg, "seq") > seq);
    seq = msg_int(r.msg, "seq");
    json_object *d, *graphs;
    json_object_object_get_ex(r.msg, "description", &d);
    json_object_object_get_ex(d, "graphs", &graphs);
    assert_int_equal(json_object_array_length(graphs), 1);
    rx_clear(&r);

    bus_notify_event(bus, "failed", "g1", "compute: start failed");
    assert_true(sub_recv(sub, 1000, &r));
    json_object_object_get_ex(r.msg, "event", &ev);
    assert_string_equal(msg_str(ev, "type"), "failed");
    assert_string_equal(msg_str(ev, "error"), "compute: start failed");
    assert_true(msg_int(r.msg, "seq") > seq);
    rx_clear(&r);
    assert_true(sub_recv(sub, 1000, &r));
    expect_description(&r, "change");
    assert_int_equal((int64_t) bus_last_seq(bus), msg_int(r.msg, "seq"));
    rx_clear(&r);

    zsock_destroy(&sub);
    bus_close(bus);
}

static void
test_publish_inproc(void **state)
{
    run_publish("inproc://bus-test-pub");
}

static void
test_publish_ipc(void **state)
{
    char ep[128];
    snprintf(ep, sizeof ep, "ipc:///tmp/bus-test-%d.sock", (int) getpid());
    run_publish(ep);
    unlink(ep + strlen("ipc://"));
}

/* A subscriber joining long after the last change gets the description
 * at once; so does a second one on the same topic (XPUB_VERBOSE). */
static void
test_late_joiner(void **state)
{
    fake_set(4, 2);
    const char *ep = "inproc://bus-test-late";
    struct bus_options o = opts_for(ep);
    o.heartbeat_ms = 60000;     /* Not what brings it. */
    struct bus *bus;
    assert_int_equal(bus_open(&o, &bus, NULL), 0);
    usleep(300 * 1000);

    for (int i = 0; i < 2; i++) {
        uint64_t t0 = time_ms();
        zsock_t *sub = sub_open(ep, "bustest:domain-description");
        struct rx r = { 0 };
        /* "At once": the e2e test holds the real daemon to 100 ms; here
         * leave room for valgrind and a loaded machine. */
        assert_true(sub_recv(sub, 250, &r));
        assert_true(r.at_ms - t0 <= 250);
        expect_description(&r, "subscription");
        rx_clear(&r);
        zsock_destroy(&sub);
    }
    /* A subscriber to graph events only does not trigger a description. */
    zsock_t *ev_sub = sub_open(ep, "bustest:graph-event");
    struct rx r = { 0 };
    assert_false(sub_recv(ev_sub, 200, &r));
    zsock_destroy(&ev_sub);
    bus_close(bus);
}

static void
test_heartbeat_and_check(void **state)
{
    fake_set(4, 0);
    const char *ep = "inproc://bus-test-hb";
    struct bus_options o = opts_for(ep);
    o.heartbeat_ms = 150;
    o.check_interval_ms = 50;
    struct bus *bus;
    assert_int_equal(bus_open(&o, &bus, NULL), 0);
    zsock_t *sub = sub_open(ep, "bustest:domain-description");
    struct rx r = { 0 };
    /* Nothing changes: after the first one(s), heartbeats. */
    bool heartbeat = false;
    for (int i = 0; i < 4 && !heartbeat; i++) {
        assert_true(sub_recv(sub, 1000, &r));
        expect_description(&r, NULL);
        heartbeat = !strcmp(msg_str(r.msg, "reason"), "heartbeat");
        rx_clear(&r);
    }
    assert_true(heartbeat);
    /* A resource crossing a step is noticed by the periodic check without
     * anyone telling the bus. */
    fake_set(1, 0);
    bool changed = false;
    for (int i = 0; i < 5 && !changed; i++) {
        assert_true(sub_recv(sub, 1000, &r));
        changed = !strcmp(msg_str(r.msg, "reason"), "change");
        rx_clear(&r);
    }
    assert_true(changed);
    pthread_mutex_lock(&fake_mutex);
    assert_true(fake_probes > 0);
    pthread_mutex_unlock(&fake_mutex);
    zsock_destroy(&sub);
    bus_close(bus);
}

/* The nrm calls the listener from many deploy threads at once: queuing
 * must be safe and must never wait for the network. */
static void *
notifier(void *bus)
{
    for (int i = 0; i < 500; i++)
        bus_notify_event(bus, "updated", "g-many", NULL);
    return NULL;
}

static void
test_notify_never_blocks(void **state)
{
    const char *ep = "inproc://bus-test-many";
    struct bus_options o = opts_for(ep);
    struct bus *bus;
    assert_int_equal(bus_open(&o, &bus, NULL), 0);
    zsock_t *sub = sub_open(ep, "bustest:graph-event");
    usleep(100 * 1000);
    uint64_t t0 = time_ns();
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, notifier, bus);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    uint64_t dt = time_ns() - t0;
    assert_true(dt < 1000ull * 1000 * 1000);    /* 2000 calls well under 1 s. */
    int n = 0;
    int64_t last = 0;
    struct rx r = { 0 };
    while (n < 2000 && sub_recv(sub, 2000, &r)) {
        assert_true(msg_int(r.msg, "seq") > last);
        last = msg_int(r.msg, "seq");
        n++;
        rx_clear(&r);
    }
    assert_int_equal(n, 2000);
    zsock_destroy(&sub);
    bus_close(bus);
}

static void
test_open_errors(void **state)
{
    struct bus *bus = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    struct bus_options o = opts_for("bogus://nowhere");
    assert_true(bus_open(&o, &bus, &err) < 0);
    assert_string_equal(err.path, "bus.endpoint");
    assert_null(bus);

    memset(&err, 0, sizeof err);
    o = opts_for("inproc://bus-test-err");
    o.curve = true;
    assert_true(bus_open(&o, &bus, &err) < 0);
    assert_string_equal(err.path, "bus.curve_secret_key");

    memset(&err, 0, sizeof err);
    o.curve_secret_key = "/nonexistent/cert";
    assert_true(bus_open(&o, &bus, &err) < 0);
    assert_string_equal(err.path, "bus.curve_secret_key");

    memset(&err, 0, sizeof err);
    o = opts_for("");
    assert_true(bus_open(&o, &bus, &err) < 0);
    assert_string_equal(err.path, "bus.endpoint");
}

/* External mode through a broker like c-orch-broker (XSUB / XPUB with
 * XPUB_VERBOSE), run in-process: late joiners still get the description at
 * once, because the broker passes their subscriptions upstream. */
struct proxy {
    zsock_t *front, *back, *control; /* XSUB, XPUB, steering PAIR. */
    pthread_t thread;           /* Runs zmq_proxy_steerable. */
};

static void *
proxy_run(void *arg)
{
    struct proxy *p = arg;
    zmq_proxy_steerable(zsock_resolve(p->front), zsock_resolve(p->back), NULL,
                        zsock_resolve(p->control));
    return NULL;
}

static void
test_external_broker(void **state)
{
    struct proxy px;
    px.front = zsock_new(ZMQ_XSUB);
    px.back = zsock_new(ZMQ_XPUB);
    zsock_set_xpub_verbose(px.back, 1);
    assert_int_equal(zsock_bind(px.front, "inproc://bus-test-front"), 0);
    assert_int_equal(zsock_bind(px.back, "inproc://bus-test-back"), 0);
    zsock_t *ctl = zsock_new(ZMQ_PAIR);
    px.control = zsock_new(ZMQ_PAIR);
    assert_int_equal(zsock_bind(ctl, "inproc://bus-test-ctl"), 0);
    assert_int_equal(zsock_connect(px.control, "inproc://bus-test-ctl"), 0);
    pthread_create(&px.thread, NULL, proxy_run, &px);

    struct bus_options o = opts_for("inproc://bus-test-front");
    o.external = true;
    struct bus *bus;
    assert_int_equal(bus_open(&o, &bus, NULL), 0);
    usleep(200 * 1000);
    for (int i = 0; i < 2; i++) {
        uint64_t t0 = time_ms();
        zsock_t *sub = sub_open("inproc://bus-test-back", "bustest:");
        struct rx r = { 0 };
        assert_true(sub_recv_topic(sub, "bustest:domain-description", 1000, &r));
        assert_true(r.at_ms - t0 <= 250);
        expect_description(&r, "subscription");
        rx_clear(&r);
        zsock_destroy(&sub);
        usleep(100 * 1000);
    }
    bus_close(bus);
    zstr_send(ctl, "TERMINATE");
    pthread_join(px.thread, NULL);
    zsock_destroy(&ctl);
    zsock_destroy(&px.control);
    zsock_destroy(&px.front);
    zsock_destroy(&px.back);
}

/* ------------------------------------------------------------ CURVE --- */

static void
test_curve(void **state)
{
    char dir[] = "/tmp/bus-test-curve.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *clients = xasprintf("%s/clients", dir);
    assert_int_equal(mkdir(clients, 0700), 0);

    zcert_t *server = zcert_new();
    char *server_path = xasprintf("%s/server.cert", dir);
    assert_int_equal(zcert_save(server, server_path), 0);
    zcert_t *good = zcert_new(), *bad = zcert_new();
    char *good_pub = xasprintf("%s/good.cert", clients);
    assert_int_equal(zcert_save_public(good, good_pub), 0);

    char *ep = xasprintf("ipc://%s/bus.sock", dir);
    struct bus_options o = opts_for(ep);
    o.curve = true;
    o.curve_secret_key = server_path;
    o.curve_clients = clients;
    struct bus *bus;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(bus_open(&o, &bus, &err), 0);

    zsock_t *s_good = zsock_new(ZMQ_SUB), *s_bad = zsock_new(ZMQ_SUB);
    zsock_t *s_plain = sub_open(ep, "");
    zcert_apply(good, s_good);
    zcert_apply(bad, s_bad);
    zsock_set_curve_serverkey(s_good, zcert_public_txt(server));
    zsock_set_curve_serverkey(s_bad, zcert_public_txt(server));
    zsock_set_subscribe(s_good, "");
    zsock_set_subscribe(s_bad, "");
    assert_int_equal(zsock_connect(s_good, "%s", ep), 0);
    assert_int_equal(zsock_connect(s_bad, "%s", ep), 0);

    struct rx r = { 0 };
    assert_true(sub_recv(s_good, 2000, &r));
    expect_description(&r, NULL);
    rx_clear(&r);
    bus_notify_event(bus, "deleted", "g0", NULL);
    assert_true(sub_recv_topic(s_good, "bustest:graph-event", 2000, &r));
    rx_clear(&r);
    /* The unlisted key and the plain socket get nothing at all. */
    assert_false(sub_recv(s_bad, 500, &r));
    assert_false(sub_recv(s_plain, 10, &r));

    zsock_destroy(&s_good);
    zsock_destroy(&s_bad);
    zsock_destroy(&s_plain);
    bus_close(bus);
    zcert_destroy(&server);
    zcert_destroy(&good);
    zcert_destroy(&bad);
    char *secret = xasprintf("%s_secret", server_path);
    unlink(good_pub);
    unlink(server_path);
    unlink(secret);
    rmdir(clients);
    unlink(ep + strlen("ipc://"));
    rmdir(dir);
    free(secret);
    free(ep);
    free(good_pub);
    free(server_path);
    free(clients);
}

int
main(void)
{
    /* Keep czmq from taking SIGINT/SIGTERM, as in the daemon. */
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vlan_ranges),
        cmocka_unit_test(test_neighbours),
        cmocka_unit_test(test_description_schema),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_publish_inproc),
        cmocka_unit_test(test_publish_ipc),
        cmocka_unit_test(test_late_joiner),
        cmocka_unit_test(test_heartbeat_and_check),
        cmocka_unit_test(test_notify_never_blocks),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_external_broker),
        cmocka_unit_test(test_curve),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    zsys_shutdown();
    return r;
}
