/* The daemon's configuration: an INI file (libinih) plus --set overrides.
 *
 * Every key is declared once, in the table in corch-config.c, with its type,
 * default and range; unknown keys and bad values are start-up errors that
 * name the key.  To add a key: add a member here and a row to that table. */
#ifndef CORCH_CONFIG_H
#define CORCH_CONFIG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct corch_config {
    /* [rest] */
    char *rest_address;         /* Listen address, default "127.0.0.1". */
    uint16_t rest_port;         /* Listen port, default 8080. */
    char *rest_tls_cert;        /* PEM certificate path; NULL: plain HTTP. */
    char *rest_tls_key;         /* PEM key path; required with the cert. */
    unsigned int rest_threads;  /* Worker threads of the HTTP server. */

    /* [security] */
    bool security_auth;         /* Authenticate every call (default true). */
    char *security_admin_password; /* Creates user "admin" on first start;
                                    * env CORCH_ADMIN_PASSWORD overrides. */
    unsigned int security_token_lifetime; /* Seconds, default 3600. */

    /* [state] */
    char *state_dir;            /* SQLite database, run dirs, caches. */

    /* [node] */
    char *node_id;              /* Node id; NULL: generated once, stored. */
    char *node_name;            /* Human name; NULL: the host name. */
    char *node_neighbours;      /* "ifname=domain,...": the node each
                                 * interface is wired to (description). */

    /* [log] */
    char *log_level;            /* err | warn | info | debug. */

    /* [vswitch] */
    char *vswitch_driver;       /* "ovs", "dummy". */
    char *vswitch_ovsdb;        /* e.g. "unix:/run/openvswitch/db.sock". */
    char *vswitch_datapath_type; /* "netdev", "system"; NULL: detect. */
    char *vswitch_interfaces;   /* Comma list of LSI-0's interfaces. */

    /* [compute] */
    char *compute_drivers;      /* Comma list, e.g. "native,dummy". */
    unsigned int compute_timeout; /* Seconds an SF script may run. */
    char *compute_engine_order; /* Resolver preference, comma list of
                                 * engines; NULL: native,dpdk,docker,kvm. */

    /* [repository] */
    char *repository_path;      /* Local SF repository directory. */
    char *repository_url;       /* Remote repository; NULL: local only. */

    /* [bus] */
    char *bus_endpoint;         /* e.g. "tcp://127.0.0.1:5555"; "" off. */
    char *bus_mode;             /* "embedded" (bind) or "external" (connect). */
    char *bus_topic_prefix;     /* Topic prefix, default "corch". */
    unsigned int bus_heartbeat; /* Seconds between heartbeats; 0 off. */
    bool bus_curve;             /* CURVE-encrypt and authenticate the bus. */
    char *bus_curve_secret_key; /* czmq cert file (with secret key): the
                                 * server's (embedded) or ours (external). */
    char *bus_curve_clients;    /* Embedded: directory of the public certs
                                 * of the subscribers allowed in. */
    char *bus_curve_server_key; /* External: the broker's public key (Z85 or
                                 * a czmq cert file). */
    unsigned int bus_resource_step; /* Percent of free cores / memory / load
                                 * whose crossing republishes, 0: never. */
    unsigned int bus_check_interval; /* Seconds between re-checks of engines,
                                 * interfaces and resources; 0: never. */

    /* [limits] */
    size_t limits_max_body_bytes; /* Largest request body accepted. */
    unsigned int limits_max_json_depth; /* Deepest JSON nesting accepted. */
    unsigned int limits_max_sfs;  /* SFs per graph. */
    unsigned int limits_max_flowrules; /* Flowrules per graph. */
    unsigned int limits_max_graphs; /* Graphs per node. */
};

/* Fills 'cfg' with the defaults.  Never fails. */
void config_init(struct corch_config *cfg);
/* Reads an INI file over the current values.  On error returns a negative
 * errno and says which line / key in 'err'. */
int config_load_file(struct corch_config *cfg, const char *path,
                     struct corch_err *err);
/* Applies one "section.key=value" override. */
int config_set(struct corch_config *cfg, const char *assignment,
               struct corch_err *err);
/* Checks combinations (TLS cert without key, ...) and applies environment
 * overrides.  Call once after loading. */
int config_finish(struct corch_config *cfg, struct corch_err *err);
/* Frees the strings; 'cfg' may be reused after config_init(). */
void config_destroy(struct corch_config *cfg);

/* Splits a comma list into trimmed, non-empty items.  Returns the count;
 * '*ret_items' is a NULL-terminated array the caller frees with
 * strv_free(). */
size_t config_split_list(const char *list, char ***ret_items);
void strv_free(char **);

#endif
