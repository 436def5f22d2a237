/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which unit files may carry resource settings, read from the files themselves. After a
 * daemon-reload the bridge must see every unit with settings before it starts, including units
 * systemd has not loaded. Asking systemd for them is slow: ListUnitFiles computes every file's
 * enablement state, and loading hundreds of vendor units (LoadUnit) to find the few with settings
 * kept a PID 1 on a slow file system busy for minutes, unable to answer anyone. So the unit
 * directories are read here, and a unit is loaded only when its unit file,
 * or one of the drop-ins systemd would read for it, names a resource setting the bridge applies,
 * or holds the bridge's own drop-in (which must be removed when the settings are gone). The test
 * is conservative: a commented-out setting still counts; nothing with a setting is missed.
 */
#pragma once

#include <stdbool.h>

/* Whether the text of a unit file or drop-in assigns one of the settings the bridge applies
 * (MemoryMax=, CPUQuota=, TasksMax=, ...), in any section. */
bool unitscan_text_has_settings(const char *text);

/* The service units (not templates, not masked) found in systemd's system unit directories below
 * root ("" for /) that may have settings, each once, at the path systemd loads it from (the first
 * directory in its search order): NULL-terminated names in *ret_names (strv_free()). */
int unitscan_services(const char *root, const char *dropin_name, char ***ret_names);

/* Whether unit name, whose unit file is at fragment_path (may be NULL), may have settings of its
 * own: its unit file, or a drop-in in any of systemd's system unit directories below root
 * ("" for /) for the unit, its '-' prefixes or its type (service.d), names one, or the bridge's
 * own drop-in dropin_name is there. */
bool unitscan_unit_may_have_settings(const char *root, const char *name, const char *fragment_path,
                                     const char *dropin_name);
