/* The registry of vSwitch drivers: see vswitch.h. */
#include <config.h>
#include "vswitch.h"

#include <errno.h>
#include <pthread.h>
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
