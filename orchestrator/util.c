#include <config.h>
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void
closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

static void
out_of_memory(void)
{
    fputs("c-orch: out of memory\n", stderr);
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

char *
xstrdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        out_of_memory();
    return d;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        out_of_memory();
    va_end(ap);
    return s;
}

const char *
corch_err_kind_name(enum corch_err_kind kind)
{
    switch (kind) {
    case CORCH_ERR_FAILED: return "failed";
    case CORCH_ERR_INVALID: return "invalid";
    case CORCH_ERR_UNRESOLVABLE: return "unresolvable";
    case CORCH_ERR_CONFLICT: return "conflict";
    case CORCH_ERR_NOT_FOUND: return "not-found";
    case CORCH_ERR_BUSY: return "busy";
    case CORCH_ERR_TOO_LARGE: return "too-large";
    case CORCH_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown";
}

static void
corch_err_vset(struct corch_err *err, const char *path, const char *fmt,
               va_list ap)
{
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (path)
        snprintf(err->path, sizeof err->path, "%s", path);
}

int
corch_err_set(struct corch_err *err, int error, const char *path,
              const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        corch_err_vset(err, path, fmt, ap);
        va_end(ap);
    }
    return error;
}

int
corch_err_setk(struct corch_err *err, enum corch_err_kind kind, int error,
               const char *path, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        corch_err_vset(err, path, fmt, ap);
        va_end(ap);
        err->kind = kind;
    }
    return error;
}

void
corch_err_prefix(struct corch_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[512];
    char old[CORCH_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
}

static bool
name_chars_ok(const char *s, size_t max, const char *extra)
{
    size_t n = 0;
    if (!s || !*s || *s == '.' || *s == '-')
        return false;
    for (const char *p = s; *p; p++, n++) {
        if (n >= max)
            return false;
        if (!isalnum((unsigned char) *p) && !strchr(extra, *p))
            return false;
    }
    return true;
}

bool
name_is_valid_id(const char *s)
{
    return name_chars_ok(s, 64, "_.:-");
}

bool
name_is_valid_ifname(const char *s)
{
    if (!s || !*s || strlen(s) > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char) *p) && !strchr("_.-", *p))
            return false;
    return true;
}

int
parse_uint(const char *s, uint64_t max, uint64_t *ret_value)
{
    int base = 10;
    uint64_t v = 0;

    if (!s || !*s)
        return -EINVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!*s)
            return -EINVAL;
    }
    for (; *s; s++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && isxdigit((unsigned char) *s))
            d = tolower((unsigned char) *s) - 'a' + 10;
        else
            return -EINVAL;
        if (v > (UINT64_MAX - (uint64_t) d) / (uint64_t) base)
            return -ERANGE;
        v = v * (uint64_t) base + (uint64_t) d;
    }
    if (v > max)
        return -ERANGE;
    *ret_value = v;
    return 0;
}

uint64_t
time_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

uint64_t
time_ms(void)
{
    return time_ns() / 1000000u;
}

bool
memeq_const_time(const void *a_, const void *b_, size_t n)
{
    const volatile unsigned char *a = a_, *b = b_;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

void
random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fputs("c-orch: getrandom failed\n", stderr);
            abort();
        }
        p += r;
        n -= (size_t) r;
    }
}

void
hex_encode(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int
mkdir_p(const char *path, unsigned int mode)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf)
        return -EINVAL;
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}
