/* vSwitch drivers: the registry, and the only caller of their hooks.
 *
 * Drivers are compiled in and registered once at start-up by
 * vswitch_register_all(); configuration (vswitch.driver) selects one,
 * which vswitch_open() opens.  The rest of the core (netmgr.c, nrm.c)
 * drives the switch through the typed wrappers below, never through the
 * hooks: each wrapper holds the fallback of an optional hook, logs and
 * times the call (debug level, "vswitch <type>: <hook> <what>: <ms> ms"),
 * and checks the contract of drivers/vswitch/vswitch-provider.h (a
 * failure always carries a message for the client; a success always an
 * object).  'err' may be NULL everywhere. */
#ifndef CORCH_VSWITCH_H
#define CORCH_VSWITCH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vswitch/vswitch-provider.h"

/* Registers every driver compiled in (drivers/driver-list.h).
 * Idempotent. */
void vswitch_register_all(void);
/* Registers one driver; -EEXIST if its type is taken. */
int vswitch_register(const struct vswitch_class *);
/* The driver of that type, or NULL. */
const struct vswitch_class *vswitch_lookup(const char *type);

/* Opens the switch of driver 'type' as 'cfg' describes it.  -EINVAL (path
 * "vswitch.driver") for an unknown type. */
int vswitch_open(const char *type, const struct corch_config *cfg,
                 struct vswitch **ret, struct corch_err *err);
/* Closes it, freeing the handles not destroyed or released yet (LSI-0
 * always); deployed LSIs stay.  Accepts NULL. */
void vswitch_close(struct vswitch *);
/* Its driver's type ("ovs", ...). */
const char *vswitch_type(const struct vswitch *);

/* Management interface (paper Table 2): see the hooks of the same name in
 * vswitch-provider.h for what each does and owns. */
int vswitch_lsi0_open(struct vswitch *, const char *const *ifnames, size_t n,
                      struct vswitch_lsi **ret_lsi0, struct corch_err *err);
/* -ENODEV, with a message naming 'ifname', if it is not one of LSI-0's
 * interfaces. */
int vswitch_lsi0_port(struct vswitch *, struct vswitch_lsi *lsi0,
                      const char *ifname, struct vswitch_port **ret_port,
                      struct corch_err *err);
int vswitch_lsi_create(struct vswitch *, const struct vswitch_lsi_spec *,
                       struct vswitch_lsi **ret_lsi, struct corch_err *err);
void vswitch_lsi_destroy(struct vswitch *, struct vswitch_lsi *);
/* Drops the handle of an LSI (and of the ports still on it), leaving it
 * on the switch with its ports and rules (shutdown).  Without an
 * lsi_release hook the driver keeps the struct until vswitch_close().
 * Never for LSI-0.  Accepts NULL. */
void vswitch_lsi_release(struct vswitch *, struct vswitch_lsi *);
int vswitch_vlinks_create(struct vswitch *, struct vswitch_lsi *a,
                          struct vswitch_lsi *b,
                          const struct vswitch_vlink_spec *specs, size_t n,
                          struct vswitch_port **ret_a_ports,
                          struct vswitch_port **ret_b_ports,
                          struct corch_err *err);
/* All or nothing: without a ports_create hook, port_create for each spec,
 * the ones made destroyed again if one fails. */
int vswitch_ports_create(struct vswitch *, struct vswitch_lsi *,
                         const struct vswitch_port_spec *specs, size_t n,
                         struct vswitch_port **ret_ports,
                         struct vswitch_port_info *ret_infos,
                         struct corch_err *err);
int vswitch_sap_create(struct vswitch *, struct vswitch_lsi *,
                       const struct vswitch_sap_spec *,
                       struct vswitch_port **ret_port, struct corch_err *err);
/* Accepts NULL. */
void vswitch_port_destroy(struct vswitch *, struct vswitch_port *);
/* Drops the handle of a port (a vlink: of both ends), leaving it on the
 * switch with its device and the rules using it (shutdown).  Without a
 * port_release hook the driver keeps the struct until its LSI is
 * released or the switch closed.  Accepts NULL. */
void vswitch_port_release(struct vswitch *, struct vswitch_port *);

/* Control interface (paper Table 3). */
int vswitch_rules_apply(struct vswitch *, struct vswitch_lsi *,
                        const struct vswitch_rule_batch *,
                        struct corch_err *err);
/* Without a rules_flush hook (a switch that keeps no rules across a
 * restart of c-orch): nothing to do, 0. */
int vswitch_rules_flush(struct vswitch *, struct vswitch_lsi *,
                        uint64_t cookie, uint64_t mask,
                        struct corch_err *err);
/* Without a sap_supported hook: true. */
bool vswitch_sap_supported(const struct vswitch *, enum graph_sap_type);

#endif
