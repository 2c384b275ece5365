/* Unit tests of the state store, on real SQLite files in a scratch dir. */
#include <config.h>
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "corch-config.h"
#include "log.h"

struct fixture {
    char dir[64];               /* Scratch directory. */
    char path[128];             /* Database file in it. */
    struct store *store;        /* Open on 'path'. */
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sec-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/state.db", f->dir);
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(store_open(f->path, &f->store, &err), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->store);
    char p[192];
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
reopen(struct fixture *f)
{
    struct corch_err err = { .path = "", .msg = "" };
    store_close(f->store);
    f->store = NULL;
    assert_int_equal(store_open(f->path, &f->store, &err), 0);
}

static void
test_open_mode_and_pragmas(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* Look at the file with a second, plain connection. */
    sqlite3 *db;
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt,
                                        NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *) sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt,
                                        NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 1);
    sqlite3_finalize(stmt);
    sqlite3_close(db);

    /* The -wal file inherits the database's mode. */
    char wal[192];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_equal(store_meta_set(f->store, "k", "v"), 0);
    if (stat(wal, &st) == 0)
        assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_open_tightens_mode(void **state)
{
    struct fixture *f = *state;
    store_close(f->store);
    f->store = NULL;
    assert_int_equal(chmod(f->path, 0644), 0);
    reopen(f);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_open_errors(void **state)
{
    struct fixture *f = *state;
    struct corch_err err = { .path = "", .msg = "" };
    struct store *s = (struct store *) 0x1;

    assert_int_equal(store_open("/nonexistent-dir-sec/x.db", &s, &err),
                     -ENOENT);
    assert_ptr_equal(s, (struct store *) 0x1);
    assert_non_null(strstr(err.msg, "/nonexistent-dir-sec/x.db"));

    /* A directory is not a database. */
    memset(&err, 0, sizeof err);
    assert_true(store_open(f->dir, &s, &err) < 0);
    assert_ptr_equal(s, (struct store *) 0x1);

    /* A file that is not SQLite. */
    char junk[192];
    snprintf(junk, sizeof junk, "%s/junk.db", f->dir);
    FILE *fp = fopen(junk, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database file at all\n", fp);
    fclose(fp);
    memset(&err, 0, sizeof err);
    assert_int_equal(store_open(junk, &s, &err), -EIO);
    assert_ptr_equal(s, (struct store *) 0x1);
    assert_true(err.msg[0] != '\0');
    unlink(junk);
}

static void
test_open_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    store_close(f->store);
    f->store = NULL;

    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL,
                                  NULL), SQLITE_OK);
    sqlite3_close(db);

    struct corch_err err = { .path = "", .msg = "" };
    struct store *s = NULL;
    assert_int_equal(store_open(f->path, &s, &err), -ENOTSUP);
    assert_null(s);
    assert_non_null(strstr(err.msg, "99"));

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL,
                                  NULL), SQLITE_OK);
    sqlite3_close(db);
    reopen(f);
}

static void
test_meta(void **state)
{
    struct fixture *f = *state;
    char *v = (char *) 0x1;

    assert_int_equal(store_meta_get(f->store, "node_id", &v), -ENOENT);
    assert_ptr_equal(v, (char *) 0x1);
    assert_int_equal(store_meta_set(f->store, "node_id", "n1"), 0);
    assert_int_equal(store_meta_set(f->store, "node_id", "n2"), 0);
    assert_int_equal(store_meta_get(f->store, "node_id", &v), 0);
    assert_string_equal(v, "n2");
    free(v);

    /* Client-looking strings are data, never SQL. */
    const char *evil = "x'); DROP TABLE meta; --";
    assert_int_equal(store_meta_set(f->store, evil, evil), 0);
    assert_int_equal(store_meta_get(f->store, evil, &v), 0);
    assert_string_equal(v, evil);
    free(v);

    assert_int_equal(store_meta_set(f->store, NULL, "x"), -EINVAL);
    assert_int_equal(store_meta_set(f->store, "x", NULL), -EINVAL);

    reopen(f);
    assert_int_equal(store_meta_get(f->store, "node_id", &v), 0);
    assert_string_equal(v, "n2");
    free(v);
}

static void
graph_fill(struct store_graph *g, const char *id, const char *owner,
           const char *status)
{
    memset(g, 0, sizeof *g);
    g->id = (char *) id;
    g->owner = (char *) owner;
    g->sffg = (char *) "{\"sffg\":{\"id\":\"x\"}}";
    g->format = (char *) "sffg";
    g->status = (char *) status;
}

static void
test_graphs(void **state)
{
    struct fixture *f = *state;
    struct store_graph g, *out = (struct store_graph *) 0x1;

    assert_int_equal(store_graph_get(f->store, "g1", &out), -ENOENT);
    assert_ptr_equal(out, (struct store_graph *) 0x1);
    assert_int_equal(store_graph_delete(f->store, "g1"), -ENOENT);
    assert_int_equal(store_graph_set_status(f->store, "g1", "running", NULL),
                     -ENOENT);

    graph_fill(&g, "g1", "alice", "deploying");
    g.created = 1000;
    g.updated = 1000;
    assert_int_equal(store_graph_put(f->store, &g), 0);
    assert_int_equal(store_graph_get(f->store, "g1", &out), 0);
    assert_string_equal(out->id, "g1");
    assert_string_equal(out->owner, "alice");
    assert_string_equal(out->sffg, g.sffg);
    assert_string_equal(out->format, "sffg");
    assert_string_equal(out->status, "deploying");
    assert_null(out->error);
    assert_int_equal(out->created, 1000);
    assert_int_equal(out->updated, 1000);
    store_graph_free(out);

    /* A replace keeps the creation time. */
    graph_fill(&g, "g1", "alice", "updating");
    g.sffg = (char *) "{\"sffg\":{\"id\":\"g1\",\"name\":\"v2\"}}";
    g.format = (char *) "nffg";
    g.created = 5000;
    g.updated = 0;                      /* now */
    assert_int_equal(store_graph_put(f->store, &g), 0);
    assert_int_equal(store_graph_get(f->store, "g1", &out), 0);
    assert_string_equal(out->status, "updating");
    assert_string_equal(out->format, "nffg");
    assert_string_equal(out->sffg, g.sffg);
    assert_int_equal(out->created, 1000);
    assert_true(out->updated >= time(NULL) - 5);
    store_graph_free(out);

    assert_int_equal(store_graph_set_status(f->store, "g1", "failed",
                                            "step 4: sf fw: boom"), 0);
    assert_int_equal(store_graph_get(f->store, "g1", &out), 0);
    assert_string_equal(out->status, "failed");
    assert_string_equal(out->error, "step 4: sf fw: boom");
    store_graph_free(out);
    assert_int_equal(store_graph_set_status(f->store, "g1", "running", NULL),
                     0);
    assert_int_equal(store_graph_get(f->store, "g1", &out), 0);
    assert_null(out->error);
    store_graph_free(out);

    /* Missing required fields. */
    graph_fill(&g, "g2", NULL, NULL);
    assert_int_equal(store_graph_put(f->store, &g), -EINVAL);
    assert_int_equal(store_graph_put(f->store, NULL), -EINVAL);

    /* NULL owner is allowed (auth off). */
    graph_fill(&g, "g0", NULL, "running");
    assert_int_equal(store_graph_put(f->store, &g), 0);
    graph_fill(&g, "g2", "bob", "running");
    assert_int_equal(store_graph_put(f->store, &g), 0);

    struct store_graph **list;
    size_t n;
    assert_int_equal(store_graph_list(f->store, &list, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(list[0]->id, "g0");
    assert_null(list[0]->owner);
    assert_string_equal(list[1]->id, "g1");
    assert_string_equal(list[2]->id, "g2");
    store_graph_list_free(list, n);

    /* Persistence across close / reopen. */
    reopen(f);
    assert_int_equal(store_graph_list(f->store, &list, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(list[1]->status, "running");
    store_graph_list_free(list, n);

    assert_int_equal(store_graph_delete(f->store, "g1"), 0);
    assert_int_equal(store_graph_delete(f->store, "g1"), -ENOENT);
    assert_int_equal(store_graph_get(f->store, "g1", &out), -ENOENT);
    assert_int_equal(store_graph_delete(f->store, "g0"), 0);
    assert_int_equal(store_graph_delete(f->store, "g2"), 0);
    assert_int_equal(store_graph_list(f->store, &list, &n), 0);
    assert_int_equal(n, 0);
    assert_non_null(list);
    store_graph_list_free(list, n);
    store_graph_free(NULL);
    store_graph_list_free(NULL, 0);
}

static void
test_users(void **state)
{
    struct fixture *f = *state;
    char *hash = (char *) 0x1, *role = (char *) 0x1;
    size_t n = 99;

    assert_int_equal(store_user_count(f->store, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_user_get(f->store, "bob", &hash, &role), -ENOENT);
    assert_ptr_equal(hash, (char *) 0x1);
    assert_ptr_equal(role, (char *) 0x1);
    assert_int_equal(store_user_delete(f->store, "bob"), -ENOENT);

    assert_int_equal(store_user_put(f->store, "bob", "$h1", "viewer"), 0);
    assert_int_equal(store_user_put(f->store, "alice", "$h2", "admin"), 0);
    assert_int_equal(store_user_put(f->store, "bob", "$h3", "operator"), 0);
    assert_int_equal(store_user_put(f->store, NULL, "$h", "admin"), -EINVAL);
    assert_int_equal(store_user_count(f->store, &n), 0);
    assert_int_equal(n, 2);

    assert_int_equal(store_user_get(f->store, "bob", &hash, &role), 0);
    assert_string_equal(hash, "$h3");
    assert_string_equal(role, "operator");
    free(hash);
    free(role);
    assert_int_equal(store_user_get(f->store, "bob", NULL, &role), 0);
    assert_string_equal(role, "operator");
    free(role);

    char **names, **roles;
    assert_int_equal(store_user_list(f->store, &names, &roles), 0);
    assert_string_equal(names[0], "alice");
    assert_string_equal(roles[0], "admin");
    assert_string_equal(names[1], "bob");
    assert_string_equal(roles[1], "operator");
    assert_null(names[2]);
    assert_null(roles[2]);
    strv_free(names);
    strv_free(roles);

    reopen(f);
    assert_int_equal(store_user_get(f->store, "alice", &hash, NULL), 0);
    assert_string_equal(hash, "$h2");
    free(hash);

    assert_int_equal(store_user_delete(f->store, "bob"), 0);
    assert_int_equal(store_user_delete(f->store, "bob"), -ENOENT);
    assert_int_equal(store_user_count(f->store, &n), 0);
    assert_int_equal(n, 1);
}

static void
test_tokens(void **state)
{
    struct fixture *f = *state;
    char *user = (char *) 0x1;
    int64_t expires = 7;

    assert_int_equal(store_token_get(f->store, "d0", &user, &expires),
                     -ENOENT);
    assert_ptr_equal(user, (char *) 0x1);
    assert_int_equal(expires, 7);

    /* A token needs an existing user (foreign key). */
    assert_int_equal(store_token_put(f->store, "d0", "ghost", 100), -ENOENT);

    assert_int_equal(store_user_put(f->store, "bob", "$h", "viewer"), 0);
    assert_int_equal(store_user_put(f->store, "eve", "$h", "viewer"), 0);
    assert_int_equal(store_token_put(f->store, "d1", "bob", 100), 0);
    assert_int_equal(store_token_put(f->store, "d1", "bob", 100), -EEXIST);
    assert_int_equal(store_token_put(f->store, "d2", "bob", 200), 0);
    assert_int_equal(store_token_put(f->store, "d3", "bob", 300), 0);
    assert_int_equal(store_token_put(f->store, "d4", "eve", 300), 0);

    assert_int_equal(store_token_get(f->store, "d2", &user, &expires), 0);
    assert_string_equal(user, "bob");
    assert_int_equal(expires, 200);
    free(user);

    /* Purge: expires <= now goes. */
    assert_int_equal(store_token_purge(f->store, 200), 0);
    assert_int_equal(store_token_get(f->store, "d1", NULL, NULL), -ENOENT);
    assert_int_equal(store_token_get(f->store, "d2", NULL, NULL), -ENOENT);
    assert_int_equal(store_token_get(f->store, "d3", NULL, NULL), 0);

    /* Persistence. */
    reopen(f);
    assert_int_equal(store_token_get(f->store, "d3", NULL, &expires), 0);
    assert_int_equal(expires, 300);

    /* One token. */
    assert_int_equal(store_token_delete(f->store, "d3"), 0);
    assert_int_equal(store_token_delete(f->store, "d3"), -ENOENT);

    /* All of a user's tokens, leaving the others'. */
    assert_int_equal(store_token_put(f->store, "d5", "bob", 500), 0);
    assert_int_equal(store_token_put(f->store, "d6", "bob", 500), 0);
    assert_int_equal(store_token_delete_user(f->store, "bob"), 0);
    assert_int_equal(store_token_get(f->store, "d5", NULL, NULL), -ENOENT);
    assert_int_equal(store_token_get(f->store, "d6", NULL, NULL), -ENOENT);
    assert_int_equal(store_token_get(f->store, "d4", NULL, NULL), 0);
    assert_int_equal(store_token_delete_user(f->store, "nobody"), 0);

    /* Updating a user keeps its tokens (no delete + insert)... */
    assert_int_equal(store_user_put(f->store, "eve", "$h2", "operator"), 0);
    assert_int_equal(store_token_get(f->store, "d4", NULL, NULL), 0);
    /* ...deleting it cascades. */
    assert_int_equal(store_user_delete(f->store, "eve"), 0);
    assert_int_equal(store_token_get(f->store, "d4", NULL, NULL), -ENOENT);
}

/* Several threads hammer one store; each works on its own rows, and all
 * rows must be there at the end. */
#define N_THREADS 6
#define N_ROUNDS 60

struct worker {
    struct store *store;        /* Shared. */
    int index;                  /* Which thread. */
    int failures;               /* Unexpected results. */
};

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    char name[32], id[32], digest[32], *v;
    snprintf(name, sizeof name, "user%d", w->index);
    if (store_user_put(w->store, name, "$h", "operator") != 0)
        w->failures++;
    for (int i = 0; i < N_ROUNDS; i++) {
        struct store_graph g, *out;
        snprintf(id, sizeof id, "t%d-g%d", w->index, i);
        graph_fill(&g, id, name, "deploying");
        if (store_graph_put(w->store, &g) != 0)
            w->failures++;
        if (store_graph_set_status(w->store, id, "running", NULL) != 0)
            w->failures++;
        if (store_graph_get(w->store, id, &out) != 0)
            w->failures++;
        else {
            if (strcmp(out->status, "running") || strcmp(out->owner, name))
                w->failures++;
            store_graph_free(out);
        }
        snprintf(digest, sizeof digest, "t%d-d%d", w->index, i);
        if (store_token_put(w->store, digest, name, 1000 + i) != 0)
            w->failures++;
        if (store_meta_set(w->store, name, id) != 0)
            w->failures++;
        if (store_meta_get(w->store, name, &v) != 0)
            w->failures++;
        else {
            if (strcmp(v, id))
                w->failures++;
            free(v);
        }
        struct store_graph **list;
        size_t n;
        if (store_graph_list(w->store, &list, &n) != 0)
            w->failures++;
        else
            store_graph_list_free(list, n);
    }
    return NULL;
}

static void
test_concurrent(void **state)
{
    struct fixture *f = *state;
    pthread_t threads[N_THREADS];
    struct worker workers[N_THREADS];

    for (int i = 0; i < N_THREADS; i++) {
        workers[i] = (struct worker) { f->store, i, 0 };
        assert_int_equal(pthread_create(&threads[i], NULL, worker_main,
                                        &workers[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].failures, 0);
    }

    struct store_graph **list;
    size_t n, users;
    assert_int_equal(store_graph_list(f->store, &list, &n), 0);
    assert_int_equal(n, N_THREADS * N_ROUNDS);
    store_graph_list_free(list, n);
    assert_int_equal(store_user_count(f->store, &users), 0);
    assert_int_equal(users, N_THREADS);

    /* Purge half the tokens of everyone, then the cascade takes the rest. */
    assert_int_equal(store_token_purge(f->store, 1000 + N_ROUNDS / 2 - 1), 0);
    assert_int_equal(store_token_get(f->store, "t0-d0", NULL, NULL), -ENOENT);
    assert_int_equal(store_token_get(f->store, "t0-d59", NULL, NULL), 0);
    assert_int_equal(store_user_delete(f->store, "user0"), 0);
    assert_int_equal(store_token_get(f->store, "t0-d59", NULL, NULL), -ENOENT);
    assert_int_equal(store_token_get(f->store, "t1-d59", NULL, NULL), 0);
}

/* Two stores on one file (a second daemon, the sqlite3 CLI): the busy
 * timeout makes them wait for each other rather than fail. */
static void
test_two_connections(void **state)
{
    struct fixture *f = *state;
    struct store *other;
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(store_open(f->path, &other, &err), 0);
    assert_int_equal(store_meta_set(f->store, "a", "1"), 0);
    char *v;
    assert_int_equal(store_meta_get(other, "a", &v), 0);
    assert_string_equal(v, "1");
    free(v);
    assert_int_equal(store_meta_set(other, "a", "2"), 0);
    assert_int_equal(store_meta_get(f->store, "a", &v), 0);
    assert_string_equal(v, "2");
    free(v);
    store_close(other);
    store_close(NULL);
}

/* Another connection holds the write lock (the sqlite3 CLI in a
 * transaction): writers wait up to the busy timeout, then fail with -EIO
 * and leave outputs alone; readers carry on (WAL). */
static void *
release_later(void *db)
{
    usleep(500 * 1000);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return NULL;
}

static void
test_locked_database(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db;
    assert_int_equal(store_meta_set(f->store, "k", "before"), 0);
    assert_int_equal(store_user_put(f->store, "bob", "$h", "viewer"), 0);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);

    /* Held longer than the busy timeout: -EIO. */
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    uint64_t t0 = time_ms();
    assert_int_equal(store_meta_set(f->store, "k", "during"), -EIO);
    assert_true(time_ms() - t0 >= 4000);
    char *v = NULL;
    assert_int_equal(store_meta_get(f->store, "k", &v), 0);
    assert_string_equal(v, "before");
    free(v);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);

    /* Held briefly: the writer waits and succeeds. */
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, release_later, db), 0);
    assert_int_equal(store_meta_set(f->store, "k", "after"), 0);
    pthread_join(t, NULL);
    sqlite3_close(db);
    assert_int_equal(store_meta_get(f->store, "k", &v), 0);
    assert_string_equal(v, "after");
    free(v);
    assert_int_equal(store_user_get(f->store, "bob", NULL, NULL), 0);
}

int
main(void)
{
    log_set_level(LOG_LEVEL_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_mode_and_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_tightens_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graphs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_database, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
