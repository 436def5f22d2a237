/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-wire: client/wire.c, libcgdelegate's own D-Bus reader, facing a hostile daemon. The input
 * is everything the server side of the connection says: the authentication answers ("DATA",
 * "OK <guid>", "AGREE_UNIX_FD") and then messages in either byte order. A listening socket in a
 * temporary directory (made once, removed at exit) takes the client's connection; the input is
 * written to the accepted end, whose writing side is then shut, so the client reads it, then end
 * of file, and never waits for more. Up to two calls are made, as cgdelegatectl would make them;
 * each reply, error and queued signal is then read to its end with the generic reader (peek,
 * enter, read, exit, skip, the array and string-list readers), the way a caller that trusted its
 * signature would. Whatever the bytes, nothing may read outside the message, leak, or hang.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fuzz-util.h"
#include "macro.h"
#include "wire.h"

#define CALL_TIMEOUT (2 * 1000 * 1000ULL) /* only ever reached if the reader ignored end of file */

static char socket_dir[64], socket_path[128];
static int listen_fd = -EBADF;

static void server_remove(void) {
        (void) unlink(socket_path);
        (void) rmdir(socket_dir);
}

static void server_setup(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *tmp = getenv("TMPDIR");

        if (listen_fd >= 0)
                return;
        FUZZ_CHECK(snprintf(socket_dir, sizeof socket_dir, "%s/cgd-fuzz-wire.XXXXXX", tmp && *tmp ? tmp : "/tmp") <
                   (int) sizeof socket_dir, "TMPDIR is too long");
        FUZZ_CHECK(mkdtemp(socket_dir), "mkdtemp(%s): %m", socket_dir);
        snprintf(socket_path, sizeof socket_path, "%s/socket", socket_dir);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", socket_path);
        atexit(server_remove);
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        FUZZ_CHECK(listen_fd >= 0 && bind(listen_fd, (struct sockaddr *) &sa, sizeof sa) == 0 && listen(listen_fd, 4) == 0,
                   "listening on %s: %m", socket_path);
}

/* Reads what is left of the current container; every third container is skipped whole instead. */
typedef struct Walk {
        unsigned containers;
} Walk;

static int walk(WireMsg *m, Walk *w);

static bool fixed_type(const char *contents) {
        return contents[0] && !contents[1] && strchr("ybnqiuxtdh", contents[0]);
}

static int walk_container(WireMsg *m, Walk *w, char type, const char *peeked) {
        char contents[256];
        int r;

        snprintf(contents, sizeof contents, "%s", peeked); /* the next peek overwrites it */
        if (++w->containers % 3 == 0)
                return wire_skip(m);
        if (type == 'a' && fixed_type(contents)) {
                const void *p;
                size_t n;

                r = wire_read_array(m, contents[0], &p, &n);
                if (r != -EPROTONOSUPPORT)
                        return r;
        }
        if (type == 'a' && streq(contents, "s")) {
                char **l = NULL;

                r = wire_read_strv(m, &l);
                if (r > 0)
                        FUZZ_CHECK(l, "wire_read_strv() returned no list");
                strv_free(l);
                return r;
        }
        r = wire_enter(m, type, contents);
        if (r <= 0)
                return r;
        r = walk(m, w);
        if (r < 0)
                return r;
        return wire_exit(m) < 0 ? -EBADMSG : 1;
}

/* 0 at the end of the current container, or the first error. */
static int walk(WireMsg *m, Walk *w) {
        for (;;) {
                union {
                        uint8_t y;
                        int b, h;
                        int16_t n;
                        uint16_t q;
                        int32_t i;
                        uint32_t u;
                        uint64_t t;
                        double d;
                        const char *s;
                } v = {};
                const char *contents = NULL;
                char type, types[2] = {};
                int r = wire_peek(m, &type, &contents);

                if (r <= 0)
                        return r;
                FUZZ_CHECK(contents, "wire_peek() gave no contents");
                if (strchr("arev", type))
                        r = walk_container(m, w, type, contents);
                else {
                        types[0] = type;
                        r = wire_read(m, types, &v);
                        if (r > 0 && strchr("sog", type))
                                FUZZ_CHECK(v.s && strlen(v.s) < 128 * 1024 * 1024, "a string of type %c", type);
                }
                FUZZ_CHECK(r != 0, "wire_peek() saw a '%c' that reading did not find", type);
                if (r < 0)
                        return r;
        }
}

static void read_message(WireMsg *m) {
        Walk w = {};

        (void) wire_msg_type(m);
        (void) wire_msg_interface(m);
        (void) wire_msg_member(m);
        (void) wire_msg_is_signal(m, "org.cgdelegate.Container1", NULL);
        /* Past the end a reader is told so, again and again. */
        if (walk(m, &w) == 0)
                FUZZ_CHECK(wire_peek(m, NULL, NULL) == 0 && wire_skip(m) == 0, "a value after the end");
}

/* One call as cgdelegatectl makes it: 0 a reply, -EREMOTEIO an error reply, else the call failed. */
static int call(WireBus *b, const char *member) {
        _cleanup_(wire_msg_freep) WireMsg *m = NULL, *reply = NULL;
        _cleanup_free_ char *name = NULL, *message = NULL;
        char *keys[] = { (char *) "memory.max", (char *) "pids.max", NULL };
        int r;

        FUZZ_CHECK(wire_msg_new_call("/org/cgdelegate", "org.cgdelegate.Container1", member, &m) == 0, "new call");
        FUZZ_CHECK(wire_append(m, "s", "/app") >= 0 && wire_append_strv(m, keys) >= 0, "append");
        r = wire_call(b, m, CALL_TIMEOUT, &reply, &name, &message);
        FUZZ_CHECK(r != -ETIMEDOUT, "the call waited for bytes after the end of the stream");
        if (r == -EREMOTEIO) {
                FUZZ_CHECK(name && message, "an error reply without name or message");
                (void) wire_error_errno(name);
        } else if (r >= 0) {
                FUZZ_CHECK(reply, "no reply");
                read_message(reply);
        }
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int server = -EBADF;
        WireBus *b = NULL;
        WireMsg *signal = NULL;
        int r;

        server_setup();
        FUZZ_CHECK(wire_bus_open(socket_path, &b) == 0, "connecting to %s", socket_path);
        server = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        FUZZ_CHECK(server >= 0, "accept: %m");
        /* The socket buffer holds far more than -max_len: this never blocks. */
        FUZZ_CHECK(size == 0 || write(server, data, size) == (ssize_t) size, "write: %m");
        FUZZ_CHECK(shutdown(server, SHUT_WR) == 0, "shutdown: %m");

        r = call(b, "GetProperties");
        if (r == 0 || r == -EREMOTEIO)
                (void) call(b, "ListGroups");
        while (wire_next_signal(b, 0, &signal) > 0) {
                read_message(signal);
                signal = wire_msg_free(signal);
        }
        wire_bus_close(b);
        return 0;
}
