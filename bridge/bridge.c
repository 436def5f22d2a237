/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgdelegate-systemd-bridge: runs inside a container next to its systemd (PID 1), whose cgroup
 * controllers are read-only, and makes the units' resource settings real through cgdelegated.
 *
 * For every service or scope unit that is running, or that has settings of its own (beyond
 * DefaultTasksMax=), it keeps a group in the container's tree at the unit's own cgroup path
 * (/system.slice/app.service) with the unit's settings in cgroup v2 form (settings.c), and
 * places the unit's processes there: units with settings of their own get a drop-in under
 * /run/systemd/system that starts their commands through cgdelegate-exec (dropin.c), so their
 * processes join the group before they run; running units' processes are moved too. A unit
 * that stops keeps its empty group and limits for its next start; a unit that is gone loses
 * both. One refused setting does not keep the others from being applied.
 *
 * It watches systemd's JobRemoved and Reloading signals and the drop-in directories that
 * `systemctl set-property` writes (/run/systemd/system.control, /etc/systemd/system.control),
 * and resyncs every few seconds anyway. It reconnects to cgdelegated whenever a call fails,
 * and logs every setting applied or refused with the daemon's reason (stderr: the journal).
 * Helper programs are found next to /proc/self/exe, so it runs from a build tree.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "cgdelegate.h"
#include "dropin.h"
#include "macro.h"
#include "settings.h"
#include "unitscan.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define RESYNC_DEBOUNCE_USEC (50 * 1000)
#define RESYNC_PERIOD_USEC (3 * 1000 * 1000)
#define DROPIN_DIR "/run/systemd/system"
#define DROPIN_NAME "50-cgdelegate.conf"

typedef struct Tracked {
        char *name;
        char *group;
        char **applied;   /* key, value, ... last applied */
        bool dropin;      /* our drop-in is installed */
        bool placed;      /* its running processes were moved */
        bool seen;        /* still wanted in this resync */
        struct Tracked *next;
} Tracked;

typedef struct Bridge {
        sd_event *event;
        sd_bus *systemd;
        cgd_client *cgd;
        const char *socket; /* NULL: the container's socket */
        char exec_path[PATH_MAX];
        uint64_t default_tasks_max;
        Tracked *units;
        sd_event_source *resync_timer;
        int inotify_fd;
        bool reload_needed;
        bool full_scan;     /* also load the unit files systemd has not loaded (start, reload) */
        bool own_reload;    /* the next Reloading is ours (drop-ins written): no full scan for it */
        bool in_step;       /* a first full pass is done (said once, for whoever waits for it) */
} Bridge;

static bool arg_verbose = false;

static bool endswith(const char *s, const char *suffix) {
        size_t l = strlen(s), k = strlen(suffix);
        return l >= k && streq(s + l - k, suffix);
}

static void say(const char *fmt, ...) _printf_(1, 2);
static void say(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("cgdelegate-systemd-bridge: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

/* ---- cgdelegated ---- */

/* The connection to the daemon, (re)opened on demand; NULL while it cannot be reached. */
static cgd_client *daemon_client(Bridge *b) {
        if (b->cgd)
                return b->cgd;
        int r = cgd_client_open(b->socket, &b->cgd);
        if (r < 0) {
                b->cgd = NULL;
                if (arg_verbose)
                        say("cgdelegated not reachable: %s", strerror(-r));
        } else
                say("connected to cgdelegated at %s", cgd_client_socket(b->cgd));
        return b->cgd;
}

/* A failed call: a refusal is the daemon's answer; anything else drops the connection. */
static bool daemon_refused(Bridge *b, int r) {
        const char *name = b->cgd ? cgd_client_error_name(b->cgd) : NULL;
        if (name && strncmp(name, "org.cgdelegate.Error.", 21) == 0 && !streq(name, "org.cgdelegate.Error.Failed"))
                return true;
        b->cgd = cgd_client_free(b->cgd);
        return false;
}

static const char *why(Bridge *b, int r) {
        static char buf[600];
        if (b->cgd && cgd_client_error_name(b->cgd))
                snprintf(buf, sizeof buf, "%s: %s", cgd_client_error_name(b->cgd) + strlen("org.cgdelegate.Error."),
                         cgd_client_error_message(b->cgd));
        else
                snprintf(buf, sizeof buf, "%s", strerror(-r));
        return buf;
}

/* Applies pairs to the group: all at once, or, when that is refused, one by one so that one
 * refused setting does not keep the others out. Returns the pairs that hold now. */
static int apply_pairs(Bridge *b, Tracked *t, char **pairs) {
        cgd_client *c = daemon_client(b);
        if (!c)
                return -ENOTCONN;
        size_t n = strv_length(pairs) / 2;
        cgd_property props[n ? n : 1];
        for (size_t i = 0; i < n; i++)
                props[i] = (cgd_property) { .key = pairs[2 * i], .value = pairs[2 * i + 1] };
        int r = cgd_create_group(c, t->group, NULL, NULL);
        if (r < 0)
                return daemon_refused(b, r) ? (say("%s: cannot create %s: %s", t->name, t->group, why(b, r)), r) : r;
        if (n == 0)
                return 0;
        r = cgd_set_properties(c, t->group, props, n, NULL);
        /* No group yet: where the container's systemd owns its cgroup2 tree (nspawn on a v2
         * host) CreateGroup makes nothing, and systemd makes the group when the unit starts.
         * Nothing is applied; the resync after the start tries again. (A NotFound for one key's
         * file, the group being there, goes on to the keys one by one below.) */
        if (r >= 0) {
                for (size_t i = 0; i < n; i++)
                        say("%s: %s=%s applied on %s", t->name, props[i].key, props[i].value, t->group);
                return 0;
        }
        if (!daemon_refused(b, r))
                return r;
        _cleanup_strv_free_ char **below = NULL;
        if (r == -ENOENT && cgd_list_groups(c, t->group, false, &below) == -ENOENT)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = cgd_set_properties(c, t->group, &props[i], 1, NULL);
                if (r >= 0)
                        say("%s: %s=%s applied on %s", t->name, props[i].key, props[i].value, t->group);
                else if (daemon_refused(b, r))
                        say("%s: %s=%s refused: %s", t->name, props[i].key, props[i].value, why(b, r));
                else
                        return r;
        }
        return 0;
}

/* ---- systemd ---- */

/* "/system.slice/app.service" from the unit's slice ("a-b.slice" is /a.slice/a-b.slice). */
static char *group_path(const char *slice, const char *unit) {
        char *path = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&path, &size);
        if (!f)
                return NULL;
        if (slice && *slice && !streq(slice, "-.slice")) {
                size_t stem = strlen(slice) - strlen(".slice");
                for (size_t i = 0; i <= stem; i++)
                        if (i == stem || slice[i] == '-')
                                fprintf(f, "/%.*s.slice", (int) i, slice);
        }
        fprintf(f, "/%s", unit);
        return fclose(f) == 0 ? path : (free(path), NULL);
}

static int read_exec(sd_bus_message *m, ExecList *l) {
        int r = sd_bus_message_enter_container(m, 'a', "(sasasttttuii)");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'r', "sasasttttuii")) > 0) {
                ExecCommand c = {};
                const char *path;
                r = sd_bus_message_read(m, "s", &path);
                r = r < 0 ? r : sd_bus_message_read_strv(m, &c.argv);
                r = r < 0 ? r : sd_bus_message_read_strv(m, &c.flags);
                r = r < 0 ? r : sd_bus_message_skip(m, "ttttuii");
                r = r < 0 ? r : sd_bus_message_exit_container(m);
                ExecCommand *grown = r < 0 ? NULL : realloc(l->commands, (l->n + 1) * sizeof *grown);
                if (!grown || !(c.path = strdup(path))) {
                        strv_free(c.argv);
                        strv_free(c.flags);
                        free(c.path);
                        return r < 0 ? r : -ENOMEM;
                }
                l->commands = grown;
                l->commands[l->n++] = c;
        }
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

typedef struct UnitInfo {
        UnitSettings settings;
        char *slice;
        ExecList exec[3];
} UnitInfo;

static void unit_info_done(UnitInfo *u) {
        free(u->slice);
        for (size_t i = 0; i < ELEMENTSOF(u->exec); i++)
                exec_list_done(&u->exec[i]);
}

/* The resource settings, slice and commands of a unit, from GetAll on its type's interface. */
static int unit_read(Bridge *b, const char *object, const char *iface, UnitInfo *u) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        static const char *const exec_names[] = { "ExecStartPreEx", "ExecStartEx", "ExecStartPostEx" };
        static const char *const exec_settings[] = { "ExecStartPre", "ExecStart", "ExecStartPost" };
        settings_init(&u->settings);
        for (size_t i = 0; i < ELEMENTSOF(u->exec); i++)
                u->exec[i].setting = exec_settings[i];
        int r = sd_bus_call_method(b->systemd, SD_DEST, object, "org.freedesktop.DBus.Properties", "GetAll", &e, &reply,
                                   "s", iface);
        r = r < 0 ? r : sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name, *contents, *s;
                uint64_t v;
                r = sd_bus_message_read(reply, "s", &name);
                r = r < 0 ? r : sd_bus_message_peek_type(reply, NULL, &contents);
                r = r < 0 ? r : sd_bus_message_enter_container(reply, 'v', contents);
                if (r >= 0 && streq(contents, "t") && (r = sd_bus_message_read(reply, "t", &v)) >= 0)
                        (void) settings_set(&u->settings, name, v);
                else if (r >= 0 && streq(name, "Slice") && (r = sd_bus_message_read(reply, "s", &s)) >= 0)
                        u->slice = strdup(s);
                else if (r >= 0 && streq(contents, "a(sasasttttuii)")) {
                        size_t i = 0;
                        while (i < ELEMENTSOF(exec_names) && !streq(exec_names[i], name))
                                i++;
                        r = i < ELEMENTSOF(exec_names) ? read_exec(reply, &u->exec[i]) : sd_bus_message_skip(reply, contents);
                } else if (r >= 0)
                        r = sd_bus_message_skip(reply, contents);
                r = r < 0 ? r : sd_bus_message_exit_container(reply);
                r = r < 0 ? r : sd_bus_message_exit_container(reply);
        }
        return r;
}

/* ---- drop-ins ---- */

static int write_file_atomic(const char *dir, const char *name, const char *text) {
        char tmp[PATH_MAX], path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path ||
            snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int) sizeof tmp)
                return -ENAMETOOLONG;
        FILE *f = fopen(tmp, "we");
        if (!f)
                return -errno;
        fputs(text, f);
        if (fclose(f) != 0 || rename(tmp, path) < 0) {
                int r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

static char *read_text(const char *path) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        if (getdelim(&text, &size, '\0', f) < 0) {
                free(text);
                text = NULL;
        }
        fclose(f);
        return text;
}

/* Installs (text not NULL) or removes the unit's drop-in; a change needs a daemon-reload. */
/* Removes the unit's drop-in if there is one, tracked or not: one left by an earlier run of the
 * bridge must not keep wrapping a unit that has no settings any more. */
static void dropin_remove(Bridge *b, const char *unit) {
        char dir[PATH_MAX], path[PATH_MAX];
        if (snprintf(dir, sizeof dir, DROPIN_DIR "/%s.d", unit) >= (int) sizeof dir ||
            snprintf(path, sizeof path, "%s/" DROPIN_NAME, dir) >= (int) sizeof path)
                return;
        if (unlink(path) >= 0) {
                (void) rmdir(dir);
                b->reload_needed = true;
                say("%s: drop-in removed", unit);
        }
}

static void dropin_update(Bridge *b, Tracked *t, const char *text) {
        char dir[PATH_MAX], path[PATH_MAX];
        if (!text) {
                dropin_remove(b, t->name);
                t->dropin = false;
                return;
        }
        if (snprintf(dir, sizeof dir, DROPIN_DIR "/%s.d", t->name) >= (int) sizeof dir ||
            snprintf(path, sizeof path, "%s/" DROPIN_NAME, dir) >= (int) sizeof path)
                return;
        _cleanup_free_ char *old = read_text(path);
        if (old && streq(text, old)) {
                t->dropin = true;
                return;
        }
        (void) mkdir(DROPIN_DIR, 0755);
        (void) mkdir(dir, 0755);
        int r = write_file_atomic(dir, DROPIN_NAME, text);
        if (r < 0) {
                say("%s: cannot write %s: %s", t->name, path, strerror(-r));
                return;
        }
        t->dropin = true;
        b->reload_needed = true;
        say("%s: its commands now join %s before they run (%s)", t->name, t->group, path);
}

/* ---- units ---- */

static Tracked *tracked_get(Bridge *b, const char *name) {
        for (Tracked *t = b->units; t; t = t->next)
                if (streq(t->name, name))
                        return t;
        Tracked *t = calloc(1, sizeof *t);
        if (!t || !(t->name = strdup(name))) {
                free(t);
                return NULL;
        }
        t->next = b->units;
        b->units = t;
        return t;
}

static void tracked_free(Tracked *t) {
        free(t->name);
        free(t->group);
        strv_free(t->applied);
        free(t);
}

/* Moves the unit's processes into its group (systemd's GetUnitProcesses: pids as the container
 * sees them, which is what the daemon takes). */
static int place_processes(Bridge *b, Tracked *t) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        cgd_client *c = daemon_client(b);
        if (!c)
                return -ENOTCONN;
        int r = sd_bus_call_method(b->systemd, SD_DEST, SD_PATH, SD_MANAGER, "GetUnitProcesses", &e, &reply, "s", t->name);
        r = r < 0 ? r : sd_bus_message_enter_container(reply, 'a', "(sus)");
        const char *cg, *cmd;
        uint32_t pid;
        int failed = 0;
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sus)", &cg, &pid, &cmd)) > 0) {
                int k = cgd_move_process(c, t->group, (pid_t) pid, NULL);
                if (k >= 0)
                        continue;
                if (!daemon_refused(b, k))
                        return k;
                /* A process that ended meanwhile is no failure; no leader yet is worth a retry. */
                if (k == -EOPNOTSUPP)
                        return k;
                if (k != -ESRCH)
                        say("%s: cannot move pid %u into %s: %s", t->name, pid, t->group, why(b, k));
                failed += k != -ESRCH;
        }
        if (r >= 0 && failed == 0 && arg_verbose)
                say("%s: its processes are in %s", t->name, t->group);
        return r < 0 ? r : 0;
}

static bool strv_equal(char **a, char **b) {
        size_t i = 0;
        for (; a && b && a[i] && b[i]; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return (!a || !a[i]) && (!b || !b[i]);
}

/* Keys applied before and no longer set go back to the kernel's default. */
static int add_resets(char **old, char ***pairs) {
        size_t n = strv_length(*pairs);
        for (size_t i = 0; old && old[i]; i += 2) {
                bool kept = false;
                for (size_t j = 0; (*pairs)[j]; j += 2)
                        kept |= streq((*pairs)[j], old[i]);
                if (!kept && (strv_extend(pairs, &n, old[i]) < 0 || strv_extend(pairs, &n, settings_default_value(old[i])) < 0))
                        return -ENOMEM;
        }
        return 0;
}

/* Settings of its own: anything beyond the DefaultTasksMax= every unit has. */
static bool has_own_settings(Bridge *b, char **pairs) {
        for (size_t i = 0; pairs[i]; i += 2) {
                char def[32];
                snprintf(def, sizeof def, "%" PRIu64, b->default_tasks_max);
                if (!(streq(pairs[i], "pids.max") && streq(pairs[i + 1], def)))
                        return true;
        }
        return false;
}

static void untrack(Bridge *b, const char *name);

static void sync_unit(Bridge *b, const char *name, const char *object, const char *active_state) {
        const char *iface = endswith(name, ".scope") ? "org.freedesktop.systemd1.Scope"
                                                                     : "org.freedesktop.systemd1.Service";
        UnitInfo u = {};
        _cleanup_strv_free_ char **pairs = NULL;
        int r = unit_read(b, object, iface, &u);
        if (r >= 0)
                r = settings_to_pairs(&u.settings, &pairs);
        bool running = streq(active_state, "active") || streq(active_state, "activating") || streq(active_state, "reloading");
        bool own = r >= 0 && has_own_settings(b, pairs);
        if (r < 0 || (!own && !running)) {
                unit_info_done(&u);
                if (r >= 0) {
                        untrack(b, name); /* stopped, and nothing to keep for its next start */
                        dropin_remove(b, name);
                }
                return;
        }
        Tracked *t = tracked_get(b, name);
        if (!t || (!t->group && !(t->group = group_path(u.slice, name)))) {
                unit_info_done(&u);
                return;
        }
        t->seen = true;
        /* Units with settings of their own get the exec wrapper; a scope has no commands. */
        if (own && endswith(name, ".service")) {
                _cleanup_free_ char *text = NULL;
                if (dropin_render(b->exec_path, b->socket, t->group, u.exec, ELEMENTSOF(u.exec), &text) >= 0)
                        dropin_update(b, t, text);
        } else if (t->dropin || b->full_scan) /* a drop-in of an earlier run shows on a full pass */
                dropin_update(b, t, NULL);
        unit_info_done(&u);

        if (!strv_equal(t->applied, pairs) || !t->applied) {
                _cleanup_strv_free_ char **want = NULL;
                size_t n = 0;
                for (size_t i = 0; pairs[i]; i++)
                        if (strv_extend(&want, &n, pairs[i]) < 0)
                                return;
                if ((!want && !(want = calloc(1, sizeof(char *)))) || add_resets(t->applied, &want) < 0)
                        return;
                if (apply_pairs(b, t, want) >= 0) {
                        strv_free(t->applied);
                        t->applied = TAKE_PTR(pairs);
                }
        }
        if (!running)
                t->placed = false;
        else if (!t->placed && place_processes(b, t) >= 0)
                t->placed = true;
}

/* Forgets a unit: its drop-in goes, and its group if it is empty (a busy group stays for the
 * daemon's own cleanup when the container ends). */
static void untrack_one(Bridge *b, Tracked **p) {
        Tracked *t = *p;
        if (t->dropin)
                dropin_update(b, t, NULL);
        cgd_client *c = daemon_client(b);
        if (c && t->group && cgd_remove_group(c, t->group, false, NULL) >= 0)
                say("%s: stopped or gone, without settings of its own; its group %s is removed", t->name, t->group);
        *p = t->next;
        tracked_free(t);
}

static void untrack(Bridge *b, const char *name) {
        for (Tracked **p = &b->units; *p; p = &(*p)->next)
                if (streq((*p)->name, name)) {
                        untrack_one(b, p);
                        return;
                }
}

/* After a full pass: units no longer loaded lose group and drop-in. */
static void sweep(Bridge *b) {
        for (Tracked **p = &b->units; *p;)
                if ((*p)->seen)
                        p = &(*p)->next;
                else
                        untrack_one(b, p);
}

/* Units systemd has not loaded (not running, not referenced) may still have settings and be
 * started any moment: their drop-in must exist before. So after a start or a reload each unit
 * file that may have settings (unitscan.c reads the unit directories: asking a PID 1 on a slow
 * file system with ListUnitFiles kept it busy for minutes) is loaded (LoadUnit) and synced. */
static int scan_unit_files(Bridge *b, char **listed) {
        _cleanup_strv_free_ char **names = NULL;
        int r = unitscan_services("", DROPIN_NAME, &names);
        if (r < 0)
                return say("cannot read the unit directories: %s", strerror(-r)), r;
        for (char **name = names; *name; name++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *loaded = NULL;
                const char *object;
                if (strv_contains(listed, *name) ||
                    sd_bus_call_method(b->systemd, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit", NULL, &loaded, "s", *name) < 0 ||
                    sd_bus_message_read(loaded, "o", &object) < 0)
                        continue;
                sync_unit(b, *name, object, "inactive");
        }
        return 0;
}

static int resync(Bridge *b) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_strv_free_ char **listed = NULL;
        size_t n_listed = 0;
        int r = sd_bus_call_method(b->systemd, SD_DEST, SD_PATH, SD_MANAGER, "ListUnits", &e, &reply, "");
        if (r < 0)
                return say("ListUnits: %s", e.message ?: strerror(-r)), r;
        if (!daemon_client(b))
                return 0; /* the groups are made once the daemon answers; the timer retries */
        bool full = b->full_scan;
        for (Tracked *t = b->units; full && t; t = t->next)
                t->seen = false;
        const char *name, *desc, *load, *active, *sub, *following, *object, *job_type, *job_path;
        uint32_t job;
        r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssssssouso)", &name, &desc, &load, &active, &sub, &following,
                                                  &object, &job, &job_type, &job_path)) > 0)
                if (streq(load, "loaded") && (endswith(name, ".service") || endswith(name, ".scope"))) {
                        (void) strv_extend(&listed, &n_listed, name);
                        /* A oneshot that ran (RemainAfterExit=) is active without processes or group. */
                        sync_unit(b, name, object, streq(sub, "exited") ? "inactive" : active);
                }
        if (r >= 0 && full)
                r = scan_unit_files(b, listed);
        /* Only a full pass sees every unit: only then are the unseen ones gone. */
        if (r >= 0 && full && b->cgd) {
                sweep(b);
                b->full_scan = false;
                if (!b->in_step) {
                        size_t n = 0;
                        for (Tracked *t = b->units; t; t = t->next)
                                n++;
                        say("in step with systemd: %zu units tracked", n);
                        b->in_step = true;
                }
        }
        if (b->reload_needed) {
                b->reload_needed = false;
                r = sd_bus_call_method(b->systemd, SD_DEST, SD_PATH, SD_MANAGER, "Reload", &e, NULL, "");
                if (r < 0)
                        say("daemon-reload after writing drop-ins failed: %s", e.message ?: strerror(-r));
                else
                        b->own_reload = true;
        }
        return r;
}

/* ---- events ---- */

static int on_resync(sd_event_source *s, uint64_t usec, void *userdata) {
        Bridge *b = userdata;
        (void) resync(b);
        /* The next one: soon after a change, or at the period as a safety net. */
        (void) sd_event_source_set_time_relative(s, RESYNC_PERIOD_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static void resync_soon(Bridge *b) {
        (void) sd_event_source_set_time_relative(b->resync_timer, RESYNC_DEBOUNCE_USEC);
        (void) sd_event_source_set_enabled(b->resync_timer, SD_EVENT_ON);
}

/* JobRemoved (a unit started or stopped), Reloading (daemon-reload), UnitRemoved. */
static int on_manager_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Bridge *b = userdata;
        uint32_t id;
        const char *job, *unit, *result;
        int reloading = 0;
        if (sd_bus_message_is_signal(m, SD_MANAGER, "Reloading") && sd_bus_message_read(m, "b", &reloading) >= 0 &&
            !reloading) {
                /* Unit files may have come or gone, unless the reload was ours: loading every
                 * unit file again then would only keep PID 1 busy. */
                if (!b->own_reload)
                        b->full_scan = true;
                b->own_reload = false;
        }
        if (sd_bus_message_is_signal(m, SD_MANAGER, "JobRemoved") &&
            sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0)
                for (Tracked *t = b->units; t; t = t->next)
                        if (streq(t->name, unit))
                                t->placed = false; /* a new start: its processes need placing again */
        resync_soon(b);
        return 0;
}

static void watch_dir(Bridge *b, const char *path) {
        if (inotify_add_watch(b->inotify_fd, path, IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0)
                return;
        /* set-property writes NAME.d/50-*.conf: watch the unit directories too. */
        DIR *d = opendir(path);
        for (struct dirent *de; d && (de = readdir(d));)
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        char sub[PATH_MAX];
                        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
                        (void) inotify_add_watch(b->inotify_fd, sub, IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_CLOSE_WRITE);
                }
        if (d)
                closedir(d);
}

static const char *const control_dirs[] = { "/run/systemd/system.control", "/etc/systemd/system.control" };

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Bridge *b = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        while (read(fd, buf, sizeof buf) > 0)
                ;
        for (size_t i = 0; i < ELEMENTSOF(control_dirs); i++)
                watch_dir(b, control_dirs[i]); /* new unit directories; existing watches are kept */
        resync_soon(b);
        return 0;
}

static int connect_systemd(Bridge *b) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_new(&b->systemd);
        /* The private socket: root only, and there even without a bus daemon. */
        r = r < 0 ? r : sd_bus_set_address(b->systemd, "unix:path=/run/systemd/private");
        r = r < 0 ? r : sd_bus_start(b->systemd);
        r = r < 0 ? r : sd_bus_match_signal(b->systemd, NULL, NULL, SD_PATH, SD_MANAGER, NULL, on_manager_signal, b);
        r = r < 0 ? r : sd_bus_call_method(b->systemd, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", &e, NULL, "");
        r = r < 0 ? r : sd_bus_get_property_trivial(b->systemd, SD_DEST, SD_PATH, SD_MANAGER, "DefaultTasksMax", &e, 't',
                                                    &b->default_tasks_max);
        r = r < 0 ? r : sd_bus_attach_event(b->systemd, b->event, 0);
        if (r < 0)
                say("cannot talk to systemd on /run/systemd/private: %s", e.message ?: strerror(-r));
        return r;
}

static int parse_argv(int argc, char **argv, Bridge *b) {
        static const struct option options[] = { { "socket", required_argument, NULL, 's' },
                                                 { "verbose", no_argument, NULL, 'v' },
                                                 { "help", no_argument, NULL, 'h' },
                                                 { "version", no_argument, NULL, 'V' }, {} };
        int c;
        while ((c = getopt_long(argc, argv, "hv", options, NULL)) >= 0)
                switch (c) {
                case 's':
                        b->socket = optarg;
                        break;
                case 'v':
                        arg_verbose = true;
                        break;
                case 'h':
                        printf("Usage: cgdelegate-systemd-bridge [--socket PATH] [--verbose]\n\n"
                               "Applies the resource settings of this container's systemd units through\n"
                               "cgdelegated.\n\n"
                               "  --socket PATH  the daemon's socket (default " CGD_CONTAINER_SOCKET "),\n"
                               "                 also given to cgdelegate-exec in the units' drop-ins\n"
                               "  -v --verbose   say more (connection attempts)\n"
                               "  -h --help      this text\n"
                               "     --version  the version\n");
                        return 0;
                case 'V':
                        printf("cgdelegate-systemd-bridge " CGD_VERSION "\n");
                        return 0;
                default:
                        return -EINVAL;
                }
        return 1;
}

int main(int argc, char *argv[]) {
        Bridge b = { .inotify_fd = -EBADF, .full_scan = true };
        int r = parse_argv(argc, argv, &b);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        /* cgdelegate-exec lives next to this program: no installation needed. */
        ssize_t len = readlink("/proc/self/exe", b.exec_path, sizeof b.exec_path - 32);
        if (len < 0)
                return say("cannot find myself: %m"), 1;
        b.exec_path[len] = 0;
        strcpy(strrchr(b.exec_path, '/') + 1, "cgdelegate-exec");
        if (access(b.exec_path, X_OK) < 0)
                return say("%s is missing: %m", b.exec_path), 1;

        r = sd_event_default(&b.event);
        if (r >= 0)
                r = connect_systemd(&b);
        if (r < 0)
                return 1;
        b.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        for (size_t i = 0; b.inotify_fd >= 0 && i < ELEMENTSOF(control_dirs); i++) {
                (void) mkdir(control_dirs[i], 0755); /* may fail on a read-only /etc: then not watched */
                watch_dir(&b, control_dirs[i]);
        }
        if (b.inotify_fd >= 0)
                (void) sd_event_add_io(b.event, NULL, b.inotify_fd, EPOLLIN, on_inotify, &b);
        (void) sd_event_add_signal(b.event, NULL, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, NULL, NULL);
        (void) sd_event_add_signal(b.event, NULL, SIGINT | SD_EVENT_SIGNAL_PROCMASK, NULL, NULL);
        r = sd_event_add_time_relative(b.event, &b.resync_timer, CLOCK_MONOTONIC, 0, 0, on_resync, &b);
        if (r < 0)
                return say("cannot set up the event loop: %s", strerror(-r)), 1;
        say("watching the units of this container's systemd (helper %s)", b.exec_path);
        r = sd_event_loop(b.event);
        while (b.units) {
                Tracked *t = b.units;
                b.units = t->next;
                tracked_free(t);
        }
        cgd_client_free(b.cgd);
        sd_bus_flush_close_unref(b.systemd);
        sd_event_unref(b.event);
        return r < 0 ? 1 : 0;
}
