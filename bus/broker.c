/* c-orch-broker: one bus for many c-orch nodes.  Nodes (bus.mode =
 * external) connect their publisher to the frontend (XSUB); subscribers
 * connect to the backend (XPUB).
 *
 * Why not czmq's zproxy: it gives no way to set ZMQ_XPUB_VERBOSE on its
 * backend, and without it the broker passes upstream only the first
 * subscription to a topic, so a node would never notice a second, late
 * subscriber and could not send it the current description at once.  The
 * loop is libzmq's zmq_proxy() on czmq sockets, with that option set. */
#include <config.h>

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void
usage(FILE *f)
{
    fputs("usage: c-orch-broker [OPTIONS]\n"
          "Forwards the messages of many c-orch nodes to many subscribers.\n"
          "  -f, --frontend EP          where nodes connect (default tcp://*:5556)\n"
          "  -b, --backend EP           where subscribers connect (default tcp://*:5557)\n"
          "      --curve-secret-key F   CURVE: the broker's czmq certificate (with secret)\n"
          "      --curve-clients DIR    CURVE: public certs of the nodes and subscribers\n"
          "                             allowed in (required with the key)\n"
          "  -v, --verbose              log connections and subscriptions\n"
          "  -h, --help\n", f);
}

int
main(int argc, char **argv)
{
    enum { OPT_SECRET = 256, OPT_CLIENTS };
    static const struct option longopts[] = {
        { "frontend", required_argument, NULL, 'f' },
        { "backend", required_argument, NULL, 'b' },
        { "curve-secret-key", required_argument, NULL, OPT_SECRET },
        { "curve-clients", required_argument, NULL, OPT_CLIENTS },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *frontend = "tcp://*:5556", *backend = "tcp://*:5557";
    const char *secret = NULL, *clients = NULL;
    bool verbose = false;
    int c;

    while ((c = getopt_long(argc, argv, "f:b:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': frontend = optarg; break;
        case 'b': backend = optarg; break;
        case OPT_SECRET: secret = optarg; break;
        case OPT_CLIENTS: clients = optarg; break;
        case 'v': verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !secret != !clients) {
        if (!secret != !clients)
            fputs("c-orch-broker: --curve-secret-key and --curve-clients go together\n",
                  stderr);
        usage(stderr);
        return 2;
    }

    zactor_t *auth = NULL;
    zcert_t *cert = NULL;
    if (secret) {
        struct stat st;
        static const uint8_t zeros[32];
        cert = zcert_load(secret);
        if (!cert || !memcmp(zcert_secret_key(cert), zeros, 32)) {
            fprintf(stderr, "c-orch-broker: %s: not a czmq certificate with a secret key\n",
                    secret);
            zcert_destroy(&cert);
            return 2;
        }
        if (stat(clients, &st) < 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "c-orch-broker: %s: not a directory\n", clients);
            zcert_destroy(&cert);
            return 2;
        }
        auth = zactor_new(zauth, NULL);
        if (verbose) {
            zstr_send(auth, "VERBOSE");
            zsock_wait(auth);
        }
        zstr_sendx(auth, "CURVE", clients, NULL);
        zsock_wait(auth);
    }

    zsock_t *front = zsock_new(ZMQ_XSUB);
    zsock_t *back = zsock_new(ZMQ_XPUB);
    int status = 0;
    if (!front || !back) {
        fputs("c-orch-broker: cannot create sockets\n", stderr);
        status = 1;
        goto out;
    }
    zsock_set_xpub_verbose(back, 1);
    zsock_set_linger(front, 0);
    zsock_set_linger(back, 0);
    if (cert) {
        zcert_apply(cert, front);
        zcert_apply(cert, back);
        zsock_set_curve_server(front, 1);
        zsock_set_curve_server(back, 1);
    }
    if (zsock_bind(front, "%s", frontend) < 0) {
        fprintf(stderr, "c-orch-broker: cannot bind %s: %s\n", frontend,
                zmq_strerror(zmq_errno()));
        status = 1;
        goto out;
    }
    if (zsock_bind(back, "%s", backend) < 0) {
        fprintf(stderr, "c-orch-broker: cannot bind %s: %s\n", backend,
                zmq_strerror(zmq_errno()));
        status = 1;
        goto out;
    }
    fprintf(stderr, "c-orch-broker: nodes -> %s, subscribers -> %s%s\n", frontend,
            backend, cert ? " (CURVE)" : "");

    /* zmq_proxy() returns on a signal (czmq's handler sets zsys_interrupted
     * and the poll inside fails with EINTR). */
    while (!zsys_interrupted) {
        zmq_proxy(zsock_resolve(front), zsock_resolve(back), NULL);
        if (zmq_errno() != EINTR)
            break;
    }
    fputs("c-orch-broker: stopped\n", stderr);
out:
    zsock_destroy(&front);
    zsock_destroy(&back);
    zactor_destroy(&auth);
    zcert_destroy(&cert);
    return status;
}
