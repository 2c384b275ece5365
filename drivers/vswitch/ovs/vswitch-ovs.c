/* To be written: placeholder so that the tree builds. */
#include <config.h>
#include "vswitch-ovs.h"

const struct vswitch_class vswitch_ovs_class = { .type = "ovs" };
