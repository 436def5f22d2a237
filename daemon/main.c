/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgdelegated: parse_argv(), then run(): discover the cgroup layout, load the policies, make the
 * runtime and state directories, restore every registration (each container's socket inside its
 * existing directory), bind the admin socket last, tell systemd we are ready, and serve until
 * SIGTERM or SIGINT. SIGHUP reloads the policies.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"

#define ALIVE_CHECK_USEC (2 * 1000000)
#define BUDGET_GROUPS 16384        /* v1 memory cgroup ids are 65535 host-wide */
#define BUDGET_CONNECTIONS 65536
#define NOFILE_WANTED (1U << 20)      /* see raise_nofile() */

static const char *arg_cgroup_root = "/sys/fs/cgroup";
static const char *arg_runtime_dir = "/run/cgdelegate";
static const char *arg_state_dir = NULL;
static const char *arg_policy_dir = NULL;
static bool arg_foreground = false;
static unsigned arg_max_groups = BUDGET_GROUPS;
static unsigned arg_max_connections = BUDGET_CONNECTIONS;

static void help(void) {
        printf("Usage: cgdelegated [OPTIONS]\n\n"
               "Owns the cgroup tree and serves one socket per registered container.\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --foreground           Accepted; the daemon never forks (logs: journal, else stderr)\n"
               "     --cgroup-root DIR      Where the cgroup file systems are mounted (/sys/fs/cgroup)\n"
               "     --runtime-dir DIR      Sockets (/run/cgdelegate)\n"
               "     --state-dir DIR        Registrations (RUNTIME_DIR/state)\n"
               "     --policy-dir DIR       The only policy directory read\n"
               "                            (default: /etc/cgdelegate/policies, then /usr/share/cgdelegate/policies)\n"
               "     --log-level LEVEL      emerg..debug (info)\n"
               "     --max-groups N         Groups of all containers together (16384)\n"
               "     --max-connections N    Connections to all sockets together (65536)\n");
}

#define BUDGET_ARG_MAX 1000000

/* A daemon-wide budget: decimal digits only, 1..BUDGET_ARG_MAX. */
static int parse_budget(const char *s, unsigned *ret) {
        unsigned long v = 0;
        if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 7)
                return -EINVAL;
        v = strtoul(s, NULL, 10);
        if (v < 1 || v > BUDGET_ARG_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_FOREGROUND, ARG_CGROUP_ROOT, ARG_RUNTIME_DIR, ARG_STATE_DIR, ARG_POLICY_DIR,
               ARG_LOG_LEVEL, ARG_MAX_GROUPS, ARG_MAX_CONNECTIONS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "foreground", no_argument, NULL, ARG_FOREGROUND },
                { "cgroup-root", required_argument, NULL, ARG_CGROUP_ROOT },
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "policy-dir", required_argument, NULL, ARG_POLICY_DIR },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "max-groups", required_argument, NULL, ARG_MAX_GROUPS },
                { "max-connections", required_argument, NULL, ARG_MAX_CONNECTIONS },
                {}
        };
        int c;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("cgdelegated " CGD_VERSION "\n");
                        return 0;
                case ARG_FOREGROUND:
                        arg_foreground = true;
                        break;
                case ARG_CGROUP_ROOT:
                        arg_cgroup_root = optarg;
                        break;
                case ARG_RUNTIME_DIR:
                        arg_runtime_dir = optarg;
                        break;
                case ARG_STATE_DIR:
                        arg_state_dir = optarg;
                        break;
                case ARG_POLICY_DIR:
                        arg_policy_dir = optarg;
                        break;
                case ARG_LOG_LEVEL:
                        if (log_set_level(optarg) < 0) {
                                fprintf(stderr, "cgdelegated: unknown log level '%s'\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_MAX_GROUPS:
                case ARG_MAX_CONNECTIONS:
                        if (parse_budget(optarg, c == ARG_MAX_GROUPS ? &arg_max_groups : &arg_max_connections) < 0) {
                                fprintf(stderr, "cgdelegated: --%s wants a number from 1 to %u, not '%s'\n",
                                        c == ARG_MAX_GROUPS ? "max-groups" : "max-connections", BUDGET_ARG_MAX, optarg);
                                return -EINVAL;
                        }
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "cgdelegated: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

/* mkdir -p of an absolute path the admin gave (not client input), then an fd for it. */
static int make_dir(const char *path, mode_t mode) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        (void) mkdir(copy, 0755);
                        *p = '/';
                }
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return -errno;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* The directories hold sockets and registrations: root's alone. */
        if (fchmod(fd, mode) < 0) {
                safe_close(fd);
                return -errno;
        }
        return fd;
}

static int setup_dirs(Daemon *d) {
        d->runtime_fd = make_dir(d->runtime_dir, 0755);
        if (d->runtime_fd < 0)
                return log_errno(d->runtime_fd, "cannot make %s: %s", d->runtime_dir, strerror(-d->runtime_fd));
        _cleanup_free_ char *containers = g_strdup_printf("%s/containers", d->runtime_dir);
        d->containers_fd = make_dir(containers, 0700);
        d->state_fd = make_dir(d->state_dir, 0700);
        if (d->containers_fd < 0 || d->state_fd < 0)
                return log_errno(-EIO, "cannot make %s or %s", containers, d->state_dir);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;
        if (si->ssi_signo == SIGUSR2) {
                int r = handover_begin(d, false);
                if (r < 0)
                        log_msg(LOG_ERR, "cannot re-execute: %s", strerror(-r));
                return 0;
        }
        if (si->ssi_signo == SIGHUP) {
                _cleanup_free_ char *err = NULL;
                if (policies_load(d, &err) < 0)
                        log_msg(LOG_ERR, "policy reload: %s (the previous versions stay in force)", err);
                else
                        log_msg(LOG_INFO, "policies reloaded");
                return 0;
        }
        log_msg(LOG_INFO, "stopping on %s", strsignal((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1");
        /* A second signal does not wait for the drain. */
        if (d->handover_exit || handover_begin(d, true) < 0)
                return sd_event_exit(sd_event_source_get_event(s), 0);
        return 0;
}

static int on_alive_check(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) registry_check_alive(userdata);
        (void) sd_event_source_set_time_relative(s, ALIVE_CHECK_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static int setup_event(Daemon *d) {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR2);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        int r = sd_event_default(&d->event);
        if (r >= 0)
                r = sd_event_add_signal(d->event, NULL, SIGTERM, on_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, NULL, SIGINT, on_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, NULL, SIGHUP, on_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, NULL, SIGUSR2, on_signal, d);
        if (r >= 0)
                r = sd_event_add_time_relative(d->event, NULL, CLOCK_MONOTONIC, ALIVE_CHECK_USEC, 100000,
                                               on_alive_check, d);
        return r;
}

static int setup(Daemon *d) {
        int r = cg_host_discover(arg_cgroup_root, &d->host);
        if (r < 0)
                return log_errno(r, "no usable cgroup file system at %s: %s", arg_cgroup_root, strerror(-r));
        log_msg(LOG_INFO, "cgroup mode %s, %zu hierarchies at %s", cg_mode_to_string(d->host->mode),
                d->host->n_hierarchies, arg_cgroup_root);
        _cleanup_free_ char *err = NULL;
        if (policies_load(d, &err) < 0)
                log_msg(LOG_ERR, "policies: %s (those files are not in force)", err);
        r = setup_dirs(d);
        if (r >= 0)
                r = setup_event(d);
        /* From here on, only the capabilities caps.c names: before the worker thread exists,
         * since capabilities are per thread. */
        if (r >= 0)
                r = caps_drop();
        if (r >= 0)
                r = server_init(d);
        if (r >= 0)
                r = worker_init(d);
        if (r >= 0)
                r = events_init(d);
        if (r < 0)
                return r;
        (void) registry_load_all(d);
        /* The admin socket last: once it answers, every registration is back. Under socket
         * activation (cgdelegated.socket) systemd holds it, and clients wait in its backlog. */
        d->admin = (Listener) { .kind = WATCH_LISTENER, .type = LISTENER_ADMIN, .fd = -EBADF };
        int fd = handover_take_admin();
        handover_close_unclaimed(); /* sockets of containers no longer registered */
        if (fd >= 0) {
                r = server_adopt(d, &d->admin, fd);
                if (r < 0)
                        return log_errno(r, "cannot take the handed-over admin socket: %s", strerror(-r));
                log_msg(LOG_INFO, "admin socket handed over (socket activation or re-execution)");
                return 0;
        }
        r = server_listen(d, &d->admin, d->runtime_fd, "admin.socket", 0, 0, 0600);
        if (r < 0)
                return log_errno(r, "cannot bind %s/admin.socket: %s", d->runtime_dir, strerror(-r));
        return 0;
}

/* Every connection is an fd, and so is each container's socket and its root in each hierarchy
 * (five fds on a hybrid host for a pids-only policy, up to fourteen for every controller):
 * BUDGET_CONNECTIONS connections beside 10,000 containers need about 200,000.
 * Root may raise the hard limit up to fs.nr_open; otherwise the soft limit goes up to the hard. */
static void raise_nofile(void) {
        rlim_t want = NOFILE_WANTED;
        FILE *f = fopen("/proc/sys/fs/nr_open", "re");
        unsigned long long nr_open;
        if (f && fscanf(f, "%llu", &nr_open) == 1 && nr_open < want)
                want = (rlim_t) nr_open;
        if (f)
                fclose(f);
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return;
        if (rl.rlim_max < want && setrlimit(RLIMIT_NOFILE, &(struct rlimit) { want, want }) >= 0)
                return;
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < want)
                log_msg(LOG_WARNING, "only %llu file descriptors (RLIMIT_NOFILE): fewer connections and containers "
                        "fit than the budgets allow; raise LimitNOFILE=", (unsigned long long) rl.rlim_cur);
}

static int run(void) {
        Daemon d = {
                .cgroup_root = (char *) arg_cgroup_root,
                .runtime_dir = (char *) arg_runtime_dir,
                .epoll_fd = -EBADF, .runtime_fd = -EBADF, .containers_fd = -EBADF, .state_fd = -EBADF,
                .reserve_fd = -EBADF, .inotify_fd = -EBADF,
                .foreground = arg_foreground,
                .budget = { .max_groups = arg_max_groups, .max_connections = arg_max_connections },
        };
        _cleanup_free_ char *state = arg_state_dir ? strdup(arg_state_dir) : g_strdup_printf("%s/state", arg_runtime_dir);
        char *dirs_given[] = { (char *) arg_policy_dir, NULL };
        char *dirs_default[] = { "/etc/cgdelegate/policies", "/usr/share/cgdelegate/policies", NULL };
        d.state_dir = state;
        d.policy_dirs = arg_policy_dir ? dirs_given : dirs_default;
        d.containers = g_hash_table_new(g_str_hash, g_str_equal);
        umask(0077); /* sockets are made 0600, then given to their owner */
        raise_nofile();
        int r = setup(&d);
        if (r >= 0) {
                (void) sd_notifyf(false, "READY=1\nSTATUS=Serving %u container(s)", g_hash_table_size(d.containers));
                log_msg(LOG_INFO, "ready: %s/admin.socket", d.runtime_dir);
                r = server_loop(&d);
        }
        /* Sockets of registered containers stay on disk: a restart re-creates them in place. */
        worker_done(&d);
        registry_free_all(&d);
        events_done(&d);
        server_unlisten(&d, &d.admin);
        server_done(&d);
        g_hash_table_destroy(d.containers);
        if (d.policies)
                g_hash_table_destroy(d.policies);
        safe_close(d.runtime_fd);
        safe_close(d.containers_fd);
        safe_close(d.state_fd);
        cg_host_free(d.host);
        sd_event_unref(d.event);
        return r;
}

int main(int argc, char *argv[]) {
        int r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        handover_init(argc, argv);
        return run() < 0 ? 1 : 0;
}
