/* An OpenFlow 1.3 connection to one bridge's management socket
 * (punix:<OVS_RUNDIR>/<bridge>.mgmt, created by ovs-vswitchd for every
 * bridge and reachable only by root): handshake, echo, and batches of
 * flow_mods applied as one ONF bundle.
 *
 * Not thread-safe: the caller holds a lock per connection. */
#ifndef CORCH_OVS_OFCONN_H
#define CORCH_OVS_OFCONN_H 1

#include <stddef.h>
#include <stdint.h>

#include "ofp.h"

struct ofconn;

/* Connects to the unix socket at 'path' and completes the hello exchange,
 * within 'timeout_ms'.  0 or a negative errno. */
int ofconn_open(const char *path, unsigned int timeout_ms,
                struct ofconn **ret_conn);
void ofconn_close(struct ofconn *);     /* Accepts NULL. */

/* Handles what the switch sent since the last call (echo requests)
 * without blocking.  A negative errno means the connection is gone: close
 * it and open a new one. */
int ofconn_check(struct ofconn *);

/* Reserves 'n' consecutive xids; returns the first. */
uint32_t ofconn_alloc_xids(struct ofconn *, uint32_t n);

/* What went wrong in a batch. */
struct ofconn_result {
    struct ofp_error error;     /* The first OFPT_ERROR received. */
    size_t n_errors;            /* How many errors were received. */
};

/* Sends 'msgs' (complete OpenFlow messages) followed by a barrier request
 * and waits until the barrier reply arrives (or 'timeout_ms' passes),
 * answering echo requests meanwhile.  Returns 0 if no error came back,
 * -EPROTO if one did ('ret' says which; its xid names the failed message),
 * -ETIMEDOUT, or -EPIPE / -ECONNRESET if the connection broke (the caller
 * may reopen and retry: nothing is applied by a broken bundle). */
int ofconn_transact(struct ofconn *, const struct ofp_buf *msgs,
                    unsigned int timeout_ms, struct ofconn_result *ret);

/* Applies flow_mods in 'adds' (bundle add messages for bundle
 * 'bundle_id', built with ofp_put_bundle_flow_mod) whole or not at all:
 * open, adds, barrier; then commit (or discard if anything failed),
 * barrier.  Same returns as ofconn_transact(). */
int ofconn_bundle_apply(struct ofconn *, uint32_t bundle_id,
                        const struct ofp_buf *adds, unsigned int timeout_ms,
                        struct ofconn_result *ret);

#endif
