/* The SF scheduler: see scheduler.h. */
#include <config.h>
#include "scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

LOG_MODULE(scheduler);

struct scheduler {
    pthread_mutex_t mutex;      /* Protects 'load' and 'memory_reserved'. */
    unsigned int n_cpus;        /* Online CPUs. */
    unsigned int *cpu;          /* Their numbers. */
    unsigned int *package;      /* Sibling group of each (same package). */
    unsigned int *load;         /* SFs bound to each. */
    uint64_t memory_total;      /* MB of physical memory. */
    uint64_t memory_reserved;   /* MB reserved by SFs. */
};

/* Parses a CPU list ("0-3,6") into 'cpus' (at most 'max'). */
static unsigned int
parse_cpu_list(const char *s, unsigned int *cpus, unsigned int max)
{
    unsigned int n = 0;
    while (*s && n < max) {
        char *end;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (end == s)
            break;
        if (*end == '-')
            b = strtoul(end + 1, &end, 10);
        for (unsigned long c = a; c <= b && n < max; c++)
            cpus[n++] = (unsigned int) c;
        s = *end == ',' ? end + 1 : end;
        if (*s == '\n')
            break;
    }
    return n;
}

static unsigned int
read_uint_file(const char *path, unsigned int dflt)
{
    FILE *f = fopen(path, "re");
    unsigned int v = dflt;
    if (f) {
        if (fscanf(f, "%u", &v) != 1)
            v = dflt;
        fclose(f);
    }
    return v;
}

static struct scheduler *
alloc_scheduler(unsigned int n)
{
    struct scheduler *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mutex, NULL);
    s->n_cpus = n;
    s->cpu = xcalloc(n, sizeof *s->cpu);
    s->package = xcalloc(n, sizeof *s->package);
    s->load = xcalloc(n, sizeof *s->load);
    return s;
}

struct scheduler *
scheduler_create(void)
{
    unsigned int cpus[4096];
    unsigned int n = 0;
    FILE *f = fopen("/sys/devices/system/cpu/online", "re");
    if (f) {
        char line[4096];
        if (fgets(line, sizeof line, f))
            n = parse_cpu_list(line, cpus, ARRAY_SIZE(cpus));
        fclose(f);
    }
    if (!n) {
        long onln = sysconf(_SC_NPROCESSORS_ONLN);
        n = onln > 0 ? (unsigned int) onln : 1;
        for (unsigned int i = 0; i < n; i++)
            cpus[i] = i;
    }
    struct scheduler *s = alloc_scheduler(n);
    for (unsigned int i = 0; i < n; i++) {
        s->cpu[i] = cpus[i];
        char path[128];
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu%u/topology/physical_package_id",
                 cpus[i]);
        s->package[i] = read_uint_file(path, 0);
    }
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    s->memory_total = pages > 0 && psize > 0
                      ? (uint64_t) pages * (uint64_t) psize >> 20 : 0;
    LOG_INFO("%u online CPUs, %llu MB of memory", n,
             (unsigned long long) s->memory_total);
    return s;
}

struct scheduler *
scheduler_create_fake(unsigned int n_cpus, unsigned int group,
                      uint64_t memory_mb)
{
    struct scheduler *s = alloc_scheduler(n_cpus ? n_cpus : 1);
    for (unsigned int i = 0; i < s->n_cpus; i++) {
        s->cpu[i] = i;
        s->package[i] = group ? i / group : 0;
    }
    s->memory_total = memory_mb;
    return s;
}

void
scheduler_destroy(struct scheduler *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mutex);
    free(s->cpu);
    free(s->package);
    free(s->load);
    free(s);
}

static int
cpu_index(const struct scheduler *s, unsigned int cpu)
{
    for (unsigned int i = 0; i < s->n_cpus; i++)
        if (s->cpu[i] == cpu)
            return (int) i;
    return -1;
}

/* SF adjacency from the flowrules, as a list of (a, b) pairs. */
struct edge {
    size_t a;                   /* SF index. */
    size_t b;                   /* SF index, != a. */
};

static size_t
build_edges(const struct graph *g, struct edge **ret)
{
    struct edge *e = NULL;
    size_t n = 0;
    for (size_t r = 0; r < g->n_flowrules; r++) {
        const struct graph_flowrule *fr = &g->flowrules[r];
        if (fr->port_in.kind != GRAPH_PORT_SF)
            continue;
        for (size_t o = 0; o < fr->n_outputs; o++) {
            if (fr->outputs[o].kind != GRAPH_PORT_SF
                || fr->outputs[o].sf == fr->port_in.sf)
                continue;
            if (!(n & (n - 1)))        /* Doubling: n is 0 or 2^k. */
                e = xrealloc(e, (n ? 2 * n : 1) * sizeof *e);
            e[n].a = fr->port_in.sf;
            e[n].b = fr->outputs[o].sf;
            n++;
        }
    }
    *ret = e;
    return n;
}

/* Cores of SF 'i' so far (a new binding or a kept one). */
static const struct scheduler_binding *
binding_of(size_t i, const struct scheduler_binding *fresh,
           const struct scheduler_binding *const *kept)
{
    return kept && kept[i] ? kept[i] : &fresh[i];
}

/* Chooses 'k' cores for SF 'u'.  Mutex held. */
static void
place(struct scheduler *s, const struct graph *g, size_t u, unsigned int k,
      const struct edge *edges, size_t n_edges,
      struct scheduler_binding *fresh,
      const struct scheduler_binding *const *kept)
{
    unsigned int n = s->n_cpus;
    bool *near = xcalloc(n, sizeof *near);      /* A neighbour's core. */
    bool *sibling = xcalloc(n, sizeof *sibling); /* Same package as one. */
    bool any = false;
    for (size_t e = 0; e < n_edges; e++) {
        size_t v = edges[e].a == u ? edges[e].b
                   : edges[e].b == u ? edges[e].a : SIZE_MAX;
        if (v == SIZE_MAX)
            continue;
        const struct scheduler_binding *b = binding_of(v, fresh, kept);
        for (size_t j = 0; j < b->n_cpus; j++) {
            int ci = cpu_index(s, b->cpus[j]);
            if (ci < 0)
                continue;
            near[ci] = any = true;
            for (unsigned int c = 0; c < n; c++)
                if (s->package[c] == s->package[ci])
                    sibling[c] = true;
        }
    }
    if (k > n)
        k = n;
    struct scheduler_binding *b = &fresh[u];
    b->cpus = xcalloc(k, sizeof *b->cpus);
    bool *taken = xcalloc(n, sizeof *taken);
    for (unsigned int j = 0; j < k; j++) {
        unsigned int best = n;
        uint64_t best_score = UINT64_MAX;
        for (unsigned int c = 0; c < n; c++) {
            if (taken[c])
                continue;
            uint64_t score = (uint64_t) s->load[c] * 4
                             + (!any || near[c] ? 0 : sibling[c] ? 1 : 3);
            if (score < best_score) {
                best_score = score;
                best = c;
            }
        }
        taken[best] = true;
        s->load[best]++;
        b->cpus[b->n_cpus++] = s->cpu[best];
    }
    free(taken);
    free(near);
    free(sibling);
    (void) g;
}

int
scheduler_bind(struct scheduler *s, const struct graph *g,
               const struct sf_template *const *tmpls,
               const struct scheduler_binding *const *kept,
               struct scheduler_binding **ret, struct corch_err *err)
{
    uint64_t memory = 0;
    for (size_t i = 0; i < g->n_sfs; i++)
        if (!kept || !kept[i])
            memory += tmpls[i]->memory_mb;

    pthread_mutex_lock(&s->mutex);
    if (s->memory_total
        && s->memory_reserved + memory > s->memory_total) {
        uint64_t free_mb = s->memory_total - s->memory_reserved;
        pthread_mutex_unlock(&s->mutex);
        /* The node's state, not the request: a conflict, as a full
         * node is (retrying after a DELETE works). */
        return corch_err_setk(err, CORCH_ERR_CONFLICT, -ENOSPC, NULL,
                              "the graph needs %llu MB of memory, %llu MB "
                              "free", (unsigned long long) memory,
                              (unsigned long long) free_mb);
    }
    s->memory_reserved += memory;

    struct scheduler_binding *fresh = xcalloc(g->n_sfs, sizeof *fresh);
    struct edge *edges;
    size_t n_edges = build_edges(g, &edges);
    bool *seen = xcalloc(g->n_sfs, sizeof *seen);
    size_t *queue = xcalloc(g->n_sfs, sizeof *queue);
    for (size_t root = 0; root < g->n_sfs; root++) {
        if (seen[root])
            continue;
        size_t head = 0, tail = 0;
        queue[tail++] = root;
        seen[root] = true;
        while (head < tail) {
            size_t u = queue[head++];
            if (!kept || !kept[u]) {
                fresh[u].memory_mb = tmpls[u]->memory_mb;
                if (tmpls[u]->cpu_cores)
                    place(s, g, u, tmpls[u]->cpu_cores, edges, n_edges,
                          fresh, kept);
            }
            for (size_t e = 0; e < n_edges; e++) {
                size_t v = edges[e].a == u ? edges[e].b
                           : edges[e].b == u ? edges[e].a : SIZE_MAX;
                if (v != SIZE_MAX && !seen[v]) {
                    seen[v] = true;
                    queue[tail++] = v;
                }
            }
        }
    }
    pthread_mutex_unlock(&s->mutex);
    free(queue);
    free(seen);
    free(edges);
    *ret = fresh;
    return 0;
}

void
scheduler_release(struct scheduler *s, const struct scheduler_binding *b)
{
    if (!s || !b)
        return;
    pthread_mutex_lock(&s->mutex);
    for (size_t j = 0; j < b->n_cpus; j++) {
        int ci = cpu_index(s, b->cpus[j]);
        if (ci >= 0 && s->load[ci])
            s->load[ci]--;
    }
    s->memory_reserved -= b->memory_mb <= s->memory_reserved
                          ? b->memory_mb : s->memory_reserved;
    pthread_mutex_unlock(&s->mutex);
}

void
scheduler_bindings_free(struct scheduler_binding *b, size_t n)
{
    for (size_t i = 0; b && i < n; i++)
        free(b[i].cpus);
    free(b);
}

void
scheduler_resources(struct scheduler *s, unsigned int *cores_total,
                    unsigned int *cores_free, uint64_t *memory_mb_total,
                    uint64_t *memory_mb_free)
{
    pthread_mutex_lock(&s->mutex);
    unsigned int idle = 0;
    for (unsigned int i = 0; i < s->n_cpus; i++)
        idle += !s->load[i];
    if (cores_total)
        *cores_total = s->n_cpus;
    if (cores_free)
        *cores_free = idle;
    if (memory_mb_total)
        *memory_mb_total = s->memory_total;
    if (memory_mb_free)
        *memory_mb_free = s->memory_total - s->memory_reserved;
    pthread_mutex_unlock(&s->mutex);
}
