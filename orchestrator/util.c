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

/* Replaces each byte of 's' that is not part of valid UTF-8 with '?'. */
static void
utf8_scrub(char *s)
{
    size_t len = strlen(s), at = 0, where;
    while (at < len && utf8_check(s + at, len - at, &where) < 0) {
        s[at + where] = '?';
        at += where + 1;
    }
}

static void
corch_err_vset(struct corch_err *err, const char *path, const char *fmt,
               va_list ap)
{
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (path)
        snprintf(err->path, sizeof err->path, "%s", path);
    /* Messages quote what clients sent ("\"%.80s\" is not a valid id"),
     * and a cut can fall inside a character: the error goes back in a
     * JSON body that strict parsers must be able to read. */
    utf8_scrub(err->msg);
    utf8_scrub(err->path);
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
    utf8_scrub(err->msg);
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
utf8_check(const char *s, size_t len, size_t *where)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0;

    while (i < len) {
        unsigned int c = p[i];
        uint32_t cp, min;
        size_t n;

        if (c == 0) {
            if (where)
                *where = i;
            return -EINVAL;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else
            goto bad;
        if (len - i <= n)
            goto bad;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;
        i += n + 1;
    }
    return 0;
bad:
    if (where)
        *where = i;
    return -EILSEQ;
}

/* ---- json_text_check() ---- */

/* Levels of the path recorded for the error; deeper ones are counted but
 * not named (no graph document is that deep outside an SF's "config"). */
#define JSON_PATH_LEVELS 32

/* One open object or array of the scan. */
struct json_level {
    bool array;                 /* An array (else an object). */
    bool want_key;              /* Object: the next string is a name. */
    size_t index;               /* Array: the element being read. */
    const char *key;            /* Object: the current member's name, as
                                 * written (escapes undecoded); NULL before
                                 * the first one. */
    size_t keylen;              /* Its length in bytes. */
};

struct json_scan {
    struct json_level levels[JSON_PATH_LEVELS]; /* The open containers. */
    size_t depth;               /* Open containers, recorded or not. */
};

/* Appends 'n' bytes of a name to the path, escaping what is not printable
 * ASCII: the path goes back to the client in a JSON error body, and the
 * name being refused may be the bad string itself. */
static size_t
json_path_put(char *out, size_t size, size_t len, const char *s, size_t n)
{
    for (size_t i = 0; i < n && len + 5 < size; i++) {
        unsigned char ch = (unsigned char) s[i];
        if (ch >= 0x20 && ch < 0x7f)
            out[len++] = (char) ch;
        else
            len += (size_t) snprintf(out + len, size - len, "\\x%02x", ch);
    }
    out[len] = '\0';
    return len;
}

/* The path of the string being scanned: the open containers, and the
 * member name 'key' if the string is a name. */
static void
json_path_format(const struct json_scan *js, const char *key, size_t keylen,
                 char *out, size_t size)
{
    size_t n = js->depth < JSON_PATH_LEVELS ? js->depth : JSON_PATH_LEVELS;
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n && len + 24 < size; i++) {
        const struct json_level *l = &js->levels[i];
        if (l->array)
            len += (size_t) snprintf(out + len, size - len, "[%zu]",
                                     l->index);
        else if (l->key && (i + 1 < n || !key)) {
            if (len)
                out[len++] = '.';
            len = json_path_put(out, size, len, l->key, l->keylen);
        }
    }
    if (key && len + 24 < size) {
        if (len)
            out[len++] = '.';
        len = json_path_put(out, size, len, key, keylen);
    }
}

static int
hex4(const char *s, uint32_t *ret)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char) s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -EINVAL;
        v = v << 4 | (uint32_t) d;
    }
    *ret = v;
    return 0;
}

/* Checks the string whose text (between the quotes) is s[0..n).  Returns
 * NULL or why it is refused. */
static const char *
json_string_problem(const char *s, size_t n)
{
    size_t i = 0, run = 0;

    while (i < n) {
        if (s[i] != '\\') {
            i++;
            continue;
        }
        /* The raw bytes since the last escape: an escape in the middle of
         * a multi-byte sequence cuts it, which utf8_check() refuses. */
        int r = utf8_check(s + run, i - run, NULL);
        if (r == -EINVAL)
            return "contains a NUL byte";
        if (r < 0)
            return "is not valid UTF-8";
        if (i + 1 >= n)
            return "ends inside an escape";
        if (s[i + 1] != 'u') {
            i += 2;
            run = i;
            continue;
        }
        uint32_t cp, lo;
        if (i + 6 > n || hex4(s + i + 2, &cp) < 0)
            return "has a bad \\u escape";
        i += 6;
        if (cp == 0)
            return "contains a NUL character (\\u0000)";
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return "contains a lone UTF-16 surrogate (a \\udc00-\\udfff "
                   "escape without a \\ud800-\\udbff before it)";
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (i + 6 > n || s[i] != '\\' || s[i + 1] != 'u'
                || hex4(s + i + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                return "contains a lone UTF-16 surrogate (a \\ud800-\\udbff "
                       "escape without a \\udc00-\\udfff after it)";
            i += 6;
        }
        run = i;
    }
    int r = utf8_check(s + run, n - run, NULL);
    if (r == -EINVAL)
        return "contains a NUL byte";
    if (r < 0)
        return "is not valid UTF-8";
    return NULL;
}

/* Whether 'text' is plain ASCII without NUL and without "\u" escapes: the
 * common case, in which no string can break the rule and the scan that
 * tracks paths (a few ms on a 1 MB graph) is not needed.  A "\\u" (an
 * escaped backslash before a 'u') only sends the text to the full scan. */
static bool
json_text_plain(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = text[i];
        if (c == 0 || c >= 0x80
            || (c == '\\' && i + 1 < len && text[i + 1] == 'u'))
            return false;
    }
    return true;
}

int
json_text_check(const char *text, size_t len, struct corch_err *err)
{
    struct json_scan js = { .depth = 0 };
    size_t i = 0;

    if (json_text_plain(text, len))
        return 0;

    while (i < len) {
        struct json_level *top = js.depth && js.depth <= JSON_PATH_LEVELS
                                 ? &js.levels[js.depth - 1] : NULL;
        switch (text[i]) {
        case '{':
        case '[':
            if (js.depth < JSON_PATH_LEVELS)
                js.levels[js.depth] = (struct json_level) {
                    .array = text[i] == '[', .want_key = text[i] == '{',
                };
            js.depth++;
            i++;
            break;
        case '}':
        case ']':
            if (js.depth)
                js.depth--;
            i++;
            break;
        case ',':
            if (top && top->array)
                top->index++;
            else if (top)
                top->want_key = true;
            i++;
            break;
        case '"': {
            size_t start = ++i;
            while (i < len && text[i] != '"')
                i += text[i] == '\\' ? 2 : 1;
            if (i > len)
                i = len;
            const char *why = json_string_problem(text + start, i - start);
            bool is_key = top && !top->array && top->want_key;
            if (why) {
                char path[CORCH_ERR_PATH_MAX];
                json_path_format(&js, is_key ? text + start : NULL,
                                 i - start, path, sizeof path);
                return corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, path,
                                      is_key ? "the member name %s"
                                             : "the string %s", why);
            }
            if (is_key) {
                top->key = text + start;
                top->keylen = i - start;
                top->want_key = false;
            }
            i++;                /* The closing quote. */
            break;
        }
        default:
            i++;
            break;
        }
    }
    return 0;
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
