/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * client/wire.c against sd-bus itself: a thread serves a real sd-bus server connection on a
 * socket in a temporary directory and echoes each call's body back (sd_bus_message_copy), so
 * every value wire.c writes must parse in sd-bus and come back intact through wire.c's reader.
 * Errors, signals and fd passing go through the same server; a raw server sends what sd-bus
 * never would: a rejection, garbage, an oversized header, silence.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>

#include "testutil.h"
#include "wire.h"

#define CALL_TIMEOUT (5 * 1000 * 1000ULL)

typedef struct Server {
        char *dir, path[256];
        int lfd;
        pthread_t thread;
        const char *raw; /* NULL: sd-bus echo server; else these bytes after the auth lines */
        size_t raw_len;
} Server;

static int on_call(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        if (!sd_bus_message_is_method_call(m, "org.test.Wire", NULL))
                return 0;
        sd_bus *bus = sd_bus_message_get_bus(m);
        const char *member = sd_bus_message_get_member(m);
        if (streq(member, "Fail"))
                return sd_bus_reply_method_errorf(m, "org.freedesktop.DBus.Error.InvalidArgs", "bad %s", "things");
        if (streq(member, "Signal"))
                (void) sd_bus_emit_signal(bus, "/org/test", "org.test.Wire", "Ping", "s", "hello");
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_rewind(m, true);
        if (r >= 0)
                r = sd_bus_message_copy(reply, m, true);
        if (r >= 0)
                r = sd_bus_send(bus, reply, NULL);
        return r < 0 ? r : 1;
}

static void *serve(void *arg) {
        Server *s = arg;
        int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return NULL;
        if (s->raw) {
                char buf[4096];
                (void) !read(fd, buf, sizeof buf);
                (void) !write(fd, s->raw, s->raw_len);
                (void) !read(fd, buf, sizeof buf); /* until the client goes */
                close(fd);
                return NULL;
        }
        sd_bus *bus = NULL;
        sd_id128_t id;
        (void) sd_id128_randomize(&id);
        if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fd, fd) < 0 || sd_bus_set_server(bus, 1, id) < 0 ||
            sd_bus_negotiate_fds(bus, true) < 0 || sd_bus_add_filter(bus, NULL, on_call, NULL) < 0 || sd_bus_start(bus) < 0)
                return NULL;
        for (;;) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0 || !sd_bus_is_open(bus))
                        break;
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        break;
        }
        sd_bus_flush_close_unref(bus);
        return NULL;
}

static Server *server_start(const char *raw, size_t raw_len) {
        Server *s = calloc(1, sizeof *s);
        assert_non_null(s);
        s->dir = test_tmpdir();
        s->raw = raw;
        s->raw_len = raw_len;
        snprintf(s->path, sizeof s->path, "%s/socket", s->dir);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, s->path);
        s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->lfd >= 0);
        assert_int_equal(bind(s->lfd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(s->lfd, 4), 0);
        assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
        return s;
}

static void server_stop(Server *s) {
        pthread_join(s->thread, NULL);
        close(s->lfd);
        test_rm_rf(s->dir);
        free(s->dir);
        free(s);
}

static WireBus *connect_to(Server *s) {
        WireBus *b = NULL;
        assert_int_equal(wire_bus_open(s->path, &b), 0);
        return b;
}

/* Calls member with m's body and returns the echo. */
static WireMsg *echo(WireBus *b, WireMsg *m) {
        WireMsg *reply = NULL;
        char *name = NULL, *message = NULL;
        int r = wire_call(b, m, CALL_TIMEOUT, &reply, &name, &message);
        if (r < 0)
                fail_msg("call: %s: %s %s", strerror(-r), name ? name : "", message ? message : "");
        return reply;
}

static WireMsg *call_new(const char *member) {
        WireMsg *m = NULL;
        assert_int_equal(wire_msg_new_call("/org/test", "org.test.Wire", member, &m), 0);
        return m;
}

static void test_basic_types_round_trip(void **state) {
        Server *s = server_start(NULL, 0);
        WireBus *b = connect_to(s);
        _cleanup_(wire_msg_freep) WireMsg *m = call_new("Echo"), *r = NULL;
        assert_int_equal(wire_append(m, "ybnqiuxtdsog", 200, 1, -12345, 54321, -2000000000, 4000000000U,
                                     (int64_t) -5000000000LL, (uint64_t) 18000000000000000000ULL, 2.5, "text",
                                     "/a/b", "a{sv}"), 0);
        r = echo(b, m);
        uint8_t y;
        int bo;
        int16_t n;
        uint16_t q;
        int32_t i;
        uint32_t u;
        int64_t x;
        uint64_t t;
        double d;
        const char *str, *o, *g;
        assert_int_equal(wire_read(r, "ybnqiuxtdsog", &y, &bo, &n, &q, &i, &u, &x, &t, &d, &str, &o, &g), 1);
        assert_int_equal(y, 200);
        assert_int_equal(bo, 1);
        assert_int_equal(n, -12345);
        assert_int_equal(q, 54321);
        assert_int_equal(i, -2000000000);
        assert_int_equal(u, 4000000000U);
        assert_true(x == -5000000000LL);
        assert_true(t == 18000000000000000000ULL);
        assert_true(d == 2.5);
        assert_string_equal(str, "text");
        assert_string_equal(o, "/a/b");
        assert_string_equal(g, "a{sv}");
        assert_int_equal(wire_read(r, "s", &str), 0); /* the end of the body */
        wire_bus_close(b);
        server_stop(s);
}

/* The shapes libcgdelegate sends and reads: a{sv} with variants of several types (an empty
 * array among them), a(ss), a(sss), au. */
static void test_containers_round_trip(void **state) {
        Server *s = server_start(NULL, 0);
        WireBus *b = connect_to(s);
        _cleanup_(wire_msg_freep) WireMsg *m = call_new("Echo"), *r = NULL;
        char *strv[] = { "one", "two", NULL }, *none[] = { NULL };
        assert_int_equal(wire_append(m, "s", "/path"), 0);
        assert_int_equal(wire_open(m, 'a', "{sv}"), 0);
        const char *keys[] = { "S", "U", "B", "AS", "EMPTY", "PROPS" };
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                const char *sig = k == 0 ? "s" : k == 1 ? "u" : k == 2 ? "b" : k < 5 ? "as" : "a(ss)";
                assert_int_equal(wire_open(m, 'e', "sv"), 0);
                assert_int_equal(wire_append(m, "s", keys[k]), 0);
                assert_int_equal(wire_open(m, 'v', sig), 0);
                if (k == 0)
                        assert_int_equal(wire_append(m, "s", "value"), 0);
                else if (k == 1)
                        assert_int_equal(wire_append(m, "u", 7U), 0);
                else if (k == 2)
                        assert_int_equal(wire_append(m, "b", 1), 0);
                else if (k < 5)
                        assert_int_equal(wire_append_strv(m, k == 3 ? strv : none), 0);
                else {
                        assert_int_equal(wire_open(m, 'a', "(ss)"), 0);
                        assert_int_equal(wire_append(m, "(ss)", "pids.max", "10"), 0);
                        assert_int_equal(wire_append(m, "(ss)", "memory.max", "1G"), 0);
                        assert_int_equal(wire_close(m), 0);
                }
                assert_int_equal(wire_close(m), 0);
                assert_int_equal(wire_close(m), 0);
        }
        assert_int_equal(wire_close(m), 0);
        assert_int_equal(wire_open(m, 'a', "(sss)"), 0);
        assert_int_equal(wire_append(m, "(sss)", "a", "b", "c"), 0);
        assert_int_equal(wire_close(m), 0);
        assert_int_equal(wire_open(m, 'a', "u"), 0);
        for (uint32_t p = 1; p <= 3; p++)
                assert_int_equal(wire_append(m, "u", p * 100), 0);
        assert_int_equal(wire_close(m), 0);
        assert_int_equal(wire_append(m, "t", (uint64_t) 42), 0);
        r = echo(b, m);

        const char *str, *key, *contents, *k2, *v2, *c3;
        char type;
        assert_int_equal(wire_read(r, "s", &str), 1);
        assert_string_equal(str, "/path");
        assert_int_equal(wire_peek(r, &type, &contents), 1);
        assert_int_equal(type, 'a');
        assert_string_equal(contents, "{sv}");
        assert_int_equal(wire_enter(r, 'a', "{sv}"), 1);
        size_t seen = 0;
        while (wire_enter(r, 'e', "sv") > 0) {
                assert_int_equal(wire_read(r, "s", &key), 1);
                assert_string_equal(key, keys[seen]);
                assert_int_equal(wire_peek(r, &type, &contents), 1);
                assert_int_equal(type, 'v');
                assert_int_equal(wire_enter(r, 'v', contents), 1);
                if (seen == 0) {
                        assert_int_equal(wire_read(r, "s", &str), 1);
                        assert_string_equal(str, "value");
                } else if (seen == 1) {
                        uint32_t u;
                        assert_int_equal(wire_read(r, "u", &u), 1);
                        assert_int_equal(u, 7);
                } else if (seen == 2)
                        assert_int_equal(wire_skip(r), 1);
                else if (seen < 5) {
                        char **l = NULL;
                        assert_int_equal(wire_read_strv(r, &l), 1);
                        assert_int_equal(l[0] ? 1 : 0, seen == 3);
                        if (seen == 3) {
                                assert_string_equal(l[0], "one");
                                assert_string_equal(l[1], "two");
                                assert_null(l[2]);
                        }
                        for (char **i = l; *i; i++)
                                free(*i);
                        free(l);
                } else {
                        assert_int_equal(wire_enter(r, 'a', "(ss)"), 1);
                        assert_int_equal(wire_read(r, "(ss)", &k2, &v2), 1);
                        assert_string_equal(k2, "pids.max");
                        assert_int_equal(wire_read(r, "(ss)", &k2, &v2), 1);
                        assert_string_equal(v2, "1G");
                        assert_int_equal(wire_read(r, "(ss)", &k2, &v2), 0); /* end of the array */
                        assert_int_equal(wire_exit(r), 0);
                }
                assert_int_equal(wire_exit(r), 0);
                assert_int_equal(wire_exit(r), 0);
                seen++;
        }
        assert_int_equal(seen, ELEMENTSOF(keys));
        assert_int_equal(wire_exit(r), 0);
        assert_int_equal(wire_enter(r, 'a', "(sss)"), 1);
        assert_int_equal(wire_read(r, "(sss)", &k2, &v2, &c3), 1);
        assert_string_equal(c3, "c");
        assert_int_equal(wire_exit(r), 0);
        const uint32_t *pids;
        size_t size;
        assert_int_equal(wire_read_array(r, 'u', (const void **) &pids, &size), 1);
        assert_int_equal(size, 3 * sizeof(uint32_t));
        assert_int_equal(pids[2], 300);
        uint64_t t;
        assert_int_equal(wire_read(r, "t", &t), 1);
        assert_true(t == 42);
        /* The end of the body. */
        assert_int_equal(wire_read(r, "s", &str), 0);
        wire_bus_close(b);
        server_stop(s);
}

static void test_fd_passing(void **state) {
        Server *s = server_start(NULL, 0);
        WireBus *b = connect_to(s);
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        _cleanup_(wire_msg_freep) WireMsg *m = call_new("Echo"), *r = NULL;
        assert_int_equal(wire_append(m, "sh", "fd", p[0]), 0);
        r = echo(b, m);
        const char *str;
        int fd = -1;
        assert_int_equal(wire_read(r, "sh", &str, &fd), 1);
        struct stat a, c;
        assert_int_equal(fstat(p[0], &a), 0);
        assert_int_equal(fstat(fd, &c), 0);
        assert_true(a.st_ino == c.st_ino && fd != p[0]); /* the same pipe, come back as a new fd */
        close(p[0]);
        close(p[1]);
        wire_bus_close(b);
        server_stop(s);
}

static void test_error_and_signal(void **state) {
        Server *s = server_start(NULL, 0);
        WireBus *b = connect_to(s);
        _cleanup_(wire_msg_freep) WireMsg *m = call_new("Fail"), *sig = call_new("Signal"), *r = NULL, *ping = NULL;
        _cleanup_free_ char *name = NULL, *message = NULL;
        assert_int_equal(wire_call(b, m, CALL_TIMEOUT, &r, &name, &message), -EREMOTEIO);
        assert_string_equal(name, "org.freedesktop.DBus.Error.InvalidArgs");
        assert_string_equal(message, "bad things");
        assert_int_equal(wire_error_errno(name), -EINVAL);
        assert_int_equal(wire_error_errno("org.cgdelegate.Error.Busy"), -EIO);
        /* The signal comes before the reply: queued, then taken. */
        r = echo(b, sig);
        assert_int_equal(wire_next_signal(b, 0, &ping), 1);
        assert_true(wire_msg_is_signal(ping, "org.test.Wire", "Ping"));
        const char *str;
        assert_int_equal(wire_read(ping, "s", &str), 1);
        assert_string_equal(str, "hello");
        WireMsg *none = NULL;
        assert_int_equal(wire_next_signal(b, 10000, &none), 0);
        wire_bus_close(b);
        server_stop(s);
}

static int raw_call(const char *raw, size_t len, uint64_t timeout) {
        Server *s = server_start(raw, len);
        WireBus *b = connect_to(s);
        _cleanup_(wire_msg_freep) WireMsg *m = call_new("Echo"), *r = NULL;
        _cleanup_free_ char *name = NULL, *message = NULL;
        int k = wire_call(b, m, timeout, &r, &name, &message);
        wire_bus_close(b);
        server_stop(s);
        return k;
}

#define AUTH_OK "DATA\r\nOK 0123456789abcdef0123456789abcdef\r\nAGREE_UNIX_FD\r\n"

static void test_hostile_servers(void **state) {
        static const char rejected[] = "REJECTED EXTERNAL\r\n";
        assert_int_equal(raw_call(rejected, sizeof rejected - 1, CALL_TIMEOUT), -EPERM);
        static const char garbage[] = AUTH_OK "xyzw0123456789abcdef";
        assert_int_equal(raw_call(garbage, sizeof garbage - 1, CALL_TIMEOUT), -EBADMSG);
        /* A reply that claims a 4 GiB body: refused from its header, nothing allocated for it. */
        static const char huge[] = AUTH_OK "l\2\1\1\377\377\377\377\1\0\0\0\0\0\0\0";
        assert_int_equal(raw_call(huge, sizeof huge - 1, CALL_TIMEOUT), -EBADMSG);
        /* A body signature that is no complete type ("("): refused before anything reads it. */
        static const char badsig[] = AUTH_OK "l\2\1\1\0\0\0\0\1\0\0\0\7\0\0\0\10\1g\0\1(\0\0";
        assert_int_equal(raw_call(badsig, sizeof badsig - 1, CALL_TIMEOUT), -EBADMSG);
        static const char line[] = "nonsense without an end";
        assert_int_equal(raw_call(line, sizeof line - 1, 200000), -ETIMEDOUT);
        static const char silent[] = AUTH_OK;
        assert_int_equal(raw_call(silent, sizeof silent - 1, 200000), -ETIMEDOUT);
}

static void test_builder_refuses(void **state) {
        _cleanup_(wire_msg_freep) WireMsg *m = call_new("Echo");
        assert_int_equal(wire_open(m, 'a', "{s"), -EINVAL);
        assert_int_equal(wire_open(m, 'v', "ss"), -EINVAL);
        assert_int_equal(wire_append(m, "z", 1), -EINVAL);
        assert_int_equal(wire_close(m), -EINVAL); /* nothing open */
        assert_int_equal(wire_enter(m, 'a', "s"), -EINVAL); /* a message being built is not read */
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_types_round_trip),
        cmocka_unit_test(test_containers_round_trip),
        cmocka_unit_test(test_fd_passing),
        cmocka_unit_test(test_error_and_signal),
        cmocka_unit_test(test_hostile_servers),
        cmocka_unit_test(test_builder_refuses),
};

TEST_MAIN(tests, NULL, NULL)
