/* The dummy execution engine: see compute-dummy.h. */
#include <config.h>
#include "compute-dummy.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/dummy-faults.h"
#include "corch-config.h"
#include "log.h"

LOG_MODULE(compute_dummy);

static const char *const hooks[] = {
    "open", "probe", "create", "start", "stop", "pause", "port_add",
    "port_remove", "prepare",
};
enum { N_HOOKS = ARRAY_SIZE(hooks) };

/* One instance of the engine. */
struct dummy_engine {
    struct compute_engine up;   /* The base the core reads. */
    pthread_mutex_t mutex;      /* Protects everything below. */
    struct dummy_sf *sfs;       /* Its SF instances, a list. */
    char *records;              /* <state.dir>/compute-dummy (the fake
                                 * node's SFs), or NULL without one. */
    bool unusable;              /* What probe() says. */
    int next_pid;               /* Fake pid of the next SF started. */
    unsigned int delay_ms;      /* start() takes that long. */
    unsigned int calls[N_HOOKS]; /* Calls per hook (dummy-faults.h). */
    unsigned int fail_at[N_HOOKS]; /* Call number that fails, 0 none. */
    int fail_errno[N_HOOKS];    /* What an injected failure returns, 0:
                                 * -EIO. */
    struct dummy_faults faults; /* Failure injection over the above. */
};

/* One SF instance. */
struct dummy_sf {
    struct compute_sf up;       /* The base the core reads. */
    struct dummy_engine *de;    /* Its engine (up.engine, typed). */
    char instance[49];          /* Unique on the node (the base's is set
                                 * only once prepare / create returned). */
    char *graph_id;             /* Owner graph. */
    char *sf_id;                /* SF id in the graph. */
    bool running;               /* Started and not stopped. */
    bool paused;                /* Paused by pause(). */
    int pid;                    /* Fake pid while running. */
    char **port_ids;            /* Ports attached (ids)... */
    size_t n_ports;             /* ...this many. */
    unsigned int *cpus;         /* Cores from the spec... */
    size_t n_cpus;              /* ...this many. */
    char netns_path[80];        /* Its fake namespace once prepared, as a
                                 * switch would be told. */
    size_t n_in_netns;          /* Ports the switch made in there. */
    struct dummy_sf *next;      /* Next SF of the instance. */
};

static struct dummy_engine *
dummy_engine_cast(const struct compute_engine *e)
{
    return CONTAINER_OF(e, struct dummy_engine, up);
}

static struct dummy_sf *
dummy_sf_cast(const struct compute_sf *sf)
{
    return CONTAINER_OF(sf, struct dummy_sf, up);
}

/* Counts a call of 'hook' and says whether it must fail.  Mutex held. */
static int
hook_enter(struct dummy_engine *de, const char *hook, struct corch_err *err)
{
    int error = dummy_faults_enter(&de->faults, hook, err);
    int i = dummy_faults_index(&de->faults, hook);
    if (error && i >= 0 && de->fail_errno[i])
        error = corch_err_set(err, de->fail_errno[i], NULL,
                              "dummy engine: injected failure in %s (%s)",
                              hook, strerror(-de->fail_errno[i]));
    return error;
}

/* --- The fake node: one record per SF, so that a later instance (a
 * restart) finds what an earlier one left. --- */

static void
record_write(const struct dummy_engine *de, const struct dummy_sf *sf)
{
    if (!de->records)
        return;
    _cleanup_free_ char *path = xasprintf("%s/%s", de->records, sf->instance);
    FILE *f = fopen(path, "w");
    if (!f) {
        LOG_WARN("%s: %s", path, strerror(errno));
        return;
    }
    fprintf(f, "%d\n", sf->running ? sf->pid : 0);
    fclose(f);
}

/* The pid an earlier instance recorded for 'instance' (0: not running),
 * or -1 if there is no record. */
static int
record_read(const struct dummy_engine *de, const char *instance)
{
    if (!de->records)
        return -1;
    _cleanup_free_ char *path = xasprintf("%s/%s", de->records, instance);
    FILE *f = fopen(path, "r");
    int pid = -1;
    if (f) {
        if (fscanf(f, "%d", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return pid;
}

static void
record_remove(const struct dummy_engine *de, const char *instance)
{
    if (!de->records)
        return;
    _cleanup_free_ char *path = xasprintf("%s/%s", de->records, instance);
    unlink(path);
}

/* The highest pid any record holds, so that new pids differ from them. */
static int
records_max_pid(const struct dummy_engine *de)
{
    int max = 0;
    DIR *d = de->records ? opendir(de->records) : NULL;
    for (struct dirent *ent; d && (ent = readdir(d));) {
        if (ent->d_name[0] == '.')
            continue;
        int pid = record_read(de, ent->d_name);
        if (pid > max)
            max = pid;
    }
    if (d)
        closedir(d);
    return max;
}

/* --- SFs. --- */

/* Mutex held. */
static struct dummy_sf *
find_sf(const struct dummy_engine *de, const char *instance)
{
    for (struct dummy_sf *sf = de->sfs; sf; sf = sf->next)
        if (!strcmp(sf->instance, instance))
            return sf;
    return NULL;
}

static void
sf_free(struct dummy_sf *sf)
{
    for (size_t i = 0; i < sf->n_ports; i++)
        free(sf->port_ids[i]);
    free(sf->port_ids);
    free(sf->cpus);
    free(sf->graph_id);
    free(sf->sf_id);
    compute_sf_base_uninit(&sf->up);
    free(sf);
}

/* The SF of spec->instance: this instance's, else one an earlier instance
 * left on the fake node (adopted: running with its pid), else a new one.
 * Mutex held. */
static struct dummy_sf *
sf_find_or_new(struct dummy_engine *de, const struct compute_sf_spec *spec)
{
    struct dummy_sf *sf = find_sf(de, spec->instance);
    if (sf)
        return sf;
    sf = xcalloc(1, sizeof *sf);
    sf->de = de;
    snprintf(sf->instance, sizeof sf->instance, "%s", spec->instance);
    sf->graph_id = xstrdup(spec->graph_id);
    sf->sf_id = xstrdup(spec->sf_id);
    int pid = record_read(de, spec->instance);
    if (pid > 0) {
        sf->running = true;
        sf->pid = pid;
    }
    sf->next = de->sfs;
    de->sfs = sf;
    record_write(de, sf);
    return sf;
}

static void
sf_set_spec(struct dummy_sf *sf, const struct compute_sf_spec *spec)
{
    for (size_t i = 0; i < sf->n_ports; i++)
        free(sf->port_ids[i]);
    free(sf->port_ids);
    free(sf->cpus);
    sf->port_ids = xcalloc(spec->n_ports + 1, sizeof *sf->port_ids);
    for (size_t i = 0; i < spec->n_ports; i++)
        sf->port_ids[i] = xstrdup(spec->ports[i].id);
    sf->n_ports = spec->n_ports;
    sf->n_in_netns = 0;
    for (size_t i = 0; i < spec->n_ports; i++)
        sf->n_in_netns += spec->ports[i].in_netns;
    sf->cpus = xcalloc(spec->n_cpus + 1, sizeof *sf->cpus);
    if (spec->n_cpus)
        memcpy(sf->cpus, spec->cpus, spec->n_cpus * sizeof *sf->cpus);
    sf->n_cpus = spec->n_cpus;
}

/* --- Hooks. --- */

static int
dummy_open(const struct corch_config *cfg, struct compute_engine **ret_engine,
           struct corch_err *err)
{
    struct dummy_engine *de = xcalloc(1, sizeof *de);
    pthread_mutex_init(&de->mutex, NULL);
    de->faults = (struct dummy_faults) {
        .who = "dummy engine", .env_prefix = "compute.", .hooks = hooks,
        .n = N_HOOKS, .calls = de->calls, .fail_at = de->fail_at,
    };
    dummy_faults_from_env(&de->faults);
    int error = hook_enter(de, "open", err);
    if (!error && cfg && cfg->state_dir && *cfg->state_dir) {
        de->records = xasprintf("%s/compute-dummy", cfg->state_dir);
        error = mkdir_p(de->records, 0700);
        if (error)
            corch_err_set(err, error, "state.dir", "%s: %s", de->records,
                          strerror(-error));
    }
    if (error) {
        free(de->records);
        pthread_mutex_destroy(&de->mutex);
        free(de);
        return error;
    }
    int max = records_max_pid(de);
    de->next_pid = max >= 1000 ? max + 1 : 1000;
    *ret_engine = &de->up;
    return 0;
}

static void
dummy_close(struct compute_engine *e)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    /* The SFs stay on the fake node (their records): only the objects
     * go. */
    while (de->sfs) {
        struct dummy_sf *sf = de->sfs;
        de->sfs = sf->next;
        sf_free(sf);
    }
    free(de->records);
    pthread_mutex_destroy(&de->mutex);
    free(de);
}

static int
dummy_probe(struct compute_engine *e, struct corch_err *err)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    pthread_mutex_lock(&de->mutex);
    int error = hook_enter(de, "probe", err);
    if (!error && de->unusable)
        error = corch_err_set(err, -ENODEV, NULL,
                              "dummy engine: told to be unusable");
    pthread_mutex_unlock(&de->mutex);
    return error;
}

/* An SF with nothing but a (fake) namespace, as the native engine's. */
static int
dummy_prepare(struct compute_engine *e, const struct compute_sf_spec *spec,
              struct compute_sf **ret_sf, const char **ret_netns_path,
              struct corch_err *err)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    pthread_mutex_lock(&de->mutex);
    int error = hook_enter(de, "prepare", err);
    if (!error) {
        /* An instance that exists (a restart) is adopted, as by create. */
        struct dummy_sf *sf = sf_find_or_new(de, spec);
        snprintf(sf->netns_path, sizeof sf->netns_path, "/dummy/netns/%s",
                 spec->instance);
        *ret_sf = &sf->up;
        *ret_netns_path = sf->netns_path;
    }
    pthread_mutex_unlock(&de->mutex);
    return error;
}

static int
dummy_create(struct compute_engine *e, const struct compute_sf_spec *spec,
             struct compute_sf **ret_sf, struct corch_err *err)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    pthread_mutex_lock(&de->mutex);
    int error = hook_enter(de, "create", err);
    if (!error) {
        struct dummy_sf *sf = spec->prepared ? dummy_sf_cast(spec->prepared)
                                             : sf_find_or_new(de, spec);
        sf_set_spec(sf, spec);
        *ret_sf = &sf->up;
    }
    pthread_mutex_unlock(&de->mutex);
    return error;
}

static int
dummy_start(struct compute_sf *csf, struct corch_err *err)
{
    struct dummy_sf *sf = dummy_sf_cast(csf);
    struct dummy_engine *de = sf->de;
    pthread_mutex_lock(&de->mutex);
    unsigned int ms = de->delay_ms;
    pthread_mutex_unlock(&de->mutex);
    if (ms) {
        struct timespec ts = { .tv_sec = ms / 1000,
                               .tv_nsec = (long) (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&de->mutex);
    int error = hook_enter(de, "start", err);
    if (!error && !sf->running) {
        sf->running = true;
        sf->pid = de->next_pid++;
        record_write(de, sf);
    }
    pthread_mutex_unlock(&de->mutex);
    return error;
}

static int
dummy_stop(struct compute_sf *csf, struct corch_err *err)
{
    struct dummy_sf *sf = dummy_sf_cast(csf);
    struct dummy_engine *de = sf->de;
    pthread_mutex_lock(&de->mutex);
    int error = hook_enter(de, "stop", err);
    if (!error) {
        sf->running = false;
        sf->pid = 0;
        record_write(de, sf);
    }
    pthread_mutex_unlock(&de->mutex);
    return error;
}

static int
dummy_pause(struct compute_sf *csf, bool pause, struct corch_err *err)
{
    struct dummy_sf *sf = dummy_sf_cast(csf);
    struct dummy_engine *de = sf->de;
    pthread_mutex_lock(&de->mutex);
    int error = hook_enter(de, "pause", err);
    if (!error)
        sf->paused = pause;
    pthread_mutex_unlock(&de->mutex);
    return error;
}

static int
dummy_port_add(struct compute_sf *csf, const struct compute_port *port,
               struct corch_err *err)
{
    struct dummy_sf *sf = dummy_sf_cast(csf);
    struct dummy_engine *de = sf->de;
    pthread_mutex_lock(&de->mutex);
    int error = hook_enter(de, "port_add", err);
    if (!error) {
        sf->port_ids = xrealloc(sf->port_ids,
                                (sf->n_ports + 1) * sizeof *sf->port_ids);
        sf->port_ids[sf->n_ports++] = xstrdup(port->id);
        sf->n_in_netns += port->in_netns;
    }
    pthread_mutex_unlock(&de->mutex);
    return error;
}

static int
dummy_port_remove(struct compute_sf *csf, const char *port_id,
                  struct corch_err *err)
{
    struct dummy_sf *sf = dummy_sf_cast(csf);
    struct dummy_engine *de = sf->de;
    pthread_mutex_lock(&de->mutex);
    int error = hook_enter(de, "port_remove", err);
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
    pthread_mutex_unlock(&de->mutex);
    return error;
}

static int
dummy_pid(const struct compute_sf *csf)
{
    const struct dummy_sf *sf = dummy_sf_cast(csf);
    pthread_mutex_lock(&sf->de->mutex);
    int pid = sf->running ? sf->pid : 0;
    pthread_mutex_unlock(&sf->de->mutex);
    return pid;
}

static void
dummy_destroy(struct compute_sf *csf)
{
    struct dummy_sf *sf = dummy_sf_cast(csf);
    struct dummy_engine *de = sf->de;
    pthread_mutex_lock(&de->mutex);
    for (struct dummy_sf **pp = &de->sfs; *pp; pp = &(*pp)->next) {
        if (*pp == sf) {
            *pp = sf->next;
            break;
        }
    }
    record_remove(de, sf->instance);
    sf_free(sf);
    pthread_mutex_unlock(&de->mutex);
}

/* The SF stays on the fake node: its record (and its pid) stays for the
 * next instance to find; only the object goes. */
static void
dummy_release(struct compute_sf *csf)
{
    struct dummy_sf *sf = dummy_sf_cast(csf);
    struct dummy_engine *de = sf->de;
    pthread_mutex_lock(&de->mutex);
    for (struct dummy_sf **pp = &de->sfs; *pp; pp = &(*pp)->next) {
        if (*pp == sf) {
            *pp = sf->next;
            break;
        }
    }
    sf_free(sf);
    pthread_mutex_unlock(&de->mutex);
}

const struct compute_class compute_dummy_class = {
    .type = "dummy",
    .open = dummy_open,
    .close = dummy_close,
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
    .release = dummy_release,
};

/* --- For tests. --- */

int
compute_dummy_fail_at(struct compute_engine *e, const char *hook,
                      unsigned int nth)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    pthread_mutex_lock(&de->mutex);
    int r = dummy_faults_fail_at(&de->faults, hook, nth);
    pthread_mutex_unlock(&de->mutex);
    return r;
}

int
compute_dummy_fail_errno(struct compute_engine *e, const char *hook,
                         int error)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    pthread_mutex_lock(&de->mutex);
    int i = dummy_faults_index(&de->faults, hook);
    if (i >= 0)
        de->fail_errno[i] = error;
    pthread_mutex_unlock(&de->mutex);
    return i >= 0 ? 0 : -EINVAL;
}

unsigned int
compute_dummy_calls(struct compute_engine *e, const char *hook)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    pthread_mutex_lock(&de->mutex);
    unsigned int n = dummy_faults_calls(&de->faults, hook);
    pthread_mutex_unlock(&de->mutex);
    return n;
}

void
compute_dummy_set_usable(struct compute_engine *e, bool usable)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    pthread_mutex_lock(&de->mutex);
    de->unusable = !usable;
    pthread_mutex_unlock(&de->mutex);
}

void
compute_dummy_set_delay_ms(struct compute_engine *e, unsigned int ms)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    pthread_mutex_lock(&de->mutex);
    de->delay_ms = ms;
    pthread_mutex_unlock(&de->mutex);
}

size_t
compute_dummy_count_sfs(struct compute_engine *e)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    size_t n = 0;
    pthread_mutex_lock(&de->mutex);
    for (struct dummy_sf *sf = de->sfs; sf; sf = sf->next)
        n++;
    pthread_mutex_unlock(&de->mutex);
    return n;
}

size_t
compute_dummy_count_running(struct compute_engine *e)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    size_t n = 0;
    pthread_mutex_lock(&de->mutex);
    for (struct dummy_sf *sf = de->sfs; sf; sf = sf->next)
        n += sf->running;
    pthread_mutex_unlock(&de->mutex);
    return n;
}

int
compute_dummy_pid(struct compute_engine *e, const char *instance)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    pthread_mutex_lock(&de->mutex);
    struct dummy_sf *sf = find_sf(de, instance);
    int pid = sf && sf->running ? sf->pid : 0;
    pthread_mutex_unlock(&de->mutex);
    return pid;
}

size_t
compute_dummy_ports_in_netns(struct compute_engine *e)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    size_t n = 0;
    pthread_mutex_lock(&de->mutex);
    for (struct dummy_sf *sf = de->sfs; sf; sf = sf->next)
        n += sf->n_in_netns;
    pthread_mutex_unlock(&de->mutex);
    return n;
}

size_t
compute_dummy_port_count(struct compute_engine *e, const char *instance)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    pthread_mutex_lock(&de->mutex);
    struct dummy_sf *sf = find_sf(de, instance);
    size_t n = sf ? sf->n_ports : SIZE_MAX;
    pthread_mutex_unlock(&de->mutex);
    return n;
}

size_t
compute_dummy_cpus(struct compute_engine *e, const char *instance,
                   unsigned int *cpus, size_t max)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    pthread_mutex_lock(&de->mutex);
    struct dummy_sf *sf = find_sf(de, instance);
    size_t n = sf ? sf->n_cpus : SIZE_MAX;
    for (size_t i = 0; sf && i < n && i < max; i++)
        cpus[i] = sf->cpus[i];
    pthread_mutex_unlock(&de->mutex);
    return n;
}

bool
compute_dummy_find(struct compute_engine *e, const char *graph_id,
                   const char *sf_id, char *buf, size_t size)
{
    struct dummy_engine *de = dummy_engine_cast(e);
    bool found = false;
    pthread_mutex_lock(&de->mutex);
    if (size)
        buf[0] = '\0';
    for (struct dummy_sf *sf = de->sfs; sf && !found; sf = sf->next) {
        if (!strcmp(sf->graph_id, graph_id) && !strcmp(sf->sf_id, sf_id)) {
            snprintf(buf, size, "%s", sf->instance);
            found = true;
        }
    }
    pthread_mutex_unlock(&de->mutex);
    return found;
}
