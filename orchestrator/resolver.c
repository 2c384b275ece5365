/* The SF resolver: see resolver.h. */
#include <config.h>
#include "resolver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "compute.h"
#include "log.h"

LOG_MODULE(resolver);

int
resolver_engine_rank(const char *engine)
{
    static const char *const order[] = { "native", "dpdk", "docker", "kvm" };
    for (size_t i = 0; i < ARRAY_SIZE(order); i++)
        if (!strcmp(engine, order[i]))
            return (int) i;
    return (int) ARRAY_SIZE(order);
}

bool
resolver_have_executable(const char *name)
{
    if (strchr(name, '/'))
        return access(name, X_OK) == 0;
    const char *path = getenv("PATH");
    _cleanup_free_ char *copy = xstrdup(path && *path ? path
                                        : "/usr/local/sbin:/usr/local/bin:"
                                          "/usr/sbin:/usr/bin:/sbin:/bin");
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        _cleanup_free_ char *file = xasprintf("%s/%s", dir, name);
        struct stat st;
        if (!stat(file, &st) && S_ISREG(st.st_mode) && !access(file, X_OK))
            return true;
    }
    return false;
}

/* Whether a line of 'file' ends with "/NAME.ko" (maybe compressed). */
static bool
modules_file_has(const char *file, const char *name)
{
    FILE *f = fopen(file, "re");
    if (!f)
        return false;
    _cleanup_free_ char *needle = xasprintf("/%s.ko", name);
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');  /* modules.dep: "path: deps". */
        if (colon)
            *colon = '\0';
        line[strcspn(line, "\n")] = '\0';
        char *hit = strstr(line, needle);
        if (hit) {
            char *end = hit + strlen(needle);
            found = !*end || *end == '.';
        }
    }
    fclose(f);
    return found;
}

bool
resolver_have_kernel_feature(const char *name)
{
    _cleanup_free_ char *sys = xasprintf("/sys/module/%s", name);
    if (!access(sys, F_OK))
        return true;
    struct utsname u;
    if (uname(&u) < 0)
        return false;
    _cleanup_free_ char *builtin = xasprintf("/lib/modules/%s/modules.builtin",
                                             u.release);
    _cleanup_free_ char *dep = xasprintf("/lib/modules/%s/modules.dep",
                                         u.release);
    /* Module names use '_' where files may use '-'. */
    _cleanup_free_ char *dashed = xstrdup(name);
    for (char *c = dashed; *c; c++)
        if (*c == '_')
            *c = '-';
    return modules_file_has(builtin, name) || modules_file_has(dep, name)
           || modules_file_has(builtin, dashed) || modules_file_has(dep, dashed);
}

/* Why 't' does not fit 'sf' (into 'why'), or "" if it fits. */
static void
check_fit(const struct resolver_env *env, const struct graph_sf *sf,
          const struct sf_template *t, uint64_t memory_free, char *why,
          size_t size)
{
    why[0] = '\0';
    if (t->subgraph) {
        snprintf(why, size, "recursive templates not supported yet");
        return;
    }
    if (t->n_ports < sf->n_ports) {
        snprintf(why, size, "has %zu ports, the SF uses %zu", t->n_ports,
                 sf->n_ports);
        return;
    }
    const struct compute_engine *e = compute_engine_find(t->engine);
    if (!e) {
        snprintf(why, size, "engine %s not enabled", t->engine);
        return;
    }
    if (!e->usable) {
        snprintf(why, size, "engine %s not usable (%s)", t->engine, e->why);
        return;
    }
    if (t->memory_mb > memory_free) {
        snprintf(why, size, "needs %u MB, %llu MB free", t->memory_mb,
                 (unsigned long long) memory_free);
        return;
    }
    if (env->cores_total && t->cpu_cores > env->cores_total) {
        snprintf(why, size, "needs %u cores, the node has %u", t->cpu_cores,
                 env->cores_total);
        return;
    }
    for (char **x = t->dep_executables; x && *x; x++) {
        if (!resolver_have_executable(*x)) {
            snprintf(why, size, "needs executable %s, not found on PATH", *x);
            return;
        }
    }
    for (char **k = t->dep_kernel; k && *k; k++) {
        if (!resolver_have_kernel_feature(*k)) {
            snprintf(why, size, "needs kernel feature %s, not present", *k);
            return;
        }
    }
}

/* Whether 'a' is preferred to 'b'. */
static bool
better(const struct sf_template *a, const struct sf_template *b)
{
    if (a->memory_mb != b->memory_mb)
        return a->memory_mb < b->memory_mb;
    if (a->cpu_cores != b->cpu_cores)
        return a->cpu_cores < b->cpu_cores;
    int ra = resolver_engine_rank(a->engine);
    int rb = resolver_engine_rank(b->engine);
    if (ra != rb)
        return ra < rb;
    return strcmp(a->id, b->id) < 0;
}

static struct sf_template *
dummy_template(const struct graph_sf *sf)
{
    struct sf_template *t = xcalloc(1, sizeof *t);
    t->id = xasprintf("dummy:%s", sf->name);
    t->capability = xstrdup(sf->name);
    t->engine = xstrdup("dummy");
    t->ports = xcalloc(sf->n_ports, sizeof *t->ports);
    for (size_t i = 0; i < sf->n_ports; i++)
        t->ports[i].name = xasprintf("eth%zu", i);
    t->n_ports = sf->n_ports;
    t->dep_executables = xcalloc(1, sizeof *t->dep_executables);
    t->dep_kernel = xcalloc(1, sizeof *t->dep_kernel);
    return t;
}

static bool
dummy_engine_usable(void)
{
    const struct compute_engine *e = compute_engine_find("dummy");
    return e && e->usable;
}

/* Appends "; " + text to the growing list of reasons. */
static void
append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
append(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

/* Resolves SF 'i'.  When subgraph templates are supported, the expansion
 * of a chosen subgraph template goes here: resolve its SFs in turn (with a
 * depth limit and the chain of template ids for cycle detection) and hand
 * the stitched result back in the choice. */
static int
resolve_one(const struct resolver_env *env, const struct graph *g, size_t i,
            uint64_t memory_free, struct resolver_choice *ret,
            struct corch_err *err)
{
    const struct graph_sf *sf = &g->sfs[i];
    char path[64], why[512];

    if (sf->template_id) {
        snprintf(path, sizeof path, "sffg.SFs[%zu].template", i);
        const struct sf_template *t = repository_find(env->repo,
                                                      sf->template_id);
        if (!t)
            return corch_err_set(err, -ENOPKG, path,
                                 "sf '%s': template '%s' not found", sf->id,
                                 sf->template_id);
        if (t->subgraph)
            return corch_err_set(err, -EOPNOTSUPP, path,
                                 "sf '%s': template '%s': recursive templates "
                                 "not supported yet", sf->id, t->id);
        check_fit(env, sf, t, memory_free, why, sizeof why);
        if (why[0])
            return corch_err_set(err, -ENOPKG, path, "sf '%s': %s: %s",
                                 sf->id, t->id, why);
        ret->tmpl = t;
        ret->own = NULL;
        return 0;
    }

    snprintf(path, sizeof path, "sffg.SFs[%zu].name", i);
    const struct sf_template *best = NULL;
    char reasons[CORCH_ERR_MSG_MAX] = "";
    size_t n_candidates = 0;
    for (size_t k = 0; k < repository_count(env->repo); k++) {
        const struct sf_template *t = repository_get(env->repo, k);
        if (strcmp(t->capability, sf->name))
            continue;
        n_candidates++;
        check_fit(env, sf, t, memory_free, why, sizeof why);
        if (why[0])
            append(reasons, sizeof reasons, "%s%s: %s",
                   reasons[0] ? "; " : "", t->id, why);
        else if (!best || better(t, best))
            best = t;
    }
    if (best) {
        ret->tmpl = best;
        ret->own = NULL;
        return 0;
    }
    if (dummy_engine_usable()) {
        if (n_candidates)
            LOG_DBG("sf %s: no template fits (%s); using the dummy engine",
                    sf->id, reasons);
        ret->own = dummy_template(sf);
        ret->tmpl = ret->own;
        return 0;
    }
    if (!n_candidates)
        return corch_err_set(err, -ENOPKG, path,
                             "sf '%s': no template has capability '%s'",
                             sf->id, sf->name);
    return corch_err_set(err, -ENOPKG, path,
                         "sf '%s': no template with capability '%s' fits: %s",
                         sf->id, sf->name, reasons);
}

int
resolver_resolve(const struct resolver_env *env, const struct graph *g,
                 const struct sf_template *const *fixed,
                 struct resolver_choice **ret_choices, struct corch_err *err)
{
    struct resolver_choice *choices = xcalloc(g->n_sfs, sizeof *choices);
    uint64_t memory_free = env->memory_mb_free;

    for (size_t i = 0; i < g->n_sfs; i++) {
        if (fixed && fixed[i]) {
            choices[i].tmpl = fixed[i];
            continue;
        }
        int error = resolve_one(env, g, i, memory_free, &choices[i], err);
        if (error) {
            resolver_choices_free(choices, g->n_sfs);
            return error;
        }
        memory_free -= choices[i].tmpl->memory_mb;
    }
    *ret_choices = choices;
    return 0;
}

void
resolver_choices_free(struct resolver_choice *choices, size_t n)
{
    for (size_t i = 0; choices && i < n; i++)
        sf_template_free(choices[i].own);
    free(choices);
}
