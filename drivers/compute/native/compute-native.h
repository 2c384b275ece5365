/* The native execution engine (paper 6.1): a native service function (NSF)
 * is a tgz package of a manifest and scripts, run in a network namespace
 * of its own per SF instance.  docs/native-engine.md describes the package
 * format and the script interface.
 *
 * What it owns on the node, per instance:
 *   /run/netns/corch-<tag>-<instance>  the namespace (`ip netns`); <tag>:
 *                                 4 hex digits from state.dir, so that two
 *                                 daemons on a host never collide
 *   <spec->run_dir>/config.json   the SF's config
 *   <spec->run_dir>/log           every script run: status, stdout, stderr
 *   <spec->run_dir>/pids          PIDs of the daemons the scripts leave
 * and once per package digest <state.dir>/nsf/<sha256>/ (the unpacked
 * package, shared by the instances of that image). */
#ifndef CORCH_COMPUTE_NATIVE_H
#define CORCH_COMPUTE_NATIVE_H 1

#include "compute/compute-provider.h"

extern const struct compute_class compute_native_class;

/* Prefix of the namespaces of SF instances: "corch-<tag>-<instance>". */
#define COMPUTE_NATIVE_NETNS_PREFIX "corch-"

/* For tests and benchmarks: where the time of the last create + start of
 * an SF went, in nanoseconds. */
struct compute_native_timings {
    unsigned long long netns_ns;    /* Creating the namespace. */
    unsigned long long ports_ns;    /* Moving the ports in (the kernel's
                                     * device moves dominate). */
    unsigned long long script_ns;   /* The start script, fork to exit. */
};
/* The namespace name of 'sf' (valid until destroy). */
const char *compute_native_netns_name(const struct compute_sf *);
unsigned long long compute_native_last_script_ns(const struct compute_sf *);
void compute_native_timings(const struct compute_sf *,
                            struct compute_native_timings *ret);

#endif
