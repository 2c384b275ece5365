/* Tests of the network manager's pure parts: the Algorithm 1 / 2 split
 * (paper 5.4.1, Fig. 8, Table 4) and the SAP claims between graphs. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "graph.h"
#include "netmgr.h"
#include "vswitch.h"
#include "vswitch/dummy/vswitch-dummy.h"

static struct graph *
parse(const char *text)
{
    struct graph *g = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    int r = graph_parse(text, strlen(text), 64, NULL, &g, &err);
    if (r < 0)
        fail_msg("graph_parse: %s (%s)", err.msg, err.path);
    return g;
}

#define SAP_IF(ID, IF) \
    "{\"id\":\"" ID "\",\"type\":\"interface\",\"interface\":{\"if-name\":\"" IF "\"}}"
#define SAP_VLAN(ID, IF, VID) \
    "{\"id\":\"" ID "\",\"type\":\"vlan\",\"vlan\":{\"vlan-id\":" VID ",\"if-name\":\"" IF "\"}}"
#define SAP_GRE(ID) \
    "{\"id\":\"" ID "\",\"type\":\"gre\",\"gre\":{\"local-ip\":\"10.0.0.1\",\"remote-ip\":\"10.0.0.2\",\"gre-key\":1}}"
#define SF2(ID, NAME) \
    "{\"id\":\"" ID "\",\"name\":\"" NAME "\",\"ports\":[{\"id\":\"1\"},{\"id\":\"2\"}]}"
#define RULE(ID, PRIO, IN, OUT) \
    "{\"id\":\"" ID "\",\"priority\":" PRIO ",\"match\":{\"port_in\":\"" IN "\"},\"actions\":[{\"output_to_port\":\"" OUT "\"}]}"
#define GRAPH(ID, SFS, SAPS, RULES) \
    "{\"sffg\":{\"id\":\"" ID "\",\"SFs\":[" SFS "],\"saps\":[" SAPS "],\"flowrules\":[" RULES "]}}"

/* The rule of 'rules' made from flowrule 'fr' (SIZE_MAX: a forwarding
 * rule whose in_port is vlink 'vlink'). */
static const struct netmgr_rule *
find_rule(const struct netmgr_rule *rules, size_t n, size_t fr, size_t vlink)
{
    for (size_t i = 0; i < n; i++) {
        if (fr != SIZE_MAX && rules[i].flowrule == fr)
            return &rules[i];
        if (fr == SIZE_MAX && rules[i].flowrule == SIZE_MAX
            && rules[i].in.kind == NETMGR_P_VLINK && rules[i].in.vlink == vlink)
            return &rules[i];
    }
    return NULL;
}

static bool
is_output_ep(const struct netmgr_action *a, const struct graph *g,
             const char *key)
{
    if (a->type != VSWITCH_ACT_OUTPUT || a->port.kind != NETMGR_P_ENDPOINT)
        return false;
    char *k = netmgr_endpoint_key(g, &a->port.ep);
    bool same = !strcmp(k, key);
    free(k);
    return same;
}

static bool
is_output_vlink(const struct netmgr_action *a, size_t k)
{
    return a->type == VSWITCH_ACT_OUTPUT && a->port.kind == NETMGR_P_VLINK
           && a->port.vlink == k;
}

/* Fig. 8: eth0 -> nat:1 and nat:2 -> eth1 cross LSIs; fw:2 -> nat:1 stays
 * on the graph-LSI; the return path is symmetric. */
static void
test_fig8(void **state)
{
    (void) state;
    struct graph *g = parse(GRAPH("fig8",
        SF2("nat", "nat") "," SF2("fw", "firewall"),
        SAP_IF("eth0", "eth0") "," SAP_IF("eth1", "eth1"),
        RULE("1", "10", "service-access-point:eth0", "sf:fw:1") ","
        RULE("2", "10", "sf:nat:2", "service-access-point:eth1") ","
        RULE("3", "10", "sf:fw:2", "sf:nat:1") ","
        RULE("4", "10", "service-access-point:eth1", "sf:nat:2") ","
        RULE("5", "10", "sf:nat:1", "sf:fw:2") ","
        RULE("6", "10", "sf:fw:1", "service-access-point:eth0")));
    struct netmgr_split *s = netmgr_split(g, NULL);

    /* Algorithm 1: to the graph-LSI for fw:1 and nat:2, to LSI-0 for eth1
     * and eth0: two vlinks, each used both ways. */
    assert_int_equal(s->plan.n, 2);
    assert_string_equal(s->plan.to_graph[0], "sf:fw:1");
    assert_string_equal(s->plan.to_graph[1], "sf:nat:2");
    assert_string_equal(s->plan.to_lsi0[0], "sap:eth1");
    assert_string_equal(s->plan.to_lsi0[1], "sap:eth0");

    /* Flowrule 1 (Algorithm 2, lines 4-12): LSI-0 keeps the match and
     * outputs on vlink 0; the graph-LSI forwards vlink 0 to fw:1. */
    const struct netmgr_rule *r = find_rule(s->lsi0, s->n_lsi0, 0, 0);
    assert_non_null(r);
    assert_int_equal(r->priority, 10);
    assert_int_equal(r->in.kind, NETMGR_P_ENDPOINT);
    assert_int_equal(r->n_actions, 1);
    assert_true(is_output_vlink(&r->actions[0], 0));
    const struct netmgr_rule *f = find_rule(s->glsi, s->n_glsi, SIZE_MAX, 0);
    assert_non_null(f);
    assert_int_equal(f->n_actions, 1);
    assert_true(is_output_ep(&f->actions[0], g, "sf:fw:1"));
    assert_int_equal(f->match.fields, 0);

    /* Flowrule 2 (lines 13-21): the graph-LSI keeps the match; LSI-0
     * forwards vlink 0 (the same vlink as fw:1) to eth1. */
    r = find_rule(s->glsi, s->n_glsi, 1, 0);
    assert_non_null(r);
    assert_true(is_output_vlink(&r->actions[0], 0));
    f = find_rule(s->lsi0, s->n_lsi0, SIZE_MAX, 0);
    assert_non_null(f);
    assert_true(is_output_ep(&f->actions[0], g, "sap:eth1"));

    /* Flowrule 3: one LSI, unchanged. */
    r = find_rule(s->glsi, s->n_glsi, 2, 0);
    assert_non_null(r);
    assert_true(is_output_ep(&r->actions[0], g, "sf:nat:1"));
    assert_null(find_rule(s->lsi0, s->n_lsi0, 2, 0));

    /* 2 matching + 2 forwarding rules on LSI-0; 4 + 2 on the graph-LSI. */
    assert_int_equal(s->n_lsi0, 4);
    assert_int_equal(s->n_glsi, 6);
    netmgr_split_free(s);
    graph_free(g);
}

/* Table 4, cell by cell. */
static void
test_table4(void **state)
{
    (void) state;
    /* Interface -> interface: only LSI-0, no vlink. */
    struct graph *g = parse(GRAPH("t1", "",
        SAP_IF("a", "eth0") "," SAP_IF("b", "eth1"),
        RULE("1", "5", "service-access-point:a", "service-access-point:b") ","
        RULE("2", "5", "service-access-point:b", "service-access-point:a")));
    struct netmgr_split *s = netmgr_split(g, NULL);
    assert_int_equal(s->plan.n, 0);
    assert_int_equal(s->n_lsi0, 2);
    assert_int_equal(s->n_glsi, 0);
    netmgr_split_free(s);
    graph_free(g);

    /* SF / gre -> SF / gre: only the graph-LSI. */
    g = parse(GRAPH("t2", SF2("x", "bridge"), SAP_GRE("t"),
        RULE("1", "5", "service-access-point:t", "sf:x:1") ","
        RULE("2", "5", "sf:x:2", "service-access-point:t")));
    s = netmgr_split(g, NULL);
    assert_int_equal(s->plan.n, 0);
    assert_int_equal(s->n_lsi0, 0);
    assert_int_equal(s->n_glsi, 2);
    netmgr_split_free(s);
    graph_free(g);

    /* Interface -> gre and gre -> vlan: both LSIs. */
    g = parse(GRAPH("t3", "",
        SAP_IF("a", "eth0") "," SAP_GRE("t") "," SAP_VLAN("v", "eth1", "7"),
        RULE("1", "5", "service-access-point:a", "service-access-point:t") ","
        RULE("2", "5", "service-access-point:t", "service-access-point:v")));
    s = netmgr_split(g, NULL);
    assert_int_equal(s->plan.n, 1);
    assert_int_equal(s->n_lsi0, 2);
    assert_int_equal(s->n_glsi, 2);
    netmgr_split_free(s);
    graph_free(g);
}

/* Algorithm 1: N = max(#targets on the graph-LSI, #targets on LSI-0), a
 * target reached from several rules needs one vlink only. */
static void
test_vlink_count(void **state)
{
    (void) state;
    struct graph *g = parse(GRAPH("c",
        SF2("a", "x") "," SF2("b", "x"),
        SAP_IF("e0", "eth0") "," SAP_IF("e1", "eth1"),
        RULE("1", "1", "service-access-point:e0", "sf:a:1") ","
        RULE("2", "2", "service-access-point:e1", "sf:a:1") ","
        /* Not priority 1: rule 1 has e0, no match and priority 1, and
         * OpenFlow holds one entry for both (the validator refuses it). */
        RULE("3", "3", "service-access-point:e0", "sf:a:2") ","
        RULE("4", "1", "service-access-point:e1", "sf:b:1") ","
        RULE("5", "1", "sf:b:2", "service-access-point:e0")));
    struct netmgr_split *s = netmgr_split(g, NULL);
    assert_int_equal(s->plan.n, 3);
    /* One forwarding rule per vlink end in use: 3 on the graph-LSI, 1 on
     * LSI-0; sf:a:1 is reached by two rules through one vlink. */
    size_t fwd_g = 0, fwd_0 = 0;
    for (size_t i = 0; i < s->n_glsi; i++)
        fwd_g += s->glsi[i].flowrule == SIZE_MAX;
    for (size_t i = 0; i < s->n_lsi0; i++)
        fwd_0 += s->lsi0[i].flowrule == SIZE_MAX;
    assert_int_equal(fwd_g, 3);
    assert_int_equal(fwd_0, 1);
    /* Priorities are kept on the rules that match; forwarding rules only
     * match their vlink. */
    const struct netmgr_rule *r = find_rule(s->lsi0, s->n_lsi0, 1, 0);
    assert_int_equal(r->priority, 2);
    for (size_t i = 0; i < s->n_glsi; i++)
        if (s->glsi[i].flowrule == SIZE_MAX)
            assert_int_equal(s->glsi[i].priority, NETMGR_VLINK_PRIORITY);
    netmgr_split_free(s);
    graph_free(g);
}

/* vlan SAPs: LSI-0 matches the VID and pops the tag first; the tag is
 * pushed right before the output to a vlan SAP. */
static void
test_vlan(void **state)
{
    (void) state;
    struct graph *g = parse(GRAPH("v", SF2("f", "firewall"),
        SAP_VLAN("in", "eth0", "100") "," SAP_VLAN("out", "eth0", "200") ","
        SAP_IF("raw", "eth1"),
        RULE("1", "3", "service-access-point:in", "sf:f:1") ","
        RULE("2", "3", "sf:f:2", "service-access-point:out") ","
        RULE("3", "3", "service-access-point:raw", "service-access-point:out")));
    struct netmgr_split *s = netmgr_split(g, NULL);

    const struct netmgr_rule *r = find_rule(s->lsi0, s->n_lsi0, 0, 0);
    assert_non_null(r);
    assert_true(r->match.fields & FLOW_M_VLAN_ID);
    assert_int_equal(r->match.vlan_id, 100);
    assert_int_equal(r->n_actions, 2);
    assert_int_equal(r->actions[0].type, VSWITCH_ACT_POP_VLAN);
    assert_true(is_output_vlink(&r->actions[1], 0));

    /* SF -> vlan SAP: the graph-LSI rule sends untagged on the vlink, the
     * LSI-0 forwarding rule pushes 200 and outputs on eth0. */
    r = find_rule(s->glsi, s->n_glsi, 1, 0);
    assert_int_equal(r->n_actions, 1);
    size_t k = r->actions[0].port.vlink;
    const struct netmgr_rule *f = find_rule(s->lsi0, s->n_lsi0, SIZE_MAX, k);
    assert_non_null(f);
    assert_int_equal(f->n_actions, 2);
    assert_int_equal(f->actions[0].type, VSWITCH_ACT_PUSH_VLAN);
    assert_int_equal(f->actions[0].vlan_id, 200);
    assert_true(is_output_ep(&f->actions[1], g, "sap:out"));

    /* interface -> vlan on LSI-0 alone: push, output, no pop after. */
    r = find_rule(s->lsi0, s->n_lsi0, 2, 0);
    assert_int_equal(r->n_actions, 2);
    assert_int_equal(r->actions[0].type, VSWITCH_ACT_PUSH_VLAN);
    assert_int_equal(r->actions[0].vlan_id, 200);
    assert_true(is_output_ep(&r->actions[1], g, "sap:out"));
    assert_false(r->match.fields & FLOW_M_VLAN_ID);
    netmgr_split_free(s);
    graph_free(g);
}

/* Several outputs (local and remote), modifications and drop. */
static void
test_outputs_mods_drop(void **state)
{
    (void) state;
    struct graph *g = parse(GRAPH("m", SF2("f", "firewall"),
        SAP_IF("a", "eth0") "," SAP_IF("b", "eth1") ","
        SAP_VLAN("v", "eth2", "9"),
        "{\"id\":\"1\",\"priority\":7,\"match\":{\"port_in\":"
        "\"service-access-point:a\",\"ether_type\":\"0x0800\"},\"actions\":["
        "{\"set_dest_mac\":\"02:00:00:00:00:01\"},"
        "{\"output_to_port\":\"service-access-point:v\"},"
        "{\"output_to_port\":\"sf:f:1\"},"
        "{\"output_to_port\":\"service-access-point:b\"}]},"
        "{\"id\":\"2\",\"priority\":9,\"match\":{\"port_in\":"
        "\"sf:f:2\"},\"actions\":[{\"drop\":true}]}"));
    struct netmgr_split *s = netmgr_split(g, NULL);
    const struct netmgr_rule *r = find_rule(s->lsi0, s->n_lsi0, 0, 0);
    assert_non_null(r);
    assert_int_equal(r->priority, 7);
    assert_true(r->match.fields & FLOW_M_ETHER_TYPE);
    /* set_dest_mac, output b (local), output vlink (f:1), push 9, output v */
    assert_int_equal(r->n_actions, 5);
    assert_int_equal(r->actions[0].type, VSWITCH_ACT_SET_ETH_DST);
    assert_int_equal(r->actions[0].mac[5], 1);
    assert_true(is_output_vlink(&r->actions[1], 0));
    assert_true(is_output_ep(&r->actions[2], g, "sap:b"));
    assert_int_equal(r->actions[3].type, VSWITCH_ACT_PUSH_VLAN);
    assert_true(is_output_ep(&r->actions[4], g, "sap:v"));
    /* The forwarding rule carries no modification. */
    const struct netmgr_rule *f = find_rule(s->glsi, s->n_glsi, SIZE_MAX, 0);
    assert_int_equal(f->n_actions, 1);

    /* drop: the rule exists on its LSI with no action, and needs no vlink. */
    r = find_rule(s->glsi, s->n_glsi, 1, 0);
    assert_non_null(r);
    assert_int_equal(r->priority, 9);
    assert_int_equal(r->n_actions, 0);
    assert_int_equal(s->plan.n, 1);
    netmgr_split_free(s);
    graph_free(g);
}

/* An update keeps each endpoint on its vlink; new ones fill free slots. */
static void
test_incremental_plan(void **state)
{
    (void) state;
    struct graph *g1 = parse(GRAPH("i", SF2("a", "x") "," SF2("b", "x"),
        SAP_IF("e0", "eth0"),
        RULE("1", "1", "service-access-point:e0", "sf:a:1") ","
        RULE("2", "2", "service-access-point:e0", "sf:b:1")));
    struct graph *g2 = parse(GRAPH("i", SF2("a", "x") "," SF2("b", "x"),
        SAP_IF("e0", "eth0"),
        RULE("2", "2", "service-access-point:e0", "sf:b:1") ","
        RULE("3", "1", "sf:a:2", "service-access-point:e0")));
    struct netmgr_split *s1 = netmgr_split(g1, NULL);
    assert_int_equal(s1->plan.n, 2);
    assert_string_equal(s1->plan.to_graph[1], "sf:b:1");
    struct netmgr_split *s2 = netmgr_split(g2, &s1->plan);
    assert_int_equal(s2->plan.n, 2);
    assert_null(s2->plan.to_graph[0]);          /* sf:a:1 no longer. */
    assert_string_equal(s2->plan.to_graph[1], "sf:b:1");
    assert_string_equal(s2->plan.to_lsi0[0], "sap:e0");
    /* Unchanged flowrule 2 gives the same rules: same id (cookie). */
    const struct netmgr_rule *r1 = find_rule(s1->lsi0, s1->n_lsi0, 1, 0);
    const struct netmgr_rule *r2 = find_rule(s2->lsi0, s2->n_lsi0, 0, 0);
    assert_int_equal(r1->id, r2->id);
    assert_true(is_output_vlink(&r2->actions[0], 1));
    netmgr_split_free(s1);
    netmgr_split_free(s2);
    graph_free(g1);
    graph_free(g2);
}

static void
expect_claims(const char *a, const char *b, int expected)
{
    struct graph *ga = parse(a), *gb = parse(b);
    struct corch_err err = { .path = "", .msg = "" };
    int r = netmgr_claims_check(ga, gb, "other", &err);
    if (r != expected)
        fail_msg("claims check %d, expected %d (%s)", r, expected, err.msg);
    if (r) {
        assert_int_equal(err.kind, CORCH_ERR_CONFLICT);
        assert_non_null(strstr(err.msg, "graph 'other'"));
        assert_string_equal(err.path, "sffg.saps[0]");
    }
    graph_free(ga);
    graph_free(gb);
}

#define MATCH_RULE(MATCH) \
    "{\"id\":\"r\",\"match\":{\"port_in\":\"service-access-point:s\"," MATCH \
    "},\"actions\":[{\"output_to_port\":\"service-access-point:o\"}]}"

static void
test_sap_sharing(void **state)
{
    (void) state;
    const char *v10 = GRAPH("a", "", SAP_VLAN("s", "eth0", "10"), "");
    const char *v20 = GRAPH("b", "", SAP_VLAN("s", "eth0", "20"), "");
    const char *v10b = GRAPH("c", "", SAP_VLAN("s", "eth0", "10"), "");
    const char *v10x = GRAPH("c", "", SAP_VLAN("s", "eth1", "10"), "");
    expect_claims(v10, v20, 0);
    expect_claims(v10, v10b, -EADDRINUSE);
    expect_claims(v10, v10x, 0);

    const char *mac1 = GRAPH("d", "", SAP_IF("s", "eth0") "," SAP_IF("o", "eth1"),
                             MATCH_RULE("\"dest_mac\":\"02:00:00:00:00:01\""));
    const char *mac2 = GRAPH("e", "", SAP_IF("s", "eth0") "," SAP_IF("o", "eth2"),
                             MATCH_RULE("\"dest_mac\":\"02:00:00:00:00:02\""));
    const char *all = GRAPH("f", "", SAP_IF("s", "eth0") "," SAP_IF("o", "eth3"),
                            MATCH_RULE("\"ether_type\":\"0x0800\""));
    expect_claims(mac1, mac2, 0);
    expect_claims(mac1, mac1, -EADDRINUSE);
    expect_claims(mac1, all, -EADDRINUSE);
    /* A match without VLAN id takes tagged frames too. */
    expect_claims(all, v10, -EADDRINUSE);

    const char *net1 = GRAPH("g", "", SAP_IF("s", "eth0") "," SAP_IF("o", "eth1"),
                             MATCH_RULE("\"ether_type\":\"0x0800\","
                                        "\"dest_ip\":\"10.0.0.0/24\""));
    const char *net2 = GRAPH("h", "", SAP_IF("s", "eth0") "," SAP_IF("o", "eth1"),
                             MATCH_RULE("\"ether_type\":\"0x0800\","
                                        "\"dest_ip\":\"10.0.1.0/24\""));
    const char *net16 = GRAPH("i", "", SAP_IF("s", "eth0") "," SAP_IF("o", "eth1"),
                              MATCH_RULE("\"ether_type\":\"0x0800\","
                                         "\"dest_ip\":\"10.0.0.0/16\""));
    expect_claims(net1, net2, 0);
    expect_claims(net16, net2, -EADDRINUSE);
}

/* --- orchestrator/vswitch.c: the fallbacks of optional hooks. --- */

static const struct vswitch_class fake_class;

/* A switch with only the required hooks; port_create fails at call
 * 'fake_fail_at' (1-based, 0: never). */
static unsigned int fake_calls, fake_destroyed, fake_fail_at;
static struct vswitch_port *fake_port = (struct vswitch_port *) &fake_calls;

static int
fake_open(const struct corch_config *cfg, struct vswitch **ret,
          struct corch_err *err)
{
    (void) cfg;
    (void) err;
    static struct vswitch instance;
    instance.class = &fake_class;
    *ret = &instance;
    return 0;
}

static void
fake_close(struct vswitch *vs)
{
    (void) vs;
}

static int
fake_port_create(struct vswitch *vs, struct vswitch_lsi *lsi,
                 const struct vswitch_port_spec *spec,
                 struct vswitch_port **ret_port,
                 struct vswitch_port_info *ret_info, struct corch_err *err)
{
    (void) vs;
    (void) lsi;
    (void) spec;
    if (++fake_calls == fake_fail_at)
        return corch_err_set(err, -EIO, NULL, "fake: no");
    memset(ret_info, 0, sizeof *ret_info);
    *ret_port = fake_port;
    return 0;
}

static void
fake_port_destroy(struct vswitch *vs, struct vswitch_port *port)
{
    (void) vs;
    assert_ptr_equal(port, fake_port);
    fake_destroyed++;
}

static const struct vswitch_class fake_class = {
    .type = "fake-netmgr",
    .open = fake_open,
    .close = fake_close,
    .port_create = fake_port_create,
    .port_destroy = fake_port_destroy,
};

static void
test_vswitch_fallbacks(void **state)
{
    (void) state;
    assert_int_equal(vswitch_register(&fake_class), 0);
    struct vswitch *vs;
    struct corch_err err = { 0 };
    assert_int_equal(vswitch_open("fake-netmgr", NULL, &vs, &err), 0);
    assert_string_equal(vswitch_type(vs), "fake-netmgr");
    /* sap_supported NULL: everything; rules_flush NULL: nothing to do. */
    assert_true(vswitch_sap_supported(vs, GRAPH_SAP_GRE));
    assert_int_equal(vswitch_rules_flush(vs, NULL, 1, 1, &err), 0);

    /* ports_create NULL: port_create for each... */
    struct vswitch_port_spec specs[3] = {
        { .name = "p0", .sf_id = "a", .sf_port_id = "0" },
        { .name = "p1", .sf_id = "a", .sf_port_id = "1" },
        { .name = "p2", .sf_id = "b", .sf_port_id = "0" },
    };
    struct vswitch_port *ports[3] = { NULL };
    struct vswitch_port_info infos[3];
    assert_int_equal(vswitch_ports_create(vs, NULL, specs, 3, ports, infos,
                                          &err), 0);
    assert_int_equal(fake_calls, 3);
    assert_ptr_equal(ports[2], fake_port);

    /* ...all or nothing: the third fails, the first two go again, and the
     * message names the port; the outputs are untouched. */
    struct vswitch_port *untouched[3] = { NULL };
    fake_calls = 0;
    fake_fail_at = 3;
    assert_int_equal(vswitch_ports_create(vs, NULL, specs, 3, untouched,
                                          infos, &err), -EIO);
    assert_int_equal(fake_destroyed, 2);
    assert_null(untouched[0]);
    assert_non_null(strstr(err.msg, "sf 'b' port '0'"));
    assert_non_null(strstr(err.msg, "fake: no"));
    vswitch_close(vs);

    /* An unknown driver. */
    err = (struct corch_err) { 0 };
    assert_int_equal(vswitch_open("no-such", NULL, &vs, &err), -EINVAL);
    assert_string_equal(err.path, "vswitch.driver");
}

/* Two dummy switches in one process are two switches: their LSIs, ports,
 * rules, counters and failures are their own (no file-static state). */
static void
test_two_dummy_instances(void **state)
{
    (void) state;
    struct vswitch *a, *b;
    struct corch_err err = { 0 };
    assert_int_equal(vswitch_open("dummy", NULL, &a, &err), 0);
    assert_int_equal(vswitch_open("dummy", NULL, &b, &err), 0);
    assert_ptr_not_equal(a, b);

    const char *ifs[] = { "eth0" };
    struct vswitch_lsi *a0, *b0, *ag, *bg;
    assert_int_equal(vswitch_lsi0_open(a, ifs, 1, &a0, &err), 0);
    assert_int_equal(vswitch_lsi0_open(b, ifs, 1, &b0, &err), 0);
    /* The same names on both: no clash, each has its own. */
    struct vswitch_lsi_spec spec = { .graph_id = "g", .name = "cgxx0001" };
    assert_int_equal(vswitch_lsi_create(a, &spec, &ag, &err), 0);
    assert_int_equal(vswitch_lsi_create(b, &spec, &bg, &err), 0);
    struct vswitch_vlink_spec vl = {
        .a_name = "cgxx0001v000", .b_name = "cgxx0001w000", .graph_id = "g",
    };
    struct vswitch_port *pa, *pb;
    assert_int_equal(vswitch_vlinks_create(a, a0, ag, &vl, 1, &pa, &pb, &err),
                     0);
    /* The core reads the bases. */
    assert_string_equal(ag->name, "cgxx0001");
    assert_ptr_equal(ag->vs, a);
    assert_ptr_equal(bg->vs, b);
    assert_string_equal(ag->graph_id, "g");
    assert_int_equal(ag->role, VSWITCH_LSI_GRAPH);
    assert_int_equal(a0->role, VSWITCH_LSI_ZERO);
    assert_string_equal(pa->name, "cgxx0001v000");
    assert_ptr_equal(pa->lsi, a0);
    assert_ptr_equal(pb->lsi, ag);
    assert_int_equal(pb->role, VSWITCH_PORT_VLINK);
    assert_true(vswitch_dummy_has_port(a, "cgxx0001v000"));
    assert_false(vswitch_dummy_has_port(b, "cgxx0001v000"));
    assert_int_equal(vswitch_dummy_count_ports(a), 2);
    assert_int_equal(vswitch_dummy_count_ports(b), 0);
    assert_int_equal(vswitch_dummy_count_lsis(a), 1);
    assert_int_equal(vswitch_dummy_count_lsis(b), 1);

    /* Failure injection is per instance. */
    assert_int_equal(vswitch_dummy_fail_at(b, "vlinks_create", 1), 0);
    struct vswitch_vlink_spec vl2 = {
        .a_name = "cgxx0001v001", .b_name = "cgxx0001w001", .graph_id = "g",
    };
    assert_int_equal(vswitch_vlinks_create(a, a0, ag, &vl2, 1, &pa, &pb,
                                           &err), 0);
    err = (struct corch_err) { 0 };
    assert_int_equal(vswitch_vlinks_create(b, b0, bg, &vl2, 1, &pa, &pb,
                                           &err), -EIO);
    assert_true(err.msg[0] != '\0');
    assert_int_equal(vswitch_dummy_calls(a, "vlinks_create"), 2);
    assert_int_equal(vswitch_dummy_calls(b, "vlinks_create"), 1);

    /* Closing one leaves the other as it was. */
    vswitch_close(b);
    assert_int_equal(vswitch_dummy_count_ports(a), 4);
    assert_true(vswitch_dummy_has_lsi(a, "cgxx0001"));
    vswitch_close(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fig8),
        cmocka_unit_test(test_table4),
        cmocka_unit_test(test_vlink_count),
        cmocka_unit_test(test_vlan),
        cmocka_unit_test(test_outputs_mods_drop),
        cmocka_unit_test(test_incremental_plan),
        cmocka_unit_test(test_sap_sharing),
        cmocka_unit_test(test_vswitch_fallbacks),
        cmocka_unit_test(test_two_dummy_instances),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
