/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policies: what a container may do. A policy is a GKeyFile (POLICY_DIR/NAME.conf, format in
 * docs/policy.md); keys a file leaves out take the built-in default's value. The policy is an
 * allowlist over the property table (knob.h); whatever a file says, keys outside the table
 * (cgroup.*, release_agent, notify_on_release, devices.*, cpuset.cpus.partition, io.cost.*) can
 * never be allowed. This module parses and decides; it never touches cgroupfs.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "knob.h"

#define POLICY_DEVICES_MAX 64
#define POLICY_FILE_MAX (64U * 1024U)
#define POLICY_NAME_MAX 64U

typedef struct Policy {
        char *name;
        uint32_t allowed;             /* KNOB_MASK bits a container may set on its descendants */
        size_t n_devices;
        struct { unsigned major, minor; } devices[POLICY_DEVICES_MAX]; /* AllowedDevices */
        unsigned max_depth;           /* MaxDepth: components below the container root */
        unsigned max_groups;          /* MaxGroups: groups below the container root */
        bool allow_root_writes;       /* AllowRootWrites: properties on the container root */
        bool allow_create;            /* AllowCreate: CreateGroup / RemoveGroup */
        bool allow_freeze;            /* AllowFreeze: Freeze / Thaw */
        bool allow_kill;              /* AllowKill */
        bool allow_move;              /* AllowMove: MoveProcess / MoveProcessFD */
        unsigned request_rate;        /* RequestRate: requests per second */
        unsigned request_burst;       /* RequestBurst */
        unsigned max_connections;     /* MaxConnections */
        uint32_t has_ceiling;         /* KNOB_MASK bits with a [Ceilings] entry */
        KnobValue ceilings[_KNOB_MAX]; /* by KnobId; io.max's slot is unused, see below */
        size_t n_io_ceilings;         /* io.max ceilings, one per device: "io.max=8:0 rbps=N;8:16 ..." */
        KnobValue io_ceilings[POLICY_DEVICES_MAX];
} Policy;

/* The built-in "default": every property allowed on descendants, no ceiling, no root writes,
 * create/remove/move/freeze/thaw/kill allowed, MaxDepth=16, MaxGroups=64, MaxConnections=16,
 * RequestRate=1000, RequestBurst=2000. */
const Policy *policy_builtin_default(void);

/* Parses a policy file's text. name is the policy's name (the file name without ".conf"; see
 * policy_name_is_valid()); base (NULL: the built-in) supplies every key the text leaves out. On
 * error returns -EINVAL (-ENOMEM) and *ret_error is "FILE:LINE: reason" (malloc'ed; LINE 0 when
 * no line applies), naming the key and value at fault. Unknown groups and keys are errors, not
 * ignored: a typo must not silently loosen or tighten a policy. Duplicate keys are errors too. */
int policy_parse(const char *text, size_t size, const char *file, const char *name, const Policy *base,
                 Policy **ret, char **ret_error);

/* Reads DIR/NAME.conf through policy_parse() (base NULL: the built-in default). The file is opened
 * without following a symlink and must be a regular file of at most POLICY_FILE_MAX bytes, owned
 * by root or the daemon's user and not writable by others. Returns 0 when the file was read, and
 * 1 when name is "default", the file does not exist and *ret is a copy of the built-in (a caller
 * with a search path tries the next directory first). Failures: -ENOENT (another policy's file
 * does not exist), -ELOOP (a symlink), -EPERM (owner or mode), -EFBIG, -EINVAL (not a regular
 * file, a bad name, or policy_parse()'s), and *ret_error is set on every one. */
int policy_load(const char *dir, const char *name, const Policy *base, Policy **ret, char **ret_error);

/* 1..POLICY_NAME_MAX characters of [A-Za-z0-9_.-], not starting with '.': a name is a file name
 * below the policy directory and must never reach outside it. */
bool policy_name_is_valid(const char *name);

Policy *policy_free(Policy *p);
void policy_freep(Policy **p);
Policy *policy_copy(const Policy *p);

/* Decisions. Each returns 0 when allowed, else a negative errno with *ret_refusal saying which
 * rule of which policy refused (e.g. "memory.max=16G on /app exceeds the ceiling 8G of policy
 * 'web'"). path is the container-relative group path as the client wrote it. */
int policy_check_property(const Policy *p, const char *path, unsigned depth, const KnobValue *v,
                          const char *value_text, CgdRefusal *ret_refusal);
/* depth: components below the container root (0 is the root itself). */
int policy_check_depth(const Policy *p, const char *path, unsigned depth, CgdRefusal *ret_refusal);
/* Whether one more group may be created in a container that has existing groups below its root. */
int policy_check_groups(const Policy *p, unsigned existing, CgdRefusal *ret_refusal);

typedef enum PolicyAction {
        POLICY_ACTION_CREATE,
        POLICY_ACTION_REMOVE,
        POLICY_ACTION_MOVE,
        POLICY_ACTION_FREEZE,
        POLICY_ACTION_KILL,
        _POLICY_ACTION_MAX,
        _POLICY_ACTION_INVALID = -EINVAL,
} PolicyAction;
int policy_check_action(const Policy *p, PolicyAction a, const char *path, CgdRefusal *ret_refusal);

/* A daemon-wide budget beside the per-container ones: total groups and connections across every
 * container (on v1 each memory group costs one of the kernel's 65535 memory cgroup ids). */
typedef struct Budget {
        unsigned max_groups, groups;
        unsigned max_connections, connections;
} Budget;
/* Takes all n or nothing (QuotaExceeded). A maximum of 0 allows nothing: a Budget left zeroed
 * fails closed. Returning more than was taken clamps at 0. */
int budget_take_groups(Budget *b, unsigned n, CgdRefusal *ret_refusal);
void budget_return_groups(Budget *b, unsigned n);
int budget_take_connection(Budget *b, CgdRefusal *ret_refusal);
void budget_return_connection(Budget *b);
