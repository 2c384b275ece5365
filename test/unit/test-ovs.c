/* The ovs driver against a real, private Open vSwitch (ovsdb-server +
 * ovs-vswitchd in a scratch directory) and real packets between two
 * network namespaces.  The driver hooks are called directly; ovs-vsctl /
 * ovs-ofctl are used only to look at the result.  Needs root and Open
 * vSwitch; skips (77) otherwise.  Every name is prefixed "covs" so that
 * parallel test runs of other areas never collide with it. */
#include <config.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "corch-config.h"
#include "log.h"
#include "netlink.h"
#include "vswitch/ovs/vswitch-ovs.h"

static char dir[64];                    /* The private OVS's run dir. */
static char remote[128];                /* unix:<dir>/db.sock */
static const struct vswitch_class *ovs = &vswitch_ovs_class;
static struct vswitch *vs;              /* The open switch. */
static struct vswitch_lsi *lsi0;
static struct vswitch_port *v1, *v2;    /* LSI-0 ports of the two hosts. */

/* Runs argv (NULL-terminated varargs), output into 'out' (if nonnull,
 * 'size' bytes, NUL-terminated).  Returns the exit status. */
static int
run_out(char *out, size_t size, const char *arg0, ...)
{
    const char *argv[32];
    va_list ap;
    size_t n = 0;
    argv[n++] = arg0;
    va_start(ap, arg0);
    while (n < 31 && (argv[n] = va_arg(ap, const char *)))
        n++;
    va_end(ap);
    argv[n] = NULL;
    /* Without capture, the child writes to /dev/null: a daemon that
     * detaches must not keep a pipe of ours open. */
    int pfd[2] = { -1, -1 };
    if (out && pipe(pfd))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(out ? pfd[1] : null, 1);
        dup2(out ? pfd[1] : null, 2);
        if (out)
            close(pfd[0]);
        char env[160];
        snprintf(env, sizeof env, "OVS_RUNDIR=%s", dir);
        putenv(env);
        execvp(argv[0], (char **) argv);
        _exit(127);
    }
    if (out) {
        close(pfd[1]);
        size_t len = 0;
        ssize_t k;
        char sink[4096];
        for (;;) {
            bool room = len + 1 < size;
            k = read(pfd[0], room ? out + len : sink,
                     room ? size - len - 1 : sizeof sink);
            if (k <= 0)
                break;
            if (room)
                len += (size_t) k;
        }
        out[len] = '\0';
        close(pfd[0]);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
#define run(...) run_out(NULL, 0, __VA_ARGS__, (const char *) NULL)
#define run_capture(buf, ...) \
    run_out(buf, sizeof buf, __VA_ARGS__, (const char *) NULL)

static char db_arg[160];

/* ovs-vsctl get <table> <record> <column> into 'buf'. */
static void
vsctl_get(char *buf, size_t size, const char *table, const char *rec,
          const char *col)
{
    run_out(buf, size, "ovs-vsctl", db_arg, "--timeout=5", "get", table, rec,
            col, (const char *) NULL);
    buf[strcspn(buf, "\n")] = '\0';
}

/* ovs-ofctl dump-flows on a bridge's management socket. */
static void
dump_flows(const char *bridge, char *buf, size_t size)
{
    char target[160];
    snprintf(target, sizeof target, "unix:%s/%s.mgmt", dir, bridge);
    run_out(buf, size, "ovs-ofctl", "-O", "OpenFlow13", "--no-stats",
            "dump-flows", target, (const char *) NULL);
}

static size_t
count_lines(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static bool
ping(const char *ns, const char *ip)
{
    return !run("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", ip);
}

/* Pings with retries: the first packets may wait for ARP. */
static bool
ping_retry(const char *ns, const char *ip)
{
    for (int i = 0; i < 6; i++)
        if (ping(ns, ip))
            return true;
    return false;
}

static void
host_create(const char *ns, const char *out, const char *cidr)
{
    char peer[32];
    snprintf(peer, sizeof peer, "%s-p", out);
    run("ip", "netns", "del", ns);
    run("ip", "link", "del", out);
    assert_int_equal(run("ip", "netns", "add", ns), 0);
    assert_int_equal(run("ip", "link", "add", out, "type", "veth", "peer",
                         "name", peer), 0);
    assert_int_equal(run("ip", "link", "set", peer, "netns", ns), 0);
    run("ip", "-n", ns, "link", "set", peer, "name", "eth0");
    run("ip", "-n", ns, "addr", "add", cidr, "dev", "eth0");
    run("ip", "-n", ns, "link", "set", "eth0", "up");
    run("ip", "-n", ns, "link", "set", "lo", "up");
    run("ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off");
    run("ip", "link", "set", out, "up");
    run("ethtool", "-K", out, "tx", "off");
}

static void
kill_pidfile(const char *name)
{
    char path[128], buf[32] = "";
    snprintf(path, sizeof path, "%s/%s.pid", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, sizeof buf, f) && atoi(buf) > 0)
        kill(atoi(buf), SIGTERM);
    fclose(f);
}

static int
group_setup(void **state)
{
    (void) state;
    /* One run at a time on the host: the namespaces, host devices and
     * tap devices have fixed names. */
    int lock = open("/run/lock/corch-covs.lock", O_RDWR | O_CREAT | O_CLOEXEC,
                    0600);
    if (lock < 0 || flock(lock, LOCK_EX))
        return -1;
    snprintf(dir, sizeof dir, "/tmp/corch-covs.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(remote, sizeof remote, "unix:%s/db.sock", dir);
    snprintf(db_arg, sizeof db_arg, "--db=%s", remote);
    char db[128], pid[128], log[128], ctl[128], rem[160];
    snprintf(db, sizeof db, "%s/conf.db", dir);
    if (run("ovsdb-tool", "create", db,
            "/usr/share/openvswitch/vswitch.ovsschema"))
        return -1;
    snprintf(rem, sizeof rem, "--remote=p%s", remote);
    snprintf(pid, sizeof pid, "--pidfile=%s/ovsdb-server.pid", dir);
    snprintf(log, sizeof log, "--log-file=%s/ovsdb-server.log", dir);
    snprintf(ctl, sizeof ctl, "--unixctl=%s/ovsdb-server.ctl", dir);
    if (run("ovsdb-server", db, rem, pid, log, ctl, "--detach", "--no-chdir"))
        return -1;
    run("ovs-vsctl", db_arg, "--no-wait", "init");
    snprintf(pid, sizeof pid, "--pidfile=%s/ovs-vswitchd.pid", dir);
    snprintf(log, sizeof log, "--log-file=%s/ovs-vswitchd.log", dir);
    snprintf(ctl, sizeof ctl, "--unixctl=%s/ovs-vswitchd.ctl", dir);
    if (run("ovs-vswitchd", remote, pid, log, ctl, "--detach", "--no-chdir"))
        return -1;
    host_create("covs-h1", "covs-v1", "10.77.0.1/24");
    host_create("covs-h2", "covs-v2", "10.77.0.2/24");
    return 0;
}

static int
group_teardown(void **state)
{
    (void) state;
    if (vs)
        ovs->close(vs);
    vs = NULL;
    kill_pidfile("ovs-vswitchd");
    kill_pidfile("ovsdb-server");
    run("ip", "netns", "del", "covs-h1");
    run("ip", "netns", "del", "covs-h2");
    run("ip", "link", "del", "covs-v1");
    run("ip", "link", "del", "covs-v2");
    run("ip", "link", "del", "covs-sf1");
    usleep(200000);
    if (!getenv("COVS_KEEP"))
        run("rm", "-rf", dir);
    return 0;
}

/* A new instance of the driver on the test's OVS. */
static struct vswitch *
open_switch(void)
{
    struct corch_config cfg;
    config_init(&cfg);
    free(cfg.vswitch_ovsdb);
    cfg.vswitch_ovsdb = xstrdup(remote);
    struct corch_err err = { 0 };
    struct vswitch *sw = NULL;
    int error = ovs->open(&cfg, &sw, &err);
    if (error)
        fprintf(stderr, "open: %s\n", err.msg);
    assert_int_equal(error, 0);
    config_destroy(&cfg);
    return sw;
}

/* A restart of the daemon: the open switch closed (its handles freed, the
 * bridges stay), a new one opened. */
static void
init_driver(void)
{
    if (vs)
        ovs->close(vs);
    vs = open_switch();
}

static void
test_lsi0_open(void **state)
{
    (void) state;
    init_driver();
    const char *ifs[] = { "covs-v1", "covs-v2" };
    struct corch_err err = { 0 };
    int error = ovs->lsi0_open(vs, ifs, 2, &lsi0, &err);
    if (error)
        fprintf(stderr, "lsi0_open: %s\n", err.msg);
    assert_int_equal(error, 0);
    assert_int_equal(ovs->lsi0_port(vs, lsi0, "covs-v1", &v1), 0);
    assert_int_equal(ovs->lsi0_port(vs, lsi0, "covs-v2", &v2), 0);
    struct vswitch_port *p;
    assert_int_equal(ovs->lsi0_port(vs, lsi0, "nope", &p), -ENODEV);
    assert_true(vswitch_ovs_port_ofport(v1) > 0);
    assert_true(vswitch_ovs_port_ofport(v2) > 0);
    assert_true(vswitch_ovs_port_ofport(v1) != vswitch_ovs_port_ofport(v2));

    const char *br = lsi0->name;
    char buf[4096];
    vsctl_get(buf, sizeof buf, "Bridge", br, "fail_mode");
    assert_string_equal(buf, "secure");
    vsctl_get(buf, sizeof buf, "Bridge", br, "controller");
    assert_string_equal(buf, "[]");
    vsctl_get(buf, sizeof buf, "Bridge", br, "external_ids:corch-role");
    assert_string_equal(buf, "lsi0");
    vsctl_get(buf, sizeof buf, "Bridge", br, "other_config:disable-in-band");
    assert_string_equal(buf, "\"true\"");
    vsctl_get(buf, sizeof buf, "Bridge", br, "datapath_type");
    assert_non_null(strstr(buf, "netdev"));
    dump_flows(br, buf, sizeof buf);
    assert_int_equal(count_lines(buf, "priority"), 0);

    /* Secure fail mode and no flows: nothing passes. */
    assert_false(ping("covs-h1", "10.77.0.2"));
}

static void
test_lsi0_missing_interface(void **state)
{
    (void) state;
    /* OVS cannot open one of the interfaces: nothing may be left. */
    init_driver();
    const char *ifs[] = { "covs-v1", "covs-nodev" };
    struct corch_err err = { 0 };
    struct vswitch_lsi *l;
    assert_int_equal(ovs->lsi0_open(vs, ifs, 2, &l, &err), -ENODEV);
    fprintf(stderr, "# refused LSI-0: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "covs-nodev"));
    char buf[4096];
    run_capture(buf, "ovs-vsctl", db_arg, "list-br");
    assert_string_equal(buf, "");
    run_capture(buf, "ovs-vsctl", db_arg, "--bare", "--columns=name", "list",
                "Interface");
    assert_string_equal(buf, "");
}

static void
test_lsi0_adopt(void **state)
{
    (void) state;
    uint32_t o1 = vswitch_ovs_port_ofport(v1);
    char name[16];
    snprintf(name, sizeof name, "%s", lsi0->name);
    /* Someone loosened the lockdown meanwhile; an operator key stays. */
    const char *brn = lsi0->name;
    assert_int_equal(run("ovs-vsctl", db_arg, "set", "bridge", brn,
                         "fail_mode=standalone",
                         "other_config:disable-in-band=false",
                         "other_config:covs-op=kept"), 0);
    /* A restart: disconnect, connect, open again. */
    init_driver();
    const char *ifs[] = { "covs-v1", "covs-v2" };
    struct corch_err err = { 0 };
    struct vswitch_lsi *again;
    assert_int_equal(ovs->lsi0_open(vs, ifs, 2, &again, &err), 0);
    assert_string_equal(again->name, name);
    struct vswitch_port *p;
    assert_int_equal(ovs->lsi0_port(vs, again, "covs-v1", &p), 0);
    assert_int_equal(vswitch_ovs_port_ofport(p), o1);
    char buf[4096];
    run_capture(buf, "ovs-vsctl", db_arg, "list-br");
    assert_int_equal(count_lines(buf, "corch0-"), 1);
    vsctl_get(buf, sizeof buf, "Bridge", name, "fail_mode");
    assert_string_equal(buf, "secure");
    vsctl_get(buf, sizeof buf, "Bridge", name, "other_config:disable-in-band");
    assert_string_equal(buf, "\"true\"");
    vsctl_get(buf, sizeof buf, "Bridge", name, "other_config:covs-op");
    assert_string_equal(buf, "kept");
    lsi0 = again;
    assert_int_equal(ovs->lsi0_port(vs, lsi0, "covs-v1", &v1), 0);
    assert_int_equal(ovs->lsi0_port(vs, lsi0, "covs-v2", &v2), 0);
}

static struct vswitch_rule
rule(uint64_t cookie, uint16_t prio, struct vswitch_port *in,
     struct vswitch_action *acts, size_t n)
{
    struct vswitch_rule r = { .cookie = cookie, .priority = prio,
                              .in_port = in, .actions = acts,
                              .n_actions = n };
    return r;
}

static void
test_passthrough_rules(void **state)
{
    (void) state;
    struct vswitch_action to2 = { .type = VSWITCH_ACT_OUTPUT, .u.port = v2 };
    struct vswitch_action to1 = { .type = VSWITCH_ACT_OUTPUT, .u.port = v1 };
    struct vswitch_rule add[2] = {
        rule(0x0000000100000001ull, 10, v1, &to2, 1),
        rule(0x0000000100000002ull, 10, v2, &to1, 1),
    };
    struct vswitch_rule_batch b = { .add = add, .n_add = 2 };
    struct corch_err err = { 0 };
    int error = ovs->rules_apply(vs, lsi0, &b, &err);
    if (error)
        fprintf(stderr, "rules_apply: %s\n", err.msg);
    assert_int_equal(error, 0);
    char buf[8192];
    dump_flows(lsi0->name, buf, sizeof buf);
    assert_int_equal(count_lines(buf, "cookie=0x100000001"), 1);
    assert_int_equal(count_lines(buf, "cookie=0x100000002"), 1);
    assert_true(ping_retry("covs-h1", "10.77.0.2"));
    assert_true(ping("covs-h2", "10.77.0.1"));

    /* A failing batch: the deletion of a good rule plus an addition OVS
     * refuses (VID out of range).  Nothing of it may be applied. */
    struct vswitch_action bad[2] = {
        { .type = VSWITCH_ACT_PUSH_VLAN, .u.vlan_id = 9000 },
        { .type = VSWITCH_ACT_OUTPUT, .u.port = v2 },
    };
    struct vswitch_rule add2[2] = {
        rule(0x0000000100000003ull, 20, v1, &to2, 1),
        rule(0x0000000100000004ull, 20, v2, bad, 2),
    };
    struct vswitch_rule_batch b2 = { .del = add, .n_del = 1,
                                     .add = add2, .n_add = 2 };
    memset(&err, 0, sizeof err);
    error = ovs->rules_apply(vs, lsi0, &b2, &err);
    fprintf(stderr, "# refused batch: %s\n", err.msg);
    assert_int_equal(error, -EPROTO);
    assert_non_null(strstr(err.msg, "addition[1]"));
    assert_non_null(strstr(err.msg, "BAD_"));
    dump_flows(lsi0->name, buf, sizeof buf);
    assert_int_equal(count_lines(buf, "priority=10"), 2);
    assert_int_equal(count_lines(buf, "priority=20"), 0);
    assert_true(ping("covs-h1", "10.77.0.2"));

    /* Deleting them stops the traffic. */
    struct vswitch_rule_batch d = { .del = add, .n_del = 2 };
    assert_int_equal(ovs->rules_apply(vs, lsi0, &d, &err), 0);
    dump_flows(lsi0->name, buf, sizeof buf);
    assert_int_equal(count_lines(buf, "priority"), 0);
    assert_false(ping("covs-h1", "10.77.0.2"));
}

static void
set_ip(struct flow_ip *ip, int family, const char *text, uint8_t plen)
{
    ip->family = family;
    ip->plen = plen;
    assert_int_equal(inet_pton(family, text, ip->addr), 1);
}

static void
test_every_field_accepted(void **state)
{
    (void) state;
    /* Every match field and action the SF-FG has, in one batch: OVS must
     * accept all of them (prerequisites, masks, OFPVID_PRESENT...). */
    enum { N = 9 };
    struct vswitch_rule r[N];
    struct vswitch_action acts[N][4];
    memset(r, 0, sizeof r);
    memset(acts, 0, sizeof acts);
    for (int i = 0; i < N; i++) {
        r[i] = rule(0x500000000ull | (uint64_t) i, (uint16_t) (200 + i), v1,
                    acts[i], 1);
        acts[i][0].type = VSWITCH_ACT_OUTPUT;
        acts[i][0].u.port = v2;
    }
    struct flow_match *m;
    m = &r[0].match;                    /* L2 */
    m->fields = FLOW_M_ETHER_TYPE | FLOW_M_SOURCE_MAC | FLOW_M_DEST_MAC;
    m->ether_type = 0x0806;
    memcpy(m->source_mac, "\x02\x00\x00\x00\x00\x01", 6);
    memcpy(m->dest_mac, "\x02\x00\x00\x00\x00\x02", 6);
    m = &r[1].match;                    /* VLAN id + PCP, pop */
    m->fields = FLOW_M_VLAN_ID | FLOW_M_VLAN_PCP;
    m->vlan_id = 100;
    m->vlan_pcp = 5;
    acts[1][0].type = VSWITCH_ACT_POP_VLAN;
    acts[1][1].type = VSWITCH_ACT_OUTPUT;
    acts[1][1].u.port = v2;
    r[1].n_actions = 2;
    m = &r[2].match;                    /* PCP alone */
    m->fields = FLOW_M_VLAN_PCP;
    m->vlan_pcp = 3;
    m = &r[3].match;                    /* IPv4 TCP, masks, DSCP; set-fields */
    m->fields = FLOW_M_SOURCE_IP | FLOW_M_DEST_IP | FLOW_M_PROTOCOL
                | FLOW_M_SOURCE_PORT | FLOW_M_DEST_PORT | FLOW_M_IP_DSCP;
    set_ip(&m->source_ip, AF_INET, "10.1.0.0", 16);
    set_ip(&m->dest_ip, AF_INET, "10.2.3.4", 32);
    m->protocol = 6;
    m->source_port = 1000;
    m->dest_port = 80;
    m->ip_dscp = 46;
    acts[3][0].type = VSWITCH_ACT_SET_ETH_SRC;
    memcpy(acts[3][0].u.mac, "\x02\x00\x00\x00\x00\x0a", 6);
    acts[3][1].type = VSWITCH_ACT_SET_ETH_DST;
    memcpy(acts[3][1].u.mac, "\x02\x00\x00\x00\x00\x0b", 6);
    acts[3][2].type = VSWITCH_ACT_SET_IP_DST;
    set_ip(&acts[3][2].u.ip, AF_INET, "10.9.9.9", 32);
    acts[3][3].type = VSWITCH_ACT_OUTPUT;
    acts[3][3].u.port = v2;
    r[3].n_actions = 4;
    m = &r[4].match;                    /* IPv6 UDP; set ipv6 src */
    m->fields = FLOW_M_SOURCE_IP | FLOW_M_DEST_IP | FLOW_M_PROTOCOL
                | FLOW_M_DEST_PORT;
    set_ip(&m->source_ip, AF_INET6, "2001:db8::", 32);
    set_ip(&m->dest_ip, AF_INET6, "2001:db8::1", 128);
    m->protocol = 17;
    m->dest_port = 53;
    acts[4][0].type = VSWITCH_ACT_SET_IP_SRC;
    set_ip(&acts[4][0].u.ip, AF_INET6, "fd00::1", 128);
    acts[4][1].type = VSWITCH_ACT_OUTPUT;
    acts[4][1].u.port = v2;
    r[4].n_actions = 2;
    m = &r[5].match;                    /* SCTP */
    m->fields = FLOW_M_PROTOCOL | FLOW_M_SOURCE_PORT;
    m->protocol = 132;
    m->source_port = 9;
    m = &r[6].match;                    /* ICMPv4 */
    m->fields = FLOW_M_ICMP_TYPE | FLOW_M_ICMP_CODE;
    m->icmp_type = 8;
    m = &r[7].match;                    /* ICMPv6 */
    m->fields = FLOW_M_ETHER_TYPE | FLOW_M_ICMP_TYPE;
    m->ether_type = 0x86dd;
    m->icmp_type = 128;
    /* Push a tag, replicate to two ports, and a drop rule. */
    acts[8][0].type = VSWITCH_ACT_PUSH_VLAN;
    acts[8][0].u.vlan_id = 4094;
    acts[8][1].type = VSWITCH_ACT_OUTPUT;
    acts[8][1].u.port = v2;
    acts[8][2].type = VSWITCH_ACT_OUTPUT;
    acts[8][2].u.port = v1;
    r[8].n_actions = 3;
    r[8].match.fields = FLOW_M_DEST_MAC;
    memcpy(r[8].match.dest_mac, "\x02\x00\x00\x00\x00\x09", 6);
    struct vswitch_rule drop = rule(0x5000000ffull, 150, v2, NULL, 0);

    struct vswitch_rule all[N + 1];
    memcpy(all, r, sizeof r);
    all[N] = drop;
    struct vswitch_rule_batch b = { .add = all, .n_add = N + 1 };
    struct corch_err err = { 0 };
    int error = ovs->rules_apply(vs, lsi0, &b, &err);
    if (error)
        fprintf(stderr, "rules_apply: %s\n", err.msg);
    assert_int_equal(error, 0);
    char buf[16384];
    dump_flows(lsi0->name, buf, sizeof buf);
    assert_int_equal(count_lines(buf, "cookie=0x5000000"), N + 1);
    assert_non_null(strstr(buf, "dl_vlan=100,dl_vlan_pcp=5"));
    assert_non_null(strstr(buf, "nw_src=10.1.0.0/16"));
    assert_non_null(strstr(buf, "ipv6_src=2001:db8::/32"));
    assert_non_null(strstr(buf, "set_field:8190->vlan_vid"));
    assert_non_null(strstr(buf, "IN_PORT"));
    assert_non_null(strstr(buf, "priority=150,in_port"));
    assert_non_null(strstr(buf, "actions=drop"));
    struct vswitch_rule_batch d = { .del = all, .n_del = N + 1 };
    assert_int_equal(ovs->rules_apply(vs, lsi0, &d, &err), 0);
    dump_flows(lsi0->name, buf, sizeof buf);
    assert_int_equal(count_lines(buf, "priority"), 0);
}

static void
test_graph_lsi(void **state)
{
    (void) state;
    struct vswitch_lsi_spec spec = { .graph_id = "g1", .name = "covs-g1" };
    struct vswitch_lsi *g;
    struct corch_err err = { 0 };
    int error = ovs->lsi_create(vs, &spec, &g, &err);
    if (error)
        fprintf(stderr, "lsi_create: %s\n", err.msg);
    assert_int_equal(error, 0);
    char buf[8192];
    vsctl_get(buf, sizeof buf, "Bridge", "covs-g1", "fail_mode");
    assert_string_equal(buf, "secure");
    vsctl_get(buf, sizeof buf, "Bridge", "covs-g1", "controller");
    assert_string_equal(buf, "[]");
    vsctl_get(buf, sizeof buf, "Bridge", "covs-g1", "external_ids:corch-graph");
    assert_string_equal(buf, "g1");
    vsctl_get(buf, sizeof buf, "Bridge", "covs-g1", "protocols");
    assert_string_equal(buf, "[OpenFlow13]");

    /* Two vlinks: h1 -> LSI-0 -> g1 -> LSI-0 -> h2. */
    struct vswitch_port *a[2], *bp[2];
    const struct vswitch_vlink_spec vl[2] = {
        { .a_name = "covs-vl0a", .b_name = "covs-vl0b", .graph_id = "g1" },
        { .a_name = "covs-vl1a", .b_name = "covs-vl1b", .graph_id = "g1" },
    };
    error = ovs->vlinks_create(vs, lsi0, g, vl, 2, a, bp, &err);
    if (error)
        fprintf(stderr, "vlinks_create: %s\n", err.msg);
    assert_int_equal(error, 0);
    vsctl_get(buf, sizeof buf, "Interface", "covs-vl0a", "options:peer");
    assert_string_equal(buf, "covs-vl0b");
    vsctl_get(buf, sizeof buf, "Interface", "covs-vl1b", "type");
    assert_string_equal(buf, "patch");

    /* SF ports. */
    struct vswitch_port_spec ps = { .tech = VSWITCH_PORT_VETH,
                                    .name = "covs-sf1", .graph_id = "g1",
                                    .sf_id = "fw", .sf_port_id = "in" };
    struct vswitch_port *sf1, *sf2;
    struct vswitch_port_info info;
    error = ovs->port_create(vs, g, &ps, &sf1, &info, &err);
    if (error)
        fprintf(stderr, "port_create: %s\n", err.msg);
    assert_int_equal(error, 0);
    assert_string_equal(info.sf_ifname, "covs-sf1-s");
    assert_true(netlink_link_exists("covs-sf1-s"));
    assert_true(info.ofport > 0);
    vsctl_get(buf, sizeof buf, "Port", "covs-sf1", "external_ids:corch-sf");
    assert_string_equal(buf, "fw");
    ps.tech = VSWITCH_PORT_INTERNAL;
    ps.name = "covs-sf2";
    assert_int_equal(ovs->port_create(vs, g, &ps, &sf2, &info, &err), 0);
    assert_string_equal(info.sf_ifname, "covs-sf2");
    ps.tech = VSWITCH_PORT_TAP;
    ps.name = "covs-tap";
    struct vswitch_port *tp;
    error = ovs->port_create(vs, g, &ps, &tp, &info, &err);
    if (error)
        fprintf(stderr, "port_create tap: %s\n", err.msg);
    assert_int_equal(error, 0);
    assert_string_equal(info.sf_ifname, "covs-tap");
    assert_true(netlink_link_exists("covs-tap"));
    ovs->port_destroy(vs, tp);
    assert_false(netlink_link_exists("covs-tap"));
    ps.tech = VSWITCH_PORT_VHOST_USER;
    ps.name = "covs-sf3";
    struct vswitch_port *sf3;
    assert_int_equal(ovs->port_create(vs, g, &ps, &sf3, &info, &err),
                     -EOPNOTSUPP);

    struct vswitch_action o_a0 = { .type = VSWITCH_ACT_OUTPUT, .u.port = a[0] };
    struct vswitch_action o_a1 = { .type = VSWITCH_ACT_OUTPUT, .u.port = a[1] };
    struct vswitch_action o_v1 = { .type = VSWITCH_ACT_OUTPUT, .u.port = v1 };
    struct vswitch_action o_v2 = { .type = VSWITCH_ACT_OUTPUT, .u.port = v2 };
    struct vswitch_action o_b0 = { .type = VSWITCH_ACT_OUTPUT, .u.port = bp[0] };
    struct vswitch_action o_b1 = { .type = VSWITCH_ACT_OUTPUT, .u.port = bp[1] };
    struct vswitch_rule l0[4] = {
        rule(0x200000001ull, 5, v1, &o_a0, 1),
        rule(0x200000002ull, 5, a[1], &o_v2, 1),
        rule(0x200000003ull, 5, v2, &o_a1, 1),
        rule(0x200000004ull, 5, a[0], &o_v1, 1),
    };
    struct vswitch_rule gr[2] = {
        rule(0x200000005ull, 5, bp[0], &o_b1, 1),
        rule(0x200000006ull, 5, bp[1], &o_b0, 1),
    };
    struct vswitch_rule_batch b0 = { .add = l0, .n_add = 4 };
    struct vswitch_rule_batch bg = { .add = gr, .n_add = 2 };
    assert_int_equal(ovs->rules_apply(vs, g, &bg, &err), 0);
    assert_int_equal(ovs->rules_apply(vs, lsi0, &b0, &err), 0);
    assert_true(ping_retry("covs-h1", "10.77.0.2"));

    /* host-stack and gre SAPs. */
    struct vswitch_sap_spec hs = { .type = VSWITCH_SAP_HOST_STACK,
                                   .name = "covs-hs", .graph_id = "g1",
                                   .sap_id = "hs" };
    hs.ipv4.family = AF_INET;
    inet_pton(AF_INET, "10.79.0.1", hs.ipv4.addr);
    hs.ipv4.plen = 24;
    struct vswitch_port *hsp, *grep_;
    error = ovs->sap_create(vs, g, &hs, &hsp, &err);
    if (error)
        fprintf(stderr, "sap_create: %s\n", err.msg);
    assert_int_equal(error, 0);
    run_capture(buf, "ip", "-4", "addr", "show", "dev", "covs-hs");
    assert_non_null(strstr(buf, "10.79.0.1/24"));
    struct vswitch_sap_spec gs = { .type = VSWITCH_SAP_GRE,
                                   .name = "covs-gre", .graph_id = "g1",
                                   .sap_id = "gre1", .gre_key = 42,
                                   .has_gre_key = true };
    gs.remote_ip.family = gs.local_ip.family = AF_INET;
    inet_pton(AF_INET, "10.80.0.2", gs.remote_ip.addr);
    inet_pton(AF_INET, "10.80.0.1", gs.local_ip.addr);
    error = ovs->sap_create(vs, g, &gs, &grep_, &err);
    if (error)
        fprintf(stderr, "sap_create gre: %s\n", err.msg);
    assert_int_equal(error, 0);
    vsctl_get(buf, sizeof buf, "Interface", "covs-gre", "options");
    assert_string_equal(buf,
                        "{key=\"42\", local_ip=\"10.80.0.1\", remote_ip=\"10.80.0.2\"}");
    ovs->port_destroy(vs, grep_);

    /* Port destroy removes the port and its veth. */
    ovs->port_destroy(vs, sf1);
    assert_false(netlink_link_exists("covs-sf1-s"));
    assert_false(netlink_link_exists("covs-sf1"));
    assert_int_not_equal(run("ovs-vsctl", db_arg, "port-to-br", "covs-sf1"), 0);

    /* A device of an SF port's name is replaced only when its alias says
     * it is ours (an earlier run, the same graph); a foreign one is a
     * conflict and stays. */
    ps = (struct vswitch_port_spec) { .tech = VSWITCH_PORT_VETH,
                                      .name = "covs-sf1", .graph_id = "g1",
                                      .sf_id = "fw", .sf_port_id = "in" };
    assert_int_equal(run("ip", "link", "add", "covs-sf1", "type", "veth",
                         "peer", "name", "covs-sfx"), 0);
    err = (struct corch_err) { 0 };
    assert_int_equal(ovs->port_create(vs, g, &ps, &sf1, &info, &err),
                     -EEXIST);
    assert_int_equal(err.kind, CORCH_ERR_CONFLICT);
    assert_true(netlink_link_exists("covs-sf1"));
    assert_int_equal(run("ip", "link", "set", "dev", "covs-sf1", "alias",
                         "corch:g1"), 0);
    assert_int_equal(ovs->port_create(vs, g, &ps, &sf1, &info, &err), 0);
    assert_false(netlink_link_exists("covs-sfx"));      /* The old pair. */
    ovs->port_destroy(vs, sf1);
    assert_false(netlink_link_exists("covs-sf1"));

    /* Its LSI-0 rules go first (they name the vlink ends)... */
    struct vswitch_rule_batch d0 = { .del = l0, .n_del = 4 };
    assert_int_equal(ovs->rules_apply(vs, lsi0, &d0, &err), 0);
    dump_flows(lsi0->name, buf, sizeof buf);
    assert_int_equal(count_lines(buf, "priority"), 0);
    assert_false(ping("covs-h1", "10.77.0.2"));

    /* A vlink goes with both its ends. */
    ovs->port_destroy(vs, a[1]);
    assert_int_not_equal(run("ovs-vsctl", db_arg, "port-to-br", "covs-vl1a"), 0);
    assert_int_not_equal(run("ovs-vsctl", db_arg, "port-to-br", "covs-vl1b"), 0);

    /* ...then the graph: its bridge, its vlink ends on LSI-0, its
     * devices. */
    ovs->lsi_destroy(vs, g);
    assert_int_not_equal(run("ovs-vsctl", db_arg, "br-exists", "covs-g1"), 0);
    assert_int_not_equal(run("ovs-vsctl", db_arg, "port-to-br", "covs-vl0a"), 0);
    assert_false(netlink_link_exists("covs-hs"));
}

static void
test_learning_lsi(void **state)
{
    (void) state;
    struct vswitch_lsi_spec spec = { .name = "covs-grp", .learning = true };
    struct vswitch_lsi *l;
    struct corch_err err = { 0 };
    assert_int_equal(ovs->lsi_create(vs, &spec, &l, &err), 0);
    char buf[4096];
    dump_flows("covs-grp", buf, sizeof buf);
    assert_non_null(strstr(buf, "priority=0 actions=NORMAL"));
    vsctl_get(buf, sizeof buf, "Bridge", "covs-grp", "external_ids:corch-role");
    assert_string_equal(buf, "group");
    ovs->lsi_destroy(vs, l);

    /* A group LSI records its group: another group's LSI of that name
     * (two names with one hash) is not ours to replace. */
    struct vswitch_lsi_spec g1 = { .name = "covs-grp", .learning = true,
                                   .group = "red" };
    struct vswitch_lsi_spec g2 = g1;
    g2.group = "blue";
    struct vswitch_lsi *l1, *l2;
    assert_int_equal(ovs->lsi_create(vs, &g1, &l1, &err), 0);
    vsctl_get(buf, sizeof buf, "Bridge", "covs-grp",
              "external_ids:corch-group");
    assert_string_equal(buf, "red");
    err = (struct corch_err) { 0 };
    assert_int_equal(ovs->lsi_create(vs, &g2, &l2, &err), -EEXIST);
    assert_int_equal(err.kind, CORCH_ERR_CONFLICT);
    ovs->lsi_destroy(vs, l1);
    assert_int_not_equal(run("ovs-vsctl", db_arg, "br-exists", "covs-grp"), 0);
}

static void
test_leftover_replaced(void **state)
{
    (void) state;
    /* A bridge of ours left by a crash is replaced; a foreign one not. */
    struct vswitch_lsi_spec spec = { .graph_id = "g2", .name = "covs-g2" };
    struct vswitch_lsi *l, *l2;
    struct corch_err err = { 0 };
    assert_int_equal(ovs->lsi_create(vs, &spec, &l, &err), 0);
    assert_int_equal(ovs->lsi_create(vs, &spec, &l2, &err), 0);
    ovs->lsi_destroy(vs, l2);
    assert_int_not_equal(run("ovs-vsctl", db_arg, "br-exists", "covs-g2"), 0);
    ovs->lsi_destroy(vs, l);        /* Already gone: logs, does not fail. */
    assert_int_equal(run("ovs-vsctl", db_arg, "add-br", "covs-foreign", "--",
                         "set", "bridge", "covs-foreign",
                         "datapath_type=netdev"), 0);
    spec.name = "covs-foreign";
    assert_int_equal(ovs->lsi_create(vs, &spec, &l, &err), -EEXIST);
    assert_int_equal(err.kind, CORCH_ERR_CONFLICT);
    run("ovs-vsctl", db_arg, "del-br", "covs-foreign");

    /* A graph-LSI of another graph is not ours either. */
    spec = (struct vswitch_lsi_spec) { .graph_id = "g2", .name = "covs-g2" };
    assert_int_equal(ovs->lsi_create(vs, &spec, &l, &err), 0);
    struct vswitch_lsi_spec other = { .graph_id = "g3", .name = "covs-g2" };
    err = (struct corch_err) { 0 };
    assert_int_equal(ovs->lsi_create(vs, &other, &l2, &err), -EEXIST);
    assert_int_equal(err.kind, CORCH_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "covs-g2"));

    /* Vlink ends: a port of that name that is not ours (no identity, or
     * another graph's) is a conflict and stays; one of the same graph from
     * an earlier run is replaced. */
    assert_int_equal(run("ovs-vsctl", db_arg, "add-port", "covs-g2",
                         "covs-fv0a", "--", "set", "Interface", "covs-fv0a",
                         "type=internal"), 0);
    struct vswitch_vlink_spec vl = {
        .a_name = "covs-fv0a", .b_name = "covs-fv0b", .graph_id = "g2",
    };
    struct vswitch_port *pa, *pb;
    err = (struct corch_err) { 0 };
    assert_int_equal(ovs->vlinks_create(vs, lsi0, l, &vl, 1, &pa, &pb, &err),
                     -EEXIST);
    assert_int_equal(err.kind, CORCH_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "covs-fv0a"));
    char buf[4096];
    run_capture(buf, "ovs-vsctl", db_arg, "--no-wait", "list-ports",
                "covs-g2");
    assert_non_null(strstr(buf, "covs-fv0a"));
    run("ovs-vsctl", db_arg, "del-port", "covs-g2", "covs-fv0a");
    err = (struct corch_err) { 0 };
    assert_int_equal(ovs->vlinks_create(vs, lsi0, l, &vl, 1, &pa, &pb, &err),
                     0);
    /* Another graph cannot take them... */
    struct vswitch_vlink_spec vl3 = vl;
    vl3.graph_id = "g3";
    struct vswitch_port *pa2, *pb2;
    err = (struct corch_err) { 0 };
    assert_int_equal(ovs->vlinks_create(vs, lsi0, l, &vl3, 1, &pa2, &pb2,
                     &err),
                     -EEXIST);
    assert_int_equal(err.kind, CORCH_ERR_CONFLICT);
    /* ...the same graph after a crash (its handles lost) can. */
    assert_int_equal(ovs->vlinks_create(vs, lsi0, l, &vl, 1, &pa2, &pb2, &err),
                     0);
    ovs->port_destroy(vs, pa);      /* Stale: its rows are gone already. */
    ovs->port_destroy(vs, pa2);
    ovs->lsi_destroy(vs, l);
    run_capture(buf, "ovs-vsctl", db_arg, "--no-wait", "list-ports",
                lsi0->name);
    assert_null(strstr(buf, "covs-fv"));
}

/* release (shutdown): the handles go, the switch keeps everything: the
 * bridge, its ports, the veth of an SF port with its SF end, both ends
 * of a vlink and the rules.  A new instance (the next run) then finds
 * the bridge as its own. */
static void
test_release(void **state)
{
    (void) state;
    struct vswitch_lsi_spec spec = { .graph_id = "g9", .name = "covs-rl" };
    struct vswitch_lsi *l;
    struct corch_err err = { 0 };
    assert_int_equal(ovs->lsi_create(vs, &spec, &l, &err), 0);
    struct vswitch_vlink_spec vl = {
        .a_name = "covs-rl0a", .b_name = "covs-rl0b", .graph_id = "g9",
    };
    struct vswitch_port *pa, *pb, *sf;
    assert_int_equal(ovs->vlinks_create(vs, lsi0, l, &vl, 1, &pa, &pb, &err),
                     0);
    struct vswitch_port_spec ps = { .tech = VSWITCH_PORT_VETH,
                                    .name = "covs-rlp", .graph_id = "g9",
                                    .sf_id = "s", .sf_port_id = "1",
                                    .sf_peer_name = "covs-rlq" };
    struct vswitch_port_info info;
    assert_int_equal(ovs->port_create(vs, l, &ps, &sf, &info, &err), 0);
    struct vswitch_action out = { .type = VSWITCH_ACT_OUTPUT, .u.port = pb };
    struct vswitch_rule r = {
        .cookie = 9ull << 32 | 1, .priority = 10, .in_port = sf,
        .actions = &out, .n_actions = 1,
    };
    struct vswitch_rule_batch b = { .add = &r, .n_add = 1 };
    assert_int_equal(ovs->rules_apply(vs, l, &b, &err), 0);
    char before[8192], after[8192];
    dump_flows("covs-rl", before, sizeof before);
    assert_int_equal(count_lines(before, "cookie=0x900000001"), 1);

    ovs->port_release(vs, pa);          /* Both ends' structs. */
    ovs->port_release(vs, sf);
    ovs->lsi_release(vs, l);

    assert_int_equal(run("ovs-vsctl", db_arg, "br-exists", "covs-rl"), 0);
    char buf[4096];
    run_capture(buf, "ovs-vsctl", db_arg, "--no-wait", "list-ports",
                "covs-rl");
    assert_non_null(strstr(buf, "covs-rl0b"));
    assert_non_null(strstr(buf, "covs-rlp"));
    run_capture(buf, "ovs-vsctl", db_arg, "--no-wait", "list-ports",
                lsi0->name);
    assert_non_null(strstr(buf, "covs-rl0a"));
    assert_true(netlink_link_exists("covs-rlp"));
    assert_true(netlink_link_exists("covs-rlq"));
    dump_flows("covs-rl", after, sizeof after);
    assert_string_equal(after, before);

    /* The next run's lsi_create finds it ours (same identity) and takes
     * the name; destroying that removes what was released. */
    assert_int_equal(ovs->lsi_create(vs, &spec, &l, &err), 0);
    ovs->lsi_destroy(vs, l);
    run("ovs-vsctl", db_arg, "--if-exists", "del-port", lsi0->name,
        "covs-rl0a");
    run("ip", "link", "del", "covs-rlp");
    assert_int_not_equal(run("ovs-vsctl", db_arg, "br-exists", "covs-rl"), 0);
}

/* One graph's life, many times, for test_concurrent_graphs. */
static void *
graph_worker(void *arg)
{
    long id = (long) arg;
    for (int round = 0; round < 8; round++) {
        char name[16], vn[2][2][16];
        snprintf(name, sizeof name, "covs-t%ld", id);
        struct vswitch_vlink_spec vl[2];
        for (int k = 0; k < 2; k++) {
            snprintf(vn[k][0], 16, "covs-t%ldv%da", id, k);
            snprintf(vn[k][1], 16, "covs-t%ldv%db", id, k);
            vl[k] = (struct vswitch_vlink_spec) {
                .a_name = vn[k][0], .b_name = vn[k][1], .graph_id = name,
            };
        }
        struct vswitch_lsi_spec spec = { .graph_id = name, .name = name };
        struct vswitch_lsi *g;
        struct corch_err err = { 0 };
        if (ovs->lsi_create(vs, &spec, &g, &err))
            return (void *) 1;
        struct vswitch_port *a[2], *b[2];
        if (ovs->vlinks_create(vs, lsi0, g, vl, 2, a, b, &err))
            return (void *) 2;
        struct vswitch_action o = { .type = VSWITCH_ACT_OUTPUT, .u.port = b[1] };
        struct vswitch_action oa = { .type = VSWITCH_ACT_OUTPUT, .u.port = v2 };
        uint64_t cookie = (uint64_t) (0x40 + id) << 32;
        struct vswitch_rule gr = rule(cookie | 1, 1, b[0], &o, 1);
        struct vswitch_rule lr = rule(cookie | 2, 1, a[1], &oa, 1);
        struct vswitch_rule_batch bg = { .add = &gr, .n_add = 1 };
        struct vswitch_rule_batch bl = { .add = &lr, .n_add = 1 };
        if (ovs->rules_apply(vs, g, &bg, &err) || ovs->rules_apply(vs, lsi0,
                             &bl, &err))
            return (void *) 3;
        struct vswitch_rule_batch dl = { .del = &lr, .n_del = 1 };
        if (ovs->rules_apply(vs, lsi0, &dl, &err))
            return (void *) 4;
        ovs->port_destroy(vs, a[0]);
        ovs->lsi_destroy(vs, g);
    }
    return NULL;
}

static void
test_concurrent_graphs(void **state)
{
    (void) state;
    /* Hooks for different graphs run concurrently (the contract): four
     * threads deploy and tear down graphs sharing LSI-0. */
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, graph_worker,
                                        (void *) i), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
    char buf[8192];
    dump_flows(lsi0->name, buf, sizeof buf);
    assert_int_equal(count_lines(buf, "priority"), 0);
    run_capture(buf, "ovs-vsctl", db_arg, "list-ports",
                lsi0->name);
    assert_string_equal(buf, "covs-v1\ncovs-v2\n");
}

static void
test_ovsdb_restart(void **state)
{
    (void) state;
    /* ovsdb-server goes away and comes back: the next hook reconnects. */
    kill_pidfile("ovsdb-server");
    usleep(300000);
    char db[128], pid[128], log[128], ctl[128], rem[160];
    snprintf(db, sizeof db, "%s/conf.db", dir);
    snprintf(rem, sizeof rem, "--remote=p%s", remote);
    snprintf(pid, sizeof pid, "--pidfile=%s/ovsdb-server.pid", dir);
    snprintf(log, sizeof log, "--log-file=%s/ovsdb-server.log", dir);
    snprintf(ctl, sizeof ctl, "--unixctl=%s/ovsdb-server.ctl", dir);
    assert_int_equal(run("ovsdb-server", db, rem, pid, log, ctl, "--detach",
                         "--no-chdir"), 0);
    struct vswitch_lsi_spec spec = { .graph_id = "g3", .name = "covs-g3" };
    struct vswitch_lsi *l;
    struct corch_err err = { 0 };
    int error = ovs->lsi_create(vs, &spec, &l, &err);
    if (error)
        fprintf(stderr, "lsi_create after restart: %s\n", err.msg);
    assert_int_equal(error, 0);
    ovs->lsi_destroy(vs, l);
}

static pid_t
pidfile(const char *name)
{
    char path[128], buf[32] = "";
    snprintf(path, sizeof path, "%s/%s.pid", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(buf, sizeof buf, f))
        buf[0] = '\0';
    fclose(f);
    return atoi(buf) > 0 ? atoi(buf) : -1;
}

static void
test_vswitchd_stuck(void **state)
{
    (void) state;
    /* ovs-vswitchd does not apply a committed configuration in time: the
     * hook fails and takes its rows back out of OVSDB. */
    pid_t pid = pidfile("ovs-vswitchd");
    assert_true(pid > 0);
    /* A second instance of the driver, with a short timeout, on the same
     * switch (the first one and its handles stay for the next tests). */
    setenv("CORCH_OVS_TIMEOUT_MS", "300", 1);
    struct vswitch *vs2 = open_switch();
    unsetenv("CORCH_OVS_TIMEOUT_MS");
    const char *ifs[] = { "covs-v1", "covs-v2" };
    struct vswitch_lsi *l0;
    struct corch_err err = { 0 };
    assert_int_equal(ovs->lsi0_open(vs2, ifs, 2, &l0, &err), 0);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    struct vswitch_lsi_spec spec = { .graph_id = "g4", .name = "covs-g4" };
    struct vswitch_lsi *l;
    int error = ovs->lsi_create(vs2, &spec, &l, &err);
    struct vswitch_port *a, *b;
    struct corch_err err2 = { 0 };
    const struct vswitch_vlink_spec vl = {
        .a_name = "covs-st0a", .b_name = "covs-st0b", .graph_id = "g4",
    };
    int error2 = ovs->vlinks_create(vs2, l0, l0, &vl, 1, &a, &b, &err2);
    char buf[4096], ports[4096];
    run_capture(buf, "ovs-vsctl", db_arg, "--no-wait", "list-br");
    run_capture(ports, "ovs-vsctl", db_arg, "--no-wait", "list-ports",
                lsi0->name);
    kill(pid, SIGCONT);
    ovs->close(vs2);
    fprintf(stderr, "# stuck vswitchd: %s\n", err.msg);
    assert_int_equal(error, -ETIMEDOUT);
    assert_int_equal(error2, -ETIMEDOUT);
    assert_null(strstr(buf, "covs-g4"));
    assert_null(strstr(ports, "covs-st"));
}

static void
test_many_rules(void **state)
{
    (void) state;
    enum { N = 10000 };
    struct vswitch_rule *add = xcalloc(N, sizeof *add);
    struct vswitch_action to2 = { .type = VSWITCH_ACT_OUTPUT, .u.port = v2 };
    for (size_t i = 0; i < N; i++) {
        add[i] = rule(0x300000000ull | i, 100, v1, &to2, 1);
        add[i].match.fields = FLOW_M_PROTOCOL | FLOW_M_DEST_PORT;
        add[i].match.protocol = 6;
        add[i].match.dest_port = (uint16_t) i;
    }
    struct vswitch_rule_batch b = { .add = add, .n_add = N };
    struct corch_err err = { 0 };
    uint64_t t0 = time_ns();
    assert_int_equal(ovs->rules_apply(vs, lsi0, &b, &err), 0);
    uint64_t t1 = time_ns();
    printf("# 10000 rules in one rules_apply: %.1f ms (target <= 300 ms)\n",
           (t1 - t0) / 1e6);
    static char buf[4 << 20];
    dump_flows(lsi0->name, buf, sizeof buf);
    assert_int_equal(count_lines(buf, "priority=100"), N);
    struct vswitch_rule_batch d = { .del = add, .n_del = N };
    t0 = time_ns();
    assert_int_equal(ovs->rules_apply(vs, lsi0, &d, &err), 0);
    printf("# 10000 deletions: %.1f ms\n", (time_ns() - t0) / 1e6);
    dump_flows(lsi0->name, buf, sizeof buf);
    assert_int_equal(count_lines(buf, "priority"), 0);
    free(add);
}

int
main(void)
{
    if (geteuid() != 0 || access("/usr/sbin/ovs-vswitchd", X_OK)) {
        fprintf(stderr, "needs root and Open vSwitch: skipped\n");
        return 77;
    }
    /* A network namespace of our own: the userspace datapath's
     * "ovs-netdev" tap device (one per OVS instance) and every device of
     * the test then cannot collide with another OVS running on the host. */
    if (unshare(CLONE_NEWNET)) {
        perror("unshare(CLONE_NEWNET)");
        return 77;
    }
    run("ip", "link", "set", "lo", "up");
    log_set_level(getenv("COVS_DEBUG") ? LOG_LEVEL_DBG : LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lsi0_missing_interface),
        cmocka_unit_test(test_lsi0_open),
        cmocka_unit_test(test_lsi0_adopt),
        cmocka_unit_test(test_passthrough_rules),
        cmocka_unit_test(test_every_field_accepted),
        cmocka_unit_test(test_graph_lsi),
        cmocka_unit_test(test_learning_lsi),
        cmocka_unit_test(test_leftover_replaced),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_concurrent_graphs),
        cmocka_unit_test(test_ovsdb_restart),
        cmocka_unit_test(test_vswitchd_stuck),
        cmocka_unit_test(test_many_rules),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
