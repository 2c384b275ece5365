#include <config.h>
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

LOG_MODULE(store);

/* Every statement the store runs, prepared once and reused.  The SQL is
 * fixed text: client strings only ever reach SQLite as bound parameters. */
enum store_stmt {
    STMT_META_GET,
    STMT_META_SET,
    STMT_GRAPH_PUT,
    STMT_GRAPH_SET_STATUS,
    STMT_GRAPH_GET,
    STMT_GRAPH_DELETE,
    STMT_GRAPH_LIST,
    STMT_GRAPH_COUNT_OWNER,
    STMT_USER_PUT,
    STMT_USER_GET,
    STMT_USER_DELETE,
    STMT_USER_LIST,
    STMT_USER_COUNT,
    STMT_TOKEN_PUT,
    STMT_TOKEN_GET,
    STMT_TOKEN_DELETE,
    STMT_TOKEN_DELETE_USER,
    STMT_TOKEN_PURGE,
    STMT_N
};

static const char *const store_sql[STMT_N] = {
    [STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [STMT_META_SET] =
        "INSERT INTO meta (key, value) VALUES (?1, ?2) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    /* An upsert, not INSERT OR REPLACE: a replace keeps the creation time
     * of the graph it replaces. */
    [STMT_GRAPH_PUT] =
        "INSERT INTO graphs (id, owner, sffg, format, status, error, "
        "                    created, updated) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, "
        "  sffg = excluded.sffg, format = excluded.format, "
        "  status = excluded.status, error = excluded.error, "
        "  updated = excluded.updated",
    [STMT_GRAPH_SET_STATUS] =
        "UPDATE graphs SET status = ?2, error = ?3, updated = ?4 "
        "WHERE id = ?1",
    [STMT_GRAPH_GET] =
        "SELECT id, owner, sffg, format, status, error, created, updated "
        "FROM graphs WHERE id = ?1",
    [STMT_GRAPH_DELETE] = "DELETE FROM graphs WHERE id = ?1",
    [STMT_GRAPH_LIST] =
        "SELECT id, owner, sffg, format, status, error, created, updated "
        "FROM graphs ORDER BY id",
    [STMT_GRAPH_COUNT_OWNER] = "SELECT count(*) FROM graphs WHERE owner = ?1",
    /* An upsert, not INSERT OR REPLACE: a replace would delete the row
     * first and so cascade to the user's tokens. */
    [STMT_USER_PUT] =
        "INSERT INTO users (name, hash, role, created) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (name) DO UPDATE SET hash = excluded.hash, "
        "  role = excluded.role",
    [STMT_USER_GET] = "SELECT hash, role FROM users WHERE name = ?1",
    [STMT_USER_DELETE] = "DELETE FROM users WHERE name = ?1",
    [STMT_USER_LIST] = "SELECT name, role FROM users ORDER BY name",
    [STMT_USER_COUNT] = "SELECT count(*) FROM users",
    [STMT_TOKEN_PUT] =
        "INSERT INTO tokens (digest, user, expires) VALUES (?1, ?2, ?3)",
    [STMT_TOKEN_GET] = "SELECT user, expires FROM tokens WHERE digest = ?1",
    [STMT_TOKEN_DELETE] = "DELETE FROM tokens WHERE digest = ?1",
    [STMT_TOKEN_DELETE_USER] = "DELETE FROM tokens WHERE user = ?1",
    [STMT_TOKEN_PURGE] = "DELETE FROM tokens WHERE expires <= ?1",
};

struct store {
    sqlite3 *db;                /* The one connection. */
    /* Serialises every call: a prepared statement and sqlite3_errmsg()
     * belong to the connection, so one caller at a time uses them. */
    pthread_mutex_t lock;
    sqlite3_stmt *stmts[STMT_N]; /* Prepared lazily, NULL until first use. */
    char *path;                 /* Database file, for messages. */
};

/* Schema migrations.  migrations[i] brings the schema from version i to
 * version i + 1; PRAGMA user_version records where a database is.  To
 * change the schema: append a migration, never edit a released one. */
static const char *const store_migrations[] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  value TEXT NOT NULL);"
    "CREATE TABLE graphs ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  owner TEXT,"
    "  sffg TEXT NOT NULL,"
    "  format TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  error TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL);"
    "CREATE TABLE users ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE tokens ("
    "  digest TEXT PRIMARY KEY NOT NULL,"
    "  user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,"
    "  expires INTEGER NOT NULL);"
    "CREATE INDEX tokens_user ON tokens (user);"
    "CREATE INDEX tokens_expires ON tokens (expires);",
};
#define STORE_SCHEMA_VERSION ((int) ARRAY_SIZE(store_migrations))

static int
store_fail(struct store *s, const char *what)
{
    LOG_ERR("%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
    return -EIO;
}

static void
store_lock(struct store *s)
{
    pthread_mutex_lock(&s->lock);
}

static void
store_unlock(struct store **sp)
{
    if (*sp)
        pthread_mutex_unlock(&(*sp)->lock);
}
/* Holds the store's lock until the end of the scope. */
#define STORE_LOCKED(s) \
    _cleanup_(store_unlock) struct store *locked_ = (store_lock(s), (s))

/* Returns statement 'id' ready for binding, or NULL (logged).  Called with
 * the lock held; the statement goes back with stmt_done(). */
static sqlite3_stmt *
store_stmt(struct store *s, enum store_stmt id)
{
    if (!s->stmts[id]
        && sqlite3_prepare_v3(s->db, store_sql[id], -1,
                              SQLITE_PREPARE_PERSISTENT, &s->stmts[id],
                              NULL) != SQLITE_OK) {
        store_fail(s, "prepare");
        s->stmts[id] = NULL;
        return NULL;
    }
    return s->stmts[id];
}

static void
stmt_done(sqlite3_stmt **stmt)
{
    if (*stmt) {
        sqlite3_reset(*stmt);
        sqlite3_clear_bindings(*stmt);
    }
}
#define _cleanup_stmt_ _cleanup_(stmt_done)

static int
bind_text(sqlite3_stmt *stmt, int i, const char *v)
{
    return v ? sqlite3_bind_text(stmt, i, v, -1, SQLITE_STATIC)
             : sqlite3_bind_null(stmt, i);
}

static char *
column_text(sqlite3_stmt *stmt, int i)
{
    const unsigned char *t = sqlite3_column_text(stmt, i);
    return t ? xstrdup((const char *) t) : NULL;
}

/* Runs a statement that returns no row.  Returns 0, -EEXIST / -ENOENT for
 * a primary-key / foreign-key conflict, or -EIO. */
static int
store_exec_stmt(struct store *s, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        return 0;
    int ext = sqlite3_extended_errcode(s->db);
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
        return -EEXIST;
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return -ENOENT;
    return store_fail(s, what);
}

static int
store_exec(struct store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        LOG_ERR("%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -EIO;
    }
    return 0;
}

static int
store_pragma_int(struct store *s, const char *sql, int *ret_value)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return store_fail(s, sql);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(stmt);
        return store_fail(s, sql);
    }
    *ret_value = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return 0;
}

/* Brings the schema up to STORE_SCHEMA_VERSION, one migration per
 * transaction so that a crash leaves a consistent version. */
static int
store_migrate(struct store *s, struct corch_err *err)
{
    int version, r;

    r = store_pragma_int(s, "PRAGMA user_version", &version);
    if (r < 0)
        return corch_err_set(err, r, NULL, "%s: cannot read the schema version",
                             s->path);
    if (version > STORE_SCHEMA_VERSION)
        return corch_err_set(err, -ENOTSUP, NULL,
                             "%s: schema version %d is newer than this c-orch "
                             "knows (%d): downgrade is not supported",
                             s->path, version, STORE_SCHEMA_VERSION);
    for (; version < STORE_SCHEMA_VERSION; version++) {
        char sql[64];
        /* BEGIN IMMEDIATE: two daemons on one file migrate one at a time. */
        if (store_exec(s, "BEGIN IMMEDIATE") < 0)
            goto fail;
        /* Another process may have migrated while we waited. */
        int now;
        if (store_pragma_int(s, "PRAGMA user_version", &now) < 0) {
            store_exec(s, "ROLLBACK");
            goto fail;
        }
        if (now > version) {
            store_exec(s, "ROLLBACK");
            version = now - 1;
            continue;
        }
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version + 1);
        if (store_exec(s, store_migrations[version]) < 0
            || store_exec(s, sql) < 0
            || store_exec(s, "COMMIT") < 0) {
            store_exec(s, "ROLLBACK");
            goto fail;
        }
        LOG_INFO("%s: schema migrated to version %d", s->path, version + 1);
    }
    return 0;

fail:
    return corch_err_set(err, -EIO, NULL,
                         "%s: cannot migrate the schema to version %d: %s",
                         s->path, version + 1, sqlite3_errmsg(s->db));
}

/* Creates the database file 0600 before SQLite opens it: SQLite would
 * create it with the umask, and it holds password hashes.  SQLite gives
 * its -wal and -shm files the mode of the database file. */
static int
store_create_file(const char *path, struct corch_err *err)
{
    _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC
                                  | O_NOFOLLOW, 0600);
    if (fd < 0)
        return corch_err_set(err, -errno, NULL, "%s: cannot open: %s", path,
                             strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0)
        return corch_err_set(err, -errno, NULL, "%s: cannot stat: %s", path,
                             strerror(errno));
    if (!S_ISREG(st.st_mode))
        return corch_err_set(err, -EINVAL, NULL, "%s: not a regular file",
                             path);
    if (st.st_mode & 077) {
        LOG_WARN("%s: mode %04o is too open, setting 0600", path,
                 (unsigned int) (st.st_mode & 07777));
        if (fchmod(fd, 0600) < 0)
            return corch_err_set(err, -errno, NULL, "%s: cannot chmod: %s",
                                 path, strerror(errno));
    }
    return 0;
}

int
store_open(const char *path, struct store **ret_store, struct corch_err *err)
{
    int r;

    if (!path || !*path)
        return corch_err_set(err, -EINVAL, NULL, "no database path");
    r = store_create_file(path, err);
    if (r < 0)
        return r;

    struct store *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    pthread_mutex_init(&s->lock, NULL);

    /* FULLMUTEX as well as our lock: cheap, and it keeps the connection
     * safe should a future caller forget the lock. */
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                             | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW,
                             NULL);
    if (rc != SQLITE_OK) {
        r = corch_err_set(err, -EIO, NULL, "%s: cannot open database: %s",
                          path, s->db ? sqlite3_errmsg(s->db)
                                      : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* Waits for another connection (sqlite3 CLI, a second daemon) rather
     * than failing at once with SQLITE_BUSY. */
    sqlite3_busy_timeout(s->db, 5000);

    /* WAL: readers do not block the writer; synchronous=NORMAL is durable
     * across process crashes with WAL and much cheaper than FULL.
     * secure_delete: deleted hashes and token digests are overwritten, not
     * left in free pages. */
    if (store_exec(s, "PRAGMA journal_mode = WAL") < 0
        || store_exec(s, "PRAGMA synchronous = NORMAL") < 0
        || store_exec(s, "PRAGMA foreign_keys = ON") < 0
        || store_exec(s, "PRAGMA secure_delete = ON") < 0
        /* 1 MiB of page cache (default 2): the database is mostly read
         * once at start, and the daemon's idle RSS budget is 8 MB. */
        || store_exec(s, "PRAGMA cache_size = -1024") < 0) {
        r = corch_err_set(err, -EIO, NULL, "%s: cannot configure: %s", path,
                          sqlite3_errmsg(s->db));
        goto fail;
    }
    int fk = 0;
    if (store_pragma_int(s, "PRAGMA foreign_keys", &fk) < 0 || !fk) {
        r = corch_err_set(err, -EIO, NULL,
                          "%s: SQLite lacks foreign key support", path);
        goto fail;
    }

    r = store_migrate(s, err);
    if (r < 0)
        goto fail;

    LOG_DBG("%s: open, schema version %d", path, STORE_SCHEMA_VERSION);
    *ret_store = s;
    return 0;

fail:
    LOG_ERR("%s", err ? err->msg : "cannot open the store");
    store_close(s);
    return r;
}

void
store_close(struct store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < STMT_N; i++)
        sqlite3_finalize(s->stmts[i]);
    if (s->db && sqlite3_close(s->db) != SQLITE_OK)
        LOG_ERR("%s: close: %s", s->path, sqlite3_errmsg(s->db));
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
}

/* --- meta --- */

int
store_meta_get(struct store *s, const char *key, char **ret_value)
{
    if (!key)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_META_GET);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, key);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        return -ENOENT;
    if (rc != SQLITE_ROW)
        return store_fail(s, "meta get");
    *ret_value = column_text(stmt, 0);
    return 0;
}

int
store_meta_set(struct store *s, const char *key, const char *value)
{
    if (!key || !value)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_META_SET);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, key);
    bind_text(stmt, 2, value);
    return store_exec_stmt(s, stmt, "meta set");
}

/* --- graphs --- */

void
store_graph_free(struct store_graph *g)
{
    if (!g)
        return;
    free(g->id);
    free(g->owner);
    free(g->sffg);
    free(g->format);
    free(g->status);
    free(g->error);
    free(g);
}

int
store_graph_put(struct store *s, const struct store_graph *g)
{
    if (!g || !g->id || !g->sffg || !g->format || !g->status)
        return -EINVAL;
    int64_t now = time(NULL);
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_GRAPH_PUT);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, g->id);
    bind_text(stmt, 2, g->owner);
    bind_text(stmt, 3, g->sffg);
    bind_text(stmt, 4, g->format);
    bind_text(stmt, 5, g->status);
    bind_text(stmt, 6, g->error);
    sqlite3_bind_int64(stmt, 7, g->created ? g->created : now);
    sqlite3_bind_int64(stmt, 8, g->updated ? g->updated : now);
    return store_exec_stmt(s, stmt, "graph put");
}

int
store_graph_set_status(struct store *s, const char *id, const char *status,
                       const char *error)
{
    if (!id || !status)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_GRAPH_SET_STATUS);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, id);
    bind_text(stmt, 2, status);
    bind_text(stmt, 3, error);
    sqlite3_bind_int64(stmt, 4, time(NULL));
    int r = store_exec_stmt(s, stmt, "graph set status");
    if (r < 0)
        return r;
    return sqlite3_changes(s->db) ? 0 : -ENOENT;
}

static struct store_graph *
graph_from_row(sqlite3_stmt *stmt)
{
    struct store_graph *g = xcalloc(1, sizeof *g);
    g->id = column_text(stmt, 0);
    g->owner = column_text(stmt, 1);
    g->sffg = column_text(stmt, 2);
    g->format = column_text(stmt, 3);
    g->status = column_text(stmt, 4);
    g->error = column_text(stmt, 5);
    g->created = sqlite3_column_int64(stmt, 6);
    g->updated = sqlite3_column_int64(stmt, 7);
    return g;
}

int
store_graph_get(struct store *s, const char *id,
                struct store_graph **ret_graph)
{
    if (!id)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_GRAPH_GET);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        return -ENOENT;
    if (rc != SQLITE_ROW)
        return store_fail(s, "graph get");
    *ret_graph = graph_from_row(stmt);
    return 0;
}

int
store_graph_delete(struct store *s, const char *id)
{
    if (!id)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_GRAPH_DELETE);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, id);
    int r = store_exec_stmt(s, stmt, "graph delete");
    if (r < 0)
        return r;
    return sqlite3_changes(s->db) ? 0 : -ENOENT;
}

int
store_graph_list(struct store *s, struct store_graph ***ret_graphs,
                 size_t *ret_n)
{
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_GRAPH_LIST);
    if (!stmt)
        return -EIO;

    struct store_graph **v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[n++] = graph_from_row(stmt);
    }
    if (rc != SQLITE_DONE) {
        store_graph_list_free(v, n);
        return store_fail(s, "graph list");
    }
    *ret_graphs = v ? v : xcalloc(1, sizeof *v);
    *ret_n = n;
    return 0;
}

void
store_graph_list_free(struct store_graph **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        store_graph_free(v[i]);
    free(v);
}

/* --- users --- */

int
store_user_put(struct store *s, const char *name, const char *hash,
               const char *role)
{
    if (!name || !hash || !role)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_USER_PUT);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, name);
    bind_text(stmt, 2, hash);
    bind_text(stmt, 3, role);
    sqlite3_bind_int64(stmt, 4, time(NULL));
    return store_exec_stmt(s, stmt, "user put");
}

int
store_user_get(struct store *s, const char *name, char **ret_hash,
               char **ret_role)
{
    if (!name)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_USER_GET);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, name);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        return -ENOENT;
    if (rc != SQLITE_ROW)
        return store_fail(s, "user get");
    if (ret_hash)
        *ret_hash = column_text(stmt, 0);
    if (ret_role)
        *ret_role = column_text(stmt, 1);
    return 0;
}

int
store_user_delete(struct store *s, const char *name)
{
    if (!name)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_USER_DELETE);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, name);
    /* The user's tokens go with it: ON DELETE CASCADE. */
    int r = store_exec_stmt(s, stmt, "user delete");
    if (r < 0)
        return r;
    return sqlite3_changes(s->db) ? 0 : -ENOENT;
}

int
store_user_list(struct store *s, char ***ret_names, char ***ret_roles)
{
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_USER_LIST);
    if (!stmt)
        return -EIO;

    size_t n = 0;
    char **names = xcalloc(1, sizeof *names);
    char **roles = xcalloc(1, sizeof *roles);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        names = xrealloc(names, (n + 2) * sizeof *names);
        roles = xrealloc(roles, (n + 2) * sizeof *roles);
        names[n] = column_text(stmt, 0);
        roles[n] = column_text(stmt, 1);
        n++;
        names[n] = roles[n] = NULL;
    }
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < n; i++) {
            free(names[i]);
            free(roles[i]);
        }
        free(names);
        free(roles);
        return store_fail(s, "user list");
    }
    *ret_names = names;
    *ret_roles = roles;
    return 0;
}

int
store_user_count(struct store *s, size_t *ret_n)
{
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_USER_COUNT);
    if (!stmt)
        return -EIO;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return store_fail(s, "user count");
    *ret_n = (size_t) sqlite3_column_int64(stmt, 0);
    return 0;
}

int
store_graph_count_owner(struct store *s, const char *owner, size_t *ret_n)
{
    if (!owner)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_GRAPH_COUNT_OWNER);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, owner);
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return store_fail(s, "graph count");
    *ret_n = (size_t) sqlite3_column_int64(stmt, 0);
    return 0;
}

/* --- tokens --- */

int
store_token_put(struct store *s, const char *digest, const char *user,
                int64_t expires)
{
    if (!digest || !user)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_TOKEN_PUT);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, digest);
    bind_text(stmt, 2, user);
    sqlite3_bind_int64(stmt, 3, expires);
    /* -ENOENT: no such user (foreign key); -EEXIST: digest taken. */
    return store_exec_stmt(s, stmt, "token put");
}

int
store_token_get(struct store *s, const char *digest, char **ret_user,
                int64_t *ret_expires)
{
    if (!digest)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_TOKEN_GET);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, digest);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        return -ENOENT;
    if (rc != SQLITE_ROW)
        return store_fail(s, "token get");
    if (ret_user)
        *ret_user = column_text(stmt, 0);
    if (ret_expires)
        *ret_expires = sqlite3_column_int64(stmt, 1);
    return 0;
}

int
store_token_delete(struct store *s, const char *digest)
{
    if (!digest)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_TOKEN_DELETE);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, digest);
    int r = store_exec_stmt(s, stmt, "token delete");
    if (r < 0)
        return r;
    return sqlite3_changes(s->db) ? 0 : -ENOENT;
}

int
store_token_delete_user(struct store *s, const char *user)
{
    if (!user)
        return -EINVAL;
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_TOKEN_DELETE_USER);
    if (!stmt)
        return -EIO;
    bind_text(stmt, 1, user);
    return store_exec_stmt(s, stmt, "token delete user");
}

int
store_token_purge(struct store *s, int64_t now)
{
    STORE_LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *stmt = store_stmt(s, STMT_TOKEN_PURGE);
    if (!stmt)
        return -EIO;
    sqlite3_bind_int64(stmt, 1, now);
    int r = store_exec_stmt(s, stmt, "token purge");
    if (r < 0)
        return r;
    int n = sqlite3_changes(s->db);
    if (n)
        LOG_DBG("purged %d expired token(s)", n);
    return 0;
}
