/* The Open vSwitch driver (docs/vswitch-ovs.md): OVSDB (RFC 7047) for
 * bridges and ports, OpenFlow 1.3 with ONF bundles on each bridge's
 * management socket for rules.  No ovs-vsctl / ovs-ofctl processes. */
#ifndef CORCH_VSWITCH_OVS_H
#define CORCH_VSWITCH_OVS_H 1

#include <stdint.h>

#include "vswitch/vswitch-provider.h"

extern const struct vswitch_class vswitch_ovs_class;

/* Diagnostics and tests: the OpenFlow port number of a port (names are
 * in the base: port->name, lsi->name). */
uint32_t vswitch_ovs_port_ofport(const struct vswitch_port *);

#endif
