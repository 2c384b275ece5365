/* Running a program: always an argv array (never a shell), a timeout, and
 * the output captured.  Used by the engines (NSF scripts, docker CLI). */
#ifndef CORCH_PROC_H
#define CORCH_PROC_H 1

#include <stddef.h>
#include <sys/types.h>

struct proc_options {
    const char *cwd;            /* Working directory, or NULL. */
    char *const *envp;          /* Environment, or NULL for a minimal one
                                 * (PATH only). */
    int netns_fd;               /* setns() into this before exec, or -1. */
    unsigned int timeout_ms;    /* Killed (SIGKILL to its process group)
                                 * after this; 0 = no limit. */
    size_t max_output;          /* Bytes of stdout / stderr kept (the tail);
                                 * 0 = 64 KiB. */
    const unsigned int *cpus;   /* CPU affinity of the program (inherited
                                 * by its children), or NULL: inherit. */
    size_t n_cpus;              /* Entries in 'cpus'. */
};

struct proc_result {
    int status;                 /* Exit code, or 128 + signal. */
    int timed_out;              /* Nonzero if killed by the timeout. */
    char *out;                  /* Captured stdout (NUL-terminated). */
    char *err;                  /* Captured stderr (NUL-terminated). */
};

/* Runs argv[0] (an absolute path) with 'argv' and waits for it.  Returns 0
 * if it could be run (whatever its exit status: see ret->status) or a
 * negative errno if it could not be started. */
int proc_run(char *const argv[], const struct proc_options *,
             struct proc_result *ret);
void proc_result_free(struct proc_result *);

#endif
