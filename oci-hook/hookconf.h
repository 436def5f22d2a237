/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The OCI hook's configuration, the admin's (GKeyFile, /etc/cgdelegate/oci-hook.conf):
 *
 *   [Hook]
 *   AdminSocket=/run/cgdelegate/admin.socket
 *   DefaultPolicy=default
 *   AllowedPolicies=default;small
 *   MountPoint=/run/host/cgdelegate
 *
 * and the choice of a container's policy. Tenants write annotations, so the annotation
 * org.cgdelegate.policy can only pick among the names the admin allowed (DefaultPolicy is always
 * allowed); anything else is refused with a message naming the allowed ones.
 */
#pragma once

#define HOOK_CONFIG_PATH "/etc/cgdelegate/oci-hook.conf"
#define HOOK_POLICY_ANNOTATION "org.cgdelegate.policy"

typedef struct HookConfig {
        char *path;              /* where it was read from, for messages */
        char *admin_socket;
        char *default_policy;
        char **allowed_policies; /* NULL-terminated, DefaultPolicy included */
        char *mount_point;       /* absolute, normalized: "/run/host/cgdelegate" */
} HookConfig;

void hook_config_done(HookConfig *c);

/* Loads path; a missing file at the default path gives the defaults. */
int hook_config_load(const char *path, HookConfig *ret, char **ret_error);

/* The policy for a container whose annotation is annotation (NULL: none): borrowed from c. */
int hook_config_pick_policy(const HookConfig *c, const char *annotation, const char **ret, char **ret_error);
