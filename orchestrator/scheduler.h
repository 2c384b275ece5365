/* The SF scheduler (paper 5.3): binds SFs to CPU cores and accounts the
 * node's cores and memory as graphs come and go.
 *
 * Cores are not exclusive: an SF whose template asks for k cores is bound
 * to k distinct cores, chosen greedily over a breadth-first walk of the
 * graph's SF adjacency (two SFs are adjacent when a flowrule goes from one
 * to the other) so that adjacent SFs land on the same or sibling cores
 * (same physical package), among the least loaded ones.  SFs that ask for
 * no core (cpu_cores 0) are not bound.  Memory is a hard limit: the
 * templates' memory_mb is reserved while the SF exists.
 *
 * Thread-safe. */
#ifndef CORCH_SCHEDULER_H
#define CORCH_SCHEDULER_H 1

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "repository.h"
#include "util.h"

struct scheduler;

/* The cores of one SF. */
struct scheduler_binding {
    unsigned int *cpus;         /* CPU numbers, owned; NULL if none. */
    size_t n_cpus;
    unsigned int memory_mb;     /* Memory reserved for it. */
};

/* A scheduler for this node's online CPUs and physical memory. */
struct scheduler *scheduler_create(void);
/* A scheduler for tests: CPUs 0..n_cpus-1, siblings in groups of
 * 'group' (0: all siblings), 'memory_mb' of memory. */
struct scheduler *scheduler_create_fake(unsigned int n_cpus,
                                        unsigned int group,
                                        uint64_t memory_mb);
void scheduler_destroy(struct scheduler *);     /* Accepts NULL. */

/* Binds and reserves every SF i of 'g' whose kept[i] is NULL ('kept' may
 * be NULL); an SF with kept[i] (unchanged by an update) keeps that binding,
 * which is not reserved again but guides its neighbours.  'tmpls[i]' is SF
 * i's template.  On success '*ret' is an array of g->n_sfs bindings
 * (entries of kept SFs are empty); free it with scheduler_bindings_free().
 * -ENOSPC (and nothing reserved) if the memory does not fit. */
int scheduler_bind(struct scheduler *, const struct graph *g,
                   const struct sf_template *const *tmpls,
                   const struct scheduler_binding *const *kept,
                   struct scheduler_binding **ret, struct corch_err *err);
/* Releases one SF's reservation (its cores' load and its memory). */
void scheduler_release(struct scheduler *, const struct scheduler_binding *);
void scheduler_bindings_free(struct scheduler_binding *, size_t n);

/* Totals and what is free (cores with no SF bound; memory not reserved). */
void scheduler_resources(struct scheduler *, unsigned int *cores_total,
                         unsigned int *cores_free, uint64_t *memory_mb_total,
                         uint64_t *memory_mb_free);

#endif
