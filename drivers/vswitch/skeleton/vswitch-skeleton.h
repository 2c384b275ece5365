/* A skeleton vSwitch driver to copy: see vswitch-skeleton.c.  Not
 * registered. */
#ifndef CORCH_VSWITCH_SKELETON_H
#define CORCH_VSWITCH_SKELETON_H 1

#include "vswitch/vswitch-provider.h"

extern const struct vswitch_class vswitch_skeleton_class;

#endif
