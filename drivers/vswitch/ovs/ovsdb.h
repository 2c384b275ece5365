/* A minimal OVSDB client (RFC 7047): JSON-RPC over a unix stream socket,
 * "transact" on the Open_vSwitch database, and a monitor of
 * Open_vSwitch.cur_cfg so that a caller can wait until ovs-vswitchd has
 * applied a transaction (ovs-vsctl's --wait=vswitchd, done natively).
 *
 * Not thread-safe: the caller holds one lock per connection. */
#ifndef CORCH_OVS_OVSDB_H
#define CORCH_OVS_OVSDB_H 1

#include <json-c/json.h>
#include <stdint.h>

#include "util.h"

struct ovsdb;

/* Connects to 'remote' ("unix:/path" or a bare path), checks that the
 * Open_vSwitch database is there and starts the cur_cfg monitor. */
int ovsdb_open(const char *remote, unsigned int timeout_ms,
               struct ovsdb **ret_db, struct corch_err *err);
void ovsdb_close(struct ovsdb *);       /* Accepts NULL. */

/* Handles what the server sent meanwhile (echo requests, monitor
 * updates) without blocking.  A negative errno means the connection is
 * gone (e.g. dropped by the server's inactivity probe while idle): close
 * it and open a new one; nothing was in flight. */
int ovsdb_check(struct ovsdb *);

/* Runs one transaction on Open_vSwitch.  'ops' is a JSON array of
 * operations; it is consumed.  With 'wait_cfg', the transaction also
 * increments next_cfg and the call returns only once ovs-vswitchd has
 * reached it (cur_cfg >= next_cfg).
 *
 * Returns 0 with '*ret_result' (the array of per-operation results, caller
 * owns it; may be NULL if not wanted), -EIO if an operation failed (the
 * reason from OVSDB in 'err'), -ETIMEDOUT, or another negative errno for
 * a broken connection.  If the transaction was committed but the wait for
 * ovs-vswitchd failed, '*ret_result' is set as well (the caller undoes what
 * it committed); otherwise it is untouched on failure. */
int ovsdb_transact(struct ovsdb *, json_object *ops, bool wait_cfg,
                   unsigned int timeout_ms, json_object **ret_result,
                   struct corch_err *err);

/* Helpers to build operations and OVSDB values. */
json_object *ovsdb_named_uuid(const char *name);       /* ["named-uuid",n] */
json_object *ovsdb_uuid(const char *uuid);             /* ["uuid",u] */
/* ["map",[[k,v],...]] from 'n' key/value pairs; NULL values skipped. */
json_object *ovsdb_map(const char *const *kv, size_t n);
/* ["set",[elements...]]; 'elems' is consumed. */
json_object *ovsdb_set(json_object *elems);
/* A where clause [[column, "==", value]]; 'value' consumed. */
json_object *ovsdb_where_eq(const char *column, json_object *value);

/* The UUID string of an ["uuid", "..."] value, or NULL. */
const char *ovsdb_uuid_str(json_object *value);

#endif
