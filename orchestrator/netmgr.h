/* The network manager (paper 5.2, 5.4): turns a graph into LSIs, ports,
 * virtual links and traffic-steering rules on the vSwitch.
 *
 * Model.  LSI-0 (made at start-up) owns the physical interfaces, hence the
 * interface and vlan SAPs.  Each graph has a graph-LSI "cg<T><NNNN>"
 * holding its SF ports "cg<T><NNNN>s<III>p<JJ>" (a veth's SF end, when made
 * next to it: "...q<JJ>"), its gre / host-stack SAP ports
 * "cg<T><NNNN>a<KKK>", the graph-LSI ends "cg<T><NNNN>w<KKK>" of its
 * virtual links to LSI-0 (whose LSI-0 ends are "cg<T><NNNN>v<KKK>") and,
 * for each internal SAP, one end "cg<T><NNNN>j<KKK>" of a virtual link to
 * the shared learning LSI of its internal group (end "...i<KKK>" there; the
 * LSI is "cgi<T><hash of the group name, 8 hex digits>", created by the
 * first graph that names the group and destroyed with the last one).
 * NNNN is the graph's number on this node, III the SF's slot in the graph
 * (kept across updates and restarts), JJ the port, KKK the SAP's slot or
 * the vlink's number, all zero-padded to a fixed width, and T a
 * two-letter tag of the node id: switch devices and SF namespaces are
 * host-wide, and two daemons on one host (tests, a two-node set-up) must
 * not collide.  The core makes every name (drivers never build one); the
 * fixed widths and one letter per kind make them unique by construction,
 * all within 15 characters.  The switch records the owner (graph, role)
 * on each object: a name taken by something else is a conflict, never a
 * leftover to remove.  Virtual links between LSI-0
 * and the graph-LSI are minimised as in Algorithm 1, and every flowrule
 * becomes one rule on one LSI or, when it crosses LSIs (Table 4), an LSI-0
 * rule plus a graph-LSI rule through a vlink (Algorithm 2):
 *   - the rule on the LSI of the flowrule's port_in keeps the match, the
 *     priority and the packet modifications, and outputs on the local
 *     ports or on the vlink towards each remote output;
 *   - the other LSI gets one forwarding rule per used vlink end ("in_port =
 *     vlink, output to its target", priority NETMGR_VLINK_PRIORITY), shared
 *     by every flowrule going to that target.
 * vlan SAPs: the LSI-0 rule matches in_port = interface and vlan_id = the
 * SAP's id, and pops the tag first; whatever outputs to a vlan SAP pushes
 * the tag just before that output.  So SFs never see the tag.
 * Cookies: the graph number in the upper 32 bits; in the lower 32 bits a
 * hash of the flowrule id (bit 31 clear) or, for vlink forwarding rules,
 * bit 31 set and the vlink number.  (A hash, not the flowrule's index, so
 * that an update keeps the cookie of every unchanged rule.)
 *
 * SAP sharing: several graphs may use one interface when their claims on
 * it are disjoint.  A vlan SAP claims its VLAN id; an interface SAP claims
 * the match of every flowrule entering through it.  Two claims are
 * disjoint when some field is present in both and the values cannot both
 * match (different VLAN ids, MACs, ethertypes, protocols, ports, or
 * non-overlapping IP prefixes).  A match without vlan_id also matches
 * tagged frames, so it overlaps every vlan SAP of that interface. */
#ifndef CORCH_NETMGR_H
#define CORCH_NETMGR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "util.h"
#include "vswitch/vswitch-provider.h"

#define NETMGR_VLINK_PRIORITY 1
/* Bounds of the fixed-width fields that keep every name within 15
 * characters. */
#define NETMGR_MAX_GRAPH_NUMBER 9999
#define NETMGR_MAX_SF_SLOT 999
#define NETMGR_MAX_SAP_SLOT 999
#define NETMGR_MAX_VLINKS 1000

/* The node's two-letter name tag (into 'tag', 3 bytes with the NUL). */
void netmgr_node_tag(const char *node_id, char tag[3]);

/* Which LSI an SF port or SAP lives on. */
enum netmgr_side { NETMGR_LSI0, NETMGR_GRAPH_LSI };
enum netmgr_side netmgr_port_side(const struct graph *,
                                  const struct graph_port_ref *);

/* --- The pure split (Algorithms 1 and 2), no driver involved
 * (netmgr-split.c). --- */

/* Virtual links: vlink k carries to the graph-LSI the traffic for endpoint
 * to_graph[k] and to LSI-0 the traffic for endpoint to_lsi0[k].  Endpoints
 * are named by key: "sap:<id>" or "sf:<sf id>:<port id>"; NULL = unused. */
struct netmgr_vlink_plan {
    char **to_graph;            /* n entries. */
    char **to_lsi0;             /* n entries. */
    size_t n;                   /* Number of vlinks. */
};

/* A port in a split rule. */
enum netmgr_pref_kind { NETMGR_P_ENDPOINT, NETMGR_P_VLINK };
struct netmgr_pref {
    enum netmgr_pref_kind kind;
    struct graph_port_ref ep;   /* NETMGR_P_ENDPOINT: the SAP or SF port. */
    size_t vlink;               /* NETMGR_P_VLINK: its end on the rule's
                                 * LSI. */
};

struct netmgr_action {
    enum vswitch_action_type type;
    struct netmgr_pref port;    /* VSWITCH_ACT_OUTPUT. */
    uint16_t vlan_id;           /* VSWITCH_ACT_PUSH_VLAN. */
    uint8_t mac[6];             /* VSWITCH_ACT_SET_ETH_*. */
    struct flow_ip ip;          /* VSWITCH_ACT_SET_IP_*. */
};

struct netmgr_rule {
    uint32_t id;                /* Lower 32 bits of the cookie. */
    size_t flowrule;            /* Index of its flowrule; SIZE_MAX for a
                                 * vlink forwarding rule. */
    uint16_t priority;
    struct netmgr_pref in;      /* in_port. */
    struct flow_match match;
    struct netmgr_action *actions; /* Owned; none: drop. */
    size_t n_actions;
};

struct netmgr_split {
    struct netmgr_vlink_plan plan;
    struct netmgr_rule *lsi0;   /* Rules for LSI-0. */
    size_t n_lsi0;
    struct netmgr_rule *glsi;   /* Rules for the graph-LSI. */
    size_t n_glsi;
};

/* Splits the flowrules of 'g'.  With 'prev' (the plan of the deployed
 * version of the graph, or NULL), endpoints keep their vlinks and new ones
 * take free slots, so that an update changes as little as possible;
 * without, the plan is exactly Algorithm 1's.  Never fails. */
struct netmgr_split *netmgr_split(const struct graph *g,
                                  const struct netmgr_vlink_plan *prev);
void netmgr_split_free(struct netmgr_split *);
void netmgr_vlink_plan_clear(struct netmgr_vlink_plan *);
/* The key of an endpoint ("sap:<id>" / "sf:<sf>:<port>"); caller frees. */
char *netmgr_endpoint_key(const struct graph *, const struct graph_port_ref *);

/* --- SAP claims on LSI-0's interfaces. --- */
struct netmgr_claim {
    const char *ifname;         /* Into the graph. */
    struct flow_match match;    /* What the graph takes from it. */
    size_t sap;                 /* Index of the SAP claiming. */
};
/* The claims of 'g' (caller frees the array). */
size_t netmgr_claims(const struct graph *g, struct netmgr_claim **ret);
/* Whether some packet can match both. */
bool netmgr_matches_overlap(const struct flow_match *,
                            const struct flow_match *);
/* -EADDRINUSE, kind CORCH_ERR_CONFLICT, if 'g' claims something 'other'
 * (graph 'other_id') claims, with a message naming the other graph and a
 * path naming the SAP. */
int netmgr_claims_check(const struct graph *g, const struct graph *other,
                        const char *other_id, struct corch_err *err);

/* --- The manager, driving a vSwitch. --- */
struct netmgr;
struct netmgr_graph;
struct netmgr_txn;

/* 'vs' and 'lsi0' outlive the manager; 'node_id' gives the name tag. */
struct netmgr *netmgr_create(struct vswitch *vs,
                             struct vswitch_lsi *lsi0, const char *node_id);
/* Releases the internal groups' LSIs (vswitch_lsi_release) and frees the
 * bookkeeping; whatever is deployed stays.  After every graph's
 * netmgr_graph_release(). */
void netmgr_destroy(struct netmgr *);           /* Accepts NULL. */

/* The network state of one graph (nothing on the switch yet). */
struct netmgr_graph *netmgr_graph_new(struct netmgr *, const char *graph_id,
                                      unsigned int number);
/* Frees the bookkeeping only, holding no switch object: a graph whose
 * deploy failed or that was never deployed. */
void netmgr_graph_free(struct netmgr_graph *);  /* Accepts NULL. */
/* Daemon shutdown: releases the graph's switch objects (vswitch
 * port_release / lsi_release: vlinks, SAP ports, SF ports, the
 * graph-LSI), leaving them deployed with their rules, and frees the
 * bookkeeping. */
void netmgr_graph_release(struct netmgr_graph *); /* Accepts NULL. */
/* Asks that SF 'sf_id', when its ports are next made, get slot 'slot' if
 * free: a restart gives each SF the names (and so the instance) it had. */
void netmgr_graph_hint_slot(struct netmgr_graph *, const char *sf_id,
                            unsigned int slot);
/* The prefix of SF i's names after prepare ("cg<T><NNNN>s<III>"), usable as
 * its instance name. */
void netmgr_txn_sf_name(const struct netmgr_txn *, size_t sf, char *buf,
                        size_t size);
/* Removes everything of the graph from the switch (its LSI-0 rules, vlinks,
 * internal-group links, ports, graph-LSI) and frees it.  Never fails:
 * what cannot be removed is logged. */
void netmgr_graph_teardown(struct netmgr_graph *); /* Accepts NULL. */

/* Step 3 of a deploy or update to 'g': creates the graph-LSI if needed,
 * the ports of the SFs with sf_new[i] (techs[i][j]: technology of port j),
 * the ports of SAPs that are new or changed, and the vlinks the new split
 * needs.  Ports of SFs without sf_new[i] are those of the deployed SF with
 * the same id; if that one has fewer ports, the SF keeps its slot and
 * ports and gets the ones added at the end (an SF updated in place); if it
 * has more, the ones at the end go at commit.  'g' must stay valid until commit/abort.  On failure
 * nothing is left (err names the SF or SAP). */
int netmgr_prepare(struct netmgr_graph *, const struct graph *g,
                   const bool *sf_new, enum vswitch_port_tech *const *techs,
                   struct netmgr_txn **ret, struct corch_err *err);
/* The same in two halves, so that an engine can prepare each new SF
 * (compute_class.prepare: its namespace) between them, once the SF's
 * names are known and before its ports exist.  begin: the transaction,
 * with a slot (netmgr_txn_sf_name()) for each SF with sf_new[i]; nothing
 * on the switch yet; on failure nothing is left.  build: the rest of
 * netmgr_prepare(); on failure everything of the transaction is undone
 * and it is freed (do not abort it).  A transaction that fails between
 * the two is given to netmgr_txn_abort(). */
struct netmgr_sf_place {
    const char *netns_path;     /* The SF's network namespace, or NULL. */
    const char *const *ifnames; /* Per SF port: its name in there (NULL
                                 * entries: no wish). */
};
int netmgr_txn_begin(struct netmgr_graph *, const struct graph *g,
                     const bool *sf_new, struct netmgr_txn **ret,
                     struct corch_err *err);
/* 'places' (per SF of 'g', or NULL): where the SF end of each veth port
 * of a new SF should be made (vswitch_port_spec.sf_netns_path). */
int netmgr_txn_build(struct netmgr_txn *,
                     enum vswitch_port_tech *const *techs,
                     const struct netmgr_sf_place *places,
                     struct corch_err *err);
/* What the SF side of port 'port' of deployed SF 'sf_id' got (before the
 * transaction in progress commits), or NULL. */
const struct vswitch_port_info *netmgr_graph_sf_port_info(
    const struct netmgr_graph *, const char *sf_id, size_t port);
/* What the SF side of port j of SF i got. */
const struct vswitch_port_info *netmgr_txn_port_info(const struct netmgr_txn *,
                                                     size_t sf, size_t port);
/* The slot of SF i ("cg<T><NNNN>s<III>...", also in instance names). */
unsigned int netmgr_txn_sf_slot(const struct netmgr_txn *, size_t sf);
/* Step 5: installs the rules, by diff against what is installed: one
 * rules_apply() batch (deletions + additions) per LSI that changes. */
int netmgr_txn_rules(struct netmgr_txn *, struct corch_err *err);
/* Success: removes what the new graph no longer has (old SF ports, SAP
 * ports, surplus vlinks) and frees the transaction. */
void netmgr_txn_commit(struct netmgr_txn *);
/* Failure: undoes every step of the transaction in reverse order, and
 * frees it. */
void netmgr_txn_abort(struct netmgr_txn *);

/* Rules installed (for status and tests). */
size_t netmgr_graph_rule_count(const struct netmgr_graph *, bool lsi0);

#endif
