#include <config.h>
#include "corch-config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

enum config_type { CT_STRING, CT_BOOL, CT_UINT, CT_U16, CT_SIZE };

struct config_key {
    const char *name;           /* "section.key". */
    enum config_type type;      /* How the value is parsed. */
    size_t offset;              /* Member of struct corch_config. */
    const char *def;            /* Default, as text; NULL: unset. */
    uint64_t min, max;          /* Range of numeric keys. */
};

#define K(NAME, TYPE, MEMBER, DEF, MIN, MAX) \
    { NAME, TYPE, offsetof(struct corch_config, MEMBER), DEF, MIN, MAX }

static const struct config_key config_keys[] = {
    K("rest.address", CT_STRING, rest_address, "127.0.0.1", 0, 0),
    K("rest.port", CT_U16, rest_port, "8080", 1, 65535),
    K("rest.tls_cert", CT_STRING, rest_tls_cert, NULL, 0, 0),
    K("rest.tls_key", CT_STRING, rest_tls_key, NULL, 0, 0),
    K("rest.threads", CT_UINT, rest_threads, "4", 1, 64),
    K("security.auth", CT_BOOL, security_auth, "true", 0, 0),
    K("security.admin_password", CT_STRING, security_admin_password, NULL, 0, 0),
    K("security.token_lifetime", CT_UINT, security_token_lifetime, "3600", 10, 31536000),
    K("state.dir", CT_STRING, state_dir, "/var/lib/c-orch", 0, 0),
    K("node.id", CT_STRING, node_id, NULL, 0, 0),
    K("node.name", CT_STRING, node_name, NULL, 0, 0),
    K("node.neighbours", CT_STRING, node_neighbours, NULL, 0, 0),
    K("log.level", CT_STRING, log_level, "info", 0, 0),
    K("vswitch.driver", CT_STRING, vswitch_driver, "ovs", 0, 0),
    K("vswitch.ovsdb", CT_STRING, vswitch_ovsdb, "unix:/run/openvswitch/db.sock", 0, 0),
    K("vswitch.datapath_type", CT_STRING, vswitch_datapath_type, NULL, 0, 0),
    K("vswitch.interfaces", CT_STRING, vswitch_interfaces, "", 0, 0),
    K("compute.drivers", CT_STRING, compute_drivers, "native", 0, 0),
    K("compute.timeout", CT_UINT, compute_timeout, "30", 1, 3600),
    K("compute.engine_order", CT_STRING, compute_engine_order, NULL, 0, 0),
    K("repository.path", CT_STRING, repository_path, CORCH_DATADIR "/sf-repository", 0, 0),
    K("repository.url", CT_STRING, repository_url, NULL, 0, 0),
    K("bus.endpoint", CT_STRING, bus_endpoint, "tcp://127.0.0.1:5555", 0, 0),
    K("bus.mode", CT_STRING, bus_mode, "embedded", 0, 0),
    K("bus.topic_prefix", CT_STRING, bus_topic_prefix, "corch", 0, 0),
    K("bus.heartbeat", CT_UINT, bus_heartbeat, "30", 0, 86400),
    K("bus.curve", CT_BOOL, bus_curve, "false", 0, 0),
    K("bus.curve_secret_key", CT_STRING, bus_curve_secret_key, NULL, 0, 0),
    K("bus.curve_clients", CT_STRING, bus_curve_clients, NULL, 0, 0),
    K("bus.curve_server_key", CT_STRING, bus_curve_server_key, NULL, 0, 0),
    K("bus.resource_step", CT_UINT, bus_resource_step, "10", 0, 100),
    K("bus.check_interval", CT_UINT, bus_check_interval, "5", 0, 86400),
    K("limits.max_body_bytes", CT_SIZE, limits_max_body_bytes, "4194304", 1024, 1073741824),
    K("limits.max_json_depth", CT_UINT, limits_max_json_depth, "32", 4, 1000),
    K("limits.max_sfs", CT_UINT, limits_max_sfs, "1000", 0, 100000),
    K("limits.max_flowrules", CT_UINT, limits_max_flowrules, "20000", 0, 1000000),
    K("limits.max_graphs", CT_UINT, limits_max_graphs, "1000", 1, 100000),
};

static const struct config_key *
config_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++)
        if (!strcmp(config_keys[i].name, name))
            return &config_keys[i];
    return NULL;
}

static int
config_assign(struct corch_config *cfg, const struct config_key *k,
              const char *value, struct corch_err *err)
{
    char *base = (char *) cfg + k->offset;
    uint64_t v;
    int r;

    switch (k->type) {
    case CT_STRING: {
        char **s = (char **) base;
        free(*s);
        /* An empty value of an optional key means "unset", so that
         * "tls_cert =" does not turn TLS on with no certificate. */
        *s = value && (*value || k->def) ? xstrdup(value) : NULL;
        return 0;
    }
    case CT_BOOL: {
        bool *b = (bool *) base;
        if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1"))
            *b = true;
        else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0"))
            *b = false;
        else
            return corch_err_set(err, -EINVAL, k->name,
                                 "%s: \"%s\" is not a boolean (true or false)",
                                 k->name, value);
        return 0;
    }
    case CT_UINT:
    case CT_U16:
    case CT_SIZE:
        r = parse_uint(value, UINT64_MAX, &v);
        if (r < 0 || v < k->min || v > k->max)
            return corch_err_set(err, -EINVAL, k->name,
                                 "%s: \"%s\" is not a number in [%llu, %llu]",
                                 k->name, value, (unsigned long long) k->min,
                                 (unsigned long long) k->max);
        if (k->type == CT_UINT)
            *(unsigned int *) base = (unsigned int) v;
        else if (k->type == CT_U16)
            *(uint16_t *) base = (uint16_t) v;
        else
            *(size_t *) base = (size_t) v;
        return 0;
    }
    return -EINVAL;
}

void
config_init(struct corch_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
        const struct config_key *k = &config_keys[i];
        if (k->def)
            config_assign(cfg, k, k->def, NULL);
    }
}

static int
config_set_kv(struct corch_config *cfg, const char *section, const char *key,
              const char *value, struct corch_err *err)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", section, key);
    const struct config_key *k = config_find(name);
    if (!k)
        return corch_err_set(err, -EINVAL, name, "unknown configuration key \"%s\"",
                             name);
    return config_assign(cfg, k, value, err);
}

struct config_load_ctx {
    struct corch_config *cfg;   /* Being filled. */
    struct corch_err *err;      /* First error. */
    int error;                  /* First error's errno, 0 if none. */
};

static int
config_ini_handler(void *ctx_, const char *section, const char *key,
                   const char *value)
{
    struct config_load_ctx *ctx = ctx_;
    if (ctx->error)
        return 0;
    ctx->error = config_set_kv(ctx->cfg, section, key, value, ctx->err);
    return ctx->error ? 0 : 1;
}

int
config_load_file(struct corch_config *cfg, const char *path,
                 struct corch_err *err)
{
    struct config_load_ctx ctx = { cfg, err, 0 };
    struct stat st;
    /* inih reads a directory as an empty file: refuse it explicitly. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return corch_err_set(err, -EINVAL, NULL, "%s: not a regular file", path);
    int line = ini_parse(path, config_ini_handler, &ctx);
    if (line == -1)
        return corch_err_set(err, -ENOENT, NULL, "%s: cannot open: %s", path,
                             strerror(errno));
    if (ctx.error) {
        corch_err_prefix(err, "%s:%d", path, line);
        return ctx.error;
    }
    if (line != 0)
        return corch_err_set(err, -EINVAL, NULL, "%s:%d: syntax error", path,
                             line);
    return 0;
}

int
config_set(struct corch_config *cfg, const char *assignment,
           struct corch_err *err)
{
    const char *eq = strchr(assignment, '=');
    const char *dot = strchr(assignment, '.');
    if (!eq || !dot || dot > eq)
        return corch_err_set(err, -EINVAL, NULL,
                             "--set %s: expected SECTION.KEY=VALUE", assignment);
    char section[64], key[64];
    size_t slen = (size_t) (dot - assignment), klen = (size_t) (eq - dot - 1);
    if (slen >= sizeof section || klen >= sizeof key)
        return corch_err_set(err, -EINVAL, NULL, "--set %s: key too long",
                             assignment);
    memcpy(section, assignment, slen);
    section[slen] = '\0';
    memcpy(key, dot + 1, klen);
    key[klen] = '\0';
    return config_set_kv(cfg, section, key, eq + 1, err);
}

int
config_finish(struct corch_config *cfg, struct corch_err *err)
{
    const char *pw = getenv("CORCH_ADMIN_PASSWORD");
    if (pw && *pw) {
        free(cfg->security_admin_password);
        cfg->security_admin_password = xstrdup(pw);
    }
    if (!cfg->rest_tls_cert != !cfg->rest_tls_key)
        return corch_err_set(err, -EINVAL, "rest.tls_key",
                             "rest.tls_cert and rest.tls_key go together");
    if (!cfg->state_dir || cfg->state_dir[0] != '/')
        return corch_err_set(err, -EINVAL, "state.dir",
                             "state.dir must be an absolute path");
    if (cfg->node_id && !name_is_valid_id(cfg->node_id))
        return corch_err_set(err, -EINVAL, "node.id",
                             "node.id \"%s\" must match [A-Za-z0-9_.:-]{1,64}",
                             cfg->node_id);
    enum log_level level;
    if (log_level_from_string(cfg->log_level, &level) < 0)
        return corch_err_set(err, -EINVAL, "log.level",
                             "log.level \"%s\" is not err, warn, info or debug",
                             cfg->log_level);
    if (strcmp(cfg->bus_mode, "embedded") && strcmp(cfg->bus_mode, "external"))
        return corch_err_set(err, -EINVAL, "bus.mode",
                             "bus.mode \"%s\" is not embedded or external",
                             cfg->bus_mode);
    char **ifs;
    size_t n = config_split_list(cfg->vswitch_interfaces, &ifs);
    for (size_t i = 0; i < n; i++) {
        if (!name_is_valid_ifname(ifs[i])) {
            corch_err_set(err, -EINVAL, "vswitch.interfaces",
                          "vswitch.interfaces: \"%s\" is not an interface name",
                          ifs[i]);
            strv_free(ifs);
            return -EINVAL;
        }
    }
    strv_free(ifs);
    return 0;
}

void
config_destroy(struct corch_config *cfg)
{
    for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
        if (config_keys[i].type == CT_STRING) {
            char **s = (char **) ((char *) cfg + config_keys[i].offset);
            free(*s);
            *s = NULL;
        }
    }
}

size_t
config_split_list(const char *list, char ***ret_items)
{
    size_t n = 0;
    char **items = xcalloc(1, sizeof *items);
    const char *p = list ? list : "";

    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *s = p, *e = end;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s) {
            items = xrealloc(items, (n + 2) * sizeof *items);
            items[n] = xmalloc((size_t) (e - s) + 1);
            memcpy(items[n], s, (size_t) (e - s));
            items[n][e - s] = '\0';
            n++;
            items[n] = NULL;
        }
        p = comma ? comma + 1 : end;
    }
    *ret_items = items;
    return n;
}

void
strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}
