/* The dummy vSwitch: see vswitch-dummy.h. */
#include <config.h>
#include "vswitch-dummy.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dummy-faults.h"
#include "log.h"

LOG_MODULE(vswitch_dummy);

struct dummy_port {
    struct vswitch_port up;     /* The base the core reads (name: unique on
                                 * the node). */
    struct dummy_lsi *lsi;      /* The LSI it belongs to. */
    struct dummy_port *peer;  /* Other end of a vlink, or NULL. */
    bool phys;                  /* A physical interface of LSI-0. */
    bool released;              /* port_release (or its LSI's release)
                                 * dropped the core's handle: the port
                                 * stays on the simulated switch, and the
                                 * core must never pass it again. */
    struct dummy_port *next;  /* Next port of the same LSI. */
};

struct dummy_lsi {
    struct vswitch_lsi up;      /* The base the core reads (name: unique on
                                 * the node; graph_id). */
    struct dummy_switch *sw;    /* The instance it belongs to. */
    bool learning;              /* Internal-group LSI. */
    bool is_lsi0;               /* LSI-0. */
    struct dummy_port *ports; /* Singly linked list. */
    struct vswitch_rule *rules; /* Installed rules (deep copies). */
    size_t n_rules;
    size_t added;               /* Rule additions received. */
    size_t deleted;             /* Rule deletions received. */
    bool released;              /* lsi_release dropped the core's handle
                                 * (see dummy_port.released). */
    struct dummy_lsi *next;   /* Next LSI of the node. */
};

/* The hooks that can be told to fail, with their counters. */
static const char *const hooks[] = {
    "open", "lsi0_open", "lsi_create", "vlinks_create", "port_create",
    "sap_create", "rules_apply", "ports_create", "rules_flush",
};
enum { N_HOOKS = ARRAY_SIZE(hooks) };

/* One dummy switch: the instance holds the whole simulated switch, so
 * that two instances are two independent switches.  All state behind one
 * lock: the dummy is for tests, not for speed. */
struct dummy_switch {
    struct vswitch up;          /* The base the core holds. */
    pthread_mutex_t mutex;      /* Guards everything below. */
    struct dummy_lsi *lsis;   /* LSI-0 included. */
    uint32_t next_ofport;       /* For vswitch_port_info.ofport. */
    unsigned int calls[N_HOOKS]; /* Calls so far, per hook. */
    unsigned int fail_at[N_HOOKS]; /* Call that fails, per hook; 0 none. */
    struct dummy_faults faults; /* Failure injection over calls / fail_at
                                 * (drivers/common/dummy-faults.h). */
    unsigned int destroyed;     /* lsi_destroy + port_destroy calls. */
    unsigned int released;      /* lsi_release + port_release calls. */
    struct vswitch_dummy_census *census; /* Filled by close, for a test
                                 * that outlives the instance; or NULL. */
};

static struct dummy_switch *
dummy_cast(const struct vswitch *vs)
{
    return CONTAINER_OF(vs, struct dummy_switch, up);
}

/* The dummy's structs behind the bases the core holds. */
static struct dummy_lsi *
lsi_cast(const struct vswitch_lsi *l)
{
    return l ? CONTAINER_OF(l, struct dummy_lsi, up) : NULL;
}

static struct dummy_port *
port_cast(const struct vswitch_port *p)
{
    return p ? CONTAINER_OF(p, struct dummy_port, up) : NULL;
}

/* A core that passes an object it released is what adopt / release get
 * wrong first: a switch would act on a bridge nobody owns any more. */
static void
check_held(const char *hook, const char *name, bool released)
{
    if (released) {
        LOG_ERR("dummy vswitch: %s of %s, released already (a core bug)",
                hook, name);
        CORCH_CONTRACT_BUG();
    }
}

/* Counts a call of 'hook' and says whether it must fail.  Mutex held. */
static int
hook_enter(struct dummy_switch *sw, const char *hook, struct corch_err *err)
{
    return dummy_faults_enter(&sw->faults, hook, err);
}

int
vswitch_dummy_fail_at(struct vswitch *vs, const char *hook, unsigned int nth)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    int r = dummy_faults_fail_at(&sw->faults, hook, nth);
    pthread_mutex_unlock(&sw->mutex);
    return r;
}

unsigned int
vswitch_dummy_calls(struct vswitch *vs, const char *hook)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    unsigned int n = dummy_faults_calls(&sw->faults, hook);
    pthread_mutex_unlock(&sw->mutex);
    return n;
}

static struct dummy_lsi *
find_lsi(struct dummy_switch *sw, const char *name)
{
    for (struct dummy_lsi *l = sw->lsis; l; l = l->next)
        if (!strcmp(l->up.name, name))
            return l;
    return NULL;
}

static struct dummy_port *
find_port(struct dummy_switch *sw, const char *name)
{
    for (struct dummy_lsi *l = sw->lsis; l; l = l->next)
        for (struct dummy_port *p = l->ports; p; p = p->next)
            if (!strcmp(p->up.name, name))
                return p;
    return NULL;
}

static bool
port_is_on(const struct dummy_lsi *lsi, const struct vswitch_port *port)
{
    for (const struct dummy_port *p = lsi->ports; p; p = p->next)
        if (&p->up == port)
            return true;
    return false;
}

static void
rule_free_actions(struct vswitch_rule *r)
{
    free(r->actions);
    r->actions = NULL;
    r->n_actions = 0;
}

static void
rule_copy(struct vswitch_rule *dst, const struct vswitch_rule *src)
{
    *dst = *src;
    dst->actions = NULL;
    if (src->n_actions) {
        dst->actions = xcalloc(src->n_actions, sizeof *dst->actions);
        memcpy(dst->actions, src->actions,
               src->n_actions * sizeof *dst->actions);
    }
}

static bool
rule_same(const struct vswitch_rule *a, const struct vswitch_rule *b)
{
    return a->priority == b->priority && a->in_port == b->in_port
           && flow_match_equal(&a->match, &b->match);
}

/* A hash of what makes two rules the same rule (rule_same). */
static size_t
rule_key_hash(const struct vswitch_rule *r)
{
    uint64_t h = (uint64_t) (uintptr_t) r->in_port * 0x9e3779b97f4a7c15ull;
    h ^= ((uint64_t) r->priority << 32) ^ r->match.fields;
    h ^= ((uint64_t) r->match.dest_port << 16) ^ r->match.source_port;
    h ^= (uint64_t) r->match.vlan_id << 40;
    h *= 0xff51afd7ed558ccdull;
    return (size_t) (h ^ (h >> 31));
}

/* An index of an LSI's rules for the length of one rules_apply(). */
struct rule_index {
    size_t *slots;              /* Rule numbers, SIZE_MAX if empty. */
    size_t size;                /* Power of two. */
};

static void
index_build(struct rule_index *ix, const struct dummy_lsi *lsi, size_t more)
{
    ix->size = 16;
    while (ix->size < 2 * (lsi->n_rules + more))
        ix->size *= 2;
    ix->slots = xmalloc(ix->size * sizeof *ix->slots);
    for (size_t i = 0; i < ix->size; i++)
        ix->slots[i] = SIZE_MAX;
    for (size_t i = 0; i < lsi->n_rules; i++) {
        size_t h = rule_key_hash(&lsi->rules[i]) & (ix->size - 1);
        while (ix->slots[h] != SIZE_MAX)
            h = (h + 1) & (ix->size - 1);
        ix->slots[h] = i;
    }
}

/* The slot holding a rule that is the same as 'r' (or the empty slot
 * where it would go). */
static size_t *
index_find(struct rule_index *ix, const struct dummy_lsi *lsi,
           const struct vswitch_rule *r)
{
    size_t h = rule_key_hash(r) & (ix->size - 1);
    while (ix->slots[h] != SIZE_MAX
           && (ix->slots[h] == SIZE_MAX - 1
               || !rule_same(&lsi->rules[ix->slots[h]], r)))
        h = (h + 1) & (ix->size - 1);
    return &ix->slots[h];
}

static bool
rule_uses(const struct vswitch_rule *r, const struct vswitch_port *port)
{
    if (r->in_port == port)
        return true;
    for (size_t i = 0; i < r->n_actions; i++)
        if (r->actions[i].type == VSWITCH_ACT_OUTPUT
            && r->actions[i].u.port == port)
            return true;
    return false;
}

/* Removes the rules of every LSI that name 'port': a real switch drops the
 * flows of a deleted port, and the dummy must not keep dangling pointers. */
static void
purge_rules_of(const struct dummy_port *port)
{
    for (struct dummy_lsi *l = port->lsi->sw->lsis; l; l = l->next) {
        size_t j = 0;
        for (size_t i = 0; i < l->n_rules; i++) {
            if (rule_uses(&l->rules[i], &port->up))
                rule_free_actions(&l->rules[i]);
            else
                l->rules[j++] = l->rules[i];
        }
        l->n_rules = j;
    }
}

static struct dummy_port *
port_add(struct dummy_lsi *lsi, const char *name)
{
    struct dummy_port *p = xcalloc(1, sizeof *p);
    snprintf(p->up.name, sizeof p->up.name, "%s", name);
    p->up.lsi = &lsi->up;
    p->up.role = VSWITCH_PORT_SF;     /* The creating hook says better. */
    p->lsi = lsi;
    p->next = lsi->ports;
    lsi->ports = p;
    return p;
}

/* Unlinks and frees one port (not its peer).  Mutex held. */
static void
port_unlink(struct dummy_port *port)
{
    purge_rules_of(port);
    for (struct dummy_port **pp = &port->lsi->ports; *pp;
         pp = &(*pp)->next) {
        if (*pp == port) {
            *pp = port->next;
            break;
        }
    }
    free(port);
}

static void
port_destroy_locked(struct dummy_port *port)
{
    if (port->phys)
        return;
    struct dummy_port *peer = port->peer;
    port_unlink(port);
    if (peer)
        port_unlink(peer);
}

static void
lsi_destroy_locked(struct dummy_lsi *lsi)
{
    while (lsi->ports) {
        struct dummy_port *p = lsi->ports;
        p->phys = false;
        port_destroy_locked(p);
    }
    for (size_t i = 0; i < lsi->n_rules; i++)
        rule_free_actions(&lsi->rules[i]);
    free(lsi->rules);
    for (struct dummy_lsi **pp = &lsi->sw->lsis; *pp; pp = &(*pp)->next) {
        if (*pp == lsi) {
            *pp = lsi->next;
            break;
        }
    }
    free(lsi->up.graph_id);
    free(lsi);
}

static struct dummy_lsi *
lsi_new(struct dummy_switch *sw, const char *name, const char *graph_id,
        bool learning, bool is_lsi0)
{
    struct dummy_lsi *l = xcalloc(1, sizeof *l);
    l->sw = sw;
    snprintf(l->up.name, sizeof l->up.name, "%s", name);
    l->up.graph_id = xstrdup(graph_id);
    l->up.vs = &sw->up;
    l->up.role = is_lsi0 ? VSWITCH_LSI_ZERO
                 : learning ? VSWITCH_LSI_GROUP : VSWITCH_LSI_GRAPH;
    l->learning = learning;
    l->is_lsi0 = is_lsi0;
    l->next = sw->lsis;
    sw->lsis = l;
    return l;
}

static int
dummy_open(const struct corch_config *cfg, struct vswitch **ret,
           struct corch_err *err)
{
    (void) cfg;
    struct dummy_switch *sw = xcalloc(1, sizeof *sw);
    sw->up.class = &vswitch_dummy_class;
    pthread_mutex_init(&sw->mutex, NULL);
    sw->next_ofport = 100;
    sw->faults = (struct dummy_faults) {
        .who = "dummy vswitch", .env_prefix = "vswitch.", .hooks = hooks,
        .n = N_HOOKS, .calls = sw->calls, .fail_at = sw->fail_at,
    };
    dummy_faults_from_env(&sw->faults);
    int error = hook_enter(sw, "open", err);
    if (error) {
        pthread_mutex_destroy(&sw->mutex);
        free(sw);
        return error;
    }
    *ret = &sw->up;
    return 0;
}

/* The simulated switch goes with its instance: nothing outlives the
 * process anyway. */
static void
dummy_close(struct vswitch *vs)
{
    struct dummy_switch *sw = dummy_cast(vs);
    if (sw->census) {
        struct vswitch_dummy_census *c = sw->census;
        memset(c, 0, sizeof *c);
        for (struct dummy_lsi *l = sw->lsis; l; l = l->next) {
            c->lsis += !l->is_lsi0;
            c->rules += l->n_rules;
            c->held += !l->is_lsi0 && !l->released;
            for (struct dummy_port *p = l->ports; p; p = p->next) {
                c->ports += !p->phys;
                c->held += !p->phys && !p->released;
            }
        }
        c->destroyed = sw->destroyed;
        c->released = sw->released;
    }
    while (sw->lsis)
        lsi_destroy_locked(sw->lsis);
    pthread_mutex_destroy(&sw->mutex);
    free(sw);
}

static int
dummy_lsi0_open(struct vswitch *vs, const char *const *ifnames, size_t n,
                struct dummy_lsi **ret_lsi0, struct corch_err *err)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    int error = hook_enter(sw, "lsi0_open", err);
    if (!error) {
        struct dummy_lsi *l = find_lsi(sw, "lsi0");
        if (!l)
            l = lsi_new(sw, "lsi0", NULL, false, true);
        for (size_t i = 0; i < n; i++) {
            bool have = false;
            for (struct dummy_port *p = l->ports; p; p = p->next)
                have |= p->phys && !strcmp(p->up.name, ifnames[i]);
            if (!have) {
                struct dummy_port *pp = port_add(l, ifnames[i]);
                pp->phys = true;
                pp->up.role = VSWITCH_PORT_PHYS;
            }
        }
        *ret_lsi0 = l;
    }
    pthread_mutex_unlock(&sw->mutex);
    return error;
}

static int
dummy_lsi0_port(struct vswitch *vs, struct dummy_lsi *lsi0,
                const char *ifname,
                struct dummy_port **ret_port)
{
    struct dummy_switch *sw = dummy_cast(vs);
    int error = -ENODEV;
    pthread_mutex_lock(&sw->mutex);
    for (struct dummy_port *p = lsi0->ports; p; p = p->next) {
        if (p->phys && !strcmp(p->up.name, ifname)) {
            *ret_port = p;
            error = 0;
            break;
        }
    }
    pthread_mutex_unlock(&sw->mutex);
    return error;
}

static int
dummy_lsi_create(struct vswitch *vs, const struct vswitch_lsi_spec *spec,
                 struct dummy_lsi **ret_lsi, struct corch_err *err)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    int error = hook_enter(sw, "lsi_create", err);
    if (!error) {
        struct dummy_lsi *old = find_lsi(sw, spec->name);
        if (old && old->is_lsi0) {
            error = corch_err_set(err, -EEXIST, NULL,
                                  "dummy vswitch: \"%s\" is LSI-0",
                                  spec->name);
        } else {
            if (old)                    /* Left by a previous run. */
                lsi_destroy_locked(old);
            *ret_lsi = lsi_new(sw, spec->name, spec->graph_id, spec->learning,
                               false);
        }
    }
    pthread_mutex_unlock(&sw->mutex);
    return error;
}

static void
dummy_lsi_destroy(struct vswitch *vs, struct dummy_lsi *lsi)
{
    struct dummy_switch *sw = dummy_cast(vs);
    if (!lsi)
        return;
    pthread_mutex_lock(&sw->mutex);
    check_held("lsi_destroy", lsi->up.name, lsi->released);
    sw->destroyed++;
    lsi_destroy_locked(lsi);
    pthread_mutex_unlock(&sw->mutex);
}

/* The LSI and its ports stay on the simulated switch (it is the node),
 * rules and all; only the core's handles are marked dropped.  close()
 * frees them with the switch. */
static void
dummy_lsi_release(struct vswitch *vs, struct dummy_lsi *lsi)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    check_held("lsi_release", lsi->up.name, lsi->released);
    sw->released++;
    lsi->released = true;
    for (struct dummy_port *p = lsi->ports; p; p = p->next) {
        p->released = true;
        if (p->peer)
            p->peer->released = true;
    }
    pthread_mutex_unlock(&sw->mutex);
}

/* Checks a port name a caller chose.  Mutex held. */
static int
check_new_port_name(struct dummy_switch *sw, const char *name,
                    struct corch_err *err)
{
    if (!name_is_valid_ifname(name))
        return corch_err_set(err, -EINVAL, NULL,
                             "dummy vswitch: bad port name \"%s\"", name);
    if (find_port(sw, name))
        return corch_err_setk(err, CORCH_ERR_CONFLICT, -EEXIST, NULL,
                              "dummy vswitch: port \"%s\" exists", name);
    return 0;
}

static int
dummy_vlinks_create(struct vswitch *vs, struct dummy_lsi *a,
                    struct dummy_lsi *b,
                    const struct vswitch_vlink_spec *specs, size_t n,
                    struct dummy_port **ret_a, struct dummy_port **ret_b,
                    struct corch_err *err)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    int error = hook_enter(sw, "vlinks_create", err);
    for (size_t i = 0; !error && i < n; i++) {
        const char *an = specs[i].a_name, *bn = specs[i].b_name;
        error = check_new_port_name(sw, an, err);
        if (!error)
            error = check_new_port_name(sw, bn, err);
        if (error) {
            for (size_t j = 0; j < i; j++)
                port_destroy_locked(ret_a[j]);
            break;
        }
        ret_a[i] = port_add(a, an);
        ret_b[i] = port_add(b, bn);
        ret_a[i]->up.role = ret_b[i]->up.role = VSWITCH_PORT_VLINK;
        ret_a[i]->peer = ret_b[i];
        ret_b[i]->peer = ret_a[i];
    }
    pthread_mutex_unlock(&sw->mutex);
    return error;
}

/* Mutex held. */
static int
port_create_locked(struct dummy_switch *sw, struct dummy_lsi *lsi,
                   const struct vswitch_port_spec *spec,
                   struct dummy_port **ret_port,
                   struct vswitch_port_info *ret_info, struct corch_err *err)
{
    int error = hook_enter(sw, "port_create", err);
    if (!error)
        error = check_new_port_name(sw, spec->name, err);
    if (!error) {
        struct dummy_port *p = port_add(lsi, spec->name);
        memset(ret_info, 0, sizeof *ret_info);
        if (spec->tech == VSWITCH_PORT_VHOST_USER)
            snprintf(ret_info->socket_path, sizeof ret_info->socket_path,
                     "/dummy/%s.sock", spec->name);
        else
            snprintf(ret_info->sf_ifname, sizeof ret_info->sf_ifname, "%s",
                     spec->name);
        /* The SF end "in the SF's namespace", as a real switch does. */
        if (spec->tech == VSWITCH_PORT_VETH && spec->sf_netns_path
            && spec->sf_ifname) {
            snprintf(ret_info->sf_ifname, sizeof ret_info->sf_ifname, "%s",
                     spec->sf_ifname);
            ret_info->sf_in_netns = true;
        }
        ret_info->ofport = sw->next_ofport++;
        *ret_port = p;
    }
    return error;
}

static int
dummy_port_create(struct vswitch *vs, struct dummy_lsi *lsi,
                  const struct vswitch_port_spec *spec,
                  struct dummy_port **ret_port,
                  struct vswitch_port_info *ret_info, struct corch_err *err)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    int error = port_create_locked(sw, lsi, spec, ret_port, ret_info, err);
    pthread_mutex_unlock(&sw->mutex);
    return error;
}

/* The batch: all or nothing. */
static int
dummy_ports_create(struct vswitch *vs, struct dummy_lsi *lsi,
                   const struct vswitch_port_spec *specs, size_t n,
                   struct dummy_port **ret_ports,
                   struct vswitch_port_info *ret_infos, struct corch_err *err)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    int error = hook_enter(sw, "ports_create", err);
    size_t made = 0;
    while (!error && made < n) {
        error = port_create_locked(sw, lsi, &specs[made], &ret_ports[made],
                                   &ret_infos[made], err);
        if (!error)
            made++;
    }
    if (error)
        while (made > 0)
            port_destroy_locked(ret_ports[--made]);
    pthread_mutex_unlock(&sw->mutex);
    return error;
}

static int
dummy_sap_create(struct vswitch *vs, struct dummy_lsi *lsi,
                 const struct vswitch_sap_spec *sap,
                 struct dummy_port **ret_port, struct corch_err *err)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    int error = hook_enter(sw, "sap_create", err);
    if (!error && sap->type != VSWITCH_SAP_GRE
        && sap->type != VSWITCH_SAP_HOST_STACK)
        error = corch_err_setk(err, CORCH_ERR_UNSUPPORTED, -EOPNOTSUPP, NULL,
                               "dummy vswitch: sap_create for SAP type %d",
                               (int) sap->type);
    if (!error)
        error = check_new_port_name(sw, sap->name, err);
    if (!error) {
        *ret_port = port_add(lsi, sap->name);
        (*ret_port)->up.role = VSWITCH_PORT_SAP;
    }
    pthread_mutex_unlock(&sw->mutex);
    return error;
}

static void
dummy_port_destroy(struct vswitch *vs, struct dummy_port *port)
{
    struct dummy_switch *sw = dummy_cast(vs);
    if (!port)
        return;
    pthread_mutex_lock(&sw->mutex);
    check_held("port_destroy", port->up.name, port->released);
    sw->destroyed++;
    port_destroy_locked(port);
    pthread_mutex_unlock(&sw->mutex);
}

static void
dummy_port_release(struct vswitch *vs, struct dummy_port *port)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    check_held("port_release", port->up.name, port->released);
    sw->released++;
    port->released = true;
    if (port->peer)
        port->peer->released = true;
    pthread_mutex_unlock(&sw->mutex);
}

/* Checks that a rule only names ports of 'lsi', as a switch would. */
static int
check_rule(const struct dummy_lsi *lsi, const struct vswitch_rule *r,
           struct corch_err *err)
{
    if (!r->in_port || !port_is_on(lsi, r->in_port))
        return corch_err_set(err, -EINVAL, NULL,
                             "dummy vswitch: rule %#llx on %s: in_port is "
                             "not a port of that LSI",
                             (unsigned long long) r->cookie, lsi->up.name);
    for (size_t i = 0; i < r->n_actions; i++)
        if (r->actions[i].type == VSWITCH_ACT_OUTPUT
            && !port_is_on(lsi, r->actions[i].u.port))
            return corch_err_set(err, -EINVAL, NULL,
                                 "dummy vswitch: rule %#llx on %s: output "
                                 "to a port of another LSI",
                                 (unsigned long long) r->cookie, lsi->up.name);
    return 0;
}

static int
dummy_rules_flush(struct vswitch *vs, struct dummy_lsi *lsi, uint64_t cookie,
                  uint64_t mask,
                  struct corch_err *err)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    int error = hook_enter(sw, "rules_flush", err);
    if (!error) {
        size_t j = 0;
        for (size_t i = 0; i < lsi->n_rules; i++) {
            if ((lsi->rules[i].cookie & mask) == (cookie & mask))
                rule_free_actions(&lsi->rules[i]);
            else
                lsi->rules[j++] = lsi->rules[i];
        }
        lsi->n_rules = j;
    }
    pthread_mutex_unlock(&sw->mutex);
    return error;
}

static int
dummy_rules_apply(struct vswitch *vs, struct dummy_lsi *lsi,
                  const struct vswitch_rule_batch *b,
                  struct corch_err *err)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    int error = hook_enter(sw, "rules_apply", err);
    if (lsi->learning && !error)
        error = corch_err_set(err, -EINVAL, NULL,
                              "dummy vswitch: %s is a learning LSI",
                              lsi->up.name);
    for (size_t i = 0; !error && i < b->n_add; i++)
        error = check_rule(lsi, &b->add[i], err);
    if (!error) {
        /* Validated: now apply, deletions first.  Deleted rules become
         * holes (no actions, in_port NULL) compacted at the end. */
        struct rule_index ix;
        index_build(&ix, lsi, b->n_add);
        for (size_t i = 0; i < b->n_del; i++) {
            size_t *slot = index_find(&ix, lsi, &b->del[i]);
            if (*slot != SIZE_MAX) {
                rule_free_actions(&lsi->rules[*slot]);
                lsi->rules[*slot].in_port = NULL;
                *slot = SIZE_MAX - 1;           /* Tombstone. */
            }
        }
        lsi->deleted += b->n_del;
        for (size_t i = 0; i < b->n_add; i++) {
            size_t *slot = index_find(&ix, lsi, &b->add[i]);
            if (*slot == SIZE_MAX) {
                size_t n = lsi->n_rules;
                if (n == 0 || !(n & (n - 1)))
                    lsi->rules = xrealloc(lsi->rules, (n ? 2 * n : 1)
                                                      * sizeof *lsi->rules);
                *slot = lsi->n_rules++;
            } else {
                rule_free_actions(&lsi->rules[*slot]);
            }
            rule_copy(&lsi->rules[*slot], &b->add[i]);
        }
        free(ix.slots);
        size_t j = 0;
        for (size_t i = 0; i < lsi->n_rules; i++)
            if (lsi->rules[i].in_port)
                lsi->rules[j++] = lsi->rules[i];
        lsi->n_rules = j;
        lsi->added += b->n_add;
    }
    pthread_mutex_unlock(&sw->mutex);
    return error;
}

size_t
vswitch_dummy_count_lsis(struct vswitch *vs)
{
    struct dummy_switch *sw = dummy_cast(vs);
    size_t n = 0;
    pthread_mutex_lock(&sw->mutex);
    for (struct dummy_lsi *l = sw->lsis; l; l = l->next)
        n += !l->is_lsi0;
    pthread_mutex_unlock(&sw->mutex);
    return n;
}

size_t
vswitch_dummy_count_ports(struct vswitch *vs)
{
    struct dummy_switch *sw = dummy_cast(vs);
    size_t n = 0;
    pthread_mutex_lock(&sw->mutex);
    for (struct dummy_lsi *l = sw->lsis; l; l = l->next)
        for (struct dummy_port *p = l->ports; p; p = p->next)
            n += !p->phys;
    pthread_mutex_unlock(&sw->mutex);
    return n;
}

size_t
vswitch_dummy_count_rules(struct vswitch *vs, const char *name)
{
    struct dummy_switch *sw = dummy_cast(vs);
    size_t n = 0;
    pthread_mutex_lock(&sw->mutex);
    if (name) {
        struct dummy_lsi *l = find_lsi(sw, name);
        n = l ? l->n_rules : SIZE_MAX;
    } else {
        for (struct dummy_lsi *l = sw->lsis; l; l = l->next)
            n += l->n_rules;
    }
    pthread_mutex_unlock(&sw->mutex);
    return n;
}

bool
vswitch_dummy_has_port(struct vswitch *vs, const char *name)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    bool has = find_port(sw, name) != NULL;
    pthread_mutex_unlock(&sw->mutex);
    return has;
}

bool
vswitch_dummy_has_lsi(struct vswitch *vs, const char *name)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    bool has = find_lsi(sw, name) != NULL;
    pthread_mutex_unlock(&sw->mutex);
    return has;
}

static size_t
lsi_counter(struct vswitch *vs, const char *name, bool added)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    struct dummy_lsi *l = find_lsi(sw, name);
    size_t n = !l ? 0 : added ? l->added : l->deleted;
    pthread_mutex_unlock(&sw->mutex);
    return n;
}

size_t
vswitch_dummy_rules_added(struct vswitch *vs, const char *lsi)
{
    return lsi_counter(vs, lsi, true);
}

size_t
vswitch_dummy_rules_deleted(struct vswitch *vs, const char *lsi)
{
    return lsi_counter(vs, lsi, false);
}

size_t
vswitch_dummy_rules(struct vswitch *vs, const char *name,
                    struct vswitch_rule **ret)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    struct dummy_lsi *l = find_lsi(sw, name);
    size_t n = l ? l->n_rules : 0;
    struct vswitch_rule *copy = xcalloc(n, sizeof *copy);
    for (size_t i = 0; i < n; i++)
        rule_copy(&copy[i], &l->rules[i]);
    pthread_mutex_unlock(&sw->mutex);
    *ret = copy;
    return n;
}

void
vswitch_dummy_rules_free(struct vswitch_rule *rules, size_t n)
{
    for (size_t i = 0; rules && i < n; i++)
        rule_free_actions(&rules[i]);
    free(rules);
}

/* The hooks, on the bases the core holds. */

static int
hook_lsi0_open(struct vswitch *vs, const char *const *ifnames, size_t n,
               struct vswitch_lsi **ret_lsi0, struct corch_err *err)
{
    struct dummy_lsi *l = NULL;
    int error = dummy_lsi0_open(vs, ifnames, n, &l, err);
    if (!error)
        *ret_lsi0 = &l->up;
    return error;
}

static int
hook_lsi0_port(struct vswitch *vs, struct vswitch_lsi *lsi0,
               const char *ifname, struct vswitch_port **ret_port)
{
    struct dummy_port *p = NULL;
    int error = dummy_lsi0_port(vs, lsi_cast(lsi0), ifname, &p);
    if (!error)
        *ret_port = &p->up;
    return error;
}

static int
hook_lsi_create(struct vswitch *vs, const struct vswitch_lsi_spec *spec,
                struct vswitch_lsi **ret_lsi, struct corch_err *err)
{
    struct dummy_lsi *l = NULL;
    int error = dummy_lsi_create(vs, spec, &l, err);
    if (!error)
        *ret_lsi = &l->up;
    return error;
}

static void
hook_lsi_destroy(struct vswitch *vs, struct vswitch_lsi *lsi)
{
    dummy_lsi_destroy(vs, lsi_cast(lsi));
}

static void
hook_lsi_release(struct vswitch *vs, struct vswitch_lsi *lsi)
{
    dummy_lsi_release(vs, lsi_cast(lsi));
}

static int
hook_vlinks_create(struct vswitch *vs, struct vswitch_lsi *a,
                   struct vswitch_lsi *b,
                   const struct vswitch_vlink_spec *specs, size_t n,
                   struct vswitch_port **ret_a, struct vswitch_port **ret_b,
                   struct corch_err *err)
{
    struct dummy_port **pa = xcalloc(n + 1, sizeof *pa);
    struct dummy_port **pb = xcalloc(n + 1, sizeof *pb);
    int error = dummy_vlinks_create(vs, lsi_cast(a), lsi_cast(b), specs, n,
                                    pa, pb, err);
    for (size_t i = 0; !error && i < n; i++) {
        ret_a[i] = &pa[i]->up;
        ret_b[i] = &pb[i]->up;
    }
    free(pa);
    free(pb);
    return error;
}

static int
hook_port_create(struct vswitch *vs, struct vswitch_lsi *lsi,
                 const struct vswitch_port_spec *spec,
                 struct vswitch_port **ret_port,
                 struct vswitch_port_info *ret_info, struct corch_err *err)
{
    struct dummy_port *p = NULL;
    int error = dummy_port_create(vs, lsi_cast(lsi), spec, &p, ret_info, err);
    if (!error)
        *ret_port = &p->up;
    return error;
}

static int
hook_ports_create(struct vswitch *vs, struct vswitch_lsi *lsi,
                  const struct vswitch_port_spec *specs, size_t n,
                  struct vswitch_port **ret_ports,
                  struct vswitch_port_info *ret_infos, struct corch_err *err)
{
    struct dummy_port **ps = xcalloc(n + 1, sizeof *ps);
    int error = dummy_ports_create(vs, lsi_cast(lsi), specs, n, ps,
                                   ret_infos, err);
    for (size_t i = 0; !error && i < n; i++)
        ret_ports[i] = &ps[i]->up;
    free(ps);
    return error;
}

static int
hook_sap_create(struct vswitch *vs, struct vswitch_lsi *lsi,
                const struct vswitch_sap_spec *spec,
                struct vswitch_port **ret_port, struct corch_err *err)
{
    struct dummy_port *p = NULL;
    int error = dummy_sap_create(vs, lsi_cast(lsi), spec, &p, err);
    if (!error)
        *ret_port = &p->up;
    return error;
}

static void
hook_port_destroy(struct vswitch *vs, struct vswitch_port *port)
{
    dummy_port_destroy(vs, port_cast(port));
}

static void
hook_port_release(struct vswitch *vs, struct vswitch_port *port)
{
    dummy_port_release(vs, port_cast(port));
}

static int
hook_rules_apply(struct vswitch *vs, struct vswitch_lsi *lsi,
                 const struct vswitch_rule_batch *b, struct corch_err *err)
{
    return dummy_rules_apply(vs, lsi_cast(lsi), b, err);
}

static int
hook_rules_flush(struct vswitch *vs, struct vswitch_lsi *lsi,
                 uint64_t cookie, uint64_t mask, struct corch_err *err)
{
    return dummy_rules_flush(vs, lsi_cast(lsi), cookie, mask, err);
}

const struct vswitch_class vswitch_dummy_class = {
    .type = "dummy",
    .open = dummy_open,
    .close = dummy_close,
    .lsi0_open = hook_lsi0_open,
    .lsi0_port = hook_lsi0_port,
    .lsi_create = hook_lsi_create,
    .lsi_destroy = hook_lsi_destroy,
    .lsi_release = hook_lsi_release,
    .vlinks_create = hook_vlinks_create,
    .port_create = hook_port_create,
    .ports_create = hook_ports_create,
    .sap_create = hook_sap_create,
    .port_destroy = hook_port_destroy,
    .port_release = hook_port_release,
    .rules_apply = hook_rules_apply,
    .rules_flush = hook_rules_flush,
    .sap_supported = NULL,
};

void
vswitch_dummy_watch_close(struct vswitch *vs,
                          struct vswitch_dummy_census *census)
{
    struct dummy_switch *sw = dummy_cast(vs);
    pthread_mutex_lock(&sw->mutex);
    sw->census = census;
    pthread_mutex_unlock(&sw->mutex);
}
