#ifndef NTMWATCH_CSYSTEMD_SHIM_H
#define NTMWATCH_CSYSTEMD_SHIM_H
#include <systemd/sd-journal.h>
#include <systemd/sd-daemon.h>
#include <sys/uio.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include <malloc.h>

/* The few libc calls Swift cannot reach on its own: variadic, or declared only under _GNU_SOURCE,
 * which this header must not define (it changes glibc's struct definitions, and Swift then sees
 * two different fd_set types between this module and Dispatch's). */
extern int pipe2(int pipefd[2], int flags);

static inline int ntmwatch_set_no_new_privileges(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* Orphaned descendants are re-parented to the caller instead of PID 1, so it can kill them all. */
static inline int ntmwatch_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/* No core file when the helper re-raises its program's fatal signal; prctl, not setrlimit, which
 * the unit's SystemCallFilter=~@resources refuses. */
static inline int ntmwatch_disable_core_dumps(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static inline int ntmwatch_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

/* Children get stdin, stdout and stderr and nothing else the daemon has open. */
static inline int ntmwatch_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}
#endif
