/* Packet matches and modifications: OpenFlow's prerequisites on them, and
 * their comparison.  Only the fields whose bit is set are compared: the
 * members of an absent field may hold any value (the parser does not
 * promise to zero them). */
#include <config.h>
#include "flow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* No LOG_MODULE: nothing here logs, and an unused one breaks -Werror. */

static int
problem(struct flow_problem *p, uint32_t field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
problem(struct flow_problem *p, uint32_t field, const char *fmt, ...)
{
    va_list ap;

    p->field = field;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static const char *
ip_version(int family)
{
    return family == AF_INET ? "IPv4" : "IPv6";
}

static uint16_t
ip_ether_type(int family)
{
    return family == AF_INET ? 0x0800 : 0x86dd;
}

int
flow_match_complete(struct flow_match *m, struct flow_problem *p)
{
    /* Completed on a copy: '*m' is untouched on failure. */
    struct flow_match copy = *m, *fm = &copy;

    if ((fm->fields & FLOW_M_VLAN_PCP) && !(fm->fields & FLOW_M_VLAN_ID))
        return problem(p, FLOW_M_VLAN_PCP, "needs vlan_id");

    /* The IP version the addresses say, and the first field saying it. */
    int fam = 0;
    uint32_t fam_field = 0;
    if (fm->fields & FLOW_M_SOURCE_IP) {
        fam = fm->source_ip.family;
        fam_field = FLOW_M_SOURCE_IP;
    }
    if (fm->fields & FLOW_M_DEST_IP) {
        if (fam && fam != fm->dest_ip.family)
            return problem(p, FLOW_M_DEST_IP, "is %s but source_ip is %s",
                           ip_version(fm->dest_ip.family), ip_version(fam));
        fam = fm->dest_ip.family;
        fam_field = fam_field ? fam_field : FLOW_M_DEST_IP;
    }
    if (fm->fields & FLOW_M_ETHER_TYPE) {
        uint16_t et = fm->ether_type;
        if (fam && et != ip_ether_type(fam))
            return problem(p, fam_field, "is an %s address but ether_type "
                           "is 0x%04x (needs 0x%04x)", ip_version(fam), et,
                           ip_ether_type(fam));
        if (et != 0x0800 && et != 0x86dd) {
            if (fm->fields & FLOW_M_PROTOCOL)
                return problem(p, FLOW_M_PROTOCOL, "needs ether_type 0x0800 "
                               "or 0x86dd, not 0x%04x", et);
            if (fm->fields & FLOW_M_IP_DSCP)
                return problem(p, FLOW_M_IP_DSCP, "needs ether_type 0x0800 "
                               "or 0x86dd, not 0x%04x", et);
        }
    } else if (fam) {
        /* Liberal: the address already says which IP it is. */
        fm->ether_type = ip_ether_type(fam);
        fm->fields |= FLOW_M_ETHER_TYPE;
    } else if (fm->fields & (FLOW_M_PROTOCOL | FLOW_M_IP_DSCP)) {
        if ((fm->fields & FLOW_M_PROTOCOL) && fm->protocol == 1)
            fm->ether_type = 0x0800;
        else if ((fm->fields & FLOW_M_PROTOCOL) && fm->protocol == 58)
            fm->ether_type = 0x86dd;
        else
            return problem(p, fm->fields & FLOW_M_PROTOCOL ? FLOW_M_PROTOCOL
                                                           : FLOW_M_IP_DSCP,
                           "needs ether_type 0x0800 or 0x86dd (or a "
                           "source_ip/dest_ip) to say which IP version");
        fm->fields |= FLOW_M_ETHER_TYPE;
    }

    static const uint32_t l4[] = { FLOW_M_SOURCE_PORT, FLOW_M_DEST_PORT };
    for (size_t i = 0; i < sizeof l4 / sizeof *l4; i++)
        if ((fm->fields & l4[i])
            && (!(fm->fields & FLOW_M_PROTOCOL)
                || (fm->protocol != 6 && fm->protocol != 17
                    && fm->protocol != 132)))
            return problem(p, l4[i], "needs protocol 6 (tcp), 17 (udp) or "
                           "132 (sctp)");
    static const uint32_t icmp[] = { FLOW_M_ICMP_TYPE, FLOW_M_ICMP_CODE };
    for (size_t i = 0; i < sizeof icmp / sizeof *icmp; i++) {
        if (!(fm->fields & icmp[i]))
            continue;
        if (!(fm->fields & FLOW_M_PROTOCOL)
            || (fm->protocol != 1 && fm->protocol != 58))
            return problem(p, icmp[i], "needs protocol 1 (icmp) or 58 "
                           "(icmpv6)");
        uint16_t want = fm->protocol == 1 ? 0x0800 : 0x86dd;
        if (fm->ether_type != want)
            return problem(p, icmp[i], "protocol %u needs ether_type 0x%04x",
                           fm->protocol, want);
    }
    *m = copy;
    return 0;
}

int
flow_mods_check(const struct flow_mods *mods, const struct flow_match *m,
                struct flow_problem *p)
{
    static const uint32_t ips[] = {
        FLOW_A_SET_SOURCE_IP, FLOW_A_SET_DEST_IP,
    };
    for (size_t k = 0; k < sizeof ips / sizeof *ips; k++) {
        if (!(mods->fields & ips[k]))
            continue;
        const struct flow_ip *ip = ips[k] == FLOW_A_SET_SOURCE_IP
                                   ? &mods->set_source_ip : &mods->set_dest_ip;
        uint16_t want = ip_ether_type(ip->family);
        if (!(m->fields & FLOW_M_ETHER_TYPE) || m->ether_type != want)
            return problem(p, ips[k], "needs a match on %s packets "
                           "(ether_type 0x%04x or an %s source_ip/dest_ip)",
                           ip_version(ip->family), want,
                           ip_version(ip->family));
    }
    return 0;
}

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
