#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/protocol.md against the real daemon: its busctl and Python examples run, in order, and
# print what the guide says they print (tests/common/doc-examples.py); the policy they use is the
# one the guide shows; its tables name every method of protocol/*.xml and every error name of
# lib/error.c. The guide's paths (/run/cgdelegate/, the cgroup /cgdelegate-example/) are
# replaced by this test's. Root; TAP; everything below this process's memory group.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/common/tap.sh"
DOC=$root/docs/protocol.md
PY=/usr/bin/python3 # Debian's, with python3-dbus (a python3 earlier in PATH may lack it)

if [ "$(id -u)" != 0 ] || ! command -v busctl >/dev/null || ! $PY -c 'import dbus' 2>/dev/null; then
        echo "1..0 # SKIP needs root, busctl and python3-dbus"
        exit 0
fi
mem=$(awk -F: '$2 == "memory" || ($1 == "0" && $2 == "") { print $3; exit }' /proc/self/cgroup)
G="${mem%/}/cgd-doc-$$"
scratch doc "$G"

mkdir -p "$t/policies"
$PY "$root/tests/common/doc-examples.py" policies "$DOC" "$t/policies" && [ -s "$t/policies/web.conf" ] ||
        { echo "Bail out! the guide's policy web.conf was not found"; exit 1; }
daemon_up "$DAEMON" || { echo "Bail out! the daemon did not start: $(tail -n 3 $t/daemon.log)"; exit 1; }

$PY "$root/tests/common/doc-examples.py" run "$DOC" "/run/cgdelegate/=$t/run/" "/cgdelegate-example/=$G/" >"$t/examples"
examples=$?
cat "$t/examples"
n=$(grep -cE '^(not )?ok ' "$t/examples") # tap.sh's ok() numbers on from there
[ "$examples" = 0 ] || failed=1

# names_in_doc WORD...: each as `WORD` in the guide.
names_in_doc() {
        local w
        for w in "$@"; do grep -q "\`$w\`" "$DOC" || { echo "missing: $w"; return 1; }; done
}
methods=$($PY -c 'import sys, xml.etree.ElementTree as E
for f in sys.argv[1:]:
    for m in E.parse(f).getroot().iter("method"): print(m.get("name"))' "$root"/protocol/org.cgdelegate.*.xml | sort -u)
errors=$(grep -o '"org.cgdelegate.Error.[A-Za-z]*", E[A-Z]*' "$root/lib/error.c" | tr -d '",' | sed 's/ /` | `/')
ok "the guide's tables name every method of protocol/*.xml ($(echo $methods | wc -w))" \
   '[ -n "$methods" ] && names_in_doc $methods'
ok "the guide's error table has every error name of lib/error.c with its errno ($(echo "$errors" | wc -l))" \
   '[ -n "$errors" ] && while read -r e; do grep -qF "| \`$e\` |" $DOC || { echo "missing: $e"; false; } || break; done <<<"$errors"'
echo "1..$n"
[ "$failed" = 0 ]
