/* A skeleton execution-engine driver: copy this folder to start a new one.
 *
 * It compiles (drivers/compute/skeleton/automake.mk builds it into a
 * library nothing links) but it is NOT registered: it runs nothing.  Read
 * docs/writing-a-driver.md, the contract in
 * drivers/compute/compute-provider.h, and the dummy engine
 * (drivers/compute/dummy/) for a working example of every hook.
 *
 * To turn it into a real engine "foo": rename, fill the TODOs, make its
 * automake.mk add its sources to orchestrator_liborch_a_SOURCES and
 * "COMPUTE_DRIVERS += foo" (drivers/driver-list.h registers it), include
 * that fragment from drivers/automake.mk (under a configure conditional
 * only if it needs libraries of its own), and enable it with
 * compute.drivers=...,foo.  Templates with "engine": "foo" then resolve
 * to it. */
#include <config.h>
#include "compute-skeleton.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corch-config.h"
#include "log.h"

LOG_MODULE(compute_skeleton);

/* One instance of the engine (open() to close()): everything the driver
 * keeps lives here, never in file-static variables, so that two instances
 * can live in one process. */
struct skeleton_engine {
    struct compute_engine up;   /* The base the core reads. */
    char *state_dir;            /* TODO: what the engine needs from the
                                 * configuration (a daemon socket...). */
};

/* One SF instance, owned by the driver from create() to destroy() or
 * release(). */
struct skeleton_sf {
    struct compute_sf up;       /* The base: instance name, owner graph and
                                 * SF, filled by the core. */
    char instance[49];          /* spec->instance: name it everything by. */
    bool running;               /* Between start() and stop(). */
};

static struct skeleton_engine *
skeleton_engine_cast(const struct compute_engine *e)
{
    return CONTAINER_OF(e, struct skeleton_engine, up);
}

static struct skeleton_sf *
skeleton_sf_cast(const struct compute_sf *sf)
{
    return CONTAINER_OF(sf, struct skeleton_sf, up);
}

static int
skeleton_open(const struct corch_config *cfg,
              struct compute_engine **ret_engine, struct corch_err *err)
{
    (void) err;
    /* TODO: connect to the daemon, read cfg.  Keep everything in the
     * instance. */
    struct skeleton_engine *se = xcalloc(1, sizeof *se);
    se->state_dir = xstrdup(cfg ? cfg->state_dir : NULL);
    *ret_engine = &se->up;
    return 0;
}

static void
skeleton_close(struct compute_engine *e)
{
    /* TODO: free the SF objects the instance still holds (they keep
     * running on the node) and the instance. */
    struct skeleton_engine *se = skeleton_engine_cast(e);
    free(se->state_dir);
    free(se);
}

static int
skeleton_probe(struct compute_engine *e, struct corch_err *err)
{
    /* TODO: is the engine usable here and now (binaries, daemon, kernel
     * features)?  The answer goes into the node description. */
    (void) e;
    return corch_err_set(err, -EOPNOTSUPP, NULL,
                         "the skeleton engine runs nothing");
}

static int
skeleton_create(struct compute_engine *e, const struct compute_sf_spec *spec,
                struct compute_sf **ret_sf, struct corch_err *err)
{
    /* TODO: prepare the instance (namespace, container, domain) from
     * spec->image_path, spec->config_json, spec->ports (attach each
     * ports[i].ifname as ports[i].name inside the SF) and spec->cpus.
     * Copy what you keep: the spec is valid during the call only.  Leave
     * nothing on failure; say why in 'err' (a script's stderr tail).  On
     * success: allocate a struct skeleton_sf and return &sf->up (the core
     * fills the base). */
    (void) e;
    (void) spec;
    (void) ret_sf;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static int
skeleton_start(struct compute_sf *csf, struct corch_err *err)
{
    /* TODO: start it; return when it runs with its ports attached, or
     * after spec->timeout_s with an error. */
    (void) csf;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static int
skeleton_stop(struct compute_sf *csf, struct corch_err *err)
{
    (void) err;
    skeleton_sf_cast(csf)->running = false;
    return 0;
}

static void
skeleton_destroy(struct compute_sf *csf)
{
    /* TODO: stop it if running and remove everything of it from the node.
     * Never fails: log what could not be removed. */
    struct skeleton_sf *sf = skeleton_sf_cast(csf);
    LOG_DBG("%s destroyed", sf->instance);
    compute_sf_base_uninit(&sf->up);
    free(sf);
}

static void
skeleton_release(struct compute_sf *csf)
{
    /* TODO: free the object and the daemon's handles of the instance
     * (descriptors, a connection), and leave the instance running on the
     * node exactly as it is: c-orch shuts down, the SF does not.  Never
     * fails. */
    struct skeleton_sf *sf = skeleton_sf_cast(csf);
    LOG_DBG("%s released", sf->instance);
    compute_sf_base_uninit(&sf->up);
    free(sf);
}

const struct compute_class compute_skeleton_class = {
    .type = "skeleton",
    .open = skeleton_open,
    .close = skeleton_close,
    .probe = skeleton_probe,
    .default_port_tech = VSWITCH_PORT_VETH,
    .prepare = NULL,            /* Optional: create does everything. */
    .create = skeleton_create,
    .start = skeleton_start,
    .stop = skeleton_stop,
    .pause = NULL,              /* Optional: -EOPNOTSUPP for the core. */
    .port_add = NULL,           /* Optional (both or neither). */
    .port_remove = NULL,        /* Optional. */
    .pid = NULL,                /* Optional. */
    .destroy = skeleton_destroy,
    .release = skeleton_release, /* Optional: close frees the object. */
};
