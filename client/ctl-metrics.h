/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `cgdelegatectl metrics`: the daemon's counters and every container's, in the Prometheus text
 * format (0.0.4) that the node exporter's textfile collector reads, or in OpenMetrics 1.0.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "cgdelegate.h"

/* Writes the metrics of the daemon c is an admin connection to. A container that goes while it
 * is read is left out. Returns 0, or a negative errno of a call that failed (c says why). */
int ctl_metrics_print(FILE *f, cgd_client *c, bool openmetrics);
