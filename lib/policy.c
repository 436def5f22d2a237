/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policies: reading POLICY_DIR/NAME.conf into a Policy and deciding each request against it. The
 * text goes through GKeyFile for values, and through a line scanner of our own that mirrors
 * GKeyFile's line rules, because GKeyFile gives no line numbers for keys and silently keeps the
 * last of two equal keys: the scanner finds the line of every key, refuses unknown groups, unknown
 * keys and duplicates, and its list drives the parse in file order. A policy starts as a copy of
 * its base (the built-in default unless the caller says otherwise) and each key the file names
 * replaces the base's value. Refusals of requests say which rule of which policy refused, with the
 * client's own value text and the limit in a form a person reads (8G, not 8589934592). Nothing
 * here touches cgroupfs; the only file this module opens is the policy itself.
 */
#include <assert.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "policy.h"

#define QUOTE_MAX 64U          /* bytes of a file's or client's text quoted in a message */
#define PATH_QUOTE_MAX 200U    /* bytes of a group path or a GKeyFile message in a refusal */
#define DEVICE_MAJOR_MAX 4095U /* the kernel's dev_t: 12 bits of major, 20 of minor */
#define DEVICE_MINOR_MAX 1048575U
#define RATE_MAX 1000000U
#define BURST_MAX 10000000U

static const Policy builtin_default = {
        .name = (char *) "default",
        .allowed = KNOB_ALL,
        .max_depth = 16,
        .max_groups = 64,
        .allow_root_writes = false,
        .allow_create = true,
        .allow_freeze = true,
        .allow_kill = true,
        .allow_move = true,
        .request_rate = 1000,
        .request_burst = 2000,
        .max_connections = 16,
};

const Policy *policy_builtin_default(void) {
        return &builtin_default;
}

/* ---- small helpers ---- */

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static bool word_in(const char *s, const char *const words[]) {
        for (size_t i = 0; words[i]; i++)
                if (strcasecmp(s, words[i]) == 0)
                        return true;
        return false;
}

typedef struct Quoted {
        char s[PATH_QUOTE_MAX + 4];
} Quoted;

/* Text from a file or a client, fit for a message: at most max bytes, and every byte outside
 * printable ASCII shown as '?', so a broken file or a hostile client cannot put a newline into a
 * log line or invalid UTF-8 into a D-Bus reply (sd-bus refuses to send one; the refusal would be
 * lost). */
static const char *quote_n(Quoted *q, const char *s, size_t n, size_t max) {
        size_t i;
        assert(max <= PATH_QUOTE_MAX);
        for (i = 0; i < n && i < max && s[i]; i++)
                q->s[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
        if (i == max && i < n && s[i])
                memcpy(q->s + i, "...", 3), i += 3;
        q->s[i] = '\0';
        return q->s;
}
#define QUOTE(s) quote_n(&(Quoted) {}, (s), SIZE_MAX, QUOTE_MAX)
#define QUOTE_N(s, n) quote_n(&(Quoted) {}, (s), (n), QUOTE_MAX)
#define QUOTE_PATH(s) quote_n(&(Quoted) {}, (s), SIZE_MAX, PATH_QUOTE_MAX)

/* GKeyFile's messages quote the offending line or name whole: it may be 64 KiB long, hold control
 * characters and, in "Invalid key name", bytes that are not UTF-8. Made valid, cut at a character
 * boundary, controls blanked. */
static char *gerror_text(const GError *e) {
        g_autofree char *valid = g_utf8_make_valid(e->message, -1);
        glong len = g_utf8_strlen(valid, -1);
        g_autofree char *head = g_utf8_substring(valid, 0, MIN(len, (glong) PATH_QUOTE_MAX));
        char *t = g_strconcat(head, len > (glong) PATH_QUOTE_MAX ? "..." : "", NULL);
        for (char *c = t; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        *c = '?';
        return t;
}

/* "FILE:LINE: reason" into *ret_error (when not NULL). Returns r, or -ENOMEM. */
_printf_(5, 6) static int file_error(char **ret_error, int r, const char *file, unsigned line,
                                     const char *fmt, ...) {
        if (!ret_error)
                return r;
        _cleanup_free_ char *reason = NULL;
        va_list ap;
        va_start(ap, fmt);
        int k = vasprintf(&reason, fmt, ap);
        va_end(ap);
        if (k < 0 || asprintf(ret_error, "%s:%u: %s", file, line, reason) < 0) {
                *ret_error = NULL;
                return -ENOMEM;
        }
        return r;
}

/* Decimal without sign, leading zeros or spaces: "010" must not mean 8 to one reader and 10 to
 * another. */
static int parse_decimal(const char *s, size_t n, uint64_t *ret) {
        if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
                return -EINVAL;
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                unsigned d = (unsigned) (s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

/* Bytes with the largest suffix that divides them exactly: 8589934592 -> "8G", 1536M stays
 * "1536M", so the number in a refusal is the one the administrator wrote. */
static const char *format_bytes(uint64_t b, char *buf, size_t size) {
        static const char suffixes[] = "KMGT";
        if (b == KNOB_UNLIMITED) {
                snprintf(buf, size, "max");
                return buf;
        }
        char suffix[2] = "";
        for (size_t i = 0; i < strlen(suffixes) && b != 0 && b % 1024 == 0; i++) {
                b /= 1024;
                suffix[0] = suffixes[i];
        }
        snprintf(buf, size, "%" PRIu64 "%s", b, suffix);
        return buf;
}

/* ---- names ---- */

bool policy_name_is_valid(const char *name) {
        static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
        if (!name || name[0] == '\0' || name[0] == '.')
                return false;
        size_t n = strspn(name, allowed);
        return name[n] == '\0' && n <= POLICY_NAME_MAX;
}

/* Why key can never be a property, whatever a policy says; NULL when it is merely unknown. Each
 * line names what the file would give a container. */
static const char *never_writable_reason(const char *key) {
        if (streq(key, "cgroup.procs") || streq(key, "cgroup.threads") || streq(key, "tasks"))
                return "processes move only through MoveProcess, which checks the pid namespace";
        if (startswith(key, "cgroup."))
                return "cgroup.* files are the daemon's (controllers, freezing, killing, group type)";
        if (streq(key, "release_agent") || streq(key, "notify_on_release"))
                return "the kernel runs release_agent as root on the host";
        if (startswith(key, "devices."))
                return "device access is the runtime's to set, never the container's";
        if (startswith(key, "cpuset.cpus.partition") || startswith(key, "cpuset.cpus.exclusive"))
                return "a partition takes CPUs away from the rest of the host";
        if (startswith(key, "io.cost."))
                return "io.cost.qos and io.cost.model are host-wide settings of the root group";
        return NULL;
}

/* The refusal of a key that is not a property, in AllowedProperties or [Ceilings] (where): never
 * writable, a v1 file name with the v2 key to use instead, or unknown with the list of keys. */
static int property_refusal(char **ret_error, const char *file, unsigned line, const char *where,
                            const char *key) {
        const char *reason = never_writable_reason(key);
        if (reason)
                return file_error(ret_error, -EINVAL, file, line, "%s: %s is never writable: %s", where,
                                  QUOTE(key), reason);
        for (KnobId k = 0; k < _KNOB_MAX; k++) {
                const KnobInfo *info = knob_info(k);
                if (info && info->v1_file && streq(info->v1_file, key))
                        return file_error(ret_error, -EINVAL, file, line,
                                          "%s: unknown property %s (a cgroup v1 file; policies use the v2 key %s)",
                                          where, QUOTE(key), info->key);
        }
        char known[256] = "";
        for (KnobId k = 0; k < _KNOB_MAX; k++) {
                const KnobInfo *info = knob_info(k);
                if (info)
                        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                                 k > 0 ? " " : "", info->key);
        }
        return file_error(ret_error, -EINVAL, file, line, "%s: unknown property %s (properties: %s)", where,
                          QUOTE(key), known);
}

/* ---- the line scanner ---- */

typedef struct LineIter {
        const char *p, *end;
        unsigned number; /* of the line last returned, from 1 */
} LineIter;

/* The next line as GKeyFile cuts it: at '\n', one '\r' before it dropped, leading ASCII space
 * skipped (g_ascii_isspace(), which does not count '\v'). */
static bool line_next(LineIter *it, const char **ret, size_t *ret_len) {
        if (it->p >= it->end)
                return false;
        const char *s = it->p, *nl = memchr(s, '\n', (size_t) (it->end - s));
        const char *e = nl ?: it->end;
        it->p = nl ? nl + 1 : it->end;
        it->number++;
        if (e > s && e[-1] == '\r')
                e--;
        while (s < e && g_ascii_isspace(*s))
                s++;
        *ret = s;
        *ret_len = (size_t) (e - s);
        return true;
}

typedef enum LineKind { LINE_BLANK, LINE_GROUP, LINE_KEY, LINE_BAD } LineKind;

/* GKeyFile's g_key_file_line_is_{comment,group,key_value_pair}(): a group is "[NAME]" with only
 * blanks after it, a key is everything before the first '=' minus trailing space. */
static LineKind line_classify(const char *s, size_t n, const char **ret_name, size_t *ret_len) {
        if (n == 0 || s[0] == '#')
                return LINE_BLANK;
        if (s[0] == '[') {
                const char *close = memchr(s, ']', n);
                if (!close)
                        return LINE_BAD;
                for (const char *q = close + 1; q < s + n; q++)
                        if (*q != ' ' && *q != '\t')
                                return LINE_BAD;
                *ret_name = s + 1;
                *ret_len = (size_t) (close - s - 1);
                return LINE_GROUP;
        }
        const char *eq = memchr(s, '=', n);
        if (!eq || eq == s)
                return LINE_BAD;
        const char *end = eq;
        while (end > s && g_ascii_isspace(end[-1]))
                end--;
        *ret_name = s;
        *ret_len = (size_t) (end - s);
        return LINE_KEY;
}

/* Roughly g_key_file_is_group_name() and g_key_file_is_key_name(): only used to point at the
 * line GKeyFile refused, so close is good enough. */
static bool group_name_ok(const char *s, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '[' || s[i] == ']' || g_ascii_iscntrl(s[i]))
                        return false;
        return true;
}

static bool key_name_ok(const char *s, size_t n) {
        size_t base = strcspn(s, "[]=");
        if (base > n)
                base = n;
        if (base == 0 || s[base - 1] == ' ')
                return false;
        if (base == n)
                return true;
        if (s[base] != '[' || n < base + 3 || s[n - 1] != ']')
                return false;
        for (size_t i = base + 1; i < n - 1; i++)
                if (!g_ascii_isalnum(s[i]) && !strchr("-_.@", s[i]))
                        return false;
        return true;
}

/* The first line GKeyFile would refuse, for its error message; 0 when none is found. */
static unsigned find_bad_line(const char *text, size_t size) {
        LineIter it = { .p = text, .end = text + size };
        const char *s, *name = NULL;
        size_t n, len = 0;
        bool in_group = false;

        while (line_next(&it, &s, &n))
                switch (line_classify(s, n, &name, &len)) {
                case LINE_BLANK:
                        break;
                case LINE_GROUP:
                        if (!group_name_ok(name, len))
                                return it.number;
                        in_group = true;
                        break;
                case LINE_KEY:
                        if (!in_group || !key_name_ok(name, len))
                                return it.number;
                        break;
                default:
                        return it.number;
                }
        return 0;
}

static unsigned line_of(const char *text, const char *at) {
        unsigned line = 1;
        for (const char *p = text; p < at; p++)
                line += *p == '\n';
        return line;
}

/* ---- the [Policy] keys ---- */

typedef struct Parser {
        const char *file;
        Policy *policy;
        char **error;
        unsigned rate_line, burst_line; /* where RequestRate / RequestBurst were set, 0: base */
} Parser;

typedef struct PolicyKey PolicyKey;
typedef int (*PolicyKeyParse)(Parser *ps, const PolicyKey *k, const char *value, unsigned line);
struct PolicyKey {
        const char *name;
        PolicyKeyParse parse;
        size_t offset;
        unsigned min, max;
};

static int parse_bool_key(Parser *ps, const PolicyKey *k, const char *value, unsigned line) {
        bool *field = (bool *) ((uint8_t *) ps->policy + k->offset);
        static const char *const yes[] = { "yes", "true", "1", NULL }, *const no[] = { "no", "false", "0", NULL };
        if (word_in(value, yes))
                *field = true;
        else if (word_in(value, no))
                *field = false;
        else
                return file_error(ps->error, -EINVAL, ps->file, line,
                                  "%s=%s is not a boolean (yes, no, true, false, 1 or 0)", k->name,
                                  QUOTE(value));
        return 0;
}

static int parse_unsigned_key(Parser *ps, const PolicyKey *k, const char *value, unsigned line) {
        unsigned *field = (unsigned *) (void *) ((uint8_t *) ps->policy + k->offset);
        uint64_t v;
        int r = parse_decimal(value, strlen(value), &v);
        if (r == -EINVAL)
                return file_error(ps->error, -EINVAL, ps->file, line,
                                  "%s=%s is not a decimal number (digits only, no sign or suffix)",
                                  k->name, QUOTE(value));
        if (r < 0 || v < k->min || v > k->max)
                return file_error(ps->error, -EINVAL, ps->file, line, "%s=%s is out of range (%u..%u)",
                                  k->name, QUOTE(value), k->min, k->max);
        *field = (unsigned) v;
        if (streq(k->name, "RequestRate"))
                ps->rate_line = line;
        else if (streq(k->name, "RequestBurst"))
                ps->burst_line = line;
        return 0;
}

/* Calls f on each blank-separated word of value; stops at the first error. */
static int for_each_word(Parser *ps, const PolicyKey *k, const char *value, unsigned line,
                         int (*f)(Parser *ps, const PolicyKey *k, const char *word, unsigned line)) {
        for (const char *p = value;;) {
                p += strspn(p, " \t");
                size_t n = strcspn(p, " \t");
                if (n == 0)
                        return 0;
                g_autofree char *word = g_strndup(p, n);
                int r = f(ps, k, word, line);
                if (r < 0)
                        return r;
                p += n;
        }
}

static int add_property(Parser *ps, const PolicyKey *k, const char *word, unsigned line) {
        const KnobInfo *info = knob_lookup(word);
        if (!info)
                return property_refusal(ps->error, ps->file, line, k->name, word);
        if (ps->policy->allowed & KNOB_MASK(info->id))
                return file_error(ps->error, -EINVAL, ps->file, line, "%s: %s is listed twice", k->name,
                                  info->key);
        ps->policy->allowed |= KNOB_MASK(info->id);
        return 0;
}

static int parse_properties_key(Parser *ps, const PolicyKey *k, const char *value, unsigned line) {
        ps->policy->allowed = 0; /* the file's list is the whole list, not an addition */
        return for_each_word(ps, k, value, line, add_property);
}

static int parse_device(const char *s, unsigned *ret_major, unsigned *ret_minor) {
        const char *colon = strchr(s, ':');
        uint64_t major, minor;
        if (!colon || parse_decimal(s, (size_t) (colon - s), &major) < 0 ||
            parse_decimal(colon + 1, strlen(colon + 1), &minor) < 0 || major > DEVICE_MAJOR_MAX ||
            minor > DEVICE_MINOR_MAX)
                return -EINVAL;
        *ret_major = (unsigned) major;
        *ret_minor = (unsigned) minor;
        return 0;
}

static bool policy_has_device(const Policy *p, unsigned major, unsigned minor) {
        for (size_t i = 0; i < p->n_devices; i++)
                if (p->devices[i].major == major && p->devices[i].minor == minor)
                        return true;
        return false;
}

static int add_device(Parser *ps, const PolicyKey *k, const char *word, unsigned line) {
        Policy *p = ps->policy;
        unsigned major, minor;
        if (parse_device(word, &major, &minor) < 0)
                return file_error(ps->error, -EINVAL, ps->file, line,
                                  "%s: %s is not a block device number MAJ:MIN (such as 8:0; major <= %u, minor <= %u)",
                                  k->name, QUOTE(word), DEVICE_MAJOR_MAX, DEVICE_MINOR_MAX);
        if (policy_has_device(p, major, minor))
                return file_error(ps->error, -EINVAL, ps->file, line, "%s: %u:%u is listed twice", k->name,
                                  major, minor);
        if (p->n_devices >= POLICY_DEVICES_MAX)
                return file_error(ps->error, -EINVAL, ps->file, line, "%s: more than %u devices", k->name,
                                  POLICY_DEVICES_MAX);
        p->devices[p->n_devices].major = major;
        p->devices[p->n_devices++].minor = minor;
        return 0;
}

static int parse_devices_key(Parser *ps, const PolicyKey *k, const char *value, unsigned line) {
        ps->policy->n_devices = 0;
        return for_each_word(ps, k, value, line, add_device);
}

#define BOOL_KEY(n, field) { n, parse_bool_key, offsetof(Policy, field), 0, 0 }
#define NUM_KEY(n, field, lo, hi) { n, parse_unsigned_key, offsetof(Policy, field), lo, hi }

static const PolicyKey policy_keys[] = {
        { "AllowedProperties", parse_properties_key, 0, 0, 0 },
        { "AllowedDevices", parse_devices_key, 0, 0, 0 },
        NUM_KEY("MaxDepth", max_depth, 1, 64),
        NUM_KEY("MaxGroups", max_groups, 1, 100000),
        BOOL_KEY("AllowRootWrites", allow_root_writes),
        BOOL_KEY("AllowCreate", allow_create),
        BOOL_KEY("AllowFreeze", allow_freeze),
        BOOL_KEY("AllowKill", allow_kill),
        BOOL_KEY("AllowMove", allow_move),
        NUM_KEY("RequestRate", request_rate, 1, RATE_MAX),
        NUM_KEY("RequestBurst", request_burst, 1, BURST_MAX),
        NUM_KEY("MaxConnections", max_connections, 1, 65536),
};

/* ---- [Ceilings] ---- */

static bool cpus_empty(const KnobValue *v) {
        for (size_t i = 0; i < ELEMENTSOF(v->cpus.bits); i++)
                if (v->cpus.bits[i] != 0)
                        return false;
        return true;
}

static int parse_one_ceiling(Parser *ps, const KnobInfo *info, const char *value, unsigned line,
                             KnobValue *ret) {
        CgdRefusal refusal = {};
        if (knob_parse(info->key, value, ret, &refusal) < 0)
                return file_error(ps->error, -EINVAL, ps->file, line, "[Ceilings] %s", refusal.message);
        return 0;
}

/* io.max ceilings are per device, one entry each, separated by ';' as GKeyFile lists are:
 * "io.max=8:0 rbps=1M;8:16 wbps=10M". */
static int parse_io_ceilings(Parser *ps, const KnobInfo *info, const char *value, unsigned line) {
        Policy *p = ps->policy;
        p->n_io_ceilings = 0;
        g_auto(GStrv) items = g_strsplit(value, ";", -1);
        for (char **i = items; *i; i++) {
                g_strstrip(*i);
                if (**i == '\0')
                        continue;
                if (p->n_io_ceilings >= POLICY_DEVICES_MAX)
                        return file_error(ps->error, -EINVAL, ps->file, line,
                                          "[Ceilings] io.max: more than %u devices", POLICY_DEVICES_MAX);
                KnobValue *c = &p->io_ceilings[p->n_io_ceilings];
                int r = parse_one_ceiling(ps, info, *i, line, c);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < p->n_io_ceilings; j++)
                        if (p->io_ceilings[j].io_max.major == c->io_max.major &&
                            p->io_ceilings[j].io_max.minor == c->io_max.minor)
                                return file_error(ps->error, -EINVAL, ps->file, line,
                                                  "[Ceilings] io.max: device %u:%u is listed twice",
                                                  c->io_max.major, c->io_max.minor);
                p->n_io_ceilings++;
        }
        if (p->n_io_ceilings == 0)
                return file_error(ps->error, -EINVAL, ps->file, line,
                                  "[Ceilings] io.max= names no device (such as io.max=8:0 rbps=10M)");
        p->has_ceiling |= KNOB_MASK(KNOB_IO_MAX);
        return 0;
}

static int parse_ceiling(Parser *ps, KnobId id, const char *value, unsigned line) {
        const KnobInfo *info = knob_info(id);
        if (id == KNOB_IO_MAX)
                return parse_io_ceilings(ps, info, value, line);
        KnobValue c;
        int r = parse_one_ceiling(ps, info, value, line, &c);
        if (r < 0)
                return r;
        /* A per-device io.weight ceiling would leave every other device and the default weight
         * without one: say so instead of enforcing less than the administrator meant. */
        if (id == KNOB_IO_WEIGHT && c.io_weight.has_device)
                return file_error(ps->error, -EINVAL, ps->file, line,
                                  "[Ceilings] io.weight=%s: the ceiling is one weight for every device (such as io.weight=500)",
                                  QUOTE(value));
        if (info->kind == KNOB_KIND_CPUS && cpus_empty(&c))
                return file_error(ps->error, -EINVAL, ps->file, line,
                                  "[Ceilings] %s= is empty: a ceiling needs at least one CPU or node", info->key);
        ps->policy->ceilings[id] = c;
        ps->policy->has_ceiling |= KNOB_MASK(id);
        return 0;
}

/* ---- the index: every key of the file with its line, in file order ---- */

typedef struct Entry {
        bool ceiling; /* in [Ceilings]: id is a KnobId; else an index into policy_keys[] */
        unsigned id;
        unsigned line;
} Entry;

typedef struct Index {
        Entry entries[ELEMENTSOF(policy_keys) + _KNOB_MAX]; /* duplicates are refused, so this fits */
        size_t n;
} Index;

static const char *const group_names[] = { "Policy", "Ceilings" };

static int index_group(Parser *ps, const char *name, size_t len, unsigned line, unsigned seen[2],
                       int *ret_group) {
        for (int g = 0; g < 2; g++)
                if (strlen(group_names[g]) == len && memcmp(group_names[g], name, len) == 0) {
                        if (seen[g] > 0)
                                return file_error(ps->error, -EINVAL, ps->file, line,
                                                  "duplicate group [%s] (first at line %u)", group_names[g],
                                                  seen[g]);
                        seen[g] = line;
                        *ret_group = g;
                        return 0;
                }
        return file_error(ps->error, -EINVAL, ps->file, line,
                          "unknown group [%s] (a policy has [Policy] and [Ceilings])", QUOTE_N(name, len));
}

static int lookup_policy_key(Parser *ps, const char *key, unsigned line) {
        for (size_t i = 0; i < ELEMENTSOF(policy_keys); i++)
                if (streq(policy_keys[i].name, key))
                        return (int) i;
        for (size_t i = 0; i < ELEMENTSOF(policy_keys); i++)
                if (strcasecmp(key, policy_keys[i].name) == 0)
                        return file_error(ps->error, -EINVAL, ps->file, line,
                                          "unknown key %s in [Policy] (did you mean %s?)", QUOTE(key),
                                          policy_keys[i].name);
        return file_error(ps->error, -EINVAL, ps->file, line, "unknown key %s in [Policy]", QUOTE(key));
}

static int index_key(Parser *ps, Index *idx, int group, const char *name, size_t len, unsigned line) {
        g_autofree char *key = g_strndup(name, len);
        Entry e = { .ceiling = group == 1, .line = line };
        if (group == 1) {
                const KnobInfo *info = knob_lookup(key);
                if (!info)
                        return property_refusal(ps->error, ps->file, line, "[Ceilings]", key);
                e.id = (unsigned) info->id;
        } else {
                int r = lookup_policy_key(ps, key, line);
                if (r < 0)
                        return r;
                e.id = (unsigned) r;
        }
        for (size_t i = 0; i < idx->n; i++)
                if (idx->entries[i].ceiling == e.ceiling && idx->entries[i].id == e.id)
                        return file_error(ps->error, -EINVAL, ps->file, line,
                                          "duplicate key %s in [%s] (first at line %u)", key,
                                          group_names[group], idx->entries[i].line);
        assert(idx->n < ELEMENTSOF(idx->entries));
        idx->entries[idx->n++] = e;
        return 0;
}

/* Runs after GKeyFile accepted the text, so every line is blank, a group or a key, and a key
 * never comes before the first group. */
static int index_build(Parser *ps, const char *text, size_t size, Index *idx) {
        LineIter it = { .p = text, .end = text + size };
        unsigned seen[2] = {};
        int group = -1, r = 0;
        const char *s, *name = NULL;
        size_t n, len = 0;

        while (r >= 0 && line_next(&it, &s, &n))
                switch (line_classify(s, n, &name, &len)) {
                case LINE_GROUP:
                        r = index_group(ps, name, len, it.number, seen, &group);
                        break;
                case LINE_KEY:
                        if (group < 0)
                                return file_error(ps->error, -EINVAL, ps->file, it.number,
                                                  "a key before the first group");
                        r = index_key(ps, idx, group, name, len, it.number);
                        break;
                case LINE_BAD:
                        return file_error(ps->error, -EINVAL, ps->file, it.number,
                                          "not a group, key=value pair or comment");
                default:
                        break;
                }
        return r;
}

/* The scanner and GKeyFile must agree on what the file holds; a file they read differently is
 * refused rather than enforced with values from lines nobody can point at. */
static int index_check(Parser *ps, GKeyFile *kf, const Index *idx) {
        gsize n_groups = 0;
        g_auto(GStrv) groups = g_key_file_get_groups(kf, &n_groups);
        size_t keys = 0;
        for (gsize g = 0; g < n_groups; g++) {
                gsize n = 0;
                g_strfreev(g_key_file_get_keys(kf, groups[g], &n, NULL));
                keys += n;
        }
        if (keys != idx->n)
                return file_error(ps->error, -EINVAL, ps->file, 0,
                                  "GKeyFile found %zu keys where the line scanner found %zu; refusing a file the two read differently",
                                  (size_t) keys, idx->n);
        return 0;
}

static int apply_entry(Parser *ps, GKeyFile *kf, const Entry *e) {
        const char *group = group_names[e->ceiling ? 1 : 0];
        const char *key = e->ceiling ? knob_info((KnobId) e->id)->key : policy_keys[e->id].name;
        g_autoptr(GError) error = NULL;
        /* The raw value: no GKeyFile escapes ("\s", "\n") are undone, so what the file shows is
         * what is enforced. */
        g_autofree char *value = g_key_file_get_value(kf, group, key, &error);
        if (!value)
                return file_error(ps->error, -EINVAL, ps->file, e->line, "%s", QUOTE(error->message));
        if (e->ceiling)
                return parse_ceiling(ps, (KnobId) e->id, value, e->line);
        return policy_keys[e->id].parse(ps, &policy_keys[e->id], value, e->line);
}

/* A bucket smaller than a second's worth of tokens would cap the rate below RequestRate where
 * the daemon refills once a second. */
static int check_rate(Parser *ps) {
        const Policy *p = ps->policy;
        if (p->request_burst >= p->request_rate)
                return 0;
        return file_error(ps->error, -EINVAL, ps->file, ps->burst_line ?: ps->rate_line,
                          "RequestBurst=%u is below RequestRate=%u%s; the burst must be at least the rate",
                          p->request_burst, p->request_rate,
                          ps->burst_line == 0 ? " (RequestBurst comes from the base policy: set it too)" :
                          ps->rate_line == 0 ? " (RequestRate comes from the base policy)" : "");
}

static int parse_text(Parser *ps, const char *text, size_t size) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) error = NULL;
        if (!g_key_file_load_from_data(kf, text, size, G_KEY_FILE_NONE, &error)) {
                g_autofree char *message = gerror_text(error);
                return file_error(ps->error, -EINVAL, ps->file, find_bad_line(text, size), "%s", message);
        }

        Index idx = {};
        int r = index_build(ps, text, size, &idx);
        if (r < 0)
                return r;
        r = index_check(ps, kf, &idx);
        if (r < 0)
                return r;
        for (size_t i = 0; i < idx.n; i++) {
                r = apply_entry(ps, kf, &idx.entries[i]);
                if (r < 0)
                        return r;
        }
        return check_rate(ps);
}

static Policy *policy_copy_named(const Policy *base, const char *name) {
        Policy *p = malloc(sizeof *p);
        if (!p)
                return NULL;
        *p = *base;
        p->name = strdup(name);
        if (!p->name)
                return mfree(p);
        return p;
}

int policy_parse(const char *text, size_t size, const char *file, const char *name, const Policy *base,
                 Policy **ret, char **ret_error) {
        assert(text || size == 0);
        assert(file);
        assert(ret);

        if (!policy_name_is_valid(name))
                return file_error(ret_error, -EINVAL, file, 0,
                                  "invalid policy name '%s': 1..%u characters of A-Z a-z 0-9 _ . -, not starting with '.'",
                                  QUOTE(name ?: ""), POLICY_NAME_MAX);
        /* GKeyFile reads C strings: a NUL would hide the rest of a line from it but not from us. */
        const char *nul = memchr(text, '\0', size);
        if (nul)
                return file_error(ret_error, -EINVAL, file, line_of(text, nul), "contains a NUL byte");

        _cleanup_(policy_freep) Policy *p = policy_copy_named(base ?: &builtin_default, name);
        if (!p)
                return -ENOMEM;
        Parser ps = { .file = file, .policy = p, .error = ret_error };
        if (size > 0) {
                int r = parse_text(&ps, text, size);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- loading ---- */

/* Refuses a policy file anyone but root (or the daemon's own user, for unprivileged tests) could
 * have written: a policy grants a container power over the host's cgroups. */
static int check_file(const struct stat *st, const char *file, char **ret_error) {
        if (!S_ISREG(st->st_mode))
                return file_error(ret_error, -EINVAL, file, 0, "not a regular file");
        if (st->st_mode & S_IWOTH)
                return file_error(ret_error, -EPERM, file, 0,
                                  "writable by every user (mode %04o); run chmod o-w on it",
                                  (unsigned) (st->st_mode & 07777));
        if (st->st_uid != 0 && st->st_uid != geteuid())
                return file_error(ret_error, -EPERM, file, 0, "owned by uid %u, neither root nor the daemon's user",
                                  (unsigned) st->st_uid);
        if (st->st_size > (off_t) POLICY_FILE_MAX)
                return file_error(ret_error, -EFBIG, file, 0, "%jd bytes; a policy is at most %u",
                                  (intmax_t) st->st_size, POLICY_FILE_MAX);
        return 0;
}

static int read_bounded(int fd, const char *file, char **ret, size_t *ret_size, char **ret_error) {
        _cleanup_free_ char *buf = malloc(POLICY_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        size_t n = 0;
        for (;;) {
                /* Read one byte past the cap: the file may have grown since fstat(). */
                ssize_t k = read(fd, buf + n, POLICY_FILE_MAX + 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return file_error(ret_error, negative_errno(), file, 0, "read: %s", strerror(errno));
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > POLICY_FILE_MAX)
                        return file_error(ret_error, -EFBIG, file, 0, "more than %u bytes", POLICY_FILE_MAX);
        }
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

static int read_policy_file(const char *dir, const char *name, const char *file, char **ret,
                            size_t *ret_size, char **ret_error) {
        _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return file_error(ret_error, negative_errno(), file, 0, "%s",
                                  errno == ENOENT ? "no such policy" : strerror(errno));

        g_autofree char *fname = g_strconcat(name, ".conf", NULL);
        /* O_NOFOLLOW: a symlink in the policy directory must not make the daemon read any file
         * of the host (and quote its lines in errors). O_NONBLOCK: a FIFO must not hang it. */
        _cleanup_close_ int fd = openat(dfd, fname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 && errno == ELOOP)
                return file_error(ret_error, -ELOOP, file, 0, "a symbolic link; policies are never read through one");
        if (fd < 0)
                return file_error(ret_error, negative_errno(), file, 0, "%s",
                                  errno == ENOENT ? "no such policy" : strerror(errno));

        struct stat st;
        if (fstat(fd, &st) < 0)
                return file_error(ret_error, negative_errno(), file, 0, "fstat: %s", strerror(errno));
        int r = check_file(&st, file, ret_error);
        if (r < 0)
                return r;
        return read_bounded(fd, file, ret, ret_size, ret_error);
}

int policy_load(const char *dir, const char *name, const Policy *base, Policy **ret, char **ret_error) {
        assert(dir);
        assert(ret);

        /* The name becomes a file name below dir: "../x" or "a/b" must never get that far. */
        if (!policy_name_is_valid(name))
                return file_error(ret_error, -EINVAL, dir, 0,
                                  "invalid policy name '%s': 1..%u characters of A-Z a-z 0-9 _ . -, not starting with '.'",
                                  QUOTE(name ?: ""), POLICY_NAME_MAX);

        g_autofree char *file = g_strdup_printf("%s/%s.conf", dir, name);
        _cleanup_free_ char *text = NULL, *error = NULL;
        size_t size = 0;
        int r = read_policy_file(dir, name, file, &text, &size, &error);
        if (r == -ENOENT && streq(name, "default")) {
                Policy *p = policy_copy(&builtin_default);
                if (!p)
                        return -ENOMEM;
                *ret = p;
                return 1;
        }
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(error);
                return r;
        }
        return policy_parse(text, size, file, name, base, ret, ret_error);
}

Policy *policy_free(Policy *p) {
        if (!p)
                return NULL;
        free(p->name);
        return mfree(p);
}

void policy_freep(Policy **p) {
        *p = policy_free(*p);
}

Policy *policy_copy(const Policy *p) {
        return p ? policy_copy_named(p, p->name) : NULL;
}

/* ---- decisions ---- */

/* The ceiling as a person writes it: bytes with a suffix, cpu.max with its number of CPUs, io.max
 * with only the limits it sets. */
static const char *format_ceiling(const KnobValue *c, char *buf, size_t size) {
        const KnobInfo *info = knob_info(c->id);
        char b[32];

        switch (info->kind) {
        case KNOB_KIND_BYTES:
                return format_bytes(c->bytes, buf, size);
        case KNOB_KIND_CPU_MAX: {
                if (knob_format(c, buf, size) < 0)
                        return "?";
                if (c->cpu.quota_us == KNOB_UNLIMITED || c->cpu.period_us == 0 ||
                    c->cpu.quota_us > UINT64_MAX / 100)
                        return buf;
                uint64_t centi = c->cpu.quota_us * 100 / c->cpu.period_us;
                size_t l = strlen(buf);
                if (centi % 100 == 0)
                        snprintf(buf + l, size - l, " (%" PRIu64 " CPU%s)", centi / 100, centi == 100 ? "" : "s");
                else
                        snprintf(buf + l, size - l, " (%s%" PRIu64 ".%02" PRIu64 " CPUs)",
                                 c->cpu.quota_us * 100 % c->cpu.period_us ? "about " : "", centi / 100,
                                 centi % 100);
                return buf;
        }
        case KNOB_KIND_IO_MAX: {
                static const char *const names[_IO_LIMIT_MAX] = { "rbps", "wbps", "riops", "wiops" };
                size_t l = (size_t) snprintf(buf, size, "%u:%u", c->io_max.major, c->io_max.minor);
                for (IoLimit i = 0; i < _IO_LIMIT_MAX && l < size; i++) {
                        if (!c->io_max.set[i])
                                continue;
                        /* Plain numbers: io.max takes no suffix, and the ceiling is quoted
                         * so that it can be written back as it is. */
                        if (c->io_max.limit[i] == KNOB_UNLIMITED)
                                snprintf(b, sizeof b, "max");
                        else
                                snprintf(b, sizeof b, "%" PRIu64, c->io_max.limit[i]);
                        l += (size_t) snprintf(buf + l, size - l, " %s=%s", names[i], b);
                }
                return buf;
        }
        default:
                return knob_format(c, buf, size) < 0 ? "?" : buf;
        }
}

static const KnobValue *exceeded_ceiling(const Policy *p, const KnobValue *v) {
        if (v->id == KNOB_IO_MAX) {
                /* knob_exceeds() never applies a ceiling of another device. */
                for (size_t i = 0; i < p->n_io_ceilings; i++)
                        if (knob_exceeds(v, &p->io_ceilings[i]))
                                return &p->io_ceilings[i];
                return NULL;
        }
        if (!(p->has_ceiling & KNOB_MASK(v->id)))
                return NULL;
        /* An empty cpuset means "the parent's": unbounded below the root, as "max" is for memory. */
        if (knob_info(v->id)->kind == KNOB_KIND_CPUS && cpus_empty(v))
                return &p->ceilings[v->id];
        return knob_exceeds(v, &p->ceilings[v->id]) ? &p->ceilings[v->id] : NULL;
}

/* The device a value names, if any; io settings for a device the container was not given would
 * throttle (or favour) a disk the host shares with others. */
static bool value_device(const KnobValue *v, unsigned *ret_major, unsigned *ret_minor) {
        if (v->id == KNOB_IO_MAX) {
                *ret_major = v->io_max.major, *ret_minor = v->io_max.minor;
                return true;
        }
        if (v->id == KNOB_IO_WEIGHT && v->io_weight.has_device) {
                *ret_major = v->io_weight.major, *ret_minor = v->io_weight.minor;
                return true;
        }
        return false;
}

int policy_check_property(const Policy *p, const char *path, unsigned depth, const KnobValue *v,
                          const char *value_text, CgdRefusal *ret_refusal) {
        assert(p);
        assert(path);
        assert(v && v->id >= 0 && v->id < _KNOB_MAX);
        const char *key = knob_info(v->id)->key;
        unsigned major, minor;

        /* An allowlist: a key the administrator did not name is refused, never guessed at. */
        if (!(p->allowed & KNOB_MASK(v->id)))
                return cgd_refuse(ret_refusal, CGD_ERROR_ACCESS_DENIED,
                                  "%s is not in AllowedProperties of policy '%s'", key, p->name);
        /* The root's limits are the ones the host set for the container: it must not raise them. */
        if (depth == 0 && !p->allow_root_writes)
                return cgd_refuse(ret_refusal, CGD_ERROR_ACCESS_DENIED,
                                  "%s on %s (the container root) needs AllowRootWrites=yes in policy '%s'",
                                  key, QUOTE_PATH(path), p->name);
        if (value_device(v, &major, &minor) && !policy_has_device(p, major, minor))
                return cgd_refuse(ret_refusal, CGD_ERROR_ACCESS_DENIED,
                                  "%s for device %u:%u is not in AllowedDevices of policy '%s'", key, major,
                                  minor, p->name);

        const KnobValue *c = exceeded_ceiling(p, v);
        if (!c)
                return 0;
        char ceiling[160], own[160];
        if (!value_text)
                value_text = knob_format(v, own, sizeof own) < 0 ? "?" : own;
        return cgd_refuse(ret_refusal, CGD_ERROR_OUT_OF_RANGE, "%s=%s on %s exceeds the ceiling %s of policy '%s'",
                          key, QUOTE(value_text), QUOTE_PATH(path),
                          format_ceiling(c, ceiling, sizeof ceiling), p->name);
}

int policy_check_depth(const Policy *p, const char *path, unsigned depth, CgdRefusal *ret_refusal) {
        assert(p);
        assert(path);
        if (depth <= p->max_depth)
                return 0;
        return cgd_refuse(ret_refusal, CGD_ERROR_INVALID_PATH, "%s is %u levels deep; policy '%s' allows MaxDepth=%u",
                          QUOTE_PATH(path), depth, p->name, p->max_depth);
}

int policy_check_groups(const Policy *p, unsigned existing, CgdRefusal *ret_refusal) {
        assert(p);
        if (existing < p->max_groups)
                return 0;
        return cgd_refuse(ret_refusal, CGD_ERROR_QUOTA_EXCEEDED,
                          "policy '%s' allows MaxGroups=%u groups; this container has %u", p->name,
                          p->max_groups, existing);
}

static const struct {
        const char *operation, *key;
        size_t offset;
} actions[_POLICY_ACTION_MAX] = {
        [POLICY_ACTION_CREATE] = { "CreateGroup", "AllowCreate", offsetof(Policy, allow_create) },
        [POLICY_ACTION_REMOVE] = { "RemoveGroup", "AllowCreate", offsetof(Policy, allow_create) },
        [POLICY_ACTION_MOVE] = { "MoveProcess", "AllowMove", offsetof(Policy, allow_move) },
        [POLICY_ACTION_FREEZE] = { "Freeze/Thaw", "AllowFreeze", offsetof(Policy, allow_freeze) },
        [POLICY_ACTION_KILL] = { "Kill", "AllowKill", offsetof(Policy, allow_kill) },
};

int policy_check_action(const Policy *p, PolicyAction a, const char *path, CgdRefusal *ret_refusal) {
        assert(p);
        assert(a >= 0 && a < _POLICY_ACTION_MAX);
        if (*(const bool *) ((const uint8_t *) p + actions[a].offset))
                return 0;
        return cgd_refuse(ret_refusal, CGD_ERROR_ACCESS_DENIED, "%s%s%s is not allowed by policy '%s' (%s=no)",
                          actions[a].operation, path ? " on " : "", path ? QUOTE_PATH(path) : "", p->name,
                          actions[a].key);
}

/* ---- daemon-wide budgets ---- */

int budget_take_groups(Budget *b, unsigned n, CgdRefusal *ret_refusal) {
        assert(b);
        if (b->groups > b->max_groups || n > b->max_groups - b->groups)
                return cgd_refuse(ret_refusal, CGD_ERROR_QUOTA_EXCEEDED,
                                  "the daemon-wide budget of %u groups is used up (%u in use, %u more asked for)",
                                  b->max_groups, b->groups, n);
        b->groups += n;
        return 0;
}

void budget_return_groups(Budget *b, unsigned n) {
        assert(b);
        b->groups -= n < b->groups ? n : b->groups;
}

int budget_take_connection(Budget *b, CgdRefusal *ret_refusal) {
        assert(b);
        if (b->connections >= b->max_connections)
                return cgd_refuse(ret_refusal, CGD_ERROR_QUOTA_EXCEEDED,
                                  "the daemon-wide budget of %u connections is used up", b->max_connections);
        b->connections++;
        return 0;
}

void budget_return_connection(Budget *b) {
        assert(b);
        if (b->connections > 0)
                b->connections--;
}
