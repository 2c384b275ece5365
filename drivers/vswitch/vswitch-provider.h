/* The vSwitch driver contract (paper 5.4, Tables 2 and 3).
 *
 * The core drives a vSwitch only through these hooks and never knows which
 * switch is behind them.  A driver fills one 'struct vswitch_class' and
 * is registered at start-up from the generated driver list
 * (orchestrator/vswitch.h).  Only orchestrator/vswitch.c calls the hooks:
 * its typed wrappers (vswitch_lsi_create(), ...) hold the fallbacks of the
 * optional hooks, log and time every call, and check the contract below
 * (a failure without a message, or a success without an object, is a bug
 * of the driver: logged always, an abort in debug builds, configure
 * --enable-debug).
 *
 * Objects.  'struct vswitch_lsi' and 'struct vswitch_port' are small bases
 * that the core reads (switch, name, owner, role) and never writes: each
 * driver embeds them in its own LSI and port structs and reaches those
 * with CONTAINER_OF.  The driver allocates them, fills the base, and owns
 * them until the matching destroy or release hook (or close) is called;
 * the core never frees them itself.
 *
 * Destroy and release.  An object leaves the core's hands in one of two
 * ways.  Destroy (lsi_destroy, port_destroy) removes it from the switch
 * and frees the driver's struct: a graph deleted or rolled back.  Release
 * (lsi_release, port_release) frees the driver's struct and leaves the
 * switch exactly as it is (bridge, ports, devices, rules): the daemon
 * shuts down while its graphs keep forwarding, and the next run finds
 * them by the names and identity recorded on them.  After either, the
 * core never passes that object again.  (Planned with the next version
 * of this contract: 'adopt', release's twin, which finds and verifies an
 * object a previous run released.)
 *
 * Errors.  Hooks return 0 or a negative errno.  On failure they write a
 * reason for the operator into 'err' (never NULL when the core calls),
 * with a kind (corch_err_setk) where it is not CORCH_ERR_FAILED: a name
 * taken by something not provably ours is CORCH_ERR_CONFLICT, a feature
 * the switch lacks CORCH_ERR_UNSUPPORTED.  On success every object asked
 * for is returned.  A hook that fails leaves nothing behind: it undoes
 * whatever it did before failing.  Destroy hooks never fail: they do their
 * best and log what they could not remove.
 *
 * Names and identity.  The core chooses every name (vswitch_*_spec); a
 * driver never builds one.  The driver records the owner (role, graph,
 * SF / SAP / group) on what it creates, and replaces an object of a taken
 * name only when that record proves it ours from an earlier run.
 *
 * Threads.  Hooks may be called concurrently for different graphs (never
 * for the same graph-LSI); a driver serialises access to shared state
 * (LSI-0, its connection to the switch) itself. */
#ifndef CORCH_VSWITCH_PROVIDER_H
#define CORCH_VSWITCH_PROVIDER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "graph.h"
#include "util.h"

struct corch_config;
struct vswitch;
struct vswitch_class;

/* What an LSI is for. */
enum vswitch_lsi_role {
    VSWITCH_LSI_ZERO,           /* LSI-0: the physical interfaces. */
    VSWITCH_LSI_GRAPH,          /* A graph-LSI. */
    VSWITCH_LSI_GROUP,          /* An internal group's learning LSI. */
};

/* A logical switch instance (a bridge): the base of the driver's LSI. */
struct vswitch_lsi {
    struct vswitch *vs;         /* The switch it is on. */
    char name[16];              /* Its name: the core's (LSI-0: the
                                 * driver's). */
    char *graph_id;             /* Owner graph (the driver's copy, freed
                                 * with the LSI); NULL for LSI-0 and group
                                 * LSIs. */
    enum vswitch_lsi_role role; /* What it is for. */
};

/* What a port is for. */
enum vswitch_port_role {
    VSWITCH_PORT_PHYS,          /* A physical interface of LSI-0. */
    VSWITCH_PORT_VLINK,         /* One end of a virtual link. */
    VSWITCH_PORT_SF,            /* An SF's port. */
    VSWITCH_PORT_SAP,           /* A gre / host-stack SAP's port. */
};

/* A port of an LSI: the base of the driver's port. */
struct vswitch_port {
    struct vswitch_lsi *lsi;    /* The LSI it is on. */
    char name[16];              /* Its name on the switch (the core's;
                                 * physical ports: the interface's). */
    enum vswitch_port_role role; /* What it is for. */
};

/* Port technologies: how an SF's vNIC is connected to its graph-LSI. */
enum vswitch_port_tech {
    VSWITCH_PORT_VETH,          /* A veth pair; the SF gets the peer end. */
    VSWITCH_PORT_INTERNAL,      /* A switch-internal port device. */
    VSWITCH_PORT_TAP,           /* A tap device (VMs). */
    VSWITCH_PORT_VHOST_USER,    /* A vhost-user socket (DPDK, VMs). */
};
const char *vswitch_port_tech_name(enum vswitch_port_tech);

/* What to create for an LSI. */
struct vswitch_lsi_spec {
    const char *graph_id;       /* Owner graph; NULL for LSI-0 and shared
                                 * internal-group LSIs. */
    const char *name;           /* Bridge name chosen by the core,
                                 * [A-Za-z0-9_.-]{1,15}, unique on the node. */
    bool learning;              /* L2 learning switch (internal groups)
                                 * instead of a rule-programmed one. */
    const char *group;          /* learning: the internal group's name,
                                 * stored as identity (its LSI's name is a
                                 * hash of it: another group's LSI of that
                                 * name is a conflict, not ours). */
};

/* What to create for an SF port on a graph-LSI. */
struct vswitch_port_spec {
    enum vswitch_port_tech tech;
    const char *name;           /* Switch-side name chosen by the core,
                                 * [A-Za-z0-9_.-]{1,15}, unique on the node. */
    const char *graph_id;       /* Owner graph, stored as identity. */
    const char *sf_id;          /* Owner SF. */
    const char *sf_port_id;     /* The SF port it serves. */
    /* Optional (NULL when the engine has no namespace to offer): for a
     * veth port, the SF's network namespace (a path, as /run/netns/x) and
     * the name the SF end must have in it.  A driver that honours them
     * makes the SF end directly in there under that name (rtnetlink:
     * netlink_veth_create_in_netns()), so that the engine moves nothing
     * (each device move waits for an RCU grace period, 15-30 ms), and
     * says so in vswitch_port_info.sf_in_netns.  A driver may ignore them:
     * the engine then moves the device itself, as before. */
    const char *sf_netns_path;
    const char *sf_ifname;
    /* For a veth port whose SF end is made next to the switch end (no
     * namespace offered, or a driver that ignores it): the name of that
     * SF end, chosen by the core like 'name'.  NULL: the driver derives
     * one (drivers written before the core named it). */
    const char *sf_peer_name;
};

/* What to create for one virtual link (vlinks_create): the names of both
 * ends, chosen by the core ([A-Za-z0-9_.-]{1,15}, unique on the node by
 * construction: the driver never builds a vlink name), and the identity
 * to record on both ends. */
struct vswitch_vlink_spec {
    const char *a_name;         /* Its end on LSI 'a'. */
    const char *b_name;         /* Its end on LSI 'b'. */
    const char *graph_id;       /* Owner graph, stored as identity on both
                                 * ends (a name taken by a port with any
                                 * other identity is a conflict). */
};

/* SAPs made on a graph-LSI by sap_create(). */
enum vswitch_sap_type {
    VSWITCH_SAP_GRE,            /* A GRE tunnel port. */
    VSWITCH_SAP_HOST_STACK,     /* An internal port with an address in the
                                 * host stack. */
};

/* What to create for a SAP on a graph-LSI: made by the core from the
 * SF-FG's SAP, so that a driver never reads the graph model. */
struct vswitch_sap_spec {
    enum vswitch_sap_type type;
    const char *name;           /* Port name chosen by the core, like a port
                                 * spec's. */
    const char *graph_id;       /* Owner graph, stored as identity. */
    const char *sap_id;         /* The SAP it serves, stored as identity. */
    struct flow_ip local_ip;    /* gre: tunnel source; family 0 = any. */
    struct flow_ip remote_ip;   /* gre: tunnel destination (IPv4 or IPv6:
                                 * the underlay). */
    uint32_t gre_key;           /* gre: the key, if has_gre_key. */
    bool has_gre_key;           /* gre: whether the tunnel is keyed. */
    struct flow_ip ipv4;        /* host-stack: address and prefix for the
                                 * host stack (IPv4). */
};

/* What the SF side gets, filled by port_create. */
struct vswitch_port_info {
    char sf_ifname[16];         /* Device handed to the SF (veth peer,
                                 * internal port, tap); "" if none. */
    char socket_path[108];      /* vhost-user socket; "" if none. */
    uint32_t ofport;            /* Switch port number, for diagnostics. */
    bool sf_in_netns;           /* The SF end was made in the spec's
                                 * sf_netns_path, named sf_ifname (which
                                 * 'sf_ifname' above then holds): nothing
                                 * for the engine to move. */
};

/* One action of a rule, applied in array order. */
enum vswitch_action_type {
    VSWITCH_ACT_OUTPUT,         /* u.port */
    VSWITCH_ACT_PUSH_VLAN,      /* u.vlan_id: push 802.1Q, set VID. */
    VSWITCH_ACT_POP_VLAN,       /* Remove the outer 802.1Q tag. */
    VSWITCH_ACT_SET_ETH_SRC,    /* u.mac */
    VSWITCH_ACT_SET_ETH_DST,    /* u.mac */
    VSWITCH_ACT_SET_IP_SRC,     /* u.ip (IPv4 or IPv6, full prefix) */
    VSWITCH_ACT_SET_IP_DST,     /* u.ip */
};
struct vswitch_action {
    enum vswitch_action_type type;
    union {
        struct vswitch_port *port;
        uint16_t vlan_id;
        uint8_t mac[6];
        struct flow_ip ip;
    } u;
};

/* A traffic-steering rule for one LSI (paper Table 3).  A rule with no
 * action drops.  Two rules of one LSI are the same rule when their
 * priority, in_port and match are equal. */
struct vswitch_rule {
    uint64_t cookie;            /* Identity: the owner graph in the upper
                                 * 32 bits, the rule in the lower 32. */
    uint16_t priority;
    struct vswitch_port *in_port; /* Required. */
    struct flow_match match;    /* Other header fields. */
    struct vswitch_action *actions; /* Owned by the caller. */
    size_t n_actions;
};

/* A batch for rules_apply(): deletions first, then additions, applied as
 * one unit (an OpenFlow bundle, or a barrier-terminated batch undone on
 * error).  Arrays owned by the caller. */
struct vswitch_rule_batch {
    const struct vswitch_rule *del;
    size_t n_del;
    const struct vswitch_rule *add;
    size_t n_add;
};

/* An open switch (vswitch_class.open): the base of the driver's instance
 * struct, which embeds it and reaches its own struct with CONTAINER_OF
 * (util.h), as OVS's dpif providers do.  Every hook takes it: a driver
 * keeps no mutable file-static state, so that two instances of one class
 * (two switches) live in one process.  The core reads it, never writes
 * it. */
struct vswitch {
    const struct vswitch_class *class; /* The driver that opened it. */
};

struct vswitch_class {
    /* "ovs", "dummy", ... as in config key vswitch.driver. */
    const char *type;

    /* Connects to the switch described by 'cfg' and returns a new
     * instance (its 'class' set to this class) that every other hook
     * takes.  Required. */
    int (*open)(const struct corch_config *cfg, struct vswitch **ret,
                struct corch_err *err);
    /* Disconnects and frees the instance and the driver's handles of its
     * LSIs and ports that the core has not destroyed or released (LSI-0
     * and its physical ports always); what is deployed on the switch
     * stays.  The core calls it last, with no other hook running.
     * Required. */
    void (*close)(struct vswitch *);

    /* Management interface (paper Table 2). */

    /* Creates LSI-0 with the physical interfaces 'ifnames' (n of them), or
     * adopts it if it exists from a previous run.  Required. */
    int (*lsi0_open)(struct vswitch *, const char *const *ifnames, size_t n,
                     struct vswitch_lsi **ret_lsi0, struct corch_err *err);
    /* The port of LSI-0 for physical interface 'ifname' (one of those
     * passed to lsi0_open), owned by the driver: never destroyed by the
     * core.  -ENODEV if unknown.  Required. */
    int (*lsi0_port)(struct vswitch *, struct vswitch_lsi *lsi0,
                     const char *ifname, struct vswitch_port **ret_port);

    /* Creates a graph-LSI or an internal-group LSI, locked down so that
     * nobody but c-orch programs it, with its identity (role, owner graph
     * or group) recorded on it.  A bridge of that name with the same
     * identity (an earlier run) may be replaced; any other is
     * CORCH_ERR_CONFLICT.  Required. */
    int (*lsi_create)(struct vswitch *, const struct vswitch_lsi_spec *,
                      struct vswitch_lsi **ret_lsi, struct corch_err *err);
    /* Destroys an LSI with its ports, vlinks' ends on it and rules.  Never
     * fails.  Required. */
    void (*lsi_destroy)(struct vswitch *, struct vswitch_lsi *);
    /* Releases an LSI made by lsi_create: frees the driver's struct and
     * the structs of the ports still on it (and of the far ends of its
     * vlinks), without touching the switch: the bridge, its ports, their
     * devices and its rules stay as they are.  The core calls it at
     * shutdown, after releasing the LSI's ports it still holds (vlinks
     * first); it never calls it for LSI-0 (close frees that).  Never
     * fails.  May be NULL: the driver keeps the struct until close, which
     * frees it. */
    void (*lsi_release)(struct vswitch *, struct vswitch_lsi *);

    /* Creates 'n' virtual links between 'a' and 'b' (patch-port pairs on
     * OVS), link i with the names and identity of specs[i].  Fills
     * ret_a_ports[i] / ret_b_ports[i] with the two ends of link i.  A name
     * already taken by a port that does not carry the same identity (role
     * vlink, the same graph) is an error of kind CORCH_ERR_CONFLICT, never
     * removed; one that does (left by an earlier run of c-orch) may be
     * replaced.  All or nothing.  Required. */
    int (*vlinks_create)(struct vswitch *, struct vswitch_lsi *a,
                         struct vswitch_lsi *b,
                         const struct vswitch_vlink_spec *specs, size_t n,
                         struct vswitch_port **ret_a_ports,
                         struct vswitch_port **ret_b_ports,
                         struct corch_err *err);

    /* Creates an SF port on a graph-LSI and says what the SF side gets.
     * Its identity (owner graph, SF, port) goes on the port (and on a
     * device the switch keeps no record of, e.g. a veth's alias): a name
     * taken by something not provably ours is CORCH_ERR_CONFLICT.
     * Required. */
    int (*port_create)(struct vswitch *, struct vswitch_lsi *,
                       const struct vswitch_port_spec *,
                       struct vswitch_port **ret_port,
                       struct vswitch_port_info *ret_info,
                       struct corch_err *err);

    /* Creates 'n' SF ports on one graph-LSI at once: what port_create does
     * for specs[i] (filling ret_ports[i] and ret_infos[i]), in as few
     * switch transactions as the switch allows (OVS: one OVSDB transaction
     * and one wait for ovs-vswitchd, which reconfigures every port of the
     * node on each transaction: per-port transactions cost O(ports^2) for
     * a big graph).  All or nothing: on failure no port is left and 'err'
     * names the port (its sf_id / sf_port_id).  Ports made here are
     * destroyed one by one with port_destroy.  May be NULL: the core then
     * calls port_create for each. */
    int (*ports_create)(struct vswitch *, struct vswitch_lsi *,
                        const struct vswitch_port_spec *specs, size_t n,
                        struct vswitch_port **ret_ports,
                        struct vswitch_port_info *ret_infos,
                        struct corch_err *err);

    /* Creates the port of a SAP that lives on a graph-LSI: gre (a tunnel
     * port) and host-stack (an internal port with the SAP's address in the
     * host stack), as 'spec' says.  Interface and vlan SAPs use lsi0_port()
     * instead.  -EOPNOTSUPP for SAP types the switch cannot do; a name
     * taken by something not provably ours: CORCH_ERR_CONFLICT.
     * Required. */
    int (*sap_create)(struct vswitch *, struct vswitch_lsi *,
                      const struct vswitch_sap_spec *,
                      struct vswitch_port **ret_port, struct corch_err *err);

    /* Destroys a port made by vlinks_create (either end: both go),
     * port_create or sap_create.  Never fails.  Required. */
    void (*port_destroy)(struct vswitch *, struct vswitch_port *);
    /* Releases a port made by vlinks_create (either end: the structs of
     * both ends go), port_create or sap_create: frees the driver's struct
     * and leaves the port, its device (a veth and its SF end, a tunnel)
     * and the rules that use it on the switch.  Never called for
     * LSI-0's physical ports (lsi0_port: the driver's until close).
     * Never fails.  May be NULL: the driver keeps the struct until its
     * LSI is released or the switch closed. */
    void (*port_release)(struct vswitch *, struct vswitch_port *);

    /* Control interface (paper Table 3). */

    /* Applies a batch of rule deletions and additions to one LSI, whole or
     * not at all, and returns once the switch has them.  Required. */
    int (*rules_apply)(struct vswitch *, struct vswitch_lsi *,
                       const struct vswitch_rule_batch *,
                       struct corch_err *err);

    /* Whether the switch can do a SAP type on this node ("gre" needs
     * tunnel support...).  Used in the node description.  May be NULL
     * (everything supported). */
    bool (*sap_supported)(const struct vswitch *, enum graph_sap_type);

    /* Deletes every rule of the LSI whose cookie equals 'cookie' in the
     * bits set in 'mask', and returns once the switch has done it.  The
     * network manager calls it on LSI-0 before a graph's first rules go
     * there, so that rules an earlier run of c-orch left under the same
     * graph number (a restart deploys the graphs again over what the
     * switch kept) cannot linger with stale ports.  May be NULL: a switch
     * that keeps no rules across a restart of c-orch. */
    int (*rules_flush)(struct vswitch *, struct vswitch_lsi *,
                       uint64_t cookie, uint64_t mask,
                       struct corch_err *err);
};

#endif
