/* The registry of execution-engine drivers and the enabled engines: see
 * compute.h. */
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
 * compute_engines_init()/fini() (start-up, shutdown) and by probe (the
 * 'usable' flags, under the mutex); read from any thread. */
static struct compute_engine engines[16];
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

/* Probes one engine.  Mutex not held: probes may take time. */
static bool
probe_one(struct compute_engine *e)
{
    struct corch_err err = { .path = "", .msg = "" };
    int error = e->class->probe ? e->class->probe(&err)
                                : corch_err_set(&err, -ENOSYS, NULL,
                                                "driver has no probe hook");
    pthread_mutex_lock(&mutex);
    bool was = e->usable;
    e->usable = !error;
    if (error)
        snprintf(e->why, sizeof e->why, "%s",
                 err.msg[0] ? err.msg : strerror(-error));
    else
        e->why[0] = '\0';
    pthread_mutex_unlock(&mutex);
    if (was != e->usable || error)
        LOG_INFO("engine %s is %s%s%s", e->class->type,
                 e->usable ? "usable" : "not usable",
                 error ? ": " : "", error ? e->why : "");
    return was != e->usable;
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
        if (class->init) {
            error = class->init(cfg, err);
            if (error) {
                corch_err_prefix(err, "compute.drivers: engine %s",
                                 class->type);
                break;
            }
        }
        struct compute_engine *e = &engines[n_engines];
        memset(e, 0, sizeof *e);
        e->class = class;
        pthread_mutex_lock(&mutex);
        n_engines++;
        pthread_mutex_unlock(&mutex);
        probe_one(e);
    }
    strv_free(names);
    if (error)
        compute_engines_fini();
    return error;
}

void
compute_engines_fini(void)
{
    for (size_t i = n_engines; i-- > 0;)
        if (engines[i].class->fini)
            engines[i].class->fini();
    pthread_mutex_lock(&mutex);
    n_engines = 0;
    pthread_mutex_unlock(&mutex);
}

bool
compute_engines_probe(void)
{
    bool changed = false;
    for (size_t i = 0; i < n_engines; i++)
        changed |= probe_one(&engines[i]);
    return changed;
}

size_t
compute_engine_count(void)
{
    return n_engines;
}

const struct compute_engine *
compute_engine_get(size_t i)
{
    return i < n_engines ? &engines[i] : NULL;
}

const struct compute_engine *
compute_engine_find(const char *type)
{
    for (size_t i = 0; type && i < n_engines; i++)
        if (!strcmp(engines[i].class->type, type))
            return &engines[i];
    return NULL;
}
