/* The message bus publisher (paper 5.7): the node description and graph
 * events on ZeroMQ (czmq), for subscribers that join at any time.
 *
 * Topics (docs/bus.md): "<prefix>:domain-description" carries the node
 * description, "<prefix>:graph-event" the graph events.  Every message is
 * two frames, [topic, JSON], the JSON an object with "node_id", "seq"
 * (increasing per publisher), "timestamp" (UTC, ISO 8601, ms) and either
 * "description" (+ "reason") or "event".
 *
 * A publisher thread owns the ZeroMQ socket (an XPUB, bound in embedded
 * mode, connected to a broker's XSUB in external mode).  It sees every
 * subscription (ZMQ_XPUB_VERBOSE; the broker forwards them) and answers a
 * subscription to the description topic with the current description at
 * once, so late joiners never wait for the next change.  Other threads
 * only queue work for it (bus_notify_*), which never blocks. */
#ifndef CORCH_BUS_H
#define CORCH_BUS_H 1

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct corch_config;
struct nrm;
struct bus;

/* Starts the publisher per the bus.* keys, registers as the nrm's
 * listener, and publishes the description once.  With bus.endpoint = ""
 * the bus is off and *ret_bus is NULL.  (Defined in node-nrm.c.) */
int bus_create(const struct corch_config *, struct nrm *, struct bus **ret_bus,
               struct corch_err *err);
/* Unregisters from the nrm (which must still exist) and stops the
 * publisher.  Accepts NULL. */
void bus_destroy(struct bus *);

/* The publisher without an nrm: what bus_create() is built on, and what
 * the unit tests use with a hand-made description. */
struct bus_options {
    const char *endpoint;       /* ZeroMQ endpoint ("tcp://...", "ipc://",
                                 * "inproc://"). */
    bool external;              /* Connect to a broker's XSUB instead of
                                 * binding. */
    const char *topic_prefix;   /* Topic prefix ("corch"). */
    const char *node_id;        /* Put in every message. */
    unsigned int heartbeat_ms;  /* Description at least this often; 0 off. */
    unsigned int check_interval_ms; /* Re-check for changes; 0 off. */
    unsigned int resource_step; /* Percent; see bus_description_signature. */
    bool curve;                 /* CURVE on. */
    const char *curve_secret_key; /* Our czmq cert file (with secret). */
    const char *curve_clients;  /* Embedded: directory of allowed public
                                 * certs (zauth). */
    const char *curve_server_key; /* External: broker public key, Z85 or a
                                 * cert file. */
    /* Builds the current description; called in the publisher thread.
     * Required. */
    json_object *(*describe)(void *aux);
    /* Re-probes what may change behind the nrm's back (engines); called in
     * the publisher thread before a periodic check.  May be NULL. */
    void (*probe)(void *aux);
    void *aux;                  /* For the two callbacks. */
};
int bus_open(const struct bus_options *, struct bus **ret_bus,
             struct corch_err *err);
/* Stops the publisher thread and closes the socket.  Accepts NULL. */
void bus_close(struct bus *);
/* The 'aux' given to bus_open(). */
void *bus_aux(const struct bus *);

/* Queues a graph event ("deployed", "updated", "failed", "deleted") and a
 * new description.  Thread-safe, never blocks. */
void bus_notify_event(struct bus *, const char *type, const char *graph_id,
                      const char *error);
/* Queues a new description.  Thread-safe, never blocks. */
void bus_notify_change(struct bus *);

/* Messages published so far (the last seq used). */
uint64_t bus_last_seq(const struct bus *);

/* The description with its volatile parts (resources) reduced to
 * 'step'-percent buckets: two descriptions with the same signature are
 * "the same" for the periodic check.  Caller frees. */
char *bus_description_signature(json_object *description, unsigned int step);

#endif
