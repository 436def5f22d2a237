/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which unit files may carry resource settings (see unitscan.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "unitscan.h"

/* The unit-file names of the settings bridge/settings.c applies (systemd.resource-control). */
static const char *const setting_names[] = {
        "MemoryMax",  "MemoryHigh", "MemoryLow", "MemoryMin", "MemorySwapMax", "MemoryLimit", "CPUQuota",
        "CPUQuotaPeriodSec", "CPUWeight", "CPUShares", "TasksMax", "IOWeight", "BlockIOWeight",
};

/* systemd's search path for system units, in its order (systemd.unit(5), 252). */
static const char *const unit_dirs[] = {
        "/etc/systemd/system.control", "/run/systemd/system.control", "/run/systemd/transient",
        "/run/systemd/generator.early", "/etc/systemd/system",        "/etc/systemd/system.attached",
        "/run/systemd/system",         "/run/systemd/system.attached", "/run/systemd/generator",
        "/usr/local/lib/systemd/system", "/usr/lib/systemd/system",   "/lib/systemd/system",
        "/run/systemd/generator.late",
};

/* "  TasksMax = 5" and "#TasksMax=5" count; "TasksMaxFoo=" does not. */
static bool line_has_setting(const char *line) {
        line += strspn(line, " \t#;");
        for (size_t i = 0; i < ELEMENTSOF(setting_names); i++) {
                const char *rest = startswith(line, setting_names[i]);
                if (rest && rest[strspn(rest, " \t")] == '=')
                        return true;
        }
        return false;
}

bool unitscan_text_has_settings(const char *text) {
        for (const char *line = text; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
                if (line_has_setting(line))
                        return true;
        return false;
}

static bool file_has_settings(const char *path) {
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        bool found = false;
        while (!found && getline(&line, &size, f) >= 0)
                found = line_has_setting(line);
        fclose(f);
        return found;
}

static bool dropin_dir_has_settings(const char *dir, const char *dropin_name) {
        DIR *d = opendir(dir);
        if (!d)
                return false;
        bool found = false;
        struct dirent *de;
        while (!found && (de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 5 || !streq(de->d_name + l - 5, ".conf"))
                        continue;
                char path[4096];
                found = streq(de->d_name, dropin_name) ||
                        (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int) sizeof path &&
                         file_has_settings(path));
        }
        closedir(d);
        return found;
}

/* The drop-in directory names systemd reads for name: "a-b-c.service.d", "a-b-.service.d",
 * "a-.service.d", the template's "a@.service.d" for an instance, and "service.d". Each is
 * checked in every unit directory. */
static bool dropins_have_settings(const char *root, const char *name, const char *dropin_name) {
        const char *type = strrchr(name, '.');
        if (!type)
                return false;
        char prefix[256];
        size_t stem = (size_t) (type - name);
        if (stem >= sizeof prefix - 16)
                return true; /* cannot name its directories: load it rather than miss it */
        for (size_t i = 0; i < ELEMENTSOF(unit_dirs); i++) {
                char dir[4096];
                /* The whole name, then each prefix ending in '-', then the template, then the type. */
                for (size_t end = stem + 1; end-- > 0;) {
                        bool whole = end == stem, dash = end > 0 && name[end - 1] == '-' && end < stem;
                        if (!whole && !dash)
                                continue;
                        snprintf(prefix, sizeof prefix, "%.*s", (int) end, name);
                        snprintf(dir, sizeof dir, "%s%s/%s%s.d", root, unit_dirs[i], prefix, type);
                        if (dropin_dir_has_settings(dir, dropin_name))
                                return true;
                }
                const char *at = memchr(name, '@', stem);
                if (at && snprintf(dir, sizeof dir, "%s%s/%.*s%s.d", root, unit_dirs[i], (int) (at - name + 1), name, type) &&
                    dropin_dir_has_settings(dir, dropin_name))
                        return true;
                snprintf(dir, sizeof dir, "%s%s/%s.d", root, unit_dirs[i], type + 1);
                if (dropin_dir_has_settings(dir, dropin_name))
                        return true;
        }
        return false;
}

bool unitscan_unit_may_have_settings(const char *root, const char *name, const char *fragment_path,
                                     const char *dropin_name) {
        if (fragment_path) {
                char path[4096];
                /* fragment_path is as systemd sees it: below root, like the directories. */
                if (snprintf(path, sizeof path, "%s%s", root, fragment_path) < (int) sizeof path && file_has_settings(path))
                        return true;
        }
        return dropins_have_settings(root, name, dropin_name);
}

/* A service unit's name, not a template's. */
static bool service_name(const char *name) {
        size_t l = strlen(name);
        return l >= 9 && streq(name + l - 8, ".service") && name[l - 9] != '@';
}

/* Masked: a link to /dev/null (it hides the files of the same name further down the path). */
static bool masked(const char *dir, const char *name) {
        char path[4096], target[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path)
                return false;
        ssize_t n = readlink(path, target, sizeof target - 1);
        return n >= 0 && (target[n] = '\0', streq(target, "/dev/null"));
}

int unitscan_services(const char *root, const char *dropin_name, char ***ret_names) {
        _cleanup_strv_free_ char **seen = NULL, **found = NULL;
        size_t n_seen = 0, n_found = 0;
        for (size_t i = 0; i < ELEMENTSOF(unit_dirs); i++) {
                char dir[4096];
                snprintf(dir, sizeof dir, "%s%s", root, unit_dirs[i]);
                DIR *d = opendir(dir);
                struct dirent *de;
                int r = 0;
                while (d && r >= 0 && (de = readdir(d))) {
                        /* The first directory that has a name is where systemd loads it from. */
                        if (!service_name(de->d_name) || strv_contains(seen, de->d_name))
                                continue;
                        char fragment[4096];
                        snprintf(fragment, sizeof fragment, "%s/%s", unit_dirs[i], de->d_name);
                        r = strv_extend(&seen, &n_seen, de->d_name);
                        if (r >= 0 && !masked(dir, de->d_name) &&
                            unitscan_unit_may_have_settings(root, de->d_name, fragment, dropin_name))
                                r = strv_extend(&found, &n_found, de->d_name);
                }
                if (d)
                        closedir(d);
                if (r < 0)
                        return r;
        }
        if (!found && !(found = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret_names = TAKE_PTR(found);
        return 0;
}
