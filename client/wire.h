/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The D-Bus wire protocol, client side, peer to peer, as much of it as libcgdelegate needs: the
 * EXTERNAL authentication (pipelined with the first call), method calls with their replies and
 * errors, signals, unix fds, and the type system (every basic type, arrays, structs, dict
 * entries, variants), in little-endian out and either byte order in.
 *
 * Why not sd-bus: a program linking libsystemd loads seven shared libraries at start, which on
 * these machines costs more than the whole call (docs/performance.md); libcgdelegate's clients
 * (cgdelegatectl, cgdelegate-exec, the OCI hook) are short-lived processes.
 *
 * The message API follows sd-bus's where libcgdelegate used it, so the callers read the same:
 * wire_append()/wire_read() take a signature of basic types and structs of them, reading returns
 * 0 at the end of the array being read, containers are opened and entered with their contents'
 * signature. Strings read stay owned by the message.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct WireBus WireBus;
typedef struct WireMsg WireMsg;

enum { WIRE_METHOD_CALL = 1, WIRE_METHOD_RETURN = 2, WIRE_ERROR = 3, WIRE_SIGNAL = 4 };

/* Connects to the socket at path; authentication completes with the first call. */
int wire_bus_open(const char *path, WireBus **ret);
WireBus *wire_bus_close(WireBus *b);
int wire_bus_fd(const WireBus *b);

int wire_msg_new_call(const char *path, const char *interface, const char *member, WireMsg **ret);
WireMsg *wire_msg_free(WireMsg *m);
void wire_msg_freep(WireMsg **m);
int wire_msg_type(const WireMsg *m);
const char *wire_msg_interface(const WireMsg *m);
const char *wire_msg_member(const WireMsg *m);
bool wire_msg_is_signal(const WireMsg *m, const char *interface, const char *member);

/* Sends m and waits up to timeout_usec for its reply. An error reply returns -EREMOTEIO with
 * *ret_error_name and *ret_error_message (malloc'ed) set. Signals that arrive meanwhile are
 * queued for wire_next_signal(). */
int wire_call(WireBus *b, WireMsg *m, uint64_t timeout_usec, WireMsg **ret_reply, char **ret_error_name,
              char **ret_error_message);
/* The next signal: 1 and *ret, or 0 when none came within timeout_usec (0: only what the
 * socket already holds; UINT64_MAX: wait for one). */
int wire_next_signal(WireBus *b, uint64_t timeout_usec, WireMsg **ret);

/* Building: basic types ('y' 'b' 'n' 'q' 'i' 'u' 'x' 't' 'd' as int/uint32_t/int64_t/uint64_t/
 * double as C passes them, 's' 'o' 'g' as const char *, 'h' as an fd, duplicated) and structs of
 * them, "(ss)". */
int wire_append(WireMsg *m, const char *types, ...);
int wire_append_strv(WireMsg *m, char **l);
int wire_open(WireMsg *m, char type, const char *contents); /* 'a', '(' or 'r', '{' or 'e', 'v' */
int wire_close(WireMsg *m);

/* Reading: 1 when read, 0 at the end of the array being read (or of the body). */
int wire_read(WireMsg *m, const char *types, ...);
int wire_read_strv(WireMsg *m, char ***ret);
/* An array of fixed-size basic type: a pointer into the message and its size in bytes. */
int wire_read_array(WireMsg *m, char type, const void **ret, size_t *ret_size);
int wire_enter(WireMsg *m, char type, const char *contents);
int wire_exit(WireMsg *m);
/* The next value's type and, for a container, its contents' signature. */
int wire_peek(WireMsg *m, char *ret_type, const char **ret_contents);
int wire_skip(WireMsg *m);

/* The errno a D-Bus error name stands for (org.freedesktop.DBus.Error.*), -EIO otherwise. */
int wire_error_errno(const char *name);
