#ifndef CORCH_COMPUTE_NATIVE_H
#define CORCH_COMPUTE_NATIVE_H 1

#include "compute/compute-provider.h"

extern const struct compute_class compute_native_class;

#endif
