/* The node resource manager's deploy pipeline (nrm-deploy.c) and the
 * state it shares with the API and locking half (nrm.c).  Private to the
 * two: everyone else uses nrm.h.
 *
 * nrm.c owns the graph table and the per-graph serialisation (a graph is
 * 'busy' while one request works on it); nrm-deploy.c runs the steps of
 * one deploy, update or delete on a busy graph, without the table's
 * mutex except to swap the result in. */
#ifndef CORCH_NRM_DEPLOY_H
#define CORCH_NRM_DEPLOY_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "nrm.h"
#include "scheduler.h"

struct compute_engine;
struct compute_sf;
struct netmgr;
struct netmgr_graph;
struct sf_template;
struct vswitch;
struct vswitch_lsi;

/* One deployed SF. */
struct nrm_sf {
    char *id;                   /* SF id in the graph. */
    const struct sf_template *tmpl; /* Into the repository, or 'own'. */
    struct sf_template *own;    /* Synthetic (dummy) template, owned. */
    struct compute_engine *engine; /* The engine instance it runs on. */
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
    char *owner;                /* Who created it. */
    char *format;               /* "sffg" or "nffg". */
    enum nrm_graph_status status; /* What clients see. */
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
    size_t n_graphs;            /* Entries in 'graphs'. */
    unsigned int inflight;      /* Requests running. */
    bool closing;               /* nrm_destroy() was called. */
    nrm_listener_func *listener; /* The bus, or NULL. */
    void *listener_aux;         /* Its argument. */
};

/* Deploys 'asked' over what 'ng' has deployed (nothing, for a new or
 * failed graph): resolve, schedule, network, compute, rules, commit.  On
 * success swaps the result into 'ng' (under nrm->mutex) and returns 0; on
 * failure undoes every step done, in reverse, and sets '*ret_rejected'
 * when nothing had been touched yet (the graph was refused: SAPs,
 * resolve, schedule).  A failure of a driver at a later step is of kind
 * FAILED, its message naming the step and the SF. */
int nrm_deploy_apply(struct nrm *, struct nrm_graph *, const struct graph *asked,
                     bool *ret_rejected, struct corch_err *err);
/* Removes everything deployed for 'ng': its SFs (by the worker pool),
 * then its network. */
void nrm_deploy_undeploy(struct nrm *, struct nrm_graph *);
/* Shutdown: lets go of everything deployed for 'ng' (compute release of
 * its SFs, then netmgr_graph_release() of its network) and leaves it all
 * running on the node; the bookkeeping (ng->sfs) is freed with 'ng'.  No
 * request may be running on it. */
void nrm_deploy_release(struct nrm_graph *);
/* Frees the bookkeeping of an SF (what runs on the node stays; its
 * engine object must have been destroyed or released). */
void nrm_sf_free(struct nrm_sf *);              /* Accepts NULL. */
/* The slots (names, instance) the SFs of a graph had in an earlier run,
 * so that a restart finds their instances. */
void nrm_deploy_restore_slots(struct nrm *, const char *graph_id,
                              struct netmgr_graph *);

#endif
