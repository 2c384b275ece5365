/* The execution-engine driver contract, version 2 (paper 5.5, Table 5).
 *
 * A driver fills one 'struct compute_class' (its hooks) and adds its name
 * to COMPUTE_DRIVERS in its folder's automake.mk (drivers/driver-list.h
 * registers it).  Only orchestrator/compute.c calls these hooks: its
 * typed wrappers (compute.h) hold the fallbacks for optional hooks, log
 * and time each call and check this contract.
 *
 * Instances.  open() returns a driver instance: a struct of the driver's
 * that embeds 'struct compute_engine' (the base the core reads) and holds
 * everything the driver needs (configuration, locks, its SFs).  A driver
 * keeps no mutable file-static state, so two instances of one class can
 * live in one process.  The driver reaches its own struct with
 * CONTAINER_OF(engine, struct my_engine, up).
 *
 * SFs.  Likewise the driver's SF struct embeds 'struct compute_sf'; the
 * core fills the base (engine, instance, owner identity) when prepare or
 * create first returns the SF, and reads it directly.  The driver frees
 * the base's strings with compute_sf_base_uninit() when it frees the SF.
 *
 * Lifecycle of one SF instance: [prepare ->] create -> start -> [pause /
 * resume, port_add, port_remove]* -> stop -> destroy or release.  The SF
 * object is the driver's from prepare / create to destroy or release.
 * destroy is legal in any state (it stops a running SF first) and never
 * fails: after it, nothing of the SF is left on the node (namespace,
 * container, VM, process, files).  release is its opposite on the node:
 * it frees the object (the daemon's handles: file descriptors, memory)
 * and stops, kills and removes nothing, so that the SF keeps running
 * while c-orch is down (shutdown: a restart finds it by its instance
 * name).  After destroy or release the core never passes that SF again.
 * close() frees the instance and every SF object it still holds, the
 * same way as release.  (Planned with the next version of this contract:
 * 'adopt', release's twin, which finds and verifies an SF a previous run
 * released.)
 *
 * Errors: hooks return 0 or a negative errno; on failure they write what
 * went wrong for the operator into 'err' (may be NULL): for a failed
 * script, its exit status and the tail of its stderr.  A hook that fails
 * leaves the SF as it was before the call.  Success with no object, or a
 * failure without a message, is a driver bug: the core logs it (and
 * aborts in debug builds: configure --enable-debug).
 *
 * Threads: hooks may be called concurrently for different SFs of one
 * instance, never for the same SF at once. */
#ifndef CORCH_COMPUTE_PROVIDER_H
#define CORCH_COMPUTE_PROVIDER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "repository.h"
#include "util.h"
#include "vswitch/vswitch-provider.h"

struct corch_config;

/* The base of a driver instance (the driver embeds it).  Written by the
 * core only (orchestrator/compute.c); a driver reads 'class' if it
 * likes. */
struct compute_engine {
    const struct compute_class *class; /* The driver, set by the core
                                        * after open(). */
    bool usable;                /* The last probe() said usable. */
    char why[256];              /* The last probe()'s reason when not
                                 * usable (node description, resolver). */
};

/* The base of an SF instance (the driver embeds it).  Filled by the core
 * when prepare() or create() first returns the SF; read by the core; the
 * driver may read it (from create on) and frees it with
 * compute_sf_base_uninit(). */
struct compute_sf {
    struct compute_engine *engine; /* The instance that made it. */
    char instance[49];          /* Unique name on the node (spec->instance):
                                 * [A-Za-z0-9_.-]{1,48}. */
    char *graph_id;             /* Owner graph (owned by the base). */
    char *sf_id;                /* The SF's id in that graph (owned). */
};

/* Frees what the core put in 'sf''s base: the driver calls it wherever it
 * frees one of its SFs (destroy, close, a failed create of its own). */
static inline void
compute_sf_base_uninit(struct compute_sf *sf)
{
    free(sf->graph_id);
    free(sf->sf_id);
    sf->graph_id = sf->sf_id = NULL;
}

/* One vNIC of an SF. */
struct compute_port {
    const char *id;             /* The graph's port id. */
    const char *name;           /* Device name inside the SF (template). */
    enum vswitch_port_tech tech; /* How the switch connects it. */
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
    const struct compute_port *ports; /* Its vNICs, template order... */
    size_t n_ports;             /* ...this many. */
    const unsigned int *cpus;   /* Cores the SF is bound to (scheduler)... */
    size_t n_cpus;              /* ...this many. */
    unsigned int timeout_s;     /* Longest any engine operation may take. */
    struct compute_sf *prepared; /* For create: what prepare returned for
                                  * this instance, or NULL (no prepare). */
};

struct compute_class {
    /* "native", "docker", "kvm", "dpdk", "dummy": as in compute.drivers and
     * in templates' "engine". */
    const char *type;

    /* Opens an instance of the engine with the daemon's configuration:
     * allocates the driver's instance struct and returns its embedded
     * base in *ret_engine.  May be NULL for a driver without state: the
     * core then allocates a bare 'struct compute_engine'. */
    int (*open)(const struct corch_config *,
                struct compute_engine **ret_engine, struct corch_err *err);
    /* Frees the instance and the SF objects it still holds (as release
     * does); running SFs stay on the node.  The core calls it last, with
     * no other hook running.  NULL if and only if 'open' is. */
    void (*close)(struct compute_engine *);

    /* Whether the engine is usable on this node now (binaries, daemon
     * reachable, kernel features).  0 if usable; otherwise a negative errno
     * and the reason in 'err'.  Required. */
    int (*probe)(struct compute_engine *, struct corch_err *err);

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
    int (*prepare)(struct compute_engine *, const struct compute_sf_spec *,
                   struct compute_sf **ret_sf, const char **ret_netns_path,
                   struct corch_err *err);
    /* Creates (but does not start) an SF instance, or completes the one
     * prepare made (spec->prepared).  Required. */
    int (*create)(struct compute_engine *, const struct compute_sf_spec *,
                  struct compute_sf **ret_sf, struct corch_err *err);
    /* Starts it; returns when it runs with its ports attached.  Required.
     * The SF hooks reach the instance through sf->engine. */
    int (*start)(struct compute_sf *, struct corch_err *err);
    /* Stops it (it can be started again).  May be NULL (the core answers
     * -EOPNOTSUPP). */
    int (*stop)(struct compute_sf *, struct corch_err *err);
    /* Pauses / resumes a running SF.  May be NULL (-EOPNOTSUPP). */
    int (*pause)(struct compute_sf *, bool pause, struct corch_err *err);
    /* Adds / removes a port of a running SF.  May be NULL (-EOPNOTSUPP);
     * the core updates an SF's ports in place only if both are set. */
    int (*port_add)(struct compute_sf *, const struct compute_port *,
                    struct corch_err *err);
    int (*port_remove)(struct compute_sf *, const char *port_id,
                       struct corch_err *err);
    /* Main process id of a running SF (for status and tests), or 0.
     * May be NULL (0). */
    int (*pid)(const struct compute_sf *);
    /* Destroys the instance, whatever its state, and frees the SF (its
     * base with compute_sf_base_uninit()).  Never fails.  Required. */
    void (*destroy)(struct compute_sf *);
    /* Releases the SF, whatever its state: frees the object (its base
     * with compute_sf_base_uninit()) and the daemon's handles of the
     * instance (descriptors, a child's entry), and leaves the instance on
     * the node as it is: no process stopped or killed, no namespace,
     * container, device or file removed.  The core calls it at shutdown
     * for every SF it holds.  Never fails.  May be NULL: the object stays
     * the driver's until close, which frees it (so a driver without
     * open / close, which has no close to do it, must have release). */
    void (*release)(struct compute_sf *);
};

#endif
