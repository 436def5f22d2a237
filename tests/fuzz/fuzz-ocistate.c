/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-ocistate: oci-hook/ocistate.c, what the OCI hook reads from the runtime: the state JSON on
 * its stdin (oci_state_parse()) and the bundle's config.json (oci_config_rootfs()), both through
 * json-c. The input (cut at its first NUL, as the hook reads a C string) goes to both. A state
 * that parses has an id and a bundle, a pid of 0 or a positive pid_t, a NULL-terminated list of
 * annotation pairs with each key once, a stage that follows from its status; a failure leaves
 * *ret untouched and says why. A root file system is the path itself when absolute, else below
 * the bundle (the fixed "/run/bundle" and, when the input is also a state, its own bundle).
 */
#include <stdbool.h>

#include "fuzz-util.h"
#include "macro.h"
#include "ocistate.h"

static void check_state(const OciState *s) {
        const char *stage = oci_state_stage(s);
        size_t n = 0;

        FUZZ_CHECK(s->id && s->bundle, "a state without id or bundle");
        FUZZ_CHECK(s->pid >= 0, "pid %d", (int) s->pid);
        FUZZ_CHECK(s->annotations, "annotations is NULL");
        for (char **a = s->annotations; a[0]; a += 2, n += 2) {
                FUZZ_CHECK(a[1], "annotation '%s' has no value", a[0]);
                FUZZ_CHECK(oci_state_annotation(s, a[0]) == a[1], "annotation '%s' is there twice", a[0]);
        }
        FUZZ_CHECK(n % 2 == 0, "odd annotations");
        if (!s->status)
                FUZZ_CHECK(!stage, "a stage without a status");
        else if (streq(s->status, "creating") || streq(s->status, "created"))
                FUZZ_CHECK(stage && streq(stage, "createRuntime"), "status %s", s->status);
        else if (streq(s->status, "stopped"))
                FUZZ_CHECK(stage && streq(stage, "poststop"), "status stopped");
        else
                FUZZ_CHECK(!stage, "status '%s' has the stage %s", s->status, stage);
}

static void check_rootfs(const char *json, const char *bundle) {
        _cleanup_free_ char *rootfs = NULL, *error = NULL;
        int r = oci_config_rootfs(json, bundle, &rootfs, &error);

        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL && error && !rootfs, "oci_config_rootfs() returned %d", r);
                return;
        }
        FUZZ_CHECK(r == 0 && rootfs && *rootfs && !error, "oci_config_rootfs() returned %d", r);
        if (rootfs[0] != '/') {
                const char *rest = startswith(rootfs, bundle);

                FUZZ_CHECK(bundle[0] != '/', "rootfs '%s' is relative under the bundle '%s'", rootfs, bundle);
                FUZZ_CHECK(rest && rest[0] == '/' && rest[1], "rootfs '%s' is not below the bundle '%s'", rootfs,
                           bundle);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *json = fuzz_strndup(data, size), *error = NULL;
        OciState s, untouched;
        int r;

        memset(&s, 0xaa, sizeof s);
        memcpy(&untouched, &s, sizeof s);
        r = oci_state_parse(json, &s, &error);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL && error, "oci_state_parse() returned %d without a message", r);
                FUZZ_CHECK(memcmp(&s, &untouched, sizeof s) == 0, "a failed parse changed *ret");
        } else {
                FUZZ_CHECK(r == 0 && !error, "oci_state_parse() returned %d", r);
                check_state(&s);
                check_rootfs(json, s.bundle);
                oci_state_done(&s);
        }
        check_rootfs(json, "/run/bundle");
        return 0;
}
