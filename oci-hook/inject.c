/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The socket directory into the container being created (see inject.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inject.h"
#include "macro.h"

/* Opens mount_point below root_fd, making what is missing, one component at a time: O_NOFOLLOW
 * on each step stops a symlink in the image from leading the mount out of the root. */
static int open_mount_point(int root_fd, const char *mount_point, const char **ret_step) {
        _cleanup_close_ int fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        _cleanup_free_ char *copy = strdup(mount_point);
        char *save = NULL;
        if (fd < 0 || !copy)
                return fd < 0 ? -errno : -ENOMEM;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                *ret_step = mount_point + (c - copy);
                if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST)
                        return -errno;
                int next = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return errno == ENOTDIR || errno == ELOOP ? -ELOOP : -errno;
                close(fd);
                fd = next;
        }
        return TAKE_FD(fd);
}

/* The child: returns a message, or NULL when the mount is in place. */
static const char *child_inject(int tree_fd, pid_t pid, const char *rootfs, const char *mount_point, char *buf,
                                size_t size) {
        char ns_path[64];
        snprintf(ns_path, sizeof ns_path, "/proc/%d/ns/mnt", (int) pid);
        _cleanup_close_ int ns = open(ns_path, O_RDONLY | O_CLOEXEC);
        struct stat theirs, ours;
        if (ns < 0 || fstat(ns, &theirs) < 0 || stat("/proc/self/ns/mnt", &ours) < 0)
                return snprintf(buf, size, "cannot open the mount namespace of pid %d: %m", (int) pid), buf;
        /* A container without a mount namespace of its own shares the host's: mounting there
         * would change the host. */
        if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
                return snprintf(buf, size, "the container has no mount namespace of its own (add one to its config): "
                                           "the socket directory is not mounted into the host's"),
                       buf;
        if (setns(ns, CLONE_NEWNS) < 0)
                return snprintf(buf, size, "cannot enter the mount namespace of pid %d: %m", (int) pid), buf;
        /* Before pivot_root the container's root file system is mounted at its host path. */
        _cleanup_close_ int root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return snprintf(buf, size, "cannot open the container's root %s in its mount namespace: %m", rootfs), buf;
        const char *step = mount_point;
        int target = open_mount_point(root_fd, mount_point, &step);
        if (target < 0)
                return snprintf(buf, size, "cannot make %s in the container's root %s (at %s): %s%s", mount_point, rootfs,
                                step, strerror(-target),
                                target == -ELOOP ? " (a symlink or a file is in the way: refused)"
                                : target == -EROFS ? " (give the container a writable /run, e.g. a tmpfs mount)" : ""),
                       buf;
        _cleanup_close_ int target_fd = target;
        if (move_mount(tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return snprintf(buf, size, "cannot mount the socket directory at %s in the container: %m", mount_point), buf;
        return NULL;
}

int inject_bind_dir(pid_t pid, const char *dir, const char *rootfs, const char *mount_point, char **ret_error) {
        /* A detached copy of the directory's mount, read-only before anyone can see it. */
        _cleanup_close_ int tree_fd = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
        if (tree_fd < 0 || mount_setattr(tree_fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
                int r = -errno;
                return asprintf(ret_error, "cannot make a read-only mount of %s: %s", dir, strerror(-r)) < 0 ? -ENOMEM : r;
        }
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid_t child = fork();
        if (child < 0) {
                int r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (child == 0) {
                char buf[1024];
                close(pipefd[0]);
                const char *msg = child_inject(tree_fd, pid, rootfs, mount_point, buf, sizeof buf);
                if (msg)
                        (void) !write(pipefd[1], msg, strlen(msg));
                _exit(msg ? 1 : 0);
        }
        close(pipefd[1]);
        char msg[1024];
        ssize_t n = read(pipefd[0], msg, sizeof msg - 1);
        close(pipefd[0]);
        int status = 0, w;
        while ((w = waitpid(child, &status, 0)) < 0 && errno == EINTR)
                ;
        /* Success only as the child says it: it exited 0, and wrote no message. */
        if (w == child && WIFEXITED(status) && WEXITSTATUS(status) == 0 && n == 0)
                return 0;
        msg[n > 0 ? n : 0] = '\0';
        *ret_error = strdup(n > 0 ? msg : "the mount helper process failed");
        return -EIO;
}
