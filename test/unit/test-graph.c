/* Unit tests of the SF-FG graph model: the corpora in test/data/sffg/
 * (every valid graph parses and survives a round trip, every invalid one
 * is rejected with the expected field path), number forms, IPv6, port
 * references with ':' in ids, equality, limits and the JSON depth limit. */
#include <config.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "flow.h"
#include "graph.h"

#define CORPUS TOP_SRCDIR "/test/data/sffg"

static char *
slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t) n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
    buf[n] = '\0';
    fclose(f);
    if (ret_len)
        *ret_len = (size_t) n;
    return buf;
}

static int
parse_text(const char *text, struct graph **g, struct corch_err *err)
{
    memset(err, 0, sizeof *err);
    return graph_parse(text, strlen(text), 64, NULL, g, err);
}

static struct graph *
parse_ok(const char *text)
{
    struct corch_err err;
    struct graph *g = NULL;
    int r = parse_text(text, &g, &err);
    if (r < 0)
        fail_msg("rejected at '%s': %s\n%s", err.path, err.msg, text);
    return g;
}

/* Parses 'text' expecting failure 'error' at 'path'. */
static void
parse_fails(const char *text, int error, const char *path)
{
    struct corch_err err;
    struct graph *g = NULL;
    int r = parse_text(text, &g, &err);
    if (r >= 0) {
        graph_free(g);
        fail_msg("accepted, expected %s: %s", path, text);
    }
    assert_int_equal(r, error);
    if (strcmp(err.path, path))
        fail_msg("error at '%s' (%s), expected '%s'", err.path, err.msg,
                 path);
    assert_true(err.msg[0] != '\0');
    assert_null(g);
}

static struct graph *
parse_file(const char *path)
{
    size_t len;
    char *text = slurp(path, &len);
    struct corch_err err = { .path = "", .msg = "" };
    struct graph *g = NULL;
    int r = graph_parse(text, len, 64, NULL, &g, &err);
    if (r < 0)
        fail_msg("%s rejected at '%s': %s", path, err.path, err.msg);
    free(text);
    return g;
}

/* Lists the .json files of a corpus directory (sorted). */
static size_t
list_json(const char *dir, char ***ret)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names,
          (int (*)(const void *, const void *)) strcmp);
    *ret = names;
    return n;
}

static void
free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* graph -> JSON -> graph gives an equal graph, and the normalised text is
 * a fixed point. */
static void
check_round_trip(const struct graph *g)
{
    json_object *j = graph_to_json(g), *j2;
    struct corch_err err = { .path = "", .msg = "" };
    struct graph *g2 = NULL, *c;

    if (graph_from_json(j, NULL, &g2, &err) < 0)
        fail_msg("normalised graph rejected at %s: %s\n%s", err.path,
                 err.msg, json_object_to_json_string(j));
    assert_true(graph_equal(g, g2));
    j2 = graph_to_json(g2);
    assert_string_equal(json_object_to_json_string(j),
                        json_object_to_json_string(j2));
    c = graph_clone(g2);
    assert_true(graph_equal(g, c));
    graph_free(c);
    graph_free(g2);
    json_object_put(j);
    json_object_put(j2);
}

static void
test_valid_corpus(void **state)
{
    char **names;
    size_t n = list_json(CORPUS "/valid", &names);

    (void) state;
    assert_true(n >= 10);
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, CORPUS "/valid/%s", names[i]);
        struct graph *g = parse_file(path);
        check_round_trip(g);
        graph_free(g);
    }
    free_names(names, n);
}

/* Every invalid file is rejected, and the error names the field listed in
 * expected-paths.txt; every invalid file has such a line. */
static void
check_invalid_dir(const char *kind)
{
    char dir[512], *expect = slurp(CORPUS "/expected-paths.txt", NULL);
    char **names;
    size_t n;

    snprintf(dir, sizeof dir, CORPUS "/%s", kind);
    n = list_json(dir, &names);
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        char path[512], key[512], want[256] = "";
        const char *line;
        size_t len;

        snprintf(key, sizeof key, "\n%s/%s\t", kind, names[i]);
        line = strstr(expect, key);
        if (!line)
            fail_msg("%s/%s has no line in expected-paths.txt", kind,
                     names[i]);
        line += strlen(key);
        len = strcspn(line, "\n");
        assert_true(len < sizeof want);
        memcpy(want, line, len);
        want[len] = '\0';

        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *text = slurp(path, &len);
        struct corch_err err = { .path = "", .msg = "" };
        struct graph *g = NULL;
        int r = graph_parse(text, len, 64, NULL, &g, &err);
        if (r >= 0)
            fail_msg("%s accepted", path);
        assert_int_equal(r, -EINVAL);
        assert_int_equal(err.kind, CORCH_ERR_INVALID);
        if (strcmp(err.path, want))
            fail_msg("%s: error at '%s' (%s), expected '%s'", path, err.path,
                     err.msg, want);
        assert_true(err.msg[0] != '\0');
        free(text);
    }
    free_names(names, n);
    free(expect);
}

static void
test_invalid_schema_corpus(void **state)
{
    (void) state;
    check_invalid_dir("invalid-schema");
}

static void
test_invalid_semantic_corpus(void **state)
{
    (void) state;
    check_invalid_dir("invalid-semantic");
}

#define BASE_PRE                                                        \
    "{\"sffg\":{\"id\":\"g\",\"SFs\":[{\"id\":\"fw\",\"name\":\"firewall\"," \
    "\"ports\":[{\"id\":\"0\"},{\"id\":\"1\"}]}],\"saps\":[{\"id\":\"s\","   \
    "\"type\":\"interface\",\"interface\":{\"if-name\":\"eth0\"}}],"         \
    "\"flowrules\":[{\"id\":\"r\","
#define BASE_POST "}]}}"

/* A one-rule graph whose rule body is 'rule'. */
static char *
rule_graph(const char *rule)
{
    char *s = NULL;
    assert_true(asprintf(&s, "%s%s%s", BASE_PRE, rule, BASE_POST) > 0);
    return s;
}

static struct graph *
rule_ok(const char *rule)
{
    char *t = rule_graph(rule);
    struct graph *g = parse_ok(t);
    free(t);
    return g;
}

static void
rule_fails(const char *rule, const char *path)
{
    char *t = rule_graph(rule);
    parse_fails(t, -EINVAL, path);
    free(t);
}

static void
test_number_forms(void **state)
{
    static const char *const forms[] = { "100", "\"100\"", "\"0x64\"",
                                         "\"0X64\"", "100.0" };
    (void) state;
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        char rule[512];
        snprintf(rule, sizeof rule, "\"priority\":%s,\"match\":{\"port_in\":"
                 "\"service-access-point:s\",\"vlan_id\":%s,\"ether_type\":"
                 "%s},\"actions\":{\"output_to_port\":\"sf:fw:0\","
                 "\"push_vlan\":%s}", forms[i], forms[i], forms[i], forms[i]);
        struct graph *g = rule_ok(rule);
        const struct graph_flowrule *r = &g->flowrules[0];
        assert_int_equal(r->priority, 100);
        assert_int_equal(r->match.vlan_id, 100);
        assert_int_equal(r->match.ether_type, 100);
        assert_int_equal(r->mods.push_vlan, 100);
        assert_true(r->match.fields & FLOW_M_VLAN_ID);
        graph_free(g);
    }
    /* Absent priority means 1; 0 and 65535 are the ends of the range. */
    struct graph *g = rule_ok("\"match\":{\"port_in\":\"sf:fw:0\"},"
                              "\"actions\":{\"output_to_port\":\"sf:fw:1\"}");
    assert_int_equal(g->flowrules[0].priority, 1);
    graph_free(g);
    g = rule_ok("\"priority\":\"0xffff\",\"match\":{\"port_in\":\"sf:fw:0\"},"
                "\"actions\":{\"output_to_port\":\"sf:fw:1\"}");
    assert_int_equal(g->flowrules[0].priority, 65535);
    graph_free(g);
    rule_fails("\"priority\":\"0x\",\"match\":{\"port_in\":\"sf:fw:0\"},"
               "\"actions\":{\"drop\":true}", "sffg.flowrules[0].priority");
    rule_fails("\"priority\":\"99999999999999999999999\",\"match\":"
               "{\"port_in\":\"sf:fw:0\"},\"actions\":{\"drop\":true}",
               "sffg.flowrules[0].priority");
    rule_fails("\"priority\":-3,\"match\":{\"port_in\":\"sf:fw:0\"},"
               "\"actions\":{\"drop\":true}", "sffg.flowrules[0].priority");
    rule_fails("\"priority\":\" 1\",\"match\":{\"port_in\":\"sf:fw:0\"},"
               "\"actions\":{\"drop\":true}", "sffg.flowrules[0].priority");
}

static void
test_ipv6_and_prefixes(void **state)
{
    struct graph *g = parse_file(CORPUS "/valid/ipv6.json");
    const struct graph_flowrule *a = graph_find_flowrule(g, "a");
    const struct graph_flowrule *b = graph_find_flowrule(g, "b");
    const struct graph_sap *t = graph_find_sap(g, "t");
    uint8_t want[16];

    (void) state;
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(t);
    assert_int_equal(a->match.source_ip.family, AF_INET6);
    assert_int_equal(a->match.source_ip.plen, 48);
    assert_int_equal(a->match.dest_ip.plen, 128);
    inet_pton(AF_INET6, "2001:db8::1", want);
    assert_memory_equal(a->match.dest_ip.addr, want, 16);
    /* Inferred from the addresses. */
    assert_true(a->match.fields & FLOW_M_ETHER_TYPE);
    assert_int_equal(a->match.ether_type, 0x86dd);
    assert_int_equal(b->match.ether_type, 0x86dd);
    assert_int_equal(b->match.icmp_type, 135);
    assert_int_equal(t->type, GRAPH_SAP_GRE);
    assert_int_equal(t->local_ip.family, AF_INET6);
    assert_true(t->has_gre_key);
    assert_int_equal(t->gre_key, 42);
    assert_int_equal(a->mods.set_dest_ip.family, AF_INET6);
    graph_free(g);

    /* Host bits beyond the prefix do not make a different match. */
    struct graph *x = rule_ok("\"match\":{\"port_in\":\"sf:fw:0\",\"source_ip\""
                              ":\"10.1.2.3/16\"},\"actions\":{\"drop\":true}");
    struct graph *y = rule_ok("\"match\":{\"port_in\":\"sf:fw:0\",\"source_ip\""
                              ":\"10.1.0.0/16\",\"ether_type\":2048},"
                              "\"actions\":{\"drop\":true}");
    assert_true(graph_flowrule_equal(x, &x->flowrules[0], y, &y->flowrules[0]));
    json_object *j = graph_to_json(x);
    assert_non_null(strstr(json_object_to_json_string(j), "10.1.0.0\\/16"));
    json_object_put(j);
    graph_free(x);
    graph_free(y);
    rule_fails("\"match\":{\"port_in\":\"sf:fw:0\",\"dest_ip\":\"::1/129\"},"
               "\"actions\":{\"drop\":true}", "sffg.flowrules[0].match.dest_ip");
    rule_fails("\"match\":{\"port_in\":\"sf:fw:0\",\"dest_ip\":\"10.0.0.1/\"},"
               "\"actions\":{\"drop\":true}", "sffg.flowrules[0].match.dest_ip");
    rule_fails("\"match\":{\"port_in\":\"sf:fw:0\",\"dest_ip\":\"10.0.0.1/08\"},"
               "\"actions\":{\"drop\":true}", "sffg.flowrules[0].match.dest_ip");
}

static void
test_colon_ids(void **state)
{
    struct graph *g = parse_file(CORPUS "/valid/colon-ids.json");
    char buf[256];

    (void) state;
    /* "sf:a:b:c": SF "a:b" has no port "c", so SF "a", port "b:c". */
    const struct graph_flowrule *r1 = graph_find_flowrule(g, "r1");
    assert_int_equal(r1->port_in.kind, GRAPH_PORT_SF);
    assert_string_equal(g->sfs[r1->port_in.sf].id, "a");
    assert_string_equal(g->sfs[r1->port_in.sf].ports[r1->port_in.port].id,
                        "b:c");
    /* "sf:a:b:c:d": the longest SF id that works, "a:b" + "c:d". */
    assert_string_equal(g->sfs[r1->outputs[0].sf].id, "a:b");
    graph_port_ref_format(g, &r1->outputs[0], buf, sizeof buf);
    assert_string_equal(buf, "sf:a:b:c:d");
    const struct graph_flowrule *r2 = graph_find_flowrule(g, "r2");
    assert_string_equal(g->sfs[r2->port_in.sf].id, "a:b");
    assert_string_equal(g->sfs[r2->outputs[0].sf].id, "vnf:1:2");
    graph_port_ref_format(g, &r2->outputs[0], buf, sizeof buf);
    assert_string_equal(buf, "sf:vnf:1:2:inout:0");
    const struct graph_sf *sf = graph_find_sf(g, "vnf:1:2");
    assert_non_null(sf);
    assert_string_equal(sf->template_id, "nat.json");
    assert_non_null(sf->config);
    assert_null(graph_find_sf(g, "vnf"));
    assert_null(graph_find_sap(g, "a"));
    assert_null(graph_find_flowrule(g, "r9"));
    graph_free(g);

    g = parse_file(CORPUS "/valid/base.json");
    graph_port_ref_format(g, &g->flowrules[1].outputs[0], buf, sizeof buf);
    assert_string_equal(buf, "service-access-point:sap2");
    graph_free(g);

    /* Ids of the full 64 characters, both made of ':' pieces. */
    char id[65], text[1024];
    memset(id, 'a', 64);
    id[64] = '\0';
    id[10] = id[20] = ':';
    snprintf(text, sizeof text, "{\"sffg\":{\"id\":\"g\",\"SFs\":[{\"id\":"
             "\"%s\",\"name\":\"n\",\"ports\":[{\"id\":\"%s\"},{\"id\":"
             "\"p\"}]}],\"flowrules\":[{\"id\":\"r\",\"match\":{\"port_in\":"
             "\"sf:%s:%s\"},\"actions\":{\"output_to_port\":\"sf:%s:p\"}}]}}",
             id, id, id, id, id);
    g = parse_ok(text);
    assert_int_equal(g->flowrules[0].port_in.port, 0);
    graph_free(g);

    /* A huge reference of ':' is refused, and fast. */
    size_t n = 200000;
    char *huge = malloc(n + 256);
    int k = snprintf(huge, 256, "%s\"match\":{\"port_in\":\"sf:", BASE_PRE);
    memset(huge + k, ':', n);
    snprintf(huge + k + n, 256, "\"},\"actions\":{\"drop\":true}%s",
             BASE_POST);
    uint64_t t0 = time_ns();
    parse_fails(huge, -EINVAL, "sffg.flowrules[0].match.port_in");
    assert_true(time_ns() - t0 < 2000000000u);
    free(huge);
}

static void
test_normalised_output(void **state)
{
    struct graph *g = parse_file(CORPUS "/valid/paper-fig4.json");
    json_object *j = graph_to_json(g), *sffg, *saps, *v;

    (void) state;
    assert_true(json_object_object_get_ex(j, "sffg", &sffg));
    assert_true(json_object_object_get_ex(sffg, "saps", &saps));
    /* "25" and "0x1" come out as numbers. */
    v = json_object_object_get(json_object_object_get(
            json_object_array_get_idx(saps, 1), "vlan"), "vlan-id");
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int(v), 25);
    v = json_object_object_get(json_object_object_get(
            json_object_array_get_idx(saps, 2), "gre"), "gre-key");
    assert_int_equal(json_object_get_int(v), 1);
    json_object_put(j);
    graph_free(g);

    g = parse_file(CORPUS "/valid/full-match-ipv4.json");
    j = graph_to_json(g);
    const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
    assert_non_null(strstr(s, "\"dest_mac\":\"aa:bb:cc:dd:ee:ff\""));
    assert_non_null(strstr(s, "\"dest_port\":80"));
    assert_non_null(strstr(s, "\"ether_type\":2048"));
    json_object_put(j);
    graph_free(g);
}

static void
test_actions_forms(void **state)
{
    (void) state;
    struct graph *a = rule_ok("\"match\":{\"port_in\":\"sf:fw:0\"},"
                              "\"actions\":[{\"pop_vlan\":true},"
                              "{\"output_to_port\":\"sf:fw:1\"},"
                              "{\"set_dest_mac\":\"02:00:00:00:00:01\"},"
                              "{\"output_to_port\":\"service-access-point:s\"}]");
    struct graph *b = rule_ok("\"match\":{\"port_in\":\"sf:fw:0\"},"
                              "\"actions\":{\"output_to_port\":[\"sf:fw:1\","
                              "\"service-access-point:s\"],\"pop_vlan\":true,"
                              "\"set_dest_mac\":\"02:00:00:00:00:01\"}");
    assert_int_equal(a->flowrules[0].n_outputs, 2);
    assert_true(a->flowrules[0].mods.fields & FLOW_A_POP_VLAN);
    assert_true(graph_flowrule_equal(a, &a->flowrules[0], b, &b->flowrules[0]));
    graph_free(a);
    graph_free(b);
    /* pop_vlan: false is no action at all. */
    a = rule_ok("\"match\":{\"port_in\":\"sf:fw:0\"},\"actions\":"
                "{\"output_to_port\":\"sf:fw:1\",\"pop_vlan\":false}");
    assert_int_equal(a->flowrules[0].mods.fields, 0);
    graph_free(a);
    rule_fails("\"match\":{\"port_in\":\"sf:fw:0\"},\"actions\":"
               "{\"drop\":true,\"push_vlan\":5}",
               "sffg.flowrules[0].actions.drop");
    rule_fails("\"match\":{\"port_in\":\"sf:fw:0\"},\"actions\":[[1]]",
               "sffg.flowrules[0].actions[0]");
    rule_fails("\"match\":{\"port_in\":\"sf:fw:0\"},\"actions\":"
               "{\"output_to_port\":[\"sf:fw:1\",7]}",
               "sffg.flowrules[0].actions.output_to_port[1]");
    rule_fails("\"match\":{\"port_in\":\"sf:fw:0\"},\"actions\":"
               "{\"output_to_port\":\"sf:fw:0\"}",
               "sffg.flowrules[0].actions.output_to_port");
    rule_fails("\"match\":{\"port_in\":\"sf:fw:0\"},\"actions\":"
               "[{\"output_to_port\":\"sf:fw:1\"},{\"set_dest_ip\":\"::1\"}]",
               "sffg.flowrules[0].actions[1].set_dest_ip");
    /* At most 64 outputs / actions per rule: a bound of the format. */
    {
        char big[8192];
        size_t n = (size_t) snprintf(big, sizeof big, "\"match\":{\"port_in\":"
                                     "\"sf:fw:0\"},\"actions\":[");
        for (int i = 0; i < 65; i++)
            n += (size_t) snprintf(big + n, sizeof big - n,
                                   "%s{\"pop_vlan\":false}", i ? "," : "");
        snprintf(big + n, sizeof big - n, "]");
        rule_fails(big, "sffg.flowrules[0].actions");
    }
    rule_fails("\"match\":{\"port_in\":\"sf:fw:\"},\"actions\":{\"drop\":true}",
               "sffg.flowrules[0].match.port_in");
    rule_fails("\"match\":{\"port_in\":\"sf:fw\"},\"actions\":{\"drop\":true}",
               "sffg.flowrules[0].match.port_in");
}

static void
test_prerequisites(void **state)
{
    (void) state;
    /* ether_type inferred from protocol 1 / 58. */
    struct graph *g = rule_ok("\"match\":{\"port_in\":\"sf:fw:0\",\"protocol\":"
                              "58,\"icmp_type\":128},\"actions\":{\"drop\":true}");
    assert_int_equal(g->flowrules[0].match.ether_type, 0x86dd);
    graph_free(g);
    g = rule_ok("\"match\":{\"port_in\":\"sf:fw:0\",\"ether_type\":\"0x0800\","
                "\"protocol\":132,\"source_port\":9,\"ip_dscp\":\"0x3f\"},"
                "\"actions\":{\"output_to_port\":\"sf:fw:1\",\"set_source_ip\":"
                "\"1.2.3.4\"}");
    assert_int_equal(g->flowrules[0].match.ip_dscp, 63);
    graph_free(g);
    rule_fails("\"match\":{\"port_in\":\"sf:fw:0\",\"protocol\":17,"
               "\"ether_type\":2048,\"icmp_code\":1},\"actions\":{\"drop\":true}",
               "sffg.flowrules[0].match.icmp_code");
    rule_fails("\"match\":{\"port_in\":\"sf:fw:0\",\"ether_type\":2048,"
               "\"dest_ip\":\"::1\"},\"actions\":{\"drop\":true}",
               "sffg.flowrules[0].match.dest_ip");
    rule_fails("\"match\":{\"port_in\":\"sf:fw:0\",\"ether_type\":2048},"
               "\"actions\":{\"output_to_port\":\"sf:fw:1\",\"set_source_ip\":"
               "\"::1\"}", "sffg.flowrules[0].actions.set_source_ip");
}

static void
test_equality(void **state)
{
    (void) state;
    /* The same graph with the SAPs and SFs listed in another order: rules
     * are compared by the ids their references name, not by indices. */
    struct graph *a = parse_ok(
        "{\"sffg\":{\"id\":\"g\",\"SFs\":[{\"id\":\"x\",\"name\":\"n\","
        "\"ports\":[{\"id\":\"0\"}]},{\"id\":\"y\",\"name\":\"n\",\"ports\":"
        "[{\"id\":\"0\"}]}],\"saps\":[{\"id\":\"s1\",\"type\":\"interface\","
        "\"interface\":{\"if-name\":\"eth0\"}},{\"id\":\"s2\",\"type\":"
        "\"interface\",\"interface\":{\"if-name\":\"eth1\"}}],\"flowrules\":"
        "[{\"id\":\"r\",\"match\":{\"port_in\":\"service-access-point:s2\"},"
        "\"actions\":{\"output_to_port\":\"sf:y:0\"}}]}}");
    struct graph *b = parse_ok(
        "{\"sffg\":{\"id\":\"g\",\"SFs\":[{\"id\":\"y\",\"name\":\"n\","
        "\"ports\":[{\"id\":\"0\"}]},{\"id\":\"x\",\"name\":\"n\",\"ports\":"
        "[{\"id\":\"0\"}]}],\"saps\":[{\"id\":\"s2\",\"type\":\"interface\","
        "\"interface\":{\"if-name\":\"eth1\"}},{\"id\":\"s1\",\"type\":"
        "\"interface\",\"interface\":{\"if-name\":\"eth0\"}}],\"flowrules\":"
        "[{\"id\":\"r\",\"priority\":\"1\",\"match\":{\"port_in\":"
        "\"service-access-point:s2\"},\"actions\":[{\"output_to_port\":"
        "\"sf:y:0\"}]}]}}");
    assert_true(graph_flowrule_equal(a, &a->flowrules[0], b, &b->flowrules[0]));
    assert_false(graph_equal(a, b));        /* Order differs. */
    assert_true(graph_sf_equal(graph_find_sf(a, "x"), graph_find_sf(b, "x")));
    assert_true(graph_sap_equal(graph_find_sap(a, "s1"),
                                graph_find_sap(b, "s1")));
    assert_false(graph_sap_equal(graph_find_sap(a, "s1"),
                                 graph_find_sap(b, "s2")));
    /* A rule pointing elsewhere differs. */
    assert_false(graph_flowrule_equal(a, &a->flowrules[0], a,
                                      &(struct graph_flowrule) {
                                          .priority = 1,
                                          .port_in = { .kind = GRAPH_PORT_SAP,
                                                       .sap = 0 },
                                          .outputs = a->flowrules[0].outputs,
                                          .n_outputs = 1 }));
    graph_free(a);
    graph_free(b);

    /* SF config is part of an SF's identity. */
    a = parse_ok("{\"sffg\":{\"id\":\"g\",\"SFs\":[{\"id\":\"x\",\"name\":"
                 "\"n\",\"config\":{\"k\":[1,2]},\"ports\":[]}]}}");
    b = parse_ok("{\"sffg\":{\"id\":\"g\",\"SFs\":[{\"id\":\"x\",\"name\":"
                 "\"n\",\"config\":{\"k\":[1,3]},\"ports\":[]}]}}");
    assert_false(graph_sf_equal(&a->sfs[0], &b->sfs[0]));
    graph_free(b);
    b = graph_clone(a);
    assert_true(graph_sf_equal(&a->sfs[0], &b->sfs[0]));
    assert_true(graph_equal(a, b));
    graph_free(a);
    graph_free(b);

    /* flow_*_equal look only at present fields. */
    struct flow_match m1 = { .fields = FLOW_M_VLAN_ID, .vlan_id = 5,
                             .protocol = 6 };
    struct flow_match m2 = { .fields = FLOW_M_VLAN_ID, .vlan_id = 5,
                             .protocol = 17 };
    assert_true(flow_match_equal(&m1, &m2));
    m2.vlan_id = 6;
    assert_false(flow_match_equal(&m1, &m2));
    m2.vlan_id = 5;
    m2.fields |= FLOW_M_PROTOCOL;
    assert_false(flow_match_equal(&m1, &m2));
    struct flow_mods a1 = { .fields = FLOW_A_PUSH_VLAN, .push_vlan = 3,
                            .set_source_mac = { 1 } };
    struct flow_mods a2 = { .fields = FLOW_A_PUSH_VLAN, .push_vlan = 3 };
    assert_true(flow_mods_equal(&a1, &a2));
    a2.fields |= FLOW_A_SET_SOURCE_MAC;
    a1.fields |= FLOW_A_SET_SOURCE_MAC;
    assert_false(flow_mods_equal(&a1, &a2));
    struct flow_match i1 = { .fields = FLOW_M_SOURCE_IP,
                             .source_ip = { .family = AF_INET, .plen = 8,
                                            .addr = { 10 } } };
    struct flow_match i2 = i1;
    i2.source_ip.addr[8] = 1;       /* Beyond an IPv4 address: ignored. */
    assert_true(flow_match_equal(&i1, &i2));
    i2.source_ip.plen = 9;
    assert_false(flow_match_equal(&i1, &i2));
}

/* flow.c on its own: the prerequisites name the field at fault, and a
 * match that says its IP version gets its ether_type. */
static void
test_flow_prerequisites(void **state)
{
    struct flow_problem pb = { 0 };
    (void) state;

    struct flow_match m = { .fields = FLOW_M_VLAN_PCP, .vlan_pcp = 3 };
    assert_int_equal(flow_match_complete(&m, &pb), -EINVAL);
    assert_int_equal(pb.field, FLOW_M_VLAN_PCP);
    assert_string_equal(pb.msg, "needs vlan_id");

    m = (struct flow_match) { .fields = FLOW_M_PROTOCOL | FLOW_M_DEST_PORT,
                              .protocol = 1, .dest_port = 80 };
    assert_int_equal(flow_match_complete(&m, &pb), -EINVAL);
    assert_int_equal(pb.field, FLOW_M_DEST_PORT);
    /* The ether_type that protocol 1 implies is not left behind. */
    assert_false(m.fields & FLOW_M_ETHER_TYPE);

    m = (struct flow_match) { .fields = FLOW_M_PROTOCOL | FLOW_M_ICMP_TYPE,
                              .protocol = 58, .icmp_type = 128 };
    assert_int_equal(flow_match_complete(&m, &pb), 0);
    assert_true(m.fields & FLOW_M_ETHER_TYPE);
    assert_int_equal(m.ether_type, 0x86dd);

    m = (struct flow_match) { .fields = FLOW_M_SOURCE_IP | FLOW_M_DEST_IP,
                              .source_ip = { .family = AF_INET, .plen = 8 },
                              .dest_ip = { .family = AF_INET6, .plen = 8 } };
    assert_int_equal(flow_match_complete(&m, &pb), -EINVAL);
    assert_int_equal(pb.field, FLOW_M_DEST_IP);

    m = (struct flow_match) { .fields = FLOW_M_SOURCE_IP,
                              .source_ip = { .family = AF_INET, .plen = 8 } };
    assert_int_equal(flow_match_complete(&m, &pb), 0);
    assert_int_equal(m.ether_type, 0x0800);
    struct flow_mods mods = {
        .fields = FLOW_A_SET_DEST_IP,
        .set_dest_ip = { .family = AF_INET6, .plen = 128 },
    };
    assert_int_equal(flow_mods_check(&mods, &m, &pb), -EINVAL);
    assert_int_equal(pb.field, FLOW_A_SET_DEST_IP);
    mods.set_dest_ip.family = AF_INET;
    mods.set_dest_ip.plen = 32;
    assert_int_equal(flow_mods_check(&mods, &m, &pb), 0);
}

static void
test_limits(void **state)
{
    struct graph_limits lim = { .max_sfs = 1, .max_flowrules = 1,
                                .max_saps = 1 };
    struct corch_err err = { .path = "", .msg = "" };
    struct graph *g = NULL;
    size_t len;
    char *text = slurp(CORPUS "/valid/base.json", &len);

    (void) state;
    assert_int_equal(graph_parse(text, len, 64, &lim, &g, &err), -E2BIG);
    assert_string_equal(err.path, "sffg.saps");
    assert_int_equal(err.kind, CORCH_ERR_TOO_LARGE);
    lim.max_saps = 2;
    assert_int_equal(graph_parse(text, len, 64, &lim, &g, &err), -E2BIG);
    assert_string_equal(err.path, "sffg.flowrules");
    lim.max_flowrules = 2;
    assert_int_equal(graph_parse(text, len, 64, &lim, &g, &err), 0);
    graph_free(g);
    g = NULL;
    lim.max_sfs = 0;    /* 0: no limit. */
    assert_int_equal(graph_parse(text, len, 64, &lim, &g, &err), 0);
    graph_free(g);
    free(text);

    g = NULL;
    text = slurp(CORPUS "/valid/colon-ids.json", &len);
    lim.max_sfs = 2;
    assert_int_equal(graph_parse(text, len, 64, &lim, &g, &err), -E2BIG);
    assert_string_equal(err.path, "sffg.SFs");
    assert_null(g);
    free(text);
}

static void
test_bad_json(void **state)
{
    struct corch_err err;
    struct graph *g = NULL;
    char deep[4096];
    size_t n = 0;

    (void) state;
    parse_fails("", -EINVAL, "");
    memset(&err, 0, sizeof err);
    assert_int_equal(graph_parse(NULL, 0, 64, NULL, &g, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "empty"));
    /* A NULL 'err' is allowed: the caller only wants the verdict. */
    assert_int_equal(graph_parse("{}", 2, 64, NULL, &g, NULL), -EINVAL);
    assert_null(g);
    parse_fails("{\"sffg\":{\"id\":\"g\"", -EINVAL, "");
    parse_fails("{\"sffg\":{\"id\":\"g\"}} x", -EINVAL, "");
    parse_fails("{\"sffg\":{\"id\":'g'}}", -EINVAL, "");
    parse_fails("garbage", -EINVAL, "");
    parse_fails("{\"sffg\":{\"id\":\"g\",}}", -EINVAL, "");
    parse_fails("null", -EINVAL, "");
    parse_fails("{\"sffg\":null}", -EINVAL, "sffg");
    memset(&err, 0, sizeof err);
    assert_int_equal(graph_parse("{\"sffg\":{\"id\":\"g\"}}\0junk", 24, 64,
                                 NULL, &g, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "JSON"));
    /* Whitespace around the document is fine. */
    g = parse_ok("\n {\"sffg\":{\"id\":\"g\"}} \n");
    graph_free(g);

    /* Depth: a config nested 40 deep is refused at depth 32 and accepted
     * at 64. */
    n += (size_t) snprintf(deep + n, sizeof deep - n, "{\"sffg\":{\"id\":\"g\","
                           "\"SFs\":[{\"id\":\"x\",\"name\":\"n\",\"ports\":[],"
                           "\"config\":");
    for (int i = 0; i < 40; i++)
        n += (size_t) snprintf(deep + n, sizeof deep - n, "{\"a\":");
    n += (size_t) snprintf(deep + n, sizeof deep - n, "1");
    for (int i = 0; i < 40; i++)
        n += (size_t) snprintf(deep + n, sizeof deep - n, "}");
    n += (size_t) snprintf(deep + n, sizeof deep - n, "}]}}");
    memset(&err, 0, sizeof err);
    g = NULL;
    assert_int_equal(graph_parse(deep, n, 32, NULL, &g, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "deeper"));
    assert_null(g);
    assert_int_equal(graph_parse(deep, n, 64, NULL, &g, &err), 0);
    check_round_trip(g);
    graph_free(g);
    g = NULL;
    /* 0 means json-c's default depth (32). */
    assert_int_equal(graph_parse(deep, n, 0, NULL, &g, &err), -EINVAL);
}

static void
test_sap_types(void **state)
{
    struct graph *g = parse_file(CORPUS "/valid/host-stack-internal.json");
    const struct graph_sap *hs = graph_find_sap(g, "hs");
    const struct graph_sap *in = graph_find_sap(g, "int");

    (void) state;
    assert_int_equal(hs->type, GRAPH_SAP_HOST_STACK);
    assert_int_equal(hs->ipv4.family, AF_INET);
    assert_int_equal(hs->ipv4.plen, 24);
    assert_int_equal(hs->ipv4.addr[3], 2);   /* Host bits kept. */
    assert_string_equal(hs->name, "control");
    assert_int_equal(in->type, GRAPH_SAP_INTERNAL);
    assert_string_equal(in->internal_group, "1");
    assert_string_equal(graph_sap_type_name(GRAPH_SAP_HOST_STACK),
                        "host-stack");
    assert_string_equal(graph_sap_type_name(GRAPH_SAP_GRE), "gre");
    graph_free(g);
    /* Same VLAN twice on one interface. */
    parse_fails("{\"sffg\":{\"id\":\"g\",\"saps\":[{\"id\":\"a\",\"type\":"
                "\"vlan\",\"vlan\":{\"vlan-id\":5,\"if-name\":\"eth0\"}},"
                "{\"id\":\"b\",\"type\":\"vlan\",\"vlan\":{\"vlan-id\":\"0x5\","
                "\"if-name\":\"eth0\"}}]}}", -EINVAL, "sffg.saps[1].vlan.vlan-id");
    /* Another VLAN on it is fine. */
    g = parse_ok("{\"sffg\":{\"id\":\"g\",\"saps\":[{\"id\":\"a\",\"type\":"
                 "\"vlan\",\"vlan\":{\"vlan-id\":5,\"if-name\":\"eth0\"}},"
                 "{\"id\":\"b\",\"type\":\"vlan\",\"vlan\":{\"vlan-id\":6,"
                 "\"if-name\":\"eth0\"}}]}}");
    graph_free(g);
    parse_fails("{\"sffg\":{\"id\":\"g\",\"saps\":[{\"id\":\"h\",\"type\":"
                "\"host-stack\",\"host-stack\":{\"configuration\":\"static\","
                "\"ipv4\":\"fe80::1/64\"}}]}}", -EINVAL,
                "sffg.saps[0].host-stack.ipv4");
    parse_fails("{\"sffg\":{\"id\":\"g\",\"saps\":[{\"id\":\"-x\",\"type\":"
                "\"internal\",\"internal\":{\"internal-group\":\"1\"}}]}}",
                -EINVAL, "sffg.saps[0].id");
}

/* Two rules with the same port_in, match and priority are one OpenFlow
 * entry (issue 16, point 9): the second is refused, named.  Spellings that
 * mean the same (0x800 and 2048, a host address inside a prefix, the
 * default priority) are the same. */
static void
test_rule_clashes(void **state)
{
    static const char head[] =
        "{\"sffg\":{\"id\":\"g\",\"saps\":["
        "{\"id\":\"a\",\"type\":\"interface\",\"interface\":{\"if-name\":\"eth1\"}},"
        "{\"id\":\"b\",\"type\":\"interface\",\"interface\":{\"if-name\":\"eth2\"}},"
        "{\"id\":\"c\",\"type\":\"interface\",\"interface\":{\"if-name\":\"eth3\"}}],"
        "\"flowrules\":[";
    static const struct {
        const char *r1, *r2;    /* The two rules' "priority" and "match". */
        bool clash;             /* Must the second be refused? */
    } cases[] = {
        { "\"priority\":10,\"match\":{\"port_in\":\"service-access-point:a\"}",
          "\"priority\":10,\"match\":{\"port_in\":\"service-access-point:a\"}",
          true },
        { "\"match\":{\"port_in\":\"service-access-point:a\"}",
          "\"priority\":1,\"match\":{\"port_in\":\"service-access-point:a\"}",
          true },
        { "\"match\":{\"port_in\":\"service-access-point:a\",\"ether_type\":"
          "\"0x800\",\"dest_ip\":\"10.0.0.1/24\"}",
          "\"match\":{\"port_in\":\"service-access-point:a\",\"ether_type\":"
          "2048,\"dest_ip\":\"10.0.0.0/24\"}", true },
        { "\"priority\":10,\"match\":{\"port_in\":\"service-access-point:a\"}",
          "\"priority\":11,\"match\":{\"port_in\":\"service-access-point:a\"}",
          false },
        { "\"match\":{\"port_in\":\"service-access-point:a\"}",
          "\"match\":{\"port_in\":\"service-access-point:b\"}", false },
        { "\"match\":{\"port_in\":\"service-access-point:a\",\"vlan_id\":5}",
          "\"match\":{\"port_in\":\"service-access-point:a\",\"vlan_id\":6}",
          false },
        { "\"match\":{\"port_in\":\"service-access-point:a\"}",
          "\"match\":{\"port_in\":\"service-access-point:a\",\"vlan_id\":6}",
          false },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[2048];
        snprintf(text, sizeof text, "%s"
                 "{\"id\":\"r0\",\"match\":{\"port_in\":"
                 "\"service-access-point:b\",\"vlan_id\":9},"
                 "\"actions\":{\"output_to_port\":\"service-access-point:c\"}},"
                 "{\"id\":\"one\",%s,\"actions\":{\"output_to_port\":"
                 "\"service-access-point:c\"}},"
                 "{\"id\":\"two\",%s,\"actions\":{\"output_to_port\":"
                 "\"service-access-point:c\"}}]}}", head, cases[i].r1,
                 cases[i].r2);
        if (!cases[i].clash) {
            struct graph *g = parse_ok(text);
            graph_free(g);
            continue;
        }
        parse_fails(text, -EINVAL, "sffg.flowrules[2].match");
        struct corch_err err;
        struct graph *g = NULL;
        assert_int_equal(parse_text(text, &g, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "\"two\""));
        assert_non_null(strstr(err.msg, "\"one\""));
    }
}

/* Every string of the document, member names included, is valid UTF-8
 * without NUL (issue 16, point 8): such a string is stored and echoed to
 * every client, and json-c keeps bad bytes and cuts names at "\u0000".
 * The error names the string. */
static void
test_strings(void **state)
{
    static const struct {
        const char *text;       /* The document. */
        const char *path;       /* Where it must fail, or NULL: accepted. */
    } cases[] = {
        /* The case: bytes ff fe in the graph's name. */
        { "{\"sffg\":{\"id\":\"g\",\"name\":\"a\xff\xfe\"}}", "sffg.name" },
        { "{\"sffg\":{\"id\":\"g\",\"name\":\"a\\u0000b\"}}", "sffg.name" },
        { "{\"sffg\":{\"id\":\"g\",\"name\":\"\\u0000\"}}", "sffg.name" },
        /* Overlong, surrogate, above U+10FFFF, truncated, lone escapes. */
        { "{\"sffg\":{\"id\":\"g\",\"name\":\"\xc0\xaf\"}}", "sffg.name" },
        { "{\"sffg\":{\"id\":\"g\",\"name\":\"\xed\xa0\x80\"}}", "sffg.name" },
        { "{\"sffg\":{\"id\":\"g\",\"name\":\"\xf4\x90\x80\x80\"}}",
          "sffg.name" },
        { "{\"sffg\":{\"id\":\"g\",\"name\":\"\xe2\x82\"}}", "sffg.name" },
        { "{\"sffg\":{\"id\":\"g\",\"name\":\"\\ud800\"}}", "sffg.name" },
        { "{\"sffg\":{\"id\":\"g\",\"name\":\"\\udc00x\"}}", "sffg.name" },
        { "{\"sffg\":{\"id\":\"g\",\"name\":\"\\ud800\\u0041\"}}",
          "sffg.name" },
        /* Member names: json-c would read "name\u0000x" as "name". */
        { "{\"sffg\":{\"id\":\"g\",\"name\\u0000x\":\"n\"}}",
          "sffg.name\\u0000x" },
        { "{\"sffg\":{\"id\":\"g\",\"\xff\":1}}", "sffg.\\xff" },
        /* Deep in an SF's free-form config, and in arrays. */
        { "{\"sffg\":{\"id\":\"g\",\"SFs\":[{\"id\":\"a\",\"name\":\"a\","
          "\"ports\":[],\"config\":{\"k\":[1,\"ok\",\"\xff\"]}}]}}",
          "sffg.SFs[0].config.k[2]" },
        { "{\"sffg\":{\"id\":\"g\",\"saps\":[{\"id\":\"s\"},{\"id\":\"t\","
          "\"name\":\"\\u0000\"}]}}", "sffg.saps[1].name" },
        /* A bad id is named as well, before the id rules see it. */
        { "{\"sffg\":{\"id\":\"g\\u0000\"}}", "sffg.id" },
        /* Valid text of every length, escaped or not, is accepted. */
        { "{\"sffg\":{\"id\":\"g\",\"name\":\"caf\xc3\xa9 \xe2\x82\xac "
          "\xf0\x9f\x98\x80 \\u00e9 \\ud83d\\ude00 \\\" \\\\u0000\"}}",
          NULL },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (cases[i].path) {
            parse_fails(cases[i].text, -EINVAL, cases[i].path);
            continue;
        }
        struct graph *g = parse_ok(cases[i].text);
        check_round_trip(g);
        graph_free(g);
    }

    /* The message never repeats the bad bytes: it goes back to clients. */
    struct corch_err err;
    struct graph *g = NULL;
    assert_int_equal(parse_text("{\"sffg\":{\"id\":\"g\",\"name\":\"\xff\"}}",
                                &g, &err), -EINVAL);
    assert_int_equal(err.kind, CORCH_ERR_INVALID);
    assert_non_null(strstr(err.msg, "UTF-8"));
    assert_int_equal(utf8_check(err.msg, strlen(err.msg), NULL), 0);
    assert_int_equal(utf8_check(err.path, strlen(err.path), NULL), 0);

    /* A message that quotes a valid string cut inside a character
     * ("%.80s") is still UTF-8. */
    char text[512];
    size_t n = (size_t) snprintf(text, sizeof text, "{\"sffg\":{\"id\":\"a");
    for (int k = 0; k < 60; k++)
        n += (size_t) snprintf(text + n, sizeof text - n, "\xc3\xa9");
    snprintf(text + n, sizeof text - n, "\"}}");
    assert_int_equal(parse_text(text, &g, &err), -EINVAL);
    assert_string_equal(err.path, "sffg.id");
    assert_int_equal(utf8_check(err.msg, strlen(err.msg), NULL), 0);

    /* The byte rule on its own. */
    size_t where = 99;
    assert_int_equal(utf8_check("ab\xc3\xa9", 4, NULL), 0);
    assert_int_equal(utf8_check("ab\0c", 4, &where), -EINVAL);
    assert_int_equal(where, 2);
    assert_int_equal(utf8_check("a\xc3", 2, &where), -EILSEQ);
    assert_int_equal(where, 1);
    assert_int_equal(utf8_check("\xe0\x80\x80", 3, &where), -EILSEQ);
    assert_int_equal(where, 0);
}

/* The daemon never crashes on input: thousands of byte-level mutations of
 * the valid corpus either parse (and then round-trip) or fail cleanly with
 * a message.  Deterministic (fixed seed) so that a failure reproduces. */
static void
test_mutations(void **state)
{
    static const char *const files[] = {
        "full-match-ipv4.json", "ipv6.json", "colon-ids.json",
        "actions-array-form.json", "paper-fig4.json",
    };
    static const char alphabet[] = "{}[]\":,0123456789x-./ abcsf\\";
    unsigned int seed = 12345;

    (void) state;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char path[512];
        size_t len;
        snprintf(path, sizeof path, CORPUS "/valid/%s", files[f]);
        char *orig = slurp(path, &len);
        for (int round = 0; round < 600; round++) {
            char *text = malloc(len + 1);
            size_t n = len;
            memcpy(text, orig, len + 1);
            int edits = 1 + (int) (rand_r(&seed) % 4);
            for (int e = 0; e < edits && n > 1; e++) {
                size_t at = (size_t) rand_r(&seed) % n;
                switch (rand_r(&seed) % 3) {
                case 0:     /* Replace a byte. */
                    text[at] = alphabet[(size_t) rand_r(&seed)
                                        % (sizeof alphabet - 1)];
                    break;
                case 1:     /* Delete a byte. */
                    memmove(text + at, text + at + 1, n - at);
                    n--;
                    break;
                default:    /* Truncate. */
                    n = at;
                    text[n] = '\0';
                    break;
                }
            }
            struct corch_err err = { .path = "", .msg = "" };
            struct graph *g = NULL;
            int r = graph_parse(text, n, 64, NULL, &g, &err);
            if (r == 0) {
                check_round_trip(g);
                graph_free(g);
            } else {
                assert_true(r == -EINVAL || r == -E2BIG);
                assert_true(err.msg[0] != '\0');
                assert_null(g);
            }
            free(text);
        }
        free(orig);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_corpus),
        cmocka_unit_test(test_invalid_schema_corpus),
        cmocka_unit_test(test_invalid_semantic_corpus),
        cmocka_unit_test(test_number_forms),
        cmocka_unit_test(test_ipv6_and_prefixes),
        cmocka_unit_test(test_colon_ids),
        cmocka_unit_test(test_normalised_output),
        cmocka_unit_test(test_actions_forms),
        cmocka_unit_test(test_prerequisites),
        cmocka_unit_test(test_equality),
        cmocka_unit_test(test_flow_prerequisites),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_sap_types),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_rule_clashes),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
