/* The node description (paper 5.1.2): the document GET /v1/node returns
 * and the bus publishes (schemas/node-description.schema.json).
 *
 * Built in two steps so that each can be tested alone: node_info_gather()
 * reads the node (the nrm, the repository, the engines, the kernel) into a
 * plain 'struct node_info', and node_info_to_json() turns that into the
 * document.  node_describe() does both. */
#ifndef CORCH_NODE_H
#define CORCH_NODE_H 1

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nrm;

/* Builds the current description.  Caller owns it. */
json_object *node_describe(struct nrm *);

/* One endpoint of the "big switch": a physical interface of LSI-0. */
struct node_endpoint {
    char *name;                 /* Interface name (vswitch.interfaces). */
    bool present;               /* The interface exists on the host now. */
    char *mac;                  /* "aa:bb:cc:dd:ee:ff", NULL if unknown. */
    char **ipv4;                /* Addresses as CIDR, NULL-terminated. */
    char *neighbour;            /* Neighbour domain (node.neighbours) or
                                 * NULL. */
    bool vlan;                  /* VLAN SAPs possible on it. */
    char **vlans_free;          /* Free VLAN ids as ranges ("1-99", "101"),
                                 * NULL-terminated. */
    bool gre;                   /* GRE SAPs possible. */
};

/* One template implementing a functional capability. */
struct node_template {
    char *id;                   /* Template id in the repository. */
    char *engine;               /* Its engine, NULL for a sub-graph. */
    bool ready;                 /* Its engine is enabled and usable. */
};

/* A functional capability ("firewall") and its implementations. */
struct node_capability {
    char *name;                 /* Capability name. */
    struct node_template *templates; /* Implementations. */
    size_t n_templates;
    bool ready;                 /* At least one template is ready. */
};

/* An execution engine enabled on the node. */
struct node_engine {
    char *type;                 /* "native", "docker", ... */
    bool usable;                /* Last probe said usable. */
    char *why;                  /* Why not usable, NULL when usable. */
};

/* A deployed graph. */
struct node_graph {
    char *id;                   /* Graph id. */
    char *name;                 /* Graph name, may be NULL. */
    char *status;               /* "running", "failed", ... */
};

/* Everything the description says, as plain data. */
struct node_info {
    char *id;                   /* Node id. */
    char *name;                 /* Human name. */
    char *mgmt_address;         /* REST address. */
    unsigned int mgmt_port;     /* REST port. */
    bool mgmt_tls;              /* REST is HTTPS. */
    struct node_endpoint *endpoints; /* The big switch's endpoints. */
    size_t n_endpoints;
    struct node_capability *capabilities; /* Functional capabilities. */
    size_t n_capabilities;
    char *arch;                 /* CPU architecture (uname -m). */
    char *vswitch;              /* vSwitch driver type. */
    char **sap_types;           /* SAP types supported, NULL-terminated. */
    struct node_engine *engines; /* Enabled engines. */
    size_t n_engines;
    unsigned int cores_total;   /* Online CPUs. */
    unsigned int cores_free;    /* Not bound to an SF. */
    uint64_t memory_mb_total;   /* Physical memory. */
    uint64_t memory_mb_free;    /* Not reserved by SFs. */
    double load[3];             /* /proc/loadavg: 1, 5, 15 minutes. */
    struct node_graph *graphs;  /* Deployed graphs. */
    size_t n_graphs;
};

/* Reads the node into 'ret' (which the caller clears with
 * node_info_clear()). */
void node_info_gather(struct nrm *, struct node_info *ret);
/* The description document of 'info'.  Caller owns it. */
json_object *node_info_to_json(const struct node_info *info);
/* Frees what 'info' holds and zeroes it.  Accepts a zeroed struct. */
void node_info_clear(struct node_info *info);

/* Turns the sorted VLAN ids in use ('used', 'n') into the free ranges of
 * 1-4094 ("1-99", "101", "103-4094"), NULL-terminated; caller frees with
 * strv_free(). */
char **node_vlan_free_ranges(const uint16_t *used, size_t n);

/* The neighbour domain configured for 'ifname' in a "if=domain,..." list,
 * or NULL.  Caller frees. */
char *node_neighbour_of(const char *neighbours, const char *ifname);

/* The current CPU load averages from /proc/loadavg (zeros if unreadable). */
void node_read_loadavg(double ret_load[3]);

#endif
