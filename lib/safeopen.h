/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one way libcgd opens anything below a cgroup root: relative to a held directory fd, never
 * leaving it (no "..", no symlink, no magic link, no other mount). openat2() with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_XDEV where the kernel has
 * it; a component-by-component O_NOFOLLOW walk that checks the mount id of every step where it
 * does not (ENOSYS, kernels before 5.6).
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Opens rel (relative, "." for dirfd itself) below dirfd with open flags (O_CLOEXEC is always
 * added) and mode (only with O_CREAT). Refuses an absolute path or a ".." component with -EXDEV,
 * an empty component with -EINVAL, a symlink anywhere (also the last component) with -ELOOP, and
 * a mount point on the way with -EXDEV, whichever of the two implementations runs. */
int safe_openat(int dirfd, const char *rel, int flags, mode_t mode);

/* Splits rel into the directory safe_openat() reaches (O_PATH|O_DIRECTORY, returned) and its last
 * component (*ret_last points into rel), for the *at() calls that act on a name: mkdirat(),
 * unlinkat(). The last component is checked like every other ("..", ".", empty: -EXDEV/-EINVAL). */
int safe_open_parent(int dirfd, const char *rel, const char **ret_last);

/* Reads the whole of a small file below dirfd (at most max bytes, -EFBIG past it) into a
 * NUL-terminated malloc'ed string. */
int safe_read_file(int dirfd, const char *rel, size_t max, char **ret);

/* Testing hook: when true every call takes the fallback path as if openat2() were missing. */
void safe_open_force_fallback(bool force);
/* Whether the last safe_openat() of this thread used openat2() (for tests). */
bool safe_open_used_openat2(void);
