#include <config.h>
#include "common/dummy-faults.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

LOG_MODULE(dummy_faults);

int
dummy_faults_index(const struct dummy_faults *f, const char *hook)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->hooks[i], hook))
            return (int) i;
    return -1;
}

int
dummy_faults_enter(struct dummy_faults *f, const char *hook,
                   struct corch_err *err)
{
    int i = dummy_faults_index(f, hook);
    if (i < 0)
        return 0;
    f->calls[i]++;
    if (f->fail_at[i] && f->calls[i] == f->fail_at[i]) {
        f->fail_at[i] = 0;
        return corch_err_set(err, -EIO, NULL, "%s: injected failure in %s",
                             f->who, hook);
    }
    return 0;
}

int
dummy_faults_fail_at(struct dummy_faults *f, const char *hook,
                     unsigned int nth)
{
    int i = dummy_faults_index(f, hook);
    if (i < 0)
        return -EINVAL;
    f->fail_at[i] = nth ? f->calls[i] + nth : 0;
    return 0;
}

unsigned int
dummy_faults_calls(const struct dummy_faults *f, const char *hook)
{
    int i = dummy_faults_index(f, hook);
    return i >= 0 ? f->calls[i] : 0;
}

void
dummy_faults_from_env(struct dummy_faults *f)
{
    const char *env = getenv("CORCH_DUMMY_FAIL");
    if (!env || !*env)
        return;
    size_t plen = strlen(f->env_prefix);
    _cleanup_free_ char *copy = xstrdup(env);
    char *save = NULL;
    for (char *item = strtok_r(copy, ", ", &save); item;
         item = strtok_r(NULL, ", ", &save)) {
        if (strncmp(item, f->env_prefix, plen))
            continue;
        char *colon = strchr(item, ':');
        unsigned int nth = 1;
        if (colon) {
            *colon = '\0';
            nth = (unsigned int) strtoul(colon + 1, NULL, 10);
        }
        if (dummy_faults_fail_at(f, item + plen, nth) < 0)
            LOG_WARN("CORCH_DUMMY_FAIL: unknown hook \"%s\"", item);
        else
            LOG_INFO("will fail call %u of %s (CORCH_DUMMY_FAIL)", nth, item);
    }
}
