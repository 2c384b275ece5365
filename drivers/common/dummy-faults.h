/* Failure injection shared by the dummy drivers: counts the calls of each
 * hook and makes the nth call of a chosen hook fail with -EIO, set by a
 * test (compute_dummy_fail_at / vswitch_dummy_fail_at) or by the
 * environment (CORCH_DUMMY_FAIL="vswitch.rules_apply:1,compute.start:2")
 * for end-to-end tests of the daemon.  Not thread-safe: each dummy calls
 * these with its own mutex held. */
#ifndef CORCH_DUMMY_FAULTS_H
#define CORCH_DUMMY_FAULTS_H 1

#include <stddef.h>

#include "util.h"

struct dummy_faults {
    const char *who;            /* In error messages: "dummy engine". */
    const char *env_prefix;     /* Items of CORCH_DUMMY_FAIL: "compute.". */
    const char *const *hooks;   /* Hook names, 'n' of them. */
    size_t n;
    unsigned int *calls;        /* Calls so far, per hook ('n' entries). */
    unsigned int *fail_at;      /* Absolute call number that fails, 0 none. */
};

/* Index of 'hook', or -1. */
int dummy_faults_index(const struct dummy_faults *, const char *hook);
/* Counts a call of 'hook' (which must be known); -EIO with a message in
 * 'err' if this is the call that must fail, else 0. */
int dummy_faults_enter(struct dummy_faults *, const char *hook,
                       struct corch_err *err);
/* Makes the nth call from now of 'hook' fail (0: none).  -EINVAL if the
 * hook is unknown. */
int dummy_faults_fail_at(struct dummy_faults *, const char *hook,
                         unsigned int nth);
/* Calls of 'hook' so far (0 if unknown). */
unsigned int dummy_faults_calls(const struct dummy_faults *, const char *hook);
/* Applies the items of CORCH_DUMMY_FAIL that start with env_prefix. */
void dummy_faults_from_env(struct dummy_faults *);

#endif
