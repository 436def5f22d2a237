/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Discovery of the host's cgroup layout. The text parsers (mountinfo, /proc/PID/cgroup,
 * /proc/cgroups, cgroup.controllers) work on strings so tests can feed them captures from other
 * hosts; they build their result aside and change *host only on success. cg_host_discover() is
 * the one place that reads the live files and opens the hierarchy roots. Everything parsed here
 * is written by the kernel, but none of it is trusted to be well formed: a bad line is -EBADMSG,
 * never an abort, and every line is capped in length.
 */
#include <assert.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cghost.h"
#include "macro.h"

/* A mountinfo line holds up to three escaped paths (root, mount point, source), each up to
 * PATH_MAX and up to four bytes per character escaped. */
#define MOUNTINFO_LINE_MAX (64U * 1024U)
#define MOUNTINFO_FIELDS_MAX 64U
/* /proc/PID/cgroup: the kernel builds each path in a PATH_MAX buffer. */
#define CGROUP_LINE_MAX (16U * 1024U)
#define MOUNTINFO_FILE_MAX (64U * 1024U * 1024U)
#define SMALL_FILE_MAX (1024U * 1024U)

static const char * const mode_table[_CG_MODE_MAX] = {
        [CG_MODE_UNIFIED] = "unified",
        [CG_MODE_HYBRID] = "hybrid",
        [CG_MODE_LEGACY] = "legacy",
};

static const char * const controller_table[_CG_CTRL_MAX] = {
        [CG_CTRL_CPU] = "cpu",
        [CG_CTRL_CPUACCT] = "cpuacct",
        [CG_CTRL_CPUSET] = "cpuset",
        [CG_CTRL_MEMORY] = "memory",
        [CG_CTRL_IO] = "io",
        [CG_CTRL_PIDS] = "pids",
        [CG_CTRL_DEVICES] = "devices",
        [CG_CTRL_FREEZER] = "freezer",
        [CG_CTRL_HUGETLB] = "hugetlb",
        [CG_CTRL_RDMA] = "rdma",
        [CG_CTRL_MISC] = "misc",
        [CG_CTRL_NET_CLS] = "net_cls",
        [CG_CTRL_NET_PRIO] = "net_prio",
        [CG_CTRL_PERF_EVENT] = "perf_event",
};

/* Options cgroup v1 shows among its super options that are not controllers (see the kernel's
 * cgroup1_show_options(); "seclabel" comes from SELinux). Anything with '=' is skipped as well. */
static const char * const v1_options[] = {
        "rw", "ro", "none", "noprefix", "xattr", "clone_children", "cpuset_v2_mode",
        "favordynmods", "seclabel", "nsdelegate",
};

const char *cg_mode_to_string(CgMode m) {
        return m >= 0 && m < _CG_MODE_MAX ? mode_table[m] : NULL;
}

const char *cg_controller_to_string(CgController c, unsigned version) {
        if (c < 0 || c >= _CG_CTRL_MAX)
                return NULL;
        if (c == CG_CTRL_IO && version == 1)
                return "blkio";
        return controller_table[c];
}

CgController cg_controller_from_string(const char *s) {
        if (!s)
                return _CG_CTRL_INVALID;
        if (streq(s, "blkio"))
                return CG_CTRL_IO;
        for (CgController c = 0; c < _CG_CTRL_MAX; c++)
                if (streq(s, controller_table[c]))
                        return c;
        return _CG_CTRL_INVALID;
}

static bool streq_ptr(const char *a, const char *b) {
        return a && b ? streq(a, b) : a == b;
}

static void hierarchy_done(CgHierarchy *h) {
        free(h->mount_point);
        free(h->name);
        free(h->other_controllers);
        h->root_fd = safe_close(h->root_fd);
        *h = (CgHierarchy) { .id = -1, .root_fd = -EBADF };
}

void cg_host_init(CgHost *host) {
        assert(host);
        *host = (CgHost) { .mode = CG_MODE_LEGACY, .unified = -1, .named_systemd = -1 };
        for (size_t i = 0; i < CG_HIERARCHIES_MAX; i++)
                host->hierarchies[i] = (CgHierarchy) { .id = -1, .root_fd = -EBADF };
        for (size_t c = 0; c < _CG_CTRL_MAX; c++)
                host->by_controller[c] = -1;
}

/* Frees what *host holds and leaves it empty, so a stack CgHost can be a cleanup variable. */
static void cg_host_done(CgHost *host) {
        for (size_t i = 0; i < host->n_hierarchies; i++)
                hierarchy_done(&host->hierarchies[i]);
        cg_host_init(host);
}

CgHost *cg_host_free(CgHost *host) {
        if (!host)
                return NULL;
        cg_host_done(host);
        free(host);
        return NULL;
}

void cg_host_freep(CgHost **host) {
        *host = cg_host_free(*host);
}

void cg_paths_free(char *paths[static CG_HIERARCHIES_MAX]) {
        for (size_t i = 0; i < CG_HIERARCHIES_MAX; i++) {
                free(paths[i]);
                paths[i] = NULL;
        }
}

/* Hands out the next line of *p (without its newline) as a malloc'ed copy: 1, or 0 at the end. */
static int next_line(const char **p, size_t max, char **ret) {
        const char *s = *p, *e;

        if (!*s)
                return 0;
        e = strchrnul(s, '\n');
        if ((size_t) (e - s) > max)
                return -EBADMSG;
        char *line = strndup(s, (size_t) (e - s));
        if (!line)
                return -ENOMEM;
        *p = *e ? e + 1 : e;
        *ret = line;
        return 1;
}

static int parse_uint(const char *s, unsigned max, unsigned *ret) {
        uint64_t v = 0;

        if (!*s)
                return -EBADMSG;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (*s - '0');
                if (v > max)
                        return -EBADMSG;
        }
        *ret = (unsigned) v;
        return 0;
}

/* The names a v1 mount or a /proc/PID/cgroup line gives a hierarchy. */
typedef struct CgNames {
        uint32_t mask;
        char *name;  /* X of "name=X" */
        char *other; /* names this code does not know, comma-separated, NULL when none */
} CgNames;

static void cg_names_done(CgNames *n) {
        free(n->name);
        free(n->other);
        *n = (CgNames) {};
}

static bool is_v1_option(const char *w) {
        if (strchr(w, '='))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(v1_options); i++)
                if (streq(w, v1_options[i]))
                        return true;
        return false;
}

static int names_add_other(CgNames *n, const char *w) {
        char *joined;

        if (asprintf(&joined, "%s%s%s", n->other ?: "", n->other ? "," : "", w) < 0)
                return -ENOMEM;
        free(n->other);
        n->other = joined;
        return 0;
}

static int names_add_word(CgNames *n, const char *w, bool mount_options) {
        const char *v = startswith(w, "name=");
        CgController c;

        if (!*w)
                return -EBADMSG;
        if (v) {
                if (!*v || n->name)
                        return -EBADMSG;
                n->name = strdup(v);
                return n->name ? 0 : -ENOMEM;
        }
        c = cg_controller_from_string(w);
        if (c >= 0) {
                n->mask |= CG_MASK(c);
                return 0;
        }
        if (mount_options && is_v1_option(w))
                return 0;
        /* Kept, not dropped: a controller newer than this code still tells two hierarchies (and
         * their /proc/PID/cgroup lines) apart. */
        return names_add_other(n, w);
}

/* Parses "cpu,cpuacct", "name=systemd", or v1 super options ("rw,xattr,name=systemd"). A list
 * naming nothing is -EBADMSG: the kernel refuses a v1 hierarchy without controllers or name. */
static int names_parse(const char *list, bool mount_options, CgNames *ret) {
        _cleanup_(cg_names_done) CgNames n = {};
        _cleanup_free_ char *copy = strdup(list);
        char *p, *w;
        int r;

        if (!copy)
                return -ENOMEM;
        for (p = copy; (w = strsep(&p, ","));) {
                r = names_add_word(&n, w, mount_options);
                if (r < 0)
                        return r;
        }
        if (n.mask == 0 && !n.name && !n.other)
                return -EBADMSG;
        *ret = n;
        n = (CgNames) {};
        return 0;
}

static bool list_contains(const char *list, const char *word, size_t len) {
        for (const char *p = list; p && *p;) {
                const char *e = strchrnul(p, ',');
                if ((size_t) (e - p) == len && strncmp(p, word, len) == 0)
                        return true;
                p = *e ? e + 1 : e;
        }
        return false;
}

/* Whether a /proc/PID/cgroup line's names stand for v1 hierarchy h. Unknown names of the line
 * must be among the unknown words of h's mount options; these may also hold mount options newer
 * than this code, so subset, not equality, and the known controllers decide everything else. */
static bool names_match(const CgNames *n, const CgHierarchy *h) {
        if (h->version != 1 || n->mask != h->controllers || !streq_ptr(n->name, h->name))
                return false;
        for (const char *p = n->other; p && *p;) {
                const char *e = strchrnul(p, ',');
                if (!list_contains(h->other_controllers, p, (size_t) (e - p)))
                        return false;
                p = *e ? e + 1 : e;
        }
        return true;
}

/* Decodes the kernel's \ooo escapes (space, tab, newline, backslash) of a mountinfo path. */
static int unescape_octal(const char *s, char **ret) {
        _cleanup_free_ char *buf = malloc(strlen(s) + 1);
        char *d = buf;

        if (!buf)
                return -ENOMEM;
        for (; *s; s++) {
                unsigned v = 0;

                if (*s != '\\') {
                        *d++ = *s;
                        continue;
                }
                for (size_t i = 1; i <= 3; i++) {
                        if (s[i] < '0' || s[i] > '7')
                                return -EBADMSG;
                        v = v * 8 + (unsigned) (s[i] - '0');
                }
                if (v == 0 || v > 255)
                        return -EBADMSG;
                *d++ = (char) v;
                s += 3;
        }
        *d = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int split_fields(char *line, char *fields[static MOUNTINFO_FIELDS_MAX], size_t *ret_n) {
        size_t n = 0;
        char *p, *f;

        /* Single spaces, empty fields kept: the kernel prints an empty mount source as nothing. */
        for (p = line; (f = strsep(&p, " "));) {
                if (n >= MOUNTINFO_FIELDS_MAX)
                        return -EBADMSG;
                fields[n++] = f;
        }
        *ret_n = n;
        return 0;
}

static bool is_devnum(const char *s) {
        const char *colon = strchr(s, ':');
        size_t digits = strspn(s, "0123456789");

        return colon && digits > 0 && s + digits == colon && colon[1] &&
               strspn(colon + 1, "0123456789") == strlen(colon + 1);
}

/* Splits "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS".
 * The returned strings point into line except *ret_mount_point, which is unescaped and owned. */
static int mountinfo_split(char *line, char **ret_mount_point, const char **ret_fstype,
                           const char **ret_superopts) {
        char *f[MOUNTINFO_FIELDS_MAX];
        unsigned id;
        size_t n, sep;
        int r;

        r = split_fields(line, f, &n);
        if (r < 0)
                return r;
        for (sep = 6; sep < n && !streq(f[sep], "-"); sep++)
                ;
        if (n < 10 || sep + 4 != n)
                return -EBADMSG;
        if (parse_uint(f[0], INT_MAX, &id) < 0 || parse_uint(f[1], INT_MAX, &id) < 0 ||
            !is_devnum(f[2]) || !*f[3] || f[4][0] != '/' || !*f[5] || !*f[sep + 1])
                return -EBADMSG;
        r = unescape_octal(f[4], ret_mount_point);
        if (r < 0)
                return r;
        *ret_fstype = f[sep + 1];
        *ret_superopts = f[sep + 3];
        return 0;
}

/* 1 when mp is root itself, 2 when it is one level below, 0 otherwise. */
static int mount_point_where(const char *root, const char *mp) {
        size_t l = strlen(root);
        const char *rest;

        if (streq(mp, root))
                return 1;
        if (streq(root, "/"))
                rest = mp + 1;
        else if (strncmp(mp, root, l) == 0 && mp[l] == '/')
                rest = mp + l + 1;
        else
                return 0;
        return *rest && !strchr(rest, '/') ? 2 : 0;
}

/* The same hierarchy mounted a second time: the kernel binds each controller and each name to
 * one hierarchy only, and there is one cgroup2. */
static bool hierarchy_same(const CgHierarchy *a, const CgHierarchy *b) {
        if (a->version != b->version)
                return false;
        if (a->version == 2)
                return true;
        if ((a->controllers & b->controllers) != 0)
                return true;
        if (a->name || b->name)
                return streq_ptr(a->name, b->name);
        return a->controllers == 0 && b->controllers == 0 &&
               streq_ptr(a->other_controllers, b->other_controllers);
}

static int hierarchy_from_mount(char *mount_point, bool v2, const char *superopts, CgHierarchy *ret) {
        _cleanup_(cg_names_done) CgNames n = {};
        int r;

        if (!v2) {
                r = names_parse(superopts, true, &n);
                if (r < 0)
                        return r;
        }
        *ret = (CgHierarchy) {
                .version = v2 ? 2 : 1,
                .id = v2 ? 0 : -1,
                .mount_point = mount_point,
                .name = TAKE_PTR(n.name),
                .controllers = n.mask,
                .other_controllers = TAKE_PTR(n.other),
                .root_fd = -EBADF,
        };
        return 0;
}

static int mountinfo_line_add(CgHost *host, const char *root, char *line) {
        _cleanup_(hierarchy_done) CgHierarchy h = { .id = -1, .root_fd = -EBADF };
        _cleanup_free_ char *mp = NULL;
        const char *fstype, *superopts;
        bool v2;
        int r;

        r = mountinfo_split(line, &mp, &fstype, &superopts);
        if (r < 0)
                return r;
        v2 = streq(fstype, "cgroup2");
        if ((!v2 && !streq(fstype, "cgroup")) || mount_point_where(root, mp) == 0)
                return 0;
        r = hierarchy_from_mount(mp, v2, superopts, &h);
        if (r < 0)
                return r;
        mp = NULL; /* now owned by h */
        for (size_t i = 0; i < host->n_hierarchies; i++)
                if (hierarchy_same(&host->hierarchies[i], &h))
                        return 0;
        if (host->n_hierarchies >= CG_HIERARCHIES_MAX)
                return -E2BIG;
        host->hierarchies[host->n_hierarchies++] = h;
        h = (CgHierarchy) { .id = -1, .root_fd = -EBADF };
        return 0;
}

/* The mode as statfs() would see it, derived from where the cgroup2 hierarchy is mounted. */
static CgMode mode_from_mounts(const CgHost *host, const char *root) {
        const char *mp;

        if (host->unified < 0)
                return CG_MODE_LEGACY;
        mp = host->hierarchies[host->unified].mount_point;
        if (streq(mp, root))
                return CG_MODE_UNIFIED;
        if (mount_point_where(root, mp) == 2 && streq(strrchr(mp, '/'), "/unified"))
                return CG_MODE_HYBRID;
        return CG_MODE_LEGACY;
}

static void host_index(CgHost *host, const char *root) {
        for (size_t i = 0; i < host->n_hierarchies; i++) {
                const CgHierarchy *h = &host->hierarchies[i];

                if (h->version == 2) {
                        host->unified = (int) i;
                        continue;
                }
                if (streq_ptr(h->name, "systemd") && host->named_systemd < 0)
                        host->named_systemd = (int) i;
                for (size_t c = 0; c < _CG_CTRL_MAX; c++)
                        if ((h->controllers & CG_MASK(c)) && host->by_controller[c] < 0)
                                host->by_controller[c] = (int) i;
        }
        host->mode = mode_from_mounts(host, root);
}

/* cgroup_root without trailing slashes ("/" stays "/"). */
static int root_normalize(const char *cgroup_root, char **ret) {
        size_t l = strlen(cgroup_root);

        if (cgroup_root[0] != '/')
                return -EINVAL;
        if (l >= PATH_MAX)
                return -ENAMETOOLONG;
        while (l > 1 && cgroup_root[l - 1] == '/')
                l--;
        *ret = strndup(cgroup_root, l);
        return *ret ? 0 : -ENOMEM;
}

int cg_mountinfo_parse(const char *text, const char *cgroup_root, CgHost *host) {
        _cleanup_(cg_host_done) CgHost new;
        _cleanup_free_ char *root = NULL;
        int r;

        assert(text && cgroup_root && host);
        cg_host_init(&new);
        r = root_normalize(cgroup_root, &root);
        if (r < 0)
                return r;
        for (const char *p = text;;) {
                _cleanup_free_ char *line = NULL;

                r = next_line(&p, MOUNTINFO_LINE_MAX, &line);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (!*line)
                        continue;
                r = mountinfo_line_add(&new, root, line);
                if (r < 0)
                        return r;
        }
        if (new.n_hierarchies == 0)
                return -ENOENT;
        host_index(&new, root);
        cg_host_done(host);
        *host = new;
        cg_host_init(&new);
        return 0;
}

int cg_host_set_unified_controllers(CgHost *host, const char *text) {
        _cleanup_free_ char *copy = NULL;
        uint32_t mask = 0;
        char *save = NULL;
        int u;

        assert(host && text);
        u = host->unified;
        if (u < 0)
                return -ENOENT;
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
                CgController c = cg_controller_from_string(w);
                if (c >= 0)
                        mask |= CG_MASK(c);
        }
        host->hierarchies[u].controllers = mask;
        /* A controller bound to a v1 hierarchy stays there: on hybrid hosts only what v1 does not
         * have may point at cgroup2. */
        for (size_t c = 0; c < _CG_CTRL_MAX; c++) {
                if (host->by_controller[c] == u && !(mask & CG_MASK(c)))
                        host->by_controller[c] = -1;
                else if (host->by_controller[c] < 0 && (mask & CG_MASK(c)))
                        host->by_controller[c] = u;
        }
        return 0;
}

/* One row of /proc/cgroups: "NAME HIERARCHY NUM_CGROUPS ENABLED"; adds NAME to *disabled. */
static int proc_cgroups_row(char *line, uint32_t *disabled) {
        char *f[4], *save = NULL;
        unsigned v, enabled;
        size_t n = 0;
        CgController c;

        for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (n >= ELEMENTSOF(f))
                        return -EBADMSG;
                f[n++] = w;
        }
        if (n != ELEMENTSOF(f) || parse_uint(f[1], INT_MAX, &v) < 0 ||
            parse_uint(f[2], UINT_MAX, &v) < 0 || parse_uint(f[3], 1, &enabled) < 0)
                return -EBADMSG;
        c = cg_controller_from_string(f[0]);
        if (c >= 0 && !enabled)
                *disabled |= CG_MASK(c);
        return 0;
}

int cg_proc_cgroups_parse(const char *text, CgHost *host) {
        uint32_t disabled = 0;
        int r;

        assert(text && host);
        for (const char *p = text;;) {
                _cleanup_free_ char *line = NULL;

                r = next_line(&p, CGROUP_LINE_MAX, &line);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (!*line || line[0] == '#')
                        continue;
                r = proc_cgroups_row(line, &disabled);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < host->n_hierarchies; i++)
                host->hierarchies[i].controllers &= ~disabled;
        for (size_t c = 0; c < _CG_CTRL_MAX; c++)
                if (disabled & CG_MASK(c))
                        host->by_controller[c] = -1;
        return 0;
}

/* Splits "ID:CONTROLLERS:PATH" (the path may hold ':'); ret_path points into line. An ID of 0
 * with no controllers is cgroup2 and leaves *ret_names empty. */
static int pid_cgroup_line_split(char *line, unsigned *ret_id, CgNames *ret_names, const char **ret_path) {
        char *c1 = strchr(line, ':'), *c2;
        unsigned id;
        int r;

        if (!c1 || !(c2 = strchr(c1 + 1, ':')) || c2[1] != '/')
                return -EBADMSG;
        *c1 = *c2 = 0;
        r = parse_uint(line, INT_MAX, &id);
        if (r < 0)
                return r;
        if ((id == 0) != (c1[1] == 0))
                return -EBADMSG;
        if (id > 0) {
                r = names_parse(c1 + 1, false, ret_names);
                if (r < 0)
                        return r;
        }
        *ret_id = id;
        *ret_path = c2 + 1;
        return 0;
}

/* The hierarchy a /proc/PID/cgroup line stands for, -ENOENT when it is not one of host's. */
static int host_match_line(const CgHost *host, unsigned id, const CgNames *names, bool by_id) {
        for (size_t i = 0; i < host->n_hierarchies; i++) {
                const CgHierarchy *h = &host->hierarchies[i];

                if (id == 0 || h->version == 2) {
                        if (id == 0 && h->version == 2)
                                return (int) i;
                        continue;
                }
                if (by_id && h->id > 0) {
                        if ((unsigned) h->id == id)
                                return (int) i;
                        continue;
                }
                if (names_match(names, h))
                        return (int) i;
        }
        return -ENOENT;
}

static int pid_cgroup_line_add(const CgHost *host, char *line, bool by_id,
                               unsigned ids[static CG_HIERARCHIES_MAX],
                               char *paths[static CG_HIERARCHIES_MAX]) {
        _cleanup_(cg_names_done) CgNames names = {};
        const char *path;
        unsigned id;
        int r, i;

        r = pid_cgroup_line_split(line, &id, &names, &path);
        if (r < 0)
                return r;
        i = host_match_line(host, id, &names, by_id);
        if (i < 0)
                return 0; /* a hierarchy mounted elsewhere, or not at all */
        /* The kernel writes one line per hierarchy; two would make the answer ambiguous. */
        if (paths[i])
                return -EBADMSG;
        paths[i] = strdup(path);
        if (!paths[i])
                return -ENOMEM;
        ids[i] = id;
        return 0;
}

static int pid_cgroup_parse(const char *text, const CgHost *host, bool by_id,
                            unsigned ids[static CG_HIERARCHIES_MAX],
                            char *ret_paths[static CG_HIERARCHIES_MAX]) {
        char *paths[CG_HIERARCHIES_MAX] = {};
        int r;

        assert(text && host);
        for (const char *p = text;;) {
                _cleanup_free_ char *line = NULL;

                r = next_line(&p, CGROUP_LINE_MAX, &line);
                if (r == 0)
                        break;
                if (r > 0 && *line)
                        r = pid_cgroup_line_add(host, line, by_id, ids, paths);
                if (r < 0) {
                        cg_paths_free(paths);
                        return r;
                }
        }
        memcpy(ret_paths, paths, sizeof(paths));
        return 0;
}

int cg_proc_pid_cgroup_parse(const char *text, const CgHost *host,
                             char *ret_paths[static CG_HIERARCHIES_MAX]) {
        unsigned ids[CG_HIERARCHIES_MAX];

        return pid_cgroup_parse(text, host, true, ids, ret_paths);
}

int cg_host_set_ids(CgHost *host, const char *proc_self_cgroup) {
        char *paths[CG_HIERARCHIES_MAX];
        unsigned ids[CG_HIERARCHIES_MAX];
        int r;

        r = pid_cgroup_parse(proc_self_cgroup, host, false, ids, paths);
        if (r < 0)
                return r;
        for (size_t i = 0; i < host->n_hierarchies; i++)
                if (paths[i] && host->hierarchies[i].version == 1)
                        host->hierarchies[i].id = (int) ids[i];
        cg_paths_free(paths);
        return 0;
}

_printf_(4, 5)
static void label_append(char *buf, size_t size, size_t *len, const char *format, ...) {
        va_list ap;
        int n;

        if (*len >= size - 1)
                return;
        if (*len > 0)
                buf[(*len)++] = ',';
        buf[*len] = 0;
        va_start(ap, format);
        n = vsnprintf(buf + *len, size - *len, format, ap);
        va_end(ap);
        if (n > 0)
                *len = *len + (size_t) n < size ? *len + (size_t) n : size - 1;
}

const char *cg_hierarchy_label(const CgHierarchy *h, char *buf, size_t size) {
        size_t len = 0;

        assert(h && buf && size > 0);
        buf[0] = 0;
        if (h->version == 2) {
                label_append(buf, size, &len, "%s", "unified");
                return buf;
        }
        for (CgController c = 0; c < _CG_CTRL_MAX; c++)
                if (h->controllers & CG_MASK(c))
                        label_append(buf, size, &len, "%s", cg_controller_to_string(c, 1));
        if (h->other_controllers)
                label_append(buf, size, &len, "%s", h->other_controllers);
        if (h->name)
                label_append(buf, size, &len, "name=%s", h->name);
        return buf;
}

int cg_host_find(const CgHost *host, const char *hierarchy_name) {
        const char *named;
        CgController c;
        char label[256];

        assert(host);
        if (!hierarchy_name)
                return -ENOENT;
        if (streq(hierarchy_name, "unified"))
                return host->unified >= 0 ? host->unified : -ENOENT;
        c = cg_controller_from_string(hierarchy_name);
        if (c >= 0)
                return host->by_controller[c] >= 0 ? host->by_controller[c] : -ENOENT;
        named = startswith(hierarchy_name, "name=") ?: hierarchy_name;
        for (size_t i = 0; i < host->n_hierarchies; i++)
                if (streq_ptr(host->hierarchies[i].name, named))
                        return (int) i;
        /* Labels such as "cpu,cpuacct" or a controller newer than this code. */
        for (size_t i = 0; i < host->n_hierarchies; i++)
                if (streq(cg_hierarchy_label(&host->hierarchies[i], label, sizeof(label)), hierarchy_name))
                        return (int) i;
        return -ENOENT;
}

/* Reads a whole small file (at most max bytes) into a NUL-terminated string. */
static int read_file_at(int dirfd, const char *path, size_t max, char **ret) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, size = 0;

        if (fd < 0)
                return negative_errno();
        for (;;) {
                if (len + 1 >= size) {
                        size_t grown = size ? size * 2 : 4096;
                        char *p;

                        if (size > max + 1)
                                return -EFBIG;
                        p = realloc(buf, grown);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        size = grown;
                }
                ssize_t n = read(fd, buf + len, size - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = 0;
        if (strlen(buf) != len)
                return -EBADMSG;
        *ret = TAKE_PTR(buf);
        return 0;
}

static bool fs_is(const struct statfs *s, uint32_t magic) {
        return (uint32_t) s->f_type == magic;
}

/* The mode as the design defines it, from statfs() of the root and of ROOT/unified. */
static int detect_mode(const char *cgroup_root, CgMode *ret) {
        _cleanup_close_ int fd = open(cgroup_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int ufd = -EBADF;
        struct statfs s;

        if (fd < 0)
                return negative_errno();
        if (fstatfs(fd, &s) < 0)
                return negative_errno();
        if (fs_is(&s, CGROUP2_SUPER_MAGIC)) {
                *ret = CG_MODE_UNIFIED;
                return 0;
        }
        if (!fs_is(&s, TMPFS_MAGIC))
                return -ENOMEDIUM;
        ufd = openat(fd, "unified", O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (ufd < 0 && errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
                return negative_errno();
        if (ufd >= 0 && fstatfs(ufd, &s) < 0)
                return negative_errno();
        *ret = ufd >= 0 && fs_is(&s, CGROUP2_SUPER_MAGIC) ? CG_MODE_HYBRID : CG_MODE_LEGACY;
        return 0;
}

/* Opens every hierarchy root. A root that is not the file system mountinfo promised (something
 * mounted over it since) is refused rather than written to as the wrong hierarchy. */
static int host_open_roots(CgHost *host) {
        for (size_t i = 0; i < host->n_hierarchies; i++) {
                CgHierarchy *h = &host->hierarchies[i];
                _cleanup_close_ int fd = open(h->mount_point, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                struct statfs s;

                if (fd < 0)
                        return negative_errno();
                if (fstatfs(fd, &s) < 0)
                        return negative_errno();
                if (!fs_is(&s, h->version == 2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC))
                        return -ENOMEDIUM;
                h->root_fd = TAKE_FD(fd);
        }
        return 0;
}

static int host_read_proc(CgHost *host) {
        _cleanup_free_ char *self = NULL, *cgroups = NULL, *controllers = NULL;
        int r;

        r = read_file_at(AT_FDCWD, "/proc/self/cgroup", SMALL_FILE_MAX, &self);
        if (r < 0)
                return r;
        r = cg_host_set_ids(host, self);
        if (r < 0)
                return r;
        if (host->unified >= 0) {
                r = read_file_at(host->hierarchies[host->unified].root_fd, "cgroup.controllers",
                                 SMALL_FILE_MAX, &controllers);
                if (r < 0)
                        return r;
                r = cg_host_set_unified_controllers(host, controllers);
                if (r < 0)
                        return r;
        }
        /* Optional: newer kernels may list only v1 controllers there, or drop the file. */
        r = read_file_at(AT_FDCWD, "/proc/cgroups", SMALL_FILE_MAX, &cgroups);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return cg_proc_cgroups_parse(cgroups, host);
}

int cg_host_discover(const char *cgroup_root, CgHost **ret) {
        _cleanup_(cg_host_freep) CgHost *host = NULL;
        _cleanup_free_ char *mountinfo = NULL;
        CgMode mode;
        int r;

        assert(cgroup_root && ret);
        r = detect_mode(cgroup_root, &mode);
        if (r < 0)
                return r;
        host = malloc(sizeof(*host));
        if (!host)
                return -ENOMEM;
        cg_host_init(host);
        r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", MOUNTINFO_FILE_MAX, &mountinfo);
        if (r < 0)
                return r;
        r = cg_mountinfo_parse(mountinfo, cgroup_root, host);
        /* Nothing mounted there per mountinfo, or not what statfs() saw (a symlink in
         * cgroup_root, or mounts changed under us): no usable cgroup file system there. */
        if (r == -ENOENT || (r >= 0 && host->mode != mode))
                return -ENOMEDIUM;
        if (r < 0)
                return r;
        r = host_open_roots(host);
        if (r < 0)
                return r;
        r = host_read_proc(host);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(host);
        return 0;
}

int cg_host_pid_paths(const CgHost *host, pid_t pid, char *ret_paths[static CG_HIERARCHIES_MAX]) {
        _cleanup_free_ char *text = NULL;
        char path[sizeof("/proc//cgroup") + 3 * sizeof(pid_t)];
        int r;

        assert(host);
        if (pid <= 0)
                return -EINVAL;
        (void) snprintf(path, sizeof(path), "/proc/%jd/cgroup", (intmax_t) pid);
        r = read_file_at(AT_FDCWD, path, SMALL_FILE_MAX, &text);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        return cg_proc_pid_cgroup_parse(text, host, ret_paths);
}
