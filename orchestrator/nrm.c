/* The node resource manager, its API and locking: see nrm.h.  The
 * deploy / update / destroy pipeline is in nrm-deploy.c.
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
#include "nrm-deploy.h"

#include <errno.h>
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

/* Ends a request on 'ng'.  Mutex held. */
static void
finish_locked(struct nrm *nrm, struct nrm_graph *ng)
{
    if (ng)
        ng->busy = false;
    nrm->inflight--;
    pthread_cond_broadcast(&nrm->idle);
}

/* Whether a failed PUT refused the graph (the request or the node's
 * state said no: nothing of it was made) rather than failed deploying it:
 * said by the error's kind, chosen where it arose. */
static bool
is_rejection(const struct corch_err *err)
{
    return err->kind != CORCH_ERR_FAILED;
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
        error = corch_err_setk(err, CORCH_ERR_BUSY, -EBUSY, NULL,
                               "graph '%s' is busy (%s); try again later",
                               graph->id, nrm_graph_status_name(ng->status));
        pthread_mutex_unlock(&nrm->mutex);
        graph_free(graph);
        return error;
    }
    if (!ng && nrm->n_graphs >= nrm->cfg->limits_max_graphs)
        error = corch_err_setk(err, CORCH_ERR_CONFLICT, -E2BIG, NULL,
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
            error = corch_err_setk(err, CORCH_ERR_CONFLICT, -E2BIG, NULL,
                                   "no graph number left");
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
    error = nrm_deploy_apply(nrm, ng, graph, &rejected, err);
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
        if (!is_rejection(err) || !rejected)
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
        return corch_err_setk(err, CORCH_ERR_NOT_FOUND, -ENOENT, NULL,
                              "no graph '%s'", id);
    }
    if (ng->busy) {
        int error = corch_err_setk(err, CORCH_ERR_BUSY, -EBUSY, NULL,
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
    nrm_deploy_undeploy(nrm, ng);
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
        if (s && s->csf) {
            int pid = compute_sf_pid(s->csf);
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
            nrm_deploy_restore_slots(nrm, ng->id, ng->net);
            r = nrm_deploy_apply(nrm, ng, g, &rejected, &err);
        } else {
            r = corch_err_setk(&err, CORCH_ERR_CONFLICT, -E2BIG, NULL,
                               "no graph number");
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

    /* The graphs stay deployed: the drivers let go of their objects
     * (release: nothing stopped, nothing removed), then our bookkeeping
     * goes.  No request runs any more ('closing', 'inflight' 0). */
    for (size_t i = 0; i < nrm->n_graphs; i++) {
        nrm_deploy_release(nrm->graphs[i]);
        nrm_graph_free(nrm->graphs[i]);
    }
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
