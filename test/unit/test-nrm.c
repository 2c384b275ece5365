/* Tests of the node resource manager through the dummy drivers, with the
 * real store in a scratch directory: deploy / update / delete, a failure
 * injected at every step, update by diff, -EBUSY under concurrency,
 * restart, SAP conflicts, internal groups. */
#include <config.h>
#include "corch-config.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <unistd.h>
#include <cmocka.h>

#include "compute.h"
#include "compute/dummy/compute-dummy.h"
#include "graph.h"
#include "log.h"
#include "netmgr.h"
#include "nrm.h"
#include "store.h"
#include "vswitch/dummy/vswitch-dummy.h"

/* The dummy engine the daemon under test enabled (compute.drivers). */
#define DUMMY_ENGINE compute_engine_find("dummy")

static char tmpdir[64];
static struct corch_config cfg;
static struct store *store;
static struct nrm *nrm;
/* The dummy switch of the daemon under test (a new one per nrm_create). */
#define VS nrm_vswitch(nrm)

/* Events seen by the listener. */
static pthread_mutex_t ev_mutex = PTHREAD_MUTEX_INITIALIZER;
static unsigned int ev_count[4];

static void
listener(void *aux, const struct nrm_event *ev)
{
    (void) aux;
    pthread_mutex_lock(&ev_mutex);
    ev_count[ev->type]++;
    pthread_mutex_unlock(&ev_mutex);
}

/* The node's name tag: switch names are "cg" + tag + "<graph number>...". */
static char tag[3];

/* "cg<tag><rest>", in one of a few rotating buffers. */
static const char *
cg(const char *rest)
{
    static char bufs[4][32];
    static unsigned int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "cg%s%s", tag, rest);
    return b;
}

static void
start_nrm(void)
{
    struct corch_err err = { .path = "", .msg = "" };
    int r = nrm_create(&cfg, store, &nrm, &err);
    if (r)
        fail_msg("nrm_create: %s", err.msg);
    nrm_set_listener(nrm, listener, NULL);
    netmgr_node_tag(nrm_node_id(nrm), tag);
}

static int
setup(void **state)
{
    (void) state;
    struct corch_err err = { .path = "", .msg = "" };
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nrm-test-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    config_init(&cfg);
    char set[256];
    const char *sets[] = {
        "vswitch.driver=dummy", "vswitch.interfaces=eth0,eth1,eth2",
        "compute.drivers=dummy",
        "repository.path=" TOP_SRCDIR "/test/data/repository",
        "limits.max_graphs=50",
    };
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
        assert_int_equal(config_set(&cfg, sets[i], &err), 0);
    snprintf(set, sizeof set, "state.dir=%s", tmpdir);
    assert_int_equal(config_set(&cfg, set, &err), 0);
    char db[128];
    snprintf(db, sizeof db, "%s/state.db", tmpdir);
    assert_int_equal(store_open(db, &store, &err), 0);
    start_nrm();
    return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    remove(path);
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    nrm_destroy(nrm);
    store_close(store);
    config_destroy(&cfg);
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* A chain SAP a -> fw -> nat -> SAP b and back, plus a gre SAP into nat;
 * 'extra' adds an SF "mon" fed by a copy of the traffic into fw. */
static struct graph *
chain(const char *id, const char *if_a, const char *if_b, bool extra)
{
    char text[4096];
    snprintf(text, sizeof text,
        "{\"sffg\":{\"id\":\"%s\",\"name\":\"chain %s\",\"SFs\":["
        "{\"id\":\"fw\",\"name\":\"firewall\",\"ports\":[{\"id\":\"1\"},{\"id\":\"2\"}]},"
        "{\"id\":\"nat\",\"name\":\"nat\",\"ports\":[{\"id\":\"1\"},{\"id\":\"2\"}]}%s],"
        "\"saps\":["
        "{\"id\":\"a\",\"type\":\"interface\",\"interface\":{\"if-name\":\"%s\"}},"
        "{\"id\":\"b\",\"type\":\"vlan\",\"vlan\":{\"vlan-id\":42,\"if-name\":\"%s\"}},"
        "{\"id\":\"t\",\"type\":\"gre\",\"gre\":{\"local-ip\":\"10.0.0.1\","
        "\"remote-ip\":\"10.0.0.2\",\"gre-key\":7}}],"
        "\"flowrules\":["
        "{\"id\":\"r1\",\"priority\":10,\"match\":{\"port_in\":\"service-access-point:a\"},"
        "\"actions\":[{\"output_to_port\":\"sf:fw:1\"}%s]},"
        "{\"id\":\"r2\",\"priority\":10,\"match\":{\"port_in\":\"sf:fw:2\"},"
        "\"actions\":[{\"output_to_port\":\"sf:nat:1\"}]},"
        "{\"id\":\"r3\",\"priority\":10,\"match\":{\"port_in\":\"sf:nat:2\"},"
        "\"actions\":[{\"output_to_port\":\"service-access-point:b\"}]},"
        "{\"id\":\"r4\",\"priority\":10,\"match\":{\"port_in\":\"service-access-point:b\"},"
        "\"actions\":[{\"output_to_port\":\"sf:nat:2\"}]},"
        "{\"id\":\"r5\",\"priority\":10,\"match\":{\"port_in\":\"sf:nat:1\"},"
        "\"actions\":[{\"output_to_port\":\"sf:fw:2\"}]},"
        "{\"id\":\"r6\",\"priority\":10,\"match\":{\"port_in\":\"sf:fw:1\"},"
        "\"actions\":[{\"output_to_port\":\"service-access-point:a\"}]},"
        "{\"id\":\"r7\",\"priority\":5,\"match\":{\"port_in\":\"service-access-point:t\"},"
        "\"actions\":[{\"output_to_port\":\"sf:nat:1\"}]}]}}",
        id, id,
        extra ? ",{\"id\":\"mon\",\"name\":\"monitor\",\"ports\":[{\"id\":\"1\"}]}" : "",
        if_a, if_b,
        extra ? ",{\"output_to_port\":\"sf:mon:1\"}" : "");
    struct graph *g = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    if (graph_parse(text, strlen(text), 64, NULL, &g, &err) < 0)
        fail_msg("graph_parse: %s (%s)", err.msg, err.path);
    return g;
}

static struct graph *vlan_graph(const char *id, unsigned int vid,
                                unsigned int n_sfs);

static int
put(struct graph *g, bool *created, struct corch_err *err)
{
    memset(err, 0, sizeof *err);
    bool c = false;
    int r = nrm_graph_put(nrm, g, "alice", "sffg", &c, err);
    if (created)
        *created = c;
    return r;
}

static void
assert_node_empty(void)
{
    assert_int_equal(vswitch_dummy_count_lsis(VS), 0);
    assert_int_equal(vswitch_dummy_count_ports(VS), 0);
    assert_int_equal(vswitch_dummy_count_rules(VS, NULL), 0);
    assert_int_equal(compute_dummy_count_sfs(DUMMY_ENGINE), 0);
}

static const char *
status_of(const char *id, char *error, size_t size)
{
    static char buf[32];
    json_object *st = NULL;
    if (nrm_graph_status(nrm, id, &st) < 0)
        return "absent";
    json_object *v;
    json_object_object_get_ex(st, "status", &v);
    snprintf(buf, sizeof buf, "%s", json_object_get_string(v));
    if (error) {
        json_object_object_get_ex(st, "error", &v);
        snprintf(error, size, "%s", v ? json_object_get_string(v) : "");
    }
    json_object_put(st);
    return buf;
}

static int
pid_of(const char *graph, const char *sf)
{
    char inst[64];
    if (!compute_dummy_find(DUMMY_ENGINE, graph, sf, inst, sizeof inst))
        return 0;
    return compute_dummy_pid(DUMMY_ENGINE, inst);
}

static void
test_deploy_update_delete(void **state)
{
    (void) state;
    struct corch_err err;
    bool created;
    unsigned int deployed0 = ev_count[NRM_EVENT_DEPLOYED];
    assert_int_equal(put(chain("g1", "eth0", "eth1", false), &created, &err), 0);
    assert_true(created);
    assert_string_equal(status_of("g1", NULL, 0), "running");
    assert_int_equal(ev_count[NRM_EVENT_DEPLOYED], deployed0 + 1);

    /* One graph-LSI "cg<tag>0001"; 4 SF ports + 1 gre port + vlinks (fw:1 and
     * nat:2 towards the graph-LSI, a and b towards LSI-0: 2 vlinks). */
    assert_int_equal(vswitch_dummy_count_lsis(VS), 1);
    assert_true(vswitch_dummy_has_lsi(VS, cg("0001")));
    assert_true(vswitch_dummy_has_port(VS, cg("0001s000p00")));
    assert_true(vswitch_dummy_has_port(VS, cg("0001a002")));
    assert_int_equal(vswitch_dummy_count_ports(VS), 4 + 1 + 2 * 2);
    assert_int_equal(compute_dummy_count_running(DUMMY_ENGINE), 2);
    /* The engine prepared each SF's namespace first, so the switch made
     * the SF end of every (veth) port in there: nothing to move. */
    assert_int_equal(compute_dummy_ports_in_netns(DUMMY_ENGINE), 4);
    /* LSI-0: r1, r4 + two forwarding rules; graph-LSI: r2, r3, r5, r6, r7
     * + two forwarding rules. */
    assert_int_equal(vswitch_dummy_count_rules(VS, "lsi0"), 4);
    assert_int_equal(vswitch_dummy_count_rules(VS, cg("0001")), 7);

    /* Cookies carry the graph number. */
    struct vswitch_rule *rules;
    size_t n = vswitch_dummy_rules(VS, "lsi0", &rules);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rules[i].cookie >> 32, 1);
    /* vlan SAP b: the rule from it matches VLAN 42 and pops the tag. */
    bool saw_vlan = false;
    for (size_t i = 0; i < n; i++) {
        if (rules[i].match.fields & FLOW_M_VLAN_ID) {
            assert_int_equal(rules[i].match.vlan_id, 42);
            assert_int_equal(rules[i].actions[0].type, VSWITCH_ACT_POP_VLAN);
            saw_vlan = true;
        }
    }
    assert_true(saw_vlan);
    vswitch_dummy_rules_free(rules, n);

    /* Status: each SF with its engine and template. */
    json_object *st;
    assert_int_equal(nrm_graph_status(nrm, "g1", &st), 0);
    json_object *sfs, *sf0, *v;
    json_object_object_get_ex(st, "sfs", &sfs);
    assert_int_equal(json_object_array_length(sfs), 2);
    sf0 = json_object_array_get_idx(sfs, 0);
    json_object_object_get_ex(sf0, "engine", &v);
    assert_string_equal(json_object_get_string(v), "dummy");
    json_object_object_get_ex(sf0, "template", &v);
    assert_string_equal(json_object_get_string(v), "dummy:firewall");
    json_object_object_get_ex(sf0, "state", &v);
    assert_string_equal(json_object_get_string(v), "running");
    json_object_put(st);

    /* Get, owner, list. */
    struct graph *copy;
    char *owner, *format;
    assert_int_equal(nrm_graph_get(nrm, "g1", &copy, &owner, &format), 0);
    assert_string_equal(copy->id, "g1");
    assert_string_equal(owner, "alice");
    assert_string_equal(format, "sffg");
    graph_free(copy);
    free(owner);
    free(format);
    json_object *list = nrm_graph_list(nrm, "alice");
    json_object_object_get_ex(list, "graphs", &v);
    assert_int_equal(json_object_array_length(v), 1);
    json_object_put(list);
    list = nrm_graph_list(nrm, "bob");
    json_object_object_get_ex(list, "graphs", &v);
    assert_int_equal(json_object_array_length(v), 0);
    json_object_put(list);
    uint16_t *vlans;
    assert_int_equal(nrm_vlans_in_use(nrm, "eth1", &vlans), 1);
    assert_int_equal(vlans[0], 42);
    free(vlans);

    /* The same graph again: an update that changes nothing. */
    size_t added = vswitch_dummy_rules_added(VS, cg("0001"));
    unsigned int creates = compute_dummy_calls(DUMMY_ENGINE, "create");
    assert_int_equal(put(chain("g1", "eth0", "eth1", false), &created, &err), 0);
    assert_false(created);
    assert_int_equal(vswitch_dummy_rules_added(VS, cg("0001")), added);
    assert_int_equal(compute_dummy_calls(DUMMY_ENGINE, "create"), creates);

    assert_int_equal(nrm_graph_delete(nrm, "g1", &err), 0);
    assert_int_equal(nrm_graph_delete(nrm, "g1", &err), -ENOENT);
    assert_string_equal(status_of("g1", NULL, 0), "absent");
    assert_node_empty();
    assert_int_equal(vswitch_dummy_count_rules(VS, "lsi0"), 0);
}

/* Update by diff: adding "mon" and its rule leaves fw and nat running
 * (same pids) and touches one rule only. */
static void
test_update_by_diff(void **state)
{
    (void) state;
    struct corch_err err;
    bool created;
    assert_int_equal(put(chain("g2", "eth0", "eth1", false), &created, &err), 0);
    int fw = pid_of("g2", "fw"), nat = pid_of("g2", "nat");
    assert_true(fw > 0 && nat > 0);
    size_t added_g = vswitch_dummy_rules_added(VS, cg("0001"));
    size_t deleted_g = vswitch_dummy_rules_deleted(VS, cg("0001"));
    size_t added_0 = vswitch_dummy_rules_added(VS, "lsi0");
    size_t deleted_0 = vswitch_dummy_rules_deleted(VS, "lsi0");
    unsigned int ports_before = (unsigned int) vswitch_dummy_count_ports(VS);

    assert_int_equal(put(chain("g2", "eth0", "eth1", true), &created, &err), 0);
    assert_false(created);
    assert_int_equal(pid_of("g2", "fw"), fw);
    assert_int_equal(pid_of("g2", "nat"), nat);
    assert_true(pid_of("g2", "mon") > 0);
    assert_int_equal(compute_dummy_count_running(DUMMY_ENGINE), 3);
    /* r1 (on LSI-0) changed: one delete + one add there, plus the
     * forwarding rule of the new vlink to mon on the graph-LSI. */
    assert_int_equal(vswitch_dummy_rules_added(VS, "lsi0") - added_0, 1);
    assert_int_equal(vswitch_dummy_rules_deleted(VS, "lsi0") - deleted_0, 1);
    assert_int_equal(vswitch_dummy_rules_added(VS, cg("0001")) - added_g, 1);
    assert_int_equal(vswitch_dummy_rules_deleted(VS, cg("0001")) - deleted_g,
                     0);
    /* One SF port, one vlink (two ends). */
    assert_int_equal(vswitch_dummy_count_ports(VS), ports_before + 3);

    /* And back: mon goes, the others stay. */
    assert_int_equal(put(chain("g2", "eth0", "eth1", false), &created, &err), 0);
    assert_int_equal(pid_of("g2", "fw"), fw);
    assert_int_equal(pid_of("g2", "mon"), 0);
    assert_int_equal(compute_dummy_count_sfs(DUMMY_ENGINE), 2);
    assert_int_equal(vswitch_dummy_count_ports(VS), ports_before);

    assert_int_equal(nrm_graph_delete(nrm, "g2", &err), 0);
    assert_node_empty();
}

/* The hooks a deploy goes through. */
static const char *const vs_hooks[] = {
    "lsi_create", "sap_create", "port_create", "vlinks_create", "rules_apply",
    "ports_create",
};
/* "prepare" makes each new SF's namespace before the switch makes its
 * ports (in there): a failure after it must destroy the prepared SFs. */
static const char *const cp_hooks[] = { "create", "start", "prepare" };

/* A failure at each call of each hook during a deploy: the deploy fails
 * naming its step, nothing is left on the node, the graph is "failed". */
static void
test_deploy_failures(void **state)
{
    (void) state;
    struct corch_err err;
    /* How many calls of each hook one deploy makes. */
    unsigned int vs_n[ARRAY_SIZE(vs_hooks)], cp_n[ARRAY_SIZE(cp_hooks)];
    for (size_t h = 0; h < ARRAY_SIZE(vs_hooks); h++)
        vs_n[h] = vswitch_dummy_calls(VS, vs_hooks[h]);
    for (size_t h = 0; h < ARRAY_SIZE(cp_hooks); h++)
        cp_n[h] = compute_dummy_calls(DUMMY_ENGINE, cp_hooks[h]);
    assert_int_equal(put(chain("g3", "eth0", "eth1", true), NULL, &err), 0);
    for (size_t h = 0; h < ARRAY_SIZE(vs_hooks); h++)
        vs_n[h] = vswitch_dummy_calls(VS, vs_hooks[h]) - vs_n[h];
    for (size_t h = 0; h < ARRAY_SIZE(cp_hooks); h++)
        cp_n[h] = compute_dummy_calls(DUMMY_ENGINE, cp_hooks[h]) - cp_n[h];
    assert_int_equal(nrm_graph_delete(nrm, "g3", &err), 0);
    assert_node_empty();
    assert_int_equal(vs_n[2], 5);               /* 5 SF ports. */
    assert_int_equal(vs_n[4], 2);               /* One batch per LSI. */
    assert_int_equal(vs_n[5], 1);               /* All ports in one call. */
    assert_int_equal(cp_n[0], 3);
    assert_int_equal(cp_n[2], 3);               /* One prepare per SF. */

    unsigned int cases = 0;
    for (size_t kind = 0; kind < 2; kind++) {
        size_t n_hooks = kind ? ARRAY_SIZE(cp_hooks) : ARRAY_SIZE(vs_hooks);
        for (size_t h = 0; h < n_hooks; h++) {
            unsigned int calls = kind ? cp_n[h] : vs_n[h];
            for (unsigned int nth = 1; nth <= calls; nth++) {
                if (kind)
                    compute_dummy_fail_at(DUMMY_ENGINE, cp_hooks[h], nth);
                else
                    vswitch_dummy_fail_at(VS, vs_hooks[h], nth);
                int r = put(chain("g3", "eth0", "eth1", true), NULL, &err);
                if (r != -EIO)
                    fail_msg("%s call %u: put returned %d (%s)",
                             kind ? cp_hooks[h] : vs_hooks[h], nth, r,
                             err.msg);
                assert_non_null(strstr(err.msg, "step "));
                assert_non_null(strstr(err.msg, "injected failure"));
                if (kind)
                    assert_non_null(strstr(err.msg, "sf '"));
                assert_node_empty();
                char error[512];
                assert_string_equal(status_of("g3", error, sizeof error),
                                    "failed");
                assert_non_null(strstr(error, "injected failure"));
                assert_int_equal(nrm_graph_delete(nrm, "g3", &err), 0);
                assert_node_empty();
                cases++;
            }
        }
    }
    assert_true(cases >= 15);
    /* A failed graph deploys once the fault is gone. */
    assert_int_equal(put(chain("g3", "eth0", "eth1", false), NULL, &err), 0);
    assert_int_equal(nrm_graph_delete(nrm, "g3", &err), 0);
    assert_node_empty();
}

/* A failure at each call of each hook during an update: the old version
 * keeps running untouched. */
static void
test_update_failures(void **state)
{
    (void) state;
    struct corch_err err;
    assert_int_equal(put(chain("g4", "eth0", "eth1", false), NULL, &err), 0);
    int fw = pid_of("g4", "fw");
    size_t ports = vswitch_dummy_count_ports(VS);
    size_t rules0 = vswitch_dummy_count_rules(VS, "lsi0");
    size_t rulesg = vswitch_dummy_count_rules(VS, cg("0001"));
    struct { const char *hook; bool compute; unsigned int nth; } cases[] = {
        { "port_create", false, 1 }, { "vlinks_create", false, 1 },
        { "rules_apply", false, 1 }, { "rules_apply", false, 2 },
        { "create", true, 1 }, { "start", true, 1 },
        { "prepare", true, 1 }, { "ports_create", false, 1 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        if (cases[i].compute)
            compute_dummy_fail_at(DUMMY_ENGINE, cases[i].hook, cases[i].nth);
        else
            vswitch_dummy_fail_at(VS, cases[i].hook, cases[i].nth);
        int r = put(chain("g4", "eth0", "eth1", true), NULL, &err);
        if (r != -EIO)
            fail_msg("%s: %d (%s)", cases[i].hook, r, err.msg);
        char error[512];
        assert_string_equal(status_of("g4", error, sizeof error), "running");
        assert_non_null(strstr(error, "injected failure"));
        assert_int_equal(pid_of("g4", "fw"), fw);
        assert_int_equal(compute_dummy_count_sfs(DUMMY_ENGINE), 2);
        assert_int_equal(vswitch_dummy_count_ports(VS), ports);
        assert_int_equal(vswitch_dummy_count_rules(VS, "lsi0"), rules0);
        assert_int_equal(vswitch_dummy_count_rules(VS, cg("0001")), rulesg);
        /* The graph as accepted is still the old one. */
        struct graph *g;
        assert_int_equal(nrm_graph_get(nrm, "g4", &g, NULL, NULL), 0);
        assert_int_equal(g->n_sfs, 2);
        graph_free(g);
    }
    assert_int_equal(nrm_graph_delete(nrm, "g4", &err), 0);
    assert_node_empty();
}

/* A bridge SF "br" with 'n' ports, port k between it and SAP s<k> on
 * interface eth<k-1>. */
static struct graph *
bridge_graph(const char *id, unsigned int n)
{
    char text[4096];
    size_t len = 0;
    len += (size_t) snprintf(text + len, sizeof text - len,
        "{\"sffg\":{\"id\":\"%s\",\"SFs\":[{\"id\":\"br\",\"name\":"
        "\"bridge\",\"ports\":[", id);
    for (unsigned int k = 1; k <= n; k++)
        len += (size_t) snprintf(text + len, sizeof text - len,
                                 "%s{\"id\":\"%u\"}", k > 1 ? "," : "", k);
    len += (size_t) snprintf(text + len, sizeof text - len, "]}],\"saps\":[");
    for (unsigned int k = 1; k <= n; k++)
        len += (size_t) snprintf(text + len, sizeof text - len,
                                 "%s{\"id\":\"s%u\",\"type\":\"interface\","
                                 "\"interface\":{\"if-name\":\"eth%u\"}}",
                                 k > 1 ? "," : "", k, k - 1);
    len += (size_t) snprintf(text + len, sizeof text - len, "],\"flowrules\":[");
    for (unsigned int k = 1; k <= n; k++)
        len += (size_t) snprintf(text + len, sizeof text - len,
            "%s{\"id\":\"in%u\",\"priority\":10,\"match\":{\"port_in\":"
            "\"service-access-point:s%u\"},\"actions\":[{\"output_to_port\":"
            "\"sf:br:%u\"}]},"
            "{\"id\":\"out%u\",\"priority\":10,\"match\":{\"port_in\":"
            "\"sf:br:%u\"},\"actions\":[{\"output_to_port\":"
            "\"service-access-point:s%u\"}]}", k > 1 ? "," : "", k, k, k, k,
            k, k);
    snprintf(text + len, sizeof text - len, "]}}");
    struct graph *g = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    if (graph_parse(text, strlen(text), 64, NULL, &g, &err) < 0)
        fail_msg("graph_parse: %s (%s)", err.msg, err.path);
    return g;
}

static size_t
sf_ports(const char *graph, const char *sf)
{
    char inst[64];
    if (!compute_dummy_find(DUMMY_ENGINE, graph, sf, inst, sizeof inst))
        return SIZE_MAX;
    return compute_dummy_port_count(DUMMY_ENGINE, inst);
}

/* An update that only adds or removes ports of a running SF updates it in
 * place (port_add / port_remove): same instance, same pid; a failure at
 * any step of it leaves the old SF with its old ports. */
static void
test_update_ports_in_place(void **state)
{
    (void) state;
    struct corch_err err;
    assert_int_equal(put(bridge_graph("gp", 2), NULL, &err), 0);
    int pid = pid_of("gp", "br");
    assert_true(pid > 0);
    assert_int_equal(sf_ports("gp", "br"), 2);
    size_t ports2 = vswitch_dummy_count_ports(VS);
    size_t rules2 = vswitch_dummy_count_rules(VS, cg("0001"));
    size_t rules02 = vswitch_dummy_count_rules(VS, "lsi0");
    unsigned int creates = compute_dummy_calls(DUMMY_ENGINE, "create");
    unsigned int adds = compute_dummy_calls(DUMMY_ENGINE, "port_add");
    unsigned int removes = compute_dummy_calls(DUMMY_ENGINE, "port_remove");

    /* A third port: added to the running SF, in its namespace. */
    size_t in_netns = compute_dummy_ports_in_netns(DUMMY_ENGINE);
    assert_int_equal(put(bridge_graph("gp", 3), NULL, &err), 0);
    assert_string_equal(status_of("gp", NULL, 0), "running");
    assert_int_equal(pid_of("gp", "br"), pid);
    assert_int_equal(sf_ports("gp", "br"), 3);
    assert_int_equal(compute_dummy_calls(DUMMY_ENGINE, "create"), creates);
    assert_int_equal(compute_dummy_calls(DUMMY_ENGINE, "port_add"), adds + 1);
    assert_int_equal(compute_dummy_count_sfs(DUMMY_ENGINE), 1);
    assert_true(vswitch_dummy_has_port(VS, cg("0001s000p02")));
    assert_int_equal(compute_dummy_ports_in_netns(DUMMY_ENGINE), in_netns + 1);
    size_t ports3 = vswitch_dummy_count_ports(VS);
    size_t rules3 = vswitch_dummy_count_rules(VS, cg("0001"));
    size_t rules03 = vswitch_dummy_count_rules(VS, "lsi0");
    assert_true(ports3 > ports2);
    assert_true(rules3 + rules03 > rules2 + rules02);

    /* And removed again: the SF and its two ports stay. */
    assert_int_equal(put(bridge_graph("gp", 2), NULL, &err), 0);
    assert_int_equal(pid_of("gp", "br"), pid);
    assert_int_equal(sf_ports("gp", "br"), 2);
    assert_int_equal(compute_dummy_calls(DUMMY_ENGINE, "create"), creates);
    assert_int_equal(compute_dummy_calls(DUMMY_ENGINE, "port_remove"), removes + 1);
    assert_false(vswitch_dummy_has_port(VS, cg("0001s000p02")));
    assert_int_equal(vswitch_dummy_count_ports(VS), ports2);
    assert_int_equal(vswitch_dummy_count_rules(VS, cg("0001")), rules2);
    assert_int_equal(vswitch_dummy_count_rules(VS, "lsi0"), rules02);

    /* Failures while adding: the old SF, its ports and rules stay. */
    struct { const char *hook; bool compute; unsigned int nth; } add_cases[] = {
        { "port_add", true, 1 }, { "port_create", false, 1 },
        { "ports_create", false, 1 }, { "vlinks_create", false, 1 },
        { "rules_apply", false, 1 }, { "rules_apply", false, 2 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(add_cases); i++) {
        if (add_cases[i].compute)
            compute_dummy_fail_at(DUMMY_ENGINE, add_cases[i].hook, add_cases[i].nth);
        else
            vswitch_dummy_fail_at(VS, add_cases[i].hook, add_cases[i].nth);
        int r = put(bridge_graph("gp", 3), NULL, &err);
        if (r != -EIO)
            fail_msg("add, %s: %d (%s)", add_cases[i].hook, r, err.msg);
        compute_dummy_fail_at(DUMMY_ENGINE, add_cases[i].hook, 0);
        vswitch_dummy_fail_at(VS, add_cases[i].hook, 0);
        char error[512];
        assert_string_equal(status_of("gp", error, sizeof error), "running");
        assert_non_null(strstr(error, "injected failure"));
        assert_int_equal(pid_of("gp", "br"), pid);
        assert_int_equal(sf_ports("gp", "br"), 2);
        assert_int_equal(compute_dummy_count_sfs(DUMMY_ENGINE), 1);
        assert_false(vswitch_dummy_has_port(VS, cg("0001s000p02")));
        assert_int_equal(vswitch_dummy_count_ports(VS), ports2);
        assert_int_equal(vswitch_dummy_count_rules(VS, cg("0001")), rules2);
        assert_int_equal(vswitch_dummy_count_rules(VS, "lsi0"), rules02);
        struct graph *g;
        assert_int_equal(nrm_graph_get(nrm, "gp", &g, NULL, NULL), 0);
        assert_int_equal(g->sfs[0].n_ports, 2);
        graph_free(g);
    }

    /* Failures while removing: the third port stays in the SF. */
    assert_int_equal(put(bridge_graph("gp", 3), NULL, &err), 0);
    assert_int_equal(pid_of("gp", "br"), pid);
    struct { const char *hook; bool compute; unsigned int nth; } rm_cases[] = {
        { "port_remove", true, 1 }, { "rules_apply", false, 1 },
        { "rules_apply", false, 2 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(rm_cases); i++) {
        if (rm_cases[i].compute)
            compute_dummy_fail_at(DUMMY_ENGINE, rm_cases[i].hook, rm_cases[i].nth);
        else
            vswitch_dummy_fail_at(VS, rm_cases[i].hook, rm_cases[i].nth);
        int r = put(bridge_graph("gp", 2), NULL, &err);
        if (r != -EIO)
            fail_msg("remove, %s: %d (%s)", rm_cases[i].hook, r, err.msg);
        compute_dummy_fail_at(DUMMY_ENGINE, rm_cases[i].hook, 0);
        vswitch_dummy_fail_at(VS, rm_cases[i].hook, 0);
        assert_string_equal(status_of("gp", NULL, 0), "running");
        assert_int_equal(pid_of("gp", "br"), pid);
        assert_int_equal(sf_ports("gp", "br"), 3);
        assert_true(vswitch_dummy_has_port(VS, cg("0001s000p02")));
        assert_int_equal(vswitch_dummy_count_ports(VS), ports3);
        assert_int_equal(vswitch_dummy_count_rules(VS, cg("0001")), rules3);
        assert_int_equal(vswitch_dummy_count_rules(VS, "lsi0"), rules03);
    }

    /* A kept port that changes (not only added or removed at the end):
     * the SF is recreated, as before. */
    struct graph *g = bridge_graph("gp", 3);
    free(g->sfs[0].ports[1].id);
    g->sfs[0].ports[1].id = xstrdup("9");
    assert_int_equal(put(g, NULL, &err), 0);
    assert_int_not_equal(pid_of("gp", "br"), pid);
    assert_int_equal(sf_ports("gp", "br"), 3);
    assert_int_equal(compute_dummy_count_sfs(DUMMY_ENGINE), 1);
    assert_int_equal(nrm_graph_delete(nrm, "gp", &err), 0);
    assert_node_empty();
}

struct put_job {
    const char *id;
    const char *if_a;
    const char *if_b;
    int result;
};

static void *
put_thread(void *aux)
{
    struct put_job *job = aux;
    struct corch_err err;
    job->result = put(chain(job->id, job->if_a, job->if_b, false), NULL, &err);
    return NULL;
}

/* A request on a busy graph gets -EBUSY; other graphs go in parallel. */
static void
test_busy(void **state)
{
    (void) state;
    struct corch_err err;
    compute_dummy_set_delay_ms(DUMMY_ENGINE, 150);
    struct put_job a = { "ga", "eth0", "eth1", 1 };
    struct put_job b = { "gb", "eth2", "eth2", 1 };
    pthread_t ta, tb;
    uint64_t t0 = time_ms();
    pthread_create(&ta, NULL, put_thread, &a);
    while (strcmp(status_of("ga", NULL, 0), "deploying"))
        usleep(1000);
    pthread_create(&tb, NULL, put_thread, &b);
    assert_int_equal(put(chain("ga", "eth0", "eth1", false), NULL, &err),
                     -EBUSY);
    assert_non_null(strstr(err.msg, "busy"));
    assert_int_equal(nrm_graph_delete(nrm, "ga", &err), -EBUSY);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    uint64_t elapsed = time_ms() - t0;
    compute_dummy_set_delay_ms(DUMMY_ENGINE, 0);
    assert_int_equal(a.result, 0);
    assert_int_equal(b.result, 0);
    /* Two SFs of 150 ms each per graph; in parallel well under 4 x 150. */
    assert_true(elapsed < 550);
    assert_string_equal(status_of("ga", NULL, 0), "running");
    assert_int_equal(nrm_graph_delete(nrm, "ga", &err), 0);
    assert_int_equal(nrm_graph_delete(nrm, "gb", &err), 0);
    assert_node_empty();
}

/* SAP claims between graphs; rejections leave no trace. */
static void
test_conflicts(void **state)
{
    (void) state;
    struct corch_err err;
    assert_int_equal(put(chain("c1", "eth0", "eth1", false), NULL, &err), 0);
    /* Same interface SAP with no distinguishing match. */
    assert_int_equal(put(chain("c2", "eth0", "eth2", false), NULL, &err),
                     -EADDRINUSE);
    assert_non_null(strstr(err.msg, "graph 'c1'"));
    assert_string_equal(err.path, "sffg.saps[0]");
    /* Same VLAN of eth1. */
    assert_int_equal(put(chain("c2", "eth2", "eth1", false), NULL, &err),
                     -EADDRINUSE);
    assert_string_equal(status_of("c2", NULL, 0), "absent");
    /* An unresolvable SF is a rejection too. */
    const char *bad = "{\"sffg\":{\"id\":\"c3\",\"SFs\":[{\"id\":\"x\","
        "\"name\":\"firewall\",\"template\":\"nope\",\"ports\":[]}],"
        "\"saps\":[],\"flowrules\":[]}}";
    struct graph *g = NULL;
    assert_int_equal(graph_parse(bad, strlen(bad), 64, NULL, &g, &err), 0);
    assert_int_equal(put(g, NULL, &err), -ENOPKG);
    assert_string_equal(status_of("c3", NULL, 0), "absent");
    /* So is an interface the node does not have. */
    assert_int_equal(put(chain("c4", "eth9", "eth2", false), NULL, &err),
                     -EINVAL);
    assert_string_equal(err.path, "sffg.saps[0].interface.if-name");
    assert_non_null(strstr(err.msg, "eth9"));
    assert_string_equal(status_of("c4", NULL, 0), "absent");
    assert_int_equal(nrm_graph_delete(nrm, "c1", &err), 0);
    assert_node_empty();
}

/* Graphs naming one internal group share one learning LSI. */
static void
test_internal_group(void **state)
{
    (void) state;
    struct corch_err err;
    char text[1024];
    for (int i = 0; i < 2; i++) {
        snprintf(text, sizeof text,
                 "{\"sffg\":{\"id\":\"ig%d\",\"SFs\":[{\"id\":\"s\",\"name\":"
                 "\"bridge\",\"ports\":[{\"id\":\"1\"}]}],\"saps\":[{\"id\":"
                 "\"i\",\"type\":\"internal\",\"internal\":{\"internal-group\":"
                 "\"grp\"}}],\"flowrules\":[{\"id\":\"1\",\"match\":{"
                 "\"port_in\":\"service-access-point:i\"},\"actions\":[{"
                 "\"output_to_port\":\"sf:s:1\"}]},{\"id\":\"2\",\"match\":{"
                 "\"port_in\":\"sf:s:1\"},\"actions\":[{\"output_to_port\":"
                 "\"service-access-point:i\"}]}]}}", i);
        struct graph *g = NULL;
        assert_int_equal(graph_parse(text, strlen(text), 64, NULL, &g, &err), 0);
        assert_int_equal(put(g, NULL, &err), 0);
    }
    /* Two graph-LSIs and one group LSI. */
    assert_int_equal(vswitch_dummy_count_lsis(VS), 3);
    assert_int_equal(nrm_graph_delete(nrm, "ig0", &err), 0);
    assert_int_equal(vswitch_dummy_count_lsis(VS), 2);
    assert_int_equal(nrm_graph_delete(nrm, "ig1", &err), 0);
    assert_node_empty();
}

/* A restart finds the graphs: running ones deployed again (the dummy
 * engine adopts its SFs: same pids), failed ones still failed. */
static void
test_restart(void **state)
{
    (void) state;
    struct corch_err err;
    assert_int_equal(put(chain("r1", "eth0", "eth1", false), NULL, &err), 0);
    compute_dummy_fail_at(DUMMY_ENGINE, "start", 1);
    assert_int_equal(put(chain("r2", "eth2", "eth2", false), NULL, &err), -EIO);
    int fw = pid_of("r1", "fw");
    char node_id[128];
    snprintf(node_id, sizeof node_id, "%s", nrm_node_id(nrm));
    size_t rules0 = vswitch_dummy_count_rules(VS, "lsi0");

    nrm_destroy(nrm);
    nrm = NULL;
    start_nrm();
    assert_string_equal(nrm_node_id(nrm), node_id);
    assert_string_equal(status_of("r1", NULL, 0), "running");
    assert_string_equal(status_of("r2", NULL, 0), "failed");
    assert_int_equal(pid_of("r1", "fw"), fw);
    assert_int_equal(vswitch_dummy_count_lsis(VS), 1);
    assert_true(vswitch_dummy_has_lsi(VS, cg("0001")));    /* Same number. */
    assert_int_equal(vswitch_dummy_count_rules(VS, "lsi0"), rules0);
    json_object *list = nrm_graph_list(nrm, NULL), *v;
    json_object_object_get_ex(list, "graphs", &v);
    assert_int_equal(json_object_array_length(v), 2);
    json_object_put(list);
    assert_int_equal(nrm_graph_delete(nrm, "r1", &err), 0);
    assert_int_equal(nrm_graph_delete(nrm, "r2", &err), 0);
    assert_node_empty();
}

/* The compute dummy's fake node: "<instance>=<pid>;" for each record in
 * <state.dir>/compute-dummy, sorted, into 'buf'. */
static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
dummy_records(char *buf, size_t size)
{
    char dir[128], *names[64];
    size_t n = 0, len = 0;
    snprintf(dir, sizeof dir, "%s/compute-dummy", tmpdir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) && n < ARRAY_SIZE(names);)
        if (e->d_name[0] != '.')
            names[n++] = xstrdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char path[256];
        int pid = -1;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%d", &pid) != 1)
                pid = -1;
            fclose(f);
        }
        len += (size_t) snprintf(buf + len, len < size ? size - len : 0,
                                 "%s=%d;", names[i], pid);
        free(names[i]);
    }
    assert_true(len < size);
}

/* Shutdown releases: nrm_destroy() with graphs deployed lets the drivers
 * drop every handle (no leak under valgrind) and removes nothing on the
 * node: the switch keeps its LSIs, ports and rules, the engine's SFs keep
 * running with their pids; the next start finds them as they were. */
static void
test_shutdown_releases(void **state)
{
    (void) state;
    struct corch_err err;
    /* A fresh switch: its counters start at zero. */
    nrm_destroy(nrm);
    nrm = NULL;
    start_nrm();
    assert_int_equal(put(chain("sd1", "eth0", "eth1", true), NULL, &err), 0);
    const char *ig = "{\"sffg\":{\"id\":\"sd2\",\"SFs\":[{\"id\":\"s\","
        "\"name\":\"bridge\",\"ports\":[{\"id\":\"1\"}]}],\"saps\":[{"
        "\"id\":\"i\",\"type\":\"internal\",\"internal\":{"
        "\"internal-group\":\"sdgrp\"}}],\"flowrules\":[{\"id\":\"1\","
        "\"match\":{\"port_in\":\"service-access-point:i\"},\"actions\":"
        "[{\"output_to_port\":\"sf:s:1\"}]}]}}";
    struct graph *g = NULL;
    assert_int_equal(graph_parse(ig, strlen(ig), 64, NULL, &g, &err), 0);
    assert_int_equal(put(g, NULL, &err), 0);
    int pids[4] = {
        pid_of("sd1", "fw"), pid_of("sd1", "nat"), pid_of("sd1", "mon"),
        pid_of("sd2", "s"),
    };
    for (size_t i = 0; i < ARRAY_SIZE(pids); i++)
        assert_true(pids[i] > 0);
    size_t lsis = vswitch_dummy_count_lsis(VS);
    size_t ports = vswitch_dummy_count_ports(VS);
    size_t rules = vswitch_dummy_count_rules(VS, NULL);
    assert_int_equal(lsis, 3);          /* Two graph-LSIs, one group LSI. */
    char before[1024], after[1024];
    dummy_records(before, sizeof before);
    struct vswitch_dummy_census census;
    memset(&census, 0xff, sizeof census);
    vswitch_dummy_watch_close(VS, &census);

    nrm_destroy(nrm);
    nrm = NULL;
    /* The switch, as it closed: nothing destroyed, everything there, and
     * every handle the core had released (close freed none of them). */
    assert_int_equal(census.destroyed, 0);
    assert_int_equal(census.lsis, lsis);
    assert_int_equal(census.ports, ports);
    assert_int_equal(census.rules, rules);
    assert_int_equal(census.held, 0);
    assert_true(census.released > 0);
    /* The engine's fake node: every SF still there with its pid. */
    dummy_records(after, sizeof after);
    assert_string_equal(after, before);

    start_nrm();
    assert_string_equal(status_of("sd1", NULL, 0), "running");
    assert_string_equal(status_of("sd2", NULL, 0), "running");
    assert_int_equal(pid_of("sd1", "fw"), pids[0]);
    assert_int_equal(pid_of("sd1", "nat"), pids[1]);
    assert_int_equal(pid_of("sd1", "mon"), pids[2]);
    assert_int_equal(pid_of("sd2", "s"), pids[3]);
    assert_int_equal(compute_dummy_count_sfs(DUMMY_ENGINE), 4);
    assert_int_equal(compute_dummy_count_running(DUMMY_ENGINE), 4);
    assert_int_equal(nrm_graph_delete(nrm, "sd1", &err), 0);
    assert_int_equal(nrm_graph_delete(nrm, "sd2", &err), 0);
    assert_node_empty();
    dummy_records(after, sizeof after);
    assert_string_equal(after, "");
}

static int
status_pid(const char *graph, const char *sf)
{
    json_object *st, *sfs, *v;
    int pid = 0;
    if (nrm_graph_status(nrm, graph, &st) < 0)
        return 0;
    json_object_object_get_ex(st, "sfs", &sfs);
    for (size_t i = 0; i < json_object_array_length(sfs); i++) {
        json_object *o = json_object_array_get_idx(sfs, i);
        json_object_object_get_ex(o, "id", &v);
        if (strcmp(json_object_get_string(v), sf))
            continue;
        if (json_object_object_get_ex(o, "pid", &v) && v)
            pid = json_object_get_int(v);
    }
    json_object_put(st);
    return pid;
}

/* After an update that leaves SFs out of their first order (s1 in slot 1,
 * the new s2 in slot 2; a fresh deploy would give them 0 and 1), a restart
 * still gives each SF its own instance: the slots are kept. */
static void
test_restart_keeps_slots(void **state)
{
    (void) state;
    struct corch_err err;
    assert_int_equal(put(vlan_graph("rs", 500, 2), NULL, &err), 0);
    /* Drop s0, keep s1, add s2: s2 takes the free slot 0. */
    const char *text = "{\"sffg\":{\"id\":\"rs\",\"SFs\":["
        "{\"id\":\"s1\",\"name\":\"bridge\",\"ports\":[{\"id\":\"1\"},{\"id\":\"2\"}]},"
        "{\"id\":\"s2\",\"name\":\"bridge\",\"ports\":[{\"id\":\"1\"},{\"id\":\"2\"}]}],"
        "\"saps\":[{\"id\":\"x\",\"type\":\"vlan\",\"vlan\":{\"vlan-id\":500,\"if-name\":\"eth2\"}},"
        "{\"id\":\"y\",\"type\":\"vlan\",\"vlan\":{\"vlan-id\":501,\"if-name\":\"eth2\"}}],"
        "\"flowrules\":[{\"id\":\"f0\",\"match\":{\"port_in\":\"service-access-point:x\"},"
        "\"actions\":[{\"output_to_port\":\"sf:s1:1\"}]}]}}";
    struct graph *g = NULL;
    assert_int_equal(graph_parse(text, strlen(text), 64, NULL, &g, &err), 0);
    int s1 = status_pid("rs", "s1");
    assert_int_equal(put(g, NULL, &err), 0);
    assert_int_equal(status_pid("rs", "s1"), s1);
    int s2 = status_pid("rs", "s2");
    assert_true(s2 > 0 && s2 != s1);
    /* s0 still held slot 0 while s2 was made (make before break). */
    assert_true(vswitch_dummy_has_port(VS, cg("0001s002p00")));   /* s2 */
    assert_true(vswitch_dummy_has_port(VS, cg("0001s001p00")));   /* s1 */
    assert_false(vswitch_dummy_has_port(VS, cg("0001s000p00")));

    nrm_destroy(nrm);
    nrm = NULL;
    start_nrm();
    assert_string_equal(status_of("rs", NULL, 0), "running");
    assert_int_equal(status_pid("rs", "s1"), s1);
    assert_int_equal(status_pid("rs", "s2"), s2);
    assert_int_equal(compute_dummy_count_sfs(DUMMY_ENGINE), 2);
    assert_int_equal(nrm_graph_delete(nrm, "rs", &err), 0);
    assert_node_empty();
}

/* Two vlan SAPs of eth2 around 'n_sfs' SFs (VLAN ids vid and vid + 1). */
static struct graph *
vlan_graph(const char *id, unsigned int vid, unsigned int n_sfs)
{
    char text[4096];
    int len = snprintf(text, sizeof text, "{\"sffg\":{\"id\":\"%s\",\"SFs\":[",
                       id);
    for (unsigned int i = 0; i < n_sfs; i++)
        len += snprintf(text + len, sizeof text - len,
                        "%s{\"id\":\"s%u\",\"name\":\"bridge\",\"ports\":"
                        "[{\"id\":\"1\"},{\"id\":\"2\"}]}", i ? "," : "", i);
    len += snprintf(text + len, sizeof text - len,
        "],\"saps\":[{\"id\":\"x\",\"type\":\"vlan\",\"vlan\":{\"vlan-id\":%u,"
        "\"if-name\":\"eth2\"}},{\"id\":\"y\",\"type\":\"vlan\",\"vlan\":{"
        "\"vlan-id\":%u,\"if-name\":\"eth2\"}}],\"flowrules\":[", vid, vid + 1);
    char prev[64] = "service-access-point:x", next[64];
    for (unsigned int i = 0; i <= n_sfs; i++) {
        if (i < n_sfs)
            snprintf(next, sizeof next, "sf:s%u:1", i);
        else
            snprintf(next, sizeof next, "service-access-point:y");
        len += snprintf(text + len, sizeof text - len,
                        "%s{\"id\":\"f%u\",\"match\":{\"port_in\":\"%s\"},"
                        "\"actions\":[{\"output_to_port\":\"%s\"}]}",
                        i ? "," : "", i, prev, next);
        snprintf(prev, sizeof prev, "sf:s%u:2", i);
    }
    snprintf(text + len, sizeof text - len, "]}}");
    struct graph *g = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    if (graph_parse(text, strlen(text), 64, NULL, &g, &err) < 0)
        fail_msg("graph_parse: %s (%s): %s", err.msg, err.path, text);
    return g;
}

/* An update that changes a SAP (its VLAN id) moves the claim and the
 * rules; limits.max_graphs is enforced. */
static void
test_sap_change_and_limits(void **state)
{
    (void) state;
    struct corch_err err;
    assert_int_equal(put(vlan_graph("v1", 10, 1), NULL, &err), 0);
    assert_int_equal(put(vlan_graph("v1", 20, 1), NULL, &err), 0);
    uint16_t *ids;
    assert_int_equal(nrm_vlans_in_use(nrm, "eth2", &ids), 2);
    assert_int_equal(ids[0], 20);
    assert_int_equal(ids[1], 21);
    free(ids);
    struct vswitch_rule *rules;
    size_t n = vswitch_dummy_rules(VS, "lsi0", &rules);
    for (size_t i = 0; i < n; i++) {
        if (rules[i].match.fields & FLOW_M_VLAN_ID)
            assert_int_equal(rules[i].match.vlan_id, 20);
        for (size_t a = 0; a < rules[i].n_actions; a++)
            if (rules[i].actions[a].type == VSWITCH_ACT_PUSH_VLAN)
                assert_int_equal(rules[i].actions[a].u.vlan_id, 21);
    }
    vswitch_dummy_rules_free(rules, n);
    /* VLAN 10 is free again for another graph. */
    assert_int_equal(put(vlan_graph("v2", 10, 0), NULL, &err), 0);
    assert_int_equal(put(vlan_graph("v3", 20, 0), NULL, &err), -EADDRINUSE);

    /* limits.max_graphs = 50 in this configuration. */
    char id[16];
    for (unsigned int i = 0; i < 48; i++) {
        snprintf(id, sizeof id, "m%u", i);
        assert_int_equal(put(vlan_graph(id, 1000 + 2 * i, 0), NULL, &err), 0);
    }
    assert_int_equal(put(vlan_graph("one-too-many", 3000, 0), NULL, &err),
                     -E2BIG);
    for (unsigned int i = 0; i < 48; i++) {
        snprintf(id, sizeof id, "m%u", i);
        assert_int_equal(nrm_graph_delete(nrm, id, &err), 0);
    }
    assert_int_equal(nrm_graph_delete(nrm, "v1", &err), 0);
    assert_int_equal(nrm_graph_delete(nrm, "v2", &err), 0);
    assert_node_empty();
}

struct stress_job {
    unsigned int n;             /* Thread number. */
    unsigned int busy;          /* -EBUSY answers seen. */
    int error;                  /* First unexpected error. */
};

/* Each thread deploys, updates, reads and deletes its own graphs, while
 * another thread fights over the same ids: only -EBUSY, -ENOENT and
 * injected failures may come back, and the node ends empty. */
static void *
stress_thread(void *aux)
{
    struct stress_job *job = aux;
    char id[16];
    for (unsigned int it = 0; it < 30 && !job->error; it++) {
        struct corch_err err;
        snprintf(id, sizeof id, "st%u", (job->n / 2) * 10 + it % 3);
        unsigned int vid = 100 + 2 * ((job->n / 2) * 10 + it % 3);
        int r = put(vlan_graph(id, vid, 1 + (it + job->n) % 3), NULL, &err);
        if (r == -EBUSY)
            job->busy++;
        else if (r && r != -EIO)
            job->error = r;
        json_object *st = NULL;
        if (!nrm_graph_status(nrm, id, &st))
            json_object_put(st);
        json_object_put(nrm_graph_list(nrm, NULL));
        if (it % 2) {
            r = nrm_graph_delete(nrm, id, &err);
            if (r == -EBUSY)
                job->busy++;
            else if (r && r != -ENOENT)
                job->error = r;
        }
    }
    return NULL;
}

static void
test_stress(void **state)
{
    (void) state;
    struct stress_job jobs[6];
    pthread_t th[6];
    compute_dummy_fail_at(DUMMY_ENGINE, "start", 7);
    vswitch_dummy_fail_at(VS, "rules_apply", 11);
    for (unsigned int i = 0; i < 6; i++) {
        jobs[i] = (struct stress_job) { .n = i };
        pthread_create(&th[i], NULL, stress_thread, &jobs[i]);
    }
    unsigned int busy = 0;
    for (unsigned int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].error, 0);
        busy += jobs[i].busy;
    }
    printf("# stress: %u -EBUSY answers\n", busy);
    compute_dummy_fail_at(DUMMY_ENGINE, "start", 0);
    vswitch_dummy_fail_at(VS, "rules_apply", 0);
    json_object *list = nrm_graph_list(nrm, NULL), *v;
    json_object_object_get_ex(list, "graphs", &v);
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        json_object *id;
        json_object_object_get_ex(json_object_array_get_idx(v, i), "id", &id);
        struct corch_err err;
        assert_int_equal(nrm_graph_delete(nrm, json_object_get_string(id),
                                          &err), 0);
    }
    json_object_put(list);
    assert_node_empty();
}

/* Grows 'buf' with printf-formatted text. */
static void
cat(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
cat(char **buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    char *piece;
    va_start(ap, fmt);
    assert_true(vasprintf(&piece, fmt, ap) >= 0);
    va_end(ap);
    size_t n = strlen(piece);
    /* Capacity: the power of two above the length; grown by doubling. */
    size_t old_cap = 64, new_cap = 64;
    while (old_cap < *len + 1)
        old_cap *= 2;
    while (new_cap < *len + n + 1)
        new_cap *= 2;
    if (!*buf || new_cap != old_cap)
        *buf = realloc(*buf, new_cap);
    memcpy(*buf + *len, piece, n + 1);
    *len += n;
    free(piece);
}

/* A chain of 'n_sfs' SFs between two SAPs, plus 'n_rules' rules steering
 * TCP ports from SAP a to the first SF. */
static struct graph *
big_graph(const char *id, unsigned int n_sfs, unsigned int n_rules)
{
    char *t = NULL;
    size_t len = 0;
    cat(&t, &len, "{\"sffg\":{\"id\":\"%s\",\"SFs\":[", id);
    for (unsigned int i = 0; i < n_sfs; i++)
        cat(&t, &len, "%s{\"id\":\"s%u\",\"name\":\"firewall\",\"ports\":"
            "[{\"id\":\"1\"},{\"id\":\"2\"}]}", i ? "," : "", i);
    cat(&t, &len, "],\"saps\":[{\"id\":\"a\",\"type\":\"interface\","
        "\"interface\":{\"if-name\":\"eth0\"}},{\"id\":\"b\",\"type\":"
        "\"interface\",\"interface\":{\"if-name\":\"eth1\"}}],\"flowrules\":[");
    cat(&t, &len, "{\"id\":\"in\",\"match\":{\"port_in\":"
        "\"service-access-point:a\"},\"actions\":[{\"output_to_port\":"
        "\"sf:s0:1\"}]}");
    for (unsigned int i = 0; i + 1 < n_sfs; i++)
        cat(&t, &len, ",{\"id\":\"c%u\",\"match\":{\"port_in\":\"sf:s%u:2\"},"
            "\"actions\":[{\"output_to_port\":\"sf:s%u:1\"}]}", i, i, i + 1);
    cat(&t, &len, ",{\"id\":\"out\",\"match\":{\"port_in\":\"sf:s%u:2\"},"
        "\"actions\":[{\"output_to_port\":\"service-access-point:b\"}]}",
        n_sfs - 1);
    for (unsigned int i = 0; i < n_rules; i++)
        cat(&t, &len, ",{\"id\":\"p%u\",\"priority\":%u,\"match\":{"
            "\"port_in\":\"service-access-point:a\",\"ether_type\":2048,"
            "\"protocol\":6,\"dest_port\":%u},\"actions\":[{"
            "\"output_to_port\":\"sf:s0:1\"}]}", i, 100 + i % 1000,
            1 + i % 60000);
    cat(&t, &len, "]}}");
    struct graph *g = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    struct graph_limits lim = { 100000, 100000, 1000 };
    if (graph_parse(t, len, 64, &lim, &g, &err) < 0)
        fail_msg("graph_parse: %s (%s)", err.msg, err.path);
    free(t);
    return g;
}

/* Figures, not a pass/fail criterion: the core's own cost with the dummy
 * drivers (no switch, no engine behind). */
static void
test_scale(void **state)
{
    (void) state;
    struct corch_err err;
    static const unsigned int shapes[][2] = { { 500, 0 }, { 1, 10000 } };
    log_set_level(LOG_LEVEL_DBG);       /* nrm logs where the time goes. */
    for (size_t k = 0; k < ARRAY_SIZE(shapes); k++) {
        struct graph *g = big_graph("big", shapes[k][0], shapes[k][1]);
        struct graph *same = big_graph("big", shapes[k][0], shapes[k][1]);
        size_t n_rules = g->n_flowrules;
        uint64_t t0 = time_ns();
        assert_int_equal(put(g, NULL, &err), 0);
        uint64_t t1 = time_ns();
        assert_int_equal(put(same, NULL, &err), 0);
        uint64_t t2 = time_ns();
        assert_int_equal(nrm_graph_delete(nrm, "big", &err), 0);
        uint64_t t3 = time_ns();
        printf("# nrm with dummies: %u SFs, %zu flowrules: deploy %.1f ms, "
               "no-op update %.1f ms, delete %.1f ms\n", shapes[k][0],
               n_rules, (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6);
        assert_node_empty();
    }
    log_set_level(LOG_LEVEL_INFO);
}

static void
test_bad_config(void **state)
{
    (void) state;
    struct corch_config c;
    struct corch_err err = { .path = "", .msg = "" };
    struct nrm *n = NULL;
    config_init(&c);
    assert_int_equal(config_set(&c, "vswitch.driver=teleswitch", &err), 0);
    assert_int_equal(nrm_create(&c, store, &n, &err), -EINVAL);
    assert_string_equal(err.path, "vswitch.driver");
    assert_null(n);
    config_destroy(&c);

    struct nrm_resources res;
    nrm_resources(nrm, &res);
    assert_true(res.cores_total >= 1);
    assert_true(res.memory_mb_free <= res.memory_mb_total);
    assert_true(nrm_sap_supported(nrm, GRAPH_SAP_GRE));
    assert_string_equal(nrm_vswitch_type(nrm), "dummy");
    assert_string_equal(nrm_graph_status_name(NRM_UPDATING), "updating");
    assert_string_equal(nrm_event_type_name(NRM_EVENT_DELETED), "deleted");
}

/* A driver failure during a PUT is the node's failure (kind FAILED, a
 * 500), whatever errno the driver chose: an -ENOENT from an engine's
 * create is no "not found".  The message names the step and the SF. */
static void
test_driver_enoent_is_failed(void **state)
{
    (void) state;
    struct corch_err err;
    assert_int_equal(compute_dummy_fail_errno(DUMMY_ENGINE, "create",
                                              -ENOENT), 0);
    assert_int_equal(compute_dummy_fail_at(DUMMY_ENGINE, "create", 1), 0);
    int r = put(chain("e1", "eth0", "eth1", false), NULL, &err);
    assert_int_equal(r, -ENOENT);
    assert_int_equal(err.kind, CORCH_ERR_FAILED);
    assert_non_null(strstr(err.msg, "step 4 (compute create)"));
    assert_non_null(strstr(err.msg, "sf '"));
    assert_non_null(strstr(err.msg, "injected failure in create"));
    assert_string_equal(status_of("e1", NULL, 0), "failed");
    compute_dummy_fail_errno(DUMMY_ENGINE, "create", 0);
    assert_int_equal(nrm_graph_delete(nrm, "e1", &err), 0);
    assert_node_empty();
}

/* Two instances of one engine class in one process share nothing: SFs,
 * counters and injected failures are per instance. */
static void
test_two_engine_instances(void **state)
{
    (void) state;
    struct corch_err err = { .path = "", .msg = "" };
    struct compute_engine *a = NULL, *b = NULL;
    assert_int_equal(compute_engine_open(&compute_dummy_class, NULL, &a,
                                         &err), 0);
    assert_int_equal(compute_engine_open(&compute_dummy_class, NULL, &b,
                                         &err), 0);
    assert_true(a != b && a->usable && b->usable);
    assert_string_equal(compute_engine_type(a), "dummy");

    struct compute_sf_spec spec = {
        .graph_id = "g", .sf_id = "s", .instance = "two-x", .run_dir = "/",
    };
    struct compute_sf *sa = NULL, *sb = NULL;
    assert_int_equal(compute_sf_create(a, &spec, &sa, &err), 0);
    assert_int_equal(compute_sf_start(sa, &err), 0);
    /* The core filled the base: the engine and the owner. */
    assert_ptr_equal(sa->engine, a);
    assert_string_equal(sa->instance, "two-x");
    assert_string_equal(sa->graph_id, "g");
    assert_string_equal(sa->sf_id, "s");
    assert_int_equal(compute_dummy_count_sfs(a), 1);
    assert_int_equal(compute_dummy_count_sfs(b), 0);

    /* A failure injected into b: a goes on. */
    compute_dummy_fail_at(b, "create", 1);
    assert_int_equal(compute_sf_create(b, &spec, &sb, &err), -EIO);
    assert_null(sb);
    assert_int_equal(err.kind, CORCH_ERR_FAILED);
    assert_non_null(strstr(err.msg, "injected failure in create"));
    assert_int_equal(compute_sf_create(b, &spec, &sb, &err), 0);
    assert_true(sb != sa);
    assert_int_equal(compute_dummy_calls(a, "create"), 1);
    assert_int_equal(compute_dummy_calls(b, "create"), 2);
    assert_int_equal(compute_dummy_count_running(a), 1);
    assert_int_equal(compute_dummy_count_running(b), 0);
    assert_true(compute_sf_pid(sa) > 0);
    assert_int_equal(compute_sf_pid(sb), 0);

    compute_sf_destroy(sb);
    assert_int_equal(compute_dummy_count_sfs(b), 0);
    assert_int_equal(compute_dummy_count_sfs(a), 1);
    /* close frees the SF objects it still has (the SF stays "on the
     * node"): no leak for the sanitizers to find. */
    compute_engine_close(a);
    compute_engine_close(b);
}

/* An engine with only the required hooks: the core's fallbacks answer
 * for the optional ones. */
static int
bare_create(struct compute_engine *e, const struct compute_sf_spec *spec,
            struct compute_sf **ret_sf, struct corch_err *err)
{
    (void) e;
    (void) spec;
    (void) err;
    *ret_sf = xcalloc(1, sizeof **ret_sf);
    return 0;
}

static int
bare_start(struct compute_sf *sf, struct corch_err *err)
{
    (void) sf;
    (void) err;
    return 0;
}

static void
bare_destroy(struct compute_sf *sf)
{
    compute_sf_base_uninit(sf);
    free(sf);
}

static int
bare_probe(struct compute_engine *e, struct corch_err *err)
{
    (void) e;
    (void) err;
    return 0;
}

static const struct compute_class bare_class = {
    .type = "bare", .probe = bare_probe, .create = bare_create,
    .start = bare_start, .destroy = bare_destroy,
};

static void
test_optional_hooks(void **state)
{
    (void) state;
    struct corch_err err = { .path = "", .msg = "" };
    struct compute_engine *e = NULL;
    assert_int_equal(compute_engine_open(&bare_class, NULL, &e, &err), 0);
    assert_true(e->usable);
    assert_false(compute_engine_can_prepare(e));
    assert_false(compute_engine_can_update_ports(e));
    struct compute_sf_spec spec = {
        .graph_id = "g", .sf_id = "s", .instance = "bare-0",
    };
    /* No prepare hook: nothing prepared, create will do it all. */
    struct compute_sf *sf = NULL;
    const char *netns = "x";
    assert_int_equal(compute_sf_prepare(e, &spec, &sf, &netns, &err), 0);
    assert_null(sf);
    assert_null(netns);
    assert_int_equal(compute_sf_create(e, &spec, &sf, &err), 0);
    assert_int_equal(compute_sf_start(sf, &err), 0);
    assert_int_equal(compute_sf_pid(sf), 0);
    assert_int_equal(compute_sf_stop(sf, &err), -EOPNOTSUPP);
    assert_int_equal(err.kind, CORCH_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "engine bare"));
    memset(&err, 0, sizeof err);
    assert_int_equal(compute_sf_pause(sf, true, &err), -EOPNOTSUPP);
    assert_int_equal(err.kind, CORCH_ERR_UNSUPPORTED);
    struct compute_port port = { .id = "p" };
    assert_int_equal(compute_sf_port_add(sf, &port, &err), -EOPNOTSUPP);
    assert_int_equal(compute_sf_port_remove(sf, "p", &err), -EOPNOTSUPP);
    compute_sf_destroy(sf);
    compute_engine_close(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deploy_update_delete),
        cmocka_unit_test(test_update_by_diff),
        cmocka_unit_test(test_deploy_failures),
        cmocka_unit_test(test_update_failures),
        cmocka_unit_test(test_update_ports_in_place),
        cmocka_unit_test(test_busy),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_internal_group),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_sap_change_and_limits),
        cmocka_unit_test(test_stress),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_restart_keeps_slots),
        cmocka_unit_test(test_shutdown_releases),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_driver_enoent_is_failed),
        cmocka_unit_test(test_two_engine_instances),
        cmocka_unit_test(test_optional_hooks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
