/* To be written: placeholder so that the tree builds. */
#include <config.h>
#include "vswitch-dummy.h"

const struct vswitch_class vswitch_dummy_class = { .type = "dummy" };
