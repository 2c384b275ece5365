/* REST handlers of the users: /v1/users[/<name>]. */
#include <config.h>
#include "rest-private.h"

#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

LOG_MODULE(rest);

static void
rest_user_list(struct rest_request *rq)
{
    if (!rest_authorize(rq, SECURITY_USER_ADMIN, NULL))
        return;
    rest_reply_json(rq, MHD_HTTP_OK, security_user_list(rq->srv->sec));
}

static void
rest_user_put(struct rest_request *rq)
{
    if (!rest_authorize(rq, SECURITY_USER_ADMIN, NULL))
        return;
    const char *name = rq->segs[2];
    json_object *body = rest_parse_small_object(rq, "user",
                                                "{\"password\",\"role\"}");
    if (!body)
        return;
    bool bad = false;
    const char *pw = rest_body_string(rq, body, "password", &bad);
    const char *role = rest_body_string(rq, body, "role", &bad);
    if (bad) {
        json_object_put(body);
        return;
    }

    struct corch_err err = { .path = "", .msg = "" };
    bool created = false;
    int r = security_user_put(rq->srv->sec, name, pw, role, &created, &err);
    json_object_put(body);
    if (r < 0) {
        rest_reply_err(rq, r, &err);
        return;
    }
    LOG_INFO("user \"%s\" %s by \"%s\"", name, created ? "created" : "updated",
             rq->user ? rq->user : "");

    /* The answer is the user as stored (its role may have been kept). */
    json_object *list = security_user_list(rq->srv->sec);
    json_object *users = NULL, *found = NULL;
    if (json_object_object_get_ex(list, "users", &users)
        && json_object_is_type(users, json_type_array))
        for (size_t i = 0; i < json_object_array_length(users); i++) {
            json_object *u = json_object_array_get_idx(users, i), *n;
            if (json_object_object_get_ex(u, "name", &n)
                && !strcmp(json_object_get_string(n), name))
                found = json_object_get(u);
        }
    json_object_put(list);
    if (!found) {
        found = json_object_new_object();
        json_object_object_add(found, "name", json_object_new_string(name));
    }
    rest_reply_json(rq, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, found);
}

static void
rest_user_delete(struct rest_request *rq)
{
    if (!rest_authorize(rq, SECURITY_USER_ADMIN, NULL))
        return;
    const char *name = rq->segs[2];
    struct corch_err err = { .path = "", .msg = "" };
    int r = security_user_delete_err(rq->srv->sec, name, &err);
    if (r < 0) {
        rest_reply_err(rq, r, &err);
        return;
    }
    LOG_INFO("user \"%s\" deleted by \"%s\"", name, rq->user ? rq->user : "");
    rest_reply_json(rq, MHD_HTTP_NO_CONTENT, NULL);
}

static const struct rest_route routes[] = {
    { { "v1", "users" }, true, rest_user_list, NULL, NULL, NULL },
    { { "v1", "users", "*" }, true, NULL, rest_user_put, NULL,
      rest_user_delete },
};
const struct rest_route_table rest_users_routes = {
    routes, ARRAY_SIZE(routes), false
};
