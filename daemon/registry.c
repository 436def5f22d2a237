/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Registered containers: registration and its checks (name, host path, overlap, policy), the
 * leader and the pid namespace it fixes, the per-container socket in its own directory, and the
 * state files that bring every registration back after a restart. A registration either
 * completes or leaves nothing behind. A container whose pid namespace dies (its leader, the
 * namespace's init, exits) or whose root group disappears is unregistered by itself.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "cgpath.h"
#include "daemon.h"

#define STATE_SUFFIX ".state"

Container *registry_find(Daemon *d, const char *name) {
        return name ? g_hash_table_lookup(d->containers, name) : NULL;
}

uint32_t registry_move_mask(const Container *c) {
        return c->tree->hierarchies & ~c->own_mask;
}

static bool name_valid(const char *name) {
        size_t n = strlen(name);
        /* The name becomes a directory and a file name: nothing that could leave those dirs. */
        return n >= 1 && n <= CGD_NAME_MAX && name[0] != '.' &&
               strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* Whether one host path is the other or lies below it, component-wise. */
static bool paths_overlap(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), l = la < lb ? la : lb;
        return strncmp(a, b, l) == 0 && (la == lb || (la < lb ? b[l] : a[l]) == '/');
}

/* The hierarchies a container's tree spans: the cgroup2 hierarchy, name=systemd, and every v1
 * hierarchy of a resource the policy allows (plus the freezer, for Freeze on v1). */
static uint32_t hierarchies_for(const CgHost *h, const Policy *p) {
        uint32_t mask = 0;
        if (h->unified >= 0)
                mask |= CG_HMASK(h->unified);
        if (h->named_systemd >= 0)
                mask |= CG_HMASK(h->named_systemd);
        for (KnobId id = 0; id < _KNOB_MAX; id++)
                if ((p->allowed & KNOB_MASK(id)) && h->by_controller[knob_info(id)->controller] >= 0)
                        mask |= CG_HMASK(h->by_controller[knob_info(id)->controller]);
        if (h->by_controller[CG_CTRL_FREEZER] >= 0)
                mask |= CG_HMASK(h->by_controller[CG_CTRL_FREEZER]);
        return mask;
}

/* Hierarchies where the group already exists. */
static uint32_t existing_in(const CgHost *h, uint32_t mask, const char *rel) {
        uint32_t found = 0;
        struct stat st;
        for (size_t i = 0; i < h->n_hierarchies; i++)
                if ((mask & CG_HMASK(i)) && fstatat(h->hierarchies[i].root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
                    S_ISDIR(st.st_mode))
                        found |= CG_HMASK(i);
        return found;
}

/* Groups below the root, in the first hierarchy the daemon manages for the container. */
unsigned registry_count_groups(Container *c) {
        uint32_t mask = registry_move_mask(c);
        for (int i = 0; i < CG_HIERARCHIES_MAX; i++) {
                _cleanup_strv_free_ char **l = NULL;
                if ((mask & CG_HMASK(i)) && cg_tree_children(c->tree, i, ".", true, &l) >= 0)
                        return (unsigned) strv_length(l);
        }
        return 0;
}

/* The groups below the root, completed first where a CreateGroup that the daemon's death cut
 * short left one in some hierarchies only (cg_tree_create() makes a group one hierarchy after
 * another): it is made where it is missing, as a retried CreateGroup would make it. Returns how
 * many groups there are. */
static unsigned repair_groups(Container *c) {
        uint32_t mask = registry_move_mask(c) & c->tree->hierarchies;
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
        unsigned n_hier = 0;
        for (int i = 0; i < CG_HIERARCHIES_MAX; i++) {
                _cleanup_strv_free_ char **l = NULL;
                if (!(mask & CG_HMASK(i)) || cg_tree_children(c->tree, i, ".", true, &l) < 0)
                        continue;
                n_hier++;
                for (char **p = l; *p; p++) {
                        gpointer v = g_hash_table_lookup(seen, *p);
                        if (v)
                                g_hash_table_insert(seen, strdup(*p), GUINT_TO_POINTER(GPOINTER_TO_UINT(v) + 1));
                        else
                                g_hash_table_insert(seen, TAKE_PTR(*p), GUINT_TO_POINTER(1));
                }
        }
        GHashTableIter it;
        gpointer rel, count;
        g_hash_table_iter_init(&it, seen);
        while (g_hash_table_iter_next(&it, &rel, &count)) {
                if (GPOINTER_TO_UINT(count) == n_hier)
                        continue;
                CgFailure f = {};
                char buf[256];
                log_msg(LOG_WARNING, "container %s: group /%s is missing in some hierarchies (a request cut short); "
                        "making it there", c->name, (const char *) rel);
                if (cg_tree_create(c->tree, rel, mask, NULL, &f) < 0)
                        log_msg(LOG_WARNING, "container %s: cannot complete group /%s: %s", c->name, (const char *) rel,
                                cg_failure_explain(&f, c->daemon->host, buf, sizeof buf));
        }
        return g_hash_table_size(seen);
}

/* Whether group rel exists in any hierarchy of the container's tree. */
bool registry_group_exists(Container *c, const char *rel) {
        for (int i = 0; i < CG_HIERARCHIES_MAX; i++)
                if ((c->tree->hierarchies & CG_HMASK(i)) && cg_tree_has_file(c->tree, i, rel, "cgroup.procs") > 0)
                        return true;
        return false;
}

/* ---- state files ---- */

static GKeyFile *state_new(const Container *c, uint32_t hierarchies, char **const made[]) {
        GKeyFile *kf = g_key_file_new();
        g_key_file_set_string(kf, "Container", "Name", c->name);
        g_key_file_set_string(kf, "Container", "Cgroup", c->cgroup);
        g_key_file_set_string(kf, "Container", "Policy", c->policy_name);
        g_key_file_set_uint64(kf, "Container", "SocketUID", c->socket_uid);
        g_key_file_set_uint64(kf, "Container", "SocketGID", c->socket_gid);
        g_key_file_set_uint64(kf, "Container", "Hierarchies", hierarchies);
        /* The ancestors the daemon made, so that a restarted daemon still removes them. */
        for (int i = 0; i < CG_HIERARCHIES_MAX; i++)
                if (made[i]) {
                        char key[32];
                        snprintf(key, sizeof key, "MadeAncestors%d", i);
                        g_key_file_set_string_list(kf, "Container", key, (const char *const *) made[i],
                                                   strv_length(made[i]));
                }
        return kf;
}

static int state_write(Daemon *d, const char *name, GKeyFile *kf) {
        gsize len;
        g_autofree char *text = g_key_file_to_data(kf, &len, NULL);
        char tmp[CGD_NAME_MAX + 16], final[CGD_NAME_MAX + 16];
        snprintf(tmp, sizeof tmp, ".%s.tmp", name);
        snprintf(final, sizeof final, "%s" STATE_SUFFIX, name);
        /* Written whole and renamed into place: a crash leaves the old file or the new one (and
         * perhaps the temporary one, which the next start removes). */
        _cleanup_close_ int fd = openat(d->state_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, text, len) != (ssize_t) len || fsync(fd) < 0)
                return -errno ?: -EIO;
        if (renameat(d->state_fd, tmp, d->state_fd, final) < 0)
                return -errno;
        return 0;
}

int registry_save(Container *c) {
        g_autoptr(GKeyFile) kf = state_new(c, c->tree->hierarchies, c->tree->made);
        _cleanup_strv_free_ char **remove_on_empty = events_remove_on_empty(c);
        if (remove_on_empty)
                g_key_file_set_string_list(kf, "Container", "RemoveOnEmpty", (const char *const *) remove_on_empty,
                                           strv_length(remove_on_empty));
        g_key_file_set_uint64(kf, "Container", "OwnHierarchies", c->own_mask);
        g_key_file_set_boolean(kf, "Container", "CreatedRoot", c->created_root);
        if (c->leader > 0) {
                g_key_file_set_uint64(kf, "Container", "Leader", (uint64_t) c->leader);
                g_key_file_set_uint64(kf, "Container", "PidNsDev", c->pidns.dev);
                g_key_file_set_uint64(kf, "Container", "PidNsIno", c->pidns.ino);
        }
        return state_write(c->daemon, c->name, kf);
}

/* Written before a registration touches anything: if the daemon dies before the registration's
 * own state file replaces this one, the next start undoes it (reload_one()): the root in the
 * hierarchies of mask (where it does not exist yet) and the ancestors in made[] (missing now). */
static int save_pending(Container *c, uint32_t mask, char **const made[]) {
        g_autoptr(GKeyFile) kf = state_new(c, mask, made);
        g_key_file_set_boolean(kf, "Container", "Pending", true);
        return state_write(c->daemon, c->name, kf);
}

static void state_remove(Daemon *d, const char *name) {
        char file[CGD_NAME_MAX + 16];
        snprintf(file, sizeof file, "%s" STATE_SUFFIX, name);
        (void) unlinkat(d->state_fd, file, 0);
}

/* Everything of a container outside cgroupfs: its socket, the directory the runtime bind-mounted,
 * its state file. */
static void forget_files(Daemon *d, const char *name) {
        _cleanup_close_ int dir = openat(d->containers_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir >= 0)
                (void) unlinkat(dir, "socket", 0);
        (void) unlinkat(d->containers_fd, name, AT_REMOVEDIR);
        state_remove(d, name);
}

/* What the daemon made for a container in cgroupfs, as far as it is still there: in every
 * hierarchy of mask the root (with the groups below it, made on the container's behalf), then
 * the ancestors in made[], innermost first, as long as they are empty. For a registration the
 * daemon's death cut short, and for a container whose root is gone in some hierarchies (an
 * unregistration cut short): a partial tree cannot be opened as a whole. */
static void remove_made(Daemon *d, const char *cgroup, uint32_t mask, char **const made[]) {
        for (int i = 0; i < (int) d->host->n_hierarchies; i++) {
                size_t n = strv_length(made[i]);
                for (size_t k = 0; (mask & CG_HMASK(i)) && k <= n; k++) {
                        _cleanup_free_ char *path = k == 0 ? strdup(cgroup) : g_strdup_printf("/%s", made[i][n - k]);
                        CgTree *t = NULL;
                        if (!path || cg_tree_open(d->host, path, CG_HMASK(i), false, &t, NULL) < 0)
                                continue; /* gone already */
                        CgFailure f = {};
                        char buf[256];
                        int r = cg_tree_destroy(t, CG_HMASK(i), k == 0, &f);
                        cg_tree_free(t);
                        if (r < 0 && k == 0) /* a leader placed in it: it stays, and its ancestors */
                                log_msg(LOG_WARNING, "cannot remove the group %s: %s", path,
                                        cg_failure_explain(&f, d->host, buf, sizeof buf));
                        if (r < 0)
                                break; /* an ancestor in use by others stays, and so do those above it */
                }
        }
}

/* ---- lifecycle ---- */

/* What a state file says that needs cgroupfs or /proc to act on, kept from a restart until the
 * container is first used (registry_ready()). */
struct Restore {
        uint32_t hierarchies;
        pid_t leader;
        dev_t ns_dev;
        ino_t ns_ino;
        char **made[CG_HIERARCHIES_MAX];
        char **remove_on_empty; /* groups made with RemoveOnEmpty=true (events.c) */
        bool ended;           /* its group or pid namespace was gone: to be unregistered */
        bool failed;          /* it could not be made ready: only its next use tries again */
};

static Restore *restore_free(Restore *rs) {
        if (!rs)
                return NULL;
        for (int i = 0; i < CG_HIERARCHIES_MAX; i++)
                strv_free(rs->made[i]);
        strv_free(rs->remove_on_empty);
        free(rs);
        return NULL;
}

static void container_free(Container *c) {
        if (!c)
                return;
        server_close_container_conns(c->daemon, c);
        events_container_gone(c);
        server_unlisten(c->daemon, &c->listener);
        c->leader_source = sd_event_source_disable_unref(c->leader_source);
        safe_close(c->leader_pidfd);
        restore_free(c->restore);
        pidns_done(&c->pidns);
        cg_tree_free(c->tree);
        free(c->name);
        free(c->cgroup);
        free(c->policy_name);
        free(c->unit);
        free(c);
}

/* A container that ended: its groups go too if the daemon made them and they are empty. */
/* The groups below the root of a container that ended are empty (its pid namespace is gone) and
 * were made on its behalf: they go, in every hierarchy, whoever made the root, so that a runtime
 * that removes only the root it made finds nothing in its way. */
static void remove_groups_below_root(Container *c) {
        for (int h = 0; h < (int) c->daemon->host->n_hierarchies; h++) {
                _cleanup_strv_free_ char **children = NULL;
                if (!(c->tree->hierarchies & CG_HMASK(h)) || cg_tree_children(c->tree, h, ".", false, &children) < 0)
                        continue;
                for (char **child = children; *child; child++) {
                        CgFailure f = {};
                        char buf[256];
                        if (cg_tree_remove(c->tree, *child, CG_HMASK(h), true, &f) < 0)
                                log_msg(LOG_WARNING, "container %s ended: cannot remove its group %s: %s", c->name, *child,
                                        cg_failure_explain(&f, c->daemon->host, buf, sizeof buf));
                }
        }
}

static void container_ended(Container *c, const char *why) {
        if (c->job) { /* the worker is using the tree: end it when the job is done */
                c->end_reason = why;
                c->leader_source = sd_event_source_disable_unref(c->leader_source);
                return;
        }
        log_msg(LOG_INFO, "container %s: %s; unregistering", c->name, why);
        audit_log(c->daemon, c, "Unregister", "/", why, 0, NULL);
        remove_groups_below_root(c);
        if (!c->created_root || registry_unregister(c->daemon, c, true, NULL) < 0)
                (void) registry_unregister(c->daemon, c, false, NULL);
}

static int on_leader_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        /* The leader is the pid namespace's init: when it exits, the namespace dies with it (the
         * kernel has killed and reaped every other process of it by then). */
        container_ended(userdata, "its pid namespace ended (the leader exited)");
        return 0;
}

/* Which hierarchies the runtime already placed the leader below the root in: those are the
 * container's own (systemd in the container tracks its units there), and the daemon never moves
 * processes in them. */
static uint32_t owned_hierarchies(Container *c, pid_t host_pid) {
        char *paths[CG_HIERARCHIES_MAX] = {};
        uint32_t own = 0;
        if (cg_host_pid_paths(c->daemon->host, host_pid, paths) < 0)
                return 0;
        size_t l = strlen(c->cgroup);
        for (size_t i = 0; i < CG_HIERARCHIES_MAX; i++)
                if (paths[i] && (c->tree->hierarchies & CG_HMASK(i)) && strncmp(paths[i], c->cgroup, l) == 0 &&
                    paths[i][l] == '/')
                        own |= CG_HMASK(i);
        cg_paths_free(paths);
        return own;
}

int registry_set_leader(Container *c, pid_t pid, int pidfd, CgdRefusal *r) {
        if (c->leader > 0)
                return cgd_refuse(r, CGD_ERROR_EXISTS, "container %s already has its leader (pid %d)", c->name,
                                  (int) c->leader);
        _cleanup_close_ int fd = pidfd >= 0 ? fcntl(pidfd, F_DUPFD_CLOEXEC, 3) : (int) syscall(SYS_pidfd_open, pid, 0);
        pid_t host_pid = 0;
        PidNs ns = PIDNS_NULL;
        if (fd < 0 || proc_pidfd_host_pid(fd, &host_pid) < 0 || pidns_of_pidfd(fd, &ns) < 0)
                return cgd_refuse(r, CGD_ERROR_NO_SUCH_PROCESS, "no process %d to be the leader of %s", (int) pid, c->name);
        uint32_t own = owned_hierarchies(c, host_pid);
        CgFailure f = {};
        int k = cg_tree_move(c->tree, ".", c->tree->hierarchies & ~own, host_pid, &f);
        if (k < 0 || !proc_pidfd_alive(fd)) {
                char buf[256];
                pidns_done(&ns);
                return cgd_refuse(r, k == -ESRCH || k >= 0 ? CGD_ERROR_NO_SUCH_PROCESS : CGD_ERROR_FAILED,
                                  "cannot place the leader of %s: %s", c->name,
                                  k < 0 ? cg_failure_explain(&f, c->daemon->host, buf, sizeof buf) : "it exited");
        }
        c->own_mask = own;
        c->pidns = ns;
        c->leader = host_pid;
        c->leader_pidfd = TAKE_FD(fd);
        if (c->pidns.level > 0)
                (void) sd_event_add_io(c->daemon->event, &c->leader_source, c->leader_pidfd, EPOLLIN, on_leader_exit, c);
        /* During a registration its pending state file stays until the registration's own. */
        return registry_find(c->daemon, c->name) == c ? registry_save(c) : 0;
}

static int open_socket_dir(Daemon *d, Container *c) {
        /* The directory is what the runtime bind-mounts: made once, never re-created while the
         * container is registered, so a restarted daemon's socket appears in the same mount. */
        if (mkdirat(d->containers_fd, c->name, 0755) < 0 && errno != EEXIST)
                return -errno;
        /* Held only here: 10,000 containers must not cost 10,000 more fds. */
        _cleanup_close_ int dir_fd = openat(d->containers_fd, c->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0 || fchmod(dir_fd, 0755) < 0) /* the daemon's umask is 0077 */
                return -errno;
        c->listener = (Listener) { .kind = WATCH_LISTENER, .type = LISTENER_CONTAINER, .fd = -EBADF, .container = c };
        /* Handed over by the previous process (handover.c): the same socket, still at its path,
         * so that clients that connected meanwhile are answered. */
        int fd = handover_take_container(c->name);
        if (fd >= 0 && faccessat(dir_fd, "socket", F_OK, AT_SYMLINK_NOFOLLOW) == 0 && server_adopt(d, &c->listener, fd) >= 0)
                return 0;
        if (fd >= 0) {
                (void) close(fd);
                handover_unstore(c); /* systemd's copy too: the store holds one socket per name */
        }
        int r = server_listen(d, &c->listener, dir_fd, "socket", c->socket_uid, c->socket_gid, 0600);
        if (r >= 0)
                handover_store(c);
        return r;
}

static Container *container_new(Daemon *d, const char *name, const char *cgroup, const char *policy) {
        Container *c = calloc(1, sizeof(Container));
        if (!c)
                return NULL;
        *c = (Container) { .daemon = d, .leader_pidfd = -EBADF, .pidns = PIDNS_NULL,
                           .listener = { .fd = -EBADF } };
        c->name = strdup(name);
        c->cgroup = strdup(cgroup);
        c->policy_name = strdup(policy);
        c->policy = policies_get(d, policy);
        c->tokens = c->policy ? c->policy->request_burst : 0;
        if (!c->name || !c->cgroup || !c->policy_name) {
                container_free(c);
                return NULL;
        }
        return c;
}

static int check_registration(Daemon *d, const char *name, const char *cgroup, const char *policy, CgdRefusal *r) {
        const char *reason = NULL;
        if (!name_valid(name))
                return cgd_refuse(r, CGD_ERROR_INVALID_VALUE,
                                  "container name '%.80s' is not valid: 1..%u characters of A-Z a-z 0-9 _ . -, not "
                                  "starting with '.'", name, CGD_NAME_MAX);
        if (registry_find(d, name))
                return cgd_refuse(r, CGD_ERROR_EXISTS, "container %s is already registered", name);
        if (cg_path_validate(cgroup, CG_PATH_HOST, 0, &reason) < 0)
                return cgd_refuse(r, CGD_ERROR_INVALID_PATH, "cgroup '%.128s' is not valid: %s", cgroup, reason);
        if (streq(cgroup, "/"))
                return cgd_refuse(r, CGD_ERROR_INVALID_PATH, "a container's root cannot be a hierarchy's root");
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, d->containers);
        while (g_hash_table_iter_next(&it, NULL, &v))
                /* Two containers in one tree could reach each other's groups and processes. */
                if (paths_overlap(((Container *) v)->cgroup, cgroup))
                        return cgd_refuse(r, CGD_ERROR_EXISTS, "cgroup %.128s overlaps the tree of container %s (%s)",
                                          cgroup, ((Container *) v)->name, ((Container *) v)->cgroup);
        if (!policies_get(d, policy))
                return cgd_refuse(r, CGD_ERROR_NOT_FOUND, "no policy '%.64s'", policy);
        return 0;
}

/* The ancestors of rel that hierarchy i lacks, outermost first: what cg_tree_open() will make. */
static int missing_ancestors(const CgHost *h, int i, const char *rel, char ***ret) {
        _cleanup_free_ char *p = strdup(rel);
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;
        struct stat st;
        if (!p)
                return -ENOMEM;
        for (char *slash = strrchr(p, '/'); slash; slash = strrchr(p, '/')) {
                *slash = '\0';
                if (fstatat(h->hierarchies[i].root_fd, p, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                        break;
                if (strv_extend(&l, &n, p) < 0)
                        return -ENOMEM;
        }
        for (size_t k = 0; k < n / 2; k++) {
                char *x = l[k];
                l[k] = l[n - 1 - k];
                l[n - 1 - k] = x;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* The pending state file of a registration about to make the root in the hierarchies of mask. */
static int save_pending_for(Daemon *d, Container *c, uint32_t mask) {
        char **made[CG_HIERARCHIES_MAX] = {};
        const char *rel = cg_path_relative(c->cgroup);
        int k = 0;
        for (int i = 0; k >= 0 && i < (int) d->host->n_hierarchies; i++)
                if (mask & CG_HMASK(i))
                        k = missing_ancestors(d->host, i, rel, &made[i]);
        if (k >= 0)
                k = save_pending(c, mask, made);
        for (int i = 0; i < CG_HIERARCHIES_MAX; i++)
                strv_free(made[i]);
        return k;
}

static int open_tree(Daemon *d, Container *c, bool create, uint32_t *ret_made, CgdRefusal *r) {
        uint32_t want = hierarchies_for(d->host, c->policy);
        const char *rel = cg_path_relative(c->cgroup);
        uint32_t have = existing_in(d->host, want, rel);
        /* Without Create, the root must exist where the policy's controllers are; name=systemd and
         * cgroup2 are used where they exist. */
        uint32_t optional = (d->host->unified >= 0 && d->host->mode != CG_MODE_UNIFIED ? CG_HMASK(d->host->unified) : 0) |
                            (d->host->named_systemd >= 0 ? CG_HMASK(d->host->named_systemd) : 0);
        if (!create && (want & ~optional & ~have))
                return cgd_refuse(r, CGD_ERROR_NOT_FOUND,
                                  "cgroup %s does not exist in every hierarchy the policy needs (pass Create=true)",
                                  c->cgroup);
        uint32_t mask = create ? want : (want & have);
        int k = save_pending_for(d, c, mask & ~have);
        if (k < 0)
                return cgd_refuse(r, CGD_ERROR_FAILED, "cannot write the state file of %s: %s", c->name, strerror(-k));
        CgFailure f = {};
        k = cg_tree_open(d->host, c->cgroup, mask, create, &c->tree, &f);
        if (k < 0) {
                char buf[256];
                return cgd_refuse(r, CGD_ERROR_FAILED, "cannot open cgroup %s: %s", c->cgroup,
                                  cg_failure_explain(&f, d->host, buf, sizeof buf));
        }
        *ret_made = mask & ~have;
        return 0;
}

/* On cgroup v2, groups the daemon made above a new root pass the policy's controllers down to
 * it; groups that existed before (the runtime's, systemd's) are never written. */
static int delegate_made(Container *c, CgdRefusal *r) {
        const CgHost *h = c->daemon->host;
        uint32_t controllers = 0;
        for (KnobId id = 0; id < _KNOB_MAX; id++) {
                int ctrl = knob_info(id)->controller;
                if ((c->policy->allowed & KNOB_MASK(id)) && h->unified >= 0 && h->by_controller[ctrl] == h->unified)
                        controllers |= CG_MASK(ctrl);
        }
        CgFailure f = {};
        int k = cg_tree_delegate_made(c->tree, controllers, &f);
        if (k < 0) {
                char buf[256];
                return cgd_refuse(r, k == -EOPNOTSUPP ? CGD_ERROR_NOT_SUPPORTED : CGD_ERROR_FAILED,
                                  "cannot pass the policy's controllers down to %s: %s", c->cgroup,
                                  cg_failure_explain(&f, h, buf, sizeof buf));
        }
        return 0;
}

static int apply_root_properties(Container *c, BusOptions *o, CgdRefusal *r) {
        if (o->n_props == 0)
                return 0;
        _cleanup_free_ KnobValue *values = NULL;
        int k = bus_parse_values(o->props, o->n_props, NULL, "/", 0, &values, r);
        if (k < 0)
                return k;
        return sdunit_apply(c, ".", values, o->n_props, APPLY_ALLOW_BELOW_USAGE, r);
}

int registry_register(Daemon *d, const char *name, const char *cgroup, const char *policy, BusOptions *o,
                      Container **ret, CgdRefusal *r) {
        int k = check_registration(d, name, cgroup, policy, r);
        if (k < 0)
                return k;
        Container *c = container_new(d, name, cgroup, policy);
        if (!c)
                return -ENOMEM;
        c->socket_uid = (o->set & OPT(OPT_SOCKET_UID)) ? o->u[OPT_SOCKET_UID] : 0;
        c->socket_gid = (o->set & OPT(OPT_SOCKET_GID)) ? o->u[OPT_SOCKET_GID] : 0;
        uint32_t made = 0;
        k = sdunit_detect(cgroup, &c->unit, r);
        if (k >= 0)
                k = open_tree(d, c, o->flag[OPT_CREATE], &made, r);
        c->created_root = made != 0;
        if (k >= 0 && made)
                k = delegate_made(c, r);
        if (k >= 0 && (o->set & (OPT(OPT_LEADER) | OPT(OPT_LEADER_FD))))
                k = registry_set_leader(c, o->u[OPT_LEADER], o->leader_fd, r);
        if (k >= 0)
                k = apply_root_properties(c, o, r);
        if (k >= 0 && (k = budget_take_groups(&d->budget, registry_count_groups(c), r)) >= 0)
                c->groups = registry_count_groups(c);
        if (k >= 0) {
                k = open_socket_dir(d, c);
                if (k < 0)
                        k = cgd_refuse(r, CGD_ERROR_FAILED, "cannot make the socket of %s: %s", name, strerror(-k));
        }
        if (k >= 0)
                k = registry_save(c);
        if (k < 0) {
                /* Leave nothing behind: the groups this call made, the socket, the directory. */
                if (c->tree && made)
                        (void) cg_tree_destroy(c->tree, made, true, NULL);
                if (c->listener.fd >= 0)
                        handover_unstore(c);
                forget_files(d, name);
                container_free(c);
                return k == -ENOMEM || r == NULL ? k : cgd_error_errno(r->error);
        }
        g_hash_table_insert(d->containers, c->name, c);
        *ret = c;
        return 0;
}

void registry_container_ended(Container *c, const char *why) {
        container_ended(c, why);
}

int registry_unregister(Daemon *d, Container *c, bool remove_cgroup, CgdRefusal *r) {
        if (c->job)
                return cgd_refuse(r, CGD_ERROR_BUSY, "container %s has a request in progress; try again", c->name);
        if (remove_cgroup) {
                CgFailure f = {};
                int k = cg_tree_destroy(c->tree, c->tree->hierarchies, true, &f);
                if (k < 0) {
                        char buf[256];
                        return cgd_refuse(r, k == -EBUSY ? CGD_ERROR_BUSY : CGD_ERROR_FAILED,
                                          "cannot remove the cgroup of %s: %s", c->name,
                                          cg_failure_explain(&f, d->host, buf, sizeof buf));
                }
        }
        g_hash_table_steal(d->containers, c->name);
        handover_unstore(c);
        budget_return_groups(&d->budget, c->groups);
        forget_files(d, c->name);
        container_free(c);
        return 0;
}

void registry_free_all(Daemon *d) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, d->containers);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                g_hash_table_iter_steal(&it);
                container_free(v);
        }
}

/* ---- restart ---- */

/* The leader recorded in a state file, if it is still the same process: the same pid in the same
 * pid namespace (a recycled pid would sit in another). */
static int reload_leader(Container *c, const Restore *rs) {
        pid_t pid = rs->leader;
        if (pid <= 0)
                return 0;
        _cleanup_close_ int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        PidNs ns = PIDNS_NULL;
        if (fd < 0 || pidns_of_pidfd(fd, &ns) < 0 || ns.dev != rs->ns_dev || ns.ino != rs->ns_ino) {
                pidns_done(&ns);
                return -ESRCH;
        }
        c->pidns = ns;
        c->leader = pid;
        c->leader_pidfd = TAKE_FD(fd);
        if (c->pidns.level > 0)
                (void) sd_event_add_io(c->daemon->event, &c->leader_source, c->leader_pidfd, EPOLLIN, on_leader_exit, c);
        return 0;
}

/* Ancestors of the root recorded as made by the daemon: only real ancestors of this root are
 * taken (the file is root's, but a stale or edited one must not make us remove other groups). */
static void reload_made(Container *c, GKeyFile *kf, Restore *rs) {
        const char *rel = cg_path_relative(c->cgroup);
        for (int i = 0; i < CG_HIERARCHIES_MAX; i++) {
                char key[32];
                snprintf(key, sizeof key, "MadeAncestors%d", i);
                g_auto(GStrv) list = g_key_file_get_string_list(kf, "Container", key, NULL, NULL);
                size_t n = 0;
                for (char **a = list; a && *a; a++) {
                        size_t l = strlen(*a);
                        if (strncmp(rel, *a, l) == 0 && rel[l] == '/' && !strstr(*a, "..") &&
                            strv_extend(&rs->made[i], &n, *a) < 0)
                                break;
                }
        }
}

static int reload_one(Daemon *d, const char *file) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = openat(d->state_fd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        FILE *f = fd >= 0 ? fdopen(TAKE_FD(fd), "re") : NULL;
        if (!f)
                return -errno;
        size_t size = 0;
        ssize_t n = getdelim(&text, &size, '\0', f);
        fclose(f);
        if (n < 0 || !g_key_file_load_from_data(kf, text, (gsize) n, G_KEY_FILE_NONE, NULL))
                return -EBADMSG;
        g_autofree char *name = g_key_file_get_string(kf, "Container", "Name", NULL);
        g_autofree char *cgroup = g_key_file_get_string(kf, "Container", "Cgroup", NULL);
        g_autofree char *policy = g_key_file_get_string(kf, "Container", "Policy", NULL);
        if (!name || !cgroup || !policy || !name_valid(name) || cg_path_validate(cgroup, CG_PATH_HOST, 0, NULL) < 0)
                return -EBADMSG;
        Container *c = container_new(d, name, cgroup, policy);
        if (!c)
                return -ENOMEM;
        /* The name stays the recorded one, so that a reload that brings the file back restores it. */
        if (!c->policy) {
                log_msg(LOG_WARNING, "container %s: policy '%s' is gone; using 'default' until it returns", name, policy);
                c->policy = policies_get(d, "default");
                c->tokens = c->policy ? c->policy->request_burst : 0;
        }
        c->socket_uid = (uid_t) g_key_file_get_uint64(kf, "Container", "SocketUID", NULL);
        c->socket_gid = (gid_t) g_key_file_get_uint64(kf, "Container", "SocketGID", NULL);
        c->own_mask = (uint32_t) g_key_file_get_uint64(kf, "Container", "OwnHierarchies", NULL);
        c->created_root = g_key_file_get_boolean(kf, "Container", "CreatedRoot", NULL);
        /* The rest waits until the container is first used, or the loop is idle: a restart with
         * 10,000 registrations serves each socket again after parsing its state file. */
        c->restore = calloc(1, sizeof(Restore));
        if (!c->restore) {
                container_free(c);
                return -ENOMEM;
        }
        c->restore->hierarchies = (uint32_t) g_key_file_get_uint64(kf, "Container", "Hierarchies", NULL);
        c->restore->leader = (pid_t) g_key_file_get_uint64(kf, "Container", "Leader", NULL);
        c->restore->ns_dev = g_key_file_get_uint64(kf, "Container", "PidNsDev", NULL);
        c->restore->ns_ino = g_key_file_get_uint64(kf, "Container", "PidNsIno", NULL);
        reload_made(c, kf, c->restore);
        c->restore->remove_on_empty = g_key_file_get_string_list(kf, "Container", "RemoveOnEmpty", NULL, NULL);
        if (g_key_file_get_boolean(kf, "Container", "Pending", NULL)) {
                /* The daemon died during this registration: it never completed, so it goes. */
                log_msg(LOG_WARNING, "container %s: its registration was cut short by the daemon's end; undoing it", name);
                remove_made(d, c->cgroup, c->restore->hierarchies, c->restore->made);
                forget_files(d, name);
                container_free(c);
                return 0;
        }
        int k = open_socket_dir(d, c);
        if (k < 0) {
                log_msg(LOG_ERR, "container %s: cannot serve it again (%s); its registration is kept for the next start",
                        name, strerror(-k));
                container_free(c);
                return k;
        }
        g_hash_table_insert(d->containers, c->name, c);
        d->n_restoring++;
        return 1;
}

/* The second half of a restart for one container: its groups, its leader, its group count.
 * 0 when it is ready (again), -ESRCH when it ended while the daemon was away (it is then
 * unregistered from the loop: registry_restore_some()), another negative errno when it cannot be
 * served now (it is tried again at its next use). */
int registry_ready(Container *c) {
        Restore *rs = c->restore;
        Daemon *d = c->daemon;
        if (!rs)
                return 0;
        if (rs->ended)
                return -ESRCH;
        int k = cg_tree_open(d->host, c->cgroup, rs->hierarchies, false, &c->tree, NULL);
        for (int i = 0; k >= 0 && i < CG_HIERARCHIES_MAX; i++)
                c->tree->made[i] = TAKE_PTR(rs->made[i]);
        /* Gone in some hierarchies only (an unregistration cut short): the rest is opened, so
         * that it goes too (restore_end()). */
        uint32_t left = k == -ENOENT ? existing_in(d->host, rs->hierarchies, cg_path_relative(c->cgroup)) : 0;
        if (left && cg_tree_open(d->host, c->cgroup, left, false, &c->tree, NULL) >= 0)
                for (int i = 0; i < CG_HIERARCHIES_MAX; i++)
                        if (left & CG_HMASK(i))
                                c->tree->made[i] = TAKE_PTR(rs->made[i]);
        if (k >= 0 && sdunit_detect(c->cgroup, &c->unit, NULL) < 0)
                log_msg(LOG_WARNING, "container %s: its systemd unit is not usable; root limits go to its files", c->name);
        if (k >= 0)
                k = reload_leader(c, rs);
        /* Its group or its pid namespace is gone: the container ended while we were away. Any
         * other failure (no space, no memory) says nothing about the container: the state file
         * stays, and the next use tries again. */
        if (k == -ENOENT || k == -ESRCH) {
                log_msg(LOG_INFO, "container %s ended while the daemon was stopped (%s); unregistering", c->name,
                        strerror(-k));
                rs->ended = true;
                server_wake_restore(d);
                return -ESRCH;
        }
        if (k < 0) {
                log_msg(LOG_ERR, "container %s: cannot serve it again (%s); trying again at its next use", c->name,
                        strerror(-k));
                c->tree = cg_tree_free(c->tree);
                if (!rs->failed)
                        d->n_restore_failed++;
                rs->failed = true;
                return k;
        }
        /* Counted whatever the budget says: the groups exist already. */
        c->groups = repair_groups(c);
        events_restore(c, rs->remove_on_empty);
        d->budget.groups += c->groups;
        d->n_restore_failed -= rs->failed;
        c->restore = restore_free(rs);
        d->n_restoring--;
        return 0;
}

/* An ended one leaves as it would have at the start: its groups below the root, and its root if
 * the daemon made it, removed; its files forgotten. */
static void restore_end(Container *c) {
        Daemon *d = c->daemon;
        uint32_t opened = c->tree ? c->tree->hierarchies : 0;
        if (c->tree) {
                CgFailure failure = {};
                remove_groups_below_root(c);
                if (c->created_root)
                        (void) cg_tree_destroy(c->tree, c->tree->hierarchies, true, &failure);
        }
        /* Where its root is gone already, the ancestors the daemon made for it may not be. */
        if (c->created_root)
                remove_made(d, c->cgroup, c->restore->hierarchies & ~opened, c->restore->made);
        g_hash_table_steal(d->containers, c->name);
        d->n_restoring--;
        d->n_restore_failed -= c->restore->failed;
        handover_unstore(c);
        forget_files(d, c->name);
        container_free(c);
}

/* Up to max containers still restoring are made ready (all with max 0, the ones that failed
 * before included); the ended ones are unregistered. Returns whether some are left that a batch
 * would try: one that failed waits for its next use, not for the next idle turn of the loop. */
bool registry_restore_some(Daemon *d, unsigned max, uint64_t budget_usec) {
        GHashTableIter it;
        gpointer v;
        GPtrArray *ended = g_ptr_array_new();
        unsigned done = 0;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t start = (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000, now = start;
        g_hash_table_iter_init(&it, d->containers);
        while (d->n_restoring > ended->len && (max == 0 || (done < max && now - start < budget_usec)) &&
               g_hash_table_iter_next(&it, NULL, &v)) {
                Container *c = v;
                if (!c->restore || (max > 0 && c->restore->failed))
                        continue;
                done++;
                if (registry_ready(c) == -ESRCH)
                        g_ptr_array_add(ended, c);
                clock_gettime(CLOCK_MONOTONIC, &ts);
                now = (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
        }
        for (guint i = 0; i < ended->len; i++)
                restore_end(ended->pdata[i]);
        g_ptr_array_free(ended, true);
        return d->n_restoring > d->n_restore_failed;
}

int registry_load_all(Daemon *d) {
        int fd = openat(d->state_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
        if (!dir) {
                safe_close(fd);
                return -errno;
        }
        unsigned n = 0;
        for (struct dirent *de; (de = readdir(dir));) {
                size_t l = strlen(de->d_name);
                /* A state file being written when the daemon died: the old one (or none) stands. */
                if (de->d_name[0] == '.' && l > 4 && streq(de->d_name + l - 4, ".tmp"))
                        (void) unlinkat(d->state_fd, de->d_name, 0);
                if (de->d_name[0] == '.' || l <= strlen(STATE_SUFFIX) || !streq(de->d_name + l - strlen(STATE_SUFFIX), STATE_SUFFIX))
                        continue;
                int k = reload_one(d, de->d_name);
                if (k < 0)
                        log_msg(LOG_WARNING, "ignoring state file %s: %s", de->d_name, strerror(-k));
                n += k > 0;
        }
        closedir(dir);
        log_msg(LOG_INFO, "%u registration(s) restored (their sockets served; each is made ready at its first use)", n);
        server_wake_restore(d);
        return 0;
}

/* A root group removed behind the daemon's back (the runtime cleaned up) ends the registration. */
int registry_check_alive(Daemon *d) {
        GHashTableIter it;
        gpointer v;
        GPtrArray *gone = g_ptr_array_new();
        g_hash_table_iter_init(&it, d->containers);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                Container *c = v;
                if (c->restore)
                        continue; /* registry_ready() looks */
                bool alive = c->job != NULL; /* looked at again after the job */
                for (size_t i = 0; i < CG_HIERARCHIES_MAX && !alive; i++) {
                        struct stat st;
                        alive = (c->tree->hierarchies & CG_HMASK(i)) &&
                                fstatat(c->tree->fd[i], "cgroup.procs", &st, 0) >= 0;
                }
                if (!alive)
                        g_ptr_array_add(gone, c);
        }
        for (guint i = 0; i < gone->len; i++)
                container_ended(gone->pdata[i], "its root group was removed");
        g_ptr_array_free(gone, true);
        return 0;
}
