/* The pure half of the network manager (netmgr.h): Algorithms 1 and 2
 * (virtual links, the split of flowrules between LSI-0 and the graph-LSI)
 * and the SAP claims on LSI-0's interfaces.  No driver, no lock, no log:
 * functions of the graph alone, unit-tested in test-netmgr. */
#include <config.h>
#include "netmgr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum netmgr_side
netmgr_port_side(const struct graph *g, const struct graph_port_ref *ref)
{
    if (ref->kind == GRAPH_PORT_SF)
        return NETMGR_GRAPH_LSI;
    enum graph_sap_type t = g->saps[ref->sap].type;
    return t == GRAPH_SAP_INTERFACE || t == GRAPH_SAP_VLAN
           ? NETMGR_LSI0 : NETMGR_GRAPH_LSI;
}

char *
netmgr_endpoint_key(const struct graph *g, const struct graph_port_ref *ref)
{
    if (ref->kind == GRAPH_PORT_SAP)
        return xasprintf("sap:%s", g->saps[ref->sap].id);
    const struct graph_sf *sf = &g->sfs[ref->sf];
    return xasprintf("sf:%s:%s", sf->id, sf->ports[ref->port].id);
}

/* Makes room for element n of an array that only grows by one: doubles
 * the allocation whenever n reaches a power of two, so that appending n
 * elements costs O(n) copies, not O(n^2). */
static void *
grow(void *p, size_t n, size_t size)
{
    if (n == 0 || !(n & (n - 1)))
        p = xrealloc(p, (n ? 2 * n : 1) * size);
    return p;
}

static uint32_t
fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t) *s) * 16777619u;
    return h;
}

/* The VLAN id of an endpoint that is a vlan SAP, else 0. */
static uint16_t
endpoint_vlan(const struct graph *g, const struct graph_port_ref *ref)
{
    if (ref->kind == GRAPH_PORT_SAP && g->saps[ref->sap].type == GRAPH_SAP_VLAN)
        return g->saps[ref->sap].vlan_id;
    return 0;
}

/* --- The pure split. --- */

void
netmgr_vlink_plan_clear(struct netmgr_vlink_plan *p)
{
    for (size_t k = 0; k < p->n; k++) {
        free(p->to_graph[k]);
        free(p->to_lsi0[k]);
    }
    free(p->to_graph);
    free(p->to_lsi0);
    memset(p, 0, sizeof *p);
}

static size_t
slot_find(char *const *slots, size_t n, const char *key)
{
    for (size_t k = 0; k < n; k++)
        if (slots[k] && !strcmp(slots[k], key))
            return k;
    return SIZE_MAX;
}

static bool
strv_has(char *const *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], key))
            return true;
    return false;
}

/* Algorithm 1 (createVlinks), incremental when 'prev' is given. */
static void
plan_vlinks(const struct graph *g, const struct netmgr_vlink_plan *prev,
            struct netmgr_vlink_plan *plan)
{
    char **need[2] = { NULL, NULL };    /* [side of the target]. */
    size_t n_need[2] = { 0, 0 };

    for (size_t r = 0; r < g->n_flowrules; r++) {
        const struct graph_flowrule *fr = &g->flowrules[r];
        enum netmgr_side in = netmgr_port_side(g, &fr->port_in);
        for (size_t o = 0; o < fr->n_outputs; o++) {
            enum netmgr_side out = netmgr_port_side(g, &fr->outputs[o]);
            if (out == in)
                continue;           /* Table 4: no vlink needed. */
            char *key = netmgr_endpoint_key(g, &fr->outputs[o]);
            if (strv_has(need[out], n_need[out], key)) {
                free(key);
                continue;
            }
            need[out] = grow(need[out], n_need[out], sizeof (char *));
            need[out][n_need[out]++] = key;
        }
    }

    memset(plan, 0, sizeof *plan);
    if (prev && prev->n) {
        plan->n = prev->n;
        plan->to_graph = xcalloc(prev->n, sizeof (char *));
        plan->to_lsi0 = xcalloc(prev->n, sizeof (char *));
        for (size_t k = 0; k < prev->n; k++) {
            /* Keep the vlink of every endpoint still reached through one. */
            if (prev->to_graph[k]
                && strv_has(need[NETMGR_GRAPH_LSI], n_need[NETMGR_GRAPH_LSI],
                            prev->to_graph[k]))
                plan->to_graph[k] = xstrdup(prev->to_graph[k]);
            if (prev->to_lsi0[k]
                && strv_has(need[NETMGR_LSI0], n_need[NETMGR_LSI0],
                            prev->to_lsi0[k]))
                plan->to_lsi0[k] = xstrdup(prev->to_lsi0[k]);
        }
    }
    for (int side = 0; side < 2; side++) {
        for (size_t i = 0; i < n_need[side]; i++) {
            char ***slots = side == NETMGR_GRAPH_LSI ? &plan->to_graph
                                                     : &plan->to_lsi0;
            if (slot_find(*slots, plan->n, need[side][i]) != SIZE_MAX) {
                free(need[side][i]);
                continue;
            }
            size_t k = 0;
            while (k < plan->n && (*slots)[k])
                k++;
            if (k == plan->n) {
                plan->to_graph = xrealloc(plan->to_graph,
                                          (k + 1) * sizeof (char *));
                plan->to_lsi0 = xrealloc(plan->to_lsi0,
                                         (k + 1) * sizeof (char *));
                plan->to_graph[k] = plan->to_lsi0[k] = NULL;
                plan->n++;
            }
            (*slots)[k] = need[side][i];
        }
        free(need[side]);
    }
    while (plan->n && !plan->to_graph[plan->n - 1]
           && !plan->to_lsi0[plan->n - 1])
        plan->n--;
}

static struct netmgr_action *
add_action(struct netmgr_rule *r, enum vswitch_action_type type)
{
    r->actions = grow(r->actions, r->n_actions, sizeof *r->actions);
    struct netmgr_action *a = &r->actions[r->n_actions++];
    memset(a, 0, sizeof *a);
    a->type = type;
    return a;
}

static void
add_output(struct netmgr_rule *r, struct netmgr_pref port)
{
    add_action(r, VSWITCH_ACT_OUTPUT)->port = port;
}

static void
add_mods(struct netmgr_rule *r, const struct flow_mods *m)
{
    if (m->fields & FLOW_A_POP_VLAN)
        add_action(r, VSWITCH_ACT_POP_VLAN);
    if (m->fields & FLOW_A_PUSH_VLAN)
        add_action(r, VSWITCH_ACT_PUSH_VLAN)->vlan_id = m->push_vlan;
    if (m->fields & FLOW_A_SET_SOURCE_MAC)
        memcpy(add_action(r, VSWITCH_ACT_SET_ETH_SRC)->mac, m->set_source_mac, 6);
    if (m->fields & FLOW_A_SET_DEST_MAC)
        memcpy(add_action(r, VSWITCH_ACT_SET_ETH_DST)->mac, m->set_dest_mac, 6);
    if (m->fields & FLOW_A_SET_SOURCE_IP)
        add_action(r, VSWITCH_ACT_SET_IP_SRC)->ip = m->set_source_ip;
    if (m->fields & FLOW_A_SET_DEST_IP)
        add_action(r, VSWITCH_ACT_SET_IP_DST)->ip = m->set_dest_ip;
}

static struct netmgr_rule *
rule_append(struct netmgr_rule **rules, size_t *n)
{
    *rules = grow(*rules, *n, sizeof **rules);
    struct netmgr_rule *r = &(*rules)[(*n)++];
    memset(r, 0, sizeof *r);
    return r;
}

static struct netmgr_pref
pref_endpoint(const struct graph_port_ref *ref)
{
    return (struct netmgr_pref) { .kind = NETMGR_P_ENDPOINT, .ep = *ref };
}

static struct netmgr_pref
pref_vlink(size_t k)
{
    return (struct netmgr_pref) { .kind = NETMGR_P_VLINK, .vlink = k };
}

/* Algorithm 2 (splitRules), generalised to several outputs per rule. */
struct netmgr_split *
netmgr_split(const struct graph *g, const struct netmgr_vlink_plan *prev)
{
    struct netmgr_split *s = xcalloc(1, sizeof *s);
    plan_vlinks(g, prev, &s->plan);
    /* One forwarding rule per vlink end: [side][k]. */
    bool *fwd[2] = { xcalloc(s->plan.n + 1, sizeof (bool)),
                     xcalloc(s->plan.n + 1, sizeof (bool)) };

    for (size_t i = 0; i < g->n_flowrules; i++) {
        const struct graph_flowrule *fr = &g->flowrules[i];
        enum netmgr_side in = netmgr_port_side(g, &fr->port_in);
        struct netmgr_rule *r = in == NETMGR_LSI0
                                ? rule_append(&s->lsi0, &s->n_lsi0)
                                : rule_append(&s->glsi, &s->n_glsi);
        r->id = fnv1a(fr->id) & 0x7fffffffu;
        r->flowrule = i;
        r->priority = fr->priority;
        r->in = pref_endpoint(&fr->port_in);
        r->match = fr->match;
        uint16_t in_vlan = endpoint_vlan(g, &fr->port_in);
        if (in_vlan) {
            /* A vlan SAP: only its tag, removed before anything else. */
            r->match.fields |= FLOW_M_VLAN_ID;
            r->match.vlan_id = in_vlan;
        }
        if (fr->drop || !fr->n_outputs)
            continue;                   /* No action: drop. */
        if (in_vlan)
            add_action(r, VSWITCH_ACT_POP_VLAN);
        add_mods(r, &fr->mods);

        /* Untagged outputs first, then the vlan SAPs, each tag pushed just
         * before its output and popped again if more actions follow. */
        size_t n_tagged = 0;
        for (size_t o = 0; o < fr->n_outputs; o++) {
            const struct graph_port_ref *out = &fr->outputs[o];
            enum netmgr_side side = netmgr_port_side(g, out);
            if (side == in) {
                if (endpoint_vlan(g, out))
                    n_tagged++;
                else
                    add_output(r, pref_endpoint(out));
                continue;
            }
            /* Crosses LSIs: through the vlink of that endpoint. */
            _cleanup_free_ char *key = netmgr_endpoint_key(g, out);
            size_t k = slot_find(side == NETMGR_GRAPH_LSI ? s->plan.to_graph
                                                         : s->plan.to_lsi0,
                                 s->plan.n, key);
            add_output(r, pref_vlink(k));
            if (fwd[side][k])
                continue;
            fwd[side][k] = true;
            struct netmgr_rule *f = side == NETMGR_LSI0
                                    ? rule_append(&s->lsi0, &s->n_lsi0)
                                    : rule_append(&s->glsi, &s->n_glsi);
            f->id = 0x80000000u | (uint32_t) k;
            f->flowrule = SIZE_MAX;
            f->priority = NETMGR_VLINK_PRIORITY;
            f->in = pref_vlink(k);
            uint16_t vid = endpoint_vlan(g, out);
            if (vid)
                add_action(f, VSWITCH_ACT_PUSH_VLAN)->vlan_id = vid;
            add_output(f, pref_endpoint(out));
        }
        for (size_t o = 0; o < fr->n_outputs && n_tagged; o++) {
            const struct graph_port_ref *out = &fr->outputs[o];
            uint16_t vid = endpoint_vlan(g, out);
            if (netmgr_port_side(g, out) != in || !vid)
                continue;
            add_action(r, VSWITCH_ACT_PUSH_VLAN)->vlan_id = vid;
            add_output(r, pref_endpoint(out));
            if (--n_tagged)
                add_action(r, VSWITCH_ACT_POP_VLAN);
        }
    }
    free(fwd[0]);
    free(fwd[1]);
    return s;
}

static void
netmgr_rules_free(struct netmgr_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rules[i].actions);
    free(rules);
}

void
netmgr_split_free(struct netmgr_split *s)
{
    if (!s)
        return;
    netmgr_vlink_plan_clear(&s->plan);
    netmgr_rules_free(s->lsi0, s->n_lsi0);
    netmgr_rules_free(s->glsi, s->n_glsi);
    free(s);
}

/* --- Claims. --- */

size_t
netmgr_claims(const struct graph *g, struct netmgr_claim **ret)
{
    struct netmgr_claim *c = NULL;
    size_t n = 0;
    for (size_t i = 0; i < g->n_saps; i++) {
        if (g->saps[i].type != GRAPH_SAP_VLAN)
            continue;
        c = grow(c, n, sizeof *c);
        memset(&c[n], 0, sizeof c[n]);
        c[n].ifname = g->saps[i].if_name;
        c[n].match.fields = FLOW_M_VLAN_ID;
        c[n].match.vlan_id = g->saps[i].vlan_id;
        c[n].sap = i;
        n++;
    }
    for (size_t r = 0; r < g->n_flowrules; r++) {
        const struct graph_port_ref *in = &g->flowrules[r].port_in;
        if (in->kind != GRAPH_PORT_SAP
            || g->saps[in->sap].type != GRAPH_SAP_INTERFACE)
            continue;
        c = grow(c, n, sizeof *c);
        c[n].ifname = g->saps[in->sap].if_name;
        c[n].match = g->flowrules[r].match;
        c[n].sap = in->sap;
        n++;
    }
    *ret = c;
    return n;
}

static bool
ip_disjoint(const struct flow_ip *a, const struct flow_ip *b)
{
    if (a->family != b->family)
        return true;
    unsigned int plen = a->plen < b->plen ? a->plen : b->plen;
    for (unsigned int bit = 0; bit < plen; bit++) {
        uint8_t mask = (uint8_t) (0x80u >> (bit % 8));
        if ((a->addr[bit / 8] & mask) != (b->addr[bit / 8] & mask))
            return true;
    }
    return false;
}

bool
netmgr_matches_overlap(const struct flow_match *a, const struct flow_match *b)
{
    uint32_t both = a->fields & b->fields;
#define DIFF(BIT, EXPR) if ((both & (BIT)) && (EXPR)) return false
    DIFF(FLOW_M_ETHER_TYPE, a->ether_type != b->ether_type);
    DIFF(FLOW_M_VLAN_ID, a->vlan_id != b->vlan_id);
    DIFF(FLOW_M_VLAN_PCP, a->vlan_pcp != b->vlan_pcp);
    DIFF(FLOW_M_SOURCE_MAC, memcmp(a->source_mac, b->source_mac, 6));
    DIFF(FLOW_M_DEST_MAC, memcmp(a->dest_mac, b->dest_mac, 6));
    DIFF(FLOW_M_SOURCE_IP, ip_disjoint(&a->source_ip, &b->source_ip));
    DIFF(FLOW_M_DEST_IP, ip_disjoint(&a->dest_ip, &b->dest_ip));
    DIFF(FLOW_M_PROTOCOL, a->protocol != b->protocol);
    DIFF(FLOW_M_SOURCE_PORT, a->source_port != b->source_port);
    DIFF(FLOW_M_DEST_PORT, a->dest_port != b->dest_port);
    DIFF(FLOW_M_IP_DSCP, a->ip_dscp != b->ip_dscp);
    DIFF(FLOW_M_ICMP_TYPE, a->icmp_type != b->icmp_type);
    DIFF(FLOW_M_ICMP_CODE, a->icmp_code != b->icmp_code);
#undef DIFF
    return true;
}

int
netmgr_claims_check(const struct graph *g, const struct graph *other,
                    const char *other_id, struct corch_err *err)
{
    struct netmgr_claim *mine, *theirs;
    size_t n_mine = netmgr_claims(g, &mine);
    size_t n_theirs = netmgr_claims(other, &theirs);
    int error = 0;
    for (size_t i = 0; i < n_mine && !error; i++) {
        for (size_t j = 0; j < n_theirs && !error; j++) {
            if (strcmp(mine[i].ifname, theirs[j].ifname)
                || !netmgr_matches_overlap(&mine[i].match, &theirs[j].match))
                continue;
            char path[64], what[32] = "traffic";
            snprintf(path, sizeof path, "sffg.saps[%zu]", mine[i].sap);
            if (mine[i].match.fields & FLOW_M_VLAN_ID)
                snprintf(what, sizeof what, "VLAN %u",
                         (unsigned int) mine[i].match.vlan_id);
            error = corch_err_setk(err, CORCH_ERR_CONFLICT, -EADDRINUSE,
                                   path, "sap '%s': interface %s: %s "
                                   "overlaps what graph '%s' already takes "
                                   "from it", g->saps[mine[i].sap].id,
                                   mine[i].ifname, what, other_id);
        }
    }
    free(mine);
    free(theirs);
    return error;
}
