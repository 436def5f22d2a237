#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `make install DESTDIR=` and what it installs, used from the installed paths: the daemon with
# the installed example policies, the CLI against it, the bridge's and the hook's --version, a
# program built with `pkg-config cgdelegate` against the installed header and library (and
# running with it), the units, the man pages. Root (the daemon); TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"
build=$(cd "$(dirname "$DAEMON")/.." && pwd) # the tree the daemon under test comes from

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
command -v pkg-config >/dev/null && command -v cc >/dev/null || { echo "1..0 # SKIP needs cc and pkg-config"; exit 0; }
# A sanitizer build's library cannot be linked by a plain program: the plain build tests this.
! ldd "$DAEMON" 2>/dev/null | grep -q libasan || { echo "1..0 # SKIP the tree under test is a sanitizer build"; exit 0; }
mem=$(awk -F: '$2 == "memory" || ($1 == "0" && $2 == "") { print $3; exit }' /proc/self/cgroup)
G="${mem%/}/cgd-inst-$$"
scratch inst "$G"
before_cleanup() { "$R/usr/bin/cgdelegatectl" --socket "$t/run/admin.socket" unregister i1 --remove-cgroup >/dev/null 2>&1; }
R=$t/root
libdir=$R/usr/lib/$(cc -print-multiarch)

echo "1..6"
ok "make install DESTDIR= installs the programs, the library, its header and .pc, units, policies, man pages, completion" \
   'make -s -C $root install DESTDIR=$R BUILD=$build >$t/make.log 2>&1; cat $t/make.log;
    for f in usr/sbin/cgdelegated usr/bin/cgdelegatectl usr/libexec/cgdelegate/cgdelegate-systemd-bridge usr/libexec/cgdelegate/cgdelegate-exec \
             usr/libexec/cgdelegate/cgdelegate-oci-hook usr/include/cgdelegate.h usr/lib/systemd/system/cgdelegated.service \
             usr/lib/systemd/system/cgdelegated.socket usr/lib/tmpfiles.d/cgdelegate.conf usr/share/cgdelegate/policies/default.conf \
             usr/share/containers/oci/hooks.d/cgdelegate.json usr/share/man/man8/cgdelegated.8 usr/share/man/man5/cgdelegate.policy.5 \
             usr/share/bash-completion/completions/cgdelegatectl; do [ -e $R/$f ] || { echo "missing $f"; exit 1; }; done;
    [ -e $libdir/libcgdelegate.so.0 ] && [ -e $libdir/pkgconfig/cgdelegate.pc ]'
ok "the installed daemon starts with the installed policies; the installed CLI registers a container with policy web" \
   'DAEMON=$R/usr/sbin/cgdelegated; ln -s $R/usr/share/cgdelegate/policies $t/policies &&
    daemon_up $DAEMON && $R/usr/bin/cgdelegatectl --socket $t/run/admin.socket register i1 --cgroup $G/i1 --create --policy web &&
    $R/usr/bin/cgdelegatectl --socket $t/run/admin.socket policy | grep -q "^web"'
ok "inside i1 the installed CLI sets MemoryMax=64M on /app, in the host's files" \
   '$R/usr/bin/cgdelegatectl --socket $t/run/containers/i1/socket create /app &&
    $R/usr/bin/cgdelegatectl --socket $t/run/containers/i1/socket set /app MemoryMax=64M &&
    { [ "$(cat /sys/fs/cgroup/memory$G/i1/app/memory.limit_in_bytes 2>/dev/null)" = 67108864 ] ||
      [ "$(cat /sys/fs/cgroup$G/i1/app/memory.max 2>/dev/null)" = 67108864 ]; }'
ok "a program built with pkg-config cgdelegate against the installed tree runs with the installed libcgdelegate.so.0" \
   'printf "#include <cgdelegate.h>\n#include <stdio.h>\nint main(int c, char **v) { cgd_client *x; cgd_container *l; size_t n;\n
    if (c < 2 || cgd_client_open(v[1], &x) < 0 || cgd_list_containers(x, &l, &n) < 0) return 1;\n
    for (size_t i = 0; i < n; i++) printf(\"%%s\\\\n\", l[i].name); return 0; }\n" >$t/prog.c &&
    flags=$(PKG_CONFIG_SYSROOT_DIR=$R PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs cgdelegate) && echo "$flags" &&
    cc -o $t/prog $t/prog.c $flags &&
    LD_LIBRARY_PATH=$libdir ldd $t/prog | grep "libcgdelegate.so.0 => $libdir/" && LD_LIBRARY_PATH=$libdir $t/prog $t/run/admin.socket | grep -qx i1'
ok "the installed bridge, exec helper and hook answer --version; the daemon and CLI too" \
   'for p in usr/sbin/cgdelegated usr/bin/cgdelegatectl usr/libexec/cgdelegate/cgdelegate-systemd-bridge usr/libexec/cgdelegate/cgdelegate-exec \
             usr/libexec/cgdelegate/cgdelegate-oci-hook; do
        $R/$p --version | grep -q "0\.[0-9]" || { echo "$p --version"; exit 1; }; done'
ok "the installed man pages render without a warning; the installed unit scores 2.5 or lower" \
   'for m in $R/usr/share/man/man*/*; do [ -z "$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l $m 2>&1 >/dev/null)" ] || { echo $m; exit 1; }; done;
    score=$(systemd-analyze security --offline=yes $R/usr/lib/systemd/system/cgdelegated.service 2>/dev/null |
            sed -n "s/.*Overall exposure level for cgdelegated.service: \([0-9.]*\).*/\1/p"); echo "score $score";
    [ -n "$score" ] && awk -v s="$score" "BEGIN { exit !(s <= 2.5) }"'
[ "$failed" = 0 ]
