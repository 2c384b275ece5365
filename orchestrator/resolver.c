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
#include "corch-config.h"
#include "jsonschema.h"
#include "log.h"

LOG_MODULE(resolver);

/* The order in force: set at start-up, read by every resolve. */
static char **engine_order;

void
resolver_set_engine_order(const char *list)
{
    strv_free(engine_order);
    engine_order = NULL;
    if (list && *list)
        config_split_list(list, &engine_order);
}

int
resolver_engine_rank(const char *engine)
{
    static const char *const order[] = { "native", "dpdk", "docker", "kvm" };
    int base = 0;
    for (char **e = engine_order; e && *e; e++, base++)
        if (!strcmp(*e, engine))
            return base;
    for (size_t i = 0; i < ARRAY_SIZE(order); i++)
        if (!strcmp(engine, order[i]))
            return base + (int) i;
    return base + (int) ARRAY_SIZE(order);
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
        /* resolver_expand() replaces the SFs that take one. */
        snprintf(why, size, "a subgraph template, not expanded here (%zu "
                 "ports, the SF uses %zu)", t->n_ports, sf->n_ports);
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

/* The template 'id', refreshing a remote repository once on a miss. */
static const struct sf_template *
find_template(const struct resolver_env *env, const char *id)
{
    const struct sf_template *t = repository_find(env->repo, id);
    if (!t && repository_refresh(env->repo) > 0)
        t = repository_find(env->repo, id);
    return t;
}

static bool
has_capability(const struct repository *repo, const char *capability)
{
    for (size_t k = 0; k < repository_count(repo); k++)
        if (!strcmp(repository_get(repo, k)->capability, capability))
            return true;
    return false;
}

/* Resolves SF 'i' of a graph that resolver_expand() has flattened. */
static int
resolve_one(const struct resolver_env *env, const struct graph *g, size_t i,
            uint64_t memory_free, struct resolver_choice *ret,
            struct corch_err *err)
{
    const struct graph_sf *sf = &g->sfs[i];
    char path[64], why[512];

    if (sf->template_id) {
        snprintf(path, sizeof path, "sffg.SFs[%zu].template", i);
        const struct sf_template *t = find_template(env, sf->template_id);
        if (!t)
            return corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                                  "sf '%s': template '%s' not found", sf->id,
                                  sf->template_id);
        if (t->subgraph && t->n_ports < sf->n_ports)
            return corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                                  "sf '%s': template '%s' is a subgraph with "
                                  "%zu ports, the SF uses %zu", sf->id, t->id,
                                  t->n_ports, sf->n_ports);
        if (t->subgraph)        /* resolver_expand() was not called. */
            return corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                                  "sf '%s': template '%s' is a subgraph, not "
                                  "expanded", sf->id, t->id);
        check_fit(env, sf, t, memory_free, why, sizeof why);
        if (why[0])
            return corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                                  "sf '%s': %s: %s", sf->id, t->id, why);
        ret->tmpl = t;
        ret->own = NULL;
        return 0;
    }

    snprintf(path, sizeof path, "sffg.SFs[%zu].name", i);
    if (!has_capability(env->repo, sf->name) && repository_refresh(env->repo) > 0)
        LOG_INFO("sf %s: capability %s not found; repository refreshed",
                 sf->id, sf->name);
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
        return corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                              "sf '%s': no template has capability '%s'",
                              sf->id, sf->name);
    return corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
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
            /* A running SF keeps its template: it still has to have a
             * port for each of the SF's (an update may add some). */
            if (fixed[i]->n_ports < g->sfs[i].n_ports) {
                char path[64];
                snprintf(path, sizeof path, "sffg.SFs[%zu].ports", i);
                resolver_choices_free(choices, g->n_sfs);
                /* The running SF is in the way, not the request: a
                 * new SF id (or a DELETE first) gets a new template. */
                return corch_err_setk(err, CORCH_ERR_CONFLICT, -E2BIG, path,
                                      "sf '%s': template %s has %zu ports, "
                                      "the SF uses %zu", g->sfs[i].id,
                                      fixed[i]->id, fixed[i]->n_ports,
                                      g->sfs[i].n_ports);
            }
            choices[i].tmpl = fixed[i];
            continue;
        }
        int error = resolve_one(env, g, i, memory_free, &choices[i], err);
        if (!error && g->sfs[i].config && choices[i].tmpl->config_schema) {
            char path[64];
            snprintf(path, sizeof path, "sffg.SFs[%zu].config", i);
            error = jsonschema_check(choices[i].tmpl->config_schema,
                                          g->sfs[i].config, path, err);
            if (error)
                corch_err_prefix(err, "sf '%s' (template %s)", g->sfs[i].id,
                                 choices[i].tmpl->id);
        }
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

/* --- Recursive templates (hierarchical decomposition). --- */

/* The template ids from the graph's SF down to the one being expanded. */
struct chain {
    const char *ids[RESOLVER_MAX_DEPTH + 2]; /* Outermost first. */
    size_t n;                   /* Entries in 'ids'. */
};

/* "a -> b -> c" into 'buf'. */
static void
chain_format(const struct chain *c, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < c->n; i++)
        append(buf, size, "%s%s", i ? " -> " : "", c->ids[i]);
}

/* The subgraph template SF 'sf' expands into, or NULL when it takes an
 * atomic template (or nothing fits: resolve_one() then says why).  A
 * subgraph template is taken when the SF names it, or when no atomic
 * template of the SF's capability fits; among several, the first by id
 * with enough ports. */
static const struct sf_template *
subgraph_template(const struct resolver_env *env, const struct graph_sf *sf)
{
    if (sf->template_id) {
        const struct sf_template *t = find_template(env, sf->template_id);
        return t && t->subgraph && t->n_ports >= sf->n_ports ? t : NULL;
    }
    if (!has_capability(env->repo, sf->name))
        repository_refresh(env->repo);
    size_t n = repository_count(env->repo);
    const struct sf_template *sub = NULL;
    /* A cheap pass first: most capabilities have no subgraph template. */
    for (size_t k = 0; k < n; k++) {
        const struct sf_template *t = repository_get(env->repo, k);
        if (t->subgraph && !strcmp(t->capability, sf->name)
            && t->n_ports >= sf->n_ports && (!sub || strcmp(t->id, sub->id) < 0))
            sub = t;
    }
    if (!sub)
        return NULL;
    char why[512];
    for (size_t k = 0; k < n; k++) {
        const struct sf_template *t = repository_get(env->repo, k);
        if (t->subgraph || strcmp(t->capability, sf->name))
            continue;
        check_fit(env, sf, t, env->memory_mb_free, why, sizeof why);
        if (!why[0])
            return NULL;
    }
    return sub;
}

/* Where port j of an expanded SF leads: the inner SF port joined to the
 * subgraph's SAP j. */
struct alias {
    bool set;                   /* SAP j is joined to an SF port. */
    size_t sf;                  /* Index of the inner SF... */
    size_t port;                /* ...and of its port. */
};

/* Finds the SF port each SAP of 'sg' is joined to (into 'alias', one per
 * SAP) and marks the joining rules in 'skip' (one per rule).  Every SAP
 * the outer SF uses ('n_used') must be joined. */
static int
find_aliases(const struct graph *sg, size_t n_used, const char *chain,
             const char *path, struct alias *alias, bool *skip,
             struct corch_err *err)
{
    for (size_t r = 0; r < sg->n_flowrules; r++) {
        const struct graph_flowrule *fr = &sg->flowrules[r];
        bool in_sap = fr->port_in.kind == GRAPH_PORT_SAP;
        size_t out_saps = 0;
        for (size_t o = 0; o < fr->n_outputs; o++)
            out_saps += fr->outputs[o].kind == GRAPH_PORT_SAP;
        if (!in_sap && !out_saps)
            continue;
        bool plain = !fr->match.fields && !fr->mods.fields && !fr->drop
                     && fr->n_outputs == 1 && in_sap != (out_saps == 1);
        if (!plain)
            return corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                                  "template %s: subgraph flowrule '%s': a "
                                  "subgraph SAP may only be joined to one SF "
                                  "port, by rules that match port_in alone "
                                  "and output to one port", chain, fr->id);
        const struct graph_port_ref *sap = in_sap ? &fr->port_in
                                                  : &fr->outputs[0];
        const struct graph_port_ref *q = in_sap ? &fr->outputs[0]
                                                : &fr->port_in;
        struct alias *a = &alias[sap->sap];
        if (a->set && (a->sf != q->sf || a->port != q->port))
            return corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                                  "template %s: subgraph SAP '%s' is joined "
                                  "to two SF ports (flowrule '%s')", chain,
                                  sg->saps[sap->sap].id, fr->id);
        *a = (struct alias) { .set = true, .sf = q->sf, .port = q->port };
        skip[r] = true;
    }
    for (size_t j = 0; j < n_used; j++)
        if (!alias[j].set)
            return corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                                  "template %s: subgraph SAP '%s' (port %zu "
                                  "of the SF) is joined to no SF port", chain,
                                  sg->saps[j].id, j + 1);
    return 0;
}

static void
copy_sf(struct graph_sf *d, const struct graph_sf *s, char *id,
        json_object *config)
{
    d->id = id;
    d->name = xstrdup(s->name);
    d->template_id = xstrdup(s->template_id);
    if (config)
        json_object_deep_copy(config, &d->config, NULL);
    d->n_ports = s->n_ports;
    d->ports = s->n_ports ? xcalloc(s->n_ports, sizeof *d->ports) : NULL;
    for (size_t k = 0; k < s->n_ports; k++) {
        d->ports[k].id = xstrdup(s->ports[k].id);
        d->ports[k].name = xstrdup(s->ports[k].name);
    }
}

/* What an SF of the graph being flattened became. */
struct slot {
    size_t base;                /* Index of its first SF in the result. */
    struct alias *alias;        /* Expanded: per port; else NULL. */
};

static struct graph_port_ref
map_outer(const struct slot *slots, struct graph_port_ref ref)
{
    if (ref.kind != GRAPH_PORT_SF)
        return ref;
    const struct slot *s = &slots[ref.sf];
    if (!s->alias) {
        ref.sf = s->base;
        return ref;
    }
    const struct alias *a = &s->alias[ref.port];
    ref.sf = s->base + a->sf;
    ref.port = a->port;
    return ref;
}

static void
copy_rule(struct graph_flowrule *d, const struct graph_flowrule *s, char *id,
          const struct slot *slots, size_t inner_base, bool inner)
{
    *d = *s;
    d->id = id;
    d->outputs = s->n_outputs ? xcalloc(s->n_outputs, sizeof *d->outputs)
                              : NULL;
    if (inner) {
        d->port_in.sf += inner_base;
        for (size_t o = 0; o < s->n_outputs; o++) {
            d->outputs[o] = s->outputs[o];
            d->outputs[o].sf += inner_base;
        }
        return;
    }
    d->port_in = map_outer(slots, s->port_in);
    for (size_t o = 0; o < s->n_outputs; o++)
        d->outputs[o] = map_outer(slots, s->outputs[o]);
}

static int expand(const struct resolver_env *, const struct graph *g,
                  const char *top_path, struct chain *, struct graph **ret,
                  struct corch_err *err);

/* Expands SF 'i' of 'g' (template 't'): '*ret_inner' is its subgraph,
 * itself flattened; 'alias' (one per SAP of it) and 'skip' (one per rule)
 * are allocated here. */
static int
expand_sf(const struct resolver_env *env, const struct graph *g, size_t i,
          const struct sf_template *t, const char *top_path,
          struct chain *chain, struct graph **ret_inner,
          struct alias **ret_alias, bool **ret_skip, struct corch_err *err)
{
    const struct graph_sf *sf = &g->sfs[i];
    char path[64], text[512];
    snprintf(path, sizeof path, "%s", top_path ? top_path : "");
    if (!top_path)
        snprintf(path, sizeof path, "sffg.SFs[%zu].%s", i,
                 sf->template_id ? "template" : "name");

    for (size_t k = 0; k < chain->n; k++) {
        if (!strcmp(chain->ids[k], t->id)) {
            chain->ids[chain->n] = t->id;
            chain->n++;
            chain_format(chain, text, sizeof text);
            chain->n--;
            return corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                                  "sf '%s': template cycle: %s", sf->id, text);
        }
    }
    if (chain->n >= RESOLVER_MAX_DEPTH) {
        chain->ids[chain->n] = t->id;
        chain->n++;
        chain_format(chain, text, sizeof text);
        chain->n--;
        return corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                              "sf '%s': subgraph templates nested more than %d "
                              "deep: %s", sf->id, RESOLVER_MAX_DEPTH, text);
    }
    chain->ids[chain->n++] = t->id;
    chain_format(chain, text, sizeof text);

    int error = 0;
    struct graph *sg = NULL, *flat = NULL;
    struct corch_err sub = { .path = "", .msg = "" };
    if (sf->config && t->config_schema) {
        char cpath[64];
        snprintf(cpath, sizeof cpath, "sffg.SFs[%zu].config", i);
        error = jsonschema_check(t->config_schema, sf->config,
                                      top_path ? "config" : cpath, err);
        if (error) {
            corch_err_prefix(err, "sf '%s' (template %s)", sf->id, text);
            goto out;
        }
    }
    if (graph_from_json(t->subgraph, NULL, &sg, &sub) < 0) {
        error = corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                               "sf '%s': template %s: subgraph: %s", sf->id,
                               text, sub.msg);
        goto out;
    }
    if (sg->n_saps < sf->n_ports) {
        error = corch_err_setk(err, CORCH_ERR_UNRESOLVABLE, -ENOPKG, path,
                               "sf '%s': template %s: its subgraph has %zu "
                               "SAPs, the SF uses %zu ports", sf->id, text,
                               sg->n_saps, sf->n_ports);
        goto out;
    }
    error = expand(env, sg, path, chain, &flat, err);
    if (error)
        goto out;
    if (flat) {
        graph_free(sg);
        sg = flat;
    }
    struct alias *alias = xcalloc(sg->n_saps + 1, sizeof *alias);
    bool *skip = xcalloc(sg->n_flowrules + 1, sizeof *skip);
    error = find_aliases(sg, sf->n_ports, text, path, alias, skip, err);
    if (error) {
        free(alias);
        free(skip);
        goto out;
    }
    *ret_inner = sg;
    sg = NULL;
    *ret_alias = alias;
    *ret_skip = skip;
out:
    graph_free(sg);
    chain->n--;
    return error;
}

/* Flattens 'g' into '*ret' (NULL when no SF of it takes a subgraph
 * template).  'top_path' is NULL for the graph of the request, else the
 * path of the outermost SF (errors inside subgraphs name it). */
static int
expand(const struct resolver_env *env, const struct graph *g,
       const char *top_path, struct chain *chain, struct graph **ret,
       struct corch_err *err)
{
    size_t n = g->n_sfs;
    const struct sf_template **tmpl = xcalloc(n + 1, sizeof *tmpl);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        tmpl[i] = subgraph_template(env, &g->sfs[i]);
        any |= tmpl[i] != NULL;
    }
    if (!any) {
        free(tmpl);
        *ret = NULL;
        return 0;
    }

    struct graph **inner = xcalloc(n, sizeof *inner);
    bool **skip = xcalloc(n, sizeof *skip);
    struct slot *slots = xcalloc(n, sizeof *slots);
    int error = 0;
    size_t n_sfs = 0, n_rules = g->n_flowrules;
    for (size_t i = 0; i < n; i++) {
        slots[i].base = n_sfs;
        if (!tmpl[i]) {
            n_sfs++;
            continue;
        }
        error = expand_sf(env, g, i, tmpl[i], top_path, chain, &inner[i],
                          &slots[i].alias, &skip[i], err);
        if (error)
            goto out;
        n_sfs += inner[i]->n_sfs;
        n_rules += inner[i]->n_flowrules;
    }

    struct graph *f = xcalloc(1, sizeof *f);
    f->id = xstrdup(g->id);
    f->name = xstrdup(g->name);
    f->sfs = xcalloc(n_sfs + 1, sizeof *f->sfs);
    for (size_t i = 0; i < n; i++) {
        const struct graph_sf *sf = &g->sfs[i];
        if (!inner[i]) {
            copy_sf(&f->sfs[f->n_sfs++], sf, xstrdup(sf->id), sf->config);
            continue;
        }
        /* The outer SF's config, an object keyed by inner SF id, replaces
         * the config the subgraph gives that SF. */
        for (size_t k = 0; k < inner[i]->n_sfs; k++) {
            const struct graph_sf *in = &inner[i]->sfs[k];
            json_object *config = in->config, *v;
            if (sf->config && json_object_object_get_ex(sf->config, in->id, &v)
                && json_object_is_type(v, json_type_object))
                config = v;
            copy_sf(&f->sfs[f->n_sfs++], in,
                    xasprintf("%s.%s", sf->id, in->id), config);
        }
    }
    f->n_saps = g->n_saps;
    f->saps = g->n_saps ? xcalloc(g->n_saps, sizeof *f->saps) : NULL;
    for (size_t i = 0; i < g->n_saps; i++) {
        f->saps[i] = g->saps[i];
        f->saps[i].id = xstrdup(g->saps[i].id);
        f->saps[i].name = xstrdup(g->saps[i].name);
        f->saps[i].if_name = xstrdup(g->saps[i].if_name);
        f->saps[i].internal_group = xstrdup(g->saps[i].internal_group);
    }
    f->flowrules = xcalloc(n_rules + 1, sizeof *f->flowrules);
    for (size_t r = 0; r < g->n_flowrules; r++)
        copy_rule(&f->flowrules[f->n_flowrules++], &g->flowrules[r],
                  xstrdup(g->flowrules[r].id), slots, 0, false);
    for (size_t i = 0; i < n; i++) {
        for (size_t r = 0; inner[i] && r < inner[i]->n_flowrules; r++) {
            if (skip[i][r])
                continue;
            const struct graph_flowrule *fr = &inner[i]->flowrules[r];
            copy_rule(&f->flowrules[f->n_flowrules++], fr,
                      xasprintf("%s.%s", g->sfs[i].id, fr->id), slots,
                      slots[i].base, true);
        }
    }

    /* Through the parser again: ids made too long or clashing with the
     * graph's own by the prefixes are found there. */
    json_object *j = graph_to_json(f);
    graph_free(f);
    struct corch_err sub = { .path = "", .msg = "" };
    struct graph *checked = NULL;
    if (graph_from_json(j, NULL, &checked, &sub) < 0)
        error = corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL,
                               top_path ? top_path : "sffg.SFs",
                               "the graph with its subgraph templates "
                               "expanded is not valid: %s", sub.msg);
    json_object_put(j);
    if (!error)
        *ret = checked;

out:
    for (size_t i = 0; i < n; i++) {
        graph_free(inner[i]);
        free(skip[i]);
        free(slots[i].alias);
    }
    free(inner);
    free(skip);
    free(slots);
    free(tmpl);
    return error;
}

int
resolver_expand(const struct resolver_env *env, const struct graph *g,
                struct graph **ret_flat, struct corch_err *err)
{
    struct chain chain = { .n = 0 };
    struct graph *flat = NULL;
    int error = expand(env, g, NULL, &chain, &flat, err);
    if (!error)
        *ret_flat = flat;
    return error;
}
