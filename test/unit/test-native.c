/* The native engine, driven through its hooks with real namespaces, veth
 * pairs and packets: the shipped NSFs really do their job, failures leave
 * nothing behind.  Hosts are network namespaces "nv-h*" whose eth0 is the
 * peer of the device handed to the SF (what the switch would do).
 * Needs root; skips otherwise. */
#include <config.h>
#include "compute/native/compute-native.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "compute.h"
#include "corch-config.h"
#include "netlink.h"
#include "proc.h"
#include "repository.h"
#include "util.h"

static const struct compute_class *nc = &compute_native_class;
/* The instance of the engine the tests drive (setup() opens it). */
static struct compute_engine *eng;
static char state_dir[64];

/* Runs a command line of the test's own (never client data) and returns
 * its exit status; its output goes to 'out' if nonnull. */
static int __attribute__((format(printf, 2, 3)))
sh(char **out, const char *fmt, ...)
{
    va_list ap;
    char *cmd;
    va_start(ap, fmt);
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    struct proc_options o = { .netns_fd = -1, .timeout_ms = 20000 };
    struct proc_result r;
    int e = proc_run(argv, &o, &r);
    free(cmd);
    if (e < 0)
        return -1;
    if (out)
        *out = xstrdup(r.out);
    int status = r.status;
    proc_result_free(&r);
    return status;
}

/* Whether a namespace "corch-<tag>-<instance>" exists. */
static bool
instance_netns_exists(const char *instance)
{
    char *out = NULL;
    sh(&out, "ls /run/netns | grep -E '^corch-[0-9a-f]{4}-%s$'", instance);
    bool found = out && *out;
    free(out);
    return found;
}

/* A host: namespace 'ns' with eth0 = 'ip_cidr' (and a default route via
 * 'gw' if nonnull), whose peer 'ifname' stays in the root namespace for
 * the SF. */
static void
host_make(const char *ns, const char *ifname, const char *ip_cidr,
          const char *gw)
{
    char peer[16];
    snprintf(peer, sizeof peer, "%sp", ifname);
    assert_int_equal(sh(NULL, "ip netns add %s && ip -n %s link set lo up",
                        ns, ns), 0);
    assert_int_equal(netlink_veth_create(ifname, peer), 0);
    char path[128];
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(netlink_link_move_to_netns(peer, fd, "eth0"), 0);
    close(fd);
    assert_int_equal(sh(NULL, "ip -n %s addr add %s dev eth0", ns, ip_cidr),
                     0);
    if (gw)
        assert_int_equal(sh(NULL, "ip -n %s route add default via %s", ns,
                            gw), 0);
}

static void
host_drop(const char *ns)
{
    sh(NULL, "ip netns delete %s 2>/dev/null", ns);
}

/* 0 if 'ip' answers from 'ns' (a few tries: links just brought up and
 * ARP may take a moment on a loaded machine). */
static int
ping(const char *ns, const char *ip)
{
    int r = 1;
    for (int i = 0; i < 3 && r; i++)
        r = sh(NULL, "ip netns exec %s ping -n -q -c 1 -W 1 %s", ns, ip);
    return r;
}

/* Nonzero if 'ip' does not answer within 1 s. */
static int
ping_once(const char *ns, const char *ip)
{
    return sh(NULL, "ip netns exec %s ping -n -q -c 1 -W 1 %s", ns, ip);
}

/* TCP from 'ns' to ip:port: 0 if something answered (a SYN-ACK or a RST:
 * the SYN crossed and the answer came back), 1 if nothing did. */
static int
tcp_reaches(const char *ns, const char *ip, int port)
{
    char *out = NULL;
    sh(&out, "ip netns exec %s timeout 2 /usr/bin/python3 -c '"
       "import socket,sys\n"
       "s=socket.socket(); s.settimeout(1.5)\n"
       "try: s.connect((\"%s\",%d)); print(\"open\")\n"
       "except ConnectionRefusedError: print(\"refused\")\n"
       "except Exception as e: print(\"timeout\")' 2>&1", ns, ip, port);
    int r = out && (strstr(out, "open") || strstr(out, "refused")) ? 0 : 1;
    free(out);
    return r;
}

static struct sf_template *
template_load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/sf-repository/templates/%s-native.json",
             TOP_SRCDIR, name);
    json_object *j = json_object_from_file(path);
    assert_non_null(j);
    struct sf_template *t = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    int r = sf_template_from_json(j, &t, &err);
    if (r < 0)
        fprintf(stderr, "%s: %s %s\n", path, err.path, err.msg);
    assert_int_equal(r, 0);
    json_object_put(j);
    return t;
}

/* Everything one SF of a test needs. */
struct sf_fixture {
    char instance[48];
    char run_dir[128];
    char image[512];
    struct compute_port ports[4];
    char ifnames[4][16];
    char ids[4][16];
    struct compute_sf_spec spec;
    struct sf_template *tmpl;
    char netns[80];             /* The SF's namespace, once created. */
};

static void
fixture_init(struct sf_fixture *f, const char *instance, const char *nsf,
             const char *image, size_t n_ports, const char *config)
{
    memset(f, 0, sizeof *f);
    snprintf(f->instance, sizeof f->instance, "%s", instance);
    snprintf(f->run_dir, sizeof f->run_dir, "%s/run/%s", state_dir, instance);
    assert_int_equal(mkdir_p(f->run_dir, 0755), 0);
    if (nsf) {
        f->tmpl = template_load(nsf);
        snprintf(f->image, sizeof f->image, "%s/sf-repository/%s", TOP_SRCDIR,
                 f->tmpl->uri);
    } else {
        snprintf(f->image, sizeof f->image, "%s", image);
    }
    for (size_t i = 0; i < n_ports; i++) {
        snprintf(f->ifnames[i], sizeof f->ifnames[i], "nv-%.6s%zu",
                 instance + 3, i);
        snprintf(f->ids[i], sizeof f->ids[i], "p%zu", i);
        f->ports[i] = (struct compute_port) {
            .id = f->ids[i],
            .name = f->tmpl ? f->tmpl->ports[i].name : "eth0",
            .tech = VSWITCH_PORT_VETH,
            .ifname = f->ifnames[i],
        };
    }
    f->spec = (struct compute_sf_spec) {
        .graph_id = "g-nv",
        .sf_id = instance,
        .instance = f->instance,
        .tmpl = f->tmpl,
        .image_path = f->image,
        .config_json = config,
        .run_dir = f->run_dir,
        .ports = f->ports,
        .n_ports = n_ports,
        .timeout_s = 10,
    };
}

static void
fixture_fini(struct sf_fixture *f)
{
    sf_template_free(f->tmpl);
    f->tmpl = NULL;
}

static struct compute_sf *
create_start(struct sf_fixture *f)
{
    struct compute_sf *sf = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    int r = compute_sf_create(eng, &f->spec, &sf, &err);
    if (r < 0)
        fprintf(stderr, "create: %s: %s\n", err.path, err.msg);
    assert_int_equal(r, 0);
    snprintf(f->netns, sizeof f->netns, "%s", compute_native_netns_name(sf));
    r = compute_sf_start(sf, &err);
    if (r < 0)
        fprintf(stderr, "start: %s\n", err.msg);
    assert_int_equal(r, 0);
    return sf;
}

/* After destroy: no namespace, no device, no run dir. */
static void
assert_gone(struct sf_fixture *f)
{
    assert_false(instance_netns_exists(f->instance));
    for (size_t i = 0; i < f->spec.n_ports; i++)
        assert_false(netlink_link_exists(f->ifnames[i]));
    assert_int_equal(access(f->run_dir, F_OK), -1);
}

/* ---- Packages made by the tests (misbehaving ones). ---- */

static void
make_package(const char *name, const char *start_body, char *ret_image,
             size_t size)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/pkg-%s", state_dir, name);
    assert_int_equal(mkdir_p(dir, 0755), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *m = fopen(path, "w");
    assert_non_null(m);
    fprintf(m, "{\"name\": \"%s\", \"version\": \"0\", \"interface\": 1}\n",
            name);
    fclose(m);
    snprintf(path, sizeof path, "%s/start", dir);
    FILE *s = fopen(path, "w");
    assert_non_null(s);
    fprintf(s, "#!/bin/sh\n%s\n", start_body);
    fclose(s);
    chmod(path, 0755);
    snprintf(ret_image, size, "%s/%s.tgz", state_dir, name);
    assert_int_equal(sh(NULL, "tar -czf %s -C %s .", ret_image, dir), 0);
}

/* ---- Tests. ---- */

/* What an earlier, interrupted run of this test left (names "nv-*" and
 * "corch-<tag>-nv-*" are this test's own). */
static void
clean_leftovers(void)
{
    sh(NULL, "for n in $(ip netns list | awk '{print $1}' | "
             "grep -E '^(nv-h|corch-[0-9a-f]{4}-nv-)'); do "
             "ip netns pids $n | xargs -r kill -9; ip netns delete $n; done; "
             "for l in $(ip -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | "
             "grep -E '^nv-'); do ip link delete $l; done; true");
}

static int
setup(void **state)
{
    if (geteuid() != 0)
        return 0;
    clean_leftovers();
    snprintf(state_dir, sizeof state_dir, "/tmp/nv-state-XXXXXX");
    assert_non_null(mkdtemp(state_dir));
    struct corch_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.state_dir = state_dir;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(compute_engine_open(nc, &cfg, &eng, &err), 0);
    return 0;
}

static int
teardown(void **state)
{
    if (geteuid() != 0)
        return 0;
    compute_engine_close(eng);
    eng = NULL;
    clean_leftovers();
    sh(NULL, "rm -rf %s", state_dir);
    return 0;
}

#define NEED_ROOT() do { if (geteuid() != 0) { skip(); return; } } while (0)

static void
test_probe(void **state)
{
    NEED_ROOT();
    struct corch_err err = { .path = "", .msg = "" };
    (void) err;
    compute_engine_probe(eng);
    assert_true(eng->usable);
    assert_int_equal(nc->default_port_tech, VSWITCH_PORT_VETH);
}

static void
test_netlink(void **state)
{
    NEED_ROOT();
    assert_int_equal(netlink_veth_create("nv-nl0", "nv-nl1"), 0);
    assert_int_equal(netlink_veth_create("nv-nl0", "nv-nl2"), -EEXIST);
    assert_true(netlink_link_exists("nv-nl1"));
    uint8_t mac[6];
    assert_int_equal(netlink_link_get_mac("nv-nl0", mac), 0);
    assert_int_equal(netlink_link_tx_offload_off("nv-nl0"), 0);
    char *out = NULL;
    assert_int_equal(sh(&out, "ethtool -k nv-nl0"), 0);
    assert_non_null(strstr(out, "tx-checksumming: off"));
    free(out);
    assert_int_equal(netlink_link_set_up("nv-nl0", false), 0);
    assert_int_equal(netlink_link_delete("nv-nl0"), 0);
    assert_false(netlink_link_exists("nv-nl1"));
    assert_int_equal(netlink_link_delete("nv-nl0"), -ENODEV);
    assert_int_equal(netlink_veth_create("bad name", "nv-nl1"), -EINVAL);
}

static void
test_bridge(void **state)
{
    NEED_ROOT();
    struct sf_fixture f;
    fixture_init(&f, "nv-br", "bridge", NULL, 2, NULL);
    host_make("nv-hb1", f.ifnames[0], "10.77.0.1/24", NULL);
    host_make("nv-hb2", f.ifnames[1], "10.77.0.2/24", NULL);

    struct compute_sf *sf = create_start(&f);
    /* Ports are inside, renamed, and up; the root namespace lost them. */
    assert_false(netlink_link_exists(f.ifnames[0]));
    char *out = NULL;
    assert_int_equal(sh(&out, "ip -n %s -br link show master br0", f.netns),
                     0);
    assert_non_null(strstr(out, "eth0"));
    assert_non_null(strstr(out, "eth1"));
    free(out);
    assert_int_equal(ping("nv-hb1", "10.77.0.2"), 0);

    /* A PID that stays while it runs (the placeholder). */
    int pid = compute_sf_pid(sf);
    assert_true(pid > 0);
    assert_int_equal(compute_sf_pid(sf), pid);

    /* port_add on the running SF: a third host joins the bridge. */
    host_make("nv-hb3", "nv-br-x", "10.77.0.3/24", NULL);
    struct compute_port p3 = { .id = "p2", .name = "eth2",
                               .tech = VSWITCH_PORT_VETH,
                               .ifname = "nv-br-x" };
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(compute_sf_port_add(sf, &p3, &err), 0);
    assert_int_equal(ping("nv-hb3", "10.77.0.1"), 0);
    assert_int_equal(compute_sf_pid(sf), pid);
    assert_int_equal(compute_sf_port_add(sf, &p3, &err), -EEXIST);
    /* ... and leaves: its device is back in the root namespace. */
    assert_int_equal(compute_sf_port_remove(sf, "p2", &err), 0);
    assert_true(netlink_link_exists("nv-br-x"));
    assert_int_equal(compute_sf_port_remove(sf, "p2", &err), -ENOENT);
    assert_int_equal(ping("nv-hb1", "10.77.0.2"), 0);

    /* Pause stops the traffic, resume brings it back. */
    assert_int_equal(compute_sf_pause(sf, true, &err), 0);
    assert_int_not_equal(ping_once("nv-hb1", "10.77.0.2"), 0);
    assert_int_equal(compute_sf_pause(sf, false, &err), 0);
    assert_int_equal(ping("nv-hb1", "10.77.0.2"), 0);

    /* Stop / start again. */
    assert_int_equal(compute_sf_stop(sf, &err), 0);
    assert_int_equal(compute_sf_pid(sf), 0);
    assert_true(kill(pid, 0) < 0);
    assert_int_equal(compute_sf_start(sf, &err), 0);
    assert_int_equal(ping("nv-hb1", "10.77.0.2"), 0);

    /* The log records every script run. */
    char log[256];
    snprintf(log, sizeof log, "%s/log", f.run_dir);
    assert_int_equal(sh(&out, "grep -c '^=== .* start: exit 0' %s", log), 0);
    assert_string_equal(out, "2\n");
    free(out);

    compute_sf_destroy(sf);
    assert_gone(&f);
    host_drop("nv-hb1");
    host_drop("nv-hb2");
    host_drop("nv-hb3");
    fixture_fini(&f);
}

/* prepare + create: the namespace first, the "switch" makes the SF end
 * of each veth directly in it (netlink_veth_create_in_netns), create moves
 * nothing; a create that fails leaves the prepared SF as it was, and
 * destroy removes it whole. */
static void
test_prepared(void **state)
{
    NEED_ROOT();
    struct sf_fixture f;
    struct corch_err err = { .path = "", .msg = "" };
    fixture_init(&f, "nv-pb", "bridge", NULL, 2, NULL);
    struct compute_sf *sf = NULL;
    const char *path = NULL;
    assert_non_null(nc->prepare);
    assert_int_equal(compute_sf_prepare(eng, &f.spec, &sf, &path, &err), 0);
    assert_non_null(path);
    assert_true(instance_netns_exists(f.instance));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    for (int i = 0; i < 2; i++) {
        /* The switch's part; then (test only) its end goes to a host. */
        const char *name = f.tmpl->ports[i].name;
        assert_int_equal(netlink_veth_create_in_netns(f.ifnames[i], name,
                                                      fd), 0);
        assert_int_equal(netlink_veth_create_in_netns("nv-pbx", name, fd),
                         -EEXIST);
        char ns[16], hostfd_path[64];
        snprintf(ns, sizeof ns, "nv-hp%d", i + 1);
        assert_int_equal(sh(NULL, "ip netns add %s && ip -n %s link set lo "
                            "up", ns, ns), 0);
        snprintf(hostfd_path, sizeof hostfd_path, "/run/netns/%s", ns);
        int hfd = open(hostfd_path, O_RDONLY | O_CLOEXEC);
        assert_true(hfd >= 0);
        assert_int_equal(netlink_link_move_to_netns(f.ifnames[i], hfd,
                                                    "eth0"), 0);
        close(hfd);
        assert_int_equal(sh(NULL, "ip -n %s addr add 10.78.0.%d/24 dev eth0",
                            ns, i + 1), 0);
        f.ports[i].in_netns = true;
        f.ports[i].ifname = name;
    }
    close(fd);
    f.spec.prepared = sf;
    struct compute_sf *made = NULL;
    assert_int_equal(compute_sf_create(eng, &f.spec, &made, &err), 0);
    assert_ptr_equal(made, sf);
    struct compute_native_timings tm;
    compute_native_timings(sf, &tm);
    assert_int_equal(compute_sf_start(sf, &err), 0);
    char *out = NULL;
    assert_int_equal(sh(&out, "ip -n %s -br link show master br0",
                        compute_native_netns_name(sf)), 0);
    assert_non_null(strstr(out, "eth0"));
    assert_non_null(strstr(out, "eth1"));
    free(out);
    assert_int_equal(ping("nv-hp1", "10.78.0.2"), 0);
    /* A prepared SF cannot be created twice. */
    assert_int_equal(compute_sf_create(eng, &f.spec, &made, &err), -EINVAL);
    compute_sf_destroy(sf);
    assert_gone(&f);

    /* create fails (a port the switch never made): the prepared SF stays
     * as it was (its namespace), destroy takes it. */
    struct sf_fixture g;
    fixture_init(&g, "nv-pf", "bridge", NULL, 1, NULL);
    assert_int_equal(compute_sf_prepare(eng, &g.spec, &sf, &path, &err), 0);
    g.ports[0].in_netns = true;
    g.ports[0].ifname = g.ports[0].name;
    g.spec.prepared = sf;
    made = NULL;
    assert_true(compute_sf_create(eng, &g.spec, &made, &err) < 0);
    assert_null(made);
    assert_true(instance_netns_exists(g.instance));
    compute_sf_destroy(sf);
    /* (The run directory is the core's: create never took it.) */
    assert_false(instance_netns_exists(g.instance));
    assert_false(netlink_link_exists(g.ifnames[0]));
    /* A prepared SF never created is destroyed whole too. */
    assert_int_equal(compute_sf_prepare(eng, &g.spec, &sf, &path, &err), 0);
    compute_sf_destroy(sf);
    assert_false(instance_netns_exists(g.instance));

    host_drop("nv-hp1");
    host_drop("nv-hp2");
    fixture_fini(&f);
    fixture_fini(&g);
}

static void
test_firewall(void **state)
{
    NEED_ROOT();
    struct sf_fixture f;
    fixture_init(&f, "nv-fw", "firewall", NULL, 2,
        "{\"default\":\"deny\",\"rules\":["
        "{\"action\":\"deny\",\"protocol\":\"tcp\",\"dest_ip\":\"10.78.0.2/32\","
        "\"dest_port\":80},"
        "{\"action\":\"allow\",\"protocol\":\"icmp\"},"
        "{\"action\":\"allow\",\"protocol\":\"tcp\",\"source_ip\":"
        "\"10.78.0.0/24\",\"dest_port\":8080},"
        "{\"action\":\"allow\",\"protocol\":\"tcp\",\"dest_port\":80}]}");
    host_make("nv-hf1", f.ifnames[0], "10.78.0.1/24", NULL);
    host_make("nv-hf2", f.ifnames[1], "10.78.0.2/24", NULL);
    struct compute_sf *sf = create_start(&f);

    assert_int_equal(ping("nv-hf1", "10.78.0.2"), 0);
    /* Allowed: the SYN crosses, the RST comes back (mirrored rule). */
    assert_int_equal(tcp_reaches("nv-hf1", "10.78.0.2", 8080), 0);
    /* Denied by rule 0 before rule 3 could allow it: first match wins. */
    assert_int_equal(tcp_reaches("nv-hf1", "10.78.0.2", 80), 1);
    /* Default deny. */
    assert_int_equal(tcp_reaches("nv-hf1", "10.78.0.2", 22), 1);

    compute_sf_destroy(sf);
    assert_gone(&f);
    host_drop("nv-hf1");
    host_drop("nv-hf2");
    fixture_fini(&f);
}

static void
test_firewall_bad_config(void **state)
{
    NEED_ROOT();
    struct sf_fixture f;
    fixture_init(&f, "nv-fwbad", "firewall", NULL, 2,
                 "{\"default\":\"deny\",\"rules\":[{\"action\":\"allow\","
                 "\"protocol\":\"sctp\"}]}");
    assert_int_equal(netlink_veth_create(f.ifnames[0], "nv-fwbad0p"), 0);
    assert_int_equal(netlink_veth_create(f.ifnames[1], "nv-fwbad1p"), 0);
    struct compute_sf *sf = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(compute_sf_create(eng, &f.spec, &sf, &err), 0);
    assert_int_equal(compute_sf_start(sf, &err), -EIO);
    assert_non_null(strstr(err.msg, "config.rules[0].protocol"));
    assert_non_null(strstr(err.msg, "status 2"));
    compute_sf_destroy(sf);
    assert_gone(&f);
    assert_false(netlink_link_exists("nv-fwbad0p"));
    fixture_fini(&f);
}

static void
test_nat(void **state)
{
    NEED_ROOT();
    struct sf_fixture f;
    fixture_init(&f, "nv-nat", "nat", NULL, 2,
                 "{\"inside_ip\":\"192.168.79.1/24\","
                 "\"outside_ip\":\"10.79.0.2/24\",\"gateway\":\"10.79.0.1\"}");
    host_make("nv-hn1", f.ifnames[0], "192.168.79.2/24", "192.168.79.1");
    /* The outside host knows no route to the inside network: replies reach
     * the inside only if the NAT translated the requests. */
    host_make("nv-hn2", f.ifnames[1], "10.79.0.1/24", NULL);
    struct compute_sf *sf = create_start(&f);

    char *out = NULL;
    assert_int_equal(sh(NULL, "ip netns exec nv-hn2 sh -c 'timeout 5 tcpdump "
                        "-l -n -i eth0 -c 1 icmp > %s/nat.pcap.txt 2>/dev/null"
                        " &'; sleep 0.5", state_dir), 0);
    assert_int_equal(ping("nv-hn1", "10.79.0.1"), 0);
    sh(NULL, "sleep 0.3");
    assert_int_equal(sh(&out, "cat %s/nat.pcap.txt", state_dir), 0);
    assert_non_null(strstr(out, "10.79.0.2 > 10.79.0.1"));
    assert_null(strstr(out, "192.168.79.2"));
    free(out);
    /* Unsolicited traffic from the outside does not enter. */
    assert_int_equal(sh(NULL, "ip -n nv-hn2 route add 192.168.79.0/24 via "
                        "10.79.0.2"), 0);
    assert_int_not_equal(ping_once("nv-hn2", "192.168.79.2"), 0);

    compute_sf_destroy(sf);
    assert_gone(&f);
    host_drop("nv-hn1");
    host_drop("nv-hn2");
    fixture_fini(&f);
}

static void
test_router(void **state)
{
    NEED_ROOT();
    struct sf_fixture f;
    fixture_init(&f, "nv-rt", "router", NULL, 2,
                 "{\"interfaces\":[\"10.80.1.1/24\",\"10.80.2.1/24\"],"
                 "\"routes\":[{\"dest\":\"10.80.9.0/24\",\"via\":"
                 "\"10.80.2.2\"}]}");
    host_make("nv-hr1", f.ifnames[0], "10.80.1.2/24", "10.80.1.1");
    host_make("nv-hr2", f.ifnames[1], "10.80.2.2/24", "10.80.2.1");
    assert_int_equal(sh(NULL, "ip -n nv-hr2 addr add 10.80.9.9/32 dev lo"),
                     0);
    struct compute_sf *sf = create_start(&f);
    assert_int_equal(ping("nv-hr1", "10.80.2.2"), 0);
    assert_int_equal(ping("nv-hr1", "10.80.9.9"), 0);     /* Static route. */
    compute_sf_destroy(sf);
    assert_gone(&f);
    host_drop("nv-hr1");
    host_drop("nv-hr2");
    fixture_fini(&f);
}

static void
test_start_fails(void **state)
{
    NEED_ROOT();
    char image[256];
    make_package("nvfail", "sleep 300 &\necho \"boom-nv: $*\" >&2\nexit 3",
                 image, sizeof image);
    struct sf_fixture f;
    fixture_init(&f, "nv-fail", NULL, image, 1, NULL);
    assert_int_equal(netlink_veth_create(f.ifnames[0], "nv-fail0p"), 0);
    struct compute_sf *sf = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(compute_sf_create(eng, &f.spec, &sf, &err), 0);
    snprintf(f.netns, sizeof f.netns, "%s", compute_native_netns_name(sf));
    assert_int_equal(compute_sf_start(sf, &err), -EIO);
    assert_non_null(strstr(err.msg, "status 3"));
    assert_non_null(strstr(err.msg, "boom-nv"));
    /* The script got RUN_DIR CONFIG PORT. */
    assert_non_null(strstr(err.msg, "/config.json eth0"));
    /* What it left running is gone already. */
    char *out = NULL;
    assert_int_equal(sh(&out, "ip netns pids %s", f.netns), 0);
    assert_string_equal(out, "");
    free(out);
    compute_sf_destroy(sf);
    assert_gone(&f);
    assert_false(netlink_link_exists("nv-fail0p"));
    fixture_fini(&f);
}

static void
test_start_hangs(void **state)
{
    NEED_ROOT();
    char image[256];
    make_package("nvhang", "echo hanging-nv >&2\nsleep 300", image,
                 sizeof image);
    struct sf_fixture f;
    fixture_init(&f, "nv-hang", NULL, image, 1, NULL);
    f.spec.timeout_s = 1;
    assert_int_equal(netlink_veth_create(f.ifnames[0], "nv-hang0p"), 0);
    struct compute_sf *sf = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(compute_sf_create(eng, &f.spec, &sf, &err), 0);
    snprintf(f.netns, sizeof f.netns, "%s", compute_native_netns_name(sf));
    uint64_t t0 = time_ms();
    assert_int_equal(compute_sf_start(sf, &err), -ETIMEDOUT);
    assert_true(time_ms() - t0 < 4000);
    assert_non_null(strstr(err.msg, "timed out"));
    assert_non_null(strstr(err.msg, "hanging-nv"));
    char *out = NULL;
    assert_int_equal(sh(&out, "ip netns pids %s", f.netns), 0);
    assert_string_equal(out, "");
    free(out);
    compute_sf_destroy(sf);
    assert_gone(&f);
    fixture_fini(&f);
}

static void
test_daemon_pid_cpus(void **state)
{
    NEED_ROOT();
    char image[256];
    /* A daemon that double-forks away from the script's process group:
     * found by namespace at stop all the same. */
    make_package("nvdaemon",
                 "setsid sleep 300 >/dev/null 2>&1 < /dev/null &\n"
                 "echo $! > \"$1/pids\"\n"
                 "[ \"$NSF_ACTION\" = start ] && [ -n \"$NSF_INSTANCE\" ]",
                 image, sizeof image);
    struct sf_fixture f;
    fixture_init(&f, "nv-dmn", NULL, image, 0, "{\"x\": 1}");
    unsigned int cpus[] = { 0 };
    f.spec.cpus = cpus;
    f.spec.n_cpus = 1;
    struct compute_sf *sf = create_start(&f);
    int pid = compute_sf_pid(sf);
    assert_true(pid > 0);
    char *out = NULL;
    assert_int_equal(sh(&out, "grep Cpus_allowed_list /proc/%d/status", pid),
                     0);
    assert_non_null(strstr(out, "\t0\n"));
    free(out);
    assert_int_equal(sh(&out, "cat %s/config.json", f.run_dir), 0);
    assert_string_equal(out, "{\"x\": 1}");
    free(out);
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(compute_sf_stop(sf, &err), 0);
    for (int i = 0; i < 100 && kill(pid, 0) == 0; i++)
        usleep(10000);
    /* Gone, or a zombie of init. */
    char st[64];
    snprintf(st, sizeof st, "/proc/%d/ns/net", pid);
    assert_int_equal(access(st, F_OK), -1);
    compute_sf_destroy(sf);
    assert_gone(&f);
    fixture_fini(&f);
}

static void
test_create_errors(void **state)
{
    NEED_ROOT();
    struct sf_fixture f;
    fixture_init(&f, "nv-err", "bridge", NULL, 1, NULL);
    struct compute_sf *sf = NULL;
    struct corch_err err = { .path = "", .msg = "" };
    /* The switch's device does not exist: nothing is left. */
    assert_int_equal(compute_sf_create(eng, &f.spec, &sf, &err), -ENODEV);
    assert_string_equal(err.path, "ports[0]");
    assert_null(sf);
    assert_false(instance_netns_exists("nv-err"));
    /* A bad instance name. */
    f.spec.instance = "../evil";
    assert_int_equal(compute_sf_create(eng, &f.spec, &sf, &err), -EINVAL);
    /* An image that is not a package. */
    f.spec.instance = f.instance;
    f.spec.tmpl = NULL;
    f.spec.image_path = "/etc/hostname";
    f.spec.n_ports = 0;
    assert_true(compute_sf_create(eng, &f.spec, &sf, &err) < 0);
    assert_non_null(strstr(err.msg, "unpack"));
    assert_false(instance_netns_exists("nv-err"));
    fixture_fini(&f);
}

/* release (shutdown): the object goes, the SF stays exactly as it was:
 * its namespace, its ports, its process (same pid), its run directory,
 * and traffic through it.  What it leaves is then cleaned up by hand, as
 * a later run of c-orch would find it. */
static void
test_release(void **state)
{
    NEED_ROOT();
    (void) state;
    struct sf_fixture f;
    fixture_init(&f, "nv-rel", "bridge", NULL, 2, NULL);
    host_make("nv-hr1", f.ifnames[0], "10.78.0.1/24", NULL);
    host_make("nv-hr2", f.ifnames[1], "10.78.0.2/24", NULL);
    struct compute_sf *sf = create_start(&f);
    assert_int_equal(ping("nv-hr1", "10.78.0.2"), 0);
    int pid = compute_sf_pid(sf);
    assert_true(pid > 0);

    compute_sf_release(sf);
    assert_true(instance_netns_exists(f.instance));
    assert_int_equal(kill(pid, 0), 0);
    assert_int_equal(access(f.run_dir, F_OK), 0);
    char *out = NULL;
    assert_int_equal(sh(&out, "ip -n %s -br link show master br0", f.netns),
                     0);
    assert_non_null(strstr(out, "eth0"));
    assert_non_null(strstr(out, "eth1"));
    free(out);
    assert_int_equal(ping("nv-hr1", "10.78.0.2"), 0);

    /* Not ours any more: removed the way an operator would. */
    sh(NULL, "ip netns pids %s | xargs -r kill -9; ip netns delete %s",
       f.netns, f.netns);
    sh(NULL, "rm -rf %s", f.run_dir);
    host_drop("nv-hr1");
    host_drop("nv-hr2");
    fixture_fini(&f);
}

/* One run at a time on a host: the hosts' and devices' names are fixed
 * ("nv-..."), and setup removes what a dead run left.  Several people's
 * make check may run at once: the later one waits here. */
#define NATIVE_TEST_LOCK "/run/lock/corch-test-native.lock"

/* Two instances of the engine in one process (two state directories, as
 * two daemons would have): each has its own namespace tag, so one SF
 * instance name makes two namespaces; closing one instance leaves the
 * other's SFs alone. */
static void
test_two_instances(void **state)
{
    NEED_ROOT();
    (void) state;
    char dir2[64];
    snprintf(dir2, sizeof dir2, "%s/second", state_dir);
    struct corch_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.state_dir = dir2;
    struct corch_err err = { .path = "", .msg = "" };
    struct compute_engine *eng2 = NULL;
    assert_int_equal(compute_engine_open(nc, &cfg, &eng2, &err), 0);
    assert_true(eng2 != eng && eng2->usable);

    struct compute_sf_spec spec = {
        .graph_id = "g", .sf_id = "s", .instance = "nv-two", .timeout_s = 5,
    };
    struct compute_sf *a = NULL, *b = NULL;
    const char *pa = NULL, *pb = NULL;
    assert_int_equal(compute_sf_prepare(eng, &spec, &a, &pa, &err), 0);
    assert_int_equal(compute_sf_prepare(eng2, &spec, &b, &pb, &err), 0);
    assert_ptr_equal(a->engine, eng);
    assert_ptr_equal(b->engine, eng2);
    assert_string_not_equal(compute_native_netns_name(a),
                            compute_native_netns_name(b));
    /* The paths are the SFs' own: keep copies to look after destroy. */
    char path_a[256], path_b[256];
    snprintf(path_a, sizeof path_a, "%s", pa);
    snprintf(path_b, sizeof path_b, "%s", pb);
    assert_int_equal(access(path_a, F_OK), 0);
    assert_int_equal(access(path_b, F_OK), 0);
    compute_sf_destroy(b);
    assert_int_not_equal(access(path_b, F_OK), 0);
    compute_engine_close(eng2);
    assert_int_equal(access(path_a, F_OK), 0);  /* Not eng2's. */
    compute_sf_destroy(a);
    assert_int_not_equal(access(path_a, F_OK), 0);
}

int
main(void)
{
    if (geteuid() == 0) {
        int lock = open(NATIVE_TEST_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock < 0 || flock(lock, LOCK_EX) < 0) {
            perror(NATIVE_TEST_LOCK);
            return 1;
        }
        /* Held until exit. */
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_netlink),
        cmocka_unit_test(test_bridge),
        cmocka_unit_test(test_prepared),
        cmocka_unit_test(test_firewall),
        cmocka_unit_test(test_firewall_bad_config),
        cmocka_unit_test(test_nat),
        cmocka_unit_test(test_router),
        cmocka_unit_test(test_start_fails),
        cmocka_unit_test(test_start_hangs),
        cmocka_unit_test(test_daemon_pid_cpus),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_two_instances),
        cmocka_unit_test(test_release),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
