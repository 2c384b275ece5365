#ifndef CORCH_VSWITCH_DUMMY_H
#define CORCH_VSWITCH_DUMMY_H 1

#include "vswitch/vswitch-provider.h"

extern const struct vswitch_class vswitch_dummy_class;

#endif
