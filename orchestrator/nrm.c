/* The node resource manager: see nrm.h.
 *
 * Each graph has an entry in a table protected by one mutex; the mutex is
 * held only to look at or swap entries, never while a driver works.  A
 * request marks its graph busy (others on it get -EBUSY), works without
 * the lock, and swaps in the result under the lock.
 *
 * What a failure leaves:
 *   - resolve / schedule (nothing done yet): a new graph is not recorded;
 *     an update leaves the running graph as it was;
 *   - a later step: everything done is undone in reverse; a new graph is
 *     recorded as "failed" with the error (nothing of it deployed), an
 *     updated graph keeps running in its previous version, with the error
 *     in its status. */
#include <config.h>
#include "nrm.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compute.h"
#include "corch-config.h"
#include "log.h"
#include "netmgr.h"
#include "repository.h"
#include "resolver.h"
#include "scheduler.h"
#include "store.h"
#include "vswitch.h"

LOG_MODULE(nrm);

/* One deployed SF. */
struct nrm_sf {
    char *id;                   /* SF id in the graph. */
    const struct sf_template *tmpl; /* Into the repository, or 'own'. */
    struct sf_template *own;    /* Synthetic (dummy) template, owned. */
    const struct compute_class *engine;
    struct compute_sf *csf;     /* Owned by the engine until destroy. */
    struct scheduler_binding bind; /* Cores and memory reserved. */
    char instance[49];          /* Name on the node. */
    unsigned int slot;          /* Its slot in the graph's names. */
    char *run_dir;              /* Its directory in state.dir. */
    char *netns_path;           /* The namespace its engine prepared (the
                                 * switch makes ports added later in
                                 * there), or NULL. */
    const char *state;          /* "running", ... */
};

struct nrm_graph {
    char *id;                   /* Graph id. */
    struct graph *graph;        /* As accepted (deployed or failed). */
    struct graph *flat;         /* 'graph' as deployed, its subgraph
                                 * templates expanded (resolver_expand);
                                 * NULL when that is 'graph' itself. */
    struct graph *pending;      /* Being deployed (for SAP claims). */
    char *owner;
    char *format;               /* "sffg" or "nffg". */
    enum nrm_graph_status status;
    bool busy;                  /* A request works on it. */
    char *error;                /* Last error, or NULL. */
    unsigned int number;        /* Node-local number: names, cookies. */
    int64_t created;            /* Unix time. */
    struct netmgr_graph *net;   /* Network state; NULL if not deployed. */
    struct nrm_sf **sfs;        /* Deployed SFs, as graph->sfs. */
    size_t n_sfs;               /* Entries in 'sfs'. */
};

struct nrm {
    const struct corch_config *cfg; /* Outlives the manager. */
    struct store *store;        /* Outlives the manager. */
    struct vswitch *vs;         /* The open switch (vswitch.driver). */
    struct vswitch_lsi *lsi0;   /* Owned by the driver. */
    struct netmgr *net;         /* Network manager. */
    struct repository *repo;    /* SF repository. */
    struct scheduler *sched;    /* Cores and memory. */
    bool engines_up;            /* compute_engines_init() succeeded. */
    char *node_id;              /* From the config or the store. */

    pthread_mutex_t mutex;      /* Protects what follows. */
    pthread_cond_t idle;        /* Signalled when 'inflight' drops. */
    struct nrm_graph **graphs;  /* Every graph known, any status. */
    size_t n_graphs;
    unsigned int inflight;      /* Requests running. */
    bool closing;               /* nrm_destroy() was called. */
    nrm_listener_func *listener; /* The bus, or NULL. */
    void *listener_aux;         /* Its argument. */
};

const char *
nrm_graph_status_name(enum nrm_graph_status s)
{
    switch (s) {
    case NRM_DEPLOYING: return "deploying";
    case NRM_RUNNING: return "running";
    case NRM_UPDATING: return "updating";
    case NRM_FAILED: return "failed";
    case NRM_DELETING: return "deleting";
    }
    return "unknown";
}

const char *
nrm_event_type_name(enum nrm_event_type t)
{
    switch (t) {
    case NRM_EVENT_DEPLOYED: return "deployed";
    case NRM_EVENT_UPDATED: return "updated";
    case NRM_EVENT_FAILED: return "failed";
    case NRM_EVENT_DELETED: return "deleted";
    }
    return "unknown";
}

/* --- Small helpers. --- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    if (remove(path) < 0)
        LOG_WARN("cannot remove %s: %s", path, strerror(errno));
    return 0;
}

static void
rm_rf(const char *path)
{
    if (path && !access(path, F_OK))
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
nrm_sf_free(struct nrm_sf *s)
{
    if (!s)
        return;
    free(s->id);
    sf_template_free(s->own);
    free(s->bind.cpus);
    free(s->run_dir);
    free(s->netns_path);
    free(s);
}

/* Destroys the SF on the node and releases what it reserved. */
static void
nrm_sf_undeploy(struct nrm *nrm, struct nrm_sf *s)
{
    if (s->csf)
        s->engine->destroy(s->csf);
    s->csf = NULL;
    rm_rf(s->run_dir);
    scheduler_release(nrm->sched, &s->bind);
    free(s->bind.cpus);
    memset(&s->bind, 0, sizeof s->bind);
}

static void
nrm_graph_free(struct nrm_graph *ng)
{
    if (!ng)
        return;
    for (size_t i = 0; i < ng->n_sfs; i++)
        nrm_sf_free(ng->sfs[i]);
    free(ng->sfs);
    netmgr_graph_free(ng->net);
    graph_free(ng->graph);
    graph_free(ng->flat);
    free(ng->id);
    free(ng->owner);
    free(ng->format);
    free(ng->error);
    free(ng);
}

/* Mutex held. */
static struct nrm_graph *
find_graph(const struct nrm *nrm, const char *id)
{
    for (size_t i = 0; i < nrm->n_graphs; i++)
        if (!strcmp(nrm->graphs[i]->id, id))
            return nrm->graphs[i];
    return NULL;
}

/* Mutex held. */
static void
remove_graph(struct nrm *nrm, struct nrm_graph *ng)
{
    for (size_t i = 0; i < nrm->n_graphs; i++) {
        if (nrm->graphs[i] == ng) {
            nrm->graphs[i] = nrm->graphs[--nrm->n_graphs];
            return;
        }
    }
}

static void
notify(struct nrm *nrm, enum nrm_event_type type, const char *id,
       const char *error)
{
    pthread_mutex_lock(&nrm->mutex);
    nrm_listener_func *f = nrm->listener;
    void *aux = nrm->listener_aux;
    pthread_mutex_unlock(&nrm->mutex);
    if (f) {
        struct nrm_event ev = { .type = type, .graph_id = id, .error = error };
        f(aux, &ev);
    }
}

static char *
number_key(const char *id)
{
    return xasprintf("graph_number:%s", id);
}

/* Mutex held. */
static bool
number_used(const struct nrm *nrm, unsigned int n)
{
    for (size_t i = 0; i < nrm->n_graphs; i++)
        if (nrm->graphs[i]->number == n)
            return true;
    return false;
}

/* A number for a new graph: the one it had before if free, else the
 * lowest free one.  Mutex held. */
static unsigned int
allocate_number(struct nrm *nrm, const char *id)
{
    _cleanup_free_ char *key = number_key(id);
    _cleanup_free_ char *val = NULL;
    unsigned int want = 0;
    if (!store_meta_get(nrm->store, key, &val) && val && *val)
        want = (unsigned int) strtoul(val, NULL, 10);
    if (want > NETMGR_MAX_GRAPH_NUMBER || number_used(nrm, want))
        want = 0;
    for (unsigned int n = 1; !want && n <= NETMGR_MAX_GRAPH_NUMBER; n++)
        if (!number_used(nrm, n))
            want = n;
    if (want) {
        char buf[16];
        snprintf(buf, sizeof buf, "%u", want);
        store_meta_set(nrm->store, key, buf);
    }
    return want;
}

static void
forget_number(struct nrm *nrm, const char *id)
{
    _cleanup_free_ char *key = number_key(id);
    store_meta_set(nrm->store, key, "");
    _cleanup_free_ char *slots = xasprintf("graph_slots:%s", id);
    store_meta_set(nrm->store, slots, "");
}

/* Records which slot (names, instance) each SF of 'ng' has, so that a
 * restart gives them the same: {"sf id": slot, ...}. */
static void
save_slots(struct nrm *nrm, const struct nrm_graph *ng)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < ng->n_sfs; i++)
        json_object_object_add(o, ng->sfs[i]->id,
                               json_object_new_int((int) ng->sfs[i]->slot));
    _cleanup_free_ char *key = xasprintf("graph_slots:%s", ng->id);
    store_meta_set(nrm->store, key,
                   json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

static void
restore_slots(struct nrm *nrm, const char *id, struct netmgr_graph *net)
{
    _cleanup_free_ char *key = xasprintf("graph_slots:%s", id);
    _cleanup_free_ char *val = NULL;
    if (store_meta_get(nrm->store, key, &val) < 0 || !val || !*val)
        return;
    json_object *o = json_tokener_parse(val);
    if (o && json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, sf, slot)
            if (json_object_is_type(slot, json_type_int))
                netmgr_graph_hint_slot(net, sf,
                                       (unsigned int) json_object_get_int(slot));
    }
    json_object_put(o);
}

static int
store_graph(struct nrm *nrm, const struct nrm_graph *ng,
            const struct graph *g, enum nrm_graph_status status,
            const char *error)
{
    json_object *j = graph_to_json(g);
    struct store_graph row = {
        .id = ng->id,
        .owner = ng->owner,
        .sffg = (char *) json_object_to_json_string_ext(j,
                                                        JSON_C_TO_STRING_PLAIN),
        .format = ng->format,
        .status = (char *) nrm_graph_status_name(status),
        .error = (char *) error,
        .created = ng->created,
        .updated = (int64_t) time(NULL),
    };
    int r = store_graph_put(nrm->store, &row);
    json_object_put(j);
    if (r < 0)
        LOG_ERR("graph %s: cannot store it: %s", ng->id, strerror(-r));
    return r;
}

static enum vswitch_port_tech
tech_from_name(const char *name, enum vswitch_port_tech dflt)
{
    if (!name)
        return dflt;
    if (!strcmp(name, "veth"))
        return VSWITCH_PORT_VETH;
    if (!strcmp(name, "internal"))
        return VSWITCH_PORT_INTERNAL;
    if (!strcmp(name, "tap"))
        return VSWITCH_PORT_TAP;
    if (!strcmp(name, "vhost-user"))
        return VSWITCH_PORT_VHOST_USER;
    return dflt;
}

/* --- The pipeline. --- */

/* Everything one deploy / update builds before it is committed. */
struct plan {
    const struct graph *g;      /* The new graph. */
    struct resolver_choice *choices; /* Step 1, per SF. */
    struct scheduler_binding *binds; /* Step 2, per SF (moved into the
                                      * SFs as they are created). */
    bool *fresh;                /* SF i is new or changed. */
    struct nrm_sf **old_of;     /* SF i's deployed twin if unchanged. */
    enum vswitch_port_tech **techs; /* Per SF port. */
    struct nrm_sf **sfs;        /* The new SF list. */
    struct netmgr_txn *txn;     /* Steps 3 and 5. */
    struct netmgr_graph *net;   /* The graph's network state. */
    bool net_new;               /* 'net' made by this plan. */
    struct compute_sf **prepared; /* Step 3, per SF: what its engine's
                                   * prepare made, until step 4 moves it
                                   * into the SF; NULL if none. */
    struct netmgr_sf_place *places; /* Step 3, per SF: where the switch
                                     * makes the SF ends (ifnames owned). */
    bool *reshape;              /* SF i is old_of[i] with ports added or
                                 * removed at the end, updated in place. */
    const struct graph_sf **old_gsf; /* Per reshaped SF: its deployed
                                      * definition. */
    size_t *n_added;            /* Per reshaped SF: ports port_add()ed... */
    size_t *n_removed;          /* ...and port_remove()d so far. */
};

static void
plan_free(struct plan *p)
{
    size_t n = p->g->n_sfs;
    for (size_t i = 0; p->techs && i < n; i++)
        free(p->techs[i]);
    free(p->techs);
    resolver_choices_free(p->choices, n);
    scheduler_bindings_free(p->binds, n);
    free(p->fresh);
    free(p->old_of);
    free(p->reshape);
    free(p->old_gsf);
    free(p->n_added);
    free(p->n_removed);
    free(p->sfs);
    for (size_t i = 0; p->places && i < n; i++)
        free((void *) p->places[i].ifnames);
    free(p->places);
    free(p->prepared);
}

/* The compute_port of port j of SF 'gsf' running 'engine' with template
 * 't', its switch side 'info'. */
static struct compute_port
sf_compute_port(const struct graph_sf *gsf, const struct sf_template *t,
                const struct compute_class *engine, size_t j,
                const struct vswitch_port_info *info)
{
    return (struct compute_port) {
        .id = gsf->ports[j].id,
        .name = j < t->n_ports ? t->ports[j].name : NULL,
        .tech = tech_from_name(j < t->n_ports ? t->ports[j].tech : NULL,
                               engine->default_port_tech),
        .ifname = info->sf_ifname,
        .socket_path = info->socket_path[0] ? info->socket_path : NULL,
        .in_netns = info->sf_in_netns,
    };
}

/* The SFs updated in place: in step 4 ('removing' false) port_add for
 * each added port; once the rules no longer use them (after step 5),
 * port_remove for each removed one, the last thing that may fail, since
 * an engine may not be able to give a removed port back as it was.  The
 * kept ports do not move. */
static int
reshape_sfs(struct nrm *nrm, struct plan *p, bool removing,
            struct corch_err *err)
{
    (void) nrm;
    for (size_t i = 0; i < p->g->n_sfs; i++) {
        if (!p->reshape[i])
            continue;
        struct nrm_sf *s = p->old_of[i];
        const struct graph_sf *gsf = &p->g->sfs[i];
        const struct graph_sf *old = p->old_gsf[i];
        for (size_t j = old->n_ports; !removing && j < gsf->n_ports; j++) {
            struct compute_port port = sf_compute_port(
                gsf, p->choices[i].tmpl, s->engine, j,
                netmgr_txn_port_info(p->txn, i, j));
            int error = s->engine->port_add(s->csf, &port, err);
            if (error) {
                corch_err_prefix(err, "step 4 (compute port_add): sf '%s' "
                                 "port '%s'", s->id, gsf->ports[j].id);
                return error;
            }
            p->n_added[i]++;
        }
        for (size_t j = old->n_ports; removing && j-- > gsf->n_ports;) {
            int error = s->engine->port_remove(s->csf, old->ports[j].id, err);
            if (error) {
                corch_err_prefix(err, "step 5 (compute port_remove): sf '%s' "
                                 "port '%s'", s->id, old->ports[j].id);
                return error;
            }
            p->n_removed[i]++;
        }
        if (removing)
            LOG_DBG("sf %s (%s): updated in place, %zu ports added, %zu "
                    "removed", s->id, s->instance, p->n_added[i],
                    p->n_removed[i]);
    }
    return 0;
}

/* Undoes reshape_sfs(): the removed ports come back (their switch ports
 * are still there), the added ones go. */
static void
unreshape_sfs(struct nrm *nrm, struct plan *p)
{
    (void) nrm;
    for (size_t i = p->g->n_sfs; p->reshape && i-- > 0;) {
        if (!p->reshape[i])
            continue;
        struct nrm_sf *s = p->old_of[i];
        const struct graph_sf *old = p->old_gsf[i];
        for (size_t j = old->n_ports - p->n_removed[i]; j < old->n_ports;
             j++) {
            struct corch_err err = { .path = "", .msg = "" };
            const struct vswitch_port_info *info =
                netmgr_graph_sf_port_info(p->net, s->id, j);
            if (!info)
                continue;
            struct vswitch_port_info back = *info;
            back.sf_in_netns = false;   /* Given back to the root one. */
            struct compute_port port = sf_compute_port(old, s->tmpl,
                                                       s->engine, j, &back);
            if (s->engine->port_add(s->csf, &port, &err) < 0)
                LOG_ERR("sf %s: cannot give port %s back: %s", s->id,
                        old->ports[j].id, err.msg);
        }
        p->n_removed[i] = 0;
        for (size_t k = p->n_added[i]; k-- > 0;) {
            struct corch_err err = { .path = "", .msg = "" };
            const char *id = p->g->sfs[i].ports[old->n_ports + k].id;
            if (s->engine->port_remove(s->csf, id, &err) < 0)
                LOG_ERR("sf %s: cannot remove port %s again: %s", s->id, id,
                        err.msg);
        }
        p->n_added[i] = 0;
    }
}

/* Undoes steps 2-5 of a plan (the new SFs, the network transaction and
 * the reservations), in reverse order. */
static void
plan_undo(struct nrm *nrm, struct plan *p)
{
    unreshape_sfs(nrm, p);
    for (size_t i = p->g->n_sfs; i-- > 0;) {
        if (!p->fresh[i] || !p->sfs || !p->sfs[i])
            continue;
        struct nrm_sf *s = p->sfs[i];
        nrm_sf_undeploy(nrm, s);        /* Releases the binding too. */
        p->binds[i].cpus = NULL;        /* Now owned by (freed with) s. */
        p->choices[i].own = NULL;
        nrm_sf_free(s);
        p->sfs[i] = NULL;
    }
    for (size_t i = p->g->n_sfs; p->prepared && i-- > 0;) {
        if (p->prepared[i])     /* Prepared, never reached step 4. */
            compute_engine_find(p->choices[i].tmpl->engine)->class->destroy(
                p->prepared[i]);
        p->prepared[i] = NULL;
    }
    if (p->txn)
        netmgr_txn_abort(p->txn);
    p->txn = NULL;
    if (p->net_new)
        netmgr_graph_free(p->net);
    for (size_t i = 0; p->binds && i < p->g->n_sfs; i++) {
        if (p->fresh[i] && p->binds[i].cpus) {
            scheduler_release(nrm->sched, &p->binds[i]);
            free(p->binds[i].cpus);
            p->binds[i].cpus = NULL;
        } else if (p->fresh[i]) {
            scheduler_release(nrm->sched, &p->binds[i]);
        }
        p->binds[i].memory_mb = 0;
    }
}

/* Step 4 for SF i: create and start it. */
static int
start_sf(struct nrm *nrm, struct nrm_graph *ng, struct plan *p, size_t i,
         struct corch_err *err)
{
    const struct graph_sf *gsf = &p->g->sfs[i];
    const struct sf_template *t = p->choices[i].tmpl;
    struct nrm_sf *s = xcalloc(1, sizeof *s);
    int error;

    p->sfs[i] = s;
    s->id = xstrdup(gsf->id);
    s->tmpl = t;
    s->own = p->choices[i].own;
    p->choices[i].own = NULL;
    s->bind = p->binds[i];
    p->binds[i].cpus = NULL;
    p->binds[i].memory_mb = 0;
    s->engine = compute_engine_find(t->engine)->class;
    netmgr_txn_sf_name(p->txn, i, s->instance, sizeof s->instance);
    s->slot = netmgr_txn_sf_slot(p->txn, i);
    s->run_dir = xasprintf("%s/run/%s", nrm->cfg->state_dir, s->instance);
    s->state = "creating";
    s->csf = p->prepared ? p->prepared[i] : NULL;  /* Now the SF's. */
    if (p->prepared)
        p->prepared[i] = NULL;

    _cleanup_free_ char *image = NULL;
    if (t->uri) {
        error = repository_fetch_image(nrm->repo, t, &image, err);
        if (error) {
            corch_err_prefix(err, "step 4 (compute create): sf '%s'", s->id);
            return error;
        }
    }
    rm_rf(s->run_dir);                  /* Left by an earlier run. */
    error = mkdir_p(s->run_dir, 0700);
    if (error)
        return corch_err_set(err, error, NULL,
                             "step 4 (compute create): sf '%s': %s: %s",
                             s->id, s->run_dir, strerror(-error));

    struct compute_port *ports = xcalloc(gsf->n_ports, sizeof *ports);
    for (size_t j = 0; j < gsf->n_ports; j++) {
        const struct vswitch_port_info *info = netmgr_txn_port_info(p->txn,
                                                                    i, j);
        ports[j].id = gsf->ports[j].id;
        ports[j].name = t->ports[j].name;
        ports[j].tech = p->techs[i][j];
        ports[j].ifname = info->sf_ifname;
        ports[j].socket_path = info->socket_path[0] ? info->socket_path
                                                    : NULL;
        ports[j].in_netns = info->sf_in_netns;
    }
    const char *config = gsf->config
        ? json_object_to_json_string_ext(gsf->config, JSON_C_TO_STRING_PLAIN)
        : NULL;
    struct compute_sf_spec spec = {
        .graph_id = ng->id,
        .sf_id = gsf->id,
        .instance = s->instance,
        .tmpl = t,
        .image_path = image,
        .config_json = config,
        .run_dir = s->run_dir,
        .ports = ports,
        .n_ports = gsf->n_ports,
        .cpus = s->bind.cpus,
        .n_cpus = s->bind.n_cpus,
        .timeout_s = nrm->cfg->compute_timeout,
        .prepared = s->csf,
    };
    struct compute_sf *made = NULL;
    error = s->engine->create(&spec, &made, err);
    free(ports);
    if (!error)
        s->csf = made;
    if (error) {
        /* A prepared SF stays s->csf: undeploy destroys it. */
        corch_err_prefix(err, "step 4 (compute create): sf '%s'", s->id);
        return error;
    }
    if (p->places && p->places[i].netns_path)
        s->netns_path = xstrdup(p->places[i].netns_path);
    s->state = "created";
    error = s->engine->start(s->csf, err);
    if (error) {
        corch_err_prefix(err, "step 4 (compute start): sf '%s'", s->id);
        return error;
    }
    s->state = "running";
    return 0;
}

/* Step 3, once the new SFs have names and before their ports exist:
 * engines that can (compute_class.prepare) make each new SF's namespace,
 * so that the switch makes the SF end of its ports in there and nothing
 * is moved later (each move waits for an RCU grace period). */
static int
prepare_sfs(struct nrm *nrm, struct nrm_graph *ng, struct plan *p,
            struct corch_err *err)
{
    size_t n = p->g->n_sfs;
    p->prepared = xcalloc(n + 1, sizeof *p->prepared);
    p->places = xcalloc(n + 1, sizeof *p->places);
    for (size_t i = 0; i < n; i++) {
        const struct sf_template *t = p->choices[i].tmpl;
        const struct compute_engine *e = compute_engine_find(t->engine);
        const struct graph_sf *gsf = &p->g->sfs[i];
        if (p->reshape[i] && p->old_of[i]->netns_path) {
            /* Ports added to a running SF: in its namespace too. */
            const char **names = xcalloc(gsf->n_ports + 1, sizeof *names);
            for (size_t j = 0; j < gsf->n_ports && j < t->n_ports; j++)
                names[j] = t->ports[j].name;
            p->places[i].netns_path = p->old_of[i]->netns_path;
            p->places[i].ifnames = names;
            continue;
        }
        if (!p->fresh[i] || !e || !e->class->prepare)
            continue;
        char instance[49];
        netmgr_txn_sf_name(p->txn, i, instance, sizeof instance);
        struct compute_sf_spec spec = {
            .graph_id = ng->id,
            .sf_id = gsf->id,
            .instance = instance,
            .tmpl = t,
            .timeout_s = nrm->cfg->compute_timeout,
        };
        const char *netns = NULL;
        int error = e->class->prepare(&spec, &p->prepared[i], &netns, err);
        if (error) {
            p->prepared[i] = NULL;
            corch_err_prefix(err, "step 3 (compute prepare): sf '%s'",
                             gsf->id);
            return error;
        }
        if (!netns)
            continue;
        const char **names = xcalloc(gsf->n_ports + 1, sizeof *names);
        for (size_t j = 0; j < gsf->n_ports && j < t->n_ports; j++)
            names[j] = t->ports[j].name;
        p->places[i].netns_path = netns;
        p->places[i].ifnames = names;
    }
    return 0;
}

/* Step 4 in parallel: a small pool of workers creates and starts the new
 * SFs (start scripts and the kernel's namespace work overlap).  After the
 * first failure no new SF is started; the error reported is that of the
 * failed SF with the lowest index. */
struct start_pool {
    struct nrm *nrm;
    struct nrm_graph *ng;
    struct plan *p;
    pthread_mutex_t mutex;      /* Protects what follows. */
    size_t next;                /* Next SF to look at. */
    size_t failed;              /* Lowest failed SF, or SIZE_MAX. */
    int error;                  /* Its error... */
    struct corch_err err;       /* ...and reason. */
};

static void *
start_worker(void *arg)
{
    struct start_pool *sp = arg;
    size_t n = sp->p->g->n_sfs;
    for (;;) {
        pthread_mutex_lock(&sp->mutex);
        while (sp->next < n && !sp->p->fresh[sp->next])
            sp->next++;
        size_t i = sp->next++;
        bool stop = i >= n || sp->failed != SIZE_MAX;
        pthread_mutex_unlock(&sp->mutex);
        if (stop)
            return NULL;
        struct corch_err err = { .path = "", .msg = "" };
        int error = start_sf(sp->nrm, sp->ng, sp->p, i, &err);
        if (error) {
            pthread_mutex_lock(&sp->mutex);
            if (i < sp->failed) {
                sp->failed = i;
                sp->error = error;
                sp->err = err;
            }
            pthread_mutex_unlock(&sp->mutex);
        }
    }
}

static int
start_sfs(struct nrm *nrm, struct nrm_graph *ng, struct plan *p,
          struct corch_err *err)
{
    size_t n = p->g->n_sfs, n_fresh = 0;
    for (size_t i = 0; i < n; i++)
        n_fresh += p->fresh[i];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t workers = cores > 0 ? (size_t) cores * 2 : 2;
    if (workers > 16)
        workers = 16;
    if (workers > n_fresh)
        workers = n_fresh;
    if (workers <= 1) {
        for (size_t i = 0; i < n; i++) {
            if (!p->fresh[i])
                continue;
            int error = start_sf(nrm, ng, p, i, err);
            if (error)
                return error;
        }
        return 0;
    }
    struct start_pool sp = {
        .nrm = nrm, .ng = ng, .p = p, .failed = SIZE_MAX,
    };
    pthread_mutex_init(&sp.mutex, NULL);
    pthread_t *tids = xcalloc(workers, sizeof *tids);
    size_t started = 0;
    for (; started < workers; started++)
        if (pthread_create(&tids[started], NULL, start_worker, &sp))
            break;
    if (!started)
        start_worker(&sp);      /* No thread to be had: do it here. */
    for (size_t k = 0; k < started; k++)
        pthread_join(tids[k], NULL);
    free(tids);
    pthread_mutex_destroy(&sp.mutex);
    if (sp.failed == SIZE_MAX)
        return 0;
    if (err)
        *err = sp.err;
    return sp.error;
}

static int
check_saps(struct nrm *nrm, const struct graph *g, struct corch_err *err)
{
    /* Names of switch objects have 15 characters: bounded SFs and ports. */
    if (g->n_sfs > NETMGR_MAX_SF_SLOT + 1)
        return corch_err_set(err, -E2BIG, "sffg.SFs",
                             "a graph has at most %d SFs on this node",
                             NETMGR_MAX_SF_SLOT + 1);
    for (size_t i = 0; i < g->n_sfs; i++) {
        if (g->sfs[i].n_ports > 99) {
            char path[64];
            snprintf(path, sizeof path, "sffg.SFs[%zu].ports", i);
            return corch_err_set(err, -E2BIG, path,
                                 "sf '%s': at most 99 ports", g->sfs[i].id);
        }
    }

    for (size_t i = 0; i < g->n_saps; i++) {
        const struct graph_sap *sap = &g->saps[i];
        char path[96];
        if (!nrm_sap_supported(nrm, sap->type)) {
            snprintf(path, sizeof path, "sffg.saps[%zu].type", i);
            return corch_err_set(err, -EOPNOTSUPP, path,
                                 "sap '%s': the %s vSwitch cannot do %s SAPs "
                                 "on this node", sap->id, vswitch_type(nrm->vs),
                                 graph_sap_type_name(sap->type));
        }
        if (sap->type != GRAPH_SAP_INTERFACE && sap->type != GRAPH_SAP_VLAN)
            continue;
        struct vswitch_port *port;
        if (vswitch_lsi0_port(nrm->vs, nrm->lsi0, sap->if_name, &port,
                              NULL) < 0) {
            snprintf(path, sizeof path, "sffg.saps[%zu].%s.if-name", i,
                     sap->type == GRAPH_SAP_VLAN ? "vlan" : "interface");
            return corch_err_set(err, -EINVAL, path,
                                 "sap '%s': interface %s is not one of this "
                                 "node's interfaces (vswitch.interfaces)",
                                 sap->id, sap->if_name);
        }
    }
    return 0;
}

/* Whether 'now' is 'old' with ports added at the end or removed from the
 * end, nothing else changed: the ports both have keep their index, so
 * that the running SF keeps them (and their names in it) as they are. */
static bool
sf_ports_only_change(const struct graph_sf *old, const struct graph_sf *now)
{
    if (old->n_ports == now->n_ports
        || (old->name == NULL) != (now->name == NULL)
        || (old->name && strcmp(old->name, now->name))
        || (old->template_id == NULL) != (now->template_id == NULL)
        || (old->template_id && strcmp(old->template_id, now->template_id))
        || (old->config == NULL) != (now->config == NULL)
        || (old->config && !json_object_equal(old->config, now->config)))
        return false;
    size_t keep = old->n_ports < now->n_ports ? old->n_ports : now->n_ports;
    for (size_t j = 0; j < keep; j++) {
        const struct graph_sf_port *a = &old->ports[j], *b = &now->ports[j];
        if (strcmp(a->id, b->id) || (a->name == NULL) != (b->name == NULL)
            || (a->name && strcmp(a->name, b->name)))
            return false;
    }
    return true;
}

/* Deploys 'g' over what 'ng' has deployed (nothing, for a new or failed
 * graph).  On success swaps the result into 'ng' (under the mutex) and
 * returns 0; on failure undoes everything and sets '*rejected' when
 * nothing had been touched yet (resolve, schedule). */
static int
apply(struct nrm *nrm, struct nrm_graph *ng, const struct graph *asked,
      bool *rejected, struct corch_err *err)
{
    /* Before anything: SFs that take subgraph templates are replaced by
     * their parts (resolver_expand); everything below works on the
     * flattened graph, 'asked' is what the client sent. */
    struct nrm_resources res;
    nrm_resources(nrm, &res);
    struct resolver_env env = {
        .repo = nrm->repo,
        .cores_total = res.cores_total,
        .memory_mb_free = res.memory_mb_free,
    };
    struct graph *flat = NULL;
    int error = resolver_expand(&env, asked, &flat, err);
    if (error) {
        *rejected = true;
        return error;
    }
    const struct graph *g = flat ? flat : asked;
    const struct graph *old_g = ng->flat ? ng->flat : ng->graph;
    struct plan p = { .g = g };
    size_t n = g->n_sfs;

    *rejected = false;
    p.fresh = xcalloc(n, sizeof *p.fresh);
    p.old_of = xcalloc(n, sizeof *p.old_of);
    p.reshape = xcalloc(n + 1, sizeof *p.reshape);
    p.old_gsf = xcalloc(n + 1, sizeof *p.old_gsf);
    p.n_added = xcalloc(n + 1, sizeof *p.n_added);
    p.n_removed = xcalloc(n + 1, sizeof *p.n_removed);
    struct nrm_sf **cand = xcalloc(n + 1, sizeof *cand);
    const struct sf_template **fixed = xcalloc(n, sizeof *fixed);
    const struct scheduler_binding **kept = xcalloc(n, sizeof *kept);
    for (size_t i = 0; i < n; i++)
        p.fresh[i] = true;
    /* Unchanged SFs (same id, equal definition, running) are kept.  The
     * deployed SFs are in the order of ng->graph->sfs. */
    for (size_t k = 0; ng->net && k < ng->n_sfs; k++) {
        const struct graph_sf *old = &old_g->sfs[k];
        const struct graph_sf *now = graph_find_sf(g, old->id);
        if (!now || !ng->sfs[k]->csf)
            continue;
        size_t i = (size_t) (now - g->sfs);
        if (!graph_sf_equal(old, now)) {
            /* Only ports added or removed at the end, and an engine that
             * can do that to a running SF: a candidate for an update in
             * place, once the resolver agrees on its template. */
            const struct nrm_sf *o = ng->sfs[k];
            if (!sf_ports_only_change(old, now) || !o->engine->port_add
                || !o->engine->port_remove)
                continue;
            if (!o->own && o->tmpl->n_ports < now->n_ports)
                continue;       /* Another template, another SF. */
            cand[i] = ng->sfs[k];
            p.old_gsf[i] = old;
            if (!o->own)
                fixed[i] = o->tmpl;
            continue;
        }
        p.fresh[i] = false;
        p.old_of[i] = ng->sfs[k];
        fixed[i] = ng->sfs[k]->tmpl;
        kept[i] = &ng->sfs[k]->bind;
    }

    /* Step 0: SAPs this node cannot provide, and graphs too big to name,
     * are the client's problem, refused before anything is touched. */
    error = check_saps(nrm, g, err);
    if (error) {
        *rejected = true;
        goto out;
    }

    uint64_t ts[7];             /* Start of each step, for the debug log. */
    ts[0] = time_ns();

    /* Step 1: resolve. */
    error = resolver_resolve(&env, g, fixed, &p.choices, err);
    if (error) {
        *rejected = true;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct sf_template *t = p.choices[i].tmpl;
        if (!cand[i] || strcmp(t->id, cand[i]->tmpl->id)
            || strcmp(t->engine, cand[i]->tmpl->engine))
            continue;
        p.fresh[i] = false;
        p.reshape[i] = true;
        p.old_of[i] = cand[i];
        kept[i] = &cand[i]->bind;
    }

    /* Step 2: schedule. */
    ts[1] = time_ns();
    const struct sf_template **tmpls = xcalloc(n, sizeof *tmpls);
    for (size_t i = 0; i < n; i++)
        tmpls[i] = p.choices[i].tmpl;
    error = scheduler_bind(nrm->sched, g, tmpls, kept, &p.binds, err);
    free(tmpls);
    if (error) {
        corch_err_prefix(err, "step 2 (schedule)");
        *rejected = true;
        goto out;
    }

    /* Step 3: network: graph-LSI, ports, vlinks. */
    ts[2] = time_ns();
    p.techs = xcalloc(n, sizeof *p.techs);
    for (size_t i = 0; i < n; i++) {
        const struct sf_template *t = p.choices[i].tmpl;
        const struct compute_engine *e = compute_engine_find(t->engine);
        enum vswitch_port_tech dflt = e ? e->class->default_port_tech
                                        : VSWITCH_PORT_VETH;
        p.techs[i] = xcalloc(g->sfs[i].n_ports + 1, sizeof **p.techs);
        for (size_t j = 0; j < g->sfs[i].n_ports; j++)
            p.techs[i][j] = tech_from_name(j < t->n_ports ? t->ports[j].tech
                                                          : NULL, dflt);
    }
    p.net = ng->net;
    if (!p.net) {
        p.net = netmgr_graph_new(nrm->net, ng->id, ng->number);
        p.net_new = true;
    }
    error = netmgr_txn_begin(p.net, g, p.fresh, &p.txn, err);
    if (error) {
        corch_err_prefix(err, "step 3 (network)");
        goto undo;
    }
    uint64_t t_prep = time_ns();
    error = prepare_sfs(nrm, ng, &p, err);
    t_prep = time_ns() - t_prep;
    if (error)
        goto undo;
    error = netmgr_txn_build(p.txn, p.techs, p.places, err);
    if (error) {
        p.txn = NULL;                   /* Undone and freed. */
        corch_err_prefix(err, "step 3 (network)");
        goto undo;
    }

    /* Step 4: compute: create + start the new SFs. */
    ts[3] = time_ns();
    p.sfs = xcalloc(n, sizeof *p.sfs);
    for (size_t i = 0; i < n; i++)
        if (!p.fresh[i])
            p.sfs[i] = p.old_of[i];
    error = start_sfs(nrm, ng, &p, err);
    if (!error)
        error = reshape_sfs(nrm, &p, false, err);
    if (error)
        goto undo;

    /* Step 5: rules. */
    ts[4] = time_ns();
    error = netmgr_txn_rules(p.txn, err);
    if (error) {
        corch_err_prefix(err, "step 5 (rules)");
        goto undo;
    }
    error = reshape_sfs(nrm, &p, true, err);
    if (error)
        goto undo;

    /* Step 6: commit.  SFs the new graph no longer has (or has changed)
     * go first, then their ports with the network transaction. */
    ts[5] = time_ns();
    /* Readers (status) see the new SF list from now on; only then are
     * the SFs it no longer has destroyed. */
    struct nrm_sf **old = ng->sfs;
    size_t n_old = ng->n_sfs;
    pthread_mutex_lock(&nrm->mutex);
    ng->sfs = p.sfs;
    ng->n_sfs = n;
    ng->net = p.net;
    struct graph *old_flat = ng->flat;
    ng->flat = TAKE_PTR(flat);
    for (size_t i = 0; i < n; i++) {
        /* A synthetic template of an SF updated in place: the new one
         * has its new ports. */
        if (p.reshape[i] && p.choices[i].own) {
            sf_template_free(p.sfs[i]->own);
            p.sfs[i]->own = p.choices[i].own;
            p.sfs[i]->tmpl = p.sfs[i]->own;
            p.choices[i].own = NULL;
        }
    }
    pthread_mutex_unlock(&nrm->mutex);
    bool *keep = xcalloc(n_old + 1, sizeof *keep);
    for (size_t k = 0; k < n_old; k++) {
        for (size_t i = 0; i < n && !keep[k]; i++)
            keep[k] = p.sfs[i] == old[k];
        if (!keep[k])
            nrm_sf_undeploy(nrm, old[k]);
    }
    netmgr_txn_commit(p.txn);
    p.txn = NULL;
    for (size_t k = 0; k < n_old; k++)
        if (!keep[k])
            nrm_sf_free(old[k]);
    free(keep);
    free(old);
    p.sfs = NULL;
    graph_free(old_flat);
    save_slots(nrm, ng);
    error = 0;
    ts[6] = time_ns();
    LOG_DBG("graph %s: %zu SFs, %zu flowrules: resolve %llu us, schedule "
            "%llu us, network %llu us (SF namespaces %llu us), compute "
            "%llu us, rules %llu us, commit %llu us", ng->id, n,
            g->n_flowrules,
            (unsigned long long) (ts[1] - ts[0]) / 1000,
            (unsigned long long) (ts[2] - ts[1]) / 1000,
            (unsigned long long) (ts[3] - ts[2]) / 1000,
            (unsigned long long) t_prep / 1000,
            (unsigned long long) (ts[4] - ts[3]) / 1000,
            (unsigned long long) (ts[5] - ts[4]) / 1000,
            (unsigned long long) (ts[6] - ts[5]) / 1000);
    goto out;

undo:
    plan_undo(nrm, &p);
out:
    free(cand);
    free(fixed);
    free(kept);
    plan_free(&p);
    graph_free(flat);
    return error;
}

/* The workers of a graph's delete: each destroys SFs until none is left
 * (a destroy waits on the kernel and on processes to go: they overlap). */
struct undeploy_pool {
    struct nrm *nrm;
    struct nrm_sf **sfs;        /* The SFs to destroy. */
    size_t n;
    pthread_mutex_t mutex;      /* Protects 'next'. */
    size_t next;                /* Next SF to take. */
};

static void *
undeploy_worker(void *arg)
{
    struct undeploy_pool *up = arg;
    for (;;) {
        pthread_mutex_lock(&up->mutex);
        size_t i = up->next++;
        pthread_mutex_unlock(&up->mutex);
        if (i >= up->n)
            return NULL;
        nrm_sf_undeploy(up->nrm, up->sfs[i]);
        nrm_sf_free(up->sfs[i]);
    }
}

/* Removes everything deployed for 'ng' (its SFs, then its network). */
static void
undeploy(struct nrm *nrm, struct nrm_graph *ng)
{
    /* Detached first, so that no reader sees SFs being destroyed. */
    pthread_mutex_lock(&nrm->mutex);
    struct nrm_sf **sfs = ng->sfs;
    size_t n = ng->n_sfs;
    struct netmgr_graph *net = ng->net;
    ng->sfs = NULL;
    ng->n_sfs = 0;
    ng->net = NULL;
    pthread_mutex_unlock(&nrm->mutex);
    struct undeploy_pool up = { .nrm = nrm, .sfs = sfs, .n = n };
    pthread_mutex_init(&up.mutex, NULL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t workers = cores > 0 ? (size_t) cores * 2 : 2, started = 0;
    pthread_t tids[16];
    if (workers > ARRAY_SIZE(tids))
        workers = ARRAY_SIZE(tids);
    for (; n > 1 && started < workers && started < n; started++)
        if (pthread_create(&tids[started], NULL, undeploy_worker, &up))
            break;
    undeploy_worker(&up);       /* This thread helps (or does it all). */
    for (size_t k = 0; k < started; k++)
        pthread_join(tids[k], NULL);
    pthread_mutex_destroy(&up.mutex);
    free(sfs);
    netmgr_graph_teardown(net);
}

/* Ends a request on 'ng'.  Mutex held. */
static void
finish_locked(struct nrm *nrm, struct nrm_graph *ng)
{
    if (ng)
        ng->busy = false;
    nrm->inflight--;
    pthread_cond_broadcast(&nrm->idle);
}

static bool
is_rejection(int error)
{
    return error == -EINVAL || error == -ENOPKG || error == -EADDRINUSE
           || error == -E2BIG || error == -EOPNOTSUPP || error == -ENOSPC;
}

int
nrm_graph_put(struct nrm *nrm, struct graph *graph, const char *owner,
              const char *format, bool *ret_created, struct corch_err *err)
{
    int error = 0;
    bool created = false;
    struct corch_err local = { .path = "", .msg = "" };
    if (!err)
        err = &local;       /* The status and the store need the reason. */

    pthread_mutex_lock(&nrm->mutex);
    if (nrm->closing) {
        pthread_mutex_unlock(&nrm->mutex);
        graph_free(graph);
        return corch_err_set(err, -ESHUTDOWN, NULL, "shutting down");
    }
    struct nrm_graph *ng = find_graph(nrm, graph->id);
    if (ng && ng->busy) {
        /* Said under the lock: once released, 'ng' may be gone. */
        error = corch_err_set(err, -EBUSY, NULL,
                              "graph '%s' is busy (%s); try again later",
                              graph->id, nrm_graph_status_name(ng->status));
        pthread_mutex_unlock(&nrm->mutex);
        graph_free(graph);
        return error;
    }
    if (!ng && nrm->n_graphs >= nrm->cfg->limits_max_graphs)
        error = corch_err_set(err, -E2BIG, NULL,
                              "the node has %zu graphs (limits.max_graphs)",
                              nrm->n_graphs);
    for (size_t i = 0; i < nrm->n_graphs && !error; i++) {
        struct nrm_graph *o = nrm->graphs[i];
        if (o == ng)
            continue;
        if (o->pending)
            error = netmgr_claims_check(graph, o->pending, o->id, err);
        if (!error && o->graph && o->net)
            error = netmgr_claims_check(graph, o->graph, o->id, err);
    }
    unsigned int number = 0;
    if (!error && !ng) {
        number = allocate_number(nrm, graph->id);
        if (!number)
            error = corch_err_set(err, -E2BIG, NULL, "no graph number left");
    }
    if (error) {
        pthread_mutex_unlock(&nrm->mutex);
        graph_free(graph);
        return error;
    }
    if (!ng) {
        created = true;
        ng = xcalloc(1, sizeof *ng);
        ng->id = xstrdup(graph->id);
        ng->owner = xstrdup(owner ? owner : "");
        ng->format = xstrdup(format ? format : "sffg");
        ng->number = number;
        ng->created = (int64_t) time(NULL);
        ng->status = NRM_DEPLOYING;
        nrm->graphs = xrealloc(nrm->graphs,
                               (nrm->n_graphs + 1) * sizeof *nrm->graphs);
        nrm->graphs[nrm->n_graphs++] = ng;
    } else {
        free(ng->format);
        ng->format = xstrdup(format ? format : "sffg");
    }
    bool was_deployed = ng->net != NULL;
    ng->status = was_deployed ? NRM_UPDATING : NRM_DEPLOYING;
    ng->busy = true;
    ng->pending = graph;
    nrm->inflight++;
    pthread_mutex_unlock(&nrm->mutex);

    if (created)
        store_graph(nrm, ng, graph, NRM_DEPLOYING, NULL);
    else
        store_graph_set_status(nrm->store, ng->id,
                               nrm_graph_status_name(ng->status), NULL);

    bool rejected;
    uint64_t t0 = time_ms();
    error = apply(nrm, ng, graph, &rejected, err);
    enum nrm_event_type ev;
    bool drop = false;
    char *msg = NULL;

    if (!error) {
        /* A new graph's text is in the store already. */
        if (created)
            store_graph_set_status(nrm->store, ng->id, "running", NULL);
        else
            store_graph(nrm, ng, graph, NRM_RUNNING, NULL);
        LOG_INFO("graph %s %s in %llu ms", ng->id,
                 was_deployed ? "updated" : "deployed",
                 (unsigned long long) (time_ms() - t0));
        ev = was_deployed ? NRM_EVENT_UPDATED : NRM_EVENT_DEPLOYED;
    } else {
        if (!is_rejection(error) || !rejected)
            LOG_WARN("graph %s: %s", ng->id, err->msg);
        msg = xstrdup(err->msg[0] ? err->msg : strerror(-error));
        ev = NRM_EVENT_FAILED;
        if (created && rejected) {
            drop = true;                /* Never existed. */
            store_graph_delete(nrm->store, ng->id);
        } else if (was_deployed) {
            store_graph_set_status(nrm->store, ng->id, "running", msg);
        } else if (created) {
            store_graph_set_status(nrm->store, ng->id, "failed", msg);
        } else {
            store_graph(nrm, ng, graph, NRM_FAILED, msg);
        }
    }

    pthread_mutex_lock(&nrm->mutex);
    ng->pending = NULL;
    if (!error) {
        graph_free(ng->graph);
        ng->graph = graph;
        graph = NULL;
        ng->status = NRM_RUNNING;
        free(ng->error);
        ng->error = NULL;
    } else if (drop) {
        remove_graph(nrm, ng);
        forget_number(nrm, ng->id);     /* Before another can take it. */
    } else {
        free(ng->error);
        ng->error = xstrdup(msg);
        if (was_deployed) {
            ng->status = NRM_RUNNING;
        } else {
            /* A failed graph shows what was asked. */
            ng->status = NRM_FAILED;
            graph_free(ng->graph);
            ng->graph = graph;
            graph = NULL;
        }
    }
    /* Once no longer busy, 'ng' may be deleted by another request. */
    char *id = xstrdup(ng->id);
    finish_locked(nrm, drop ? NULL : ng);
    pthread_mutex_unlock(&nrm->mutex);

    if (drop) {
        nrm_graph_free(ng);
    } else {
        notify(nrm, ev, id, msg);
    }
    free(id);
    free(msg);
    graph_free(graph);
    if (!error && ret_created)
        *ret_created = created;
    return error;
}

int
nrm_graph_delete(struct nrm *nrm, const char *id, struct corch_err *err)
{
    pthread_mutex_lock(&nrm->mutex);
    struct nrm_graph *ng = nrm->closing ? NULL : find_graph(nrm, id);
    if (!ng) {
        pthread_mutex_unlock(&nrm->mutex);
        return corch_err_set(err, -ENOENT, NULL, "no graph '%s'", id);
    }
    if (ng->busy) {
        int error = corch_err_set(err, -EBUSY, NULL,
                                  "graph '%s' is busy (%s); try again later",
                                  id, nrm_graph_status_name(ng->status));
        pthread_mutex_unlock(&nrm->mutex);
        return error;
    }
    ng->busy = true;
    ng->status = NRM_DELETING;
    nrm->inflight++;
    pthread_mutex_unlock(&nrm->mutex);

    store_graph_set_status(nrm->store, id, "deleting", NULL);
    undeploy(nrm, ng);
    store_graph_delete(nrm->store, id);
    forget_number(nrm, id);

    pthread_mutex_lock(&nrm->mutex);
    remove_graph(nrm, ng);
    finish_locked(nrm, NULL);
    pthread_mutex_unlock(&nrm->mutex);

    LOG_INFO("graph %s deleted", ng->id);
    notify(nrm, NRM_EVENT_DELETED, ng->id, NULL);
    nrm_graph_free(ng);
    return 0;
}

int
nrm_graph_get(struct nrm *nrm, const char *id, struct graph **ret_graph,
              char **ret_owner, char **ret_format)
{
    int error = -ENOENT;
    pthread_mutex_lock(&nrm->mutex);
    struct nrm_graph *ng = find_graph(nrm, id);
    if (ng && ng->graph) {
        if (ret_graph)
            *ret_graph = graph_clone(ng->graph);
        if (ret_owner)
            *ret_owner = xstrdup(ng->owner);
        if (ret_format)
            *ret_format = xstrdup(ng->format);
        error = 0;
    }
    pthread_mutex_unlock(&nrm->mutex);
    return error;
}

int
nrm_graph_owner(struct nrm *nrm, const char *id, char **ret_owner)
{
    int error = -ENOENT;
    pthread_mutex_lock(&nrm->mutex);
    struct nrm_graph *ng = find_graph(nrm, id);
    if (ng) {
        *ret_owner = xstrdup(ng->owner);
        error = 0;
    }
    pthread_mutex_unlock(&nrm->mutex);
    return error;
}

int
nrm_graph_status(struct nrm *nrm, const char *id, json_object **ret_status)
{
    pthread_mutex_lock(&nrm->mutex);
    struct nrm_graph *ng = find_graph(nrm, id);
    if (!ng) {
        pthread_mutex_unlock(&nrm->mutex);
        return -ENOENT;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(ng->id));
    json_object_object_add(o, "status",
                           json_object_new_string(nrm_graph_status_name(
                               ng->status)));
    json_object *sfs = json_object_new_array();
    /* The deployed SFs: those of subgraph templates included. */
    const struct graph *g = ng->flat && ng->status != NRM_FAILED ? ng->flat
                            : ng->graph ? ng->graph : ng->pending;
    for (size_t i = 0; g && i < g->n_sfs; i++) {
        const struct nrm_sf *s = NULL;
        for (size_t k = 0; k < ng->n_sfs && !s; k++)
            if (!strcmp(ng->sfs[k]->id, g->sfs[i].id))
                s = ng->sfs[k];
        json_object *j = json_object_new_object();
        json_object_object_add(j, "id", json_object_new_string(g->sfs[i].id));
        const char *state = s ? s->state
                            : ng->status == NRM_FAILED ? "failed" : "pending";
        json_object_object_add(j, "state", json_object_new_string(state));
        json_object_object_add(j, "engine", s ? json_object_new_string(
                                   s->tmpl->engine) : NULL);
        json_object_object_add(j, "template", s ? json_object_new_string(
                                   s->tmpl->id) : NULL);
        json_object *cores = json_object_new_array();
        for (size_t c = 0; s && c < s->bind.n_cpus; c++)
            json_object_array_add(cores, json_object_new_int(
                                      (int) s->bind.cpus[c]));
        json_object_object_add(j, "cores", cores);
        if (s && s->csf && s->engine->pid) {
            int pid = s->engine->pid(s->csf);
            if (pid > 0)
                json_object_object_add(j, "pid", json_object_new_int(pid));
        }
        json_object_array_add(sfs, j);
    }
    json_object_object_add(o, "sfs", sfs);
    json_object_object_add(o, "error", ng->error
                           ? json_object_new_string(ng->error) : NULL);
    pthread_mutex_unlock(&nrm->mutex);
    *ret_status = o;
    return 0;
}

static int
cmp_graph_ids(const void *a, const void *b)
{
    return strcmp((*(struct nrm_graph *const *) a)->id,
                  (*(struct nrm_graph *const *) b)->id);
}

json_object *
nrm_graph_list(struct nrm *nrm, const char *owner)
{
    json_object *arr = json_object_new_array();
    pthread_mutex_lock(&nrm->mutex);
    struct nrm_graph **sorted = xcalloc(nrm->n_graphs + 1, sizeof *sorted);
    if (nrm->n_graphs)
        memcpy(sorted, nrm->graphs, nrm->n_graphs * sizeof *sorted);
    qsort(sorted, nrm->n_graphs, sizeof *sorted, cmp_graph_ids);
    for (size_t i = 0; i < nrm->n_graphs; i++) {
        const struct nrm_graph *ng = sorted[i];
        if (owner && strcmp(owner, ng->owner))
            continue;
        const struct graph *g = ng->graph ? ng->graph : ng->pending;
        json_object *j = json_object_new_object();
        json_object_object_add(j, "id", json_object_new_string(ng->id));
        json_object_object_add(j, "name", g && g->name
                               ? json_object_new_string(g->name) : NULL);
        json_object_object_add(j, "status", json_object_new_string(
                                   nrm_graph_status_name(ng->status)));
        json_object_array_add(arr, j);
    }
    pthread_mutex_unlock(&nrm->mutex);
    free(sorted);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "graphs", arr);
    return o;
}

const char *
nrm_node_id(const struct nrm *nrm)
{
    return nrm->node_id;
}

const struct corch_config *
nrm_config(const struct nrm *nrm)
{
    return nrm->cfg;
}

struct repository *
nrm_repository(const struct nrm *nrm)
{
    return nrm->repo;
}

struct vswitch *
nrm_vswitch(const struct nrm *nrm)
{
    return nrm->vs;
}

const char *
nrm_vswitch_type(const struct nrm *nrm)
{
    return vswitch_type(nrm->vs);
}

bool
nrm_sap_supported(const struct nrm *nrm, enum graph_sap_type type)
{
    return vswitch_sap_supported(nrm->vs, type);
}

void
nrm_resources(struct nrm *nrm, struct nrm_resources *ret)
{
    scheduler_resources(nrm->sched, &ret->cores_total, &ret->cores_free,
                        &ret->memory_mb_total, &ret->memory_mb_free);
}

static int
cmp_u16(const void *a, const void *b)
{
    return (int) *(const uint16_t *) a - (int) *(const uint16_t *) b;
}

size_t
nrm_vlans_in_use(struct nrm *nrm, const char *ifname, uint16_t **ret_ids)
{
    uint16_t *ids = NULL;
    size_t n = 0;
    pthread_mutex_lock(&nrm->mutex);
    for (size_t i = 0; i < nrm->n_graphs; i++) {
        const struct graph *gs[2] = { nrm->graphs[i]->graph,
                                      nrm->graphs[i]->pending };
        if (nrm->graphs[i]->status == NRM_FAILED)
            gs[0] = NULL;
        for (int k = 0; k < 2; k++) {
            for (size_t s = 0; gs[k] && s < gs[k]->n_saps; s++) {
                const struct graph_sap *sap = &gs[k]->saps[s];
                if (sap->type != GRAPH_SAP_VLAN || strcmp(sap->if_name, ifname))
                    continue;
                bool have = false;
                for (size_t j = 0; j < n && !have; j++)
                    have = ids[j] == sap->vlan_id;
                if (!have) {
                    ids = xrealloc(ids, (n + 1) * sizeof *ids);
                    ids[n++] = sap->vlan_id;
                }
            }
        }
    }
    pthread_mutex_unlock(&nrm->mutex);
    if (n)
        qsort(ids, n, sizeof *ids, cmp_u16);
    *ret_ids = ids;
    return n;
}

void
nrm_set_listener(struct nrm *nrm, nrm_listener_func *f, void *aux)
{
    pthread_mutex_lock(&nrm->mutex);
    nrm->listener = f;
    nrm->listener_aux = aux;
    pthread_mutex_unlock(&nrm->mutex);
}

/* --- Start-up and shutdown. --- */

static int
node_id_init(struct nrm *nrm)
{
    if (nrm->cfg->node_id && *nrm->cfg->node_id) {
        nrm->node_id = xstrdup(nrm->cfg->node_id);
        return 0;
    }
    char *id = NULL;
    if (!store_meta_get(nrm->store, "node_id", &id) && id && *id) {
        nrm->node_id = id;
        return 0;
    }
    free(id);
    uint8_t raw[8];
    char hex[17];
    random_bytes(raw, sizeof raw);
    hex_encode(raw, sizeof raw, hex);
    nrm->node_id = xasprintf("node-%s", hex);
    int r = store_meta_set(nrm->store, "node_id", nrm->node_id);
    LOG_INFO("node id %s (generated)", nrm->node_id);
    return r;
}

/* Deploys again the graphs the previous run left deployed. */
static void
reconcile(struct nrm *nrm)
{
    struct store_graph **rows = NULL;
    size_t n = 0;
    int r = store_graph_list(nrm->store, &rows, &n);
    if (r < 0) {
        LOG_ERR("cannot list the stored graphs: %s", strerror(-r));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct store_graph *row = rows[i];
        struct corch_err err = { .path = "", .msg = "" };
        struct graph *g = NULL;
        if (row->status && !strcmp(row->status, "deleting")) {
            LOG_INFO("graph %s was being deleted; forgetting it", row->id);
            store_graph_delete(nrm->store, row->id);
            forget_number(nrm, row->id);
            continue;
        }
        r = graph_parse(row->sffg, strlen(row->sffg), 1000, NULL, &g, &err);
        if (r < 0) {
            LOG_ERR("stored graph %s cannot be parsed (%s); marked failed",
                    row->id, err.msg);
            store_graph_set_status(nrm->store, row->id, "failed", err.msg);
            continue;
        }
        bool failed = row->status && !strcmp(row->status, "failed");
        pthread_mutex_lock(&nrm->mutex);
        struct nrm_graph *ng = xcalloc(1, sizeof *ng);
        ng->id = xstrdup(row->id);
        ng->owner = xstrdup(row->owner ? row->owner : "");
        ng->format = xstrdup(row->format ? row->format : "sffg");
        ng->created = row->created;
        ng->number = allocate_number(nrm, row->id);
        ng->status = NRM_DEPLOYING;
        nrm->graphs = xrealloc(nrm->graphs,
                               (nrm->n_graphs + 1) * sizeof *nrm->graphs);
        nrm->graphs[nrm->n_graphs++] = ng;
        if (failed) {
            ng->status = NRM_FAILED;
            ng->graph = g;
            ng->error = xstrdup(row->error);
            pthread_mutex_unlock(&nrm->mutex);
            continue;
        }
        pthread_mutex_unlock(&nrm->mutex);

        bool rejected;
        if (ng->number) {
            /* The slots it had, so that SFs find their instances. */
            ng->net = netmgr_graph_new(nrm->net, ng->id, ng->number);
            restore_slots(nrm, ng->id, ng->net);
            r = apply(nrm, ng, g, &rejected, &err);
        } else {
            r = corch_err_set(&err, -E2BIG, NULL, "no graph number");
        }
        pthread_mutex_lock(&nrm->mutex);
        ng->graph = g;
        if (r < 0) {
            netmgr_graph_free(ng->net);     /* Nothing left deployed. */
            ng->net = NULL;
            ng->status = NRM_FAILED;
            ng->error = xstrdup(err.msg);
        } else {
            ng->status = NRM_RUNNING;
        }
        pthread_mutex_unlock(&nrm->mutex);
        if (r < 0) {
            LOG_ERR("graph %s could not be deployed again: %s", ng->id,
                    err.msg);
            store_graph_set_status(nrm->store, ng->id, "failed", err.msg);
            notify(nrm, NRM_EVENT_FAILED, ng->id, err.msg);
        } else {
            LOG_INFO("graph %s deployed again", ng->id);
            store_graph_set_status(nrm->store, ng->id, "running", NULL);
        }
    }
    store_graph_list_free(rows, n);
}

int
nrm_create(const struct corch_config *cfg, struct store *store,
           struct nrm **ret_nrm, struct corch_err *err)
{
    struct nrm *nrm = xcalloc(1, sizeof *nrm);
    int error;

    nrm->cfg = cfg;
    nrm->store = store;
    pthread_mutex_init(&nrm->mutex, NULL);
    pthread_cond_init(&nrm->idle, NULL);

    vswitch_register_all();
    compute_register_all();
    if (!vswitch_lookup(cfg->vswitch_driver)) {
        const char *d = cfg->vswitch_driver ? cfg->vswitch_driver : "";
        bool planned = !strcmp(d, "ovs-dpdk") || !strcmp(d, "dpswitch");
        error = corch_err_set(err, planned ? -EOPNOTSUPP : -EINVAL,
                              "vswitch.driver",
                              planned ? "vswitch.driver: driver \"%s\" is not "
                                        "supported yet (README.md)"
                                      : "vswitch.driver: unknown driver \"%s\"",
                              d);
        goto fail;
    }
    error = vswitch_open(cfg->vswitch_driver, cfg, &nrm->vs, err);
    if (error)
        goto fail;
    char **ifnames = NULL;
    size_t n_if = config_split_list(cfg->vswitch_interfaces, &ifnames);
    error = vswitch_lsi0_open(nrm->vs, (const char *const *) ifnames, n_if,
                              &nrm->lsi0, err);
    strv_free(ifnames);
    if (error) {
        corch_err_prefix(err, "LSI-0");
        goto fail;
    }
    error = node_id_init(nrm);
    if (error) {
        corch_err_set(err, error, NULL, "cannot store the node id");
        goto fail;
    }
    nrm->net = netmgr_create(nrm->vs, nrm->lsi0, nrm->node_id);

    error = compute_engines_init(cfg, err);
    if (error)
        goto fail;
    nrm->engines_up = true;
    resolver_set_engine_order(cfg->compute_engine_order);
    error = repository_open(cfg, &nrm->repo, err);
    if (error)
        goto fail;
    nrm->sched = scheduler_create();
    reconcile(nrm);
    *ret_nrm = nrm;
    return 0;

fail:
    nrm_destroy(nrm);
    return error;
}

void
nrm_destroy(struct nrm *nrm)
{
    if (!nrm)
        return;
    pthread_mutex_lock(&nrm->mutex);
    nrm->closing = true;
    while (nrm->inflight)
        pthread_cond_wait(&nrm->idle, &nrm->mutex);
    pthread_mutex_unlock(&nrm->mutex);

    /* The graphs stay deployed: only our bookkeeping goes. */
    for (size_t i = 0; i < nrm->n_graphs; i++)
        nrm_graph_free(nrm->graphs[i]);
    free(nrm->graphs);
    netmgr_destroy(nrm->net);
    scheduler_destroy(nrm->sched);
    repository_close(nrm->repo);
    if (nrm->engines_up)
        compute_engines_fini();
    vswitch_close(nrm->vs);
    free(nrm->node_id);
    pthread_cond_destroy(&nrm->idle);
    pthread_mutex_destroy(&nrm->mutex);
    free(nrm);
}
