/* The dummy execution engine: see compute-dummy.h. */
#include <config.h>
#include "compute-dummy.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dummy-faults.h"
#include "log.h"

LOG_MODULE(compute_dummy);

struct compute_sf {
    char instance[49];          /* Unique on the node. */
    char *graph_id;             /* Owner graph. */
    char *sf_id;                /* SF id in the graph. */
    bool running;               /* Started and not stopped. */
    bool paused;                /* Paused by pause(). */
    int pid;                    /* Fake pid while running; kept by
                                 * stop/start cycles being distinct. */
    char **port_ids;            /* Ports attached (ids). */
    size_t n_ports;
    unsigned int *cpus;         /* Cores from the spec. */
    size_t n_cpus;
    char netns_path[80];        /* Its fake namespace once prepared, as a
                                 * switch would be told. */
    size_t n_in_netns;          /* Ports the switch made in there. */
    struct compute_sf *next;    /* Next instance of the node. */
};

static const char *const hooks[] = {
    "init", "probe", "create", "start", "stop", "pause", "port_add",
    "port_remove", "prepare",
};
enum { N_HOOKS = ARRAY_SIZE(hooks) };

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static struct compute_sf *sfs;
static bool unusable;
static int next_pid = 1000;
static unsigned int delay_ms;           /* start() takes that long. */

/* Call counters and failure injection (drivers/common/dummy-faults.h). */
static unsigned int calls[N_HOOKS];
static unsigned int fail_at[N_HOOKS];
static struct dummy_faults faults = {
    .who = "dummy engine", .env_prefix = "compute.", .hooks = hooks, .n = N_HOOKS,
    .calls = calls, .fail_at = fail_at,
};

/* Counts a call of 'hook' and says whether it must fail.  Mutex held. */
static int
hook_enter(const char *hook, struct corch_err *err)
{
    return dummy_faults_enter(&faults, hook, err);
}

int
compute_dummy_fail_at(const char *hook, unsigned int nth)
{
    pthread_mutex_lock(&mutex);
    int r = dummy_faults_fail_at(&faults, hook, nth);
    pthread_mutex_unlock(&mutex);
    return r;
}

unsigned int
compute_dummy_calls(const char *hook)
{
    pthread_mutex_lock(&mutex);
    unsigned int n = dummy_faults_calls(&faults, hook);
    pthread_mutex_unlock(&mutex);
    return n;
}

void
compute_dummy_set_usable(bool usable)
{
    pthread_mutex_lock(&mutex);
    unusable = !usable;
    pthread_mutex_unlock(&mutex);
}

static struct compute_sf *
find_sf(const char *instance)
{
    for (struct compute_sf *sf = sfs; sf; sf = sf->next)
        if (!strcmp(sf->instance, instance))
            return sf;
    return NULL;
}

static void
sf_free(struct compute_sf *sf)
{
    for (size_t i = 0; i < sf->n_ports; i++)
        free(sf->port_ids[i]);
    free(sf->port_ids);
    free(sf->cpus);
    free(sf->graph_id);
    free(sf->sf_id);
    free(sf);
}

static void
sf_set_spec(struct compute_sf *sf, const struct compute_sf_spec *spec)
{
    for (size_t i = 0; i < sf->n_ports; i++)
        free(sf->port_ids[i]);
    free(sf->port_ids);
    free(sf->cpus);
    sf->port_ids = xcalloc(spec->n_ports, sizeof *sf->port_ids);
    for (size_t i = 0; i < spec->n_ports; i++)
        sf->port_ids[i] = xstrdup(spec->ports[i].id);
    sf->n_ports = spec->n_ports;
    sf->n_in_netns = 0;
    for (size_t i = 0; i < spec->n_ports; i++)
        sf->n_in_netns += spec->ports[i].in_netns;
    sf->cpus = xcalloc(spec->n_cpus, sizeof *sf->cpus);
    if (spec->n_cpus)
        memcpy(sf->cpus, spec->cpus, spec->n_cpus * sizeof *sf->cpus);
    sf->n_cpus = spec->n_cpus;
}

static int
dummy_init(const struct corch_config *cfg, struct corch_err *err)
{
    pthread_mutex_lock(&mutex);
    dummy_faults_from_env(&faults);
    int error = hook_enter("init", err);
    pthread_mutex_unlock(&mutex);
    return error;
}

static int
dummy_probe(struct corch_err *err)
{
    pthread_mutex_lock(&mutex);
    int error = hook_enter("probe", err);
    if (!error && unusable)
        error = corch_err_set(err, -ENODEV, NULL,
                              "dummy engine: told to be unusable");
    pthread_mutex_unlock(&mutex);
    return error;
}

/* An SF with nothing but a (fake) namespace, as the native engine's. */
static int
dummy_prepare(const struct compute_sf_spec *spec, struct compute_sf **ret_sf,
              const char **ret_netns_path, struct corch_err *err)
{
    pthread_mutex_lock(&mutex);
    int error = hook_enter("prepare", err);
    if (!error) {
        /* An instance that exists (a restart) is adopted, as by create. */
        struct compute_sf *sf = find_sf(spec->instance);
        if (!sf) {
            sf = xcalloc(1, sizeof *sf);
            snprintf(sf->instance, sizeof sf->instance, "%s",
                     spec->instance);
            sf->graph_id = xstrdup(spec->graph_id);
            sf->sf_id = xstrdup(spec->sf_id);
            sf->next = sfs;
            sfs = sf;
        }
        snprintf(sf->netns_path, sizeof sf->netns_path, "/dummy/netns/%s",
                 spec->instance);
        *ret_sf = sf;
        *ret_netns_path = sf->netns_path;
    }
    pthread_mutex_unlock(&mutex);
    return error;
}

static int
dummy_create(const struct compute_sf_spec *spec, struct compute_sf **ret_sf,
             struct corch_err *err)
{
    pthread_mutex_lock(&mutex);
    int error = hook_enter("create", err);
    if (!error) {
        struct compute_sf *sf = find_sf(spec->instance);
        if (!sf) {
            sf = xcalloc(1, sizeof *sf);
            snprintf(sf->instance, sizeof sf->instance, "%s", spec->instance);
            sf->graph_id = xstrdup(spec->graph_id);
            sf->sf_id = xstrdup(spec->sf_id);
            sf->next = sfs;
            sfs = sf;
        }
        sf_set_spec(sf, spec);
        *ret_sf = sf;
    }
    pthread_mutex_unlock(&mutex);
    return error;
}

void
compute_dummy_set_delay_ms(unsigned int ms)
{
    pthread_mutex_lock(&mutex);
    delay_ms = ms;
    pthread_mutex_unlock(&mutex);
}

static int
dummy_start(struct compute_sf *sf, struct corch_err *err)
{
    pthread_mutex_lock(&mutex);
    unsigned int ms = delay_ms;
    pthread_mutex_unlock(&mutex);
    if (ms) {
        struct timespec ts = { .tv_sec = ms / 1000,
                               .tv_nsec = (long) (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&mutex);
    int error = hook_enter("start", err);
    if (!error && !sf->running) {
        sf->running = true;
        sf->pid = next_pid++;
    }
    pthread_mutex_unlock(&mutex);
    return error;
}

static int
dummy_stop(struct compute_sf *sf, struct corch_err *err)
{
    pthread_mutex_lock(&mutex);
    int error = hook_enter("stop", err);
    if (!error) {
        sf->running = false;
        sf->pid = 0;
    }
    pthread_mutex_unlock(&mutex);
    return error;
}

static int
dummy_pause(struct compute_sf *sf, bool pause, struct corch_err *err)
{
    pthread_mutex_lock(&mutex);
    int error = hook_enter("pause", err);
    if (!error)
        sf->paused = pause;
    pthread_mutex_unlock(&mutex);
    return error;
}

static int
dummy_port_add(struct compute_sf *sf, const struct compute_port *port,
               struct corch_err *err)
{
    pthread_mutex_lock(&mutex);
    int error = hook_enter("port_add", err);
    if (!error) {
        sf->port_ids = xrealloc(sf->port_ids,
                                (sf->n_ports + 1) * sizeof *sf->port_ids);
        sf->port_ids[sf->n_ports++] = xstrdup(port->id);
        sf->n_in_netns += port->in_netns;
    }
    pthread_mutex_unlock(&mutex);
    return error;
}

static int
dummy_port_remove(struct compute_sf *sf, const char *port_id,
                  struct corch_err *err)
{
    pthread_mutex_lock(&mutex);
    int error = hook_enter("port_remove", err);
    if (!error) {
        error = corch_err_set(err, -ENOENT, NULL,
                              "dummy engine: no port \"%s\"", port_id);
        for (size_t i = 0; i < sf->n_ports; i++) {
            if (!strcmp(sf->port_ids[i], port_id)) {
                free(sf->port_ids[i]);
                sf->port_ids[i] = sf->port_ids[--sf->n_ports];
                error = 0;
                break;
            }
        }
    }
    pthread_mutex_unlock(&mutex);
    return error;
}

static int
dummy_pid(const struct compute_sf *sf)
{
    pthread_mutex_lock(&mutex);
    int pid = sf->running ? sf->pid : 0;
    pthread_mutex_unlock(&mutex);
    return pid;
}

static void
dummy_destroy(struct compute_sf *sf)
{
    if (!sf)
        return;
    pthread_mutex_lock(&mutex);
    for (struct compute_sf **pp = &sfs; *pp; pp = &(*pp)->next) {
        if (*pp == sf) {
            *pp = sf->next;
            break;
        }
    }
    sf_free(sf);
    pthread_mutex_unlock(&mutex);
}

size_t
compute_dummy_count_sfs(void)
{
    size_t n = 0;
    pthread_mutex_lock(&mutex);
    for (struct compute_sf *sf = sfs; sf; sf = sf->next)
        n++;
    pthread_mutex_unlock(&mutex);
    return n;
}

size_t
compute_dummy_count_running(void)
{
    size_t n = 0;
    pthread_mutex_lock(&mutex);
    for (struct compute_sf *sf = sfs; sf; sf = sf->next)
        n += sf->running;
    pthread_mutex_unlock(&mutex);
    return n;
}

int
compute_dummy_pid(const char *instance)
{
    pthread_mutex_lock(&mutex);
    struct compute_sf *sf = find_sf(instance);
    int pid = sf && sf->running ? sf->pid : 0;
    pthread_mutex_unlock(&mutex);
    return pid;
}

size_t
compute_dummy_ports_in_netns(void)
{
    size_t n = 0;
    pthread_mutex_lock(&mutex);
    for (struct compute_sf *sf = sfs; sf; sf = sf->next)
        n += sf->n_in_netns;
    pthread_mutex_unlock(&mutex);
    return n;
}

size_t
compute_dummy_port_count(const char *instance)
{
    pthread_mutex_lock(&mutex);
    struct compute_sf *sf = find_sf(instance);
    size_t n = sf ? sf->n_ports : SIZE_MAX;
    pthread_mutex_unlock(&mutex);
    return n;
}

size_t
compute_dummy_cpus(const char *instance, unsigned int *cpus, size_t max)
{
    pthread_mutex_lock(&mutex);
    struct compute_sf *sf = find_sf(instance);
    size_t n = sf ? sf->n_cpus : SIZE_MAX;
    for (size_t i = 0; sf && i < n && i < max; i++)
        cpus[i] = sf->cpus[i];
    pthread_mutex_unlock(&mutex);
    return n;
}

bool
compute_dummy_find(const char *graph_id, const char *sf_id, char *buf,
                   size_t size)
{
    bool found = false;
    pthread_mutex_lock(&mutex);
    if (size)
        buf[0] = '\0';
    for (struct compute_sf *sf = sfs; sf && !found; sf = sf->next) {
        if (!strcmp(sf->graph_id, graph_id) && !strcmp(sf->sf_id, sf_id)) {
            snprintf(buf, size, "%s", sf->instance);
            found = true;
        }
    }
    pthread_mutex_unlock(&mutex);
    return found;
}

void
compute_dummy_reset(void)
{
    pthread_mutex_lock(&mutex);
    while (sfs) {
        struct compute_sf *sf = sfs;
        sfs = sf->next;
        sf_free(sf);
    }
    memset(calls, 0, sizeof calls);
    memset(fail_at, 0, sizeof fail_at);
    unusable = false;
    delay_ms = 0;
    pthread_mutex_unlock(&mutex);
}

const struct compute_class compute_dummy_class = {
    .type = "dummy",
    .init = dummy_init,
    .fini = NULL,
    .probe = dummy_probe,
    .default_port_tech = VSWITCH_PORT_VETH,
    .prepare = dummy_prepare,
    .create = dummy_create,
    .start = dummy_start,
    .stop = dummy_stop,
    .pause = dummy_pause,
    .port_add = dummy_port_add,
    .port_remove = dummy_port_remove,
    .pid = dummy_pid,
    .destroy = dummy_destroy,
};
