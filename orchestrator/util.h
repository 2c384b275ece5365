/* Small helpers shared by every module: scope-based cleanup, error text
 * carried back to the REST layer, strict name checks, number parsing. */
#ifndef CORCH_UTIL_H
#define CORCH_UTIL_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define ARRAY_SIZE(a) (sizeof (a) / sizeof *(a))

/* A driver that breaks its contract with the core has a bug to fix, not
 * a condition to handle: the caller logs it and carries on with an error
 * message for the client; debug builds (./configure --enable-debug, which
 * the test builds use) also stop at it, so that tests cannot miss it. */
#ifdef CORCH_DEBUG
#define CORCH_CONTRACT_BUG() abort()
#else
#define CORCH_CONTRACT_BUG() ((void) 0)
#endif
/* The struct of type STRUCT whose member MEMBER is at POINTER: how a
 * driver reaches its own struct from the base it embeds. */
#define CONTAINER_OF(POINTER, STRUCT, MEMBER)                           \
    ((STRUCT *) (void *) ((char *) (POINTER) - offsetof(STRUCT, MEMBER)))


/* Scope-based cleanup, systemd style:
 *     _cleanup_free_ char *s = strdup(x);
 * frees 's' when it goes out of scope.  Destructors accept NULL. */
#define _cleanup_(f) __attribute__((cleanup(f)))
static inline void freep(void *p) { free(*(void **) p); }
#define _cleanup_free_ _cleanup_(freep)
void closep(int *fd);                   /* Closes *fd if >= 0. */
#define _cleanup_close_ _cleanup_(closep)

/* Hands ownership out of a cleanup variable: return TAKE_PTR(p); */
#define TAKE_PTR(p) ({ __typeof__(p) p_ = (p); (p) = NULL; p_; })

/* Allocation that aborts on exhaustion, for sizes the daemon controls.
 * Sizes a client controls are bounded by the config limits first. */
void *xmalloc(size_t);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);            /* xstrdup(NULL) returns NULL. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Why an operation failed, in words a client can act on.  Filled by the
 * module that failed, carried up unchanged, turned into the JSON error body
 * by the REST layer.  'path' names the offending field of the request
 * ("sffg.flowrules[3].match.port_in") or is empty. */
#define CORCH_ERR_PATH_MAX 256
#define CORCH_ERR_MSG_MAX 2048

/* What kind of failure it is, chosen where the error arises (not guessed
 * from an errno later): the REST layer maps kinds, and only kinds, to
 * HTTP statuses in one table (rest.c).  The errno that functions return
 * stays an errno, for logs and for code that must tell ENOENT from EIO. */
enum corch_err_kind {
    CORCH_ERR_FAILED = 0,       /* The node could not do it (a driver, the
                                 * switch, a script failed): 500.  The
                                 * default, also for every error set
                                 * without a kind. */
    CORCH_ERR_INVALID,          /* The request is wrong: 400. */
    CORCH_ERR_UNRESOLVABLE,     /* No SF implementation fits: 409. */
    CORCH_ERR_CONFLICT,         /* Clashes with the node's state (a SAP
                                 * claimed by another graph, the node is
                                 * full): 409. */
    CORCH_ERR_NOT_FOUND,        /* The object the request names does not
                                 * exist: 404. */
    CORCH_ERR_BUSY,             /* Another change of the same object is in
                                 * progress; retry later: 409. */
    CORCH_ERR_TOO_LARGE,        /* The request exceeds a limit: 413. */
    CORCH_ERR_UNSUPPORTED,      /* A feature this node does not have: 501
                                 * (400 when a graph asks for it: the
                                 * REST table decides). */
};
/* "failed", "invalid", ... (for logs and tests). */
const char *corch_err_kind_name(enum corch_err_kind);

struct corch_err {
    enum corch_err_kind kind;       /* CORCH_ERR_FAILED unless set. */
    char path[CORCH_ERR_PATH_MAX];  /* Offending field, "" if none. */
    char msg[CORCH_ERR_MSG_MAX];    /* Human-readable reason, "" if none. */
};
/* Sets err->msg (and err->path if 'path' is nonnull) unless 'err' is NULL;
 * leaves err->kind as it is (CORCH_ERR_FAILED in a fresh struct).
 * Returns 'error' so that callers can "return corch_err_set(...)". */
int corch_err_set(struct corch_err *err, int error, const char *path,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same, and sets err->kind to 'kind'. */
int corch_err_setk(struct corch_err *err, enum corch_err_kind kind,
                   int error, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Prefixes err->msg with "<prefix>: ". */
void corch_err_prefix(struct corch_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Strict name checks: everything a client sends that becomes an interface,
 * namespace, bridge, container or file name goes through one of these. */
/* Graph, SF, SAP, port, rule and user ids: [A-Za-z0-9_.:-]{1,64}, not
 * starting with '.' or '-'. */
bool name_is_valid_id(const char *);
/* Network interface names: [A-Za-z0-9_.-]{1,15}, not "." or "..". */
bool name_is_valid_ifname(const char *);

/* Checks that 'len' bytes at 's' are UTF-8 as RFC 3629 defines it (no
 * overlong forms, no surrogates, nothing above U+10FFFF) and hold no NUL:
 * what every string a client sends must be, because it is stored and
 * echoed to every other client, and a C string ends at a NUL.  Returns 0,
 * -EINVAL for a NUL, -EILSEQ for bad UTF-8; on failure sets '*where' (if
 * nonnull) to the offset of the offending byte. */
int utf8_check(const char *s, size_t len, size_t *where);

/* Applies utf8_check() to every string of a JSON document, member names
 * included, after decoding its escapes: "\u0000" is a NUL, and a "\ud800"
 * not followed by a low surrogate is not a character.  This is the one
 * check of that rule for every JSON document a client sends (SF-FG, NF-FG,
 * any other body), and it works on the text because json-c silently
 * truncates a member name at its first NUL.  'text' must be a document that
 * json-c accepted (the scan does not re-validate the grammar, but never
 * reads past 'len' whatever it is given).  Returns 0 or -EINVAL with kind
 * CORCH_ERR_INVALID and a path naming the string ("sffg.SFs[2].name"). */
int json_text_check(const char *text, size_t len, struct corch_err *err);

/* Parses an unsigned number given as a JSON integer's text, a decimal
 * string or a "0x" hex string (the SF-FG allows all three).  Fails with
 * -EINVAL on junk and -ERANGE above 'max'. */
int parse_uint(const char *, uint64_t max, uint64_t *ret_value);

/* Monotonic clock in nanoseconds / milliseconds. */
uint64_t time_ns(void);
uint64_t time_ms(void);

/* Constant-time comparison of two byte strings of the same length. */
bool memeq_const_time(const void *a, const void *b, size_t n);

/* Fills 'buf' with 'n' bytes from the kernel's CSPRNG.  Aborts on failure. */
void random_bytes(void *buf, size_t n);
/* Writes 2n hex digits and a NUL to 'out'. */
void hex_encode(const void *in, size_t n, char *out);

/* Creates 'path' and missing parents with 'mode'.  0 or negative errno. */
int mkdir_p(const char *path, unsigned int mode);

#endif
