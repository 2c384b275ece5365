/* Unit tests of the configuration: defaults, INI files, --set overrides,
 * and the checks of config_finish(). */
#include <config.h>
#include "corch-config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

struct fixture {
    char dir[64];               /* Scratch directory. */
    char path[128];             /* INI file written by the test. */
    struct corch_config cfg;    /* Initialised with the defaults. */
    struct corch_err err;       /* Last error. */
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sec-test-config-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/c-orch.conf", f->dir);
    config_init(&f->cfg);
    unsetenv("CORCH_ADMIN_PASSWORD");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    config_destroy(&f->cfg);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
write_file(struct fixture *f, const char *text)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int
load(struct fixture *f, const char *text)
{
    write_file(f, text);
    memset(&f->err, 0, sizeof f->err);
    return config_load_file(&f->cfg, f->path, &f->err);
}

static int
set(struct fixture *f, const char *assignment)
{
    memset(&f->err, 0, sizeof f->err);
    return config_set(&f->cfg, assignment, &f->err);
}

static int
finish(struct fixture *f)
{
    memset(&f->err, 0, sizeof f->err);
    return config_finish(&f->cfg, &f->err);
}

static void
test_defaults(void **state)
{
    struct fixture *f = *state;
    const struct corch_config *c = &f->cfg;

    assert_string_equal(c->rest_address, "127.0.0.1");
    assert_int_equal(c->rest_port, 8080);
    assert_null(c->rest_tls_cert);
    assert_null(c->rest_tls_key);
    assert_int_equal(c->rest_threads, 4);
    assert_true(c->security_auth);
    assert_null(c->security_admin_password);
    assert_int_equal(c->security_token_lifetime, 3600);
    assert_string_equal(c->state_dir, "/var/lib/c-orch");
    assert_null(c->node_id);
    assert_null(c->node_name);
    assert_string_equal(c->log_level, "info");
    assert_string_equal(c->vswitch_driver, "ovs");
    assert_string_equal(c->vswitch_ovsdb, "unix:/run/openvswitch/db.sock");
    assert_null(c->vswitch_datapath_type);
    assert_string_equal(c->vswitch_interfaces, "");
    assert_string_equal(c->compute_drivers, "native");
    assert_int_equal(c->compute_timeout, 30);
    assert_string_equal(c->repository_path, CORCH_DATADIR "/sf-repository");
    assert_null(c->repository_url);
    assert_string_equal(c->bus_endpoint, "tcp://127.0.0.1:5555");
    assert_string_equal(c->bus_mode, "embedded");
    assert_string_equal(c->bus_topic_prefix, "corch");
    assert_int_equal(c->bus_heartbeat, 30);
    assert_int_equal(c->limits_max_body_bytes, 4194304);
    assert_int_equal(c->limits_max_json_depth, 32);
    assert_int_equal(c->limits_max_sfs, 1000);
    assert_int_equal(c->limits_max_flowrules, 20000);
    assert_int_equal(c->limits_max_graphs, 1000);

    /* The defaults pass the final checks. */
    assert_int_equal(finish(f), 0);
}

static void
test_load_file(void **state)
{
    struct fixture *f = *state;
    int r = load(f,
                 "; a comment\n"
                 "# another\n"
                 "[rest]\n"
                 "address = 0.0.0.0\n"
                 "port = 0x1f91\n"
                 "threads=8\n"
                 "\n"
                 "[security]\n"
                 "auth = no\n"
                 "admin_password = s3cret-pass\n"
                 "token_lifetime = 60\n"
                 "[state]\n"
                 "dir = /tmp/sec-state\n"
                 "[node]\n"
                 "id = node-7\n"
                 "name = edge box\n"
                 "[vswitch]\n"
                 "driver = dummy\n"
                 "interfaces = eth1, eth2\n"
                 "[compute]\n"
                 "drivers = native,dummy\n"
                 "[bus]\n"
                 "endpoint =\n"
                 "heartbeat = 0\n"
                 "[limits]\n"
                 "max_body_bytes = 1024\n"
                 "max_sfs = 0\n");
    if (r != 0)
        fail_msg("load: %s", f->err.msg);
    const struct corch_config *c = &f->cfg;
    assert_string_equal(c->rest_address, "0.0.0.0");
    assert_int_equal(c->rest_port, 8081);
    assert_int_equal(c->rest_threads, 8);
    assert_false(c->security_auth);
    assert_string_equal(c->security_admin_password, "s3cret-pass");
    assert_int_equal(c->security_token_lifetime, 60);
    assert_string_equal(c->state_dir, "/tmp/sec-state");
    assert_string_equal(c->node_id, "node-7");
    assert_string_equal(c->node_name, "edge box");
    assert_string_equal(c->vswitch_driver, "dummy");
    assert_string_equal(c->vswitch_interfaces, "eth1, eth2");
    assert_string_equal(c->compute_drivers, "native,dummy");
    assert_string_equal(c->bus_endpoint, "");
    assert_int_equal(c->bus_heartbeat, 0);
    assert_int_equal(c->limits_max_body_bytes, 1024);
    assert_int_equal(c->limits_max_sfs, 0);
    /* Untouched keys keep their defaults. */
    assert_string_equal(c->log_level, "info");
    assert_int_equal(c->limits_max_flowrules, 20000);
    assert_int_equal(finish(f), 0);

    /* A second file loads over the first. */
    assert_int_equal(load(f, "[rest]\nport = 9000\n"), 0);
    assert_int_equal(f->cfg.rest_port, 9000);
    assert_string_equal(f->cfg.rest_address, "0.0.0.0");
}

static void
test_shipped_sample(void **state)
{
    struct fixture *f = *state;
    memset(&f->err, 0, sizeof f->err);
    int r = config_load_file(&f->cfg, TOP_SRCDIR "/contrib/c-orch.conf.sample",
                             &f->err);
    if (r == -ENOENT)
        skip();
    if (r != 0)
        fail_msg("sample: %s", f->err.msg);
    assert_int_equal(finish(f), 0);
}

static void
test_load_errors(void **state)
{
    struct fixture *f = *state;
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nope.conf", f->dir);
    memset(&f->err, 0, sizeof f->err);
    assert_int_equal(config_load_file(&f->cfg, missing, &f->err), -ENOENT);
    assert_non_null(strstr(f->err.msg, missing));

    /* Unknown key: the path is the key, the message has file:line. */
    assert_int_equal(load(f, "[rest]\nport = 1\n\nbogus = 2\n"), -EINVAL);
    assert_string_equal(f->err.path, "rest.bogus");
    assert_non_null(strstr(f->err.msg, "rest.bogus"));
    char where[200];
    snprintf(where, sizeof where, "%s:4", f->path);
    assert_non_null(strstr(f->err.msg, where));

    /* Unknown section. */
    assert_int_equal(load(f, "[nope]\nport = 1\n"), -EINVAL);
    assert_string_equal(f->err.path, "nope.port");

    /* A key before any section. */
    assert_int_equal(load(f, "port = 1\n"), -EINVAL);
    assert_non_null(strstr(f->err.msg, "port"));

    /* The first error is the one reported. */
    assert_int_equal(load(f, "[rest]\nport = x\nthreads = 0\n"), -EINVAL);
    assert_string_equal(f->err.path, "rest.port");

    /* Syntax errors name the line. */
    assert_int_equal(load(f, "[rest]\nport 8080\n"), -EINVAL);
    snprintf(where, sizeof where, "%s:2", f->path);
    assert_non_null(strstr(f->err.msg, where));
    assert_int_equal(load(f, "[rest\nport = 1\n"), -EINVAL);
}

/* Every bad value names its key, in err->path and in the message. */
static void
test_bad_values(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[][2] = {
        { "rest.port", "0" },
        { "rest.port", "65536" },
        { "rest.port", "-1" },
        { "rest.port", "80a" },
        { "rest.port", "" },
        { "rest.port", "0x" },
        { "rest.port", "99999999999999999999999" },
        { "rest.threads", "0" },
        { "rest.threads", "65" },
        { "security.auth", "maybe" },
        { "security.auth", "" },
        { "security.auth", "TRUE " },
        { "security.token_lifetime", "9" },
        { "security.token_lifetime", "31536001" },
        { "compute.timeout", "0" },
        { "bus.heartbeat", "86401" },
        { "limits.max_body_bytes", "1023" },
        { "limits.max_body_bytes", "1073741825" },
        { "limits.max_json_depth", "3" },
        { "limits.max_graphs", "0" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char assignment[200];
        snprintf(assignment, sizeof assignment, "%s=%s", bad[i][0], bad[i][1]);
        int r = set(f, assignment);
        if (r != -EINVAL)
            fail_msg("--set %s: got %d", assignment, r);
        assert_string_equal(f->err.path, bad[i][0]);
        assert_non_null(strstr(f->err.msg, bad[i][0]));

        /* The same through a file. */
        const char *dot = strchr(bad[i][0], '.');
        char text[300];
        snprintf(text, sizeof text, "[%.*s]\n%s = %s\n",
                 (int) (dot - bad[i][0]), bad[i][0], dot + 1, bad[i][1]);
        r = load(f, text);
        if (r != -EINVAL)
            fail_msg("file %s: got %d", text, r);
        assert_string_equal(f->err.path, bad[i][0]);
    }
    /* Nothing changed on the way. */
    assert_int_equal(f->cfg.rest_port, 8080);
    assert_true(f->cfg.security_auth);
    assert_int_equal(f->cfg.limits_max_body_bytes, 4194304);
}

static void
test_good_edge_values(void **state)
{
    struct fixture *f = *state;
    static const char *const good[] = {
        "rest.port=1", "rest.port=65535", "rest.port=0xFFFF",
        "security.auth=true", "security.auth=yes", "security.auth=1",
        "security.auth=false", "security.auth=0",
        "security.token_lifetime=10", "security.token_lifetime=31536000",
        "limits.max_body_bytes=1073741824", "bus.heartbeat=0",
    };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++)
        if (set(f, good[i]) != 0)
            fail_msg("--set %s: %s", good[i], f->err.msg);
    assert_int_equal(f->cfg.rest_port, 65535);
    assert_false(f->cfg.security_auth);
    assert_int_equal(f->cfg.limits_max_body_bytes, 1073741824);
}

static void
test_set_overrides(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, "[rest]\nport = 1000\n[log]\nlevel = warn\n"), 0);
    assert_int_equal(set(f, "rest.port=2000"), 0);
    assert_int_equal(f->cfg.rest_port, 2000);
    assert_string_equal(f->cfg.log_level, "warn");
    assert_int_equal(set(f, "log.level=debug"), 0);
    assert_string_equal(f->cfg.log_level, "debug");

    /* Only the first '=' splits. */
    assert_int_equal(set(f, "security.admin_password=a=b=c;d"), 0);
    assert_string_equal(f->cfg.security_admin_password, "a=b=c;d");
    assert_int_equal(set(f, "node.name=two words"), 0);
    assert_string_equal(f->cfg.node_name, "two words");

    /* Malformed assignments. */
    static const char *const bad[] = {
        "rest.port", "port=1", "=1", "a=b.c", "",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        if (set(f, bad[i]) != -EINVAL)
            fail_msg("--set \"%s\" accepted", bad[i]);
        assert_true(f->err.msg[0] != '\0');
    }
    assert_int_equal(set(f, "rest.nope=1"), -EINVAL);
    assert_string_equal(f->err.path, "rest.nope");
    assert_int_equal(set(f, ".port=1"), -EINVAL);
    assert_int_equal(set(f, "rest.=1"), -EINVAL);
    assert_int_equal(set(f, "rest.port.x=1"), -EINVAL);
    char longkey[200];
    memset(longkey, 'k', sizeof longkey);
    memcpy(longkey + 150, "=1", 3);
    assert_int_equal(set(f, longkey), -EINVAL);
    longkey[70] = '.';
    assert_int_equal(set(f, longkey), -EINVAL);
    assert_int_equal(f->cfg.rest_port, 2000);
}

static void
test_finish_env_password(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(set(f, "security.admin_password=from-file-1"), 0);

    setenv("CORCH_ADMIN_PASSWORD", "", 1);          /* Empty: ignored. */
    assert_int_equal(finish(f), 0);
    assert_string_equal(f->cfg.security_admin_password, "from-file-1");

    setenv("CORCH_ADMIN_PASSWORD", "from-env-123", 1);
    assert_int_equal(finish(f), 0);
    unsetenv("CORCH_ADMIN_PASSWORD");
    assert_string_equal(f->cfg.security_admin_password, "from-env-123");
}

static void
test_finish_checks(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *set[2];     /* Assignments applied first. */
        const char *path;       /* Key named by the error. */
    } bad[] = {
        { { "rest.tls_cert=/etc/c.pem", NULL }, "rest.tls_key" },
        { { "rest.tls_key=/etc/k.pem", NULL }, "rest.tls_key" },
        { { "state.dir=relative/dir", NULL }, "state.dir" },
        { { "state.dir=", NULL }, "state.dir" },
        { { "node.id=bad id", NULL }, "node.id" },
        { { "node.id=-starts-with-dash", NULL }, "node.id" },
        { { "log.level=verbose", NULL }, "log.level" },
        { { "bus.mode=both", NULL }, "bus.mode" },
        { { "vswitch.interfaces=eth0,this-is-far-too-long", NULL },
          "vswitch.interfaces" },
        { { "vswitch.interfaces=eth0,a/b", NULL }, "vswitch.interfaces" },
        { { "vswitch.interfaces=..", NULL }, "vswitch.interfaces" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        config_destroy(&f->cfg);
        config_init(&f->cfg);
        for (size_t j = 0; j < 2 && bad[i].set[j]; j++)
            assert_int_equal(set(f, bad[i].set[j]), 0);
        int r = finish(f);
        if (r != -EINVAL)
            fail_msg("%s: finish gave %d", bad[i].set[0], r);
        assert_string_equal(f->err.path, bad[i].path);
        assert_true(f->err.msg[0] != '\0');
    }

    config_destroy(&f->cfg);
    config_init(&f->cfg);
    assert_int_equal(set(f, "rest.tls_cert=/etc/c.pem"), 0);
    assert_int_equal(set(f, "rest.tls_key=/etc/k.pem"), 0);
    assert_int_equal(set(f, "vswitch.interfaces= eth0 , veth-x.1 ,, "), 0);
    assert_int_equal(set(f, "node.id=node:1.a_b-c"), 0);
    assert_int_equal(set(f, "bus.mode=external"), 0);
    assert_int_equal(set(f, "log.level=err"), 0);
    if (finish(f) != 0)
        fail_msg("finish: %s", f->err.msg);
}

static void
test_split_list(void **state)
{
    char **items;
    assert_int_equal(config_split_list("a, b,,c ,\t d\t,", &items), 4);
    assert_string_equal(items[0], "a");
    assert_string_equal(items[1], "b");
    assert_string_equal(items[2], "c");
    assert_string_equal(items[3], "d");
    assert_null(items[4]);
    strv_free(items);

    assert_int_equal(config_split_list("", &items), 0);
    assert_null(items[0]);
    strv_free(items);
    assert_int_equal(config_split_list(NULL, &items), 0);
    assert_null(items[0]);
    strv_free(items);
    assert_int_equal(config_split_list(" , ,", &items), 0);
    strv_free(items);
    assert_int_equal(config_split_list("native", &items), 1);
    assert_string_equal(items[0], "native");
    strv_free(items);
    strv_free(NULL);
}

static void
test_destroy_reuse(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(set(f, "rest.tls_cert=/x"), 0);
    config_destroy(&f->cfg);
    assert_null(f->cfg.rest_tls_cert);
    assert_null(f->cfg.rest_address);
    config_destroy(&f->cfg);                    /* Twice is harmless. */
    config_init(&f->cfg);
    assert_string_equal(f->cfg.rest_address, "127.0.0.1");
}

int
main(void)
{
    log_set_level(LOG_LEVEL_ERR);
#define T(NAME) cmocka_unit_test_setup_teardown(NAME, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_load_file),
        T(test_shipped_sample),
        T(test_load_errors),
        T(test_bad_values),
        T(test_good_edge_values),
        T(test_set_overrides),
        T(test_finish_env_password),
        T(test_finish_checks),
        T(test_split_list),
        T(test_destroy_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
