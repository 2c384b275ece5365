/* Logging: leveled messages to stderr, each tagged with its module.
 *
 * Every .c file that logs declares its module once:
 *     LOG_MODULE(rest);
 * and then calls LOG_ERR / LOG_WARN / LOG_INFO / LOG_DBG with a printf
 * format.  LOG_WARN_RL is rate-limited (at most a few messages per second
 * per call site) for warnings that a client or the network can repeat. */
#ifndef CORCH_LOG_H
#define CORCH_LOG_H 1

#include <stdarg.h>
#include <time.h>

enum log_level {
    LOG_LEVEL_ERR,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DBG,
};

/* Messages above this level are dropped.  Default LOG_LEVEL_INFO. */
void log_set_level(enum log_level);
enum log_level log_get_level(void);
/* Parses "err", "warn", "info", "debug".  Returns 0 or -EINVAL. */
int log_level_from_string(const char *, enum log_level *ret_level);

void log_msg(enum log_level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Per-call-site token bucket for LOG_*_RL. */
struct log_ratelimit {
    time_t second;      /* The wall-clock second being counted. */
    unsigned int count; /* Messages emitted in that second. */
    unsigned int dropped; /* Messages suppressed since the last emitted. */
};
/* Returns nonzero if a message may be emitted now; reports drops. */
int log_ratelimit_ok(struct log_ratelimit *, const char *module);

#define LOG_MODULE(NAME) \
    static const char *const log_module_ __attribute__((unused)) = #NAME

#define LOG_ERR(...)  log_msg(LOG_LEVEL_ERR, log_module_, __VA_ARGS__)
#define LOG_WARN(...) log_msg(LOG_LEVEL_WARN, log_module_, __VA_ARGS__)
#define LOG_INFO(...) log_msg(LOG_LEVEL_INFO, log_module_, __VA_ARGS__)
#define LOG_DBG(...)                                            \
    do {                                                        \
        if (log_get_level() >= LOG_LEVEL_DBG)                   \
            log_msg(LOG_LEVEL_DBG, log_module_, __VA_ARGS__);   \
    } while (0)
#define LOG_WARN_RL(...)                                        \
    do {                                                        \
        static struct log_ratelimit rl_;                        \
        if (log_ratelimit_ok(&rl_, log_module_))                \
            log_msg(LOG_LEVEL_WARN, log_module_, __VA_ARGS__);  \
    } while (0)

#endif
