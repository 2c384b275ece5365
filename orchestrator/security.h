/* The security manager (paper 5.1): users, roles, passwords, tokens, and
 * the authorisation matrix every REST call goes through.
 *
 * Passwords are stored as libsodium argon2id hashes; tokens are 128 random
 * bits, handed out once and stored as a digest; all secret comparisons
 * are constant-time. */
#ifndef CORCH_SECURITY_H
#define CORCH_SECURITY_H 1

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct corch_config;
struct store;
struct security;

enum security_role {
    SECURITY_ROLE_ADMIN,        /* Everything, including users. */
    SECURITY_ROLE_OPERATOR,     /* Creates graphs; reads, updates and
                                 * deletes its own. */
    SECURITY_ROLE_VIEWER,       /* Reads everything, changes nothing. */
};
const char *security_role_name(enum security_role);
int security_role_from_string(const char *, enum security_role *ret_role);

/* What a request wants to do, for security_authorize(). */
enum security_action {
    SECURITY_GRAPH_LIST,        /* GET /v1/graphs */
    SECURITY_GRAPH_CREATE,      /* PUT of a new graph, POST /NF-FG/ */
    SECURITY_GRAPH_READ,        /* GET of one graph / its status */
    SECURITY_GRAPH_UPDATE,      /* PUT of an existing graph */
    SECURITY_GRAPH_DELETE,      /* DELETE of a graph */
    SECURITY_NODE_READ,         /* GET /v1/node */
    SECURITY_USER_ADMIN,        /* /v1/users */
};

/* Creates the manager.  If the store has no user and the configuration has
 * an admin password, creates user "admin" with it. */
int security_create(const struct corch_config *, struct store *,
                    struct security **ret, struct corch_err *err);
void security_destroy(struct security *);       /* Accepts NULL. */

/* Password check and token issue.  -EACCES on bad credentials (the same
 * error, and about the same time, for an unknown user). */
int security_login(struct security *, const char *user, const char *password,
                   char **ret_token, int64_t *ret_expires);
/* Token check.  -EACCES if unknown or expired. */
int security_authenticate(struct security *, const char *token,
                          char **ret_user, enum security_role *ret_role);

/* Creates or updates a user.  'password' may be NULL on update (keeps the
 * old one).  -EINVAL (kind invalid) with the field in err->path ("name",
 * "password", "role") for a bad value.  'role' may be NULL on update
 * (keeps the old one); a new user needs both.  -EPERM (kind conflict,
 * path "role") when demoting the last admin; a store error is kind
 * failed.  A new password revokes the user's tokens. */
int security_user_put(struct security *, const char *name,
                      const char *password, const char *role,
                      bool *ret_created, struct corch_err *err);
/* Deletes a user and revokes its tokens.  -ENOENT if unknown, -EPERM for
 * the last admin, -EBUSY while it owns graphs (security_user_delete_err()
 * says why). */
int security_user_delete(struct security *, const char *name);
/* {"users":[{"name","role"}]}; caller owns it.  NULL on a store error. */
json_object *security_user_list(struct security *);

/* The authorisation matrix: whether 'user' with 'role' may do 'action' on
 * an object owned by 'owner' (NULL where no object is involved).  Pure
 * function: no I/O. */
bool security_authorize(enum security_role role, const char *user,
                        enum security_action action, const char *owner);

/* Lowers the password-hash cost; for unit tests only. */
void security_set_fast_hash_for_tests(bool fast);

/* Added after the first contract (backwards compatible). */
/* security_user_delete() with the reason in 'err': -ENOENT (kind
 * not-found: unknown user, or a name no user can have), -EPERM (kind
 * conflict: the last admin cannot be deleted), -EBUSY (kind conflict: the
 * user owns graphs, the message says how many; graphs record their owner
 * by name, and a new user of that name would inherit them). */
int security_user_delete_err(struct security *, const char *name,
                             struct corch_err *err);
/* Revokes one token.  -ENOENT if unknown. */
int security_logout(struct security *, const char *token);

#endif
