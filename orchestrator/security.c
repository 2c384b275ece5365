#include <config.h>
#include "security.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "corch-config.h"
#include "log.h"
#include "store.h"

LOG_MODULE(security);

#define SECURITY_PASSWORD_MIN 8         /* Bytes. */
#define SECURITY_PASSWORD_MAX 128       /* Bytes. */
#define SECURITY_NAME_MAX 32            /* Bytes. */
#define SECURITY_TOKEN_BYTES 16         /* 128 random bits. */
#define SECURITY_TOKEN_HEX (2 * SECURITY_TOKEN_BYTES)
#define SECURITY_DIGEST_BYTES crypto_generichash_BYTES   /* BLAKE2b-256. */
#define SECURITY_DIGEST_HEX (2 * SECURITY_DIGEST_BYTES)

struct security {
    struct store *store;        /* Users and tokens; not owned. */
    int64_t token_lifetime;     /* Seconds a token is valid. */
    /* Serialises password hashing: one argon2id computation maps 64 MiB,
     * so N concurrent logins would map N x 64 MiB on a small box.  It also
     * paces password guessing. */
    pthread_mutex_t hash_lock;
    /* Serialises user changes, so that the last-admin check and the write
     * that follows it cannot interleave with another change. */
    pthread_mutex_t user_lock;
    /* A hash of a random password, verified against when the user is
     * unknown so that "no such user" costs what "wrong password" costs.
     * Made at creation and again when the cost changes, under hash_lock;
     * public, not a secret. */
    char dummy_hash[crypto_pwhash_STRBYTES];
};

/* Unit tests hash with the minimum cost; never set in the daemon. */
static atomic_bool security_fast_hash;

void
security_set_fast_hash_for_tests(bool fast)
{
    atomic_store(&security_fast_hash, fast);
}

static void
security_hash_limits(unsigned long long *ops, size_t *mem)
{
    if (atomic_load(&security_fast_hash)) {
        *ops = crypto_pwhash_argon2id_OPSLIMIT_MIN;
        *mem = crypto_pwhash_argon2id_MEMLIMIT_MIN;
    } else {
        *ops = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
    }
}

static pthread_once_t security_sodium_once = PTHREAD_ONCE_INIT;
static int security_sodium_status;

static void
security_sodium_init(void)
{
    security_sodium_status = sodium_init();
}

/* --- roles and the matrix --- */

static const char *const security_role_names[] = {
    [SECURITY_ROLE_ADMIN] = "admin",
    [SECURITY_ROLE_OPERATOR] = "operator",
    [SECURITY_ROLE_VIEWER] = "viewer",
};

const char *
security_role_name(enum security_role role)
{
    if ((size_t) role < ARRAY_SIZE(security_role_names))
        return security_role_names[role];
    return "unknown";
}

int
security_role_from_string(const char *s, enum security_role *ret_role)
{
    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < ARRAY_SIZE(security_role_names); i++) {
        if (!strcmp(s, security_role_names[i])) {
            *ret_role = (enum security_role) i;
            return 0;
        }
    }
    return -EINVAL;
}

bool
security_authorize(enum security_role role, const char *user,
                   enum security_action action, const char *owner)
{
    /* An object is "own" only if both names are known and equal: a graph
     * without owner (created with auth off) belongs to no operator. */
    bool own = user && owner && !strcmp(user, owner);

    switch (role) {
    case SECURITY_ROLE_ADMIN:
        return true;
    case SECURITY_ROLE_OPERATOR:
        switch (action) {
        case SECURITY_GRAPH_LIST:       /* REST filters it to its own. */
        case SECURITY_GRAPH_CREATE:
        case SECURITY_NODE_READ:
            return true;
        case SECURITY_GRAPH_READ:
        case SECURITY_GRAPH_UPDATE:
        case SECURITY_GRAPH_DELETE:
            return own;
        case SECURITY_USER_ADMIN:
            return false;
        }
        return false;
    case SECURITY_ROLE_VIEWER:
        switch (action) {
        case SECURITY_GRAPH_LIST:
        case SECURITY_GRAPH_READ:
        case SECURITY_NODE_READ:
            return true;
        case SECURITY_GRAPH_CREATE:
        case SECURITY_GRAPH_UPDATE:
        case SECURITY_GRAPH_DELETE:
        case SECURITY_USER_ADMIN:
            return false;
        }
        return false;
    }
    return false;                       /* Unknown role: deny. */
}

/* --- helpers --- */

/* User names: [A-Za-z0-9_.-]{1,32}. */
static bool
security_name_is_valid(const char *s)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++) {
        if (n >= SECURITY_NAME_MAX)
            return false;
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static bool
security_password_len_ok(const char *pw)
{
    size_t n = pw ? strnlen(pw, SECURITY_PASSWORD_MAX + 1) : 0;
    return n >= SECURITY_PASSWORD_MIN && n <= SECURITY_PASSWORD_MAX;
}

/* Hashes 'pw' with the current cost into 'out'. */
static int
security_hash(struct security *sec, const char *pw,
              char out[crypto_pwhash_STRBYTES])
{
    unsigned long long ops;
    size_t mem;
    security_hash_limits(&ops, &mem);
    pthread_mutex_lock(&sec->hash_lock);
    int rc = crypto_pwhash_str_alg(out, pw, strlen(pw), ops, mem,
                                   crypto_pwhash_ALG_ARGON2ID13);
    pthread_mutex_unlock(&sec->hash_lock);
    if (rc != 0) {
        LOG_ERR("password hashing failed (out of memory?)");
        return -ENOMEM;
    }
    return 0;
}

/* (Re)makes the dummy hash if it is missing or was made with another
 * cost than the current one.  Called with hash_lock held. */
static void
security_dummy_refresh(struct security *sec)
{
    unsigned long long ops;
    size_t mem;
    security_hash_limits(&ops, &mem);
    if (sec->dummy_hash[0]
        && crypto_pwhash_str_needs_rehash(sec->dummy_hash, ops, mem) == 0)
        return;
    unsigned char junk[16];
    char junk_hex[2 * sizeof junk + 1];
    randombytes_buf(junk, sizeof junk);
    sodium_bin2hex(junk_hex, sizeof junk_hex, junk, sizeof junk);
    if (crypto_pwhash_str_alg(sec->dummy_hash, junk_hex, strlen(junk_hex),
                              ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        sec->dummy_hash[0] = '\0';
}

/* Whether 'pw' matches 'hash'.  A NULL hash verifies against the dummy
 * hash, which spends the same time and always fails. */
static bool
security_verify(struct security *sec, const char *hash, const char *pw)
{
    bool ok;

    pthread_mutex_lock(&sec->hash_lock);
    if (!hash) {
        security_dummy_refresh(sec);
        /* Its result is meaningless: only the time it takes matters. */
        if (sec->dummy_hash[0]
            && crypto_pwhash_str_verify(sec->dummy_hash, pw, strlen(pw)) == 0)
            LOG_DBG("dummy hash matched");
        ok = false;
    } else {
        ok = crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
    }
    pthread_mutex_unlock(&sec->hash_lock);
    return ok;
}

/* The hex BLAKE2b-256 of a token's text: what the store keeps. */
static void
security_token_digest(const char *token, char out[SECURITY_DIGEST_HEX + 1])
{
    unsigned char d[SECURITY_DIGEST_BYTES];
    crypto_generichash(d, sizeof d, (const unsigned char *) token,
                       strlen(token), NULL, 0);
    sodium_bin2hex(out, SECURITY_DIGEST_HEX + 1, d, sizeof d);
}

static bool
security_token_is_well_formed(const char *token)
{
    if (!token || strnlen(token, SECURITY_TOKEN_HEX + 1) != SECURITY_TOKEN_HEX)
        return false;
    for (const char *p = token; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static int
security_count_admins(struct security *sec, size_t *ret_n)
{
    char **names, **roles;
    int r = store_user_list(sec->store, &names, &roles);
    if (r < 0)
        return r;
    size_t n = 0;
    for (size_t i = 0; names[i]; i++)
        if (!strcmp(roles[i], "admin"))
            n++;
    strv_free(names);
    strv_free(roles);
    *ret_n = n;
    return 0;
}

/* --- life cycle --- */

int
security_create(const struct corch_config *cfg, struct store *store,
                struct security **ret, struct corch_err *err)
{
    pthread_once(&security_sodium_once, security_sodium_init);
    if (security_sodium_status < 0)
        return corch_err_set(err, -EIO, NULL, "libsodium failed to initialise");

    struct security *sec = xcalloc(1, sizeof *sec);
    sec->store = store;
    sec->token_lifetime = cfg->security_token_lifetime;
    pthread_mutex_init(&sec->hash_lock, NULL);
    pthread_mutex_init(&sec->user_lock, NULL);

    size_t n;
    int r = store_user_count(store, &n);
    if (r < 0) {
        corch_err_set(err, r, NULL, "cannot count users in the state store");
        goto fail;
    }
    if (n == 0 && cfg->security_admin_password) {
        if (!security_password_len_ok(cfg->security_admin_password)) {
            r = corch_err_set(err, -EINVAL, "security.admin_password",
                              "security.admin_password must be %d to %d bytes",
                              SECURITY_PASSWORD_MIN, SECURITY_PASSWORD_MAX);
            goto fail;
        }
        r = security_user_put(sec, "admin", cfg->security_admin_password,
                              "admin", NULL, err);
        if (r < 0) {
            corch_err_prefix(err, "cannot create user admin");
            goto fail;
        }
        LOG_INFO("created user \"admin\" from security.admin_password");
    } else if (n > 0 && cfg->security_admin_password) {
        /* Said out loud: an operator may think this rotates the password. */
        LOG_INFO("users exist: security.admin_password is ignored (change "
                 "a password with PUT /v1/users/{name}, see "
                 "docs/security.md)");
    } else if (n == 0 && cfg->security_auth) {
        LOG_WARN("no user exists, so every authenticated call will be "
                 "refused: set security.admin_password (or the environment "
                 "variable CORCH_ADMIN_PASSWORD) and restart to create user "
                 "\"admin\"");
    }
    /* Made now rather than at the first unknown user, whose answer would
     * otherwise take twice as long as a wrong password's. */
    pthread_mutex_lock(&sec->hash_lock);
    security_dummy_refresh(sec);
    pthread_mutex_unlock(&sec->hash_lock);

    /* Tokens that expired while the daemon was down. */
    store_token_purge(store, time(NULL));

    *ret = sec;
    return 0;

fail:
    security_destroy(sec);
    return r;
}

void
security_destroy(struct security *sec)
{
    if (!sec)
        return;
    pthread_mutex_destroy(&sec->hash_lock);
    pthread_mutex_destroy(&sec->user_lock);
    free(sec);
}

/* --- login and tokens --- */

int
security_login(struct security *sec, const char *user, const char *password,
               char **ret_token, int64_t *ret_expires)
{
    _cleanup_free_ char *hash = NULL, *role = NULL;
    int r;

    if (!password)
        password = "";
    /* Names that cannot exist and passwords that cannot match still cost
     * a verification: the answer's timing must not tell them apart. */
    if (!security_name_is_valid(user)
        || strnlen(password, SECURITY_PASSWORD_MAX + 1) > SECURITY_PASSWORD_MAX) {
        security_verify(sec, NULL, "");
        LOG_WARN_RL("login refused: malformed user name or password");
        return -EACCES;
    }
    r = store_user_get(sec->store, user, &hash, &role);
    if (r == -ENOENT) {
        security_verify(sec, NULL, password);
        LOG_WARN_RL("login refused for \"%s\": no such user", user);
        return -EACCES;
    }
    if (r < 0)
        return r;
    if (!security_verify(sec, hash, password)) {
        LOG_WARN_RL("login refused for \"%s\": wrong password", user);
        return -EACCES;
    }

    /* A hash made with another cost (older defaults) is upgraded now that
     * we know the password. */
    unsigned long long ops;
    size_t mem;
    security_hash_limits(&ops, &mem);
    if (crypto_pwhash_str_needs_rehash(hash, ops, mem) != 0) {
        char fresh[crypto_pwhash_STRBYTES];
        if (security_hash(sec, password, fresh) == 0) {
            pthread_mutex_lock(&sec->user_lock);
            _cleanup_free_ char *cur_hash = NULL, *cur_role = NULL;
            /* Only if the hash is still the one we verified: a password
             * changed meanwhile must not be overwritten by the old one. */
            if (store_user_get(sec->store, user, &cur_hash, &cur_role) == 0
                && !strcmp(cur_hash, hash)
                && store_user_put(sec->store, user, fresh, cur_role) == 0)
                LOG_INFO("password hash of \"%s\" upgraded to the current "
                         "cost", user);
            pthread_mutex_unlock(&sec->user_lock);
        }
        sodium_memzero(fresh, sizeof fresh);
    }

    int64_t now = time(NULL);
    store_token_purge(sec->store, now);

    unsigned char raw[SECURITY_TOKEN_BYTES];
    char token[SECURITY_TOKEN_HEX + 1];
    char digest[SECURITY_DIGEST_HEX + 1];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token, sizeof token, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    security_token_digest(token, digest);

    int64_t expires = now + sec->token_lifetime;
    r = store_token_put(sec->store, digest, user, expires);
    if (r < 0) {
        sodium_memzero(token, sizeof token);
        /* -ENOENT: the user was deleted meanwhile. */
        return r == -ENOENT ? -EACCES : -EIO;
    }
    LOG_INFO("user \"%s\" logged in", user);
    *ret_token = xstrdup(token);
    sodium_memzero(token, sizeof token);
    if (ret_expires)
        *ret_expires = expires;
    return 0;
}

int
security_authenticate(struct security *sec, const char *token,
                      char **ret_user, enum security_role *ret_role)
{
    if (!security_token_is_well_formed(token))
        return -EACCES;

    /* The lookup is keyed by a digest of the token, so its timing tells
     * nothing about the token's bytes. */
    char digest[SECURITY_DIGEST_HEX + 1];
    security_token_digest(token, digest);

    _cleanup_free_ char *user = NULL, *role_name = NULL;
    int64_t expires;
    int r = store_token_get(sec->store, digest, &user, &expires);
    if (r == -ENOENT)
        return -EACCES;
    if (r < 0)
        return r;

    int64_t now = time(NULL);
    if (expires <= now) {
        store_token_delete(sec->store, digest);
        store_token_purge(sec->store, now);
        return -EACCES;
    }

    enum security_role role;
    r = store_user_get(sec->store, user, NULL, &role_name);
    if (r == -ENOENT)
        return -EACCES;
    if (r < 0)
        return r;
    if (security_role_from_string(role_name, &role) < 0) {
        LOG_ERR("user \"%s\" has an unknown role \"%s\" in the store", user,
                role_name);
        return -EACCES;
    }
    if (ret_user)
        *ret_user = TAKE_PTR(user);
    if (ret_role)
        *ret_role = role;
    return 0;
}

int
security_logout(struct security *sec, const char *token)
{
    if (!security_token_is_well_formed(token))
        return -ENOENT;
    char digest[SECURITY_DIGEST_HEX + 1];
    security_token_digest(token, digest);
    return store_token_delete(sec->store, digest);
}

/* --- users --- */

int
security_user_put(struct security *sec, const char *name,
                  const char *password, const char *role,
                  bool *ret_created, struct corch_err *err)
{
    enum security_role new_role = SECURITY_ROLE_VIEWER;
    char hash[crypto_pwhash_STRBYTES] = "";
    int r;

    if (!security_name_is_valid(name))
        return corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, "name",
                              "user name must match [A-Za-z0-9_.-]{1,32}");
    if (password && !security_password_len_ok(password))
        return corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, "password",
                              "password must be %d to %d bytes long",
                              SECURITY_PASSWORD_MIN, SECURITY_PASSWORD_MAX);
    if (role && security_role_from_string(role, &new_role) < 0)
        return corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, "role",
                              "role must be admin, operator or viewer");

    /* Hash before taking user_lock: it is the slow part. */
    if (password) {
        r = security_hash(sec, password, hash);
        if (r < 0)
            return corch_err_set(err, r, NULL, "cannot hash the password");
    }

    pthread_mutex_lock(&sec->user_lock);
    _cleanup_free_ char *old_hash = NULL, *old_role = NULL;
    r = store_user_get(sec->store, name, &old_hash, &old_role);
    bool created = r == -ENOENT;
    if (r < 0 && !created) {
        corch_err_set(err, r, NULL, "cannot read user \"%s\": %s", name,
                      strerror(-r));
        goto out;
    }
    if (created && !password) {
        r = corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, "password",
                           "a new user needs a password");
        goto out;
    }
    if (created && !role) {
        r = corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, "role",
                           "a new user needs a role (admin, operator or "
                           "viewer)");
        goto out;
    }
    if (!created && role && !strcmp(old_role, "admin")
        && new_role != SECURITY_ROLE_ADMIN) {
        size_t admins;
        r = security_count_admins(sec, &admins);
        if (r < 0) {
            corch_err_set(err, r, NULL, "cannot count admins");
            goto out;
        }
        if (admins <= 1) {
            r = corch_err_setk(err, CORCH_ERR_CONFLICT, -EPERM, "role",
                               "\"%s\" is the last admin: make another user "
                               "admin before changing its role", name);
            goto out;
        }
    }

    r = store_user_put(sec->store, name, password ? hash : old_hash,
                       role ? role : old_role);
    if (r < 0) {
        corch_err_set(err, r, NULL, "cannot store user \"%s\": %s", name,
                      strerror(-r));
        goto out;
    }
    /* A new password ends the sessions opened with the old one. */
    if (!created && password)
        store_token_delete_user(sec->store, name);
    LOG_INFO("user \"%s\" %s (role %s%s)", name,
             created ? "created" : "updated", role ? role : old_role,
             !created && password ? ", new password" : "");
    if (ret_created)
        *ret_created = created;

out:
    pthread_mutex_unlock(&sec->user_lock);
    sodium_memzero(hash, sizeof hash);
    return r;
}

int
security_user_delete_err(struct security *sec, const char *name,
                         struct corch_err *err)
{
    int r;

    if (!security_name_is_valid(name))
        return corch_err_setk(err, CORCH_ERR_NOT_FOUND, -ENOENT, NULL,
                              "no user \"%.64s\"", name);

    pthread_mutex_lock(&sec->user_lock);
    _cleanup_free_ char *role = NULL;
    r = store_user_get(sec->store, name, NULL, &role);
    if (r == -ENOENT) {
        corch_err_setk(err, CORCH_ERR_NOT_FOUND, r, NULL, "no user \"%s\"",
                       name);
        goto out;
    }
    if (r < 0) {
        corch_err_set(err, r, NULL, "cannot read user \"%s\": %s", name,
                      strerror(-r));
        goto out;
    }
    if (!strcmp(role, "admin")) {
        size_t admins;
        r = security_count_admins(sec, &admins);
        if (r < 0) {
            corch_err_set(err, r, NULL, "cannot count admins");
            goto out;
        }
        if (admins <= 1) {
            r = corch_err_setk(err, CORCH_ERR_CONFLICT, -EPERM, NULL,
                               "\"%s\" is the last admin: make another user "
                               "admin before deleting it", name);
            LOG_WARN_RL("%s", err ? err->msg : "refused to delete the last admin");
            goto out;
        }
    }
    /* Graphs record their owner by name: deleted now, the user's graphs
     * would pass to the next user given that name.  The admin deletes or
     * reassigns them first. */
    size_t owned;
    r = store_graph_count_owner(sec->store, name, &owned);
    if (r < 0) {
        corch_err_set(err, r, NULL, "cannot count the graphs of \"%s\"",
                      name);
        goto out;
    }
    if (owned) {
        r = corch_err_setk(err, CORCH_ERR_CONFLICT, -EBUSY, NULL,
                           "user \"%s\" owns %zu graph%s: delete %s first",
                           name, owned, owned == 1 ? "" : "s",
                           owned == 1 ? "it" : "them");
        goto out;
    }
    /* The schema cascades too; revoking first says what we mean. */
    r = store_token_delete_user(sec->store, name);
    if (r == 0)
        r = store_user_delete(sec->store, name);
    if (r < 0) {
        corch_err_set(err, r, NULL, "cannot delete user \"%s\": %s", name,
                      strerror(-r));
        goto out;
    }
    LOG_INFO("user \"%s\" deleted, its tokens revoked", name);

out:
    pthread_mutex_unlock(&sec->user_lock);
    return r;
}

int
security_user_delete(struct security *sec, const char *name)
{
    return security_user_delete_err(sec, name, NULL);
}

json_object *
security_user_list(struct security *sec)
{
    char **names, **roles;
    if (store_user_list(sec->store, &names, &roles) < 0)
        return NULL;
    json_object *users = json_object_new_array();
    for (size_t i = 0; names[i]; i++) {
        json_object *u = json_object_new_object();
        json_object_object_add(u, "name", json_object_new_string(names[i]));
        json_object_object_add(u, "role", json_object_new_string(roles[i]));
        json_object_array_add(users, u);
    }
    strv_free(names);
    strv_free(roles);
    json_object *root = json_object_new_object();
    json_object_object_add(root, "users", users);
    return root;
}
