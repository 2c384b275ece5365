/* The registry of vSwitch drivers and the only caller of their hooks: see
 * vswitch.h. */
#include <config.h>
#include "vswitch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Every vSwitch driver compiled in: drivers/driver-list.h is generated
 * from the VSWITCH_DRIVERS that the driver folders' automake.mk add. */
#define VSWITCH_DRIVER(NAME) extern const struct vswitch_class vswitch_##NAME##_class;
#define COMPUTE_DRIVER(NAME)
#include "driver-list.h"
#undef VSWITCH_DRIVER
#undef COMPUTE_DRIVER

LOG_MODULE(vswitch);

/* A handful of drivers at most: a fixed table, written at start-up only. */
static const struct vswitch_class *classes[16];
static size_t n_classes;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

const char *
vswitch_port_tech_name(enum vswitch_port_tech tech)
{
    switch (tech) {
    case VSWITCH_PORT_VETH: return "veth";
    case VSWITCH_PORT_INTERNAL: return "internal";
    case VSWITCH_PORT_TAP: return "tap";
    case VSWITCH_PORT_VHOST_USER: return "vhost-user";
    }
    return "unknown";
}

int
vswitch_register(const struct vswitch_class *class)
{
    int error = 0;
    pthread_mutex_lock(&mutex);
    for (size_t i = 0; i < n_classes; i++)
        if (!strcmp(classes[i]->type, class->type))
            error = -EEXIST;
    if (!error && n_classes >= ARRAY_SIZE(classes))
        error = -ENOSPC;
    if (!error)
        classes[n_classes++] = class;
    pthread_mutex_unlock(&mutex);
    if (error)
        LOG_ERR("cannot register vswitch driver \"%s\": %s", class->type,
                strerror(-error));
    return error;
}

static void
register_all_once(void)
{
#define VSWITCH_DRIVER(NAME) vswitch_register(&vswitch_##NAME##_class);
#define COMPUTE_DRIVER(NAME)
#include "driver-list.h"
#undef VSWITCH_DRIVER
#undef COMPUTE_DRIVER
}

void
vswitch_register_all(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_all_once);
}

const struct vswitch_class *
vswitch_lookup(const char *type)
{
    const struct vswitch_class *found = NULL;
    pthread_mutex_lock(&mutex);
    for (size_t i = 0; type && i < n_classes && !found; i++)
        if (!strcmp(classes[i]->type, type))
            found = classes[i];
    pthread_mutex_unlock(&mutex);
    return found;
}

/* --- The one caller of the hooks. --- */


/* Checks what hook 'hook' of 'vs' returned: 'error', and on success
 * whether it made every object it had to ('made').  'herr' is what the
 * hook wrote; on failure it goes to the caller's 'err' (with a message
 * made up if the driver gave none).  Returns the error for the caller. */
static int
contract(const struct vswitch *vs, const char *hook, int error, bool made,
         const struct corch_err *herr, struct corch_err *err)
{
    const char *type = vs->class->type;
    if (error > 0) {
        LOG_ERR("vswitch driver %s: %s returned %d, not a negative errno: "
                "a driver bug", type, hook, error);
        CORCH_CONTRACT_BUG();
        error = -EPROTO;
    }
    if (error) {
        if (err)
            *err = *herr;
        if (!herr->msg[0]) {
            LOG_ERR("vswitch driver %s: %s failed (%s) without a message: "
                    "a driver bug", type, hook, strerror(-error));
            CORCH_CONTRACT_BUG();
            corch_err_set(err, error, NULL, "vswitch driver %s: %s failed: "
                          "%s", type, hook, strerror(-error));
        }
        return error;
    }
    if (!made) {
        LOG_ERR("vswitch driver %s: %s succeeded without making its "
                "object: a driver bug", type, hook);
        CORCH_CONTRACT_BUG();
        return corch_err_set(err, -EPROTO, NULL, "vswitch driver %s: %s "
                             "made nothing", type, hook);
    }
    return 0;
}

/* The debug line of one call, with its duration since 't0'. */
#define TRACE(VS, HOOK, T0, FMT, ...)                                   \
    LOG_DBG("vswitch %s: " HOOK " " FMT ": %.2f ms", (VS)->class->type,  \
            __VA_ARGS__, (time_ns() - (T0)) / 1e6)

static bool
all_made(struct vswitch_port *const *ports, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ports[i])
            return false;
    return true;
}

int
vswitch_open(const char *type, const struct corch_config *cfg,
             struct vswitch **ret, struct corch_err *err)
{
    vswitch_register_all();
    const struct vswitch_class *class = vswitch_lookup(type);
    if (!class)
        return corch_err_set(err, -EINVAL, "vswitch.driver",
                             "vswitch.driver: unknown driver \"%s\"",
                             type ? type : "");
    struct corch_err herr = { .kind = CORCH_ERR_FAILED };
    struct vswitch *vs = NULL;
    uint64_t t0 = time_ns();
    int error = class->open(cfg, &vs, &herr);
    struct vswitch probe = { .class = class };
    error = contract(&probe, "open", error, vs != NULL, &herr, err);
    LOG_DBG("vswitch %s: open: %.2f ms", class->type,
            (time_ns() - t0) / 1e6);
    if (error) {
        corch_err_prefix(err, "vswitch driver %s", class->type);
        return error;
    }
    if (vs->class != class) {
        LOG_ERR("vswitch driver %s: open returned an instance of another "
                "class: a driver bug", class->type);
        CORCH_CONTRACT_BUG();
        vs->class = class;
    }
    *ret = vs;
    return 0;
}

void
vswitch_close(struct vswitch *vs)
{
    if (vs)
        vs->class->close(vs);
}

const char *
vswitch_type(const struct vswitch *vs)
{
    return vs->class->type;
}

int
vswitch_lsi0_open(struct vswitch *vs, const char *const *ifnames, size_t n,
                  struct vswitch_lsi **ret_lsi0, struct corch_err *err)
{
    struct corch_err herr = { .kind = CORCH_ERR_FAILED };
    struct vswitch_lsi *lsi0 = NULL;
    uint64_t t0 = time_ns();
    int error = vs->class->lsi0_open(vs, ifnames, n, &lsi0, &herr);
    error = contract(vs, "lsi0_open", error, lsi0 != NULL, &herr, err);
    TRACE(vs, "lsi0_open", t0, "%zu interfaces", n);
    if (!error)
        *ret_lsi0 = lsi0;
    return error;
}

int
vswitch_lsi0_port(struct vswitch *vs, struct vswitch_lsi *lsi0,
                  const char *ifname, struct vswitch_port **ret_port,
                  struct corch_err *err)
{
    struct vswitch_port *port = NULL;
    int error = vs->class->lsi0_port(vs, lsi0, ifname, &port);
    if (error)
        return corch_err_set(err, error, NULL, "interface %s is not one of "
                             "vswitch.interfaces", ifname);
    struct corch_err herr = { .kind = CORCH_ERR_FAILED };
    error = contract(vs, "lsi0_port", 0, port != NULL, &herr, err);
    if (!error)
        *ret_port = port;
    return error;
}

int
vswitch_lsi_create(struct vswitch *vs, const struct vswitch_lsi_spec *spec,
                   struct vswitch_lsi **ret_lsi, struct corch_err *err)
{
    struct corch_err herr = { .kind = CORCH_ERR_FAILED };
    struct vswitch_lsi *lsi = NULL;
    uint64_t t0 = time_ns();
    int error = vs->class->lsi_create(vs, spec, &lsi, &herr);
    error = contract(vs, "lsi_create", error, lsi != NULL, &herr, err);
    TRACE(vs, "lsi_create", t0, "%s", spec->name);
    if (!error)
        *ret_lsi = lsi;
    return error;
}

void
vswitch_lsi_destroy(struct vswitch *vs, struct vswitch_lsi *lsi)
{
    if (!lsi)
        return;
    uint64_t t0 = time_ns();
    vs->class->lsi_destroy(vs, lsi);
    TRACE(vs, "lsi_destroy", t0, "%s", "");
}

void
vswitch_lsi_release(struct vswitch *vs, struct vswitch_lsi *lsi)
{
    if (!lsi)
        return;
    if (lsi->role == VSWITCH_LSI_ZERO) {
        /* LSI-0 is the driver's until close: releasing it here would
         * leave close a dangling pointer. */
        LOG_ERR("vswitch %s: release of LSI-0 asked (a core bug)",
                vs->class->type);
        CORCH_CONTRACT_BUG();
        return;
    }
    if (!vs->class->lsi_release)
        return;                 /* close() frees it. */
    char name[sizeof lsi->name];
    snprintf(name, sizeof name, "%s", lsi->name);
    uint64_t t0 = time_ns();
    vs->class->lsi_release(vs, lsi);    /* Frees 'lsi'. */
    TRACE(vs, "lsi_release", t0, "%s", name);
}

int
vswitch_vlinks_create(struct vswitch *vs, struct vswitch_lsi *a,
                      struct vswitch_lsi *b,
                      const struct vswitch_vlink_spec *specs, size_t n,
                      struct vswitch_port **ret_a_ports,
                      struct vswitch_port **ret_b_ports,
                      struct corch_err *err)
{
    if (!n)
        return 0;
    struct corch_err herr = { .kind = CORCH_ERR_FAILED };
    struct vswitch_port **pa = xcalloc(n, sizeof *pa);
    struct vswitch_port **pb = xcalloc(n, sizeof *pb);
    uint64_t t0 = time_ns();
    int error = vs->class->vlinks_create(vs, a, b, specs, n, pa, pb, &herr);
    error = contract(vs, "vlinks_create", error,
                     all_made(pa, n) && all_made(pb, n), &herr, err);
    TRACE(vs, "vlinks_create", t0, "%zu, first %s", n, specs[0].a_name);
    if (!error) {
        memcpy(ret_a_ports, pa, n * sizeof *pa);
        memcpy(ret_b_ports, pb, n * sizeof *pb);
    }
    free(pa);
    free(pb);
    return error;
}

/* The fallback of ports_create: one port_create per spec, all or
 * nothing. */
static int
ports_create_one_by_one(struct vswitch *vs, struct vswitch_lsi *lsi,
                        const struct vswitch_port_spec *specs, size_t n,
                        struct vswitch_port **ports,
                        struct vswitch_port_info *infos,
                        struct corch_err *err)
{
    int error = 0;
    size_t made = 0;
    for (; made < n; made++) {
        struct corch_err herr = { .kind = CORCH_ERR_FAILED };
        error = vs->class->port_create(vs, lsi, &specs[made], &ports[made],
                                       &infos[made], &herr);
        error = contract(vs, "port_create", error, ports[made] != NULL,
                         &herr, err);
        if (error) {
            corch_err_prefix(err, "sf '%s' port '%s'",
                             specs[made].sf_id ? specs[made].sf_id : "",
                             specs[made].sf_port_id
                             ? specs[made].sf_port_id : "");
            ports[made] = NULL;
            break;
        }
    }
    if (error)
        while (made > 0)
            vs->class->port_destroy(vs, ports[--made]);
    return error;
}

int
vswitch_ports_create(struct vswitch *vs, struct vswitch_lsi *lsi,
                     const struct vswitch_port_spec *specs, size_t n,
                     struct vswitch_port **ret_ports,
                     struct vswitch_port_info *ret_infos,
                     struct corch_err *err)
{
    if (!n)
        return 0;
    struct vswitch_port **ports = xcalloc(n, sizeof *ports);
    struct vswitch_port_info *infos = xcalloc(n, sizeof *infos);
    uint64_t t0 = time_ns();
    int error;
    if (vs->class->ports_create) {
        struct corch_err herr = { .kind = CORCH_ERR_FAILED };
        error = vs->class->ports_create(vs, lsi, specs, n, ports, infos,
                                        &herr);
        error = contract(vs, "ports_create", error, all_made(ports, n),
                         &herr, err);
    } else {
        error = ports_create_one_by_one(vs, lsi, specs, n, ports, infos, err);
    }
    TRACE(vs, "ports_create", t0, "%zu, first %s", n, specs[0].name);
    if (!error) {
        memcpy(ret_ports, ports, n * sizeof *ports);
        memcpy(ret_infos, infos, n * sizeof *infos);
    }
    free(ports);
    free(infos);
    return error;
}

int
vswitch_sap_create(struct vswitch *vs, struct vswitch_lsi *lsi,
                   const struct vswitch_sap_spec *spec,
                   struct vswitch_port **ret_port, struct corch_err *err)
{
    struct corch_err herr = { .kind = CORCH_ERR_FAILED };
    struct vswitch_port *port = NULL;
    uint64_t t0 = time_ns();
    int error = vs->class->sap_create(vs, lsi, spec, &port, &herr);
    error = contract(vs, "sap_create", error, port != NULL, &herr, err);
    TRACE(vs, "sap_create", t0, "%s", spec->name);
    if (!error)
        *ret_port = port;
    return error;
}

void
vswitch_port_destroy(struct vswitch *vs, struct vswitch_port *port)
{
    if (!port)
        return;
    uint64_t t0 = time_ns();
    vs->class->port_destroy(vs, port);
    TRACE(vs, "port_destroy", t0, "%s", "");
}

void
vswitch_port_release(struct vswitch *vs, struct vswitch_port *port)
{
    if (!port || !vs->class->port_release)
        return;                 /* Its LSI's release or close frees it. */
    if (port->role == VSWITCH_PORT_PHYS)
        return;                 /* LSI-0's: the driver's until close. */
    char name[sizeof port->name];
    snprintf(name, sizeof name, "%s", port->name);
    uint64_t t0 = time_ns();
    vs->class->port_release(vs, port);  /* Frees 'port'. */
    TRACE(vs, "port_release", t0, "%s", name);
}

int
vswitch_rules_apply(struct vswitch *vs, struct vswitch_lsi *lsi,
                    const struct vswitch_rule_batch *batch,
                    struct corch_err *err)
{
    struct corch_err herr = { .kind = CORCH_ERR_FAILED };
    uint64_t t0 = time_ns();
    int error = vs->class->rules_apply(vs, lsi, batch, &herr);
    error = contract(vs, "rules_apply", error, true, &herr, err);
    TRACE(vs, "rules_apply", t0, "-%zu +%zu", batch->n_del, batch->n_add);
    return error;
}

int
vswitch_rules_flush(struct vswitch *vs, struct vswitch_lsi *lsi,
                    uint64_t cookie, uint64_t mask, struct corch_err *err)
{
    if (!vs->class->rules_flush)
        return 0;
    struct corch_err herr = { .kind = CORCH_ERR_FAILED };
    uint64_t t0 = time_ns();
    int error = vs->class->rules_flush(vs, lsi, cookie, mask, &herr);
    error = contract(vs, "rules_flush", error, true, &herr, err);
    TRACE(vs, "rules_flush", t0, "%#llx/%#llx", (unsigned long long) cookie,
          (unsigned long long) mask);
    return error;
}

bool
vswitch_sap_supported(const struct vswitch *vs, enum graph_sap_type type)
{
    return !vs->class->sap_supported || vs->class->sap_supported(vs, type);
}
