/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sockets and connections. Every listening socket and every connection sits in one epoll set of
 * our own, which is a single sd-event source, taken in batches of EPOLL_BATCH events:
 * - sd-bus is never attached to the loop: sd-event runs the prepare callback of every source
 *   that has one on every loop pass, and sd_bus_attach_event() adds one per connection, so each
 *   request would cost O(connections).
 * - Nor is each fd an sd-event io source of its own: while any source is pending, sd-event
 *   polls its epoll set again before each dispatch, and epoll reports every ready
 *   level-triggered fd each time, so n connections ready at once (10,000 clients closing, or
 *   reconnecting after a restart) cost O(n^2): measured, 5,900 closes kept the daemon busy 7 s.
 * Here an idle connection costs nothing until its fd is readable, and each ready one is handled
 * once per batch.
 *
 * Before sd-bus reads a message, the guard peeks at its header and cuts off a connection whose
 * next message is larger than CGD_MESSAGE_SIZE_MAX (sd-bus would allocate up to 128 MiB for it).
 * sd-bus reads exactly one message at a time once authenticated, so after each dispatched message
 * (the filter sees it) the next bytes on the socket are a header. A connection over its
 * container's request rate is not read until tokens return (backpressure, not errors), and one
 * that does not read its replies is cut off when its queue passes CGD_OUTGOING_MAX.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "daemon.h"

#define REFUSAL_LOG_BURST 10 /* log lines a second about refused connections */
#define DISPATCH_BATCH 16        /* sd-bus steps per connection per turn; a message ends the turn */
#define AUTH_PEEK_MAX 1024       /* authentication lines are short */
#define RATE_TICK_USEC 10000     /* how often throttled connections are looked at again */
#define SHORT_HEADER_USEC (5 * 1000000) /* a header must arrive whole within this */

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* ---- the message-size guard ---- */

static uint32_t read_u32(const uint8_t *p, bool little) {
        return little ? (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24
                      : (uint32_t) p[3] | (uint32_t) p[2] << 8 | (uint32_t) p[1] << 16 | (uint32_t) p[0] << 24;
}

#define GUARD_EMPTY 2 /* nothing to read: sd-bus may run for its writes */

/* 1: a whole header is there and the message (*ret_size bytes, may be NULL) is small enough; 0:
 * not enough bytes yet; -EMSGSIZE or -EBADMSG: cut the connection off. */
static int header_check(const uint8_t *h, size_t avail, uint64_t *ret_size) {
        if (avail < 16)
                return 0;
        if (h[0] != 'l' && h[0] != 'B')
                return -EBADMSG;
        bool little = h[0] == 'l';
        uint64_t body = read_u32(h + 4, little), fields = read_u32(h + 12, little);
        uint64_t total = 16 + ((fields + 7) & ~UINT64_C(7)) + body;
        if (ret_size)
                *ret_size = total;
        return total > CGD_MESSAGE_SIZE_MAX ? -EMSGSIZE : 1;
}

/* The size guard. Running, sd-bus reads a message's 16-byte header, then exactly the rest of
 * that message: the guard peeks at each header first (at_boundary), and a message over the limit
 * cuts the connection off before sd-bus allocates for it. While authenticating, sd-bus reads
 * lines in chunks and may take bytes past BEGIN, some of which may have arrived after our peek.
 * So every read sd-bus makes then is measured (SO_PEEK_OFF: a read lowers the peek offset by
 * what it took), and when authentication is done the daemon knows where sd-bus stands: exactly
 * at the first message (the guard goes on at the boundary), inside a first message whose header
 * it saw with BEGIN (the guard resumes after it), or elsewhere (counting: each read of sd-bus is
 * measured, and more than the limit between two dispatched messages cuts the connection off). */
#define PEEK_OFF_BASE (INT32_C(1) << 30)
#define COUNTING_SLACK 4096 /* what sd-bus may have read past the first message while authenticating */

static void measure_start(Conn *c) {
        int off = PEEK_OFF_BASE;
        (void) setsockopt(c->fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off);
}

/* What sd-bus took since measure_start(), added to c->consumed; peeking is normal again. */
static uint64_t measure_end(Conn *c) {
        int off = -1;
        socklen_t len = sizeof off;
        uint64_t took = 0;
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEEK_OFF, &off, &len) >= 0 && off >= 0)
                took = (uint64_t) (PEEK_OFF_BASE - off);
        c->consumed += took;
        off = -1;
        (void) setsockopt(c->fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off);
        return took;
}

/* Authentication is done: where does sd-bus stand in the stream of messages? BEGIN not seen in
 * a peek (it came after ours, with more): somewhere in what its last read took, which its
 * authentication buffer bounds (64 KiB): counting from here on holds what it can keep. */
static void guard_after_auth(Conn *c) {
        bool known = c->begin_end >= 0 && c->consumed >= (uint64_t) c->begin_end;
        uint64_t taken = known ? c->consumed - (uint64_t) c->begin_end : 0;
        c->at_boundary = known && taken == 0;
        c->counting = !known || (taken > 0 && !(c->first_size > 0 && taken <= c->first_size));
        c->consumed = c->counting ? taken : 0;
}

static int guard_auth(Conn *c) {
        uint8_t buf[AUTH_PEEK_MAX];
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN ? GUARD_EMPTY : -errno;
        if (n == 0)
                return 1; /* EOF: let sd-bus see it and close */
        uint8_t *begin = NULL;
        for (uint8_t *p = buf; !begin && (p = memmem(p, (size_t) n - (size_t) (p - buf), "BEGIN\r\n", 7)); p++)
                if (p == buf || p[-1] == '\n') /* a line of its own, not part of another */
                        begin = p;
        if (!begin)
                return 1;
        /* Where the messages start, in the stream (the peek starts at what sd-bus took so far). */
        c->begin_end = (int64_t) (c->consumed + (size_t) (begin + 7 - buf));
        size_t after = (size_t) n - (size_t) (begin + 7 - buf);
        if (after == 0)
                return 1;
        return header_check(begin + 7, after, &c->first_size);
}

/* Counting, the next bytes may be a header or the middle of a message sd-bus holds the start of:
 * what looks like a header (byte order, type, version 1) announcing more than the limit is taken
 * for one, which a well-behaved client's data never looks like. */
static int guard_counting(Conn *c) {
        uint8_t h[16];
        ssize_t n = recv(c->fd, h, sizeof h, MSG_PEEK | MSG_DONTWAIT);
        uint64_t size = 0;
        if (n == (ssize_t) sizeof h && (h[0] == 'l' || h[0] == 'B') && h[1] >= 1 && h[1] <= 4 && h[3] == 1 &&
            header_check(h, sizeof h, &size) == -EMSGSIZE)
                return -EMSGSIZE;
        return 1;
}

static int guard(Conn *c) {
        if (!c->running)
                return guard_auth(c);
        if (c->counting)
                return guard_counting(c);
        if (!c->at_boundary)
                return 1;
        uint8_t h[16];
        ssize_t n = recv(c->fd, h, sizeof h, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN ? GUARD_EMPTY : -errno;
        if (n == 0)
                return 1;
        return header_check(h, (size_t) n, NULL);
}

/* ---- rate ---- */

/* Token bucket per container: RequestRate tokens a second, up to RequestBurst. */
static bool rate_allows(Container *c) {
        if (!c)
                return true;
        if (c->job) /* a slow request of this container is running: its next ones wait */
                return false;
        uint64_t now = now_usec();
        double rate = c->policy->request_rate, burst = c->policy->request_burst;
        c->tokens += (double) (now - c->tokens_at) * rate / 1e6;
        if (c->tokens > burst)
                c->tokens = burst;
        c->tokens_at = now;
        return c->tokens >= 1.0;
}

/* ---- connections ---- */

static void rate_timer_arm(Daemon *d);

static void conn_set_events(Conn *c, uint32_t events) {
        if (events == c->epoll_events)
                return;
        struct epoll_event ev = { .events = events, .data.ptr = c };
        if (epoll_ctl(c->daemon->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) >= 0)
                c->epoll_events = events;
}

void server_set_audit_subscriber(Conn *c, bool on) {
        if (c->audit_subscriber != on)
                c->daemon->n_audit_subscribers += on ? 1 : -1;
        c->audit_subscriber = on;
}

/* Ends a connection at once (out of epoll, socket closed, limits returned, off the lists) but
 * frees it only from the sweep: a caller up the stack may still hold it. A loop over a list that
 * kills takes the next one first. */
static void conn_kill(Conn *c) {
        Daemon *d = c->daemon;
        if (c->dead)
                return;
        c->dead = true;
        server_set_audit_subscriber(c, false);
        (void) epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        LIST_REMOVE(d->conns, c, prev, next);
        if (c->container)
                LIST_REMOVE(c->container->conns, c, cprev, cnext);
        if (c->container && c->events)
                events_conn_gone(c->container); /* the last subscriber: its groups are not watched */
        c->next = d->dead;
        d->dead = c;
        if (c->container)
                c->container->n_conns--;
        if (c->container && c->container->job && c->container->job->conn == c)
                c->container->job->conn = NULL;
        c->container = NULL;
        budget_return_connection(&d->budget);
        /* Never flush: a peer that does not read would block the daemon in poll(). */
        c->bus = sd_bus_close_unref(c->bus); /* closes c->fd */
        (void) sd_event_source_set_enabled(d->sweep_source, SD_EVENT_ONESHOT);
        server_event_changed(d);
}

static int on_sweep(sd_event_source *s, void *userdata) {
        Daemon *d = userdata;
        for (Conn *c = d->dead, *next; c; c = next) {
                next = c->next;
                free(c);
        }
        d->dead = NULL;
        return 0;
}

/* After sd-bus ran: want EPOLLOUT while it has something to write, and cut off a peer that
 * lets its replies pile up. Returns false when the connection was freed. */
static bool conn_update(Conn *c) {
        uint64_t queued = 0;
        if (sd_bus_get_n_queued_write(c->bus, &queued) >= 0 && queued > CGD_OUTGOING_MAX) {
                log_msg(LOG_NOTICE, "cutting off a connection of %s: %" PRIu64 " replies unread",
                        c->container ? c->container->name : "the admin socket", queued);
                conn_kill(c);
                return false;
        }
        int e = sd_bus_get_events(c->bus);
        uint32_t want = 0;
        if (e >= 0 && (e & POLLOUT))
                want |= EPOLLOUT;
        if (!c->pending && rate_allows(c->container))
                want |= EPOLLIN;
        else {
                c->pending = true;
                if (!c->container || !c->container->job)
                        rate_timer_arm(c->daemon);
        }
        conn_set_events(c, want);
        return true;
}

static void conn_dispatch(Conn *c) {
        if (c->dead)
                return;
        c->pending = false;
        for (int i = 0; i < DISPATCH_BATCH; i++) {
                /* Checked before every read, the first one included: a new connection must not
                 * slip one request past the rate or past a job in progress. */
                if (c->container && !rate_allows(c->container)) {
                        c->pending = true; /* not read until tokens return, or its job is done */
                        if (!c->container->job)
                                rate_timer_arm(c->daemon);
                        break;
                }
                int r = guard(c);
                if (r == 0) {
                        /* Part of a header: wait for the rest off epoll (the socket stays readable
                         * and would spin the loop), and cut off a peer that never sends it. */
                        if (!c->short_since)
                                c->short_since = now_usec();
                        if (now_usec() - c->short_since > SHORT_HEADER_USEC)
                                r = -ETIMEDOUT;
                        else {
                                c->pending = true;
                                rate_timer_arm(c->daemon);
                                conn_set_events(c, c->epoll_events & ~EPOLLIN);
                                return;
                        }
                }
                c->short_since = 0;
                /* With nothing to read, sd-bus only runs to write what it has queued; a header
                 * arriving between the peek and its read is caught by measuring that turn. */
                if (r == GUARD_EMPTY && c->started && !(sd_bus_get_events(c->bus) & POLLOUT))
                        break;
                bool write_turn = r == GUARD_EMPTY && c->running && !c->counting;
                if (r == 1 && c->running)
                        c->at_boundary = false; /* sd-bus reads this message now; the filter ends it */
                if (r < 0) {
                        log_msg(LOG_NOTICE, "cutting off a connection of %s: %s",
                                c->container ? c->container->name : "the admin socket",
                                r == -EMSGSIZE ? "message larger than the limit" : strerror(-r));
                        conn_kill(c);
                        return;
                }
                bool was_running = c->running, was_started = c->started,
                     measured = !c->running || c->counting || write_turn;
                if (measured)
                        measure_start(c);
                if (!c->started) {
                        /* Started only now: sd_bus_start() already reads what the peer sent,
                         * and the guard must have seen it first. */
                        c->started = true;
                        r = sd_bus_start(c->bus);
                } else
                        r = sd_bus_process(c->bus, NULL);
                uint64_t took = measured && c->bus ? measure_end(c) : 0;
                /* Counting, a message dispatched: sd-bus reads from the socket only when it lacks
                 * the rest of its current message, and then no further than its end. So if this
                 * call read, it holds nothing more: the guard is at the boundary again. If it did
                 * not, the message came from what it took with the authentication, which may
                 * hold the start of the next one. */
                /* A write turn that read after all: bytes came after the peek, unseen. If they made
                 * no whole message, sd-bus holds the start of one: count from here. */
                if (write_turn && took > 0 && !c->dispatched) {
                        c->counting = true;
                        c->at_boundary = false;
                        c->consumed = took;
                }
                if (c->counting && c->dispatched) {
                        c->consumed = 0;
                        if (took > 0) {
                                c->counting = false;
                                c->at_boundary = true;
                        }
                }
                bool dispatched = c->dispatched;
                c->dispatched = false;
                if (r < 0 || !c->bus || !sd_bus_is_open(c->bus)) {
                        conn_kill(c);
                        return;
                }
                if (!was_running && sd_bus_is_ready(c->bus) > 0) {
                        c->running = true;
                        guard_after_auth(c);
                }
                if (c->counting && c->consumed > CGD_MESSAGE_SIZE_MAX + COUNTING_SLACK) {
                        log_msg(LOG_NOTICE, "cutting off a connection of %s: message larger than the limit",
                                c->container ? c->container->name : "the admin socket");
                        conn_kill(c);
                        return;
                }
                /* Counting, sd-bus holds part of a message and got nothing more: as for part of a
                 * header, wait for the rest off epoll, and cut off a peer that never sends it. */
                if (dispatched)
                        c->partial_since = 0;
                else if (c->counting && c->consumed > 0 && r == 0) {
                        if (!c->partial_since)
                                c->partial_since = now_usec();
                        if (now_usec() - c->partial_since > SHORT_HEADER_USEC) {
                                log_msg(LOG_NOTICE, "cutting off a connection of %s: a message not sent whole",
                                        c->container ? c->container->name : "the admin socket");
                                conn_kill(c);
                                return;
                        }
                        c->pending = true;
                        rate_timer_arm(c->daemon);
                        conn_set_events(c, c->epoll_events & ~EPOLLIN);
                        return;
                }
                /* After the start, go on: the authentication's answer is to be written, and a
                 * call may have come with it (libcgdelegate sends both at once). */
                if (r == 0 && was_started)
                        break;
                /* A message was dispatched, and sd-bus never reads past one: whether another
                 * one is waiting, epoll (level-triggered) says without a peek per call, and the
                 * other connections get their turn in between. */
                if (c->running && c->at_boundary)
                        break;
        }
        (void) conn_update(c);
}

/* The connection's objects, for sd-bus to serve: only for what conn_call() leaves to it. An
 * object vtable costs a connection 2.7 KiB (sd-bus indexes every member per connection), half an
 * idle connection's memory. */
static int conn_add_objects(Conn *c) {
        if (c->objects)
                return 0;
        int r = sd_bus_add_object_vtable(c->bus, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                         bus_hello_vtable, c);
        if (r >= 0)
                r = sd_bus_add_object_vtable(c->bus, NULL, CGD_OBJECT_PATH,
                                             c->container ? CGD_CONTAINER_INTERFACE : CGD_MANAGER_INTERFACE,
                                             c->container ? container_vtable : manager_vtable, c);
        c->objects = r >= 0;
        return r;
}

const uint64_t latency_bounds_usec[LATENCY_BUCKETS] = { 10, 25, 50, 100, 250, 500, 1000, 2500, 10000, 100000 };

/* The time a container's request took in the loop (a slow request's work on the worker is not
 * in it: its submission is). */
static void latency_note(Container *ct, uint64_t usec) {
        size_t i = 0;
        while (i < LATENCY_BUCKETS && usec > latency_bounds_usec[i])
                i++;
        ct->latency[i]++;
        ct->latency_sum_usec += usec;
}

/* A method call of our interfaces, run from their sd_bus_vtable as sd-bus would run it (the
 * handler, then an error reply for an error it returned or set). Anything else (introspection,
 * a signature that does not match, an unknown member, a privileged method whose caller sd-bus
 * would refuse) goes on to sd-bus with the objects added, and gets sd-bus's own answer. */
static int conn_call(Conn *c, sd_bus_message *m) {
        const char *path = sd_bus_message_get_path(m), *iface = sd_bus_message_get_interface(m),
                   *member = sd_bus_message_get_member(m);
        const sd_bus_vtable *vt = NULL;
        if (!path || !iface || !member)
                ;
        else if (streq(path, CGD_OBJECT_PATH) && streq(iface, c->container ? CGD_CONTAINER_INTERFACE : CGD_MANAGER_INTERFACE))
                vt = c->container ? container_vtable : manager_vtable;
        else if (streq(path, "/org/freedesktop/DBus") && streq(iface, "org.freedesktop.DBus"))
                vt = bus_hello_vtable;
        for (; vt && vt->type != _SD_BUS_VTABLE_END; vt++) {
                if (vt->type != _SD_BUS_VTABLE_METHOD || !streq(vt->x.method.member, member))
                        continue;
                if (!sd_bus_message_has_signature(m, vt->x.method.signature) ||
                    (!(vt->flags & SD_BUS_VTABLE_UNPRIVILEGED) && sd_bus_query_sender_privilege(m, -1) <= 0))
                        break;
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                uint64_t start = c->container ? now_usec() : 0;
                int r = vt->x.method.handler(m, c, &error);
                if (c->container)
                        latency_note(c->container, now_usec() - start);
                if (r < 0)
                        (void) sd_bus_reply_method_errno(m, r, &error);
                else if (sd_bus_error_is_set(&error))
                        (void) sd_bus_reply_method_error(m, &error);
                return 1;
        }
        int r = conn_add_objects(c);
        return r < 0 ? r : 0;
}

/* Every message passes here first: it ends the partial-read state, pays for itself, and the
 * host's machine id (sd-bus would answer Peer.GetMachineId itself) is refused. */
static int conn_filter(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Conn *c = userdata;
        c->dispatched = true;
        if (!c->running)
                c->begin_end = -1; /* before the guard took stock (never seen): it counts from here */
        else
                c->at_boundary = !c->counting; /* counting: the next bytes may be inside a message */
        c->daemon->stats.requests++;
        if (c->container) {
                c->container->tokens -= 1.0;
                c->container->requests++;
        }
        if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Peer", "GetMachineId"))
                return sd_bus_reply_method_errorf(m, cgd_error_name(CGD_ERROR_ACCESS_DENIED),
                                                  "GetMachineId is refused: it would reveal the host's machine id");
        if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Peer", NULL))
                return 0; /* Ping: sd-bus answers it without any object */
        return sd_bus_message_is_method_call(m, NULL, NULL) ? conn_call(c, m) : 0;
}

static int conn_setup_bus(Conn *c) {
        sd_id128_t id;
        int r = sd_bus_new(&c->bus);
        if (r >= 0)
                r = sd_bus_set_fd(c->bus, c->fd, c->fd);
        if (r >= 0)
                r = sd_id128_randomize(&id);
        if (r >= 0)
                r = sd_bus_set_server(c->bus, 1, id);
        if (r >= 0)
                r = sd_bus_negotiate_fds(c->bus, true);
        if (r >= 0)
                r = sd_bus_add_filter(c->bus, NULL, conn_filter, c);
        return r;
}

static void listener_ctl(Daemon *d, Listener *l, int op) {
        struct epoll_event ev = { .events = l->throttled ? 0 : EPOLLIN, .data.ptr = l };
        if (l->fd >= 0)
                (void) epoll_ctl(d->epoll_fd, op, l->fd, &ev);
}

/* A container out of tokens is not accepted from: its listener reports nothing until they
 * return (the rate tick), and its clients wait in the kernel's backlog. Each accepted connection
 * costs a token, so connecting in a loop costs the daemon no more than the container's
 * RequestRate, and other containers do not notice. */
static void listener_throttle(Daemon *d, Listener *l, bool on) {
        if (l->throttled == on)
                return;
        l->throttled = on;
        /* Not in the set while a handover drains (ENOENT): server_accept_resume() adds it as it is. */
        listener_ctl(d, l, EPOLL_CTL_MOD);
        if (on) {
                l->throttled_next = d->throttled;
                d->throttled = l;
                rate_timer_arm(d);
                return;
        }
        for (Listener **p = &d->throttled; *p; p = &(*p)->throttled_next)
                if (*p == l) {
                        *p = l->throttled_next;
                        break;
                }
        l->throttled_next = NULL;
}

static int conn_accept(Daemon *d, Listener *l) {
        Container *ct = l->container;
        if (ct && !rate_allows(ct)) {
                listener_throttle(d, l, true);
                return 0;
        }
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE) && d->reserve_fd >= 0) {
                /* Out of fds: the pending connection would keep the listener readable and spin
                 * the loop. Use the reserve fd to take it and close it. */
                d->reserve_fd = safe_close(d->reserve_fd);
                fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                safe_close(fd);
                d->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                log_msg(LOG_WARNING, "out of file descriptors: a connection was refused");
                return 0;
        }
        if (fd < 0)
                return errno == EAGAIN ? 0 : -errno;
        if (ct)
                ct->tokens -= 1.0;
        CgdRefusal refusal = {};
        /* Restarted and not used yet: ready it now. One that ended meanwhile (it goes from the
         * loop) or cannot be served gets the connection closed. */
        if (ct && ct->restore && registry_ready(ct) < 0) {
                safe_close(fd);
                return 0;
        }
        /* Connection limits: a container may not use up the daemon's fds or memory. */
        static LogLimit refusals;
        if (ct && ct->n_conns >= ct->policy->max_connections) {
                if (log_limit(&refusals, REFUSAL_LOG_BURST, "refused connections"))
                        log_msg(LOG_NOTICE, "refusing a connection to %s: MaxConnections=%u of policy '%s' reached",
                                ct->name, ct->policy->max_connections, ct->policy_name);
                safe_close(fd);
                return 1;
        }
        if (budget_take_connection(&d->budget, &refusal) < 0) {
                if (log_limit(&refusals, REFUSAL_LOG_BURST, "refused connections"))
                        log_msg(LOG_NOTICE, "refusing a connection: %s", refusal.message);
                safe_close(fd);
                return 1;
        }
        Conn *c = calloc(1, sizeof(Conn));
        if (!c) {
                budget_return_connection(&d->budget);
                safe_close(fd);
                return -ENOMEM;
        }
        *c = (Conn) { .kind = WATCH_CONN, .daemon = d, .container = ct, .fd = fd, .begin_end = -1 };
        if (ct)
                ct->n_conns++;
        LIST_PREPEND(d->conns, c, prev, next);
        if (ct)
                LIST_PREPEND(ct->conns, c, cprev, cnext);
        d->stats.connections++;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        int r = conn_setup_bus(c);
        if (r >= 0 && epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                r = -errno;
        if (r < 0) {
                if (!c->bus)
                        safe_close(fd);
                conn_kill(c);
                return r;
        }
        c->epoll_events = EPOLLIN;
        return 1;
}

/* ---- the loop ----
 *
 * Our epoll set is the outer one: every listener and connection is in it, and so is sd-event's
 * own fd (signals, timers, the worker's eventfd, leaders' pidfds, all in sd-event's epoll set).
 * A request then costs one epoll_wait, where sd_event_loop() around our set cost two and
 * sd_event_prepare()'s own syscall. sd-event is run when its fd is readable, and prepared again
 * after any change to its sources made outside its callbacks (server_event_changed): its timers
 * are armed, and its defer sources found, only by sd_event_prepare(). While it has something
 * pending, our set is polled without waiting, so that connections and sd-event take turns.
 * (Each connection being an sd-event source instead is O(n^2) in ready connections: sd-event
 * polls its set before every dispatch.) */

#define EPOLL_BATCH 64
#define RESTORE_BATCH 64         /* containers made ready per idle turn of the loop after a restart, */
#define RESTORE_BUDGET_USEC 1000 /* and at most this long: a client that connects meanwhile waits no more */

void server_event_changed(Daemon *d) {
        d->event_due = true;
}

/* One step of sd-event: collect what its fd reported, dispatch one source, or arm it to wait.
 * Returns > 0 while it has more to do, 0 when it waits on its fd, < 0 on error. */
static int event_step(Daemon *d) {
        sd_event *e = d->event;
        int r = 0;
        if (sd_event_get_state(e) == SD_EVENT_ARMED)
                r = sd_event_wait(e, 0); /* to PENDING (> 0) or back to INITIAL */
        if (r == 0 && sd_event_get_state(e) == SD_EVENT_INITIAL)
                r = sd_event_prepare(e); /* to PENDING (> 0) or ARMED */
        if (r <= 0)
                return r;
        r = sd_event_dispatch(e);
        return r < 0 ? r : 1; /* INITIAL again: prepare next turn, a callback may have changed it */
}

/* One batch of ready fds, each handled once; the level-triggered set reports again what is
 * still ready. Handling one may free a listener (a container unregistered) that a later event of
 * the batch points at: that ends the batch (epoll_stale). A killed connection stays allocated
 * until the sweep. */
static void handle_batch(Daemon *d, struct epoll_event *evs, int n) {
        d->epoll_stale = false;
        for (int i = 0; i < n && !d->epoll_stale; i++) {
                WatchKind *kind = evs[i].data.ptr;
                if (*kind == WATCH_EVENT)
                        d->event_due = true;
                else if (*kind == WATCH_LISTENER) {
                        Listener *l = (Listener *) kind;
                        for (int k = 0; k < 64 && !d->epoll_stale && conn_accept(d, l) > 0; k++)
                                ;
                } else
                        conn_dispatch((Conn *) kind);
        }
}

/* Runs until sd_event_exit(); returns its exit code. */
int server_loop(Daemon *d) {
        struct epoll_event evs[EPOLL_BATCH];
        d->event_due = true;
        while (sd_event_get_state(d->event) != SD_EVENT_FINISHED) {
                bool busy = false;
                if (d->event_due) {
                        d->event_due = false;
                        int r = event_step(d);
                        if (r < 0)
                                return r;
                        busy = d->event_due = r > 0;
                }
                if (sd_event_get_state(d->event) == SD_EVENT_FINISHED)
                        break;
                int n = epoll_wait(d->epoll_fd, evs, EPOLL_BATCH, busy || d->restore_wanted ? 0 : -1);
                if (n < 0 && errno != EINTR)
                        return -errno;
                handle_batch(d, evs, n);
                /* An idle turn: below every request, ready restored containers that nobody
                 * used yet (a container in use is made ready by its first connection). */
                if (n == 0 && !busy && d->restore_wanted)
                        d->restore_wanted = registry_restore_some(d, RESTORE_BATCH, RESTORE_BUDGET_USEC);
        }
        int code = 0;
        (void) sd_event_get_exit_code(d->event, &code);
        return code;
}

static int on_rate_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        for (Conn *c = d->conns, *next; c; c = next) {
                next = c->next;
                if (c->dead || !c->pending || (c->container && c->container->job))
                        continue; /* a container with a job is resumed when the job is done */
                if (rate_allows(c->container))
                        conn_dispatch(c);
        }
        for (Listener *l = d->throttled, *next; l; l = next) {
                next = l->throttled_next;
                if (rate_allows(l->container))
                        listener_throttle(d, l, false);
        }
        /* Look again whoever still waits, including those the dispatch above made wait again
         * (their rate_timer_arm() would otherwise be undone here). */
        bool again = d->throttled;
        for (Conn *c = d->conns; c && !again; c = c->next)
                again = !c->dead && c->pending && !(c->container && c->container->job);
        (void) sd_event_source_set_time_relative(s, RATE_TICK_USEC);
        (void) sd_event_source_set_enabled(s, again ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
        return 0;
}

static void rate_timer_arm(Daemon *d) {
        int enabled = SD_EVENT_OFF;
        (void) sd_event_source_get_enabled(d->rate_timer, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;
        (void) sd_event_source_set_time_relative(d->rate_timer, RATE_TICK_USEC);
        (void) sd_event_source_set_enabled(d->rate_timer, SD_EVENT_ONESHOT);
        server_event_changed(d);
}

void server_wake_restore(Daemon *d) {
        d->restore_wanted = true;
}

int server_init(Daemon *d) {
        d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        d->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (d->epoll_fd < 0)
                return -errno;
        d->event_watch = WATCH_EVENT;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->event_watch };
        if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, sd_event_get_fd(d->event), &ev) < 0)
                return -errno;
        int r = sd_event_add_defer(d->event, &d->sweep_source, on_sweep, d);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->sweep_source, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time_relative(d->event, &d->rate_timer, CLOCK_MONOTONIC, RATE_TICK_USEC, 1000,
                                               on_rate_tick, d);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->rate_timer, SD_EVENT_OFF);
        return r;
}

void server_done(Daemon *d) {
        server_close_all(d);
        (void) on_sweep(NULL, d);
        d->sweep_source = sd_event_source_disable_unref(d->sweep_source);
        d->reserve_fd = safe_close(d->reserve_fd);
        d->rate_timer = sd_event_source_disable_unref(d->rate_timer);
        d->epoll_fd = safe_close(d->epoll_fd);
}

/* A container's job finished: read its connections again. */
void server_resume_container(Daemon *d, Container *ct) {
        for (Conn *c = ct->conns, *next; c; c = next) {
                next = c->cnext;
                if (c->pending)
                        conn_dispatch(c);
                else
                        (void) conn_update(c);
        }
}

void server_close_container_conns(Daemon *d, Container *ct) {
        for (Conn *c = ct->conns, *next; c; c = next) {
                next = c->cnext;
                conn_kill(c);
        }
}

/* Every live connection ends now (a handover past its deadline; long-lived clients reconnect). */
void server_close_all(Daemon *d) {
        for (Conn *c = d->conns, *next; c; c = next) {
                next = c->next;
                conn_kill(c);
        }
}

size_t server_n_conns(Daemon *d) {
        size_t n = 0;
        for (Conn *c = d->conns; c; c = c->next)
                n++;
        return n;
}

/* In the middle of something: authenticating, a message partly read or waiting to be read, a
 * reply not yet written, or its container's job running. An idle connection (a subscriber, the
 * bridge between two requests) is none of these and need not hold up a restart. */
static bool conn_busy(Conn *c) {
        int unread = 0;
        uint64_t queued = 0;
        if (c->dead)
                return false;
        return !c->running || (c->counting ? c->consumed > 0 : !c->at_boundary) || c->pending ||
               (c->container && c->container->job) ||
               (ioctl(c->fd, FIONREAD, &unread) >= 0 && unread > 0) ||
               (sd_bus_get_n_queued_write(c->bus, &queued) >= 0 && queued > 0);
}

size_t server_n_busy_conns(Daemon *d) {
        size_t n = 0;
        for (Conn *c = d->conns; c; c = c->next)
                n += conn_busy(c);
        return n;
}

/* ---- listening sockets ---- */

/* Not accepting leaves new connections in the sockets' backlogs, to be answered later. */
static void listeners_ctl(Daemon *d, int op) {
        GHashTableIter it;
        gpointer v;
        listener_ctl(d, &d->admin, op);
        g_hash_table_iter_init(&it, d->containers);
        while (g_hash_table_iter_next(&it, NULL, &v))
                listener_ctl(d, &((Container *) v)->listener, op);
}

void server_accept_pause(Daemon *d) {
        listeners_ctl(d, EPOLL_CTL_DEL);
}

void server_accept_resume(Daemon *d) {
        listeners_ctl(d, EPOLL_CTL_ADD);
}

int server_adopt(Daemon *d, Listener *l, int fd) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
        /* While draining for a handover, a new listener waits too: its clients are the next
         * process's (or server_accept_resume()'s). */
        if (!d->handover && epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return -errno;
        l->kind = WATCH_LISTENER;
        l->fd = fd;
        return 0;
}

int server_listen(Daemon *d, Listener *l, int dir_fd, const char *name, uid_t uid, gid_t gid, mode_t mode) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        /* Bound through the directory fd: the path cannot be redirected by a rename or symlink. */
        int len = snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dir_fd, name);
        if (len < 0 || (size_t) len >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) unlinkat(dir_fd, name, 0);
        int r = 0;
        /* The mode before the owner: once it is the container's, root would need CAP_FOWNER. */
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, SOMAXCONN) < 0 ||
            fchmodat(dir_fd, name, mode, 0) < 0 || fchownat(dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                r = -errno;
        if (r >= 0)
                r = server_adopt(d, l, fd);
        if (r < 0)
                safe_close(fd);
        return r;
}

void server_unlisten(Daemon *d, Listener *l) {
        listener_throttle(d, l, false);
        if (l->fd < 0)
                return;
        (void) epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, l->fd, NULL);
        l->fd = safe_close(l->fd);
        d->epoll_stale = true;
}

void server_emit_event(Container *ct, uint32_t event, const char *member, const char *types, ...) {
        for (Conn *c = ct->conns, *next; c; c = next) {
                next = c->cnext;
                if (c->dead || !(c->events & event))
                        continue;
                va_list ap;
                va_start(ap, types);
                int r = sd_bus_emit_signalv(c->bus, CGD_OBJECT_PATH, CGD_CONTAINER_INTERFACE, member, types, ap);
                va_end(ap);
                if (r < 0)
                        conn_kill(c);
                else
                        (void) conn_update(c);
        }
}

int server_emit_audit(Daemon *d, const char *container, const char *op, const char *path, const char *detail,
                      const char *result) {
        if (d->n_audit_subscribers == 0)
                return 0; /* a request must not cost a walk over every connection */
        for (Conn *c = d->conns, *next; c; c = next) {
                next = c->next;
                if (c->dead || !c->audit_subscriber)
                        continue;
                if (sd_bus_emit_signal(c->bus, CGD_OBJECT_PATH, CGD_MANAGER_INTERFACE, "Audit", "sssss", container,
                                       op, path, detail, result) < 0) {
                        conn_kill(c);
                        continue;
                }
                (void) conn_update(c);
        }
        return 0;
}
