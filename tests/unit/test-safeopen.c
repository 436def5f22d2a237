/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * safeopen.c against a hostile temporary tree: planted symlinks, magic links, bind mounts and
 * directories renamed under a held fd. Every test runs twice, once through openat2() and once
 * through the forced component-by-component fallback, and both must refuse the same things.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "safeopen.h"
#include "testutil.h"

typedef struct Tree {
        char *top;  /* temporary directory */
        int root;   /* fd of top/root, the directory no open may leave */
} Tree;

static bool use_fallback(void **state) {
        return *(const bool *) *state;
}

/* top/root/{a/b/file, file}, top/outside/secret */
static Tree tree_make(void **state) {
        Tree t = { .top = test_tmpdir() };
        char p[4096];
        const char *dirs[] = { "root", "root/a", "root/a/b", "outside" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                snprintf(p, sizeof p, "%s/%s", t.top, dirs[i]);
                assert_int_equal(mkdir(p, 0755), 0);
        }
        snprintf(p, sizeof p, "%s/root/a/b/file", t.top);
        test_write_file(p, "inside\n");
        snprintf(p, sizeof p, "%s/root/file", t.top);
        test_write_file(p, "top\n");
        snprintf(p, sizeof p, "%s/outside/secret", t.top);
        test_write_file(p, "secret\n");
        snprintf(p, sizeof p, "%s/root", t.top);
        t.root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(t.root >= 0);
        safe_open_force_fallback(use_fallback(state));
        return t;
}

static void tree_free(Tree *t) {
        safe_open_force_fallback(false);
        safe_close(t->root);
        test_rm_rf(t->top);
        free(t->top);
}

static void tree_symlink(const Tree *t, const char *target, const char *link) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", t->top, link);
        assert_int_equal(symlink(target, p), 0);
}

static void check_mode(void **state) {
        /* The test is only worth something if the path it claims to test really ran. */
        if (use_fallback(state))
                assert_false(safe_open_used_openat2());
        else
                assert_true(safe_open_used_openat2());
}

static void test_open_inside(void **state) {
        Tree t = tree_make(state);
        _cleanup_free_ char *s = NULL;
        assert_int_equal(safe_read_file(t.root, "a/b/file", 4096, &s), 0);
        assert_string_equal(s, "inside\n");
        check_mode(state);
        int fd = safe_openat(t.root, ".", O_PATH | O_DIRECTORY, 0);
        assert_true(fd >= 0);
        safe_close(fd);
        fd = safe_openat(t.root, "a/b", O_PATH | O_DIRECTORY, 0);
        assert_true(fd >= 0);
        safe_close(fd);
        tree_free(&t);
}

static void test_structure_refused(void **state) {
        Tree t = tree_make(state);
        static const struct { const char *rel; int err; } rows[] = {
                { "/etc/passwd", -EXDEV }, { "..", -EXDEV }, { "../outside/secret", -EXDEV },
                { "a/../../outside/secret", -EXDEV }, { "a/../file", -EXDEV }, { "a//b", -EINVAL },
                { "a/", -EINVAL }, { "", -EINVAL }, { "a/b/..", -EXDEV },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                int r = safe_openat(t.root, rows[i].rel, O_RDONLY, 0);
                if (r != rows[i].err)
                        fail_msg("'%s': got %d, want %d", rows[i].rel, r, rows[i].err);
        }
        assert_int_equal(safe_openat(t.root, NULL, O_RDONLY, 0), -EINVAL);
        tree_free(&t);
}

static void test_symlinks_refused(void **state) {
        Tree t = tree_make(state);
        char target[4096];
        snprintf(target, sizeof target, "%s/outside", t.top);
        tree_symlink(&t, target, "root/abs");        /* absolute, pointing out */
        tree_symlink(&t, "../outside", "root/rel");  /* relative, pointing out */
        tree_symlink(&t, "a/b", "root/inner");       /* pointing inside: refused all the same */
        tree_symlink(&t, "file", "root/a/b/flink");  /* trailing symlink to a file inside */
        static const char *rels[] = { "abs/secret", "rel/secret", "inner/file", "a/b/flink", "abs", "inner" };
        static const int flags[] = { O_RDONLY, O_PATH, O_PATH | O_DIRECTORY, O_WRONLY };
        for (size_t i = 0; i < ELEMENTSOF(rels); i++)
                for (size_t f = 0; f < ELEMENTSOF(flags); f++) {
                        int r = safe_openat(t.root, rels[i], flags[f], 0);
                        if (r >= 0)
                                fail_msg("'%s' (flags %#x) was opened through a symlink", rels[i], flags[f]);
                        if (r != -ELOOP)
                                fail_msg("'%s' (flags %#x): got %d, want -ELOOP", rels[i], flags[f], r);
                }
        tree_free(&t);
}

static void test_magic_links_refused(void **state) {
        safe_open_force_fallback(use_fallback(state));
        int proc = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(proc >= 0);
        /* /proc/self/cwd and /proc/self/root are magic links that jump anywhere. */
        assert_int_equal(safe_openat(proc, "root/etc/passwd", O_RDONLY, 0), -ELOOP);
        assert_int_equal(safe_openat(proc, "cwd", O_PATH | O_DIRECTORY, 0), -ELOOP);
        assert_int_equal(safe_openat(proc, "fd/0", O_RDONLY, 0), -ELOOP);
        safe_close(proc);
        safe_open_force_fallback(false);
}

/* Bind mounts need a private mount namespace: as root unshare(CLONE_NEWNS), else try a user
 * namespace. Runs in a child so nothing leaks into the host's mounts. */
static int child_bind_mount_test(const Tree *t) {
        if (unshare(CLONE_NEWNS) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                return 77;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return 77;
        char src[4096], dst[4096];
        snprintf(src, sizeof src, "%s/outside", t->top);
        snprintf(dst, sizeof dst, "%s/root/a/b", t->top);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return 77;
        /* The fd the parent opened walks the old namespace's mounts: open the root again here. */
        char path[4096];
        snprintf(path, sizeof path, "%s/root", t->top);
        int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return 4;
        /* The directory itself, a file through it, and a file behind a mount as last component. */
        if (safe_openat(root, "a/b/secret", O_RDONLY, 0) != -EXDEV)
                return 1;
        if (safe_openat(root, "a/b", O_PATH | O_DIRECTORY, 0) != -EXDEV)
                return 2;
        snprintf(dst, sizeof dst, "%s/root/file", t->top);
        snprintf(src, sizeof src, "%s/outside/secret", t->top);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return 77;
        if (safe_openat(root, "file", O_RDONLY, 0) != -EXDEV)
                return 3;
        /* Refused before it acts: O_TRUNC must not have emptied the file behind the mount. */
        struct stat st;
        if (safe_openat(root, "file", O_WRONLY | O_TRUNC, 0) != -EXDEV || stat(src, &st) < 0 || st.st_size != 7)
                return 6;
        /* Beside the mounts, the same fd still opens what is really inside. */
        if (safe_openat(root, "a", O_PATH | O_DIRECTORY, 0) < 0)
                return 5;
        return 0;
}

static void test_bind_mounts_refused(void **state) {
        Tree t = tree_make(state);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(child_bind_mount_test(&t));
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        int code = WEXITSTATUS(status);
        tree_free(&t);
        if (code == 77)
                skip_because("no mount namespace available (neither CLONE_NEWNS nor a user namespace)");
        if (code != 0)
                fail_msg("a bind mount in the tree was crossed (check %d)", code);
}

static void test_renamed_directories(void **state) {
        Tree t = tree_make(state);
        char from[4096], to[4096];

        /* A held fd keeps meaning the directory it was opened on, wherever that moves to. */
        int b = safe_openat(t.root, "a/b", O_PATH | O_DIRECTORY, 0);
        assert_true(b >= 0);
        snprintf(from, sizeof from, "%s/root/a/b", t.top);
        snprintf(to, sizeof to, "%s/outside/b", t.top);
        assert_int_equal(rename(from, to), 0);
        _cleanup_free_ char *s = NULL;
        assert_int_equal(safe_read_file(b, "file", 4096, &s), 0);
        assert_string_equal(s, "inside\n");
        /* ...but even moved outside, nothing lets a lookup climb from it. */
        assert_int_equal(safe_openat(b, "../secret", O_RDONLY, 0), -EXDEV);
        safe_close(b);

        /* The old name no longer resolves: a stale string path is never followed. */
        assert_int_equal(safe_openat(t.root, "a/b/file", O_RDONLY, 0), -ENOENT);

        /* A directory swapped for a symlink to the moved one is refused. */
        snprintf(from, sizeof from, "%s/root/a/b", t.top);
        assert_int_equal(symlink(to, from), 0);
        assert_int_equal(safe_openat(t.root, "a/b/file", O_RDONLY, 0), -ELOOP);
        tree_free(&t);
}

static void test_read_limit_and_parent(void **state) {
        Tree t = tree_make(state);
        _cleanup_free_ char *s = NULL;
        assert_int_equal(safe_read_file(t.root, "a/b/file", 3, &s), -EFBIG);
        assert_null(s);

        const char *last = NULL;
        int fd = safe_open_parent(t.root, "a/b/file", &last);
        assert_true(fd >= 0);
        assert_string_equal(last, "file");
        struct stat st;
        assert_int_equal(fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW), 0);
        safe_close(fd);
        fd = safe_open_parent(t.root, "a", &last);
        assert_true(fd >= 0);
        assert_string_equal(last, "a");
        safe_close(fd);
        assert_int_equal(safe_open_parent(t.root, ".", &last), -EINVAL);
        assert_int_equal(safe_open_parent(t.root, "a/..", &last), -EXDEV);
        tree_free(&t);
}

static bool openat2_mode = false, fallback_mode = true;

#define BOTH(f) cmocka_unit_test_prestate(f, &openat2_mode), cmocka_unit_test_prestate(f, &fallback_mode)

static const struct CMUnitTest tests[] = {
        BOTH(test_open_inside),
        BOTH(test_structure_refused),
        BOTH(test_symlinks_refused),
        BOTH(test_magic_links_refused),
        BOTH(test_bind_mounts_refused),
        BOTH(test_renamed_directories),
        BOTH(test_read_limit_and_parent),
};

TEST_MAIN(tests, NULL, NULL)
