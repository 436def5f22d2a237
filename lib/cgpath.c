/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Validation of group names and group paths: the one gate every path a client or the admin sends
 * passes before it reaches safeopen.c. A client path is held to an allowlist of characters and
 * may not name anything the kernel keeps in a group directory, so that a group can never be
 * confused with a control file; a host path is checked only for its structure. Components are
 * checked as (pointer, length) slices of the path, so nothing here allocates or copies. Inputs
 * are C strings and end at the first NUL; D-Bus strings cannot carry a NUL, so a client cannot
 * hide anything behind one.
 */
#include <assert.h>
#include <stdint.h>

#include "cgpath.h"
#include "macro.h"

/* The reasons below spell out the limits; keep them in step with the header. */
_Static_assert(CG_NAME_MAX == 255, "update the length reasons in cgpath.c");
_Static_assert(CG_PATH_MAX == 4095, "update the length reasons in cgpath.c");

/* Every controller that puts "<controller>.*" files into a group directory, v1 and v2. "irq." is
 * not a controller but the kernel puts irq.pressure into every v2 group; "dmem." (6.14) and
 * "debug." (CONFIG_CGROUP_DEBUG) are controllers that may appear on newer or debug kernels. */
static const char * const controller_prefixes[] = {
        "cpu.", "cpuacct.", "cpuset.", "memory.", "io.", "blkio.", "pids.", "devices.",
        "freezer.", "hugetlb.", "rdma.", "misc.", "net_cls.", "net_prio.", "perf_event.",
        "irq.", "dmem.", "debug.",
};

/* v1 files without a prefix; everything else the kernel adds is "cgroup.*". */
static const char * const v1_control_files[] = {
        "tasks", "release_agent", "notify_on_release",
};

static bool slice_has_prefix(const char *s, size_t n, const char *prefix) {
        size_t l = strlen(prefix);
        return n >= l && memcmp(s, prefix, l) == 0;
}

static bool slice_equal(const char *s, size_t n, const char *word) {
        return n == strlen(word) && memcmp(s, word, n) == 0;
}

static bool slice_is_dot_or_dotdot(const char *s, size_t n) {
        return slice_equal(s, n, ".") || slice_equal(s, n, "..");
}

static bool char_is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool char_is_allowed(char c) {
        /* c != 0: strchr() would find the terminator. */
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                (c != '\0' && strchr("_.@:-", c));
}

static bool char_is_control(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

static int refuse(const char *reason, const char **ret_reason) {
        if (ret_reason)
                *ret_reason = reason;
        return -EINVAL;
}

/* NULL when the slice names no kernel file, else why it does. */
static const char *slice_control_file_reason(const char *s, size_t n) {
        /* cgroup.procs, cgroup.subtree_control, ...: a path ending in such a name must never be
         * taken for a group, or a group operation could land on the file that moves processes or
         * enables controllers. */
        if (slice_has_prefix(s, n, "cgroup."))
                return "a group name may not start with 'cgroup.' (the kernel's own files)";

        /* memory.max and friends: a group named like a controller's file would collide with the
         * file the kernel creates when that controller is enabled later, making the enable fail
         * for the whole tree, and a property lookup could take one for the other. */
        for (size_t i = 0; i < ELEMENTSOF(controller_prefixes); i++)
                if (slice_has_prefix(s, n, controller_prefixes[i]))
                        return "a group name may not start with a controller name and '.' "
                               "(such as 'memory.'): those are the controllers' files";

        /* release_agent runs a program as root on v1 (the classic container escape): no path a
         * client sends may end in its name or in that of its v1 siblings. */
        for (size_t i = 0; i < ELEMENTSOF(v1_control_files); i++)
                if (slice_equal(s, n, v1_control_files[i]))
                        return "a group name may not be a v1 kernel control file "
                               "(tasks, release_agent, notify_on_release)";

        return NULL;
}

/* Why byte c may not appear in a client's group name. */
static const char *char_refusal(unsigned char c) {
        /* Newlines and friends would forge lines in logs, audit records and tools' output. */
        if (char_is_control(c))
                return "a group name may not contain control characters (newline, tab, ...)";
        if (c == '/')
                return "a group name may not contain '/'";
        /* Non-ASCII allows look-alike names in audit records, and bytes that are not UTF-8,
         * which sd-bus cannot put into a reply or a signal. */
        if (c >= 0x80)
                return "a group name may not contain non-ASCII bytes (systemd writes them as \\xNN)";
        return "character not allowed in a group name "
               "(allowed: A-Z a-z 0-9 _ . @ : - and \\xNN escapes)";
}

/* Only systemd's "\xNN" form is allowed, so a backslash never starts anything a shell or a
 * printf-style consumer would interpret differently. */
static bool slice_escape_ok(const char *s, size_t n, size_t i) {
        return i + 3 < n && s[i + 1] == 'x' && char_is_hex(s[i + 2]) && char_is_hex(s[i + 3]);
}

static int slice_check_chars(const char *s, size_t n, const char **ret_reason) {
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\') {
                        if (!slice_escape_ok(s, n, i))
                                return refuse("bad escape: '\\' must start \\xNN with two hex digits",
                                              ret_reason);
                        i += 3;
                } else if (!char_is_allowed(s[i]))
                        return refuse(char_refusal((unsigned char) s[i]), ret_reason);
        }
        return 0;
}

/* Checks shared by both modes; n > 0 is the caller's business. */
static int slice_check_common(const char *s, size_t n, const char **ret_reason) {
        /* NAME_MAX: longer names fail in mkdir anyway, but only after other checks have run. */
        if (n > CG_NAME_MAX)
                return refuse("a group name may be at most 255 bytes long", ret_reason);
        /* "." and ".." would walk out of the container's tree. */
        if (slice_is_dot_or_dotdot(s, n))
                return refuse("a group name may not be '.' or '..'", ret_reason);
        return 0;
}

static int slice_validate_client(const char *s, size_t n, const char **ret_reason) {
        int r;

        r = slice_check_common(s, n, ret_reason);
        if (r < 0)
                return r;
        r = slice_check_chars(s, n, ret_reason);
        if (r < 0)
                return r;

        const char *why = slice_control_file_reason(s, n);
        return why ? refuse(why, ret_reason) : 0;
}

static int slice_validate_host(const char *s, size_t n, const char **ret_reason) {
        int r;

        r = slice_check_common(s, n, ret_reason);
        if (r < 0)
                return r;

        /* The host's manager may use any byte in a name, but a control character in a path
         * would still forge log and audit lines. */
        for (size_t i = 0; i < n; i++)
                if (char_is_control((unsigned char) s[i]))
                        return refuse("a group name may not contain control characters (newline, tab, ...)",
                                      ret_reason);
        return 0;
}

int cg_name_validate(const char *name, const char **ret_reason) {
        assert(name);

        /* strnlen: one past the limit is enough to refuse, however long the input. */
        size_t n = strnlen(name, CG_NAME_MAX + 1);
        if (n == 0)
                return refuse("a group name may not be empty", ret_reason);
        return slice_validate_client(name, n, ret_reason);
}

static int path_validate_components(const char *path, CgPathFlags flags, unsigned max_depth,
                                    const char **ret_reason) {
        unsigned depth = 0;
        int r;

        for (const char *p = path + 1;; ) {
                const char *end = strchrnul(p, '/');
                size_t n = (size_t) (end - p);

                /* An empty component would make "/a//b" and "/a/b/" other spellings of "/a/b",
                 * and policy, audit and registry compare paths as strings. */
                if (n == 0)
                        return refuse("empty component ('//' or trailing '/')", ret_reason);

                r = (flags & CG_PATH_HOST) ? slice_validate_host(p, n, ret_reason)
                                           : slice_validate_client(p, n, ret_reason);
                if (r < 0)
                        return r;

                /* MaxDepth bounds how deep a client makes the kernel (and our recursive walks) go. */
                if (max_depth > 0 && ++depth > max_depth)
                        return refuse("path is deeper than the policy's MaxDepth", ret_reason);

                if (*end == '\0')
                        return 0;
                p = end + 1;
        }
}

int cg_path_validate(const char *path, CgPathFlags flags, unsigned max_depth, const char **ret_reason) {
        assert(path);

        /* strnlen: a megabyte-long client string is refused without being scanned. */
        size_t n = strnlen(path, CG_PATH_MAX + 1);
        if (n == 0)
                return refuse("path is empty", ret_reason);
        if (n > CG_PATH_MAX)
                return refuse("path is longer than 4095 bytes", ret_reason);
        /* A relative path would be resolved against whatever directory the caller holds. */
        if (path[0] != '/')
                return refuse("path must start with '/'", ret_reason);
        if (n == 1)
                return 0;

        return path_validate_components(path, flags, max_depth, ret_reason);
}

unsigned cg_path_depth(const char *path) {
        unsigned depth = 0;

        assert(path && path[0] == '/');

        if (path[1] == '\0')
                return 0;
        for (const char *p = path; *p; p++)
                if (*p == '/')
                        depth++;
        return depth;
}

const char *cg_path_relative(const char *path) {
        assert(path && path[0] == '/');

        return path[1] == '\0' ? "." : path + 1;
}

bool cg_name_is_control_file(const char *name) {
        assert(name);

        return slice_control_file_reason(name, strlen(name)) != NULL;
}
