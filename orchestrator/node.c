/* The node description as a document: see node.h.  This file holds the
 * parts that do not need a running node (the JSON, VLAN ranges, the
 * neighbour list); node-nrm.c reads the node. */
#include <config.h>
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corch-config.h"
#include "log.h"
#include "util.h"

LOG_MODULE(node);

static json_object *
strv_to_json(char **v)
{
    json_object *a = json_object_new_array();
    for (char **p = v; p && *p; p++)
        json_object_array_add(a, json_object_new_string(*p));
    return a;
}

static json_object *
string_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

/* Two decimals, as /proc/loadavg has them, written as such (not as the
 * nearest binary double's 17 digits). */
static json_object *
load_value(double v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.2f", v < 0 ? 0.0 : v);
    return json_object_new_double_s(strtod(buf, NULL), buf);
}

static json_object *
endpoint_to_json(const struct node_endpoint *e)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(e->name));
    json_object_object_add(o, "present", json_object_new_boolean(e->present));
    json_object_object_add(o, "mac", string_or_null(e->mac));
    json_object_object_add(o, "ipv4", strv_to_json(e->ipv4));
    json_object_object_add(o, "neighbour_domain", string_or_null(e->neighbour));
    json_object *vlan = json_object_new_object();
    json_object_object_add(vlan, "supported", json_object_new_boolean(e->vlan));
    json_object_object_add(vlan, "free", strv_to_json(e->vlan ? e->vlans_free : NULL));
    json_object_object_add(o, "vlan", vlan);
    json_object_object_add(o, "gre", json_object_new_boolean(e->gre));
    return o;
}

json_object *
node_info_to_json(const struct node_info *info)
{
    json_object *d = json_object_new_object();

    json_object_object_add(d, "node_id", json_object_new_string(info->id ? info->id : ""));
    json_object_object_add(d, "name", json_object_new_string(info->name ? info->name : ""));

    json_object *mgmt = json_object_new_object();
    const char *addr = info->mgmt_address ? info->mgmt_address : "";
    json_object_object_add(mgmt, "address", json_object_new_string(addr));
    json_object_object_add(mgmt, "port", json_object_new_int((int) info->mgmt_port));
    _cleanup_free_ char *url = xasprintf("%s://%s%s%s:%u",
                                         info->mgmt_tls ? "https" : "http",
                                         strchr(addr, ':') ? "[" : "", addr,
                                         strchr(addr, ':') ? "]" : "",
                                         info->mgmt_port);
    json_object_object_add(mgmt, "url", json_object_new_string(url));
    json_object_object_add(d, "management", mgmt);

    json_object *eps = json_object_new_array();
    for (size_t i = 0; i < info->n_endpoints; i++)
        json_object_array_add(eps, endpoint_to_json(&info->endpoints[i]));
    json_object *bs = json_object_new_object();
    json_object_object_add(bs, "endpoints", eps);
    json_object_object_add(d, "big_switch", bs);

    json_object *caps = json_object_new_array();
    for (size_t i = 0; i < info->n_capabilities; i++) {
        const struct node_capability *c = &info->capabilities[i];
        json_object *co = json_object_new_object();
        json_object_object_add(co, "name", json_object_new_string(c->name));
        json_object_object_add(co, "ready", json_object_new_boolean(c->ready));
        json_object *ts = json_object_new_array();
        for (size_t j = 0; j < c->n_templates; j++) {
            const struct node_template *t = &c->templates[j];
            json_object *to = json_object_new_object();
            json_object_object_add(to, "id", json_object_new_string(t->id));
            json_object_object_add(to, "engine", string_or_null(t->engine));
            json_object_object_add(to, "ready", json_object_new_boolean(t->ready));
            json_object_array_add(ts, to);
        }
        json_object_object_add(co, "templates", ts);
        json_object_array_add(caps, co);
    }
    json_object_object_add(d, "functional_capabilities", caps);

    json_object *infra = json_object_new_object();
    json_object_object_add(infra, "cpu_architecture",
                           json_object_new_string(info->arch ? info->arch : "unknown"));
    json_object_object_add(infra, "vswitch",
                           json_object_new_string(info->vswitch ? info->vswitch : "unknown"));
    json_object_object_add(infra, "sap_types", strv_to_json(info->sap_types));
    json_object *engines = json_object_new_array();
    for (size_t i = 0; i < info->n_engines; i++) {
        const struct node_engine *e = &info->engines[i];
        json_object *eo = json_object_new_object();
        json_object_object_add(eo, "type", json_object_new_string(e->type));
        json_object_object_add(eo, "usable", json_object_new_boolean(e->usable));
        json_object_object_add(eo, "why", string_or_null(e->usable ? NULL : e->why));
        json_object_array_add(engines, eo);
    }
    json_object_object_add(infra, "engines", engines);
    json_object_object_add(d, "infrastructure_capabilities", infra);

    json_object *res = json_object_new_object();
    json_object_object_add(res, "cores_total", json_object_new_int64(info->cores_total));
    json_object_object_add(res, "cores_free", json_object_new_int64(info->cores_free));
    json_object_object_add(res, "memory_mb_total",
                           json_object_new_int64((int64_t) info->memory_mb_total));
    json_object_object_add(res, "memory_mb_free",
                           json_object_new_int64((int64_t) info->memory_mb_free));
    json_object *load = json_object_new_object();
    json_object_object_add(load, "1m", load_value(info->load[0]));
    json_object_object_add(load, "5m", load_value(info->load[1]));
    json_object_object_add(load, "15m", load_value(info->load[2]));
    json_object_object_add(res, "cpu_load", load);
    json_object_object_add(d, "resources", res);

    json_object *graphs = json_object_new_array();
    for (size_t i = 0; i < info->n_graphs; i++) {
        const struct node_graph *g = &info->graphs[i];
        json_object *go = json_object_new_object();
        json_object_object_add(go, "id", json_object_new_string(g->id));
        json_object_object_add(go, "name", string_or_null(g->name));
        json_object_object_add(go, "status",
                               json_object_new_string(g->status ? g->status : "unknown"));
        json_object_array_add(graphs, go);
    }
    json_object_object_add(d, "graphs", graphs);
    return d;
}

void
node_info_clear(struct node_info *info)
{
    free(info->id);
    free(info->name);
    free(info->mgmt_address);
    for (size_t i = 0; i < info->n_endpoints; i++) {
        struct node_endpoint *e = &info->endpoints[i];
        free(e->name);
        free(e->mac);
        strv_free(e->ipv4);
        free(e->neighbour);
        strv_free(e->vlans_free);
    }
    free(info->endpoints);
    for (size_t i = 0; i < info->n_capabilities; i++) {
        struct node_capability *c = &info->capabilities[i];
        free(c->name);
        for (size_t j = 0; j < c->n_templates; j++) {
            free(c->templates[j].id);
            free(c->templates[j].engine);
        }
        free(c->templates);
    }
    free(info->capabilities);
    free(info->arch);
    free(info->vswitch);
    strv_free(info->sap_types);
    for (size_t i = 0; i < info->n_engines; i++) {
        free(info->engines[i].type);
        free(info->engines[i].why);
    }
    free(info->engines);
    for (size_t i = 0; i < info->n_graphs; i++) {
        free(info->graphs[i].id);
        free(info->graphs[i].name);
        free(info->graphs[i].status);
    }
    free(info->graphs);
    memset(info, 0, sizeof *info);
}

static void
strv_push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof **v);
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

static char *
vlan_range(unsigned int lo, unsigned int hi)
{
    return lo == hi ? xasprintf("%u", lo) : xasprintf("%u-%u", lo, hi);
}

char **
node_vlan_free_ranges(const uint16_t *used, size_t n)
{
    char **v = xcalloc(1, sizeof *v);
    size_t nv = 0;
    unsigned int next = 1;      /* Lowest id not yet covered. */

    for (size_t i = 0; i < n; i++) {
        unsigned int id = used[i];
        if (id < next || id > 4094)
            continue;           /* Duplicate, or not a valid id. */
        if (id > next)
            strv_push(&v, &nv, vlan_range(next, id - 1));
        next = id + 1;
    }
    if (next <= 4094)
        strv_push(&v, &nv, vlan_range(next, 4094));
    return v;
}

char *
node_neighbour_of(const char *neighbours, const char *ifname)
{
    char **items;
    char *found = NULL;
    size_t n = config_split_list(neighbours, &items);
    for (size_t i = 0; i < n && !found; i++) {
        char *eq = strchr(items[i], '=');
        if (!eq) {
            LOG_WARN_RL("node.neighbours: \"%s\" is not IFNAME=DOMAIN", items[i]);
            continue;
        }
        /* The list is trimmed around commas only: trim around '=' too. */
        char *key_end = eq, *value = eq + 1;
        while (key_end > items[i] && (key_end[-1] == ' ' || key_end[-1] == '\t'))
            key_end--;
        *key_end = '\0';
        while (*value == ' ' || *value == '\t')
            value++;
        if (!strcmp(items[i], ifname) && *value)
            found = xstrdup(value);
    }
    strv_free(items);
    return found;
}

void
node_read_loadavg(double ret_load[3])
{
    ret_load[0] = ret_load[1] = ret_load[2] = 0.0;
    FILE *f = fopen("/proc/loadavg", "re");
    if (!f)
        return;
    if (fscanf(f, "%lf %lf %lf", &ret_load[0], &ret_load[1], &ret_load[2]) != 3)
        ret_load[0] = ret_load[1] = ret_load[2] = 0.0;
    fclose(f);
}
