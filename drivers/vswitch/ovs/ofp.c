/* OpenFlow 1.3 encoder / decoder: see ofp.h. */
#include <config.h>
#include "ofp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/* OXM fields of class OFPXMC_OPENFLOW_BASIC (OF1.3 7.2.3.7). */
enum oxm_field {
    OXM_IN_PORT = 0,
    OXM_ETH_DST = 3,
    OXM_ETH_SRC = 4,
    OXM_ETH_TYPE = 5,
    OXM_VLAN_VID = 6,
    OXM_VLAN_PCP = 7,
    OXM_IP_DSCP = 8,
    OXM_IP_PROTO = 10,
    OXM_IPV4_SRC = 11,
    OXM_IPV4_DST = 12,
    OXM_TCP_SRC = 13,
    OXM_TCP_DST = 14,
    OXM_UDP_SRC = 15,
    OXM_UDP_DST = 16,
    OXM_SCTP_SRC = 17,
    OXM_SCTP_DST = 18,
    OXM_ICMPV4_TYPE = 19,
    OXM_ICMPV4_CODE = 20,
    OXM_IPV6_SRC = 26,
    OXM_IPV6_DST = 27,
    OXM_ICMPV6_TYPE = 29,
    OXM_ICMPV6_CODE = 30,
};
#define OXM_CLASS_BASIC 0x8000
#define OFPVID_PRESENT 0x1000

enum {
    OFPAT_OUTPUT = 0,
    OFPAT_PUSH_VLAN = 17,
    OFPAT_POP_VLAN = 18,
    OFPAT_SET_FIELD = 25,
    OFPIT_APPLY_ACTIONS = 4,
    OFPMT_OXM = 1,
    OFPHET_VERSIONBITMAP = 1,
};

#define FLOW_MOD_FIXED_LEN 48   /* Header to pad, before the match. */

void
ofp_buf_reserve(struct ofp_buf *b, size_t more)
{
    if (b->cap - b->len >= more)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < more)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void
ofp_buf_free(struct ofp_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Appenders: the caller reserved the room. */
static inline void
put8(struct ofp_buf *b, uint8_t v)
{
    b->data[b->len++] = v;
}

static inline void
put16(struct ofp_buf *b, uint16_t v)
{
    b->data[b->len++] = v >> 8;
    b->data[b->len++] = v;
}

static inline void
put32(struct ofp_buf *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b, v);
}

static inline void
put64(struct ofp_buf *b, uint64_t v)
{
    put32(b, v >> 32);
    put32(b, v);
}

static inline void
put_bytes(struct ofp_buf *b, const void *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void
put_zeros(struct ofp_buf *b, size_t n)
{
    memset(b->data + b->len, 0, n);
    b->len += n;
}

static inline void
set16(struct ofp_buf *b, size_t ofs, uint16_t v)
{
    b->data[ofs] = v >> 8;
    b->data[ofs + 1] = v;
}

static inline uint16_t
get16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static inline uint32_t
get32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}

static void
put_header(struct ofp_buf *b, uint8_t type, uint16_t len, uint32_t xid)
{
    put8(b, OFP_VERSION_13);
    put8(b, type);
    put16(b, len);
    put32(b, xid);
}

void
ofp_put_hello(struct ofp_buf *b, uint32_t xid)
{
    /* A version bitmap element, so that a switch offering 1.4+ still
     * settles on 1.3 (OF1.3 6.3.1). */
    ofp_buf_reserve(b, 16);
    put_header(b, OFPT_HELLO, 16, xid);
    put16(b, OFPHET_VERSIONBITMAP);
    put16(b, 8);
    put32(b, 1u << OFP_VERSION_13);
}

void
ofp_put_echo_reply(struct ofp_buf *b, const uint8_t *request, size_t len)
{
    ofp_buf_reserve(b, len);
    size_t ofs = b->len;
    put_bytes(b, request, len);
    b->data[ofs + 1] = OFPT_ECHO_REPLY;
}

void
ofp_put_barrier(struct ofp_buf *b, uint32_t xid)
{
    ofp_buf_reserve(b, 8);
    put_header(b, OFPT_BARRIER_REQUEST, 8, xid);
}

void
ofp_put_set_async_none(struct ofp_buf *b, uint32_t xid)
{
    /* packet_in_mask[2], port_status_mask[2], flow_removed_mask[2]. */
    ofp_buf_reserve(b, 32);
    put_header(b, OFPT_SET_ASYNC, 32, xid);
    put_zeros(b, 24);
}

/* OXM TLV header. */
static void
put_oxm_hdr(struct ofp_buf *b, enum oxm_field f, bool hasmask, uint8_t len)
{
    put16(b, OXM_CLASS_BASIC);
    put8(b, (uint8_t) (f << 1 | hasmask));
    put8(b, len);
}

/* A prefix of 'plen' bits over 'n' bytes, as a mask. */
static void
prefix_mask(uint8_t plen, uint8_t *mask, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned int bits = plen > 8 * i ? plen - 8 * i : 0;
        mask[i] = bits >= 8 ? 0xff : (uint8_t) (0xff << (8 - bits));
    }
}

/* An IP address match with its prefix: exact, masked, or nothing for /0. */
static void
put_oxm_ip(struct ofp_buf *b, const struct flow_ip *ip, bool src)
{
    size_t n = ip->family == AF_INET6 ? 16 : 4;
    enum oxm_field f = ip->family == AF_INET6
                       ? (src ? OXM_IPV6_SRC : OXM_IPV6_DST)
                       : (src ? OXM_IPV4_SRC : OXM_IPV4_DST);
    if (ip->plen == 0)
        return;
    if (ip->plen >= 8 * n) {
        put_oxm_hdr(b, f, false, (uint8_t) n);
        put_bytes(b, ip->addr, n);
        return;
    }
    uint8_t mask[16], value[16];
    prefix_mask(ip->plen, mask, n);
    /* A value bit outside the mask is an error for OVS (BAD_WILDCARDS). */
    for (size_t i = 0; i < n; i++)
        value[i] = ip->addr[i] & mask[i];
    put_oxm_hdr(b, f, true, (uint8_t) (2 * n));
    put_bytes(b, value, n);
    put_bytes(b, mask, n);
}

/* Works out the prerequisites a match needs (OF1.3 Table 12): returns the
 * eth_type (0 = none) and the ip_proto (-1 = none) to put in the match. */
static int
match_prereqs(const struct flow_match *m, const struct ofp_action *acts,
              size_t n_acts, uint16_t *ret_eth_type, int *ret_proto)
{
    uint16_t eth_type = 0;
    int proto = -1;
    int family = 0;

    if (m && (m->fields & FLOW_M_ETHER_TYPE))
        eth_type = m->ether_type;
    if (m && (m->fields & FLOW_M_SOURCE_IP))
        family = m->source_ip.family;
    if (m && (m->fields & FLOW_M_DEST_IP)) {
        if (family && family != m->dest_ip.family)
            return -EINVAL;
        family = m->dest_ip.family;
    }
    /* A set-field of an IP address needs the family in the match too. */
    for (size_t i = 0; i < n_acts; i++) {
        if (acts[i].kind == OFP_ACT_SET_IP_SRC
            || acts[i].kind == OFP_ACT_SET_IP_DST) {
            if (family && family != acts[i].ip.family)
                return -EINVAL;
            family = acts[i].ip.family;
        }
    }
    if (family) {
        uint16_t want = family == AF_INET6 ? 0x86dd : 0x0800;
        if (eth_type && eth_type != want)
            return -EINVAL;
        eth_type = want;
    }
    uint32_t l3 = FLOW_M_PROTOCOL | FLOW_M_SOURCE_PORT | FLOW_M_DEST_PORT
                  | FLOW_M_IP_DSCP | FLOW_M_ICMP_TYPE | FLOW_M_ICMP_CODE;
    if (m && (m->fields & l3)) {
        if (!eth_type)
            eth_type = 0x0800;  /* IP fields alone: IPv4 (documented). */
        else if (eth_type != 0x0800 && eth_type != 0x86dd)
            return -EINVAL;
    }
    if (m && (m->fields & FLOW_M_PROTOCOL))
        proto = m->protocol;
    if (m && (m->fields & (FLOW_M_ICMP_TYPE | FLOW_M_ICMP_CODE))) {
        int want = eth_type == 0x86dd ? 58 : 1;
        if (proto >= 0 && proto != want)
            return -EINVAL;
        proto = want;
    }
    if (m && (m->fields & (FLOW_M_SOURCE_PORT | FLOW_M_DEST_PORT))
        && proto != 6 && proto != 17 && proto != 132)
        return -EINVAL;
    *ret_eth_type = eth_type;
    *ret_proto = proto;
    return 0;
}

/* Appends an ofp_match (type OXM), padded to 8 bytes. */
static int
put_match(struct ofp_buf *b, const struct ofp_flow *f)
{
    const struct flow_match *m = f->match;
    uint16_t eth_type;
    int proto;
    int error = match_prereqs(m, f->actions, f->n_actions, &eth_type, &proto);
    if (error)
        return error;

    ofp_buf_reserve(b, 4 + 400);
    size_t start = b->len;
    put16(b, OFPMT_OXM);
    put16(b, 0);                /* Length, set below. */
    if (f->has_in_port) {
        put_oxm_hdr(b, OXM_IN_PORT, false, 4);
        put32(b, f->in_port);
    }
    if (eth_type) {
        put_oxm_hdr(b, OXM_ETH_TYPE, false, 2);
        put16(b, eth_type);
    }
    uint32_t fl = m ? m->fields : 0;
    if (fl & FLOW_M_VLAN_ID) {
        put_oxm_hdr(b, OXM_VLAN_VID, false, 2);
        put16(b, OFPVID_PRESENT | (m->vlan_id & 0xfff));
    } else if (fl & FLOW_M_VLAN_PCP) {
        /* A PCP needs a tag: "any VID, tag present". */
        put_oxm_hdr(b, OXM_VLAN_VID, true, 4);
        put16(b, OFPVID_PRESENT);
        put16(b, OFPVID_PRESENT);
    }
    if (fl & FLOW_M_VLAN_PCP) {
        put_oxm_hdr(b, OXM_VLAN_PCP, false, 1);
        put8(b, m->vlan_pcp & 7);
    }
    if (fl & FLOW_M_SOURCE_MAC) {
        put_oxm_hdr(b, OXM_ETH_SRC, false, 6);
        put_bytes(b, m->source_mac, 6);
    }
    if (fl & FLOW_M_DEST_MAC) {
        put_oxm_hdr(b, OXM_ETH_DST, false, 6);
        put_bytes(b, m->dest_mac, 6);
    }
    if (fl & FLOW_M_IP_DSCP) {
        put_oxm_hdr(b, OXM_IP_DSCP, false, 1);
        put8(b, m->ip_dscp & 0x3f);
    }
    if (proto >= 0) {
        put_oxm_hdr(b, OXM_IP_PROTO, false, 1);
        put8(b, (uint8_t) proto);
    }
    if (fl & FLOW_M_SOURCE_IP)
        put_oxm_ip(b, &m->source_ip, true);
    if (fl & FLOW_M_DEST_IP)
        put_oxm_ip(b, &m->dest_ip, false);
    if (fl & (FLOW_M_SOURCE_PORT | FLOW_M_DEST_PORT)) {
        enum oxm_field src = proto == 6 ? OXM_TCP_SRC
                             : proto == 17 ? OXM_UDP_SRC : OXM_SCTP_SRC;
        if (fl & FLOW_M_SOURCE_PORT) {
            put_oxm_hdr(b, src, false, 2);
            put16(b, m->source_port);
        }
        if (fl & FLOW_M_DEST_PORT) {
            put_oxm_hdr(b, src + 1, false, 2);
            put16(b, m->dest_port);
        }
    }
    if (fl & FLOW_M_ICMP_TYPE) {
        put_oxm_hdr(b, proto == 58 ? OXM_ICMPV6_TYPE : OXM_ICMPV4_TYPE,
                    false, 1);
        put8(b, m->icmp_type);
    }
    if (fl & FLOW_M_ICMP_CODE) {
        put_oxm_hdr(b, proto == 58 ? OXM_ICMPV6_CODE : OXM_ICMPV4_CODE,
                    false, 1);
        put8(b, m->icmp_code);
    }
    size_t len = b->len - start;
    set16(b, start + 2, (uint16_t) len);
    put_zeros(b, (8 - len % 8) % 8);
    return 0;
}

/* Appends a set-field action carrying one OXM of 'n' value bytes. */
static void
put_set_field(struct ofp_buf *b, enum oxm_field f, const void *value, size_t n)
{
    size_t len = 4 + 4 + n;
    size_t padded = (len + 7) / 8 * 8;
    put16(b, OFPAT_SET_FIELD);
    put16(b, (uint16_t) padded);
    put_oxm_hdr(b, f, false, (uint8_t) n);
    put_bytes(b, value, n);
    put_zeros(b, padded - len);
}

static void
put_actions(struct ofp_buf *b, const struct ofp_action *acts, size_t n)
{
    ofp_buf_reserve(b, 8 + n * 40);
    size_t start = b->len;
    put16(b, OFPIT_APPLY_ACTIONS);
    put16(b, 0);
    put_zeros(b, 4);
    for (size_t i = 0; i < n; i++) {
        const struct ofp_action *a = &acts[i];
        switch (a->kind) {
        case OFP_ACT_OUTPUT:
            put16(b, OFPAT_OUTPUT);
            put16(b, 16);
            put32(b, a->port);
            /* max_len only matters for the controller: send it all. */
            put16(b, a->port == OFPP_CONTROLLER ? 0xffff : 0);
            put_zeros(b, 6);
            break;
        case OFP_ACT_PUSH_VLAN: {
            put16(b, OFPAT_PUSH_VLAN);
            put16(b, 8);
            put16(b, 0x8100);
            put_zeros(b, 2);
            uint8_t vid[2] = { (OFPVID_PRESENT | a->vlan_id) >> 8,
                               a->vlan_id & 0xff };
            put_set_field(b, OXM_VLAN_VID, vid, 2);
            break;
        }
        case OFP_ACT_POP_VLAN:
            put16(b, OFPAT_POP_VLAN);
            put16(b, 8);
            put_zeros(b, 4);
            break;
        case OFP_ACT_SET_ETH_SRC:
            put_set_field(b, OXM_ETH_SRC, a->mac, 6);
            break;
        case OFP_ACT_SET_ETH_DST:
            put_set_field(b, OXM_ETH_DST, a->mac, 6);
            break;
        case OFP_ACT_SET_IP_SRC:
        case OFP_ACT_SET_IP_DST: {
            bool v6 = a->ip.family == AF_INET6;
            bool src = a->kind == OFP_ACT_SET_IP_SRC;
            put_set_field(b, v6 ? (src ? OXM_IPV6_SRC : OXM_IPV6_DST)
                                : (src ? OXM_IPV4_SRC : OXM_IPV4_DST),
                          a->ip.addr, v6 ? 16 : 4);
            break;
        }
        }
    }
    set16(b, start + 2, (uint16_t) (b->len - start));
}

int
ofp_put_flow_mod(struct ofp_buf *b, uint32_t xid, const struct ofp_flow *f)
{
    for (size_t i = 0; i < f->n_actions; i++) {
        const struct ofp_action *a = &f->actions[i];
        if ((a->kind == OFP_ACT_SET_IP_SRC || a->kind == OFP_ACT_SET_IP_DST)
            && a->ip.family != AF_INET && a->ip.family != AF_INET6)
            return -EINVAL;
        if (a->kind > OFP_ACT_SET_IP_DST)
            return -EINVAL;
    }
    ofp_buf_reserve(b, FLOW_MOD_FIXED_LEN);
    size_t start = b->len;
    put_header(b, OFPT_FLOW_MOD, 0, xid);
    put64(b, f->cookie);
    put64(b, f->cookie_mask);
    put8(b, f->table_id);
    put8(b, f->command);
    put16(b, 0);                /* idle_timeout */
    put16(b, 0);                /* hard_timeout */
    put16(b, f->priority);
    put32(b, 0xffffffffu);      /* buffer_id: OFP_NO_BUFFER */
    put32(b, OFPP_ANY);         /* out_port */
    put32(b, 0xffffffffu);      /* out_group: OFPG_ANY */
    /* OFPFF_SEND_FLOW_REM off; OFPFF_CHECK_OVERLAP off: a duplicate add
     * replaces the flow, which makes a re-applied batch idempotent. */
    put16(b, 0);
    put16(b, 0);                /* pad */
    int error = put_match(b, f);
    if (error) {
        b->len = start;
        return error;
    }
    if (f->command == OFPFC_ADD || f->command == OFPFC_MODIFY
        || f->command == OFPFC_MODIFY_STRICT)
        if (f->n_actions)       /* No instruction at all: drop. */
            put_actions(b, f->actions, f->n_actions);
    size_t len = b->len - start;
    if (len > 0xffff) {
        b->len = start;
        return -E2BIG;
    }
    set16(b, start + 2, (uint16_t) len);
    return 0;
}

static void
put_experimenter_header(struct ofp_buf *b, uint16_t len, uint32_t xid,
                        uint32_t exp_type)
{
    put_header(b, OFPT_EXPERIMENTER, len, xid);
    put32(b, ONF_EXPERIMENTER_ID);
    put32(b, exp_type);
}

void
ofp_put_bundle_ctrl(struct ofp_buf *b, uint32_t xid, uint32_t bundle_id,
                    uint16_t type, uint16_t flags)
{
    ofp_buf_reserve(b, 24);
    put_experimenter_header(b, 24, xid, ONF_ET_BUNDLE_CONTROL);
    put32(b, bundle_id);
    put16(b, type);
    put16(b, flags);
}

int
ofp_put_bundle_flow_mod(struct ofp_buf *b, uint32_t xid, uint32_t bundle_id,
                        uint16_t flags, const struct ofp_flow *f)
{
    ofp_buf_reserve(b, 24);
    size_t start = b->len;
    put_experimenter_header(b, 0, xid, ONF_ET_BUNDLE_ADD_MESSAGE);
    put32(b, bundle_id);
    put16(b, 0);                /* pad */
    put16(b, flags);
    int error = ofp_put_flow_mod(b, xid, f);
    if (error) {
        b->len = start;
        return error;
    }
    /* The inner message is a multiple of 8 bytes already: no padding. */
    size_t len = b->len - start;
    if (len > 0xffff) {
        b->len = start;
        return -E2BIG;
    }
    set16(b, start + 2, (uint16_t) len);
    return 0;
}

int
ofp_parse_header(const uint8_t *p, size_t len, struct ofp_header_view *h)
{
    if (len < OFP_HEADER_LEN)
        return -EAGAIN;
    h->version = p[0];
    h->type = p[1];
    h->length = get16(p + 2);
    h->xid = get32(p + 4);
    return h->length < OFP_HEADER_LEN ? -EPROTO : 0;
}

int
ofp_parse_error(const uint8_t *msg, size_t len, struct ofp_error *e)
{
    struct ofp_header_view h;
    if (ofp_parse_header(msg, len, &h) || h.type != OFPT_ERROR
        || h.length > len || h.length < 12)
        return -EPROTO;
    memset(e, 0, sizeof *e);
    e->xid = h.xid;
    e->type = get16(msg + 8);
    e->code = get16(msg + 10);
    const uint8_t *data = msg + 12;
    size_t n = h.length - 12;
    if (e->type == 0xffff) {
        if (h.length < 16)
            return -EPROTO;
        e->experimenter = get32(msg + 12);
        data = msg + 16;
        n = h.length - 16;
    }
    /* The data echoes the failed request; for a bundled message it is the
     * inner message. */
    struct ofp_header_view f;
    if (!ofp_parse_header(data, n, &f)) {
        e->failed_type = f.type;
        e->failed_xid = f.xid;
    }
    return 0;
}

const char *
ofp_error_type_name(uint16_t type)
{
    static const char *const names[] = {
        "HELLO_FAILED", "BAD_REQUEST", "BAD_ACTION", "BAD_INSTRUCTION",
        "BAD_MATCH", "FLOW_MOD_FAILED", "GROUP_MOD_FAILED",
        "PORT_MOD_FAILED", "TABLE_MOD_FAILED", "QUEUE_OP_FAILED",
        "SWITCH_CONFIG_FAILED", "ROLE_REQUEST_FAILED", "METER_MOD_FAILED",
        "TABLE_FEATURES_FAILED",
    };
    if (type == 0xffff)
        return "EXPERIMENTER";
    return type < ARRAY_SIZE(names) ? names[type] : "UNKNOWN";
}

const char *
ofp_error_code_name(uint16_t type, uint16_t code)
{
    static const char *const bad_request[] = {
        "BAD_VERSION", "BAD_TYPE", "BAD_MULTIPART", "BAD_EXPERIMENTER",
        "BAD_EXP_TYPE", "EPERM", "BAD_LEN", "BUFFER_EMPTY", "BUFFER_UNKNOWN",
        "BAD_TABLE_ID", "IS_SLAVE", "BAD_PORT", "BAD_PACKET",
        "MULTIPART_BUFFER_OVERFLOW",
    };
    static const char *const bad_action[] = {
        "BAD_TYPE", "BAD_LEN", "BAD_EXPERIMENTER", "BAD_EXP_TYPE",
        "BAD_OUT_PORT", "BAD_ARGUMENT", "EPERM", "TOO_MANY", "BAD_QUEUE",
        "BAD_OUT_GROUP", "MATCH_INCONSISTENT", "UNSUPPORTED_ORDER",
        "BAD_TAG", "BAD_SET_TYPE", "BAD_SET_LEN", "BAD_SET_ARGUMENT",
    };
    static const char *const bad_instruction[] = {
        "UNKNOWN_INST", "UNSUP_INST", "BAD_TABLE_ID", "UNSUP_METADATA",
        "UNSUP_METADATA_MASK", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_LEN",
        "EPERM",
    };
    static const char *const bad_match[] = {
        "BAD_TYPE", "BAD_LEN", "BAD_TAG", "BAD_DL_ADDR_MASK",
        "BAD_NW_ADDR_MASK", "BAD_WILDCARDS", "BAD_FIELD", "BAD_VALUE",
        "BAD_MASK", "BAD_PREREQ", "DUP_FIELD", "EPERM",
    };
    static const char *const flow_mod_failed[] = {
        "UNKNOWN", "TABLE_FULL", "BAD_TABLE_ID", "OVERLAP", "EPERM",
        "BAD_TIMEOUT", "BAD_COMMAND", "BAD_FLAGS",
    };
#define PICK(ARR) (code < ARRAY_SIZE(ARR) ? ARR[code] : "UNKNOWN")
    switch (type) {
    case 1: return PICK(bad_request);
    case 2: return PICK(bad_action);
    case 3: return PICK(bad_instruction);
    case 4: return PICK(bad_match);
    case 5: return PICK(flow_mod_failed);
    default: return "UNKNOWN";
    }
#undef PICK
}

int
ofp_parse_bundle_ctrl(const uint8_t *msg, size_t len, uint32_t *ret_bundle_id,
                      uint16_t *ret_type)
{
    struct ofp_header_view h;
    if (ofp_parse_header(msg, len, &h) || h.type != OFPT_EXPERIMENTER
        || h.length > len || h.length < 24
        || get32(msg + 8) != ONF_EXPERIMENTER_ID
        || get32(msg + 12) != ONF_ET_BUNDLE_CONTROL)
        return -EPROTO;
    *ret_bundle_id = get32(msg + 16);
    *ret_type = get16(msg + 20);
    return 0;
}
