/* c-orch: the compute-node orchestrator daemon.
 *
 *   c-orch [--config FILE] [--set SECTION.KEY=VALUE]... [--foreground]
 *          [--check-config] [--version] [--help]
 *
 * Start-up order: configuration, state store, security manager, node
 * resource manager (drivers, LSI-0, graphs left by the previous run), bus,
 * REST server.  SIGTERM / SIGINT: stop accepting requests, finish those in
 * flight, close everything in reverse order, leave deployed graphs
 * running (nrm_destroy() releases the drivers' objects: nothing on the
 * node is stopped or removed, and nothing stays allocated). */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "compute.h"
#include "corch-config.h"
#include "log.h"
#include "nrm.h"
#include "rest.h"
#include "security.h"
#include "store.h"
#include "util.h"
#include "vswitch.h"

LOG_MODULE(main);

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: c-orch [OPTION]...\n"
            "The compute-node orchestrator daemon.\n\n"
            "  -c, --config FILE        read the INI configuration FILE\n"
            "  -s, --set SECTION.KEY=V  override one configuration key\n"
            "  -f, --foreground         do not detach from the terminal\n"
            "      --check-config       check the configuration and exit\n"
            "  -V, --version            print the version and exit\n"
            "  -h, --help               print this help and exit\n\n"
            "Keys and defaults: see docs/operations.md.\n");
}

/* Detaches from the terminal; logs keep going to stderr, which the service
 * manager or the caller redirects. */
static int
daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -errno;
    FILE *null = freopen("/dev/null", "r", stdin);
    if (!null)
        return -errno;
    return 0;
}

int
main(int argc, char *argv[])
{
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },
        { "set", required_argument, NULL, 's' },
        { "foreground", no_argument, NULL, 'f' },
        { "check-config", no_argument, NULL, 'C' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct corch_config cfg;
    struct corch_err err = { .path = "", .msg = "" };
    const char *config_file = NULL;
    char **sets = xcalloc((size_t) argc + 1, sizeof *sets);
    size_t n_sets = 0;
    bool foreground = false, check_only = false;
    struct store *store = NULL;
    struct security *security = NULL;
    struct nrm *nrm = NULL;
    struct bus *bus = NULL;
    struct rest_server *rest = NULL;
    char *db = NULL;
    int c, r, status = 1;

    while ((c = getopt_long(argc, argv, "c:s:fVh", options, NULL)) != -1) {
        switch (c) {
        case 'c': config_file = optarg; break;
        case 's': sets[n_sets++] = optarg; break;
        case 'f': foreground = true; break;
        case 'C': check_only = true; break;
        case 'V': printf("c-orch %s\n", PACKAGE_VERSION); free(sets); return 0;
        case 'h': usage(stdout); free(sets); return 0;
        default: usage(stderr); free(sets); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "c-orch: unexpected argument \"%s\"\n", argv[optind]);
        free(sets);
        return 2;
    }

    config_init(&cfg);
    if (config_file && (r = config_load_file(&cfg, config_file, &err)) < 0)
        goto config_error;
    for (size_t i = 0; i < n_sets; i++)
        if ((r = config_set(&cfg, sets[i], &err)) < 0)
            goto config_error;
    if ((r = config_finish(&cfg, &err)) < 0)
        goto config_error;
    free(sets);
    sets = NULL;

    enum log_level level;
    log_level_from_string(cfg.log_level, &level);
    log_set_level(level);
    if (check_only) {
        printf("configuration ok\n");
        config_destroy(&cfg);
        return 0;
    }

    /* Signals are taken synchronously by this thread only: block them
     * before any other thread exists so that every thread inherits the
     * mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!foreground && (r = daemonize()) < 0) {
        LOG_ERR("cannot detach: %s", strerror(-r));
        goto out_config;
    }

    if ((r = mkdir_p(cfg.state_dir, 0700)) < 0) {
        LOG_ERR("state.dir %s: %s", cfg.state_dir, strerror(-r));
        goto out_config;
    }
    umask(077);

    vswitch_register_all();
    compute_register_all();

    db = xasprintf("%s/c-orch.db", cfg.state_dir);

    if ((r = store_open(db, &store, &err)) < 0) {
        LOG_ERR("state store %s: %s", db, err.msg);
        goto out;
    }
    if ((r = security_create(&cfg, store, &security, &err)) < 0) {
        LOG_ERR("security manager: %s", err.msg);
        goto out;
    }
    if ((r = nrm_create(&cfg, store, &nrm, &err)) < 0) {
        LOG_ERR("node resource manager: %s", err.msg);
        goto out;
    }
    if ((r = bus_create(&cfg, nrm, &bus, &err)) < 0) {
        LOG_ERR("bus: %s", err.msg);
        goto out;
    }
    if (!cfg.security_auth)
        LOG_WARN("security.auth is false: every request acts as admin");
    if ((r = rest_start(&cfg, security, nrm, &rest, &err)) < 0) {
        LOG_ERR("REST server: %s", err.msg);
        goto out;
    }
    LOG_INFO("c-orch %s ready on %s%s:%u (node %s, vswitch %s)",
             PACKAGE_VERSION, cfg.rest_tls_cert ? "https://" : "http://",
             cfg.rest_address, cfg.rest_port, nrm_node_id(nrm),
             nrm_vswitch_type(nrm));

    for (;;) {
        int sig;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            LOG_INFO("SIGHUP: nothing to reload; restart to apply changes");
            continue;
        }
        LOG_INFO("signal %d: shutting down; deployed graphs stay", sig);
        break;
    }
    status = 0;

out:
    rest_stop(rest);
    bus_destroy(bus);
    nrm_destroy(nrm);
    security_destroy(security);
    store_close(store);
out_config:
    free(db);
    config_destroy(&cfg);
    LOG_INFO("stopped");
    return status;

config_error:
    fprintf(stderr, "c-orch: configuration: %s\n", err.msg);
    free(sets);
    config_destroy(&cfg);
    return 2;
}
