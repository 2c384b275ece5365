/* To be written: placeholder so that the tree builds. */
#include <config.h>
#include "compute-dummy.h"

const struct compute_class compute_dummy_class = { .type = "dummy" };
