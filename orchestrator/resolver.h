/* The SF resolver (paper 5.3): picks a template for every SF of a graph.
 *
 * For an SF naming a template, that template (it must exist and fit).
 * Otherwise the candidates are the templates whose functional capability
 * equals the SF's name; a candidate fits when
 *   - it has at least as many ports as the SF declares,
 *   - its engine is enabled (compute.drivers) and usable (probe()),
 *   - its memory fits the node's free memory (after the SFs of the same
 *     graph resolved before it) and its cores do not exceed the node's,
 *   - its dependencies are present: every "executables" item is found on
 *     PATH, every "kernel" item is a module that is loaded
 *     (/sys/module/NAME) or known to the running kernel (a line of
 *     /lib/modules/RELEASE/modules.builtin or modules.dep naming NAME.ko).
 * Among those that fit, the best is the smallest footprint (memory, then
 * cores), then by engine: native < dpdk < docker < kvm < others, then by
 * id.
 *
 * The dummy engine: when "dummy" is an enabled, usable engine and no
 * template fits, the SF gets a synthetic template (id "dummy:<capability>",
 * engine "dummy", one port per SF port, no image, no resources).  That
 * lets the whole core run with the dummy drivers and no repository.
 *
 * The SF's config, when present, must match the chosen template's
 * config_schema (checked by jsonschema.h), else -EINVAL (kind invalid)
 * with err->path naming the field ("sffg.SFs[2].config.rules[0].dest_port").
 *
 * Subgraph templates (recursive decomposition) are expanded first, by
 * resolver_expand() (below); resolver_resolve() works on the flattened
 * graph and never picks a subgraph template itself.
 *
 * With a remote repository, a template id or a capability not found
 * triggers repository_refresh() (rate-limited) and one more look. */
#ifndef CORCH_RESOLVER_H
#define CORCH_RESOLVER_H 1

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "repository.h"
#include "util.h"

/* What the node has free for this graph. */
struct resolver_env {
    const struct repository *repo;  /* May be NULL (no templates). */
    unsigned int cores_total;       /* Online CPUs. */
    uint64_t memory_mb_free;        /* Not reserved by other SFs. */
};

/* The choice for one SF. */
struct resolver_choice {
    const struct sf_template *tmpl; /* Into the repository or 'own'. */
    struct sf_template *own;        /* A synthetic template owned here,
                                     * or NULL. */
};

/* Resolves every SF of 'g' whose 'fixed[i]' is NULL ('fixed' may be NULL);
 * an SF with fixed[i] keeps that template (an update keeps the choice of
 * unchanged SFs) and its memory is not counted again.  On success
 * '*ret_choices' is an array of g->n_sfs choices (free with
 * resolver_choices_free).  Errors: -ENOPKG, kind CORCH_ERR_UNRESOLVABLE
 * (err->msg lists each candidate and why it was rejected; err->path names
 * the SF); -EINVAL, kind CORCH_ERR_INVALID (an SF's config breaks its
 * template's config_schema); -E2BIG, kind CORCH_ERR_CONFLICT (a running
 * SF's template has fewer ports than the update gives the SF). */
int resolver_resolve(const struct resolver_env *, const struct graph *g,
                     const struct sf_template *const *fixed,
                     struct resolver_choice **ret_choices,
                     struct corch_err *err);
void resolver_choices_free(struct resolver_choice *, size_t n);

/* The rank of an engine in the order in force (lower is preferred):
 * native < dpdk < docker < kvm < others by default. */
int resolver_engine_rank(const char *engine);
/* Replaces the engine order with a comma list ("docker,native"); engines
 * not named come after, in the default order.  NULL or "" restores the
 * default.  For a configuration key; call before resolving. */
void resolver_set_engine_order(const char *list);
/* Whether 'name' is an executable on PATH (or a path to one). */
bool resolver_have_executable(const char *name);
/* Whether kernel feature 'name' is present (see above). */
bool resolver_have_kernel_feature(const char *name);

/* --- Recursive templates (docs/sf-repository.md). ---
 *
 * An SF takes a subgraph template when it names one ("template"), or when
 * no atomic template of its capability fits and a subgraph template of
 * that capability has enough ports (the first by id).  Its subgraph (an
 * SF-FG in the template) replaces it:
 *   - the inner SFs get ids "<outer SF id>.<inner SF id>"; the outer SF's
 *     config, if any, is an object whose member named after an inner SF
 *     id replaces that inner SF's config (and is checked against the
 *     subgraph template's config_schema, if it has one);
 *   - the subgraph's SAPs, in order, are the outer SF's ports, in order.
 *     Each SAP the outer SF uses is joined to exactly one inner SF port by
 *     "plain" rules (match port_in alone, one output, no other action):
 *     those rules are dropped, and every outer reference to the SF's port
 *     j becomes a reference to that inner port.  Any other rule touching
 *     a subgraph SAP is refused;
 *   - the other inner rules get ids "<outer SF id>.<rule id>".
 * Inner SFs are expanded in turn, at most RESOLVER_MAX_DEPTH levels;
 * a template met twice on the way down is a cycle.  Errors are -ENOPKG
 * (kind unresolvable) naming the template chain ("security -> inner ->
 * security"), or -EINVAL (kind invalid) when the flattened graph is not
 * valid (an id made longer than
 * 64 characters by the prefixes, or clashing).  '*ret_flat' is the
 * flattened graph (caller frees), or NULL when no SF takes a subgraph
 * template; untouched on failure. */
#define RESOLVER_MAX_DEPTH 8
int resolver_expand(const struct resolver_env *, const struct graph *g,
                    struct graph **ret_flat, struct corch_err *err);

#endif
