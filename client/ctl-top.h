/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `cgdelegatectl top`: every group of one container, or of every container on the admin socket,
 * with live CPU, memory, tasks and I/O, refreshed like systemd-cgtop. Rates are the difference
 * of two readings divided by the time between them, so the first table comes after one delay.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgdelegate.h"

typedef enum TopOrder { TOP_ORDER_CPU, TOP_ORDER_MEMORY, TOP_ORDER_TASKS, TOP_ORDER_IO, TOP_ORDER_PATH } TopOrder;

typedef struct TopOptions {
        unsigned iterations;  /* 0: until interrupted */
        uint64_t delay_usec;
        bool batch;           /* no screen clearing: tables one after another */
        bool json;            /* a JSON array per iteration */
        bool legend;
        TopOrder order;
} TopOptions;

/* "cpu", "memory", "tasks", "io", "path"; -EINVAL for another word. */
int top_order_from_string(const char *s);

/* Runs top over container name's groups below path (name NULL: c's own container, or on an admin
 * connection every container from "/"). Returns 0, or a negative errno of a call that failed
 * (c says why). */
int ctl_top_run(cgd_client *c, const char *name, const char *path, const TopOptions *o);
