/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-cgpath: lib/cgpath.c, the gate every group path and name a client or the admin sends goes
 * through. The input (cut at its first NUL, as a D-Bus string would be) is a path for
 * cg_path_validate() in both modes at several depth bounds, and a name for cg_name_validate() and
 * cg_name_is_control_file(). What is accepted is checked against what the header promises: "/"
 * or "/"-separated components, none empty, "." or "..", none with a control character, at most
 * max_depth of them and 4095 bytes in all; a client path's components are exactly the names
 * cg_name_validate() accepts (so never a control file); a client path is a host path too; a
 * larger bound never refuses what a smaller one took. A refusal always says why.
 */
#include <stdbool.h>

#include "cgpath.h"
#include "fuzz-util.h"
#include "macro.h"

static const unsigned depths[] = { 1, 2, 3, 16, 64, 0 }; /* ascending, 0 (no bound) last */

static bool printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
                        return false;
        return true;
}

static int validate(const char *path, CgPathFlags flags, unsigned max_depth) {
        const char *reason = "untouched";
        int r = cg_path_validate(path, flags, max_depth, &reason);

        if (r == 0)
                FUZZ_CHECK(streq(reason, "untouched"), "an accepted path set a reason: %s", reason);
        else
                FUZZ_CHECK(r == -EINVAL && reason && *reason && !streq(reason, "untouched") && printable(reason),
                           "cg_path_validate() returned %d", r);
        FUZZ_CHECK(cg_path_validate(path, flags, max_depth, NULL) == r, "the result depends on ret_reason");
        return r;
}

/* The structure both modes promise, and for a client path the names, of a path accepted at
 * max_depth. Returns the number of components. */
static unsigned check_accepted(const char *path, CgPathFlags flags, unsigned max_depth) {
        const char *relative = cg_path_relative(path);
        unsigned n = 0;

        FUZZ_CHECK(path[0] == '/' && strlen(path) <= CG_PATH_MAX, "accepted '%s'", path);
        FUZZ_CHECK(*relative != '/', "relative form of '%s' is absolute", path);
        if (streq(path, "/")) {
                FUZZ_CHECK(streq(relative, ".") && cg_path_depth(path) == 0, "the root");
                return 0;
        }
        FUZZ_CHECK(relative == path + 1, "relative form of '%s'", path);
        for (const char *p = path + 1;; n++) {
                size_t len = strcspn(p, "/");
                _cleanup_free_ char *name = strndup(p, len);

                FUZZ_CHECK(name, "strndup");
                FUZZ_CHECK(len > 0 && len <= CG_NAME_MAX, "accepted '%s': component %u is %zu bytes", path, n, len);
                FUZZ_CHECK(!streq(name, ".") && !streq(name, ".."), "accepted '%s': a dot component", path);
                for (size_t i = 0; i < len; i++)
                        FUZZ_CHECK((unsigned char) name[i] >= 0x20 && name[i] != 0x7f, "accepted '%s': a control byte",
                                   path);
                if (!(flags & CG_PATH_HOST)) {
                        FUZZ_CHECK(cg_name_validate(name, NULL) == 0, "accepted '%s' with the refused name '%s'", path,
                                   name);
                        FUZZ_CHECK(!cg_name_is_control_file(name), "accepted '%s': '%s' is a control file", path, name);
                }
                if (p[len] == '\0')
                        break;
                p += len + 1;
        }
        n++;
        FUZZ_CHECK(cg_path_depth(path) == n, "'%s' has %u components, cg_path_depth() says %u", path, n,
                   cg_path_depth(path));
        FUZZ_CHECK(max_depth == 0 || n <= max_depth, "'%s' (%u deep) accepted at MaxDepth %u", path, n, max_depth);
        return n;
}

/* A client path is accepted exactly when every component is a name cg_name_validate() accepts
 * and the whole fits the length and depth bounds. */
static bool client_expected(const char *path, unsigned max_depth) {
        unsigned n = 0;

        if (path[0] != '/' || strlen(path) > CG_PATH_MAX)
                return false;
        if (streq(path, "/"))
                return true;
        for (const char *p = path + 1;; p++) {
                size_t len = strcspn(p, "/");
                _cleanup_free_ char *name = strndup(p, len);

                FUZZ_CHECK(name, "strndup");
                if (cg_name_validate(name, NULL) < 0)
                        return false;
                n++;
                p += len;
                if (*p == '\0')
                        break;
        }
        return max_depth == 0 || n <= max_depth;
}

static void check_path(const char *path) {
        for (int mode = 0; mode < 2; mode++) {
                CgPathFlags flags = mode ? CG_PATH_HOST : CG_PATH_CLIENT;
                bool accepted_before = false;

                for (size_t i = 0; i < ELEMENTSOF(depths); i++) {
                        int r = validate(path, flags, depths[i]);

                        FUZZ_CHECK(!accepted_before || r == 0, "'%s' refused at MaxDepth %u, taken at a smaller one",
                                   path, depths[i]);
                        if (r == 0) {
                                (void) check_accepted(path, flags, depths[i]);
                                accepted_before = true;
                        }
                        if (flags == CG_PATH_CLIENT) {
                                FUZZ_CHECK((r == 0) == client_expected(path, depths[i]),
                                           "'%s' at MaxDepth %u: %s, its names say otherwise", path, depths[i],
                                           r == 0 ? "accepted" : "refused");
                                if (r == 0)
                                        FUZZ_CHECK(validate(path, CG_PATH_HOST, depths[i]) == 0,
                                                   "'%s' is a client path but not a host path", path);
                        }
                }
        }
}

static void check_name(const char *name) {
        const char *reason = "untouched";
        int r = cg_name_validate(name, &reason);

        if (r < 0)
                FUZZ_CHECK(r == -EINVAL && reason && printable(reason) && !streq(reason, "untouched"),
                           "cg_name_validate() returned %d", r);
        else {
                size_t len = strlen(name);

                FUZZ_CHECK(streq(reason, "untouched"), "an accepted name set a reason");
                FUZZ_CHECK(len > 0 && len <= CG_NAME_MAX && !strchr(name, '/'), "accepted the name '%s'", name);
                FUZZ_CHECK(!streq(name, ".") && !streq(name, ".."), "accepted a dot name");
        }
        if (cg_name_is_control_file(name))
                FUZZ_CHECK(r < 0, "accepted the control file name '%s'", name);

        /* "/NAME" is a client path exactly when NAME is a name. */
        if (!strchr(name, '/') && strlen(name) < CG_PATH_MAX) {
                _cleanup_free_ char *path = NULL;

                FUZZ_CHECK(asprintf(&path, "/%s", name) >= 0, "asprintf");
                if (*name)
                        FUZZ_CHECK((cg_path_validate(path, CG_PATH_CLIENT, 1, NULL) == 0) == (r == 0),
                                   "'%s' as a name and as a path disagree", name);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *input = fuzz_strndup(data, size);

        check_path(input);
        check_name(input);
        return 0;
}
