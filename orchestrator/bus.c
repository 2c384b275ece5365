/* The bus publisher: see bus.h and docs/bus.md.
 *
 * One thread (a czmq actor) owns the XPUB socket; ZeroMQ sockets are not
 * thread-safe, and the deploy threads must never wait on the network.  The
 * other threads append to a mutex-protected queue and poke an eventfd that
 * the actor polls next to its pipe and its socket. */
#include <config.h>
#include "bus.h"

#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* czmq pulls in <syslog.h>, whose LOG_ERR / LOG_INFO levels clash with
 * our logging macros; we never use syslog's. */
#undef LOG_ERR
#undef LOG_INFO
#include "log.h"

LOG_MODULE(bus);

/* One queued graph event. */
struct bus_item {
    struct bus_item *next;      /* Queue order. */
    char *type;                 /* "deployed", "updated", ... */
    char *graph_id;             /* The graph. */
    char *error;                /* "failed": why; else NULL. */
};

struct bus {
    struct bus_options opts;    /* Copy; the strings below are owned. */
    /* Owned copies of the option strings ('opts' points to them), so that
     * the caller's configuration may go away before we do. */
    char *endpoint;             /* bus.endpoint. */
    char *topic_prefix;         /* bus.topic_prefix. */
    char *node_id;              /* In every message. */
    char *curve_secret_key;     /* Our certificate file, or NULL. */
    char *curve_clients;        /* Allowed clients' directory, or NULL. */
    char *curve_server_key;     /* Broker's key (external), or NULL. */
    char *topic_desc;           /* "<prefix>:domain-description". */
    char *topic_event;          /* "<prefix>:graph-event". */

    zactor_t *actor;            /* The publisher thread. */
    int wake_fd;                /* eventfd: the queue has work. */
    struct corch_err setup_err; /* Set by the actor if its set-up failed. */
    int setup_error;            /* Its errno, 0 if the set-up worked. */

    pthread_mutex_t mutex;      /* Guards the queue and 'change'. */
    struct bus_item *head;      /* Queued events, oldest first. */
    struct bus_item **tail;     /* Where the next event goes. */
    bool change;                /* A new description is wanted. */

    _Atomic uint64_t seq;       /* Last sequence number used. */
};

/* ------------------------------------------------------------ helpers --- */

static void
bus_item_free(struct bus_item *it)
{
    if (!it)
        return;
    free(it->type);
    free(it->graph_id);
    free(it->error);
    free(it);
}

static void
timestamp_now(char buf[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Reduces a "free" figure to its 'step'-percent bucket of 'total'. */
static int64_t
bucket(int64_t value, int64_t total, unsigned int step)
{
    if (total <= 0)
        return -1;
    return value * 100 / total / step;
}

char *
bus_description_signature(json_object *description, unsigned int step)
{
    json_object *copy = NULL;
    if (json_object_deep_copy(description, &copy, NULL) < 0 || !copy)
        return xstrdup("");
    json_object *res;
    if (json_object_object_get_ex(copy, "resources", &res)
        && json_object_is_type(res, json_type_object)) {
        json_object *v;
        int64_t cores_total = 0, cores_free = 0, mem_total = 0, mem_free = 0;
        double load = 0;
        if (json_object_object_get_ex(res, "cores_total", &v))
            cores_total = json_object_get_int64(v);
        if (json_object_object_get_ex(res, "cores_free", &v))
            cores_free = json_object_get_int64(v);
        if (json_object_object_get_ex(res, "memory_mb_total", &v))
            mem_total = json_object_get_int64(v);
        if (json_object_object_get_ex(res, "memory_mb_free", &v))
            mem_free = json_object_get_int64(v);
        if (json_object_object_get_ex(res, "cpu_load", &v)) {
            json_object *one;
            if (json_object_object_get_ex(v, "1m", &one))
                load = json_object_get_double(one);
        }
        /* The figures themselves change all the time (load above all):
         * only a bucket change counts, and with step 0 nothing does. */
        json_object *sig = json_object_new_object();
        if (step) {
            json_object_object_add(sig, "cores",
                json_object_new_int64(bucket(cores_free, cores_total, step)));
            json_object_object_add(sig, "memory",
                json_object_new_int64(bucket(mem_free, mem_total, step)));
            json_object_object_add(sig, "load",
                json_object_new_int64(bucket((int64_t) (load * 1000.0),
                                             cores_total * 1000, step)));
        }
        json_object_object_add(copy, "resources", sig);
    }
    char *s = xstrdup(json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN));
    json_object_put(copy);
    return s;
}

/* -------------------------------------------------- the publisher thread --- */

/* State of the actor, on its stack. */
struct bus_pub {
    struct bus *bus;            /* Shared part. */
    zsock_t *sock;              /* XPUB. */
    zactor_t *auth;             /* zauth when CURVE is on (embedded). */
    char *last_sig;             /* Signature of the last description sent. */
    uint64_t last_desc_ms;      /* When it was sent (monotonic). */
    uint64_t next_check_ms;     /* When the next periodic check is due. */
};

/* Sends [topic, JSON] without ever blocking: with no subscriber or a full
 * queue the message is dropped, as PUB sockets do. */
static void
pub_send(struct bus_pub *p, const char *topic, const char *key,
         json_object *payload, const char *reason)
{
    struct bus *bus = p->bus;
    char ts[32];
    timestamp_now(ts);
    json_object *msg = json_object_new_object();
    json_object_object_add(msg, "node_id", json_object_new_string(bus->node_id));
    uint64_t seq = atomic_fetch_add(&bus->seq, 1) + 1;
    json_object_object_add(msg, "seq", json_object_new_int64((int64_t) seq));
    json_object_object_add(msg, "timestamp", json_object_new_string(ts));
    if (reason)
        json_object_object_add(msg, "reason", json_object_new_string(reason));
    json_object_object_add(msg, key, json_object_get(payload));
    size_t len;
    const char *s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);

    void *raw = zsock_resolve(p->sock);
    if (zmq_send(raw, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_send(raw, s, len, ZMQ_DONTWAIT) < 0)
        LOG_WARN_RL("cannot publish on %s: %s", topic, zmq_strerror(zmq_errno()));
    else
        LOG_DBG("published %s seq %llu (%s)", topic, (unsigned long long) seq,
                reason ? reason : key);
    json_object_put(msg);
}

static void
pub_description(struct bus_pub *p, json_object *desc, const char *reason)
{
    struct bus *bus = p->bus;
    json_object *own = NULL;
    if (!desc)
        desc = own = bus->opts.describe(bus->opts.aux);
    if (!desc)
        return;
    pub_send(p, bus->topic_desc, "description", desc, reason);
    free(p->last_sig);
    p->last_sig = bus_description_signature(desc, bus->opts.resource_step);
    p->last_desc_ms = time_ms();
    json_object_put(own);
}

static void
pub_event(struct bus_pub *p, const struct bus_item *it)
{
    json_object *ev = json_object_new_object();
    json_object_object_add(ev, "type", json_object_new_string(it->type));
    json_object_object_add(ev, "graph_id", json_object_new_string(it->graph_id));
    json_object_object_add(ev, "error", it->error ? json_object_new_string(it->error) : NULL);
    pub_send(p, p->bus->topic_event, "event", ev, NULL);
    json_object_put(ev);
}

/* Publishes what the other threads queued: the events in order, then one
 * description for all of them. */
static void
pub_drain(struct bus_pub *p)
{
    struct bus *bus = p->bus;
    uint64_t v;
    if (read(bus->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
        LOG_WARN_RL("eventfd read: %s", strerror(errno));

    pthread_mutex_lock(&bus->mutex);
    struct bus_item *list = bus->head;
    bool change = bus->change;
    bus->head = NULL;
    bus->tail = &bus->head;
    bus->change = false;
    pthread_mutex_unlock(&bus->mutex);

    while (list) {
        struct bus_item *next = list->next;
        pub_event(p, list);
        bus_item_free(list);
        list = next;
    }
    if (change)
        pub_description(p, NULL, "change");
}

/* Reads the pending subscription messages.  Returns true if one of them
 * matches the description topic: a (possibly late) subscriber wants it. */
static bool
pub_read_subscriptions(struct bus_pub *p)
{
    const char *topic = p->bus->topic_desc;
    size_t tlen = strlen(topic);
    bool wanted = false;
    void *raw = zsock_resolve(p->sock);
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, raw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        const unsigned char *d = zmq_msg_data(&m);
        size_t n = zmq_msg_size(&m);
        /* [1, prefix]: subscribe; a subscriber to 'prefix' gets the
         * description if the topic starts with it. */
        if (n >= 1 && d[0] == 1 && n - 1 <= tlen && !memcmp(d + 1, topic, n - 1)) {
            wanted = true;
            LOG_DBG("subscription to \"%.*s\"", (int) (n - 1), (const char *) d + 1);
        }
        zmq_msg_close(&m);
    }
    return wanted;
}

static void
pub_check(struct bus_pub *p)
{
    struct bus *bus = p->bus;
    if (bus->opts.probe)
        bus->opts.probe(bus->opts.aux);
    json_object *desc = bus->opts.describe(bus->opts.aux);
    if (!desc)
        return;
    char *sig = bus_description_signature(desc, bus->opts.resource_step);
    if (!p->last_sig || strcmp(sig, p->last_sig))
        pub_description(p, desc, "change");
    free(sig);
    json_object_put(desc);
}

static bool
is_z85_key(const char *s)
{
    if (strlen(s) != 40)
        return false;
    uint8_t key[32];
    return zmq_z85_decode(key, s) != NULL;
}

static bool
cert_has_secret(zcert_t *cert)
{
    static const uint8_t zeros[32];
    return memcmp(zcert_secret_key(cert), zeros, 32) != 0;
}

static int
pub_setup_curve(struct bus_pub *p, struct corch_err *err)
{
    struct bus *bus = p->bus;
    if (!bus->curve_secret_key)
        return corch_err_set(err, -EINVAL, "bus.curve_secret_key",
                             "bus.curve needs bus.curve_secret_key (a czmq "
                             "certificate with its secret key)");
    zcert_t *cert = zcert_load(bus->curve_secret_key);
    if (!cert || !cert_has_secret(cert)) {
        zcert_destroy(&cert);
        return corch_err_set(err, -EINVAL, "bus.curve_secret_key",
                             "bus.curve_secret_key: \"%s\" is not a czmq "
                             "certificate with a secret key", bus->curve_secret_key);
    }
    zcert_apply(cert, p->sock);
    zcert_destroy(&cert);

    if (!bus->opts.external) {
        struct stat st;
        if (!bus->curve_clients || stat(bus->curve_clients, &st) < 0
            || !S_ISDIR(st.st_mode))
            return corch_err_set(err, -EINVAL, "bus.curve_clients",
                                 "bus.curve_clients: \"%s\" is not a directory "
                                 "of client certificates",
                                 bus->curve_clients ? bus->curve_clients : "");
        p->auth = zactor_new(zauth, NULL);
        if (!p->auth)
            return corch_err_set(err, -ENOMEM, NULL, "cannot start zauth");
        zstr_sendx(p->auth, "CURVE", bus->curve_clients, NULL);
        zsock_wait(p->auth);
        zsock_set_curve_server(p->sock, 1);
        return 0;
    }

    const char *sk = bus->curve_server_key;
    char key[41];
    if (!sk)
        return corch_err_set(err, -EINVAL, "bus.curve_server_key",
                             "bus.curve in external mode needs "
                             "bus.curve_server_key (the broker's public key)");
    if (is_z85_key(sk)) {
        snprintf(key, sizeof key, "%s", sk);
    } else {
        zcert_t *server = zcert_load(sk);
        if (!server)
            return corch_err_set(err, -EINVAL, "bus.curve_server_key",
                                 "bus.curve_server_key: \"%s\" is neither a Z85 "
                                 "key nor a certificate file", sk);
        snprintf(key, sizeof key, "%s", zcert_public_txt(server));
        zcert_destroy(&server);
    }
    zsock_set_curve_serverkey(p->sock, key);
    return 0;
}

static int
pub_setup(struct bus_pub *p, struct corch_err *err)
{
    struct bus *bus = p->bus;
    p->sock = zsock_new(ZMQ_XPUB);
    if (!p->sock)
        return corch_err_set(err, -ENOMEM, NULL, "cannot create the XPUB socket");
    /* Every subscription, even one already known, reaches us: that is how
     * a late joiner (and one joining through a broker) is noticed. */
    zsock_set_xpub_verbose(p->sock, 1);
    zsock_set_linger(p->sock, 200);
    /* Reconnect to a restarted broker quickly. */
    zsock_set_reconnect_ivl(p->sock, 100);
    zsock_set_reconnect_ivl_max(p->sock, 1000);
    if (bus->opts.curve) {
        int r = pub_setup_curve(p, err);
        if (r < 0)
            return r;
    }
    int rc = bus->opts.external ? zsock_connect(p->sock, "%s", bus->endpoint)
                                : zsock_bind(p->sock, "%s", bus->endpoint);
    if (rc < 0) {
        int e = zmq_errno();
        return corch_err_set(err, e > 0 ? -e : -EINVAL, "bus.endpoint",
                             "bus.endpoint: cannot %s \"%s\": %s",
                             bus->opts.external ? "connect to" : "bind",
                             bus->endpoint, zmq_strerror(e));
    }
    return 0;
}

static void
pub_teardown(struct bus_pub *p)
{
    zsock_destroy(&p->sock);
    zactor_destroy(&p->auth);
    free(p->last_sig);
    p->last_sig = NULL;
}

static long
until(uint64_t due, uint64_t now)
{
    return due > now ? (long) (due - now) : 0;
}

static void
bus_actor(zsock_t *pipe, void *arg)
{
    struct bus_pub p = { .bus = arg };
    struct bus *bus = p.bus;

    int r = pub_setup(&p, &bus->setup_err);
    if (r < 0) {
        bus->setup_error = r;
        pub_teardown(&p);
        zsock_signal(pipe, 0);
        return;
    }
    zsock_signal(pipe, 0);
    LOG_INFO("publishing on %s (%s%s), topics %s, %s", bus->endpoint,
             bus->opts.external ? "external broker" : "embedded",
             bus->opts.curve ? ", CURVE" : "", bus->topic_desc, bus->topic_event);

    pub_description(&p, NULL, "startup");
    p.next_check_ms = time_ms() + bus->opts.check_interval_ms;

    zmq_pollitem_t items[] = {
        { zsock_resolve(pipe), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve(p.sock), 0, ZMQ_POLLIN, 0 },
        { NULL, bus->wake_fd, ZMQ_POLLIN, 0 },
    };
    for (;;) {
        uint64_t now = time_ms();
        long timeout = -1;
        if (bus->opts.heartbeat_ms)
            timeout = until(p.last_desc_ms + bus->opts.heartbeat_ms, now);
        if (bus->opts.check_interval_ms) {
            long t = until(p.next_check_ms, now);
            if (timeout < 0 || t < timeout)
                timeout = t;
        }
        int rc = zmq_poll(items, ARRAY_SIZE(items), timeout);
        if (rc < 0 && zmq_errno() != EINTR) {
            LOG_ERR("zmq_poll: %s", zmq_strerror(zmq_errno()));
            break;
        }
        if (rc > 0 && (items[0].revents & ZMQ_POLLIN)) {
            char *cmd = zstr_recv(pipe);
            bool term = !cmd || !strcmp(cmd, "$TERM");
            zstr_free(&cmd);
            if (term)
                break;
        }
        if (rc > 0 && (items[2].revents & ZMQ_POLLIN))
            pub_drain(&p);
        if (rc > 0 && (items[1].revents & ZMQ_POLLIN) && pub_read_subscriptions(&p))
            pub_description(&p, NULL, "subscription");

        now = time_ms();
        if (bus->opts.check_interval_ms && now >= p.next_check_ms) {
            pub_check(&p);
            p.next_check_ms = now + bus->opts.check_interval_ms;
        }
        if (bus->opts.heartbeat_ms && now >= p.last_desc_ms + bus->opts.heartbeat_ms)
            pub_description(&p, NULL, "heartbeat");
    }
    pub_teardown(&p);
}

/* ------------------------------------------------------------ the API --- */

static void
bus_free(struct bus *bus)
{
    if (!bus)
        return;
    while (bus->head) {
        struct bus_item *next = bus->head->next;
        bus_item_free(bus->head);
        bus->head = next;
    }
    if (bus->wake_fd >= 0)
        close(bus->wake_fd);
    pthread_mutex_destroy(&bus->mutex);
    free(bus->endpoint);
    free(bus->topic_prefix);
    free(bus->node_id);
    free(bus->curve_secret_key);
    free(bus->curve_clients);
    free(bus->curve_server_key);
    free(bus->topic_desc);
    free(bus->topic_event);
    free(bus);
}

int
bus_open(const struct bus_options *opts, struct bus **ret_bus,
         struct corch_err *err)
{
    if (!opts->endpoint || !*opts->endpoint)
        return corch_err_set(err, -EINVAL, "bus.endpoint", "bus.endpoint is empty");
    if (!opts->describe)
        return corch_err_set(err, -EINVAL, NULL, "bus: no description source");

    /* The daemon handles SIGTERM/SIGINT itself: czmq must not take them
     * over when it initialises (it would on the first socket). */
    zsys_handler_set(NULL);

    struct bus *bus = xcalloc(1, sizeof *bus);
    bus->opts = *opts;
    bus->endpoint = xstrdup(opts->endpoint);
    bus->topic_prefix = xstrdup(opts->topic_prefix ? opts->topic_prefix : "corch");
    bus->node_id = xstrdup(opts->node_id ? opts->node_id : "");
    bus->curve_secret_key = xstrdup(opts->curve_secret_key);
    bus->curve_clients = xstrdup(opts->curve_clients);
    bus->curve_server_key = xstrdup(opts->curve_server_key);
    bus->opts.endpoint = bus->endpoint;
    bus->opts.topic_prefix = bus->topic_prefix;
    bus->opts.node_id = bus->node_id;
    bus->opts.curve_secret_key = bus->curve_secret_key;
    bus->opts.curve_clients = bus->curve_clients;
    bus->opts.curve_server_key = bus->curve_server_key;
    bus->topic_desc = xasprintf("%s:domain-description", bus->topic_prefix);
    bus->topic_event = xasprintf("%s:graph-event", bus->topic_prefix);
    pthread_mutex_init(&bus->mutex, NULL);
    bus->tail = &bus->head;
    bus->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (bus->wake_fd < 0) {
        int e = -errno;
        bus_free(bus);
        return corch_err_set(err, e, NULL, "eventfd: %s", strerror(-e));
    }

    bus->actor = zactor_new(bus_actor, bus);
    if (!bus->actor) {
        bus_free(bus);
        return corch_err_set(err, -ENOMEM, NULL, "cannot start the bus thread");
    }
    if (bus->setup_error) {
        int e = bus->setup_error;
        if (err)
            *err = bus->setup_err;
        zactor_destroy(&bus->actor);
        bus_free(bus);
        return e;
    }
    *ret_bus = bus;
    return 0;
}

void
bus_close(struct bus *bus)
{
    if (!bus)
        return;
    zactor_destroy(&bus->actor);
    bus_free(bus);
}

void *
bus_aux(const struct bus *bus)
{
    return bus->opts.aux;
}

static void
bus_wake(struct bus *bus)
{
    uint64_t one = 1;
    /* Nonblocking: a full counter (never in practice) still wakes. */
    if (write(bus->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        LOG_WARN_RL("eventfd write: %s", strerror(errno));
}

void
bus_notify_event(struct bus *bus, const char *type, const char *graph_id,
                 const char *error)
{
    if (!bus)
        return;
    struct bus_item *it = xcalloc(1, sizeof *it);
    it->type = xstrdup(type);
    it->graph_id = xstrdup(graph_id ? graph_id : "");
    it->error = xstrdup(error);
    pthread_mutex_lock(&bus->mutex);
    *bus->tail = it;
    bus->tail = &it->next;
    bus->change = true;
    pthread_mutex_unlock(&bus->mutex);
    bus_wake(bus);
}

void
bus_notify_change(struct bus *bus)
{
    if (!bus)
        return;
    pthread_mutex_lock(&bus->mutex);
    bus->change = true;
    pthread_mutex_unlock(&bus->mutex);
    bus_wake(bus);
}

uint64_t
bus_last_seq(const struct bus *bus)
{
    return atomic_load(&((struct bus *) bus)->seq);
}
