/* Unit tests of the un-orchestrator NF-FG compatibility: the five real
 * client graphs in test/data/unorchestrator-nffg/ are accepted
 * and mean the same as hand-written SF-FG equivalents, errors name NF-FG
 * fields, and graph -> NF-FG -> graph is the identity. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graph.h"
#include "nffg.h"

#define NFFG_DIR TOP_SRCDIR "/test/data/unorchestrator-nffg"
#define EQUIV_DIR TOP_SRCDIR "/test/data/sffg/nffg-equivalent"
#define SFFG_VALID TOP_SRCDIR "/test/data/sffg/valid"

static const char *const shipped[] = {
    "orchestrator_config_passthrough_with_vnf_nffg.json",
    "orchestrator_config_simple_passthrough_nffg.json",
    "use-cases_configuration-service_demoGraph.json",
    "use-cases_configuration-service_managementNetGraph.json",
    "use-cases_sigcomm-native_nffgFullScenario.json",
};

static json_object *
load(const char *dir, const char *name)
{
    char path[512];
    json_object *o;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    o = json_object_from_file(path);
    if (!o)
        fail_msg("cannot read %s", path);
    return o;
}

static struct graph *
translate_ok(json_object *root, const char *what)
{
    struct corch_err err = { .path = "", .msg = "" };
    struct graph *g = NULL;

    if (nffg_to_graph(root, "nffg-test", NULL, &g, &err) < 0)
        fail_msg("%s rejected at '%s': %s", what, err.path, err.msg);
    return g;
}

/* NF-FG -> graph -> NF-FG -> graph gives the same graph. */
static void
check_round_trip(const struct graph *g)
{
    json_object *n = nffg_from_graph(g);
    struct graph *g2 = translate_ok(n, json_object_to_json_string(n));

    assert_true(graph_equal(g, g2));
    /* And the NF-FG form is stable. */
    json_object *n2 = nffg_from_graph(g2);
    assert_true(json_object_equal(n, n2));
    json_object_put(n2);
    json_object_put(n);
    graph_free(g2);
}

static void
test_shipped_graphs(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof shipped / sizeof *shipped; i++) {
        json_object *root = load(NFFG_DIR, shipped[i]);
        struct graph *g = translate_ok(root, shipped[i]);
        assert_string_equal(g->id, "nffg-test");
        assert_true(g->n_flowrules > 0);
        check_round_trip(g);
        graph_free(g);
        json_object_put(root);
    }
}

static void
test_same_meaning_as_sffg(void **state)
{
    DIR *d = opendir(EQUIV_DIR);
    struct dirent *e;
    int n = 0;

    (void) state;
    assert_non_null(d);
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".json"))
            continue;
        json_object *nffg = load(NFFG_DIR, e->d_name);
        json_object *sffg = load(EQUIV_DIR, e->d_name);
        struct corch_err err = { .path = "", .msg = "" };
        struct graph *a = translate_ok(nffg, e->d_name), *b = NULL;
        if (graph_from_json(sffg, NULL, &b, &err) < 0)
            fail_msg("%s (SF-FG) rejected at %s: %s", e->d_name, err.path,
                     err.msg);
        if (!graph_equal(a, b))
            fail_msg("%s: NF-FG and SF-FG differ", e->d_name);
        graph_free(a);
        graph_free(b);
        json_object_put(nffg);
        json_object_put(sffg);
        n++;
    }
    closedir(d);
    assert_true(n >= 2);
}

static void
test_details(void **state)
{
    (void) state;
    /* Missing priority is 1; vnf_template is the template; GUI positions,
     * node-id, port mac/trusted and the graph's own id are ignored. */
    json_object *root = load(NFFG_DIR,
                             "use-cases_sigcomm-native_nffgFullScenario.json");
    struct graph *g = translate_ok(root, "sigcomm");
    assert_int_equal(g->flowrules[0].priority, 1);
    assert_string_equal(graph_find_sf(g, "nativeNat")->template_id,
                        "nativeNat.json");
    assert_string_equal(graph_find_sap(g, "00000004")->if_name, "eth0.2");
    graph_free(g);
    json_object_put(root);

    root = load(NFFG_DIR, "use-cases_configuration-service_demoGraph.json");
    g = translate_ok(root, "demo");
    assert_int_equal(g->n_sfs, 4);
    assert_int_equal(g->n_saps, 3);
    assert_int_equal(g->n_flowrules, 14);
    assert_int_equal(graph_find_sap(g, "int-mng")->type, GRAPH_SAP_INTERNAL);
    graph_free(g);
    json_object_put(root);

    /* "IPv4" and "ipv4" are the same key; gre-tunnel is gre. */
    root = json_tokener_parse(
        "{\"forwarding-graph\":{\"id\":\"x\",\"end-points\":["
        "{\"id\":\"h\",\"type\":\"host-stack\",\"host-stack\":"
        "{\"configuration\":\"static\",\"IPv4\":\"10.0.0.2/24\"}},"
        "{\"id\":\"t\",\"type\":\"gre-tunnel\",\"gre-tunnel\":{\"local-ip\":"
        "\"10.0.0.1\",\"remote-ip\":\"10.0.0.9\",\"gre-key\":\"0x10\","
        "\"ttl\":\"64\"}}],\"big-switch\":{\"flow-rules\":[{\"id\":\"1\","
        "\"match\":{\"port_in\":\"endpoint:h\",\"protocol\":1,"
        "\"icmpv4_type\":8},\"actions\":[{\"output_to_port\":\"endpoint:t\"},"
        "{\"set_ethernet_src_address\":\"02:00:00:00:00:01\"}]}]}}}");
    g = translate_ok(root, "host-stack");
    assert_int_equal(g->saps[0].ipv4.plen, 24);
    assert_int_equal(g->saps[1].type, GRAPH_SAP_GRE);
    assert_int_equal(g->saps[1].gre_key, 16);
    assert_int_equal(g->flowrules[0].match.icmp_type, 8);
    assert_true(g->flowrules[0].mods.fields & FLOW_A_SET_SOURCE_MAC);
    check_round_trip(g);
    json_object *back = nffg_from_graph(g);
    const char *s = json_object_to_json_string_ext(back,
                                                   JSON_C_TO_STRING_PLAIN);
    assert_non_null(strstr(s, "\"type\":\"gre-tunnel\""));
    assert_non_null(strstr(s, "\"icmpv4_type\":8"));
    assert_non_null(strstr(s, "\"port_in\":\"endpoint:h\""));
    assert_non_null(strstr(s, "\"set_ethernet_src_address\""));
    json_object_put(back);
    graph_free(g);
    json_object_put(root);
}

/* Applies 'edit' (a json-c path walk done by the caller) and checks the
 * error path. */
static void
expect_error(json_object *root, int error, const char *path)
{
    struct corch_err err = { .path = "", .msg = "" };
    struct graph *g = NULL;
    int r = nffg_to_graph(root, "nffg-test", NULL, &g, &err);

    if (r >= 0) {
        graph_free(g);
        fail_msg("accepted, expected error at %s", path);
    }
    assert_int_equal(r, error);
    assert_int_equal(err.kind, error == -E2BIG ? CORCH_ERR_TOO_LARGE
                                               : CORCH_ERR_INVALID);
    if (strcmp(err.path, path))
        fail_msg("error at '%s' (%s), expected '%s'", err.path, err.msg, path);
    assert_true(err.msg[0] != '\0');
    assert_null(g);
}

static json_object *
fg(json_object *root)
{
    return json_object_object_get(root, "forwarding-graph");
}

static json_object *
rule(json_object *root, size_t i)
{
    return json_object_array_get_idx(json_object_object_get(
        json_object_object_get(fg(root), "big-switch"), "flow-rules"), i);
}

static void
set(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, v);
}

static void
test_error_paths(void **state)
{
    const char *demo = "use-cases_configuration-service_demoGraph.json";
    json_object *root;

    (void) state;
    root = load(NFFG_DIR, demo);
    set(json_object_object_get(rule(root, 2), "match"), "port_in",
        json_object_new_string("endpoint:nope"));
    expect_error(root, -EINVAL,
                 "forwarding-graph.big-switch.flow-rules[2].match.port_in");
    json_object_put(root);

    root = load(NFFG_DIR, demo);
    set(json_object_array_get_idx(json_object_object_get(rule(root, 4),
                                                         "actions"), 0),
        "output_to_port", json_object_new_string("vnf:nat:inout:7"));
    expect_error(root, -EINVAL, "forwarding-graph.big-switch.flow-rules[4]."
                 "actions[0].output_to_port");
    {
        struct corch_err err = { .path = "", .msg = "" };
        struct graph *g = NULL;
        assert_int_equal(nffg_to_graph(root, "x", NULL, &g, &err), -EINVAL);
        /* The message speaks NF-FG too. */
        assert_non_null(strstr(err.msg, "\"vnf:nat:inout:7\""));
    }
    json_object_put(root);

    root = load(NFFG_DIR, demo);
    json_object_array_add(json_object_object_get(rule(root, 1), "actions"),
                          json_tokener_parse("{\"set_ethernet_dst_address\":"
                                             "\"zz\"}"));
    expect_error(root, -EINVAL, "forwarding-graph.big-switch.flow-rules[1]."
                 "actions[1].set_ethernet_dst_address");
    json_object_put(root);

    root = load(NFFG_DIR, demo);
    set(json_object_object_get(rule(root, 0), "match"), "icmpv6_type",
        json_object_new_int(1));
    expect_error(root, -EINVAL, "forwarding-graph.big-switch.flow-rules[0]."
                 "match.icmpv6_type");
    json_object_put(root);

    root = load(NFFG_DIR, demo);
    set(json_object_object_get(rule(root, 0), "match"), "hard_timeout",
        json_object_new_int(10));
    expect_error(root, -EINVAL, "forwarding-graph.big-switch.flow-rules[0]."
                 "match.hard_timeout");
    json_object_put(root);

    root = load(NFFG_DIR, demo);
    set(json_object_array_get_idx(json_object_object_get(fg(root), "VNFs"), 1),
        "vnf_template", json_object_new_string("bad name"));
    expect_error(root, -EINVAL, "forwarding-graph.VNFs[1].vnf_template");
    json_object_put(root);

    root = load(NFFG_DIR, demo);
    set(json_object_array_get_idx(json_object_object_get(fg(root), "VNFs"), 3),
        "id", json_object_new_string("dhcp"));
    expect_error(root, -EINVAL, "forwarding-graph.VNFs[3].id");
    json_object_put(root);

    root = load(NFFG_DIR, demo);
    set(json_object_array_get_idx(json_object_object_get(fg(root), "VNFs"), 0),
        "unify-control", json_object_new_array());
    expect_error(root, -EINVAL, "forwarding-graph.VNFs[0].unify-control");
    json_object_put(root);

    root = load(NFFG_DIR, demo);
    set(json_object_array_get_idx(json_object_object_get(json_object_array_get_idx(
            json_object_object_get(fg(root), "VNFs"), 2), "ports"), 1),
        "color", json_object_new_string("red"));
    expect_error(root, -EINVAL, "forwarding-graph.VNFs[2].ports[1].color");
    json_object_put(root);

    root = load(NFFG_DIR, demo);
    set(json_object_object_get(json_object_array_get_idx(
            json_object_object_get(fg(root), "end-points"), 1), "interface"),
        "if-name", json_object_new_string("way-too-long-ifname"));
    expect_error(root, -EINVAL, "forwarding-graph.end-points[1].interface."
                 "if-name");
    json_object_put(root);

    root = load(NFFG_DIR, demo);
    set(fg(root), "node-config", json_object_new_object());
    expect_error(root, -EINVAL, "forwarding-graph.node-config");
    json_object_put(root);

    root = load(NFFG_DIR,
                "use-cases_configuration-service_managementNetGraph.json");
    set(json_object_object_get(json_object_array_get_idx(
            json_object_object_get(fg(root), "end-points"), 0), "host-stack"),
        "ipv4", json_object_new_string("10.0.0.300/24"));
    expect_error(root, -EINVAL, "forwarding-graph.end-points[0].host-stack."
                 "ipv4");
    json_object_put(root);

    root = json_tokener_parse(
        "{\"forwarding-graph\":{\"end-points\":[{\"id\":\"h\",\"type\":"
        "\"host-stack\",\"host-stack\":{\"configuration\":\"static\","
        "\"IPv4\":\"x\"}},{\"id\":\"t\",\"type\":\"gre-tunnel\","
        "\"gre-tunnel\":{\"local-ip\":\"10.0.0.1\",\"remote-ip\":\"::1\"}}]}}");
    expect_error(root, -EINVAL, "forwarding-graph.end-points[0].host-stack."
                 "IPv4");
    json_object_object_del(json_object_array_get_idx(json_object_object_get(
        fg(root), "end-points"), 0), "host-stack");
    expect_error(root, -EINVAL, "forwarding-graph.end-points[0].host-stack");
    json_object_array_del_idx(json_object_object_get(fg(root), "end-points"),
                              0, 1);
    expect_error(root, -EINVAL, "forwarding-graph.end-points[0].gre-tunnel."
                 "remote-ip");
    json_object_put(root);

    root = json_tokener_parse("{\"forwarding-graph\":{\"big-switch\":"
                              "{\"flow-rules\":{}}}}");
    expect_error(root, -EINVAL, "forwarding-graph.big-switch.flow-rules");
    json_object_put(root);
    root = json_tokener_parse("{\"forwarding-graph\":{\"big-switch\":"
                              "{\"rules\":[]}}}");
    expect_error(root, -EINVAL, "forwarding-graph.big-switch.rules");
    json_object_put(root);
    root = json_tokener_parse("{\"sffg\":{}}");
    expect_error(root, -EINVAL, "sffg");
    json_object_put(root);
    root = json_tokener_parse("[]");
    expect_error(root, -EINVAL, "");
    json_object_put(root);

    /* Limits come back with the NF-FG name of the array. */
    struct graph_limits lim = { .max_sfs = 2 };
    struct corch_err err = { .path = "", .msg = "" };
    struct graph *g = NULL;
    root = load(NFFG_DIR, demo);
    assert_int_equal(nffg_to_graph(root, "x", &lim, &g, &err), -E2BIG);
    assert_string_equal(err.path, "forwarding-graph.VNFs");
    json_object_put(root);
}

/* Every valid SF-FG of the corpus survives graph -> NF-FG -> graph. */
static void
test_sffg_corpus_through_nffg(void **state)
{
    DIR *d = opendir(SFFG_VALID);
    struct dirent *e;

    (void) state;
    assert_non_null(d);
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".json"))
            continue;
        json_object *root = load(SFFG_VALID, e->d_name);
        struct corch_err err = { .path = "", .msg = "" };
        struct graph *g = NULL;
        if (graph_from_json(root, NULL, &g, &err) < 0)
            fail_msg("%s rejected at %s: %s", e->d_name, err.path, err.msg);
        free(g->id);
        g->id = strdup("nffg-test");
        check_round_trip(g);
        graph_free(g);
        json_object_put(root);
    }
    closedir(d);
}

/* The NF-FG text goes through the SF-FG's reader: the same string rule
 * (issue 16, point 8), with paths naming what the client wrote, including
 * the keys the translation would drop. */
static void
test_strings(void **state)
{
    static const struct {
        const char *text;       /* The document. */
        const char *path;       /* Where it must fail. */
    } cases[] = {
        { "{\"forwarding-graph\":{\"name\":\"a\xff\xfe\"}}",
          "forwarding-graph.name" },
        { "{\"forwarding-graph\":{\"name\":\"a\\u0000b\"}}",
          "forwarding-graph.name" },
        { "{\"forwarding-graph\":{\"VNFs\":[{\"id\":\"v\",\"name\":\"v\","
          "\"ports\":[{\"id\":\"p\",\"name\":\"\\ud800\"}]}]}}",
          "forwarding-graph.VNFs[0].ports[0].name" },
        /* An ignored key (GUI layout) is still a string we store nowhere,
         * but it is the client's document: refused all the same. */
        { "{\"forwarding-graph\":{\"end-points\":[{\"id\":\"e\","
          "\"gui-position\":{\"x\\u0000\":1}}]}}",
          "forwarding-graph.end-points[0].gui-position.x\\u0000" },
        { "{\"forwarding-graph\":{\"big-switch\":{\"flow-rules\":[{\"id\":"
          "\"\xc0\x80\"}]}}}",
          "forwarding-graph.big-switch.flow-rules[0].id" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct corch_err err = { .path = "", .msg = "" };
        struct graph *g = NULL;
        int r = nffg_parse(cases[i].text, strlen(cases[i].text), 32, "x",
                           NULL, &g, &err);
        if (r >= 0) {
            graph_free(g);
            fail_msg("accepted: %s", cases[i].text);
        }
        assert_int_equal(r, -EINVAL);
        assert_int_equal(err.kind, CORCH_ERR_INVALID);
        if (strcmp(err.path, cases[i].path))
            fail_msg("error at '%s' (%s), expected '%s'", err.path, err.msg,
                     cases[i].path);
        assert_null(g);
    }

    /* A real graph read from its text means what its tree means. */
    char path[512];
    snprintf(path, sizeof path, "%s/%s", NFFG_DIR, shipped[2]);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    struct corch_err err = { .path = "", .msg = "" };
    struct graph *g = NULL;
    if (nffg_parse(text, n, 32, "nffg-test", NULL, &g, &err) < 0)
        fail_msg("rejected at '%s': %s", err.path, err.msg);
    json_object *root = load(NFFG_DIR, shipped[2]);
    struct graph *g2 = translate_ok(root, shipped[2]);
    assert_true(graph_equal(g, g2));
    graph_free(g2);
    graph_free(g);
    json_object_put(root);
    free(text);
}

/* A rule that repeats another's port_in, match and priority is refused
 * through the NF-FG as through the SF-FG (issue 16, point 9), named in
 * NF-FG terms. */
static void
test_rule_clash(void **state)
{
    const char *demo = "use-cases_configuration-service_demoGraph.json";
    json_object *root = load(NFFG_DIR, demo);
    json_object *rules = json_object_object_get(
        json_object_object_get(fg(root), "big-switch"), "flow-rules");
    json_object *copy = NULL;

    (void) state;
    assert_int_equal(json_object_deep_copy(rule(root, 1), &copy, NULL), 0);
    set(copy, "id", json_object_new_string("again"));
    json_object_array_add(rules, copy);
    size_t n = json_object_array_length(rules);
    char path[128];
    snprintf(path, sizeof path,
             "forwarding-graph.big-switch.flow-rules[%zu].match", n - 1);
    expect_error(root, -EINVAL, path);
    json_object_put(root);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_graphs),
        cmocka_unit_test(test_same_meaning_as_sffg),
        cmocka_unit_test(test_details),
        cmocka_unit_test(test_error_paths),
        cmocka_unit_test(test_sffg_corpus_through_nffg),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_rule_clash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
