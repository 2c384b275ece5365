/* The node resource manager's deploy / update / destroy pipeline: see
 * nrm-deploy.h.
 *
 * apply() runs one function per step (DESIGN.md), each with its undo
 * beside it:
 *   0. check     expand subgraph templates, keep what did not change,
 *                refuse SAPs this node cannot provide
 *   1. resolve   a template per SF
 *   2. schedule  cores and memory per SF          undo: release them
 *   3. network   graph-LSI, SF ports (in the SFs' prepared namespaces),
 *                vlinks                           undo: abort, destroy
 *                                                 the prepared SFs
 *   4. compute   create + start the new SFs (the worker pool), ports added
 *                to SFs updated in place          undo: destroy them,
 *                                                 remove the added ports
 *   5. rules     install the split rules, then remove the ports SFs
 *                updated in place no longer have  undo: give them back
 *                (the rules go with step 3's abort)
 *   6. commit    swap the new SFs in, destroy what the graph no longer
 *                has, commit the network
 * A failure of steps 0-2 touched nothing: the graph is refused.  A later
 * failure undoes the failed step and every step before it, in reverse;
 * a driver's failure is the node's (kind FAILED), its message naming the
 * step and the SF, whatever errno the driver returned. */
#include <config.h>
#include "nrm-deploy.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compute.h"
#include "corch-config.h"
#include "graph.h"
#include "log.h"
#include "netmgr.h"
#include "repository.h"
#include "resolver.h"
#include "scheduler.h"
#include "store.h"
#include "vswitch.h"

LOG_MODULE(nrm);

/* A driver failed during a deploy: whatever kind it gave, that is the
 * node's failure (a 500), not the client's: an engine's -ENOENT is no
 * "graph not found". */
static void
driver_failed(struct corch_err *err)
{
    if (err)
        err->kind = CORCH_ERR_FAILED;
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

void
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
    compute_sf_destroy(s->csf);
    s->csf = NULL;
    rm_rf(s->run_dir);
    scheduler_release(nrm->sched, &s->bind);
    free(s->bind.cpus);
    memset(&s->bind, 0, sizeof s->bind);
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

void
nrm_deploy_restore_slots(struct nrm *nrm, const char *id,
                         struct netmgr_graph *net)
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
    struct nrm *nrm;            /* The manager. */
    struct nrm_graph *ng;       /* The graph deployed over (busy). */
    const struct graph *asked;  /* What the client sent. */
    struct graph *flat;         /* 'asked' with its subgraph templates
                                 * expanded (owned), or NULL if none. */
    struct resolver_env env;    /* What the resolver may use. */
    const struct graph *g;      /* The new graph: 'flat' or 'asked'. */
    const struct graph *old_g;  /* The graph deployed now, flattened. */
    struct nrm_sf **cand;       /* Per SF: a deployed SF it may be updated
                                 * in place from, once resolved. */
    const struct sf_template **fixed; /* Per SF: the template it must
                                       * keep (kept or reshaped SFs). */
    const struct scheduler_binding **kept; /* Per SF: the reservation it
                                            * keeps. */
    uint64_t prepare_ns;        /* Of step 3: the engines' prepare. */
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
    free(p->cand);
    free(p->fixed);
    free(p->kept);
    graph_free(p->flat);
    if (!p->g)
        return;                 /* Nothing else was made. */
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
                const struct compute_engine *engine, size_t j,
                const struct vswitch_port_info *info)
{
    return (struct compute_port) {
        .id = gsf->ports[j].id,
        .name = j < t->n_ports ? t->ports[j].name : NULL,
        .tech = tech_from_name(j < t->n_ports ? t->ports[j].tech : NULL,
                               compute_engine_port_tech(engine)),
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
            int error = compute_sf_port_add(s->csf, &port, err);
            if (error) {
                driver_failed(err);
                corch_err_prefix(err, "step 4 (compute port_add): sf '%s' "
                                 "port '%s'", s->id, gsf->ports[j].id);
                return error;
            }
            p->n_added[i]++;
        }
        for (size_t j = old->n_ports; removing && j-- > gsf->n_ports;) {
            int error = compute_sf_port_remove(s->csf, old->ports[j].id,
                                               err);
            if (error) {
                driver_failed(err);
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

/* Undoes reshape_sfs(removing true): the removed ports come back
 * (their switch ports are still there). */
static void
unreshape_removed(struct plan *p)
{
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
            if (compute_sf_port_add(s->csf, &port, &err) < 0)
                LOG_ERR("sf %s: cannot give port %s back: %s", s->id,
                        old->ports[j].id, err.msg);
        }
        p->n_removed[i] = 0;
    }
}

/* Undoes reshape_sfs(removing false): the added ports go. */
static void
unreshape_added(struct plan *p)
{
    for (size_t i = p->g->n_sfs; p->reshape && i-- > 0;) {
        if (!p->reshape[i])
            continue;
        struct nrm_sf *s = p->old_of[i];
        const struct graph_sf *old = p->old_gsf[i];
        for (size_t k = p->n_added[i]; k-- > 0;) {
            struct corch_err err = { .path = "", .msg = "" };
            const char *id = p->g->sfs[i].ports[old->n_ports + k].id;
            if (compute_sf_port_remove(s->csf, id, &err) < 0)
                LOG_ERR("sf %s: cannot remove port %s again: %s", s->id, id,
                        err.msg);
        }
        p->n_added[i] = 0;
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
    s->engine = compute_engine_find(t->engine);
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
            driver_failed(err);
            corch_err_prefix(err, "step 4 (compute create): sf '%s'", s->id);
            return error;
        }
    }
    rm_rf(s->run_dir);                  /* Left by an earlier run. */
    error = mkdir_p(s->run_dir, 0700);
    if (error)
        return corch_err_setk(err, CORCH_ERR_FAILED, error, NULL,
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
    error = compute_sf_create(s->engine, &spec, &made, err);
    free(ports);
    if (!error)
        s->csf = made;
    if (error) {
        /* A prepared SF stays s->csf: undeploy destroys it. */
        driver_failed(err);
        corch_err_prefix(err, "step 4 (compute create): sf '%s'", s->id);
        return error;
    }
    if (p->places && p->places[i].netns_path)
        s->netns_path = xstrdup(p->places[i].netns_path);
    s->state = "created";
    error = compute_sf_start(s->csf, err);
    if (error) {
        driver_failed(err);
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
        struct compute_engine *e = compute_engine_find(t->engine);
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
        if (!p->fresh[i] || !e || !compute_engine_can_prepare(e))
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
        int error = compute_sf_prepare(e, &spec, &p->prepared[i], &netns,
                                       err);
        if (error) {
            p->prepared[i] = NULL;
            driver_failed(err);
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

/* The pool's item i of step 4. */
static int
start_sf_work(void *aux, size_t i, struct corch_err *err)
{
    struct plan *p = aux;
    return start_sf(p->nrm, p->ng, p, i, err);
}

/* --- The worker pool: SF starts of a deploy and SF destroys of a
 * delete.  Start scripts, the kernel's namespace work and process exits
 * wait more than they compute: they overlap. --- */

/* One run of the pool. */
struct pool {
    int (*work)(void *aux, size_t i, struct corch_err *err); /* Item i. */
    void *aux;                  /* work()'s argument. */
    const bool *want;           /* Items to do, or NULL for all. */
    size_t n;                   /* Items. */
    bool stop_on_error;         /* No new item after a failure. */
    pthread_mutex_t mutex;      /* Protects what follows. */
    size_t next;                /* Next item to look at. */
    size_t failed;              /* Lowest failed item, or SIZE_MAX. */
    int error;                  /* Its error... */
    struct corch_err err;       /* ...and reason. */
};

static void *
pool_worker(void *arg)
{
    struct pool *pl = arg;
    for (;;) {
        pthread_mutex_lock(&pl->mutex);
        while (pl->next < pl->n && pl->want && !pl->want[pl->next])
            pl->next++;
        size_t i = pl->next++;
        bool stop = i >= pl->n
                    || (pl->stop_on_error && pl->failed != SIZE_MAX);
        pthread_mutex_unlock(&pl->mutex);
        if (stop)
            return NULL;
        struct corch_err err = { .path = "", .msg = "" };
        int error = pl->work(pl->aux, i, &err);
        if (error) {
            pthread_mutex_lock(&pl->mutex);
            if (i < pl->failed) {
                pl->failed = i;
                pl->error = error;
                pl->err = err;
            }
            pthread_mutex_unlock(&pl->mutex);
        }
    }
}

/* Runs work(aux, i, err) for each of the 'n' items that 'want' (NULL:
 * all) with up to 2 x cores workers (at most 16), this thread one of
 * them.  With 'stop_on_error' no item starts after a failure.  Returns
 * the error of the failed item of the lowest index (its reason in
 * 'err'), or 0. */
static int
pool_run(int (*work)(void *aux, size_t i, struct corch_err *err), void *aux,
         size_t n, const bool *want, bool stop_on_error,
         struct corch_err *err)
{
    size_t n_want = 0;
    for (size_t i = 0; i < n; i++)
        n_want += !want || want[i];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t workers = cores > 0 ? (size_t) cores * 2 : 2;
    pthread_t tids[16];
    if (workers > ARRAY_SIZE(tids))
        workers = ARRAY_SIZE(tids);
    if (workers > n_want)
        workers = n_want;
    struct pool pl = {
        .work = work, .aux = aux, .want = want, .n = n,
        .stop_on_error = stop_on_error, .failed = SIZE_MAX,
    };
    pthread_mutex_init(&pl.mutex, NULL);
    size_t started = 0;
    for (; started + 1 < workers; started++)
        if (pthread_create(&tids[started], NULL, pool_worker, &pl))
            break;                      /* Fewer threads: still done. */
    pool_worker(&pl);                   /* This thread is one of them. */
    for (size_t k = 0; k < started; k++)
        pthread_join(tids[k], NULL);
    pthread_mutex_destroy(&pl.mutex);
    if (pl.failed == SIZE_MAX)
        return 0;
    if (err)
        *err = pl.err;
    return pl.error;
}

static int
check_saps(struct nrm *nrm, const struct graph *g, struct corch_err *err)
{
    /* Names of switch objects have 15 characters: bounded SFs and ports. */
    if (g->n_sfs > NETMGR_MAX_SF_SLOT + 1)
        return corch_err_setk(err, CORCH_ERR_TOO_LARGE, -E2BIG, "sffg.SFs",
                              "a graph has at most %d SFs on this node",
                              NETMGR_MAX_SF_SLOT + 1);
    for (size_t i = 0; i < g->n_sfs; i++) {
        if (g->sfs[i].n_ports > 99) {
            char path[64];
            snprintf(path, sizeof path, "sffg.SFs[%zu].ports", i);
            return corch_err_setk(err, CORCH_ERR_TOO_LARGE, -E2BIG, path,
                                  "sf '%s': at most 99 ports", g->sfs[i].id);
        }
    }

    for (size_t i = 0; i < g->n_saps; i++) {
        const struct graph_sap *sap = &g->saps[i];
        char path[96];
        if (!nrm_sap_supported(nrm, sap->type)) {
            snprintf(path, sizeof path, "sffg.saps[%zu].type", i);
            return corch_err_setk(err, CORCH_ERR_UNSUPPORTED, -EOPNOTSUPP,
                                  path, "sap '%s': the %s vSwitch cannot do "
                                  "%s SAPs on this node", sap->id,
                                  vswitch_type(nrm->vs),
                                  graph_sap_type_name(sap->type));
        }
        if (sap->type != GRAPH_SAP_INTERFACE && sap->type != GRAPH_SAP_VLAN)
            continue;
        struct vswitch_port *port;
        if (vswitch_lsi0_port(nrm->vs, nrm->lsi0, sap->if_name, &port,
                              NULL) < 0) {
            snprintf(path, sizeof path, "sffg.saps[%zu].%s.if-name", i,
                     sap->type == GRAPH_SAP_VLAN ? "vlan" : "interface");
            return corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, path,
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


/* --- The steps of apply(), each with its undo. --- */

/* Step 0: subgraph templates expanded (everything below works on the
 * flattened graph; 'asked' is what the client sent); the SFs that did not
 * change kept, those whose ports alone changed made candidates for an
 * update in place; SAPs this node cannot provide, and graphs too big to
 * name, refused.  Touches nothing. */
static int
step_check(struct plan *p, struct corch_err *err)
{
    struct nrm_resources res;
    nrm_resources(p->nrm, &res);
    p->env = (struct resolver_env) {
        .repo = p->nrm->repo,
        .cores_total = res.cores_total,
        .memory_mb_free = res.memory_mb_free,
    };
    int error = resolver_expand(&p->env, p->asked, &p->flat, err);
    if (error)
        return error;
    const struct graph *g = p->flat ? p->flat : p->asked;
    struct nrm_graph *ng = p->ng;
    size_t n = g->n_sfs;

    p->g = g;
    p->old_g = ng->flat ? ng->flat : ng->graph;
    p->fresh = xcalloc(n + 1, sizeof *p->fresh);
    p->old_of = xcalloc(n + 1, sizeof *p->old_of);
    p->reshape = xcalloc(n + 1, sizeof *p->reshape);
    p->old_gsf = xcalloc(n + 1, sizeof *p->old_gsf);
    p->n_added = xcalloc(n + 1, sizeof *p->n_added);
    p->n_removed = xcalloc(n + 1, sizeof *p->n_removed);
    p->cand = xcalloc(n + 1, sizeof *p->cand);
    p->fixed = xcalloc(n + 1, sizeof *p->fixed);
    p->kept = xcalloc(n + 1, sizeof *p->kept);
    for (size_t i = 0; i < n; i++)
        p->fresh[i] = true;
    /* Unchanged SFs (same id, equal definition, running) are kept.  The
     * deployed SFs are in the order of ng->graph->sfs. */
    for (size_t k = 0; ng->net && k < ng->n_sfs; k++) {
        const struct graph_sf *old = &p->old_g->sfs[k];
        const struct graph_sf *now = graph_find_sf(g, old->id);
        if (!now || !ng->sfs[k]->csf)
            continue;
        size_t i = (size_t) (now - g->sfs);
        if (!graph_sf_equal(old, now)) {
            /* Only ports added or removed at the end, and an engine that
             * can do that to a running SF: a candidate for an update in
             * place, once the resolver agrees on its template. */
            const struct nrm_sf *o = ng->sfs[k];
            if (!sf_ports_only_change(old, now)
                || !compute_engine_can_update_ports(o->engine))
                continue;
            if (!o->own && o->tmpl->n_ports < now->n_ports)
                continue;       /* Another template, another SF. */
            p->cand[i] = ng->sfs[k];
            p->old_gsf[i] = old;
            if (!o->own)
                p->fixed[i] = o->tmpl;
            continue;
        }
        p->fresh[i] = false;
        p->old_of[i] = ng->sfs[k];
        p->fixed[i] = ng->sfs[k]->tmpl;
        p->kept[i] = &ng->sfs[k]->bind;
    }
    return check_saps(p->nrm, g, err);
}

/* Step 1: a template per SF.  A candidate for an update in place is one
 * if the resolver chose its template again.  Touches nothing. */
static int
step_resolve(struct plan *p, struct corch_err *err)
{
    int error = resolver_resolve(&p->env, p->g, p->fixed, &p->choices, err);
    if (error)
        return error;
    for (size_t i = 0; i < p->g->n_sfs; i++) {
        const struct sf_template *t = p->choices[i].tmpl;
        struct nrm_sf *c = p->cand[i];
        if (!c || strcmp(t->id, c->tmpl->id)
            || strcmp(t->engine, c->tmpl->engine))
            continue;
        p->fresh[i] = false;
        p->reshape[i] = true;
        p->old_of[i] = c;
        p->kept[i] = &c->bind;
    }
    return 0;
}

/* Step 2: cores and memory for each SF (the kept ones keep theirs). */
static int
step_schedule(struct plan *p, struct corch_err *err)
{
    size_t n = p->g->n_sfs;
    const struct sf_template **tmpls = xcalloc(n + 1, sizeof *tmpls);
    for (size_t i = 0; i < n; i++)
        tmpls[i] = p->choices[i].tmpl;
    int error = scheduler_bind(p->nrm->sched, p->g, tmpls, p->kept, &p->binds,
                               err);
    free(tmpls);
    if (error)
        corch_err_prefix(err, "step 2 (schedule)");
    return error;
}

/* Releases what step 2 reserved for the new SFs (those that reached step
 * 4 released theirs when step 4 was undone). */
static void
undo_schedule(struct plan *p)
{
    for (size_t i = 0; p->binds && i < p->g->n_sfs; i++) {
        if (p->fresh[i]) {
            scheduler_release(p->nrm->sched, &p->binds[i]);
            free(p->binds[i].cpus);
            p->binds[i].cpus = NULL;
        }
        p->binds[i].memory_mb = 0;
    }
}

/* Step 3: the graph-LSI, the SF ports (in the namespaces the engines
 * prepared for the new SFs: compute_sf_prepare), the vlinks. */
static int
step_network(struct plan *p, struct corch_err *err)
{
    const struct graph *g = p->g;
    size_t n = g->n_sfs;
    p->techs = xcalloc(n + 1, sizeof *p->techs);
    for (size_t i = 0; i < n; i++) {
        const struct sf_template *t = p->choices[i].tmpl;
        const struct compute_engine *e = compute_engine_find(t->engine);
        enum vswitch_port_tech dflt = e ? compute_engine_port_tech(e)
                                        : VSWITCH_PORT_VETH;
        p->techs[i] = xcalloc(g->sfs[i].n_ports + 1, sizeof **p->techs);
        for (size_t j = 0; j < g->sfs[i].n_ports; j++)
            p->techs[i][j] = tech_from_name(j < t->n_ports ? t->ports[j].tech
                                                           : NULL, dflt);
    }
    p->net = p->ng->net;
    if (!p->net) {
        p->net = netmgr_graph_new(p->nrm->net, p->ng->id, p->ng->number);
        p->net_new = true;
    }
    int error = netmgr_txn_begin(p->net, g, p->fresh, &p->txn, err);
    if (error) {
        corch_err_prefix(err, "step 3 (network)");
        return error;
    }
    uint64_t t0 = time_ns();
    error = prepare_sfs(p->nrm, p->ng, p, err);
    p->prepare_ns = time_ns() - t0;
    if (error)
        return error;
    error = netmgr_txn_build(p->txn, p->techs, p->places, err);
    if (error) {
        p->txn = NULL;                  /* Undone and freed. */
        corch_err_prefix(err, "step 3 (network)");
    }
    return error;
}

/* Destroys the SFs prepared that never reached step 4, and undoes the
 * network transaction (its rules, if step 5 installed them, too). */
static void
undo_network(struct plan *p)
{
    for (size_t i = p->g->n_sfs; p->prepared && i-- > 0;) {
        compute_sf_destroy(p->prepared[i]);
        p->prepared[i] = NULL;
    }
    if (p->txn)
        netmgr_txn_abort(p->txn);
    p->txn = NULL;
    if (p->net_new)
        netmgr_graph_free(p->net);
    p->net = NULL;
}

/* Step 4: create + start the new SFs (the worker pool); ports added to
 * the SFs updated in place. */
static int
step_compute(struct plan *p, struct corch_err *err)
{
    size_t n = p->g->n_sfs;
    p->sfs = xcalloc(n + 1, sizeof *p->sfs);
    for (size_t i = 0; i < n; i++)
        if (!p->fresh[i])
            p->sfs[i] = p->old_of[i];
    int error = pool_run(start_sf_work, p, n, p->fresh, true, err);
    if (!error)
        error = reshape_sfs(p->nrm, p, false, err);
    return error;
}

/* Removes the ports step 4 added, destroys the new SFs (releasing what
 * they reserved). */
static void
undo_compute(struct plan *p)
{
    unreshape_added(p);
    for (size_t i = p->g->n_sfs; p->sfs && i-- > 0;) {
        if (!p->fresh[i] || !p->sfs[i])
            continue;
        struct nrm_sf *s = p->sfs[i];
        nrm_sf_undeploy(p->nrm, s);     /* Releases the binding too. */
        p->binds[i].cpus = NULL;        /* Now owned by (freed with) s. */
        p->choices[i].own = NULL;
        nrm_sf_free(s);
        p->sfs[i] = NULL;
    }
}

/* Step 5: the rules, one batch per LSI; then the ports the SFs updated
 * in place no longer have go (the last thing that may fail: an engine
 * may not be able to give a removed port back as it was). */
static int
step_rules(struct plan *p, struct corch_err *err)
{
    int error = netmgr_txn_rules(p->txn, err);
    if (error) {
        corch_err_prefix(err, "step 5 (rules)");
        return error;
    }
    return reshape_sfs(p->nrm, p, true, err);
}

/* Gives the removed ports back.  The rules go with the transaction
 * (undo_network). */
static void
undo_rules(struct plan *p)
{
    unreshape_removed(p);
}

/* Step 6: readers (status) see the new SF list from now on; only then
 * are the SFs the new graph no longer has (or has changed) destroyed,
 * then their ports go with the commit of the network transaction. */
static int
step_commit(struct plan *p, struct corch_err *err)
{
    (void) err;
    struct nrm *nrm = p->nrm;
    struct nrm_graph *ng = p->ng;
    size_t n = p->g->n_sfs;
    struct nrm_sf **old = ng->sfs;
    size_t n_old = ng->n_sfs;
    pthread_mutex_lock(&nrm->mutex);
    ng->sfs = p->sfs;
    ng->n_sfs = n;
    ng->net = p->net;
    struct graph *old_flat = ng->flat;
    ng->flat = TAKE_PTR(p->flat);
    for (size_t i = 0; i < n; i++) {
        /* A synthetic template of an SF updated in place: the new one
         * has its new ports. */
        if (p->reshape[i] && p->choices[i].own) {
            sf_template_free(p->sfs[i]->own);
            p->sfs[i]->own = p->choices[i].own;
            p->sfs[i]->tmpl = p->sfs[i]->own;
            p->choices[i].own = NULL;
        }
    }
    pthread_mutex_unlock(&nrm->mutex);
    bool *keep = xcalloc(n_old + 1, sizeof *keep);
    for (size_t k = 0; k < n_old; k++) {
        for (size_t i = 0; i < n && !keep[k]; i++)
            keep[k] = p->sfs[i] == old[k];
        if (!keep[k])
            nrm_sf_undeploy(nrm, old[k]);
    }
    netmgr_txn_commit(p->txn);
    p->txn = NULL;
    for (size_t k = 0; k < n_old; k++)
        if (!keep[k])
            nrm_sf_free(old[k]);
    free(keep);
    free(old);
    p->sfs = NULL;
    graph_free(old_flat);
    save_slots(nrm, ng);
    return 0;
}

/* The pipeline, in order. */
static const struct deploy_step {
    const char *name;           /* For logs. */
    int (*apply)(struct plan *, struct corch_err *); /* Does it. */
    void (*undo)(struct plan *); /* Undoes it (after it succeeded or
                                  * failed midway), or NULL. */
    bool refuses;               /* Its failure touched nothing: the graph
                                 * is refused. */
} steps[] = {
    { "check", step_check, NULL, true },
    { "resolve", step_resolve, NULL, true },
    { "schedule", step_schedule, undo_schedule, true },
    { "network", step_network, undo_network, false },
    { "compute", step_compute, undo_compute, false },
    { "rules", step_rules, undo_rules, false },
    { "commit", step_commit, NULL, false },
};
enum { N_STEPS = ARRAY_SIZE(steps) };

int
nrm_deploy_apply(struct nrm *nrm, struct nrm_graph *ng,
                 const struct graph *asked, bool *ret_rejected,
                 struct corch_err *err)
{
    struct plan p = { .nrm = nrm, .ng = ng, .asked = asked };
    uint64_t ns[N_STEPS] = { 0 };       /* Time each step took. */
    int error = 0;
    size_t k;

    for (k = 0; k < N_STEPS && !error; k++) {
        uint64_t t0 = time_ns();
        error = steps[k].apply(&p, err);
        ns[k] = time_ns() - t0;
    }
    if (error) {
        size_t failed = k - 1;
        *ret_rejected = steps[failed].refuses;
        for (size_t j = failed + 1; j-- > 0;)
            if (steps[j].undo)
                steps[j].undo(&p);
    } else {
        *ret_rejected = false;
        LOG_DBG("graph %s: %zu SFs, %zu flowrules: resolve %llu us, "
                "schedule %llu us, network %llu us (SF namespaces %llu us), "
                "compute %llu us, rules %llu us, commit %llu us", ng->id,
                p.g->n_sfs, p.g->n_flowrules,
                (unsigned long long) ns[1] / 1000,
                (unsigned long long) ns[2] / 1000,
                (unsigned long long) ns[3] / 1000,
                (unsigned long long) p.prepare_ns / 1000,
                (unsigned long long) ns[4] / 1000,
                (unsigned long long) ns[5] / 1000,
                (unsigned long long) ns[6] / 1000);
    }
    plan_free(&p);
    return error;
}

/* --- Delete. --- */

/* What the pool's items of a delete work on. */
struct undeploy_job {
    struct nrm *nrm;            /* The manager. */
    struct nrm_sf **sfs;        /* The SFs to destroy (and free). */
};

static int
undeploy_sf_work(void *aux, size_t i, struct corch_err *err)
{
    (void) err;
    struct undeploy_job *job = aux;
    nrm_sf_undeploy(job->nrm, job->sfs[i]);
    nrm_sf_free(job->sfs[i]);
    return 0;
}

void
nrm_deploy_undeploy(struct nrm *nrm, struct nrm_graph *ng)
{
    /* Detached first, so that no reader sees SFs being destroyed. */
    pthread_mutex_lock(&nrm->mutex);
    struct undeploy_job job = { .nrm = nrm, .sfs = ng->sfs };
    size_t n = ng->n_sfs;
    struct netmgr_graph *net = ng->net;
    ng->sfs = NULL;
    ng->n_sfs = 0;
    ng->net = NULL;
    pthread_mutex_unlock(&nrm->mutex);
    pool_run(undeploy_sf_work, &job, n, NULL, false, NULL);
    free(job.sfs);
    netmgr_graph_teardown(net);
}

void
nrm_deploy_release(struct nrm_graph *ng)
{
    /* The reverse of the deploy's order (network at step 3, SFs at
     * step 4), as undeploy does: an SF's object never outlives the
     * switch ports it was given. */
    for (size_t i = 0; i < ng->n_sfs; i++) {
        compute_sf_release(ng->sfs[i]->csf);
        ng->sfs[i]->csf = NULL;
    }
    netmgr_graph_release(ng->net);
    ng->net = NULL;
}
