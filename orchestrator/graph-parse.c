/* The SF-FG parser and validator: JSON text or a json-c tree in, a valid
 * 'struct graph' (graph.h) out, or an error whose path names the field.
 *
 * The parser walks the json-c tree once, keeping the path of the member it
 * is looking at in a buffer, so that every error names its field exactly
 * ("sffg.flowrules[3].match.port_in").  The first error wins: a client
 * fixes one thing at a time, and a single path is what the REST error body
 * carries.  Ids are indexed in open-addressing hash tables while parsing so
 * that uniqueness checks and reference resolution stay linear in the size
 * of the graph (a 1000-SF, 5000-rule graph must parse in a few ms). */
#include <config.h>
#include "graph.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

LOG_MODULE(graph);

/* Free-text names (graph, SAP, port) are bounded so that a client cannot
 * make us store megabytes of "name". */
#define GRAPH_TEXT_MAX 256
/* Most outputs of one rule, and most elements of an actions array: a
 * bound that keeps the per-rule duplicate checks trivially cheap. */
#define GRAPH_MAX_OUTPUTS 64


/* ---- Id index: open addressing, keys borrowed from the graph. ---- */

struct idx_entry {
    const char *key;            /* Borrowed; NULL marks an empty slot. */
    size_t keylen;              /* strlen(key), compared first. */
    size_t owner;               /* SF index for port ids, else 0. */
    size_t value;               /* Index of the thing named. */
};

struct idx {
    struct idx_entry *slots;    /* 'mask + 1' slots. */
    size_t mask;                /* Capacity - 1 (a power of two). */
};

static void
idx_init(struct idx *ix, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 1)
        cap *= 2;
    ix->slots = xcalloc(cap, sizeof *ix->slots);
    ix->mask = cap - 1;
}

static void
idx_destroy(struct idx *ix)
{
    free(ix->slots);
    ix->slots = NULL;
}

static size_t
idx_hash(const char *key, size_t len, size_t owner)
{
    /* FNV-1a, with the owner mixed in first. */
    uint64_t h = 1469598103934665603ull ^ (uint64_t) owner;
    h *= 1099511628211ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char) key[i];
        h *= 1099511628211ull;
    }
    return (size_t) (h ^ (h >> 29));
}

/* Returns the value stored under (key, len, owner) or SIZE_MAX. */
static size_t
idx_find(const struct idx *ix, const char *key, size_t len, size_t owner)
{
    for (size_t i = idx_hash(key, len, owner) & ix->mask;;
         i = (i + 1) & ix->mask) {
        const struct idx_entry *e = &ix->slots[i];
        if (!e->key)
            return SIZE_MAX;
        if (e->keylen == len && e->owner == owner
            && !memcmp(e->key, key, len))
            return e->value;
    }
}

/* Inserts; returns SIZE_MAX, or the value already stored under the key.
 * Callers size the table for every insertion they will make. */
static size_t
idx_insert(struct idx *ix, const char *key, size_t owner, size_t value)
{
    size_t len = strlen(key);
    size_t i;

    for (i = idx_hash(key, len, owner) & ix->mask; ix->slots[i].key;
         i = (i + 1) & ix->mask) {
        const struct idx_entry *e = &ix->slots[i];
        if (e->keylen == len && e->owner == owner
            && !memcmp(e->key, key, len))
            return e->value;
    }
    ix->slots[i] = (struct idx_entry) {
        .key = key, .keylen = len, .owner = owner, .value = value,
    };
    return SIZE_MAX;
}

/* ---- Parse context and path tracking. ---- */

/* One step of the path: a member name or an array index. */
struct seg {
    const char *key;            /* Borrowed member name; NULL: an index. */
    size_t index;               /* The index when 'key' is NULL. */
};

/* Deeper than any SF-FG field ("sffg.flowrules[i].actions[j].output_to_port
 * [k]" is 7); "config" objects are copied, not walked. */
#define PATH_DEPTH_MAX 16

struct pctx {
    struct corch_err *err;      /* Where the first failure goes. */
    struct seg segs[PATH_DEPTH_MAX]; /* Path of the member being parsed;
                                 * formatted only on error, because
                                 * formatting it at every step would cost
                                 * more than the parse itself. */
    size_t depth;               /* Segments in use. */
    struct graph *g;            /* The graph being built. */
    struct idx sfs;             /* SF id -> index. */
    struct idx ports;           /* (SF index, port id) -> port index. */
    struct idx saps;            /* SAP id -> index. */
    struct idx rules;           /* Rule id -> index. */
    struct idx sap_ifs;         /* "if-name" / "if-name.vlan" -> SAP. */
    char **sap_keys;            /* Owned keys of 'sap_ifs'. */
    size_t n_sap_keys;          /* Entries in 'sap_keys'. */
};

static size_t
path_push(struct pctx *c, const char *key, size_t index)
{
    size_t old = c->depth;
    if (c->depth < PATH_DEPTH_MAX)
        c->segs[c->depth++] = (struct seg) { .key = key, .index = index };
    return old;
}

static size_t
path_key(struct pctx *c, const char *key)
{
    return path_push(c, key, 0);
}

static size_t
path_idx(struct pctx *c, size_t i)
{
    return path_push(c, NULL, i);
}

static void
path_pop(struct pctx *c, size_t old)
{
    c->depth = old;
}

static void
path_format(const struct pctx *c, char *out, size_t size)
{
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < c->depth && len < size; i++) {
        const struct seg *s = &c->segs[i];
        int n = s->key ? snprintf(out + len, size - len, "%s%s",
                                  len ? "." : "", s->key)
                       : snprintf(out + len, size - len, "[%zu]", s->index);
        if (n < 0)
            break;
        len += (size_t) n;
    }
}

/* Fails at the current path with an error of 'kind'. */
static int
vfail(struct pctx *c, enum corch_err_kind kind, int error, const char *fmt,
      va_list ap) __attribute__((format(printf, 4, 0)));

static int
vfail(struct pctx *c, enum corch_err_kind kind, int error, const char *fmt,
      va_list ap)
{
    char msg[CORCH_ERR_MSG_MAX];
    char path[CORCH_ERR_PATH_MAX];

    vsnprintf(msg, sizeof msg, fmt, ap);
    path_format(c, path, sizeof path);
    return corch_err_setk(c->err, kind, error, path, "%s", msg);
}

/* Everything the parser rejects is the client's graph being wrong... */
static int
fail(struct pctx *c, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct pctx *c, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfail(c, CORCH_ERR_INVALID, error, fmt, ap);
    va_end(ap);
    return r;
}

/* ...but for a list over a limit: the same graph, smaller, is fine. */
static int
fail_too_large(struct pctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail_too_large(struct pctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfail(c, CORCH_ERR_TOO_LARGE, -E2BIG, fmt, ap);
    va_end(ap);
    return r;
}

/* Fails at member 'key' of the current object. */
static int
fail_at(struct pctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail_at(struct pctx *c, const char *key, const char *fmt, ...)
{
    char msg[CORCH_ERR_MSG_MAX];
    size_t old = path_key(c, key);
    va_list ap;
    int r;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r = fail(c, -EINVAL, "%s", msg);
    path_pop(c, old);
    return r;
}

static const char *
json_type_word(json_object *o)
{
    switch (json_object_get_type(o)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double: return "a number";
    case json_type_int: return "a number";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    }
    return "?";
}

/* Rejects members of 'o' not in the NULL-terminated 'allowed'. */
static int
check_keys(struct pctx *c, json_object *o, const char *const *allowed)
{
    json_object_object_foreach(o, key, val) {
        const char *const *a;
        (void) val;
        for (a = allowed; *a; a++)
            if ((*a)[0] == key[0] && !strcmp(*a, key))
                break;
        if (!*a)
            return fail_at(c, key, "unknown key \"%s\"", key);
    }
    return 0;
}

static int
expect_type(struct pctx *c, json_object *o, enum json_type t,
            const char *what)
{
    if (!json_object_is_type(o, t) || (t != json_type_null && !o))
        return fail(c, -EINVAL, "must be %s, not %s", what,
                    json_type_word(o));
    return 0;
}

/* Fetches member 'key'.  Returns 1 if present, 0 if absent (an error if
 * 'required'), negative on error. */
static int
member(struct pctx *c, json_object *o, const char *key, bool required,
       json_object **ret)
{
    if (!json_object_object_get_ex(o, key, ret)) {
        if (required)
            return fail_at(c, key, "is required");
        return 0;
    }
    return 1;
}

/* Unsigned number: JSON integer (or integral double, as JSON Schema's
 * "integer" allows), decimal string, or "0x" hex string.  The current
 * path names the member. */
static int
get_uint(struct pctx *c, json_object *o, uint64_t min, uint64_t max,
         uint64_t *ret)
{
    uint64_t v;

    switch (json_object_get_type(o)) {
    case json_type_int: {
        int64_t i = json_object_get_int64(o);
        if (i < 0)
            return fail(c, -EINVAL, "must be %" PRIu64 "-%" PRIu64
                        ", not negative", min, max);
        v = i == INT64_MAX ? json_object_get_uint64(o) : (uint64_t) i;
        break;
    }
    case json_type_double: {
        double d = json_object_get_double(o);
        if (!(d >= 0 && d <= (double) max && d == (double) (uint64_t) d))
            return fail(c, -EINVAL, "must be an integer %" PRIu64 "-%"
                        PRIu64, min, max);
        v = (uint64_t) d;
        break;
    }
    case json_type_string: {
        int r = parse_uint(json_object_get_string(o), UINT64_MAX, &v);
        if (r == -ERANGE)
            return fail(c, -EINVAL, "\"%s\" is out of range %" PRIu64
                        "-%" PRIu64, json_object_get_string(o), min, max);
        if (r < 0)
            return fail(c, -EINVAL, "\"%s\" is not a decimal or 0x hex "
                        "number", json_object_get_string(o));
        break;
    }
    default:
        return fail(c, -EINVAL, "must be a number (integer, decimal "
                    "string or 0x hex string), not %s", json_type_word(o));
    }
    if (v < min || v > max)
        return fail(c, -EINVAL, "%" PRIu64 " is out of range %" PRIu64
                    "-%" PRIu64, v, min, max);
    *ret = v;
    return 0;
}

/* get_uint() on member 'key' (the path is extended for the error). */
static int
member_uint(struct pctx *c, json_object *val, const char *key,
            uint64_t min, uint64_t max, uint64_t *ret)
{
    size_t old = path_key(c, key);
    int r = get_uint(c, val, min, max, ret);
    path_pop(c, old);
    return r;
}

static int
get_string(struct pctx *c, json_object *o, const char **ret)
{
    int r = expect_type(c, o, json_type_string, "a string");
    if (r < 0)
        return r;
    *ret = json_object_get_string(o);
    return 0;
}

static int
get_id(struct pctx *c, json_object *o, const char **ret)
{
    const char *s;
    int r = get_string(c, o, &s);
    if (r < 0)
        return r;
    if (!name_is_valid_id(s))
        return fail(c, -EINVAL, "\"%.80s\" is not a valid id (1-64 of "
                    "A-Z a-z 0-9 _ . : -, not starting with . or -)", s);
    *ret = s;
    return 0;
}

static size_t
utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char) *s & 0xc0) != 0x80)
            n++;
    return n;
}

static int
get_text(struct pctx *c, json_object *o, const char **ret)
{
    const char *s;
    int r = get_string(c, o, &s);
    if (r < 0)
        return r;
    if (utf8_length(s) > GRAPH_TEXT_MAX)
        return fail(c, -EINVAL, "is longer than %d characters",
                    GRAPH_TEXT_MAX);
    *ret = s;
    return 0;
}

/* Runs 'getter' on member 'key' with the path extended. */
#define MEMBER_GET(C, VAL, KEY, GETTER, RET)            \
    ({                                                  \
        size_t old_ = path_key((C), (KEY));             \
        int r_ = GETTER((C), (VAL), (RET));             \
        path_pop((C), old_);                            \
        r_;                                             \
    })

static int
hex_digit(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0'
         : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

static int
get_mac(struct pctx *c, json_object *o, uint8_t mac[6])
{
    const char *s;
    uint8_t m[6];
    int r = get_string(c, o, &s);

    if (r < 0)
        return r;
    if (strlen(s) != 17)
        goto bad;
    for (int i = 0; i < 6; i++) {
        const char *p = s + 3 * i;
        int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
        if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
            goto bad;
        m[i] = (uint8_t) (hi << 4 | lo);
    }
    memcpy(mac, m, 6);
    return 0;
bad:
    return fail(c, -EINVAL, "\"%.40s\" is not a MAC address "
                "(aa:bb:cc:dd:ee:ff)", s);
}

/* Parses "addr" or "addr/plen" (if 'prefix_ok').  Without a prefix the
 * prefix is the full length. */
static int
parse_ip(const char *s, bool prefix_ok, struct flow_ip *ret)
{
    char buf[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t) (slash - s) : strlen(s);
    struct flow_ip ip = { 0 };
    unsigned int max, plen = 0;

    if (alen == 0 || alen >= INET6_ADDRSTRLEN || (slash && !prefix_ok))
        return -EINVAL;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    if (inet_pton(AF_INET, buf, ip.addr) == 1) {
        ip.family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, ip.addr) == 1) {
        ip.family = AF_INET6;
        max = 128;
    } else
        return -EINVAL;
    if (slash) {
        const char *p = slash + 1;
        size_t n = strlen(p);
        if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
            return -EINVAL;
        for (; *p; p++) {
            if (*p < '0' || *p > '9')
                return -EINVAL;
            plen = plen * 10 + (unsigned int) (*p - '0');
        }
        if (plen > max)
            return -ERANGE;
    } else
        plen = max;
    ip.plen = (uint8_t) plen;
    *ret = ip;
    return 0;
}

/* Clears the address bits beyond the prefix: a match on 10.0.0.1/24 is a
 * match on 10.0.0.0/24, and equality must say so. */
static void
ip_mask(struct flow_ip *ip)
{
    size_t n = ip->family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < n; i++) {
        unsigned int bits = i * 8 >= ip->plen ? 0
                          : ip->plen - i * 8 >= 8 ? 8 : ip->plen - i * 8;
        ip->addr[i] &= (uint8_t) (0xff00u >> bits);
    }
}

static int
get_ip(struct pctx *c, json_object *o, bool prefix_ok, struct flow_ip *ret)
{
    const char *s;
    int r = get_string(c, o, &s);
    if (r < 0)
        return r;
    r = parse_ip(s, prefix_ok, ret);
    if (r == -ERANGE)
        return fail(c, -EINVAL, "\"%.60s\": prefix length out of range", s);
    if (r < 0)
        return fail(c, -EINVAL, "\"%.60s\" is not an IPv4 or IPv6 %s", s,
                    prefix_ok ? "address (with optional /prefix)"
                              : "address");
    return 0;
}

static int
get_ip_prefix(struct pctx *c, json_object *o, struct flow_ip *ret)
{
    return get_ip(c, o, true, ret);
}

static int
get_ip_host(struct pctx *c, json_object *o, struct flow_ip *ret)
{
    return get_ip(c, o, false, ret);
}

static int
get_array(struct pctx *c, json_object *o, size_t max, const char *what,
          size_t *ret_n)
{
    size_t n;
    int r = expect_type(c, o, json_type_array, "an array");
    if (r < 0)
        return r;
    n = json_object_array_length(o);
    if (max && n > max)
        return fail_too_large(c, "%zu %s, more than the %zu allowed", n,
                              what, max);
    *ret_n = n;
    return 0;
}

/* ---- SFs. ---- */

static int
parse_sf_port(struct pctx *c, json_object *o, size_t sf_index,
              size_t port_index, struct graph_sf_port *p)
{
    static const char *const keys[] = { "id", "name", NULL };
    json_object *v;
    const char *s;
    int r;

    if ((r = expect_type(c, o, json_type_object, "an object")) < 0
        || (r = check_keys(c, o, keys)) < 0
        || (r = member(c, o, "id", true, &v)) < 0
        || (r = MEMBER_GET(c, v, "id", get_id, &s)) < 0)
        return r;
    p->id = xstrdup(s);
    if ((r = member(c, o, "name", false, &v)) < 0)
        return r;
    if (r) {
        if ((r = MEMBER_GET(c, v, "name", get_text, &s)) < 0)
            return r;
        p->name = xstrdup(s);
    }
    if (idx_insert(&c->ports, p->id, sf_index, port_index) != SIZE_MAX)
        return fail_at(c, "id", "duplicate port id \"%s\" in this SF", p->id);
    return 0;
}

static int
parse_sf(struct pctx *c, json_object *o, size_t index, struct graph_sf *sf)
{
    static const char *const keys[] = {
        "id", "name", "template", "config", "ports", NULL,
    };
    json_object *v;
    const char *s;
    size_t n;
    int r;

    if ((r = expect_type(c, o, json_type_object, "an object")) < 0
        || (r = check_keys(c, o, keys)) < 0
        || (r = member(c, o, "id", true, &v)) < 0
        || (r = MEMBER_GET(c, v, "id", get_id, &s)) < 0)
        return r;
    sf->id = xstrdup(s);
    if (idx_insert(&c->sfs, sf->id, 0, index) != SIZE_MAX)
        return fail_at(c, "id", "duplicate SF id \"%s\"", sf->id);

    if ((r = member(c, o, "name", true, &v)) < 0
        || (r = MEMBER_GET(c, v, "name", get_id, &s)) < 0)
        return r;
    sf->name = xstrdup(s);

    if ((r = member(c, o, "template", false, &v)) < 0)
        return r;
    if (r) {
        if ((r = MEMBER_GET(c, v, "template", get_id, &s)) < 0)
            return r;
        sf->template_id = xstrdup(s);
    }

    if ((r = member(c, o, "config", false, &v)) < 0)
        return r;
    if (r) {
        size_t old = path_key(c, "config");
        r = expect_type(c, v, json_type_object, "an object");
        path_pop(c, old);
        if (r < 0)
            return r;
        if (json_object_deep_copy(v, &sf->config, NULL) < 0)
            return fail_at(c, "config", "cannot copy");
    }

    if ((r = member(c, o, "ports", true, &v)) < 0)
        return r;
    size_t old = path_key(c, "ports");
    r = get_array(c, v, 0, "ports", &n);
    if (r == 0 && n) {
        sf->ports = xcalloc(n, sizeof *sf->ports);
        for (size_t i = 0; i < n && r == 0; i++) {
            size_t old2 = path_idx(c, i);
            sf->n_ports = i + 1;
            r = parse_sf_port(c, json_object_array_get_idx(v, i), index, i,
                              &sf->ports[i]);
            path_pop(c, old2);
        }
    }
    path_pop(c, old);
    return r;
}

/* ---- SAPs. ---- */

static int
sap_type_from_string(const char *s, enum graph_sap_type *ret)
{
    for (int t = GRAPH_SAP_INTERFACE; t <= GRAPH_SAP_INTERNAL; t++)
        if (!strcmp(s, graph_sap_type_name(t))) {
            *ret = t;
            return 0;
        }
    return -EINVAL;
}

static int
get_ifname(struct pctx *c, json_object *o, const char **ret)
{
    const char *s;
    int r = get_string(c, o, &s);
    if (r < 0)
        return r;
    if (!name_is_valid_ifname(s))
        return fail(c, -EINVAL, "\"%.40s\" is not a valid interface name "
                    "([A-Za-z0-9_.-]{1,15})", s);
    *ret = s;
    return 0;
}

/* Two SAPs of one graph may not claim the same interface (or the same
 * VLAN of it): traffic arriving there could not be told apart. */
static int
claim_interface(struct pctx *c, const char *key, size_t index)
{
    size_t n = c->n_sap_keys++;
    c->sap_keys = xrealloc(c->sap_keys, (n + 1) * sizeof *c->sap_keys);
    c->sap_keys[n] = xstrdup(key);
    size_t other = idx_insert(&c->sap_ifs, c->sap_keys[n], 0, index);
    if (other != SIZE_MAX)
        return fail(c, -EINVAL, "already used by SAP \"%s\"",
                    c->g->saps[other].id);
    return 0;
}

static int
parse_sap_body(struct pctx *c, json_object *o, size_t index,
               struct graph_sap *sap)
{
    json_object *v;
    const char *s;
    uint64_t u;
    int r;

    switch (sap->type) {
    case GRAPH_SAP_INTERFACE: {
        static const char *const keys[] = { "if-name", NULL };
        if ((r = check_keys(c, o, keys)) < 0
            || (r = member(c, o, "if-name", true, &v)) < 0
            || (r = MEMBER_GET(c, v, "if-name", get_ifname, &s)) < 0)
            return r;
        sap->if_name = xstrdup(s);
        size_t old = path_key(c, "if-name");
        r = claim_interface(c, s, index);
        path_pop(c, old);
        return r;
    }
    case GRAPH_SAP_VLAN: {
        static const char *const keys[] = { "vlan-id", "if-name", NULL };
        if ((r = check_keys(c, o, keys)) < 0
            || (r = member(c, o, "vlan-id", true, &v)) < 0
            || (r = member_uint(c, v, "vlan-id", 1, 4094, &u)) < 0)
            return r;
        sap->vlan_id = (uint16_t) u;
        if ((r = member(c, o, "if-name", true, &v)) < 0
            || (r = MEMBER_GET(c, v, "if-name", get_ifname, &s)) < 0)
            return r;
        sap->if_name = xstrdup(s);
        _cleanup_free_ char *key = xasprintf("%s\n%u", s,
                                             (unsigned) sap->vlan_id);
        size_t old = path_key(c, "vlan-id");
        r = claim_interface(c, key, index);
        path_pop(c, old);
        return r;
    }
    case GRAPH_SAP_GRE: {
        static const char *const keys[] = {
            "local-ip", "remote-ip", "gre-key", NULL,
        };
        if ((r = check_keys(c, o, keys)) < 0
            || (r = member(c, o, "local-ip", true, &v)) < 0
            || (r = MEMBER_GET(c, v, "local-ip", get_ip_host,
                               &sap->local_ip)) < 0
            || (r = member(c, o, "remote-ip", true, &v)) < 0
            || (r = MEMBER_GET(c, v, "remote-ip", get_ip_host,
                               &sap->remote_ip)) < 0)
            return r;
        if (sap->local_ip.family != sap->remote_ip.family)
            return fail_at(c, "remote-ip", "address family differs from "
                           "local-ip's");
        if ((r = member(c, o, "gre-key", false, &v)) < 0)
            return r;
        if (r) {
            if ((r = member_uint(c, v, "gre-key", 0, UINT32_MAX, &u)) < 0)
                return r;
            sap->gre_key = (uint32_t) u;
            sap->has_gre_key = true;
        }
        return 0;
    }
    case GRAPH_SAP_HOST_STACK: {
        static const char *const keys[] = { "configuration", "ipv4", NULL };
        if ((r = check_keys(c, o, keys)) < 0
            || (r = member(c, o, "configuration", true, &v)) < 0
            || (r = MEMBER_GET(c, v, "configuration", get_string, &s)) < 0)
            return r;
        if (strcmp(s, "static"))
            return fail_at(c, "configuration", "\"%.40s\" is not supported "
                           "(only \"static\")", s);
        if ((r = member(c, o, "ipv4", true, &v)) < 0
            || (r = MEMBER_GET(c, v, "ipv4", get_ip_prefix, &sap->ipv4)) < 0)
            return r;
        if (sap->ipv4.family != AF_INET)
            return fail_at(c, "ipv4", "must be an IPv4 address");
        return 0;
    }
    case GRAPH_SAP_INTERNAL: {
        static const char *const keys[] = { "internal-group", NULL };
        if ((r = check_keys(c, o, keys)) < 0
            || (r = member(c, o, "internal-group", true, &v)) < 0
            || (r = MEMBER_GET(c, v, "internal-group", get_id, &s)) < 0)
            return r;
        sap->internal_group = xstrdup(s);
        return 0;
    }
    }
    return fail(c, -EINVAL, "bad SAP type");
}

static int
parse_sap(struct pctx *c, json_object *o, size_t index, struct graph_sap *sap)
{
    static const char *const keys[] = {
        "id", "name", "type", "interface", "vlan", "gre", "host-stack",
        "internal", NULL,
    };
    json_object *v;
    const char *s;
    int r;

    if ((r = expect_type(c, o, json_type_object, "an object")) < 0
        || (r = check_keys(c, o, keys)) < 0
        || (r = member(c, o, "id", true, &v)) < 0
        || (r = MEMBER_GET(c, v, "id", get_id, &s)) < 0)
        return r;
    sap->id = xstrdup(s);
    if (idx_insert(&c->saps, sap->id, 0, index) != SIZE_MAX)
        return fail_at(c, "id", "duplicate SAP id \"%s\"", sap->id);
    if ((r = member(c, o, "name", false, &v)) < 0)
        return r;
    if (r) {
        if ((r = MEMBER_GET(c, v, "name", get_text, &s)) < 0)
            return r;
        sap->name = xstrdup(s);
    }
    if ((r = member(c, o, "type", true, &v)) < 0
        || (r = MEMBER_GET(c, v, "type", get_string, &s)) < 0)
        return r;
    if (sap_type_from_string(s, &sap->type) < 0)
        return fail_at(c, "type", "\"%.40s\" is not one of interface, vlan, "
                       "gre, host-stack, internal", s);
    for (int t = GRAPH_SAP_INTERFACE; t <= GRAPH_SAP_INTERNAL; t++) {
        const char *name = graph_sap_type_name(t);
        if ((enum graph_sap_type) t != sap->type
            && json_object_object_get_ex(o, name, NULL))
            return fail_at(c, name, "not allowed in a SAP of type %s",
                           graph_sap_type_name(sap->type));
    }
    const char *tname = graph_sap_type_name(sap->type);
    if ((r = member(c, o, tname, true, &v)) < 0)
        return r;
    size_t old = path_key(c, tname);
    r = expect_type(c, v, json_type_object, "an object");
    if (r == 0)
        r = parse_sap_body(c, v, index, sap);
    path_pop(c, old);
    return r;
}

/* ---- Flowrules. ---- */

/* Resolves "service-access-point:<id>" or "sf:<sf>:<port>".  SF and port
 * ids may both contain ':', so every split is tried, longest SF id first:
 * the SF id is the longest prefix naming an SF whose remaining text names
 * one of its ports. */
static int
resolve_ref(struct pctx *c, json_object *o, struct graph_port_ref *ret)
{
    static const char sap_prefix[] = "service-access-point:";
    const char *s;
    int r = get_string(c, o, &s);

    if (r < 0)
        return r;
    if (!strncmp(s, sap_prefix, sizeof sap_prefix - 1)) {
        const char *id = s + sizeof sap_prefix - 1;
        size_t i = idx_find(&c->saps, id, strlen(id), 0);
        if (i == SIZE_MAX)
            return fail(c, -EINVAL, "no SAP with id \"%.64s\"", id);
        *ret = (struct graph_port_ref) { .kind = GRAPH_PORT_SAP, .sap = i };
        return 0;
    }
    if (!strncmp(s, "sf:", 3)) {
        const char *rest = s + 3;
        size_t len = strlen(rest);
        bool sf_found = false;
        /* Ids are at most 64 characters: only splits that leave both
         * parts that short can match, which also keeps a megabyte of
         * ':' from costing a quadratic number of hash lookups. */
        for (size_t p = len; p-- > 1;) {
            if (len - p - 1 > 64)
                break;
            if (rest[p] != ':' || p > 64)
                continue;
            size_t sf = idx_find(&c->sfs, rest, p, 0);
            if (sf == SIZE_MAX)
                continue;
            sf_found = true;
            const char *port = rest + p + 1;
            size_t k = idx_find(&c->ports, port, strlen(port), sf);
            if (k == SIZE_MAX)
                continue;
            *ret = (struct graph_port_ref) {
                .kind = GRAPH_PORT_SF, .sf = sf, .port = k,
            };
            return 0;
        }
        if (sf_found)
            return fail(c, -EINVAL, "\"%.140s\" names no port of its SF", s);
        return fail(c, -EINVAL, "\"%.140s\" names no SF of this graph", s);
    }
    return fail(c, -EINVAL, "\"%.140s\" is not a port reference "
                "(service-access-point:<sap id> or sf:<sf id>:<port id>)", s);
}

static int
port_ref_cmp(const struct graph_port_ref *a, const struct graph_port_ref *b)
{
    if (a->kind != b->kind)
        return 1;
    if (a->kind == GRAPH_PORT_SAP)
        return a->sap != b->sap;
    return a->sf != b->sf || a->port != b->port;
}

static int
parse_match(struct pctx *c, json_object *m, struct graph_flowrule *rule)
{
    static const char *const keys[] = {
        "port_in", "ether_type", "vlan_id", "vlan_pcp", "source_mac",
        "dest_mac", "source_ip", "dest_ip", "protocol", "source_port",
        "dest_port", "ip_dscp", "icmp_type", "icmp_code", NULL,
    };
    struct flow_match *fm = &rule->match;
    json_object *v;
    uint64_t u;
    int r;

    if ((r = expect_type(c, m, json_type_object, "an object")) < 0
        || (r = member(c, m, "port_in", true, &v)) < 0
        || (r = MEMBER_GET(c, v, "port_in", resolve_ref,
                           &rule->port_in)) < 0)
        return r;

    /* The fields a match may have, and the name the SF-FG gives each. */
    static const struct {
        const char *key;        /* Member name. */
        uint32_t bit;           /* FLOW_M_* bit. */
        uint64_t min, max;      /* Range of a number. */
    } tab[] = {
        { "ether_type", FLOW_M_ETHER_TYPE, 0, 0xffff },
        { "vlan_id", FLOW_M_VLAN_ID, 1, 4094 },
        { "vlan_pcp", FLOW_M_VLAN_PCP, 0, 7 },
        { "source_mac", FLOW_M_SOURCE_MAC, 0, 0 },
        { "dest_mac", FLOW_M_DEST_MAC, 0, 0 },
        { "source_ip", FLOW_M_SOURCE_IP, 0, 0 },
        { "dest_ip", FLOW_M_DEST_IP, 0, 0 },
        { "protocol", FLOW_M_PROTOCOL, 0, 255 },
        { "source_port", FLOW_M_SOURCE_PORT, 0, 0xffff },
        { "dest_port", FLOW_M_DEST_PORT, 0, 0xffff },
        { "ip_dscp", FLOW_M_IP_DSCP, 0, 63 },
        { "icmp_type", FLOW_M_ICMP_TYPE, 0, 255 },
        { "icmp_code", FLOW_M_ICMP_CODE, 0, 255 },
    };

    /* One pass over the members (not a lookup per possible field): the
     * match is the bulk of a big graph. */
    json_object_object_foreach(m, key, val) {
        size_t t;

        for (t = 0; t < ARRAY_SIZE(tab); t++)
            if (key[0] == tab[t].key[0] && !strcmp(key, tab[t].key))
                break;
        if (t == ARRAY_SIZE(tab)) {
            if (strcmp(key, "port_in"))
                return check_keys(c, m, keys);  /* Names the unknown key. */
            continue;
        }
        size_t old = path_key(c, key);
        switch (tab[t].bit) {
        case FLOW_M_SOURCE_MAC:
            r = get_mac(c, val, fm->source_mac);
            break;
        case FLOW_M_DEST_MAC:
            r = get_mac(c, val, fm->dest_mac);
            break;
        case FLOW_M_SOURCE_IP:
            r = get_ip_prefix(c, val, &fm->source_ip);
            break;
        case FLOW_M_DEST_IP:
            r = get_ip_prefix(c, val, &fm->dest_ip);
            break;
        default:
            r = get_uint(c, val, tab[t].min, tab[t].max, &u);
            break;
        }
        path_pop(c, old);
        if (r < 0)
            return r;
        switch (tab[t].bit) {
        case FLOW_M_ETHER_TYPE: fm->ether_type = (uint16_t) u; break;
        case FLOW_M_VLAN_ID: fm->vlan_id = (uint16_t) u; break;
        case FLOW_M_VLAN_PCP: fm->vlan_pcp = (uint8_t) u; break;
        case FLOW_M_PROTOCOL: fm->protocol = (uint8_t) u; break;
        case FLOW_M_SOURCE_PORT: fm->source_port = (uint16_t) u; break;
        case FLOW_M_DEST_PORT: fm->dest_port = (uint16_t) u; break;
        case FLOW_M_IP_DSCP: fm->ip_dscp = (uint8_t) u; break;
        case FLOW_M_ICMP_TYPE: fm->icmp_type = (uint8_t) u; break;
        case FLOW_M_ICMP_CODE: fm->icmp_code = (uint8_t) u; break;
        default: break;
        }
        fm->fields |= tab[t].bit;
    }

    if (fm->fields & FLOW_M_SOURCE_IP)
        ip_mask(&fm->source_ip);
    if (fm->fields & FLOW_M_DEST_IP)
        ip_mask(&fm->dest_ip);

    /* The prerequisites OpenFlow puts on a match (flow.c). */
    struct flow_problem pb;
    if (flow_match_complete(fm, &pb) < 0) {
        size_t t;
        for (t = 0; t < ARRAY_SIZE(tab) && tab[t].bit != pb.field; t++)
            continue;
        return fail_at(c, t < ARRAY_SIZE(tab) ? tab[t].key : "port_in",
                       "%s", pb.msg);
    }
    return 0;
}

/* Which actions a rule has seen, for "given twice" errors. */
enum action_seen {
    SEEN_PUSH_VLAN = 1 << 0,
    SEEN_POP_VLAN = 1 << 1,
    SEEN_SET_SOURCE_MAC = 1 << 2,
    SEEN_SET_DEST_MAC = 1 << 3,
    SEEN_SET_SOURCE_IP = 1 << 4,
    SEEN_SET_DEST_IP = 1 << 5,
    SEEN_DROP = 1 << 6,
};

static int
get_bool(struct pctx *c, json_object *o, bool *ret)
{
    int r = expect_type(c, o, json_type_boolean, "a boolean");
    if (r < 0)
        return r;
    *ret = json_object_get_boolean(o);
    return 0;
}

static int
add_output(struct pctx *c, json_object *o, struct graph_flowrule *rule)
{
    struct graph_port_ref ref;
    int r = resolve_ref(c, o, &ref);
    if (r < 0)
        return r;
    if (!port_ref_cmp(&ref, &rule->port_in))
        return fail(c, -EINVAL, "output to the rule's own port_in is not "
                    "allowed (a packet would go back where it came from)");
    for (size_t i = 0; i < rule->n_outputs; i++)
        if (!port_ref_cmp(&ref, &rule->outputs[i]))
            return fail(c, -EINVAL, "port listed twice in output_to_port");
    if (rule->n_outputs >= GRAPH_MAX_OUTPUTS)
        return fail(c, -EINVAL, "more than %d outputs", GRAPH_MAX_OUTPUTS);
    rule->outputs = xrealloc(rule->outputs,
                             (rule->n_outputs + 1) * sizeof *rule->outputs);
    rule->outputs[rule->n_outputs++] = ref;
    return 0;
}

/* Parses one action; the path already names it. */
static int
parse_action(struct pctx *c, const char *key, json_object *v,
             struct graph_flowrule *rule, unsigned int *seen)
{
    struct flow_mods *fm = &rule->mods;
    unsigned int bit = 0;
    uint64_t u;
    bool b;
    int r;

    if (!strcmp(key, "output_to_port")) {
        if (json_object_is_type(v, json_type_array)) {
            size_t n = json_object_array_length(v);
            if (n == 0)
                return fail(c, -EINVAL, "must list at least one port");
            if (n > GRAPH_MAX_OUTPUTS)
                return fail(c, -EINVAL, "more than %d outputs",
                            GRAPH_MAX_OUTPUTS);
            for (size_t i = 0; i < n; i++) {
                size_t old = path_idx(c, i);
                r = add_output(c, json_object_array_get_idx(v, i), rule);
                path_pop(c, old);
                if (r < 0)
                    return r;
            }
            return 0;
        }
        if (!json_object_is_type(v, json_type_string) || !v)
            return fail(c, -EINVAL, "must be a port reference or an array "
                        "of them, not %s", json_type_word(v));
        return add_output(c, v, rule);
    }

    if (!strcmp(key, "push_vlan"))
        bit = SEEN_PUSH_VLAN;
    else if (!strcmp(key, "pop_vlan"))
        bit = SEEN_POP_VLAN;
    else if (!strcmp(key, "set_source_mac"))
        bit = SEEN_SET_SOURCE_MAC;
    else if (!strcmp(key, "set_dest_mac"))
        bit = SEEN_SET_DEST_MAC;
    else if (!strcmp(key, "set_source_ip"))
        bit = SEEN_SET_SOURCE_IP;
    else if (!strcmp(key, "set_dest_ip"))
        bit = SEEN_SET_DEST_IP;
    else if (!strcmp(key, "drop"))
        bit = SEEN_DROP;
    else
        return fail(c, -EINVAL, "unknown action \"%s\"", key);
    if (*seen & bit)
        return fail(c, -EINVAL, "action given twice");
    *seen |= bit;

    switch (bit) {
    case SEEN_PUSH_VLAN:
        if ((r = get_uint(c, v, 1, 4094, &u)) < 0)
            return r;
        fm->push_vlan = (uint16_t) u;
        fm->fields |= FLOW_A_PUSH_VLAN;
        return 0;
    case SEEN_POP_VLAN:
        if ((r = get_bool(c, v, &b)) < 0)
            return r;
        if (b)
            fm->fields |= FLOW_A_POP_VLAN;
        return 0;
    case SEEN_SET_SOURCE_MAC:
        fm->fields |= FLOW_A_SET_SOURCE_MAC;
        return get_mac(c, v, fm->set_source_mac);
    case SEEN_SET_DEST_MAC:
        fm->fields |= FLOW_A_SET_DEST_MAC;
        return get_mac(c, v, fm->set_dest_mac);
    case SEEN_SET_SOURCE_IP:
        fm->fields |= FLOW_A_SET_SOURCE_IP;
        return get_ip_host(c, v, &fm->set_source_ip);
    case SEEN_SET_DEST_IP:
        fm->fields |= FLOW_A_SET_DEST_IP;
        return get_ip_host(c, v, &fm->set_dest_ip);
    case SEEN_DROP:
        if ((r = get_bool(c, v, &b)) < 0)
            return r;
        rule->drop = b;
        return 0;
    }
    return 0;
}

/* The whole-rule checks on the actions; 'c' is at "...actions", and
 * 'paths' gives the path of each action for the errors. */
/* Where an action was written: its index in an actions array (SIZE_MAX
 * in the object form) and its key. */
struct action_pos {
    size_t index;               /* Element of the array form, or SIZE_MAX. */
    const char *key;            /* The action's key. */
};

static int
check_actions(struct pctx *c, struct graph_flowrule *rule,
              const struct action_pos *pos)
{
    const struct flow_mods *fm = &rule->mods;

#define FAIL_AT_ACTION(I, ...)                                          \
    ({                                                                  \
        size_t old_ = c->depth;                                         \
        if (pos[I].index != SIZE_MAX)                                   \
            path_idx(c, pos[I].index);                                  \
        path_key(c, pos[I].key);                                        \
        int r_ = fail(c, -EINVAL, __VA_ARGS__);                         \
        path_pop(c, old_);                                              \
        r_;                                                             \
    })
    if (rule->drop && rule->n_outputs)
        return FAIL_AT_ACTION(6, "drop excludes output_to_port");
    if (rule->drop && fm->fields)
        return FAIL_AT_ACTION(6, "drop excludes packet modifications");
    if (!rule->drop && !rule->n_outputs)
        return fail(c, -EINVAL, "needs output_to_port or drop");
    /* The prerequisites of the modifications on the match (flow.c). */
    struct flow_problem pb;
    if (flow_mods_check(fm, &rule->match, &pb) < 0)
        return FAIL_AT_ACTION(pb.field == FLOW_A_SET_SOURCE_IP ? 4 : 5,
                              "%s", pb.msg);
#undef FAIL_AT_ACTION
    return 0;
}

static int
seen_index(unsigned int bit)
{
    return __builtin_ctz(bit);
}

static int
parse_actions(struct pctx *c, json_object *a, struct graph_flowrule *rule)
{
    /* Where push_vlan .. drop were written, by SEEN_* bit number. */
    struct action_pos pos[7];
    unsigned int seen = 0;
    int r;

    if (json_object_is_type(a, json_type_object) && a) {
        json_object_object_foreach(a, key, val) {
            size_t old = path_key(c, key);
            unsigned int before = seen;
            r = parse_action(c, key, val, rule, &seen);
            if (r == 0 && seen != before)
                pos[seen_index(seen & ~before)] = (struct action_pos) {
                    .index = SIZE_MAX, .key = key,
                };
            path_pop(c, old);
            if (r < 0)
                return r;
        }
    } else if (json_object_is_type(a, json_type_array) && a) {
        size_t n = json_object_array_length(a);
        if (n > GRAPH_MAX_OUTPUTS)
            return fail(c, -EINVAL, "more than %d actions", GRAPH_MAX_OUTPUTS);
        for (size_t i = 0; i < n; i++) {
            json_object *el = json_object_array_get_idx(a, i);
            size_t old = path_idx(c, i);
            if ((r = expect_type(c, el, json_type_object, "an object")) < 0)
                return r;
            if (json_object_object_length(el) != 1)
                return fail(c, -EINVAL, "must hold exactly one action, not "
                            "%d", json_object_object_length(el));
            json_object_object_foreach(el, key, val) {
                size_t old2 = path_key(c, key);
                unsigned int before = seen;
                r = parse_action(c, key, val, rule, &seen);
                if (r == 0 && seen != before)
                    pos[seen_index(seen & ~before)] = (struct action_pos) {
                        .index = i, .key = key,
                    };
                path_pop(c, old2);
                if (r < 0)
                    return r;
            }
            path_pop(c, old);
        }
    } else
        return fail(c, -EINVAL, "must be an object or an array of "
                    "one-action objects, not %s", json_type_word(a));
    return check_actions(c, rule, pos);
}

static int
parse_flowrule(struct pctx *c, json_object *o, size_t index,
               struct graph_flowrule *rule)
{
    static const char *const keys[] = {
        "id", "priority", "match", "actions", NULL,
    };
    json_object *v;
    const char *s;
    uint64_t u;
    int r;

    if ((r = expect_type(c, o, json_type_object, "an object")) < 0
        || (r = check_keys(c, o, keys)) < 0
        || (r = member(c, o, "id", true, &v)) < 0
        || (r = MEMBER_GET(c, v, "id", get_id, &s)) < 0)
        return r;
    rule->id = xstrdup(s);
    if (idx_insert(&c->rules, rule->id, 0, index) != SIZE_MAX)
        return fail_at(c, "id", "duplicate flowrule id \"%s\"", rule->id);
    rule->priority = 1;
    if ((r = member(c, o, "priority", false, &v)) < 0)
        return r;
    if (r) {
        if ((r = member_uint(c, v, "priority", 0, 65535, &u)) < 0)
            return r;
        rule->priority = (uint16_t) u;
    }
    if ((r = member(c, o, "match", true, &v)) < 0)
        return r;
    size_t old = path_key(c, "match");
    r = parse_match(c, v, rule);
    path_pop(c, old);
    if (r < 0)
        return r;
    if ((r = member(c, o, "actions", true, &v)) < 0)
        return r;
    old = path_key(c, "actions");
    r = parse_actions(c, v, rule);
    path_pop(c, old);
    return r;
}

/* ---- Rules that OpenFlow cannot tell apart. ---- */

static uint64_t
fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t
fnv_u64(uint64_t h, uint64_t v)
{
    return fnv_bytes(h, &v, sizeof v);
}

static uint64_t
fnv_ip(uint64_t h, const struct flow_ip *ip)
{
    h = fnv_u64(h, (uint64_t) ip->family << 8 | ip->plen);
    return fnv_bytes(h, ip->addr, ip->family == AF_INET ? 4 : 16);
}

/* Hash of what makes two rules one OpenFlow entry: port_in, priority and
 * the present match fields (absent ones are ignored, as
 * flow_match_equal() ignores them). */
static uint64_t
rule_key_hash(const struct graph_flowrule *r)
{
    const struct flow_match *m = &r->match;
    uint32_t f = m->fields;
    uint64_t h = 1469598103934665603ull;

    h = fnv_u64(h, r->port_in.kind);
    if (r->port_in.kind == GRAPH_PORT_SAP)
        h = fnv_u64(h, r->port_in.sap);
    else {
        h = fnv_u64(h, r->port_in.sf);
        h = fnv_u64(h, r->port_in.port);
    }
    h = fnv_u64(h, (uint64_t) r->priority << 32 | f);
    if (f & FLOW_M_ETHER_TYPE)
        h = fnv_u64(h, m->ether_type);
    if (f & FLOW_M_VLAN_ID)
        h = fnv_u64(h, m->vlan_id);
    if (f & FLOW_M_VLAN_PCP)
        h = fnv_u64(h, m->vlan_pcp);
    if (f & FLOW_M_SOURCE_MAC)
        h = fnv_bytes(h, m->source_mac, 6);
    if (f & FLOW_M_DEST_MAC)
        h = fnv_bytes(h, m->dest_mac, 6);
    if (f & FLOW_M_SOURCE_IP)
        h = fnv_ip(h, &m->source_ip);
    if (f & FLOW_M_DEST_IP)
        h = fnv_ip(h, &m->dest_ip);
    if (f & FLOW_M_PROTOCOL)
        h = fnv_u64(h, m->protocol);
    if (f & FLOW_M_SOURCE_PORT)
        h = fnv_u64(h, m->source_port);
    if (f & FLOW_M_DEST_PORT)
        h = fnv_u64(h, m->dest_port);
    if (f & FLOW_M_IP_DSCP)
        h = fnv_u64(h, m->ip_dscp);
    if (f & FLOW_M_ICMP_TYPE)
        h = fnv_u64(h, m->icmp_type);
    if (f & FLOW_M_ICMP_CODE)
        h = fnv_u64(h, m->icmp_code);
    return h ^ (h >> 29);
}

/* Two rules with the same port_in, match and priority are one OpenFlow
 * entry: the switch keeps the last one written, and an update that
 * removes either deletes the flow of both.  The second one is refused
 * (path "sffg.flowrules[N].match").  Linear: one hash table. */
static int
check_rule_clashes(struct pctx *c)
{
    const struct graph *g = c->g;
    size_t cap = 16;
    int r = 0;

    if (g->n_flowrules < 2)
        return 0;
    while (cap < 2 * g->n_flowrules)
        cap *= 2;
    /* 32-bit slots: half the memory, and for 5000 rules the table stays
     * under malloc's mmap threshold (no page faults on every parse). */
    uint32_t *slots = xmalloc(cap * sizeof *slots);
    for (size_t i = 0; i < cap; i++)
        slots[i] = UINT32_MAX;
    for (size_t i = 0; i < g->n_flowrules && r == 0; i++) {
        const struct graph_flowrule *a = &g->flowrules[i];
        size_t s;
        for (s = rule_key_hash(a) & (cap - 1); slots[s] != UINT32_MAX;
             s = (s + 1) & (cap - 1)) {
            const struct graph_flowrule *b = &g->flowrules[slots[s]];
            if (a->priority != b->priority
                || port_ref_cmp(&a->port_in, &b->port_in)
                || !flow_match_equal(&a->match, &b->match))
                continue;
            size_t old = path_key(c, "flowrules");
            path_idx(c, i);
            path_key(c, "match");
            r = fail(c, -EINVAL, "flowrule \"%s\" has the same port_in, "
                     "match and priority (%u) as flowrule \"%s\" "
                     "(flowrules[%zu]): OpenFlow cannot hold both; give "
                     "one a different priority or merge their outputs",
                     a->id, (unsigned) a->priority, b->id,
                     (size_t) slots[s]);
            path_pop(c, old);
            break;
        }
        if (r == 0)
            slots[s] = (uint32_t) i;
    }
    free(slots);
    return r;
}

/* ---- The graph. ---- */

/* Parses array member 'key' of 'o' with 'fn' into '*items' (counted in
 * '*n', kept up to date so that graph_free() releases a partial array). */
#define PARSE_ARRAY(C, O, KEY, MAX, WHAT, ITEMS, N, FN, IX)             \
    ({                                                                  \
        json_object *arr_;                                              \
        size_t n_ = 0, old_;                                            \
        int r_ = member((C), (O), (KEY), false, &arr_);                 \
        if (r_ > 0) {                                                   \
            old_ = path_key((C), (KEY));                                \
            r_ = get_array((C), arr_, (MAX), (WHAT), &n_);              \
            if (r_ == 0 && n_) {                                        \
                idx_init((IX), n_);                                     \
                *(ITEMS) = xcalloc(n_, sizeof **(ITEMS));               \
                for (size_t i_ = 0; i_ < n_ && r_ == 0; i_++) {         \
                    size_t o2_ = path_idx((C), i_);                     \
                    *(N) = i_ + 1;                                      \
                    r_ = FN((C), json_object_array_get_idx(arr_, i_),   \
                            i_, &(*(ITEMS))[i_]);                       \
                    path_pop((C), o2_);                                 \
                }                                                       \
            }                                                           \
            path_pop((C), old_);                                        \
        }                                                               \
        r_ < 0 ? r_ : 0;                                                \
    })

static size_t
count_ports(json_object *sffg)
{
    json_object *sfs, *ports;
    size_t n = 0;

    if (!json_object_object_get_ex(sffg, "SFs", &sfs)
        || !json_object_is_type(sfs, json_type_array) || !sfs)
        return 0;
    for (size_t i = 0; i < json_object_array_length(sfs); i++) {
        json_object *sf = json_object_array_get_idx(sfs, i);
        if (json_object_is_type(sf, json_type_object) && sf
            && json_object_object_get_ex(sf, "ports", &ports)
            && json_object_is_type(ports, json_type_array) && ports)
            n += json_object_array_length(ports);
    }
    return n;
}

static int
parse_graph(struct pctx *c, json_object *root, const struct graph_limits *lim)
{
    static const char *const root_keys[] = { "sffg", NULL };
    static const char *const keys[] = {
        "id", "name", "SFs", "saps", "flowrules", NULL,
    };
    struct graph *g = c->g;
    json_object *sffg, *v;
    const char *s;
    int r;

    if ((r = expect_type(c, root, json_type_object, "an object")) < 0
        || (r = check_keys(c, root, root_keys)) < 0
        || (r = member(c, root, "sffg", true, &sffg)) < 0)
        return r;
    path_key(c, "sffg");
    if ((r = expect_type(c, sffg, json_type_object, "an object")) < 0
        || (r = check_keys(c, sffg, keys)) < 0
        || (r = member(c, sffg, "id", true, &v)) < 0
        || (r = MEMBER_GET(c, v, "id", get_id, &s)) < 0)
        return r;
    g->id = xstrdup(s);
    if ((r = member(c, sffg, "name", false, &v)) < 0)
        return r;
    if (r) {
        if ((r = MEMBER_GET(c, v, "name", get_text, &s)) < 0)
            return r;
        g->name = xstrdup(s);
    }

    /* Check every limit before parsing anything big. */
    static const char *const arrays[] = { "SFs", "saps", "flowrules" };
    const size_t maxes[] = {
        lim ? lim->max_sfs : 0, lim ? lim->max_saps : 0,
        lim ? lim->max_flowrules : 0,
    };
    for (size_t i = 0; i < ARRAY_SIZE(arrays); i++) {
        size_t n;
        if (!json_object_object_get_ex(sffg, arrays[i], &v))
            continue;
        size_t old = path_key(c, arrays[i]);
        r = get_array(c, v, maxes[i], arrays[i], &n);
        path_pop(c, old);
        if (r < 0)
            return r;
    }

    idx_init(&c->ports, count_ports(sffg));
    if ((r = PARSE_ARRAY(c, sffg, "SFs", maxes[0], "SFs", &g->sfs,
                         &g->n_sfs, parse_sf, &c->sfs)) < 0)
        return r;
    if (!c->sfs.slots)
        idx_init(&c->sfs, 0);
    idx_init(&c->sap_ifs, json_object_object_get_ex(sffg, "saps", &v)
                          && json_object_is_type(v, json_type_array) && v
                          ? json_object_array_length(v) : 0);
    if ((r = PARSE_ARRAY(c, sffg, "saps", maxes[1], "SAPs", &g->saps,
                         &g->n_saps, parse_sap, &c->saps)) < 0)
        return r;
    if (!c->saps.slots)
        idx_init(&c->saps, 0);
    if ((r = PARSE_ARRAY(c, sffg, "flowrules", maxes[2], "flowrules",
                         &g->flowrules, &g->n_flowrules, parse_flowrule,
                         &c->rules)) < 0)
        return r;
    return check_rule_clashes(c);
}

int
graph_from_json(json_object *root, const struct graph_limits *lim,
                struct graph **ret_graph, struct corch_err *err)
{
    struct pctx c = { .err = err };
    int r;

    c.g = xcalloc(1, sizeof *c.g);
    r = parse_graph(&c, root, lim);
    idx_destroy(&c.sfs);
    idx_destroy(&c.ports);
    idx_destroy(&c.saps);
    idx_destroy(&c.rules);
    idx_destroy(&c.sap_ifs);
    for (size_t i = 0; i < c.n_sap_keys; i++)
        free(c.sap_keys[i]);
    free(c.sap_keys);
    if (r < 0) {
        LOG_DBG("graph rejected: %s", err ? err->msg : "");
        graph_free(c.g);
        return r;
    }
    *ret_graph = c.g;
    return 0;
}

static void
json_putp(json_object **o)
{
    json_object_put(*o);
}

int
graph_json_parse(const char *text, size_t len, unsigned int max_depth,
                 json_object **ret_root, struct corch_err *err)
{
    _cleanup_(json_putp) json_object *root = NULL;
    struct json_tokener *tok;
    enum json_tokener_error jerr;
    size_t end;
    int r;

    if (!text || len == 0)
        return corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, "",
                              "invalid JSON: the document is empty");
    if (len > INT32_MAX)
        return corch_err_setk(err, CORCH_ERR_TOO_LARGE, -E2BIG, "",
                              "document too large");
    if (max_depth == 0 || max_depth > INT32_MAX)
        max_depth = JSON_TOKENER_DEFAULT_DEPTH;
    tok = json_tokener_new_ex((int) max_depth);
    if (!tok)
        return corch_err_set(err, -ENOMEM, "", "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    root = json_tokener_parse_ex(tok, text, (int) len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);

    if (jerr == json_tokener_continue || (jerr == json_tokener_success
                                          && !root && len == 0))
        return corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, "",
                              "invalid JSON: document is truncated or empty");
    if (jerr == json_tokener_error_depth)
        return corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, "",
                              "invalid JSON: nested deeper than %u levels",
                              max_depth);
    if (jerr != json_tokener_success)
        return corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, "",
                              "invalid JSON at byte %zu: %s", end,
                              json_tokener_error_desc(jerr));
    for (size_t i = end; i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r'
            && text[i] != '\n')
            return corch_err_setk(err, CORCH_ERR_INVALID, -EINVAL, "",
                                  "invalid JSON: trailing garbage at byte "
                                  "%zu", i);
    /* json-c keeps invalid UTF-8 and cuts member names at a "\u0000":
     * the text is where both show. */
    if ((r = json_text_check(text, end, err)) < 0)
        return r;
    *ret_root = TAKE_PTR(root);
    return 0;
}

int
graph_parse(const char *text, size_t len, unsigned int max_depth,
            const struct graph_limits *lim, struct graph **ret_graph,
            struct corch_err *err)
{
    _cleanup_(json_putp) json_object *root = NULL;
    int r = graph_json_parse(text, len, max_depth, &root, err);
    if (r < 0)
        return r;
    return graph_from_json(root, lim, ret_graph, err);
}
