#ifndef CORCH_COMPUTE_DUMMY_H
#define CORCH_COMPUTE_DUMMY_H 1

#include "compute/compute-provider.h"

extern const struct compute_class compute_dummy_class;

#endif
