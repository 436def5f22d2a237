/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI hook's configuration and the choice of a policy (see hookconf.h). */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hookconf.h"
#include "hookmsg.h"
#include "macro.h"
#include "policy.h"

void hook_config_done(HookConfig *c) {
        free(c->path);
        free(c->admin_socket);
        free(c->default_policy);
        strv_free(c->allowed_policies);
        free(c->mount_point);
        *c = (HookConfig) {};
}

/* "/run/host/cgdelegate": absolute, no empty, "." or ".." component, no trailing slash. The
 * hook makes each component inside the container's root: nothing may lead out of it. */
static bool mount_point_valid(const char *p) {
        if (p[0] != '/' || strlen(p) > 1024)
                return false;
        for (const char *c = p + 1;; c += strcspn(c, "/") + 1) {
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (!c[n])
                        return true;
        }
}

static char *get_or(GKeyFile *kf, const char *key, const char *fallback) {
        gchar *v = g_key_file_get_string(kf, "Hook", key, NULL);
        char *r = strdup(v ? v : fallback);
        g_free(v);
        return r;
}

static int fill(GKeyFile *kf, const char *path, HookConfig *c, char **ret_error) {
        c->path = strdup(path);
        c->admin_socket = get_or(kf, "AdminSocket", "/run/cgdelegate/admin.socket");
        c->default_policy = get_or(kf, "DefaultPolicy", "default");
        c->mount_point = get_or(kf, "MountPoint", "/run/host/cgdelegate");
        if (!c->path || !c->admin_socket || !c->default_policy || !c->mount_point)
                return -ENOMEM;
        if (!mount_point_valid(c->mount_point))
                return hook_fail(ret_error, "%s: MountPoint=%s is not an absolute, normalized path", path, c->mount_point);
        if (!policy_name_is_valid(c->default_policy))
                return hook_fail(ret_error, "%s: DefaultPolicy=%s is not a policy name", path, c->default_policy);
        gsize n = 0;
        gchar **allowed = g_key_file_get_string_list(kf, "Hook", "AllowedPolicies", &n, NULL);
        size_t k = 0;
        c->allowed_policies = calloc(n + 2, sizeof(char *));
        if (!c->allowed_policies) {
                g_strfreev(allowed);
                return -ENOMEM;
        }
        c->allowed_policies[k++] = strdup(c->default_policy);
        int r = 0;
        for (gsize i = 0; i < n && r >= 0; i++) {
                if (!policy_name_is_valid(allowed[i]))
                        r = hook_fail(ret_error, "%s: AllowedPolicies= names '%s', which is not a policy name", path, allowed[i]);
                else if (!streq(allowed[i], c->default_policy))
                        c->allowed_policies[k++] = strdup(allowed[i]);
        }
        g_strfreev(allowed);
        for (size_t i = 0; r >= 0 && i < k; i++)
                if (!c->allowed_policies[i])
                        r = -ENOMEM;
        return r;
}

int hook_config_load(const char *path, HookConfig *ret, char **ret_error) {
        GKeyFile *kf = g_key_file_new();
        GError *e = NULL;
        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e)) {
                bool optional = g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT) && streq(path, HOOK_CONFIG_PATH);
                int r = optional ? 0 : hook_fail(ret_error, "cannot read %s: %s", path, e->message);
                g_error_free(e);
                if (r < 0) {
                        g_key_file_free(kf);
                        return r;
                }
        }
        HookConfig c = {};
        int r = fill(kf, path, &c, ret_error);
        g_key_file_free(kf);
        if (r < 0) {
                hook_config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

int hook_config_pick_policy(const HookConfig *c, const char *annotation, const char **ret, char **ret_error) {
        if (!annotation) {
                *ret = c->default_policy;
                return 0;
        }
        for (char **p = c->allowed_policies; *p; p++)
                if (streq(*p, annotation)) {
                        *ret = *p;
                        return 0;
                }
        gchar *names = g_strjoinv(", ", c->allowed_policies);
        int r = hook_fail(ret_error, "annotation %s=%.80s names a policy this host does not let containers pick "
                                "(allowed: %s; AllowedPolicies= in %s)", HOOK_POLICY_ANNOTATION, annotation, names,
                     c->path);
        g_free(names);
        return r;
}
