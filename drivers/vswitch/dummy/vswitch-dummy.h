/* The dummy vSwitch: an in-memory twin of a real switch for the fast unit
 * tests of the core (like Open vSwitch's netdev-dummy).  It keeps every
 * LSI, port and rule it is given so that a test can inspect them, checks
 * what a real switch would refuse (a rule naming a port of another LSI),
 * and can be told to fail at a given call of a given hook.
 *
 * Failure injection: vswitch_dummy_fail_at(vs, "rules_apply", 2) makes the
 * second call of rules_apply() from now on fail with -EIO (and leave
 * nothing behind, as the contract asks).  Hooks that can fail: "open",
 * "lsi0_open", "lsi_create", "vlinks_create", "port_create", "sap_create",
 * "rules_apply", "ports_create" (the batch: one call, then one
 * "port_create" count per port, any of which fails the whole batch).
 * Like a real switch, port_create honours sf_netns_path / sf_ifname of a
 * veth port (vswitch_port_info.sf_in_netns).  The environment variable CORCH_DUMMY_FAIL, read by
 * open(), does the same for the daemon: "vswitch.rules_apply:1" (a comma
 * list; "compute.*" items are for the compute dummy).
 *
 * Instances: each open() is a new, empty switch; close() frees it with
 * everything on it (the simulated switch does not outlive its instance:
 * vswitch_dummy_watch_close() says what was on it when it closed).
 * lsi_release() and port_release() leave the objects on the simulated
 * switch, marked released; a hook given a released object afterwards is
 * a bug of the core (logged; an assertion in debug builds).
 * Within one instance, lsi_create() with the name of an LSI that exists
 * destroys the old one and creates it afresh; lsi0_open() adopts
 * LSI-0. */
#ifndef CORCH_VSWITCH_DUMMY_H
#define CORCH_VSWITCH_DUMMY_H 1

#include <stdbool.h>
#include <stddef.h>

#include "vswitch/vswitch-provider.h"

extern const struct vswitch_class vswitch_dummy_class;

/* Every function below inspects or steers one open dummy switch 'vs' (an
 * instance of vswitch_dummy_class): each instance is a switch of its own,
 * with its own LSIs, counters and failures, freed by close. */

/* Makes the 'nth' (1-based) call of 'hook' from now on fail with -EIO;
 * nth == 0 clears it.  -EINVAL for an unknown hook. */
int vswitch_dummy_fail_at(struct vswitch *vs, const char *hook,
                          unsigned int nth);
/* Calls of 'hook' since open (failed ones included). */
unsigned int vswitch_dummy_calls(struct vswitch *vs, const char *hook);
/* LSIs other than LSI-0. */
size_t vswitch_dummy_count_lsis(struct vswitch *vs);
/* Ports other than LSI-0's physical interfaces (a vlink counts two). */
size_t vswitch_dummy_count_ports(struct vswitch *vs);
/* Rules on the LSI named 'lsi' ("lsi0" for LSI-0), or on all if NULL;
 * SIZE_MAX if there is no such LSI. */
size_t vswitch_dummy_count_rules(struct vswitch *vs, const char *lsi);
/* Whether a port (any LSI) with that name exists. */
bool vswitch_dummy_has_port(struct vswitch *vs, const char *name);
/* Whether the LSI exists. */
bool vswitch_dummy_has_lsi(struct vswitch *vs, const char *name);
/* Number of rule additions / deletions received by rules_apply() on that
 * LSI since open. */
size_t vswitch_dummy_rules_added(struct vswitch *vs, const char *lsi);
size_t vswitch_dummy_rules_deleted(struct vswitch *vs, const char *lsi);
/* Copies the rules of one LSI for inspection: 'ret' gets a malloc'd array
 * whose actions are malloc'd too (free with vswitch_dummy_rules_free). */
size_t vswitch_dummy_rules(struct vswitch *vs, const char *lsi,
                           struct vswitch_rule **ret);
void vswitch_dummy_rules_free(struct vswitch_rule *, size_t n);

/* What the simulated switch held when it closed, and how the core let go
 * of its objects: a shutdown must destroy nothing. */
struct vswitch_dummy_census {
    size_t lsis;                /* LSIs but LSI-0 on the switch. */
    size_t ports;               /* Ports but physical ones (a vlink: 2). */
    size_t rules;               /* Rules on every LSI. */
    size_t held;                /* Of those LSIs and ports, the ones whose
                                 * handle the core neither destroyed nor
                                 * released (close freed it). */
    unsigned int destroyed;     /* lsi_destroy + port_destroy calls since
                                 * open. */
    unsigned int released;      /* lsi_release + port_release calls since
                                 * open. */
};
/* Has close() fill '*census' (which must outlive the switch) just before
 * it frees everything: a test sees what a shutdown left on the switch. */
void vswitch_dummy_watch_close(struct vswitch *vs,
                               struct vswitch_dummy_census *census);

#endif
