/* NSF images: our own check of a .tgz's entries before tar unpacks it as
 * root, and the stripping of what a package must not hold afterwards.
 *
 * The check reads the whole archive first and judges it as a set, because
 * what makes an entry dangerous may come later in the archive (a symlink
 * "lib" after an entry "lib/x" would have tar write through it on a second
 * run over an existing tree; a symlink whose target passes through another
 * symlink resolves somewhere else than it reads).  The rules are strict on
 * purpose, and simple enough to be checked by reading them:
 *   - names are relative, without "..", and never under a symlink entry;
 *   - no entry shares its name with a symlink entry;
 *   - a symlink target is relative, its ".." components all come first,
 *     and there are no more of them than the link has parent directories:
 *     every directory it climbs through is a real one (no entry is under a
 *     symlink), and what it then descends through stays inside whatever
 *     symlinks it meets, since each of those obeys the same rules;
 *   - a hard link names an entry by a name obeying the name rules. */
#include <config.h>
#include "nsf-image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"

LOG_MODULE(nsf_image);

#define TAR_BLOCK 512
/* An NSF package is a handful of scripts and files: these bounds keep a
 * hostile archive from costing memory or time, far above any real one. */
#define NSF_MAX_ENTRIES 100000
#define NSF_MAX_NAME 4096           /* Bytes of a name or a link target. */
#define NSF_MAX_PAX (64 * 1024)     /* Bytes of one pax or long-name record. */
/* Directory levels nsf_image_strip() descends. */
#define NSF_MAX_DEPTH 128

/* One entry of the archive, as the check keeps it. */
struct nsf_entry {
    char *name;                 /* Normal form: components joined by '/',
                                 * no "." or empty ones; "" is the top. */
    char type;                  /* The tar typeflag ('0', '2', '5', ...). */
    char *link;                 /* Symlink target or hard link name, as
                                 * written; NULL for other types. */
};

struct nsf_archive {
    struct nsf_entry *entries;  /* In archive order. */
    size_t n;                   /* Entries in use. */
};

static void
nsf_archive_free(struct nsf_archive *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->entries[i].name);
        free(a->entries[i].link);
    }
    free(a->entries);
    a->entries = NULL;
    a->n = 0;
}

/* Fails naming the image and, if nonnull, the entry. */
static int
bad(struct corch_err *err, const char *image, const char *entry,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
bad(struct corch_err *err, const char *image, const char *entry,
    const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    /* Kind failed: the node's image is bad, not the client's request. */
    if (entry)
        return corch_err_setk(err, CORCH_ERR_FAILED, -EINVAL, NULL,
                              "NSF image %s: not unpacked: entry "
                              "\"%.300s\": %s", image, entry, why);
    return corch_err_setk(err, CORCH_ERR_FAILED, -EINVAL, NULL,
                          "NSF image %s: not unpacked: %s", image, why);
}

/* Reads exactly 'n' bytes.  1: done, 0: end of file before the first
 * byte, -EIO: an error or a short read. */
static int
gz_read_full(gzFile gz, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        int r = gzread(gz, (char *) buf + got, (unsigned int) (n - got));
        if (r < 0)
            return -EIO;
        if (r == 0)
            return got ? -EIO : 0;
        got += (size_t) r;
    }
    return 1;
}

/* Skips 'n' bytes of data and the padding to the next block. */
static int
gz_skip(gzFile gz, uint64_t n)
{
    unsigned char buf[16384];
    uint64_t left = (n + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
    while (left) {
        size_t k = left < sizeof buf ? (size_t) left : sizeof buf;
        if (gz_read_full(gz, buf, k) != 1)
            return -EIO;
        left -= k;
    }
    return 0;
}

/* A numeric header field: octal text, or base-256 (GNU, high bit set). */
static int
tar_number(const unsigned char *f, size_t len, uint64_t *ret)
{
    uint64_t v = 0;
    size_t i = 0;

    if (f[0] & 0x80) {
        if (f[0] == 0xff)
            return -EINVAL;             /* Negative. */
        v = f[0] & 0x7f;
        for (i = 1; i < len; i++) {
            if (v >> 55)
                return -ERANGE;
            v = v << 8 | f[i];
        }
        *ret = v;
        return 0;
    }
    while (i < len && f[i] == ' ')
        i++;
    for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return -ERANGE;
        v = v << 3 | (uint64_t) (f[i] - '0');
    }
    if (i < len && f[i] != '\0' && f[i] != ' ')
        return -EINVAL;
    *ret = v;
    return 0;
}

static bool
tar_checksum_ok(const unsigned char *h)
{
    uint64_t want;
    unsigned long sum = 0;
    long ssum = 0;

    if (tar_number(h + 148, 8, &want) < 0)
        return false;
    for (size_t i = 0; i < TAR_BLOCK; i++) {
        unsigned char c = i >= 148 && i < 156 ? ' ' : h[i];
        sum += c;
        ssum += (signed char) c;
    }
    /* Some old tars summed signed bytes. */
    return want == sum || (long) want == ssum;
}

/* Checks a member name and writes its normal form into 'out' (at least
 * strlen(name) + 1 bytes).  Returns NULL or what is wrong with it. */
static const char *
name_normalise(const char *name, char *out, size_t *ret_depth)
{
    size_t len = 0, depth = 0;

    if (!*name)
        return "has an empty name";
    if (*name == '/')
        return "has an absolute name";
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return "has a \"..\" component";
        if (n && !(n == 1 && p[0] == '.')) {
            if (len)
                out[len++] = '/';
            memcpy(out + len, p, n);
            len += n;
            depth++;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    out[len] = '\0';
    if (ret_depth)
        *ret_depth = depth;
    return NULL;
}

/* Checks a symlink target for a link with 'parents' parent directories
 * inside the image.  Returns NULL or what is wrong with it. */
static const char *
symlink_target_problem(const char *target, size_t parents)
{
    size_t up = 0;
    bool descended = false;

    if (!*target)
        return "is a symlink with an empty target";
    if (*target == '/')
        return "is a symlink to an absolute path";
    for (const char *p = target; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (descended)
                return "is a symlink whose target has \"..\" after a name";
            if (++up > parents)
                return "is a symlink that leaves the image directory";
        } else if (n && !(n == 1 && p[0] == '.'))
            descended = true;
        p += n;
        while (*p == '/')
            p++;
    }
    return NULL;
}

/* ---- Reading the archive. ---- */

/* Names and sizes that pax ('x') and GNU ('L', 'K') records give the next
 * entry. */
struct tar_pending {
    char *path;                 /* Overrides the header's name. */
    char *linkpath;             /* Overrides the header's link name. */
    uint64_t size;              /* Overrides the header's size... */
    bool has_size;              /* ...if set. */
};

static void
tar_pending_clear(struct tar_pending *p)
{
    free(p->path);
    free(p->linkpath);
    *p = (struct tar_pending) { 0 };
}

/* Reads a record's data ('size' bytes and padding) into a NUL-terminated
 * buffer. */
static int
read_record(gzFile gz, uint64_t size, char **ret)
{
    if (size > NSF_MAX_PAX)
        return -E2BIG;
    size_t padded = ((size_t) size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
    char *buf = xmalloc(padded + 1);
    if (padded && gz_read_full(gz, buf, padded) != 1) {
        free(buf);
        return -EIO;
    }
    buf[size] = '\0';
    *ret = buf;
    return 0;
}

/* Applies pax records "<len> <key>=<value>\n" to 'p'.  'global': a 'g'
 * record, which may not set names. */
static const char *
pax_apply(const char *data, size_t size, bool global, struct tar_pending *p)
{
    size_t off = 0;

    while (off < size) {
        char *end;
        unsigned long len = strtoul(data + off, &end, 10);
        if (end == data + off || *end != ' ' || len == 0
            || len > size - off || data[off + len - 1] != '\n')
            return "has a malformed pax record";
        const char *kv = end + 1;
        const char *stop = data + off + len - 1;
        const char *eq = memchr(kv, '=', (size_t) (stop - kv));
        if (!eq)
            return "has a malformed pax record";
        size_t klen = (size_t) (eq - kv), vlen = (size_t) (stop - eq - 1);
        bool is_path = klen == 4 && !memcmp(kv, "path", 4);
        bool is_link = klen == 8 && !memcmp(kv, "linkpath", 8);
        if ((is_path || is_link) && global)
            return "has a global pax header that sets a name";
        if ((is_path || is_link)
            && (vlen > NSF_MAX_NAME || memchr(eq + 1, '\0', vlen)))
            return "has a pax name that is too long or holds a NUL";
        if (is_path) {
            free(p->path);
            p->path = xmalloc(vlen + 1);
            memcpy(p->path, eq + 1, vlen);
            p->path[vlen] = '\0';
        } else if (is_link) {
            free(p->linkpath);
            p->linkpath = xmalloc(vlen + 1);
            memcpy(p->linkpath, eq + 1, vlen);
            p->linkpath[vlen] = '\0';
        } else if (klen == 4 && !memcmp(kv, "size", 4) && !global) {
            char num[32];
            if (vlen == 0 || vlen >= sizeof num)
                return "has a malformed pax size";
            memcpy(num, eq + 1, vlen);
            num[vlen] = '\0';
            if (parse_uint(num, UINT64_MAX, &p->size) < 0)
                return "has a malformed pax size";
            p->has_size = true;
        }
        off += len;
    }
    return NULL;
}

/* A fixed-size header field as a string. */
static char *
field(const unsigned char *f, size_t len)
{
    size_t n = strnlen((const char *) f, len);
    char *s = xmalloc(n + 1);
    memcpy(s, f, n);
    s[n] = '\0';
    return s;
}

/* Reads every entry of the archive into 'a'. */
static int
archive_read(gzFile gz, const char *image, struct nsf_archive *a,
             struct corch_err *err)
{
    unsigned char h[TAR_BLOCK];
    struct tar_pending pend = { 0 };
    size_t cap = 0;
    int r;

    for (;;) {
        r = gz_read_full(gz, h, sizeof h);
        if (r == 0)
            break;                      /* End without the zero blocks. */
        if (r < 0) {
            r = bad(err, image, NULL, "truncated or not gzip-compressed");
            goto out;
        }
        bool zero = true;
        for (size_t i = 0; i < sizeof h && zero; i++)
            zero = !h[i];
        if (zero)
            break;
        if (!tar_checksum_ok(h)) {
            r = bad(err, image, NULL, "not a tar archive (bad header "
                    "checksum after %zu entries)", a->n);
            goto out;
        }
        uint64_t size;
        if (tar_number(h + 124, 12, &size) < 0) {
            r = bad(err, image, NULL, "bad size field after %zu entries",
                    a->n);
            goto out;
        }
        char type = (char) h[156];
        if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
            _cleanup_free_ char *data = NULL;
            r = read_record(gz, size, &data);
            if (r < 0) {
                r = bad(err, image, NULL, "%s record after %zu entries",
                        r == -E2BIG ? "oversized" : "truncated", a->n);
                goto out;
            }
            const char *why = NULL;
            if (type == 'x' || type == 'g')
                why = pax_apply(data, (size_t) size, type == 'g', &pend);
            else if (strlen(data) > NSF_MAX_NAME)
                why = "has a long name that is too long";
            else if (type == 'L') {
                free(pend.path);
                pend.path = xstrdup(data);
            } else {
                free(pend.linkpath);
                pend.linkpath = xstrdup(data);
            }
            if (why) {
                r = bad(err, image, NULL, "%s (after %zu entries)", why,
                        a->n);
                goto out;
            }
            continue;
        }

        /* The entry's name: a pending long name, else prefix/name. */
        _cleanup_free_ char *name = NULL;
        if (pend.path)
            name = TAKE_PTR(pend.path);
        else {
            _cleanup_free_ char *base = field(h, 100);
            if (!memcmp(h + 257, "ustar\0", 6) && h[345]) {
                _cleanup_free_ char *prefix = field(h + 345, 155);
                name = xasprintf("%s/%s", prefix, base);
            } else
                name = TAKE_PTR(base);
        }
        _cleanup_free_ char *link = pend.linkpath ? TAKE_PTR(pend.linkpath)
                                                  : field(h + 157, 100);
        if (pend.has_size)
            size = pend.size;
        tar_pending_clear(&pend);

        if (type != '\0' && (type < '0' || type > '7')) {
            r = bad(err, image, name, "has entry type '%c', which c-orch "
                    "does not unpack", type >= 0x20 && type < 0x7f
                    ? type : '?');
            goto out;
        }
        /* Where the next header starts must not depend on how a tar
         * treats the size of an entry without data. */
        bool has_data = type == '0' || type == '\0' || type == '7';
        if (!has_data && size) {
            r = bad(err, image, name, "has type '%c' and a size of %llu "
                    "bytes", type, (unsigned long long) size);
            goto out;
        }
        if (a->n >= NSF_MAX_ENTRIES) {
            r = bad(err, image, NULL, "more than %d entries",
                    NSF_MAX_ENTRIES);
            goto out;
        }
        char *norm = xmalloc(strlen(name) + 1);
        size_t depth;
        const char *why = name_normalise(name, norm, &depth);
        if (why) {
            free(norm);
            r = bad(err, image, name, "%s", why);
            goto out;
        }
        if (a->n == cap) {
            cap = cap ? 2 * cap : 64;
            a->entries = xrealloc(a->entries, cap * sizeof *a->entries);
        }
        a->entries[a->n++] = (struct nsf_entry) {
            .name = norm, .type = type ? type : '0',
            .link = type == '1' || type == '2' ? TAKE_PTR(link) : NULL,
        };
        if (has_data) {
            if (gz_skip(gz, size) < 0) {
                r = bad(err, image, name, "is truncated");
                goto out;
            }
        }
    }
    r = 0;
out:
    tar_pending_clear(&pend);
    return r;
}

/* ---- Judging the set. ---- */

/* An open-addressing set of symlink names (borrowed from the archive). */
struct name_set {
    const char **slots;         /* NULL: empty. */
    size_t mask;                /* Capacity - 1. */
};

static size_t
name_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char) s[i];
        h *= 1099511628211ull;
    }
    return (size_t) (h ^ (h >> 29));
}

static bool
name_set_has(const struct name_set *set, const char *s, size_t len)
{
    for (size_t i = name_hash(s, len) & set->mask; set->slots[i];
         i = (i + 1) & set->mask)
        if (strlen(set->slots[i]) == len && !memcmp(set->slots[i], s, len))
            return true;
    return false;
}

/* Inserts; false if already there. */
static bool
name_set_add(struct name_set *set, const char *s)
{
    size_t len = strlen(s), i;
    for (i = name_hash(s, len) & set->mask; set->slots[i];
         i = (i + 1) & set->mask)
        if (!strcmp(set->slots[i], s))
            return false;
    set->slots[i] = s;
    return true;
}

/* Whether a proper prefix (a parent directory) of normal name 'name' is
 * a symlink entry. */
static bool
under_symlink(const struct name_set *links, const char *name)
{
    for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/'))
        if (name_set_has(links, name, (size_t) (p - name)))
            return true;
    return false;
}

static int
archive_judge(const struct nsf_archive *a, const char *image,
              struct corch_err *err)
{
    struct name_set links = { 0 };
    size_t cap = 16;
    int r = 0;

    while (cap < 2 * a->n + 1)
        cap *= 2;
    links.slots = xcalloc(cap, sizeof *links.slots);
    links.mask = cap - 1;
    for (size_t i = 0; i < a->n && r == 0; i++) {
        const struct nsf_entry *e = &a->entries[i];
        if (e->type != '2')
            continue;
        if (!*e->name)
            r = bad(err, image, e->name, "is a symlink in place of the "
                    "image directory");
        else if (!name_set_add(&links, e->name))
            r = bad(err, image, e->name, "is a symlink given twice");
    }
    for (size_t i = 0; i < a->n && r == 0; i++) {
        const struct nsf_entry *e = &a->entries[i];
        size_t parents = 0;
        for (const char *p = e->name; *p; p++)
            parents += *p == '/';
        if (under_symlink(&links, e->name))
            r = bad(err, image, e->name, "is under a symlink entry");
        else if (e->type != '2' && name_set_has(&links, e->name,
                                                 strlen(e->name)))
            r = bad(err, image, e->name, "has the name of a symlink entry");
        else if (e->type == '2') {
            const char *why = symlink_target_problem(e->link, parents);
            if (why)
                r = bad(err, image, e->name, "%s (\"%.200s\")", why, e->link);
        } else if (e->type == '1') {
            _cleanup_free_ char *target = xmalloc(strlen(e->link) + 1);
            const char *why = name_normalise(e->link, target, NULL);
            if (why)
                r = bad(err, image, e->name, "is a hard link whose target "
                        "%s (\"%.200s\")", why, e->link);
            else if (!*target || under_symlink(&links, target))
                r = bad(err, image, e->name, "is a hard link through a "
                        "symlink or to the image directory (\"%.200s\")",
                        e->link);
        }
    }
    free(links.slots);
    return r;
}

int
nsf_image_check(const char *path, const char *image, struct corch_err *err)
{
    struct nsf_archive a = { 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int r = -errno;
        return corch_err_set(err, r, NULL, "NSF image %s: %s: %s", image,
                             path, strerror(-r));
    }
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return corch_err_set(err, -ENOMEM, NULL, "NSF image %s: cannot "
                             "read it", image);
    }
    int r = archive_read(gz, image, &a, err);
    gzclose(gz);
    if (r == 0)
        r = archive_judge(&a, image, err);
    if (r == 0)
        LOG_DBG("NSF image %s: %zu entries checked", image, a.n);
    nsf_archive_free(&a);
    return r;
}

/* ---- After tar. ---- */

static int
strip_dir(int dfd, const char *rel, unsigned int depth, const char *image,
          struct corch_err *err)
{
    if (depth > NSF_MAX_DEPTH)
        return corch_err_set(err, -ELOOP, NULL, "NSF image %s: more than "
                             "%d directory levels", image, NSF_MAX_DEPTH);
    int fd = dup(dfd);
    if (fd < 0)
        return corch_err_set(err, -errno, NULL, "NSF image %s: dup: %s",
                             image, strerror(errno));
    DIR *d = fdopendir(fd);
    if (!d) {
        int r = -errno;
        close(fd);
        return corch_err_set(err, r, NULL, "NSF image %s: %s: %s", image,
                             rel, strerror(-r));
    }
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        struct stat st;
        _cleanup_free_ char *sub = xasprintf("%s/%s", rel, de->d_name);
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            r = corch_err_set(err, -errno, NULL, "NSF image %s: %s: %s",
                              image, sub, strerror(errno));
            break;
        }
        if (S_ISLNK(st.st_mode))
            continue;
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
            /* A device node would give the package's scripts (root) the
             * hardware; FIFOs and sockets have no place in a package. */
            if (unlinkat(dfd, de->d_name, 0) < 0) {
                r = corch_err_set(err, -errno, NULL, "NSF image %s: "
                                  "cannot remove %s: %s", image, sub,
                                  strerror(errno));
                break;
            }
            LOG_WARN("NSF image %s: removed %s (not a file, directory or "
                     "symlink)", image, sub);
            continue;
        }
        if (st.st_mode & (S_ISUID | S_ISGID)) {
            mode_t mode = st.st_mode & 07777 & ~(mode_t) (S_ISUID | S_ISGID);
            if (fchmodat(dfd, de->d_name, mode, 0) < 0) {
                r = corch_err_set(err, -errno, NULL, "NSF image %s: chmod "
                                  "%s: %s", image, sub, strerror(errno));
                break;
            }
            LOG_WARN("NSF image %s: cleared the setuid/setgid bits of %s",
                     image, sub);
        }
        if (S_ISDIR(st.st_mode)) {
            int sfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY
                             | O_NOFOLLOW | O_CLOEXEC);
            if (sfd < 0) {
                r = corch_err_set(err, -errno, NULL, "NSF image %s: %s: %s",
                                  image, sub, strerror(errno));
                break;
            }
            r = strip_dir(sfd, sub, depth + 1, image, err);
            close(sfd);
        }
    }
    closedir(d);
    return r;
}

int
nsf_image_strip(const char *dir, const char *image, struct corch_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int r = -errno;
        return corch_err_set(err, r, NULL, "NSF image %s: %s: %s", image, dir,
                             strerror(-r));
    }
    int r = strip_dir(fd, ".", 0, image, err);
    close(fd);
    return r;
}
