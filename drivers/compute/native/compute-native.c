/* To be written: placeholder so that the tree builds. */
#include <config.h>
#include "compute-native.h"

const struct compute_class compute_native_class = { .type = "native" };
