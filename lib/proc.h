/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Processes and pid namespaces: which pid namespace a container lives in, translating pids
 * between the daemon's namespace and a container's, and getting a pidfd for a pid as the container
 * sees it. A pidfd pins one process, so decisions made about it cannot be fooled by pid reuse.
 * Pids a client sends are always read in the container's namespace, never in the daemon's.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

typedef struct PidNs {
        dev_t dev;
        ino_t ino;
        int fd;         /* the namespace file, open (keeps it alive, and lets a helper setns()) */
        unsigned level; /* how many levels below the daemon's own pid namespace (0: the same) */
} PidNs;

#define PIDNS_NULL ((PidNs) { .fd = -EBADF })

/* The pid namespace of host_pid (a pid in the daemon's namespace). -ESRCH when it is gone. */
int pidns_of_pid(pid_t host_pid, PidNs *ret);
/* The same from a pidfd. */
int pidns_of_pidfd(int pidfd, PidNs *ret);
void pidns_done(PidNs *ns);
bool pidns_equal(const PidNs *a, const PidNs *b);

/* The pid, in the daemon's namespace, of the process a pidfd refers to (fdinfo's "Pid:").
 * -ESRCH when it has exited, -EBADF/-EINVAL when fd is not a pidfd. */
int proc_pidfd_host_pid(int pidfd, pid_t *ret);

/* Whether host_pid lives in ns or a namespace below it, and if so its pid as ns sees it
 * (NSpid). -ESRCH when it does not (the same answer as for a pid that does not exist: a
 * container learns nothing about processes outside it). */
int proc_pid_in_ns(pid_t host_pid, const PidNs *ns, pid_t *ret_ns_pid);

/* Not used by the daemon any more: a helper inside the container's namespace can be watched
 * there (its /proc shows the daemon's argv, cgroups and mounts); the daemon looks for a pid among
 * the processes below the container's root instead. Kept for tools that start the process.
 *
 * A pidfd for the process that ns sees as ns_pid. At level 0 pidfd_open(); below, a short-lived
 * helper that enters ns (setns, then fork) opens it there and passes it back, because the
 * kernel resolves a pid only in the caller's own namespace. -ESRCH when ns has no such pid. */
int proc_open_in_ns(const PidNs *ns, pid_t ns_pid, int *ret_pidfd);

/* Whether the process behind pidfd is still alive (pidfd_send_signal 0). */
bool proc_pidfd_alive(int pidfd);
