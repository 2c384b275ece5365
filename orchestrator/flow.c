/* Comparison of packet matches and modifications.  Only the fields whose
 * bit is set are compared: the members of an absent field may hold any
 * value (the parser does not promise to zero them). */
#include <config.h>
#include "flow.h"

#include <string.h>
#include <sys/socket.h>

/* No LOG_MODULE: nothing here logs, and an unused one breaks -Werror. */

static bool
flow_ip_equal(const struct flow_ip *a, const struct flow_ip *b)
{
    size_t n;

    if (a->family != b->family || a->plen != b->plen)
        return false;
    n = a->family == AF_INET6 ? 16 : 4;
    return !memcmp(a->addr, b->addr, n);
}

bool
flow_match_equal(const struct flow_match *a, const struct flow_match *b)
{
    uint32_t f = a->fields;

    if (a->fields != b->fields)
        return false;
    if ((f & FLOW_M_ETHER_TYPE) && a->ether_type != b->ether_type)
        return false;
    if ((f & FLOW_M_VLAN_ID) && a->vlan_id != b->vlan_id)
        return false;
    if ((f & FLOW_M_VLAN_PCP) && a->vlan_pcp != b->vlan_pcp)
        return false;
    if ((f & FLOW_M_SOURCE_MAC) && memcmp(a->source_mac, b->source_mac, 6))
        return false;
    if ((f & FLOW_M_DEST_MAC) && memcmp(a->dest_mac, b->dest_mac, 6))
        return false;
    if ((f & FLOW_M_SOURCE_IP) && !flow_ip_equal(&a->source_ip, &b->source_ip))
        return false;
    if ((f & FLOW_M_DEST_IP) && !flow_ip_equal(&a->dest_ip, &b->dest_ip))
        return false;
    if ((f & FLOW_M_PROTOCOL) && a->protocol != b->protocol)
        return false;
    if ((f & FLOW_M_SOURCE_PORT) && a->source_port != b->source_port)
        return false;
    if ((f & FLOW_M_DEST_PORT) && a->dest_port != b->dest_port)
        return false;
    if ((f & FLOW_M_IP_DSCP) && a->ip_dscp != b->ip_dscp)
        return false;
    if ((f & FLOW_M_ICMP_TYPE) && a->icmp_type != b->icmp_type)
        return false;
    if ((f & FLOW_M_ICMP_CODE) && a->icmp_code != b->icmp_code)
        return false;
    return true;
}

bool
flow_mods_equal(const struct flow_mods *a, const struct flow_mods *b)
{
    uint32_t f = a->fields;

    if (a->fields != b->fields)
        return false;
    if ((f & FLOW_A_PUSH_VLAN) && a->push_vlan != b->push_vlan)
        return false;
    if ((f & FLOW_A_SET_SOURCE_MAC)
        && memcmp(a->set_source_mac, b->set_source_mac, 6))
        return false;
    if ((f & FLOW_A_SET_DEST_MAC)
        && memcmp(a->set_dest_mac, b->set_dest_mac, 6))
        return false;
    if ((f & FLOW_A_SET_SOURCE_IP)
        && !flow_ip_equal(&a->set_source_ip, &b->set_source_ip))
        return false;
    if ((f & FLOW_A_SET_DEST_IP)
        && !flow_ip_equal(&a->set_dest_ip, &b->set_dest_ip))
        return false;
    return true;
}
