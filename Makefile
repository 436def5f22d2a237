# SPDX-License-Identifier: LGPL-2.1-or-later
# cgdelegate: one plain Makefile. `make` builds, `make check` installs what the tests need (Debian
# 12, as root) and runs every test lane that exists, `make check-asan` runs the unit,
# integration and e2e tests and the VM lane's v2 suite again under ASan+UBSan, `make check-fuzz` runs the libFuzzer targets for a while
# each, `make demo` is the README's main job.

VERSION  := 0.1
CC       ?= gcc
BUILD    ?= build
PREFIX   ?= /usr
DESTDIR  ?=
SANITIZE ?=

PKGS      := libsystemd glib-2.0
TEST_PKGS := cmocka

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
            -Wformat=2 -Wno-unused-parameter
CFLAGS   ?= -O2 -g
# -fPIC everywhere: libcgdelegate.so takes lib/strv.o and lib/error.o as they are.
ALL_CFLAGS := -std=gnu11 $(WARNINGS) $(CFLAGS) -D_GNU_SOURCE -fno-strict-aliasing -fPIC \
              -Ilib -Iclient -Iinclude -Ibridge -Ioci-hook -MMD -MP $(shell pkg-config --cflags $(PKGS)) -DCGD_VERSION='"$(VERSION)"' 
ifneq ($(SANITIZE),)
SAN_CFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_LDFLAGS := -fsanitize=address,undefined
endif

LIB_SRCS   := $(sort $(wildcard lib/*.c))
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIBCGD     := $(BUILD)/libcgd.a

CTL_SRCS    := client/cgdelegatectl.c $(wildcard client/ctl-*.c)
CLIENT_SRCS := $(filter-out $(CTL_SRCS),$(sort $(wildcard client/*.c)))
CTL         := $(BUILD)/client/cgdelegatectl
# libcgdelegate: the client objects plus the two pure helpers of lib/ they share with the daemon.
CLIENT_OBJS := $(CLIENT_SRCS:%.c=$(BUILD)/%.o)
LIBCLIENT_OBJS := $(CLIENT_OBJS) $(BUILD)/lib/strv.o $(BUILD)/lib/error.o
LIBCLIENT   := $(BUILD)/libcgdelegate.a
SOVERSION   := 0
SHLIB       := $(BUILD)/libcgdelegate.so.$(SOVERSION).$(VERSION)
MULTIARCH   := $(shell $(CC) -print-multiarch 2>/dev/null)
LIBDIR      ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

UNIT_SRCS  := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS  := $(UNIT_SRCS:%.c=$(BUILD)/%)
INTEG_SRCS := $(sort $(wildcard tests/integration/test-*.c))
INTEG_BINS := $(INTEG_SRCS:%.c=$(BUILD)/%)
INTEG_SCRIPTS := $(sort $(wildcard tests/integration/test-*.sh))
TEST_COMMON := $(BUILD)/tests/common/testutil.o $(BUILD)/tests/common/cgfixture.o

DEMO_BINS  := $(BUILD)/demo/cgd-libdemo $(BUILD)/demo/cgd-demo-tool

# The bridge and its exec helper: libcgdelegate linked in, so that they run from the build tree.
BRIDGE_OBJS := $(BUILD)/bridge/bridge.o $(BUILD)/bridge/settings.o $(BUILD)/bridge/dropin.o $(BUILD)/bridge/unitscan.o
BRIDGE      := $(BUILD)/bridge/cgdelegate-systemd-bridge $(BUILD)/bridge/cgdelegate-exec

# The OCI hook: libcgdelegate linked in; json-c reads the state and config.json.
HOOK_OBJS := $(BUILD)/oci-hook/ocistate.o $(BUILD)/oci-hook/hookconf.o $(BUILD)/oci-hook/inject.o
HOOK      := $(BUILD)/oci-hook/cgdelegate-oci-hook

# bench/: the load generator and the floors it is compared with (make bench).
BENCH := $(BUILD)/bench/cgd-bench

# tests/fuzz/: libFuzzer targets, clang only (docs/fuzzing.md). The sources they test are compiled
# again with clang, coverage and ASan+UBSan into $(BUILD)/fuzz/obj/; nothing of the gcc build is
# reused. Each target links only the objects it names below.
FUZZ_CC    ?= clang
FUZZ_DIR   := $(BUILD)/fuzz
FUZZ_SAN   := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 $(WARNINGS) -g -O1 $(FUZZ_SAN) -D_GNU_SOURCE -fno-strict-aliasing \
               -Ilib -Iclient -Iinclude -Ioci-hook -Itests/fuzz -MMD -MP
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_DIR)/%)
CGD_FUZZ_SECONDS ?= 30

DAEMON_SRCS := $(sort $(wildcard daemon/*.c))
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
DAEMON      := $(BUILD)/daemon/cgdelegated

.SECONDARY:
.PHONY: all deps deps-build check check-unit check-integration check-e2e check-vm check-asan check-deb check-fuzz fuzz deb bench demo install clean

all: $(LIBCGD) $(LIBCLIENT) $(SHLIB) $(BUILD)/cgdelegate.pc $(DAEMON) $(CTL) $(BRIDGE) $(HOOK) $(BENCH) $(UNIT_BINS) $(INTEG_BINS) $(DEMO_BINS)

# Objects depend on the Makefile too: a change of flags (such as -fPIC) rebuilds them.
$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -c $< -o $@

$(LIBCGD): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBCLIENT): $(LIBCLIENT_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# Only the functions of include/cgdelegate.h are exported, at version CGDELEGATE_0.1.
$(SHLIB): $(LIBCLIENT_OBJS) client/libcgdelegate.sym
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -shared -Wl,-soname,libcgdelegate.so.$(SOVERSION) -Wl,--version-script=client/libcgdelegate.sym \
	      -Wl,--no-undefined -o $@ $(LIBCLIENT_OBJS)
	ln -sf $(notdir $@) $(BUILD)/libcgdelegate.so.$(SOVERSION)
	ln -sf $(notdir $@) $(BUILD)/libcgdelegate.so

# cgdelegate.pc for the installed library; uninstalled/cgdelegate.pc for programs built against
# the build tree (tests, the bridge).
$(BUILD)/cgdelegate.pc: client/cgdelegate.pc.in Makefile
	@mkdir -p $(BUILD)/uninstalled
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(PREFIX)/include|' $< >$@
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBDIR@|$(abspath $(BUILD))|' -e 's|@INCLUDEDIR@|$(abspath include)|' $< \
	    >$(BUILD)/uninstalled/cgdelegate.pc

$(BUILD)/tests/common/%.o: ALL_CFLAGS += -Itests/common $(shell pkg-config --cflags $(TEST_PKGS))
$(BUILD)/tests/%.o: ALL_CFLAGS += -Itests/common $(shell pkg-config --cflags $(TEST_PKGS))

$(BUILD)/tests/unit/test-%: $(BUILD)/tests/unit/test-%.o $(TEST_COMMON) $(LIBCGD) $(LIBCLIENT)
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(TEST_PKGS) $(PKGS)) -lm
$(BUILD)/tests/unit/test-bridge: $(BUILD)/tests/unit/test-bridge.o $(BUILD)/bridge/settings.o $(BUILD)/bridge/dropin.o $(BUILD)/bridge/unitscan.o $(TEST_COMMON) $(LIBCLIENT) $(LIBCGD)
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(TEST_PKGS) $(PKGS)) -lm
$(BUILD)/tests/integration/test-%: $(BUILD)/tests/integration/test-%.o $(TEST_COMMON) $(LIBCGD)
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(TEST_PKGS) $(PKGS))

# libcgdelegate speaks D-Bus itself (client/wire.c): the programs built on it alone load no
# libsystemd, which costs a short-lived process more than its call (docs/performance.md).
$(CTL): $(CTL_SRCS:%.c=$(BUILD)/%.o) $(LIBCLIENT)
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^ -lm

# The library's own integration test links the shared object, as a runtime would.
$(BUILD)/tests/integration/test-libcgdelegate: $(BUILD)/tests/integration/test-libcgdelegate.o $(TEST_COMMON) $(LIBCGD) $(SHLIB)
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $(filter %.o %.a,$^) -L$(BUILD) -lcgdelegate -Wl,-rpath,$(abspath $(BUILD)) \
	      $(shell pkg-config --libs $(TEST_PKGS) $(PKGS))

$(BUILD)/bridge/cgdelegate-systemd-bridge: $(BRIDGE_OBJS) $(LIBCLIENT)
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell pkg-config --libs libsystemd)
$(BUILD)/bridge/cgdelegate-exec: $(BUILD)/bridge/cgdelegate-exec.o $(LIBCLIENT)
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^

$(BUILD)/oci-hook/%.o: ALL_CFLAGS += $(shell pkg-config --cflags json-c)
$(HOOK): $(BUILD)/oci-hook/cgdelegate-oci-hook.o $(HOOK_OBJS) $(LIBCLIENT) $(LIBCGD)
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell pkg-config --libs libsystemd glib-2.0 json-c)
$(BUILD)/tests/unit/test-ocihook: $(BUILD)/tests/unit/test-ocihook.o $(HOOK_OBJS) $(TEST_COMMON) $(LIBCLIENT) $(LIBCGD)
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(TEST_PKGS) $(PKGS) json-c)

$(BENCH): $(BUILD)/bench/cgd-bench.o
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell pkg-config --libs libsystemd)

$(DAEMON): $(DAEMON_OBJS) $(LIBCGD)
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -pthread -o $@ $^ $(shell pkg-config --libs $(PKGS) libcap-ng)

# The fuzz targets' objects: clang, instrumented; glib and json-c only where the code uses them.
$(FUZZ_DIR)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_DIR)/obj/lib/policy.o $(FUZZ_DIR)/obj/tests/fuzz/fuzz-policy.o: FUZZ_CFLAGS += $(shell pkg-config --cflags glib-2.0)
$(FUZZ_DIR)/obj/oci-hook/ocistate.o: FUZZ_CFLAGS += $(shell pkg-config --cflags json-c)
# A target is its own object, the objects of the code it tests and the libraries those need.
$(FUZZ_DIR)/fuzz-%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz-%.o
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS)
$(FUZZ_DIR)/fuzz-knob: $(addprefix $(FUZZ_DIR)/obj/,lib/knob.o lib/error.o lib/strv.o client/sdprop.o)
$(FUZZ_DIR)/fuzz-cgpath: $(FUZZ_DIR)/obj/lib/cgpath.o
$(FUZZ_DIR)/fuzz-policy: $(addprefix $(FUZZ_DIR)/obj/,lib/policy.o lib/knob.o lib/error.o)
$(FUZZ_DIR)/fuzz-policy: FUZZ_LIBS = $(shell pkg-config --libs glib-2.0)
$(FUZZ_DIR)/fuzz-ocistate: $(addprefix $(FUZZ_DIR)/obj/,oci-hook/ocistate.o lib/strv.o)
$(FUZZ_DIR)/fuzz-ocistate: FUZZ_LIBS = $(shell pkg-config --libs json-c)
$(FUZZ_DIR)/fuzz-wire: $(addprefix $(FUZZ_DIR)/obj/,client/wire.o lib/strv.o)
# fuzz-handlers runs the daemon in process: every daemon object but main.o, and all of libcgd.
FUZZ_DAEMON_OBJS := $(addprefix $(FUZZ_DIR)/obj/,$(filter-out daemon/main.o,$(DAEMON_SRCS:.c=.o)) $(LIB_SRCS:.c=.o))
$(FUZZ_DAEMON_OBJS) $(FUZZ_DIR)/obj/tests/fuzz/fuzz-handlers.o: FUZZ_CFLAGS += -Idaemon $(shell pkg-config --cflags $(PKGS))
$(FUZZ_DIR)/fuzz-handlers: $(FUZZ_DAEMON_OBJS)
$(FUZZ_DIR)/fuzz-handlers: FUZZ_LIBS = $(shell pkg-config --libs $(PKGS) libcap-ng) -pthread

# The demo tool is a workload (forks, hogs, spins under the limits tests set), never sanitized:
# LeakSanitizer's exit check needs a task that TasksMax=5 leaves none for, and ASan's shadow
# memory would be counted against MemoryMax=.
$(BUILD)/demo/demo-tool.o $(BUILD)/demo/cgd-demo-tool: SAN_CFLAGS :=
$(BUILD)/demo/demo-tool.o $(BUILD)/demo/cgd-demo-tool: SAN_LDFLAGS :=
$(BUILD)/demo/cgd-demo-tool: $(BUILD)/demo/demo-tool.o
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^

$(BUILD)/demo/cgd-libdemo: $(BUILD)/demo/libdemo.o $(LIBCGD)
	$(CC) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(PKGS))

deps:
	@tools/install-deps.sh

deps-build:
	@tools/install-deps.sh build

check: deps
	$(MAKE) all
	$(MAKE) check-unit check-integration check-e2e check-deb check-vm
	$(MAKE) check-asan
	$(MAKE) check-fuzz

check-unit: $(UNIT_BINS) $(SHLIB)
	CGD_BUILD=$(abspath $(BUILD)) tests/run-tap $(UNIT_BINS) $(wildcard tests/unit/test-*.sh)

check-integration: $(INTEG_BINS) $(DAEMON)
	CGD_DAEMON=$(abspath $(DAEMON)) CGD_CTL=$(abspath $(CTL)) tests/run-tap $(INTEG_BINS) $(INTEG_SCRIPTS)

# A real systemd in a systemd-nspawn container, with the bridge from this build tree.
check-e2e: all
	CGD_BUILD=$(abspath $(BUILD)) tests/run-tap $(wildcard tests/e2e/test-*.sh)

# Pure cgroup v2 in a VM (qemu, TCG): the integration suite and tests/vm/test-v2.sh inside.
check-vm: all
	tests/run-tap tests/vm/test-vm.sh

check-asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 all
	$(MAKE) BUILD=build-asan SANITIZE=1 check-unit check-integration check-e2e
	CGD_VM_BUILD=build-asan CGD_VM_SUITES=v2 tests/run-tap tests/vm/test-vm.sh

# Builds every fuzz target (clang) into $(BUILD)/fuzz/.
fuzz: $(FUZZ_BINS)

# Each target runs every seed of tests/fuzz/corpus/NAME once, then fuzzes CGD_FUZZ_SECONDS from a
# temporary copy of it; one TAP line each, and a crash, leak or timeout fails the lane.
check-fuzz: $(FUZZ_BINS)
	CGD_FUZZ_SECONDS=$(CGD_FUZZ_SECONDS) tests/fuzz/run-fuzz.sh $(FUZZ_BINS)

# The Debian packages (debian/): cgdelegate, libcgdelegate0, libcgdelegate-dev in build-deb/deb/.
deb:
	@tools/install-deps.sh deb
	dpkg-checkbuilddeps
	debian/rules clean
	debian/rules binary
	@ls build-deb/deb/*.deb

# Builds the packages, checks them with lintian, installs them with apt-get, uses them, purges them.
check-deb:
	tests/run-tap tests/deb/test-deb.sh

# Benchmarks against the floors and today's tools (bench/run.sh; not part of make check).
bench: all
	bench/run.sh $(BUILD)

demo: deps-build
	$(MAKE) all
	demo/run.sh $(BUILD)

install: $(LIBCGD) $(LIBCLIENT) $(SHLIB) $(BUILD)/cgdelegate.pc $(DAEMON) $(CTL) $(BRIDGE) $(HOOK)
	install -Dm0755 $(DAEMON) $(DESTDIR)$(PREFIX)/sbin/cgdelegated
	install -Dm0755 $(SHLIB) $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB))
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/libcgdelegate.so.$(SOVERSION)
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/libcgdelegate.so
	install -Dm0644 $(LIBCLIENT) $(DESTDIR)$(LIBDIR)/libcgdelegate.a
	install -Dm0644 $(BUILD)/cgdelegate.pc $(DESTDIR)$(LIBDIR)/pkgconfig/cgdelegate.pc
	install -Dm0644 include/cgdelegate.h $(DESTDIR)$(PREFIX)/include/cgdelegate.h
	install -Dm0755 $(CTL) $(DESTDIR)$(PREFIX)/bin/cgdelegatectl
	install -Dm0755 -t $(DESTDIR)$(PREFIX)/libexec/cgdelegate $(BRIDGE) $(HOOK)
	install -Dm0644 oci-hook/cgdelegate.json $(DESTDIR)$(PREFIX)/share/containers/oci/hooks.d/cgdelegate.json
	install -Dm0644 oci-hook/oci-hook.conf $(DESTDIR)$(PREFIX)/share/cgdelegate/oci-hook.conf
	install -Dm0644 -t $(DESTDIR)$(SYSTEMDUNITDIR) systemd-units/cgdelegated.service systemd-units/cgdelegated.socket
	install -Dm0644 systemd-units/cgdelegate.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/cgdelegate.conf
	install -Dm0644 -t $(DESTDIR)$(PREFIX)/share/cgdelegate/policies systemd-units/policies/*.conf
	install -Dm0644 -t $(DESTDIR)$(PREFIX)/share/cgdelegate/protocol protocol/*.xml
	install -Dm0644 -t $(DESTDIR)$(PREFIX)/share/man/man1 man/*.1
	install -Dm0644 -t $(DESTDIR)$(PREFIX)/share/man/man5 man/*.5
	install -Dm0644 -t $(DESTDIR)$(PREFIX)/share/man/man8 man/*.8
	install -Dm0644 completion/cgdelegatectl $(DESTDIR)$(PREFIX)/share/bash-completion/completions/cgdelegatectl

clean:
	rm -rf build build-asan build-deb

-include $(BRIDGE_OBJS:.o=.d) $(HOOK_OBJS:.o=.d) $(BUILD)/oci-hook/cgdelegate-oci-hook.d $(BUILD)/bridge/cgdelegate-exec.d $(LIB_OBJS:.o=.d) $(CLIENT_OBJS:.o=.d) $(CTL_SRCS:%.c=$(BUILD)/%.d) $(DAEMON_OBJS:.o=.d) $(wildcard $(BUILD)/demo/*.d $(BUILD)/bench/*.d $(BUILD)/tests/common/*.d) $(UNIT_BINS:=.d) $(INTEG_BINS:=.d) \
         $(wildcard $(FUZZ_DIR)/obj/*/*.d $(FUZZ_DIR)/obj/tests/fuzz/*.d)
