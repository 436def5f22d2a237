/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.cgdelegate.Container1: what a container may ask for, on its own socket. The container is
 * the one whose socket the connection arrived on; nothing in a message can name another. Each
 * handler validates the path, asks the policy, then acts through cgtree.c / apply.c on the
 * container's tree, and audits the decision. Pids are the container's: resolved in its pid
 * namespace, and a process outside it is never listed, moved or signalled.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "cgpath.h"
#include "daemon.h"

#define FREEZE_TIMEOUT_MS 2000

/* ---- shared steps ---- */

static int finish(sd_bus_message *m, Conn *conn, const char *op, const char *path, const char *detail, int k,
                  const CgdRefusal *r) {
        /* A bare errno (nothing refused in words) is audited as a failure, not as the zeroed
         * refusal's AccessDenied. */
        audit_log(conn->daemon, conn->container, op, path, detail, k, r->message[0] ? r : NULL);
        if (k < 0 && r->message[0])
                return bus_refuse(m, conn, r);
        if (k < 0)
                return k;
        return sd_bus_reply_method_return(m, "");
}

static int tree_refusal(const Container *c, int k, const CgFailure *f, const char *what, CgdRefusal *r) {
        char buf[CGD_MESSAGE_MAX / 2];
        /* ENODEV: a file of a group removed meanwhile (the host raced the request). */
        CgdError e = k == -ENOENT || k == -ENODEV ? CGD_ERROR_NOT_FOUND
                   : k == -EBUSY ? CGD_ERROR_BUSY
                   : k == -EXDEV || k == -ELOOP ? CGD_ERROR_INVALID_PATH
                   : k == -ESRCH ? CGD_ERROR_NO_SUCH_PROCESS
                   : k == -EOPNOTSUPP || k == -ENXIO ? CGD_ERROR_NOT_SUPPORTED
                   : CGD_ERROR_FAILED;
        if (k == -ENOENT && (!f || !f->file[0]))
                return cgd_refuse(r, e, "%s: no such group", what);
        return cgd_refuse(r, e, "%s: %s", what, f ? cg_failure_explain(f, c->daemon->host, buf, sizeof buf) : strerror(-k));
}

/* The writes of SetProperties. apply.c may fail with a bare errno (a group the host removed between
 * its checks and its reads): that gets a name too, or sd-bus would send it as a System.Error. */
static int apply_values(Container *c, const char *path, const char *rel, const KnobValue *values, size_t n,
                        ApplyFlags flags, CgdRefusal *r) {
        int k = sdunit_apply(c, rel, values, n, flags, r);
        return k < 0 && !r->message[0] ? tree_refusal(c, k, NULL, path, r) : k;
}

/* The hierarchy whose membership lists and moves are read from: cgroup2 on a v2 host, else the
 * first v1 controller hierarchy the daemon places processes in. */
static int primary_hier(const Container *c) {
        const CgHost *h = c->daemon->host;
        uint32_t mask = registry_move_mask(c);
        if (h->mode == CG_MODE_UNIFIED)
                return h->unified;
        static const CgController order[] = { CG_CTRL_PIDS, CG_CTRL_MEMORY, CG_CTRL_CPU, CG_CTRL_CPUSET, CG_CTRL_IO,
                                              CG_CTRL_FREEZER };
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                int hier = h->by_controller[order[i]];
                if (hier >= 0 && h->hierarchies[hier].version == 1 && (mask & CG_HMASK(hier)))
                        return hier;
        }
        for (int i = 0; i < (int) h->n_hierarchies; i++)
                if (mask & CG_HMASK(i))
                        return i;
        return -1;
}

static int need_leader(const Container *c, const char *op, CgdRefusal *r) {
        if (c->leader > 0)
                return 0;
        return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED,
                          "%s needs the container's pid namespace, and its runtime has not set a leader yet", op);
}

/* ---- slow requests, run by the worker (worker.c) ---- */

typedef struct SlowOp {
        char *path;          /* as the client wrote it */
        const char *rel;     /* into path */
        const char *op;
        char detail[512];
        KnobValue *values;   /* SetProperties */
        size_t n;
        ApplyFlags flags;
        bool frozen;         /* Freeze / Thaw */
        int sig, hier;       /* Kill */
        size_t killed;
} SlowOp;

static int run_set(Job *j) {
        SlowOp *o = j->data;
        return apply_values(j->container, o->path, o->rel, o->values, o->n, o->flags, &j->refusal);
}

static int run_freeze(Job *j) {
        SlowOp *o = j->data;
        CgFailure f = {};
        int k = cg_tree_freeze(j->container->tree, o->rel, o->frozen, FREEZE_TIMEOUT_MS, &f);
        return k < 0 ? tree_refusal(j->container, k, &f, o->path, &j->refusal) : 0;
}

static int run_kill(Job *j) {
        SlowOp *o = j->data;
        CgFailure f = {};
        int k = cg_tree_kill(j->container->tree, o->rel, o->sig, o->hier, &o->killed, &f);
        if (k >= 0)
                snprintf(o->detail, sizeof o->detail, "signal %d, %zu processes", o->sig, o->killed);
        return k < 0 ? tree_refusal(j->container, k, &f, o->path, &j->refusal) : 0;
}

static void finish_slow(Job *j) {
        SlowOp *o = j->data;
        Daemon *d = j->container->daemon;
        audit_log(d, j->container, o->op, o->path, o->detail, j->result, j->refusal.message[0] ? &j->refusal : NULL);
        if (j->result < 0 && j->conn)
                (void) bus_refuse(j->message, j->conn, &j->refusal);
        else if (j->result >= 0)
                (void) sd_bus_reply_method_return(j->message, "");
        free(o->values);
        free(o->path);
        free(o);
}

/* Hands the request to the worker; the reply is sent when it is done. */
static int submit_slow(sd_bus_message *m, Conn *conn, int (*run)(Job *), SlowOp *proto) {
        Job *j = calloc(1, sizeof(Job));
        SlowOp *o = malloc(sizeof(SlowOp));
        char *path = strdup(proto->path);
        if (!j || !o || !path) {
                free(j);
                free(o);
                free(path);
                free(proto->values);
                return -ENOMEM;
        }
        *o = *proto;
        o->path = path;
        o->rel = cg_path_relative(path);
        *j = (Job) { .container = conn->container, .conn = conn, .message = m, .run = run, .finish = finish_slow,
                     .data = o };
        worker_submit(j);
        return 1;
}

/* Processes of the group that are not the container's (a runtime's supervisor may sit in its
 * groups): Freeze and Kill must not reach them. Every hierarchy of the tree is looked at, since
 * freezing and killing may act in cgroup2 as well as in the v1 hierarchies. */
static int check_only_own(Container *c, const char *rel, const char *path, const char *op, CgdRefusal *r) {
        for (int h = 0; h < (int) c->daemon->host->n_hierarchies; h++) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                if (!(c->tree->hierarchies & CG_HMASK(h)) || cg_tree_procs(c->tree, h, rel, true, &pids, &n) < 0)
                        continue; /* the group may exist in some hierarchies only */
                for (size_t i = 0; i < n; i++) {
                        pid_t ns_pid;
                        if (proc_pid_in_ns(pids[i], &c->pidns, &ns_pid) < 0)
                                return cgd_refuse(r, CGD_ERROR_ACCESS_DENIED,
                                                  "%s on %s is refused: the group holds a process that is not the "
                                                  "container's", op, path);
                }
        }
        return 0;
}

/* Reads "s path" and checks it; the path's depth against the policy. */
static int read_path(sd_bus_message *m, Container *c, const char **ret_path, const char **ret_rel, unsigned *ret_depth,
                     CgdRefusal *r) {
        int k = sd_bus_message_read(m, "s", ret_path);
        if (k < 0)
                return k;
        return bus_check_path(*ret_path, c->policy->max_depth, ret_rel, ret_depth, r);
}

/* ---- groups ---- */

static unsigned count_groups(Container *c) {
        _cleanup_strv_free_ char **l = NULL;
        int hier = primary_hier(c);
        return hier >= 0 && cg_tree_children(c->tree, hier, ".", true, &l) >= 0 ? (unsigned) strv_length(l) : 0;
}

/* How many of path's components do not exist yet. */
static unsigned missing_groups(Container *c, const char *rel) {
        unsigned missing = 0;
        _cleanup_free_ char *copy = strdup(rel);
        int hier = primary_hier(c);
        for (char *slash = copy ? copy + strlen(copy) : NULL; copy && hier >= 0 && !streq(copy, ".");) {
                if (cg_tree_has_file(c->tree, hier, copy, "cgroup.procs") > 0)
                        break;
                missing++;
                slash = strrchr(copy, '/');
                if (!slash)
                        break;
                *slash = '\0';
        }
        return missing;
}

static int method_create_group(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        Container *c = conn->container;
        CgdRefusal r = {};
        const char *path = "", *rel;
        unsigned depth = 0, missing = 0;
        BusOptions o = {};
        bool created = false;
        int k = read_path(m, c, &path, &rel, &depth, &r);
        if (k >= 0)
                k = bus_read_options(m, OPT(OPT_REMOVE_ON_EMPTY), &o, &r);
        bool remove_on_empty = k >= 0 && o.flag[OPT_REMOVE_ON_EMPTY];
        if (remove_on_empty && depth == 0)
                k = cgd_refuse(&r, CGD_ERROR_ACCESS_DENIED, "/ is the container's root and is never removable");
        if (k >= 0 && remove_on_empty)
                k = policy_check_action(c->policy, POLICY_ACTION_REMOVE, path, &r);
        if (k >= 0)
                k = policy_check_action(c->policy, POLICY_ACTION_CREATE, path, &r);
        if (k >= 0 && (missing = missing_groups(c, rel)) > 0) {
                k = policy_check_groups(c->policy, count_groups(c) + missing - 1, &r);
                if (k >= 0)
                        k = budget_take_groups(&c->daemon->budget, missing, &r);
        }
        if (k >= 0 && missing > 0) {
                CgFailure f = {};
                k = cg_tree_create(c->tree, rel, registry_move_mask(c), &created, &f);
                if (k < 0) {
                        budget_return_groups(&c->daemon->budget, missing);
                        tree_refusal(c, k, &f, path, &r);
                } else
                        c->groups += missing;
        }
        /* Watched from now on when the container subscribed, or to be removed when it empties. */
        if (k >= 0 && (k = events_group_made(c, rel, remove_on_empty, &r)) < 0 && created) {
                CgFailure f = {};
                if (cg_tree_remove(c->tree, rel, registry_move_mask(c), false, &f) >= 0) {
                        budget_return_groups(&c->daemon->budget, 1);
                        c->groups -= c->groups > 0;
                }
        }
        bus_options_done(&o);
        audit_log(conn->daemon, c, "CreateGroup", path,
                  k < 0 ? "" : created ? (remove_on_empty ? "created, RemoveOnEmpty" : "created") : (remove_on_empty ? "exists, RemoveOnEmpty" : "exists"),
                  k, r.message[0] ? &r : NULL);
        if (k < 0)
                return r.message[0] ? bus_refuse(m, conn, &r) : k;
        return sd_bus_reply_method_return(m, "b", created);
}

static int method_remove_group(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        Container *c = conn->container;
        CgdRefusal r = {};
        const char *path = "", *rel;
        unsigned depth = 0;
        int recursive = 0;
        BusOptions o = {};
        int k = read_path(m, c, &path, &rel, &depth, &r);
        if (k >= 0)
                k = sd_bus_message_read(m, "b", &recursive);
        if (k >= 0)
                k = bus_read_options(m, 0, &o, &r);
        if (k >= 0 && depth == 0)
                k = cgd_refuse(&r, CGD_ERROR_ACCESS_DENIED, "/ is the container's root and is never removable");
        if (k >= 0)
                k = policy_check_action(c->policy, POLICY_ACTION_REMOVE, path, &r);
        unsigned before = k >= 0 ? count_groups(c) : 0;
        if (k >= 0) {
                CgFailure f = {};
                k = cg_tree_remove(c->tree, rel, registry_move_mask(c), recursive, &f);
                if (k == -EBUSY)
                        cgd_refuse(&r, CGD_ERROR_BUSY, "%s still has %s", path,
                                   recursive ? "processes" : "processes or child groups (pass recursive=true for children)");
                else if (k < 0)
                        tree_refusal(c, k, &f, path, &r);
                else {
                        unsigned removed = before - count_groups(c);
                        budget_return_groups(&c->daemon->budget, removed);
                        c->groups -= removed < c->groups ? removed : c->groups;
                }
        }
        bus_options_done(&o);
        return finish(m, conn, "RemoveGroup", path, recursive ? "recursive" : "", k, &r);
}

/* ListGroups and the admin's ListContainerGroups: the groups below rel, as "/a/b" paths. */
int bus_reply_groups(sd_bus_message *m, Container *c, const char *path, const char *rel, bool recursive, CgdRefusal *r) {
        _cleanup_strv_free_ char **l = NULL;
        int k = cg_tree_children(c->tree, primary_hier(c), rel, recursive, &l);
        if (k < 0)
                return tree_refusal(c, k, NULL, path, r);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        k = sd_bus_message_new_method_return(m, &reply);
        if (k >= 0)
                k = sd_bus_message_open_container(reply, 'a', "s");
        for (char **i = l; k >= 0 && *i; i++) {
                _cleanup_free_ char *abs = g_strdup_printf("/%s", *i);
                k = sd_bus_message_append(reply, "s", abs);
        }
        if (k >= 0)
                k = sd_bus_message_close_container(reply);
        return k < 0 ? k : sd_bus_send(NULL, reply, NULL);
}

static int method_list_groups(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        CgdRefusal r = {};
        const char *path = "", *rel;
        unsigned depth = 0;
        int recursive = 0;
        int k = read_path(m, conn->container, &path, &rel, &depth, &r);
        if (k >= 0)
                k = sd_bus_message_read(m, "b", &recursive);
        if (k >= 0)
                k = bus_reply_groups(m, conn->container, path, rel, recursive, &r);
        return k < 0 ? finish(m, conn, "ListGroups", path, "", k, &r) : k;
}

/* ---- properties ---- */

static int method_set_properties(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        Container *c = conn->container;
        CgdRefusal r = {};
        const char *path = "", *rel;
        unsigned depth = 0;
        const char *pairs[BUS_PROPERTIES_MAX][2] = {};
        size_t n = 0;
        BusOptions o = {};
        _cleanup_free_ KnobValue *values = NULL;
        int k = read_path(m, c, &path, &rel, &depth, &r);
        if (k >= 0)
                k = bus_read_pairs(m, pairs, &n, &r);
        if (k >= 0)
                k = bus_read_options(m, OPT(OPT_ALLOW_BELOW_USAGE) | OPT(OPT_ALLOW_MIGRATE), &o, &r);
        if (k >= 0)
                k = bus_parse_values(pairs, n, c->policy, path, depth, &values, &r);
        ApplyFlags flags = bus_apply_flags(&o);
        SlowOp slow = { .path = (char *) path, .op = "SetProperties", .n = n, .flags = flags };
        bus_pairs_describe(pairs, n, slow.detail, sizeof slow.detail);
        bus_options_done(&o);
        /* Only a write the client allowed to reclaim or migrate can be slow; the rest is quick. */
        if (k >= 0 && flags) {
                slow.values = TAKE_PTR(values);
                return submit_slow(m, conn, run_set, &slow);
        }
        if (k >= 0)
                k = apply_values(c, path, rel, values, n, flags, &r);
        return finish(m, conn, "SetProperties", path, slow.detail, k, &r);
}

static int method_get_properties(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        Container *c = conn->container;
        CgdRefusal r = {};
        const char *path = "", *rel;
        unsigned depth = 0;
        _cleanup_strv_free_ char **keys = NULL;
        int k = read_path(m, c, &path, &rel, &depth, &r);
        if (k >= 0)
                k = sd_bus_message_read_strv(m, &keys);
        if (k >= 0 && strv_length(keys) > BUS_PROPERTIES_MAX)
                k = cgd_refuse(&r, CGD_ERROR_INVALID_VALUE, "more than %u keys", BUS_PROPERTIES_MAX);
        if (k >= 0 && cg_tree_has_file(c->tree, primary_hier(c), rel, "cgroup.procs") <= 0)
                k = cgd_refuse(&r, CGD_ERROR_NOT_FOUND, "%s: no such group", path);
        if (k < 0)
                return finish(m, conn, "GetProperties", path, "", k, &r);
        return bus_reply_properties(m, conn, c->tree, rel, keys, c->policy->allowed);
}

/* ---- processes ---- */

/* The hierarchy that tracks the container's processes: cgroup2, else name=systemd, else the
 * daemon's own. */
static int tracking_hier(const Container *c) {
        const CgHost *h = c->daemon->host;
        return h->unified >= 0 && (c->tree->hierarchies & CG_HMASK(h->unified)) ? h->unified
             : h->named_systemd >= 0 && (c->tree->hierarchies & CG_HMASK(h->named_systemd)) ? h->named_systemd
             : primary_hier(c);
}

/* A pidfd for the process the container calls ns_pid. It is looked for among the processes
 * below the container's root, the only ones it may move: no helper enters the container's pid
 * namespace (where the container could watch it), and a pid of the host or of another
 * container is never even considered. */
static int resolve_pid(Container *c, pid_t ns_pid, int *ret_pidfd) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (ns_pid <= 0 || cg_tree_procs(c->tree, tracking_hier(c), ".", true, &pids, &n) < 0)
                return -ESRCH;
        for (size_t i = 0; i < n; i++) {
                pid_t seen;
                if (proc_pid_in_ns(pids[i], &c->pidns, &seen) < 0 || seen != ns_pid)
                        continue;
                int fd = (int) syscall(SYS_pidfd_open, pids[i], 0);
                /* Pinned now: check again that the pinned process is the one we looked at. */
                if (fd >= 0 && proc_pid_in_ns(pids[i], &c->pidns, &seen) >= 0 && seen == ns_pid &&
                    proc_pidfd_alive(fd)) {
                        *ret_pidfd = fd;
                        return 0;
                }
                safe_close(fd);
                return -ESRCH;
        }
        return -ESRCH;
}

/* Whether host_pid sits below the container's root where processes are tracked: belonging to
 * the pid namespace is not enough. */
static bool below_root(Container *c, pid_t host_pid) {
        const CgHost *h = c->daemon->host;
        int track = tracking_hier(c);
        char *paths[CG_HIERARCHIES_MAX] = {};
        if (track < 0 || cg_host_pid_paths(h, host_pid, paths) < 0)
                return false;
        size_t l = strlen(c->cgroup);
        bool in = paths[track] && strncmp(paths[track], c->cgroup, l) == 0 && (paths[track][l] == '/' || !paths[track][l]);
        cg_paths_free(paths);
        return in;
}

/* A zombie still takes signal 0 through its pidfd, and the kernel silently moves nothing when its
 * pid is written: a pidfd is readable once its process has exited. */
static bool pidfd_exited(int pidfd) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        return poll(&p, 1, 0) != 0;
}

/* Moves the process behind pidfd: it must be the container's (its pid namespace, below its root),
 * and must still be the same process after the write. */
static int move_pidfd(Container *c, const char *path, const char *rel, int pidfd, CgdRefusal *r) {
        pid_t host_pid, ns_pid;
        if (proc_pidfd_host_pid(pidfd, &host_pid) < 0 || pidfd_exited(pidfd) ||
            proc_pid_in_ns(host_pid, &c->pidns, &ns_pid) < 0 || !below_root(c, host_pid))
                return cgd_refuse(r, CGD_ERROR_NO_SUCH_PROCESS, "no such process in this container");
        CgFailure f = {};
        int k = cg_tree_move(c->tree, rel, registry_move_mask(c), host_pid, &f);
        if (k < 0)
                return tree_refusal(c, k, &f, path, r);
        if (!proc_pidfd_alive(pidfd) || pidfd_exited(pidfd))
                return cgd_refuse(r, CGD_ERROR_NO_SUCH_PROCESS, "the process exited during the move");
        return 0;
}

static int method_move_process(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        Container *c = conn->container;
        CgdRefusal r = {};
        const char *path = "", *rel;
        unsigned depth = 0;
        uint32_t pid = 0;
        BusOptions o = {};
        _cleanup_close_ int pidfd = -EBADF;
        int k = read_path(m, c, &path, &rel, &depth, &r);
        if (k >= 0)
                k = sd_bus_message_read(m, "u", &pid);
        if (k >= 0)
                k = bus_read_options(m, 0, &o, &r);
        if (k >= 0)
                k = policy_check_action(c->policy, POLICY_ACTION_MOVE, path, &r);
        if (k >= 0)
                k = need_leader(c, "MoveProcess", &r);
        if (k >= 0 && (pid == 0 || pid > INT32_MAX || resolve_pid(c, (pid_t) pid, &pidfd) < 0))
                k = cgd_refuse(&r, CGD_ERROR_NO_SUCH_PROCESS, "no process %u in this container", pid);
        if (k >= 0)
                k = move_pidfd(c, path, rel, pidfd, &r);
        bus_options_done(&o);
        char detail[32];
        snprintf(detail, sizeof detail, "pid %u", pid);
        return finish(m, conn, "MoveProcess", path, detail, k, &r);
}

static int method_move_process_fd(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        Container *c = conn->container;
        CgdRefusal r = {};
        const char *path = "", *rel;
        unsigned depth = 0;
        int fd = -EBADF;
        BusOptions o = {};
        int k = read_path(m, c, &path, &rel, &depth, &r);
        if (k >= 0)
                k = sd_bus_message_read(m, "h", &fd);
        if (k >= 0)
                k = bus_read_options(m, 0, &o, &r);
        if (k >= 0)
                k = policy_check_action(c->policy, POLICY_ACTION_MOVE, path, &r);
        if (k >= 0)
                k = need_leader(c, "MoveProcessFD", &r);
        if (k >= 0)
                k = move_pidfd(c, path, rel, fd, &r);
        bus_options_done(&o);
        return finish(m, conn, "MoveProcessFD", path, "pidfd", k, &r);
}

/* GetProcesses and the admin's GetContainerProcesses: the container's sees pids in its own pid
 * namespace and never a process outside it; the host's sees host pids, all of them. */
int bus_reply_processes(sd_bus_message *m, Container *c, const char *path, const char *rel, bool recursive,
                        bool host_pids, CgdRefusal *r) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int k = cg_tree_procs(c->tree, primary_hier(c), rel, recursive, &pids, &n);
        if (k < 0)
                return tree_refusal(c, k, NULL, path, r);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        k = sd_bus_message_new_method_return(m, &reply);
        if (k >= 0)
                k = sd_bus_message_open_container(reply, 'a', "u");
        for (size_t i = 0; k >= 0 && i < n; i++) {
                pid_t shown = pids[i];
                if (host_pids || proc_pid_in_ns(pids[i], &c->pidns, &shown) >= 0)
                        k = sd_bus_message_append(reply, "u", (uint32_t) shown);
        }
        if (k >= 0)
                k = sd_bus_message_close_container(reply);
        return k < 0 ? k : sd_bus_send(NULL, reply, NULL);
}

static int method_get_processes(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        Container *c = conn->container;
        CgdRefusal r = {};
        const char *path = "", *rel;
        unsigned depth = 0;
        int recursive = 0;
        int k = read_path(m, c, &path, &rel, &depth, &r);
        if (k >= 0)
                k = sd_bus_message_read(m, "b", &recursive);
        if (k >= 0)
                k = need_leader(c, "GetProcesses", &r);
        if (k >= 0)
                k = bus_reply_processes(m, c, path, rel, recursive, false, &r);
        return k < 0 ? finish(m, conn, "GetProcesses", path, "", k, &r) : k;
}

/* ---- freeze, thaw, kill ---- */

static int freeze_common(sd_bus_message *m, Conn *conn, bool frozen) {
        Container *c = conn->container;
        CgdRefusal r = {};
        const char *path = "", *rel;
        unsigned depth = 0;
        BusOptions o = {};
        const char *op = frozen ? "Freeze" : "Thaw";
        int k = read_path(m, c, &path, &rel, &depth, &r);
        if (k >= 0)
                k = bus_read_options(m, 0, &o, &r);
        if (k >= 0)
                k = policy_check_action(c->policy, POLICY_ACTION_FREEZE, path, &r);
        if (k >= 0)
                k = need_leader(c, op, &r);
        if (k >= 0 && frozen)
                k = check_only_own(c, rel, path, op, &r);
        bus_options_done(&o);
        if (k >= 0)
                return submit_slow(m, conn, run_freeze, &(SlowOp) { .path = (char *) path, .op = op, .frozen = frozen });
        return finish(m, conn, op, path, "", k, &r);
}

static int method_freeze(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return freeze_common(m, userdata, true);
}

static int method_thaw(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return freeze_common(m, userdata, false);
}

static int method_kill(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        Container *c = conn->container;
        CgdRefusal r = {};
        const char *path = "", *rel;
        unsigned depth = 0;
        int32_t sig = 0;
        BusOptions o = {};
        int k = read_path(m, c, &path, &rel, &depth, &r);
        if (k >= 0)
                k = sd_bus_message_read(m, "i", &sig);
        if (k >= 0)
                k = bus_read_options(m, 0, &o, &r);
        if (k >= 0 && (sig < 1 || sig >= NSIG))
                k = cgd_refuse(&r, CGD_ERROR_INVALID_VALUE, "signal %d is not a valid signal (1..%d)", sig, NSIG - 1);
        if (k >= 0)
                k = policy_check_action(c->policy, POLICY_ACTION_KILL, path, &r);
        if (k >= 0)
                k = need_leader(c, "Kill", &r);
        if (k >= 0)
                k = check_only_own(c, rel, path, "Kill", &r);
        bus_options_done(&o);
        if (k >= 0)
                return submit_slow(m, conn, run_kill,
                                   &(SlowOp) { .path = (char *) path, .op = "Kill", .sig = sig, .hier = primary_hier(c) });
        char detail[32];
        snprintf(detail, sizeof detail, "signal %d", sig);
        return finish(m, conn, "Kill", path, detail, k, &r);
}

/* ---- policy, events ---- */

static int append_policy(sd_bus_message *reply, const Policy *p);

static int method_get_policy(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int k = sd_bus_message_new_method_return(m, &reply);
        if (k >= 0)
                k = append_policy(reply, conn->container->policy);
        return k < 0 ? k : sd_bus_send(NULL, reply, NULL);
}

static int method_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *conn = userdata;
        CgdRefusal r = {};
        _cleanup_strv_free_ char **events = NULL;
        int k = sd_bus_message_read_strv(m, &events);
        if (k >= 0)
                k = events_subscribe(conn, events ?: (char *[]) { NULL }, &r);
        return k < 0 && r.message[0] ? bus_refuse(m, conn, &r) : k < 0 ? k : sd_bus_reply_method_return(m, "");
}

#define DICT_ENTRY(reply, key, type, ...) \
        sd_bus_message_append(reply, "{sv}", key, type, __VA_ARGS__)

static int append_policy(sd_bus_message *reply, const Policy *p) {
        int k = sd_bus_message_open_container(reply, 'a', "{sv}");
        k = k < 0 ? k : DICT_ENTRY(reply, "Name", "s", p->name);
        k = k < 0 ? k : sd_bus_message_open_container(reply, 'e', "sv");
        k = k < 0 ? k : sd_bus_message_append(reply, "s", "AllowedProperties");
        k = k < 0 ? k : sd_bus_message_open_container(reply, 'v', "as");
        k = k < 0 ? k : sd_bus_message_open_container(reply, 'a', "s");
        for (KnobId id = 0; k >= 0 && id < _KNOB_MAX; id++)
                if (p->allowed & KNOB_MASK(id))
                        k = sd_bus_message_append(reply, "s", knob_info(id)->key);
        for (int i = 0; i < 3 && k >= 0; i++)
                k = sd_bus_message_close_container(reply);
        k = k < 0 ? k : sd_bus_message_open_container(reply, 'e', "sv");
        k = k < 0 ? k : sd_bus_message_append(reply, "s", "Ceilings");
        k = k < 0 ? k : sd_bus_message_open_container(reply, 'v', "a(ss)");
        k = k < 0 ? k : sd_bus_message_open_container(reply, 'a', "(ss)");
        for (KnobId id = 0; k >= 0 && id < _KNOB_MAX; id++) {
                char buf[KNOB_V1_VALUE_MAX];
                if ((p->has_ceiling & KNOB_MASK(id)) && id != KNOB_IO_MAX && knob_format(&p->ceilings[id], buf, sizeof buf) >= 0)
                        k = sd_bus_message_append(reply, "(ss)", knob_info(id)->key, buf);
        }
        for (size_t i = 0; k >= 0 && i < p->n_io_ceilings; i++) {
                char buf[256];
                if (knob_format(&p->io_ceilings[i], buf, sizeof buf) >= 0)
                        k = sd_bus_message_append(reply, "(ss)", "io.max", buf);
        }
        for (int i = 0; i < 3 && k >= 0; i++)
                k = sd_bus_message_close_container(reply);
        k = k < 0 ? k : DICT_ENTRY(reply, "MaxDepth", "u", p->max_depth);
        k = k < 0 ? k : DICT_ENTRY(reply, "MaxGroups", "u", p->max_groups);
        k = k < 0 ? k : DICT_ENTRY(reply, "AllowRootWrites", "b", p->allow_root_writes);
        k = k < 0 ? k : DICT_ENTRY(reply, "AllowCreate", "b", p->allow_create);
        k = k < 0 ? k : DICT_ENTRY(reply, "AllowFreeze", "b", p->allow_freeze);
        k = k < 0 ? k : DICT_ENTRY(reply, "AllowKill", "b", p->allow_kill);
        k = k < 0 ? k : DICT_ENTRY(reply, "AllowMove", "b", p->allow_move);
        k = k < 0 ? k : DICT_ENTRY(reply, "RequestRate", "u", p->request_rate);
        k = k < 0 ? k : DICT_ENTRY(reply, "RequestBurst", "u", p->request_burst);
        k = k < 0 ? k : DICT_ENTRY(reply, "MaxConnections", "u", p->max_connections);
        return k < 0 ? k : sd_bus_message_close_container(reply);
}

const sd_bus_vtable container_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("CreateGroup", "sa{sv}", SD_BUS_PARAM(path) SD_BUS_PARAM(options), "b", SD_BUS_PARAM(created), method_create_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RemoveGroup", "sba{sv}", SD_BUS_PARAM(path) SD_BUS_PARAM(recursive) SD_BUS_PARAM(options), "", "", method_remove_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("SetProperties", "sa(ss)a{sv}", SD_BUS_PARAM(path) SD_BUS_PARAM(properties) SD_BUS_PARAM(options), "", "", method_set_properties, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetProperties", "sas", SD_BUS_PARAM(path) SD_BUS_PARAM(keys), "a(ss)", SD_BUS_PARAM(properties), method_get_properties, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListGroups", "sb", SD_BUS_PARAM(path) SD_BUS_PARAM(recursive), "as", SD_BUS_PARAM(groups), method_list_groups, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("MoveProcess", "sua{sv}", SD_BUS_PARAM(path) SD_BUS_PARAM(pid) SD_BUS_PARAM(options), "", "", method_move_process, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("MoveProcessFD", "sha{sv}", SD_BUS_PARAM(path) SD_BUS_PARAM(pidfd) SD_BUS_PARAM(options), "", "", method_move_process_fd, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetProcesses", "sb", SD_BUS_PARAM(path) SD_BUS_PARAM(recursive), "au", SD_BUS_PARAM(pids), method_get_processes, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Freeze", "sa{sv}", SD_BUS_PARAM(path) SD_BUS_PARAM(options), "", "", method_freeze, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Thaw", "sa{sv}", SD_BUS_PARAM(path) SD_BUS_PARAM(options), "", "", method_thaw, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Kill", "sia{sv}", SD_BUS_PARAM(path) SD_BUS_PARAM(signal) SD_BUS_PARAM(options), "", "", method_kill, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetPolicy", "", "", "a{sv}", SD_BUS_PARAM(policy), method_get_policy, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Subscribe", "as", SD_BUS_PARAM(events), "", "", method_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("GroupEmpty", "s", SD_BUS_PARAM(path), 0),
        SD_BUS_SIGNAL_WITH_NAMES("MemoryEvent", "sst", SD_BUS_PARAM(path) SD_BUS_PARAM(kind) SD_BUS_PARAM(count), 0),
        SD_BUS_VTABLE_END,
};

/* Shared with bus-manager.c for GetContainer. */
int bus_append_policy(sd_bus_message *reply, const Policy *p);
int bus_append_policy(sd_bus_message *reply, const Policy *p) {
        return append_policy(reply, p);
}
