/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI state and config.json, read with json-c (see ocistate.h). */
#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hookmsg.h"
#include "macro.h"
#include "ocistate.h"

#define JSON_DEPTH_MAX 64

static void json_putp(json_object **o) {
        json_object_put(*o);
}

/* The whole text as one JSON object, or a message with json-c's reason. */
static int parse_object(const char *json, const char *what, json_object **ret, char **ret_error) {
        json_tokener *tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        size_t len = strlen(json);
        json_object *o = json_tokener_parse_ex(tok, json, (int) len);
        enum json_tokener_error e = json_tokener_get_error(tok);
        size_t used = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!o || e != json_tokener_success) {
                json_object_put(o);
                return hook_fail(ret_error, "%s is not valid JSON: %s", what,
                            e == json_tokener_continue ? "it ends too early" : json_tokener_error_desc(e));
        }
        if (json + used + strspn(json + used, " \t\r\n") != json + len || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return hook_fail(ret_error, "%s is not one JSON object", what);
        }
        *ret = o;
        return 0;
}

/* A string member: 0 and *ret (borrowed) when present, -ENOENT when absent, else a message. */
static int get_string(json_object *o, const char *key, const char *what, const char **ret, char **ret_error) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return -ENOENT;
        if (!json_object_is_type(v, json_type_string))
                return hook_fail(ret_error, "%s: \"%s\" is not a string", what, key);
        const char *s = json_object_get_string(v);
        if (strlen(s) != (size_t) json_object_get_string_len(v))
                return hook_fail(ret_error, "%s: \"%s\" holds a NUL byte", what, key);
        *ret = s;
        return 0;
}

static int parse_annotations(json_object *o, OciState *s, char **ret_error) {
        json_object *a;
        size_t n = 0;
        if (!json_object_object_get_ex(o, "annotations", &a) || json_object_is_type(a, json_type_null))
                return 0;
        if (!json_object_is_type(a, json_type_object))
                return hook_fail(ret_error, "the state: \"annotations\" is not an object");
        json_object_object_foreach(a, key, value) {
                if (!json_object_is_type(value, json_type_string))
                        return hook_fail(ret_error, "the state: annotation \"%.100s\" is not a string", key);
                char **grown = realloc(s->annotations, (n + 3) * sizeof(char *));
                if (!grown)
                        return -ENOMEM;
                s->annotations = grown;
                grown[n] = strdup(key);
                grown[n + 1] = strdup(json_object_get_string(value));
                grown[n + 2] = NULL;
                if (!grown[n] || !grown[n + 1])
                        return -ENOMEM;
                n += 2;
        }
        return 0;
}

void oci_state_done(OciState *s) {
        free(s->id);
        free(s->status);
        free(s->bundle);
        strv_free(s->annotations);
        *s = (OciState) {};
}

static int dup_string(json_object *o, const char *key, bool required, char **ret, char **ret_error) {
        const char *v = NULL;
        int r = get_string(o, key, "the state", &v, ret_error);
        if (r == -ENOENT && required)
                return hook_fail(ret_error, "the state has no \"%s\"", key);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

int oci_state_parse(const char *json, OciState *ret, char **ret_error) {
        _cleanup_(json_putp) json_object *o = NULL;
        int r = parse_object(json, "the state on stdin", &o, ret_error);
        if (r < 0)
                return r;
        OciState s = {};
        json_object *pid;
        r = dup_string(o, "id", true, &s.id, ret_error);
        r = r < 0 ? r : dup_string(o, "bundle", true, &s.bundle, ret_error);
        r = r < 0 ? r : dup_string(o, "status", false, &s.status, ret_error);
        if (r >= 0 && json_object_object_get_ex(o, "pid", &pid) && !json_object_is_type(pid, json_type_null)) {
                int64_t v = json_object_get_int64(pid);
                if (!json_object_is_type(pid, json_type_int) || v <= 0 || v > INT32_MAX)
                        r = hook_fail(ret_error, "the state: \"pid\" is not a positive process id");
                else
                        s.pid = (pid_t) v;
        }
        r = r < 0 ? r : parse_annotations(o, &s, ret_error);
        if (r >= 0 && !s.annotations && !(s.annotations = calloc(1, sizeof(char *))))
                r = -ENOMEM;
        if (r < 0) {
                oci_state_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

const char *oci_state_stage(const OciState *s) {
        if (!s->status)
                return NULL;
        if (streq(s->status, "creating") || streq(s->status, "created"))
                return "createRuntime";
        return streq(s->status, "stopped") ? "poststop" : NULL;
}

const char *oci_state_annotation(const OciState *s, const char *key) {
        for (char **a = s->annotations; a && a[0]; a += 2)
                if (streq(a[0], key))
                        return a[1];
        return NULL;
}

int oci_config_rootfs(const char *json, const char *bundle, char **ret_rootfs, char **ret_error) {
        _cleanup_(json_putp) json_object *o = NULL;
        json_object *root;
        const char *path = NULL;
        int r = parse_object(json, "config.json", &o, ret_error);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "root", &root) || !json_object_is_type(root, json_type_object))
                return hook_fail(ret_error, "config.json has no \"root\" object");
        r = get_string(root, "path", "config.json root", &path, ret_error);
        if (r == -ENOENT || (r >= 0 && !*path))
                return hook_fail(ret_error, "config.json has no root.path");
        if (r < 0)
                return r;
        if (path[0] == '/')
                *ret_rootfs = strdup(path);
        else if (asprintf(ret_rootfs, "%s/%s", bundle, path) < 0)
                *ret_rootfs = NULL;
        return *ret_rootfs ? 0 : -ENOMEM;
}
