/* The node resource manager: owns the deployed graphs and runs the deploy
 * / update / destroy pipeline (DESIGN.md):
 *   1. resolver   2. scheduler   3. network manager: LSIs, ports, vlinks
 *   4. compute manager: create + start SFs   5. network manager: rules
 *   6. commit to the store; tell the listeners (the bus)
 * A failure at any step undoes the steps before it in reverse order and
 * leaves nothing on the node.
 *
 * Concurrency: calls on different graphs run in parallel; a call on a graph
 * that is being deployed, updated or deleted fails at once with -EBUSY.
 *
 * Errors: a negative errno, with the reason in 'err' and its kind in
 * err->kind (what the REST layer maps to a status):
 *   INVALID      the graph is not acceptable (err->path names the field)
 *   NOT_FOUND    no such graph (-ENOENT)
 *   BUSY         the graph is busy: another request on it runs (-EBUSY)
 *   CONFLICT     a SAP claim conflicts with another graph; the node is
 *                full (limits.max_graphs, graph numbers: -E2BIG)
 *   UNRESOLVABLE an SF cannot be resolved (err->msg lists each candidate
 *                and why it was rejected)
 *   TOO_LARGE    more SFs or ports than names can hold (-E2BIG)
 *   UNSUPPORTED  a SAP type the vSwitch cannot do here (-EOPNOTSUPP)
 *   FAILED       a deploy step failed (err->msg names the step and the
 *                SF; the errno is the driver's, whatever it is); the graph
 *                was rolled back */
#ifndef CORCH_NRM_H
#define CORCH_NRM_H 1

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "graph.h"
#include "util.h"

struct corch_config;
struct store;
struct repository;
struct nrm;
struct vswitch;

enum nrm_graph_status {
    NRM_DEPLOYING, NRM_RUNNING, NRM_UPDATING, NRM_FAILED, NRM_DELETING,
};
const char *nrm_graph_status_name(enum nrm_graph_status);

/* Creates the manager: the vSwitch driver (vswitch.driver) and LSI-0 with
 * vswitch.interfaces, the engines, the repository, and the graphs found in
 * the store (left running by the previous run).  'store' outlives it. */
int nrm_create(const struct corch_config *, struct store *,
               struct nrm **ret_nrm, struct corch_err *err);
/* Stops accepting work, waits for in-flight operations, releases every
 * object the drivers hold for it (each graph's SFs, ports and LSIs, then
 * the engines and the switch closed) and frees the manager.  Deployed
 * graphs stay deployed and keep running: nothing is stopped or removed
 * on the node, and a later nrm_create() over the same store finds them. */
void nrm_destroy(struct nrm *);                 /* Accepts NULL. */

/* Deploys 'graph' (taking ownership of it), or updates the graph with the
 * same id by diff: SFs and rules that did not change are not touched.
 * 'owner' is recorded on creation; 'format' ("sffg" or "nffg") says which
 * API it came through.  '*ret_created' says which of the two happened. */
int nrm_graph_put(struct nrm *, struct graph *graph, const char *owner,
                  const char *format, bool *ret_created,
                  struct corch_err *err);
/* Removes a graph and everything deployed for it. */
int nrm_graph_delete(struct nrm *, const char *id, struct corch_err *err);

/* A copy of the graph as accepted, its owner and API format.  -ENOENT. */
int nrm_graph_get(struct nrm *, const char *id, struct graph **ret_graph,
                  char **ret_owner, char **ret_format);
/* The owner of a graph (caller frees).  -ENOENT. */
int nrm_graph_owner(struct nrm *, const char *id, char **ret_owner);
/* {"id","status","sfs":[{"id","state","engine","template","cores"}],
 *  "error":string|null}; -ENOENT. */
int nrm_graph_status(struct nrm *, const char *id, json_object **ret_status);
/* {"graphs":[{"id","name","status"}]}, only those owned by 'owner' unless
 * 'owner' is NULL. */
json_object *nrm_graph_list(struct nrm *, const char *owner);

/* Node facts for the node description. */
const char *nrm_node_id(const struct nrm *);
const struct corch_config *nrm_config(const struct nrm *);
struct repository *nrm_repository(const struct nrm *);
/* The vSwitch driver's type ("ovs", "dummy"). */
/* The open vSwitch (tests inspect a dummy switch through it). */
struct vswitch *nrm_vswitch(const struct nrm *);
const char *nrm_vswitch_type(const struct nrm *);
/* Whether the vSwitch can do SAPs of that type here. */
bool nrm_sap_supported(const struct nrm *, enum graph_sap_type);
struct nrm_resources {
    unsigned int cores_total;   /* Online CPUs. */
    unsigned int cores_free;    /* Not bound to any SF. */
    uint64_t memory_mb_total;   /* Physical memory. */
    uint64_t memory_mb_free;    /* Not reserved by SF templates. */
};
void nrm_resources(struct nrm *, struct nrm_resources *ret);
/* VLAN ids of 'ifname' already claimed by graphs, as a sorted array the
 * caller frees. */
size_t nrm_vlans_in_use(struct nrm *, const char *ifname, uint16_t **ret_ids);

/* Events for listeners (the bus). */
enum nrm_event_type {
    NRM_EVENT_DEPLOYED, NRM_EVENT_UPDATED, NRM_EVENT_FAILED,
    NRM_EVENT_DELETED,
};
const char *nrm_event_type_name(enum nrm_event_type);
struct nrm_event {
    enum nrm_event_type type;
    const char *graph_id;
    const char *error;          /* NRM_EVENT_FAILED: why; else NULL. */
};
/* Called after the event's state is committed, from the thread that did
 * the work, without nrm locks held.  One listener per nrm; NULL removes. */
typedef void nrm_listener_func(void *aux, const struct nrm_event *);
void nrm_set_listener(struct nrm *, nrm_listener_func *, void *aux);

#endif
