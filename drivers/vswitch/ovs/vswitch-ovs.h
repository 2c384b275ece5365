#ifndef CORCH_VSWITCH_OVS_H
#define CORCH_VSWITCH_OVS_H 1

#include "vswitch/vswitch-provider.h"

extern const struct vswitch_class vswitch_ovs_class;

#endif
