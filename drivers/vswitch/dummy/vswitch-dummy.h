/* The dummy vSwitch: an in-memory twin of a real switch for the fast unit
 * tests of the core (like Open vSwitch's netdev-dummy).  It keeps every
 * LSI, port and rule it is given so that a test can inspect them, checks
 * what a real switch would refuse (a rule naming a port of another LSI),
 * and can be told to fail at a given call of a given hook.
 *
 * Failure injection: vswitch_dummy_fail_at("rules_apply", 2) makes the
 * second call of rules_apply() from now on fail with -EIO (and leave
 * nothing behind, as the contract asks).  Hooks that can fail: "init",
 * "lsi0_open", "lsi_create", "vlinks_create", "port_create", "sap_create",
 * "rules_apply", "ports_create" (the batch: one call, then one
 * "port_create" count per port, any of which fails the whole batch).
 * Like a real switch, port_create honours sf_netns_path / sf_ifname of a
 * veth port (vswitch_port_info.sf_in_netns).  The environment variable CORCH_DUMMY_FAIL, read by
 * init(), does the same for the daemon: "vswitch.rules_apply:1" (a comma
 * list; "compute.*" items are for the compute dummy).
 *
 * Adoption: lsi_create() with the name of an LSI that exists (a restart)
 * destroys the old one and creates it afresh; lsi0_open() adopts LSI-0. */
#ifndef CORCH_VSWITCH_DUMMY_H
#define CORCH_VSWITCH_DUMMY_H 1

#include <stdbool.h>
#include <stddef.h>

#include "vswitch/vswitch-provider.h"

extern const struct vswitch_class vswitch_dummy_class;

/* Makes the 'nth' (1-based) call of 'hook' from now on fail with -EIO;
 * nth == 0 clears it.  -EINVAL for an unknown hook. */
int vswitch_dummy_fail_at(const char *hook, unsigned int nth);
/* Calls of 'hook' since the last reset (failed ones included). */
unsigned int vswitch_dummy_calls(const char *hook);
/* LSIs other than LSI-0. */
size_t vswitch_dummy_count_lsis(void);
/* Ports other than LSI-0's physical interfaces (a vlink counts two). */
size_t vswitch_dummy_count_ports(void);
/* Rules on the LSI named 'lsi' ("lsi0" for LSI-0), or on all if NULL;
 * SIZE_MAX if there is no such LSI. */
size_t vswitch_dummy_count_rules(const char *lsi);
/* Whether a port (any LSI) with that name exists. */
bool vswitch_dummy_has_port(const char *name);
/* Whether the LSI exists. */
bool vswitch_dummy_has_lsi(const char *name);
/* Number of rule additions / deletions received by rules_apply() on that
 * LSI since the last reset. */
size_t vswitch_dummy_rules_added(const char *lsi);
size_t vswitch_dummy_rules_deleted(const char *lsi);
/* Copies the rules of one LSI for inspection: 'ret' gets a malloc'd array
 * whose actions are malloc'd too (free with vswitch_dummy_rules_free). */
size_t vswitch_dummy_rules(const char *lsi, struct vswitch_rule **ret);
void vswitch_dummy_rules_free(struct vswitch_rule *, size_t n);
/* Name of a port object made by this driver. */
const char *vswitch_dummy_port_name(const struct vswitch_port *);
/* Forgets everything (LSI-0 included), clears failures and counters. */
void vswitch_dummy_reset(void);

#endif
