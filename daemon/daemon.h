/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's shared types: the daemon itself, a registered container, a client connection.
 * Ownership: the Daemon owns containers (by name) and connections; a Container owns its tree, its
 * listening socket and its pid namespace; a connection belongs to one listener.
 */
#pragma once

#include <glib.h>
#include <poll.h>
#include <syslog.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "apply.h"
#include "cghost.h"
#include "cgtree.h"
#include "error.h"
#include "policy.h"
#include "proc.h"

#define CGD_OBJECT_PATH "/org/cgdelegate"
#define CGD_CONTAINER_INTERFACE "org.cgdelegate.Container1"
#define CGD_MANAGER_INTERFACE "org.cgdelegate.Manager1"
#define CGD_MESSAGE_SIZE_MAX (64U * 1024U)   /* larger requests are cut off before sd-bus reads them */
#define CGD_OUTGOING_MAX 128U                /* queued replies/signals before a peer is cut off */
#define CGD_NAME_MAX 64U                     /* container names */

typedef struct Daemon Daemon;
typedef struct Container Container;
typedef struct Conn Conn;
typedef struct Job Job;

/* A slow request, run by the worker thread (worker.c). */
struct Job {
        Container *container;
        Conn *conn;                 /* NULL once the connection is gone */
        sd_bus_message *message;    /* the call, to reply to */
        int (*run)(Job *j);         /* on the worker thread: cgroupfs only */
        void (*finish)(Job *j);     /* on the loop: reply and audit */
        int result;
        CgdRefusal refusal;
        void *data;                 /* what run() needs, freed by finish() */
        Job *next;
};

typedef enum ListenerKind { LISTENER_ADMIN, LISTENER_CONTAINER } ListenerKind;

/* What an event of the daemon's epoll set points at (server.c): a listener, a connection, or
 * sd-event's own fd. */
typedef enum WatchKind { WATCH_LISTENER, WATCH_CONN, WATCH_EVENT } WatchKind;

typedef struct Listener {
        WatchKind kind;          /* WATCH_LISTENER, first: epoll data points here */
        ListenerKind type;
        int fd;                  /* in the epoll set unless a handover drains */
        Container *container;    /* NULL for the admin socket */
        bool throttled;          /* its container is out of tokens: not accepted from */
        struct Listener *throttled_next; /* Daemon.throttled */
} Listener;

struct Conn {
        WatchKind kind;       /* WATCH_CONN, first */
        Daemon *daemon;
        Container *container; /* NULL: admin */
        sd_bus *bus;
        int fd;
        uint32_t epoll_events; /* what the epoll set waits for on fd */
        bool at_boundary;     /* sd-bus holds no partial message: the next bytes are a header */
        bool counting;        /* sd-bus may hold a message whose header the guard did not see: its
                               * reads are counted instead (server.c, "the size guard") */
        uint64_t consumed;    /* bytes sd-bus took: during authentication, or counting, since the
                               * last message it dispatched */
        int64_t begin_end;    /* stream offset just past the authentication's BEGIN, -1 unknown */
        uint64_t first_size;  /* size of the first message, when its header was seen with BEGIN */
        bool dispatched;      /* the filter saw a message during the current sd-bus call */
        bool started;         /* sd_bus_start() was called */
        bool running;         /* authentication done */
        bool audit_subscriber;
        uint32_t events;      /* EVENT_* it subscribed to (a container's connection) */
        bool objects;         /* sd-bus has the object vtables (server.c: conn_add_objects()) */
        bool pending;         /* waiting: rate, a job, or the rest of a header */
        bool dead;            /* closed; freed by the sweep */
        uint64_t short_since; /* when a partial header was first seen */
        uint64_t partial_since; /* counting: when sd-bus was first seen holding part of a message */
        Conn *next, *prev;    /* the daemon's live connections; next: the dead ones, once dead */
        Conn *cnext, *cprev;  /* its container's connections */
};

/* A container's requests by the time the loop spent on each (server.c, conn_call()): the
 * histogram GetContainer reports and `cgdelegatectl metrics` prints. */
#define LATENCY_BUCKETS 10
extern const uint64_t latency_bounds_usec[LATENCY_BUCKETS];

/* Events a connection subscribed to (events.c), and the kinds of MemoryEvent. */
#define EVENT_GROUP_EMPTY (UINT32_C(1) << 0)
#define EVENT_MEMORY (UINT32_C(1) << 1)
typedef enum MemEvent { MEM_EVENT_HIGH, MEM_EVENT_MAX, MEM_EVENT_OOM, MEM_EVENT_OOM_KILL, _MEM_EVENT_MAX } MemEvent;
typedef struct Watch Watch;

typedef struct Restore Restore;

struct Container {
        Daemon *daemon;
        char *name;
        char *cgroup;           /* host path of the root, the same in every hierarchy */
        char *policy_name;
        const Policy *policy;   /* owned by the daemon's policy table */
        CgTree *tree;
        uint32_t own_mask;      /* hierarchies the container manages itself: never move there */
        bool created_root;      /* the daemon made the root (Create=true): it removes it when the
                                 * container ends */
        char *unit;             /* the systemd unit whose cgroup the root is (sdunit.c), or NULL */
        PidNs pidns;            /* fixed by the leader; fd -EBADF until a leader is known */
        pid_t leader;           /* host pid of the leader, 0 until known */
        int leader_pidfd;       /* pins the leader; readable when it exits */
        sd_event_source *leader_source;
        uid_t socket_uid;
        gid_t socket_gid;
        Listener listener;
        unsigned n_conns;
        Conn *conns;            /* its live connections */
        unsigned groups;        /* groups below the root held against the daemon-wide budget */
        double tokens;          /* request rate: token bucket */
        uint64_t tokens_at;     /* CLOCK_MONOTONIC usec of the last refill */
        uint64_t requests, refusals;
        uint64_t refused[_CGD_ERROR_MAX]; /* refusals by error */
        uint64_t latency[LATENCY_BUCKETS + 1]; /* requests by time in the loop: <= latency_bounds_usec[i], then more */
        uint64_t latency_sum_usec;
        Job *job;               /* a slow request in progress: the container is not read meanwhile */
        Restore *restore;       /* restarted, not used yet: tree, leader and count wait (registry.c) */
        const char *end_reason; /* it ended while a job ran: unregister when the job is done */
        Watch *watches;         /* its groups, watched for events (events.c) */
        bool watch_all;         /* all of them (a connection subscribed), not only RemoveOnEmpty ones */
        bool unwatch_check;     /* a subscriber went: events.c looks whether any is left */
};

typedef struct Stats {
        uint64_t requests;
        uint64_t refusals[_CGD_ERROR_MAX];
        uint64_t connections; /* accepted, ever */
} Stats;

struct Daemon {
        sd_event *event;
        CgHost *host;
        char *cgroup_root, *runtime_dir, *state_dir;
        char **policy_dirs;       /* searched in order */
        GHashTable *policies;     /* name -> Policy* */
        GHashTable *containers;   /* name -> Container* */
        Listener admin;
        int epoll_fd;             /* every listener and connection, and sd-event's fd (server.c) */
        bool epoll_stale;         /* a listener went: the batch of events in hand may point at it */
        WatchKind event_watch;    /* WATCH_EVENT: the epoll data of sd-event's fd */
        bool event_due;           /* sd-event must be prepared again (server_loop) */
        sd_event_source *sweep_source, *rate_timer, *worker_source;
        unsigned n_audit_subscribers; /* Audit signals are built only when someone listens */
        unsigned n_restoring;     /* containers with a Restore pending */
        unsigned n_restore_failed; /* of those, the ones that could not be made ready yet */
        bool restore_wanted;      /* restored containers wait to be made ready on idle turns */
        int reserve_fd;           /* given up to refuse a connection when out of fds */
        Conn *conns, *dead;       /* live connections; killed ones until the sweep frees them */
        Listener *throttled;      /* listeners not accepted from until their tokens return */
        int inotify_fd;           /* events.c: cgroup.events and memory.events of watched groups */
        sd_event_source *inotify_source, *unwatch_source;
        GHashTable *watches;      /* inotify wd -> Watch */
        Budget budget;
        Stats stats;
        int runtime_fd, containers_fd, state_fd;
        bool handover;              /* re-executing or stopping: not accepting, draining */
        bool handover_exit;         /* stopping, not re-executing */
        uint64_t handover_deadline; /* CLOCK_MONOTONIC usec: then open connections are closed */
        bool foreground;
};

/* server.c: sockets, connections, message guard, dispatch. */
int server_init(Daemon *d);
int server_loop(Daemon *d);
void server_event_changed(Daemon *d);
void server_done(Daemon *d);
int server_listen(Daemon *d, Listener *l, int dir_fd, const char *name, uid_t uid, gid_t gid, mode_t mode);
/* server.c: handovers (handover.c) */
void server_accept_pause(Daemon *d);
void server_accept_resume(Daemon *d);
void server_close_all(Daemon *d);
size_t server_n_conns(Daemon *d);
size_t server_n_busy_conns(Daemon *d);

/* handover.c: listening sockets that outlive the process (systemd's fd store, or a re-exec on
 * SIGUSR2 without systemd). handover_init() takes the fds passed in (before anything else). */
void handover_init(int argc, char *argv[]);
int handover_take_admin(void);
int handover_take_container(const char *container);
void handover_close_unclaimed(void);
void handover_store(const Container *c);
void handover_unstore(const Container *c);
/* Stops accepting, lets open connections finish, then re-executes (or, with exit, ends the
 * event loop). */
int handover_begin(Daemon *d, bool exit);

/* caps.c: keeps only the capabilities the daemon needs after setup (before any thread), clears
 * the ambient set, sets no_new_privs. */
int caps_drop(void);

/* A listening socket made elsewhere (socket activation): made non-blocking and watched. */
int server_adopt(Daemon *d, Listener *l, int fd);
void server_unlisten(Daemon *d, Listener *l);
void server_set_audit_subscriber(Conn *c, bool on);
void server_wake_restore(Daemon *d);
void server_close_container_conns(Daemon *d, Container *c);
int server_emit_audit(Daemon *d, const char *container, const char *op, const char *path, const char *detail,
                      const char *result);

/* worker.c */
int worker_init(Daemon *d);
void worker_done(Daemon *d);
void worker_submit(Job *j);
void server_resume_container(Daemon *d, Container *c);
/* A signal of Container1 to every connection of ct subscribed to event (EVENT_*); one that
 * cannot take it, or lets too much pile up, is cut off. */
void server_emit_event(Container *ct, uint32_t event, const char *member, const char *types, ...);

/* events.c */
int events_init(Daemon *d);
void events_done(Daemon *d);
int events_subscribe(Conn *conn, char **names, CgdRefusal *r);
int events_group_made(Container *c, const char *rel, bool remove_on_empty, CgdRefusal *r);
char **events_remove_on_empty(const Container *c);
void events_restore(Container *c, char **remove_on_empty);
void events_forget_unwanted(Container *c);
void events_conn_gone(Container *c);
void events_container_gone(Container *c);

/* bus-common.c: what both interfaces share. */
typedef enum BusOption {
        OPT_REMOVE_ON_EMPTY, /* b */
        OPT_CREATE,          /* b */
        OPT_LEADER,          /* u */
        OPT_LEADER_FD,       /* h */
        OPT_PROPERTIES,      /* a(ss) */
        OPT_SOCKET_UID,      /* u */
        OPT_SOCKET_GID,      /* u */
        OPT_REMOVE_CGROUP,   /* b */
        OPT_ALLOW_BELOW_USAGE, /* b */
        OPT_ALLOW_MIGRATE,   /* b */
        _OPT_MAX,
} BusOption;
#define OPT(o) (UINT32_C(1) << (o))
#define BUS_PROPERTIES_MAX 64

typedef struct BusOptions {
        uint32_t set;         /* OPT() bits present */
        bool flag[_OPT_MAX];  /* b options */
        uint32_t u[_OPT_MAX]; /* u options */
        int leader_fd;        /* h, dup'ed; -EBADF */
        size_t n_props;
        const char *props[BUS_PROPERTIES_MAX][2]; /* into the message */
} BusOptions;

extern const sd_bus_vtable bus_hello_vtable[];
int bus_refuse(sd_bus_message *m, Conn *c, const CgdRefusal *r);
int bus_read_options(sd_bus_message *m, uint32_t allowed, BusOptions *ret, CgdRefusal *r);
void bus_options_done(BusOptions *o);
void bus_pairs_describe(const char *pairs[][2], size_t n, char *buf, size_t size);
ApplyFlags bus_apply_flags(const BusOptions *o);
int bus_read_pairs(sd_bus_message *m, const char *ret[static BUS_PROPERTIES_MAX][2], size_t *ret_n, CgdRefusal *r);
int bus_parse_values(const char *pairs[][2], size_t n, const Policy *p, const char *path, unsigned depth,
                     KnobValue **ret, CgdRefusal *r);
int bus_reply_properties(sd_bus_message *m, Conn *conn, CgTree *t, const char *rel, char **keys, uint32_t allowed);
int bus_check_path(const char *path, unsigned max_depth, const char **ret_rel, unsigned *ret_depth, CgdRefusal *r);

/* bus-container.c, bus-manager.c */
extern const sd_bus_vtable container_vtable[];
int bus_reply_groups(sd_bus_message *m, Container *c, const char *path, const char *rel, bool recursive, CgdRefusal *r);
int bus_reply_processes(sd_bus_message *m, Container *c, const char *path, const char *rel, bool recursive,
                        bool host_pids, CgdRefusal *r);
extern const sd_bus_vtable manager_vtable[];

/* registry.c */
Container *registry_find(Daemon *d, const char *name);
int registry_register(Daemon *d, const char *name, const char *cgroup, const char *policy, BusOptions *opts,
                      Container **ret, CgdRefusal *r);
int registry_set_leader(Container *c, pid_t pid, int pidfd, CgdRefusal *r);
int registry_unregister(Daemon *d, Container *c, bool remove_cgroup, CgdRefusal *r);
int registry_load_all(Daemon *d);
int registry_ready(Container *c);
bool registry_restore_some(Daemon *d, unsigned max, uint64_t budget_usec); /* max 0: all, no budget */
int registry_save(Container *c);
void registry_free_all(Daemon *d);
uint32_t registry_move_mask(const Container *c);
int registry_check_alive(Daemon *d);
void registry_container_ended(Container *c, const char *why);
unsigned registry_count_groups(Container *c);
bool registry_group_exists(Container *c, const char *rel);

/* sdunit.c */
/* 1 and *ret_unit when cgroup is a loaded systemd unit's own group with Delegate=yes, 0 when it
 * is no unit's; a unit without Delegate=yes is refused. */
int sdunit_detect(const char *cgroup, char **ret_unit, CgdRefusal *r);
/* apply_properties(), except that values for the root of a container that is a systemd unit go
 * through systemd's SetUnitProperties. */
int sdunit_apply(Container *c, const char *rel, const KnobValue *values, size_t n, ApplyFlags flags, CgdRefusal *r);

/* policies.c */
int policies_load(Daemon *d, char **ret_error);
const Policy *policies_get(Daemon *d, const char *name);

/* audit.c */
void audit_log(Daemon *d, const Container *c, const char *op, const char *path, const char *detail, int result,
               const CgdRefusal *r);
void log_msg(int prio, const char *fmt, ...) _printf_(2, 3);
/* A log line a client can cause as often as it likes: at most burst a second; the rest are
 * counted, and the count is logged with the first line of the next second that has one. */
typedef struct LogLimit {
        time_t window;
        unsigned n, dropped;
} LogLimit;
bool log_limit(LogLimit *l, unsigned burst, const char *what);
/* Logs at LOG_ERR and returns r (negative errno), for "return log_errno(r, ...)". */
int log_errno(int r, const char *fmt, ...) _printf_(2, 3);
int log_set_level(const char *s);
