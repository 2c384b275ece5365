/* Tests of the SF repository, the resolver and the scheduler, with the
 * templates of test/data/repository and fake engines. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "compute.h"
#include "compute/dummy/compute-dummy.h"
#include "corch-config.h"
#include "graph.h"
#include "jsonschema.h"
#include "repository.h"
#include "resolver.h"
#include "scheduler.h"

static int
probe_ok(struct compute_engine *e, struct corch_err *err)
{
    (void) e;
    (void) err;
    return 0;
}

static int
probe_down(struct compute_engine *e, struct corch_err *err)
{
    (void) e;
    return corch_err_set(err, -ECONNREFUSED, NULL, "docker daemon down");
}

/* Engines for the resolver only: never asked to run anything. */
static const struct compute_class fake_native = {
    .type = "native", .probe = probe_ok,
    .default_port_tech = VSWITCH_PORT_VETH,
};
static const struct compute_class fake_docker = {
    .type = "docker", .probe = probe_down,
    .default_port_tech = VSWITCH_PORT_VETH,
};
static const struct compute_class fake_kvm = {
    .type = "kvm", .probe = probe_ok, .default_port_tech = VSWITCH_PORT_TAP,
};

static struct repository *repo;

static void
enable_engines(const char *list)
{
    struct corch_config cfg;
    struct corch_err err = { .path = "", .msg = "" };
    char set[128];
    config_init(&cfg);
    snprintf(set, sizeof set, "compute.drivers=%s", list);
    assert_int_equal(config_set(&cfg, set, &err), 0);
    int r = compute_engines_init(&cfg, &err);
    if (r)
        fail_msg("compute_engines_init: %s", err.msg);
    config_destroy(&cfg);
}

static int
setup(void **state)
{
    (void) state;
    compute_register(&fake_native);
    compute_register(&fake_docker);
    compute_register(&fake_kvm);
    compute_register(&compute_dummy_class);

    struct corch_config cfg;
    struct corch_err err = { .path = "", .msg = "" };
    config_init(&cfg);
    assert_int_equal(config_set(&cfg, "repository.path=" TOP_SRCDIR
                                "/test/data/repository", &err), 0);
    assert_int_equal(repository_open(&cfg, &repo, &err), 0);
    config_destroy(&cfg);
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    compute_engines_fini();
    repository_close(repo);
    return 0;
}

static struct graph *
one_sf(const char *name, const char *tmpl, int n_ports)
{
    char text[1024];
    char ports[256] = "";
    for (int i = 0; i < n_ports; i++)
        snprintf(ports + strlen(ports), sizeof ports - strlen(ports),
                 "%s{\"id\":\"p%d\"}", i ? "," : "", i);
    snprintf(text, sizeof text,
             "{\"sffg\":{\"id\":\"g\",\"SFs\":[{\"id\":\"s1\",\"name\":\"%s\""
             "%s%s%s,\"ports\":[%s]}],\"saps\":[],\"flowrules\":[]}}",
             name, tmpl ? ",\"template\":\"" : "", tmpl ? tmpl : "",
             tmpl ? "\"" : "", ports);
    struct graph *g = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    if (graph_parse(text, strlen(text), 64, NULL, &g, &err) < 0)
        fail_msg("graph_parse: %s", err.msg);
    return g;
}

/* Resolves SF s1; returns the error and the chosen template id. */
static int
resolve(const char *name, const char *tmpl, int n_ports, uint64_t mem,
        char *chosen, size_t size, struct corch_err *err)
{
    struct graph *g = one_sf(name, tmpl, n_ports);
    struct resolver_env env = {
        .repo = repo, .cores_total = 2, .memory_mb_free = mem,
    };
    struct resolver_choice *c = NULL;
    memset(err, 0, sizeof *err);
    int r = resolver_resolve(&env, g, NULL, &c, err);
    if (!r) {
        snprintf(chosen, size, "%s", c[0].tmpl->id);
        resolver_choices_free(c, g->n_sfs);
    }
    graph_free(g);
    return r;
}

static void
test_repository_load(void **state)
{
    (void) state;
    /* 15 files, two of them bad (no engine, not JSON): skipped. */
    assert_int_equal(repository_count(repo), 13);
    assert_null(repository_find(repo, "bad-no-engine"));
    const struct sf_template *t = repository_find(repo, "firewall-native");
    assert_non_null(t);
    assert_string_equal(t->capability, "firewall");
    assert_int_equal(t->n_ports, 2);
    assert_null(t->ports[0].tech);
    assert_string_equal(t->ports[1].tech, "veth");
    assert_int_equal(t->cpu_cores, 1);
    assert_int_equal(t->memory_mb, 64);
    assert_string_equal(t->dep_executables[0], "sh");
    assert_null(t->dep_executables[1]);
    assert_non_null(repository_find(repo, "security-sub")->subgraph);
}

static void
expect_template_error(const char *text, const char *path)
{
    json_object *o = json_tokener_parse(text);
    assert_non_null(o);
    struct sf_template *t = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(sf_template_from_json(o, &t, &err), -EINVAL);
    if (strcmp(err.path, path))
        fail_msg("path \"%s\" (%s), expected \"%s\"", err.path, err.msg, path);
    assert_null(t);
    json_object_put(o);
}

#define T_BASE "\"id\":\"x\",\"functional-capability\":\"f\",\"engine\":\"native\"," \
    "\"uri\":\"i\",\"sha256\":\"" \
    "0000000000000000000000000000000000000000000000000000000000000000\""

static void
test_template_errors(void **state)
{
    (void) state;
    expect_template_error("{" T_BASE ",\"colour\":1}", "colour");
    expect_template_error("{\"functional-capability\":\"f\",\"engine\":\"x\"}",
                          "id");
    expect_template_error("{" T_BASE ",\"ports\":[{\"name\":\"a\"},"
                          "{\"name\":\"b\",\"technology\":\"wormhole\"}]}",
                          "ports[1].technology");
    expect_template_error("{" T_BASE ",\"ports\":[{\"nom\":\"a\"}]}",
                          "ports[0].nom");
    expect_template_error("{" T_BASE ",\"resources\":{\"memory_mb\":-1}}",
                          "resources.memory_mb");
    expect_template_error("{" T_BASE ",\"dependencies\":{\"shell\":[]}}",
                          "dependencies.shell");
    expect_template_error("{\"id\":\"x\",\"functional-capability\":\"f\","
                          "\"engine\":\"native\"}", "uri");
    expect_template_error("{\"id\":\"x\",\"functional-capability\":\"f\","
                          "\"engine\":\"native\",\"uri\":\"a\",\"sha256\":"
                          "\"abc\"}", "sha256");
}

static void
test_fetch_image(void **state)
{
    (void) state;
    struct corch_err err = { .path = "", .msg = "" };
    char *path = NULL;
    assert_int_equal(repository_fetch_image(repo,
                     repository_find(repo, "firewall-native"), &path, &err), 0);
    assert_non_null(strstr(path, "images/fw.img"));
    free(path);
    path = NULL;
    /* Second time: from the verified cache, same answer. */
    assert_int_equal(repository_fetch_image(repo,
                     repository_find(repo, "firewall-native"), &path, &err), 0);
    free(path);
    path = NULL;
    assert_int_equal(repository_fetch_image(repo,
                     repository_find(repo, "bad-wrong-sha"), &path, &err),
                     -EBADMSG);
    assert_non_null(strstr(err.msg, "sha256"));
    assert_null(path);

    json_object *o = json_tokener_parse("{" T_BASE "}");
    json_object_object_add(o, "uri", json_object_new_string("../etc/passwd"));
    struct sf_template *t = NULL;
    assert_int_equal(sf_template_from_json(o, &t, &err), 0);
    assert_int_equal(repository_fetch_image(repo, t, &path, &err), -EINVAL);
    sf_template_free(t);
    json_object_put(o);
}

static void
test_pick_fit(void **state)
{
    (void) state;
    char id[64];
    struct corch_err err;
    enable_engines("native");
    /* firewall-kern (8 MB) and firewall-dep (16 MB) are smaller but miss a
     * dependency; firewall-docker's engine is not enabled. */
    assert_int_equal(resolve("firewall", NULL, 2, 900, id, sizeof id, &err), 0);
    assert_string_equal(id, "firewall-native");
    /* Ports: nat-one-port has one port only. */
    assert_int_equal(resolve("nat", NULL, 2, 900, id, sizeof id, &err), 0);
    assert_string_equal(id, "nat-native");
    assert_int_equal(resolve("nat", NULL, 1, 900, id, sizeof id, &err), 0);
    assert_string_equal(id, "nat-one-port");
}

static void
test_engine_order(void **state)
{
    (void) state;
    char id[64];
    struct corch_err err;
    enable_engines("kvm,native");
    assert_int_equal(resolve("router", NULL, 1, 900, id, sizeof id, &err), 0);
    assert_string_equal(id, "router-native");
    enable_engines("kvm");
    assert_int_equal(resolve("router", NULL, 1, 900, id, sizeof id, &err), 0);
    assert_string_equal(id, "router-kvm");
    assert_true(resolver_engine_rank("native") < resolver_engine_rank("dpdk"));
    assert_true(resolver_engine_rank("dpdk") < resolver_engine_rank("docker"));
    assert_true(resolver_engine_rank("docker") < resolver_engine_rank("kvm"));
    /* A configured order wins. */
    resolver_set_engine_order("kvm");
    enable_engines("kvm,native");
    assert_int_equal(resolve("router", NULL, 1, 900, id, sizeof id, &err), 0);
    assert_string_equal(id, "router-kvm");
    assert_true(resolver_engine_rank("native") < resolver_engine_rank("docker"));
    resolver_set_engine_order(NULL);
    assert_int_equal(resolve("router", NULL, 1, 900, id, sizeof id, &err), 0);
    assert_string_equal(id, "router-native");
}

static void
test_error_listing(void **state)
{
    (void) state;
    char id[64];
    struct corch_err err;
    enable_engines("native,docker");
    assert_int_equal(resolve("firewall", NULL, 2, 50, id, sizeof id, &err),
                     -ENOPKG);
    assert_string_equal(err.path, "sffg.SFs[0].name");
    assert_int_equal(err.kind, CORCH_ERR_UNRESOLVABLE);
    static const char *const reasons[] = {
        "sf 's1': no template with capability 'firewall' fits",
        "firewall-big: needs 4096 MB, 50 MB free",
        "firewall-dep: needs executable corch-no-such-tool, not found on PATH",
        "firewall-docker: engine docker not usable (docker daemon down)",
        "firewall-kern: needs kernel feature corch_no_such_module",
        "firewall-native: needs 64 MB, 50 MB free",
    };
    for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
        if (!strstr(err.msg, reasons[i]))
            fail_msg("\"%s\" lacks \"%s\"", err.msg, reasons[i]);

    enable_engines("native");
    assert_int_equal(resolve("firewall", NULL, 2, 50, id, sizeof id, &err),
                     -ENOPKG);
    assert_non_null(strstr(err.msg, "firewall-docker: engine docker not enabled"));

    assert_int_equal(resolve("teleporter", NULL, 1, 900, id, sizeof id, &err),
                     -ENOPKG);
    assert_non_null(strstr(err.msg, "no template has capability 'teleporter'"));

    /* Ports. */
    assert_int_equal(resolve("router", NULL, 3, 900, id, sizeof id, &err),
                     -ENOPKG);
    assert_non_null(strstr(err.msg, "router-native: has 1 ports, the SF uses 3"));
}

static void
test_explicit_template(void **state)
{
    (void) state;
    char id[64];
    struct corch_err err;
    enable_engines("native");
    assert_int_equal(resolve("firewall", "firewall-dep", 2, 900, id, sizeof id,
                             &err), -ENOPKG);
    assert_string_equal(err.path, "sffg.SFs[0].template");
    assert_non_null(strstr(err.msg, "corch-no-such-tool"));
    assert_int_equal(resolve("firewall", "firewall-big", 2, 900, id,
                             sizeof id, &err), -ENOPKG);
    assert_non_null(strstr(err.msg, "firewall-big: needs 4096 MB, 900 MB free"));
    assert_int_equal(resolve("firewall", "firewall-big", 2, 8192, id,
                             sizeof id, &err), 0);
    assert_string_equal(id, "firewall-big");
    assert_int_equal(resolve("firewall", "firewall-native", 2, 900, id,
                             sizeof id, &err), 0);
    assert_string_equal(id, "firewall-native");
    assert_int_equal(resolve("firewall", "nope", 2, 900, id, sizeof id, &err),
                     -ENOPKG);
    assert_non_null(strstr(err.msg, "template 'nope' not found"));
    /* Subgraphs are expanded before (resolver_expand(), tested in
     * test-repository); the resolver itself never picks one. */
    assert_int_equal(resolve("security", "security-sub", 2, 900, id, sizeof id,
                             &err), -ENOPKG);
    assert_non_null(strstr(err.msg, "is a subgraph"));
    assert_int_equal(resolve("security", NULL, 2, 900, id, sizeof id, &err),
                     -ENOPKG);
    assert_non_null(strstr(err.msg, "a subgraph template, not expanded here"));
}

static void
test_dummy_fallback(void **state)
{
    (void) state;
    enable_engines("native,dummy");
    struct graph *g = one_sf("teleporter", NULL, 3);
    struct resolver_env env = { .repo = repo, .cores_total = 2,
                                .memory_mb_free = 900 };
    struct resolver_choice *c = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(resolver_resolve(&env, g, NULL, &c, &err), 0);
    assert_string_equal(c[0].tmpl->id, "dummy:teleporter");
    assert_string_equal(c[0].tmpl->engine, "dummy");
    assert_int_equal(c[0].tmpl->n_ports, 3);
    assert_int_equal(c[0].tmpl->memory_mb, 0);
    resolver_choices_free(c, g->n_sfs);
    graph_free(g);
    /* A real template that fits still wins. */
    char id[64];
    assert_int_equal(resolve("firewall", NULL, 2, 900, id, sizeof id, &err), 0);
    assert_string_equal(id, "firewall-native");
    /* Memory is counted across the SFs of one graph. */
    const char *two = "{\"sffg\":{\"id\":\"g\",\"SFs\":["
        "{\"id\":\"a\",\"name\":\"nat\",\"template\":\"nat-native\",\"ports\":[]},"
        "{\"id\":\"b\",\"name\":\"nat\",\"template\":\"nat-native\",\"ports\":[]}],"
        "\"saps\":[],\"flowrules\":[]}}";
    assert_int_equal(graph_parse(two, strlen(two), 64, NULL, &g, &err), 0);
    env.memory_mb_free = 200;
    assert_int_equal(resolver_resolve(&env, g, NULL, &c, &err), -ENOPKG);
    assert_string_equal(err.path, "sffg.SFs[1].template");
    env.memory_mb_free = 256;
    assert_int_equal(resolver_resolve(&env, g, NULL, &c, &err), 0);
    resolver_choices_free(c, g->n_sfs);
    graph_free(g);
}

static void
expect_config(const char *config, int expected, const char *path)
{
    const struct sf_template *t = repository_find(repo, "acl-native");
    json_object *c = json_tokener_parse(config);
    assert_non_null(c);
    struct corch_err err = { .path = "", .msg = "" };
    int r = jsonschema_check(t->config_schema, c, "cfg", &err);
    if (r != expected || (path && strcmp(err.path, path)))
        fail_msg("%s: %d \"%s\" (%s), expected %d \"%s\"", config, r,
                 err.path, err.msg, expected, path ? path : "");
    /* A config that breaks its schema is the client's mistake. */
    if (r)
        assert_int_equal(err.kind, CORCH_ERR_INVALID);
    json_object_put(c);
}

static void
test_config_schema(void **state)
{
    (void) state;
    expect_config("{\"default\":\"allow\"}", 0, NULL);
    expect_config("{\"default\":\"deny\",\"rules\":[{\"action\":\"allow\","
                  "\"dest_ip\":\"10.0.0.0/8\",\"dest_port\":80}]}", 0, NULL);
    expect_config("{\"default\":\"maybe\"}", -EINVAL, "cfg.default");
    expect_config("{}", -EINVAL, "cfg.default");
    expect_config("{\"default\":\"allow\",\"colour\":1}", -EINVAL,
                  "cfg.colour");
    expect_config("[]", -EINVAL, "cfg");
    expect_config("{\"default\":\"allow\",\"rules\":[{\"action\":\"allow\"},"
                  "{\"action\":\"deny\",\"dest_port\":70000}]}", -EINVAL,
                  "cfg.rules[1].dest_port");
    expect_config("{\"default\":\"allow\",\"rules\":[{\"action\":\"allow\","
                  "\"dest_ip\":\"ten/8\"}]}", -EINVAL, "cfg.rules[0].dest_ip");
    expect_config("{\"default\":\"allow\",\"rules\":[{\"action\":\"allow\","
                  "\"dest_port\":\"80\"}]}", -EINVAL, "cfg.rules[0].dest_port");
    expect_config("{\"default\":\"allow\",\"rules\":[{\"action\":\"allow\"},"
                  "{\"action\":\"allow\"},{\"action\":\"allow\"}]}", -EINVAL,
                  "cfg.rules");

    /* Through the resolver: a 400-style error naming the graph's field. */
    enable_engines("native");
    const char *text = "{\"sffg\":{\"id\":\"g\",\"SFs\":[{\"id\":\"a\","
        "\"name\":\"acl\",\"config\":{\"default\":\"maybe\"},\"ports\":[]}],"
        "\"saps\":[],\"flowrules\":[]}}";
    struct graph *g = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(graph_parse(text, strlen(text), 64, NULL, &g, &err), 0);
    struct resolver_env env = { .repo = repo, .cores_total = 2,
                                .memory_mb_free = 900 };
    struct resolver_choice *c = NULL;
    assert_int_equal(resolver_resolve(&env, g, NULL, &c, &err), -EINVAL);
    assert_string_equal(err.path, "sffg.SFs[0].config.default");
    assert_non_null(strstr(err.msg, "acl-native"));
    assert_non_null(strstr(err.msg, "must be one of"));
    graph_free(g);
}

static void
test_dependencies(void **state)
{
    (void) state;
    assert_true(resolver_have_executable("sh"));
    assert_true(resolver_have_executable("/bin/sh"));
    assert_false(resolver_have_executable("corch-no-such-tool"));
    assert_false(resolver_have_kernel_feature("corch_no_such_module"));
}

/* A chain a -> b -> c of SFs with 1 core each on 4 CPUs in two packages. */
static void
test_scheduler(void **state)
{
    (void) state;
    struct scheduler *s = scheduler_create_fake(4, 2, 1000);
    const char *text = "{\"sffg\":{\"id\":\"g\",\"SFs\":["
        "{\"id\":\"a\",\"name\":\"x\",\"ports\":[{\"id\":\"1\"},{\"id\":\"2\"}]},"
        "{\"id\":\"b\",\"name\":\"x\",\"ports\":[{\"id\":\"1\"},{\"id\":\"2\"}]},"
        "{\"id\":\"c\",\"name\":\"x\",\"ports\":[{\"id\":\"1\"},{\"id\":\"2\"}]}],"
        "\"saps\":[],\"flowrules\":["
        "{\"id\":\"1\",\"match\":{\"port_in\":\"sf:a:2\"},\"actions\":[{\"output_to_port\":\"sf:b:1\"}]},"
        "{\"id\":\"2\",\"match\":{\"port_in\":\"sf:b:2\"},\"actions\":[{\"output_to_port\":\"sf:c:1\"}]}]}}";
    struct graph *g = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(graph_parse(text, strlen(text), 64, NULL, &g, &err), 0);
    struct sf_template t = { .id = "t", .cpu_cores = 1, .memory_mb = 300 };
    const struct sf_template *tmpls[3] = { &t, &t, &t };
    struct scheduler_binding *b = NULL;
    assert_int_equal(scheduler_bind(s, g, tmpls, NULL, &b, &err), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(b[i].n_cpus, 1);
    /* b is next to a: the same package (cores 0-1 or 2-3). */
    assert_int_equal(b[0].cpus[0] / 2, b[1].cpus[0] / 2);
    assert_int_not_equal(b[0].cpus[0], b[1].cpus[0]);
    unsigned int total, idle;
    uint64_t mt, mf;
    scheduler_resources(s, &total, &idle, &mt, &mf);
    assert_int_equal(total, 4);
    assert_int_equal(idle, 1);
    assert_int_equal(mf, 100);
    /* No memory left for another copy. */
    struct scheduler_binding *b2 = NULL;
    assert_int_equal(scheduler_bind(s, g, tmpls, NULL, &b2, &err), -ENOSPC);
    assert_int_equal(err.kind, CORCH_ERR_CONFLICT);  /* 409: the node is full. */
    /* An update keeping a and b binds c only. */
    const struct scheduler_binding *kept[3] = { &b[0], &b[1], NULL };
    scheduler_release(s, &b[2]);
    assert_int_equal(scheduler_bind(s, g, tmpls, kept, &b2, &err), 0);
    assert_int_equal(b2[0].n_cpus, 0);
    assert_int_equal(b2[2].n_cpus, 1);
    for (int i = 0; i < 3; i++)
        scheduler_release(s, &b2[i]);
    for (int i = 0; i < 2; i++)
        scheduler_release(s, &b[i]);
    scheduler_resources(s, &total, &idle, &mt, &mf);
    assert_int_equal(idle, 4);
    assert_int_equal(mf, 1000);
    scheduler_bindings_free(b, 3);
    scheduler_bindings_free(b2, 3);
    scheduler_destroy(s);
    graph_free(g);

    /* The real one sees this machine. */
    s = scheduler_create();
    scheduler_resources(s, &total, &idle, &mt, &mf);
    assert_true(total >= 1);
    assert_true(mt > 0);
    scheduler_destroy(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repository_load),
        cmocka_unit_test(test_template_errors),
        cmocka_unit_test(test_fetch_image),
        cmocka_unit_test(test_pick_fit),
        cmocka_unit_test(test_engine_order),
        cmocka_unit_test(test_error_listing),
        cmocka_unit_test(test_explicit_template),
        cmocka_unit_test(test_dummy_fallback),
        cmocka_unit_test(test_config_schema),
        cmocka_unit_test(test_dependencies),
        cmocka_unit_test(test_scheduler),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
