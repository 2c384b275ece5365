/* The compute manager's side of the engine contract
 * (drivers/compute/compute-provider.h): the registry of engine drivers,
 * the engines enabled by configuration, and the typed wrappers that are
 * the only callers of engine hooks.
 *
 * Every wrapper holds the fallback for an optional hook (no prepare:
 * create does everything; no stop / pause / port_add / port_remove:
 * -EOPNOTSUPP of kind UNSUPPORTED naming the engine; no pid: 0; no
 * release: the object waits for close), logs the
 * call with its duration at debug level, and checks the contract: a hook
 * that succeeds without an object, or fails without a message, is a
 * driver bug, logged as an error (an assertion in builds without NDEBUG);
 * the failure gets a message naming the engine and the hook, so that a
 * client never sees an empty one. */
#ifndef CORCH_COMPUTE_H
#define CORCH_COMPUTE_H 1

#include <stdbool.h>

#include "compute/compute-provider.h"

/* --- Registry. --- */

void compute_register_all(void);
int compute_register(const struct compute_class *);
const struct compute_class *compute_lookup(const char *type);

/* --- Instances. --- */

/* Opens an instance of 'class' and probes it.  On success *ret_engine is
 * the instance, for compute_engine_close(). */
int compute_engine_open(const struct compute_class *,
                        const struct corch_config *,
                        struct compute_engine **ret_engine,
                        struct corch_err *err);
/* Closes an instance, freeing the SF objects not destroyed or released
 * yet; running SFs stay.  Accepts NULL. */
void compute_engine_close(struct compute_engine *);
/* Probes it again, updating engine->usable and engine->why; returns
 * whether 'usable' changed. */
bool compute_engine_probe(struct compute_engine *);
/* Facts of an instance. */
const char *compute_engine_type(const struct compute_engine *);
enum vswitch_port_tech compute_engine_port_tech(const struct compute_engine *);
/* Whether create has a first half (prepare) to call before the ports. */
bool compute_engine_can_prepare(const struct compute_engine *);
/* Whether the ports of a running SF can be added and removed. */
bool compute_engine_can_update_ports(const struct compute_engine *);

/* The engines enabled by configuration: one instance per name in
 * cfg->compute_drivers (an unknown name is an error naming it), opened and
 * probed at start-up, in that order. */
int compute_engines_init(const struct corch_config *, struct corch_err *err);
void compute_engines_fini(void);
/* Re-probes every enabled engine; returns true if any 'usable' changed. */
bool compute_engines_probe(void);
size_t compute_engine_count(void);
struct compute_engine *compute_engine_get(size_t i);
/* The enabled engine of that type, or NULL. */
struct compute_engine *compute_engine_find(const char *type);

/* --- SFs: one wrapper per hook (compute-provider.h says what each
 * does).  'sf' arguments are what prepare / create returned. --- */

/* Without a prepare hook: 0 with *ret_sf and *ret_netns_path NULL. */
int compute_sf_prepare(struct compute_engine *, const struct compute_sf_spec *,
                       struct compute_sf **ret_sf,
                       const char **ret_netns_path, struct corch_err *err);
int compute_sf_create(struct compute_engine *, const struct compute_sf_spec *,
                      struct compute_sf **ret_sf, struct corch_err *err);
int compute_sf_start(struct compute_sf *, struct corch_err *err);
int compute_sf_stop(struct compute_sf *, struct corch_err *err);
int compute_sf_pause(struct compute_sf *, bool pause, struct corch_err *err);
int compute_sf_port_add(struct compute_sf *, const struct compute_port *,
                        struct corch_err *err);
int compute_sf_port_remove(struct compute_sf *, const char *port_id,
                           struct corch_err *err);
/* Main process id of a running SF, or 0. */
int compute_sf_pid(const struct compute_sf *);
/* Destroys the SF on the node and frees it.  Accepts NULL. */
void compute_sf_destroy(struct compute_sf *);
/* Frees the daemon's handles of the SF and leaves it running on the node
 * (shutdown).  Without a release hook the engine keeps the object until
 * compute_engine_close().  Accepts NULL. */
void compute_sf_release(struct compute_sf *);

#endif
