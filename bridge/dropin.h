/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The drop-in that places a unit's processes before they run: each ExecStartPre=, ExecStart=
 * and ExecStartPost= command becomes "cgdelegate-exec GROUP -- PATH ARGV0 ARGS...", which asks
 * cgdelegated to move it into GROUP and then execs the command, as cgexec does. Flags
 * (-, +, !, !!, :) are kept; arguments are quoted so systemd reads them back unchanged.
 */
#pragma once

#include <stddef.h>

typedef struct ExecCommand {
        char *path;
        char **argv;  /* NULL-terminated, argv[0] included */
        char **flags; /* systemd's ExecStartEx flag names: "ignore-failure", "privileged", ... */
} ExecCommand;

typedef struct ExecList {
        const char *setting; /* "ExecStartPre", "ExecStart", "ExecStartPost" */
        ExecCommand *commands;
        size_t n;
} ExecList;

void exec_list_done(ExecList *l);

/* The text of the drop-in for the commands in lists (n_lists of them), wrapped by exec_path
 * into group. A command already wrapped (after a daemon-reload) is wrapped once only. socket
 * (NULL: the default) is passed to the wrapper as CGDELEGATE_SOCKET. */
int dropin_render(const char *exec_path, const char *socket, const char *group, const ExecList *lists, size_t n_lists,
                  char **ret);
