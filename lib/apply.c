/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Applying property sets (see apply.h). The plan is built and checked before the first write:
 * every key supported here, no key twice, no limit below usage unless asked for. Writes then go
 * through cgtree.c in the plan's order, each after reading the value it replaces, so a failure
 * can be undone by writing those back in reverse: every state passed through on the way forward
 * was one the kernel accepted, so each undo step is one it accepts too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "apply.h"
#include "macro.h"

#define PLAN_STEPS_MAX 64
#define WHERE_MAX 256 /* a group path in a message; longer ones are cut */
#define V1_UNLIMITED_FLOOR (UINT64_C(1) << 62) /* v1 renders "no limit" as ~2^63 rounded to a page */

typedef struct Step {
        int hier;
        const char *file;  /* static */
        char *value;
        char *restore;     /* what the file said before, to write back; NULL: nothing to undo */
        const char *key;   /* the property this step is for, for messages */
        bool done;
} Step;

typedef struct Plan {
        Step steps[PLAN_STEPS_MAX];
        size_t n;
        uint32_t v2_controllers; /* CG_MASK bits the v2 steps need enabled */
} Plan;

static void plan_done(Plan *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->steps[i].value);
                free(p->steps[i].restore);
        }
}

static int plan_add(Plan *p, int hier, const char *file, const char *value, const char *key) {
        if (p->n >= PLAN_STEPS_MAX)
                return -E2BIG;
        char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        p->steps[p->n++] = (Step) { .hier = hier, .file = file, .value = copy, .key = key };
        return 0;
}

static const CgHierarchy *hierarchy_of(const CgTree *t, int hier) {
        return &t->host->hierarchies[hier];
}

static const char *display_path(const char *rel, char buf[static WHERE_MAX]) {
        snprintf(buf, WHERE_MAX, "/%s", streq(rel, ".") ? "" : rel);
        return buf;
}

/* The hierarchy of controller in this tree, or a NotSupported refusal naming key. */
static int controller_hier(CgTree *t, const char *key, int controller, CgdRefusal *r) {
        int hier = t->host->by_controller[controller];
        if (hier < 0)
                return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED, "%s: this host has no %s controller", key,
                                  cg_controller_to_string(controller, 2));
        if (!(t->hierarchies & CG_HMASK(hier)))
                return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED,
                                  "%s: the container's tree does not include the %s hierarchy", key,
                                  cg_controller_to_string(controller, hierarchy_of(t, hier)->version));
        return hier;
}

/* The hierarchy that holds key id's controller in this tree, or a NotSupported refusal. */
static int knob_hier(CgTree *t, KnobId id, CgdRefusal *r) {
        const KnobInfo *info = knob_info(id);
        int hier = controller_hier(t, info->key, info->controller, r);
        if (hier < 0)
                return hier;
        if (hierarchy_of(t, hier)->version == 1 && !info->v1_file)
                return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED,
                                  "%s has no cgroup v1 equivalent, and this host runs %s on v1", info->key,
                                  cg_controller_to_string(info->controller, 1));
        return hier;
}

int apply_supported(CgTree *t, KnobId id, CgdRefusal *ret_refusal) {
        int r = knob_hier(t, id, ret_refusal);
        return r < 0 ? r : 0;
}

/* ---- reading what is there ---- */

static int read_trimmed(CgTree *t, int hier, const char *rel, const char *file, char **ret) {
        char *text = NULL;
        int r = cg_tree_read(t, hier, rel, file, &text, NULL);
        if (r < 0)
                return r;
        size_t l = strlen(text);
        while (l > 0 && text[l - 1] == '\n')
                text[--l] = '\0';
        *ret = text;
        return 0;
}

static int read_u64(CgTree *t, int hier, const char *rel, const char *file, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_trimmed(t, hier, rel, file, &text);
        if (r < 0)
                return r;
        if (streq(text, "max") || streq(text, "-1")) {
                *ret = KNOB_UNLIMITED;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno || end == text || *end)
                return -EBADMSG;
        *ret = v >= V1_UNLIMITED_FLOOR ? KNOB_UNLIMITED : v;
        return 0;
}

/* The line for device maj:min of a per-device file ("8:0 1048576"), or NULL. */
static char *device_line(const char *text, unsigned maj, unsigned min) {
        char prefix[32];
        int l = snprintf(prefix, sizeof prefix, "%u:%u ", maj, min);
        for (const char *line = text; line && *line;) {
                const char *nl = strchr(line, '\n');
                if (strncmp(line, prefix, (size_t) l) == 0)
                        return strndup(line, nl ? (size_t) (nl - line) : strlen(line));
                line = nl ? nl + 1 : NULL;
        }
        return NULL;
}

/* What to write back to undo a step. Per-device files hold one line per device and a write sets
 * one device: the undo is that device's old line, or the value that removes its limit. */
static int restore_text(CgTree *t, const char *rel, Step *s) {
        _cleanup_free_ char *old = NULL;
        int r = read_trimmed(t, s->hier, rel, s->file, &old);
        if (r < 0)
                return r;
        unsigned maj, min;
        bool per_device = strstr(s->file, "_device") || streq(s->file, "io.max") ||
                          (streq(s->file, "io.weight") && sscanf(s->value, "%u:%u", &maj, &min) == 2);
        if (!per_device || sscanf(s->value, "%u:%u", &maj, &min) != 2) {
                s->restore = TAKE_PTR(old);
                return 0;
        }
        s->restore = device_line(old, maj, min);
        if (s->restore)
                return 0;
        const char *none = streq(s->file, "io.max") ? "rbps=max wbps=max riops=max wiops=max"
                         : strstr(s->file, "weight") ? "default" : "0";
        return asprintf(&s->restore, "%u:%u %s", maj, min, none) < 0 ? -ENOMEM : 0;
}

/* ---- building the plan ---- */

static void format_v1_bytes(uint64_t v, char buf[static 32]) {
        if (v == KNOB_UNLIMITED)
                strcpy(buf, "-1");
        else
                snprintf(buf, 32, "%" PRIu64, v);
}

/* v1 memory and swap: memory.memsw.limit_in_bytes is memory plus swap and may never be below
 * memory.limit_in_bytes, so the two are written in the order that keeps that true. A new
 * memory.max keeps the swap allowance the group had. */
static int plan_v1_memory(CgTree *t, const char *rel, int hier, const KnobValue *max, const KnobValue *swap,
                          Plan *p, CgdRefusal *r) {
        uint64_t lim, memsw = KNOB_UNLIMITED;
        int k = read_u64(t, hier, rel, "memory.limit_in_bytes", &lim);
        if (k < 0)
                return k;
        bool has_memsw = read_u64(t, hier, rel, "memory.memsw.limit_in_bytes", &memsw) >= 0;
        if (swap && !has_memsw)
                return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED,
                                  "memory.swap.max: swap accounting is off on this host (no memory.memsw.* files)");

        uint64_t new_lim = max ? max->bytes : lim, new_memsw = memsw;
        if (swap)
                new_memsw = new_lim == KNOB_UNLIMITED || swap->bytes == KNOB_UNLIMITED ||
                                    swap->bytes > UINT64_MAX - new_lim ? KNOB_UNLIMITED : new_lim + swap->bytes;
        else if (has_memsw && memsw != KNOB_UNLIMITED && lim != KNOB_UNLIMITED)
                new_memsw = new_lim == KNOB_UNLIMITED ? KNOB_UNLIMITED : new_lim + (memsw - lim);

        char a[32], b[32];
        format_v1_bytes(new_lim, a);
        format_v1_bytes(new_memsw, b);
        bool memsw_changes = has_memsw && new_memsw != memsw;
        /* Raising the limit above the current memory+swap limit needs memsw raised first. */
        if (memsw_changes && new_lim > memsw)
                k = plan_add(p, hier, "memory.memsw.limit_in_bytes", b, swap ? "memory.swap.max" : "memory.max");
        if (k >= 0 && max)
                k = plan_add(p, hier, "memory.limit_in_bytes", a, "memory.max");
        if (k >= 0 && memsw_changes && new_lim <= memsw)
                k = plan_add(p, hier, "memory.memsw.limit_in_bytes", b, swap ? "memory.swap.max" : "memory.max");
        return k;
}

/* Whether a v1 control file exists in rel. Which files a v1 hierarchy's groups have is fixed by
 * the kernel's build and its loaded I/O schedulers, so a file once seen is taken as there (a
 * scheduler unloaded since makes the write fail instead, and the plan is undone). */
static int v1_file_exists(CgTree *t, int hier, const char *rel, const char *file) {
        static _Thread_local struct { int hier; const char *file; } seen[16]; /* file: static */
        static _Thread_local unsigned n_seen;
        for (unsigned i = 0; i < n_seen; i++)
                if (seen[i].hier == hier && seen[i].file == file)
                        return 1;
        int k = cg_tree_has_file(t, hier, rel, file);
        if (k > 0 && n_seen < ELEMENTSOF(seen))
                seen[n_seen++] = (typeof(seen[0])) { hier, file };
        return k;
}

static int plan_value(CgTree *t, const char *rel, const KnobValue *v, Plan *p, CgdRefusal *r) {
        const KnobInfo *info = knob_info(v->id);
        int hier = knob_hier(t, v->id, r);
        if (hier < 0)
                return hier;
        if (hierarchy_of(t, hier)->version == 2) {
                char buf[KNOB_V1_VALUE_MAX];
                int k = knob_format(v, buf, sizeof buf);
                if (k < 0)
                        return k;
                p->v2_controllers |= CG_MASK(info->controller);
                return plan_add(p, hier, info->key, buf, info->key);
        }
        static _Thread_local KnobV1Write w[4]; /* 16 KiB: not on the stack */
        bool bfq = v->id == KNOB_IO_WEIGHT && cg_tree_has_file(t, hier, rel, "blkio.bfq.weight") > 0;
        int n = knob_to_v1(v, bfq, w);
        if (n < 0)
                return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED, "%s has no cgroup v1 equivalent", info->key);
        for (int i = 0; i < n; i++) {
                /* Some v1 files exist only with a given I/O scheduler or kernel option. */
                if (v1_file_exists(t, hier, rel, w[i].file) == 0)
                        return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED, "%s: this host's kernel has no %s file",
                                          info->key, w[i].file);
                int k = plan_add(p, hier, w[i].file, w[i].value, info->key);
                if (k < 0)
                        return k;
        }
        return 0;
}

/* Two values for one key would make the result depend on their order; devices may repeat. */
static int check_duplicates(const KnobValue *values, size_t n, CgdRefusal *r) {
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++) {
                        if (values[i].id != values[j].id)
                                continue;
                        const KnobValue *a = &values[i], *b = &values[j];
                        bool other_device =
                                (a->id == KNOB_IO_MAX && (a->io_max.major != b->io_max.major || a->io_max.minor != b->io_max.minor)) ||
                                (a->id == KNOB_IO_WEIGHT && (a->io_weight.has_device != b->io_weight.has_device ||
                                                             a->io_weight.major != b->io_weight.major ||
                                                             a->io_weight.minor != b->io_weight.minor));
                        if (!other_device)
                                return cgd_refuse(r, CGD_ERROR_INVALID_VALUE, "%s is given twice in one request",
                                                  knob_info(a->id)->key);
                }
        return 0;
}

static const KnobValue *find_value(const KnobValue *values, size_t n, KnobId id) {
        for (size_t i = 0; i < n; i++)
                if (values[i].id == id)
                        return &values[i];
        return NULL;
}

/* Every hierarchy a value needs must have the group: a group made in some hierarchies only
 * must not make the request fail half way through. */
static int check_groups(CgTree *t, const char *rel, const KnobValue *values, size_t n, CgdRefusal *r) {
        for (size_t i = 0; i < n; i++) {
                int hier = knob_hier(t, values[i].id, r);
                if (hier < 0)
                        return hier;
                int k = cg_tree_has_group(t, hier, rel);
                if (k == 0) {
                        char where[WHERE_MAX], label[64];
                        return cgd_refuse(r, CGD_ERROR_NOT_FOUND, "no group %s in the %s hierarchy",
                                          display_path(rel, where),
                                          cg_hierarchy_label(hierarchy_of(t, hier), label, sizeof label));
                }
                if (k < 0)
                        return cgd_refuse(r, CGD_ERROR_FAILED, "cannot open %s: %s", rel, strerror(-k));
        }
        return 0;
}

static int plan_build(CgTree *t, const char *rel, const KnobValue *values, size_t n, Plan *p, CgdRefusal *r) {
        int k = check_duplicates(values, n, r);
        if (k >= 0)
                k = check_groups(t, rel, values, n, r);
        if (k < 0)
                return k;
        /* The table's order is the apply order: memory before cpu, limits before weights. */
        for (KnobId id = 0; id < _KNOB_MAX; id++) {
                bool v1_memory = (id == KNOB_MEMORY_MAX || id == KNOB_MEMORY_SWAP_MAX) &&
                                 find_value(values, n, id) && knob_hier(t, id, NULL) >= 0 &&
                                 hierarchy_of(t, knob_hier(t, id, NULL))->version == 1;
                if (v1_memory) {
                        if (id == KNOB_MEMORY_SWAP_MAX && find_value(values, n, KNOB_MEMORY_MAX))
                                continue; /* planned together with memory.max */
                        k = plan_v1_memory(t, rel, knob_hier(t, id, NULL), find_value(values, n, KNOB_MEMORY_MAX),
                                           find_value(values, n, KNOB_MEMORY_SWAP_MAX), p, r);
                        if (k < 0)
                                return k;
                        continue;
                }
                for (size_t i = 0; i < n; i++) {
                        if (values[i].id != id)
                                continue;
                        k = plan_value(t, rel, &values[i], p, r);
                        if (k < 0)
                                return k;
                }
        }
        return 0;
}

/* ---- checks that need the kernel's current state ---- */

/* A limit below usage makes the kernel reclaim synchronously or OOM-kill (v2), or refuse after
 * trying (v1): a client must ask for that explicitly. */
static int check_usage(CgTree *t, const char *rel, const KnobValue *v, ApplyFlags flags, CgdRefusal *r) {
        if (flags & APPLY_ALLOW_BELOW_USAGE)
                return 0;
        const char *usage_file;
        int hier = knob_hier(t, v->id, NULL);
        bool v2 = hier >= 0 && hierarchy_of(t, hier)->version == 2;
        switch (v->id) {
        case KNOB_MEMORY_MAX:
                usage_file = v2 ? "memory.current" : "memory.usage_in_bytes";
                break;
        case KNOB_MEMORY_HIGH:
                usage_file = "memory.current";
                break;
        case KNOB_MEMORY_SWAP_MAX:
                usage_file = v2 ? "memory.swap.current" : NULL;
                break;
        default:
                return 0;
        }
        uint64_t usage;
        if (hier < 0 || !usage_file || read_u64(t, hier, rel, usage_file, &usage) < 0 || v->bytes >= usage)
                return 0;
        char where[WHERE_MAX];
        return cgd_refuse(r, CGD_ERROR_BUSY,
                          "%s=%" PRIu64 " on %s is below the group's current usage of %" PRIu64
                          " bytes; set the option AllowBelowUsage to reclaim (and possibly OOM-kill) anyway",
                          knob_info(v->id)->key, v->bytes, display_path(rel, where), usage);
}

static int check_migrate(CgTree *t, const char *rel, const KnobValue *v, ApplyFlags flags, CgdRefusal *r) {
        if (v->id != KNOB_CPUSET_MEMS || (flags & APPLY_ALLOW_MIGRATE))
                return 0;
        int hier = knob_hier(t, v->id, NULL);
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (hier < 0 || cg_tree_procs(t, hier, rel, true, &pids, &n) < 0 || n == 0)
                return 0;
        char where[WHERE_MAX];
        return cgd_refuse(r, CGD_ERROR_BUSY,
                          "cpuset.mems on %s would migrate the memory of its %zu processes; set the option "
                          "AllowMigrate to do it anyway", display_path(rel, where), n);
}

/* ---- applying ---- */

static CgdError error_for_kernel(int err) {
        switch (-err) {
        case EBUSY:
                return CGD_ERROR_BUSY;
        case ENOENT:
        case ENODEV: /* a file of a group removed meanwhile */
                return CGD_ERROR_NOT_FOUND;
        case EINVAL:
        case ERANGE:
                return CGD_ERROR_INVALID_VALUE;
        case EOPNOTSUPP:
                return CGD_ERROR_NOT_SUPPORTED;
        default:
                return CGD_ERROR_FAILED;
        }
}

/* Undoes the done steps newest first; returns how many could not be undone and names the first. */
static size_t plan_undo(CgTree *t, const char *rel, Plan *p, char *failed, size_t size) {
        size_t n_failed = 0;
        for (size_t i = p->n; i > 0; i--) {
                Step *s = &p->steps[i - 1];
                if (!s->done || !s->restore)
                        continue;
                if (cg_tree_write(t, s->hier, rel, s->file, s->restore, NULL) < 0 && n_failed++ == 0)
                        snprintf(failed, size, "%s (to '%s')", s->file, s->restore);
        }
        return n_failed;
}

static int plan_run(CgTree *t, const char *rel, Plan *p, CgdRefusal *r) {
        char where[WHERE_MAX]; /* for messages: made only when one is needed */
        if (p->v2_controllers) {
                CgFailure f = {};
                int k = cg_tree_enable_controllers(t, rel, p->v2_controllers, &f);
                if (k < 0) {
                        char buf[CGD_MESSAGE_MAX];
                        return cgd_refuse(r, error_for_kernel(k), "cannot enable controllers for %s: %s",
                                          display_path(rel, where), cg_failure_explain(&f, t->host, buf, sizeof buf));
                }
        }
        for (size_t i = 0; i < p->n; i++) {
                Step *s = &p->steps[i];
                CgFailure f = {};
                /* The last step is never undone: when it fails, it changed nothing. */
                int k = i + 1 < p->n ? restore_text(t, rel, s) : 0;
                if (k >= 0)
                        k = cg_tree_write(t, s->hier, rel, s->file, s->value, &f);
                else
                        f = (CgFailure) { .error = k, .hierarchy = s->hier, .op = "read" };
                if (k >= 0) {
                        s->done = true;
                        continue;
                }
                char why[CGD_MESSAGE_MAX / 2], failed[128] = "";
                cg_failure_explain(&f, t->host, why, sizeof why);
                size_t lost = plan_undo(t, rel, p, failed, sizeof failed);
                display_path(rel, where);
                if (lost > 0)
                        return cgd_refuse(r, error_for_kernel(k),
                                          "%s on %s: %s; %zu earlier write(s) of this request could not be undone, "
                                          "first %s", s->key, where, why, lost, failed);
                return cgd_refuse(r, error_for_kernel(k), "%s on %s: %s; nothing was changed", s->key, where, why);
        }
        return 0;
}

int apply_properties(CgTree *t, const char *rel, const KnobValue *values, size_t n, ApplyFlags flags,
                     CgdRefusal *ret_refusal) {
        if (n == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                int k = check_usage(t, rel, &values[i], flags, ret_refusal);
                if (k >= 0)
                        k = check_migrate(t, rel, &values[i], flags, ret_refusal);
                if (k < 0)
                        return k;
        }
        Plan p = {};
        int k = plan_build(t, rel, values, n, &p, ret_refusal);
        if (k == -E2BIG)
                k = cgd_refuse(ret_refusal, CGD_ERROR_INVALID_VALUE, "too many properties in one request");
        if (k >= 0)
                k = plan_run(t, rel, &p, ret_refusal);
        plan_done(&p);
        return k;
}

/* ---- reading back ---- */

static int read_refused(int k, const char *key, const char *rel, CgdRefusal *r) {
        char where[WHERE_MAX];
        if (k == -ENOENT)
                return cgd_refuse(r, CGD_ERROR_NOT_FOUND, "no group %s (or no %s there)", display_path(rel, where), key);
        return cgd_refuse(r, CGD_ERROR_FAILED, "cannot read %s of %s: %s", key, display_path(rel, where), strerror(-k));
}

/* What a v2 file reads in a group whose parent does not enable its controller yet: the kernel's
 * initial value, which is the group's own limit (none) until something sets one. */
static const char *v2_initial_value(KnobId id) {
        switch (id) {
        case KNOB_MEMORY_LOW:
        case KNOB_MEMORY_MIN:
                return "0";
        case KNOB_CPU_MAX:
                return "max 100000";
        case KNOB_CPU_WEIGHT:
                return "100";
        case KNOB_IO_MAX:
        case KNOB_CPUSET_CPUS:
        case KNOB_CPUSET_MEMS:
                return "";
        case KNOB_IO_WEIGHT:
                return "default 100";
        default:
                return "max";
        }
}

int apply_read(CgTree *t, const char *rel, KnobId id, char **ret, CgdRefusal *ret_refusal) {
        const KnobInfo *info = knob_info(id);
        int hier = knob_hier(t, id, ret_refusal);
        if (hier < 0)
                return hier;
        if (hierarchy_of(t, hier)->version == 2) {
                int k = read_trimmed(t, hier, rel, info->key, ret);
                if (k == -ENOENT && cg_tree_has_file(t, hier, rel, "cgroup.procs") > 0)
                        return (*ret = strdup(v2_initial_value(id))) ? 0 : -ENOMEM;
                return k < 0 ? read_refused(k, info->key, rel, ret_refusal) : 0;
        }
        bool bfq = id == KNOB_IO_WEIGHT && cg_tree_has_file(t, hier, rel, "blkio.bfq.weight") > 0;
        const char *files[4] = {};
        char *texts[4] = {};
        int n = knob_v1_sources(id, bfq, files), k = 0;
        for (int i = 0; i < n && k >= 0; i++) {
                k = read_trimmed(t, hier, rel, files[i], &texts[i]);
                if (k == -ENOENT && i > 0 && (id == KNOB_IO_WEIGHT || id == KNOB_IO_MAX))
                        k = 0; /* optional per-device file: absent without that scheduler */
        }
        static _Thread_local char buf[KNOB_V1_VALUE_MAX];
        if (k >= 0)
                k = knob_from_v1_sources(id, bfq, (const char *const *) texts, buf, sizeof buf);
        for (int i = 0; i < 4; i++)
                free(texts[i]);
        if (k == -ENOENT)
                return read_refused(k, info->key, rel, ret_refusal);
        if (k < 0)
                return cgd_refuse(ret_refusal, CGD_ERROR_FAILED, "cannot read %s of /%s from its v1 files: %s",
                                  info->key, streq(rel, ".") ? "" : rel, strerror(-k));
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

/* ---- usage ---- */

/* A usage file that is not there: the group is missing (NotFound), or the kernel does not keep
 * the statistic for it (NotSupported). */
static int usage_missing(CgTree *t, int hier, const char *rel, const char *key, const char *file, CgdRefusal *r) {
        char where[WHERE_MAX];
        if (cg_tree_has_file(t, hier, rel, "cgroup.procs") <= 0)
                return read_refused(-ENOENT, key, rel, r);
        return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED, "%s of %s: the kernel keeps no %s for it%s", key,
                          display_path(rel, where), file,
                          hierarchy_of(t, hier)->version == 2 ? " (its controller is not enabled there)" : "");
}

/* The cgroup2 hierarchy of a hybrid host when the tree spans it, else -ENOENT. */
static int unified_hier(const CgTree *t) {
        int u = t->host->unified;
        return u >= 0 && (t->hierarchies & CG_HMASK(u)) ? u : -ENOENT;
}

static void texts_free(char *(*texts)[USAGE_SOURCES_MAX]) {
        for (size_t i = 0; i < USAGE_SOURCES_MAX; i++)
                free((*texts)[i]);
}

/* The v1 files of a statistic into texts[] (NULL for an optional one that is not there). */
static int usage_read_v1(CgTree *t, const char *rel, const UsageInfo *info, char *texts[static USAGE_SOURCES_MAX],
                         CgdRefusal *r) {
        for (size_t i = 0; i < USAGE_SOURCES_MAX && info->v1[i].file; i++) {
                const UsageSource *s = &info->v1[i];
                int h = s->unified ? unified_hier(t) : controller_hier(t, info->key, s->controller, s->optional ? NULL : r);
                if (h < 0 && s->optional)
                        continue;
                if (h < 0)
                        return h;
                int k = read_trimmed(t, h, rel, s->file, &texts[i]);
                if (k == -ENOENT && !s->optional)
                        return usage_missing(t, h, rel, info->key, s->file, r);
                if (k < 0 && k != -ENOENT)
                        return read_refused(k, info->key, rel, r);
        }
        return 0;
}

int apply_read_usage(CgTree *t, const char *rel, UsageId id, char **ret, CgdRefusal *ret_refusal) {
        const UsageInfo *info = usage_info(id);
        static _Thread_local char buf[KNOB_V1_VALUE_MAX];
        _cleanup_(texts_free) char *texts[USAGE_SOURCES_MAX] = {};
        char where[WHERE_MAX];
        int k, hier;

        if (!info)
                return -EINVAL;
        hier = controller_hier(t, info->key, info->controller, ret_refusal);
        if (hier < 0)
                return hier;
        if (hierarchy_of(t, hier)->version == 2) {
                k = read_trimmed(t, hier, rel, info->key, &texts[0]);
                if (k == -ENOENT)
                        return usage_missing(t, hier, rel, info->key, info->key, ret_refusal);
                if (k < 0)
                        return read_refused(k, info->key, rel, ret_refusal);
                k = usage_from_v2(id, texts[0], buf, sizeof buf);
        } else {
                k = usage_read_v1(t, rel, info, texts, ret_refusal);
                if (k < 0)
                        return k;
                if (id == USAGE_CPU_STAT && !texts[0] && !texts[3]) /* the times' two sources are optional */
                        return cgd_refuse(ret_refusal, CGD_ERROR_NOT_SUPPORTED,
                                          "cpu.stat: the container's tree includes neither the cpuacct hierarchy nor a "
                                          "cgroup2 one, where the kernel keeps CPU time");
                k = usage_from_v1(id, (const char *const *) texts, (unsigned long) sysconf(_SC_CLK_TCK), buf,
                                  sizeof buf);
        }
        if (k < 0)
                return cgd_refuse(ret_refusal, CGD_ERROR_FAILED, "cannot read %s of %s: %s", info->key,
                                  display_path(rel, where), strerror(-k));
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}
