/* The registry of execution-engine drivers and the compute manager's
 * engine bookkeeping.  Drivers are compiled in and registered once by
 * compute_register_all(); configuration (compute.drivers) enables some. */
#ifndef CORCH_COMPUTE_H
#define CORCH_COMPUTE_H 1

#include <stdbool.h>

#include "compute/compute-provider.h"

void compute_register_all(void);
int compute_register(const struct compute_class *);
const struct compute_class *compute_lookup(const char *type);

/* The engines enabled by configuration, as initialised at start-up. */
struct compute_engine {
    const struct compute_class *class;
    bool usable;                /* Last probe() said usable. */
    char why[256];              /* Last probe()'s reason when not usable. */
};

/* Initialises the engines named in cfg->compute_drivers (an unknown name is
 * an error naming it) and probes them. */
int compute_engines_init(const struct corch_config *, struct corch_err *err);
void compute_engines_fini(void);
/* Re-probes every engine; returns true if any 'usable' changed. */
bool compute_engines_probe(void);
size_t compute_engine_count(void);
const struct compute_engine *compute_engine_get(size_t i);
/* The enabled engine of that type, or NULL. */
const struct compute_engine *compute_engine_find(const char *type);

#endif
