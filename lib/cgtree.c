/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Group operations on the real cgroupfs below one tree root, in each hierarchy asked for. The
 * only module of libcgd that makes, removes or writes anything in cgroupfs. Every directory and
 * file is reached from the tree root's O_PATH fd through safeopen.c one validated relative path
 * at a time, so a container that renames, replaces or links directories in its own tree still
 * cannot make an operation act outside it. Operations that touch several hierarchies either
 * complete or undo what they did (create), or check before they start (remove), so a refusal
 * leaves the tree as it was.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "cgpath.h"
#include "cgtree.h"
#include "macro.h"
#include "safeopen.h"

#define CG_FILE_MAX (1U << 20)  /* control files we read are small; cgroup.procs may be long */
#define CG_WALK_DEPTH_MAX 128   /* the kernel allows deeper trees; we refuse to walk them */
#define CG_POLL_STEP_NS 1000000L

static int failure(CgFailure *f, int error, int hier, const char *op, const char *rel, const char *file) {
        if (f && error < 0) {
                *f = (CgFailure) { .error = error, .hierarchy = hier, .op = op };
                snprintf(f->group, sizeof f->group, "%s", rel ?: "");
                snprintf(f->file, sizeof f->file, "%s", file ?: "");
        }
        return error;
}

static bool tree_has(const CgTree *t, int hier) {
        return hier >= 0 && hier < CG_HIERARCHIES_MAX && (t->hierarchies & CG_HMASK(hier));
}

/* A control file is one component: a '/' would let a caller smuggle a path past validation. */
static bool file_name_ok(const char *file) {
        return file && *file && !strchr(file, '/') && !streq(file, ".") && !streq(file, "..");
}

static int group_open(const CgTree *t, int hier, const char *rel, int flags) {
        if (!tree_has(t, hier))
                return -ENXIO;
        return safe_openat(t->fd[hier], rel, flags | O_DIRECTORY, 0);
}

/* ---- the group cache (see CgGroupCache) ---- */

static void cache_drop(CgTree *t) {
        for (size_t i = 0; i < CG_HIERARCHIES_MAX; i++)
                t->cache.fd[i] = safe_close(t->cache.fd[i]);
        free(t->cache.rel);
        t->cache.rel = NULL;
}

/* A borrowed O_PATH fd of group rel in hier, valid until the next call on t; *ret_close is set
 * to an fd the caller must close when it had to open one outside the cache. fresh: reopen. */
static int group_fd(CgTree *t, int hier, const char *rel, bool fresh, int *ret_close) {
        *ret_close = -EBADF;
        if (!tree_has(t, hier))
                return -ENXIO;
        if (streq(rel, "."))
                return t->fd[hier];
        if (!pthread_equal(pthread_self(), t->owner))
                return *ret_close = group_open(t, hier, rel, O_PATH);
        if (!t->cache.rel || !streq(t->cache.rel, rel)) {
                cache_drop(t);
                t->cache.rel = strdup(rel);
                if (!t->cache.rel)
                        return -ENOMEM;
        }
        if (fresh || t->cache.fd[hier] < 0) {
                safe_close(t->cache.fd[hier]);
                t->cache.fd[hier] = group_open(t, hier, rel, O_PATH);
        }
        return t->cache.fd[hier];
}

/* What one control-file operation needs, for group_do(). */
typedef struct FileOp {
        int (*run)(int dirfd, struct FileOp *op);
        const char *file, *value;
        char **ret;
} FileOp;

/* Runs op in group rel of hier. An ENOENT through a cached fd may be a group removed and made
 * again since it was opened, so that case is tried once more on a fresh fd. *ret_group_failed:
 * the group itself could not be opened (the error is the group's, not the file's). */
static int group_do(CgTree *t, int hier, const char *rel, FileOp *op, bool *ret_group_failed) {
        int r = -ENOENT;
        for (int attempt = 0; attempt < 2; attempt++) {
                _cleanup_close_ int own = -EBADF;
                int dfd = group_fd(t, hier, rel, attempt > 0, &own);
                *ret_group_failed = dfd < 0;
                r = dfd < 0 ? dfd : op->run(dfd, op);
                if (r != -ENOENT || dfd < 0 || own >= 0 || dfd == t->fd[hier])
                        break; /* only a file missing below a cached fd is worth a second look */
        }
        return r;
}

/* ---- reading and writing control files ---- */

static int fd_write_file(int dirfd, const char *file, const char *value) {
        _cleanup_close_ int fd = safe_openat(dirfd, file, O_WRONLY | O_TRUNC, 0);
        if (fd < 0)
                return fd;
        size_t len = strlen(value);
        ssize_t n = write(fd, value, len);
        if (n < 0)
                return negative_errno();
        return (size_t) n == len ? 0 : -EIO;
}

static int op_read(int dfd, FileOp *op) {
        return safe_read_file(dfd, op->file, CG_FILE_MAX, op->ret);
}

static int op_write(int dfd, FileOp *op) {
        return fd_write_file(dfd, op->file, op->value);
}

static int op_stat(int dfd, FileOp *op) {
        struct stat st;
        if (fstatat(dfd, op->file, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        return S_ISREG(st.st_mode);
}

int cg_tree_read(CgTree *t, int hier, const char *rel, const char *file, char **ret, CgFailure *ret_failure) {
        if (!file_name_ok(file))
                return failure(ret_failure, -EINVAL, hier, "read", rel, file);
        bool group_failed;
        int r = group_do(t, hier, rel, &(FileOp) { .run = op_read, .file = file, .ret = ret }, &group_failed);
        return group_failed ? failure(ret_failure, r, hier, "open", rel, NULL) : failure(ret_failure, r, hier, "read", rel, file);
}

int cg_tree_write(CgTree *t, int hier, const char *rel, const char *file, const char *value,
                  CgFailure *ret_failure) {
        if (!file_name_ok(file))
                return failure(ret_failure, -EINVAL, hier, "write", rel, file);
        bool group_failed;
        int r = group_do(t, hier, rel, &(FileOp) { .run = op_write, .file = file, .value = value }, &group_failed);
        return group_failed ? failure(ret_failure, r, hier, "open", rel, NULL) : failure(ret_failure, r, hier, "write", rel, file);
}

int cg_tree_has_file(CgTree *t, int hier, const char *rel, const char *file) {
        if (!file_name_ok(file))
                return -EINVAL;
        bool group_failed;
        int r = group_do(t, hier, rel, &(FileOp) { .run = op_stat, .file = file }, &group_failed);
        return !group_failed && r == -ENOENT ? 0 : r;
}

int cg_tree_has_group(CgTree *t, int hier, const char *rel) {
        _cleanup_close_ int own = -EBADF;
        int dfd = group_fd(t, hier, rel, false, &own);
        return dfd >= 0 ? 1 : dfd == -ENOENT ? 0 : dfd;
}

int cg_tree_open_group(CgTree *t, int hier, const char *rel) {
        return group_open(t, hier, rel, O_PATH | O_CLOEXEC);
}

/* ---- creating groups ---- */

/* What one call made, so that a failure half way can take it back. */
typedef struct Made {
        int hier;
        int base_fd; /* borrowed */
        char *rel;
} Made;

typedef struct MadeList {
        Made *items;
        size_t n;
} MadeList;

static int made_add(MadeList *l, int hier, int base_fd, const char *rel, size_t len) {
        Made *grown = realloc(l->items, (l->n + 1) * sizeof(Made));
        if (!grown)
                return -ENOMEM;
        l->items = grown;
        char *copy = strndup(rel, len);
        if (!copy)
                return -ENOMEM;
        l->items[l->n++] = (Made) { .hier = hier, .base_fd = base_fd, .rel = copy };
        return 0;
}

/* Removes, newest first, what the list records, and frees it. */
static void made_undo(MadeList *l, bool undo) {
        for (size_t i = l->n; i > 0; i--) {
                Made *m = &l->items[i - 1];
                if (!m->rel) /* kept by the tree */
                        continue;
                const char *last;
                _cleanup_close_ int pfd = undo ? safe_open_parent(m->base_fd, m->rel, &last) : -EBADF;
                if (pfd >= 0)
                        (void) unlinkat(pfd, last, AT_REMOVEDIR);
                free(m->rel);
        }
        free(l->items);
        *l = (MadeList) {};
}

/* The kernel gives a new v1 cpuset group empty cpus and mems (unless the parent has
 * cgroup.clone_children), and no process can join it then: copy the parent's. */
static int cpuset_v1_inherit(int parent_fd, const char *name) {
        _cleanup_close_ int child = safe_openat(parent_fd, name, O_PATH | O_DIRECTORY, 0);
        if (child < 0)
                return child;
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *mine = NULL, *parents = NULL;
                int r = safe_read_file(child, files[i], 4096, &mine);
                if (r < 0)
                        return r;
                if (mine[strspn(mine, " \n")] != '\0')
                        continue;
                r = safe_read_file(parent_fd, files[i], 4096, &parents);
                if (r < 0)
                        return r;
                r = fd_write_file(child, files[i], parents);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_v1_cpuset(const CgHost *host, int hier) {
        return host->hierarchies[hier].version == 1 &&
               (host->hierarchies[hier].controllers & CG_MASK(CG_CTRL_CPUSET));
}

/* mkdir -p of rel below base_fd in hierarchy hier; records each directory it makes. */
static int mkdir_p(const CgHost *host, int hier, int base_fd, const char *rel, MadeList *made,
                   bool *ret_made_last, CgFailure *f) {
        bool made_last = false;
        for (const char *end = rel; *end;) {
                end += strcspn(end, "/");
                _cleanup_free_ char *prefix = strndup(rel, (size_t) (end - rel));
                if (!prefix)
                        return -ENOMEM;
                if (*end == '/')
                        end++;
                const char *last;
                _cleanup_close_ int pfd = safe_open_parent(base_fd, prefix, &last);
                if (pfd < 0)
                        return failure(f, pfd, hier, "open", prefix, NULL);
                made_last = false;
                if (mkdirat(pfd, last, 0755) < 0) {
                        if (errno != EEXIST)
                                return failure(f, negative_errno(), hier, "mkdir", prefix, NULL);
                        /* What exists must be a group, not a link or a file. */
                        _cleanup_close_ int d = safe_openat(base_fd, prefix, O_PATH | O_DIRECTORY, 0);
                        if (d < 0)
                                return failure(f, d, hier, "open", prefix, NULL);
                        continue;
                }
                int r = made_add(made, hier, base_fd, prefix, strlen(prefix));
                if (r < 0)
                        return r;
                made_last = true;
                if (is_v1_cpuset(host, hier)) {
                        r = cpuset_v1_inherit(pfd, last);
                        if (r < 0)
                                return failure(f, r, hier, "write", prefix, "cpuset.cpus");
                }
        }
        *ret_made_last = made_last;
        return 0;
}

int cg_tree_create(CgTree *t, const char *rel, uint32_t hmask, bool *ret_created, CgFailure *ret_failure) {
        if (!*rel)
                return failure(ret_failure, -EINVAL, -1, "mkdir", rel, NULL);
        if (streq(rel, ".")) {
                if (ret_created)
                        *ret_created = false;
                return 0;
        }
        MadeList made = {};
        bool created = false;
        int r = 0;
        for (int i = 0; i < (int) t->host->n_hierarchies && r >= 0; i++) {
                if (!(hmask & CG_HMASK(i)))
                        continue;
                if (!tree_has(t, i)) {
                        r = failure(ret_failure, -ENXIO, i, "open", ".", NULL);
                        break;
                }
                bool made_here = false;
                r = mkdir_p(t->host, i, t->fd[i], rel, &made, &made_here, ret_failure);
                created = created || made_here;
        }
        made_undo(&made, r < 0);
        if (r < 0)
                return r;
        if (ret_created)
                *ret_created = created;
        return 0;
}

/* ---- listing ---- */

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

/* The sorted names of the subdirectories of the directory dfd. */
static int subdirs(int dfd, char ***ret, size_t *ret_n) {
        int fd = safe_openat(dfd, ".", O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0)
                return fd;
        DIR *d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return negative_errno();
        }
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int r = 0;
        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (de->d_type != DT_DIR &&
                    (de->d_type != DT_UNKNOWN || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                     !S_ISDIR(st.st_mode)))
                        continue;
                r = strv_extend(&names, &n, de->d_name);
                if (r < 0)
                        break;
        }
        if (r == 0 && errno != 0)
                r = negative_errno();
        closedir(d);
        if (r < 0)
                return r;
        if (n > 0)
                qsort(names, n, sizeof(char *), name_cmp);
        *ret = TAKE_PTR(names);
        *ret_n = n;
        return 0;
}

static int join_rel(const char *prefix, const char *name, char **ret) {
        int r = streq(prefix, ".") ? asprintf(ret, "%s", name) : asprintf(ret, "%s/%s", prefix, name);
        return r < 0 ? -ENOMEM : 0;
}

/* Pre-order walk: each child's name relative to the root, parents first. The names are only
 * output; every descent opens the child relative to its parent's fd. */
static int walk(int dfd, const char *prefix, bool recursive, unsigned depth, char ***l, size_t *n) {
        if (depth > CG_WALK_DEPTH_MAX)
                return -E2BIG;
        _cleanup_strv_free_ char **names = NULL;
        size_t k;
        int r = subdirs(dfd, &names, &k);
        if (r < 0)
                return r;
        for (size_t i = 0; i < k; i++) {
                char *rel;
                r = join_rel(prefix, names[i], &rel);
                if (r < 0)
                        return r;
                r = strv_push(l, n, rel);
                if (r < 0) {
                        free(rel);
                        return r;
                }
                if (!recursive)
                        continue;
                _cleanup_close_ int cfd = safe_openat(dfd, names[i], O_PATH | O_DIRECTORY, 0);
                if (cfd == -ENOENT) /* removed while we walk: nothing below it any more */
                        continue;
                if (cfd < 0)
                        return cfd;
                r = walk(cfd, rel, true, depth + 1, l, n);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cg_tree_children(CgTree *t, int hier, const char *rel, bool recursive, char ***ret) {
        _cleanup_close_ int dfd = group_open(t, hier, rel, O_PATH);
        if (dfd < 0)
                return dfd;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t n = 0;
        if (!l)
                return -ENOMEM;
        int r = walk(dfd, rel, recursive, 0, &l, &n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

static int pid_cmp(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return (x > y) - (x < y);
}

static int procs_append(int dfd, pid_t **pids, size_t *n) {
        _cleanup_free_ char *text = NULL;
        int r = safe_read_file(dfd, "cgroup.procs", CG_FILE_MAX, &text);
        if (r < 0)
                return r;
        for (char *p = text, *end; *p; p = end) {
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (v <= 0 || v > INT32_MAX)
                        return -EBADMSG;
                pid_t *grown = realloc(*pids, (*n + 1) * sizeof(pid_t));
                if (!grown)
                        return -ENOMEM;
                *pids = grown;
                (*pids)[(*n)++] = (pid_t) v;
        }
        return 0;
}

int cg_tree_procs(CgTree *t, int hier, const char *rel, bool recursive, pid_t **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **groups = NULL;
        int r = 0;
        if (recursive) {
                r = cg_tree_children(t, hier, rel, true, &groups);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        for (size_t i = 0; r >= 0 && (i == 0 || (groups && groups[i - 1])); i++) {
                const char *g = i == 0 ? rel : groups[i - 1];
                _cleanup_close_ int dfd = group_open(t, hier, g, O_PATH);
                if (dfd == -ENOENT && i > 0) /* a child removed meanwhile has no processes */
                        continue;
                r = dfd < 0 ? dfd : procs_append(dfd, &pids, &n);
        }
        if (r < 0)
                return r;
        if (n > 0)
                qsort(pids, n, sizeof(pid_t), pid_cmp);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (k == 0 || pids[k - 1] != pids[i])
                        pids[k++] = pids[i];
        *ret = TAKE_PTR(pids);
        *ret_n = k;
        return 0;
}

/* ---- removing groups ---- */

/* Whether rel, or with recursive anything below it, still has processes in hierarchy hier. */
static int populated(CgTree *t, int hier, const char *rel, bool recursive) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = cg_tree_procs(t, hier, rel, recursive, &pids, &n);
        return r < 0 ? r : n > 0;
}

/* Whether rel has child groups in hierarchy hier: rmdir would then fail there (EBUSY). */
static int has_children(CgTree *t, int hier, const char *rel) {
        _cleanup_strv_free_ char **l = NULL;
        int r = cg_tree_children(t, hier, rel, false, &l);
        return r < 0 ? r : l[0] != NULL;
}

static int rmdir_one(int base_fd, const char *rel) {
        const char *last;
        _cleanup_close_ int pfd = safe_open_parent(base_fd, rel, &last);
        if (pfd < 0)
                return pfd;
        return unlinkat(pfd, last, AT_REMOVEDIR) < 0 ? negative_errno() : 0;
}

static int remove_in(CgTree *t, int hier, const char *rel, bool recursive, CgFailure *f) {
        _cleanup_strv_free_ char **below = NULL;
        if (recursive) {
                int r = cg_tree_children(t, hier, rel, true, &below);
                if (r < 0)
                        return failure(f, r, hier, "list", rel, NULL);
        }
        /* Children come after their parents in the walk: remove from the end. */
        for (size_t i = strv_length(below); i > 0; i--) {
                int r = rmdir_one(t->fd[hier], below[i - 1]);
                if (r < 0 && r != -ENOENT)
                        return failure(f, r, hier, "rmdir", below[i - 1], NULL);
        }
        int r = rmdir_one(t->fd[hier], rel);
        return failure(f, r, hier, "rmdir", rel, NULL);
}

int cg_tree_remove(CgTree *t, const char *rel, uint32_t hmask, bool recursive, CgFailure *ret_failure) {
        /* The root belongs to whoever registered the tree; only cg_tree_destroy() removes it. */
        if (streq(rel, "."))
                return failure(ret_failure, -EPERM, -1, "rmdir", rel, NULL);
        if (pthread_equal(pthread_self(), t->owner))
                cache_drop(t); /* it may hold rel or a group below it */

        /* Check every hierarchy first, so that a busy group in one does not leave the group
         * removed in the others. */
        bool found = false;
        for (int i = 0; i < (int) t->host->n_hierarchies; i++) {
                if (!(hmask & CG_HMASK(i)) || !tree_has(t, i))
                        continue;
                int r = populated(t, i, rel, recursive);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return failure(ret_failure, r, i, "read", rel, "cgroup.procs");
                if (r == 0 && !recursive)
                        r = has_children(t, i, rel);
                if (r < 0)
                        return failure(ret_failure, r, i, "list", rel, NULL);
                if (r > 0)
                        return failure(ret_failure, -EBUSY, i, "rmdir", rel, NULL);
                found = true;
        }
        if (!found)
                return failure(ret_failure, -ENOENT, -1, "rmdir", rel, NULL);

        for (int i = 0; i < (int) t->host->n_hierarchies; i++) {
                if (!(hmask & CG_HMASK(i)) || !tree_has(t, i))
                        continue;
                int r = remove_in(t, i, rel, recursive, ret_failure);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

/* ---- controllers (cgroup v2) ---- */

/* The CG_MASK bits named in a cgroup.controllers or cgroup.subtree_control text. */
static uint32_t controllers_parse(const char *text) {
        uint32_t mask = 0;
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL;
        for (char *w = copy ? strtok_r(copy, " \n", &save) : NULL; w; w = strtok_r(NULL, " \n", &save)) {
                CgController c = cg_controller_from_string(w);
                if (c >= 0)
                        mask |= CG_MASK(c);
        }
        return mask;
}

/* Adds the missing controllers of mask to dfd's cgroup.subtree_control in one write. */
static int subtree_enable(int dfd, uint32_t mask) {
        _cleanup_free_ char *cur = NULL;
        int r = safe_read_file(dfd, "cgroup.subtree_control", 4096, &cur);
        if (r < 0)
                return r;
        uint32_t missing = mask & ~controllers_parse(cur);
        if (missing == 0)
                return 0;
        char buf[256] = "";
        size_t len = 0;
        for (CgController c = 0; c < _CG_CTRL_MAX; c++)
                if (missing & CG_MASK(c))
                        len += (size_t) snprintf(buf + len, sizeof buf - len, "%s+%s", len ? " " : "",
                                                 cg_controller_to_string(c, 2));
        return fd_write_file(dfd, "cgroup.subtree_control", buf);
}

int cg_tree_enable_controllers(CgTree *t, const char *rel, uint32_t mask, CgFailure *ret_failure) {
        int hier = t->host->unified;
        if (!tree_has(t, hier))
                return failure(ret_failure, -EOPNOTSUPP, hier, "open", ".", NULL);

        _cleanup_free_ char *avail = NULL;
        int r = safe_read_file(t->fd[hier], "cgroup.controllers", 4096, &avail);
        if (r < 0)
                return failure(ret_failure, r, hier, "read", ".", "cgroup.controllers");
        /* Only what the host delegated to the root can be handed further down. */
        if (mask & ~controllers_parse(avail))
                return failure(ret_failure, -EOPNOTSUPP, hier, "enable", ".", "cgroup.controllers");

        /* rel must be reachable before anything is written. */
        _cleanup_close_ int target = safe_openat(t->fd[hier], rel, O_PATH | O_DIRECTORY, 0);
        if (target < 0)
                return failure(ret_failure, target, hier, "open", rel, NULL);

        /* Top down: a controller can only be enabled where the parent already passes it on. */
        _cleanup_close_ int dfd = safe_openat(t->fd[hier], ".", O_PATH | O_DIRECTORY, 0);
        if (dfd < 0)
                return failure(ret_failure, dfd, hier, "open", ".", NULL);
        _cleanup_free_ char *walked = strdup(".");
        if (!walked)
                return -ENOMEM;
        for (const char *p = streq(rel, ".") ? "" : rel; *p;) {
                r = subtree_enable(dfd, mask);
                if (r < 0)
                        return failure(ret_failure, r, hier, "write", walked, "cgroup.subtree_control");
                size_t n = strcspn(p, "/");
                _cleanup_free_ char *name = strndup(p, n);
                if (!name)
                        return -ENOMEM;
                int child = safe_openat(dfd, name, O_PATH | O_DIRECTORY, 0);
                if (child < 0)
                        return failure(ret_failure, child, hier, "open", name, NULL);
                safe_close(dfd);
                dfd = child;
                free(walked);
                walked = strndup(rel, (size_t) (p + n - rel));
                if (!walked)
                        return -ENOMEM;
                p += n;
                if (*p == '/')
                        p++;
        }
        return 0;
}

int cg_tree_delegate_made(CgTree *t, uint32_t mask, CgFailure *ret_failure) {
        int hier = t->host->unified;
        if (!tree_has(t, hier) || mask == 0)
                return 0;
        char **made = t->made[hier];
        size_t n = strv_length(made);
        int root_fd = t->host->hierarchies[hier].root_fd;
        /* The outermost group this tree made (or its root) shows what the existing parent passes. */
        _cleanup_close_ int top = n ? safe_openat(root_fd, made[0], O_PATH | O_DIRECTORY, 0) : -EBADF;
        if (n && top < 0)
                return failure(ret_failure, top, hier, "open", made[0], NULL);
        _cleanup_free_ char *avail = NULL;
        int r = safe_read_file(n ? top : t->fd[hier], "cgroup.controllers", 4096, &avail);
        if (r < 0)
                return failure(ret_failure, r, hier, "read", n ? made[0] : ".", "cgroup.controllers");
        if (mask & ~controllers_parse(avail))
                return failure(ret_failure, -EOPNOTSUPP, hier, "enable", n ? made[0] : ".", "cgroup.controllers");
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int fd = safe_openat(root_fd, made[i], O_PATH | O_DIRECTORY, 0);
                if (fd < 0)
                        return failure(ret_failure, fd, hier, "open", made[i], NULL);
                r = subtree_enable(fd, mask);
                if (r < 0)
                        return failure(ret_failure, r, hier, "write", made[i], "cgroup.subtree_control");
        }
        return 0;
}

/* ---- processes ---- */

int cg_tree_move(CgTree *t, const char *rel, uint32_t hmask, pid_t pid, CgFailure *ret_failure) {
        if (pid <= 0)
                return failure(ret_failure, -ESRCH, -1, "move", rel, "cgroup.procs");
        char buf[16];
        snprintf(buf, sizeof buf, "%" PRIi32, (int32_t) pid);
        for (int i = 0; i < (int) t->host->n_hierarchies; i++) {
                if (!(hmask & CG_HMASK(i)))
                        continue;
                int r = cg_tree_write(t, i, rel, "cgroup.procs", buf, ret_failure);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int sleep_step(unsigned *left_ms) {
        if (*left_ms == 0)
                return -ETIMEDOUT;
        (*left_ms)--;
        struct timespec ts = { .tv_nsec = CG_POLL_STEP_NS };
        (void) nanosleep(&ts, NULL);
        return 0;
}

/* Polls file of dfd until it contains want (a line or key, e.g. "frozen 1"). */
static int wait_for(int dfd, const char *file, const char *want, unsigned timeout_ms) {
        for (;;) {
                _cleanup_free_ char *text = NULL;
                int r = safe_read_file(dfd, file, 4096, &text);
                if (r < 0)
                        return r;
                for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                        if (strncmp(line, want, strlen(want)) == 0 &&
                            (line[strlen(want)] == '\n' || line[strlen(want)] == '\0'))
                                return 0;
                r = sleep_step(&timeout_ms);
                if (r < 0)
                        return r;
        }
}

/* The hierarchy and file that freeze rel: cgroup2's cgroup.freeze where the group has it (also
 * on hybrid hosts), else the v1 freezer. */
static int freezer_for(CgTree *t, const char *rel, int *ret_hier) {
        int u = t->host->unified;
        if (tree_has(t, u) && cg_tree_has_file(t, u, rel, "cgroup.freeze") > 0) {
                *ret_hier = u;
                return 2;
        }
        int v1 = t->host->by_controller[CG_CTRL_FREEZER];
        if (tree_has(t, v1) && t->host->hierarchies[v1].version == 1) {
                *ret_hier = v1;
                return 1;
        }
        return -EOPNOTSUPP;
}

int cg_tree_freeze(CgTree *t, const char *rel, bool frozen, unsigned timeout_ms, CgFailure *ret_failure) {
        int hier = -1;
        int version = freezer_for(t, rel, &hier);
        if (version < 0)
                return failure(ret_failure, version, -1, "freeze", rel, "cgroup.freeze");
        const char *file = version == 2 ? "cgroup.freeze" : "freezer.state";
        int r = cg_tree_write(t, hier, rel, file, version == 2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED"),
                              ret_failure);
        if (r < 0)
                return r;
        _cleanup_close_ int dfd = group_open(t, hier, rel, O_PATH);
        if (dfd < 0)
                return failure(ret_failure, dfd, hier, "open", rel, NULL);
        r = version == 2 ? wait_for(dfd, "cgroup.events", frozen ? "frozen 1" : "frozen 0", timeout_ms)
                         : wait_for(dfd, "freezer.state", frozen ? "FROZEN" : "THAWED", timeout_ms);
        return failure(ret_failure, r, hier, "wait", rel, version == 2 ? "cgroup.events" : "freezer.state");
}

static int pidfd_open_pid(pid_t pid) {
        long fd = syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? negative_errno() : (int) fd;
}

static bool pid_in(const pid_t *pids, size_t n, pid_t pid) {
        return bsearch(&pid, pids, n, sizeof(pid_t), pid_cmp) != NULL;
}

/* Signals each process of rel through a pidfd. A pid read from cgroup.procs may be recycled
 * before we open it: the membership is checked again after the pidfd pins the process, so a
 * signal never reaches a process that was not in the group. */
#define PIDFD_BATCH 32

static int signal_batch(CgTree *t, int hier, const char *rel, int sig, const pid_t *pids, size_t n, size_t *sent) {
        int fds[PIDFD_BATCH];
        _cleanup_free_ pid_t *after = NULL;
        size_t na = 0;
        for (size_t i = 0; i < n; i++)
                fds[i] = pidfd_open_pid(pids[i]);
        int r = cg_tree_procs(t, hier, rel, true, &after, &na);
        for (size_t i = 0; i < n; i++) {
                if (r >= 0 && fds[i] >= 0 && pid_in(after, na, pids[i]) &&
                    syscall(SYS_pidfd_send_signal, fds[i], sig, NULL, 0) == 0)
                        (*sent)++;
                safe_close(fds[i]);
        }
        return r;
}

static int signal_each(CgTree *t, int hier, const char *rel, int sig, size_t *ret_n) {
        _cleanup_free_ pid_t *before = NULL;
        size_t nb = 0, sent = 0;
        int r = cg_tree_procs(t, hier, rel, true, &before, &nb);
        if (r < 0)
                return r;
        for (size_t i = 0; i < nb; i += PIDFD_BATCH) {
                r = signal_batch(t, hier, rel, sig, before + i, nb - i < PIDFD_BATCH ? nb - i : PIDFD_BATCH, &sent);
                if (r < 0)
                        return r;
        }
        if (ret_n)
                *ret_n = sent;
        return 0;
}

int cg_tree_kill(CgTree *t, const char *rel, int sig, int hier_fallback, size_t *ret_n, CgFailure *ret_failure) {
        int u = t->host->unified;
        int hier = tree_has(t, u) ? u : hier_fallback;
        if (!tree_has(t, hier))
                return failure(ret_failure, -ENXIO, hier, "kill", rel, NULL);
        if (sig < 1 || sig >= NSIG)
                return failure(ret_failure, -EINVAL, hier, "kill", rel, NULL);

        if (sig == SIGKILL && hier == u && cg_tree_has_file(t, u, rel, "cgroup.kill") > 0) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                int r = cg_tree_procs(t, u, rel, true, &pids, &n);
                if (r < 0)
                        return failure(ret_failure, r, u, "read", rel, "cgroup.procs");
                r = cg_tree_write(t, u, rel, "cgroup.kill", "1", ret_failure);
                if (r >= 0 && ret_n)
                        *ret_n = n;
                return r;
        }

        /* Frozen, no process of the group can fork a child we would miss. A group the caller
         * froze stays frozen; one we froze is thawed so the signals are delivered. */
        int fh = -1;
        bool was_frozen = false, froze = false;
        if (freezer_for(t, rel, &fh) > 0) {
                _cleanup_free_ char *state = NULL;
                const char *file = t->host->hierarchies[fh].version == 2 ? "cgroup.freeze" : "freezer.state";
                if (cg_tree_read(t, fh, rel, file, &state, NULL) >= 0)
                        was_frozen = state[0] == '1' || startswith(state, "FROZEN");
                if (!was_frozen) {
                        (void) cg_tree_freeze(t, rel, true, 1000, NULL);
                        froze = true; /* thaw even when the freeze was not confirmed */
                }
        }
        int r = signal_each(t, hier, rel, sig, ret_n);
        if (froze)
                (void) cg_tree_freeze(t, rel, false, 1000, NULL);
        return failure(ret_failure, r, hier, "kill", rel, NULL);
}

/* ---- messages ---- */

static const char *explain_errno(const CgFailure *f) {
        bool subtree = streq(f->file, "cgroup.subtree_control");
        bool procs = streq(f->file, "cgroup.procs") || streq(f->file, "tasks");
        switch (-f->error) {
        case EBUSY:
                if (subtree)
                        return "the group has processes, and cgroup v2 forbids enabling controllers for the "
                               "children of a group with processes (no internal processes rule): move them into a leaf first";
                if (streq(f->op, "rmdir"))
                        return "the group still has processes or child groups";
                if (startswith(f->file, "memory."))
                        return "the new limit is below the group's current usage, which cgroup v1 refuses";
                if (procs)
                        return "the target group has child groups with controllers enabled; processes may only live in leaves";
                return "the kernel reports the group busy";
        case ENOSPC:
                if (procs || startswith(f->file, "cpuset."))
                        return "the group's cpuset has no CPUs or no memory nodes, so no process can run in it";
                return "a kernel limit on groups was reached";
        case EINVAL:
                return streq(f->op, "write") ? "the kernel rejected the value" : "invalid argument";
        case EOPNOTSUPP:
                return "the controller or interface is not available here (the host does not delegate it)";
        case ENOENT:
                return f->file[0] ? "no such control file (controller not enabled for this group?)" : "no such group";
        case ESRCH:
                return "no such process";
        case EXDEV:
        case ELOOP:
                return "the path leaves the tree (a symlink, a mount or '..' on the way)";
        case ENXIO:
                return "the tree has no group in this hierarchy";
        case ETIMEDOUT:
                return "the kernel did not reach the requested state in time";
        default:
                return strerror(-f->error);
        }
}

const char *cg_failure_explain(const CgFailure *f, const CgHost *host, char *buf, size_t size) {
        char label[64] = "-";
        if (host && f->hierarchy >= 0 && (size_t) f->hierarchy < host->n_hierarchies)
                cg_hierarchy_label(&host->hierarchies[f->hierarchy], label, sizeof label);
        snprintf(buf, size, "%s %s:%s%s%s: %s", f->op ?: "operation", label, f->group,
                 f->file[0] ? "/" : "", f->file, explain_errno(f));
        return buf;
}

/* ---- the tree root ---- */

int cg_tree_open(const CgHost *host, const char *host_path, uint32_t hmask, bool create,
                 CgTree **ret, CgFailure *ret_failure) {
        if (cg_path_validate(host_path, CG_PATH_HOST, 0, NULL) < 0)
                return failure(ret_failure, -EINVAL, -1, "open", host_path, NULL);
        _cleanup_(cg_tree_freep) CgTree *t = calloc(1, sizeof(CgTree));
        if (!t)
                return -ENOMEM;
        t->host = host;
        t->owner = pthread_self();
        for (size_t i = 0; i < CG_HIERARCHIES_MAX; i++)
                t->fd[i] = t->cache.fd[i] = -EBADF;
        t->path = strdup(host_path);
        if (!t->path)
                return -ENOMEM;

        const char *rel = cg_path_relative(host_path);
        MadeList made = {};
        int r = 0;
        for (int i = 0; i < (int) host->n_hierarchies && r >= 0; i++) {
                if (!(hmask & CG_HMASK(i)))
                        continue;
                int base = host->hierarchies[i].root_fd;
                if (base < 0) {
                        r = failure(ret_failure, -ENXIO, i, "open", rel, NULL);
                        break;
                }
                bool made_here = false;
                if (create && !streq(rel, "."))
                        r = mkdir_p(host, i, base, rel, &made, &made_here, ret_failure);
                if (r < 0)
                        break;
                t->fd[i] = safe_openat(base, rel, O_PATH | O_DIRECTORY, 0);
                if (t->fd[i] < 0)
                        r = failure(ret_failure, t->fd[i], i, "open", rel, NULL);
                else
                        t->hierarchies |= CG_HMASK(i);
        }
        /* Keep the ancestors this open made (not the root itself), so that destroy can take
         * them away again and leave the host as it found it. */
        for (size_t i = 0; r >= 0 && i < made.n; i++)
                if (!streq(made.items[i].rel, rel)) {
                        size_t n = strv_length(t->made[made.items[i].hier]);
                        r = strv_push(&t->made[made.items[i].hier], &n, made.items[i].rel);
                        if (r >= 0)
                                made.items[i].rel = NULL;
                }
        made_undo(&made, r < 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

int cg_tree_destroy(CgTree *t, uint32_t hmask, bool recursive, CgFailure *ret_failure) {
        if (pthread_equal(pthread_self(), t->owner))
                cache_drop(t);
        for (int i = 0; i < (int) t->host->n_hierarchies; i++) {
                if (!(hmask & CG_HMASK(i)) || !tree_has(t, i))
                        continue;
                int r = populated(t, i, ".", recursive);
                if (r < 0 && r != -ENOENT)
                        return failure(ret_failure, r, i, "read", ".", "cgroup.procs");
                if (r == 0 && !recursive)
                        r = has_children(t, i, ".");
                if (r < 0)
                        return failure(ret_failure, r, i, "list", ".", NULL);
                if (r > 0)
                        return failure(ret_failure, -EBUSY, i, "rmdir", ".", NULL);
        }
        const char *rel = cg_path_relative(t->path);
        for (int i = 0; i < (int) t->host->n_hierarchies; i++) {
                if (!(hmask & CG_HMASK(i)) || !tree_has(t, i))
                        continue;
                if (recursive) {
                        _cleanup_strv_free_ char **below = NULL;
                        int r = cg_tree_children(t, i, ".", true, &below);
                        for (size_t k = strv_length(below); r >= 0 && k > 0; k--) {
                                r = rmdir_one(t->fd[i], below[k - 1]);
                                if (r == -ENOENT)
                                        r = 0;
                                if (r < 0)
                                        return failure(ret_failure, r, i, "rmdir", below[k - 1], NULL);
                        }
                }
                /* The root is removed through its hierarchy's root fd: the tree's own fd cannot
                 * name its own entry in its parent. */
                int r = rmdir_one(t->host->hierarchies[i].root_fd, rel);
                if (r < 0 && r != -ENOENT)
                        return failure(ret_failure, r, i, "rmdir", ".", NULL);
                t->fd[i] = safe_close(t->fd[i]);
                t->hierarchies &= ~CG_HMASK(i);
                /* Ancestors we made may have gained other children since: leave those. */
                for (size_t k = strv_length(t->made[i]); k > 0; k--)
                        (void) rmdir_one(t->host->hierarchies[i].root_fd, t->made[i][k - 1]);
                t->made[i] = strv_free(t->made[i]);
        }
        return 0;
}

CgTree *cg_tree_free(CgTree *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < CG_HIERARCHIES_MAX; i++) {
                safe_close(t->fd[i]);
                safe_close(t->cache.fd[i]);
                strv_free(t->made[i]);
        }
        free(t->cache.rel);
        free(t->path);
        free(t);
        return NULL;
}

void cg_tree_freep(CgTree **t) {
        cg_tree_free(*t);
}
