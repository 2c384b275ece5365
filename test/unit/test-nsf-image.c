/* Unit tests of the NSF image check (issue 16, point 11): archives crafted
 * at run time with python3's tarfile (through proc_run) that would put
 * something outside the package directory are refused with the image and
 * the entry named; a clean one passes, and after a real tar run the
 * strip leaves no setuid / setgid bit and no device node or FIFO. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "nsf-image.h"
#include "proc.h"
#include "util.h"

static char dir[64];            /* Scratch directory of the group. */

/* Writes <dir>/<case>.tgz for every case: one archive per way out of the
 * package directory, and "good" with everything allowed. */
static const char maker[] =
    "import io, sys, tarfile\n"
    "d = sys.argv[1]\n"
    "def tgz(name, entries, fmt=tarfile.PAX_FORMAT):\n"
    "    with tarfile.open(d + '/' + name + '.tgz', 'w:gz', format=fmt) as t:\n"
    "        for e in entries:\n"
    "            ti = tarfile.TarInfo(e[0])\n"
    "            ti.type = e[1]\n"
    "            ti.mode = e[3] if len(e) > 3 else 0o755\n"
    "            data = None\n"
    "            if e[1] in (tarfile.SYMTYPE, tarfile.LNKTYPE):\n"
    "                ti.linkname = e[2]\n"
    "            elif e[1] == tarfile.REGTYPE:\n"
    "                ti.size = len(e[2])\n"
    "                data = io.BytesIO(e[2])\n"
    "            t.addfile(ti, data)\n"
    "R, D, S, L = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE\n"
    "tgz('good', [('./', D, None), ('bin', D, None),\n"
    "             ('bin/tool', R, b'#!/bin/sh\\n', 0o6755),\n"
    "             ('start', R, b'#!/bin/sh\\n'),\n"
    "             ('lib', D, None), ('lib/sh', S, '../bin/tool'),\n"
    "             ('lib/same', S, './sh'), ('hard', L, 'bin/tool'),\n"
    "             ('fifo', tarfile.FIFOTYPE, None),\n"
    "             ('x' * 150 + '/y', R, b'ustar prefix'),\n"
    "             ('p/' + 'q' * 200 + '/z', R, b'long name, pax')])\n"
    "tgz('absolute', [('/etc/cron.d/x', R, b'x')])\n"
    "tgz('dotdot', [('a/../../x', R, b'x')])\n"
    "tgz('dotdot-pax', [('a/' + 'b' * 200 + '/../../../x', R, b'x')])\n"
    "tgz('absolute-gnu', [('/' + 'c' * 120, R, b'x')], tarfile.GNU_FORMAT)\n"
    "tgz('link-absolute', [('l', S, '/etc')])\n"
    "tgz('link-up', [('d', D, None), ('d/l', S, '../..')])\n"
    "tgz('link-name-up', [('l', S, 'x/../..')])\n"
    "tgz('under-link', [('l', S, 'sub'), ('l/passwd', R, b'x')])\n"
    "tgz('under-link-first', [('l/x', R, b'x'), ('l', S, '.')])\n"
    "tgz('replaces-link', [('l', S, 'sub'), ('l', R, b'x')])\n"
    "tgz('hard-absolute', [('h', L, '/etc/shadow')])\n"
    "tgz('hard-up', [('h', L, '../x')])\n"
    "tgz('hard-through-link', [('l', S, 'sub'), ('h', L, 'l/x')])\n"
    "tgz('sparse', [('s', b'S', None)], tarfile.GNU_FORMAT)\n"
    "with tarfile.open(d + '/sized-link.tgz', 'w:gz') as t:\n"
    "    ti = tarfile.TarInfo('l')\n"
    "    ti.type = S\n"
    "    ti.linkname = 'x'\n"
    "    ti.size = 512\n"
    "    t.addfile(ti, io.BytesIO(b'\\0' * 512))\n"
    "open(d + '/garbage.tgz', 'wb').write(b'not an archive at all')\n"
    "g = open(d + '/good.tgz', 'rb').read()\n"
    "import gzip\n"
    "raw = gzip.decompress(g)\n"
    "open(d + '/truncated.tgz', 'wb').write(gzip.compress(raw[:1300]))\n";

static int
group_setup(void **state)
{
    (void) state;
    if (access("/usr/bin/python3", X_OK) < 0)
        return 0;                       /* Each test skips. */
    snprintf(dir, sizeof dir, "/tmp/corch-nsf-image.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char *const argv[] = { (char *) "/usr/bin/python3", (char *) "-c",
                           (char *) maker, dir, NULL };
    struct proc_options o = { .netns_fd = -1, .timeout_ms = 30000 };
    struct proc_result res = { 0 };
    int r = proc_run(argv, &o, &res);
    if (r < 0 || res.status) {
        fprintf(stderr, "python3 failed: %s\n", res.err ? res.err : "");
        proc_result_free(&res);
        return -1;
    }
    proc_result_free(&res);
    return 0;
}

static int
group_teardown(void **state)
{
    (void) state;
    if (!dir[0])
        return 0;
    char *const argv[] = { (char *) "/bin/rm", (char *) "-rf", dir, NULL };
    struct proc_options o = { .netns_fd = -1, .timeout_ms = 30000 };
    struct proc_result res = { 0 };
    proc_run(argv, &o, &res);
    proc_result_free(&res);
    return 0;
}

/* Checks <dir>/<name>.tgz expecting a refusal whose message holds
 * 'entry' (and the image's name). */
static void
refused(const char *name, const char *entry)
{
    _cleanup_free_ char *path = xasprintf("%s/%s.tgz", dir, name);
    _cleanup_free_ char *image = xasprintf("tmpl-%s", name);
    struct corch_err err = { .path = "", .msg = "" };
    int r = nsf_image_check(path, image, &err);
    if (r == 0)
        fail_msg("%s: accepted", name);
    assert_int_equal(r, -EINVAL);
    if (!strstr(err.msg, image) || (entry && !strstr(err.msg, entry)))
        fail_msg("%s: message \"%s\" does not name \"%s\"", name, err.msg,
                 entry ? entry : image);
    printf("  %-18s %s\n", name, err.msg);
}

static void
test_refused(void **state)
{
    (void) state;
    if (!dir[0])
        skip();
    refused("absolute", "entry \"/etc/cron.d/x\": has an absolute name");
    refused("dotdot", "entry \"a/../../x\": has a \"..\" component");
    refused("dotdot-pax", "/../../../x\": has a \"..\" component");
    refused("absolute-gnu", "has an absolute name");
    refused("link-absolute", "entry \"l\": is a symlink to an absolute path");
    refused("link-up", "entry \"d/l\": is a symlink that leaves the image");
    refused("link-name-up", "\"..\" after a name");
    refused("under-link", "entry \"l/passwd\": is under a symlink entry");
    refused("under-link-first", "entry \"l/x\": is under a symlink entry");
    refused("replaces-link", "has the name of a symlink entry");
    refused("hard-absolute", "entry \"h\": is a hard link whose target has "
            "an absolute name");
    refused("hard-up", "entry \"h\": is a hard link whose target has a");
    refused("hard-through-link", "entry \"h\": is a hard link through a "
            "symlink");
    refused("sparse", "entry \"s\": has entry type 'S'");
    refused("sized-link", "entry \"l\": has type '2' and a size of 512");
    refused("garbage", NULL);
    refused("truncated", NULL);

    struct corch_err err = { .path = "", .msg = "" };
    assert_int_equal(nsf_image_check("/nonexistent.tgz", "x", &err), -ENOENT);
}

/* The clean archive passes the check; unpacked by tar as root would (the
 * native engine's flags), the strip clears setuid / setgid and removes
 * what is not a file, directory or symlink. */
static void
test_good_and_strip(void **state)
{
    (void) state;
    if (!dir[0])
        skip();
    _cleanup_free_ char *path = xasprintf("%s/good.tgz", dir);
    struct corch_err err = { .path = "", .msg = "" };
    if (nsf_image_check(path, "good", &err) < 0)
        fail_msg("good refused: %s", err.msg);

    const char *tar = access("/usr/bin/tar", X_OK) == 0 ? "/usr/bin/tar"
                                                        : "/bin/tar";
    _cleanup_free_ char *out = xasprintf("%s/out", dir);
    assert_int_equal(mkdir(out, 0755), 0);
    char *const argv[] = { (char *) tar, (char *) "-xzf", path, (char *) "-C",
                           out, (char *) "--no-same-owner",
                           (char *) "--delay-directory-restore", NULL };
    struct proc_options o = { .netns_fd = -1, .timeout_ms = 30000 };
    struct proc_result res = { 0 };
    assert_int_equal(proc_run(argv, &o, &res), 0);
    if (res.status)
        fail_msg("tar: %s", res.err);
    proc_result_free(&res);

    /* A device node too, where we may make one (tar as root would). */
    _cleanup_free_ char *dev = xasprintf("%s/lib/null", out);
    bool have_dev = mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0;
    _cleanup_free_ char *tool = xasprintf("%s/bin/tool", out);
    _cleanup_free_ char *fifo = xasprintf("%s/fifo", out);
    struct stat st;
    assert_int_equal(chmod(tool, 06755), 0);     /* Whoever ran tar. */
    assert_int_equal(lstat(tool, &st), 0);
    assert_true(st.st_mode & S_ISUID);
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));

    assert_int_equal(nsf_image_strip(out, "good", &err), 0);
    assert_int_equal(lstat(tool, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(lstat(fifo, &st), -1);
    if (have_dev)
        assert_int_equal(lstat(dev, &st), -1);
    _cleanup_free_ char *link = xasprintf("%s/lib/sh", out);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    _cleanup_free_ char *start = xasprintf("%s/start", out);
    assert_int_equal(lstat(start, &st), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_good_and_strip),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
