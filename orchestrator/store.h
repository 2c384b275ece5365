/* The state store: one SQLite database in state.dir holding the desired
 * state (graphs as accepted, with their status), users and tokens, and a
 * few node facts (the node id).  Thread-safe: every call may come from any
 * thread.  Functions return 0 or a negative errno (-ENOENT: no such row,
 * -EIO: database error, logged). */
#ifndef CORCH_STORE_H
#define CORCH_STORE_H 1

#include <stdint.h>
#include <stddef.h>

#include "util.h"

struct store;

/* Opens (creating if needed) the database at 'path' and its schema. */
int store_open(const char *path, struct store **ret_store,
               struct corch_err *err);
void store_close(struct store *);               /* Accepts NULL. */

/* Node facts: small key/value pairs. */
int store_meta_get(struct store *, const char *key, char **ret_value);
int store_meta_set(struct store *, const char *key, const char *value);

/* One graph row. */
struct store_graph {
    char *id;                   /* Graph id. */
    char *owner;                /* User who created it. */
    char *sffg;                 /* The normalised SF-FG, JSON text. */
    char *format;               /* API it came through: "sffg" or "nffg". */
    char *status;               /* "deploying", "running", "failed", ... */
    char *error;                /* Last error message, or NULL. */
    int64_t created;            /* Unix time of creation. */
    int64_t updated;            /* Unix time of the last change. */
};
void store_graph_free(struct store_graph *);    /* Accepts NULL. */

/* Inserts or replaces the graph with g->id.  id, sffg, format and status
 * are required (-EINVAL).  created / updated of 0 mean "now"; a replace
 * keeps the row's original creation time. */
int store_graph_put(struct store *, const struct store_graph *g);
int store_graph_set_status(struct store *, const char *id, const char *status,
                           const char *error);
int store_graph_get(struct store *, const char *id,
                    struct store_graph **ret_graph);
int store_graph_delete(struct store *, const char *id);
/* Every graph, ordered by id.  Free with store_graph_list_free(). */
int store_graph_list(struct store *, struct store_graph ***ret_graphs,
                     size_t *ret_n);
void store_graph_list_free(struct store_graph **, size_t n);
/* How many graphs 'owner' owns (a user may not be deleted while it owns
 * any: a new user of that name would inherit them). */
int store_graph_count_owner(struct store *, const char *owner,
                            size_t *ret_n);

/* Users: 'hash' is an encoded slow password hash (security.c). */
int store_user_put(struct store *, const char *name, const char *hash,
                   const char *role);
int store_user_get(struct store *, const char *name, char **ret_hash,
                   char **ret_role);
int store_user_delete(struct store *, const char *name);
/* Names and roles, ordered by name: parallel NULL-terminated arrays. */
int store_user_list(struct store *, char ***ret_names, char ***ret_roles);
int store_user_count(struct store *, size_t *ret_n);

/* Tokens, stored as a hex digest of the token, never the token itself.
 * store_token_put(): -ENOENT if 'user' does not exist, -EEXIST if the
 * digest does.  Deleting a user deletes its tokens (ON DELETE CASCADE).
 * store_token_purge() deletes every token with expires <= now. */
int store_token_put(struct store *, const char *digest, const char *user,
                    int64_t expires);
int store_token_get(struct store *, const char *digest, char **ret_user,
                    int64_t *ret_expires);
int store_token_delete_user(struct store *, const char *user);
int store_token_purge(struct store *, int64_t now);

/* Added after the first contract (backwards compatible). */
/* Deletes one token (logout, an expired token).  -ENOENT if unknown. */
int store_token_delete(struct store *, const char *digest);

#endif
