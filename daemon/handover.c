/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restarts that no client notices. The listening sockets outlive the process: a client that
 * connects while the daemon restarts waits in the socket's backlog and is answered by the next
 * process, never refused, and a container's socket stays the same socket in the directory the
 * runtime bind-mounted.
 *
 * - Under systemd, cgdelegated.socket holds the admin socket, and each container's listening
 *   socket goes to systemd's fd store (FDSTORE=1, named "container-NAME") when it is bound and
 *   leaves it (FDSTOREREMOVE=1) when the container is unregistered; `systemctl restart` hands
 *   them all to the next process.
 * - Without systemd, SIGUSR2 makes the daemon re-execute itself in place (same pid): it stops
 *   accepting, lets the connections in the middle of a request finish (up to
 *   HANDOVER_DRAIN_USEC), closes them and the idle ones (long-lived clients reconnect), waits
 *   for the worker, and execs /proc/self/exe with
 *   the listening sockets as fds 3.. in the sd_listen_fds() form (LISTEN_PID, LISTEN_FDS,
 *   LISTEN_FDNAMES).
 *
 * A stop (SIGTERM, SIGINT) drains the same way before exiting, so that a call in progress gets
 * its answer; the connections waiting in the backlogs are the next process's.
 *
 * Either way the next process finds the fds by name (handover_take()) where it would bind, and
 * registrations come back from the state files as after any restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon.h"

#define HANDOVER_DRAIN_USEC (2 * 1000000) /* connections get this long to finish */
#define HANDOVER_POLL_USEC (20 * 1000)
#define CONTAINER_PREFIX "container-"

static GHashTable *inherited; /* fd name -> fd + 1 (0 is "none" in a GHashTable) */
static char **saved_argv;
static char exe_path[PATH_MAX]; /* what to re-execute: the path, so that an upgrade takes effect */

static void unstore_name(const char *name) {
        if (!getenv("NOTIFY_SOCKET"))
                return;
        _cleanup_free_ char *msg = g_strdup_printf("FDSTOREREMOVE=1\nFDNAME=%s", name);
        (void) sd_notify(false, msg);
}

void handover_init(int argc, char *argv[]) {
        (void) argc;
        saved_argv = argv;
        ssize_t l = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
        exe_path[l > 0 ? l : 0] = '\0';
        char **names = NULL;
        int n = sd_listen_fds_with_names(true, &names);
        inherited = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
        GHashTable *twice = g_hash_table_new(g_str_hash, g_str_equal);
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                /* Only listening Unix stream sockets are ours; anything else is closed. */
                if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0 || !names || !names[i]) {
                        (void) close(fd);
                        continue;
                }
                (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
                /* A socket unit's fd is named after the unit: that is the admin socket. */
                const char *name = startswith(names[i], CONTAINER_PREFIX) ? names[i] : "admin";
                gpointer old = NULL;
                if (g_hash_table_lookup_extended(inherited, name, NULL, &old)) {
                        /* Two sockets under one name (a stale one left in the store): neither can
                         * be trusted to be the one at the path; both go, the path is bound anew. */
                        (void) close(fd);
                        (void) close(GPOINTER_TO_INT(old) - 1);
                        g_hash_table_remove(inherited, name);
                        g_hash_table_add(twice, (gpointer) name);
                } else if (!g_hash_table_contains(twice, name))
                        g_hash_table_insert(inherited, strdup(name), GINT_TO_POINTER(fd + 1));
                else
                        (void) close(fd);
        }
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, twice);
        while (g_hash_table_iter_next(&it, &k, NULL))
                if (startswith(k, CONTAINER_PREFIX))
                        unstore_name(k);
        g_hash_table_destroy(twice);
        strv_free(names);
}

static int take(const char *name) {
        gpointer v = NULL;
        if (!inherited || !g_hash_table_lookup_extended(inherited, name, NULL, &v))
                return -EBADF;
        g_hash_table_remove(inherited, name);
        return GPOINTER_TO_INT(v) - 1;
}

int handover_take_admin(void) {
        return take("admin");
}

int handover_take_container(const char *container) {
        _cleanup_free_ char *name = g_strdup_printf(CONTAINER_PREFIX "%s", container);
        return take(name);
}

void handover_close_unclaimed(void) {
        GHashTableIter it;
        gpointer k, v;
        if (!inherited)
                return;
        g_hash_table_iter_init(&it, inherited);
        while (g_hash_table_iter_next(&it, &k, &v)) {
                log_msg(LOG_INFO, "closing the handed-over socket %s: no such registration", (const char *) k);
                (void) close(GPOINTER_TO_INT(v) - 1);
                if (startswith(k, CONTAINER_PREFIX))
                        unstore_name(k);
                g_hash_table_iter_remove(&it);
        }
}

/* systemd's fd store, when there is one (NOTIFY_SOCKET); elsewhere a no-op. */
void handover_store(const Container *c) {
        if (!getenv("NOTIFY_SOCKET") || c->listener.fd < 0)
                return;
        _cleanup_free_ char *msg = g_strdup_printf("FDSTORE=1\nFDNAME=" CONTAINER_PREFIX "%s", c->name);
        int fd = c->listener.fd;
        if (sd_pid_notify_with_fds(0, false, msg, &fd, 1) <= 0)
                log_msg(LOG_WARNING, "container %s: its socket is not in systemd's fd store (FileDescriptorStoreMax=?): "
                                     "a restart re-binds it", c->name);
}

void handover_unstore(const Container *c) {
        _cleanup_free_ char *name = g_strdup_printf(CONTAINER_PREFIX "%s", c->name);
        unstore_name(name);
}

/* ---- re-executing in place ---- */

/* Says in the environment which fds the next process gets, then moves the n fds in fds[] to
 * 3.. in order, without CLOEXEC. Once the first of them is in place the daemon's own fds there
 * are gone: a failure from then on is fatal (the caller execs or exits). */
static int pass_fds(int *fds, char **names, size_t n) {
        _cleanup_free_ char *pid = g_strdup_printf("%d", (int) getpid()), *count = g_strdup_printf("%zu", n);
        gchar *joined = g_strjoinv(":", names);
        int r = setenv("LISTEN_PID", pid, 1) < 0 || setenv("LISTEN_FDS", count, 1) < 0 ||
                                setenv("LISTEN_FDNAMES", joined, 1) < 0
                        ? -errno
                        : 0;
        g_free(joined);
        /* First out of the way of 3..3+n-1 (copies, closed at exec), then into place. */
        for (size_t i = 0; r >= 0 && i < n; i++) {
                int high = fcntl(fds[i], F_DUPFD_CLOEXEC, (int) (SD_LISTEN_FDS_START + n));
                if (high < 0) {
                        r = -errno;
                        while (i-- > 0)
                                (void) close(fds[i]);
                        break;
                }
                fds[i] = high;
        }
        if (r < 0) {
                (void) unsetenv("LISTEN_PID");
                (void) unsetenv("LISTEN_FDS");
                (void) unsetenv("LISTEN_FDNAMES");
                return r;
        }
        for (size_t i = 0; i < n; i++)
                if (dup2(fds[i], SD_LISTEN_FDS_START + (int) i) < 0) { /* dup2 clears FD_CLOEXEC */
                        log_msg(LOG_CRIT, "cannot hand over the listening sockets: %s; exiting", strerror(errno));
                        _exit(EXIT_FAILURE);
                }
        return 0;
}

static void reexec(Daemon *d) {
        size_t n = 0, max = g_hash_table_size(d->containers) + 1;
        int *fds = calloc(max, sizeof(int));
        char **names = calloc(max + 1, sizeof(char *));
        GHashTableIter it;
        gpointer v;
        if (!fds || !names)
                goto fail;
        if (d->admin.fd >= 0) {
                fds[n] = d->admin.fd;
                names[n++] = strdup("admin");
        }
        g_hash_table_iter_init(&it, d->containers);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                Container *c = v;
                if (c->listener.fd >= 0) {
                        fds[n] = c->listener.fd;
                        names[n++] = g_strdup_printf(CONTAINER_PREFIX "%s", c->name);
                }
        }
        /* The path, not /proc/self/exe: after an upgrade replaced the binary, the new one runs. */
        const char *exe = exe_path[0] && access(exe_path, X_OK) == 0 ? exe_path : "/proc/self/exe";
        if (access(exe, X_OK) < 0) {
                log_msg(LOG_ERR, "cannot re-execute %s: %s; serving on", exe, strerror(errno));
                goto fail;
        }
        log_msg(LOG_INFO, "re-executing %s with %zu listening sockets", exe, n);
        if (pass_fds(fds, names, n) >= 0) {
                execv(exe, saved_argv);
                /* The fds from 3 on are not the daemon's any more: it cannot serve on. */
                log_msg(LOG_CRIT, "cannot re-execute: %s; exiting", strerror(errno));
                _exit(EXIT_FAILURE);
        }
        log_msg(LOG_ERR, "cannot hand over the listening sockets: %s; serving on", strerror(errno));
fail:
        free(fds);
        strv_free(names);
        d->handover = false;
        server_accept_resume(d);
}

static bool busy(Daemon *d) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, d->containers);
        while (g_hash_table_iter_next(&it, NULL, &v))
                if (((Container *) v)->job)
                        return true;
        return false;
}

static int on_drain(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        bool late = usec >= d->handover_deadline;
        if (busy(d) || (server_n_busy_conns(d) > 0 && !late)) {
                (void) sd_event_source_set_time(s, usec + HANDOVER_POLL_USEC);
                return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        if (server_n_conns(d) > 0)
                log_msg(LOG_INFO, "closing the %zu open connections (%zu in the middle of a request)", server_n_conns(d),
                        server_n_busy_conns(d));
        server_close_all(d);
        if (d->handover_exit)
                return sd_event_exit(d->event, 0);
        reexec(d);
        return 0;
}

int handover_begin(Daemon *d, bool exit) {
        if (d->handover) {
                d->handover_exit |= exit; /* a stop during a re-execution's drain wins */
                return 0;
        }
        uint64_t now;
        int r = sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        d->handover = true;
        d->handover_exit = exit;
        d->handover_deadline = now + HANDOVER_DRAIN_USEC;
        log_msg(LOG_INFO, "%s: no new connections; letting the open ones finish",
                exit ? "stopping" : "re-execution requested");
        server_accept_pause(d);
        return sd_event_add_time(d->event, NULL, CLOCK_MONOTONIC, now + HANDOVER_POLL_USEC, 0, on_drain, d);
}
