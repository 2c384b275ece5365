/* A skeleton vSwitch driver: copy this folder to start a new driver.
 *
 * It compiles against the v2 contract (drivers/vswitch/skeleton/
 * automake.mk builds it into a library nothing links, so that it cannot
 * rot) but it is NOT registered: it switches nothing.  Read
 * docs/writing-a-driver.md first, then the contract in
 * drivers/vswitch/vswitch-provider.h, and use the dummy driver
 * (drivers/vswitch/dummy/) as a working example of every hook.
 *
 * To turn it into a real driver "foo" (no file outside its folder
 * changes but the driver list):
 *   1. copy the folder to drivers/vswitch/foo and rename every "skeleton"
 *      in it (file names too) to "foo";
 *   2. in its automake.mk, add the sources to
 *      orchestrator_liborch_a_SOURCES and "VSWITCH_DRIVERS += foo" (see
 *      drivers/vswitch/dummy/automake.mk), instead of the library below;
 *   3. include it from drivers/automake.mk;
 *   4. fill the hooks below (every TODO) and select it with
 *      vswitch.driver=foo. */
#include <config.h>
#include "vswitch-skeleton.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

LOG_MODULE(vswitch_skeleton);

/* One open switch: everything the driver knows about it (the connection,
 * LSI-0...) lives here, never in file-static variables, so that two
 * instances can live in one process.  The core holds 'up'; the hooks get
 * back here with CONTAINER_OF. */
struct skeleton_switch {
    struct vswitch up;          /* The base the core holds. */
    pthread_mutex_t mutex;      /* Hooks for different graphs run
                                 * concurrently: guards the shared state
                                 * (the connection, LSI-0). */
};

/* The driver's own view of a switch bridge.  The core only ever holds
 * a pointer to its base 'up' (which the driver fills: switch, name, owner
 * graph, role); the driver allocates it in lsi0_open()/lsi_create() and
 * frees it in lsi_destroy() or lsi_release() (LSI-0 lives until
 * close()). */
struct skeleton_lsi {
    struct vswitch_lsi up;      /* The base the core reads. */
    bool learning;              /* An internal-group LSI. */
};

/* The driver's own view of a port, around the base the core reads.
 * Allocated by lsi0_open (physical ports, owned by the driver forever),
 * vlinks_create, port_create and sap_create; freed by port_destroy,
 * port_release or with its LSI. */
struct skeleton_port {
    struct vswitch_port up;     /* The base the core reads. */
    struct skeleton_port *peer; /* Other end of a vlink, or NULL. */
};

static struct skeleton_switch *
skeleton_cast(struct vswitch *vs)
{
    return CONTAINER_OF(vs, struct skeleton_switch, up);
}

static int
skeleton_open(const struct corch_config *cfg, struct vswitch **ret,
              struct corch_err *err)
{
    (void) cfg;
    (void) ret;
    /* TODO: allocate a struct skeleton_switch, set up.class to
     * &vswitch_skeleton_class, connect to the switch (e.g.
     * cfg->vswitch_ovsdb) and return &sw->up.  On failure free what was
     * made and say why in 'err', naming the config key the operator must
     * fix. */
    return corch_err_setk(err, CORCH_ERR_UNSUPPORTED, -EOPNOTSUPP,
                          "vswitch.driver",
                          "the skeleton driver is not a driver");
}

static void
skeleton_close(struct vswitch *vs)
{
    /* TODO: disconnect, free the driver's LSI and port structs.  Deployed
     * LSIs stay on the switch: the next start adopts them. */
    struct skeleton_switch *sw = skeleton_cast(vs);
    pthread_mutex_destroy(&sw->mutex);
    free(sw);
}

static int
skeleton_lsi0_open(struct vswitch *vs, const char *const *ifnames, size_t n,
                   struct vswitch_lsi **ret_lsi0, struct corch_err *err)
{
    (void) vs;
    (void) ifnames;
    (void) n;
    (void) ret_lsi0;
    /* TODO: find LSI-0 from a previous run (adopt it: its identity says it
     * is ours) or create it, lock it down, attach the physical interfaces,
     * and keep one vswitch_port per interface for lsi0_port(). */
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static int
skeleton_lsi0_port(struct vswitch *vs, struct vswitch_lsi *lsi0,
                   const char *ifname, struct vswitch_port **ret_port)
{
    (void) vs;
    (void) lsi0;
    (void) ifname;
    (void) ret_port;
    return -ENODEV;             /* TODO: the port kept by lsi0_open(). */
}

static int
skeleton_lsi_create(struct vswitch *vs, const struct vswitch_lsi_spec *spec,
                    struct vswitch_lsi **ret_lsi, struct corch_err *err)
{
    /* TODO: create bridge spec->name, tagged with spec->graph_id and its
     * role so that it can be recognised again; a bridge of that name that
     * carries the same identity (a previous run) may be replaced, any other
     * is CORCH_ERR_CONFLICT.  Locked down (no other controller); learning
     * if spec->learning.  Leave nothing behind on failure.  Only then set
     * *ret_lsi. */
    struct skeleton_switch *sw = skeleton_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    pthread_mutex_unlock(&sw->mutex);
    (void) spec;
    (void) ret_lsi;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static void
skeleton_lsi_destroy(struct vswitch *vs, struct vswitch_lsi *lsi)
{
    /* TODO: remove the bridge with its ports, the vlinks' ends on it and its
     * rules.  Never fails: log what could not be removed. */
    (void) vs;
    if (lsi)
        LOG_DBG("LSI %s destroyed", lsi->name);
    free(lsi ? CONTAINER_OF(lsi, struct skeleton_lsi, up) : NULL);
}

static void
skeleton_lsi_release(struct vswitch *vs, struct vswitch_lsi *lsi)
{
    /* TODO: free the LSI's struct and those of the ports still on it (and
     * of their vlinks' far ends), touching nothing on the switch: c-orch
     * shuts down and the bridge keeps forwarding.  Never fails. */
    (void) vs;
    LOG_DBG("LSI %s released", lsi->name);
    free(CONTAINER_OF(lsi, struct skeleton_lsi, up));
}

static int
skeleton_vlinks_create(struct vswitch *vs, struct vswitch_lsi *a,
                       struct vswitch_lsi *b,
                       const struct vswitch_vlink_spec *specs, size_t n,
                       struct vswitch_port **ret_a,
                       struct vswitch_port **ret_b, struct corch_err *err)
{
    /* TODO: n patch-port pairs, link i's ends named specs[i].a_name (on a)
     * and specs[i].b_name (on b) exactly (never build a name), with
     * specs[i].graph_id recorded on both; all in one transaction, all or
     * nothing.  A name taken by a port that is not provably ours:
     * CORCH_ERR_CONFLICT, never remove it. */
    (void) vs;
    (void) a;
    (void) b;
    (void) n;
    (void) specs;
    (void) ret_a;
    (void) ret_b;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static int
skeleton_port_create(struct vswitch *vs, struct vswitch_lsi *lsi,
                     const struct vswitch_port_spec *spec,
                     struct vswitch_port **ret_port,
                     struct vswitch_port_info *ret_info, struct corch_err *err)
{
    /* TODO: a port of spec->tech named spec->name (a veth's SF end named
     * spec->sf_peer_name); fill ret_info with what the SF gets (the veth
     * peer / tap name, or the vhost-user socket).  ports_create (batching
     * many) is optional: the core falls back to this hook. */
    (void) vs;
    (void) lsi;
    (void) spec;
    (void) ret_port;
    (void) ret_info;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static int
skeleton_sap_create(struct vswitch *vs, struct vswitch_lsi *lsi,
                    const struct vswitch_sap_spec *sap,
                    struct vswitch_port **ret_port, struct corch_err *err)
{
    /* TODO: gre (a tunnel port) and host-stack (an internal port with the
     * SAP's address), named sap->name; -EOPNOTSUPP for what this switch
     * cannot do, and say so in sap_supported() too. */
    (void) vs;
    (void) lsi;
    (void) sap;
    (void) ret_port;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static void
skeleton_port_destroy(struct vswitch *vs, struct vswitch_port *port)
{
    /* TODO: remove the port (both ends of a vlink).  Never fails. */
    (void) vs;
    free(port ? CONTAINER_OF(port, struct skeleton_port, up) : NULL);
}

static void
skeleton_port_release(struct vswitch *vs, struct vswitch_port *port)
{
    /* TODO: free the port's struct (both ends of a vlink), leaving the
     * port, its device and the rules using it on the switch.  Never
     * fails. */
    (void) vs;
    free(CONTAINER_OF(port, struct skeleton_port, up));
}

static int
skeleton_rules_apply(struct vswitch *vs, struct vswitch_lsi *lsi,
                     const struct vswitch_rule_batch *batch,
                     struct corch_err *err)
{
    /* TODO: deletions then additions, as one unit (an OpenFlow bundle, or a
     * batch undone on error); return once the switch has applied them.
     * Rules are identified by priority + in_port + match; the cookie says
     * which graph owns them. */
    (void) vs;
    (void) lsi;
    (void) batch;
    return corch_err_set(err, -EOPNOTSUPP, NULL, "not implemented");
}

static bool
skeleton_sap_supported(const struct vswitch *vs, enum graph_sap_type type)
{
    /* TODO: what this switch can do on this node (the node description
     * advertises it). */
    (void) vs;
    return type == GRAPH_SAP_INTERFACE || type == GRAPH_SAP_VLAN;
}

const struct vswitch_class vswitch_skeleton_class = {
    .type = "skeleton",
    .open = skeleton_open,
    .close = skeleton_close,
    .lsi0_open = skeleton_lsi0_open,
    .lsi0_port = skeleton_lsi0_port,
    .lsi_create = skeleton_lsi_create,
    .lsi_destroy = skeleton_lsi_destroy,
    .lsi_release = skeleton_lsi_release, /* Optional: close frees it. */
    .vlinks_create = skeleton_vlinks_create,
    .port_create = skeleton_port_create,
    .ports_create = NULL,       /* Optional: the core calls port_create. */
    .sap_create = skeleton_sap_create,
    .port_destroy = skeleton_port_destroy,
    .port_release = skeleton_port_release, /* Optional: as lsi_release. */
    .rules_apply = skeleton_rules_apply,
    .rules_flush = NULL,        /* Optional: a switch that keeps no rules
                                 * across a restart of c-orch. */
    .sap_supported = skeleton_sap_supported,
};
