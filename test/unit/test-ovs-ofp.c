/* The OpenFlow 1.3 encoder of the ovs driver, checked against an
 * independent decoder: every message is hex-dumped and printed by
 * `ovs-ofctl ofp-print`, whose text must be the expected one.  Skips (77)
 * when ovs-ofctl is not installed. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vswitch/ovs/ofp.h"
#include "util.h"

static const char *ofctl = "/usr/bin/ovs-ofctl";

/* Runs ovs-ofctl ofp-print on the hex of 'b' and returns its stdout. */
static char *
ofp_print(const struct ofp_buf *b)
{
    char *hex = xmalloc(2 * b->len + 1);
    hex_encode(b->data, b->len, hex);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        execl(ofctl, "ovs-ofctl", "ofp-print", hex, "2", (char *) NULL);
        _exit(127);
    }
    close(pfd[1]);
    size_t cap = 4096, len = 0;
    char *out = xmalloc(cap);
    ssize_t n;
    while ((n = read(pfd[0], out + len, cap - len - 1)) > 0) {
        len += (size_t) n;
        if (cap - len < 2)
            out = xrealloc(out, cap *= 2);
    }
    out[len] = '\0';
    close(pfd[0]);
    int status;
    waitpid(pid, &status, 0);
    free(hex);
    return out;
}

/* Encodes 'f', prints it, and checks that 'expected' is in the text. */
static void
check_flow(const struct ofp_flow *f, const char *expected)
{
    struct ofp_buf b = { 0 };
    assert_int_equal(ofp_put_flow_mod(&b, 0x42, f), 0);
    assert_int_equal(b.len % 8, 0);
    char *text = ofp_print(&b);
    if (!strstr(text, expected)) {
        fprintf(stderr, "expected: %s\ngot:      %s\n", expected, text);
        fail();
    }
    assert_null(strstr(text, "bad"));
    free(text);
    ofp_buf_free(&b);
}

static void
set_ip(struct flow_ip *ip, int family, const char *text, uint8_t plen)
{
    ip->family = family;
    ip->plen = plen;
    assert_int_equal(inet_pton(family, text, ip->addr), 1);
}

static const uint8_t mac1[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac2[6] = { 0x0a, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

static void
test_l2_match(void **state)
{
    (void) state;
    struct flow_match m = {
        .fields = FLOW_M_ETHER_TYPE | FLOW_M_VLAN_ID | FLOW_M_VLAN_PCP
                  | FLOW_M_SOURCE_MAC | FLOW_M_DEST_MAC,
        .ether_type = 0x0806, .vlan_id = 10, .vlan_pcp = 3,
    };
    memcpy(m.source_mac, mac1, 6);
    memcpy(m.dest_mac, mac2, 6);
    struct ofp_action out = { .kind = OFP_ACT_OUTPUT, .port = 2 };
    struct ofp_flow f = { .command = OFPFC_ADD, .cookie = 0x1234, .priority = 100,
                          .has_in_port = true, .in_port = 1, .match = &m,
                          .actions = &out, .n_actions = 1 };
    check_flow(&f, "ADD priority=100,arp,in_port=1,dl_vlan=10,dl_vlan_pcp=3,"
               "dl_src=02:00:00:00:00:01,dl_dst=0a:bb:cc:dd:ee:ff "
               "cookie:0x1234 actions=output:2");
}

static void
test_pcp_without_vid(void **state)
{
    (void) state;
    struct flow_match m = { .fields = FLOW_M_VLAN_PCP, .vlan_pcp = 5 };
    struct ofp_action out = { .kind = OFP_ACT_OUTPUT, .port = 7 };
    struct ofp_flow f = { .command = OFPFC_ADD, .priority = 1,
                          .has_in_port = true, .in_port = 3, .match = &m,
                          .actions = &out, .n_actions = 1 };
    check_flow(&f, "ADD priority=1,in_port=3,dl_vlan_pcp=5 actions=output:7");
}

static void
test_ipv4_tcp(void **state)
{
    (void) state;
    struct flow_match m = {
        .fields = FLOW_M_SOURCE_IP | FLOW_M_DEST_IP | FLOW_M_PROTOCOL
                  | FLOW_M_SOURCE_PORT | FLOW_M_DEST_PORT | FLOW_M_IP_DSCP,
        .protocol = 6, .source_port = 1234, .dest_port = 80, .ip_dscp = 46,
    };
    set_ip(&m.source_ip, AF_INET, "10.1.2.99", 24);
    set_ip(&m.dest_ip, AF_INET, "192.168.7.1", 32);
    struct ofp_action acts[5] = {
        { .kind = OFP_ACT_SET_ETH_SRC }, { .kind = OFP_ACT_SET_ETH_DST },
        { .kind = OFP_ACT_SET_IP_SRC }, { .kind = OFP_ACT_SET_IP_DST },
        { .kind = OFP_ACT_OUTPUT, .port = 3 },
    };
    memcpy(acts[0].mac, mac1, 6);
    memcpy(acts[1].mac, mac2, 6);
    set_ip(&acts[2].ip, AF_INET, "1.2.3.4", 32);
    set_ip(&acts[3].ip, AF_INET, "5.6.7.8", 32);
    struct ofp_flow f = { .command = OFPFC_ADD, .priority = 65535,
                          .has_in_port = true, .in_port = 1, .match = &m,
                          .actions = acts, .n_actions = 5 };
    check_flow(&f, "ADD priority=65535,tcp,in_port=1,nw_src=10.1.2.0/24,"
               "nw_dst=192.168.7.1,nw_tos=184,tp_src=1234,tp_dst=80 "
               "actions=set_field:02:00:00:00:00:01->eth_src,"
               "set_field:0a:bb:cc:dd:ee:ff->eth_dst,"
               "set_field:1.2.3.4->ip_src,set_field:5.6.7.8->ip_dst,output:3");
}

static void
test_ipv6_udp(void **state)
{
    (void) state;
    struct flow_match m = {
        .fields = FLOW_M_SOURCE_IP | FLOW_M_DEST_IP | FLOW_M_PROTOCOL
                  | FLOW_M_SOURCE_PORT | FLOW_M_DEST_PORT,
        .protocol = 17, .source_port = 53, .dest_port = 5353,
    };
    set_ip(&m.source_ip, AF_INET6, "2001:db8:1:2::", 64);
    set_ip(&m.dest_ip, AF_INET6, "2001:db8::1", 128);
    struct ofp_action acts[3] = {
        { .kind = OFP_ACT_SET_IP_SRC }, { .kind = OFP_ACT_SET_IP_DST },
        { .kind = OFP_ACT_OUTPUT, .port = 4 },
    };
    set_ip(&acts[0].ip, AF_INET6, "fd00::1", 128);
    set_ip(&acts[1].ip, AF_INET6, "fd00::2", 128);
    struct ofp_flow f = { .command = OFPFC_ADD, .priority = 5,
                          .has_in_port = true, .in_port = 9, .match = &m,
                          .actions = acts, .n_actions = 3 };
    check_flow(&f, "ADD priority=5,udp6,in_port=9,ipv6_src=2001:db8:1:2::/64,"
               "ipv6_dst=2001:db8::1,tp_src=53,tp_dst=5353 "
               "actions=set_field:fd00::1->ipv6_src,"
               "set_field:fd00::2->ipv6_dst,output:4");
}

static void
test_sctp(void **state)
{
    (void) state;
    struct flow_match m = {
        .fields = FLOW_M_ETHER_TYPE | FLOW_M_PROTOCOL | FLOW_M_SOURCE_PORT
                  | FLOW_M_DEST_PORT,
        .ether_type = 0x0800, .protocol = 132, .source_port = 7,
        .dest_port = 9,
    };
    struct ofp_action out = { .kind = OFP_ACT_OUTPUT, .port = 2 };
    struct ofp_flow f = { .command = OFPFC_ADD, .priority = 1,
                          .has_in_port = true, .in_port = 1, .match = &m,
                          .actions = &out, .n_actions = 1 };
    check_flow(&f, "ADD priority=1,sctp,in_port=1,tp_src=7,tp_dst=9 "
               "actions=output:2");
}

static void
test_icmp(void **state)
{
    (void) state;
    /* No protocol given: the ICMP fields imply it. */
    struct flow_match m = {
        .fields = FLOW_M_ICMP_TYPE | FLOW_M_ICMP_CODE,
        .icmp_type = 8, .icmp_code = 0,
    };
    struct ofp_action out = { .kind = OFP_ACT_OUTPUT, .port = 2 };
    struct ofp_flow f = { .command = OFPFC_ADD, .priority = 1,
                          .has_in_port = true, .in_port = 1, .match = &m,
                          .actions = &out, .n_actions = 1 };
    check_flow(&f, "ADD priority=1,icmp,in_port=1,icmp_type=8,icmp_code=0 "
               "actions=output:2");
    m.fields |= FLOW_M_ETHER_TYPE;
    m.ether_type = 0x86dd;
    m.icmp_type = 135;
    m.icmp_code = 0;
    check_flow(&f, "ADD priority=1,icmp6,in_port=1,icmp_type=135,icmp_code=0 "
               "actions=output:2");
}

static void
test_vlan_actions(void **state)
{
    (void) state;
    struct ofp_action acts[3] = {
        { .kind = OFP_ACT_PUSH_VLAN, .vlan_id = 100 },
        { .kind = OFP_ACT_OUTPUT, .port = 1 },
        { .kind = OFP_ACT_OUTPUT, .port = OFPP_IN_PORT },
    };
    struct ofp_flow f = { .command = OFPFC_ADD, .priority = 10,
                          .has_in_port = true, .in_port = 2,
                          .actions = acts, .n_actions = 3 };
    check_flow(&f, "ADD priority=10,in_port=2 actions=push_vlan:0x8100,"
               "set_field:4196->vlan_vid,output:1,IN_PORT");

    struct flow_match m = { .fields = FLOW_M_VLAN_ID, .vlan_id = 100 };
    struct ofp_action pop[2] = {
        { .kind = OFP_ACT_POP_VLAN }, { .kind = OFP_ACT_OUTPUT, .port = 2 },
    };
    struct ofp_flow g = { .command = OFPFC_ADD, .priority = 10,
                          .has_in_port = true, .in_port = 1, .match = &m,
                          .actions = pop, .n_actions = 2 };
    check_flow(&g, "ADD priority=10,in_port=1,dl_vlan=100 "
               "actions=pop_vlan,output:2");
}

static void
test_drop_and_normal(void **state)
{
    (void) state;
    struct ofp_flow f = { .command = OFPFC_ADD, .priority = 3,
                          .has_in_port = true, .in_port = 2 };
    check_flow(&f, "ADD priority=3,in_port=2 actions=drop");
    struct ofp_action n = { .kind = OFP_ACT_OUTPUT, .port = OFPP_NORMAL };
    struct ofp_flow g = { .command = OFPFC_ADD, .priority = 0,
                          .actions = &n, .n_actions = 1 };
    check_flow(&g, "ADD priority=0 actions=NORMAL");
}

static void
test_deletes(void **state)
{
    (void) state;
    struct flow_match m = { .fields = FLOW_M_DEST_MAC };
    memcpy(m.dest_mac, mac2, 6);
    struct ofp_flow f = { .command = OFPFC_DELETE_STRICT, .priority = 7,
                          .cookie = 0xabcd000000000001ull,
                          .cookie_mask = 0xffffffff00000000ull,
                          .has_in_port = true, .in_port = 4, .match = &m };
    check_flow(&f, "DEL_STRICT priority=7,in_port=4,dl_dst=0a:bb:cc:dd:ee:ff "
               "cookie:0xabcd000000000001/0xffffffff00000000 actions=drop");
    struct ofp_flow g = { .command = OFPFC_DELETE, .table_id = 0xff,
                          .cookie = 0xabcd000000000000ull,
                          .cookie_mask = 0xffffffff00000000ull };
    check_flow(&g, "DEL table:255 priority=0 cookie:0xabcd000000000000/"
               "0xffffffff00000000 actions=drop");
}

static void
test_rejects(void **state)
{
    (void) state;
    struct ofp_buf b = { 0 };
    /* A port without a transport protocol. */
    struct flow_match m = { .fields = FLOW_M_DEST_PORT, .dest_port = 80 };
    struct ofp_flow f = { .command = OFPFC_ADD, .match = &m };
    assert_int_equal(ofp_put_flow_mod(&b, 1, &f), -EINVAL);
    assert_int_equal(b.len, 0);
    /* IPv4 address with an IPv6 ether type. */
    struct flow_match m2 = { .fields = FLOW_M_ETHER_TYPE | FLOW_M_SOURCE_IP,
                             .ether_type = 0x86dd };
    set_ip(&m2.source_ip, AF_INET, "10.0.0.1", 32);
    f.match = &m2;
    assert_int_equal(ofp_put_flow_mod(&b, 1, &f), -EINVAL);
    /* ICMP with TCP. */
    struct flow_match m3 = { .fields = FLOW_M_PROTOCOL | FLOW_M_ICMP_TYPE,
                             .protocol = 6 };
    f.match = &m3;
    assert_int_equal(ofp_put_flow_mod(&b, 1, &f), -EINVAL);
    assert_int_equal(b.len, 0);
    ofp_buf_free(&b);
}

static void
check_msg(struct ofp_buf *b, const char *expected)
{
    char *text = ofp_print(b);
    if (!strstr(text, expected)) {
        fprintf(stderr, "expected: %s\ngot:      %s\n", expected, text);
        fail();
    }
    free(text);
    ofp_buf_free(b);
}

static void
test_control_messages(void **state)
{
    (void) state;
    struct ofp_buf b = { 0 };
    ofp_put_hello(&b, 7);
    check_msg(&b, "OFPT_HELLO (OF1.3) (xid=0x7):\n version bitmap: 0x04");
    ofp_put_set_async_none(&b, 6);
    check_msg(&b, "OFPT_SET_ASYNC (OF1.3) (xid=0x6):\n"
              " primary:\n       PACKET_IN: (off)\n     PORT_STATUS: (off)\n"
              "    FLOW_REMOVED: (off)");
    ofp_put_barrier(&b, 8);
    check_msg(&b, "OFPT_BARRIER_REQUEST (OF1.3) (xid=0x8)");
    uint8_t echo[12] = { 4, OFPT_ECHO_REQUEST, 0, 12, 0, 0, 0, 9, 1, 2, 3, 4 };
    ofp_put_echo_reply(&b, echo, sizeof echo);
    check_msg(&b, "OFPT_ECHO_REPLY (OF1.3) (xid=0x9): 4 bytes of payload");
    ofp_put_bundle_ctrl(&b, 10, 77, ONF_BCT_OPEN_REQUEST,
                        ONF_BF_ATOMIC | ONF_BF_ORDERED);
    check_msg(&b, "ONFT_BUNDLE_CONTROL (OF1.3) (xid=0xa):\n bundle_id=0x4d "
              "type=OPEN_REQUEST flags=atomic ordered");
    ofp_put_bundle_ctrl(&b, 11, 77, ONF_BCT_COMMIT_REQUEST, ONF_BF_ATOMIC);
    check_msg(&b, "bundle_id=0x4d type=COMMIT_REQUEST flags=atomic");

    struct ofp_action out = { .kind = OFP_ACT_OUTPUT, .port = 2 };
    struct ofp_flow f = { .command = OFPFC_ADD, .priority = 9,
                          .has_in_port = true, .in_port = 1,
                          .actions = &out, .n_actions = 1 };
    assert_int_equal(ofp_put_bundle_flow_mod(&b, 12, 77,
                                             ONF_BF_ATOMIC | ONF_BF_ORDERED,
                                             &f), 0);
    check_msg(&b, "ONFT_BUNDLE_ADD_MESSAGE (OF1.3) (xid=0xc):\n "
              "bundle_id=0x4d flags=atomic ordered\n"
              "OFPT_FLOW_MOD (OF1.3) (xid=0xc): ADD priority=9,in_port=1 "
              "actions=output:2");
}

static void
test_parse_error(void **state)
{
    (void) state;
    /* BAD_ACTION/BAD_OUT_PORT echoing a flow_mod with xid 0x2a. */
    uint8_t msg[12 + 8] = { 4, OFPT_ERROR, 0, 20, 0, 0, 0, 0x2a, 0, 2, 0, 4,
                            4, OFPT_FLOW_MOD, 0, 80, 0, 0, 0, 0x2a };
    struct ofp_error e;
    assert_int_equal(ofp_parse_error(msg, sizeof msg, &e), 0);
    assert_int_equal(e.xid, 0x2a);
    assert_int_equal(e.type, 2);
    assert_int_equal(e.code, 4);
    assert_int_equal(e.failed_type, OFPT_FLOW_MOD);
    assert_int_equal(e.failed_xid, 0x2a);
    assert_string_equal(ofp_error_type_name(e.type), "BAD_ACTION");
    assert_string_equal(ofp_error_code_name(e.type, e.code), "BAD_OUT_PORT");
    assert_int_equal(ofp_parse_error(msg, 10, &e), -EPROTO);
    /* An experimenter error (ONF bundle failure). */
    uint8_t x[16] = { 4, OFPT_ERROR, 0, 16, 0, 0, 0, 1, 0xff, 0xff, 0x08, 0xfc,
                      0x4f, 0x4e, 0x46, 0x00 };
    assert_int_equal(ofp_parse_error(x, sizeof x, &e), 0);
    assert_int_equal(e.type, 0xffff);
    assert_int_equal(e.code, 2300);
    assert_int_equal(e.experimenter, ONF_EXPERIMENTER_ID);
    struct ofp_header_view h;
    assert_int_equal(ofp_parse_header(x, 4, &h), -EAGAIN);
}

static void
test_big_batch_size(void **state)
{
    (void) state;
    /* 10,000 bundled adds: one buffer, every message well formed. */
    struct ofp_buf b = { 0 };
    struct ofp_action out = { .kind = OFP_ACT_OUTPUT, .port = 2 };
    struct flow_match m = { .fields = FLOW_M_PROTOCOL | FLOW_M_DEST_PORT,
                            .protocol = 6 };
    struct ofp_flow f = { .command = OFPFC_ADD, .has_in_port = true,
                          .in_port = 1, .match = &m, .actions = &out,
                          .n_actions = 1 };
    uint64_t t0 = time_ns();
    for (uint32_t i = 0; i < 10000; i++) {
        m.dest_port = (uint16_t) i;
        assert_int_equal(ofp_put_bundle_flow_mod(&b, i, 1, 3, &f), 0);
    }
    uint64_t t1 = time_ns();
    size_t ofs = 0, n = 0;
    while (ofs < b.len) {
        struct ofp_header_view h;
        assert_int_equal(ofp_parse_header(b.data + ofs, b.len - ofs, &h), 0);
        assert_int_equal(h.xid, n);
        ofs += h.length;
        n++;
    }
    assert_int_equal(n, 10000);
    assert_int_equal(ofs, b.len);
    printf("# encoded 10000 bundled flow_mods (%zu bytes) in %.2f ms\n",
           b.len, (t1 - t0) / 1e6);
    ofp_buf_free(&b);
}

int
main(void)
{
    if (access(ofctl, X_OK)) {
        fprintf(stderr, "ovs-ofctl not installed: skipped\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_l2_match),
        cmocka_unit_test(test_pcp_without_vid),
        cmocka_unit_test(test_ipv4_tcp),
        cmocka_unit_test(test_ipv6_udp),
        cmocka_unit_test(test_sctp),
        cmocka_unit_test(test_icmp),
        cmocka_unit_test(test_vlan_actions),
        cmocka_unit_test(test_drop_and_normal),
        cmocka_unit_test(test_deletes),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_control_messages),
        cmocka_unit_test(test_parse_error),
        cmocka_unit_test(test_big_batch_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
