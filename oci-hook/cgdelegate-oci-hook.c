/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgdelegate-oci-hook [--config FILE] [STAGE]: an OCI runtime hook (runc, crun; podman and CRI-O
 * through hooks.d) that gives a container its cgdelegated socket. The container's state is on
 * stdin (runtime-spec "state"); without STAGE the state's status tells ("creating" or "created":
 * createRuntime, "stopped": poststop), so that one hooks.d entry serves both stages.
 *
 *   createRuntime (or prestart): registers the container with cgdelegated under its OCI id, at
 *     the cgroup its init is in, with that init as leader (a pidfd: no pid reuse race), the
 *     policy chosen by the admin's configuration (hookconf.h: an annotation may only pick among
 *     allowed names), and the socket owned by the container's root as the host sees it (its user
 *     namespace's uid and gid maps). Then it mounts the socket directory read-only at
 *     /run/host/cgdelegate inside the container (inject.h). If the mount fails, the registration
 *     is undone: a container never starts half set up.
 *   poststop: unregisters the container (already gone is fine: the daemon unregisters a container
 *     by itself when its init exits, so a poststop that never runs leaves nothing behind either).
 *
 * A failure exits 1 with one line on stderr, which the runtime shows; creation then stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgdelegate.h"
#include "hookconf.h"
#include "inject.h"
#include "macro.h"
#include "ocistate.h"

#define INPUT_MAX (4U << 20) /* a state or config.json larger than this is refused */

static const char *arg_config = HOOK_CONFIG_PATH;

static int say(const char *fmt, ...) _printf_(1, 2);
static int say(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("cgdelegate-oci-hook: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return -1;
}

/* The whole of f, NUL-terminated; NULL when it cannot be read or exceeds INPUT_MAX. */
static char *read_all(FILE *f) {
        size_t n = 0, size = 0;
        char *buf = NULL;
        for (;;) {
                if (n + 4096 + 1 > size) {
                        size = size ? size * 2 : 16384;
                        char *grown = size <= INPUT_MAX + 1 ? realloc(buf, size) : NULL;
                        if (!grown) {
                                free(buf);
                                return NULL;
                        }
                        buf = grown;
                }
                size_t k = fread(buf + n, 1, size - n - 1, f);
                n += k;
                if (k == 0)
                        break;
        }
        if (ferror(f)) {
                free(buf);
                return NULL;
        }
        buf[n] = '\0';
        return buf;
}

static char *read_file(const char *path) {
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *text = read_all(f);
        fclose(f);
        return text;
}

/* The cgroup pid is in: its memory hierarchy path on v1 and hybrid hosts (runtimes use the same
 * path in every hierarchy), else its cgroup2 path. */
static char *cgroup_of(pid_t pid) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        _cleanup_free_ char *text = read_file(path);
        char *unified = NULL, *save = NULL;
        for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                char *controllers = strchr(line, ':'), *cg = controllers ? strchr(controllers + 1, ':') : NULL;
                if (!cg)
                        continue;
                *cg++ = '\0';
                controllers++;
                if (streq(controllers, "") && streq(line, "0"))
                        unified = cg;
                for (char *c = controllers, *end; *c; c = end + (*end == ',')) {
                        end = c + strcspn(c, ",");
                        if (end - c == 6 && strncmp(c, "memory", 6) == 0)
                                return strdup(cg);
                }
        }
        return unified ? strdup(unified) : NULL;
}

/* The host id that id 0 of pid's user namespace maps to (file: "uid_map" or "gid_map"). */
static int root_id_of(pid_t pid, const char *file, uint32_t *ret) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, file);
        _cleanup_free_ char *text = read_file(path);
        char *save = NULL;
        for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                unsigned long inside, outside, count;
                if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 && count > 0) {
                        *ret = (uint32_t) outside;
                        return 0;
                }
        }
        return -ENOENT;
}

static int daemon_failed(cgd_client *c, const char *what, int r) {
        return say("%s: %s%s%s", what, cgd_client_error_name(c) ? cgd_client_error_name(c) + strlen("org.cgdelegate.Error.") : "",
                   cgd_client_error_name(c) ? ": " : "", cgd_client_error_message(c) ?: strerror(-r));
}

/* Everything of the registration but the call: policy, root file system, cgroup, options. */
static int prepare(const HookConfig *conf, const OciState *s, const char **ret_policy, char **ret_rootfs,
                   char **ret_cgroup, cgd_options **ret_options) {
        _cleanup_free_ char *error = NULL, *config_path = NULL, *config = NULL;
        if (s->pid <= 0)
                return say("%s: the state has no pid: run this hook at createRuntime (or prestart)", s->id);
        if (hook_config_pick_policy(conf, oci_state_annotation(s, HOOK_POLICY_ANNOTATION), ret_policy, &error) < 0)
                return say("%s: %s", s->id, error);
        if (asprintf(&config_path, "%s/config.json", s->bundle) < 0 || !(config = read_file(config_path)))
                return say("%s: cannot read %s/config.json: %m", s->id, s->bundle);
        if (oci_config_rootfs(config, s->bundle, ret_rootfs, &error) < 0)
                return say("%s: %s", s->id, error);
        if (!(*ret_cgroup = cgroup_of(s->pid)))
                return say("%s: cannot read the cgroup of its init, pid %d", s->id, (int) s->pid);
        int pidfd = (int) syscall(SYS_pidfd_open, s->pid, 0);
        if (pidfd < 0)
                return say("%s: its init, pid %d, is gone: %m", s->id, (int) s->pid);
        uint32_t uid = 0, gid = 0;
        int r = cgd_options_new(ret_options);
        r = r < 0 ? r : cgd_options_add_fd(*ret_options, "LeaderFD", pidfd);
        if (r >= 0 && root_id_of(s->pid, "uid_map", &uid) >= 0 && root_id_of(s->pid, "gid_map", &gid) >= 0) {
                r = cgd_options_add_u32(*ret_options, "SocketUID", uid);
                r = r < 0 ? r : cgd_options_add_u32(*ret_options, "SocketGID", gid);
        }
        close(pidfd);
        return r < 0 ? say("%s: %s", s->id, strerror(-r)) : 0;
}

static int run_create(const HookConfig *conf, const OciState *s) {
        const char *policy = NULL;
        _cleanup_free_ char *rootfs = NULL, *cgroup = NULL, *socket = NULL, *error = NULL;
        cgd_options *o = NULL;
        cgd_client *c = NULL;
        int r = prepare(conf, s, &policy, &rootfs, &cgroup, &o);
        if (r >= 0 && (r = cgd_client_open(conf->admin_socket, &c)) < 0)
                say("%s: cannot reach cgdelegated at %s: %s", s->id, conf->admin_socket, strerror(-r));
        if (r >= 0 && (r = cgd_register_container(c, s->id, cgroup, policy, o, &socket)) < 0)
                daemon_failed(c, s->id, r);
        if (r >= 0 && (r = inject_bind_dir(s->pid, dirname(socket), rootfs, conf->mount_point, &error)) < 0) {
                say("%s: %s; unregistering it", s->id, error ?: strerror(-r));
                (void) cgd_unregister_container(c, s->id, NULL);
        }
        if (r >= 0)
                fprintf(stderr, "cgdelegate-oci-hook: %s: registered at %s with policy %s; its socket is at %s/socket\n",
                        s->id, cgroup, policy, conf->mount_point);
        cgd_options_free(o);
        cgd_client_free(c);
        return r < 0 ? -1 : 0;
}

static int run_poststop(const HookConfig *conf, const OciState *s) {
        cgd_client *c = NULL;
        int r = cgd_client_open(conf->admin_socket, &c);
        if (r < 0)
                return say("%s: cannot reach cgdelegated at %s: %s", s->id, conf->admin_socket, strerror(-r));
        r = cgd_unregister_container(c, s->id, NULL);
        if (r < 0 && r != -ENOENT) /* NotFound: the daemon saw its init exit and unregistered it already */
                daemon_failed(c, s->id, r);
        cgd_client_free(c);
        return r < 0 && r != -ENOENT ? -1 : 0;
}

static void help(void) {
        printf("Usage: cgdelegate-oci-hook [--config FILE] [STAGE]\n\n"
               "An OCI hook: gives a container its cgdelegated socket at creation and takes it back\n"
               "after it stops. The container's state is read from stdin.\n\n"
               "Stages (without one, the state's status tells):\n"
               "  createRuntime, prestart  register the container, mount its socket directory\n"
               "  poststop                 unregister it\n\n"
               "Options:\n"
               "  --config FILE  the hook's configuration (default %s)\n"
               "  --help         this text\n"
               "  --version      the version\n",
               HOOK_CONFIG_PATH);
}

static int parse_argv(int argc, char *argv[], const char **ret_stage) {
        static const struct option options[] = { { "config", required_argument, NULL, 'c' },
                                                  { "help", no_argument, NULL, 'h' },
                                                  { "version", no_argument, NULL, 'V' },
                                                  {} };
        int ch;
        while ((ch = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (ch) {
                case 'c':
                        arg_config = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("cgdelegate-oci-hook %s\n", CGD_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc - 1)
                return say("at most one STAGE expected (createRuntime, prestart or poststop); see --help"), -EINVAL;
        *ret_stage = argv[optind]; /* NULL: from the state's status */
        return 1;
}

int main(int argc, char *argv[]) {
        const char *stage = NULL;
        int r = parse_argv(argc, argv, &stage);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (stage && !streq(stage, "createRuntime") && !streq(stage, "prestart") && !streq(stage, "poststop"))
                return say("unknown stage '%.40s': createRuntime, prestart or poststop", stage), 2;
        _cleanup_free_ char *input = read_all(stdin), *error = NULL;
        HookConfig conf = {};
        OciState s = {};
        if (!input)
                return say("cannot read the container's state on stdin (at most %u bytes)", INPUT_MAX), 1;
        if (oci_state_parse(input, &s, &error) < 0 || hook_config_load(arg_config, &conf, &error) < 0)
                return say("%s", error ?: "out of memory"), oci_state_done(&s), 1;
        if (!stage)
                stage = oci_state_stage(&s);
        if (!stage)
                r = say("%s: no STAGE given, and the state's status '%s' does not tell one", s.id, s.status ?: "");
        else
                r = streq(stage, "poststop") ? run_poststop(&conf, &s) : run_create(&conf, &s);
        hook_config_done(&conf);
        oci_state_done(&s);
        return r < 0 ? 1 : 0;
}
