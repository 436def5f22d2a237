/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Puts the container's socket directory into a container that is being created: a read-only,
 * nosuid, nodev, noexec bind mount of dir at mount_point inside the container's root file system,
 * made in the container's own mount namespace (that of pid) before the runtime's pivot_root, as
 * an OCI createRuntime hook runs. The mount is cloned from the host's namespace first
 * (open_tree), so the host path need not be visible in the container's; the directories on the
 * way are made inside rootfs one component at a time, never following a symlink: the image is
 * the tenant's, and a symlinked /run must not carry the mount anywhere else.
 */
#pragma once

#include <sys/types.h>

/* Works in a child process (setns needs a single thread, and the caller stays in the host's
 * namespace). On failure *ret_error (free()) says what failed. */
int inject_bind_dir(pid_t pid, const char *dir, const char *rootfs, const char *mount_point, char **ret_error);
