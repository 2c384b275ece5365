/* The Open vSwitch driver: OVSDB (RFC 7047) for bridges and ports,
 * OpenFlow 1.3 + ONF bundles on each bridge's management socket for rules.
 * No ovs-vsctl / ovs-ofctl.  See docs/vswitch-ovs.md. */
#include <config.h>
#include "vswitch-ovs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* The daemon's config.h, not autoconf's (which -I. finds first). */
#include "corch-config.h"
#include "log.h"
#include "netlink.h"
#include "ofconn.h"
#include "ofp.h"
#include "ovsdb.h"

LOG_MODULE(vswitch_ovs);


enum ovs_port_kind {
    OVS_PORT_PHYS,              /* A physical interface of LSI-0. */
    OVS_PORT_VLINK,             /* One end of a patch-port pair. */
    OVS_PORT_VETH,              /* Switch end of an SF's veth pair. */
    OVS_PORT_INTERNAL,          /* Internal port handed to an SF. */
    OVS_PORT_GRE,               /* GRE SAP tunnel port. */
    OVS_PORT_HOST_STACK,        /* Host-stack SAP internal port. */
};

struct ovs_port {
    struct vswitch_port up;     /* The base the core reads (name: port and
                                 * interface name). */
    struct ovs_lsi *lsi;        /* The bridge it is on. */
    char uuid[40];              /* Its Port row. */
    uint32_t ofport;            /* OpenFlow port number. */
    enum ovs_port_kind kind;    /* What it is, for destroy. */
    char veth_peer[16];         /* VETH: the SF end, deleted with it. */
    struct ovs_port *peer;  /* VLINK: the other end. */
    struct ovs_port *next;  /* Next port of the same LSI. */
};

struct ovs_lsi {
    struct vswitch_lsi up;      /* The base the core reads (name: bridge
                                 * name; graph_id). */
    struct ovs_switch *sw;      /* The switch it is on. */
    char uuid[40];              /* Its Bridge row. */
    bool is_lsi0;               /* LSI-0. */
    struct ovs_port *ports; /* Ports we made or adopted; db_mutex. */
    pthread_mutex_t of_mutex;   /* Guards 'of' and 'next_bundle'. */
    struct ofconn *of;          /* OpenFlow channel, opened on first use. */
    uint32_t next_bundle;       /* Next ONF bundle id. */
    struct ovs_lsi *next;   /* Next LSI of the node; db_mutex. */
};

/* One open Open vSwitch (an OVSDB server and its ovs-vswitchd): the
 * instance the core holds ('up'), with the connection and everything
 * reached through it.  Nothing of it is file-static: two instances (two
 * switches) live in one process. */
struct ovs_switch {
    struct vswitch up;          /* The base the core holds. */
    pthread_mutex_t db_mutex;   /* Guards the members below and the LSIs'
                                 * port lists. */
    struct ovsdb *db;           /* NULL until open / after a break. */
    char *db_remote;            /* vswitch.ovsdb. */
    char rundir[PATH_MAX];      /* Where the *.mgmt sockets are. */
    char datapath_type[16];     /* "netdev" or "system". */
    bool have_gre;              /* "gre" in iface_types. */
    struct ovs_lsi *lsis;   /* All LSIs (keeps them reachable). */
    unsigned int timeout_ms;    /* How long OVS may take to apply a
                                 * configuration or a batch of rules
                                 * (CORCH_OVS_TIMEOUT_MS overrides it, for
                                 * tests). */
};

static struct ovs_switch *
ovs_cast(const struct vswitch *vs)
{
    return CONTAINER_OF(vs, struct ovs_switch, up);
}

/* The driver's structs behind the bases the core holds. */
static struct ovs_lsi *
ovs_lsi_cast(const struct vswitch_lsi *l)
{
    return l ? CONTAINER_OF(l, struct ovs_lsi, up) : NULL;
}

static struct ovs_port *
ovs_port_cast(const struct vswitch_port *p)
{
    return p ? CONTAINER_OF(p, struct ovs_port, up) : NULL;
}

/* ------------------------------------------------------------ OVSDB --- */

/* The connection, reopened if a previous call found it broken.  db_mutex
 * held. */
static int
db_get(struct ovs_switch *sw, struct corch_err *err)
{
    if (sw->db && ovsdb_check(sw->db)) {
        LOG_INFO("OVSDB connection lost while idle: reconnecting");
        ovsdb_close(sw->db);
        sw->db = NULL;
    }
    if (sw->db)
        return 0;
    if (!sw->db_remote)
        return corch_err_set(err, -ENOTCONN, NULL, "ovs: not initialised");
    return ovsdb_open(sw->db_remote, sw->timeout_ms, &sw->db, err);
}

/* ovsdb_transact() on the shared connection, dropping it when broken so
 * that the next call reconnects.  db_mutex held. */
static int
db_transact(struct ovs_switch *sw, json_object *ops, bool wait,
            json_object **ret_result,
            struct corch_err *err)
{
    int error = db_get(sw, err);
    if (error) {
        json_object_put(ops);
        return error;
    }
    error = ovsdb_transact(sw->db, ops, wait, sw->timeout_ms, ret_result,
                           err);
    if (error && error != -EIO) {
        ovsdb_close(sw->db);
        sw->db = NULL;
    }
    return error;
}

static json_object *
op_new(const char *op, const char *table)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "op", json_object_new_string(op));
    json_object_object_add(o, "table", json_object_new_string(table));
    return o;
}

/* A mutate of one row's set column: {column} {insert|delete} {uuid}. */
static json_object *
op_mutate_set(const char *table, json_object *where, const char *column,
              const char *mutator, json_object *elems)
{
    json_object *o = op_new("mutate", table);
    json_object_object_add(o, "where", where);
    json_object *m = json_object_new_array();
    json_object_array_add(m, json_object_new_string(column));
    json_object_array_add(m, json_object_new_string(mutator));
    json_object_array_add(m, ovsdb_set(elems));
    json_object *ms = json_object_new_array();
    json_object_array_add(ms, m);
    json_object_object_add(o, "mutations", ms);
    return o;
}

static json_object *
where_uuid(const char *uuid)
{
    return ovsdb_where_eq("_uuid", ovsdb_uuid(uuid));
}

/* external_ids of everything we create: our identity. */
static json_object *
identity(const char *role, const char *graph, const char *sf,
         const char *sf_port)
{
    const char *kv[] = {
        "corch-role", role, "corch-graph", graph,
        "corch-sf", sf, "corch-port", sf_port,
    };
    return ovsdb_map(kv, 4);
}

/* external_ids of an internal group's LSI: its role and group name. */
static json_object *
identity_group(const char *group)
{
    const char *kv[] = { "corch-role", "group", "corch-group", group };
    return ovsdb_map(kv, 2);
}

/* Whether two optional strings are equal (both absent counts). */
static bool
same_or_both_null(const char *a, const char *b)
{
    return a ? b && !strcmp(a, b) : !b;
}

/* Appends the insert of an Interface + Port named 'name' to 'ops'; the
 * Port row is named "p<tag>" for the bridge's ports mutation.  'options'
 * (an OVSDB map or NULL) is consumed, so is 'ext' (twice referenced). */
static void
ops_add_port(json_object *ops, const char *tag, const char *name,
             const char *type, json_object *options, json_object *ext)
{
    char iname[24], pname[24];
    snprintf(iname, sizeof iname, "i%s", tag);
    snprintf(pname, sizeof pname, "p%s", tag);

    json_object *irow = json_object_new_object();
    json_object_object_add(irow, "name", json_object_new_string(name));
    if (type)
        json_object_object_add(irow, "type", json_object_new_string(type));
    if (options)
        json_object_object_add(irow, "options", options);
    json_object_object_add(irow, "external_ids", json_object_get(ext));
    json_object *ins = op_new("insert", "Interface");
    json_object_object_add(ins, "row", irow);
    json_object_object_add(ins, "uuid-name", json_object_new_string(iname));
    json_object_array_add(ops, ins);

    json_object *prow = json_object_new_object();
    json_object_object_add(prow, "name", json_object_new_string(name));
    json_object_object_add(prow, "interfaces", ovsdb_named_uuid(iname));
    json_object_object_add(prow, "external_ids", ext);
    ins = op_new("insert", "Port");
    json_object_object_add(ins, "row", prow);
    json_object_object_add(ins, "uuid-name", json_object_new_string(pname));
    json_object_array_add(ops, ins);
}

/* The uuid an insert at 'index' got. */
static void
result_uuid(json_object *result, size_t index, char *buf, size_t size)
{
    json_object *r = json_object_array_get_idx(result, index), *u;
    const char *s = NULL;
    if (json_object_object_get_ex(r, "uuid", &u))
        s = ovsdb_uuid_str(u);
    snprintf(buf, size, "%s", s ? s : "");
}

/* Reads the ofport of each interface in 'names' once ovs-vswitchd has
 * assigned it.  -ENODEV with OVS's reason if an interface failed (a device
 * that does not exist, a bad tunnel option...).  db_mutex held. */
static int
fetch_ofports(struct ovs_switch *sw, const char *const *names, size_t n,
              uint32_t *ret_ofports,
              struct corch_err *err)
{
    for (int attempt = 0;; attempt++) {
        json_object *ops = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
            json_object *sel = op_new("select", "Interface");
            json_object_object_add(sel, "where",
                                   ovsdb_where_eq("name",
                                                  json_object_new_string(names[i])));
            json_object *cols = json_object_new_array();
            json_object_array_add(cols, json_object_new_string("ofport"));
            json_object_array_add(cols, json_object_new_string("error"));
            json_object_object_add(sel, "columns", cols);
            json_object_array_add(ops, sel);
        }
        json_object *result = NULL;
        int error = db_transact(sw, ops, false, &result, err);
        if (error)
            return error;
        bool pending = false;
        for (size_t i = 0; i < n && !error; i++) {
            json_object *rows, *row, *ofp, *e;
            json_object_object_get_ex(json_object_array_get_idx(result, i),
                                      "rows", &rows);
            row = json_object_array_get_idx(rows, 0);
            if (!row) {
                error = corch_err_set(err, -ENODEV, NULL,
                                      "ovs: interface %s vanished", names[i]);
                break;
            }
            json_object_object_get_ex(row, "ofport", &ofp);
            if (!json_object_is_type(ofp, json_type_int)) {
                pending = true;         /* ["set",[]]: not assigned yet. */
                continue;
            }
            int64_t v = json_object_get_int64(ofp);
            if (v <= 0) {
                /* -1: failed if Interface.error says why, else still being
                 * set up. */
                if (!json_object_object_get_ex(row, "error", &e)
                    || !json_object_is_type(e, json_type_string)) {
                    pending = true;
                    continue;
                }
                error = corch_err_set(err, -ENODEV, NULL,
                                      "ovs: interface %s: %s", names[i],
                                      json_object_get_string(e));
                break;
            }
            ret_ofports[i] = (uint32_t) v;
        }
        json_object_put(result);
        if (error || !pending)
            return error;
        if (attempt >= 2000)
            return corch_err_set(err, -ETIMEDOUT, NULL,
                                 "ovs: no port number assigned to %s "
                                 "within 2 s", names[0]);
        usleep(1000);
    }
}

/* Removes ports (their Port rows from their bridges) in one transaction.
 * Waits for ovs-vswitchd unless every port is a patch port: a port with a
 * device must be released by OVS before the device goes or its name is
 * reused.  db_mutex held.  Best effort. */
static void
remove_port_rows(struct ovs_port *const *ports, size_t n)
{
    if (!n)
        return;
    struct ovs_switch *sw = ports[0]->lsi->sw;
    bool wait = false;
    for (size_t i = 0; i < n; i++)
        wait |= ports[i]->kind != OVS_PORT_VLINK;
    json_object *ops = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *elems = json_object_new_array();
        json_object_array_add(elems, ovsdb_uuid(ports[i]->uuid));
        json_object_array_add(ops, op_mutate_set("Bridge",
                                                 where_uuid(ports[i]->lsi->uuid),
                                                 "ports", "delete", elems));
    }
    struct corch_err err = { 0 };
    if (db_transact(sw, ops, wait, NULL, &err))
        LOG_WARN("could not remove %zu port(s), first %s: %s", n,
                 n ? ports[0]->up.name : "", err.msg);
}

/* Undoes a transaction that was committed although the hook fails (OVS
 * did not apply it in time): removes the bridge inserted at 'bridge_index'
 * of 'result', or the ports inserted at 'port_index[]' from the bridges
 * 'port_bridge[]'.  'result' NULL: nothing was committed.  db_mutex held.
 * Best effort. */
static void
undo_committed(struct ovs_switch *sw, json_object *result, int bridge_index,
               const size_t *port_index, const char *const *port_bridge,
               size_t n_ports)
{
    if (!result)
        return;
    json_object *ops = json_object_new_array();
    char uuid[40];
    if (bridge_index >= 0) {
        result_uuid(result, (size_t) bridge_index, uuid, sizeof uuid);
        json_object *elems = json_object_new_array();
        json_object_array_add(elems, ovsdb_uuid(uuid));
        json_object_array_add(ops, op_mutate_set("Open_vSwitch",
                                                 json_object_new_array(),
                                                 "bridges", "delete", elems));
    }
    for (size_t i = 0; i < n_ports; i++) {
        result_uuid(result, port_index[i], uuid, sizeof uuid);
        json_object *elems = json_object_new_array();
        json_object_array_add(elems, ovsdb_uuid(uuid));
        json_object_array_add(ops, op_mutate_set("Bridge",
                                                 where_uuid(port_bridge[i]),
                                                 "ports", "delete", elems));
    }
    struct corch_err err = { 0 };
    if (db_transact(sw, ops, false, NULL, &err))
        LOG_WARN("could not undo a configuration OVS did not apply: %s",
                 err.msg);
}

static struct ovs_port *
port_new(struct ovs_lsi *lsi, const char *name, enum ovs_port_kind kind)
{
    struct ovs_port *p = xcalloc(1, sizeof *p);
    p->lsi = lsi;
    p->up.lsi = &lsi->up;
    snprintf(p->up.name, sizeof p->up.name, "%s", name);
    p->up.role = kind == OVS_PORT_PHYS ? VSWITCH_PORT_PHYS
                 : kind == OVS_PORT_VLINK ? VSWITCH_PORT_VLINK
                 : kind == OVS_PORT_GRE || kind == OVS_PORT_HOST_STACK
                 ? VSWITCH_PORT_SAP : VSWITCH_PORT_SF;
    p->kind = kind;
    p->next = lsi->ports;
    lsi->ports = p;
    return p;
}

/* Unlinks and frees a port struct.  db_mutex held. */
static void
port_free(struct ovs_port *p)
{
    for (struct ovs_port **pp = &p->lsi->ports; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    if (p->peer)
        p->peer->peer = NULL;
    free(p);
}

/* Deletes the devices a port owns outside OVS.  Best effort. */
static void
port_release_devices(struct ovs_port *p)
{
    if (p->kind == OVS_PORT_VETH) {
        int error = netlink_link_delete(p->up.name);
        if (error && error != -ENODEV)
            LOG_WARN("could not delete veth %s: %s", p->up.name,
                     strerror(-error));
    }
}

/* --------------------------------------------------------- OpenFlow --- */

/* The LSI's OpenFlow channel, opened if needed.  of_mutex held. */
static int
of_get(struct ovs_lsi *lsi, struct corch_err *err)
{
    struct ovs_switch *sw = lsi->sw;
    if (lsi->of && ofconn_check(lsi->of)) {
        LOG_DBG("%s: OpenFlow connection lost while idle", lsi->up.name);
        ofconn_close(lsi->of);
        lsi->of = NULL;
    }
    if (lsi->of)
        return 0;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s.mgmt", sw->rundir, lsi->up.name);
    int error = ofconn_open(path, sw->timeout_ms, &lsi->of);
    if (error)
        return corch_err_set(err, error, NULL,
                             "ovs: cannot open OpenFlow channel %s: %s", path,
                             strerror(-error));
    return 0;
}

static uint32_t
port_no(const struct vswitch_port *port)
{
    const struct ovs_port *p = ovs_port_cast(port);
    return p ? p->ofport : OFPP_ANY;
}

/* Encodes a batch of flows into bundle add messages and applies it whole,
 * reconnecting once if the channel broke (re-applying is harmless: adds
 * replace, strict deletes of absent flows do nothing).  'flows' has
 * 'n' entries whose xids are base + index.  of_mutex held. */
static int
of_apply(struct ovs_lsi *lsi, const struct ofp_flow *flows, size_t n,
         size_t *ret_failed, struct ofconn_result *ret_res,
         struct corch_err *err)
{
    struct ovs_switch *sw = lsi->sw;
    for (int attempt = 0;; attempt++) {
        int error = of_get(lsi, err);
        if (error)
            return error;
        uint32_t bundle = ++lsi->next_bundle;
        uint32_t base = ofconn_alloc_xids(lsi->of, (uint32_t) n);
        struct ofp_buf buf = { 0 };
        ofp_buf_reserve(&buf, n * 160);
        for (size_t i = 0; i < n; i++) {
            error = ofp_put_bundle_flow_mod(&buf, base + (uint32_t) i, bundle,
                                            ONF_BF_ATOMIC | ONF_BF_ORDERED,
                                            &flows[i]);
            if (error) {
                ofp_buf_free(&buf);
                *ret_failed = i;
                return corch_err_set(err, error, NULL,
                                     "ovs: rule cannot be expressed in "
                                     "OpenFlow 1.3 (inconsistent match)");
            }
        }
        error = ofconn_bundle_apply(lsi->of, bundle, &buf, sw->timeout_ms,
                                    ret_res);
        ofp_buf_free(&buf);
        if (error == -EPROTO) {
            uint32_t x = ret_res->error.xid;
            *ret_failed = x >= base && x - base < n ? x - base : SIZE_MAX;
            return error;
        }
        if (!error)
            return 0;
        ofconn_close(lsi->of);
        lsi->of = NULL;
        if (attempt || (error != -EPIPE && error != -ECONNRESET))
            return corch_err_set(err, error, NULL,
                                 "ovs: OpenFlow channel to %s: %s",
                                 lsi->up.name, strerror(-error));
    }
}

/* Sends one flow_mod to 'lsi' and waits for it; 'what' names it in the
 * error an OFPT_ERROR reply turns into. */
static int
apply_one_flow(struct ovs_lsi *lsi, const struct ofp_flow *f,
               const char *what, struct corch_err *err)
{
    size_t failed;
    struct ofconn_result res;
    pthread_mutex_lock(&lsi->of_mutex);
    int error = of_apply(lsi, f, 1, &failed, &res, err);
    pthread_mutex_unlock(&lsi->of_mutex);
    if (error == -EPROTO)
        corch_err_set(err, error, NULL, "ovs: %s refused: %s/%s", what,
                      ofp_error_type_name(res.error.type),
                      ofp_error_code_name(res.error.type, res.error.code));
    return error;
}

/* Installs the single rule of a learning LSI: everything to NORMAL. */
static int
install_normal(struct ovs_lsi *lsi, struct corch_err *err)
{
    struct ofp_action act = { .kind = OFP_ACT_OUTPUT, .port = OFPP_NORMAL };
    struct ofp_flow f = { .command = OFPFC_ADD, .priority = 0,
                          .actions = &act, .n_actions = 1 };
    return apply_one_flow(lsi, &f, "NORMAL rule", err);
}

/* Deletes every flow of the bridge.  Used where ovs-vswitchd may keep a
 * bridge's flow table across a delete + create of the same name (it
 * reconciles bridges by name when both changes reach it in one pass). */
static int
flush_flows(struct ovs_lsi *lsi, struct corch_err *err)
{
    struct ofp_flow f = { .command = OFPFC_DELETE, .table_id = 0xff };
    return apply_one_flow(lsi, &f, "flow flush", err);
}

/* ------------------------------------------------------------- hooks --- */

static int
ovs_rules_flush(struct vswitch *vs, struct ovs_lsi *lsi, uint64_t cookie,
                uint64_t mask,
                struct corch_err *err)
{
    (void) vs;
    struct ofp_flow f = { .command = OFPFC_DELETE, .table_id = 0xff,
                          .cookie = cookie, .cookie_mask = mask };
    return apply_one_flow(lsi, &f, "rule flush", err);
}

static void ovs_close(struct vswitch *);
static void ovs_lsi_destroy(struct vswitch *, struct ovs_lsi *);

static int
ovs_open(const struct corch_config *cfg, struct vswitch **ret,
         struct corch_err *err)
{
    const char *remote = cfg->vswitch_ovsdb && *cfg->vswitch_ovsdb
                         ? cfg->vswitch_ovsdb
                         : "unix:/run/openvswitch/db.sock";
    struct ovs_switch *sw = xcalloc(1, sizeof *sw);
    sw->up.class = &vswitch_ovs_class;
    pthread_mutex_init(&sw->db_mutex, NULL);
    sw->have_gre = true;
    pthread_mutex_lock(&sw->db_mutex);
    sw->db_remote = xstrdup(remote);
    const char *path = !strncmp(remote, "unix:", 5) ? remote + 5 : remote;
    const char *tmo = getenv("CORCH_OVS_TIMEOUT_MS");
    sw->timeout_ms = tmo && atoi(tmo) > 0 ? (unsigned int) atoi(tmo)
                                          : 15000;
    const char *env = getenv("CORCH_OVS_RUNDIR");
    if (env && *env) {
        snprintf(sw->rundir, sizeof sw->rundir, "%s", env);
    } else {
        /* ovs-vswitchd puts <bridge>.mgmt beside the database socket in
         * every standard layout (OVS_RUNDIR). */
        snprintf(sw->rundir, sizeof sw->rundir, "%s", path);
        char *slash = strrchr(sw->rundir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(sw->rundir, sizeof sw->rundir, ".");
    }
    int error = db_get(sw, err);
    json_object *result = NULL;
    if (!error) {
        json_object *ops = json_object_new_array();
        json_object *sel = op_new("select", "Open_vSwitch");
        json_object_object_add(sel, "where", json_object_new_array());
        json_object *cols = json_object_new_array();
        json_object_array_add(cols, json_object_new_string("iface_types"));
        json_object_array_add(cols, json_object_new_string("datapath_types"));
        json_object_object_add(sel, "columns", cols);
        json_object_array_add(ops, sel);
        error = db_transact(sw, ops, false, &result, err);
    }
    if (!error) {
        json_object *rows, *types;
        json_object_object_get_ex(json_object_array_get_idx(result, 0),
                                  "rows", &rows);
        json_object *row = json_object_array_get_idx(rows, 0);
        if (!row) {
            error = corch_err_set(err, -EPROTO, "vswitch.ovsdb",
                                  "ovs: the database has no Open_vSwitch "
                                  "row (run ovs-vsctl init)");
        } else if (json_object_object_get_ex(row, "iface_types", &types)) {
            /* Empty until ovs-vswitchd has started: assume it can. */
            const char *s = json_object_to_json_string(types);
            if (strstr(s, "internal"))
                sw->have_gre = strstr(s, "\"gre\"") != NULL;
        }
    }
    json_object_put(result);
    if (!error) {
        const char *dp = cfg->vswitch_datapath_type;
        struct stat st;
        if (!dp || !*dp)
            dp = stat("/sys/module/openvswitch", &st) ? "netdev" : "system";
        if (strcmp(dp, "netdev") && strcmp(dp, "system")) {
            error = corch_err_set(err, -EINVAL, "vswitch.datapath_type",
                                  "ovs: datapath type must be netdev or "
                                  "system, not \"%s\"", dp);
        } else {
            snprintf(sw->datapath_type, sizeof sw->datapath_type, "%s", dp);
            LOG_INFO("OVSDB %s, datapath %s, run dir %s", remote,
                     sw->datapath_type, sw->rundir);
        }
    }
    pthread_mutex_unlock(&sw->db_mutex);
    if (error) {
        ovs_close(&sw->up);
        return error;
    }
    *ret = &sw->up;
    return 0;
}

static struct ovs_lsi *
lsi_new(struct ovs_switch *sw, const char *name, const char *uuid,
        const char *graph_id, bool is_lsi0)
{
    struct ovs_lsi *l = xcalloc(1, sizeof *l);
    l->sw = sw;
    snprintf(l->up.name, sizeof l->up.name, "%s", name);
    snprintf(l->uuid, sizeof l->uuid, "%s", uuid);
    l->up.vs = &sw->up;
    l->up.graph_id = xstrdup(graph_id);
    l->up.role = is_lsi0 ? VSWITCH_LSI_ZERO
                 : graph_id ? VSWITCH_LSI_GRAPH : VSWITCH_LSI_GROUP;
    l->is_lsi0 = is_lsi0;
    pthread_mutex_init(&l->of_mutex, NULL);
    l->next = sw->lsis;
    sw->lsis = l;
    return l;
}

/* Frees an LSI struct and its port structs (and the far ends of its
 * vlinks).  db_mutex held. */
static void
lsi_free(struct ovs_lsi *l)
{
    struct ovs_switch *sw = l->sw;
    while (l->ports) {
        struct ovs_port *p = l->ports;
        if (p->peer)
            port_free(p->peer);
        port_free(p);
    }
    for (struct ovs_lsi **pp = &sw->lsis; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    ofconn_close(l->of);
    pthread_mutex_destroy(&l->of_mutex);
    free(l->up.graph_id);
    free(l);
}

/* Drops the connections and the driver's handles; the bridges stay. */
static void
ovs_close(struct vswitch *vs)
{
    struct ovs_switch *sw = ovs_cast(vs);
    pthread_mutex_lock(&sw->db_mutex);
    ovsdb_close(sw->db);
    sw->db = NULL;
    while (sw->lsis)
        lsi_free(sw->lsis);
    pthread_mutex_unlock(&sw->db_mutex);
    pthread_mutex_destroy(&sw->db_mutex);
    free(sw->db_remote);
    free(sw);
}

/* The columns that lock a bridge down: nobody but c-orch (through the
 * root-only management socket) programs it. */
static void
lockdown_columns(json_object *row)
{
    json_object_object_add(row, "fail_mode", json_object_new_string("secure"));
    json_object_object_add(row, "controller",
                           ovsdb_set(json_object_new_array()));
    json_object *protos = json_object_new_array();
    json_object_array_add(protos, json_object_new_string("OpenFlow13"));
    json_object_object_add(row, "protocols", ovsdb_set(protos));
    const char *oc[] = { "disable-in-band", "true" };
    json_object_object_add(row, "other_config", ovsdb_map(oc, 1));
}

/* Appends the insert of a locked-down bridge named "br" with the ports
 * named "p0".."p<n-1>" and its registration in Open_vSwitch. */
static void
ops_add_bridge(struct ovs_switch *sw, json_object *ops, const char *name,
               json_object *ext,
               size_t n_ports)
{
    json_object *row = json_object_new_object();
    json_object_object_add(row, "name", json_object_new_string(name));
    json_object_object_add(row, "datapath_type",
                           json_object_new_string(sw->datapath_type));
    lockdown_columns(row);
    json_object_object_add(row, "external_ids", ext);
    json_object *ports = json_object_new_array();
    for (size_t i = 0; i < n_ports; i++) {
        char tag[24];
        snprintf(tag, sizeof tag, "p%zu", i);
        json_object_array_add(ports, ovsdb_named_uuid(tag));
    }
    json_object_object_add(row, "ports", ovsdb_set(ports));
    json_object *ins = op_new("insert", "Bridge");
    json_object_object_add(ins, "row", row);
    json_object_object_add(ins, "uuid-name", json_object_new_string("br"));
    json_object_array_add(ops, ins);
    json_object *elems = json_object_new_array();
    json_object_array_add(elems, ovsdb_named_uuid("br"));
    json_object_array_add(ops, op_mutate_set("Open_vSwitch",
                                             json_object_new_array(),
                                             "bridges", "insert", elems));
}

/* Looks a bridge up by name: 0 with its uuid and external_ids (caller
 * puts), -ENOENT if absent.  db_mutex held. */
static int
find_bridge(struct ovs_switch *sw, const char *name, char *uuid, size_t size,
            json_object **ret_ext, json_object **ret_ports,
            struct corch_err *err)
{
    json_object *ops = json_object_new_array();
    json_object *sel = op_new("select", "Bridge");
    json_object_object_add(sel, "where",
                           ovsdb_where_eq("name", json_object_new_string(name)));
    json_object_array_add(ops, sel);
    json_object *result = NULL;
    int error = db_transact(sw, ops, false, &result, err);
    if (error)
        return error;
    json_object *rows, *row, *v;
    json_object_object_get_ex(json_object_array_get_idx(result, 0), "rows",
                              &rows);
    row = json_object_array_get_idx(rows, 0);
    if (!row) {
        json_object_put(result);
        return -ENOENT;
    }
    json_object_object_get_ex(row, "_uuid", &v);
    snprintf(uuid, size, "%s", ovsdb_uuid_str(v) ? ovsdb_uuid_str(v) : "");
    if (ret_ext) {
        json_object_object_get_ex(row, "external_ids", &v);
        *ret_ext = json_object_get(v);
    }
    if (ret_ports) {
        json_object_object_get_ex(row, "ports", &v);
        *ret_ports = json_object_get(v);
    }
    json_object_put(result);
    return 0;
}

/* Looks 'key' up in an OVSDB map value. */
static const char *
map_get(json_object *map, const char *key)
{
    json_object *pairs = json_object_array_get_idx(map, 1);
    for (size_t i = 0; i < json_object_array_length(pairs); i++) {
        json_object *p = json_object_array_get_idx(pairs, i);
        if (!strcmp(json_object_get_string(json_object_array_get_idx(p, 0)),
                    key))
            return json_object_get_string(json_object_array_get_idx(p, 1));
    }
    return NULL;
}

/* LSI-0's bridge name: stable for one OVS instance (so that a restart
 * adopts it) and different between instances on one host, because with
 * the netdev datapath the bridge's local port is a host tap device. */
static void
lsi0_name(struct ovs_switch *sw, char *buf, size_t size)
{
    uint32_t h = 2166136261u;
    for (const char *s = sw->db_remote; *s; s++)
        h = (h ^ (uint8_t) *s) * 16777619u;
    snprintf(buf, size, "corch0-%06x", h & 0xffffff);
}

/* Typed OVSDB operations for LSI-0 (the other hooks' are above). */

/* Appends a select of the Port rows named names[i] (their uuids), result
 * i for name i. */
static void
ops_select_ports(json_object *ops, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_object *sel = op_new("select", "Port");
        json_object_object_add(sel, "where",
                               ovsdb_where_eq("name",
                                              json_object_new_string(names[i])));
        json_object *cols = json_object_new_array();
        json_object_array_add(cols, json_object_new_string("_uuid"));
        json_object_object_add(sel, "columns", cols);
        json_object_array_add(ops, sel);
    }
}

/* The uuid of the row that select 'index' of 'result' found, or NULL. */
static const char *
selected_uuid(json_object *result, size_t index)
{
    json_object *rows, *u;
    if (!json_object_object_get_ex(json_object_array_get_idx(result, index),
                                   "rows", &rows))
        return NULL;
    json_object *row = json_object_array_get_idx(rows, 0);
    return row && json_object_object_get_ex(row, "_uuid", &u)
           ? ovsdb_uuid_str(u) : NULL;
}

/* Appends the re-assertion of an adopted bridge's lockdown (someone may
 * have loosened it): the lockdown columns and the datapath type, and our
 * key of other_config by a mutation (the operator's keys stay). */
static void
ops_relock_bridge(struct ovs_switch *sw, json_object *ops, const char *uuid)
{
    json_object *upd = op_new("update", "Bridge");
    json_object_object_add(upd, "where", where_uuid(uuid));
    json_object *row = json_object_new_object();
    lockdown_columns(row);
    json_object_object_del(row, "other_config");
    json_object_object_add(row, "datapath_type",
                           json_object_new_string(sw->datapath_type));
    json_object_object_add(upd, "row", row);
    json_object_array_add(ops, upd);

    json_object *mut = op_new("mutate", "Bridge");
    json_object_object_add(mut, "where", where_uuid(uuid));
    json_object *del = json_object_new_array();
    json_object_array_add(del, json_object_new_string("other_config"));
    json_object_array_add(del, json_object_new_string("delete"));
    json_object *keys = json_object_new_array();
    json_object_array_add(keys, json_object_new_string("disable-in-band"));
    json_object_array_add(del, ovsdb_set(keys));
    json_object *ins = json_object_new_array();
    json_object_array_add(ins, json_object_new_string("other_config"));
    json_object_array_add(ins, json_object_new_string("insert"));
    const char *oc[] = { "disable-in-band", "true" };
    json_object_array_add(ins, ovsdb_map(oc, 1));
    json_object *muts = json_object_new_array();
    json_object_array_add(muts, del);
    json_object_array_add(muts, ins);
    json_object_object_add(mut, "mutations", muts);
    json_object_array_add(ops, mut);
}

/* Appends: the Port rows inserted as "p0".."p<n-1>" by this transaction
 * (ops_add_port) join bridge 'uuid'. */
static void
ops_bridge_ports_insert(json_object *ops, const char *uuid, size_t n)
{
    json_object *elems = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        char tag[24];
        snprintf(tag, sizeof tag, "p%zu", i);
        json_object_array_add(elems, ovsdb_named_uuid(tag));
    }
    json_object_array_add(ops, op_mutate_set("Bridge", where_uuid(uuid),
                                             "ports", "insert", elems));
}

/* Appends the removal of bridge 'uuid' (its ports go with it). */
static void
ops_bridge_delete(json_object *ops, const char *uuid)
{
    json_object *elems = json_object_new_array();
    json_object_array_add(elems, ovsdb_uuid(uuid));
    json_object_array_add(ops, op_mutate_set("Open_vSwitch",
                                             json_object_new_array(),
                                             "bridges", "delete", elems));
}

/* Whether an existing bridge of LSI-0's name is ours to adopt. */
static bool
lsi0_is_ours(json_object *ext)
{
    const char *role = map_get(ext, "corch-role");
    return role && !strcmp(role, "lsi0");
}

static int
ovs_lsi0_open(struct vswitch *vs, const char *const *ifnames, size_t n,
              struct ovs_lsi **ret_lsi0, struct corch_err *err)
{
    struct ovs_switch *sw = ovs_cast(vs);
    for (size_t i = 0; i < n; i++)
        if (!name_is_valid_ifname(ifnames[i]))
            return corch_err_set(err, -EINVAL, "vswitch.interfaces",
                                 "bad interface name \"%s\"", ifnames[i]);
    char name[16], uuid[40] = "";
    json_object *ext = NULL, *ports = NULL, *found = NULL, *result = NULL;
    struct ovs_lsi *lsi = NULL;
    struct ovs_port **made = xcalloc(n + 1, sizeof *made);
    uint32_t *ofports = xcalloc(n + 1, sizeof *ofports);
    bool *fresh = xcalloc(n + 1, sizeof *fresh);  /* Inserted by us now. */
    size_t n_new = 0;

    pthread_mutex_lock(&sw->db_mutex);
    lsi0_name(sw, name, sizeof name);

    /* Adopt LSI-0 from an earlier run if it is there and ours. */
    int error = find_bridge(sw, name, uuid, sizeof uuid, &ext, &ports, err);
    bool adopt = !error;
    if (error == -ENOENT)
        error = 0;
    if (error)
        goto out;
    if (adopt && !lsi0_is_ours(ext)) {
        error = corch_err_setk(err, CORCH_ERR_CONFLICT, -EEXIST, NULL,
                               "ovs: bridge %s exists and is not ours",
                               name);
        goto out;
    }

    /* Which interfaces have a Port row already (on LSI-0 if adopted)? */
    json_object *ops = json_object_new_array();
    ops_select_ports(ops, ifnames, n);
    error = db_transact(sw, ops, false, &found, err);
    if (error)
        goto out;

    /* One transaction: the missing interfaces' rows, and the bridge (new)
     * or its lockdown again and the new ports (adopted).  Until its
     * result, a new port's ofport holds the index of its insert + 1. */
    lsi = lsi_new(sw, name, adopt ? uuid : "", NULL, true);
    const char *ports_text = adopt ? json_object_to_json_string(ports) : "";
    ops = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct ovs_port *p = made[i] = port_new(lsi, ifnames[i],
                                                OVS_PORT_PHYS);
        const char *have = selected_uuid(found, i);
        if (have && (!adopt || !strstr(ports_text, have))) {
            json_object_put(ops);
            error = corch_err_setk(err, CORCH_ERR_CONFLICT, -EBUSY,
                                   "vswitch.interfaces", "ovs: interface %s "
                                   "is already on another bridge",
                                   ifnames[i]);
            goto free_lsi;
        }
        if (have) {
            snprintf(p->uuid, sizeof p->uuid, "%s", have);
            continue;
        }
        char tag[24];
        snprintf(tag, sizeof tag, "%zu", n_new);
        p->ofport = (uint32_t) (n_new + 1);
        ops_add_port(ops, tag, ifnames[i], NULL, NULL,
                     identity("phys", NULL, NULL, NULL));
        n_new++;
    }
    if (adopt) {
        ops_relock_bridge(sw, ops, uuid);
        if (n_new)
            ops_bridge_ports_insert(ops, uuid, n_new);
    } else {
        ops_add_bridge(sw, ops, name, identity("lsi0", NULL, NULL, NULL),
                       n_new);
    }
    error = db_transact(sw, ops, true, &result, err);
    if (error) {
        /* Committed but not applied in time: take back what was added. */
        size_t *idx = xcalloc(n_new + 1, sizeof *idx);
        const char **brs = xcalloc(n_new + 1, sizeof *brs);
        for (size_t i = 0; i < n_new; i++) {
            idx[i] = 2 * i + 1;
            brs[i] = lsi->uuid;
        }
        undo_committed(sw, result, adopt ? -1 : (int) (2 * n_new),
                       adopt ? idx : NULL, adopt ? brs : NULL,
                       adopt ? n_new : 0);
        free(idx);
        free(brs);
        goto free_lsi;
    }
    if (!adopt)
        result_uuid(result, 2 * n_new, lsi->uuid, sizeof lsi->uuid);
    for (size_t i = 0; i < n; i++) {
        struct ovs_port *p = made[i];
        if (p->uuid[0])
            continue;
        result_uuid(result, 2 * (p->ofport - 1) + 1, p->uuid,
                    sizeof p->uuid);
        p->ofport = 0;
        fresh[i] = true;
    }

    /* The port numbers, once ovs-vswitchd has opened the interfaces. */
    const char **names = xcalloc(n + 1, sizeof *names);
    for (size_t i = 0; i < n; i++)
        names[i] = made[i]->up.name;
    error = fetch_ofports(sw, names, n, ofports, err);
    free(names);
    if (error)
        goto remove_added;
    for (size_t i = 0; i < n; i++)
        made[i]->ofport = ofports[i];
    goto out;

remove_added:
    if (!adopt) {
        /* Leave nothing: the whole bridge goes. */
        ops = json_object_new_array();
        ops_bridge_delete(ops, lsi->uuid);
        db_transact(sw, ops, true, NULL, NULL);
    } else {
        /* Adopted bridge: take back only the ports added now. */
        struct ovs_port **undo = xcalloc(n + 1, sizeof *undo);
        size_t n_undo = 0;
        for (size_t i = 0; i < n; i++)
            if (fresh[i])
                undo[n_undo++] = made[i];
        remove_port_rows(undo, n_undo);
        free(undo);
    }
free_lsi:
    lsi_free(lsi);
    lsi = NULL;
out:
    json_object_put(found);
    json_object_put(result);
    json_object_put(ext);
    json_object_put(ports);
    free(made);
    free(ofports);
    free(fresh);
    pthread_mutex_unlock(&sw->db_mutex);
    if (error)
        return error;
    LOG_INFO("LSI-0 %s %s with %zu interface(s)", name,
             adopt ? "adopted" : "created", n);
    *ret_lsi0 = lsi;
    return 0;
}

static int
ovs_lsi0_port(struct vswitch *vs, struct ovs_lsi *lsi0, const char *ifname,
              struct ovs_port **ret_port)
{
    struct ovs_switch *sw = ovs_cast(vs);
    int error = -ENODEV;
    pthread_mutex_lock(&sw->db_mutex);
    for (struct ovs_port *p = lsi0->ports; p; p = p->next) {
        if (p->kind == OVS_PORT_PHYS && !strcmp(p->up.name, ifname)) {
            *ret_port = p;
            error = 0;
            break;
        }
    }
    pthread_mutex_unlock(&sw->db_mutex);
    return error;
}

/* Whether a bridge of a graph-LSI's or group LSI's name, with these
 * external_ids, is ours to replace: the same role and, for a graph-LSI,
 * the same graph, for a group LSI the same group. */
static bool
bridge_is_ours(json_object *ext, const char *role,
               const struct vswitch_lsi_spec *spec)
{
    const char *r = map_get(ext, "corch-role");
    const char *g = map_get(ext, "corch-graph");
    return r && !strcmp(r, role)
           && (spec->learning
               ? same_or_both_null(map_get(ext, "corch-group"), spec->group)
               : g && spec->graph_id && !strcmp(g, spec->graph_id));
}

static int
ovs_lsi_create(struct vswitch *vs, const struct vswitch_lsi_spec *spec,
               struct ovs_lsi **ret_lsi, struct corch_err *err)
{
    struct ovs_switch *sw = ovs_cast(vs);
    if (!name_is_valid_ifname(spec->name))
        return corch_err_set(err, -EINVAL, NULL, "ovs: bad bridge name "
                             "\"%s\"", spec->name);
    const char *role = spec->learning ? "group" : "graph";
    struct ovs_lsi *lsi = NULL;
    json_object *ext = NULL, *result = NULL;
    char old[40];

    pthread_mutex_lock(&sw->db_mutex);
    int error = find_bridge(sw, spec->name, old, sizeof old, &ext, NULL, err);
    bool replace = !error;
    if (error == -ENOENT)
        error = 0;
    if (error)
        goto unlock;
    if (replace && !bridge_is_ours(ext, role, spec)) {
        const char *r = map_get(ext, "corch-role");
        const char *g = map_get(ext, "corch-graph");
        error = corch_err_setk(err, CORCH_ERR_CONFLICT, -EEXIST, NULL,
                               "ovs: bridge %s exists and is not ours to "
                               "replace (corch-role=%s, corch-graph=%s)",
                               spec->name, r ? r : "none", g ? g : "none");
        goto unlock;
    }

    /* One transaction: the leftover of ours out, the new bridge in. */
    json_object *ops = json_object_new_array();
    if (replace) {
        ops_bridge_delete(ops, old);
        LOG_WARN("replacing leftover bridge %s", spec->name);
    }
    ops_add_bridge(sw, ops, spec->name,
                   spec->learning ? identity_group(spec->group)
                                  : identity(role, spec->graph_id, NULL, NULL),
                   0);
    error = db_transact(sw, ops, true, &result, err);
    if (error) {
        undo_committed(sw, result, replace ? 1 : 0, NULL, NULL, 0);
        goto unlock;
    }
    lsi = lsi_new(sw, spec->name, "", spec->graph_id, false);
    result_uuid(result, replace ? 1 : 0, lsi->uuid, sizeof lsi->uuid);
    pthread_mutex_unlock(&sw->db_mutex);

    /* Its flows: none left by the bridge it replaces, NORMAL if it
     * learns. */
    if (replace && (error = flush_flows(lsi, err)))
        goto destroy;
    if (spec->learning && (error = install_normal(lsi, err)))
        goto destroy;
    goto done;

unlock:
    pthread_mutex_unlock(&sw->db_mutex);
    goto done;
destroy:
    ovs_lsi_destroy(vs, lsi);
    lsi = NULL;
done:
    json_object_put(ext);
    json_object_put(result);
    if (error)
        return error;
    *ret_lsi = lsi;
    return 0;
}

static void
ovs_lsi_destroy(struct vswitch *vs, struct ovs_lsi *lsi)
{
    struct ovs_switch *sw = ovs_cast(vs);
    if (!lsi)
        return;
    /* Flows first: the bridge's removal is not waited for (ovs-vswitchd
     * takes tens of ms to tear a bridge down), and a bridge of the same
     * name created meanwhile could otherwise inherit them. */
    struct corch_err ferr = { 0 };
    int ferror = flush_flows(lsi, &ferr);
    if (ferror == -ENOENT || ferror == -ECONNREFUSED)
        LOG_DBG("%s: no management socket, bridge already gone", lsi->up.name);
    else if (ferror)
        LOG_WARN("could not flush the flows of %s: %s", lsi->up.name,
                 ferr.msg);
    pthread_mutex_lock(&sw->db_mutex);
    json_object *ops = json_object_new_array();
    json_object *elems = json_object_new_array();
    json_object_array_add(elems, ovsdb_uuid(lsi->uuid));
    json_object_array_add(ops, op_mutate_set("Open_vSwitch",
                                             json_object_new_array(),
                                             "bridges", "delete", elems));
    /* The far ends of our vlinks go too: a patch port without its peer is
     * litter on LSI-0. */
    for (struct ovs_port *p = lsi->ports; p; p = p->next) {
        if (!p->peer)
            continue;
        elems = json_object_new_array();
        json_object_array_add(elems, ovsdb_uuid(p->peer->uuid));
        json_object_array_add(ops, op_mutate_set("Bridge",
                                                 where_uuid(p->peer->lsi->uuid),
                                                 "ports", "delete", elems));
    }
    /* With patch ports only, committed to OVSDB is enough: ovs-vswitchd
     * tears the bridge down in the background (tens of ms) and any later
     * configuration waits for it anyway.  A port with a device (veth,
     * internal, tunnel) is waited for, so that the device is gone (a
     * host-stack address with it) and its name free when we return. */
    bool wait = false;
    for (struct ovs_port *p = lsi->ports; p; p = p->next)
        wait |= p->kind != OVS_PORT_VLINK;
    struct corch_err err = { 0 };
    if (db_transact(sw, ops, wait, NULL, &err))
        LOG_WARN("could not remove bridge %s: %s", lsi->up.name, err.msg);
    for (struct ovs_port *p = lsi->ports; p; p = p->next)
        port_release_devices(p);
    LOG_DBG("bridge %s destroyed", lsi->up.name);
    lsi_free(lsi);
    pthread_mutex_unlock(&sw->db_mutex);
}

/* Looks up the Port rows named names[i] (any bridge) and decides, from the
 * identity recorded on each, what may happen to the name: a port that
 * carries role 'role' and owner graph graph_ids[i] (an earlier run of c-orch
 * left it: its graph is deployed again over what the switch kept) is ours
 * to replace, and its uuid goes into 'reclaim' (an OVSDB set's elements);
 * any other port of that name is not ours: -EEXIST, kind
 * CORCH_ERR_CONFLICT, naming it and its owner.  db_mutex held. */
static int
claim_port_names(struct ovs_switch *sw, const char *const *names, size_t n,
                 const char *role,
                 const char *const *graph_ids, json_object *reclaim,
                 struct corch_err *err)
{
    json_object *ops = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *sel = op_new("select", "Port");
        json_object_object_add(sel, "where",
                               ovsdb_where_eq("name",
                                              json_object_new_string(names[i])));
        json_object *cols = json_object_new_array();
        json_object_array_add(cols, json_object_new_string("_uuid"));
        json_object_array_add(cols, json_object_new_string("external_ids"));
        json_object_object_add(sel, "columns", cols);
        json_object_array_add(ops, sel);
    }
    json_object *result = NULL;
    int error = db_transact(sw, ops, false, &result, err);
    for (size_t i = 0; !error && i < n; i++) {
        json_object *rows, *u, *ext = NULL;
        if (!json_object_object_get_ex(json_object_array_get_idx(result, i),
                                       "rows", &rows))
            continue;
        json_object *row = json_object_array_get_idx(rows, 0);
        if (!row || !json_object_object_get_ex(row, "_uuid", &u)
            || !ovsdb_uuid_str(u))
            continue;
        json_object_object_get_ex(row, "external_ids", &ext);
        const char *r = ext ? map_get(ext, "corch-role") : NULL;
        const char *g = ext ? map_get(ext, "corch-graph") : NULL;
        if (r && g && graph_ids && graph_ids[i] && !strcmp(r, role)
            && !strcmp(g, graph_ids[i])) {
            LOG_WARN("replacing port %s, left by an earlier run for graph %s",
                     names[i], g);
            json_object_array_add(reclaim, ovsdb_uuid(ovsdb_uuid_str(u)));
        } else {
            error = corch_err_setk(err, CORCH_ERR_CONFLICT, -EEXIST, NULL,
                                   "ovs: port %s exists and is not ours to "
                                   "replace (corch-role=%s, corch-graph=%s)",
                                   names[i], r ? r : "none", g ? g : "none");
        }
    }
    json_object_put(result);
    return error;
}

/* Removes the ports 'elems' (an OVSDB set's elements, consumed) from
 * whichever bridge holds them.  db_mutex held. */
static int
remove_port_uuids(struct ovs_switch *sw, json_object *elems,
                  struct corch_err *err)
{
    if (!json_object_array_length(elems)) {
        json_object_put(elems);
        return 0;
    }
    json_object *ops = json_object_new_array();
    /* Every bridge: deleting a uuid a set does not hold is a no-op. */
    json_object_array_add(ops, op_mutate_set("Bridge", json_object_new_array(),
                                             "ports", "delete", elems));
    return db_transact(sw, ops, false, NULL, err);
}

/* After an insert failed: if one of 'names' is taken (a port the check
 * before did not see, or a port type without one), says so with kind
 * CORCH_ERR_CONFLICT instead of OVSDB's constraint message.  db_mutex
 * held. */
static int
explain_taken_names(struct ovs_switch *sw, const char *const *names, size_t n,
                    int error,
                    struct corch_err *err)
{
    json_object *none = json_object_new_array();
    struct corch_err cerr = { 0 };
    int cerror = claim_port_names(sw, names, n, "", NULL, none, &cerr);
    json_object_put(none);
    if (cerror == -EEXIST) {
        *err = cerr;
        return cerror;
    }
    return error;
}

static int
ovs_vlinks_create(struct vswitch *vs, struct ovs_lsi *a,
                  struct ovs_lsi *b,
                  const struct vswitch_vlink_spec *specs, size_t n,
                  struct ovs_port **ret_a, struct ovs_port **ret_b,
                  struct corch_err *err)
{
    struct ovs_switch *sw = ovs_cast(vs);
    if (!n)
        return 0;
    /* End e of link i is names[2 * i + e], owned by owners[2 * i + e]. */
    const char **names = xcalloc(2 * n, sizeof *names);
    const char **owners = xcalloc(2 * n, sizeof *owners);
    struct ovs_port **made = xcalloc(2 * n, sizeof *made);
    uint32_t *ofp = xcalloc(2 * n, sizeof *ofp);
    json_object *result = NULL;
    int error = 0;
    for (size_t k = 0; k < 2 * n; k++) {
        names[k] = k % 2 ? specs[k / 2].b_name : specs[k / 2].a_name;
        owners[k] = specs[k / 2].graph_id;
        if (!names[k] || !name_is_valid_ifname(names[k])) {
            error = corch_err_set(err, -EINVAL, NULL, "ovs: bad vlink end "
                                  "name \"%s\"", names[k] ? names[k] : "");
            goto out;
        }
    }

    pthread_mutex_lock(&sw->db_mutex);
    /* A name of ours from an earlier run (LSI-0 keeps the vlink ends of
     * graphs whose graph-LSI a restart replaced) is freed; any other
     * port of that name is a conflict, never removed. */
    json_object *reclaim = json_object_new_array();
    error = claim_port_names(sw, names, 2 * n, "vlink", owners, reclaim, err);
    if (error) {
        json_object_put(reclaim);
        goto unlock;
    }
    if ((error = remove_port_uuids(sw, reclaim, err)))
        goto unlock;

    /* One transaction: the patch ports, each end on its bridge. */
    json_object *ops = json_object_new_array();
    json_object *ea = json_object_new_array(), *eb = json_object_new_array();
    for (size_t k = 0; k < 2 * n; k++) {
        char tag[24], pname[24];
        snprintf(tag, sizeof tag, "%zu%c", k / 2, k % 2 ? 'b' : 'a');
        snprintf(pname, sizeof pname, "p%s", tag);
        const char *opt[] = { "peer", names[k ^ 1] };
        ops_add_port(ops, tag, names[k], "patch", ovsdb_map(opt, 1),
                     identity("vlink", owners[k], NULL, NULL));
        json_object_array_add(k % 2 ? eb : ea, ovsdb_named_uuid(pname));
    }
    json_object_array_add(ops, op_mutate_set("Bridge", where_uuid(a->uuid),
                                             "ports", "insert", ea));
    json_object_array_add(ops, op_mutate_set("Bridge", where_uuid(b->uuid),
                                             "ports", "insert", eb));
    error = db_transact(sw, ops, true, &result, err);
    if (error && !result) {
        error = explain_taken_names(sw, names, 2 * n, error, err);
        goto unlock;
    }
    if (error) {
        /* Committed but not applied in time: take the rows back. */
        size_t *idx = xcalloc(2 * n, sizeof *idx);
        const char **brs = xcalloc(2 * n, sizeof *brs);
        for (size_t k = 0; k < 2 * n; k++) {
            idx[k] = 2 * k + 1;
            brs[k] = k % 2 ? b->uuid : a->uuid;
        }
        undo_committed(sw, result, -1, idx, brs, 2 * n);
        free(idx);
        free(brs);
        goto unlock;
    }
    for (size_t k = 0; k < 2 * n; k++) {
        made[k] = port_new(k % 2 ? b : a, names[k], OVS_PORT_VLINK);
        result_uuid(result, 2 * k + 1, made[k]->uuid, sizeof made[k]->uuid);
    }
    for (size_t i = 0; i < n; i++) {
        made[2 * i]->peer = made[2 * i + 1];
        made[2 * i + 1]->peer = made[2 * i];
    }

    /* The port numbers, once ovs-vswitchd has the ports. */
    if ((error = fetch_ofports(sw, names, 2 * n, ofp, err)))
        goto remove_ports;
    for (size_t k = 0; k < 2 * n; k++)
        made[k]->ofport = ofp[k];
    for (size_t i = 0; i < n; i++) {
        ret_a[i] = made[2 * i];
        ret_b[i] = made[2 * i + 1];
    }
    goto unlock;

remove_ports:
    remove_port_rows(made, 2 * n);
    for (size_t k = 0; k < 2 * n; k++)
        port_free(made[k]);
unlock:
    pthread_mutex_unlock(&sw->db_mutex);
out:
    json_object_put(result);
    free(names);
    free(owners);
    free(made);
    free(ofp);
    return error;
}

/* The SF end of a veth pair whose switch end is 'name'. */
static void
veth_peer_name(const char *name, char *buf, size_t size)
{
    if (strlen(name) <= 13) {
        snprintf(buf, size, "%s-s", name);
    } else {
        uint32_t h = 2166136261u;
        for (const char *s = name; *s; s++)
            h = (h ^ (uint8_t) *s) * 16777619u;
        snprintf(buf, size, "vsf%08x", h);
    }
}

/* Adds one port of 'type' to 'lsi' in one transaction, waits for OVS and
 * reads its number.  Undoes the row on failure.  db_mutex held. */
static int
add_one_port(struct ovs_lsi *lsi, const char *name, const char *type,
             json_object *options, json_object *ext, enum ovs_port_kind kind,
             struct ovs_port **ret_port, struct corch_err *err)
{
    struct ovs_switch *sw = lsi->sw;
    json_object *ops = json_object_new_array();
    ops_add_port(ops, "0", name, type, options, ext);
    json_object *elems = json_object_new_array();
    json_object_array_add(elems, ovsdb_named_uuid("p0"));
    json_object_array_add(ops, op_mutate_set("Bridge", where_uuid(lsi->uuid),
                                             "ports", "insert", elems));
    json_object *result = NULL;
    int error = db_transact(sw, ops, true, &result, err);
    if (error) {
        const size_t idx[] = { 1 };
        const char *brs[] = { lsi->uuid };
        undo_committed(sw, result, -1, idx, brs, 1);
        if (!result)
            error = explain_taken_names(sw, &name, 1, error, err);
        json_object_put(result);
        return error;
    }
    struct ovs_port *p = port_new(lsi, name, kind);
    result_uuid(result, 1, p->uuid, sizeof p->uuid);
    json_object_put(result);
    const char *names[] = { name };
    error = fetch_ofports(sw, names, 1, &p->ofport, err);
    if (error) {
        remove_port_rows(&p, 1);
        port_free(p);
        return error;
    }
    *ret_port = p;
    return 0;
}

/* The identity of a veth's switch end, kept in its alias: the kernel has
 * no external_ids, and the bridge that held its Port row may be gone (a
 * restart replaces a graph's bridge and deploys the graph again). */
static void
veth_identity(const struct vswitch_port_spec *spec, char *buf, size_t size)
{
    snprintf(buf, size, "corch:%s", spec->graph_id ? spec->graph_id : "");
}

/* Reads (into 'get') and / or sets ('set') the alias of device 'name'. */
static int
link_alias(const char *name, const char *set, char *get, size_t size)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return -ENOMEM;
    struct rtnl_link *link = NULL;
    int error = nl_connect(sk, NETLINK_ROUTE) ? -EIO : 0;
    if (!error && rtnl_link_get_kernel(sk, 0, name, &link) < 0)
        error = -ENODEV;
    if (!error && get) {
        const char *a = rtnl_link_get_ifalias(link);
        snprintf(get, size, "%s", a ? a : "");
    }
    if (!error && set) {
        struct rtnl_link *chg = rtnl_link_alloc();
        rtnl_link_set_ifalias(chg, set);
        if (rtnl_link_change(sk, link, chg, 0) < 0)
            error = -EIO;
        rtnl_link_put(chg);
    }
    if (link)
        rtnl_link_put(link);
    nl_socket_free(sk);
    return error;
}

/* Records our identity on the veth 'name' just made; on failure the pair
 * goes again (a veth we could not mark would be a conflict at the next
 * restart). */
static int
mark_veth(const char *name, const char *identity_text, struct corch_err *err)
{
    int error = link_alias(name, identity_text, NULL, 0);
    if (error) {
        netlink_link_delete(name);
        return corch_err_set(err, error, NULL, "ovs: cannot set the alias "
                             "of veth %s: %s", name, strerror(-error));
    }
    return 0;
}

/* Checks an SF port spec and makes its device: for a veth, the pair,
 * the SF end in the SF's namespace if the spec offers one (*ret_in_netns)
 * or next to ours as 'peer'.  On failure nothing is left. */
static int
sf_port_device(struct ovs_switch *sw, const struct vswitch_port_spec *spec,
               char peer[16],
               bool *ret_in_netns, struct corch_err *err)
{
    peer[0] = '\0';
    *ret_in_netns = false;
    if (!name_is_valid_ifname(spec->name))
        return corch_err_set(err, -EINVAL, NULL, "ovs: bad port name \"%s\"",
                             spec->name);
    /* tap: OVS opens the tap itself, but only the userspace datapath can
     * take an Interface of type "tap". */
    bool tap_ok = spec->tech == VSWITCH_PORT_TAP
                  && !strcmp(sw->datapath_type, "netdev");
    if (spec->tech != VSWITCH_PORT_VETH && spec->tech != VSWITCH_PORT_INTERNAL
        && !tap_ok)
        return corch_err_set(err, -EOPNOTSUPP, NULL,
                             "ovs: %s ports are not supported%s",
                             spec->tech == VSWITCH_PORT_TAP ? "tap"
                                                            : "vhost-user",
                             spec->tech == VSWITCH_PORT_TAP
                             ? " with the system datapath" : "");
    if (spec->tech != VSWITCH_PORT_VETH)
        return 0;
    int error;
    /* A device of that name is replaced only if it is provably ours: one
     * an earlier run of c-orch made for the same graph (graphs stay
     * deployed across a restart, which deploys them again); anything else
     * is a conflict, left alone. */
    char want[128];
    veth_identity(spec, want, sizeof want);
    if (netlink_link_exists(spec->name)) {
        char have[256] = "";
        link_alias(spec->name, NULL, have, sizeof have);
        if (strcmp(have, want))
            return corch_err_setk(err, CORCH_ERR_CONFLICT, -EEXIST, NULL,
                                  "ovs: device %s exists and is not ours to "
                                  "replace (alias \"%s\")", spec->name,
                                  have);
        LOG_WARN("replacing device %s, left by an earlier run for graph %s",
                 spec->name, spec->graph_id ? spec->graph_id : "");
        netlink_link_delete(spec->name);
    }
    /* The SF end straight into the SF's namespace when the engine offers
     * one: no device move later (docs/native-engine.md). */
    bool in_netns = spec->sf_netns_path && spec->sf_ifname
                    && name_is_valid_ifname(spec->sf_ifname);
    if (in_netns) {
        _cleanup_close_ int nsfd = open(spec->sf_netns_path,
                                        O_RDONLY | O_CLOEXEC);
        snprintf(peer, 16, "%s", spec->sf_ifname);
        error = nsfd < 0 ? -errno
                : netlink_veth_create_in_netns(spec->name, peer, nsfd);
        if (error) {
            peer[0] = '\0';
            return corch_err_set(err, error, NULL,
                                 "ovs: cannot create veth %s/%s in %s: %s",
                                 spec->name, spec->sf_ifname,
                                 spec->sf_netns_path, strerror(-error));
        }
        if ((error = mark_veth(spec->name, want, err))) {
            peer[0] = '\0';
            return error;
        }
        /* The userspace datapath does not fill in checksums; the SF end
         * is the engine's to tune, in its namespace. */
        if (!strcmp(sw->datapath_type, "netdev"))
            netlink_link_tx_offload_off(spec->name);
        *ret_in_netns = true;
        return 0;
    }
    if (spec->sf_peer_name && name_is_valid_ifname(spec->sf_peer_name))
        snprintf(peer, 16, "%s", spec->sf_peer_name);
    else
        veth_peer_name(spec->name, peer, 16);
    error = netlink_veth_create(spec->name, peer);
    if (error) {
        corch_err_set(err, error, NULL, "ovs: cannot create veth %s/%s: %s",
                      spec->name, peer, strerror(-error));
        peer[0] = '\0';
        return error;
    }
    if ((error = mark_veth(spec->name, want, err))) {
        peer[0] = '\0';
        return error;
    }
    /* The userspace datapath does not fill in checksums. */
    if (!strcmp(sw->datapath_type, "netdev")) {
        netlink_link_tx_offload_off(spec->name);
        netlink_link_tx_offload_off(peer);
    }
    return 0;
}

static const char *
sf_port_type(const struct vswitch_port_spec *spec)
{
    return spec->tech == VSWITCH_PORT_VETH ? NULL
           : spec->tech == VSWITCH_PORT_TAP ? "tap" : "internal";
}

static void
sf_port_info(const struct vswitch_port_spec *spec, const char *peer,
             bool in_netns, const struct ovs_port *p,
             struct vswitch_port_info *ret_info)
{
    memset(ret_info, 0, sizeof *ret_info);
    snprintf(ret_info->sf_ifname, sizeof ret_info->sf_ifname, "%s",
             peer[0] ? peer : spec->name);
    ret_info->ofport = p->ofport;
    ret_info->sf_in_netns = in_netns;
}

static int
ovs_port_create(struct vswitch *vs, struct ovs_lsi *lsi,
                const struct vswitch_port_spec *spec,
                struct ovs_port **ret_port,
                struct vswitch_port_info *ret_info, struct corch_err *err)
{
    struct ovs_switch *sw = ovs_cast(vs);
    char peer[16];
    bool in_netns;
    int error = sf_port_device(sw, spec, peer, &in_netns, err);
    if (error)
        return error;
    struct ovs_port *p = NULL;
    pthread_mutex_lock(&sw->db_mutex);
    error = add_one_port(lsi, spec->name, sf_port_type(spec), NULL,
                         identity("sf", spec->graph_id, spec->sf_id,
                                  spec->sf_port_id),
                         spec->tech == VSWITCH_PORT_VETH ? OVS_PORT_VETH
                                                          : OVS_PORT_INTERNAL,
                         &p, err);
    if (!error)
        snprintf(p->veth_peer, sizeof p->veth_peer, "%s", peer);
    pthread_mutex_unlock(&sw->db_mutex);
    if (error) {
        if (peer[0])
            netlink_link_delete(spec->name);
        return error;
    }
    sf_port_info(spec, peer, in_netns, p, ret_info);
    *ret_port = p;
    return 0;
}

/* All the ports in one OVSDB transaction and one wait for ovs-vswitchd:
 * it reconfigures every port of the node per transaction. */
static int
ovs_ports_create(struct vswitch *vs, struct ovs_lsi *lsi,
                 const struct vswitch_port_spec *specs,
                 size_t n, struct ovs_port **ret_ports,
                 struct vswitch_port_info *ret_infos, struct corch_err *err)
{
    struct ovs_switch *sw = ovs_cast(vs);
    if (!n)
        return 0;
    char (*peers)[16] = xcalloc(n, sizeof *peers);
    bool *in_netns = xcalloc(n, sizeof *in_netns);
    const char **names = xcalloc(n, sizeof *names);
    struct ovs_port **made = xcalloc(n, sizeof *made);
    size_t *idx = xcalloc(n, sizeof *idx);
    const char **brs = xcalloc(n, sizeof *brs);
    uint32_t *ofports = xcalloc(n, sizeof *ofports);
    json_object *result = NULL;
    size_t n_dev = 0;
    int error = 0;
    uint64_t t0 = time_ns(), t1 = 0, t2 = 0;

    for (; n_dev < n; n_dev++) {
        error = sf_port_device(sw, &specs[n_dev], peers[n_dev],
                               &in_netns[n_dev],
                               err);
        if (error) {
            corch_err_prefix(err, "sf '%s' port '%s'",
                             specs[n_dev].sf_id ? specs[n_dev].sf_id : "",
                             specs[n_dev].sf_port_id
                             ? specs[n_dev].sf_port_id : "");
            goto out;
        }
    }

    pthread_mutex_lock(&sw->db_mutex);
    t1 = time_ns();
    json_object *ops = json_object_new_array();
    json_object *elems = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        char tag[24], pname[24];
        snprintf(tag, sizeof tag, "%zu", i);
        snprintf(pname, sizeof pname, "p%zu", i);
        ops_add_port(ops, tag, specs[i].name, sf_port_type(&specs[i]), NULL,
                     identity("sf", specs[i].graph_id, specs[i].sf_id,
                              specs[i].sf_port_id));
        json_object_array_add(elems, ovsdb_named_uuid(pname));
        names[i] = specs[i].name;
        idx[i] = 2 * i + 1;
        brs[i] = lsi->uuid;
    }
    json_object_array_add(ops, op_mutate_set("Bridge", where_uuid(lsi->uuid),
                                             "ports", "insert", elems));
    error = db_transact(sw, ops, true, &result, err);
    if (error) {
        undo_committed(sw, result, -1, idx, brs, n);
        if (!result)
            error = explain_taken_names(sw, names, n, error, err);
        pthread_mutex_unlock(&sw->db_mutex);
        goto out;
    }
    t2 = time_ns();
    for (size_t i = 0; i < n; i++) {
        made[i] = port_new(lsi, specs[i].name,
                           specs[i].tech == VSWITCH_PORT_VETH
                           ? OVS_PORT_VETH : OVS_PORT_INTERNAL);
        result_uuid(result, 2 * i + 1, made[i]->uuid, sizeof made[i]->uuid);
        snprintf(made[i]->veth_peer, sizeof made[i]->veth_peer, "%s",
                 peers[i]);
    }
    error = fetch_ofports(sw, names, n, ofports, err);
    if (error) {
        remove_port_rows(made, n);
        for (size_t i = 0; i < n; i++)
            port_free(made[i]);
        pthread_mutex_unlock(&sw->db_mutex);
        goto out;
    }
    pthread_mutex_unlock(&sw->db_mutex);
    for (size_t i = 0; i < n; i++) {
        made[i]->ofport = ofports[i];
        sf_port_info(&specs[i], peers[i], in_netns[i], made[i], &ret_infos[i]);
        ret_ports[i] = made[i];
    }
    LOG_DBG("%s: %zu SF ports: devices %.1f ms, one OVSDB transaction "
            "(with ovs-vswitchd's reconfiguration) %.1f ms, port numbers "
            "%.1f ms", lsi->up.name, n, (t1 - t0) / 1e6, (t2 - t1) / 1e6,
            (time_ns() - t2) / 1e6);

out:
    if (error)
        for (size_t i = 0; i < n_dev; i++)
            if (peers[i][0])
                netlink_link_delete(specs[i].name);
    json_object_put(result);
    free(peers);
    free(in_netns);
    free(names);
    free(made);
    free(idx);
    free(brs);
    free(ofports);
    return error;
}

/* Puts the host-stack SAP's address on its internal port and sets it up. */
static int
host_stack_configure(const char *name, const struct flow_ip *ip)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return -ENOMEM;
    int error = nl_connect(sk, NETLINK_ROUTE) ? -EIO : 0;
    unsigned int ifindex = if_nametoindex(name);
    if (!error && !ifindex)
        error = -ENODEV;
    if (!error) {
        struct rtnl_addr *a = rtnl_addr_alloc();
        struct nl_addr *local = nl_addr_build(AF_INET, ip->addr, 4);
        nl_addr_set_prefixlen(local, ip->plen);
        rtnl_addr_set_ifindex(a, (int) ifindex);
        rtnl_addr_set_local(a, local);
        int r = rtnl_addr_add(sk, a, 0);
        if (r < 0 && r != -NLE_EXIST)
            error = -EIO;
        nl_addr_put(local);
        rtnl_addr_put(a);
    }
    nl_socket_free(sk);
    if (!error)
        error = netlink_link_set_up(name, true);
    return error;
}

static int
ovs_sap_create(struct vswitch *vs, struct ovs_lsi *lsi,
               const struct vswitch_sap_spec *sap,
               struct ovs_port **ret_port, struct corch_err *err)
{
    struct ovs_switch *sw = ovs_cast(vs);
    const char *name = sap->name;
    if (!name_is_valid_ifname(name))
        return corch_err_set(err, -EINVAL, NULL, "ovs: bad port name \"%s\"",
                             name);
    json_object *options = NULL;
    const char *type;
    enum ovs_port_kind kind;
    if (sap->type == VSWITCH_SAP_GRE) {
        if (!sw->have_gre)
            return corch_err_set(err, -EOPNOTSUPP, NULL,
                                 "ovs: this switch has no gre tunnels");
        char remote[INET6_ADDRSTRLEN] = "", local[INET6_ADDRSTRLEN] = "";
        char key[16] = "";
        inet_ntop(sap->remote_ip.family, sap->remote_ip.addr, remote,
                  sizeof remote);
        if (sap->local_ip.family)
            inet_ntop(sap->local_ip.family, sap->local_ip.addr, local,
                      sizeof local);
        if (sap->has_gre_key)
            snprintf(key, sizeof key, "%u", sap->gre_key);
        const char *kv[] = { "remote_ip", remote,
                             "local_ip", local[0] ? local : NULL,
                             "key", key[0] ? key : NULL };
        options = ovsdb_map(kv, 3);
        /* An IPv6 underlay is OVS's "ip6gre" port type. */
        type = sap->remote_ip.family == AF_INET6 ? "ip6gre" : "gre";
        kind = OVS_PORT_GRE;
    } else if (sap->type == VSWITCH_SAP_HOST_STACK) {
        if (sap->ipv4.family != AF_INET)
            return corch_err_set(err, -EINVAL, NULL,
                                 "ovs: host-stack SAP %s needs an IPv4 "
                                 "address", sap->sap_id);
        type = "internal";
        kind = OVS_PORT_HOST_STACK;
    } else {
        return corch_err_setk(err, CORCH_ERR_UNSUPPORTED, -EOPNOTSUPP, NULL,
                              "ovs: SAP type %d is not made by sap_create",
                              (int) sap->type);
    }
    struct ovs_port *p = NULL;
    pthread_mutex_lock(&sw->db_mutex);
    int error = add_one_port(lsi, name, type, options,
                             identity("sap", sap->graph_id, NULL, sap->sap_id),
                             kind,
                             &p, err);
    if (!error && kind == OVS_PORT_HOST_STACK) {
        error = host_stack_configure(name, &sap->ipv4);
        if (error) {
            corch_err_set(err, error, NULL, "ovs: cannot configure host-"
                          "stack port %s: %s", name, strerror(-error));
            remove_port_rows(&p, 1);
            port_free(p);
        }
    }
    pthread_mutex_unlock(&sw->db_mutex);
    if (error)
        return error;
    *ret_port = p;
    return 0;
}

static void
ovs_port_destroy(struct vswitch *vs, struct ovs_port *port)
{
    struct ovs_switch *sw = ovs_cast(vs);
    if (!port || port->kind == OVS_PORT_PHYS)
        return;
    pthread_mutex_lock(&sw->db_mutex);
    struct ovs_port *ports[2] = { port, port->peer };
    remove_port_rows(ports, port->peer ? 2 : 1);
    port_release_devices(port);
    if (port->peer)
        port_free(port->peer);
    port_free(port);
    pthread_mutex_unlock(&sw->db_mutex);
}

/* The flow_mod of a rule.  'acts' has room for the rule's actions. */
static void
rule_to_flow(const struct vswitch_rule *r, bool del, struct ofp_action *acts,
             struct ofp_flow *f)
{
    memset(f, 0, sizeof *f);
    f->priority = r->priority;
    f->has_in_port = r->in_port != NULL;
    f->in_port = port_no(r->in_port);
    f->match = &r->match;
    f->cookie = r->cookie;
    if (del) {
        /* Strict: exactly this rule, and only if it is this graph's. */
        f->command = OFPFC_DELETE_STRICT;
        f->cookie_mask = 0xffffffff00000000ull;
    } else {
        f->command = OFPFC_ADD;
    }
    for (size_t i = 0; i < r->n_actions; i++) {
        const struct vswitch_action *a = &r->actions[i];
        struct ofp_action *o = &acts[i];
        memset(o, 0, sizeof *o);
        switch (a->type) {
        case VSWITCH_ACT_OUTPUT:
            o->kind = OFP_ACT_OUTPUT;
            /* Output to the input port must be explicit in OpenFlow. */
            o->port = a->u.port == r->in_port ? OFPP_IN_PORT
                                              : port_no(a->u.port);
            break;
        case VSWITCH_ACT_PUSH_VLAN:
            o->kind = OFP_ACT_PUSH_VLAN;
            o->vlan_id = a->u.vlan_id;
            break;
        case VSWITCH_ACT_POP_VLAN:
            o->kind = OFP_ACT_POP_VLAN;
            break;
        case VSWITCH_ACT_SET_ETH_SRC:
        case VSWITCH_ACT_SET_ETH_DST:
            o->kind = a->type == VSWITCH_ACT_SET_ETH_SRC ? OFP_ACT_SET_ETH_SRC
                                                          : OFP_ACT_SET_ETH_DST;
            memcpy(o->mac, a->u.mac, 6);
            break;
        case VSWITCH_ACT_SET_IP_SRC:
        case VSWITCH_ACT_SET_IP_DST:
            o->kind = a->type == VSWITCH_ACT_SET_IP_SRC ? OFP_ACT_SET_IP_SRC
                                                         : OFP_ACT_SET_IP_DST;
            o->ip = a->u.ip;
            break;
        }
    }
    if (!del) {
        f->actions = acts;
        f->n_actions = r->n_actions;
    }
}

static int
ovs_rules_apply(struct vswitch *vs, struct ovs_lsi *lsi,
                const struct vswitch_rule_batch *b,
                struct corch_err *err)
{
    (void) vs;
    size_t n = b->n_del + b->n_add;
    if (!n)
        return 0;
    size_t n_acts = 0;
    for (size_t i = 0; i < b->n_add; i++)
        n_acts += b->add[i].n_actions;
    for (size_t i = 0; i < b->n_del; i++)
        n_acts += b->del[i].n_actions;
    struct ofp_flow *flows = xcalloc(n, sizeof *flows);
    struct ofp_action *acts = xcalloc(n_acts + 1, sizeof *acts);
    size_t k = 0, a = 0;
    for (size_t i = 0; i < b->n_del; i++, k++) {
        rule_to_flow(&b->del[i], true, acts + a, &flows[k]);
        a += b->del[i].n_actions;
    }
    for (size_t i = 0; i < b->n_add; i++, k++) {
        rule_to_flow(&b->add[i], false, acts + a, &flows[k]);
        a += b->add[i].n_actions;
    }
    size_t failed = SIZE_MAX;
    struct ofconn_result res;
    pthread_mutex_lock(&lsi->of_mutex);
    uint64_t t0 = time_ns();
    int error = of_apply(lsi, flows, n, &failed, &res, err);
    pthread_mutex_unlock(&lsi->of_mutex);
    if (error && failed != SIZE_MAX) {
        bool del = failed < b->n_del;
        const struct vswitch_rule *r = del ? &b->del[failed]
                                           : &b->add[failed - b->n_del];
        char where[96];
        snprintf(where, sizeof where, "%s[%zu] (cookie 0x%016llx)",
                 del ? "deletion" : "addition",
                 del ? failed : failed - b->n_del,
                 (unsigned long long) r->cookie);
        if (error == -EPROTO)
            corch_err_set(err, -EPROTO, NULL,
                          "ovs: %s refused rule %s: OpenFlow error %s/%s "
                          "(type %u, code %u); no rule of the batch applied",
                          lsi->up.name, where,
                          ofp_error_type_name(res.error.type),
                          ofp_error_code_name(res.error.type, res.error.code),
                          res.error.type, res.error.code);
        else
            corch_err_prefix(err, "rule %s", where);
    } else if (error == -EPROTO) {
        corch_err_set(err, -EPROTO, NULL,
                      "ovs: %s refused the batch: OpenFlow error %s/%s "
                      "(type %u, code %u, experimenter 0x%x); no rule applied",
                      lsi->up.name, ofp_error_type_name(res.error.type),
                      ofp_error_code_name(res.error.type, res.error.code),
                      res.error.type, res.error.code, res.error.experimenter);
    }
    if (!error)
        LOG_DBG("%s: %zu deletion(s), %zu addition(s) in %.3f ms",
                lsi->up.name, b->n_del, b->n_add, (time_ns() - t0) / 1e6);
    free(flows);
    free(acts);
    return error;
}

static bool
ovs_sap_supported(const struct vswitch *vs, enum graph_sap_type type)
{
    struct ovs_switch *sw = ovs_cast(vs);
    switch (type) {
    case GRAPH_SAP_INTERFACE:
    case GRAPH_SAP_VLAN:
    case GRAPH_SAP_HOST_STACK:
    case GRAPH_SAP_INTERNAL:
        return true;
    case GRAPH_SAP_GRE:
        return sw->have_gre;
    }
    return false;
}

/* The hooks, on the bases the core holds: each hands the driver's own
 * structs to the implementation above and the bases back. */

static int
hook_lsi0_open(struct vswitch *vs, const char *const *ifnames, size_t n,
               struct vswitch_lsi **ret_lsi0, struct corch_err *err)
{
    struct ovs_lsi *l = NULL;
    int error = ovs_lsi0_open(vs, ifnames, n, &l, err);
    if (!error)
        *ret_lsi0 = &l->up;
    return error;
}

static int
hook_lsi0_port(struct vswitch *vs, struct vswitch_lsi *lsi0,
               const char *ifname, struct vswitch_port **ret_port)
{
    struct ovs_port *p = NULL;
    int error = ovs_lsi0_port(vs, ovs_lsi_cast(lsi0), ifname, &p);
    if (!error)
        *ret_port = &p->up;
    return error;
}

static int
hook_lsi_create(struct vswitch *vs, const struct vswitch_lsi_spec *spec,
                struct vswitch_lsi **ret_lsi, struct corch_err *err)
{
    struct ovs_lsi *l = NULL;
    int error = ovs_lsi_create(vs, spec, &l, err);
    if (!error)
        *ret_lsi = &l->up;
    return error;
}

static void
hook_lsi_destroy(struct vswitch *vs, struct vswitch_lsi *lsi)
{
    ovs_lsi_destroy(vs, ovs_lsi_cast(lsi));
}

/* Shutdown: the bridge, its ports, their devices and its flows stay (a
 * restart finds them by name and external_ids); only the structs and the
 * OpenFlow connection go. */
static void
hook_lsi_release(struct vswitch *vs, struct vswitch_lsi *lsi)
{
    struct ovs_switch *sw = ovs_cast(vs);
    pthread_mutex_lock(&sw->db_mutex);
    LOG_DBG("bridge %s released", lsi->name);
    lsi_free(ovs_lsi_cast(lsi));
    pthread_mutex_unlock(&sw->db_mutex);
}

static int
hook_vlinks_create(struct vswitch *vs, struct vswitch_lsi *a,
                   struct vswitch_lsi *b,
                   const struct vswitch_vlink_spec *specs, size_t n,
                   struct vswitch_port **ret_a, struct vswitch_port **ret_b,
                   struct corch_err *err)
{
    struct ovs_port **pa = xcalloc(n + 1, sizeof *pa);
    struct ovs_port **pb = xcalloc(n + 1, sizeof *pb);
    int error = ovs_vlinks_create(vs, ovs_lsi_cast(a), ovs_lsi_cast(b), specs,
                                  n, pa, pb, err);
    for (size_t i = 0; !error && i < n; i++) {
        ret_a[i] = &pa[i]->up;
        ret_b[i] = &pb[i]->up;
    }
    free(pa);
    free(pb);
    return error;
}

static int
hook_port_create(struct vswitch *vs, struct vswitch_lsi *lsi,
                 const struct vswitch_port_spec *spec,
                 struct vswitch_port **ret_port,
                 struct vswitch_port_info *ret_info, struct corch_err *err)
{
    struct ovs_port *p = NULL;
    int error = ovs_port_create(vs, ovs_lsi_cast(lsi), spec, &p, ret_info,
                                err);
    if (!error)
        *ret_port = &p->up;
    return error;
}

static int
hook_ports_create(struct vswitch *vs, struct vswitch_lsi *lsi,
                  const struct vswitch_port_spec *specs, size_t n,
                  struct vswitch_port **ret_ports,
                  struct vswitch_port_info *ret_infos, struct corch_err *err)
{
    struct ovs_port **ps = xcalloc(n + 1, sizeof *ps);
    int error = ovs_ports_create(vs, ovs_lsi_cast(lsi), specs, n, ps,
                                 ret_infos, err);
    for (size_t i = 0; !error && i < n; i++)
        ret_ports[i] = &ps[i]->up;
    free(ps);
    return error;
}

static int
hook_sap_create(struct vswitch *vs, struct vswitch_lsi *lsi,
                const struct vswitch_sap_spec *spec,
                struct vswitch_port **ret_port, struct corch_err *err)
{
    struct ovs_port *p = NULL;
    int error = ovs_sap_create(vs, ovs_lsi_cast(lsi), spec, &p, err);
    if (!error)
        *ret_port = &p->up;
    return error;
}

static void
hook_port_destroy(struct vswitch *vs, struct vswitch_port *port)
{
    ovs_port_destroy(vs, ovs_port_cast(port));
}

/* Shutdown: the port rows, the veth (and its SF end) or tunnel stay; the
 * structs of both ends of a vlink go. */
static void
hook_port_release(struct vswitch *vs, struct vswitch_port *port)
{
    struct ovs_switch *sw = ovs_cast(vs);
    struct ovs_port *p = ovs_port_cast(port);
    if (p->kind == OVS_PORT_PHYS)
        return;                 /* LSI-0's, freed by close. */
    pthread_mutex_lock(&sw->db_mutex);
    if (p->peer)
        port_free(p->peer);
    port_free(p);
    pthread_mutex_unlock(&sw->db_mutex);
}

static int
hook_rules_apply(struct vswitch *vs, struct vswitch_lsi *lsi,
                 const struct vswitch_rule_batch *b, struct corch_err *err)
{
    return ovs_rules_apply(vs, ovs_lsi_cast(lsi), b, err);
}

static int
hook_rules_flush(struct vswitch *vs, struct vswitch_lsi *lsi,
                 uint64_t cookie, uint64_t mask, struct corch_err *err)
{
    return ovs_rules_flush(vs, ovs_lsi_cast(lsi), cookie, mask, err);
}

const struct vswitch_class vswitch_ovs_class = {
    .type = "ovs",
    .open = ovs_open,
    .close = ovs_close,
    .lsi0_open = hook_lsi0_open,
    .lsi0_port = hook_lsi0_port,
    .lsi_create = hook_lsi_create,
    .lsi_destroy = hook_lsi_destroy,
    .lsi_release = hook_lsi_release,
    .vlinks_create = hook_vlinks_create,
    .port_create = hook_port_create,
    .ports_create = hook_ports_create,
    .sap_create = hook_sap_create,
    .port_destroy = hook_port_destroy,
    .port_release = hook_port_release,
    .rules_apply = hook_rules_apply,
    .rules_flush = hook_rules_flush,
    .sap_supported = ovs_sap_supported,
};

uint32_t
vswitch_ovs_port_ofport(const struct vswitch_port *port)
{
    return ovs_port_cast(port)->ofport;
}
