/* The SF-FG graph model: parsing, validation, normalised serialisation and
 * comparison of service graphs (paper 5.1.1, Fig. 4 and 5).  One header
 * for three files: graph-parse.c (JSON in, every check), graph-json.c
 * (JSON out), graph.c (copy, free, lookups, comparisons); the OpenFlow
 * prerequisites of a match are flow.c's.
 *
 * A 'struct graph' is always valid: graph_from_json() either builds a
 * graph that passed every schema and semantic check, or fails with a
 * 'struct corch_err' whose path names the offending field
 * ("sffg.flowrules[3].match.port_in").  Everything in a graph is owned by
 * it and released by graph_free(). */
#ifndef CORCH_GRAPH_H
#define CORCH_GRAPH_H 1

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "util.h"

enum graph_sap_type {
    GRAPH_SAP_INTERFACE,        /* A physical interface of the node. */
    GRAPH_SAP_VLAN,             /* One VLAN id on a physical interface. */
    GRAPH_SAP_GRE,              /* A GRE tunnel end. */
    GRAPH_SAP_HOST_STACK,       /* The host's TCP/IP stack. */
    GRAPH_SAP_INTERNAL,         /* An internal group shared by graphs
                                 * (the un-orchestrator's "internal"). */
};
/* "interface", "vlan", "gre", "host-stack", "internal". */
const char *graph_sap_type_name(enum graph_sap_type);

struct graph_sf_port {
    char *id;                   /* Unique within its SF. */
    char *name;                 /* Free text, may be NULL. */
};

struct graph_sf {
    char *id;                   /* Unique within the graph. */
    char *name;                 /* Functional capability ("firewall"). */
    char *template_id;          /* Implementation asked for, or NULL. */
    json_object *config;        /* Handed to the SF (an object), or NULL. */
    struct graph_sf_port *ports;
    size_t n_ports;
};

struct graph_sap {
    char *id;                   /* Unique within the graph. */
    char *name;                 /* Free text, may be NULL. */
    enum graph_sap_type type;
    char *if_name;              /* interface, vlan: the node's interface. */
    uint16_t vlan_id;           /* vlan: 1-4094. */
    struct flow_ip local_ip;    /* gre: tunnel source (full prefix). */
    struct flow_ip remote_ip;   /* gre: tunnel destination (full prefix). */
    uint32_t gre_key;           /* gre: key. */
    bool has_gre_key;           /* gre: whether 'gre_key' was given. */
    struct flow_ip ipv4;        /* host-stack: address with prefix. */
    char *internal_group;       /* internal: the group's name. */
};

/* A reference to a SAP or an SF port, resolved at parse time. */
enum graph_port_kind { GRAPH_PORT_SAP, GRAPH_PORT_SF };
struct graph_port_ref {
    enum graph_port_kind kind;
    size_t sap;                 /* GRAPH_PORT_SAP: index into graph->saps. */
    size_t sf;                  /* GRAPH_PORT_SF: index into graph->sfs... */
    size_t port;                /* ...and into graph->sfs[sf].ports. */
};

struct graph_flowrule {
    char *id;                   /* Unique within the graph. */
    uint16_t priority;          /* 0-65535; absent in input means 1. */
    struct graph_port_ref port_in; /* match.port_in (required). */
    struct flow_match match;    /* The other match fields. */
    struct flow_mods mods;      /* push/pop VLAN, set_* actions. */
    struct graph_port_ref *outputs; /* actions.output_to_port, in order. */
    size_t n_outputs;           /* 0 only with 'drop'. */
    bool drop;                  /* actions.drop: no output at all. */
};

struct graph {
    char *id;                   /* The graph id (as in the URL). */
    char *name;                 /* Free text, may be NULL. */
    struct graph_sf *sfs;
    size_t n_sfs;
    struct graph_sap *saps;
    size_t n_saps;
    struct graph_flowrule *flowrules;
    size_t n_flowrules;
};

/* Limits a graph must respect, from the configuration.  0 means no limit
 * for that member; a NULL 'struct graph_limits *' means no limits. */
struct graph_limits {
    size_t max_sfs;             /* Most SFs in one graph. */
    size_t max_flowrules;       /* Most flowrules in one graph. */
    size_t max_saps;            /* Most SAPs in one graph. */
};

/* Parses 'len' bytes of JSON text (a document with root "sffg") into a
 * graph.  Rejects JSON nested deeper than 'max_depth'.  On failure returns
 * -EINVAL (bad JSON or bad graph: 'err' has the path and the reason;
 * kind CORCH_ERR_INVALID) or -E2BIG (a limit exceeded; 'err' says which;
 * kind CORCH_ERR_TOO_LARGE) and leaves '*ret_graph' untouched.  The text
 * is read by graph_json_parse().  The format, the
 * checks and the error paths are described in docs/sffg-format.md. */
int graph_parse(const char *text, size_t len, unsigned int max_depth,
                const struct graph_limits *, struct graph **ret_graph,
                struct corch_err *err);
/* The JSON text reader of every graph document (SF-FG and NF-FG): strict
 * JSON no deeper than 'max_depth' (0: json-c's default, 32), nothing but
 * whitespace after it, and every string, member names included, valid
 * UTF-8 without NUL (json_text_check(), util.h).  On success the caller
 * owns '*ret_root'; on failure returns -EINVAL (kind invalid; the path
 * names the bad string, "" for bad JSON) or -E2BIG (kind too-large). */
int graph_json_parse(const char *text, size_t len, unsigned int max_depth,
                     json_object **ret_root, struct corch_err *err);
/* The same as graph_parse(), from a json-c tree (root object with "sffg");
 * its strings are not checked again: a client's tree comes from
 * graph_json_parse(). */
int graph_from_json(json_object *root, const struct graph_limits *,
                    struct graph **ret_graph, struct corch_err *err);
/* The normalised SF-FG ({"sffg": {...}}): every number as a JSON number,
 * addresses in canonical text form, absent optional fields omitted.
 * graph_from_json(graph_to_json(g)) yields an equal graph.  The caller
 * owns the result (json_object_put). */
json_object *graph_to_json(const struct graph *);
/* A deep copy. */
struct graph *graph_clone(const struct graph *);
void graph_free(struct graph *);                /* Accepts NULL. */

/* Looks things up by id; NULL / SIZE_MAX if absent. */
const struct graph_sf *graph_find_sf(const struct graph *, const char *id);
const struct graph_sap *graph_find_sap(const struct graph *, const char *id);
const struct graph_flowrule *graph_find_flowrule(const struct graph *,
                                                 const char *id);

/* Equality used to compute an update's diff: two SFs are equal when their
 * name, template, config and ports are; two SAPs when all their fields
 * are; two flowrules when priority, match and actions are, comparing port
 * references by the ids they name (so that 'a' and 'b' may be different
 * graphs). */
bool graph_sf_equal(const struct graph_sf *, const struct graph_sf *);
bool graph_sap_equal(const struct graph_sap *, const struct graph_sap *);
bool graph_flowrule_equal(const struct graph *a, const struct graph_flowrule *,
                          const struct graph *b, const struct graph_flowrule *);

/* Whole-graph equality: ids, names, and every SF, SAP and flowrule equal
 * (as above) and in the same order.  What "means the same" is tested by. */
bool graph_equal(const struct graph *, const struct graph *);

/* Writes "service-access-point:<id>" or "sf:<sf>:<port>" into 'buf'. */
void graph_port_ref_format(const struct graph *, const struct graph_port_ref *,
                           char *buf, size_t size);

#endif
