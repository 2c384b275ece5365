/* A skeleton execution-engine driver to copy: see compute-skeleton.c.
 * Not registered. */
#ifndef CORCH_COMPUTE_SKELETON_H
#define CORCH_COMPUTE_SKELETON_H 1

#include "compute/compute-provider.h"

extern const struct compute_class compute_skeleton_class;

#endif
