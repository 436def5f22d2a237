/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exec-wrapper drop-in (see dropin.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropin.h"
#include "macro.h"

void exec_list_done(ExecList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->commands[i].path);
                strv_free(l->commands[i].argv);
                strv_free(l->commands[i].flags);
        }
        free(l->commands);
        l->commands = NULL;
        l->n = 0;
}

/* One argument in double quotes: systemd unquotes it and resolves %-specifiers when it loads
 * the file, so quotes, backslashes and % are escaped; $ is left for systemd's expansion at
 * exec time, exactly as the unit had it. */
static void put_quoted(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        fprintf(f, "\\%c", *s);
                else if (*s == '%')
                        fputs("%%", f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
        fputc('"', f);
}

static const char *flag_prefix(const char *flag) {
        static const char *const map[][2] = { { "ignore-failure", "-" }, { "privileged", "+" }, { "no-setuid", "!" },
                                              { "ambient", "!!" },       { "no-env-expand", ":" } };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(flag, map[i][0]))
                        return map[i][1];
        return "";
}

static void put_command(FILE *f, const char *setting, const char *exec_path, const char *group, const ExecCommand *c) {
        const char *path = c->path;
        char *const *argv = c->argv;
        /* Already wrapped: EXEC GROUP -- PATH ARGV0 ARGS...; wrap the original again. */
        if (streq(path, exec_path) && strv_length(argv) >= 5 && streq(argv[2], "--")) {
                path = argv[3];
                argv += 4;
        }
        fprintf(f, "%s=", setting);
        for (char **fl = c->flags; fl && *fl; fl++)
                fputs(flag_prefix(*fl), f);
        put_quoted(f, exec_path);
        fputc(' ', f);
        put_quoted(f, group);
        fputs(" -- ", f);
        put_quoted(f, path);
        for (char *const *a = argv; a && *a; a++) {
                fputc(' ', f);
                put_quoted(f, *a);
        }
        fputc('\n', f);
}

int dropin_render(const char *exec_path, const char *socket, const char *group, const ExecList *lists, size_t n_lists,
                  char **ret) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "# Written by cgdelegate-systemd-bridge: the unit's processes join %s in cgdelegated's\n"
                   "# groups before they run. Removed when the unit has no resource settings.\n[Service]\n",
                group);
        if (socket) {
                _cleanup_free_ char *assignment = NULL;
                if (asprintf(&assignment, "CGDELEGATE_SOCKET=%s", socket) < 0) {
                        fclose(f);
                        free(text);
                        return -ENOMEM;
                }
                fputs("Environment=", f);
                put_quoted(f, assignment);
                fputc('\n', f);
        }
        for (size_t i = 0; i < n_lists; i++) {
                if (lists[i].n == 0)
                        continue;
                fprintf(f, "%s=\n", lists[i].setting); /* clear the unit's own, then the wrapped ones */
                for (size_t j = 0; j < lists[i].n; j++)
                        put_command(f, lists[i].setting, exec_path, group, &lists[i].commands[j]);
        }
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        *ret = text;
        return 0;
}
