#include <config.h>
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static enum log_level log_level_ = LOG_LEVEL_INFO;
static pthread_mutex_t log_mutex_ = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
    [LOG_LEVEL_ERR] = "err",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DBG] = "debug",
};

void
log_set_level(enum log_level level)
{
    log_level_ = level;
}

enum log_level
log_get_level(void)
{
    return log_level_;
}

int
log_level_from_string(const char *s, enum log_level *ret_level)
{
    for (size_t i = 0; i < sizeof level_names / sizeof *level_names; i++) {
        if (!strcmp(s, level_names[i])) {
            *ret_level = (enum log_level) i;
            return 0;
        }
    }
    return -EINVAL;
}

void
log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
    if (level > log_level_)
        return;

    struct timeval tv;
    struct tm tm;
    char stamp[32];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    va_list ap;
    va_start(ap, fmt);
    /* One lock so that lines of concurrent threads never interleave. */
    pthread_mutex_lock(&log_mutex_);
    fprintf(stderr, "%s.%03ldZ|%s|%s|", stamp, (long) tv.tv_usec / 1000,
            level_names[level], module);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_mutex_);
    va_end(ap);
}

int
log_ratelimit_ok(struct log_ratelimit *rl, const char *module)
{
    enum { BURST = 5 };
    time_t now = time(NULL);
    int ok;

    pthread_mutex_lock(&log_mutex_);
    if (rl->second != now) {
        unsigned int dropped = rl->dropped;
        rl->second = now;
        rl->count = 0;
        rl->dropped = 0;
        if (dropped) {
            pthread_mutex_unlock(&log_mutex_);
            log_msg(LOG_LEVEL_WARN, module, "%u similar messages suppressed",
                    dropped);
            pthread_mutex_lock(&log_mutex_);
        }
    }
    ok = rl->count < BURST;
    if (ok)
        rl->count++;
    else
        rl->dropped++;
    pthread_mutex_unlock(&log_mutex_);
    return ok;
}
