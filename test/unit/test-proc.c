/* proc_run(): real processes, real pipes, a real network namespace. */
#include <config.h>
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

static struct proc_options
opts(unsigned int timeout_ms)
{
    return (struct proc_options) { .netns_fd = -1, .timeout_ms = timeout_ms };
}

static void
test_exit_codes(void **state)
{
    struct proc_options o = opts(5000);
    struct proc_result r;

    char *t[] = { "/bin/true", NULL };
    assert_int_equal(proc_run(t, &o, &r), 0);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.timed_out, 0);
    proc_result_free(&r);

    char *s[] = { "/bin/sh", "-c", "exit 3", NULL };
    assert_int_equal(proc_run(s, &o, &r), 0);
    assert_int_equal(r.status, 3);
    proc_result_free(&r);

    char *k[] = { "/bin/sh", "-c", "kill -TERM $$", NULL };
    assert_int_equal(proc_run(k, &o, &r), 0);
    assert_int_equal(r.status, 128 + SIGTERM);
    proc_result_free(&r);
}

static void
test_cannot_start(void **state)
{
    struct proc_options o = opts(1000);
    struct proc_result r;
    char *missing[] = { "/nonexistent/nv-prog", NULL };
    assert_int_equal(proc_run(missing, &o, &r), -ENOENT);
    char *relative[] = { "true", NULL };
    assert_int_equal(proc_run(relative, &o, &r), -EINVAL);
    char *none[] = { NULL };
    assert_int_equal(proc_run(none, &o, &r), -EINVAL);
    /* cwd that does not exist: the child reports the errno. */
    o.cwd = "/nonexistent-nv-dir";
    char *t[] = { "/bin/true", NULL };
    assert_int_equal(proc_run(t, &o, &r), -ENOENT);
}

static void
test_capture(void **state)
{
    struct proc_options o = opts(5000);
    struct proc_result r;
    char *a[] = { "/bin/sh", "-c", "echo out; echo err >&2; echo out2", NULL };
    assert_int_equal(proc_run(a, &o, &r), 0);
    assert_string_equal(r.out, "out\nout2\n");
    assert_string_equal(r.err, "err\n");
    proc_result_free(&r);

    /* Only the tail is kept, however much is written. */
    o.max_output = 10;
    char *b[] = { "/bin/sh", "-c",
                  "i=0; while [ $i -lt 5000 ]; do echo line$i; i=$((i+1)); done;"
                  " echo 0123456789 >&2", NULL };
    assert_int_equal(proc_run(b, &o, &r), 0);
    assert_string_equal(r.out, "\nline4999\n");
    assert_string_equal(r.err, "123456789\n");
    proc_result_free(&r);

    /* Nothing written: empty strings, not NULL. */
    char *t[] = { "/bin/true", NULL };
    assert_int_equal(proc_run(t, &o, &r), 0);
    assert_non_null(r.out);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "");
    proc_result_free(&r);
}

static void
test_argv_verbatim(void **state)
{
    struct proc_options o = opts(5000);
    struct proc_result r;
    char *a[] = { "/usr/bin/printf", "%s|", "a b", "$(id)", ";rm -rf /nv",
                  "`touch /tmp/nv-pwned`", "*", "x\ny", "'\"", NULL };
    assert_int_equal(proc_run(a, &o, &r), 0);
    assert_string_equal(r.out,
        "a b|$(id)|;rm -rf /nv|`touch /tmp/nv-pwned`|*|x\ny|'\"|");
    assert_int_equal(access("/tmp/nv-pwned", F_OK), -1);
    proc_result_free(&r);
}

static void
test_env_cwd_fds(void **state)
{
    struct proc_options o = opts(5000);
    struct proc_result r;

    char *e[] = { "/usr/bin/env", NULL };
    assert_int_equal(proc_run(e, &o, &r), 0);
    assert_non_null(strstr(r.out, "PATH=/"));
    assert_null(strstr(r.out, "HOME="));
    proc_result_free(&r);

    char *const env[] = { "NV_X=1", NULL };
    o.envp = env;
    assert_int_equal(proc_run(e, &o, &r), 0);
    assert_string_equal(r.out, "NV_X=1\n");
    proc_result_free(&r);
    o.envp = NULL;

    o.cwd = "/tmp";
    char *p[] = { "/bin/pwd", NULL };
    assert_int_equal(proc_run(p, &o, &r), 0);
    assert_string_equal(r.out, "/tmp\n");
    proc_result_free(&r);
    o.cwd = NULL;

    /* A descriptor of the daemon without close-on-exec does not leak. */
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd > 2);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *t[] = { "/usr/bin/test", "-e", path, NULL };
    assert_int_equal(proc_run(t, &o, &r), 0);
    assert_int_equal(r.status, 1);
    proc_result_free(&r);
    close(fd);

    /* stdin is /dev/null: cat ends at once. */
    char *c[] = { "/bin/cat", NULL };
    assert_int_equal(proc_run(c, &o, &r), 0);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "");
    proc_result_free(&r);
}

/* Whether 'pid' is gone (or a zombie waiting for init). */
static bool
pid_gone(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] == 'Z';
}

static void
test_timeout_kills_group(void **state)
{
    struct proc_options o = opts(300);
    struct proc_result r;
    char *a[] = { "/bin/sh", "-c",
                  "sleep 100 & echo $!; echo started >&2; sleep 100", NULL };
    uint64_t t0 = time_ms();
    assert_int_equal(proc_run(a, &o, &r), 0);
    uint64_t dt = time_ms() - t0;
    assert_true(dt >= 300 && dt < 3000);
    assert_int_equal(r.timed_out, 1);
    assert_int_equal(r.status, 128 + SIGKILL);
    assert_string_equal(r.err, "started\n");
    pid_t bg = atoi(r.out);
    assert_true(bg > 1);
    proc_result_free(&r);
    /* The background child was in the group: killed too. */
    for (int i = 0; i < 100 && !pid_gone(bg); i++)
        usleep(10000);
    assert_true(pid_gone(bg));
}

static void
test_daemon_keeps_pipe(void **state)
{
    /* A daemon left behind holds stdout open: proc_run still returns when
     * the program itself exits, not at the timeout. */
    struct proc_options o = opts(10000);
    struct proc_result r;
    char *a[] = { "/bin/sh", "-c", "sleep 30 & echo $!", NULL };
    uint64_t t0 = time_ms();
    assert_int_equal(proc_run(a, &o, &r), 0);
    assert_true(time_ms() - t0 < 2000);
    assert_int_equal(r.timed_out, 0);
    assert_int_equal(r.status, 0);
    pid_t bg = atoi(r.out);
    assert_true(bg > 1);
    assert_int_equal(kill(bg, SIGKILL), 0);
    proc_result_free(&r);
}

static void
test_cpus(void **state)
{
    struct proc_options o = opts(5000);
    struct proc_result r;
    unsigned int cpus[] = { 0 };
    o.cpus = cpus;
    o.n_cpus = 1;
    char *a[] = { "/bin/grep", "Cpus_allowed_list", "/proc/self/status",
                  NULL };
    assert_int_equal(proc_run(a, &o, &r), 0);
    assert_non_null(strstr(r.out, "\t0\n"));
    proc_result_free(&r);
}

static void
run_ok(char *const argv[])
{
    struct proc_options o = opts(10000);
    struct proc_result r;
    assert_int_equal(proc_run(argv, &o, &r), 0);
    if (r.status)
        fprintf(stderr, "%s: %s", argv[0], r.err);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
}

static void
test_netns(void **state)
{
    if (geteuid() != 0) {
        skip();
        return;
    }
    char name[32];
    snprintf(name, sizeof name, "nv-proc-%d", (int) getpid());
    char *add[] = { "/usr/bin/ip", "netns", "add", name, NULL };
    run_ok(add);

    char path[64];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);

    struct proc_options o = opts(5000);
    struct proc_result r;
    o.netns_fd = fd;
    char *a[] = { "/usr/bin/readlink", "/proc/self/ns/net", NULL };
    assert_int_equal(proc_run(a, &o, &r), 0);
    char want[64];
    snprintf(want, sizeof want, "net:[%lu]\n", (unsigned long) st.st_ino);
    assert_string_equal(r.out, want);
    proc_result_free(&r);

    /* Only a loopback device in there. */
    char *l[] = { "/usr/bin/ip", "-o", "link", NULL };
    assert_int_equal(proc_run(l, &o, &r), 0);
    assert_non_null(strstr(r.out, "lo:"));
    assert_null(strstr(r.out, "2:"));
    proc_result_free(&r);

    /* A bad namespace fd fails to start. */
    o.netns_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_int_equal(proc_run(a, &o, &r), -EINVAL);
    close(o.netns_fd);

    close(fd);
    char *del[] = { "/usr/bin/ip", "netns", "delete", name, NULL };
    run_ok(del);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_cannot_start),
        cmocka_unit_test(test_capture),
        cmocka_unit_test(test_argv_verbatim),
        cmocka_unit_test(test_env_cwd_fds),
        cmocka_unit_test(test_timeout_kills_group),
        cmocka_unit_test(test_daemon_keeps_pipe),
        cmocka_unit_test(test_cpus),
        cmocka_unit_test(test_netns),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
