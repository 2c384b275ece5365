/* The dummy execution engine: an in-memory twin of a real engine for the
 * fast unit tests of the core.  Each instance (open()) records its SF
 * instances (with a fake pid, their ports and cores) so that a test can
 * inspect them, and can be told to fail at a given call of a given hook.
 * Two instances share nothing.
 *
 * The functions below take the instance: for the engine the daemon
 * enabled, compute_engine_find("dummy") (orchestrator/compute.h).
 *
 * Failure injection: compute_dummy_fail_at(e, "start", 1) makes the next
 * call of start() fail with -EIO (compute_dummy_fail_errno() chooses
 * another errno).  Hooks that can fail: "open", "probe", "create",
 * "start", "stop", "pause", "port_add", "port_remove", "prepare" (which
 * makes a fake namespace "/dummy/netns/<instance>", as the native
 * engine's prepare makes a real one).  The environment variable
 * CORCH_DUMMY_FAIL, read by open(), does the same for the daemon:
 * "compute.start:1" (a comma list; "vswitch.*" items are for the vSwitch
 * dummy).
 *
 * The fake node: with a state.dir, each SF is also a record
 * <state.dir>/compute-dummy/<instance> (its pid while it runs), as a real
 * engine leaves a namespace or a container: an instance opened later (a
 * restart) adopts the SF when prepare() or create() names that instance
 * again (same pid, still running).  destroy() removes the record;
 * release() and close() leave it as it is. */
#ifndef CORCH_COMPUTE_DUMMY_H
#define CORCH_COMPUTE_DUMMY_H 1

#include <stdbool.h>
#include <stddef.h>

#include "compute/compute-provider.h"

extern const struct compute_class compute_dummy_class;

/* Makes the 'nth' (1-based) call of 'hook' from now on fail with -EIO;
 * nth == 0 clears it.  -EINVAL for an unknown hook. */
int compute_dummy_fail_at(struct compute_engine *, const char *hook,
                          unsigned int nth);
/* Makes the injected failures of 'hook' return 'error' (a negative errno)
 * rather than -EIO; 0 restores -EIO.  -EINVAL for an unknown hook. */
int compute_dummy_fail_errno(struct compute_engine *, const char *hook,
                             int error);
unsigned int compute_dummy_calls(struct compute_engine *, const char *hook);
/* What probe() says: usable (default) or not. */
void compute_dummy_set_usable(struct compute_engine *, bool);
/* Makes start() take 'ms' milliseconds (outside the dummy's lock), so
 * that tests can catch a graph while it is being deployed. */
void compute_dummy_set_delay_ms(struct compute_engine *, unsigned int ms);
/* SF instances that exist (created, not destroyed). */
size_t compute_dummy_count_sfs(struct compute_engine *);
/* Of those, the running ones. */
size_t compute_dummy_count_running(struct compute_engine *);
/* Fake pid of a running instance, 0 if not running or unknown. */
int compute_dummy_pid(struct compute_engine *, const char *instance);
/* Ports of all SFs that the switch made inside the SF's (fake) namespace
 * (compute_port.in_netns), rather than for the engine to move. */
size_t compute_dummy_ports_in_netns(struct compute_engine *);
/* Ports of an instance, SIZE_MAX if unknown. */
size_t compute_dummy_port_count(struct compute_engine *, const char *instance);
/* Cores the instance was created with: up to 'max' into 'cpus'; returns
 * how many it has, SIZE_MAX if unknown. */
size_t compute_dummy_cpus(struct compute_engine *, const char *instance,
                          unsigned int *cpus, size_t max);
/* The instance of an SF of a graph, copied into 'buf' ("" if none). */
bool compute_dummy_find(struct compute_engine *, const char *graph_id,
                        const char *sf_id, char *buf, size_t size);

#endif
