/* c-orch-sub: subscribes to a c-orch bus (a node's embedded endpoint or a
 * c-orch-broker's backend) and prints each message as one JSON line:
 *     {"topic":"corch:domain-description","message":{...}}
 * See docs/bus.md and --help. */
#include <config.h>

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void
usage(FILE *f)
{
    fputs("usage: c-orch-sub [OPTIONS]\n"
          "Prints the messages of a c-orch bus as JSON lines.\n"
          "  -e, --endpoint EP          where to connect (default tcp://127.0.0.1:5555)\n"
          "  -t, --topic PREFIX         topic prefix to subscribe to (default \"\": all);\n"
          "                             may be given several times\n"
          "  -n, --count N              exit 0 after N messages\n"
          "  -T, --timeout SECONDS      exit after that long (status 0 without --count,\n"
          "                             3 if fewer than N messages arrived)\n"
          "  -s, --stamp                add \"received\": the arrival time, and \"connected\":\n"
          "                             when we connected (Unix seconds)\n"
          "      --curve-server-key K   CURVE: the server's public key (Z85, or a cert file)\n"
          "      --curve-client-cert F  CURVE: our czmq certificate (with secret key)\n"
          "      --make-cert F          writes a new CURVE certificate: F (public) and\n"
          "                             F_secret, then exits\n"
          "  -h, --help\n", f);
}

static double
now_unix(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
load_server_key(const char *arg, char key[41])
{
    uint8_t raw[32];
    if (strlen(arg) == 40 && zmq_z85_decode(raw, arg)) {
        snprintf(key, 41, "%s", arg);
        return 0;
    }
    zcert_t *cert = zcert_load(arg);
    if (!cert)
        return -1;
    snprintf(key, 41, "%s", zcert_public_txt(cert));
    zcert_destroy(&cert);
    return 0;
}

int
main(int argc, char **argv)
{
    enum { OPT_SERVER_KEY = 256, OPT_CLIENT_CERT, OPT_MAKE_CERT };
    static const struct option longopts[] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "topic", required_argument, NULL, 't' },
        { "count", required_argument, NULL, 'n' },
        { "timeout", required_argument, NULL, 'T' },
        { "stamp", no_argument, NULL, 's' },
        { "curve-server-key", required_argument, NULL, OPT_SERVER_KEY },
        { "curve-client-cert", required_argument, NULL, OPT_CLIENT_CERT },
        { "make-cert", required_argument, NULL, OPT_MAKE_CERT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *endpoint = "tcp://127.0.0.1:5555";
    const char *topics[32];
    size_t n_topics = 0;
    long count = 0;
    double timeout = 0;
    bool stamp = false;
    const char *server_key = NULL, *client_cert = NULL;
    int c;

    while ((c = getopt_long(argc, argv, "e:t:n:T:sh", longopts, NULL)) != -1) {
        switch (c) {
        case 'e': endpoint = optarg; break;
        case 't':
            if (n_topics == sizeof topics / sizeof *topics) {
                fputs("c-orch-sub: too many --topic\n", stderr);
                return 2;
            }
            topics[n_topics++] = optarg;
            break;
        case 'n': count = strtol(optarg, NULL, 10); break;
        case 'T': timeout = strtod(optarg, NULL); break;
        case 's': stamp = true; break;
        case OPT_SERVER_KEY: server_key = optarg; break;
        case OPT_CLIENT_CERT: client_cert = optarg; break;
        case OPT_MAKE_CERT: {
            zcert_t *cert = zcert_new();
            int rc = cert ? zcert_save(cert, optarg) : -1;
            zcert_destroy(&cert);
            if (rc < 0) {
                fprintf(stderr, "c-orch-sub: cannot write %s\n", optarg);
                return 1;
            }
            return 0;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || count < 0 || timeout < 0 || !server_key != !client_cert) {
        if (!server_key != !client_cert)
            fputs("c-orch-sub: --curve-server-key and --curve-client-cert go together\n",
                  stderr);
        usage(stderr);
        return 2;
    }
    if (!n_topics)
        topics[n_topics++] = "";

    zsock_t *sub = zsock_new(ZMQ_SUB);
    if (!sub) {
        fputs("c-orch-sub: cannot create a socket\n", stderr);
        return 1;
    }
    zsock_set_reconnect_ivl(sub, 100);
    zsock_set_reconnect_ivl_max(sub, 1000);
    if (server_key) {
        char key[41];
        zcert_t *cert = zcert_load(client_cert);
        if (!cert) {
            fprintf(stderr, "c-orch-sub: %s: not a czmq certificate\n", client_cert);
            zsock_destroy(&sub);
            return 2;
        }
        if (load_server_key(server_key, key) < 0) {
            fprintf(stderr, "c-orch-sub: %s: neither a Z85 key nor a certificate\n",
                    server_key);
            zcert_destroy(&cert);
            zsock_destroy(&sub);
            return 2;
        }
        zcert_apply(cert, sub);
        zcert_destroy(&cert);
        zsock_set_curve_serverkey(sub, key);
    }
    for (size_t i = 0; i < n_topics; i++)
        zsock_set_subscribe(sub, topics[i]);
    /* Joining starts here: what --stamp's latency is measured from. */
    double connected = now_unix();
    if (zsock_connect(sub, "%s", endpoint) < 0) {
        fprintf(stderr, "c-orch-sub: cannot connect to %s: %s\n", endpoint,
                zmq_strerror(zmq_errno()));
        zsock_destroy(&sub);
        return 2;
    }

    double deadline = timeout > 0 ? connected + timeout : 0;
    long received = 0;
    int status = 0;
    while (!zsys_interrupted && (!count || received < count)) {
        long wait_ms = -1;
        if (deadline) {
            double left = deadline - now_unix();
            if (left <= 0) {
                status = count ? 3 : 0;
                break;
            }
            wait_ms = (long) (left * 1000) + 1;
        }
        zmq_pollitem_t item = { zsock_resolve(sub), 0, ZMQ_POLLIN, 0 };
        int rc = zmq_poll(&item, 1, wait_ms);
        if (rc < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break;
        }
        if (rc == 0)
            continue;
        zmsg_t *msg = zmsg_recv(sub);
        if (!msg)
            continue;
        double t = now_unix();
        char *topic = zmsg_popstr(msg);
        char *body = zmsg_popstr(msg);
        json_object *line = json_object_new_object();
        json_object_object_add(line, "topic", json_object_new_string(topic ? topic : ""));
        json_object *m = body ? json_tokener_parse(body) : NULL;
        if (!m && body)
            m = json_object_new_string(body);  /* Not JSON: shown as text. */
        json_object_object_add(line, "message", m);
        if (stamp) {
            json_object_object_add(line, "received", json_object_new_double(t));
            json_object_object_add(line, "connected", json_object_new_double(connected));
        }
        puts(json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN));
        fflush(stdout);
        json_object_put(line);
        zstr_free(&topic);
        zstr_free(&body);
        zmsg_destroy(&msg);
        received++;
    }
    zsock_destroy(&sub);
    return status;
}
