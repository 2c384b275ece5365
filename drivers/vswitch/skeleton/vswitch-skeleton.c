/* A skeleton vSwitch driver: copy this folder to start a new driver.
 *
 * It compiles (drivers/vswitch/skeleton/automake.mk builds it into a
 * library nothing links, so that it cannot rot) but it is NOT registered:
 * it switches nothing.  Read docs/writing-a-driver.md first, then the
 * contract in drivers/vswitch/vswitch-provider.h, and use the dummy driver
 * (drivers/vswitch/dummy/) as a working example of every hook.
 *
 * To turn it into a real driver "foo":
 *   1. rename the folder, the file and every "skeleton" to "foo";
 *   2. fill the hooks below (every TODO);
 *   3. add --enable-foo to configure.ac, and in drivers/automake.mk an
 *      "if ENABLE_FOO / include drivers/vswitch/foo/automake.mk / endif"
 *      that adds the sources to orchestrator_liborch_a_SOURCES;
 *   4. register it in vswitch_register_all() (orchestrator/vswitch.c)
 *      under #ifdef ENABLE_FOO;
 *   5. select it with vswitch.driver=foo. */
#include <config.h>
#include "vswitch-skeleton.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

LOG_MODULE(vswitch_skeleton);

/* The driver's own view of a switch bridge.  The core only ever holds
 * pointers to it; the driver allocates it in lsi0_open()/lsi_create() and
 * frees it in lsi_destroy() (LSI-0 lives until fini()). */
struct vswitch_lsi {
    char name[16];              /* Bridge name chosen by the core. */
    bool learning;              /* An internal-group LSI. */
};

/* The driver's own view of a port.  Allocated by lsi0_open (physical
 * ports, owned by the driver forever), vlinks_create, port_create and
 * sap_create; freed by port_destroy or with its LSI. */
struct vswitch_port {
    char name[16];              /* Port name chosen by the core. */
    struct vswitch_lsi *lsi;    /* The LSI it is on. */
    struct vswitch_port *peer;  /* Other end of a vlink, or NULL. */
};

/* Shared state (the connection to the switch, LSI-0) is the driver's to
 * protect: hooks for different graphs run concurrently. */
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

static int
skeleton_init(const struct corch_config *cfg, struct corch_err *err)
{
    (void) cfg;
    /* TODO: connect to the switch (e.g. cfg->vswitch_ovsdb).  On failure
     * say why in 'err', naming the config key the operator must fix. */
    return corch_err_set(err, -EOPNOTSUPP, "vswitch.driver",
                         "the skeleton driver is not a driver");
}

static void
skeleton_fini(void)
{
    /* TODO: disconnect.  Deployed LSIs stay: the next start adopts them. */
}

static int
skeleton_lsi0_open(const char *const *ifnames, size_t n,
                   struct vswitch_lsi **ret_lsi0, struct corch_err *err)
{
    (void) ifnames;
    (void) n;
    (void) ret_lsi0;
    /* TODO: find LSI-0 from a previous run (adopt it) or create it, lock it
     * down, attach the physical interfaces, and keep one vswitch_port per
     * interface for lsi0_port(). */
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static int
skeleton_lsi0_port(struct vswitch_lsi *lsi0, const char *ifname,
                   struct vswitch_port **ret_port)
{
    (void) lsi0;
    (void) ifname;
    (void) ret_port;
    return -ENODEV;             /* TODO: the port kept by lsi0_open(). */
}

static int
skeleton_lsi_create(const struct vswitch_lsi_spec *spec,
                    struct vswitch_lsi **ret_lsi, struct corch_err *err)
{
    /* TODO: create bridge spec->name (or adopt it if it survived a
     * restart), tagged with spec->graph_id so that it can be found again,
     * locked down (no other controller); learning if spec->learning.
     * Leave nothing behind on failure.  Only then set *ret_lsi. */
    pthread_mutex_lock(&mutex);
    pthread_mutex_unlock(&mutex);
    (void) spec;
    (void) ret_lsi;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static void
skeleton_lsi_destroy(struct vswitch_lsi *lsi)
{
    /* TODO: remove the bridge with its ports, the vlinks' ends on it and its
     * rules.  Never fails: log what could not be removed. */
    if (lsi)
        LOG_DBG("LSI %s destroyed", lsi->name);
    free(lsi);
}

static int
skeleton_vlinks_create(struct vswitch_lsi *a, struct vswitch_lsi *b,
                       const struct vswitch_vlink_spec *specs, size_t n,
                       struct vswitch_port **ret_a,
                       struct vswitch_port **ret_b, struct corch_err *err)
{
    /* TODO: n patch-port pairs, link i's ends named specs[i].a_name (on a)
     * and specs[i].b_name (on b) exactly (never build a name), with
     * specs[i].graph_id recorded on both; all in one transaction, all or
     * nothing.  A name taken by a port that is not provably ours:
     * CORCH_ERR_CONFLICT, never remove it. */
    (void) a;
    (void) b;
    (void) n;
    (void) specs;
    (void) ret_a;
    (void) ret_b;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static int
skeleton_port_create(struct vswitch_lsi *lsi,
                     const struct vswitch_port_spec *spec,
                     struct vswitch_port **ret_port,
                     struct vswitch_port_info *ret_info, struct corch_err *err)
{
    /* TODO: a port of spec->tech named spec->name; fill ret_info with what
     * the SF gets (the veth peer / tap name, or the vhost-user socket). */
    (void) lsi;
    (void) spec;
    (void) ret_port;
    (void) ret_info;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static int
skeleton_sap_create(struct vswitch_lsi *lsi, const struct vswitch_sap_spec *sap,
                    struct vswitch_port **ret_port, struct corch_err *err)
{
    /* TODO: gre (a tunnel port) and host-stack (an internal port with the
     * SAP's address), named sap->name; -EOPNOTSUPP for what this switch
     * cannot do, and say so in sap_supported() too. */
    (void) lsi;
    (void) sap;
    (void) ret_port;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static void
skeleton_port_destroy(struct vswitch_port *port)
{
    /* TODO: remove the port (both ends of a vlink).  Never fails. */
    free(port);
}

static int
skeleton_rules_apply(struct vswitch_lsi *lsi,
                     const struct vswitch_rule_batch *batch,
                     struct corch_err *err)
{
    /* TODO: deletions then additions, as one unit (an OpenFlow bundle, or a
     * batch undone on error); return once the switch has applied them.
     * Rules are identified by priority + in_port + match; the cookie says
     * which graph owns them. */
    (void) lsi;
    (void) batch;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static bool
skeleton_sap_supported(enum graph_sap_type type)
{
    return type == GRAPH_SAP_INTERFACE || type == GRAPH_SAP_VLAN;
}

const struct vswitch_class vswitch_skeleton_class = {
    .type = "skeleton",
    .init = skeleton_init,
    .fini = skeleton_fini,
    .lsi0_open = skeleton_lsi0_open,
    .lsi0_port = skeleton_lsi0_port,
    .lsi_create = skeleton_lsi_create,
    .lsi_destroy = skeleton_lsi_destroy,
    .vlinks_create = skeleton_vlinks_create,
    .port_create = skeleton_port_create,
    .sap_create = skeleton_sap_create,
    .port_destroy = skeleton_port_destroy,
    .rules_apply = skeleton_rules_apply,
    .sap_supported = skeleton_sap_supported,
};
