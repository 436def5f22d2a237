/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What an OCI hook is told: the container's state (runtime-spec "state", on the hook's stdin)
 * and, from the bundle's config.json, where its root file system is. Parsed with json-c, with
 * the types checked; a message says what is wrong with the input. Pure: no I/O.
 */
#pragma once

#include <sys/types.h>

typedef struct OciState {
        char *id;
        char *status;
        pid_t pid;           /* 0 when the state has none (poststop) */
        char *bundle;
        char **annotations;  /* key, value, ... NULL-terminated; never NULL after a parse */
} OciState;

void oci_state_done(OciState *s);

/* Parses the state JSON; on failure *ret_error (free()) says why. id and bundle are required;
 * pid, when present, must be a positive integer. */
int oci_state_parse(const char *json, OciState *ret, char **ret_error);

/* The hook stage the state's status implies: "createRuntime" for "creating" or "created",
 * "poststop" for "stopped"; NULL for anything else. */
const char *oci_state_stage(const OciState *s);

/* The annotation's value, or NULL. */
const char *oci_state_annotation(const OciState *s, const char *key);

/* root.path of a config.json, made absolute against bundle (the spec allows both). */
int oci_config_rootfs(const char *json, const char *bundle, char **ret_rootfs, char **ret_error);
