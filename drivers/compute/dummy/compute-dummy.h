/* The dummy execution engine: an in-memory twin of a real engine for the
 * fast unit tests of the core.  It records every SF instance (with a fake
 * pid, its ports and cores) so that a test can inspect them, and can be
 * told to fail at a given call of a given hook.
 *
 * Failure injection: compute_dummy_fail_at("start", 1) makes the next call
 * of start() fail with -EIO.  Hooks that can fail: "init", "probe",
 * "create", "start", "stop", "pause", "port_add", "port_remove",
 * "prepare" (which makes a fake namespace "/dummy/netns/<instance>", as
 * the native engine's prepare makes a real one).  The
 * environment variable CORCH_DUMMY_FAIL, read by init(), does the same for
 * the daemon: "compute.start:1" (a comma list; "vswitch.*" items are for
 * the vSwitch dummy).
 *
 * Adoption: create() with the instance name of an SF that exists (a
 * restart of the daemon) adopts it: same object, same pid. */
#ifndef CORCH_COMPUTE_DUMMY_H
#define CORCH_COMPUTE_DUMMY_H 1

#include <stdbool.h>
#include <stddef.h>

#include "compute/compute-provider.h"

extern const struct compute_class compute_dummy_class;

/* Makes the 'nth' (1-based) call of 'hook' from now on fail with -EIO;
 * nth == 0 clears it.  -EINVAL for an unknown hook. */
int compute_dummy_fail_at(const char *hook, unsigned int nth);
unsigned int compute_dummy_calls(const char *hook);
/* What probe() says: usable (default) or not. */
void compute_dummy_set_usable(bool);
/* Makes start() take 'ms' milliseconds (outside the dummy's lock), so
 * that tests can catch a graph while it is being deployed. */
void compute_dummy_set_delay_ms(unsigned int ms);
/* SF instances that exist (created, not destroyed). */
size_t compute_dummy_count_sfs(void);
/* Of those, the running ones. */
size_t compute_dummy_count_running(void);
/* Fake pid of a running instance, 0 if not running or unknown. */
int compute_dummy_pid(const char *instance);
/* Ports of an instance, SIZE_MAX if unknown. */
/* Ports of all SFs that the switch made inside the SF's (fake) namespace
 * (compute_port.in_netns), rather than for the engine to move. */
size_t compute_dummy_ports_in_netns(void);
size_t compute_dummy_port_count(const char *instance);
/* Cores the instance was created with: up to 'max' into 'cpus'; returns
 * how many it has, SIZE_MAX if unknown. */
size_t compute_dummy_cpus(const char *instance, unsigned int *cpus,
                          size_t max);
/* The instance of an SF of a graph, copied into 'buf' ("" if none). */
bool compute_dummy_find(const char *graph_id, const char *sf_id, char *buf,
                        size_t size);
/* Forgets everything, clears failures and counters, usable again. */
void compute_dummy_reset(void);

#endif
