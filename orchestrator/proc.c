#include <config.h>
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

LOG_MODULE(proc);

#define PROC_DEFAULT_MAX_OUTPUT (64 * 1024)

static char *const proc_minimal_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LC_ALL=C",
    NULL,
};

/* The tail of one output stream.  Grows to at most twice 'max' before it
 * drops its head, so that a chatty program costs a memmove per 'max'
 * bytes, not per read. */
struct proc_buf {
    char *data;                 /* Bytes kept, not NUL-terminated. */
    size_t len;                 /* Bytes in 'data'. */
    size_t max;                 /* Tail length to keep. */
};

static void
proc_buf_append(struct proc_buf *b, const char *p, size_t n)
{
    if (n >= b->max) {
        p += n - b->max;
        n = b->max;
        b->len = 0;
    }
    if (b->len + n > 2 * b->max) {
        size_t drop = b->len + n - b->max;
        memmove(b->data, b->data + drop, b->len - drop);
        b->len -= drop;
    }
    if (!b->data)
        b->data = xmalloc(2 * b->max + 1);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* Hands the kept tail out as a NUL-terminated string. */
static char *
proc_buf_finish(struct proc_buf *b)
{
    size_t skip = b->len > b->max ? b->len - b->max : 0;
    char *s = xmalloc(b->len - skip + 1);
    if (b->len)
        memcpy(s, b->data + skip, b->len - skip);
    s[b->len - skip] = '\0';
    free(b->data);
    b->data = NULL;
    b->len = 0;
    return s;
}

static void
close_pair(int fds[2])
{
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

/* Child side, between fork() and exec(): async-signal-safe calls only
 * (the daemon is multithreaded).  On failure, the errno goes up 'errfd'
 * so that the parent can tell "could not start" from "exited 127". */
static void __attribute__((noreturn))
proc_child(char *const argv[], char *const envp[],
           const struct proc_options *o, const cpu_set_t *cpus,
           int devnull, int outfd, int errfd_out, int errfd)
{
    int e;

    /* A process group of its own: the timeout kills it and everything it
     * spawned at once. */
    if (setpgid(0, 0) < 0)
        goto fail;

    /* Handlers vanish at exec, but ignored signals and the mask survive:
     * the program must not inherit the daemon's SIGPIPE-ignore or its
     * blocked SIGTERM. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &sa, NULL);      /* Fails harmlessly on KILL/STOP. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (o->netns_fd >= 0 && setns(o->netns_fd, CLONE_NEWNET) < 0)
        goto fail;
    if (cpus && sched_setaffinity(0, sizeof *cpus, cpus) < 0)
        goto fail;
    if (o->cwd && chdir(o->cwd) < 0)
        goto fail;

    if (dup2(devnull, 0) < 0 || dup2(outfd, 1) < 0 || dup2(errfd_out, 2) < 0)
        goto fail;
    /* dup2() onto itself keeps close-on-exec: clear it for 0-2. */
    for (int fd = 0; fd < 3; fd++)
        fcntl(fd, F_SETFD, 0);
    /* Nothing of the daemon's (sockets, database, other SFs' pipes) leaks
     * into the program.  'errfd' moves to 3 and stays until the exec
     * closes it. */
    if (errfd != 3) {
        if (dup2(errfd, 3) < 0)
            goto fail;
        errfd = 3;
    }
    fcntl(errfd, F_SETFD, FD_CLOEXEC);
    close_range(4, ~0U, 0);

    execve(argv[0], argv, envp);
fail:
    e = errno;
    if (write(errfd, &e, sizeof e) < 0) {
        /* Nothing more can be done. */
    }
    _exit(127);
}

static int
pipe_or_fail(int fds[2])
{
    return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

int
proc_run(char *const argv[], const struct proc_options *opts,
         struct proc_result *ret)
{
    static const struct proc_options defaults = { .netns_fd = -1 };
    const struct proc_options *o = opts ? opts : &defaults;
    int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, execp[2] = { -1, -1 };
    _cleanup_close_ int devnull = -1;
    _cleanup_close_ int pidfd = -1;
    cpu_set_t cpus;
    bool have_cpus = false;
    int r;

    if (!argv || !argv[0] || argv[0][0] != '/')
        return -EINVAL;
    if (o->cpus && o->n_cpus) {
        CPU_ZERO(&cpus);
        for (size_t i = 0; i < o->n_cpus; i++) {
            if (o->cpus[i] >= CPU_SETSIZE)
                return -EINVAL;
            CPU_SET(o->cpus[i], &cpus);
        }
        have_cpus = true;
    }

    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0)
        return -errno;
    if ((r = pipe_or_fail(outp)) < 0 || (r = pipe_or_fail(errp)) < 0
        || (r = pipe_or_fail(execp)) < 0)
        goto out_pipes;

    pid_t pid = fork();
    if (pid < 0) {
        r = -errno;
        goto out_pipes;
    }
    if (pid == 0)
        proc_child(argv, o->envp ? o->envp : proc_minimal_env, o,
                   have_cpus ? &cpus : NULL, devnull, outp[1], errp[1],
                   execp[1]);

    /* Also from here, so that a kill(-pid) right after fork() cannot miss
     * the group (whichever of the two runs first wins; both agree). */
    setpgid(pid, pid);
    close(outp[1]);
    close(errp[1]);
    close(execp[1]);
    outp[1] = errp[1] = execp[1] = -1;

    /* Did the exec happen?  The pipe closes on exec (EOF) or carries the
     * errno of the step that failed. */
    int child_errno = 0;
    ssize_t n;
    do
        n = read(execp[0], &child_errno, sizeof child_errno);
    while (n < 0 && errno == EINTR);
    if (n == sizeof child_errno) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            continue;
        r = child_errno > 0 ? -child_errno : -EIO;
        LOG_DBG("%s: cannot start: %s", argv[0], strerror(-r));
        goto out_pipes;
    }

    /* Watch the child itself as well as its pipes: a daemon it leaves
     * running may hold the pipes open forever, so EOF is not the end. */
    pidfd = pidfd_open(pid, 0);
    /* Kernels before 5.3 (small CPE boxes) and valgrind have no pidfd:
     * then the loop below polls the child's state every few ms. */
    bool poll_exit = pidfd < 0 && errno == ENOSYS;
    if (pidfd < 0 && !poll_exit) {
        r = -errno;
        kill(-pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            continue;
        goto out_pipes;
    }

    size_t max = o->max_output ? o->max_output : PROC_DEFAULT_MAX_OUTPUT;
    struct proc_buf bufs[2] = { { .max = max }, { .max = max } };
    int fds[2] = { outp[0], errp[0] };
    for (int i = 0; i < 2; i++)
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
    uint64_t deadline = o->timeout_ms ? time_ms() + o->timeout_ms : 0;
    bool exited = false, timed_out = false;
    unsigned int drain_rounds = 0;
    char chunk[8192];

    for (;;) {
        struct pollfd pfd[3];
        int npfd = 0;
        if (poll_exit && !exited) {
            siginfo_t si = { .si_pid = 0 };
            if (waitid(P_PID, (id_t) pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0
                && si.si_pid == pid)
                exited = true;
        }
        for (int i = 0; i < 2; i++)
            pfd[npfd++] = (struct pollfd) {
                .fd = fds[i], .events = POLLIN };
        pfd[npfd++] = (struct pollfd) {
            .fd = exited || poll_exit ? -1 : pidfd, .events = POLLIN };

        int wait_ms = -1;
        if (exited)
            wait_ms = 0;        /* Drain what is there, then stop. */
        else if (deadline) {
            uint64_t now = time_ms();
            if (now >= deadline) {
                timed_out = true;
                kill(-pid, SIGKILL);
                exited = true;  /* Reaped below; drain then stop. */
                continue;
            }
            wait_ms = deadline - now > INT_MAX ? INT_MAX
                                               : (int) (deadline - now);
        }
        if (poll_exit && !exited && (wait_ms < 0 || wait_ms > 5))
            wait_ms = 5;
        if (fds[0] < 0 && fds[1] < 0 && exited)
            break;

        int pr = poll(pfd, npfd, wait_ms);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            kill(-pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                continue;
            free(bufs[0].data);
            free(bufs[1].data);
            goto out_pipes;
        }
        bool got = false;
        for (int i = 0; i < 2; i++) {
            if (fds[i] < 0 || !pfd[i].revents)
                continue;
            n = read(fds[i], chunk, sizeof chunk);
            if (n > 0) {
                proc_buf_append(&bufs[i], chunk, n);
                got = true;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                fds[i] = -1;    /* Closed below with the pipe. */
            }
        }
        if (!exited && pfd[2].revents)
            exited = true;
        else if (exited && (!got || ++drain_rounds > 64))
            break;              /* Child gone and nothing left to read (or
                                 * a daemon it left keeps writing). */
    }

    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0) {
        if (errno != EINTR) {
            wstatus = 0;
            break;
        }
    }

    ret->timed_out = timed_out;
    ret->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
                : WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : 255;
    ret->out = proc_buf_finish(&bufs[0]);
    ret->err = proc_buf_finish(&bufs[1]);
    r = 0;
    if (timed_out)
        LOG_DBG("%s: killed after %u ms", argv[0], o->timeout_ms);

out_pipes:
    close_pair(outp);
    close_pair(errp);
    close_pair(execp);
    return r;
}

void
proc_result_free(struct proc_result *res)
{
    if (!res)
        return;
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}
