/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GroupEmpty and MemoryEvent for the containers that subscribed, and RemoveOnEmpty: the daemon
 * watches a container's groups while one of its connections subscribed or one of its groups was
 * made with RemoveOnEmpty=true.
 *
 * Sources, per group:
 * - emptiness: cgroup.events ("populated 0|1") in the cgroup2 hierarchy, through inotify
 *   (IN_MODIFY). On a hybrid host that is the unified hierarchy the daemon places processes in
 *   too. A host with no cgroup2 hierarchy has nothing to watch: GroupEmpty is NotSupported there.
 * - memory, cgroup2 memory controller: memory.events ("high", "max", "oom", "oom_kill"
 *   counters), through inotify.
 * - memory, v1 memory controller: an eventfd registered through cgroup.event_control on
 *   memory.oom_control, signalled at each OOM; "oom" counts those, "oom_kill" is the file's own
 *   counter. v1 has no notification for "high" or "max".
 *
 * Only changes are reported: the first reading of a file is the baseline. A cgroup2 group whose
 * parent does not pass the memory controller down has no memory.events, and no MemoryEvent. A group is watched
 * from when the container is watched, or from when it is made through the daemon; one the
 * container makes itself (with a delegated v2 subtree) is seen at the next Subscribe. inotify
 * takes paths, so each watch is added through /proc/self/fd of a group fd opened below the
 * container's root (safeopen.c): the path resolves to that directory, wherever it is.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgpath.h"
#include "daemon.h"

static const char *const mem_kinds[_MEM_EVENT_MAX] = { "high", "max", "oom", "oom_kill" };

struct Watch {
        Container *c;
        char *rel;                     /* "." or "a/b", as cgtree.c takes it */
        int wd_events, wd_memory;      /* inotify: cgroup.events, memory.events; -1 when none */
        int oom_fd;                    /* v1: the eventfd registered on memory.oom_control */
        sd_event_source *oom_source;
        sd_event_source *recheck;      /* v1: memory.oom_control read again after an OOM */
        bool populated;
        bool frozen;                   /* cgroup.events' other line: a change of it is no emptying */
        bool remove_on_empty;          /* made with RemoveOnEmpty=true */
        uint64_t mem[_MEM_EVENT_MAX];  /* counts seen last */
        Watch *next;                   /* the container's */
};

static int unified(const Container *c) {
        int u = c->daemon->host->unified;
        return u >= 0 && (registry_move_mask(c) & CG_HMASK(u)) ? u : -1;
}

/* The hierarchy of the memory controller in this container's tree, and whether it is v1. */
static int memory_hier(const Container *c, bool *ret_v1) {
        const CgHost *h = c->daemon->host;
        int hier = h->by_controller[CG_CTRL_MEMORY];
        if (hier < 0 || !(c->tree->hierarchies & CG_HMASK(hier)))
                return -1;
        *ret_v1 = h->hierarchies[hier].version == 1;
        return hier;
}

static char *display(const char *rel, char buf[static CG_PATH_MAX + 2]) {
        snprintf(buf, CG_PATH_MAX + 2, "/%s", streq(rel, ".") ? "" : rel);
        return buf;
}

/* ---- reading the files ---- */

/* "key value" lines: the value of key, or -ENOENT. */
static int keyed(const char *text, const char *key, uint64_t *ret) {
        size_t l = strlen(key);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, key, l) == 0 && p[l] == ' ') {
                        *ret = strtoull(p + l + 1, NULL, 10);
                        return 0;
                }
        return -ENOENT;
}

static int read_populated(Watch *w, bool *ret_populated, bool *ret_frozen) {
        _cleanup_free_ char *text = NULL;
        uint64_t v, f = 0;
        int k = cg_tree_read(w->c->tree, unified(w->c), w->rel, "cgroup.events", &text, NULL);
        if (k >= 0 && (k = keyed(text, "populated", &v)) >= 0) {
                *ret_populated = v != 0;
                (void) keyed(text, "frozen", &f); /* not in the root's file, nor before 5.2 */
                *ret_frozen = f != 0;
        }
        return k;
}

static void read_memory(Watch *w, uint64_t out[static _MEM_EVENT_MAX]) {
        bool v1 = false;
        int hier = memory_hier(w->c, &v1);
        _cleanup_free_ char *text = NULL;
        memcpy(out, w->mem, sizeof w->mem);
        if (hier < 0 || cg_tree_read(w->c->tree, hier, w->rel, v1 ? "memory.oom_control" : "memory.events", &text, NULL) < 0)
                return;
        if (v1) {
                (void) keyed(text, "oom_kill", &out[MEM_EVENT_OOM_KILL]);
                return; /* "oom" is counted from the eventfd */
        }
        for (int i = 0; i < _MEM_EVENT_MAX; i++)
                (void) keyed(text, mem_kinds[i], &out[i]);
}

/* ---- what a change means ---- */

static void emit_memory(Watch *w, const uint64_t now[static _MEM_EVENT_MAX]) {
        char path[CG_PATH_MAX + 2];
        for (int i = 0; i < _MEM_EVENT_MAX; i++)
                if (now[i] > w->mem[i]) {
                        w->mem[i] = now[i];
                        server_emit_event(w->c, EVENT_MEMORY, "MemoryEvent", "sst", display(w->rel, path),
                                          mem_kinds[i], now[i]);
                }
}

static void remove_empty(Watch *w) {
        Container *c = w->c;
        char path[CG_PATH_MAX + 2];
        CgFailure f = {};
        unsigned before = registry_count_groups(c);
        int k = cg_tree_remove(c->tree, w->rel, registry_move_mask(c), false, &f);
        if (k == -EBUSY)
                return; /* a child group, or a process came back: it stays, and is watched on */
        if (k >= 0) {
                unsigned removed = before - registry_count_groups(c);
                budget_return_groups(&c->daemon->budget, removed);
                c->groups -= removed < c->groups ? removed : c->groups;
        }
        audit_log(c->daemon, c, "RemoveOnEmpty", display(w->rel, path), "", k, NULL);
        /* The watch goes with the group (IN_IGNORED), or now if removing it failed otherwise. */
        if (k < 0)
                w->remove_on_empty = false;
}

/* The kernel notifies cgroup.events at most every 10 ms, so a process that joins a group and
 * ends within that shows as one change that left "populated 0" as it was. A notified change that
 * is not of "frozen" either was such a one; a group read again without a notification (notified
 * false: the kernel dropped events) changed only if "populated" did. */
static void populated_changed(Watch *w, bool notified) {
        bool now, frozen;
        char path[CG_PATH_MAX + 2];
        if (read_populated(w, &now, &frozen) < 0)
                return;
        bool blip = notified && !now && !w->populated && frozen == w->frozen;
        w->frozen = frozen;
        if (now == w->populated && !blip)
                return;
        w->populated = now;
        if (now)
                return;
        server_emit_event(w->c, EVENT_GROUP_EMPTY, "GroupEmpty", "s", display(w->rel, path));
        if (w->remove_on_empty && !streq(w->rel, "."))
                remove_empty(w);
}

/* ---- watches ---- */

static int add_inotify(Daemon *d, Watch *w, int hier, const char *file) {
        _cleanup_close_ int dfd = cg_tree_open_group(w->c->tree, hier, w->rel);
        if (dfd < 0)
                return dfd;
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", dfd, file);
        int wd = inotify_add_watch(d->inotify_fd, proc, IN_MODIFY);
        if (wd < 0)
                return -errno;
        g_hash_table_insert(d->watches, GINT_TO_POINTER(wd), w);
        return wd;
}

#define OOM_RECHECK_USEC (100 * 1000)

static int on_recheck(sd_event_source *s, uint64_t usec, void *userdata) {
        Watch *w = userdata;
        uint64_t now[_MEM_EVENT_MAX];
        read_memory(w, now);
        now[MEM_EVENT_OOM] = w->mem[MEM_EVENT_OOM];
        emit_memory(w, now);
        return 0;
}

/* The kernel signals the eventfd at each OOM of the group, and once more when the group is
 * removed: a group that cannot be read any more had no OOM. */
static int on_oom(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Watch *w = userdata;
        uint64_t n = 0, now[_MEM_EVENT_MAX];
        bool v1;
        _cleanup_free_ char *text = NULL;
        if (read(fd, &n, sizeof n) != sizeof n)
                return 0;
        int hier = memory_hier(w->c, &v1);
        if (hier < 0 || cg_tree_read(w->c->tree, hier, w->rel, "memory.oom_control", &text, NULL) < 0) {
                w->oom_source = sd_event_source_disable_unref(w->oom_source);
                w->oom_fd = safe_close(w->oom_fd);
                return 0;
        }
        read_memory(w, now);
        now[MEM_EVENT_OOM] = w->mem[MEM_EVENT_OOM] + n;
        emit_memory(w, now);
        /* The eventfd fires when the OOM starts, before the kill the file counts: look again. */
        if (!w->recheck)
                (void) sd_event_add_time_relative(w->c->daemon->event, &w->recheck, CLOCK_MONOTONIC, OOM_RECHECK_USEC, 0,
                                                  on_recheck, w);
        else if (sd_event_source_set_time_relative(w->recheck, OOM_RECHECK_USEC) >= 0)
                (void) sd_event_source_set_enabled(w->recheck, SD_EVENT_ONESHOT);
        return 0;
}

/* The v1 OOM notification (memory.rst, "OOM Control"): "EVENTFD OOM_CONTROL_FD" written to the
 * group's cgroup.event_control. The kernel keeps the eventfd; the file's fd may go. */
static int add_oom(Daemon *d, Watch *w, int hier) {
        _cleanup_close_ int dfd = cg_tree_open_group(w->c->tree, hier, w->rel);
        if (dfd < 0)
                return dfd;
        _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        _cleanup_close_ int ofd = openat(dfd, "memory.oom_control", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_close_ int cfd = openat(dfd, "cgroup.event_control", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (efd < 0 || ofd < 0 || cfd < 0)
                return -errno;
        char line[32];
        int len = snprintf(line, sizeof line, "%d %d", efd, ofd);
        if (write(cfd, line, (size_t) len) != len)
                return -errno;
        int r = sd_event_add_io(d->event, &w->oom_source, efd, EPOLLIN, on_oom, w);
        if (r < 0)
                return r;
        w->oom_fd = TAKE_FD(efd);
        return 0;
}

static Watch *watch_find(Container *c, const char *rel) {
        for (Watch *w = c->watches; w; w = w->next)
                if (streq(w->rel, rel))
                        return w;
        return NULL;
}

static void watch_free(Daemon *d, Watch *w) {
        for (int i = 0; i < 2; i++) {
                int wd = i ? w->wd_memory : w->wd_events;
                if (wd < 0)
                        continue;
                g_hash_table_remove(d->watches, GINT_TO_POINTER(wd));
                (void) inotify_rm_watch(d->inotify_fd, wd); /* EINVAL when the kernel dropped it */
        }
        w->oom_source = sd_event_source_disable_unref(w->oom_source);
        w->recheck = sd_event_source_disable_unref(w->recheck);
        safe_close(w->oom_fd);
        free(w->rel);
        free(w);
}

/* Watches group rel of c (again, if it was); the current values are the baseline. */
static int watch_group(Container *c, const char *rel, bool remove_on_empty) {
        Daemon *d = c->daemon;
        Watch *w = watch_find(c, rel);
        if (w) {
                w->remove_on_empty |= remove_on_empty;
                return 0;
        }
        char *copy = strdup(rel);
        w = copy ? malloc(sizeof *w) : NULL;
        if (!w) {
                free(copy);
                return -ENOMEM;
        }
        *w = (Watch) { .c = c, .rel = copy, .wd_events = -1, .wd_memory = -1, .oom_fd = -EBADF,
                       .remove_on_empty = remove_on_empty, .next = c->watches };
        int k = 0;
        if (unified(c) >= 0 && (k = add_inotify(d, w, unified(c), "cgroup.events")) >= 0) {
                w->wd_events = k;
                (void) read_populated(w, &w->populated, &w->frozen);
        }
        bool v1 = false;
        int hier = memory_hier(c, &v1);
        if (hier >= 0 && k >= 0 && v1)
                k = add_oom(d, w, hier);
        else if (hier >= 0 && k >= 0 && (k = add_inotify(d, w, hier, "memory.events")) >= 0)
                w->wd_memory = k;
        else if (k == -ENOENT && hier >= 0 && !v1 && w->wd_events >= 0)
                k = 0; /* memory is not enabled for this group (its parent's subtree_control): no events */
        if (k < 0) {
                watch_free(d, w);
                return k;
        }
        read_memory(w, w->mem);
        c->watches = w;
        return 0;
}

/* Every watch of c, or with keep_remove_on_empty those of groups made with RemoveOnEmpty. */
static void unwatch(Container *c, bool keep_remove_on_empty) {
        for (Watch **pp = &c->watches; *pp;) {
                Watch *w = *pp;
                if (keep_remove_on_empty && w->remove_on_empty) {
                        pp = &w->next;
                        continue;
                }
                *pp = w->next;
                watch_free(c->daemon, w);
        }
}

/* Whether a connection of c subscribed: then all its groups are watched (watch_all). */
static bool subscribed(const Container *c) {
        for (const Conn *x = c->conns; x; x = x->cnext)
                if (x->events)
                        return true;
        return false;
}

/* Every group of c, watched; a group that cannot be is logged and left out. */
static int watch_container(Container *c) {
        _cleanup_strv_free_ char **l = NULL;
        bool v1;
        int hier = unified(c) >= 0 ? unified(c) : memory_hier(c, &v1); /* Subscribe made sure of one */
        int k = hier < 0 ? -ENXIO : cg_tree_children(c->tree, hier, ".", true, &l);
        if (k < 0)
                return k;
        k = watch_group(c, ".", false);
        for (char **p = l; k >= 0 && *p; p++)
                k = watch_group(c, *p, false);
        return k;
}

/* ---- the inotify fd ---- */

/* The kernel dropped notifications (its queue of max_queued_events overflowed): every watched
 * group is read again, and what changed meanwhile is sent as if notified. Nothing here frees a
 * Watch: a group removed on emptying goes when its IN_IGNORED comes. */
static void resync(Daemon *d) {
        GHashTableIter i;
        gpointer value;
        log_msg(LOG_WARNING, "inotify dropped events: reading every watched group again");
        g_hash_table_iter_init(&i, d->containers);
        while (g_hash_table_iter_next(&i, NULL, &value))
                for (Watch *w = ((Container *) value)->watches; w; w = w->next) {
                        uint64_t now[_MEM_EVENT_MAX];
                        if (w->wd_events >= 0)
                                populated_changed(w, false);
                        read_memory(w, now);
                        emit_memory(w, now);
                }
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Daemon *d = userdata;
        _Alignas(struct inotify_event) char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf);
        for (char *p = buf; n > 0 && p < buf + n;) {
                const struct inotify_event *ev = (const struct inotify_event *) p;
                p += sizeof *ev + ev->len;
                if (ev->mask & IN_Q_OVERFLOW) {
                        resync(d);
                        continue;
                }
                Watch *w = g_hash_table_lookup(d->watches, GINT_TO_POINTER(ev->wd));
                if (!w)
                        continue;
                if (ev->mask & IN_IGNORED) { /* the file went: its group was removed */
                        g_hash_table_remove(d->watches, GINT_TO_POINTER(ev->wd));
                        if (ev->wd == w->wd_events)
                                w->wd_events = -1;
                        else
                                w->wd_memory = -1;
                        if (w->wd_events < 0 && w->wd_memory < 0) {
                                Container *c = w->c;
                                bool saved = w->remove_on_empty;
                                Watch **pp = &c->watches;
                                while (*pp != w)
                                        pp = &(*pp)->next;
                                *pp = w->next;
                                watch_free(d, w);
                                if (saved) /* its state file lists it no more */
                                        (void) registry_save(c);
                        }
                } else if (ev->wd == w->wd_events)
                        populated_changed(w, true);
                else {
                        uint64_t now[_MEM_EVENT_MAX];
                        read_memory(w, now);
                        emit_memory(w, now);
                }
        }
        return 0;
}

/* Containers whose last subscriber may have gone (events_conn_gone()): unwatched here, on a turn
 * of the loop of their own, since a connection is cut off while an event is being sent, with that
 * event's Watch in hand. */
static int on_unwatch(sd_event_source *s, void *userdata) {
        Daemon *d = userdata;
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, d->containers);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                Container *c = v;
                if (c->unwatch_check) {
                        c->unwatch_check = false;
                        events_forget_unwanted(c);
                }
        }
        return 0;
}

int events_init(Daemon *d) {
        d->watches = g_hash_table_new(g_direct_hash, g_direct_equal);
        d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (d->inotify_fd < 0)
                return -errno;
        int r = sd_event_add_io(d->event, &d->inotify_source, d->inotify_fd, EPOLLIN, on_inotify, d);
        if (r >= 0)
                r = sd_event_add_defer(d->event, &d->unwatch_source, on_unwatch, d);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->unwatch_source, SD_EVENT_OFF);
        return r;
}

void events_conn_gone(Container *c) {
        c->unwatch_check = true;
        (void) sd_event_source_set_enabled(c->daemon->unwatch_source, SD_EVENT_ONESHOT);
        server_event_changed(c->daemon);
}

void events_done(Daemon *d) {
        d->unwatch_source = sd_event_source_disable_unref(d->unwatch_source);
        d->inotify_source = sd_event_source_disable_unref(d->inotify_source);
        d->inotify_fd = safe_close(d->inotify_fd);
        if (d->watches)
                g_hash_table_destroy(d->watches);
        d->watches = NULL;
}

/* ---- what the rest of the daemon calls ---- */

int events_subscribe(Conn *conn, char **names, CgdRefusal *r) {
        Container *c = conn->container;
        uint32_t mask = 0;
        for (char **e = names; *e; e++) {
                if (streq(*e, "GroupEmpty"))
                        mask |= EVENT_GROUP_EMPTY;
                else if (streq(*e, "MemoryEvent"))
                        mask |= EVENT_MEMORY;
                else
                        return cgd_refuse(r, CGD_ERROR_INVALID_VALUE, "unknown event '%.64s' (known: GroupEmpty, MemoryEvent)", *e);
        }
        if ((mask & EVENT_GROUP_EMPTY) && unified(c) < 0)
                return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED,
                                  "GroupEmpty needs a cgroup2 hierarchy with the container's processes, and this host has none");
        bool v1;
        if ((mask & EVENT_MEMORY) && memory_hier(c, &v1) < 0)
                return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED, "MemoryEvent needs the memory controller, and the container has none");
        conn->events = mask; /* an empty list unsubscribes */
        if (mask && !c->watch_all) {
                int k = watch_container(c);
                if (k < 0) {
                        conn->events = 0;
                        unwatch(c, true);
                        return cgd_refuse(r, k == -ENOSPC ? CGD_ERROR_QUOTA_EXCEEDED : CGD_ERROR_FAILED,
                                          "cannot watch the container's groups: %s",
                                          k == -ENOSPC ? "the host's inotify watches are used up" : strerror(-k));
                }
                c->watch_all = true;
        }
        events_forget_unwanted(c);
        return 0;
}

void events_forget_unwanted(Container *c) {
        if (c->watch_all && !subscribed(c)) {
                unwatch(c, true);
                c->watch_all = false;
        }
}

int events_group_made(Container *c, const char *rel, bool remove_on_empty, CgdRefusal *r) {
        if (remove_on_empty && unified(c) < 0)
                return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED,
                                  "RemoveOnEmpty needs a cgroup2 hierarchy with the container's processes, and this host has none");
        if (!remove_on_empty && !c->watch_all)
                return 0;
        int k = watch_group(c, rel, remove_on_empty);
        if (k < 0 && !remove_on_empty) { /* a subscriber misses this group's events; the request stands */
                log_msg(LOG_WARNING, "container %s: cannot watch group /%s: %s", c->name, rel, strerror(-k));
                return 0;
        }
        if (k < 0)
                return cgd_refuse(r, k == -ENOSPC ? CGD_ERROR_QUOTA_EXCEEDED : CGD_ERROR_FAILED,
                                  "cannot watch /%s to remove it when it empties: %s", rel,
                                  k == -ENOSPC ? "the host's inotify watches are used up" : strerror(-k));
        return remove_on_empty ? registry_save(c) : 0; /* a restarted daemon watches it again */
}

char **events_remove_on_empty(const Container *c) {
        char **l = NULL;
        size_t n = 0;
        for (const Watch *w = c->watches; w; w = w->next)
                if (w->remove_on_empty && strv_extend(&l, &n, w->rel) < 0)
                        break;
        return l;
}

/* After a restart: the groups of the state file's RemoveOnEmpty list that still exist. Its
 * entries are checked as a client's paths would be: the file is root's, but a damaged one must
 * not make the daemon remove anything outside the container's tree. */
void events_restore(Container *c, char **remove_on_empty) {
        for (char **p = remove_on_empty; p && *p && unified(c) >= 0; p++) {
                _cleanup_free_ char *abs = g_strdup_printf("/%s", *p);
                if (cg_path_validate(abs, 0, 0, NULL) < 0 || streq(abs, "/") ||
                    cg_tree_has_group(c->tree, unified(c), *p) <= 0)
                        continue;
                int k = watch_group(c, *p, true);
                if (k < 0)
                        log_msg(LOG_WARNING, "container %s: cannot watch group /%s to remove it when it empties: %s",
                                c->name, *p, strerror(-k));
        }
}

void events_container_gone(Container *c) {
        unwatch(c, false);
        c->watch_all = false;
}
