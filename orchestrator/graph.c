/* The SF-FG graph model: names of enums, the port reference format,
 * copy, free, lookups and the comparisons an update's diff is made of.
 * Parsing is in graph-parse.c, serialisation in graph-json.c. */
#include <config.h>
#include "graph.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* No LOG_MODULE: nothing here logs, and an unused one breaks -Werror. */

const char *
graph_sap_type_name(enum graph_sap_type t)
{
    switch (t) {
    case GRAPH_SAP_INTERFACE: return "interface";
    case GRAPH_SAP_VLAN: return "vlan";
    case GRAPH_SAP_GRE: return "gre";
    case GRAPH_SAP_HOST_STACK: return "host-stack";
    case GRAPH_SAP_INTERNAL: return "internal";
    }
    return "?";
}

void
graph_port_ref_format(const struct graph *g, const struct graph_port_ref *p,
                      char *buf, size_t size)
{
    if (p->kind == GRAPH_PORT_SAP)
        snprintf(buf, size, "service-access-point:%s", g->saps[p->sap].id);
    else
        snprintf(buf, size, "sf:%s:%s", g->sfs[p->sf].id,
                 g->sfs[p->sf].ports[p->port].id);
}

/* ---- Copy, free, lookups, equality. ---- */

static void
graph_free_members(struct graph *g)
{
    for (size_t i = 0; i < g->n_sfs; i++) {
        struct graph_sf *sf = &g->sfs[i];
        free(sf->id);
        free(sf->name);
        free(sf->template_id);
        json_object_put(sf->config);
        for (size_t k = 0; k < sf->n_ports; k++) {
            free(sf->ports[k].id);
            free(sf->ports[k].name);
        }
        free(sf->ports);
    }
    free(g->sfs);
    for (size_t i = 0; i < g->n_saps; i++) {
        free(g->saps[i].id);
        free(g->saps[i].name);
        free(g->saps[i].if_name);
        free(g->saps[i].internal_group);
    }
    free(g->saps);
    for (size_t i = 0; i < g->n_flowrules; i++) {
        free(g->flowrules[i].id);
        free(g->flowrules[i].outputs);
    }
    free(g->flowrules);
    free(g->id);
    free(g->name);
}

void
graph_free(struct graph *g)
{
    if (!g)
        return;
    graph_free_members(g);
    free(g);
}

struct graph *
graph_clone(const struct graph *g)
{
    struct graph *c = xcalloc(1, sizeof *c);

    c->id = xstrdup(g->id);
    c->name = xstrdup(g->name);
    c->n_sfs = g->n_sfs;
    c->sfs = g->n_sfs ? xcalloc(g->n_sfs, sizeof *c->sfs) : NULL;
    for (size_t i = 0; i < g->n_sfs; i++) {
        const struct graph_sf *s = &g->sfs[i];
        struct graph_sf *d = &c->sfs[i];
        d->id = xstrdup(s->id);
        d->name = xstrdup(s->name);
        d->template_id = xstrdup(s->template_id);
        if (s->config)
            json_object_deep_copy(s->config, &d->config, NULL);
        d->n_ports = s->n_ports;
        d->ports = s->n_ports ? xcalloc(s->n_ports, sizeof *d->ports) : NULL;
        for (size_t k = 0; k < s->n_ports; k++) {
            d->ports[k].id = xstrdup(s->ports[k].id);
            d->ports[k].name = xstrdup(s->ports[k].name);
        }
    }
    c->n_saps = g->n_saps;
    c->saps = g->n_saps ? xcalloc(g->n_saps, sizeof *c->saps) : NULL;
    for (size_t i = 0; i < g->n_saps; i++) {
        c->saps[i] = g->saps[i];
        c->saps[i].id = xstrdup(g->saps[i].id);
        c->saps[i].name = xstrdup(g->saps[i].name);
        c->saps[i].if_name = xstrdup(g->saps[i].if_name);
        c->saps[i].internal_group = xstrdup(g->saps[i].internal_group);
    }
    c->n_flowrules = g->n_flowrules;
    c->flowrules = g->n_flowrules
                   ? xcalloc(g->n_flowrules, sizeof *c->flowrules) : NULL;
    for (size_t i = 0; i < g->n_flowrules; i++) {
        const struct graph_flowrule *s = &g->flowrules[i];
        struct graph_flowrule *d = &c->flowrules[i];
        *d = *s;
        d->id = xstrdup(s->id);
        d->outputs = NULL;
        if (s->n_outputs) {
            d->outputs = xmalloc(s->n_outputs * sizeof *d->outputs);
            memcpy(d->outputs, s->outputs, s->n_outputs * sizeof *d->outputs);
        }
    }
    return c;
}

const struct graph_sf *
graph_find_sf(const struct graph *g, const char *id)
{
    for (size_t i = 0; i < g->n_sfs; i++)
        if (!strcmp(g->sfs[i].id, id))
            return &g->sfs[i];
    return NULL;
}

const struct graph_sap *
graph_find_sap(const struct graph *g, const char *id)
{
    for (size_t i = 0; i < g->n_saps; i++)
        if (!strcmp(g->saps[i].id, id))
            return &g->saps[i];
    return NULL;
}

const struct graph_flowrule *
graph_find_flowrule(const struct graph *g, const char *id)
{
    for (size_t i = 0; i < g->n_flowrules; i++)
        if (!strcmp(g->flowrules[i].id, id))
            return &g->flowrules[i];
    return NULL;
}

static bool
str_equal(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

bool
graph_sf_equal(const struct graph_sf *a, const struct graph_sf *b)
{
    if (!str_equal(a->name, b->name)
        || !str_equal(a->template_id, b->template_id)
        || a->n_ports != b->n_ports)
        return false;
    if ((a->config == NULL) != (b->config == NULL)
        || (a->config && !json_object_equal(a->config, b->config)))
        return false;
    for (size_t i = 0; i < a->n_ports; i++)
        if (!str_equal(a->ports[i].id, b->ports[i].id)
            || !str_equal(a->ports[i].name, b->ports[i].name))
            return false;
    return true;
}

static bool
ip_equal(const struct flow_ip *a, const struct flow_ip *b)
{
    return a->family == b->family && a->plen == b->plen
           && !memcmp(a->addr, b->addr, sizeof a->addr);
}

bool
graph_sap_equal(const struct graph_sap *a, const struct graph_sap *b)
{
    if (a->type != b->type || !str_equal(a->name, b->name))
        return false;
    switch (a->type) {
    case GRAPH_SAP_INTERFACE:
        return str_equal(a->if_name, b->if_name);
    case GRAPH_SAP_VLAN:
        return str_equal(a->if_name, b->if_name) && a->vlan_id == b->vlan_id;
    case GRAPH_SAP_GRE:
        return ip_equal(&a->local_ip, &b->local_ip)
               && ip_equal(&a->remote_ip, &b->remote_ip)
               && a->has_gre_key == b->has_gre_key
               && (!a->has_gre_key || a->gre_key == b->gre_key);
    case GRAPH_SAP_HOST_STACK:
        return ip_equal(&a->ipv4, &b->ipv4);
    case GRAPH_SAP_INTERNAL:
        return str_equal(a->internal_group, b->internal_group);
    }
    return false;
}

static bool
ref_equal(const struct graph *ga, const struct graph_port_ref *a,
          const struct graph *gb, const struct graph_port_ref *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == GRAPH_PORT_SAP)
        return !strcmp(ga->saps[a->sap].id, gb->saps[b->sap].id);
    return !strcmp(ga->sfs[a->sf].id, gb->sfs[b->sf].id)
           && !strcmp(ga->sfs[a->sf].ports[a->port].id,
                      gb->sfs[b->sf].ports[b->port].id);
}

bool
graph_flowrule_equal(const struct graph *ga, const struct graph_flowrule *a,
                     const struct graph *gb, const struct graph_flowrule *b)
{
    if (a->priority != b->priority || a->drop != b->drop
        || a->n_outputs != b->n_outputs
        || !ref_equal(ga, &a->port_in, gb, &b->port_in)
        || !flow_match_equal(&a->match, &b->match)
        || !flow_mods_equal(&a->mods, &b->mods))
        return false;
    for (size_t i = 0; i < a->n_outputs; i++)
        if (!ref_equal(ga, &a->outputs[i], gb, &b->outputs[i]))
            return false;
    return true;
}

bool
graph_equal(const struct graph *a, const struct graph *b)
{
    if (!str_equal(a->id, b->id) || !str_equal(a->name, b->name)
        || a->n_sfs != b->n_sfs || a->n_saps != b->n_saps
        || a->n_flowrules != b->n_flowrules)
        return false;
    for (size_t i = 0; i < a->n_sfs; i++)
        if (!str_equal(a->sfs[i].id, b->sfs[i].id)
            || !graph_sf_equal(&a->sfs[i], &b->sfs[i]))
            return false;
    for (size_t i = 0; i < a->n_saps; i++)
        if (!str_equal(a->saps[i].id, b->saps[i].id)
            || !graph_sap_equal(&a->saps[i], &b->saps[i]))
            return false;
    for (size_t i = 0; i < a->n_flowrules; i++)
        if (!str_equal(a->flowrules[i].id, b->flowrules[i].id)
            || !graph_flowrule_equal(a, &a->flowrules[i], b,
                                     &b->flowrules[i]))
            return false;
    return true;
}
