/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The D-Bus wire protocol, client side (see wire.h). A message is a header and a body; both are
 * written and read by the same marshalling code, the header as a message of its own with the
 * signature "yyyyuua(yv)". Offsets are relative to the start of the buffer, and the body starts
 * 8-aligned in the stream, so alignment within either is alignment on the wire.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "wire.h"

#define MESSAGE_MAX (128U << 20)  /* the specification's limit */
#define DEPTH_MAX 32              /* 32 arrays and 32 structs deep at most, as the spec says */
#define FDS_MAX 16                /* per message; libcgdelegate sends one */
#define SIGNALS_MAX 1024          /* queued and not yet taken: past it the oldest are dropped */
#define SIG_MAX 255

enum { FIELD_PATH = 1, FIELD_INTERFACE, FIELD_MEMBER, FIELD_ERROR_NAME, FIELD_REPLY_SERIAL, FIELD_DESTINATION,
       FIELD_SENDER, FIELD_SIGNATURE, FIELD_UNIX_FDS };

typedef struct Buf {
        uint8_t *p;
        size_t n, cap;
} Buf;

typedef struct Frame {
        char type;              /* 'a', '(', '{', 'v'; 0 for the body */
        char sig[SIG_MAX + 1];  /* not an array: the types of this container not yet done */
        size_t sig_at;          /* how much of sig is done */
        size_t start;           /* array, writing: where the elements start */
        size_t len_at;          /* array, writing: where its length goes */
        size_t end;             /* reading: where this container ends */
} Frame;

struct WireMsg {
        uint8_t type, flags;
        bool reading, big;
        uint32_t serial, reply_serial, n_unix_fds;
        char *path, *interface, *member, *error_name;
        char signature[SIG_MAX + 1];
        Buf body;
        size_t rpos;
        Frame stack[2 * DEPTH_MAX + 1];
        unsigned depth;         /* stack[0] is the body */
        char peeked[SIG_MAX + 1];
        int fds[FDS_MAX];
        unsigned n_fds;
        WireMsg *next;
};

struct WireBus {
        int fd;
        bool auth_sent, authenticated, unix_fds;
        uint32_t serial;
        Buf in;                 /* received, not yet taken */
        int in_fds[FDS_MAX * 4];
        unsigned n_in_fds;
        WireMsg *signals, *signals_tail;
        unsigned n_signals;
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Now plus timeout, UINT64_MAX (never) when that does not fit. */
static uint64_t deadline_of(uint64_t timeout_usec) {
        uint64_t now = now_usec();
        return timeout_usec > UINT64_MAX - now ? UINT64_MAX : now + timeout_usec;
}

/* ---- signatures ---- */

static size_t align_of(char t) {
        switch (t) {
        case 'n': case 'q':
                return 2;
        case 'b': case 'i': case 'u': case 's': case 'o': case 'a': case 'h':
                return 4;
        case 'x': case 't': case 'd': case '(': case '{':
                return 8;
        default: /* 'y', 'g', 'v' */
                return 1;
        }
}

static size_t fixed_size(char t) {
        switch (t) {
        case 'y':
                return 1;
        case 'n': case 'q':
                return 2;
        case 'b': case 'i': case 'u': case 'h':
                return 4;
        case 'x': case 't': case 'd':
                return 8;
        default:
                return 0;
        }
}

static bool basic(char t) {
        return fixed_size(t) > 0 || t == 's' || t == 'o' || t == 'g';
}

/* The length of the complete type at s, 0 when s does not start with one. */
static size_t type_len(const char *s) {
        if (basic(*s) || *s == 'v')
                return 1;
        if (*s == 'a') {
                size_t l = type_len(s + 1);
                return l ? l + 1 : 0;
        }
        if (*s == '(' || *s == '{') {
                char close = *s == '(' ? ')' : '}';
                size_t i = 1;
                while (s[i] && s[i] != close) {
                        size_t l = type_len(s + i);
                        if (!l)
                                return 0;
                        i += l;
                }
                return s[i] == close && i > 1 ? i + 1 : 0;
        }
        return 0;
}

static char container_char(char t) {
        return t == 'r' ? '(' : t == 'e' ? '{' : t;
}

/* ---- writing ---- */

static int buf_reserve(Buf *b, size_t more) {
        if (b->n + more <= b->cap)
                return 0;
        if (b->n + more > MESSAGE_MAX)
                return -EMSGSIZE;
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + more)
                cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
                return -ENOMEM;
        b->p = p;
        b->cap = cap;
        return 0;
}

static int buf_pad(Buf *b, size_t align) {
        size_t pad = (align - b->n % align) % align;
        if (pad == 0)
                return 0; /* an empty buffer has no memory to point at */
        int r = buf_reserve(b, pad);
        if (r < 0)
                return r;
        memset(b->p + b->n, 0, pad);
        b->n += pad;
        return 0;
}

static int buf_put(Buf *b, const void *data, size_t len) {
        if (len == 0)
                return 0;
        int r = buf_reserve(b, len);
        if (r < 0)
                return r;
        memcpy(b->p + b->n, data, len);
        b->n += len;
        return 0;
}

static void put_le(uint8_t *p, uint64_t v, size_t size) {
        for (size_t i = 0; i < size; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static int buf_put_int(Buf *b, uint64_t v, size_t size) {
        int r = buf_pad(b, size);
        if (r >= 0)
                r = buf_reserve(b, size);
        if (r < 0)
                return r;
        put_le(b->p + b->n, v, size);
        b->n += size;
        return 0;
}

/* What a value of type t at the current position means for the signatures: at the top, the
 * body's signature grows; in a struct or variant opened with its contents, nothing. */
static int sig_note(WireMsg *m, const char *t, size_t len) {
        if (m->depth > 0)
                return 0;
        size_t have = strlen(m->signature);
        if (have + len > SIG_MAX)
                return -E2BIG;
        memcpy(m->signature + have, t, len);
        m->signature[have + len] = '\0';
        return 0;
}

static int write_basic(WireMsg *m, char t, uint64_t u, double d, const char *s, int fd) {
        char ts[2] = { t, 0 };
        int r = sig_note(m, ts, 1);
        if (r < 0)
                return r;
        Buf *b = &m->body;
        switch (t) {
        case 'y':
                return buf_put(b, &(uint8_t) { (uint8_t) u }, 1);
        case 'b':
                return buf_put_int(b, u != 0, 4);
        case 'n': case 'q':
                return buf_put_int(b, u, 2);
        case 'i': case 'u':
                return buf_put_int(b, u, 4);
        case 'x': case 't':
                return buf_put_int(b, u, 8);
        case 'd': {
                uint64_t bits;
                memcpy(&bits, &d, sizeof bits);
                return buf_put_int(b, bits, 8);
        }
        case 's': case 'o': {
                size_t l = strlen(s);
                if (l > UINT32_MAX)
                        return -E2BIG;
                r = buf_put_int(b, l, 4);
                return r < 0 ? r : buf_put(b, s, l + 1);
        }
        case 'g': {
                size_t l = strlen(s);
                if (l > SIG_MAX)
                        return -E2BIG;
                r = buf_put(b, &(uint8_t) { (uint8_t) l }, 1);
                return r < 0 ? r : buf_put(b, s, l + 1);
        }
        case 'h': {
                if (m->n_fds >= FDS_MAX)
                        return -E2BIG;
                int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (copy < 0)
                        return -errno;
                m->fds[m->n_fds] = copy;
                return buf_put_int(b, m->n_fds++, 4);
        }
        default:
                return -EINVAL;
        }
}

/* One basic value of type t from ap. */
static int append_one(WireMsg *m, char t, va_list *ap) {
        switch (t) {
        case 'y': case 'b': case 'n': case 'q': case 'i':
                return write_basic(m, t, (uint64_t) (int64_t) va_arg(*ap, int), 0, NULL, -1);
        case 'u':
                return write_basic(m, t, va_arg(*ap, uint32_t), 0, NULL, -1);
        case 'x':
                return write_basic(m, t, (uint64_t) va_arg(*ap, int64_t), 0, NULL, -1);
        case 't':
                return write_basic(m, t, va_arg(*ap, uint64_t), 0, NULL, -1);
        case 'd':
                return write_basic(m, t, 0, va_arg(*ap, double), NULL, -1);
        case 's': case 'o': case 'g': {
                const char *s = va_arg(*ap, const char *);
                return s ? write_basic(m, t, 0, 0, s, -1) : -EINVAL;
        }
        case 'h':
                return write_basic(m, t, 0, 0, NULL, va_arg(*ap, int));
        default:
                return -EINVAL;
        }
}

int wire_open(WireMsg *m, char type, const char *contents) {
        type = container_char(type);
        if (m->reading || m->depth + 1 >= ELEMENTSOF(m->stack) || strlen(contents) > SIG_MAX)
                return -EINVAL;
        char full[SIG_MAX + 3];
        size_t l = strlen(contents);
        int r;
        if (type == 'a')
                r = snprintf(full, sizeof full, "a%s", contents);
        else if (type == '(' || type == '{')
                r = snprintf(full, sizeof full, "%c%s%c", type, contents, type == '(' ? ')' : '}');
        else if (type == 'v')
                r = snprintf(full, sizeof full, "v");
        else
                return -EINVAL;
        if (r < 0 || (size_t) r >= sizeof full || (type != 'v' && type_len(full) != (size_t) r) ||
            (type == 'v' && type_len(contents) != l))
                return -EINVAL;
        r = sig_note(m, full, strlen(full));
        if (r < 0)
                return r;
        Frame *f = &m->stack[++m->depth];
        *f = (Frame) { .type = type };
        memcpy(f->sig, contents, l + 1);
        Buf *b = &m->body;
        if (type == 'a') {
                r = buf_pad(b, 4);
                f->len_at = b->n;
                if (r >= 0)
                        r = buf_put_int(b, 0, 4);
                if (r >= 0)
                        r = buf_pad(b, align_of(contents[0]));
                f->start = b->n;
        } else if (type == 'v') {
                r = buf_put(b, &(uint8_t) { (uint8_t) l }, 1);
                if (r >= 0)
                        r = buf_put(b, contents, l + 1);
        } else
                r = buf_pad(b, 8);
        if (r < 0)
                m->depth--;
        return r;
}

int wire_close(WireMsg *m) {
        if (m->reading || m->depth == 0)
                return -EINVAL;
        Frame *f = &m->stack[m->depth--];
        if (f->type == 'a') {
                size_t len = m->body.n - f->start;
                if (len > (64U << 20)) /* the specification's limit for an array */
                        return -E2BIG;
                put_le(m->body.p + f->len_at, len, 4);
        }
        return 0;
}

int wire_append(WireMsg *m, const char *types, ...) {
        va_list ap;
        int r = 0;
        va_start(ap, types);
        for (const char *t = types; r >= 0 && *t; t++) {
                if (*t == '(') {
                        size_t l = type_len(t);
                        char inner[SIG_MAX + 1];
                        if (l < 3 || l - 2 > SIG_MAX) {
                                r = -EINVAL;
                                break;
                        }
                        memcpy(inner, t + 1, l - 2);
                        inner[l - 2] = '\0';
                        r = wire_open(m, '(', inner);
                        for (const char *i = inner; r >= 0 && *i; i++)
                                r = basic(*i) ? append_one(m, *i, &ap) : -EINVAL;
                        if (r >= 0)
                                r = wire_close(m);
                        t += l - 1;
                } else
                        r = basic(*t) ? append_one(m, *t, &ap) : -EINVAL;
        }
        va_end(ap);
        return r;
}

int wire_append_strv(WireMsg *m, char **l) {
        int r = wire_open(m, 'a', "s");
        for (char **i = l; r >= 0 && i && *i; i++)
                r = wire_append(m, "s", *i);
        return r < 0 ? r : wire_close(m);
}

/* ---- reading ---- */

static uint64_t get_int(const WireMsg *m, size_t at, size_t size) {
        uint64_t v = 0;
        for (size_t i = 0; i < size; i++)
                v |= (uint64_t) m->body.p[at + i] << (8 * (m->big ? size - 1 - i : i));
        return v;
}

static int read_align(WireMsg *m, size_t align, size_t need) {
        size_t pos = (m->rpos + align - 1) / align * align;
        size_t end = m->stack[m->depth].end;
        if (pos > end || need > end - pos)
                return -EBADMSG;
        m->rpos = pos;
        return 0;
}

/* The type at the current position: NULL at the end of the container. */
static const char *current(WireMsg *m) {
        Frame *f = &m->stack[m->depth];
        if (f->type == 'a')
                return m->rpos < f->end ? f->sig : NULL;
        return f->sig[f->sig_at] ? f->sig + f->sig_at : NULL;
}

/* One value of the current container is done. */
static void advance(WireMsg *m) {
        Frame *f = &m->stack[m->depth];
        if (f->type != 'a')
                f->sig_at += type_len(f->sig + f->sig_at);
}

/* A string at the current position: 's' and 'o' after a 32-bit length, 'g' after an 8-bit one. */
static int read_string(WireMsg *m, char t, const char **ret) {
        size_t len;
        int r;
        if (t == 'g') {
                r = read_align(m, 1, 1);
                len = r < 0 ? 0 : m->body.p[m->rpos++];
        } else {
                r = read_align(m, 4, 4);
                len = r < 0 ? 0 : get_int(m, m->rpos, 4);
                m->rpos += r < 0 ? 0 : 4;
        }
        if (r >= 0)
                r = read_align(m, 1, len + 1);
        if (r < 0)
                return r;
        const char *s = (const char *) m->body.p + m->rpos;
        if (s[len] != '\0' || strlen(s) != len)
                return -EBADMSG;
        m->rpos += len + 1;
        *ret = s;
        return 0;
}

/* Reads one basic value of type t into ret (the C type wire_append() takes, uint8_t for 'y',
 * int16_t/uint16_t for 'n'/'q', const char * for strings, the fd for 'h'). */
static int read_basic(WireMsg *m, char t, void *ret) {
        const char *cur = current(m);
        if (!cur)
                return 0;
        if (*cur != t)
                return -ENXIO;
        size_t size = fixed_size(t);
        uint64_t v;
        int r;
        if (size) {
                r = read_align(m, size, size);
                if (r < 0)
                        return r;
                v = get_int(m, m->rpos, size);
                m->rpos += size;
                switch (t) {
                case 'y':
                        *(uint8_t *) ret = (uint8_t) v;
                        break;
                case 'b':
                        if (v > 1)
                                return -EBADMSG;
                        *(int *) ret = (int) v;
                        break;
                case 'n':
                        *(int16_t *) ret = (int16_t) v;
                        break;
                case 'q':
                        *(uint16_t *) ret = (uint16_t) v;
                        break;
                case 'i':
                        *(int32_t *) ret = (int32_t) v;
                        break;
                case 'u':
                        *(uint32_t *) ret = (uint32_t) v;
                        break;
                case 'h':
                        if (v >= m->n_fds)
                                return -EBADMSG;
                        *(int *) ret = m->fds[v];
                        break;
                case 'd':
                        memcpy(ret, &v, sizeof(double));
                        break;
                default: /* 'x', 't' */
                        *(uint64_t *) ret = v;
                }
        } else {
                r = read_string(m, t, (const char **) ret);
                if (r < 0)
                        return r;
        }
        advance(m);
        return 1;
}

int wire_peek(WireMsg *m, char *ret_type, const char **ret_contents) {
        if (!m->reading)
                return -EINVAL;
        const char *cur = current(m);
        if (!cur)
                return 0;
        size_t l = type_len(cur);
        if (ret_type)
                *ret_type = *cur == '(' ? 'r' : *cur == '{' ? 'e' : *cur;
        if (!ret_contents)
                return 1;
        m->peeked[0] = '\0';
        if (*cur == 'a')
                snprintf(m->peeked, sizeof m->peeked, "%.*s", (int) (l - 1), cur + 1);
        else if (*cur == '(' || *cur == '{')
                snprintf(m->peeked, sizeof m->peeked, "%.*s", (int) (l - 2), cur + 1);
        else if (*cur == 'v') {
                size_t save = m->rpos;
                const char *s;
                int r = read_string(m, 'g', &s);
                m->rpos = save;
                if (r < 0)
                        return r;
                snprintf(m->peeked, sizeof m->peeked, "%s", s);
        }
        *ret_contents = m->peeked;
        return 1;
}

int wire_enter(WireMsg *m, char type, const char *contents) {
        type = container_char(type);
        if (!m->reading || m->depth + 1 >= ELEMENTSOF(m->stack))
                return -EINVAL;
        const char *cur = current(m);
        if (!cur)
                return 0;
        if (*cur != type)
                return -ENXIO;
        size_t l = type_len(cur);
        Frame *parent = &m->stack[m->depth];
        Frame f = { .type = type, .end = parent->end };
        int r;
        if (type == 'a') {
                r = read_align(m, 4, 4);
                if (r < 0)
                        return r;
                uint64_t len = get_int(m, m->rpos, 4);
                m->rpos += 4;
                r = read_align(m, align_of(cur[1]), 0);
                if (r < 0 || len > parent->end - m->rpos)
                        return -EBADMSG;
                f.end = m->rpos + len;
                snprintf(f.sig, sizeof f.sig, "%.*s", (int) (l - 1), cur + 1);
        } else if (type == '(' || type == '{') {
                r = read_align(m, 8, 0);
                if (r < 0)
                        return r;
                snprintf(f.sig, sizeof f.sig, "%.*s", (int) (l - 2), cur + 1);
        } else if (type == 'v') {
                const char *s;
                r = read_string(m, 'g', &s);
                if (r < 0)
                        return r;
                if (!*s || type_len(s) != strlen(s))
                        return -EBADMSG; /* a variant holds exactly one complete type */
                snprintf(f.sig, sizeof f.sig, "%s", s);
        } else
                return -EINVAL;
        if (contents && !streq(contents, f.sig))
                return -ENXIO;
        advance(m);
        m->stack[++m->depth] = f;
        return 1;
}

int wire_exit(WireMsg *m) {
        if (!m->reading || m->depth == 0)
                return -EINVAL;
        Frame *f = &m->stack[m->depth];
        int r = 0;
        if (f->type == 'a')
                m->rpos = f->end;
        else
                while (r >= 0 && current(m))
                        r = wire_skip(m);
        m->depth--;
        return r;
}

int wire_skip(WireMsg *m) {
        char t;
        const char *contents;
        int r = wire_peek(m, &t, &contents);
        if (r <= 0)
                return r;
        t = container_char(t);
        if (basic(t)) {
                union { uint64_t u; double d; const char *s; int fd; } v;
                return read_basic(m, t, &v);
        }
        r = wire_enter(m, t, NULL);
        if (r <= 0)
                return r;
        r = wire_exit(m); /* jumps to an array's end, skips what is left of the others */
        return r < 0 ? r : 1;
}

int wire_read(WireMsg *m, const char *types, ...) {
        va_list ap;
        int r = 1;
        va_start(ap, types);
        for (const char *t = types; r > 0 && *t; t++) {
                bool first = t == types;
                if (*t == '(') {
                        size_t l = type_len(t);
                        char inner[SIG_MAX + 1];
                        if (l < 3) {
                                r = -EINVAL;
                                break;
                        }
                        snprintf(inner, sizeof inner, "%.*s", (int) (l - 2), t + 1);
                        r = wire_enter(m, '(', inner);
                        for (const char *i = inner; r > 0 && *i; i++)
                                r = read_basic(m, *i, va_arg(ap, void *));
                        if (r > 0)
                                r = wire_exit(m) < 0 ? -EBADMSG : 1;
                        t += l - 1;
                } else
                        r = read_basic(m, *t, va_arg(ap, void *));
                if (r == 0 && !first)
                        r = -EBADMSG; /* the container ended in the middle of what was asked for */
        }
        va_end(ap);
        return r;
}

int wire_read_array(WireMsg *m, char type, const void **ret, size_t *ret_size) {
        char contents[2] = { type, 0 };
        if (!fixed_size(type))
                return -EINVAL;
        if (m->big && fixed_size(type) > 1)
                return -EPROTONOSUPPORT; /* the caller would read the bytes in the wrong order */
        int r = wire_enter(m, 'a', contents);
        if (r <= 0)
                return r < 0 ? r : -ENXIO;
        Frame *f = &m->stack[m->depth];
        *ret = m->body.p + m->rpos;
        *ret_size = f->end - m->rpos;
        if (*ret_size % fixed_size(type))
                return -EBADMSG;
        return wire_exit(m) < 0 ? -EBADMSG : 1;
}

int wire_read_strv(WireMsg *m, char ***ret) {
        int r = wire_enter(m, 'a', "s");
        if (r <= 0)
                return r < 0 ? r : -ENXIO;
        char **l = calloc(1, sizeof(char *));
        size_t n = 0;
        const char *s;
        while (l && (r = wire_read(m, "s", &s)) > 0) {
                char **grown = realloc(l, (n + 2) * sizeof(char *));
                if (!grown || !(grown[n] = strdup(s))) {
                        l = grown ? grown : l;
                        r = -ENOMEM;
                        break;
                }
                l = grown;
                l[++n] = NULL;
        }
        if (!l || r < 0) {
                for (size_t i = 0; l && i < n; i++)
                        free(l[i]);
                free(l);
                return l ? r : -ENOMEM;
        }
        *ret = l;
        return wire_exit(m) < 0 ? -EBADMSG : 1;
}

/* ---- messages ---- */

static WireMsg *msg_new(void) {
        WireMsg *m = calloc(1, sizeof *m);
        return m;
}

int wire_msg_new_call(const char *path, const char *interface, const char *member, WireMsg **ret) {
        WireMsg *m = msg_new();
        if (!m)
                return -ENOMEM;
        m->type = WIRE_METHOD_CALL;
        m->path = strdup(path);
        m->interface = interface ? strdup(interface) : NULL;
        m->member = strdup(member);
        if (!m->path || !m->member || (interface && !m->interface)) {
                wire_msg_free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

WireMsg *wire_msg_free(WireMsg *m) {
        if (!m)
                return NULL;
        for (unsigned i = 0; i < m->n_fds; i++)
                safe_close(m->fds[i]);
        free(m->path);
        free(m->interface);
        free(m->member);
        free(m->error_name);
        free(m->body.p);
        free(m);
        return NULL;
}

void wire_msg_freep(WireMsg **m) {
        wire_msg_free(*m);
}

int wire_msg_type(const WireMsg *m) {
        return m->type;
}

const char *wire_msg_interface(const WireMsg *m) {
        return m->interface;
}

const char *wire_msg_member(const WireMsg *m) {
        return m->member;
}

bool wire_msg_is_signal(const WireMsg *m, const char *interface, const char *member) {
        return m->type == WIRE_SIGNAL && (!interface || (m->interface && streq(m->interface, interface))) &&
               (!member || (m->member && streq(m->member, member)));
}

/* Puts m's body in reading position. */
static void msg_seal(WireMsg *m) {
        m->reading = true;
        m->rpos = 0;
        m->depth = 0;
        m->stack[0] = (Frame) { .end = m->body.n };
        snprintf(m->stack[0].sig, sizeof m->stack[0].sig, "%s", m->signature);
}

static int header_field(WireMsg *h, uint8_t code, char type, const void *value) {
        char sig[2] = { type, 0 };
        int r = wire_open(h, '(', "yv");
        if (r >= 0)
                r = wire_append(h, "y", code);
        if (r >= 0)
                r = wire_open(h, 'v', sig);
        if (r >= 0)
                r = type == 'u' ? wire_append(h, "u", *(const uint32_t *) value) : wire_append(h, sig, (const char *) value);
        if (r >= 0)
                r = wire_close(h);
        return r < 0 ? r : wire_close(h);
}

/* The header of m, serial given, in h->body. */
static int header_build(WireMsg *m, WireMsg *h) {
        int r = wire_append(h, "yyyyuu", 'l', m->type, m->flags, 1, (uint32_t) m->body.n, m->serial);
        if (r >= 0)
                r = wire_open(h, 'a', "(yv)");
        if (r >= 0 && m->path)
                r = header_field(h, FIELD_PATH, 'o', m->path);
        if (r >= 0 && m->interface)
                r = header_field(h, FIELD_INTERFACE, 's', m->interface);
        if (r >= 0 && m->member)
                r = header_field(h, FIELD_MEMBER, 's', m->member);
        if (r >= 0 && m->signature[0])
                r = header_field(h, FIELD_SIGNATURE, 'g', m->signature);
        if (r >= 0 && m->n_fds)
                r = header_field(h, FIELD_UNIX_FDS, 'u', &m->n_fds);
        if (r >= 0)
                r = wire_close(h);
        return r < 0 ? r : buf_pad(&h->body, 8);
}

/* A message from buffer p (whole, n bytes) and the fds that came with it. */
static int msg_parse(const uint8_t *p, size_t n, WireMsg **ret) {
        _cleanup_(wire_msg_freep) WireMsg *h = msg_new(), *m = msg_new();
        if (!h || !m)
                return -ENOMEM;
        size_t fields_end = 16 + (size_t) (p[0] == 'B' ? (uint32_t) p[12] << 24 | p[13] << 16 | p[14] << 8 | p[15]
                                                       : (uint32_t) p[15] << 24 | p[14] << 16 | p[13] << 8 | p[12]);
        size_t body_at = (fields_end + 7) / 8 * 8;
        if (body_at > n)
                return -EBADMSG;
        h->body = (Buf) { .p = (uint8_t *) p, .n = fields_end };
        h->big = p[0] == 'B';
        snprintf(h->signature, sizeof h->signature, "yyyyuua(yv)");
        msg_seal(h);
        uint8_t endian, type, flags, version;
        uint32_t body_len;
        int r = wire_read(h, "yyyyuu", &endian, &type, &flags, &version, &body_len, &m->serial);
        if (r > 0 && (version != 1 || body_at + body_len != n))
                r = -EBADMSG;
        m->type = type;
        m->flags = flags;
        m->big = h->big;
        if (r > 0)
                r = wire_enter(h, 'a', "(yv)");
        while (r > 0 && (r = wire_enter(h, '(', "yv")) > 0) {
                uint8_t code;
                char vt;
                const char *contents, *s = NULL;
                r = wire_read(h, "y", &code);
                if (r > 0)
                        r = wire_peek(h, &vt, &contents);
                if (r > 0)
                        r = wire_enter(h, 'v', NULL);
                if (r > 0 && (streq(contents, "s") || streq(contents, "o") || streq(contents, "g")))
                        r = wire_read(h, contents, &s);
                else if (r > 0 && streq(contents, "u") && (code == FIELD_REPLY_SERIAL || code == FIELD_UNIX_FDS))
                        r = wire_read(h, "u", code == FIELD_REPLY_SERIAL ? &m->reply_serial : &m->n_unix_fds);
                if (r > 0 && s) {
                        char **slot = code == FIELD_PATH ? &m->path : code == FIELD_INTERFACE ? &m->interface
                                    : code == FIELD_MEMBER ? &m->member : code == FIELD_ERROR_NAME ? &m->error_name : NULL;
                        if (slot && !*slot && !(*slot = strdup(s)))
                                r = -ENOMEM;
                        if (code == FIELD_SIGNATURE)
                                snprintf(m->signature, sizeof m->signature, "%s", s);
                }
                if (r > 0)
                        r = wire_exit(h) < 0 || wire_exit(h) < 0 ? -EBADMSG : 1;
        }
        h->body.p = NULL; /* borrowed */
        if (r < 0)
                return r;
        if (m->n_unix_fds > FDS_MAX)
                return -EBADMSG;
        for (const char *t = m->signature; *t;) { /* complete types only: readers rely on it */
                size_t l = type_len(t);
                if (!l)
                        return -EBADMSG;
                t += l;
        }
        r = buf_put(&m->body, p + body_at, body_len);
        if (r < 0)
                return r;
        msg_seal(m);
        *ret = TAKE_PTR(m);
        return 0;
}

/* ---- the connection ---- */

int wire_bus_open(const char *path, WireBus **ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        WireBus *b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (b->fd < 0 || connect(b->fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                wire_bus_close(b);
                return r;
        }
        *ret = b;
        return 0;
}

WireBus *wire_bus_close(WireBus *b) {
        if (!b)
                return NULL;
        safe_close(b->fd);
        for (unsigned i = 0; i < b->n_in_fds; i++)
                safe_close(b->in_fds[i]);
        while (b->signals) {
                WireMsg *next = b->signals->next;
                wire_msg_free(b->signals);
                b->signals = next;
        }
        free(b->in.p);
        free(b);
        return NULL;
}

int wire_bus_fd(const WireBus *b) {
        return b->fd;
}

/* Whole (the socket blocks: the call's timeout covers the reply, not the sending). */
static int send_all(WireBus *b, const void *a, size_t an, const void *c, size_t cn, const int *fds, unsigned n_fds) {
        struct iovec iov[2] = { { (void *) a, an }, { (void *) c, cn } };
        union {
                struct cmsghdr h;
                uint8_t buf[CMSG_SPACE(sizeof(int) * FDS_MAX)];
        } control = {};
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
        if (n_fds) {
                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
        }
        while (iov[0].iov_len + iov[1].iov_len > 0) {
                ssize_t k = sendmsg(b->fd, &mh, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                mh.msg_control = NULL; /* the fds went with the first byte */
                mh.msg_controllen = 0;
                for (int i = 0; i < 2; i++) {
                        size_t d = (size_t) k < iov[i].iov_len ? (size_t) k : iov[i].iov_len;
                        iov[i].iov_base = (uint8_t *) iov[i].iov_base + d;
                        iov[i].iov_len -= d;
                        k -= (ssize_t) d;
                }
        }
        return 0;
}

/* Reads what the socket has (waiting until deadline for something): > 0 bytes came, 0 timeout. */
static int receive(WireBus *b, uint64_t deadline) {
        for (;;) {
                uint64_t now = now_usec();
                uint64_t left_ms = deadline == UINT64_MAX ? 0 : now >= deadline ? 0 : (deadline - now + 999) / 1000;
                int ms = deadline == UINT64_MAX || left_ms > INT_MAX ? -1 : (int) left_ms;
                struct pollfd p = { .fd = b->fd, .events = POLLIN };
                int k = poll(&p, 1, ms);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                int r = buf_reserve(&b->in, 4096);
                if (r < 0)
                        return r;
                union {
                        struct cmsghdr h;
                        uint8_t buf[CMSG_SPACE(sizeof(int) * FDS_MAX)];
                } control;
                struct iovec iov = { b->in.p + b->in.n, b->in.cap - b->in.n };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                                     .msg_controllen = sizeof control };
                ssize_t n = recvmsg(b->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0)
                        return -errno;
                for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                                continue;
                        size_t nf = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        const int *fds = (const int *) CMSG_DATA(cm);
                        for (size_t i = 0; i < nf; i++) {
                                if (b->n_in_fds < ELEMENTSOF(b->in_fds))
                                        b->in_fds[b->n_in_fds++] = fds[i];
                                else {
                                        close(fds[i]);
                                        n = -1; /* which fd belongs to which message is lost */
                                }
                        }
                }
                if (n < 0 || (mh.msg_flags & MSG_CTRUNC))
                        return -EBADMSG;
                if (n == 0)
                        return -ECONNRESET;
                b->in.n += (size_t) n;
                return 1;
        }
}

static void consume(WireBus *b, size_t n) {
        memmove(b->in.p, b->in.p + n, b->in.n - n);
        b->in.n -= n;
}

/* The server's answers to the authentication: "DATA", "OK <guid>", then AGREE_UNIX_FD or ERROR. */
static int auth_lines(WireBus *b) {
        for (;;) {
                if (b->in.n == 0)
                        return 0;
                uint8_t *nl = memchr(b->in.p, '\n', b->in.n);
                if (!nl)
                        return b->in.n > 1024 ? -EPROTO : 0;
                size_t len = (size_t) (nl - b->in.p) + 1;
                if (len < 2 || nl[-1] != '\r')
                        return -EPROTO;
                bool ok = len >= 4 && memcmp(b->in.p, "OK ", 3) == 0, data = len == 6 && memcmp(b->in.p, "DATA", 4) == 0;
                bool agree = len == 15 && memcmp(b->in.p, "AGREE_UNIX_FD", 13) == 0;
                bool error = len >= 7 && memcmp(b->in.p, "ERROR", 5) == 0;
                bool rejected = len >= 10 && memcmp(b->in.p, "REJECTED", 8) == 0;
                consume(b, len);
                if (rejected)
                        return -EPERM;
                if (ok || data)
                        continue;
                if (agree || error) { /* the last answer: NEGOTIATE_UNIX_FD was the last request */
                        b->unix_fds = agree;
                        b->authenticated = true;
                        return 1;
                }
                return -EPROTO;
        }
}

/* The next message, or 0 when none came before deadline. */
static int next_message(WireBus *b, uint64_t deadline, WireMsg **ret) {
        for (;;) {
                int r;
                if (!b->authenticated) {
                        r = auth_lines(b);
                        if (r < 0)
                                return r;
                }
                if (b->authenticated && b->in.n >= 16) {
                        const uint8_t *p = b->in.p;
                        if ((p[0] != 'l' && p[0] != 'B') || p[3] != 1)
                                return -EBADMSG;
                        bool big = p[0] == 'B';
                        uint64_t body = big ? (uint32_t) p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7]
                                            : (uint32_t) p[7] << 24 | p[6] << 16 | p[5] << 8 | p[4];
                        uint64_t fields = big ? (uint32_t) p[12] << 24 | p[13] << 16 | p[14] << 8 | p[15]
                                              : (uint32_t) p[15] << 24 | p[14] << 16 | p[13] << 8 | p[12];
                        uint64_t total = (16 + fields + 7) / 8 * 8 + body;
                        if (total > MESSAGE_MAX)
                                return -EBADMSG;
                        if (b->in.n >= total) {
                                WireMsg *m;
                                r = msg_parse(b->in.p, total, &m);
                                if (r < 0)
                                        return r;
                                consume(b, total);
                                if (m->n_unix_fds > b->n_in_fds) {
                                        wire_msg_free(m);
                                        return -EBADMSG;
                                }
                                memcpy(m->fds, b->in_fds, m->n_unix_fds * sizeof(int));
                                m->n_fds = m->n_unix_fds;
                                memmove(b->in_fds, b->in_fds + m->n_fds, (b->n_in_fds - m->n_fds) * sizeof(int));
                                b->n_in_fds -= m->n_fds;
                                *ret = m;
                                return 1;
                        }
                }
                r = receive(b, deadline);
                if (r <= 0)
                        return r;
        }
}

static void queue_signal(WireBus *b, WireMsg *m) {
        if (b->n_signals == SIGNALS_MAX) {
                WireMsg *old = b->signals;
                b->signals = old->next;
                wire_msg_free(old);
                b->n_signals--;
                if (!b->signals)
                        b->signals_tail = NULL;
        }
        m->next = NULL;
        if (b->signals_tail)
                b->signals_tail->next = m;
        else
                b->signals = m;
        b->signals_tail = m;
        b->n_signals++;
}

int wire_call(WireBus *b, WireMsg *m, uint64_t timeout_usec, WireMsg **ret_reply, char **ret_error_name,
              char **ret_error_message) {
        static const char auth[] = "\0AUTH EXTERNAL\r\nDATA\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n";
        uint64_t deadline = deadline_of(timeout_usec);
        int r;
        if (m->reading || m->depth != 0)
                return -EINVAL;
        if (!b->auth_sent && m->n_fds) {
                /* fds must not ride on the authentication's bytes: authenticate first. */
                r = send_all(b, auth, sizeof auth - 1, NULL, 0, NULL, 0);
                b->auth_sent = r >= 0;
                while (r >= 0 && !b->authenticated && (r = receive(b, deadline)) > 0)
                        r = auth_lines(b);
                if (r >= 0 && !b->authenticated)
                        r = -ETIMEDOUT;
                if (r < 0)
                        return r;
        }
        if (b->authenticated && m->n_fds && !b->unix_fds)
                return -EOPNOTSUPP;
        m->serial = ++b->serial;
        _cleanup_(wire_msg_freep) WireMsg *h = msg_new();
        if (!h)
                return -ENOMEM;
        r = header_build(m, h);
        if (r < 0)
                return r;
        /* The first call goes with the authentication, in one write: one round trip in all. */
        if (!b->auth_sent) {
                Buf out = {};
                r = buf_put(&out, auth, sizeof auth - 1);
                if (r >= 0)
                        r = buf_put(&out, h->body.p, h->body.n);
                if (r >= 0)
                        r = send_all(b, out.p, out.n, m->body.p, m->body.n, NULL, 0);
                free(out.p);
                b->auth_sent = true;
        } else
                r = send_all(b, h->body.p, h->body.n, m->body.p, m->body.n, m->fds, m->n_fds);
        if (r < 0)
                return r;
        for (;;) {
                WireMsg *reply = NULL;
                r = next_message(b, deadline, &reply);
                if (r == 0)
                        return -ETIMEDOUT;
                if (r < 0)
                        return r;
                if (reply->type == WIRE_SIGNAL) {
                        queue_signal(b, reply);
                        continue;
                }
                if ((reply->type != WIRE_METHOD_RETURN && reply->type != WIRE_ERROR) || reply->reply_serial != m->serial) {
                        wire_msg_free(reply);
                        continue;
                }
                if (reply->type == WIRE_ERROR) {
                        const char *text = NULL;
                        if (reply->signature[0] == 's')
                                (void) wire_read(reply, "s", &text);
                        *ret_error_name = strdup(reply->error_name ? reply->error_name : "org.freedesktop.DBus.Error.Failed");
                        *ret_error_message = strdup(text ? text : "");
                        wire_msg_free(reply);
                        return -EREMOTEIO;
                }
                if (ret_reply)
                        *ret_reply = reply;
                else
                        wire_msg_free(reply);
                return 0;
        }
}

int wire_next_signal(WireBus *b, uint64_t timeout_usec, WireMsg **ret) {
        uint64_t deadline = deadline_of(timeout_usec);
        for (;;) {
                if (b->signals) {
                        WireMsg *m = b->signals;
                        b->signals = m->next;
                        if (!b->signals)
                                b->signals_tail = NULL;
                        b->n_signals--;
                        m->next = NULL;
                        *ret = m;
                        return 1;
                }
                WireMsg *m = NULL;
                int r = next_message(b, deadline, &m);
                if (r <= 0)
                        return r;
                if (m->type == WIRE_SIGNAL)
                        queue_signal(b, m);
                else
                        wire_msg_free(m);
        }
}

int wire_error_errno(const char *name) {
        static const struct {
                const char *name;
                int error;
        } table[] = {
                { "AccessDenied", EACCES },       { "AuthFailed", EACCES },          { "InvalidArgs", EINVAL },
                { "InvalidSignature", EINVAL },   { "InconsistentMessage", EBADMSG }, { "UnknownMethod", EBADR },
                { "UnknownObject", EBADR },       { "UnknownInterface", EBADR },     { "UnknownProperty", ENOENT },
                { "PropertyReadOnly", EROFS },    { "NoMemory", ENOMEM },            { "LimitsExceeded", ENOBUFS },
                { "NotSupported", EOPNOTSUPP },   { "Timeout", ETIMEDOUT },          { "TimedOut", ETIMEDOUT },
                { "NoReply", ETIMEDOUT },         { "Disconnected", ECONNRESET },    { "FileNotFound", ENOENT },
                { "FileExists", EEXIST },         { "IOError", EIO },                { "BadAddress", EADDRNOTAVAIL },
                { "ServiceUnknown", EHOSTUNREACH }, { "InteractiveAuthorizationRequired", EACCES },
        };
        const char *prefix = "org.freedesktop.DBus.Error.";
        if (!name || strncmp(name, prefix, strlen(prefix)) != 0)
                return -EIO;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(name + strlen(prefix), table[i].name))
                        return -table[i].error;
        return -EIO;
}
