/* Benchmark of the ovs driver (run by test/bench/bench-ovs.sh, which starts
 * a private OVS in a network namespace of its own):
 *   (a) create a graph-LSI + 2 ports + 2 rules, destroy it: 100 rounds;
 *   (b) the same with ovs-vsctl / ovs-ofctl in the same run, and the ratio;
 *   (c) 10,000 rules in one rules_apply;
 *   (d) two rules on LSI-0 (an empty graph's passthrough) added + deleted.
 * Prints figures beside the targets of issue 3; never fails on a figure.
 *
 * Usage: bench-ovs unix:<dir>/db.sock <ifname1> <ifname2> [rounds] */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corch-config.h"
#include "log.h"
#include "vswitch/ovs/vswitch-ovs.h"

static const struct vswitch_class *ovs = &vswitch_ovs_class;
static char rundir[256];

static int
run(const char *arg0, ...)
{
    const char *argv[40];
    va_list ap;
    size_t n = 0;
    argv[n++] = arg0;
    va_start(ap, arg0);
    while (n < 39 && (argv[n] = va_arg(ap, const char *)))
        n++;
    va_end(ap);
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], (char **) argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
#define RUN(...) run(__VA_ARGS__, (const char *) NULL)

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static void
stats(uint64_t *ns, size_t n, double *p50, double *p99)
{
    qsort(ns, n, sizeof *ns, cmp_u64);
    *p50 = ns[n / 2] / 1e6;
    *p99 = ns[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e6;
}

static void
die(const char *what, int error, const struct corch_err *err)
{
    fprintf(stderr, "bench-ovs: %s: %s (%s)\n", what, strerror(-error),
            err->msg);
    exit(1);
}

static struct vswitch *vs;              /* The open switch. */
static struct vswitch_lsi *lsi0;
static const char *lsi0_br;

/* (a): one round through the driver: a graph-LSI with two ports (two
 * vlinks to LSI-0, or two internal ports) and two rules, destroyed. */
static void
driver_round(size_t i, bool internal)
{
    struct corch_err err = { 0 };
    char name[16];
    snprintf(name, sizeof name, "cb-g%zu", i % 10);
    struct vswitch_lsi_spec spec = { .graph_id = "bench", .name = name };
    struct vswitch_lsi *g;
    uint64_t t[6];
    t[0] = time_ns();
    int error = ovs->lsi_create(vs, &spec, &g, &err);
    if (error)
        die("lsi_create", error, &err);
    t[1] = time_ns();
    struct vswitch_port *p[2], *far[2];
    struct vswitch_port_info info;
    if (!internal) {
        char vn[2][2][16];
        struct vswitch_vlink_spec vl[2];
        for (int k = 0; k < 2; k++) {
            snprintf(vn[k][0], 16, "cb-l%zu%da", i % 10, k);
            snprintf(vn[k][1], 16, "cb-l%zu%db", i % 10, k);
            vl[k] = (struct vswitch_vlink_spec) {
                .a_name = vn[k][0], .b_name = vn[k][1], .graph_id = spec.graph_id,
            };
        }
        error = ovs->vlinks_create(vs, lsi0, g, vl, 2, far, p, &err);
        if (error)
            die("vlinks_create", error, &err);
        t[2] = t[3] = time_ns();
    }
    for (int k = 0; internal && k < 2; k++) {
        char pn[16];
        snprintf(pn, sizeof pn, "cb-p%zu%c", i % 10, 'a' + k);
        struct vswitch_port_spec ps = { .tech = VSWITCH_PORT_INTERNAL,
                                        .name = pn, .graph_id = "bench",
                                        .sf_id = "sf", .sf_port_id = pn };
        error = ovs->port_create(vs, g, &ps, &p[k], &info, &err);
        if (error)
            die("port_create", error, &err);
        t[2 + k] = time_ns();
    }
    struct vswitch_action o0 = { .type = VSWITCH_ACT_OUTPUT, .u.port = p[1] };
    struct vswitch_action o1 = { .type = VSWITCH_ACT_OUTPUT, .u.port = p[0] };
    struct vswitch_rule r[2] = {
        { .cookie = 1, .priority = 1, .in_port = p[0], .actions = &o0,
          .n_actions = 1 },
        { .cookie = 2, .priority = 1, .in_port = p[1], .actions = &o1,
          .n_actions = 1 },
    };
    struct vswitch_rule_batch b = { .add = r, .n_add = 2 };
    error = ovs->rules_apply(vs, g, &b, &err);
    if (error)
        die("rules_apply", error, &err);
    t[4] = time_ns();
    ovs->lsi_destroy(vs, g);
    t[5] = time_ns();
    if (getenv("BENCH_VERBOSE"))
        printf("  lsi_create %.2f, port %.2f, port %.2f, rules %.2f, "
               "destroy %.2f ms\n", (t[1] - t[0]) / 1e6, (t[2] - t[1]) / 1e6,
               (t[3] - t[2]) / 1e6, (t[4] - t[3]) / 1e6, (t[5] - t[4]) / 1e6);
}

/* (b): the same through the command-line tools, as a script would. */
static void
cli_round(size_t i, const char *db, bool internal)
{
    char br[16], pa[16], pb[16], qa[16], qb[16], mgmt[320], f1[64], f2[64];
    char dbarg[300], pa_set[64], pb_set[64], qa_set[64], qb_set[64];
    snprintf(dbarg, sizeof dbarg, "--db=%s", db);
    snprintf(br, sizeof br, "cc-g%zu", i % 10);
    snprintf(pa, sizeof pa, "cc-p%zua", i % 10);
    snprintf(pb, sizeof pb, "cc-p%zub", i % 10);
    snprintf(qa, sizeof qa, "cc-q%zua", i % 10);
    snprintf(qb, sizeof qb, "cc-q%zub", i % 10);
    snprintf(mgmt, sizeof mgmt, "unix:%s/%s.mgmt", rundir, br);
    if (internal) {
        snprintf(pa_set, sizeof pa_set, "type=internal");
        snprintf(pb_set, sizeof pb_set, "type=internal");
        RUN("ovs-vsctl", dbarg, "add-br", br, "--", "set", "bridge", br,
            "datapath_type=netdev", "fail_mode=secure", "--", "add-port", br,
            pa, "--", "set", "interface", pa, pa_set, "--", "add-port", br,
            pb, "--", "set", "interface", pb, pb_set);
    } else {
        snprintf(pa_set, sizeof pa_set, "options:peer=%s", qa);
        snprintf(pb_set, sizeof pb_set, "options:peer=%s", qb);
        snprintf(qa_set, sizeof qa_set, "options:peer=%s", pa);
        snprintf(qb_set, sizeof qb_set, "options:peer=%s", pb);
        RUN("ovs-vsctl", dbarg, "add-br", br, "--", "set", "bridge", br,
            "datapath_type=netdev", "fail_mode=secure",
            "--", "add-port", br, pa, "--", "set", "interface", pa,
            "type=patch", pa_set,
            "--", "add-port", br, pb, "--", "set", "interface", pb,
            "type=patch", pb_set,
            "--", "add-port", lsi0_br, qa, "--", "set", "interface", qa,
            "type=patch", qa_set,
            "--", "add-port", lsi0_br, qb, "--", "set", "interface", qb,
            "type=patch", qb_set);
    }
    snprintf(f1, sizeof f1, "in_port=%s,actions=output:%s", pa, pb);
    snprintf(f2, sizeof f2, "in_port=%s,actions=output:%s", pb, pa);
    RUN("ovs-ofctl", "-O", "OpenFlow13", "add-flow", mgmt, f1);
    RUN("ovs-ofctl", "-O", "OpenFlow13", "add-flow", mgmt, f2);
    if (internal)
        RUN("ovs-vsctl", dbarg, "del-br", br);
    else
        RUN("ovs-vsctl", dbarg, "del-br", br, "--", "del-port", lsi0_br, qa,
            "--", "del-port", lsi0_br, qb);
}

int
main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s unix:<dir>/db.sock if1 if2 [rounds]\n",
                argv[0]);
        return 2;
    }
    size_t rounds = argc > 4 ? strtoul(argv[4], NULL, 10) : 100;
    if (rounds < 1)
        rounds = 1;
    log_set_level(LOG_LEVEL_WARN);
    const char *db = argv[1];
    snprintf(rundir, sizeof rundir, "%s", db + (strncmp(db, "unix:", 5) ? 0 : 5));
    *strrchr(rundir, '/') = '\0';

    struct corch_config cfg;
    config_init(&cfg);
    free(cfg.vswitch_ovsdb);
    cfg.vswitch_ovsdb = xstrdup(db);
    struct corch_err err = { 0 };
    int error = ovs->open(&cfg, &vs, &err);
    if (error)
        die("open", error, &err);
    const char *ifs[] = { argv[2], argv[3] };
    error = ovs->lsi0_open(vs, ifs, 2, &lsi0, &err);
    if (error)
        die("lsi0_open", error, &err);
    lsi0_br = lsi0->name;
    struct vswitch_port *v[2];
    ovs->lsi0_port(vs, lsi0, argv[2], &v[0]);
    ovs->lsi0_port(vs, lsi0, argv[3], &v[1]);

    uint64_t *a = xcalloc(rounds, sizeof *a), *bt = xcalloc(rounds, sizeof *bt);
    uint64_t *d = xcalloc(rounds, sizeof *d);
    double a50[2], a99[2], b50[2], b99[2], d50, d99;

    /* Warm-up: the first bridge of a datapath type costs more. */
    driver_round(0, false);
    /* Separate loops: lsi_destroy returns once OVSDB committed the
     * removal, and ovs-vswitchd's teardown (tens of ms for each tap or
     * veth port of the netdev datapath) then delays whatever configuration
     * comes next: in its own loop, the driver pays for its own teardowns. */
    for (int internal = 0; internal < 2; internal++) {
        for (size_t i = 0; i < rounds; i++) {
            uint64_t t0 = time_ns();
            driver_round(i, internal);
            a[i] = time_ns() - t0;
        }
        for (size_t i = 0; i < rounds; i++) {
            uint64_t t0 = time_ns();
            cli_round(i, db, internal);
            bt[i] = time_ns() - t0;
        }
        stats(a, rounds, &a50[internal], &a99[internal]);
        stats(bt, rounds, &b50[internal], &b99[internal]);
    }

    /* (d) an empty graph's LSI-0 passthrough: 2 rules in, 2 rules out. */
    struct vswitch_action o0 = { .type = VSWITCH_ACT_OUTPUT, .u.port = v[1] };
    struct vswitch_action o1 = { .type = VSWITCH_ACT_OUTPUT, .u.port = v[0] };
    struct vswitch_rule r[2] = {
        { .cookie = 0x700000001ull, .priority = 9, .in_port = v[0],
          .actions = &o0, .n_actions = 1 },
        { .cookie = 0x700000002ull, .priority = 9, .in_port = v[1],
          .actions = &o1, .n_actions = 1 },
    };
    for (size_t i = 0; i < rounds; i++) {
        struct vswitch_rule_batch add = { .add = r, .n_add = 2 };
        struct vswitch_rule_batch del = { .del = r, .n_del = 2 };
        uint64_t t0 = time_ns();
        if ((error = ovs->rules_apply(vs, lsi0, &add, &err))
            || (error = ovs->rules_apply(vs, lsi0, &del, &err)))
            die("rules_apply", error, &err);
        d[i] = time_ns() - t0;
    }
    stats(d, rounds, &d50, &d99);

    /* (c) 10,000 rules in one batch, and their deletion. */
    enum { N = 10000 };
    struct vswitch_rule *many = xcalloc(N, sizeof *many);
    for (size_t i = 0; i < N; i++) {
        many[i] = r[0];
        many[i].cookie = 0x800000000ull | i;
        many[i].priority = 100;
        many[i].match.fields = FLOW_M_PROTOCOL | FLOW_M_DEST_PORT;
        many[i].match.protocol = 6;
        many[i].match.dest_port = (uint16_t) i;
    }
    struct vswitch_rule_batch mb = { .add = many, .n_add = N };
    uint64_t t0 = time_ns();
    if ((error = ovs->rules_apply(vs, lsi0, &mb, &err)))
        die("rules_apply 10k", error, &err);
    double c_add = (time_ns() - t0) / 1e6;
    struct vswitch_rule_batch md = { .del = many, .n_del = N };
    t0 = time_ns();
    if ((error = ovs->rules_apply(vs, lsi0, &md, &err)))
        die("rules_apply 10k delete", error, &err);
    double c_del = (time_ns() - t0) / 1e6;

    printf("ovs driver benchmark (%zu rounds, datapath netdev)\n", rounds);
    static const char *const what[2] = { "2 vlinks to LSI-0", "2 internal ports" };
    for (int k = 0; k < 2; k++) {
        printf("(a) driver: graph-LSI + %s + 2 rules + destroy: p50 %.2f ms, "
               "p99 %.2f ms\n", what[k], a50[k], a99[k]);
        printf("(b) ovs-vsctl/ovs-ofctl, same operations:       p50 %.2f ms, "
               "p99 %.2f ms\n", b50[k], b99[k]);
        /* Issue 3's ratio target is for a bridge and two flows (k = 0,
         * and bench-ovs-deploy.sh through the REST API); with ports that
         * have devices ovs-vswitchd's own port set-up dominates both. */
        printf("    ratio (b)/(a) at p50: %.1fx   (%s)\n", b50[k] / a50[k],
               k == 0 ? "target >= 5x"
                      : "no target: ovs-vswitchd's port set-up, ~25 ms a "
                        "port, dominates both");
    }
    printf("(d) empty graph on LSI-0: 2 rules added + deleted: p50 %.2f ms, "
           "p99 %.2f ms   (target deploy+delete p50 <= 10 ms)\n", d50, d99);
    printf("(c) 10000 rules in one rules_apply: %.1f ms   (target <= 300 ms);"
           " their deletion: %.1f ms\n", c_add, c_del);

    ovs->close(vs);
    free(many);
    free(a);
    free(bt);
    free(d);
    config_destroy(&cfg);
    return 0;
}
