/* The execution-engine driver contract (paper 5.5, Table 5).
 *
 * The compute manager (orchestrator/compute.c) drives engines only through
 * these hooks.  A driver fills one 'struct compute_class' and registers it
 * with compute_register() (orchestrator/compute.h).
 *
 * Lifecycle of one SF instance: create -> start -> [pause/resume, port_add,
 * port_remove]* -> stop -> destroy.  'struct compute_sf' is defined by each
 * driver and owned by it until destroy.  destroy is legal in any state (it
 * stops a running SF first) and never fails: after it, nothing of the SF is
 * left on the node (namespace, container, VM, process, files).
 *
 * Hooks return 0 or a negative errno; on failure they write what went
 * wrong for the operator into 'err' (may be NULL): for a failed script,
 * its exit status and the tail of its stderr.  A hook that fails leaves
 * the SF as it was before the call.
 *
 * Threads: hooks may be called concurrently for different SFs. */
#ifndef CORCH_COMPUTE_PROVIDER_H
#define CORCH_COMPUTE_PROVIDER_H 1

#include <stdbool.h>
#include <stddef.h>

#include "repository.h"
#include "util.h"
#include "vswitch/vswitch-provider.h"

struct corch_config;
struct compute_sf;

/* One vNIC of an SF. */
struct compute_port {
    const char *id;             /* The graph's port id. */
    const char *name;           /* Device name inside the SF (template). */
    enum vswitch_port_tech tech;
    const char *ifname;         /* Device the switch made for the SF
                                 * (vswitch_port_info.sf_ifname). */
    const char *socket_path;    /* vhost-user socket, or NULL. */
    bool in_netns;              /* The switch made the SF end inside the
                                 * namespace of the prepared SF, already
                                 * named 'name' ('ifname' is that name):
                                 * nothing to move (see prepare). */
};

/* Everything an engine needs to create one SF instance.  Pointers are
 * valid only during the call; a driver copies what it keeps. */
struct compute_sf_spec {
    const char *graph_id;       /* Owner graph. */
    const char *sf_id;          /* The SF's id in the graph. */
    const char *instance;       /* Unique name on the node, usable as a
                                 * namespace / container / domain name:
                                 * [A-Za-z0-9_.-]{1,48}. */
    const struct sf_template *tmpl; /* The chosen implementation. */
    const char *image_path;     /* Local, verified image file. */
    const char *config_json;    /* The SF's config from the graph, or NULL. */
    const char *run_dir;        /* A directory of this instance (exists). */
    const struct compute_port *ports;
    size_t n_ports;
    const unsigned int *cpus;   /* Cores the SF is bound to (scheduler). */
    size_t n_cpus;
    unsigned int timeout_s;     /* Longest any engine operation may take. */
    struct compute_sf *prepared; /* For create: what prepare returned for
                                  * this instance, or NULL (no prepare). */
};

struct compute_class {
    /* "native", "docker", "kvm", "dpdk", "dummy": as in compute.drivers and
     * in templates' "engine". */
    const char *type;

    /* Called once at start-up.  May be NULL. */
    int (*init)(const struct corch_config *, struct corch_err *err);
    /* Called once at shutdown; running SFs stay.  May be NULL. */
    void (*fini)(void);

    /* Whether the engine is usable on this node now (binaries, daemon
     * reachable, kernel features).  0 if usable; otherwise a negative errno
     * and the reason in 'err'.  Required. */
    int (*probe)(struct corch_err *err);

    /* The port technology this engine connects SFs with by default. */
    enum vswitch_port_tech default_port_tech;

    /* Optional first half of create, called before the switch makes the
     * SF's ports (step 3), so that the switch can make the SF end of each
     * veth inside the SF (vswitch_port_spec.sf_netns_path) and nothing has
     * to be moved.  Makes what the ports live in (native: the network
     * namespace) and returns a prepared SF in *ret_sf and, in
     * *ret_netns_path, the path of its network namespace (owned by the
     * SF, valid until destroy; NULL if the switch should make the ports
     * where it stands).  Only 'graph_id', 'sf_id', 'instance', 'tmpl' and
     * 'timeout_s' of the spec are set.  The core then calls create with
     * spec->prepared set to that SF: create completes it and returns the
     * same pointer; if create fails, the prepared SF stays as it was and
     * the core destroys it.  destroy undoes a prepared SF too (whether or
     * not create was called).  May be NULL: create does everything. */
    int (*prepare)(const struct compute_sf_spec *, struct compute_sf **ret_sf,
                   const char **ret_netns_path, struct corch_err *err);
    /* Creates (but does not start) an SF instance, or completes the one
     * prepare made (spec->prepared).  Required. */
    int (*create)(const struct compute_sf_spec *, struct compute_sf **ret_sf,
                  struct corch_err *err);
    /* Starts it; returns when it runs with its ports attached.  Required. */
    int (*start)(struct compute_sf *, struct corch_err *err);
    /* Stops it (it can be started again).  May be NULL. */
    int (*stop)(struct compute_sf *, struct corch_err *err);
    /* Pauses / resumes a running SF.  May be NULL (-EOPNOTSUPP). */
    int (*pause)(struct compute_sf *, bool pause, struct corch_err *err);
    /* Adds / removes a port of a running SF.  May be NULL (-EOPNOTSUPP). */
    int (*port_add)(struct compute_sf *, const struct compute_port *,
                    struct corch_err *err);
    int (*port_remove)(struct compute_sf *, const char *port_id,
                       struct corch_err *err);
    /* Main process id of a running SF (for status and tests), or 0.
     * May be NULL. */
    int (*pid)(const struct compute_sf *);
    /* Destroys the instance, whatever its state.  Never fails.  Required. */
    void (*destroy)(struct compute_sf *);
};

#endif
