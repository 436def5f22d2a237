/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Containers whose root is a systemd unit's own cgroup (a Delegate=yes scope or service, as
 * `systemd-run --scope -p Delegate=yes` or a runtime under systemd makes them). systemd owns the
 * attributes of that group and writes its unit settings back on every daemon-reload, so a limit
 * written into the root's files would silently go away: limits on the root go through systemd
 * (SetUnitProperties, runtime), which keeps them in its own state. Below the root the tree is
 * delegated and the daemon writes its files as anywhere else.
 *
 * systemd is reached on its private socket (root only, no bus daemon needed), one connection per
 * call, so that the worker thread may call too. A call blocks its caller for at most
 * SDUNIT_TIMEOUT_USEC.
 */
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"

#define SDUNIT_SOCKET "unix:path=/run/systemd/private"
#define SDUNIT_TIMEOUT_USEC (5 * 1000 * 1000)
#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

static int sdunit_connect(sd_bus **ret) {
        sd_bus *bus = NULL;
        int r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, SDUNIT_SOCKET);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

/* The unit a cgroup path names by its last component, or NULL. */
static const char *unit_of(const char *cgroup) {
        const char *base = strrchr(cgroup, '/');
        base = base ? base + 1 : cgroup;
        return g_str_has_suffix(base, ".scope") || g_str_has_suffix(base, ".service") ? base : NULL;
}

int sdunit_detect(const char *cgroup, char **ret_unit, CgdRefusal *r) {
        const char *unit = unit_of(cgroup);
        *ret_unit = NULL;
        if (!unit || sd_booted() <= 0)
                return 0;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int k = sdunit_connect(&bus);
        if (k < 0)
                return cgd_refuse(r, CGD_ERROR_FAILED, "cgroup %s is the systemd unit %s's, and systemd cannot be reached: %s",
                                  cgroup, unit, strerror(-k));
        k = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "GetUnit", &e, &reply, "s", unit);
        if (k < 0) /* no such unit loaded: the name is a coincidence, the group is not systemd's */
                return 0;
        k = sd_bus_message_read(reply, "o", &path);
        if (k < 0)
                return k;
        const char *iface = g_str_has_suffix(unit, ".scope") ? "org.freedesktop.systemd1.Scope"
                                                               : "org.freedesktop.systemd1.Service";
        _cleanup_free_ char *group = NULL;
        int delegate = 0;
        k = sd_bus_get_property_string(bus, SD_DEST, path, iface, "ControlGroup", &e, &group);
        if (k >= 0)
                k = sd_bus_get_property_trivial(bus, SD_DEST, path, iface, "Delegate", &e, 'b', &delegate);
        if (k < 0)
                return cgd_refuse(r, CGD_ERROR_FAILED, "cannot read unit %s from systemd: %s", unit,
                                  e.message ? e.message : strerror(-k));
        if (!streq(group, cgroup))
                return 0;
        /* Without delegation systemd also manages the groups below and would undo the daemon. */
        if (!delegate)
                return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED,
                                  "cgroup %s is the systemd unit %s's, which does not have Delegate=yes", cgroup, unit);
        *ret_unit = strdup(unit);
        return *ret_unit ? 1 : -ENOMEM;
}

/* ---- v2 values as systemd unit properties ---- */

static int append_tv(sd_bus_message *m, const char *name, uint64_t value) {
        return sd_bus_message_append(m, "(sv)", name, "t", value);
}

/* "/dev/block/MAJ:MIN": the device path systemd resolves without udev. */
static int append_device_list(sd_bus_message *m, const char *name, unsigned major, unsigned minor, uint64_t value) {
        char dev[64];
        snprintf(dev, sizeof dev, "/dev/block/%u:%u", major, minor);
        return sd_bus_message_append(m, "(sv)", name, "a(st)", 1, dev, value);
}

/* systemd's CPU set on the bus: byte j bit i is cpu 8j+i. */
static int append_cpus(sd_bus_message *m, const char *name, const KnobValue *v) {
        uint8_t bytes[KNOB_CPUS_MAX / 8] = {};
        size_t used = 0;
        for (size_t i = 0; i < KNOB_CPUS_MAX; i++)
                if (v->cpus.bits[i / 64] & (UINT64_C(1) << (i % 64))) {
                        bytes[i / 8] |= (uint8_t) (1u << (i % 8));
                        used = i / 8 + 1;
                }
        int k = sd_bus_message_open_container(m, 'r', "sv");
        k = k < 0 ? k : sd_bus_message_append(m, "s", name);
        k = k < 0 ? k : sd_bus_message_open_container(m, 'v', "ay");
        k = k < 0 ? k : sd_bus_message_append_array(m, 'y', bytes, used);
        k = k < 0 ? k : sd_bus_message_close_container(m);
        return k < 0 ? k : sd_bus_message_close_container(m);
}

static int append_io_max(sd_bus_message *m, const KnobValue *v) {
        static const char *const names[_IO_LIMIT_MAX] = {
                [IO_RBPS] = "IOReadBandwidthMax", [IO_WBPS] = "IOWriteBandwidthMax",
                [IO_RIOPS] = "IOReadIOPSMax", [IO_WIOPS] = "IOWriteIOPSMax",
        };
        int k = 0;
        for (int l = 0; k >= 0 && l < _IO_LIMIT_MAX; l++)
                if (v->io_max.set[l])
                        k = append_device_list(m, names[l], v->io_max.major, v->io_max.minor, v->io_max.limit[l]);
        return k;
}

static int append_value(sd_bus_message *m, const KnobValue *v, CgdRefusal *r) {
        switch (v->id) {
        case KNOB_MEMORY_MAX:
                return append_tv(m, "MemoryMax", v->bytes);
        case KNOB_MEMORY_HIGH:
                return append_tv(m, "MemoryHigh", v->bytes);
        case KNOB_MEMORY_LOW:
                return append_tv(m, "MemoryLow", v->bytes);
        case KNOB_MEMORY_MIN:
                return append_tv(m, "MemoryMin", v->bytes);
        case KNOB_MEMORY_SWAP_MAX:
                return append_tv(m, "MemorySwapMax", v->bytes);
        case KNOB_CPU_MAX: {
                uint64_t per_sec = v->cpu.quota_us == KNOB_UNLIMITED ? UINT64_MAX
                                                                      : v->cpu.quota_us * 1000000 / v->cpu.period_us;
                int k = append_tv(m, "CPUQuotaPerSecUSec", per_sec);
                return k < 0 ? k : append_tv(m, "CPUQuotaPeriodUSec", v->cpu.period_us);
        }
        case KNOB_CPU_WEIGHT:
                return append_tv(m, "CPUWeight", v->weight);
        case KNOB_PIDS_MAX:
                return append_tv(m, "TasksMax", v->count);
        case KNOB_IO_WEIGHT:
                if (!v->io_weight.has_device)
                        return append_tv(m, "IOWeight", v->io_weight.weight);
                if (v->io_weight.weight == 0)
                        return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED,
                                          "io.weight MAJ:MIN default has no systemd unit property");
                return append_device_list(m, "IODeviceWeight", v->io_weight.major, v->io_weight.minor, v->io_weight.weight);
        case KNOB_IO_MAX:
                return append_io_max(m, v);
        case KNOB_CPUSET_CPUS:
                return append_cpus(m, "AllowedCPUs", v);
        case KNOB_CPUSET_MEMS:
                return append_cpus(m, "AllowedMemoryNodes", v);
        default:
                return cgd_refuse(r, CGD_ERROR_NOT_SUPPORTED, "%s has no systemd unit property", knob_info(v->id)->key);
        }
}

static int sdunit_set(const char *unit, const KnobValue *values, size_t n, CgdRefusal *r) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int k = sdunit_connect(&bus);
        if (k < 0)
                return cgd_refuse(r, CGD_ERROR_FAILED, "systemd cannot be reached to set unit %s: %s", unit, strerror(-k));
        k = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "SetUnitProperties");
        k = k < 0 ? k : sd_bus_message_append(m, "sb", unit, 1);
        k = k < 0 ? k : sd_bus_message_open_container(m, 'a', "(sv)");
        for (size_t i = 0; k >= 0 && i < n; i++)
                k = append_value(m, &values[i], r);
        if (k < 0)
                return r && r->message[0] ? k : cgd_refuse(r, CGD_ERROR_FAILED, "cannot build the call: %s", strerror(-k));
        k = sd_bus_message_close_container(m);
        k = k < 0 ? k : sd_bus_call(bus, m, SDUNIT_TIMEOUT_USEC, &e, NULL);
        if (k < 0)
                return cgd_refuse(r, CGD_ERROR_FAILED, "systemd refused the properties of unit %s: %s", unit,
                                  e.message ? e.message : strerror(-k));
        return 0;
}

int sdunit_apply(Container *c, const char *rel, const KnobValue *values, size_t n, ApplyFlags flags, CgdRefusal *r) {
        if (c->unit && streq(rel, "."))
                return sdunit_set(c->unit, values, n, r);
        return apply_properties(c->tree, rel, values, n, flags, r);
}
