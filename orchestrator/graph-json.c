/* The SF-FG serialiser: a 'struct graph' out as normalised JSON (every
 * number a JSON number, addresses in canonical form, absent optional
 * fields omitted), so that what a client reads back parses to an equal
 * graph. */
#include <config.h>
#include "graph.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* No LOG_MODULE: nothing here logs, and an unused one breaks -Werror. */

/* ---- Serialisation. ---- */

static json_object *
ip_to_json(const struct flow_ip *ip, bool with_prefix)
{
    char buf[INET6_ADDRSTRLEN + 8];
    unsigned int full = ip->family == AF_INET ? 32 : 128;

    inet_ntop(ip->family, ip->addr, buf, INET6_ADDRSTRLEN);
    if (with_prefix || ip->plen != full)
        snprintf(buf + strlen(buf), 8, "/%u", (unsigned) ip->plen);
    return json_object_new_string(buf);
}

static json_object *
mac_to_json(const uint8_t m[6])
{
    char buf[18];
    snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x",
             m[0], m[1], m[2], m[3], m[4], m[5]);
    return json_object_new_string(buf);
}

static json_object *
ref_to_json(const struct graph *g, const struct graph_port_ref *p)
{
    char buf[3 * 64 + 32];
    graph_port_ref_format(g, p, buf, sizeof buf);
    return json_object_new_string(buf);
}

#define ADD(O, K, V) json_object_object_add((O), (K), (V))

static json_object *
sap_to_json(const struct graph_sap *s)
{
    json_object *o = json_object_new_object();
    json_object *b = json_object_new_object();

    ADD(o, "id", json_object_new_string(s->id));
    if (s->name)
        ADD(o, "name", json_object_new_string(s->name));
    ADD(o, "type", json_object_new_string(graph_sap_type_name(s->type)));
    switch (s->type) {
    case GRAPH_SAP_INTERFACE:
        ADD(b, "if-name", json_object_new_string(s->if_name));
        break;
    case GRAPH_SAP_VLAN:
        ADD(b, "vlan-id", json_object_new_int(s->vlan_id));
        ADD(b, "if-name", json_object_new_string(s->if_name));
        break;
    case GRAPH_SAP_GRE:
        ADD(b, "local-ip", ip_to_json(&s->local_ip, false));
        ADD(b, "remote-ip", ip_to_json(&s->remote_ip, false));
        if (s->has_gre_key)
            ADD(b, "gre-key", json_object_new_int64(s->gre_key));
        break;
    case GRAPH_SAP_HOST_STACK:
        ADD(b, "configuration", json_object_new_string("static"));
        ADD(b, "ipv4", ip_to_json(&s->ipv4, true));
        break;
    case GRAPH_SAP_INTERNAL:
        ADD(b, "internal-group", json_object_new_string(s->internal_group));
        break;
    }
    ADD(o, graph_sap_type_name(s->type), b);
    return o;
}

/* The "match" object without port_in. */
static json_object *
graph_match_to_json(const struct flow_match *m)
{
    json_object *o = json_object_new_object();
    uint32_t f = m->fields;

    if (f & FLOW_M_ETHER_TYPE)
        ADD(o, "ether_type", json_object_new_int(m->ether_type));
    if (f & FLOW_M_VLAN_ID)
        ADD(o, "vlan_id", json_object_new_int(m->vlan_id));
    if (f & FLOW_M_VLAN_PCP)
        ADD(o, "vlan_pcp", json_object_new_int(m->vlan_pcp));
    if (f & FLOW_M_SOURCE_MAC)
        ADD(o, "source_mac", mac_to_json(m->source_mac));
    if (f & FLOW_M_DEST_MAC)
        ADD(o, "dest_mac", mac_to_json(m->dest_mac));
    if (f & FLOW_M_SOURCE_IP)
        ADD(o, "source_ip", ip_to_json(&m->source_ip, false));
    if (f & FLOW_M_DEST_IP)
        ADD(o, "dest_ip", ip_to_json(&m->dest_ip, false));
    if (f & FLOW_M_PROTOCOL)
        ADD(o, "protocol", json_object_new_int(m->protocol));
    if (f & FLOW_M_SOURCE_PORT)
        ADD(o, "source_port", json_object_new_int(m->source_port));
    if (f & FLOW_M_DEST_PORT)
        ADD(o, "dest_port", json_object_new_int(m->dest_port));
    if (f & FLOW_M_IP_DSCP)
        ADD(o, "ip_dscp", json_object_new_int(m->ip_dscp));
    if (f & FLOW_M_ICMP_TYPE)
        ADD(o, "icmp_type", json_object_new_int(m->icmp_type));
    if (f & FLOW_M_ICMP_CODE)
        ADD(o, "icmp_code", json_object_new_int(m->icmp_code));
    return o;
}

static json_object *
flowrule_to_json(const struct graph *g, const struct graph_flowrule *r)
{
    json_object *o = json_object_new_object();
    json_object *m = graph_match_to_json(&r->match);
    json_object *a = json_object_new_object();
    json_object *pin = ref_to_json(g, &r->port_in);
    const struct flow_mods *fm = &r->mods;

    ADD(o, "id", json_object_new_string(r->id));
    ADD(o, "priority", json_object_new_int(r->priority));
    /* port_in first, as people write it. */
    json_object *m2 = json_object_new_object();
    ADD(m2, "port_in", pin);
    json_object_object_foreach(m, k, v)
        ADD(m2, k, json_object_get(v));
    json_object_put(m);
    ADD(o, "match", m2);

    if (r->n_outputs == 1)
        ADD(a, "output_to_port", ref_to_json(g, &r->outputs[0]));
    else if (r->n_outputs > 1) {
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < r->n_outputs; i++)
            json_object_array_add(arr, ref_to_json(g, &r->outputs[i]));
        ADD(a, "output_to_port", arr);
    }
    if (fm->fields & FLOW_A_POP_VLAN)
        ADD(a, "pop_vlan", json_object_new_boolean(1));
    if (fm->fields & FLOW_A_PUSH_VLAN)
        ADD(a, "push_vlan", json_object_new_int(fm->push_vlan));
    if (fm->fields & FLOW_A_SET_SOURCE_MAC)
        ADD(a, "set_source_mac", mac_to_json(fm->set_source_mac));
    if (fm->fields & FLOW_A_SET_DEST_MAC)
        ADD(a, "set_dest_mac", mac_to_json(fm->set_dest_mac));
    if (fm->fields & FLOW_A_SET_SOURCE_IP)
        ADD(a, "set_source_ip", ip_to_json(&fm->set_source_ip, false));
    if (fm->fields & FLOW_A_SET_DEST_IP)
        ADD(a, "set_dest_ip", ip_to_json(&fm->set_dest_ip, false));
    if (r->drop)
        ADD(a, "drop", json_object_new_boolean(1));
    ADD(o, "actions", a);
    return o;
}

json_object *
graph_to_json(const struct graph *g)
{
    json_object *root = json_object_new_object();
    json_object *o = json_object_new_object();
    json_object *sfs = json_object_new_array();
    json_object *saps = json_object_new_array();
    json_object *rules = json_object_new_array();

    ADD(o, "id", json_object_new_string(g->id));
    if (g->name)
        ADD(o, "name", json_object_new_string(g->name));
    for (size_t i = 0; i < g->n_sfs; i++) {
        const struct graph_sf *sf = &g->sfs[i];
        json_object *s = json_object_new_object();
        json_object *ports = json_object_new_array();
        ADD(s, "id", json_object_new_string(sf->id));
        ADD(s, "name", json_object_new_string(sf->name));
        if (sf->template_id)
            ADD(s, "template", json_object_new_string(sf->template_id));
        if (sf->config) {
            json_object *cfg = NULL;
            json_object_deep_copy(sf->config, &cfg, NULL);
            ADD(s, "config", cfg);
        }
        for (size_t k = 0; k < sf->n_ports; k++) {
            json_object *p = json_object_new_object();
            ADD(p, "id", json_object_new_string(sf->ports[k].id));
            if (sf->ports[k].name)
                ADD(p, "name", json_object_new_string(sf->ports[k].name));
            json_object_array_add(ports, p);
        }
        ADD(s, "ports", ports);
        json_object_array_add(sfs, s);
    }
    for (size_t i = 0; i < g->n_saps; i++)
        json_object_array_add(saps, sap_to_json(&g->saps[i]));
    for (size_t i = 0; i < g->n_flowrules; i++)
        json_object_array_add(rules, flowrule_to_json(g, &g->flowrules[i]));
    ADD(o, "SFs", sfs);
    ADD(o, "saps", saps);
    ADD(o, "flowrules", rules);
    ADD(root, "sffg", o);
    return root;
}

#undef ADD
