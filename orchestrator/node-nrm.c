/* The glue between the running node and its description: reads the nrm,
 * the repository, the engines and the kernel into a struct node_info
 * (node.h), and ties the bus publisher (bus.h) to the nrm's events.
 * Kept apart from node.c and bus.c so that those two can be unit-tested
 * without a node resource manager. */
#include <config.h>
#include "node.h"
#include "bus.h"

#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "compute.h"
#include "corch-config.h"
#include "graph.h"
#include "log.h"
#include "nrm.h"
#include "repository.h"

LOG_MODULE(node);

static void
strv_add(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof **v);
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

static unsigned int
prefix_len(const struct sockaddr *mask)
{
    if (!mask || mask->sa_family != AF_INET)
        return 32;
    uint32_t m = ntohl(((const struct sockaddr_in *) mask)->sin_addr.s_addr);
    return (unsigned int) __builtin_popcount(m);
}

/* Name, MAC and IPv4 addresses of one interface from getifaddrs(). */
static void
endpoint_read_host(struct node_endpoint *e, struct ifaddrs *ifa_list)
{
    size_t n_ip = 0;
    e->ipv4 = xcalloc(1, sizeof *e->ipv4);
    e->present = if_nametoindex(e->name) != 0;
    for (struct ifaddrs *ifa = ifa_list; ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr || strcmp(ifa->ifa_name, e->name))
            continue;
        if (ifa->ifa_addr->sa_family == AF_PACKET && !e->mac) {
            const struct sockaddr_ll *ll = (const void *) ifa->ifa_addr;
            if (ll->sll_halen == 6)
                e->mac = xasprintf("%02x:%02x:%02x:%02x:%02x:%02x",
                                   ll->sll_addr[0], ll->sll_addr[1],
                                   ll->sll_addr[2], ll->sll_addr[3],
                                   ll->sll_addr[4], ll->sll_addr[5]);
        } else if (ifa->ifa_addr->sa_family == AF_INET) {
            char buf[INET_ADDRSTRLEN];
            const struct sockaddr_in *in = (const void *) ifa->ifa_addr;
            inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
            strv_add(&e->ipv4, &n_ip,
                     xasprintf("%s/%u", buf, prefix_len(ifa->ifa_netmask)));
        }
    }
}

static void
gather_endpoints(struct nrm *nrm, const struct corch_config *cfg,
                 struct node_info *info)
{
    char **ifs;
    size_t n = config_split_list(cfg->vswitch_interfaces, &ifs);
    struct ifaddrs *ifa_list = NULL;
    if (n && getifaddrs(&ifa_list) < 0) {
        LOG_WARN_RL("getifaddrs: %m");
        ifa_list = NULL;
    }
    bool vlan = nrm_sap_supported(nrm, GRAPH_SAP_VLAN);
    bool gre = nrm_sap_supported(nrm, GRAPH_SAP_GRE);

    info->endpoints = xcalloc(n ? n : 1, sizeof *info->endpoints);
    for (size_t i = 0; i < n; i++) {
        struct node_endpoint *e = &info->endpoints[i];
        e->name = xstrdup(ifs[i]);
        endpoint_read_host(e, ifa_list);
        e->neighbour = node_neighbour_of(cfg->node_neighbours, e->name);
        e->vlan = vlan;
        e->gre = gre;
        uint16_t *used = NULL;
        size_t n_used = nrm_vlans_in_use(nrm, e->name, &used);
        e->vlans_free = node_vlan_free_ranges(used, n_used);
        free(used);
    }
    info->n_endpoints = n;
    if (ifa_list)
        freeifaddrs(ifa_list);
    strv_free(ifs);
}

static bool
engine_ready(const char *type)
{
    const struct compute_engine *e = type ? compute_engine_find(type) : NULL;
    return e && e->usable;
}

static void
gather_capabilities(struct nrm *nrm, struct node_info *info)
{
    struct repository *repo = nrm_repository(nrm);
    size_t n = repo ? repository_count(repo) : 0;
    info->capabilities = xcalloc(n ? n : 1, sizeof *info->capabilities);
    for (size_t i = 0; i < n; i++) {
        const struct sf_template *t = repository_get(repo, i);
        if (!t || !t->capability)
            continue;
        struct node_capability *c = NULL;
        for (size_t j = 0; j < info->n_capabilities; j++)
            if (!strcmp(info->capabilities[j].name, t->capability))
                c = &info->capabilities[j];
        if (!c) {
            c = &info->capabilities[info->n_capabilities++];
            c->name = xstrdup(t->capability);
        }
        c->templates = xrealloc(c->templates, (c->n_templates + 1) * sizeof *c->templates);
        struct node_template *nt = &c->templates[c->n_templates++];
        nt->id = xstrdup(t->id);
        nt->engine = xstrdup(t->engine);
        /* A sub-graph template runs wherever its parts can; its parts are
         * capabilities of their own. */
        nt->ready = t->subgraph ? true : engine_ready(t->engine);
        c->ready |= nt->ready;
    }
}

static void
gather_infrastructure(struct nrm *nrm, struct node_info *info)
{
    struct utsname u;
    info->arch = xstrdup(uname(&u) == 0 ? u.machine : "unknown");
    info->vswitch = xstrdup(nrm_vswitch_type(nrm));

    size_t n_types = 0;
    info->sap_types = xcalloc(1, sizeof *info->sap_types);
    for (int t = GRAPH_SAP_INTERFACE; t <= GRAPH_SAP_INTERNAL; t++)
        if (nrm_sap_supported(nrm, (enum graph_sap_type) t))
            strv_add(&info->sap_types, &n_types,
                     xstrdup(graph_sap_type_name((enum graph_sap_type) t)));

    size_t n = compute_engine_count();
    info->engines = xcalloc(n ? n : 1, sizeof *info->engines);
    for (size_t i = 0; i < n; i++) {
        const struct compute_engine *e = compute_engine_get(i);
        if (!e)
            continue;
        struct node_engine *ne = &info->engines[info->n_engines++];
        ne->type = xstrdup(compute_engine_type(e));
        ne->usable = e->usable;
        ne->why = e->usable ? NULL : xstrdup(e->why);
    }
}

static void
gather_graphs(struct nrm *nrm, struct node_info *info)
{
    json_object *list = nrm_graph_list(nrm, NULL), *graphs;
    if (!list || !json_object_object_get_ex(list, "graphs", &graphs)
        || !json_object_is_type(graphs, json_type_array)) {
        json_object_put(list);
        return;
    }
    size_t n = json_object_array_length(graphs);
    info->graphs = xcalloc(n ? n : 1, sizeof *info->graphs);
    for (size_t i = 0; i < n; i++) {
        json_object *g = json_object_array_get_idx(graphs, i), *v;
        struct node_graph *ng = &info->graphs[info->n_graphs];
        if (!json_object_object_get_ex(g, "id", &v))
            continue;
        ng->id = xstrdup(json_object_get_string(v));
        if (json_object_object_get_ex(g, "name", &v) && json_object_is_type(v, json_type_string))
            ng->name = xstrdup(json_object_get_string(v));
        if (json_object_object_get_ex(g, "status", &v))
            ng->status = xstrdup(json_object_get_string(v));
        info->n_graphs++;
    }
    json_object_put(list);
}

void
node_info_gather(struct nrm *nrm, struct node_info *ret)
{
    const struct corch_config *cfg = nrm_config(nrm);
    memset(ret, 0, sizeof *ret);

    ret->id = xstrdup(nrm_node_id(nrm));
    if (cfg->node_name && *cfg->node_name) {
        ret->name = xstrdup(cfg->node_name);
    } else {
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        ret->name = xstrdup(host);
    }
    ret->mgmt_address = xstrdup(cfg->rest_address);
    ret->mgmt_port = cfg->rest_port;
    ret->mgmt_tls = cfg->rest_tls_cert != NULL;

    gather_endpoints(nrm, cfg, ret);
    gather_capabilities(nrm, ret);
    gather_infrastructure(nrm, ret);

    struct nrm_resources r;
    memset(&r, 0, sizeof r);
    nrm_resources(nrm, &r);
    ret->cores_total = r.cores_total;
    ret->cores_free = r.cores_free;
    ret->memory_mb_total = r.memory_mb_total;
    ret->memory_mb_free = r.memory_mb_free;
    node_read_loadavg(ret->load);

    gather_graphs(nrm, ret);
}

json_object *
node_describe(struct nrm *nrm)
{
    struct node_info info;
    node_info_gather(nrm, &info);
    json_object *d = node_info_to_json(&info);
    node_info_clear(&info);
    return d;
}

/* ------------------------------------------------- the bus on the nrm --- */

static json_object *
bus_describe_cb(void *aux)
{
    return node_describe(aux);
}

static void
bus_probe_cb(void *aux)
{
    /* Engines can appear (a docker daemon started) or go; interfaces and
     * resources are read afresh by the description itself. */
    compute_engines_probe();
}

static const char *
event_name(enum nrm_event_type t)
{
    switch (t) {
    case NRM_EVENT_DEPLOYED: return "deployed";
    case NRM_EVENT_UPDATED: return "updated";
    case NRM_EVENT_FAILED: return "failed";
    case NRM_EVENT_DELETED: return "deleted";
    }
    return "unknown";
}

/* Called by the nrm from the thread that did the work: only queues. */
static void
bus_nrm_listener(void *aux, const struct nrm_event *ev)
{
    bus_notify_event(aux, event_name(ev->type), ev->graph_id, ev->error);
}

int
bus_create(const struct corch_config *cfg, struct nrm *nrm,
           struct bus **ret_bus, struct corch_err *err)
{
    if (!cfg->bus_endpoint || !*cfg->bus_endpoint) {
        LOG_INFO("bus.endpoint is empty: the bus is off");
        *ret_bus = NULL;
        return 0;
    }
    struct bus_options opts = {
        .endpoint = cfg->bus_endpoint,
        .external = cfg->bus_mode && !strcmp(cfg->bus_mode, "external"),
        .topic_prefix = cfg->bus_topic_prefix,
        .node_id = nrm_node_id(nrm),
        .heartbeat_ms = cfg->bus_heartbeat * 1000u,
        .check_interval_ms = cfg->bus_check_interval * 1000u,
        .resource_step = cfg->bus_resource_step,
        .curve = cfg->bus_curve,
        .curve_secret_key = cfg->bus_curve_secret_key,
        .curve_clients = cfg->bus_curve_clients,
        .curve_server_key = cfg->bus_curve_server_key,
        .describe = bus_describe_cb,
        .probe = bus_probe_cb,
        .aux = nrm,
    };
    struct bus *bus;
    int r = bus_open(&opts, &bus, err);
    if (r < 0)
        return r;
    nrm_set_listener(nrm, bus_nrm_listener, bus);
    *ret_bus = bus;
    return 0;
}

void
bus_destroy(struct bus *bus)
{
    if (!bus)
        return;
    nrm_set_listener(bus_aux(bus), NULL, NULL);
    bus_close(bus);
}
