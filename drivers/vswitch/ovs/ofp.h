/* OpenFlow 1.3 wire format: the few messages the ovs driver needs.
 *
 * Encoders append to a growable buffer so that a whole batch of flow_mods
 * (10,000 rules) goes to the switch in one write.  Matches are OXM
 * (class 0x8000), actions live in one apply-actions instruction, batches are
 * wrapped in an ONF bundle (experimenter 0x4F4E4600, OF1.3 extension
 * implemented by Open vSwitch) so that they apply whole or not at all.
 *
 * Pure functions over memory: no sockets, no locks, no logging. */
#ifndef CORCH_OVS_OFP_H
#define CORCH_OVS_OFP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define OFP_VERSION_13 0x04

/* Message types (OF1.3). */
enum ofp_type {
    OFPT_HELLO = 0,
    OFPT_ERROR = 1,
    OFPT_ECHO_REQUEST = 2,
    OFPT_ECHO_REPLY = 3,
    OFPT_EXPERIMENTER = 4,
    OFPT_FLOW_MOD = 14,
    OFPT_BARRIER_REQUEST = 20,
    OFPT_BARRIER_REPLY = 21,
    OFPT_SET_ASYNC = 28,
};

/* flow_mod commands. */
enum ofp_flow_mod_command {
    OFPFC_ADD = 0,
    OFPFC_MODIFY = 1,
    OFPFC_MODIFY_STRICT = 2,
    OFPFC_DELETE = 3,
    OFPFC_DELETE_STRICT = 4,
};

/* Reserved port numbers. */
#define OFPP_IN_PORT     0xfffffff8u
#define OFPP_NORMAL      0xfffffffau
#define OFPP_FLOOD       0xfffffffbu
#define OFPP_CONTROLLER  0xfffffffdu
#define OFPP_LOCAL       0xfffffffeu
#define OFPP_ANY         0xffffffffu

#define OFP_HEADER_LEN 8

/* A growable byte buffer.  Zero-initialise it; free with ofp_buf_free(). */
struct ofp_buf {
    uint8_t *data;              /* Bytes, malloc'd. */
    size_t len;                 /* Bytes used. */
    size_t cap;                 /* Bytes allocated. */
};
void ofp_buf_reserve(struct ofp_buf *, size_t more);
void ofp_buf_free(struct ofp_buf *);

/* One action of a flow, with the output port already resolved to its
 * OpenFlow number. */
enum ofp_action_kind {
    OFP_ACT_OUTPUT,             /* 'port' */
    OFP_ACT_PUSH_VLAN,          /* push 802.1Q (0x8100), set 'vlan_id' */
    OFP_ACT_POP_VLAN,
    OFP_ACT_SET_ETH_SRC,        /* 'mac' */
    OFP_ACT_SET_ETH_DST,        /* 'mac' */
    OFP_ACT_SET_IP_SRC,         /* 'ip' (IPv4 or IPv6) */
    OFP_ACT_SET_IP_DST,         /* 'ip' */
};
struct ofp_action {
    enum ofp_action_kind kind;  /* What to do. */
    uint32_t port;              /* OUTPUT: port number (or OFPP_*). */
    uint16_t vlan_id;           /* PUSH_VLAN: the VID, 0-4095. */
    uint8_t mac[6];             /* SET_ETH_*: the address. */
    struct flow_ip ip;          /* SET_IP_*: the address (full length). */
};

/* A flow_mod. */
struct ofp_flow {
    uint8_t command;            /* OFPFC_*. */
    uint8_t table_id;           /* 0 for add; 0xff (all) for delete. */
    uint64_t cookie;            /* Stored with ADD; matched with DELETE*. */
    uint64_t cookie_mask;       /* DELETE*: which cookie bits must match. */
    uint16_t priority;          /* ADD, DELETE_STRICT. */
    bool has_in_port;           /* Whether 'in_port' is matched. */
    uint32_t in_port;           /* OXM IN_PORT. */
    const struct flow_match *match; /* Other fields; NULL = none. */
    const struct ofp_action *actions; /* ADD: applied in order. */
    size_t n_actions;           /* 0 with ADD: drop. */
};

/* Appends one message.  ofp_put_flow_mod() returns 0, or -EINVAL if the
 * match cannot be expressed (e.g. a port without an IP protocol), leaving
 * the buffer as it was.  Missing prerequisites that are implied by other
 * fields are added (eth_type from an IP address's family, OFPVID_PRESENT
 * for a PCP, eth_type 0x0800 for IP fields that say nothing of the family,
 * ip_proto 1 / 58 for an ICMP type or code). */
void ofp_put_hello(struct ofp_buf *, uint32_t xid);
void ofp_put_echo_reply(struct ofp_buf *, const uint8_t *request, size_t len);
void ofp_put_barrier(struct ofp_buf *, uint32_t xid);
/* OFPT_SET_ASYNC with every mask 0: no asynchronous messages at all. */
void ofp_put_set_async_none(struct ofp_buf *, uint32_t xid);
int ofp_put_flow_mod(struct ofp_buf *, uint32_t xid, const struct ofp_flow *);

/* ONF bundles in OF1.3 (ONF extension 230, as in Open vSwitch). */
enum onf_bundle_ctrl_type {
    ONF_BCT_OPEN_REQUEST = 0,
    ONF_BCT_OPEN_REPLY = 1,
    ONF_BCT_CLOSE_REQUEST = 2,
    ONF_BCT_CLOSE_REPLY = 3,
    ONF_BCT_COMMIT_REQUEST = 4,
    ONF_BCT_COMMIT_REPLY = 5,
    ONF_BCT_DISCARD_REQUEST = 6,
    ONF_BCT_DISCARD_REPLY = 7,
};
#define ONF_EXPERIMENTER_ID 0x4F4E4600u
#define ONF_ET_BUNDLE_CONTROL 2300
#define ONF_ET_BUNDLE_ADD_MESSAGE 2301
#define ONF_BF_ATOMIC 1
#define ONF_BF_ORDERED 2
void ofp_put_bundle_ctrl(struct ofp_buf *, uint32_t xid, uint32_t bundle_id,
                         uint16_t type, uint16_t flags);
/* Wraps a flow_mod in a bundle add message; the inner message has the same
 * xid as the outer one (Open vSwitch checks it). */
int ofp_put_bundle_flow_mod(struct ofp_buf *, uint32_t xid,
                            uint32_t bundle_id, uint16_t flags,
                            const struct ofp_flow *);

/* Decoding. */
struct ofp_header_view {
    uint8_t version;            /* OFP_VERSION_13 on our connections. */
    uint8_t type;               /* OFPT_*. */
    uint16_t length;            /* Whole message, header included. */
    uint32_t xid;               /* Transaction id: names the request. */
};
/* Reads a header from 'len' bytes: 0, -EAGAIN if fewer than 8 bytes,
 * -EPROTO if the length field is below 8. */
int ofp_parse_header(const uint8_t *p, size_t len, struct ofp_header_view *);

/* An OFPT_ERROR, decoded. */
struct ofp_error {
    uint32_t xid;               /* Of the error message: the failed one's. */
    uint16_t type;              /* OFPET_*, or 0xffff (experimenter). */
    uint16_t code;              /* Code, or exp_type for experimenter. */
    uint32_t experimenter;      /* For type 0xffff. */
    uint8_t failed_type;        /* Type of the failed request, if echoed. */
    uint32_t failed_xid;        /* Its xid (inner message of a bundle). */
};
/* Decodes a whole OFPT_ERROR message.  -EPROTO if malformed. */
int ofp_parse_error(const uint8_t *msg, size_t len, struct ofp_error *);
/* "OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ"-like text, or numbers; static or
 * thread-local storage. */
const char *ofp_error_type_name(uint16_t type);
const char *ofp_error_code_name(uint16_t type, uint16_t code);

/* Bundle control message decoding: the bundle id and type of a reply. */
int ofp_parse_bundle_ctrl(const uint8_t *msg, size_t len,
                          uint32_t *ret_bundle_id, uint16_t *ret_type);

#endif
