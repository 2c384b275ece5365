/* The registry of execution-engine drivers, the enabled engines, and the
 * only callers of engine hooks: see compute.h. */
#include <config.h>
#include "compute.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "corch-config.h"
#include "log.h"

/* Every engine driver compiled in: drivers/driver-list.h is generated
 * from the COMPUTE_DRIVERS that the driver folders' automake.mk add. */
#define VSWITCH_DRIVER(NAME)
#define COMPUTE_DRIVER(NAME) extern const struct compute_class compute_##NAME##_class;
#include "driver-list.h"
#undef VSWITCH_DRIVER
#undef COMPUTE_DRIVER

LOG_MODULE(compute);

static const struct compute_class *classes[16];
static size_t n_classes;

/* The enabled engines, in the order of compute.drivers.  Written by
 * compute_engines_init()/fini() (start-up, shutdown); their 'usable'
 * flags by probe, under the mutex; read from any thread. */
static struct compute_engine *engines[16];
static size_t n_engines;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

int
compute_register(const struct compute_class *class)
{
    int error = 0;
    pthread_mutex_lock(&mutex);
    for (size_t i = 0; i < n_classes; i++)
        if (!strcmp(classes[i]->type, class->type))
            error = -EEXIST;
    if (!error && n_classes >= ARRAY_SIZE(classes))
        error = -ENOSPC;
    if (!error)
        classes[n_classes++] = class;
    pthread_mutex_unlock(&mutex);
    if (error)
        LOG_ERR("cannot register compute driver \"%s\": %s", class->type,
                strerror(-error));
    return error;
}

static void
register_all_once(void)
{
#define VSWITCH_DRIVER(NAME)
#define COMPUTE_DRIVER(NAME) compute_register(&compute_##NAME##_class);
#include "driver-list.h"
#undef VSWITCH_DRIVER
#undef COMPUTE_DRIVER
}

void
compute_register_all(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_all_once);
}

const struct compute_class *
compute_lookup(const char *type)
{
    const struct compute_class *found = NULL;
    pthread_mutex_lock(&mutex);
    for (size_t i = 0; type && i < n_classes && !found; i++)
        if (!strcmp(classes[i]->type, type))
            found = classes[i];
    pthread_mutex_unlock(&mutex);
    return found;
}

/* --- Calling hooks. --- */

/* Checks what a hook returned against the contract and logs the call.
 * 'obj' says whether the hook made an object (prepare, create) and
 * 'made' whether it did.  Returns the error to pass on: a success that
 * made nothing becomes -EPROTO; every failure carries a message. */
static int
hook_done(const struct compute_engine *e, const char *hook,
          const struct compute_sf *sf, const char *instance, bool obj,
          const void *made, int error, uint64_t t0, struct corch_err *err)
{
    const char *type = e->class->type;
    const char *name = sf ? sf->instance : instance ? instance : "";
    double ms = (time_ns() - t0) / 1e6;

    if (!error && obj && !made) {
        LOG_ERR("engine %s: %s of %s succeeded without an SF (driver bug)",
                type, hook, name);
        CORCH_CONTRACT_BUG();
        return corch_err_setk(err, CORCH_ERR_FAILED, -EPROTO, NULL,
                              "engine %s: %s returned no SF (driver bug)",
                              type, hook);
    }
    if (error > 0) {
        LOG_ERR("engine %s: %s of %s returned %d, not a negative errno "
                "(driver bug)", type, hook, name, error);
        CORCH_CONTRACT_BUG();
        error = -EPROTO;
    }
    if (error && err && !err->msg[0]) {
        LOG_ERR("engine %s: %s of %s failed (%s) without saying why "
                "(driver bug)", type, hook, name, strerror(-error));
        CORCH_CONTRACT_BUG();
        corch_err_set(err, error, NULL, "engine %s: %s failed: %s", type,
                      hook, strerror(-error));
    }
    if (error)
        LOG_DBG("engine %s: %s %s: %s after %.3f ms", type, hook, name,
                err ? err->msg : strerror(-error), ms);
    else
        LOG_DBG("engine %s: %s %s: %.3f ms", type, hook, name, ms);
    return error;
}

/* A hook's own error struct when the caller passed none, so that the
 * contract can be checked all the same. */
#define HOOK_ERR(err, local) ((err) ? (err) : &(local))

/* An optional hook the engine does not have. */
static int
unsupported(const struct compute_engine *e, const char *hook,
            const struct compute_sf *sf, struct corch_err *err)
{
    LOG_DBG("engine %s: %s %s: not supported", e->class->type, hook,
            sf->instance);
    return corch_err_setk(err, CORCH_ERR_UNSUPPORTED, -EOPNOTSUPP, NULL,
                          "engine %s cannot %s an SF", e->class->type,
                          !strcmp(hook, "port_add") ? "add a port to"
                          : !strcmp(hook, "port_remove") ? "remove a port of"
                          : hook);
}

/* Clears 'err''s message so that the contract check sees whether the
 * hook wrote one; the kind starts as FAILED (a hook's failure is the
 * node's, unless the driver says otherwise). */
static void
err_reset(struct corch_err *err)
{
    if (err) {
        err->kind = CORCH_ERR_FAILED;
        err->path[0] = '\0';
        err->msg[0] = '\0';
    }
}

/* Fills the base of an SF a hook returned for the first time. */
static void
sf_base_fill(struct compute_engine *e, struct compute_sf *sf,
             const struct compute_sf_spec *spec)
{
    if (sf->engine)
        return;                 /* Prepared, or adopted: filled already. */
    sf->engine = e;
    snprintf(sf->instance, sizeof sf->instance, "%s",
             spec->instance ? spec->instance : "");
    free(sf->graph_id);
    free(sf->sf_id);
    sf->graph_id = xstrdup(spec->graph_id ? spec->graph_id : "");
    sf->sf_id = xstrdup(spec->sf_id ? spec->sf_id : "");
}

/* --- Instances. --- */

int
compute_engine_open(const struct compute_class *class,
                    const struct corch_config *cfg,
                    struct compute_engine **ret_engine, struct corch_err *err)
{
    struct corch_err local = { .path = "", .msg = "" };
    struct corch_err *e_err = HOOK_ERR(err, local);
    struct compute_engine *e = NULL;
    struct compute_engine fake = { .class = class };
    uint64_t t0 = time_ns();

    err_reset(e_err);
    int error;
    if (class->open) {
        error = class->open(cfg, &e, e_err);
        error = hook_done(&fake, "open", NULL, "", true, e, error, t0, e_err);
        if (error)
            return error;
    } else {
        e = xcalloc(1, sizeof *e);      /* A driver without state. */
    }
    e->class = class;
    e->usable = false;
    e->why[0] = '\0';
    compute_engine_probe(e);
    *ret_engine = e;
    return 0;
}

void
compute_engine_close(struct compute_engine *e)
{
    if (!e)
        return;
    uint64_t t0 = time_ns();
    const struct compute_class *class = e->class;
    if (class->close)
        class->close(e);
    else
        free(e);                        /* compute_engine_open()'s. */
    LOG_DBG("engine %s: close: %.3f ms", class->type,
            (time_ns() - t0) / 1e6);
}

bool
compute_engine_probe(struct compute_engine *e)
{
    struct corch_err err = { .path = "", .msg = "" };
    uint64_t t0 = time_ns();
    int error = e->class->probe ? e->class->probe(e, &err)
                                : corch_err_set(&err, -ENOSYS, NULL,
                                                "driver has no probe hook");
    error = hook_done(e, "probe", NULL, "", false, NULL, error, t0, &err);
    pthread_mutex_lock(&mutex);
    bool was = e->usable;
    e->usable = !error;
    if (error)
        snprintf(e->why, sizeof e->why, "%s", err.msg);
    else
        e->why[0] = '\0';
    pthread_mutex_unlock(&mutex);
    if (was != e->usable || error)
        LOG_INFO("engine %s is %s%s%s", e->class->type,
                 e->usable ? "usable" : "not usable",
                 error ? ": " : "", error ? e->why : "");
    return was != e->usable;
}

const char *
compute_engine_type(const struct compute_engine *e)
{
    return e->class->type;
}

enum vswitch_port_tech
compute_engine_port_tech(const struct compute_engine *e)
{
    return e->class->default_port_tech;
}

bool
compute_engine_can_prepare(const struct compute_engine *e)
{
    return e->class->prepare != NULL;
}

bool
compute_engine_can_update_ports(const struct compute_engine *e)
{
    return e->class->port_add && e->class->port_remove;
}

int
compute_engines_init(const struct corch_config *cfg, struct corch_err *err)
{
    char **names = NULL;
    size_t n = config_split_list(cfg->compute_drivers, &names);
    int error = 0;

    compute_engines_fini();
    for (size_t i = 0; i < n && !error; i++) {
        const struct compute_class *class = compute_lookup(names[i]);
        if (!class) {
            bool planned = !strcmp(names[i], "docker")
                           || !strcmp(names[i], "kvm")
                           || !strcmp(names[i], "dpdk");
            error = corch_err_set(err, planned ? -EOPNOTSUPP : -EINVAL,
                                  "compute.drivers",
                                  planned ? "compute.drivers: engine \"%s\" is "
                                            "not supported yet (README.md)"
                                          : "compute.drivers: unknown engine "
                                            "\"%s\"",
                                  names[i]);
            break;
        }
        if (compute_engine_find(names[i]))
            continue;                   /* Named twice: once is enough. */
        if (n_engines >= ARRAY_SIZE(engines)) {
            error = corch_err_set(err, -E2BIG, "compute.drivers",
                                  "compute.drivers: too many engines");
            break;
        }
        struct compute_engine *e;
        error = compute_engine_open(class, cfg, &e, err);
        if (error) {
            corch_err_prefix(err, "compute.drivers: engine %s", class->type);
            break;
        }
        pthread_mutex_lock(&mutex);
        engines[n_engines++] = e;
        pthread_mutex_unlock(&mutex);
    }
    strv_free(names);
    if (error)
        compute_engines_fini();
    return error;
}

void
compute_engines_fini(void)
{
    pthread_mutex_lock(&mutex);
    size_t n = n_engines;
    n_engines = 0;
    pthread_mutex_unlock(&mutex);
    for (size_t i = n; i-- > 0;) {
        compute_engine_close(engines[i]);
        engines[i] = NULL;
    }
}

bool
compute_engines_probe(void)
{
    bool changed = false;
    for (size_t i = 0; i < n_engines; i++)
        changed |= compute_engine_probe(engines[i]);
    return changed;
}

size_t
compute_engine_count(void)
{
    return n_engines;
}

struct compute_engine *
compute_engine_get(size_t i)
{
    return i < n_engines ? engines[i] : NULL;
}

struct compute_engine *
compute_engine_find(const char *type)
{
    for (size_t i = 0; type && i < n_engines; i++)
        if (!strcmp(engines[i]->class->type, type))
            return engines[i];
    return NULL;
}

/* --- SFs. --- */

int
compute_sf_prepare(struct compute_engine *e, const struct compute_sf_spec *spec,
                   struct compute_sf **ret_sf, const char **ret_netns_path,
                   struct corch_err *err)
{
    if (!e->class->prepare) {
        *ret_sf = NULL;         /* create will do everything. */
        *ret_netns_path = NULL;
        return 0;
    }
    struct corch_err local = { .path = "", .msg = "" };
    struct corch_err *h_err = HOOK_ERR(err, local);
    struct compute_sf *sf = NULL;
    const char *netns = NULL;
    uint64_t t0 = time_ns();
    err_reset(h_err);
    int error = e->class->prepare(e, spec, &sf, &netns, h_err);
    error = hook_done(e, "prepare", NULL, spec->instance, true, sf, error, t0,
                      h_err);
    if (error)
        return error;
    sf_base_fill(e, sf, spec);
    *ret_sf = sf;
    *ret_netns_path = netns;
    return 0;
}

int
compute_sf_create(struct compute_engine *e, const struct compute_sf_spec *spec,
                  struct compute_sf **ret_sf, struct corch_err *err)
{
    struct corch_err local = { .path = "", .msg = "" };
    struct corch_err *h_err = HOOK_ERR(err, local);
    struct compute_sf *sf = NULL;
    uint64_t t0 = time_ns();
    err_reset(h_err);
    int error = e->class->create(e, spec, &sf, h_err);
    error = hook_done(e, "create", NULL, spec->instance, true, sf, error, t0,
                      h_err);
    if (error)
        return error;
    if (spec->prepared && sf != spec->prepared) {
        LOG_ERR("engine %s: create of %s returned another SF than the "
                "prepared one (driver bug)", e->class->type, spec->instance);
        CORCH_CONTRACT_BUG();
    }
    sf_base_fill(e, sf, spec);
    *ret_sf = sf;
    return 0;
}

/* Calls an SF hook that returns 0 or -errno: start, stop. */
#define SF_CALL(HOOK, SF, ERR, ...)                                         \
    ({                                                                      \
        struct compute_engine *e_ = (SF)->engine;                           \
        struct corch_err local_ = { .path = "", .msg = "" };                \
        struct corch_err *h_err_ = HOOK_ERR(ERR, local_);                   \
        uint64_t t0_ = time_ns();                                           \
        err_reset(h_err_);                                                  \
        int error_ = e_->class->HOOK((SF), ##__VA_ARGS__, h_err_);          \
        hook_done(e_, #HOOK, (SF), NULL, false, NULL, error_, t0_, h_err_); \
    })

int
compute_sf_start(struct compute_sf *sf, struct corch_err *err)
{
    return SF_CALL(start, sf, err);
}

int
compute_sf_stop(struct compute_sf *sf, struct corch_err *err)
{
    if (!sf->engine->class->stop)
        return unsupported(sf->engine, "stop", sf, err);
    return SF_CALL(stop, sf, err);
}

int
compute_sf_pause(struct compute_sf *sf, bool pause, struct corch_err *err)
{
    if (!sf->engine->class->pause)
        return unsupported(sf->engine, "pause", sf, err);
    return SF_CALL(pause, sf, err, pause);
}

int
compute_sf_port_add(struct compute_sf *sf, const struct compute_port *port,
                    struct corch_err *err)
{
    if (!sf->engine->class->port_add)
        return unsupported(sf->engine, "port_add", sf, err);
    return SF_CALL(port_add, sf, err, port);
}

int
compute_sf_port_remove(struct compute_sf *sf, const char *port_id,
                       struct corch_err *err)
{
    if (!sf->engine->class->port_remove)
        return unsupported(sf->engine, "port_remove", sf, err);
    return SF_CALL(port_remove, sf, err, port_id);
}

int
compute_sf_pid(const struct compute_sf *sf)
{
    const struct compute_engine *e = sf->engine;
    return e->class->pid ? e->class->pid(sf) : 0;
}

void
compute_sf_destroy(struct compute_sf *sf)
{
    if (!sf)
        return;
    struct compute_engine *e = sf->engine;
    char instance[sizeof sf->instance];
    snprintf(instance, sizeof instance, "%s", sf->instance);
    uint64_t t0 = time_ns();
    e->class->destroy(sf);              /* Frees 'sf'. */
    LOG_DBG("engine %s: destroy %s: %.3f ms", e->class->type, instance,
            (time_ns() - t0) / 1e6);
}

void
compute_sf_release(struct compute_sf *sf)
{
    if (!sf)
        return;
    struct compute_engine *e = sf->engine;
    if (!e->class->release)
        return;                 /* compute_engine_close() frees it. */
    char instance[sizeof sf->instance];
    snprintf(instance, sizeof instance, "%s", sf->instance);
    uint64_t t0 = time_ns();
    e->class->release(sf);              /* Frees 'sf'. */
    LOG_DBG("engine %s: release %s: %.3f ms", e->class->type, instance,
            (time_ns() - t0) / 1e6);
}
