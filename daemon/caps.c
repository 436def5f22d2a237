/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's privileges after setup. cgdelegated runs as root; once its directories, signal
 * handling and listening sockets are set up, and before any thread or client exists, it keeps
 * only the capabilities below (effective, permitted and bounding set), clears the inheritable
 * and ambient sets and sets no_new_privs, so that nothing it runs or becomes can regain more.
 * Each capability is here for the operations named with it; root's plain uid 0 covers the rest
 * (cgroupfs and /run/cgdelegate are root's own files).
 */
#include <errno.h>
#include <cap-ng.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "daemon.h"

static const struct {
        int cap;
        const char *why;
} kept[] = {
        /* A container's socket is given to its root as the host sees it (SocketUID, SocketGID). */
        { CAP_CHOWN, "chown of a container's socket to SocketUID/SocketGID" },
        /* A runtime may hand a container's cgroup (its files) to the container's root: the daemon
         * writes those files, and makes and removes groups in those directories, all the same. */
        { CAP_DAC_OVERRIDE, "writing cgroup files and directories owned by a container's root" },
        /* Kill, where no cgroup2 hierarchy offers cgroup.kill (legacy v1 hosts), signals each
         * process by pidfd; they may run as other users (a user namespace's root is an
         * unprivileged uid on the host). */
        { CAP_KILL, "signals to a container's processes of other users (Kill without cgroup.kill)" },
        /* Moving a process into a v1 cpuset group changes its CPU affinity, which the kernel
         * allows only to a mover whose capabilities include the process's, or with this one. */
        { CAP_SYS_NICE, "moving processes into v1 cpuset groups (cpuset_can_attach, cap_safe_nice)" },
        /* Whether a process is the container's is read from its pid namespace
         * (/proc/PID/ns/pid), which the kernel shows only to whoever may ptrace-read it. */
        { CAP_SYS_PTRACE, "reading /proc/PID/ns of a container's processes of other users" },
};

/* Whether the process holds nothing beyond the kept set already (a unit's
 * CapabilityBoundingSet= did it): then there is nothing to drop, and no CAP_SETPCAP to do it. */
static bool only_kept(void) {
        capng_get_caps_process();
        for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
                bool keep = false;
                for (size_t i = 0; i < ELEMENTSOF(kept); i++)
                        keep |= kept[i].cap == cap;
                if (!keep && (capng_have_capability(CAPNG_EFFECTIVE, (unsigned) cap) ||
                              capng_have_capability(CAPNG_PERMITTED, (unsigned) cap) ||
                              capng_have_capability(CAPNG_BOUNDING_SET, (unsigned) cap)))
                        return false;
        }
        return true;
}

int caps_drop(void) {
        /* No exec, setuid binary or file capability can give back what is dropped below. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return log_errno(-errno, "cannot set no_new_privs: %s", strerror(errno));
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return log_errno(-errno, "cannot clear the ambient capabilities: %s", strerror(errno));
        if (only_kept())
                return 0;
        capng_clear(CAPNG_SELECT_BOTH);
        for (size_t i = 0; i < ELEMENTSOF(kept); i++)
                if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, (unsigned) kept[i].cap) < 0)
                        return log_errno(-EINVAL, "cannot keep capability %d", kept[i].cap);
        int r = capng_apply(CAPNG_SELECT_BOTH);
        if (r < 0)
                return log_errno(-EPERM, "cannot drop capabilities (libcap-ng: %d): the daemon refuses to run with more "
                                         "than it needs", r);
        for (size_t i = 0; i < ELEMENTSOF(kept); i++)
                log_msg(LOG_DEBUG, "keeping %s: %s", capng_capability_to_name((unsigned) kept[i].cap), kept[i].why);
        return 0;
}
