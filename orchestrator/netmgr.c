/* The network manager's transactions (netmgr.h): graph-LSIs, ports,
 * vlinks and rules on the switch, through the wrappers of vswitch.c.  The
 * pure split they apply is in netmgr-split.c. */
#include <config.h>
#include "netmgr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "vswitch.h"

LOG_MODULE(netmgr);

/* The hash in the node tag and group LSI names (FNV-1a). */
static uint32_t
fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t) *s) * 16777619u;
    return h;
}

/* --- The manager: transactions driving the switch through vswitch.c
 * (the pure split is in netmgr-split.c). --- */

/* A shared internal-group LSI. */
struct nm_group {
    char *name;                 /* The group's name from the graphs. */
    char lsi_name[16];          /* "cgi<tag><hash>". */
    struct vswitch_lsi *lsi;
    unsigned int refs;          /* Internal SAPs linked to it. */
    struct nm_group *next;
};

struct netmgr {
    char tag[3];                /* Node tag in names. */
    struct vswitch *vs;         /* The switch in use (not owned). */
    struct vswitch_lsi *lsi0;   /* Owned by the driver. */
    pthread_mutex_t mutex;      /* Protects 'groups'. */
    struct nm_group *groups;    /* Internal groups in use. */
};

/* The ports of one deployed SF. */
struct nm_sf {
    char *id;                   /* SF id. */
    unsigned int slot;          /* Number in port / instance names. */
    size_t n_ports;             /* As the SF in the graph. */
    struct vswitch_port **ports; /* On the graph-LSI, per SF port. */
    struct vswitch_port_info *info; /* What the SF side got, per port. */
};

/* The port of one deployed SAP. */
struct nm_sap {
    char *id;                   /* SAP id. */
    char *sig;                  /* Everything that defines it, as text. */
    unsigned int slot;          /* Number in its port name. */
    struct vswitch_port *port;  /* On LSI-0 (not owned) or the graph-LSI. */
    bool owned;                 /* Made by sap_create() or a group vlink. */
    struct nm_group *group;     /* internal: its group. */
};

struct nm_vlink {
    struct vswitch_port *a;     /* End on LSI-0. */
    struct vswitch_port *b;     /* End on the graph-LSI. */
};

struct netmgr_graph {
    struct netmgr *nm;          /* The manager it belongs to. */
    char *graph_id;             /* Identity given to the switch. */
    unsigned int number;        /* In names and cookies. */
    struct vswitch_lsi *lsi;    /* The graph-LSI, NULL before a deploy. */
    struct nm_sf **sfs;         /* Deployed SFs' ports, by graph order. */
    size_t n_sfs;
    struct nm_sap **saps;       /* Deployed SAPs' ports, by graph order. */
    size_t n_saps;
    struct nm_vlink *vlinks;    /* Virtual links to LSI-0. */
    size_t n_vlinks;
    struct netmgr_vlink_plan plan; /* What each vlink carries. */
    char **hint_ids;            /* SF ids with a preferred slot... */
    unsigned int *hint_slots;   /* ...and that slot. */
    size_t n_hints;
    struct vswitch_rule *rules[2]; /* Installed: [NETMGR_LSI0], [GRAPH]. */
    size_t n_rules[2];          /* Entries in 'rules'. */
    bool lsi0_flushed;          /* LSI-0 rid of rules an earlier run left
                                 * under this graph's number. */
};

struct netmgr_txn {
    struct netmgr_graph *ng;    /* The graph being changed. */
    const struct graph *g;      /* Its new version (not owned). */
    bool lsi_created;           /* The graph-LSI was made by this txn. */
    struct nm_sf **sfs;         /* Per SF of 'g'. */
    bool *sf_fresh;             /* Made by this txn. */
    struct nm_sf **sf_prev;     /* Per SF of 'g': the deployed entry it
                                 * reshapes (the same SF with ports added
                                 * or removed at the end: the kept ports
                                 * are shared), or NULL. */
    struct nm_sap **saps;       /* Per SAP of 'g'. */
    bool *sap_fresh;            /* Made by this txn. */
    struct nm_vlink *vlinks;    /* split->plan.n or more (old ones). */
    size_t n_vlinks;            /* Entries in 'vlinks'. */
    size_t n_vlinks_old;        /* Of those, made before this txn. */
    struct netmgr_split *split; /* Algorithms 1 and 2 on 'g'. */
    struct vswitch_rule *rules[2]; /* Wanted, once rules() ran. */
    size_t n_rules[2];          /* Entries in 'rules'. */
    bool applied[2];            /* Batch applied on that LSI. */
    struct vswitch_rule_batch batch[2]; /* What was applied. */
};

void
netmgr_node_tag(const char *node_id, char tag[3])
{
    uint32_t h = fnv1a(node_id ? node_id : "");
    tag[0] = (char) ('a' + h % 26);
    tag[1] = (char) ('a' + (h / 26) % 26);
    tag[2] = '\0';
}

/* Every switch name of a graph: "cg", the node tag (two letters), the
 * graph number on 4 digits, then for all but the graph-LSI a kind letter
 * and the object's number on 3 digits ('ext' adds "p" + a port number on
 * 2 digits, or nothing).  Fixed widths and one letter per kind: two
 * different objects can never get the same name (a name is never a prefix
 * plus a number that another prefix could also produce), and the longest,
 * an SF port, is 15 characters. */
static void
nm_name(char buf[16], const struct netmgr_graph *ng, char kind,
        unsigned int num, char sub, size_t sub_num)
{
    if (!kind)
        snprintf(buf, 16, "cg%s%04u", ng->nm->tag, ng->number);
    else if (!sub)
        snprintf(buf, 16, "cg%s%04u%c%03u", ng->nm->tag, ng->number, kind,
                 num);
    else
        snprintf(buf, 16, "cg%s%04u%c%03u%c%02zu", ng->nm->tag, ng->number,
                 kind, num, sub, sub_num);
}

struct netmgr *
netmgr_create(struct vswitch *vs, struct vswitch_lsi *lsi0,
              const char *node_id)
{
    struct netmgr *nm = xcalloc(1, sizeof *nm);
    netmgr_node_tag(node_id, nm->tag);
    nm->vs = vs;
    nm->lsi0 = lsi0;
    pthread_mutex_init(&nm->mutex, NULL);
    return nm;
}

void
netmgr_destroy(struct netmgr *nm)
{
    if (!nm)
        return;
    while (nm->groups) {
        struct nm_group *grp = nm->groups;
        nm->groups = grp->next;
        /* Other graphs' internal SAPs may still link to it on the
         * switch: released, never destroyed. */
        vswitch_lsi_release(nm->vs, grp->lsi);
        free(grp->name);
        free(grp);
    }
    pthread_mutex_destroy(&nm->mutex);
    free(nm);
}

static int
group_acquire(struct netmgr *nm, const char *name, struct nm_group **ret,
              struct corch_err *err)
{
    int error = 0;
    pthread_mutex_lock(&nm->mutex);
    struct nm_group *grp;
    for (grp = nm->groups; grp; grp = grp->next)
        if (!strcmp(grp->name, name))
            break;
    if (!grp) {
        grp = xcalloc(1, sizeof *grp);
        grp->name = xstrdup(name);
        snprintf(grp->lsi_name, sizeof grp->lsi_name, "cgi%s%08x", nm->tag,
                 fnv1a(name));
        struct vswitch_lsi_spec spec = {
            .graph_id = NULL, .name = grp->lsi_name, .learning = true,
            .group = name,
        };
        error = vswitch_lsi_create(nm->vs, &spec, &grp->lsi, err);
        if (error) {
            free(grp->name);
            free(grp);
        } else {
            grp->next = nm->groups;
            nm->groups = grp;
            LOG_INFO("internal group %s: LSI %s created", name, grp->lsi_name);
        }
    }
    if (!error) {
        grp->refs++;
        *ret = grp;
    }
    pthread_mutex_unlock(&nm->mutex);
    return error;
}

static void
group_release(struct netmgr *nm, struct nm_group *grp)
{
    pthread_mutex_lock(&nm->mutex);
    if (--grp->refs == 0) {
        for (struct nm_group **pp = &nm->groups; *pp; pp = &(*pp)->next) {
            if (*pp == grp) {
                *pp = grp->next;
                break;
            }
        }
        vswitch_lsi_destroy(nm->vs, grp->lsi);
        LOG_INFO("internal group %s: LSI %s destroyed", grp->name,
                 grp->lsi_name);
        free(grp->name);
        free(grp);
    }
    pthread_mutex_unlock(&nm->mutex);
}

struct netmgr_graph *
netmgr_graph_new(struct netmgr *nm, const char *graph_id, unsigned int number)
{
    struct netmgr_graph *ng = xcalloc(1, sizeof *ng);
    ng->nm = nm;
    ng->graph_id = xstrdup(graph_id);
    ng->number = number;
    return ng;
}

static void
nm_sf_free(struct nm_sf *s)
{
    if (!s)
        return;
    free(s->id);
    free(s->ports);
    free(s->info);
    free(s);
}

static void
nm_sap_free(struct nm_sap *s)
{
    if (!s)
        return;
    free(s->id);
    free(s->sig);
    free(s);
}

static void
vswitch_rules_free(struct vswitch_rule *rules, size_t n)
{
    for (size_t i = 0; rules && i < n; i++)
        free(rules[i].actions);
    free(rules);
}

void
netmgr_graph_free(struct netmgr_graph *ng)
{
    if (!ng)
        return;
    for (size_t i = 0; i < ng->n_sfs; i++)
        nm_sf_free(ng->sfs[i]);
    free(ng->sfs);
    for (size_t i = 0; i < ng->n_saps; i++) {
        if (ng->saps[i]->group)         /* Bookkeeping only. */
            ng->saps[i]->group->refs--;
        nm_sap_free(ng->saps[i]);
    }
    free(ng->saps);
    free(ng->vlinks);
    netmgr_vlink_plan_clear(&ng->plan);
    for (int s = 0; s < 2; s++)
        vswitch_rules_free(ng->rules[s], ng->n_rules[s]);
    for (size_t i = 0; i < ng->n_hints; i++)
        free(ng->hint_ids[i]);
    free(ng->hint_ids);
    free(ng->hint_slots);
    free(ng->graph_id);
    free(ng);
}

void
netmgr_graph_hint_slot(struct netmgr_graph *ng, const char *sf_id,
                       unsigned int slot)
{
    ng->hint_ids = xrealloc(ng->hint_ids,
                            (ng->n_hints + 1) * sizeof *ng->hint_ids);
    ng->hint_slots = xrealloc(ng->hint_slots,
                              (ng->n_hints + 1) * sizeof *ng->hint_slots);
    ng->hint_ids[ng->n_hints] = xstrdup(sf_id);
    ng->hint_slots[ng->n_hints++] = slot;
}

void
netmgr_graph_release(struct netmgr_graph *ng)
{
    if (!ng)
        return;
    struct vswitch *vs = ng->nm->vs;
    /* Ports before their LSIs, each object once: a vlink's two ends are
     * one port_release (its end on LSI-0 names it), and what the driver
     * still had on the graph-LSI goes with lsi_release.  SAP ports on
     * LSI-0 (interface, vlan) are the driver's: not ours to release. */
    for (size_t k = 0; k < ng->n_vlinks; k++)
        vswitch_port_release(vs, ng->vlinks[k].a);
    ng->n_vlinks = 0;
    for (size_t i = 0; i < ng->n_saps; i++) {
        struct nm_sap *s = ng->saps[i];
        if (s->owned)
            vswitch_port_release(vs, s->port);
        s->port = NULL;
    }
    for (size_t i = 0; i < ng->n_sfs; i++) {
        struct nm_sf *sf = ng->sfs[i];
        for (size_t j = 0; sf && j < sf->n_ports; j++) {
            vswitch_port_release(vs, sf->ports[j]);
            sf->ports[j] = NULL;
        }
    }
    vswitch_lsi_release(vs, ng->lsi);
    ng->lsi = NULL;
    netmgr_graph_free(ng);              /* Group refs: bookkeeping only. */
}

void
netmgr_graph_teardown(struct netmgr_graph *ng)
{
    if (!ng)
        return;
    struct vswitch *vs = ng->nm->vs;
    if (ng->n_rules[NETMGR_LSI0]) {
        struct corch_err err = { .path = "", .msg = "" };
        struct vswitch_rule_batch b = {
            .del = ng->rules[NETMGR_LSI0], .n_del = ng->n_rules[NETMGR_LSI0],
        };
        if (vswitch_rules_apply(vs, ng->nm->lsi0, &b, &err) < 0)
            LOG_WARN("graph %s: cannot remove its rules from LSI-0: %s",
                     ng->graph_id, err.msg);
    }
    for (size_t k = 0; k < ng->n_vlinks; k++)
        vswitch_port_destroy(vs, ng->vlinks[k].a);
    ng->n_vlinks = 0;
    for (size_t i = 0; i < ng->n_saps; i++) {
        struct nm_sap *s = ng->saps[i];
        if (s->group) {
            vswitch_port_destroy(vs, s->port);
            group_release(ng->nm, s->group);
            s->group = NULL;
        }
    }
    if (ng->lsi)
        vswitch_lsi_destroy(vs, ng->lsi);       /* With its ports and rules. */
    netmgr_graph_free(ng);
}

/* The text that identifies a SAP's definition, to see whether an update
 * changed it. */
static char *
sap_signature(const struct graph_sap *s)
{
    char l[INET6_ADDRSTRLEN * 4] = "", *p = l;
    const struct flow_ip *ips[] = { &s->local_ip, &s->remote_ip, &s->ipv4 };
    for (size_t i = 0; i < ARRAY_SIZE(ips); i++) {
        for (size_t j = 0; j < 16; j++)
            p += sprintf(p, "%02x", ips[i]->addr[j]);
        p += sprintf(p, "/%d/%u;", ips[i]->family, ips[i]->plen);
    }
    return xasprintf("%d|%s|%u|%s|%u|%d|%s", (int) s->type,
                     s->if_name ? s->if_name : "", (unsigned int) s->vlan_id,
                     l, s->gre_key, (int) s->has_gre_key,
                     s->internal_group ? s->internal_group : "");
}

static bool
slot_used(struct nm_sf **a, size_t na, struct nm_sf **b, size_t nb,
          unsigned int slot)
{
    for (size_t i = 0; i < na; i++)
        if (a[i] && a[i]->slot == slot)
            return true;
    for (size_t i = 0; i < nb; i++)
        if (b[i] && b[i]->slot == slot)
            return true;
    return false;
}

/* The hinted slot of SF 'id' if free, else the lowest free one. */
static unsigned int
free_slot(const struct netmgr_graph *ng, const char *id, struct nm_sf **a,
          size_t na, struct nm_sf **b, size_t nb)
{
    for (size_t h = 0; h < ng->n_hints; h++)
        if (!strcmp(ng->hint_ids[h], id)
            && !slot_used(a, na, b, nb, ng->hint_slots[h]))
            return ng->hint_slots[h];
    for (unsigned int slot = 0;; slot++) {
        bool hinted = false;        /* Kept for the SF that owns it. */
        for (size_t h = 0; h < ng->n_hints && !hinted; h++)
            hinted = ng->hint_slots[h] == slot;
        if (!hinted && !slot_used(a, na, b, nb, slot))
            return slot;
    }
}

static unsigned int
free_sap_slot(struct nm_sap **a, size_t na, struct nm_sap **b, size_t nb)
{
    for (unsigned int slot = 0;; slot++) {
        bool used = false;
        for (size_t i = 0; i < na && !used; i++)
            used = a[i] && a[i]->slot == slot;
        for (size_t i = 0; i < nb && !used; i++)
            used = b[i] && b[i]->slot == slot;
        if (!used)
            return slot;
    }
}

static struct nm_sf *
find_old_sf(const struct netmgr_graph *ng, const char *id)
{
    for (size_t i = 0; i < ng->n_sfs; i++)
        if (!strcmp(ng->sfs[i]->id, id))
            return ng->sfs[i];
    return NULL;
}

static struct nm_sap *
find_old_sap(const struct netmgr_graph *ng, const char *id, const char *sig)
{
    for (size_t i = 0; i < ng->n_saps; i++)
        if (!strcmp(ng->saps[i]->id, id) && !strcmp(ng->saps[i]->sig, sig))
            return ng->saps[i];
    return NULL;
}

static void
txn_free(struct netmgr_txn *t)
{
    free(t->sfs);
    free(t->sf_fresh);
    free(t->sf_prev);
    free(t->saps);
    free(t->sap_fresh);
    free(t->vlinks);
    netmgr_split_free(t->split);
    for (int s = 0; s < 2; s++) {
        vswitch_rules_free(t->rules[s], t->n_rules[s]);
        free((void *) t->batch[s].del);
        free((void *) t->batch[s].add);
    }
    free(t);
}

static int
create_sap_port(struct netmgr_txn *t, size_t i, struct nm_sap *s,
                struct corch_err *err)
{
    struct netmgr_graph *ng = t->ng;
    struct vswitch *vs = ng->nm->vs;
    const struct graph_sap *sap = &t->g->saps[i];
    char name[16];
    int error = 0;

    if (s->slot > NETMGR_MAX_SAP_SLOT)
        return corch_err_setk(err, CORCH_ERR_TOO_LARGE, -E2BIG, NULL,
                              "too many SAPs to name (at most %u)",
                              NETMGR_MAX_SAP_SLOT + 1);

    switch (sap->type) {
    case GRAPH_SAP_INTERFACE:
    case GRAPH_SAP_VLAN:
        error = vswitch_lsi0_port(vs, ng->nm->lsi0, sap->if_name, &s->port,
                                  err);
        break;
    case GRAPH_SAP_GRE:
    case GRAPH_SAP_HOST_STACK: {
        nm_name(name, ng, 'a', s->slot, 0, 0);
        struct vswitch_sap_spec spec = {
            .type = sap->type == GRAPH_SAP_GRE ? VSWITCH_SAP_GRE
                                               : VSWITCH_SAP_HOST_STACK,
            .name = name,
            .graph_id = ng->graph_id,
            .sap_id = sap->id,
            .local_ip = sap->local_ip,
            .remote_ip = sap->remote_ip,
            .gre_key = sap->gre_key,
            .has_gre_key = sap->has_gre_key,
            .ipv4 = sap->ipv4,
        };
        error = vswitch_sap_create(vs, ng->lsi, &spec, &s->port, err);
        s->owned = !error;
        break;
    }
    case GRAPH_SAP_INTERNAL: {
        struct nm_group *grp;
        error = group_acquire(ng->nm, sap->internal_group, &grp, err);
        if (error)
            break;
        struct vswitch_port *ga, *gb;
        char gname[16];
        nm_name(gname, ng, 'i', s->slot, 0, 0);  /* End on the group LSI. */
        nm_name(name, ng, 'j', s->slot, 0, 0);   /* End on the graph-LSI. */
        struct vswitch_vlink_spec spec = {
            .a_name = gname, .b_name = name, .graph_id = ng->graph_id,
        };
        error = vswitch_vlinks_create(vs, grp->lsi, ng->lsi, &spec, 1, &ga,
                                      &gb, err);
        if (error) {
            group_release(ng->nm, grp);
            break;
        }
        s->port = gb;
        s->group = grp;
        s->owned = true;
        break;
    }
    }
    return error;
}

static void
destroy_sap_port(struct netmgr_graph *ng, struct nm_sap *s)
{
    if (!s->owned)
        return;
    vswitch_port_destroy(ng->nm->vs, s->port);
    if (s->group)
        group_release(ng->nm, s->group);
    s->group = NULL;
    s->owned = false;
}

static void
destroy_sf_ports(struct netmgr_graph *ng, struct nm_sf *s)
{
    for (size_t j = 0; j < s->n_ports; j++)
        if (s->ports[j])
            vswitch_port_destroy(ng->nm->vs, s->ports[j]);
}

static void
undo_prepare(struct netmgr_txn *t)
{
    struct netmgr_graph *ng = t->ng;
    struct vswitch *vs = ng->nm->vs;
    for (size_t k = t->n_vlinks; k-- > t->n_vlinks_old;)
        vswitch_port_destroy(vs, t->vlinks[k].a);
    for (size_t i = t->g->n_sfs; i-- > 0;) {
        if (t->sf_fresh[i] && t->sfs[i]) {
            destroy_sf_ports(ng, t->sfs[i]);
            nm_sf_free(t->sfs[i]);
        } else if (t->sf_prev[i] && t->sfs[i]) {
            /* Only the ports this txn added; the others are the old SF's. */
            struct nm_sf *s = t->sfs[i];
            for (size_t j = t->sf_prev[i]->n_ports; j < s->n_ports; j++)
                if (s->ports[j])
                    vswitch_port_destroy(vs, s->ports[j]);
            nm_sf_free(s);
        }
    }
    for (size_t i = t->g->n_saps; i-- > 0;) {
        if (t->sap_fresh[i] && t->saps[i]) {
            destroy_sap_port(ng, t->saps[i]);
            nm_sap_free(t->saps[i]);
        }
    }
    if (t->lsi_created) {
        vswitch_lsi_destroy(vs, ng->lsi);
        ng->lsi = NULL;
    }
}

int
netmgr_txn_begin(struct netmgr_graph *ng, const struct graph *g,
                 const bool *sf_new, struct netmgr_txn **ret,
                 struct corch_err *err)
{
    struct netmgr_txn *t = xcalloc(1, sizeof *t);
    int error = 0;

    t->ng = ng;
    t->g = g;
    t->sfs = xcalloc(g->n_sfs, sizeof *t->sfs);
    t->sf_fresh = xcalloc(g->n_sfs, sizeof *t->sf_fresh);
    t->sf_prev = xcalloc(g->n_sfs + 1, sizeof *t->sf_prev);
    t->saps = xcalloc(g->n_saps, sizeof *t->saps);
    t->sap_fresh = xcalloc(g->n_saps, sizeof *t->sap_fresh);

    /* SFs: a slot (names) for the new or changed ones, their ports come
     * in netmgr_txn_build(). */
    for (size_t i = 0; i < g->n_sfs; i++) {
        const struct graph_sf *gsf = &g->sfs[i];
        struct nm_sf *old = find_old_sf(ng, gsf->id);
        if (!sf_new[i] && old && old->n_ports == gsf->n_ports) {
            t->sfs[i] = old;
            continue;
        }
        if (!sf_new[i] && old) {
            /* The running SF gets ports added or removed at the end: its
             * slot and the ports it keeps stay, build makes the new ones,
             * commit destroys the removed ones. */
            struct nm_sf *s = xcalloc(1, sizeof *s);
            size_t keep = old->n_ports < gsf->n_ports ? old->n_ports
                                                      : gsf->n_ports;
            s->id = xstrdup(gsf->id);
            s->slot = old->slot;
            s->ports = xcalloc(gsf->n_ports + 1, sizeof *s->ports);
            s->info = xcalloc(gsf->n_ports + 1, sizeof *s->info);
            s->n_ports = gsf->n_ports;
            for (size_t j = 0; j < keep; j++) {
                s->ports[j] = old->ports[j];
                s->info[j] = old->info[j];
            }
            t->sfs[i] = s;
            t->sf_prev[i] = old;
            if (gsf->n_ports > 99) {
                error = corch_err_set(err, -E2BIG, NULL,
                                      "sf '%s': too many ports to name",
                                      gsf->id);
                undo_prepare(t);
                txn_free(t);
                return error;
            }
            continue;
        }
        struct nm_sf *s = xcalloc(1, sizeof *s);
        s->id = xstrdup(gsf->id);
        s->slot = free_slot(ng, gsf->id, ng->sfs, ng->n_sfs, t->sfs,
                            g->n_sfs);
        s->ports = xcalloc(gsf->n_ports, sizeof *s->ports);
        s->info = xcalloc(gsf->n_ports, sizeof *s->info);
        s->n_ports = gsf->n_ports;
        t->sfs[i] = s;
        t->sf_fresh[i] = true;
        if (ng->number > NETMGR_MAX_GRAPH_NUMBER
            || s->slot > NETMGR_MAX_SF_SLOT || gsf->n_ports > 99) {
            error = corch_err_set(err, -E2BIG, NULL,
                                  "sf '%s': too many SFs or ports to name",
                                  gsf->id);
            undo_prepare(t);
            txn_free(t);
            return error;
        }
    }
    *ret = t;
    return 0;
}

/* The first port of SF i that this transaction makes: 0 for a new SF,
 * the first added one for a reshaped SF, none (n_ports) otherwise. */
static size_t
first_new_port(const struct netmgr_txn *t, size_t i)
{
    size_t n = t->g->sfs[i].n_ports;
    if (t->sf_fresh[i])
        return 0;
    if (t->sf_prev[i] && t->sf_prev[i]->n_ports < n)
        return t->sf_prev[i]->n_ports;
    return n;
}

/* The ports of every new SF of the transaction (and the ports added to
 * reshaped ones) in one ports_create(). */
static int
build_sf_ports_batch(struct netmgr_txn *t,
                     enum vswitch_port_tech *const *techs,
                     const struct netmgr_sf_place *places,
                     struct corch_err *err)
{
    struct netmgr_graph *ng = t->ng;
    const struct graph *g = t->g;
    size_t n = 0;
    for (size_t i = 0; i < g->n_sfs; i++)
        n += g->sfs[i].n_ports - first_new_port(t, i);
    if (!n)
        return 0;
    struct vswitch_port_spec *specs = xcalloc(n, sizeof *specs);
    char (*names)[16] = xcalloc(n, sizeof *names);
    char (*peers)[16] = xcalloc(n, sizeof *peers);
    struct vswitch_port **ports = xcalloc(n, sizeof *ports);
    struct vswitch_port_info *infos = xcalloc(n, sizeof *infos);
    size_t k = 0;
    for (size_t i = 0; i < g->n_sfs; i++) {
        const struct graph_sf *gsf = &g->sfs[i];
        const struct netmgr_sf_place *pl = places && places[i].netns_path
                                           ? &places[i] : NULL;
        for (size_t j = first_new_port(t, i); j < gsf->n_ports; j++, k++) {
            nm_name(names[k], ng, 's', t->sfs[i]->slot, 'p', j);
            nm_name(peers[k], ng, 's', t->sfs[i]->slot, 'q', j);
            specs[k] = (struct vswitch_port_spec) {
                .tech = techs ? techs[i][j] : VSWITCH_PORT_VETH,
                .name = names[k],
                .graph_id = ng->graph_id,
                .sf_id = gsf->id,
                .sf_port_id = gsf->ports[j].id,
                .sf_netns_path = pl ? pl->netns_path : NULL,
                .sf_ifname = pl && pl->ifnames ? pl->ifnames[j] : NULL,
                .sf_peer_name = peers[k],
            };
        }
    }
    int error = vswitch_ports_create(ng->nm->vs, ng->lsi, specs, n, ports,
                                     infos, err);
    if (!error) {
        k = 0;
        for (size_t i = 0; i < g->n_sfs; i++) {
            for (size_t j = first_new_port(t, i); j < g->sfs[i].n_ports;
                 j++, k++) {
                t->sfs[i]->ports[j] = ports[k];
                t->sfs[i]->info[j] = infos[k];
            }
        }
    } else {
        corch_err_prefix(err, "%zu SF ports", n);
    }
    free(specs);
    free(names);
    free(peers);
    free(ports);
    free(infos);
    return error;
}

int
netmgr_txn_build(struct netmgr_txn *t, enum vswitch_port_tech *const *techs,
                 const struct netmgr_sf_place *places, struct corch_err *err)
{
    struct netmgr_graph *ng = t->ng;
    const struct graph *g = t->g;
    struct vswitch *vs = ng->nm->vs;
    int error = 0;

    if (!ng->lsi) {
        char name[16];
        nm_name(name, ng, 0, 0, 0, 0);
        struct vswitch_lsi_spec spec = {
            .graph_id = ng->graph_id, .name = name, .learning = false,
        };
        error = vswitch_lsi_create(vs, &spec, &ng->lsi, err);
        if (error) {
            corch_err_prefix(err, "graph-LSI %s", name);
            goto fail;
        }
        t->lsi_created = true;
    }

    /* SAPs: the ports of new or changed ones. */
    for (size_t i = 0; i < g->n_saps; i++) {
        _cleanup_free_ char *sig = sap_signature(&g->saps[i]);
        struct nm_sap *old = find_old_sap(ng, g->saps[i].id, sig);
        if (old) {
            t->saps[i] = old;
            continue;
        }
        struct nm_sap *s = xcalloc(1, sizeof *s);
        s->id = xstrdup(g->saps[i].id);
        s->sig = TAKE_PTR(sig);
        s->slot = free_sap_slot(ng->saps, ng->n_saps, t->saps, g->n_saps);
        t->saps[i] = s;
        t->sap_fresh[i] = true;
        error = create_sap_port(t, i, s, err);
        if (error) {
            char path[64];
            snprintf(path, sizeof path, "sffg.saps[%zu]", i);
            snprintf(err->path, sizeof err->path, "%s", path);
            corch_err_prefix(err, "sap '%s'", g->saps[i].id);
            goto fail;
        }
    }

    /* SFs: the ports of new or changed ones, the SF end in the SF's
     * namespace where the engine prepared one, all at once
     * (vswitch_ports_create() falls back to one by one). */
    error = build_sf_ports_batch(t, techs, places, err);
    if (error)
        goto fail;

    /* Virtual links (Algorithm 1). */
    t->split = netmgr_split(g, &ng->plan);
    t->n_vlinks_old = ng->n_vlinks;
    t->n_vlinks = ng->n_vlinks;
    size_t want = t->split->plan.n > ng->n_vlinks ? t->split->plan.n
                                                  : ng->n_vlinks;
    t->vlinks = xcalloc(want + 1, sizeof *t->vlinks);
    if (ng->n_vlinks)
        memcpy(t->vlinks, ng->vlinks, ng->n_vlinks * sizeof *t->vlinks);
    if (t->split->plan.n > ng->n_vlinks) {
        size_t n = t->split->plan.n - ng->n_vlinks;
        struct vswitch_port **a = xcalloc(n, sizeof *a);
        struct vswitch_port **b = xcalloc(n, sizeof *b);
        /* Vlink k (of the graph, not of this call): "v" + k on LSI-0,
         * "w" + k on the graph-LSI. */
        struct vswitch_vlink_spec *specs = xcalloc(n, sizeof *specs);
        char (*names)[2][16] = xcalloc(n, sizeof *names);
        for (size_t k = 0; k < n; k++) {
            nm_name(names[k][0], ng, 'v', (unsigned int) (ng->n_vlinks + k),
                    0, 0);
            nm_name(names[k][1], ng, 'w', (unsigned int) (ng->n_vlinks + k),
                    0, 0);
            specs[k] = (struct vswitch_vlink_spec) {
                .a_name = names[k][0], .b_name = names[k][1],
                .graph_id = ng->graph_id,
            };
        }
        if (t->split->plan.n > NETMGR_MAX_VLINKS)
            error = corch_err_setk(err, CORCH_ERR_TOO_LARGE, -E2BIG, NULL,
                                   "the graph needs %zu virtual links, at "
                                   "most %u can be named", t->split->plan.n,
                                   NETMGR_MAX_VLINKS);
        else
            error = vswitch_vlinks_create(vs, ng->nm->lsi0, ng->lsi, specs, n,
                                          a, b, err);
        free(specs);
        free(names);
        if (!error) {
            for (size_t k = 0; k < n; k++) {
                t->vlinks[ng->n_vlinks + k].a = a[k];
                t->vlinks[ng->n_vlinks + k].b = b[k];
            }
            t->n_vlinks = want;
        }
        free(a);
        free(b);
        if (error) {
            corch_err_prefix(err, "%zu virtual links", n);
            goto fail;
        }
    }
    return 0;

fail:
    undo_prepare(t);
    txn_free(t);
    return error;
}

int
netmgr_prepare(struct netmgr_graph *ng, const struct graph *g,
               const bool *sf_new, enum vswitch_port_tech *const *techs,
               struct netmgr_txn **ret, struct corch_err *err)
{
    struct netmgr_txn *t;
    int error = netmgr_txn_begin(ng, g, sf_new, &t, err);
    if (!error)
        error = netmgr_txn_build(t, techs, NULL, err);
    if (!error)
        *ret = t;
    return error;
}

const struct vswitch_port_info *
netmgr_graph_sf_port_info(const struct netmgr_graph *ng, const char *sf_id,
                          size_t port)
{
    const struct nm_sf *s = ng ? find_old_sf(ng, sf_id) : NULL;
    return s && port < s->n_ports ? &s->info[port] : NULL;
}

const struct vswitch_port_info *
netmgr_txn_port_info(const struct netmgr_txn *t, size_t sf, size_t port)
{
    return &t->sfs[sf]->info[port];
}

unsigned int
netmgr_txn_sf_slot(const struct netmgr_txn *t, size_t sf)
{
    return t->sfs[sf]->slot;
}

void
netmgr_txn_sf_name(const struct netmgr_txn *t, size_t sf, char *buf,
                   size_t size)
{
    snprintf(buf, size, "cg%s%04us%03u", t->ng->nm->tag, t->ng->number,
             t->sfs[sf]->slot);
}

/* The switch port a split rule names, on the LSI of 'side'. */
static struct vswitch_port *
resolve_pref(const struct netmgr_txn *t, enum netmgr_side side,
             const struct netmgr_pref *p)
{
    if (p->kind == NETMGR_P_VLINK)
        return side == NETMGR_LSI0 ? t->vlinks[p->vlink].a
                                   : t->vlinks[p->vlink].b;
    if (p->ep.kind == GRAPH_PORT_SAP)
        return t->saps[p->ep.sap]->port;
    return t->sfs[p->ep.sf]->ports[p->ep.port];
}

static void
concretise(const struct netmgr_txn *t, enum netmgr_side side,
           const struct netmgr_rule *in, size_t n, struct vswitch_rule **ret)
{
    struct vswitch_rule *out = xcalloc(n, sizeof *out);
    uint64_t graph_bits = (uint64_t) t->ng->number << 32;
    for (size_t i = 0; i < n; i++) {
        out[i].cookie = graph_bits | in[i].id;
        out[i].priority = in[i].priority;
        out[i].in_port = resolve_pref(t, side, &in[i].in);
        out[i].match = in[i].match;
        out[i].n_actions = in[i].n_actions;
        out[i].actions = xcalloc(in[i].n_actions, sizeof *out[i].actions);
        for (size_t j = 0; j < in[i].n_actions; j++) {
            const struct netmgr_action *a = &in[i].actions[j];
            struct vswitch_action *b = &out[i].actions[j];
            b->type = a->type;
            switch (a->type) {
            case VSWITCH_ACT_OUTPUT:
                b->u.port = resolve_pref(t, side, &a->port);
                break;
            case VSWITCH_ACT_PUSH_VLAN:
                b->u.vlan_id = a->vlan_id;
                break;
            case VSWITCH_ACT_POP_VLAN:
                break;
            case VSWITCH_ACT_SET_ETH_SRC:
            case VSWITCH_ACT_SET_ETH_DST:
                memcpy(b->u.mac, a->mac, 6);
                break;
            case VSWITCH_ACT_SET_IP_SRC:
            case VSWITCH_ACT_SET_IP_DST:
                b->u.ip = a->ip;
                break;
            }
        }
    }
    *ret = out;
}

static bool
action_equal(const struct vswitch_action *a, const struct vswitch_action *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case VSWITCH_ACT_OUTPUT:
        return a->u.port == b->u.port;
    case VSWITCH_ACT_PUSH_VLAN:
        return a->u.vlan_id == b->u.vlan_id;
    case VSWITCH_ACT_POP_VLAN:
        return true;
    case VSWITCH_ACT_SET_ETH_SRC:
    case VSWITCH_ACT_SET_ETH_DST:
        return !memcmp(a->u.mac, b->u.mac, 6);
    case VSWITCH_ACT_SET_IP_SRC:
    case VSWITCH_ACT_SET_IP_DST:
        return a->u.ip.family == b->u.ip.family && a->u.ip.plen == b->u.ip.plen
               && !memcmp(a->u.ip.addr, b->u.ip.addr, 16);
    }
    return false;
}

static bool
rule_equal(const struct vswitch_rule *a, const struct vswitch_rule *b)
{
    if (a->cookie != b->cookie || a->priority != b->priority
        || a->in_port != b->in_port || a->n_actions != b->n_actions
        || !flow_match_equal(&a->match, &b->match))
        return false;
    for (size_t i = 0; i < a->n_actions; i++)
        if (!action_equal(&a->actions[i], &b->actions[i]))
            return false;
    return true;
}

static size_t
rule_hash(const struct vswitch_rule *r)
{
    uint64_t h = r->cookie * 0x9e3779b97f4a7c15ull;
    h ^= (uint64_t) r->priority * 0xff51afd7ed558ccdull;
    h ^= (uint64_t) (uintptr_t) r->in_port;
    h ^= h >> 29;
    return (size_t) h;
}

/* The batch turning 'old' into 'new': rules of 'old' not in 'new' are
 * deleted, rules of 'new' not in 'old' added.  The arrays hold shallow
 * copies. */
static void
diff_rules(const struct vswitch_rule *old, size_t n_old,
           const struct vswitch_rule *new, size_t n_new,
           struct vswitch_rule_batch *b)
{
    size_t size = 16;
    while (size < 2 * n_old)
        size *= 2;
    size_t *table = xmalloc(size * sizeof *table);
    for (size_t i = 0; i < size; i++)
        table[i] = SIZE_MAX;
    bool *kept = xcalloc(n_old + 1, sizeof *kept);
    for (size_t i = 0; i < n_old; i++) {
        size_t h = rule_hash(&old[i]) & (size - 1);
        while (table[h] != SIZE_MAX)
            h = (h + 1) & (size - 1);
        table[h] = i;
    }
    struct vswitch_rule *add = xcalloc(n_new + 1, sizeof *add);
    struct vswitch_rule *del = xcalloc(n_old + 1, sizeof *del);
    size_t n_add = 0, n_del = 0;
    for (size_t i = 0; i < n_new; i++) {
        bool found = false;
        for (size_t h = rule_hash(&new[i]) & (size - 1);
             table[h] != SIZE_MAX && !found; h = (h + 1) & (size - 1)) {
            size_t j = table[h];
            if (!kept[j] && rule_equal(&old[j], &new[i]))
                kept[j] = found = true;
        }
        if (!found)
            add[n_add++] = new[i];
    }
    for (size_t j = 0; j < n_old; j++)
        if (!kept[j])
            del[n_del++] = old[j];
    free(kept);
    free(table);
    b->add = add;
    b->n_add = n_add;
    b->del = del;
    b->n_del = n_del;
}

static struct vswitch_lsi *
side_lsi(const struct netmgr_txn *t, int side)
{
    return side == NETMGR_LSI0 ? t->ng->nm->lsi0 : t->ng->lsi;
}

static void
undo_rules(struct netmgr_txn *t)
{
    for (int side = 0; side < 2; side++) {
        if (!t->applied[side])
            continue;
        struct vswitch_rule_batch inv = {
            .del = t->batch[side].add, .n_del = t->batch[side].n_add,
            .add = t->batch[side].del, .n_add = t->batch[side].n_del,
        };
        struct corch_err err = { .path = "", .msg = "" };
        if (vswitch_rules_apply(t->ng->nm->vs, side_lsi(t, side), &inv,
                                &err) < 0)
            LOG_ERR("graph %s: cannot restore the rules of %s: %s",
                    t->ng->graph_id, side == NETMGR_LSI0 ? "LSI-0"
                                                         : "the graph-LSI",
                    err.msg);
        t->applied[side] = false;
    }
}

int
netmgr_txn_rules(struct netmgr_txn *t, struct corch_err *err)
{
    struct netmgr_graph *ng = t->ng;
    concretise(t, NETMGR_LSI0, t->split->lsi0, t->split->n_lsi0,
               &t->rules[NETMGR_LSI0]);
    t->n_rules[NETMGR_LSI0] = t->split->n_lsi0;
    concretise(t, NETMGR_GRAPH_LSI, t->split->glsi, t->split->n_glsi,
               &t->rules[NETMGR_GRAPH_LSI]);
    t->n_rules[NETMGR_GRAPH_LSI] = t->split->n_glsi;

    /* Before this graph's first rules reach LSI-0: rules an earlier run of
     * c-orch left there under the same graph number (a restart deploys
     * the graphs again; their vlinks may get new port numbers) must not
     * linger, forwarding from ports that are now someone else's. */
    if (!ng->lsi0_flushed && !ng->n_rules[NETMGR_LSI0]) {
        uint64_t bits = (uint64_t) ng->number << 32;
        int error = vswitch_rules_flush(ng->nm->vs, side_lsi(t, NETMGR_LSI0),
                                        bits, UINT64_C(0xffffffff00000000),
                                        err);
        if (error) {
            corch_err_prefix(err, "LSI-0 (flush of earlier rules)");
            return error;
        }
        ng->lsi0_flushed = true;
    }

    /* The graph-LSI first, so that traffic LSI-0 lets in finds its way. */
    static const int order[] = { NETMGR_GRAPH_LSI, NETMGR_LSI0 };
    for (size_t o = 0; o < 2; o++) {
        int side = order[o];
        diff_rules(ng->rules[side], ng->n_rules[side], t->rules[side],
                   t->n_rules[side], &t->batch[side]);
        if (!t->batch[side].n_add && !t->batch[side].n_del)
            continue;
        int error = vswitch_rules_apply(ng->nm->vs, side_lsi(t, side),
                                        &t->batch[side], err);
        if (error) {
            corch_err_prefix(err, "%s", side == NETMGR_LSI0
                                        ? "LSI-0" : "graph-LSI");
            undo_rules(t);
            return error;
        }
        t->applied[side] = true;
    }
    return 0;
}

void
netmgr_txn_abort(struct netmgr_txn *t)
{
    if (!t)
        return;
    undo_rules(t);
    undo_prepare(t);
    txn_free(t);
}

static bool
txn_has_sf(const struct netmgr_txn *t, const struct nm_sf *s)
{
    for (size_t i = 0; i < t->g->n_sfs; i++)
        if (t->sfs[i] == s)
            return true;
    return false;
}

static bool
txn_has_sap(const struct netmgr_txn *t, const struct nm_sap *s)
{
    for (size_t i = 0; i < t->g->n_saps; i++)
        if (t->saps[i] == s)
            return true;
    return false;
}

void
netmgr_txn_commit(struct netmgr_txn *t)
{
    struct netmgr_graph *ng = t->ng;
    struct vswitch *vs = ng->nm->vs;

    /* What the new graph no longer has. */
    for (size_t i = 0; i < ng->n_sfs; i++) {
        if (txn_has_sf(t, ng->sfs[i]))
            continue;
        const struct nm_sf *now = NULL;
        for (size_t x = 0; x < t->g->n_sfs && !now; x++)
            if (t->sf_prev[x] == ng->sfs[i])
                now = t->sfs[x];
        if (now) {
            /* Reshaped: only the ports it no longer has go. */
            for (size_t j = now->n_ports; j < ng->sfs[i]->n_ports; j++)
                if (ng->sfs[i]->ports[j])
                    vswitch_port_destroy(vs, ng->sfs[i]->ports[j]);
        } else {
            destroy_sf_ports(ng, ng->sfs[i]);
        }
        nm_sf_free(ng->sfs[i]);
    }
    for (size_t i = 0; i < ng->n_saps; i++) {
        if (!txn_has_sap(t, ng->saps[i])) {
            destroy_sap_port(ng, ng->saps[i]);
            nm_sap_free(ng->saps[i]);
        }
    }
    size_t keep = t->split->plan.n;
    for (size_t k = keep; k < t->n_vlinks; k++)
        vswitch_port_destroy(vs, t->vlinks[k].a);

    /* The new state. */
    free(ng->sfs);
    ng->sfs = t->sfs;
    ng->n_sfs = t->g->n_sfs;
    t->sfs = NULL;
    free(ng->saps);
    ng->saps = t->saps;
    ng->n_saps = t->g->n_saps;
    t->saps = NULL;
    free(ng->vlinks);
    ng->vlinks = t->vlinks;
    ng->n_vlinks = keep;
    t->vlinks = NULL;
    netmgr_vlink_plan_clear(&ng->plan);
    ng->plan = t->split->plan;
    memset(&t->split->plan, 0, sizeof t->split->plan);
    for (int side = 0; side < 2; side++) {
        vswitch_rules_free(ng->rules[side], ng->n_rules[side]);
        ng->rules[side] = t->rules[side];
        ng->n_rules[side] = t->n_rules[side];
        t->rules[side] = NULL;
        t->n_rules[side] = 0;
    }
    txn_free(t);
}

size_t
netmgr_graph_rule_count(const struct netmgr_graph *ng, bool lsi0)
{
    return ng->n_rules[lsi0 ? NETMGR_LSI0 : NETMGR_GRAPH_LSI];
}
