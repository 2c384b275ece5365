/* Unit tests of the security manager, on a real store in a scratch dir. */
#include <config.h>
#include "security.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "corch-config.h"
#include "log.h"
#include "store.h"

#define ADMIN_PW "admin-secret-1"

struct fixture {
    char dir[64];               /* Scratch directory. */
    char path[128];             /* Database file in it. */
    struct corch_config cfg;    /* What security_create() sees. */
    struct store *store;        /* Open on 'path'. */
    struct security *sec;       /* On 'store'; NULL until sec_start(). */
};

static void
open_store(struct fixture *f)
{
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(store_open(f->path, &f->store, &err), 0);
}

static void
sec_start(struct fixture *f)
{
    struct corch_err err = { .path = "", .msg = "" };
    int r = security_create(&f->cfg, f->store, &f->sec, &err);
    if (r < 0)
        fail_msg("security_create: %s: %s", err.path, err.msg);
}

/* A fresh store; the manager is created by the test (bootstrap tests). */
static int
setup_bare(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sec-test-security-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/state.db", f->dir);
    config_init(&f->cfg);
    open_store(f);
    *state = f;
    return 0;
}

/* A fresh store and a manager that bootstrapped "admin". */
static int
setup(void **state)
{
    setup_bare(state);
    struct fixture *f = *state;
    f->cfg.security_admin_password = strdup(ADMIN_PW);
    sec_start(f);
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    security_destroy(f->sec);
    store_close(f->store);
    config_destroy(&f->cfg);
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

static char *
login_ok(struct fixture *f, const char *user, const char *pw)
{
    char *token = NULL;
    int64_t expires = 0;
    int r = security_login(f->sec, user, pw, &token, &expires);
    if (r < 0)
        fail_msg("login %s: %d", user, r);
    assert_non_null(token);
    assert_true(expires >= time(NULL));
    return token;
}

static void
put_ok(struct fixture *f, const char *name, const char *pw, const char *role,
       bool expect_created)
{
    struct corch_err err = { .path = "", .msg = "" };
    bool created = !expect_created;
    int r = security_user_put(f->sec, name, pw, role, &created, &err);
    if (r < 0)
        fail_msg("put %s: %d %s: %s", name, r, err.path, err.msg);
    assert_int_equal(created, expect_created);
}

static void
digest_of(const char *token, char out[65])
{
    unsigned char d[32];
    crypto_generichash(d, sizeof d, (const unsigned char *) token,
                       strlen(token), NULL, 0);
    sodium_bin2hex(out, 65, d, sizeof d);
}

/* --- roles --- */

static void
test_role_names(void **state)
{
    enum security_role role = SECURITY_ROLE_VIEWER;
    static const char *const names[] = { "admin", "operator", "viewer" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        assert_int_equal(security_role_from_string(names[i], &role), 0);
        assert_int_equal(role, (enum security_role) i);
        assert_string_equal(security_role_name(role), names[i]);
    }
    role = SECURITY_ROLE_OPERATOR;
    assert_int_equal(security_role_from_string("Admin", &role), -EINVAL);
    assert_int_equal(security_role_from_string("root", &role), -EINVAL);
    assert_int_equal(security_role_from_string("", &role), -EINVAL);
    assert_int_equal(security_role_from_string(NULL, &role), -EINVAL);
    assert_int_equal(role, SECURITY_ROLE_OPERATOR);
    assert_string_equal(security_role_name((enum security_role) 42), "unknown");
}

/* --- the matrix, as documented in docs/security.md --- */

enum owner_case { OWN, OTHER, NONE };
#define Y true
#define N false

struct matrix_row {
    enum security_role role;    /* Who asks. */
    enum security_action action; /* For what. */
    bool allowed[3];            /* On its own object, another's, no owner. */
};

static const struct matrix_row matrix[] = {
    /*                                                own other none */
    { SECURITY_ROLE_ADMIN,    SECURITY_GRAPH_LIST,   { Y, Y, Y } },
    { SECURITY_ROLE_ADMIN,    SECURITY_GRAPH_CREATE, { Y, Y, Y } },
    { SECURITY_ROLE_ADMIN,    SECURITY_GRAPH_READ,   { Y, Y, Y } },
    { SECURITY_ROLE_ADMIN,    SECURITY_GRAPH_UPDATE, { Y, Y, Y } },
    { SECURITY_ROLE_ADMIN,    SECURITY_GRAPH_DELETE, { Y, Y, Y } },
    { SECURITY_ROLE_ADMIN,    SECURITY_NODE_READ,    { Y, Y, Y } },
    { SECURITY_ROLE_ADMIN,    SECURITY_USER_ADMIN,   { Y, Y, Y } },
    { SECURITY_ROLE_OPERATOR, SECURITY_GRAPH_LIST,   { Y, Y, Y } },
    { SECURITY_ROLE_OPERATOR, SECURITY_GRAPH_CREATE, { Y, Y, Y } },
    { SECURITY_ROLE_OPERATOR, SECURITY_GRAPH_READ,   { Y, N, N } },
    { SECURITY_ROLE_OPERATOR, SECURITY_GRAPH_UPDATE, { Y, N, N } },
    { SECURITY_ROLE_OPERATOR, SECURITY_GRAPH_DELETE, { Y, N, N } },
    { SECURITY_ROLE_OPERATOR, SECURITY_NODE_READ,    { Y, Y, Y } },
    { SECURITY_ROLE_OPERATOR, SECURITY_USER_ADMIN,   { N, N, N } },
    { SECURITY_ROLE_VIEWER,   SECURITY_GRAPH_LIST,   { Y, Y, Y } },
    { SECURITY_ROLE_VIEWER,   SECURITY_GRAPH_CREATE, { N, N, N } },
    { SECURITY_ROLE_VIEWER,   SECURITY_GRAPH_READ,   { Y, Y, Y } },
    { SECURITY_ROLE_VIEWER,   SECURITY_GRAPH_UPDATE, { N, N, N } },
    { SECURITY_ROLE_VIEWER,   SECURITY_GRAPH_DELETE, { N, N, N } },
    { SECURITY_ROLE_VIEWER,   SECURITY_NODE_READ,    { Y, Y, Y } },
    { SECURITY_ROLE_VIEWER,   SECURITY_USER_ADMIN,   { N, N, N } },
};

static void
test_matrix(void **state)
{
    /* Every role x action appears exactly once. */
    assert_int_equal(ARRAY_SIZE(matrix), 3 * 7);
    for (size_t i = 0; i < ARRAY_SIZE(matrix); i++) {
        const struct matrix_row *m = &matrix[i];
        static const char *const owners[] = { "alice", "bob", NULL };
        for (int o = OWN; o <= NONE; o++) {
            bool got = security_authorize(m->role, "alice", m->action,
                                          owners[o]);
            if (got != m->allowed[o])
                fail_msg("role %s action %d owner %s: got %d, want %d",
                         security_role_name(m->role), (int) m->action,
                         owners[o] ? owners[o] : "(none)", got,
                         m->allowed[o]);
        }
    }
    /* No user (auth off) owns nothing; an unknown role gets nothing. */
    assert_false(security_authorize(SECURITY_ROLE_OPERATOR, NULL,
                                    SECURITY_GRAPH_READ, NULL));
    assert_false(security_authorize(SECURITY_ROLE_OPERATOR, NULL,
                                    SECURITY_GRAPH_DELETE, "alice"));
    assert_false(security_authorize((enum security_role) 9, "alice",
                                    SECURITY_GRAPH_LIST, "alice"));
    /* Owner names compare exactly. */
    assert_false(security_authorize(SECURITY_ROLE_OPERATOR, "alice",
                                    SECURITY_GRAPH_UPDATE, "Alice"));
    assert_false(security_authorize(SECURITY_ROLE_OPERATOR, "alice",
                                    SECURITY_GRAPH_UPDATE, "alice2"));
}

/* --- bootstrap --- */

static void
test_bootstrap_from_config(void **state)
{
    struct fixture *f = *state;
    char *hash, *role;
    assert_int_equal(store_user_get(f->store, "admin", &hash, &role), 0);
    assert_string_equal(role, "admin");
    assert_true(strncmp(hash, "$argon2id$", 10) == 0);
    assert_null(strstr(hash, ADMIN_PW));
    free(hash);
    free(role);
    free(login_ok(f, "admin", ADMIN_PW));

    /* A second start with another password changes nothing. */
    security_destroy(f->sec);
    f->sec = NULL;
    free(f->cfg.security_admin_password);
    f->cfg.security_admin_password = strdup("another-password");
    sec_start(f);
    free(login_ok(f, "admin", ADMIN_PW));
    char *t;
    int64_t e;
    assert_int_equal(security_login(f->sec, "admin", "another-password", &t,
                                    &e), -EACCES);
}

static void
test_bootstrap_from_env(void **state)
{
    struct fixture *f = *state;
    struct corch_err err = { .path = "", .msg = "" };
    setenv("CORCH_ADMIN_PASSWORD", "from-the-environment", 1);
    f->cfg.security_admin_password = strdup("from-the-config");
    int r = config_finish(&f->cfg, &err);
    unsetenv("CORCH_ADMIN_PASSWORD");
    assert_int_equal(r, 0);
    sec_start(f);
    free(login_ok(f, "admin", "from-the-environment"));
    char *t;
    int64_t e;
    assert_int_equal(security_login(f->sec, "admin", "from-the-config", &t,
                                    &e), -EACCES);
}

static void
test_bootstrap_without_password(void **state)
{
    struct fixture *f = *state;
    size_t n = 9;
    sec_start(f);                       /* Warns; does not fail. */
    assert_int_equal(store_user_count(f->store, &n), 0);
    assert_int_equal(n, 0);
    char *t;
    int64_t e;
    assert_int_equal(security_login(f->sec, "admin", "whatever1", &t, &e),
                     -EACCES);
}

static void
test_bootstrap_skipped_when_users_exist(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_user_put(f->store, "ops", "$x", "admin"), 0);
    f->cfg.security_admin_password = strdup(ADMIN_PW);
    sec_start(f);
    assert_int_equal(store_user_get(f->store, "admin", NULL, NULL), -ENOENT);
}

static void
test_bootstrap_bad_password(void **state)
{
    struct fixture *f = *state;
    struct corch_err err = { .path = "", .msg = "" };
    struct security *sec = NULL;
    f->cfg.security_admin_password = strdup("short");
    assert_int_equal(security_create(&f->cfg, f->store, &sec, &err), -EINVAL);
    assert_null(sec);
    assert_string_equal(err.path, "security.admin_password");
    assert_non_null(strstr(err.msg, "8"));
}

/* --- login and tokens --- */

static void
test_login(void **state)
{
    struct fixture *f = *state;
    char *token = (char *) 0x1;
    int64_t expires = 7;
    int64_t before = time(NULL);

    assert_int_equal(security_login(f->sec, "admin", ADMIN_PW, &token,
                                    &expires), 0);
    assert_int_equal(strlen(token), 32);
    assert_int_equal(strspn(token, "0123456789abcdef"), 32);
    assert_true(expires >= before + 3600 && expires <= time(NULL) + 3600);

    /* Stored as its BLAKE2b digest, never as itself. */
    char digest[65], *user;
    digest_of(token, digest);
    assert_int_equal(store_token_get(f->store, digest, &user, NULL), 0);
    assert_string_equal(user, "admin");
    free(user);
    assert_int_equal(store_token_get(f->store, token, NULL, NULL), -ENOENT);

    /* Two logins, two different tokens. */
    char *token2 = login_ok(f, "admin", ADMIN_PW);
    assert_string_not_equal(token, token2);
    free(token2);
    free(token);

    /* Failures leave the outputs alone and all say -EACCES. */
    token = (char *) 0x1;
    expires = 7;
    static const char *const bad[][2] = {
        { "admin", "wrong-password" },
        { "admin", "" },
        { "admin", ADMIN_PW "x" },
        { "nobody", ADMIN_PW },
        { "", ADMIN_PW },
        { "bad name", ADMIN_PW },
        { "admin'--", ADMIN_PW },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(security_login(f->sec, bad[i][0], bad[i][1], &token,
                                        &expires), -EACCES);
        assert_ptr_equal(token, (char *) 0x1);
        assert_int_equal(expires, 7);
    }
    assert_int_equal(security_login(f->sec, NULL, ADMIN_PW, &token, &expires),
                     -EACCES);
    assert_int_equal(security_login(f->sec, "admin", NULL, &token, &expires),
                     -EACCES);
    char huge[4096];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_int_equal(security_login(f->sec, "admin", huge, &token, &expires),
                     -EACCES);
}

static void
test_authenticate(void **state)
{
    struct fixture *f = *state;
    char *token = login_ok(f, "admin", ADMIN_PW);
    char *user = NULL;
    enum security_role role = SECURITY_ROLE_VIEWER;

    assert_int_equal(security_authenticate(f->sec, token, &user, &role), 0);
    assert_string_equal(user, "admin");
    assert_int_equal(role, SECURITY_ROLE_ADMIN);
    free(user);

    /* Forged: well-formed but never issued; one bit off; bad shapes. */
    char forged[33];
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(forged, sizeof forged, raw, sizeof raw);
    user = (char *) 0x1;
    assert_int_equal(security_authenticate(f->sec, forged, &user, &role),
                     -EACCES);
    assert_ptr_equal(user, (char *) 0x1);
    strcpy(forged, token);
    forged[31] = forged[31] == '0' ? '1' : '0';
    assert_int_equal(security_authenticate(f->sec, forged, &user, &role),
                     -EACCES);
    char upper[33];
    for (int i = 0; i < 33; i++)
        upper[i] = (char) (token[i] >= 'a' ? token[i] - 32 : token[i]);
    if (strcmp(upper, token))
        assert_int_equal(security_authenticate(f->sec, upper, &user, &role),
                         -EACCES);
    char longer[40];
    snprintf(longer, sizeof longer, "%s00", token);
    assert_int_equal(security_authenticate(f->sec, longer, &user, &role),
                     -EACCES);
    assert_int_equal(security_authenticate(f->sec, token + 1, &user, &role),
                     -EACCES);
    assert_int_equal(security_authenticate(f->sec, "", &user, &role), -EACCES);
    assert_int_equal(security_authenticate(f->sec, NULL, &user, &role),
                     -EACCES);
    /* The digest itself is no credential. */
    char digest[65];
    digest_of(token, digest);
    assert_int_equal(security_authenticate(f->sec, digest, &user, &role),
                     -EACCES);
    assert_ptr_equal(user, (char *) 0x1);

    /* Logout revokes. */
    assert_int_equal(security_logout(f->sec, token), 0);
    assert_int_equal(security_authenticate(f->sec, token, NULL, NULL),
                     -EACCES);
    assert_int_equal(security_logout(f->sec, token), -ENOENT);
    free(token);
}

static void
test_token_expired_lifetime(void **state)
{
    struct fixture *f = *state;
    /* A lifetime of 0 (below what config allows) expires on issue. */
    security_destroy(f->sec);
    f->sec = NULL;
    f->cfg.security_token_lifetime = 0;
    sec_start(f);
    char *token = login_ok(f, "admin", ADMIN_PW);
    char digest[65];
    digest_of(token, digest);
    assert_int_equal(store_token_get(f->store, digest, NULL, NULL), 0);
    assert_int_equal(security_authenticate(f->sec, token, NULL, NULL),
                     -EACCES);
    /* ...and is purged on the way. */
    assert_int_equal(store_token_get(f->store, digest, NULL, NULL), -ENOENT);
    free(token);
}

static void
test_token_expired_row(void **state)
{
    struct fixture *f = *state;
    const char *token = "00112233445566778899aabbccddeeff";
    const char *other = "ffeeddccbbaa99887766554433221100";
    char digest[65], digest2[65];
    digest_of(token, digest);
    digest_of(other, digest2);

    assert_int_equal(store_token_put(f->store, digest, "admin",
                                     time(NULL) + 100), 0);
    assert_int_equal(security_authenticate(f->sec, token, NULL, NULL), 0);

    assert_int_equal(store_token_delete(f->store, digest), 0);
    assert_int_equal(store_token_put(f->store, digest, "admin",
                                     time(NULL) - 1), 0);
    assert_int_equal(store_token_put(f->store, digest2, "admin",
                                     time(NULL) - 1000), 0);
    assert_int_equal(security_authenticate(f->sec, token, NULL, NULL),
                     -EACCES);
    assert_int_equal(store_token_get(f->store, digest, NULL, NULL), -ENOENT);
    assert_int_equal(store_token_get(f->store, digest2, NULL, NULL), -ENOENT);

    /* Tokens that expired while the daemon was down go at start. */
    assert_int_equal(store_token_put(f->store, digest, "admin",
                                     time(NULL) - 1), 0);
    security_destroy(f->sec);
    f->sec = NULL;
    sec_start(f);
    assert_int_equal(store_token_get(f->store, digest, NULL, NULL), -ENOENT);
}

/* --- users --- */

static void
expect_put_error(struct fixture *f, const char *name, const char *pw,
                 const char *role, int error, const char *path)
{
    struct corch_err err = { .path = "", .msg = "" };
    bool created = true;
    int r = security_user_put(f->sec, name, pw, role, &created, &err);
    if (r != error)
        fail_msg("put %s/%s/%s: got %d, want %d (%s)", name ? name : "NULL",
                 pw ? pw : "NULL", role ? role : "NULL", r, error, err.msg);
    assert_string_equal(err.path, path);
    assert_true(err.msg[0] != '\0');
    assert_true(created);
}

static void
test_user_put(void **state)
{
    struct fixture *f = *state;
    put_ok(f, "alice", "alice-password", "operator", true);
    char *token = login_ok(f, "alice", "alice-password");
    enum security_role role;
    char *user;
    assert_int_equal(security_authenticate(f->sec, token, &user, &role), 0);
    assert_int_equal(role, SECURITY_ROLE_OPERATOR);
    free(user);

    /* Role change: immediate, tokens kept. */
    put_ok(f, "alice", NULL, "viewer", false);
    assert_int_equal(security_authenticate(f->sec, token, NULL, &role), 0);
    assert_int_equal(role, SECURITY_ROLE_VIEWER);
    free(login_ok(f, "alice", "alice-password"));

    /* Password change: old password and old tokens stop working. */
    put_ok(f, "alice", "new-alice-password", NULL, false);
    assert_int_equal(security_authenticate(f->sec, token, NULL, NULL),
                     -EACCES);
    char *t;
    int64_t e;
    assert_int_equal(security_login(f->sec, "alice", "alice-password", &t, &e),
                     -EACCES);
    free(token);
    token = login_ok(f, "alice", "new-alice-password");
    assert_int_equal(security_authenticate(f->sec, token, NULL, &role), 0);
    assert_int_equal(role, SECURITY_ROLE_VIEWER);   /* Role kept. */
    free(token);

    /* Edge lengths accepted. */
    char name32[33], pw128[129];
    memset(name32, 'n', 32);
    name32[32] = '\0';
    memset(pw128, 'p', 128);
    pw128[128] = '\0';
    put_ok(f, name32, pw128, "viewer", true);
    put_ok(f, "A.b_c-9", "12345678", "admin", true);

    /* Bad values name their field. */
    char name33[34], pw129[130];
    memset(name33, 'n', 33);
    name33[33] = '\0';
    memset(pw129, 'p', 129);
    pw129[129] = '\0';
    expect_put_error(f, name33, "password1", "viewer", -EINVAL, "name");
    expect_put_error(f, "", "password1", "viewer", -EINVAL, "name");
    expect_put_error(f, NULL, "password1", "viewer", -EINVAL, "name");
    expect_put_error(f, "bad/name", "password1", "viewer", -EINVAL, "name");
    expect_put_error(f, "bad name", "password1", "viewer", -EINVAL, "name");
    expect_put_error(f, "caf\xc3\xa9", "password1", "viewer", -EINVAL, "name");
    expect_put_error(f, "bob", "1234567", "viewer", -EINVAL, "password");
    expect_put_error(f, "bob", "", "viewer", -EINVAL, "password");
    expect_put_error(f, "bob", pw129, "viewer", -EINVAL, "password");
    expect_put_error(f, "bob", "password1", "root", -EINVAL, "role");
    expect_put_error(f, "bob", "password1", "", -EINVAL, "role");
    expect_put_error(f, "bob", NULL, "viewer", -EINVAL, "password");
    expect_put_error(f, "bob", "password1", NULL, -EINVAL, "role");
    expect_put_error(f, "alice", "short", NULL, -EINVAL, "password");
    assert_int_equal(store_user_get(f->store, "bob", NULL, NULL), -ENOENT);

    /* ret_created may be NULL. */
    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(security_user_put(f->sec, "carol", "carol-password",
                                       "viewer", NULL, &err), 0);

    json_object *list = security_user_list(f->sec);
    assert_non_null(list);
    assert_string_equal(
        json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN),
        "{\"users\":["
        "{\"name\":\"A.b_c-9\",\"role\":\"admin\"},"
        "{\"name\":\"admin\",\"role\":\"admin\"},"
        "{\"name\":\"alice\",\"role\":\"viewer\"},"
        "{\"name\":\"carol\",\"role\":\"viewer\"},"
        "{\"name\":\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\",\"role\":\"viewer\"}"
        "]}");
    json_object_put(list);
}

static void
test_user_delete(void **state)
{
    struct fixture *f = *state;
    struct corch_err err = { .path = "", .msg = "" };

    assert_int_equal(security_user_delete(f->sec, "ghost"), -ENOENT);
    assert_int_equal(security_user_delete(f->sec, "../x"), -ENOENT);
    assert_int_equal(security_user_delete_err(f->sec, "ghost", &err), -ENOENT);
    assert_non_null(strstr(err.msg, "ghost"));

    put_ok(f, "bob", "bob-password", "operator", true);
    char *t1 = login_ok(f, "bob", "bob-password");
    char *t2 = login_ok(f, "bob", "bob-password");
    char *ta = login_ok(f, "admin", ADMIN_PW);

    /* Not while it owns graphs (issue 16, point 5): a new "bob" would
     * inherit them.  The refusal changes nothing. */
    struct store_graph row = {
        .id = (char *) "bobs", .owner = (char *) "bob",
        .sffg = (char *) "{}", .format = (char *) "sffg",
        .status = (char *) "running",
    };
    assert_int_equal(store_graph_put(f->store, &row), 0);
    row.id = (char *) "bobs-too";
    assert_int_equal(store_graph_put(f->store, &row), 0);
    row.id = (char *) "bobby";
    row.owner = (char *) "bobby";
    assert_int_equal(store_graph_put(f->store, &row), 0);
    assert_int_equal(security_user_delete_err(f->sec, "bob", &err), -EBUSY);
    assert_int_equal(err.kind, CORCH_ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "owns 2 graphs"));
    assert_int_equal(security_authenticate(f->sec, t1, NULL, NULL), 0);
    assert_int_equal(store_graph_delete(f->store, "bobs"), 0);
    assert_int_equal(security_user_delete(f->sec, "bob"), -EBUSY);
    assert_int_equal(store_graph_delete(f->store, "bobs-too"), 0);

    assert_int_equal(security_user_delete(f->sec, "bob"), 0);
    assert_int_equal(security_authenticate(f->sec, t1, NULL, NULL), -EACCES);
    assert_int_equal(security_authenticate(f->sec, t2, NULL, NULL), -EACCES);
    assert_int_equal(security_authenticate(f->sec, ta, NULL, NULL), 0);
    char *t;
    int64_t e;
    assert_int_equal(security_login(f->sec, "bob", "bob-password", &t, &e),
                     -EACCES);
    assert_int_equal(security_user_delete(f->sec, "bob"), -ENOENT);
    free(t1);
    free(t2);
    free(ta);
}

static void
test_last_admin(void **state)
{
    struct fixture *f = *state;
    struct corch_err err = { .path = "", .msg = "" };

    /* The only admin can be neither deleted nor demoted. */
    assert_int_equal(security_user_delete(f->sec, "admin"), -EPERM);
    assert_int_equal(security_user_delete_err(f->sec, "admin", &err), -EPERM);
    assert_non_null(strstr(err.msg, "last admin"));
    expect_put_error(f, "admin", NULL, "operator", -EPERM, "role");
    expect_put_error(f, "admin", "new-password", "viewer", -EPERM, "role");
    char *role;
    assert_int_equal(store_user_get(f->store, "admin", NULL, &role), 0);
    assert_string_equal(role, "admin");
    free(role);
    free(login_ok(f, "admin", ADMIN_PW));       /* Password unchanged too. */

    /* Its password can change; it stays admin. */
    put_ok(f, "admin", "rotated-password", NULL, false);
    put_ok(f, "admin", NULL, "admin", false);
    free(login_ok(f, "admin", "rotated-password"));

    /* With a second admin, one may go. */
    put_ok(f, "root2", "root2-password", "admin", true);
    put_ok(f, "admin", NULL, "operator", false);
    assert_int_equal(security_user_delete(f->sec, "root2"), -EPERM);
    put_ok(f, "admin", NULL, "admin", false);
    assert_int_equal(security_user_delete(f->sec, "root2"), 0);
    assert_int_equal(security_user_delete(f->sec, "admin"), -EPERM);
}

/* Logins, token checks and user changes from several threads at once, as
 * the REST worker threads do. */
#define N_THREADS 4
#define N_ROUNDS 25

struct worker {
    struct security *sec;       /* Shared. */
    int index;                  /* Which thread. */
    int failures;               /* Unexpected results. */
};

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    char name[32], pw[32];
    snprintf(name, sizeof name, "worker%d", w->index);
    snprintf(pw, sizeof pw, "password-%d", w->index);
    if (security_user_put(w->sec, name, pw, "operator", NULL, NULL) != 0)
        w->failures++;
    for (int i = 0; i < N_ROUNDS; i++) {
        char *token, *user;
        int64_t e;
        enum security_role role;
        if (security_login(w->sec, name, pw, &token, &e) != 0) {
            w->failures++;
            continue;
        }
        if (security_authenticate(w->sec, token, &user, &role) != 0)
            w->failures++;
        else {
            if (strcmp(user, name) || role != SECURITY_ROLE_OPERATOR)
                w->failures++;
            free(user);
        }
        if (security_login(w->sec, name, "not-the-password", &user, &e)
            != -EACCES)
            w->failures++;
        if (security_logout(w->sec, token) != 0)
            w->failures++;
        free(token);
    }
    if (security_user_delete(w->sec, name) != 0)
        w->failures++;
    return NULL;
}

static void
test_concurrent(void **state)
{
    struct fixture *f = *state;
    pthread_t threads[N_THREADS];
    struct worker workers[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        workers[i] = (struct worker) { f->sec, i, 0 };
        assert_int_equal(pthread_create(&threads[i], NULL, worker_main,
                                        &workers[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].failures, 0);
    }
    size_t n;
    assert_int_equal(store_user_count(f->store, &n), 0);
    assert_int_equal(n, 1);
}

/* With the real cost: an unknown user costs what a wrong password costs,
 * an old cheap hash is upgraded on login, and the 64 MiB argon2id works
 * in does not stay resident. */
static long
rss_kib(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!fp)
        return -1;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(fp);
    return kib;
}

static double
login_seconds(struct fixture *f, const char *user, const char *pw,
              int expect)
{
    char *token = NULL;
    int64_t e;
    uint64_t t0 = time_ns();
    int r = security_login(f->sec, user, pw, &token, &e);
    double s = (double) (time_ns() - t0) / 1e9;
    assert_int_equal(r, expect);
    free(token);
    return s;
}

static void
test_real_cost(void **state)
{
    struct fixture *f = *state;
    char *hash;

    /* "alice" was hashed with the test cost; the real cost upgrades it. */
    put_ok(f, "alice", "alice-password", "operator", true);
    security_set_fast_hash_for_tests(false);
    long rss0 = rss_kib();
    login_seconds(f, "alice", "alice-password", 0);
    assert_int_equal(store_user_get(f->store, "alice", &hash, NULL), 0);
    assert_non_null(strstr(hash, "m=65536"));
    free(hash);

    /* Remakes the dummy hash at the real cost. */
    login_seconds(f, "nobody", "whatever-pw", -EACCES);
    /* The fastest of a few runs: robust against a busy machine. */
    double wrong = 1e9, unknown = 1e9;
    for (int i = 0; i < 3; i++) {
        double w = login_seconds(f, "alice", "wrong-password", -EACCES);
        double u = login_seconds(f, "nobody", "wrong-password", -EACCES);
        wrong = w < wrong ? w : wrong;
        unknown = u < unknown ? u : unknown;
    }
    double ok = login_seconds(f, "alice", "alice-password", 0);
    long rss1 = rss_kib();
    security_set_fast_hash_for_tests(true);

    print_message("login: ok %.3f s, wrong password %.3f s, unknown user "
                  "%.3f s; RSS %ld -> %ld KiB\n", ok, wrong, unknown,
                  rss0, rss1);
    /* Loose bounds: the machine is shared and busy. */
    assert_true(unknown > wrong / 3 && unknown < wrong * 3);
    assert_true(wrong > 0.005);
    /* Far less than the 64 MiB argon2id used. */
    assert_true(rss1 - rss0 < 16 * 1024);
}

int
main(void)
{
    log_set_level(LOG_LEVEL_ERR);
    security_set_fast_hash_for_tests(true);
#define T(NAME) cmocka_unit_test_setup_teardown(NAME, setup, teardown)
#define TB(NAME) cmocka_unit_test_setup_teardown(NAME, setup_bare, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_names),
        cmocka_unit_test(test_matrix),
        T(test_bootstrap_from_config),
        TB(test_bootstrap_from_env),
        TB(test_bootstrap_without_password),
        TB(test_bootstrap_skipped_when_users_exist),
        TB(test_bootstrap_bad_password),
        T(test_login),
        T(test_authenticate),
        T(test_token_expired_lifetime),
        T(test_token_expired_row),
        T(test_user_put),
        T(test_user_delete),
        T(test_last_admin),
        T(test_concurrent),
        T(test_real_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
