/* OVSDB JSON-RPC client: see ovsdb.h. */
#include <config.h>
#include "ovsdb.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

LOG_MODULE(ovs_ovsdb);

#define OVSDB_DB "Open_vSwitch"
#define MONITOR_ID "corch-cfg"

struct ovsdb {
    int fd;                     /* Non-blocking unix stream socket. */
    json_tokener *tok;          /* Incremental parser: replies may arrive
                                 * in pieces or several per read. */
    int64_t next_id;            /* Next JSON-RPC request id. */
    int64_t cur_cfg;            /* Last Open_vSwitch.cur_cfg seen by the
                                 * monitor. */
    json_object *reply;         /* The reply being waited for, once it
                                 * arrived. */
    int64_t want_id;            /* Its id. */
};

json_object *
ovsdb_named_uuid(const char *name)
{
    json_object *a = json_object_new_array();
    json_object_array_add(a, json_object_new_string("named-uuid"));
    json_object_array_add(a, json_object_new_string(name));
    return a;
}

json_object *
ovsdb_uuid(const char *uuid)
{
    json_object *a = json_object_new_array();
    json_object_array_add(a, json_object_new_string("uuid"));
    json_object_array_add(a, json_object_new_string(uuid));
    return a;
}

json_object *
ovsdb_map(const char *const *kv, size_t n)
{
    json_object *pairs = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        if (!kv[2 * i + 1])
            continue;
        json_object *p = json_object_new_array();
        json_object_array_add(p, json_object_new_string(kv[2 * i]));
        json_object_array_add(p, json_object_new_string(kv[2 * i + 1]));
        json_object_array_add(pairs, p);
    }
    json_object *m = json_object_new_array();
    json_object_array_add(m, json_object_new_string("map"));
    json_object_array_add(m, pairs);
    return m;
}

json_object *
ovsdb_set(json_object *elems)
{
    json_object *s = json_object_new_array();
    json_object_array_add(s, json_object_new_string("set"));
    json_object_array_add(s, elems);
    return s;
}

json_object *
ovsdb_where_eq(const char *column, json_object *value)
{
    json_object *c = json_object_new_array();
    json_object_array_add(c, json_object_new_string(column));
    json_object_array_add(c, json_object_new_string("=="));
    json_object_array_add(c, value);
    json_object *w = json_object_new_array();
    json_object_array_add(w, c);
    return w;
}

const char *
ovsdb_uuid_str(json_object *v)
{
    if (!json_object_is_type(v, json_type_array)
        || json_object_array_length(v) != 2)
        return NULL;
    const char *tag = json_object_get_string(json_object_array_get_idx(v, 0));
    if (!tag || strcmp(tag, "uuid"))
        return NULL;
    return json_object_get_string(json_object_array_get_idx(v, 1));
}

static int
send_json(struct ovsdb *db, json_object *msg)
{
    size_t len;
    const char *s = json_object_to_json_string_length(
        msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    size_t ofs = 0;
    while (ofs < len) {
        ssize_t n = send(db->fd, s + ofs, len - ofs, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pfd = { .fd = db->fd, .events = POLLOUT };
                poll(&pfd, 1, 1000);
                continue;
            }
            return -errno;
        }
        ofs += (size_t) n;
    }
    return 0;
}

/* Picks cur_cfg out of a monitor update
 * {"Open_vSwitch": {"<uuid>": {"new": {"cur_cfg": N}}}}. */
static void
note_update(struct ovsdb *db, json_object *update)
{
    json_object *table;
    if (!json_object_object_get_ex(update, OVSDB_DB, &table))
        return;
    json_object_object_foreach(table, uuid, row) {
        (void) uuid;
        json_object *new, *cfg;
        if (json_object_object_get_ex(row, "new", &new)
            && json_object_object_get_ex(new, "cur_cfg", &cfg))
            db->cur_cfg = json_object_get_int64(cfg);
    }
}

/* Handles one message from the server. */
static int
handle_msg(struct ovsdb *db, json_object *msg)
{
    json_object *method, *id, *params;
    json_object_object_get_ex(msg, "id", &id);
    if (json_object_object_get_ex(msg, "method", &method)) {
        const char *m = json_object_get_string(method);
        json_object_object_get_ex(msg, "params", &params);
        if (!strcmp(m, "echo")) {
            /* The server's inactivity probe: answer or be dropped. */
            json_object *r = json_object_new_object();
            json_object_object_add(r, "id", json_object_get(id));
            json_object_object_add(r, "result", json_object_get(params));
            json_object_object_add(r, "error", NULL);
            int error = send_json(db, r);
            json_object_put(r);
            return error;
        }
        if (!strcmp(m, "update") && params
            && json_object_array_length(params) == 2)
            note_update(db, json_object_array_get_idx(params, 1));
        return 0;
    }
    if (id && json_object_is_type(id, json_type_int)
        && json_object_get_int64(id) == db->want_id && !db->reply)
        db->reply = json_object_get(msg);
    return 0;
}

/* Reads and handles what the server sent; waits up to 'wait_ms'. */
static int
pump(struct ovsdb *db, int wait_ms)
{
    struct pollfd pfd = { .fd = db->fd, .events = POLLIN };
    int r = poll(&pfd, 1, wait_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -errno;
    if (r == 0)
        return 0;
    char buf[16384];              /* Hooks may run on small stacks. */
    ssize_t n = read(db->fd, buf, sizeof buf);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    if (n == 0)
        return -ECONNRESET;
    size_t ofs = 0;
    while (ofs < (size_t) n) {
        json_object *msg = json_tokener_parse_ex(db->tok, buf + ofs,
                                                 (int) ((size_t) n - ofs));
        enum json_tokener_error jerr = json_tokener_get_error(db->tok);
        if (jerr == json_tokener_continue)
            break;              /* The tokener keeps the partial text. */
        if (jerr != json_tokener_success) {
            LOG_ERR("bad JSON from OVSDB: %s", json_tokener_error_desc(jerr));
            return -EPROTO;
        }
        ofs += json_tokener_get_parse_end(db->tok);
        json_tokener_reset(db->tok);
        if (!msg)
            continue;
        int error = handle_msg(db, msg);
        json_object_put(msg);
        if (error)
            return error;
    }
    return 0;
}

/* Sends a request and waits for its reply.  'params' is consumed. */
static int
call(struct ovsdb *db, const char *method, json_object *params,
     uint64_t deadline, json_object **ret_reply)
{
    json_object *req = json_object_new_object();
    int64_t id = db->next_id++;
    json_object_object_add(req, "method", json_object_new_string(method));
    json_object_object_add(req, "params", params);
    json_object_object_add(req, "id", json_object_new_int64(id));
    db->want_id = id;
    db->reply = NULL;
    int error = send_json(db, req);
    json_object_put(req);
    while (!error && !db->reply) {
        uint64_t now = time_ms();
        if (now >= deadline)
            return -ETIMEDOUT;
        error = pump(db, (int) (deadline - now));
    }
    if (error) {
        json_object_put(db->reply);
        db->reply = NULL;
        return error;
    }
    *ret_reply = db->reply;
    db->reply = NULL;
    return 0;
}

int
ovsdb_open(const char *remote, unsigned int timeout_ms,
           struct ovsdb **ret_db, struct corch_err *err)
{
    const char *path = !strncmp(remote, "unix:", 5) ? remote + 5 : remote;
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strchr(remote, ':') && strncmp(remote, "unix:", 5))
        return corch_err_set(err, -EINVAL, "vswitch.ovsdb",
                             "only unix: OVSDB remotes are supported: %s",
                             remote);
    if (strlen(path) >= sizeof sun.sun_path)
        return corch_err_set(err, -ENAMETOOLONG, "vswitch.ovsdb",
                             "socket path too long: %s", path);
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
        int error = -errno;
        close(fd);
        return corch_err_set(err, error, "vswitch.ovsdb",
                             "cannot connect to OVSDB at %s: %s", path,
                             strerror(-error));
    }
    struct ovsdb *db = xcalloc(1, sizeof *db);
    db->fd = fd;
    db->tok = json_tokener_new_ex(64);
    db->next_id = 1;
    db->cur_cfg = -1;

    /* Monitor cur_cfg: its initial value comes in the reply. */
    uint64_t deadline = time_ms() + timeout_ms;
    json_object *params = json_object_new_array();
    json_object_array_add(params, json_object_new_string(OVSDB_DB));
    json_object_array_add(params, json_object_new_string(MONITOR_ID));
    json_object *req = json_object_new_object();
    json_object *tbl = json_object_new_object();
    json_object *cols = json_object_new_array();
    json_object_array_add(cols, json_object_new_string("cur_cfg"));
    json_object_object_add(tbl, "columns", cols);
    json_object_object_add(req, OVSDB_DB, tbl);
    json_object_array_add(params, req);
    json_object *reply = NULL;
    int error = call(db, "monitor", params, deadline, &reply);
    json_object *result = NULL, *jerr = NULL;
    if (!error) {
        json_object_object_get_ex(reply, "result", &result);
        json_object_object_get_ex(reply, "error", &jerr);
        if (jerr || !result) {
            error = corch_err_set(err, -EPROTO, "vswitch.ovsdb",
                                  "OVSDB at %s refused the monitor: %s", path,
                                  json_object_to_json_string(jerr));
        } else {
            note_update(db, result);
        }
    } else {
        corch_err_set(err, error, "vswitch.ovsdb", "OVSDB at %s: %s", path,
                      strerror(-error));
    }
    json_object_put(reply);
    if (error) {
        ovsdb_close(db);
        return error;
    }
    *ret_db = db;
    return 0;
}

void
ovsdb_close(struct ovsdb *db)
{
    if (!db)
        return;
    close(db->fd);
    json_tokener_free(db->tok);
    json_object_put(db->reply);
    free(db);
}

/* The text of an operation's error, for the operator. */
static void
op_error(json_object *r, size_t i, struct corch_err *err)
{
    json_object *e, *d;
    const char *details = "";
    json_object_object_get_ex(r, "error", &e);
    if (json_object_object_get_ex(r, "details", &d))
        details = json_object_get_string(d);
    corch_err_set(err, -EIO, NULL, "OVSDB transaction failed at operation "
                  "%zu: %s%s%s", i, json_object_get_string(e),
                  *details ? ": " : "", details);
}

int
ovsdb_check(struct ovsdb *db)
{
    for (int i = 0; i < 64; i++) {
        struct pollfd pfd = { .fd = db->fd, .events = POLLIN };
        if (poll(&pfd, 1, 0) <= 0)
            return 0;
        int error = pump(db, 0);
        if (error)
            return error;
    }
    return 0;
}

int
ovsdb_transact(struct ovsdb *db, json_object *ops, bool wait_cfg,
               unsigned int timeout_ms, json_object **ret_result,
               struct corch_err *err)
{
    uint64_t deadline = time_ms() + timeout_ms;
    size_t n_ops = json_object_array_length(ops);
    if (wait_cfg) {
        /* next_cfg += 1, then read it back: the value to wait for. */
        json_object *mut = json_object_new_object();
        json_object_object_add(mut, "op", json_object_new_string("mutate"));
        json_object_object_add(mut, "table", json_object_new_string(OVSDB_DB));
        json_object_object_add(mut, "where", json_object_new_array());
        json_object *m = json_object_new_array();
        json_object_array_add(m, json_object_new_string("next_cfg"));
        json_object_array_add(m, json_object_new_string("+="));
        json_object_array_add(m, json_object_new_int(1));
        json_object *ms = json_object_new_array();
        json_object_array_add(ms, m);
        json_object_object_add(mut, "mutations", ms);
        json_object_array_add(ops, mut);
        json_object *sel = json_object_new_object();
        json_object_object_add(sel, "op", json_object_new_string("select"));
        json_object_object_add(sel, "table", json_object_new_string(OVSDB_DB));
        json_object_object_add(sel, "where", json_object_new_array());
        json_object *cols = json_object_new_array();
        json_object_array_add(cols, json_object_new_string("next_cfg"));
        json_object_object_add(sel, "columns", cols);
        json_object_array_add(ops, sel);
    }
    json_object *params = json_object_new_array();
    json_object_array_add(params, json_object_new_string(OVSDB_DB));
    for (size_t i = 0; i < json_object_array_length(ops); i++)
        json_object_array_add(params,
                              json_object_get(json_object_array_get_idx(ops, i)));
    json_object_put(ops);

    json_object *reply = NULL;
    int error = call(db, "transact", params, deadline, &reply);
    if (error)
        return corch_err_set(err, error, NULL, "OVSDB transact: %s",
                             strerror(-error));
    json_object *result = NULL, *jerr = NULL;
    json_object_object_get_ex(reply, "result", &result);
    json_object_object_get_ex(reply, "error", &jerr);
    if (jerr || !json_object_is_type(result, json_type_array)) {
        error = corch_err_set(err, -EIO, NULL, "OVSDB transact: %s",
                              json_object_to_json_string(jerr));
        goto out;
    }
    /* Per RFC 7047 4.1.3, the first failed operation has an "error"; a
     * commit failure adds one more element beyond the operations. */
    for (size_t i = 0; i < json_object_array_length(result); i++) {
        json_object *r = json_object_array_get_idx(result, i);
        if (r && json_object_object_get_ex(r, "error", NULL)) {
            op_error(r, i, err);
            error = -EIO;
            goto out;
        }
    }
    if (wait_cfg) {
        json_object *sel = json_object_array_get_idx(result, n_ops + 1);
        json_object *rows, *cfg;
        if (!json_object_object_get_ex(sel, "rows", &rows)
            || json_object_array_length(rows) != 1
            || !json_object_object_get_ex(json_object_array_get_idx(rows, 0),
                                          "next_cfg", &cfg)) {
            error = corch_err_set(err, -EPROTO, NULL,
                                  "OVSDB: no Open_vSwitch row");
            goto out;
        }
        int64_t want = json_object_get_int64(cfg);
        while (db->cur_cfg < want) {
            uint64_t now = time_ms();
            if (now >= deadline) {
                error = corch_err_set(err, -ETIMEDOUT, NULL,
                                      "ovs-vswitchd did not apply the "
                                      "configuration in %u ms (is it "
                                      "running?)", timeout_ms);
                goto out_committed;
            }
            error = pump(db, (int) (deadline - now));
            if (error) {
                corch_err_set(err, error, NULL, "OVSDB: %s", strerror(-error));
                goto out_committed;
            }
        }
    }
out_committed:
    /* Also after a failed wait: the caller must undo what was committed. */
    if (ret_result)
        *ret_result = json_object_get(result);
out:
    json_object_put(reply);
    return error;
}
