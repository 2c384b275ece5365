/* The registry of vSwitch drivers.  Drivers are compiled in and registered
 * once at start-up by vswitch_register_all(); configuration
 * (vswitch.driver) selects one. */
#ifndef CORCH_VSWITCH_H
#define CORCH_VSWITCH_H 1

#include "vswitch/vswitch-provider.h"

/* Registers every driver compiled in (drivers/driver-list.h).
 * Idempotent. */
void vswitch_register_all(void);
/* Registers one driver; -EEXIST if its type is taken. */
int vswitch_register(const struct vswitch_class *);
/* The driver of that type, or NULL. */
const struct vswitch_class *vswitch_lookup(const char *type);

#endif
