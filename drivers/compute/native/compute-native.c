/* The native execution engine: see compute-native.h and
 * docs/native-engine.md. */
#include <config.h>
#include "compute-native.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "corch-config.h"
#include "log.h"
#include "netlink.h"
#include "nsf-image.h"
#include "proc.h"
#include "util.h"

LOG_MODULE(compute_native);

#define NETNS_RUN_DIR "/run/netns"
#define NATIVE_DEFAULT_TIMEOUT_S 30
/* Bytes of a script's stderr carried back in an error message. */
#define NATIVE_ERR_TAIL 1200
/* Device group of SF ports, so that destroy deletes them all in one
 * kernel batch (each separate delete waits for RCU: ~20 ms here). */
#define NATIVE_PORT_GROUP 0xc0c0u

/* One vNIC of a running instance. */
struct native_port {
    char *id;                   /* The graph's port id. */
    char name[IFNAMSIZ];        /* Device name inside the namespace. */
    char ifname[IFNAMSIZ];      /* Its name in the root namespace before it
                                 * moved in: where it goes back to. */
    bool in_netns;              /* Made in the namespace by the switch
                                 * (never in the root one): giving it back
                                 * means deleting it. */
};

/* One SF instance. */
struct native_sf {
    struct compute_sf up;       /* The base the core reads. */
    struct native_engine *ne;   /* The instance of the engine it is of. */
    struct native_sf *prev;     /* Neighbours in ne->sfs (under */
    struct native_sf *next;     /* ne->sfs_mutex). */
    char *instance;             /* Unique on the node. */
    char netns_name[64];        /* "corch-<tag>-<instance>". */
    char *netns_path;           /* /run/netns/<netns_name>. */
    int netns_fd;               /* Open on the namespace, for setns(). */
    dev_t netns_dev;            /* Identity of the namespace, to find its */
    ino_t netns_ino;            /* processes through /proc/<pid>/ns/net. */
    char *pkg_dir;              /* Unpacked package (shared, not ours). */
    char *run_dir;              /* The instance's directory (we empty it
                                 * and remove it at destroy). */
    char *config_path;          /* <run_dir>/config.json */
    char *log_path;             /* <run_dir>/log */
    char *pids_path;            /* <run_dir>/pids */
    struct native_port *ports;  /* In the order of the template. */
    size_t n_ports;
    unsigned int *cpus;         /* Affinity of scripts and daemons. */
    size_t n_cpus;
    unsigned int timeout_s;     /* Longest a script may run. */
    bool running;               /* Between a successful start and stop. */
    bool paused;                /* Paused by pause(). */
    bool destroying;            /* Stop on the way to destroy: scripts see
                                 * NSF_DESTROY=1 and may skip undoing what
                                 * the namespace takes with it. */
    pid_t holder;               /* Placeholder process in the namespace
                                 * when the NSF leaves no daemon, so that
                                 * the SF has a PID to show; 0 if none. */
    unsigned long long last_script_ns; /* Duration of the last start. */
    unsigned long long netns_ns;    /* Time create took for the namespace */
    unsigned long long ports_ns;    /* and for the ports. */
    bool created;               /* create succeeded (a prepared SF is
                                 * only a namespace until then). */
};

/* One instance of the engine (open() to close()). */
struct native_engine {
    struct compute_engine up;   /* The base the core reads. */
    char *state_dir;            /* state.dir: packages go in <it>/nsf. */
    /* Four hex digits from the state directory, in every namespace name:
     * two daemons on one host (test runs, a staging instance) number
     * their SFs alike, and must not take each other's namespaces. */
    char tag[8];
    pthread_mutex_t mutex;      /* Serialises unpacking and the one-time
                                 * /run/netns setup. */
    bool netns_dir_ready;       /* /run/netns is a shared mount point. */
    pthread_mutex_t sfs_mutex;  /* Protects 'sfs'. */
    struct native_sf *sfs;      /* Every SF object of the instance (close
                                 * frees them). */
};

static struct native_engine *
native_engine_cast(const struct compute_engine *e)
{
    return CONTAINER_OF(e, struct native_engine, up);
}

static struct native_sf *
native_sf_cast(const struct compute_sf *sf)
{
    return CONTAINER_OF(sf, struct native_sf, up);
}

static const char *const tar_paths[] = { "/usr/bin/tar", "/bin/tar" };

static const char *
find_tar(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(tar_paths); i++)
        if (!access(tar_paths[i], X_OK))
            return tar_paths[i];
    return NULL;
}

/* ---- Files. ---- */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    if (remove(path) < 0 && errno != ENOENT)
        LOG_WARN_RL("cannot remove %s: %s", path, strerror(errno));
    return 0;
}

/* rm -r without a shell; FTW_PHYS never follows a symlink out. */
static void
rm_rf(const char *path)
{
    if (path && access(path, F_OK) == 0)
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int
write_file(const char *path, const char *data, size_t len, int flags)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags,
                                  0600);
    if (fd < 0)
        return -errno;
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        data += n;
        len -= (size_t) n;
    }
    return 0;
}

/* ---- Namespaces. ---- */

/* The calling thread's current network namespace, to come back to. */
static int
netns_self(void)
{
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Returns this thread to 'self'.  A thread stuck in an SF's namespace
 * would do the daemon's later work there: nothing sane can follow. */
static void
netns_return(int self)
{
    if (setns(self, CLONE_NEWNET) < 0) {
        LOG_ERR("cannot return to own network namespace: %s",
                strerror(errno));
        abort();
    }
}

/* As `ip netns add` does it: /run/netns is a shared mount point, so that a
 * namespace bound there is seen by every mount namespace (ip netns exec,
 * operators' shells).  Once per process. */
static int
netns_dir_setup(struct native_engine *ne)
{
    int r = 0;
    pthread_mutex_lock(&ne->mutex);
    if (ne->netns_dir_ready)
        goto out;
    if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST) {
        r = -errno;
        goto out;
    }
    if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
        if (errno != EINVAL) {
            r = -errno;
            goto out;
        }
        /* Not a mount point yet: make it one, then shared. */
        if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC,
                  NULL) < 0
            || mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC,
                     NULL) < 0) {
            r = -errno;
            goto out;
        }
    }
    ne->netns_dir_ready = true;
out:
    pthread_mutex_unlock(&ne->mutex);
    return r;
}

static void
netns_unbind(const char *path)
{
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        LOG_WARN("umount %s: %s", path, strerror(errno));
    if (unlink(path) < 0 && errno != ENOENT)
        LOG_WARN("unlink %s: %s", path, strerror(errno));
}

/* Creates the namespace bound at 'path', with its loopback up, and
 * returns an fd on it.  The calling thread enters a fresh namespace with
 * unshare() and leaves it again: no fork, no `ip`. */
static int
netns_create(struct native_engine *ne, const char *path, int *ret_fd,
             struct corch_err *err)
{
    _cleanup_close_ int self = -1;
    int fd, r;

    r = netns_dir_setup(ne);
    if (r < 0)
        return corch_err_set(err, r, NULL, "cannot prepare %s: %s",
                             NETNS_RUN_DIR, strerror(-r));
    fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) {
        r = -errno;
        return corch_err_set(err, r, NULL, "namespace %s: %s%s", path,
                             strerror(-r), r == -EEXIST
                             ? " (left by an earlier instance? remove it "
                               "with `ip netns delete`)" : "");
    }
    close(fd);

    self = netns_self();
    if (self < 0) {
        r = self;
        goto fail;
    }
    if (unshare(CLONE_NEWNET) < 0) {
        r = -errno;
        goto fail;
    }
    /* From here until netns_return(), this thread is in the new one. */
    if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0) {
        r = -errno;
        netns_return(self);
        goto fail;
    }
    r = netlink_link_set_up("lo", true);
    if (r < 0)
        LOG_WARN("%s: loopback not up: %s", path, strerror(-r));
    fd = netns_self();
    netns_return(self);
    if (fd < 0) {
        r = fd;
        netns_unbind(path);
        return corch_err_set(err, r, NULL, "namespace %s: %s", path,
                             strerror(-r));
    }
    *ret_fd = fd;
    return 0;

fail:
    unlink(path);
    return corch_err_set(err, r, NULL, "cannot create namespace %s: %s",
                         path, strerror(-r));
}

/* PIDs of the processes whose network namespace is the SF's, but never
 * ours (a thread of ours may be visiting).  Caller frees. */
static size_t
netns_pids(const struct native_sf *sf, pid_t **ret_pids)
{
    pid_t *pids = NULL;
    size_t n = 0;
    pid_t me = getpid();
    DIR *d = opendir("/proc");
    if (!d) {
        *ret_pids = NULL;
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || pid == me)
            continue;
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
        if (stat(path, &st) < 0 || st.st_ino != sf->netns_ino
            || st.st_dev != sf->netns_dev)
            continue;
        pids = xrealloc(pids, (n + 1) * sizeof *pids);
        pids[n++] = (pid_t) pid;
    }
    closedir(d);
    *ret_pids = pids;
    return n;
}

/* Reaps the placeholder if it has exited; with 'wait', gives it up to a
 * second (it was just killed), never forever. */
static void
reap_holder(struct native_sf *sf, bool wait)
{
    for (int i = 0; sf->holder > 0; i++) {
        pid_t r = waitpid(sf->holder, NULL, WNOHANG);
        if (r < 0 && errno == EINTR)
            continue;
        if (r != 0) {           /* Reaped, or not our child any more. */
            sf->holder = 0;
            break;
        }
        if (!wait || i >= 1000)
            break;
        usleep(1000);
    }
}

/* Kills every process in the SF's namespace: SIGTERM and up to 'grace_ms'
 * to go, then SIGKILL until none is left.  Daemons that double-forked or
 * changed their process group are found all the same: by namespace. */
static void
netns_kill_all(struct native_sf *sf, unsigned int grace_ms)
{
    uint64_t start = time_ms();
    int sig = grace_ms ? SIGTERM : SIGKILL;
    bool signalled = false;

    for (;;) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = netns_pids(sf, &pids);
        reap_holder(sf, false);
        if (!n)
            break;
        uint64_t waited = time_ms() - start;
        if (sig == SIGTERM && signalled && waited >= grace_ms)
            sig = SIGKILL;
        if (waited > grace_ms + 5000) {
            LOG_WARN("%s: %zu processes survive SIGKILL", sf->netns_name, n);
            break;
        }
        if (!signalled || sig == SIGKILL) {
            for (size_t i = 0; i < n; i++) {
                kill(pids[i], sig);
                if (sig == SIGTERM)
                    kill(pids[i], SIGCONT);     /* A paused one too. */
            }
            signalled = true;
        }
        usleep(2000);
    }
    reap_holder(sf, true);
}

/* Runs fn(arg) with this thread inside the SF's namespace. */
static int
netns_visit(const struct native_sf *sf, int (*fn)(void *), void *arg)
{
    _cleanup_close_ int self = netns_self();
    if (self < 0)
        return self;
    if (setns(sf->netns_fd, CLONE_NEWNET) < 0)
        return -errno;
    int r = fn(arg);
    netns_return(self);
    return r;
}

/* ---- Packages. ---- */

static bool
is_hex64(const char *s)
{
    size_t n = 0;
    for (; s && s[n]; n++)
        if (!strchr("0123456789abcdef", s[n]))
            return false;
    return n == 64;
}

static int
hash_image(const char *path, char out[65])
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    crypto_hash_sha256_state st;
    unsigned char buf[65536], digest[crypto_hash_sha256_BYTES];
    ssize_t n;

    if (fd < 0)
        return -errno;
    crypto_hash_sha256_init(&st);
    while ((n = read(fd, buf, sizeof buf)) > 0)
        crypto_hash_sha256_update(&st, buf, (unsigned long long) n);
    if (n < 0)
        return -errno;
    crypto_hash_sha256_final(&st, digest);
    hex_encode(digest, sizeof digest, out);
    return 0;
}

/* Whether 'dir' holds a usable package: a manifest naming interface 1 and
 * a regular, executable 'start' (not a symlink, which could point out). */
static int
pkg_check(const char *dir, struct corch_err *err)
{
    _cleanup_free_ char *manifest = xasprintf("%s/manifest.json", dir);
    _cleanup_free_ char *start = xasprintf("%s/start", dir);
    struct stat st;

    json_object *m = json_object_from_file(manifest);
    if (!m || !json_object_is_type(m, json_type_object)) {
        json_object_put(m);
        return corch_err_set(err, -EINVAL, NULL,
                             "NSF package: manifest.json missing or not a "
                             "JSON object");
    }
    json_object *v;
    int iface = 1;
    if (json_object_object_get_ex(m, "interface", &v))
        iface = json_object_get_int(v);
    bool named = json_object_object_get_ex(m, "name", &v)
                 && json_object_is_type(v, json_type_string);
    json_object_put(m);
    if (!named)
        return corch_err_set(err, -EINVAL, NULL,
                             "NSF package: manifest.json: \"name\" missing");
    if (iface != 1)
        return corch_err_set(err, -EINVAL, NULL,
                             "NSF package: script interface %d not "
                             "supported (this engine speaks 1)", iface);
    if (lstat(start, &st) < 0 || !S_ISREG(st.st_mode)
        || !(st.st_mode & S_IXUSR))
        return corch_err_set(err, -EINVAL, NULL,
                             "NSF package: no executable \"start\" script");
    return 0;
}

/* Unpacks the image once per digest into <state>/nsf/<sha256>: into a
 * temporary directory first, renamed when complete, so that a crash never
 * leaves a half package under the final name. */
static int
pkg_unpack(struct native_engine *ne, const struct compute_sf_spec *spec,
           char **ret_dir, struct corch_err *err)
{
    _cleanup_free_ char *parent = NULL;
    _cleanup_free_ char *tmp = NULL;
    char hex[65];
    int r;

    if (!spec->image_path)
        return corch_err_set(err, -EINVAL, NULL, "template %s: no image",
                             spec->tmpl ? spec->tmpl->id : "?");
    if (spec->tmpl && spec->tmpl->sha256 && is_hex64(spec->tmpl->sha256)) {
        /* The repository verified the file against this digest. */
        memcpy(hex, spec->tmpl->sha256, 65);
    } else if ((r = hash_image(spec->image_path, hex)) < 0) {
        return corch_err_set(err, r, NULL, "image %s: %s", spec->image_path,
                             strerror(-r));
    }

    _cleanup_free_ char *dir = xasprintf("%s/nsf/%s", ne->state_dir, hex);
    _cleanup_free_ char *manifest = xasprintf("%s/manifest.json", dir);
    if (!access(manifest, F_OK)) {
        *ret_dir = TAKE_PTR(dir);
        return 0;
    }

    /* Declared before the first goto: the cleanup runs at 'done'. */
    _cleanup_free_ char *image = NULL;
    pthread_mutex_lock(&ne->mutex);
    if (!access(manifest, F_OK)) {
        r = 0;
        goto done;
    }
    parent = xasprintf("%s/nsf", ne->state_dir);
    r = mkdir_p(parent, 0755);
    if (r < 0) {
        corch_err_set(err, r, NULL, "%s: %s", parent, strerror(-r));
        goto done;
    }
    tmp = xasprintf("%s/.unpack-%s-XXXXXX", parent, hex);
    if (!mkdtemp(tmp)) {
        r = -errno;
        corch_err_set(err, r, NULL, "%s: %s", tmp, strerror(-r));
        goto done;
    }
    chmod(tmp, 0755);
    const char *tar = find_tar();
    if (!tar) {
        r = corch_err_set(err, -ENOENT, NULL, "tar not found");
        rm_rf(tmp);
        goto done;
    }
    /* Our own check of every entry first (nsf-image.h), not only tar's;
     * ownership is ours, not the archive's. */
    image = spec->tmpl ? xasprintf("%s (%s)", spec->tmpl->id, spec->image_path)
                       : xstrdup(spec->image_path);
    r = nsf_image_check(spec->image_path, image, err);
    if (r < 0) {
        rm_rf(tmp);
        goto done;
    }
    char *argv[] = { (char *) tar, "-xzf", (char *) spec->image_path,
                     "-C", tmp, "--no-same-owner", "--delay-directory-restore",
                     NULL };
    struct proc_options o = { .netns_fd = -1, .timeout_ms = 60000 };
    struct proc_result res = { 0 };
    r = proc_run(argv, &o, &res);
    if (r < 0 || res.status) {
        if (r >= 0)
            r = -EINVAL;
        corch_err_set(err, r, NULL, "cannot unpack %s: %s",
                      spec->image_path, res.err && *res.err ? res.err
                      : strerror(-r));
        proc_result_free(&res);
        rm_rf(tmp);
        goto done;
    }
    proc_result_free(&res);
    r = nsf_image_strip(tmp, image, err);
    if (r == 0)
        r = pkg_check(tmp, err);
    if (r < 0) {
        rm_rf(tmp);
        goto done;
    }
    if (rename(tmp, dir) < 0) {
        r = -errno;
        corch_err_set(err, r, NULL, "%s: %s", dir, strerror(-r));
        rm_rf(tmp);
        goto done;
    }
    LOG_INFO("NSF package %s unpacked into %s", spec->image_path, dir);
    r = 0;
done:
    pthread_mutex_unlock(&ne->mutex);
    if (r == 0)
        *ret_dir = TAKE_PTR(dir);
    return r;
}

/* ---- Scripts. ---- */

static bool
script_exists(const struct native_sf *sf, const char *name)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", sf->pkg_dir, name);
    struct stat st;
    return !lstat(p, &st) && S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR);
}

static void
log_append(const struct native_sf *sf, const char *script,
           const struct proc_result *res, uint64_t ns)
{
    time_t now = time(NULL);
    struct tm tm;
    char when[32];
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    _cleanup_free_ char *head = xasprintf(
        "=== %s %s: %s %d (%.1f ms)\n", when, script,
        res->timed_out ? "timed out, status" : "exit", res->status,
        ns / 1e6);
    _cleanup_free_ char *text = xasprintf(
        "%s%s%s%s%s", head, *res->out ? "--- stdout\n" : "", res->out,
        *res->err ? "--- stderr\n" : "", res->err);
    if (write_file(sf->log_path, text, strlen(text), O_APPEND) < 0)
        LOG_WARN_RL("%s: cannot write %s", sf->instance, sf->log_path);
}

/* Runs package script 'name' inside the namespace:
 *     <name> RUN_DIR CONFIG PORT...
 * with the environment of docs/native-engine.md.  Returns 0 if it exited
 * 0; otherwise fills 'err' with its status and the tail of its stderr. */
static int
run_script(struct native_sf *sf, const char *name, const char *pause_arg,
           unsigned long long *ret_ns, struct corch_err *err)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", sf->pkg_dir, name);
    _cleanup_free_ char *e_inst = xasprintf("NSF_INSTANCE=%s", sf->instance);
    _cleanup_free_ char *e_run = xasprintf("NSF_RUN_DIR=%s", sf->run_dir);
    _cleanup_free_ char *e_cfg = xasprintf("NSF_CONFIG=%s", sf->config_path);
    _cleanup_free_ char *e_pkg = xasprintf("NSF_PACKAGE_DIR=%s", sf->pkg_dir);
    _cleanup_free_ char *e_act = xasprintf("NSF_ACTION=%s", name);
    _cleanup_free_ char *e_ns = xasprintf("NSF_NETNS=%s", sf->netns_name);
    _cleanup_free_ char *e_pause = pause_arg
        ? xasprintf("NSF_PAUSE=%s", pause_arg) : NULL;
    char *envp[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LC_ALL=C", "PYTHONDONTWRITEBYTECODE=1", e_inst, e_run, e_cfg, e_pkg,
        e_act, e_ns, sf->destroying ? "NSF_DESTROY=1" : e_pause,
        sf->destroying ? e_pause : NULL, NULL,
    };
    _cleanup_free_ char **argv = xcalloc(sf->n_ports + 4, sizeof *argv);
    size_t n = 0;
    argv[n++] = path;
    argv[n++] = sf->run_dir;
    argv[n++] = sf->config_path;
    for (size_t i = 0; i < sf->n_ports; i++)
        argv[n++] = sf->ports[i].name;
    argv[n] = NULL;

    struct proc_options o = {
        .cwd = sf->run_dir,
        .envp = envp,
        .netns_fd = sf->netns_fd,
        .timeout_ms = sf->timeout_s * 1000u,
        .cpus = sf->cpus,
        .n_cpus = sf->n_cpus,
    };
    struct proc_result res = { 0 };
    uint64_t t0 = time_ns();
    int r = proc_run(argv, &o, &res);
    uint64_t dt = time_ns() - t0;
    if (ret_ns)
        *ret_ns = dt;
    if (r < 0)
        return corch_err_set(err, r, NULL, "%s: cannot run %s script: %s",
                             sf->instance, name, strerror(-r));
    log_append(sf, name, &res, dt);
    if (res.status == 0 && !res.timed_out) {
        proc_result_free(&res);
        return 0;
    }

    /* The operator needs the end of stderr (where scripts say why). */
    size_t len = strlen(res.err);
    while (len && (res.err[len - 1] == '\n' || res.err[len - 1] == ' '))
        res.err[--len] = '\0';
    const char *tail = len > NATIVE_ERR_TAIL ? res.err + len - NATIVE_ERR_TAIL
                                             : res.err;
    if (res.timed_out)
        r = corch_err_set(err, -ETIMEDOUT, NULL,
                          "%s: %s script timed out after %u s%s%s",
                          sf->instance, name, sf->timeout_s,
                          *tail ? "; stderr: " : "", tail);
    else
        r = corch_err_set(err, -EIO, NULL,
                          "%s: %s script exited with status %d%s%s",
                          sf->instance, name, res.status,
                          *tail ? "; stderr: " : " (no stderr)", tail);
    LOG_WARN_RL("%s", err ? err->msg : name);
    proc_result_free(&res);
    return r;
}

/* A process that holds nothing but the namespace, for NSFs whose work is
 * all in the kernel (bridge, nftables): it gives the SF a PID that shows
 * it runs and stays the same while it runs. */
static pid_t
holder_spawn(const struct native_sf *sf)
{
    static char *const argv[] = { "/bin/sleep", "infinity", NULL };
    static char *const envp[] = { "PATH=/usr/bin:/bin", NULL };
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    for (size_t i = 0; i < sf->n_cpus; i++)
        if (sf->cpus[i] < CPU_SETSIZE)
            CPU_SET(sf->cpus[i], &cpus);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
        return 0;

    pid_t pid = fork();
    if (pid == 0) {
        /* Async-signal-safe calls only until exec. */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++)
            sigaction(sig, &sa, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        if (setns(sf->netns_fd, CLONE_NEWNET) < 0)
            _exit(127);
        if (sf->n_cpus)
            sched_setaffinity(0, sizeof cpus, &cpus);
        if (chdir("/") < 0)
            _exit(127);
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        close_range(3, ~0U, 0);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    close(devnull);
    return pid > 0 ? pid : 0;
}

/* The first PID of <run_dir>/pids, or 0. */
static pid_t
pidfile_first(const struct native_sf *sf)
{
    FILE *f = fopen(sf->pids_path, "re");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || pid > 1 << 22)
            pid = 0;
        fclose(f);
    }
    return (pid_t) pid;
}

/* ---- Ports. ---- */

struct move_back {
    const char *name;           /* Device in the SF's namespace. */
    const char *ifname;         /* Its name in the root namespace. */
    int root_fd;                /* The root (our) namespace. */
};

static int
move_back_fn(void *arg)
{
    struct move_back *m = arg;
    return netlink_link_move_to_netns(m->name, m->root_fd, m->ifname);
}

static int
delete_fn(void *arg)
{
    return netlink_link_delete(arg);
}

static int
group_delete_fn(void *arg)
{
    return netlink_group_delete(NATIVE_PORT_GROUP);
}

/* Gives a port back to the root namespace under its old name (the switch
 * owns the pair and deletes it); deletes it if that fails. */
static void
port_give_back(struct native_sf *sf, const struct native_port *p)
{
    if (p->in_netns) {
        /* It never was in the root namespace: the pair goes (the switch
         * forgets its end with port_destroy). */
        int e = netns_visit(sf, delete_fn, (void *) p->name);
        if (e < 0 && e != -ENODEV)
            LOG_WARN("%s: cannot delete %s: %s", sf->instance, p->name,
                     strerror(-e));
        return;
    }
    _cleanup_close_ int root = netns_self();
    struct move_back m = { p->name, p->ifname, root };
    int r = root >= 0 ? netns_visit(sf, move_back_fn, &m) : root;
    if (r >= 0)
        netlink_link_set_group(p->ifname, 0);
    else {
        LOG_WARN("%s: cannot give %s back (%s); deleting it", sf->instance,
                 p->name, strerror(-r));
        netns_visit(sf, delete_fn, (void *) p->name);
    }
}

struct tune_state {
    const char *name;           /* Device in the SF's namespace. */
    int unused;                 /* (Keeps the initialiser positional.) */
};

/* Inside the namespace: the port's group (for destroy's batch delete),
 * TX checksum offload off, up. */
static int
tune_fn(void *arg)
{
    struct tune_state *t = arg;
    int r = netlink_link_set_group(t->name, NATIVE_PORT_GROUP);
    if (r < 0)
        return r;
    r = netlink_link_tx_offload_off(t->name);
    if (r < 0 && r != -EOPNOTSUPP)
        LOG_DBG("%s: tx offload stays: %s", t->name, strerror(-r));
    return netlink_link_set_up(t->name, true);
}

static void
port_record(struct native_sf *sf, const struct compute_port *port,
            bool in_netns)
{
    sf->ports = xrealloc(sf->ports, (sf->n_ports + 1) * sizeof *sf->ports);
    struct native_port *p = &sf->ports[sf->n_ports++];
    p->id = xstrdup(port->id);
    snprintf(p->name, sizeof p->name, "%s", port->name);
    snprintf(p->ifname, sizeof p->ifname, "%s", port->ifname);
    p->in_netns = in_netns;
}

/* Moves the switch's device 'port->ifname' into the namespace as
 * 'port->name', up, with TX checksum offload off (the userspace datapath
 * does not complete checksums). */
static int
port_attach(struct native_sf *sf, const struct compute_port *port,
            const char *path, struct corch_err *err)
{
    if (!port->id || !port->name || !port->ifname
        || !name_is_valid_ifname(port->name)
        || !name_is_valid_ifname(port->ifname))
        return corch_err_set(err, -EINVAL, path,
                             "%s: port needs an id, a device name and the "
                             "switch's device", path);
    for (size_t i = 0; i < sf->n_ports; i++)
        if (!strcmp(sf->ports[i].id, port->id)
            || !strcmp(sf->ports[i].name, port->name))
            return corch_err_set(err, -EEXIST, path,
                                 "%s: port %s (%s) already attached", path,
                                 port->id, port->name);
    if (port->tech != VSWITCH_PORT_VETH && port->tech != VSWITCH_PORT_INTERNAL)
        return corch_err_set(err, -EOPNOTSUPP, path,
                             "%s: the native engine takes veth or internal "
                             "ports, not %s", path,
                             vswitch_port_tech_name(port->tech));

    if (port->in_netns) {
        /* Made in there by the switch, already named: group, offload and
         * up from inside, no move (no RCU wait). */
        struct tune_state ts = { port->name, 0 };
        int r = netns_visit(sf, tune_fn, &ts);
        if (r < 0)
            return corch_err_set(err, r, path, "%s: device %s in %s: %s",
                                 path, port->name, sf->netns_name,
                                 strerror(-r));
        port_record(sf, port, true);
        return 0;
    }
    int r = netlink_link_tx_offload_off(port->ifname);
    if (r < 0 && r != -EOPNOTSUPP)
        LOG_DBG("%s: tx offload stays: %s", port->ifname, strerror(-r));
    r = netlink_link_set_group(port->ifname, NATIVE_PORT_GROUP);
    if (r < 0)
        return corch_err_set(err, r, path, "%s: device %s: %s", path,
                             port->ifname, strerror(-r));
    r = netlink_link_move_to_netns(port->ifname, sf->netns_fd, port->name);
    if (r < 0) {
        netlink_link_set_group(port->ifname, 0);
        return corch_err_set(err, r, path,
                             "%s: cannot move %s into %s as %s: %s", path,
                             port->ifname, sf->netns_name, port->name,
                             strerror(-r));
    }
    port_record(sf, port, false);
    return 0;
}

static void
port_forget(struct native_sf *sf, size_t i)
{
    free(sf->ports[i].id);
    memmove(&sf->ports[i], &sf->ports[i + 1],
            (sf->n_ports - i - 1) * sizeof *sf->ports);
    sf->n_ports--;
}

/* ---- Hooks. ---- */

/* Frees the object (nothing on the node changes). */
static void
sf_free(struct native_sf *sf)
{
    if (!sf)
        return;
    struct native_engine *ne = sf->ne;
    pthread_mutex_lock(&ne->sfs_mutex);
    if (sf->prev)
        sf->prev->next = sf->next;
    else
        ne->sfs = sf->next;
    if (sf->next)
        sf->next->prev = sf->prev;
    pthread_mutex_unlock(&ne->sfs_mutex);
    compute_sf_base_uninit(&sf->up);
    for (size_t i = 0; i < sf->n_ports; i++)
        free(sf->ports[i].id);
    free(sf->ports);
    free(sf->cpus);
    free(sf->instance);
    free(sf->netns_path);
    free(sf->pkg_dir);
    free(sf->run_dir);
    free(sf->config_path);
    free(sf->log_path);
    free(sf->pids_path);
    if (sf->netns_fd >= 0)
        close(sf->netns_fd);
    free(sf);
}

static bool
instance_is_valid(const char *s)
{
    size_t n = 0;
    if (!s || s[0] == '.' || s[0] == '-')
        return false;
    for (; s[n]; n++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789_.-", s[n]))
            return false;
    return n >= 1 && n <= 48;
}

static int
native_open(const struct corch_config *cfg, struct compute_engine **ret_engine,
            struct corch_err *err)
{
    if (!cfg || !cfg->state_dir || !*cfg->state_dir)
        return corch_err_set(err, -EINVAL, "state.dir",
                             "state.dir: the native engine needs one");
    if (sodium_init() < 0)
        return corch_err_set(err, -EIO, NULL, "libsodium failed to start");
    _cleanup_free_ char *nsf = xasprintf("%s/nsf", cfg->state_dir);
    int r = mkdir_p(nsf, 0755);
    if (r < 0)
        return corch_err_set(err, r, "state.dir", "state.dir: %s: %s", nsf,
                             strerror(-r));
    uint32_t h = 2166136261u;           /* FNV-1a */
    for (const char *c = cfg->state_dir; *c; c++)
        h = (h ^ (unsigned char) *c) * 16777619u;
    struct native_engine *ne = xcalloc(1, sizeof *ne);
    ne->state_dir = xstrdup(cfg->state_dir);
    snprintf(ne->tag, sizeof ne->tag, "%04x", (h ^ (h >> 16)) & 0xffff);
    pthread_mutex_init(&ne->mutex, NULL);
    pthread_mutex_init(&ne->sfs_mutex, NULL);
    *ret_engine = &ne->up;
    return 0;
}

static void
native_close(struct compute_engine *e)
{
    struct native_engine *ne = native_engine_cast(e);
    /* The SFs keep running on the node; a restart finds their namespaces
     * by name.  Only the objects go. */
    while (ne->sfs)
        sf_free(ne->sfs);
    free(ne->state_dir);
    pthread_mutex_destroy(&ne->mutex);
    pthread_mutex_destroy(&ne->sfs_mutex);
    free(ne);
}

static int
native_probe(struct compute_engine *engine, struct corch_err *err)
{
    (void) engine;
    if (access("/proc/self/ns/net", F_OK) < 0)
        return corch_err_set(err, -EOPNOTSUPP, NULL,
                             "kernel without network namespaces");
    if (!find_tar())
        return corch_err_set(err, -ENOENT, NULL,
                             "tar not found (needed to unpack NSFs)");
    /* The real thing: can this process make a namespace?  (Root or
     * CAP_SYS_ADMIN; not inside a restrictive container.) */
    _cleanup_close_ int self = netns_self();
    if (self < 0)
        return corch_err_set(err, self, NULL, "/proc/thread-self: %s",
                             strerror(-self));
    if (unshare(CLONE_NEWNET) < 0) {
        int e = errno;
        return corch_err_set(err, -e, NULL,
                             "cannot create network namespaces: %s%s",
                             strerror(e), e == EPERM
                             ? " (needs CAP_SYS_ADMIN)" : "");
    }
    netns_return(self);
    if (access("/usr/sbin/nft", X_OK) && access("/sbin/nft", X_OK))
        LOG_WARN_RL("nft not found: the firewall and nat NSFs cannot run "
                    "(their templates say so)");
    return 0;
}

/* A new SF of 'instance' with its names, owning nothing on the node. */
static struct native_sf *
sf_new(struct native_engine *ne, const char *instance)
{
    struct native_sf *sf = xcalloc(1, sizeof *sf);
    sf->ne = ne;
    sf->netns_fd = -1;
    sf->instance = xstrdup(instance);
    snprintf(sf->netns_name, sizeof sf->netns_name, "%s%s-%s",
             COMPUTE_NATIVE_NETNS_PREFIX, ne->tag, instance);
    pthread_mutex_lock(&ne->sfs_mutex);
    sf->next = ne->sfs;
    if (ne->sfs)
        ne->sfs->prev = sf;
    ne->sfs = sf;
    pthread_mutex_unlock(&ne->sfs_mutex);
    sf->netns_path = xasprintf("%s/%s", NETNS_RUN_DIR, sf->netns_name);
    return sf;
}

/* A namespace of this instance's name left by an earlier run of c-orch
 * (graphs stay deployed across a restart, and the restart deploys them
 * again): its processes are killed and it is removed, so the instance is
 * recreated from a known state.  The name carries this node's tag, so it
 * can only be ours. */
static void
sf_netns_reclaim(struct native_sf *sf)
{
    struct stat st;
    if (stat(sf->netns_path, &st) < 0)
        return;
    LOG_WARN("%s: left by an earlier run; recreating the instance",
             sf->netns_path);
    sf->netns_dev = st.st_dev;
    sf->netns_ino = st.st_ino;
    netns_kill_all(sf, 1000);
    netns_unbind(sf->netns_path);
    sf->netns_dev = 0;
    sf->netns_ino = 0;
}

/* Creates the SF's namespace.  On failure nothing is left. */
static int
sf_netns_create(struct native_sf *sf, struct corch_err *err)
{
    int r = netns_create(sf->ne, sf->netns_path, &sf->netns_fd, err);
    if (r == -EEXIST) {
        sf_netns_reclaim(sf);
        r = netns_create(sf->ne, sf->netns_path, &sf->netns_fd, err);
    }
    if (r < 0)
        return r;
    struct stat st;
    if (fstat(sf->netns_fd, &st) < 0) {
        r = corch_err_set(err, -errno, NULL, "%s: %s", sf->netns_path,
                          strerror(errno));
        close(sf->netns_fd);
        sf->netns_fd = -1;
        netns_unbind(sf->netns_path);
        return r;
    }
    sf->netns_dev = st.st_dev;
    sf->netns_ino = st.st_ino;
    return 0;
}

/* Forgets what create added to a prepared SF (it is as prepare left it). */
static void
sf_unfill(struct native_sf *sf)
{
    for (size_t i = 0; i < sf->n_ports; i++)
        free(sf->ports[i].id);
    free(sf->ports);
    sf->ports = NULL;
    sf->n_ports = 0;
    free(sf->cpus);
    sf->cpus = NULL;
    sf->n_cpus = 0;
    free(sf->pkg_dir);
    free(sf->run_dir);
    free(sf->config_path);
    free(sf->log_path);
    free(sf->pids_path);
    sf->pkg_dir = sf->run_dir = sf->config_path = NULL;
    sf->log_path = sf->pids_path = NULL;
}

static int
native_prepare(struct compute_engine *e, const struct compute_sf_spec *spec,
               struct compute_sf **ret_sf, const char **ret_netns_path,
               struct corch_err *err)
{
    struct native_engine *ne = native_engine_cast(e);
    if (!instance_is_valid(spec->instance))
        return corch_err_set(err, -EINVAL, NULL,
                             "instance name \"%s\" is not [A-Za-z0-9_.-]"
                             "{1,48}", spec->instance ? spec->instance : "");
    struct native_sf *sf = sf_new(ne, spec->instance);
    uint64_t t0 = time_ns();
    int r = sf_netns_create(sf, err);
    if (r < 0) {
        sf_free(sf);
        return r;
    }
    sf->netns_ns = time_ns() - t0;
    *ret_sf = &sf->up;
    *ret_netns_path = sf->netns_path;
    return 0;
}

static int
native_create(struct compute_engine *e, const struct compute_sf_spec *spec,
              struct compute_sf **ret_sf, struct corch_err *err)
{
    struct native_engine *ne = native_engine_cast(e);
    struct native_sf *sf = spec->prepared ? native_sf_cast(spec->prepared)
                                          : NULL;
    bool fresh = !sf;
    int r;

    if (!instance_is_valid(spec->instance))
        return corch_err_set(err, -EINVAL, NULL,
                             "instance name \"%s\" is not [A-Za-z0-9_.-]"
                             "{1,48}", spec->instance ? spec->instance : "");
    if (!spec->run_dir || spec->run_dir[0] != '/')
        return corch_err_set(err, -EINVAL, NULL,
                             "%s: run directory must be an absolute path",
                             spec->instance);
    if (sf && (sf->created || strcmp(sf->instance, spec->instance)))
        return corch_err_set(err, -EINVAL, NULL,
                             "%s: not a prepared SF of this instance",
                             spec->instance);

    if (sf && sf->ne != ne)
        return corch_err_set(err, -EINVAL, NULL,
                             "%s: prepared by another engine instance",
                             spec->instance);
    if (fresh)
        sf = sf_new(ne, spec->instance);
    sf->run_dir = xstrdup(spec->run_dir);
    sf->config_path = xasprintf("%s/config.json", spec->run_dir);
    sf->log_path = xasprintf("%s/log", spec->run_dir);
    sf->pids_path = xasprintf("%s/pids", spec->run_dir);
    sf->timeout_s = spec->timeout_s ? spec->timeout_s
                                    : NATIVE_DEFAULT_TIMEOUT_S;
    if (spec->n_cpus) {
        sf->cpus = xcalloc(spec->n_cpus, sizeof *sf->cpus);
        memcpy(sf->cpus, spec->cpus, spec->n_cpus * sizeof *sf->cpus);
        sf->n_cpus = spec->n_cpus;
    }

    uint64_t t_begin = time_ns();
    r = pkg_unpack(ne, spec, &sf->pkg_dir, err);
    if (r < 0)
        goto fail;

    const char *cfg = spec->config_json && *spec->config_json
                      ? spec->config_json : "{}";
    r = write_file(sf->config_path, cfg, strlen(cfg), O_TRUNC);
    if (r < 0) {
        corch_err_set(err, r, NULL, "%s: %s", sf->config_path, strerror(-r));
        goto fail;
    }

    uint64_t t_netns = time_ns();
    if (fresh) {
        r = sf_netns_create(sf, err);
        if (r < 0)
            goto fail;
    }

    uint64_t t_ports = time_ns();
    for (size_t i = 0; i < spec->n_ports; i++) {
        char path[32];
        snprintf(path, sizeof path, "ports[%zu]", i);
        r = port_attach(sf, &spec->ports[i], path, err);
        if (r < 0)
            goto fail_netns;
    }
    uint64_t t_end = time_ns();
    if (fresh)
        sf->netns_ns = t_ports - t_netns;
    sf->ports_ns = t_end - t_ports;
    sf->created = true;
    LOG_DBG("%s: created in %s with %zu ports: package+config %.2f ms, "
            "namespace %.2f ms, ports %.2f ms", sf->instance, sf->netns_name,
            sf->n_ports, (t_netns - t_begin) / 1e6, sf->netns_ns / 1e6,
            (t_end - t_ports) / 1e6);
    *ret_sf = &sf->up;
    return 0;

fail_netns:
    /* As before the call: the devices already moved go back to the switch,
     * which owns them; those the switch made in a prepared namespace stay
     * there, as prepare left them. */
    for (size_t i = 0; i < sf->n_ports; i++)
        if (!sf->ports[i].in_netns)
            port_give_back(sf, &sf->ports[i]);
    if (fresh) {
        close(sf->netns_fd);
        sf->netns_fd = -1;
        netns_unbind(sf->netns_path);
    }
fail:
    unlink(sf->config_path);
    if (fresh)
        sf_free(sf);
    else
        sf_unfill(sf);
    return r;
}

static int
native_start(struct compute_sf *csf, struct corch_err *err)
{
    struct native_sf *sf = native_sf_cast(csf);
    if (sf->running)
        return 0;
    unlink(sf->pids_path);
    int r = run_script(sf, "start", NULL, &sf->last_script_ns, err);
    if (r < 0) {
        /* Whatever it left behind goes: the SF is as before (created). */
        netns_kill_all(sf, 0);
        unlink(sf->pids_path);
        return r;
    }
    uint64_t t0 = time_ns();
    if (!pidfile_first(sf))
        sf->holder = holder_spawn(sf);
    LOG_DBG("%s: placeholder %.2f ms", sf->instance, (time_ns() - t0) / 1e6);
    sf->running = true;
    sf->paused = false;
    LOG_INFO("%s: started (start script %.1f ms)", sf->instance,
             sf->last_script_ns / 1e6);
    return 0;
}

static int
native_stop(struct compute_sf *csf, struct corch_err *err)
{
    struct native_sf *sf = native_sf_cast(csf);
    if (!sf->running)
        return 0;
    if (script_exists(sf, "stop")) {
        struct corch_err serr = { .path = "", .msg = "" };
        /* Best effort: whatever the script does, everything in the
         * namespace goes below and the SF is stopped. */
        if (run_script(sf, "stop", NULL, NULL, &serr) < 0)
            LOG_WARN("%s (continuing: processes are killed)", serr.msg);
    }
    netns_kill_all(sf, 500);
    unlink(sf->pids_path);
    sf->running = false;
    sf->paused = false;
    return 0;
}

struct links_state {
    const struct native_sf *sf; /* Whose ports. */
    bool up;                    /* Set up (true) or down. */
};

static int
links_fn(void *arg)
{
    struct links_state *s = arg;
    int r = 0;
    for (size_t i = 0; i < s->sf->n_ports; i++) {
        int e = netlink_link_set_up(s->sf->ports[i].name, s->up);
        if (e < 0 && !r)
            r = e;
    }
    return r;
}

static int
native_pause(struct compute_sf *csf, bool pause, struct corch_err *err)
{
    struct native_sf *sf = native_sf_cast(csf);
    if (!sf->running)
        return corch_err_set(err, -EINVAL, NULL, "%s: not running",
                             sf->instance);
    if (sf->paused == pause)
        return 0;
    if (script_exists(sf, "pause")) {
        int r = run_script(sf, "pause", pause ? "on" : "off", NULL, err);
        if (r < 0)
            return r;
    } else {
        /* Default: freeze the processes, and the kernel datapath by taking
         * the ports down. */
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = netns_pids(sf, &pids);
        for (size_t i = 0; i < n; i++)
            kill(pids[i], pause ? SIGSTOP : SIGCONT);
        struct links_state s = { sf, !pause };
        int r = netns_visit(sf, links_fn, &s);
        if (r < 0)
            return corch_err_set(err, r, NULL, "%s: ports %s: %s",
                                 sf->instance, pause ? "down" : "up",
                                 strerror(-r));
    }
    sf->paused = pause;
    return 0;
}

static int
native_port_add(struct compute_sf *csf, const struct compute_port *port,
                struct corch_err *err)
{
    struct native_sf *sf = native_sf_cast(csf);
    int r = port_attach(sf, port, "port", err);
    if (r < 0)
        return r;
    if (sf->running && script_exists(sf, "update")) {
        r = run_script(sf, "update", NULL, NULL, err);
        if (r < 0) {
            struct native_port p = sf->ports[sf->n_ports - 1];
            p.id = NULL;
            port_give_back(sf, &p);
            port_forget(sf, sf->n_ports - 1);
            return r;
        }
    }
    return 0;
}

static int
native_port_remove(struct compute_sf *csf, const char *port_id,
                   struct corch_err *err)
{
    struct native_sf *sf = native_sf_cast(csf);
    size_t i;
    for (i = 0; i < sf->n_ports; i++)
        if (port_id && !strcmp(sf->ports[i].id, port_id))
            break;
    if (i == sf->n_ports)
        return corch_err_set(err, -ENOENT, NULL, "%s: no port %s",
                             sf->instance, port_id ? port_id : "(null)");
    struct native_port p = sf->ports[i];
    port_give_back(sf, &p);
    if (sf->running && script_exists(sf, "update")) {
        /* The update script sees the ports that remain. */
        struct native_port keep = sf->ports[i];
        memmove(&sf->ports[i], &sf->ports[i + 1],
                (sf->n_ports - i - 1) * sizeof *sf->ports);
        sf->n_ports--;
        int r = run_script(sf, "update", NULL, NULL, err);
        /* Put the entry back where it was, then decide. */
        memmove(&sf->ports[i + 1], &sf->ports[i],
                (sf->n_ports - i) * sizeof *sf->ports);
        sf->ports[i] = keep;
        sf->n_ports++;
        if (r < 0) {
            /* As before the call: the device comes back in. */
            int e = netlink_link_move_to_netns(keep.ifname, sf->netns_fd,
                                               keep.name);
            if (e < 0)
                LOG_WARN("%s: %s not restored: %s", sf->instance, keep.name,
                         strerror(-e));
            return r;
        }
    }
    port_forget(sf, i);
    return 0;
}

static int
native_pid(const struct compute_sf *csf)
{
    const struct native_sf *sf = native_sf_cast(csf);
    if (!sf->running)
        return 0;
    pid_t pid = pidfile_first(sf);
    if (!pid)
        pid = sf->holder;
    return pid > 0 && kill(pid, 0) == 0 ? (int) pid : 0;
}

static void
native_destroy(struct compute_sf *csf)
{
    struct native_sf *sf = native_sf_cast(csf);
    if (sf->running) {
        struct corch_err err = { .path = "", .msg = "" };
        sf->destroying = true;
        native_stop(csf, &err);
    }
    if (sf->netns_fd >= 0) {
        /* Anything a failed or stray script left. */
        netns_kill_all(sf, 0);
        /* The kernel would delete the veths with the namespace, but later,
         * from a work queue: delete them now so that the switch-side names
         * are free when destroy returns. */
        if (sf->n_ports)
            netns_visit(sf, group_delete_fn, NULL);
        close(sf->netns_fd);
        sf->netns_fd = -1;
    }
    /* The last reference: the kernel deletes the namespace and the veths
     * in it (and their peers in the switch). */
    netns_unbind(sf->netns_path);
    rm_rf(sf->run_dir);
    LOG_DBG("%s: destroyed", sf->instance);
    sf_free(sf);
}

/* Shutdown: the namespace (its bind mount in /run/netns), its processes,
 * the placeholder and the run directory stay; a restart finds them by
 * the instance's name.  Only the object and its descriptor go. */
static void
native_release(struct compute_sf *csf)
{
    struct native_sf *sf = native_sf_cast(csf);
    LOG_DBG("%s: released%s", sf->instance, sf->running ? " (running)" : "");
    sf_free(sf);
}

const char *
compute_native_netns_name(const struct compute_sf *sf)
{
    return native_sf_cast(sf)->netns_name;
}

unsigned long long
compute_native_last_script_ns(const struct compute_sf *sf)
{
    return native_sf_cast(sf)->last_script_ns;
}

void
compute_native_timings(const struct compute_sf *csf,
                       struct compute_native_timings *ret)
{
    const struct native_sf *sf = native_sf_cast(csf);
    ret->netns_ns = sf->netns_ns;
    ret->ports_ns = sf->ports_ns;
    ret->script_ns = sf->last_script_ns;
}

const struct compute_class compute_native_class = {
    .type = "native",
    .open = native_open,
    .close = native_close,
    .probe = native_probe,
    .default_port_tech = VSWITCH_PORT_VETH,
    .prepare = native_prepare,
    .create = native_create,
    .start = native_start,
    .stop = native_stop,
    .pause = native_pause,
    .port_add = native_port_add,
    .port_remove = native_port_remove,
    .pid = native_pid,
    .destroy = native_destroy,
    .release = native_release,
};
