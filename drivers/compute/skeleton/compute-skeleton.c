/* A skeleton execution-engine driver: copy this folder to start a new one.
 *
 * It compiles (drivers/compute/skeleton/automake.mk builds it into a
 * library nothing links) but it is NOT registered: it runs nothing.  Read
 * docs/writing-a-driver.md, the contract in
 * drivers/compute/compute-provider.h, and the dummy engine
 * (drivers/compute/dummy/) for a working example of every hook.
 *
 * To turn it into a real engine "foo": rename, fill the TODOs, add
 * --enable-foo to configure.ac and an include of its fragment in
 * drivers/automake.mk, register it in compute_register_all()
 * (orchestrator/compute.c) under #ifdef ENABLE_FOO, and enable it with
 * compute.drivers=...,foo.  Templates with "engine": "foo" then resolve
 * to it. */
#include <config.h>
#include "compute-skeleton.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

LOG_MODULE(compute_skeleton);

/* One SF instance, owned by the driver from create() to destroy(). */
struct compute_sf {
    char instance[49];          /* spec->instance: name it everything by. */
    bool running;               /* Between start() and stop(). */
};

static int
skeleton_init(const struct corch_config *cfg, struct corch_err *err)
{
    (void) cfg;
    (void) err;
    /* TODO: one-time set-up (connect to the daemon, read cfg). */
    return 0;
}

static int
skeleton_probe(struct corch_err *err)
{
    /* TODO: is the engine usable here and now (binaries, daemon, kernel
     * features)?  The answer goes into the node description. */
    return corch_err_set(err, -EOPNOTSUPP, NULL,
                         "the skeleton engine runs nothing");
}

static int
skeleton_create(const struct compute_sf_spec *spec, struct compute_sf **ret_sf,
                struct corch_err *err)
{
    /* TODO: prepare the instance (namespace, container, domain) from
     * spec->image_path, spec->config_json, spec->ports (attach each
     * ports[i].ifname as ports[i].name inside the SF) and spec->cpus.
     * Copy what you keep: the spec is valid during the call only.  Leave
     * nothing on failure; say why in 'err' (a script's stderr tail). */
    (void) spec;
    (void) ret_sf;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static int
skeleton_start(struct compute_sf *sf, struct corch_err *err)
{
    /* TODO: start it; return when it runs with its ports attached, or
     * after spec->timeout_s with an error. */
    (void) sf;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static int
skeleton_stop(struct compute_sf *sf, struct corch_err *err)
{
    (void) err;
    sf->running = false;
    return 0;
}

static void
skeleton_destroy(struct compute_sf *sf)
{
    /* TODO: stop it if running and remove everything of it from the node.
     * Never fails: log what could not be removed. */
    if (sf)
        LOG_DBG("%s destroyed", sf->instance);
    free(sf);
}

const struct compute_class compute_skeleton_class = {
    .type = "skeleton",
    .init = skeleton_init,
    .fini = NULL,
    .probe = skeleton_probe,
    .default_port_tech = VSWITCH_PORT_VETH,
    .create = skeleton_create,
    .start = skeleton_start,
    .stop = skeleton_stop,
    .pause = NULL,              /* Optional: -EOPNOTSUPP for the core. */
    .port_add = NULL,           /* Optional. */
    .port_remove = NULL,        /* Optional. */
    .pid = NULL,                /* Optional. */
    .destroy = skeleton_destroy,
};
