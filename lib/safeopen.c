/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening below a held directory fd without ever leaving it. A container controls the names in
 * its own tree, and on v1 it may even rename or replace directories in it while the daemon
 * works, so no path is joined into a string and resolved from "/": every open is relative to a
 * directory fd the daemon holds, and the resolution refuses "..", symlinks, magic links and
 * mount points. openat2() does all of that in the kernel; where it is missing (ENOSYS, kernels
 * before 5.6) the same rules are applied one component at a time with O_NOFOLLOW, comparing
 * each step's mount id with the starting directory's.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "macro.h"
#include "safeopen.h"

#define RESOLVE_SAFE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)
#define OPENAT2_RETRIES 32

static bool force_fallback;
static _Thread_local bool last_used_openat2;

void safe_open_force_fallback(bool force) {
        force_fallback = force;
}

bool safe_open_used_openat2(void) {
        return last_used_openat2;
}

/* The structural rules both paths enforce before any syscall: relative, no empty component, no
 * "..". RESOLVE_BENEATH would allow "a/../b"; we refuse it outright, since no valid group path
 * has one and a refusal here cannot depend on what the tree looks like at this moment. */
static int check_relative(const char *rel) {
        if (!rel || !*rel)
                return -EINVAL;
        if (rel[0] == '/')
                return -EXDEV;
        for (const char *p = rel; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 0)
                        return -EINVAL;
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return -EXDEV;
                p += n;
                if (*p == '/' && *++p == '\0')
                        return -EINVAL;
        }
        return 0;
}

static int fd_mount_id(int fd, uint64_t *ret) {
        struct statx stx = {};
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
                return negative_errno();
        if (stx.stx_mask & STATX_MNT_ID) {
                *ret = stx.stx_mnt_id;
                return 0;
        }
        /* Kernels before 5.8: fdinfo has had mnt_id since 3.15. */
        char path[64], line[128];
        snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
        FILE *f = fopen(path, "re");
        if (!f)
                return negative_errno();
        int r = -ENOTSUP;
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "mnt_id: %" SCNu64, ret) == 1) {
                        r = 0;
                        break;
                }
        fclose(f);
        return r;
}

static int openat2_safe(int dirfd, const char *rel, int flags, mode_t mode) {
        struct open_how how = {
                /* No O_NOFOLLOW: RESOLVE_NO_SYMLINKS then refuses a trailing symlink with ELOOP
                 * too, where O_PATH|O_NOFOLLOW would hand out an fd to the link itself. */
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .mode = (flags & O_CREAT) ? mode : 0,
                .resolve = RESOLVE_SAFE,
        };
        for (int i = 0; i < OPENAT2_RETRIES; i++) {
                long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
                if (fd >= 0)
                        return (int) fd;
                /* EAGAIN: a rename or mount raced with the lookup; the kernel asks us to retry. */
                if (errno != EAGAIN)
                        return negative_errno();
        }
        return -EAGAIN;
}

/* One step of the fallback walk: O_NOFOLLOW refuses a symlink as the last component, and the
 * mount id check refuses a step onto another mount (a bind mount planted in the tree). The step
 * is opened O_PATH first and checked before it is opened for real, so that flags with an effect
 * (O_TRUNC) never act on something the checks would refuse. */
static int fallback_step(int dirfd, const char *name, int flags, mode_t mode, uint64_t mnt) {
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT && (flags & O_CREAT))
                /* O_EXCL: creating can only make a new file, never open one it should not. */
                fd = openat(dirfd, name, (flags | O_EXCL | O_CLOEXEC | O_NOFOLLOW) & ~O_TRUNC, mode);
        if (fd < 0)
                return negative_errno();
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISLNK(st.st_mode)) /* refused as openat2's RESOLVE_NO_SYMLINKS does */
                return -ELOOP;
        if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode))
                return -ENOTDIR;
        uint64_t id;
        int r = fd_mount_id(fd, &id);
        if (r < 0)
                return r;
        if (id != mnt)
                return -EXDEV;
        if ((flags & O_PATH) || !(fcntl(fd, F_GETFL) & O_PATH)) /* O_PATH wanted, or just created */
                return TAKE_FD(fd);
        /* Reopen the very inode we checked, with the caller's flags. */
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        int real = open(path, (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
        return real < 0 ? negative_errno() : real;
}

static int fallback_openat(int dirfd, const char *rel, int flags, mode_t mode) {
        uint64_t mnt;
        int r = fd_mount_id(dirfd, &mnt);
        if (r < 0)
                return r;

        _cleanup_close_ int cur = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return negative_errno();

        _cleanup_free_ char *copy = strdup(rel);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        char *name = strtok_r(copy, "/", &save);
        for (char *next; name; name = next) {
                next = strtok_r(NULL, "/", &save);
                if (!next)
                        return fallback_step(cur, name, flags, mode, mnt);
                int fd = fallback_step(cur, name, O_PATH | O_DIRECTORY, 0, mnt);
                if (fd < 0)
                        return fd;
                safe_close(cur);
                cur = fd;
        }
        return -EINVAL; /* unreachable: check_relative() refused an empty path */
}

int safe_openat(int dirfd, const char *rel, int flags, mode_t mode) {
        int r = check_relative(rel);
        if (r < 0)
                return r;

        if (!force_fallback) {
                r = openat2_safe(dirfd, rel, flags, mode);
                if (r != -ENOSYS) {
                        last_used_openat2 = true;
                        return r;
                }
        }
        last_used_openat2 = false;
        return fallback_openat(dirfd, rel, flags, mode);
}

int safe_open_parent(int dirfd, const char *rel, const char **ret_last) {
        int r = check_relative(rel);
        if (r < 0)
                return r;

        const char *slash = strrchr(rel, '/');
        const char *last = slash ? slash + 1 : rel;
        if (streq(last, "."))
                return -EINVAL;

        int fd;
        if (!slash)
                fd = safe_openat(dirfd, ".", O_PATH | O_DIRECTORY, 0);
        else {
                _cleanup_free_ char *parent = strndup(rel, (size_t) (slash - rel));
                if (!parent)
                        return -ENOMEM;
                fd = safe_openat(dirfd, parent, O_PATH | O_DIRECTORY, 0);
        }
        if (fd < 0)
                return fd;
        *ret_last = last;
        return fd;
}

int safe_read_file(int dirfd, const char *rel, size_t max, char **ret) {
        _cleanup_close_ int fd = safe_openat(dirfd, rel, O_RDONLY, 0);
        if (fd < 0)
                return fd;

        size_t size = 0, alloc = 512;
        _cleanup_free_ char *buf = malloc(alloc);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (size + 1 >= alloc) {
                        if (alloc > max + 1)
                                return -EFBIG;
                        char *grown = realloc(buf, alloc * 2);
                        if (!grown)
                                return -ENOMEM;
                        buf = grown;
                        alloc *= 2;
                }
                ssize_t n = read(fd, buf + size, alloc - size - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}
