#ifndef NTMWATCH_CSYSTEMD_SHIM_H
#define NTMWATCH_CSYSTEMD_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <systemd/sd-journal.h>
#include <systemd/sd-daemon.h>
#include <sys/uio.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

/* The few libc calls Swift cannot reach on its own (variadic, or behind _GNU_SOURCE). */

static inline int ntmwatch_set_no_new_privileges(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static inline int ntmwatch_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

/* Children get stdin, stdout and stderr and nothing else the daemon has open. */
static inline int ntmwatch_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}
#endif
