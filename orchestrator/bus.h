/* The message bus publisher (paper 5.7): the node description and graph
 * events on ZeroMQ (czmq), for subscribers that join at any time. */
#ifndef CORCH_BUS_H
#define CORCH_BUS_H 1

#include "util.h"

struct corch_config;
struct nrm;
struct bus;

/* Starts the publisher per the bus.* keys, registers as the nrm's
 * listener, and publishes the description once.  With bus.endpoint = ""
 * the bus is off and *ret_bus is NULL. */
int bus_create(const struct corch_config *, struct nrm *, struct bus **ret_bus,
               struct corch_err *err);
void bus_destroy(struct bus *);                 /* Accepts NULL. */

#endif
