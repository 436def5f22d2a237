/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Validation of group names and group paths. Everything a client sends that names a group goes
 * through here before it reaches the file system, and the file-system layer (safeopen.c) refuses
 * ".." and absolute paths again on its own.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CG_NAME_MAX 255U  /* bytes in one component: the kernel's NAME_MAX */
#define CG_PATH_MAX 4095U /* bytes in a whole path, without the NUL */

typedef enum CgPathFlags {
        /* A container's path ("/", "/app/web"): components are 1..255 characters of
         * [A-Za-z0-9_.@:-] and systemd's "\xNN" escapes, never ".", "..", "cgroup.*", a controller
         * prefix such as "memory." or a kernel control file name such as "tasks". */
        CG_PATH_CLIENT = 0,
        /* A host path given by the admin ("/machine.slice/libpod-1.scope"): only the structure is
         * checked (absolute, no empty, "." or ".." component, no control characters, the same
         * length limits and max_depth), since the host's own groups may be named anything the
         * host's manager chose. Such a path may name a control file ("/cgroup.procs"): it is only
         * ever opened as a directory, which the kernel then refuses. */
        CG_PATH_HOST = 1 << 0,
} CgPathFlags;

/* Returns 0 when name may be a group directory a client asks for, -EINVAL otherwise with
 * *ret_reason (a static string, may be NULL) saying why in words a person can act on; on success
 * *ret_reason is untouched. Input ends at the first NUL, as every C string does (D-Bus strings
 * cannot carry one). */
int cg_name_validate(const char *name, const char **ret_reason);

/* Validates an absolute group path ("/" or "/a/b", no trailing or doubled slash). max_depth
 * bounds the number of components (0: no bound). Same return convention as above. */
int cg_path_validate(const char *path, CgPathFlags flags, unsigned max_depth, const char **ret_reason);

/* The number of components of a valid path: 0 for "/". */
unsigned cg_path_depth(const char *path);

/* The same path relative to its root, for the fd-relative layer: "/" becomes ".", "/a/b" "a/b".
 * Only for paths that passed cg_path_validate(). */
const char *cg_path_relative(const char *path);

/* True when the component names a file the kernel keeps in a group directory (cgroup.*, a
 * controller's "memory.*", v1 "tasks", "release_agent", "notify_on_release"). */
bool cg_name_is_control_file(const char *name);
