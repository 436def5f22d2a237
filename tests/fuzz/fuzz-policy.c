/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-policy: lib/policy.c, the policy file reader (GKeyFile plus its own line scanner) and the
 * decisions made with what it read. The input is a policy file; after a NUL (which a policy file
 * cannot hold) come optional "KEY=VALUE" request lines, else a fixed set of requests is used. The
 * text is parsed on the built-in base, on a restrictive base and on its own result, which must
 * give the same policy again (a file's keys replace, never add to, the base's). A parsed policy
 * must hold its ranges (MaxDepth, RequestBurst >= RequestRate, one io.max ceiling per device,
 * ceilings that format and parse back), and every decision must be the one its rules imply:
 * policy_check_property() against the allowlist, the root rule, AllowedDevices and the ceilings
 * (a ceiling never exceeds itself), policy_check_depth(), _groups() and _action(). A refusal or
 * parse error is one line of valid UTF-8 without control characters. policy_copy() and
 * policy_free() run under LeakSanitizer.
 */
#include <glib.h>
#include <limits.h>
#include <stdbool.h>

#include "fuzz-util.h"
#include "macro.h"
#include "policy.h"

static const char restrictive_text[] =
        "[Policy]\n"
        "AllowedProperties=memory.max pids.max io.max io.weight cpuset.cpus\n"
        "AllowedDevices=8:0\n"
        "MaxDepth=2\n"
        "MaxGroups=3\n"
        "AllowRootWrites=yes\n"
        "AllowKill=no\n"
        "RequestRate=10\n"
        "RequestBurst=10\n"
        "[Ceilings]\n"
        "memory.max=1G\n"
        "io.max=8:0 rbps=1048576 wiops=100;8:16 wbps=max\n"
        "cpuset.cpus=0-1\n";

static char *const default_requests[] = {
        "memory.max=2G", "memory.max=max", "memory.high=0", "memory.swap.max=1G", "cpu.max=max",
        "cpu.max=300000 200000", "cpu.max=1000 1000000", "cpu.weight=10000", "pids.max=100",
        "io.max=8:0 rbps=1", "io.max=8:0 rbps=max wiops=1000", "io.max=253:1 riops=1000",
        "io.weight=8:0 100", "io.weight=default 1000", "io.weight=8:16 default", "cpuset.cpus=",
        "cpuset.cpus=0-3", "cpuset.mems=0", NULL,
};

static bool clean_line(const char *s) {
        for (const char *c = s; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return false;
        return g_utf8_validate(s, -1, NULL);
}

/* Parsed once and kept for the life of the process (still reachable: no leak). */
static const Policy *restrictive_base(void) {
        static Policy *base;

        if (!base) {
                _cleanup_free_ char *error = NULL;
                int r = policy_parse(restrictive_text, strlen(restrictive_text), "base.conf", "base", NULL, &base,
                                     &error);

                FUZZ_CHECK(r == 0, "the restrictive base does not parse: %s", error);
        }
        return base;
}

static bool cpus_empty(const KnobValue *v) {
        for (size_t i = 0; i < ELEMENTSOF(v->cpus.bits); i++)
                if (v->cpus.bits[i])
                        return false;
        return true;
}

static void check_ceiling_text(const KnobValue *c) {
        const char *key = knob_info(c->id)->key;
        char text[8192];
        KnobValue again;

        FUZZ_CHECK(knob_format(c, text, sizeof text) >= 0, "a %s ceiling does not format", key);
        memset(&again, 0, sizeof again);
        FUZZ_CHECK(knob_parse(key, text, &again, NULL) == 0 && memcmp(c, &again, sizeof again) == 0,
                   "the ceiling %s=%s does not parse back", key, text);
}

static void check_policy(const Policy *p, const char *name) {
        FUZZ_CHECK(p->name && streq(p->name, name), "name");
        FUZZ_CHECK((p->allowed & ~KNOB_ALL) == 0 && (p->has_ceiling & ~KNOB_ALL) == 0, "mask bits");
        FUZZ_CHECK(p->n_devices <= POLICY_DEVICES_MAX && p->n_io_ceilings <= POLICY_DEVICES_MAX, "counts");
        FUZZ_CHECK(p->max_depth >= 1 && p->max_depth <= 64, "MaxDepth=%u", p->max_depth);
        FUZZ_CHECK(p->max_groups >= 1 && p->max_groups <= 100000, "MaxGroups=%u", p->max_groups);
        FUZZ_CHECK(p->max_connections >= 1 && p->max_connections <= 65536, "MaxConnections=%u", p->max_connections);
        FUZZ_CHECK(p->request_rate >= 1 && p->request_burst >= p->request_rate, "RequestRate=%u RequestBurst=%u",
                   p->request_rate, p->request_burst);
        FUZZ_CHECK(!!(p->has_ceiling & KNOB_MASK(KNOB_IO_MAX)) == (p->n_io_ceilings > 0), "io.max ceiling bit");
        for (size_t i = 0; i < p->n_devices; i++)
                for (size_t j = 0; j < i; j++)
                        FUZZ_CHECK(p->devices[i].major != p->devices[j].major ||
                                   p->devices[i].minor != p->devices[j].minor, "a device listed twice");
        for (KnobId id = 0; id < _KNOB_MAX; id++) {
                const KnobValue *c = &p->ceilings[id];

                if (id == KNOB_IO_MAX || !(p->has_ceiling & KNOB_MASK(id)))
                        continue;
                FUZZ_CHECK(c->id == id, "the ceiling of %s has id %d", knob_info(id)->key, c->id);
                FUZZ_CHECK(id != KNOB_IO_WEIGHT || !c->io_weight.has_device, "a per-device io.weight ceiling");
                FUZZ_CHECK(knob_info(id)->kind != KNOB_KIND_CPUS || !cpus_empty(c), "an empty cpuset ceiling");
                check_ceiling_text(c);
        }
        for (size_t i = 0; i < p->n_io_ceilings; i++) {
                FUZZ_CHECK(p->io_ceilings[i].id == KNOB_IO_MAX, "an io.max ceiling of another key");
                for (size_t j = 0; j < i; j++)
                        FUZZ_CHECK(p->io_ceilings[i].io_max.major != p->io_ceilings[j].io_max.major ||
                                   p->io_ceilings[i].io_max.minor != p->io_ceilings[j].io_max.minor,
                                   "two io.max ceilings for one device");
                check_ceiling_text(&p->io_ceilings[i]);
        }
}

static bool policies_equal(const Policy *a, const Policy *b) {
        return streq(a->name, b->name) && a->allowed == b->allowed && a->n_devices == b->n_devices &&
                memcmp(a->devices, b->devices, a->n_devices * sizeof a->devices[0]) == 0 &&
                a->max_depth == b->max_depth && a->max_groups == b->max_groups &&
                a->allow_root_writes == b->allow_root_writes && a->allow_create == b->allow_create &&
                a->allow_freeze == b->allow_freeze && a->allow_kill == b->allow_kill && a->allow_move == b->allow_move &&
                a->request_rate == b->request_rate && a->request_burst == b->request_burst &&
                a->max_connections == b->max_connections && a->has_ceiling == b->has_ceiling &&
                memcmp(a->ceilings, b->ceilings, sizeof a->ceilings) == 0 && a->n_io_ceilings == b->n_io_ceilings &&
                memcmp(a->io_ceilings, b->io_ceilings, a->n_io_ceilings * sizeof a->io_ceilings[0]) == 0;
}

static bool device_allowed(const Policy *p, unsigned major, unsigned minor) {
        for (size_t i = 0; i < p->n_devices; i++)
                if (p->devices[i].major == major && p->devices[i].minor == minor)
                        return true;
        return false;
}

/* What policy_check_property() must decide, from the rules as docs/policy.md states them. */
static CgdError expected_decision(const Policy *p, unsigned depth, const KnobValue *v) {
        if (!(p->allowed & KNOB_MASK(v->id)) || (depth == 0 && !p->allow_root_writes))
                return CGD_ERROR_ACCESS_DENIED;
        if (v->id == KNOB_IO_MAX && !device_allowed(p, v->io_max.major, v->io_max.minor))
                return CGD_ERROR_ACCESS_DENIED;
        if (v->id == KNOB_IO_WEIGHT && v->io_weight.has_device &&
            !device_allowed(p, v->io_weight.major, v->io_weight.minor))
                return CGD_ERROR_ACCESS_DENIED;
        if (v->id == KNOB_IO_MAX) {
                for (size_t i = 0; i < p->n_io_ceilings; i++)
                        if (knob_exceeds(v, &p->io_ceilings[i]))
                                return CGD_ERROR_OUT_OF_RANGE;
                return _CGD_ERROR_INVALID;
        }
        if (!(p->has_ceiling & KNOB_MASK(v->id)))
                return _CGD_ERROR_INVALID;
        if (knob_info(v->id)->kind == KNOB_KIND_CPUS && cpus_empty(v))
                return CGD_ERROR_OUT_OF_RANGE; /* "the parent's" is unbounded */
        return knob_exceeds(v, &p->ceilings[v->id]) ? CGD_ERROR_OUT_OF_RANGE : _CGD_ERROR_INVALID;
}

static void check_property(const Policy *p, const char *path, unsigned depth, const KnobValue *v, const char *text) {
        CgdRefusal refusal = {};
        CgdError expected = expected_decision(p, depth, v);
        int r = policy_check_property(p, path, depth, v, text, &refusal);

        if (expected == _CGD_ERROR_INVALID)
                FUZZ_CHECK(r == 0, "%s at depth %u refused: %s", knob_info(v->id)->key, depth, refusal.message);
        else
                FUZZ_CHECK(r < 0 && refusal.error == expected && *refusal.message && clean_line(refusal.message),
                           "%s at depth %u: %d, error %d, expected %d: %s", knob_info(v->id)->key, depth, r,
                           refusal.error, expected, refusal.message);
}

static void check_request(const Policy *p, const char *line, const char *path) {
        _cleanup_free_ char *key = NULL;
        const char *eq = strchr(line, '=');
        KnobValue v;

        if (!eq)
                return;
        key = strndup(line, (size_t) (eq - line));
        FUZZ_CHECK(key, "strndup");
        if (knob_parse(key, eq + 1, &v, NULL) < 0)
                return;
        check_property(p, path, 0, &v, eq + 1);
        check_property(p, path, 1, &v, NULL);
        check_property(p, path, p->max_depth, &v, eq + 1);
}

static bool action_allowed(const Policy *p, PolicyAction a) {
        switch (a) {
        case POLICY_ACTION_CREATE:
        case POLICY_ACTION_REMOVE:
                return p->allow_create;
        case POLICY_ACTION_MOVE:
                return p->allow_move;
        case POLICY_ACTION_FREEZE:
                return p->allow_freeze;
        case POLICY_ACTION_KILL:
                return p->allow_kill;
        default:
                abort();
        }
}

static void check_decisions(const Policy *p, char *const *requests, const char *path) {
        const unsigned depths[] = { 0, 1, p->max_depth, p->max_depth + 1, UINT_MAX };

        for (size_t i = 0; i < ELEMENTSOF(depths); i++) {
                CgdRefusal refusal = {};
                int r = policy_check_depth(p, path, depths[i], &refusal);

                FUZZ_CHECK((r == 0) == (depths[i] <= p->max_depth), "depth %u, MaxDepth=%u: %d", depths[i],
                           p->max_depth, r);
                FUZZ_CHECK(r == 0 || clean_line(refusal.message), "depth refusal: %s", refusal.message);
                r = policy_check_groups(p, depths[i], &refusal);
                FUZZ_CHECK((r == 0) == (depths[i] < p->max_groups), "%u groups, MaxGroups=%u: %d", depths[i],
                           p->max_groups, r);
        }
        for (PolicyAction a = 0; a < _POLICY_ACTION_MAX; a++) {
                CgdRefusal refusal = {};
                int r = policy_check_action(p, a, path, &refusal);

                FUZZ_CHECK((r == 0) == action_allowed(p, a), "action %d: %d", a, r);
                FUZZ_CHECK(r == 0 || (refusal.error == CGD_ERROR_ACCESS_DENIED && clean_line(refusal.message)),
                           "action refusal: %s", refusal.message);
                FUZZ_CHECK(policy_check_action(p, a, NULL, NULL) == r, "action %d without a path", a);
        }
        for (size_t i = 0; requests[i]; i++)
                check_request(p, requests[i], path);

        /* A ceiling is the largest value allowed: it never exceeds itself. */
        for (KnobId id = 0; id < _KNOB_MAX; id++)
                if (id != KNOB_IO_MAX && (p->has_ceiling & KNOB_MASK(id))) {
                        FUZZ_CHECK(expected_decision(p, 1, &p->ceilings[id]) != CGD_ERROR_OUT_OF_RANGE,
                                   "the ceiling of %s exceeds itself", knob_info(id)->key);
                        check_property(p, path, 1, &p->ceilings[id], NULL);
                }
        for (size_t i = 0; i < p->n_io_ceilings; i++) {
                FUZZ_CHECK(expected_decision(p, 1, &p->io_ceilings[i]) != CGD_ERROR_OUT_OF_RANGE,
                           "an io.max ceiling exceeds another");
                check_property(p, path, 1, &p->io_ceilings[i], NULL);
        }
}

/* The header's promise: on success *ret is set and *ret_error untouched; on failure the reverse,
 * with one clean line that names the file. */
static void check_result(int r, const Policy *p, const char *error, const char *name) {
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL && !p, "policy_parse() returned %d", r);
                FUZZ_CHECK(error && startswith(error, "fuzz.conf:") && clean_line(error), "error: %s",
                           error ?: "(none)");
                return;
        }
        FUZZ_CHECK(r == 0 && p && !error, "policy_parse() returned %d", r);
        check_policy(p, name);
}

/* Valid names stay inside the policy directory. */
static void check_name(const char *text, size_t size) {
        _cleanup_free_ char *name = strndup(text, size < 100 ? size : 100);

        FUZZ_CHECK(name, "strndup");
        name[strcspn(name, "\n")] = '\0';
        if (!policy_name_is_valid(name))
                return;
        FUZZ_CHECK(*name && *name != '.' && strlen(name) <= POLICY_NAME_MAX && !strchr(name, '/'),
                   "'%s' is a valid policy name", name);
}

/* The request lines after the NUL, pointing into tail; a line starting with '/' is the path. */
static char **split_requests(char *tail, const char **path) {
        char **lines = calloc(strlen(tail) + 2, sizeof *lines);
        size_t n = 0;

        FUZZ_CHECK(lines, "calloc");
        for (char *line = tail, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (line[0] == '/')
                        *path = line;
                else
                        lines[n++] = line;
        }
        return lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *) data, *nul = memchr(data, '\0', size), *path = "/app/web";
        size_t text_size = nul ? (size_t) (nul - text) : size;
        _cleanup_free_ char *tail = NULL, *error = NULL, *error_base = NULL, *error_again = NULL;
        _cleanup_free_ char **lines = NULL;
        _cleanup_(policy_freep) Policy *p = NULL, *on_base = NULL, *again = NULL, *copy = NULL;
        char *const *requests = default_requests;
        int r;

        if (nul) {
                tail = fuzz_strndup((const uint8_t *) nul + 1, size - text_size - 1);
                lines = split_requests(tail, &path);
                requests = lines;
        }
        check_name(text, text_size);

        /* text is not NUL-terminated here: policy_parse() must keep to size. */
        r = policy_parse(text, text_size, "fuzz.conf", "fuzz", NULL, &p, &error);
        check_result(r, p, error, "fuzz");
        r = policy_parse(text, text_size, "fuzz.conf", "fuzz", restrictive_base(), &on_base, &error_base);
        check_result(r, on_base, error_base, "fuzz");
        if (on_base)
                check_decisions(on_base, requests, path);
        if (!p)
                return 0;

        check_decisions(p, requests, path);
        r = policy_parse(text, text_size, "fuzz.conf", "fuzz", p, &again, &error_again);
        FUZZ_CHECK(r == 0 && policies_equal(p, again), "the file on its own result reads differently: %s",
                   error_again ?: "(a different policy)");
        copy = policy_copy(p);
        FUZZ_CHECK(copy && copy->name != p->name && policies_equal(p, copy), "policy_copy()");
        return 0;
}
