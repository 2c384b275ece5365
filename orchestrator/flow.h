/* Packet-header matches and packet modifications, shared by the graph model
 * (what a client asked for) and the vswitch contract (what a switch
 * installs).  Plain values: no pointers, safe to copy with '='. */
#ifndef CORCH_FLOW_H
#define CORCH_FLOW_H 1

#include <stdbool.h>
#include <stdint.h>

/* An IPv4 or IPv6 address with a prefix length. */
struct flow_ip {
    int family;                 /* AF_INET or AF_INET6; 0 = unset. */
    uint8_t addr[16];           /* Network byte order; IPv4 in addr[0..3]. */
    uint8_t plen;               /* Prefix length: 0-32 or 0-128. */
};

/* Bits of flow_match.fields: which members are meaningful. */
enum flow_match_field {
    FLOW_M_ETHER_TYPE  = 1u << 0,
    FLOW_M_VLAN_ID     = 1u << 1,
    FLOW_M_VLAN_PCP    = 1u << 2,
    FLOW_M_SOURCE_MAC  = 1u << 3,
    FLOW_M_DEST_MAC    = 1u << 4,
    FLOW_M_SOURCE_IP   = 1u << 5,
    FLOW_M_DEST_IP     = 1u << 6,
    FLOW_M_PROTOCOL    = 1u << 7,
    FLOW_M_SOURCE_PORT = 1u << 8,
    FLOW_M_DEST_PORT   = 1u << 9,
    FLOW_M_IP_DSCP     = 1u << 10,
    FLOW_M_ICMP_TYPE   = 1u << 11,
    FLOW_M_ICMP_CODE   = 1u << 12,
};

/* The header fields of a match, without the input port. */
struct flow_match {
    uint32_t fields;            /* FLOW_M_* bits set for present fields. */
    uint16_t ether_type;        /* Ethertype, e.g. 0x0800. */
    uint16_t vlan_id;           /* 1-4094. */
    uint8_t vlan_pcp;           /* 0-7. */
    uint8_t source_mac[6];      /* Ethernet source. */
    uint8_t dest_mac[6];        /* Ethernet destination. */
    struct flow_ip source_ip;   /* IPv4/IPv6 source with prefix. */
    struct flow_ip dest_ip;     /* IPv4/IPv6 destination with prefix. */
    uint8_t protocol;           /* IP protocol number (6 tcp, 17 udp...). */
    uint16_t source_port;       /* TCP/UDP/SCTP source port. */
    uint16_t dest_port;         /* TCP/UDP/SCTP destination port. */
    uint8_t ip_dscp;            /* 0-63. */
    uint8_t icmp_type;          /* ICMP / ICMPv6 type. */
    uint8_t icmp_code;          /* ICMP / ICMPv6 code. */
};

/* Bits of flow_mods.fields. */
enum flow_mod_field {
    FLOW_A_PUSH_VLAN      = 1u << 0,
    FLOW_A_POP_VLAN       = 1u << 1,
    FLOW_A_SET_SOURCE_MAC = 1u << 2,
    FLOW_A_SET_DEST_MAC   = 1u << 3,
    FLOW_A_SET_SOURCE_IP  = 1u << 4,
    FLOW_A_SET_DEST_IP    = 1u << 5,
};

/* Packet modifications applied before the packet is output.  Order of
 * application: pop_vlan, push_vlan, then the set_* fields. */
struct flow_mods {
    uint32_t fields;            /* FLOW_A_* bits set for present actions. */
    uint16_t push_vlan;         /* VLAN id pushed (1-4094). */
    uint8_t set_source_mac[6];  /* New Ethernet source. */
    uint8_t set_dest_mac[6];    /* New Ethernet destination. */
    struct flow_ip set_source_ip; /* New IP source (plen = full). */
    struct flow_ip set_dest_ip; /* New IP destination (plen = full). */
};

/* Why a match or a set of modifications breaks an OpenFlow prerequisite:
 * the field at fault (its FLOW_M_* or FLOW_A_* bit, which the caller
 * turns into the name the client wrote) and the reason in words. */
struct flow_problem {
    uint32_t field;             /* FLOW_M_* (match) or FLOW_A_* (mods). */
    char msg[160];              /* "needs vlan_id", ... */
};

/* Checks the prerequisites OpenFlow 1.3 puts on a match (vlan_pcp needs
 * vlan_id; IP fields need an IP ether_type; L4 ports need TCP, UDP or
 * SCTP; ICMP fields need ICMP of the right IP version), because a switch
 * would reject, or worse silently widen, a rule that lacks them.  Where
 * the match already says which IP it is about (an address, protocol 1 or
 * 58), the ether_type is filled in rather than asked for.  Returns 0, or
 * -EINVAL with '*problem' filled and '*m' untouched. */
int flow_match_complete(struct flow_match *m, struct flow_problem *problem);

/* Checks that 'mods' fit the packets 'm' matches: setting an IPv4 (IPv6)
 * address needs a match on IPv4 (IPv6) packets.  0 or -EINVAL with
 * '*problem' filled. */
int flow_mods_check(const struct flow_mods *mods, const struct flow_match *m,
                    struct flow_problem *problem);

bool flow_match_equal(const struct flow_match *, const struct flow_match *);
bool flow_mods_equal(const struct flow_mods *, const struct flow_mods *);

#endif
