#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian packages end to end: `make deb` builds cgdelegate, libcgdelegate0 and
# libcgdelegate-dev with debhelper; lintian finds no error (and no warning); apt-get installs
# them; the installed daemon, CLI, library (pkg-config) and man pages work from their Debian
# paths, the units and tmpfiles are where dh put them, /etc/cgdelegate/oci-hook.conf is a
# conffile; apt-get purge removes every file the packages installed. Skips where the packages are
# installed already (an admin's real installation is not this test's to replace). Root; TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (apt-get install)"; exit 0; }
command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null && command -v lintian >/dev/null ||
        { echo "1..0 # SKIP needs debhelper and lintian (tools/install-deps.sh deb)"; exit 0; }
for p in cgdelegate libcgdelegate0 libcgdelegate-dev; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' &&
                { echo "1..0 # SKIP package $p is installed on this machine already"; exit 0; }
done
mem=$(awk -F: '$2 == "memory" || ($1 == "0" && $2 == "") { print $3; exit }' /proc/self/cgroup)
G="${mem%/}/cgd-deb-$$"
scratch deb "$G"
installed=''
before_cleanup() {
        /usr/bin/cgdelegatectl --socket "$t/run/admin.socket" unregister d1 --remove-cgroup >/dev/null 2>&1
        daemon_down
        [ -z "$installed" ] || DEBIAN_FRONTEND=noninteractive apt-get purge -y -q cgdelegate libcgdelegate0 libcgdelegate-dev >/dev/null 2>&1
}
debs=$root/build-deb/deb

echo "1..7"
ok "make deb builds the three packages (and their debug symbols)" \
   'make -s -C $root deb >$t/build.log 2>&1; rc=$?; tail -n 5 $t/build.log; [ $rc = 0 ] &&
    ls $debs/cgdelegate_*.deb $debs/libcgdelegate0_*.deb $debs/libcgdelegate-dev_*.deb'
ok "lintian: no error and no warning" \
   'lintian --fail-on error,warning $debs/cgdelegate_*.deb $debs/libcgdelegate0_*.deb $debs/libcgdelegate-dev_*.deb 2>&1 | grep -v "^running with root"; [ ${PIPESTATUS[0]} = 0 ]'
ok "apt-get installs them" \
   'DEBIAN_FRONTEND=noninteractive apt-get install -y -q $debs/cgdelegate_*.deb $debs/libcgdelegate0_*.deb $debs/libcgdelegate-dev_*.deb >$t/apt.log 2>&1;
    rc=$?; tail -n 3 $t/apt.log; installed=1; [ $rc = 0 ] && dpkg -L cgdelegate libcgdelegate0 libcgdelegate-dev | sort -u >$t/files'
ok "units in /lib/systemd/system and enabled (deb-systemd-helper), tmpfiles, hooks.d, man pages; /etc/cgdelegate/oci-hook.conf is a conffile" \
   'for f in /lib/systemd/system/cgdelegated.service /lib/systemd/system/cgdelegated.socket /usr/lib/tmpfiles.d/cgdelegate.conf \
             /usr/share/containers/oci/hooks.d/cgdelegate.json /usr/libexec/cgdelegate/cgdelegate-oci-hook; do [ -e $f ] || { echo "missing $f"; exit 1; }; done;
    [ -L /etc/systemd/system/sockets.target.wants/cgdelegated.socket ] && [ -L /etc/systemd/system/multi-user.target.wants/cgdelegated.service ] &&
    dpkg-query -W -f="\${Conffiles}" cgdelegate | grep -q "/etc/cgdelegate/oci-hook.conf" && man -w cgdelegated cgdelegate.policy'
ok "the installed daemon and CLI: register d1 with the installed policy web, set MemoryMax=64M on /app" \
   'DAEMON=/usr/sbin/cgdelegated; rmdir $t/policies 2>/dev/null; ln -sfn /usr/share/cgdelegate/policies $t/policies && daemon_up $DAEMON &&
    /usr/bin/cgdelegatectl --socket $t/run/admin.socket register d1 --cgroup $G/d1 --create --policy web &&
    /usr/bin/cgdelegatectl --socket $t/run/containers/d1/socket create /app &&
    /usr/bin/cgdelegatectl --socket $t/run/containers/d1/socket set /app MemoryMax=64M &&
    /usr/bin/cgdelegatectl --socket $t/run/containers/d1/socket get /app memory.max | grep -q 67108864'
ok "a program built with pkg-config cgdelegate links the installed libcgdelegate.so.0" \
   'printf "#include <cgdelegate.h>\nint main(void) { cgd_client *c; return cgd_client_open(\"/nonexistent/admin.socket\", &c) < 0 ? 0 : 1; }\n" >$t/p.c &&
    cc -o $t/p $t/p.c $(pkg-config --cflags --libs cgdelegate) && lib=$(ldd $t/p | awk "/libcgdelegate.so.0 =>/ { print \$3 }") &&
    echo "$lib" && dpkg -S "$(readlink -f $lib)" | grep -q "^libcgdelegate0:" && $t/p'
ok "apt-get purge removes every file the packages installed, and /etc/cgdelegate" \
   '/usr/bin/cgdelegatectl --socket $t/run/admin.socket unregister d1 --remove-cgroup; daemon_down;
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q cgdelegate libcgdelegate0 libcgdelegate-dev >$t/purge.log 2>&1 && installed="" &&
    left=$(while read -r f; do { [ -f "$f" ] || [ -L "$f" ]; } && [ ! -d "$f" ] && echo "$f"; done <$t/files); echo "left: $left"; [ -z "$left" ] && [ ! -e /etc/cgdelegate ] &&
    [ ! -e /etc/systemd/system/sockets.target.wants/cgdelegated.socket ] && [ ! -e /etc/systemd/system/multi-user.target.wants/cgdelegated.service ]'
[ "$failed" = 0 ]
