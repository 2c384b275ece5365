/* The un-orchestrator's NF-FG, translated to and from the SF-FG.
 *
 * The way in rewrites the NF-FG tree into an SF-FG tree, element for
 * element and in the same order, and hands it to graph_from_json(): there
 * is one validator, so an NF-FG means exactly what the equivalent SF-FG
 * means.  Because the order is kept, an SF-FG error path maps back onto
 * the NF-FG field the client wrote; nffg_path() does that, looking at the
 * original document where one SF-FG key has several NF-FG spellings
 * ("ipv4" / "IPv4", "icmpv4_type" / "icmpv6_type"). */
#include <config.h>
#include "nffg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

LOG_MODULE(nffg);

static void
json_putp(json_object **o)
{
    json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* Keys the un-orchestrator accepts that carry nothing c-orch needs (GUI
 * layout, placement hints, addresses it assigns itself): dropped. */
static const char *const ignored_keys[] = {
    "gui-position", "domain", "groups", "mac", "trusted", "unify-ip",
    "node-id", "ttl", "description", NULL,
};

static bool
is_ignored(const char *key)
{
    for (const char *const *k = ignored_keys; *k; k++)
        if (!strcmp(*k, key))
            return true;
    return false;
}

/* NF-FG key -> SF-FG key, for keys whose spelling differs. */
struct rename {
    const char *nffg;           /* As the un-orchestrator spells it. */
    const char *sffg;           /* As the SF-FG spells it. */
};

static const struct rename match_renames[] = {
    { "icmpv4_type", "icmp_type" }, { "icmpv4_code", "icmp_code" },
    { "icmpv6_type", "icmp_type" }, { "icmpv6_code", "icmp_code" },
    { NULL, NULL },
};

static const struct rename action_renames[] = {
    { "set_ethernet_src_address", "set_source_mac" },
    { "set_ethernet_dst_address", "set_dest_mac" },
    { "set_ip_src_address", "set_source_ip" },
    { "set_ip_dst_address", "set_dest_ip" },
    { NULL, NULL },
};

static const char *
rename_key(const struct rename *t, const char *key)
{
    for (; t->nffg; t++)
        if (!strcmp(t->nffg, key))
            return t->sffg;
    return key;
}

/* ---- NF-FG -> SF-FG tree. ---- */

struct xctx {
    struct corch_err *err;      /* Where a translation error goes. */
};

static int
xfail(struct xctx *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
xfail(struct xctx *x, const char *path, const char *fmt, ...)
{
    char msg[CORCH_ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return corch_err_setk(x->err, CORCH_ERR_INVALID, -EINVAL, path, "%s",
                          msg);
}

static bool
is_object(json_object *o)
{
    return o && json_object_is_type(o, json_type_object);
}

static bool
is_array(json_object *o)
{
    return o && json_object_is_type(o, json_type_array);
}

/* "endpoint:<id>" -> "service-access-point:<id>", "vnf:<id>:<port>" ->
 * "sf:<id>:<port>".  Anything else is passed unchanged for the SF-FG
 * validator to reject with its own message. */
static json_object *
translate_ref(json_object *o)
{
    const char *s;

    if (!o || !json_object_is_type(o, json_type_string))
        return json_object_get(o);
    s = json_object_get_string(o);
    if (!strncmp(s, "endpoint:", 9)) {
        _cleanup_free_ char *t = xasprintf("service-access-point:%s", s + 9);
        return json_object_new_string(t);
    }
    if (!strncmp(s, "vnf:", 4)) {
        _cleanup_free_ char *t = xasprintf("sf:%s", s + 4);
        return json_object_new_string(t);
    }
    return json_object_get(o);
}

/* Copies the members of 'in' to a new object, dropping ignored keys and
 * renaming with 't' (may be NULL). */
static json_object *
copy_members(json_object *in, const struct rename *t)
{
    json_object *out = json_object_new_object();
    json_object_object_foreach(in, key, val) {
        if (is_ignored(key))
            continue;
        json_object_object_add(out, t ? rename_key(t, key) : key,
                               json_object_get(val));
    }
    return out;
}

static int
translate_vnf(struct xctx *x, json_object *in, const char *path,
              json_object **ret)
{
    json_object *out, *ports;

    if (!is_object(in)) {
        *ret = json_object_get(in);
        return 0;
    }
    json_object_object_foreach(in, key, val) {
        (void) val;
        if (!strcmp(key, "unify-control") || !strcmp(key, "unify-env-variables")) {
            _cleanup_free_ char *p = xasprintf("%s.%s", path, key);
            return xfail(x, p, "\"%s\" is not supported by c-orch", key);
        }
    }
    out = json_object_new_object();
    json_object_object_foreach(in, k, v) {
        if (is_ignored(k))
            continue;
        if (!strcmp(k, "ports") && is_array(v)) {
            ports = json_object_new_array();
            for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *p = json_object_array_get_idx(v, i);
                json_object_array_add(ports, is_object(p)
                                      ? copy_members(p, NULL)
                                      : json_object_get(p));
            }
            json_object_object_add(out, "ports", ports);
        } else
            json_object_object_add(out, !strcmp(k, "vnf_template")
                                        ? "template" : k,
                                   json_object_get(v));
    }
    *ret = out;
    return 0;
}

static int
translate_endpoint(struct xctx *x, json_object *in, const char *path,
                   json_object **ret)
{
    json_object *out;

    if (!is_object(in)) {
        *ret = json_object_get(in);
        return 0;
    }
    out = json_object_new_object();
    json_object_object_foreach(in, k, v) {
        if (is_ignored(k))
            continue;
        if (!strcmp(k, "type") && v && json_object_is_type(v, json_type_string)
            && !strcmp(json_object_get_string(v), "gre-tunnel")) {
            json_object_object_add(out, "type", json_object_new_string("gre"));
        } else if (!strcmp(k, "gre-tunnel") && is_object(v)) {
            json_object *secure;
            if (json_object_object_get_ex(v, "secure", &secure)
                && json_object_get_boolean(secure)) {
                _cleanup_free_ char *p = xasprintf("%s.gre-tunnel.secure",
                                                   path);
                json_object_put(out);
                return xfail(x, p, "secure (IPsec) GRE tunnels are not "
                             "supported by c-orch");
            }
            json_object *body = json_object_new_object();
            json_object_object_foreach(v, bk, bv) {
                if (!is_ignored(bk) && strcmp(bk, "secure"))
                    json_object_object_add(body, bk, json_object_get(bv));
            }
            json_object_object_add(out, "gre", body);
        } else if (!strcmp(k, "host-stack") && is_object(v)) {
            json_object *body = json_object_new_object();
            json_object_object_foreach(v, bk, bv) {
                if (is_ignored(bk))
                    continue;
                json_object_object_add(body, !strcmp(bk, "IPv4") ? "ipv4"
                                                                 : bk,
                                       json_object_get(bv));
            }
            json_object_object_add(out, "host-stack", body);
        } else if (is_object(v) && (!strcmp(k, "interface")
                                    || !strcmp(k, "vlan")
                                    || !strcmp(k, "internal"))) {
            json_object_object_add(out, k, copy_members(v, NULL));
        } else
            json_object_object_add(out, k, json_object_get(v));
    }
    *ret = out;
    return 0;
}

static json_object *
translate_action(json_object *in)
{
    json_object *out;

    if (!is_object(in))
        return json_object_get(in);
    out = json_object_new_object();
    json_object_object_foreach(in, k, v) {
        if (!strcmp(k, "output_to_port")) {
            if (is_array(v)) {
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < json_object_array_length(v); i++)
                    json_object_array_add(
                        arr, translate_ref(json_object_array_get_idx(v, i)));
                json_object_object_add(out, k, arr);
            } else
                json_object_object_add(out, k, translate_ref(v));
        } else
            json_object_object_add(out, rename_key(action_renames, k),
                                   json_object_get(v));
    }
    return out;
}

static int
translate_rule(struct xctx *x, json_object *in, const char *path,
               json_object **ret)
{
    json_object *out;

    if (!is_object(in)) {
        *ret = json_object_get(in);
        return 0;
    }
    out = json_object_new_object();
    json_object_object_foreach(in, k, v) {
        if (is_ignored(k))
            continue;
        if (!strcmp(k, "match") && is_object(v)) {
            json_object *m = json_object_new_object();
            json_object_object_foreach(v, mk, mv) {
                if (!strcmp(mk, "hard_timeout")) {
                    _cleanup_free_ char *p = xasprintf("%s.match.%s", path,
                                                       mk);
                    json_object_put(m);
                    json_object_put(out);
                    return xfail(x, p, "\"%s\" is not supported by c-orch",
                                 mk);
                }
                if (!strcmp(mk, "port_in"))
                    json_object_object_add(m, mk, translate_ref(mv));
                else
                    json_object_object_add(m, rename_key(match_renames, mk),
                                           json_object_get(mv));
            }
            json_object_object_add(out, "match", m);
        } else if (!strcmp(k, "actions") && is_array(v)) {
            json_object *a = json_object_new_array();
            for (size_t i = 0; i < json_object_array_length(v); i++)
                json_object_array_add(
                    a, translate_action(json_object_array_get_idx(v, i)));
            json_object_object_add(out, "actions", a);
        } else if (!strcmp(k, "actions") && is_object(v))
            json_object_object_add(out, "actions", translate_action(v));
        else
            json_object_object_add(out, k, json_object_get(v));
    }
    *ret = out;
    return 0;
}

typedef int translate_fn(struct xctx *, json_object *, const char *,
                         json_object **);

/* Translates the array 'in' (at NF-FG 'path') element by element. */
static int
translate_array(struct xctx *x, json_object *in, const char *path,
                translate_fn *fn, json_object **ret)
{
    json_object *out;

    if (!is_array(in)) {
        /* Let the SF-FG validator say "must be an array". */
        *ret = json_object_get(in);
        return 0;
    }
    out = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(in); i++) {
        _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
        json_object *el;
        int r = fn(x, json_object_array_get_idx(in, i), p, &el);
        if (r < 0) {
            json_object_put(out);
            return r;
        }
        json_object_array_add(out, el);
    }
    *ret = out;
    return 0;
}

static int
translate_graph(struct xctx *x, json_object *root, const char *id,
                json_object **ret)
{
    static const char *const keys[] = {
        "id", "name", "description", "VNFs", "end-points", "big-switch",
        NULL,
    };
    _cleanup_json_ json_object *sffg = json_object_new_object();
    json_object *fg, *v, *arr;
    int r;

    if (!is_object(root))
        return xfail(x, "", "an NF-FG must be a JSON object");
    json_object_object_foreach(root, rk, rv) {
        (void) rv;
        if (strcmp(rk, "forwarding-graph"))
            return xfail(x, rk, "unknown key \"%s\"", rk);
    }
    if (!json_object_object_get_ex(root, "forwarding-graph", &fg))
        return xfail(x, "forwarding-graph", "is required");
    if (!is_object(fg))
        return xfail(x, "forwarding-graph", "must be an object");
    json_object_object_foreach(fg, k, val) {
        const char *const *a;
        (void) val;
        for (a = keys; *a; a++)
            if (!strcmp(*a, k))
                break;
        if (!*a) {
            _cleanup_free_ char *p = xasprintf("forwarding-graph.%s", k);
            return xfail(x, p, "unknown key \"%s\"", k);
        }
    }

    json_object_object_add(sffg, "id", json_object_new_string(id ? id : ""));
    if (json_object_object_get_ex(fg, "name", &v))
        json_object_object_add(sffg, "name", json_object_get(v));
    if (json_object_object_get_ex(fg, "VNFs", &v)) {
        if ((r = translate_array(x, v, "forwarding-graph.VNFs", translate_vnf,
                                 &arr)) < 0)
            return r;
        json_object_object_add(sffg, "SFs", arr);
    }
    if (json_object_object_get_ex(fg, "end-points", &v)) {
        if ((r = translate_array(x, v, "forwarding-graph.end-points",
                                 translate_endpoint, &arr)) < 0)
            return r;
        json_object_object_add(sffg, "saps", arr);
    }
    if (json_object_object_get_ex(fg, "big-switch", &v)) {
        json_object *rules;
        if (!is_object(v))
            return xfail(x, "forwarding-graph.big-switch",
                         "must be an object");
        json_object_object_foreach(v, bk, bv) {
            (void) bv;
            if (strcmp(bk, "flow-rules")) {
                _cleanup_free_ char *p =
                    xasprintf("forwarding-graph.big-switch.%s", bk);
                return xfail(x, p, "unknown key \"%s\"", bk);
            }
        }
        if (json_object_object_get_ex(v, "flow-rules", &rules)) {
            if ((r = translate_array(x, rules,
                                     "forwarding-graph.big-switch.flow-rules",
                                     translate_rule, &arr)) < 0)
                return r;
            json_object_object_add(sffg, "flowrules", arr);
        }
    }
    json_object *out = json_object_new_object();
    json_object_object_add(out, "sffg", TAKE_PTR(sffg));
    *ret = out;
    return 0;
}

/* ---- SF-FG error path -> NF-FG path. ---- */

/* One step of a path: a key or an index. */
struct seg {
    char key[CORCH_ERR_PATH_MAX]; /* The key, "" for an index. */
    size_t index;               /* The index when 'key' is "". */
};

static size_t
split_path(const char *path, struct seg *segs, size_t max)
{
    size_t n = 0;
    const char *p = path;

    while (*p && n < max) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            segs[n].key[0] = '\0';
            segs[n].index = strtoul(p + 1, NULL, 10);
            n++;
            p = strchr(p, ']');
            if (!p)
                break;
            p++;
            continue;
        }
        size_t len = strcspn(p, ".[");
        if (len >= sizeof segs[n].key)
            len = sizeof segs[n].key - 1;
        memcpy(segs[n].key, p, len);
        segs[n].key[len] = '\0';
        segs[n].index = 0;
        n++;
        p += strcspn(p, ".[");
    }
    return n;
}

/* The NF-FG spelling of SF-FG key 'key' in NF-FG object 'o': the first
 * spelling in 't' that 'o' has, else the first one 't' lists. */
static const char *
nffg_key(json_object *o, const struct rename *t, const char *key)
{
    const char *first = NULL;
    for (; t && t->nffg; t++) {
        if (strcmp(t->sffg, key))
            continue;
        if (!first)
            first = t->nffg;
        if (is_object(o) && json_object_object_get_ex(o, t->nffg, NULL))
            return t->nffg;
    }
    if (is_object(o) && json_object_object_get_ex(o, key, NULL))
        return key;
    return first ? first : key;
}

/* Member 'key' of 'o' if 'o' is an object, else NULL. */
static json_object *
child(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (is_object(o))
        json_object_object_get_ex(o, key, &v);
    return v;
}

static json_object *
element(json_object *o, size_t i)
{
    return is_array(o) && i < json_object_array_length(o)
           ? json_object_array_get_idx(o, i) : NULL;
}

/* Maps an SF-FG path ("sffg.flowrules[2].actions[0].set_source_mac") onto
 * the NF-FG the client sent ("forwarding-graph.big-switch.flow-rules[2].
 * actions[0].set_ethernet_src_address").  The translation keeps the order
 * of every array, so indices carry over unchanged. */
static void
nffg_path(json_object *root, const char *sffg_path, char *out, size_t size)
{
    static const struct rename vnf_keys[] = {
        { "vnf_template", "template" }, { NULL, NULL },
    };
    static const struct rename hs_keys[] = {
        { "IPv4", "ipv4" }, { NULL, NULL },
    };
    enum { MAX_SEGS = 16 };
    struct seg *segs = xcalloc(MAX_SEGS, sizeof *segs);
    const char *names[MAX_SEGS] = { NULL };
    size_t n = split_path(sffg_path, segs, MAX_SEGS);
    json_object *fg = child(root, "forwarding-graph"), *item = NULL;
    const char *section = n > 1 ? segs[1].key : "";
    size_t len = 0;

    for (size_t i = 0; i < n; i++)
        names[i] = segs[i].key;
    if (n > 0 && !strcmp(names[0], "sffg"))
        names[0] = "forwarding-graph";
    if (n > 1) {
        if (!strcmp(section, "SFs"))
            names[1] = "VNFs";
        else if (!strcmp(section, "saps"))
            names[1] = "end-points";
        else if (!strcmp(section, "flowrules"))
            names[1] = "big-switch.flow-rules";
    }
    if (n > 3 && !segs[2].key[0]) {
        json_object *arr = !strcmp(section, "flowrules")
                           ? child(child(fg, "big-switch"), "flow-rules")
                           : child(fg, names[1]);
        item = element(arr, segs[2].index);
        if (!strcmp(section, "SFs"))
            names[3] = nffg_key(item, vnf_keys, names[3]);
        else if (!strcmp(section, "saps")) {
            if (!strcmp(names[3], "gre"))
                names[3] = "gre-tunnel";
            if (n > 4 && !strcmp(names[3], "host-stack"))
                names[4] = nffg_key(child(item, "host-stack"), hs_keys,
                                    names[4]);
        } else if (!strcmp(section, "flowrules") && n > 4) {
            if (!strcmp(names[3], "match"))
                names[4] = nffg_key(child(item, "match"), match_renames,
                                    names[4]);
            else if (!strcmp(names[3], "actions") && segs[4].key[0])
                names[4] = nffg_key(child(item, "actions"), action_renames,
                                    names[4]);
            else if (!strcmp(names[3], "actions") && n > 5)
                names[5] = nffg_key(element(child(item, "actions"),
                                            segs[4].index),
                                    action_renames, names[5]);
        }
    }

    out[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        int w = segs[i].key[0]
                ? snprintf(out + len, size - len, "%s%s", len ? "." : "",
                           names[i])
                : snprintf(out + len, size - len, "[%zu]", segs[i].index);
        if (w < 0)
            break;
        len += (size_t) w;
    }
    free(segs);
}

/* Rewrites quoted SF-FG references in an error message into the NF-FG
 * spelling the client used ("sf:x:p" -> "vnf:x:p"). */
static void
nffg_message(const char *in, char *out, size_t size)
{
    static const struct rename refs[] = {
        { "\"endpoint:", "\"service-access-point:" },
        { "\"vnf:", "\"sf:" },
        { NULL, NULL },
    };
    size_t len = 0;

    while (*in && len + 1 < size) {
        const struct rename *t;
        for (t = refs; t->nffg; t++)
            if (!strncmp(in, t->sffg, strlen(t->sffg)))
                break;
        if (t->nffg) {
            size_t n = strlen(t->nffg);
            if (len + n >= size)
                break;
            memcpy(out + len, t->nffg, n);
            len += n;
            in += strlen(t->sffg);
        } else
            out[len++] = *in++;
    }
    out[len] = '\0';
}

int
nffg_to_graph(json_object *root, const char *id,
              const struct graph_limits *lim, struct graph **ret_graph,
              struct corch_err *err)
{
    struct xctx x = { .err = err };
    _cleanup_json_ json_object *sffg = NULL;
    struct corch_err inner = { .path = "", .msg = "" };
    int r;

    r = translate_graph(&x, root, id, &sffg);
    if (r < 0)
        return r;
    r = graph_from_json(sffg, lim, ret_graph, &inner);
    if (r < 0) {
        char path[CORCH_ERR_PATH_MAX];
        nffg_path(root, inner.path, path, sizeof path);
        LOG_DBG("NF-FG rejected at %s (SF-FG %s): %s", path, inner.path,
                inner.msg);
        char msg[CORCH_ERR_MSG_MAX];
        nffg_message(inner.msg, msg, sizeof msg);
        /* Invalid or too large, as the SF-FG parser found it. */
        return corch_err_setk(err, inner.kind, r, path, "%s", msg);
    }
    return 0;
}

int
nffg_parse(const char *text, size_t len, unsigned int max_depth,
           const char *id, const struct graph_limits *lim,
           struct graph **ret_graph, struct corch_err *err)
{
    _cleanup_json_ json_object *root = NULL;
    int r = graph_json_parse(text, len, max_depth, &root, err);
    if (r < 0)
        return r;
    return nffg_to_graph(root, id, lim, ret_graph, err);
}

/* ---- graph -> NF-FG. ---- */

static json_object *
ref_to_nffg(const struct graph *g, const struct graph_port_ref *p)
{
    char buf[3 * 64 + 32];
    if (p->kind == GRAPH_PORT_SAP)
        snprintf(buf, sizeof buf, "endpoint:%s", g->saps[p->sap].id);
    else
        snprintf(buf, sizeof buf, "vnf:%s:%s", g->sfs[p->sf].id,
                 g->sfs[p->sf].ports[p->port].id);
    return json_object_new_string(buf);
}

static json_object *
single(const char *key, json_object *val)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, key, val);
    return o;
}

json_object *
nffg_from_graph(const struct graph *g)
{
    _cleanup_json_ json_object *s = graph_to_json(g);
    json_object *sffg = json_object_object_get(s, "sffg");
    json_object *fg = json_object_new_object();
    json_object *vnfs = json_object_new_array();
    json_object *eps = json_object_new_array();
    json_object *rules = json_object_new_array();
    json_object *in;

    json_object_object_add(fg, "id", json_object_new_string(g->id));
    if (g->name)
        json_object_object_add(fg, "name", json_object_new_string(g->name));

    in = json_object_object_get(sffg, "SFs");
    for (size_t i = 0; i < json_object_array_length(in); i++) {
        json_object *sf = json_object_array_get_idx(in, i);
        json_object *vnf = json_object_new_object();
        json_object_object_foreach(sf, k, v)
            json_object_object_add(vnf, !strcmp(k, "template")
                                        ? "vnf_template" : k,
                                   json_object_get(v));
        json_object_array_add(vnfs, vnf);
    }

    in = json_object_object_get(sffg, "saps");
    for (size_t i = 0; i < json_object_array_length(in); i++) {
        json_object *sap = json_object_array_get_idx(in, i);
        json_object *ep = json_object_new_object();
        json_object_object_foreach(sap, k, v) {
            if (!strcmp(k, "type") && g->saps[i].type == GRAPH_SAP_GRE)
                json_object_object_add(ep, k,
                                       json_object_new_string("gre-tunnel"));
            else
                json_object_object_add(ep, !strcmp(k, "gre") ? "gre-tunnel"
                                                             : k,
                                       json_object_get(v));
        }
        json_object_array_add(eps, ep);
    }

    in = json_object_object_get(sffg, "flowrules");
    for (size_t i = 0; i < json_object_array_length(in); i++) {
        const struct graph_flowrule *r = &g->flowrules[i];
        json_object *sr = json_object_array_get_idx(in, i);
        json_object *rule = json_object_new_object();
        json_object *m = json_object_new_object();
        json_object *a = json_object_new_array();

        json_object_object_add(rule, "id", json_object_new_string(r->id));
        json_object_object_add(rule, "priority",
                               json_object_new_int(r->priority));
        json_object_object_add(m, "port_in", ref_to_nffg(g, &r->port_in));
        json_object_object_foreach(json_object_object_get(sr, "match"), mk,
                                   mv) {
            const char *key = mk;
            if (!strcmp(mk, "port_in"))
                continue;
            /* The un-orchestrator names ICMP fields per IP version. */
            if (!strcmp(mk, "icmp_type"))
                key = r->match.protocol == 58 ? "icmpv6_type"
                                              : "icmpv4_type";
            else if (!strcmp(mk, "icmp_code"))
                key = r->match.protocol == 58 ? "icmpv6_code"
                                              : "icmpv4_code";
            json_object_object_add(m, key, json_object_get(mv));
        }
        json_object_object_add(rule, "match", m);

        for (size_t k = 0; k < r->n_outputs; k++)
            json_object_array_add(a, single("output_to_port",
                                            ref_to_nffg(g, &r->outputs[k])));
        json_object_object_foreach(json_object_object_get(sr, "actions"), ak,
                                   av) {
            const char *key = ak;
            if (!strcmp(ak, "output_to_port"))
                continue;
            for (const struct rename *t = action_renames; t->nffg; t++)
                if (!strcmp(t->sffg, ak))
                    key = t->nffg;
            json_object_array_add(a, single(key, json_object_get(av)));
        }
        json_object_object_add(rule, "actions", a);
        json_object_array_add(rules, rule);
    }

    json_object_object_add(fg, "VNFs", vnfs);
    json_object_object_add(fg, "end-points", eps);
    json_object *bs = json_object_new_object();
    json_object_object_add(bs, "flow-rules", rules);
    json_object_object_add(fg, "big-switch", bs);
    return single("forwarding-graph", fg);
}
