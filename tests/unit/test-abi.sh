#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libcgdelegate's ABI: the functions declared in include/cgdelegate.h, the version script and
# the symbols libcgdelegate.so exports are the same set, all at CGDELEGATE_0.1 and nothing else
# (no lib/ helper leaks); the header compiles alone as strict C99; a program built with
# `pkg-config cgdelegate` (the uninstalled .pc) links and runs against the shared object. TAP.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${CGD_BUILD:-$root/build}
so=$build/libcgdelegate.so.0
t=$(mktemp -d /tmp/cgd-abi.XXXXXX)
trap 'rm -rf "$t"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); if eval "$2" >"$t/out" 2>&1; then echo "ok $n - $1"; else failed=$((failed + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$t/out"; fi; }

if [ ! -e "$so" ] || ! command -v nm >/dev/null || ! command -v pkg-config >/dev/null; then
        echo "1..0 # SKIP needs $so (make), nm and pkg-config"
        exit 0
fi
grep -o 'cgd_[a-z0-9_]*(' "$root/include/cgdelegate.h" | tr -d '(' | sort -u >"$t/header"
grep -oE '^\s+cgd_[a-z0-9_]+;' "$root/client/libcgdelegate.sym" | tr -d ' ;' | sort >"$t/script"
# A sanitizer build of the library needs the program built the same way (ASan's runtime first).
san=''
nm -D "$so" | grep -q ' U __asan_init' && san='-fsanitize=address,undefined'
nm -D --defined-only "$so" | awk '$3 != "CGDELEGATE_0.1" { print $3 }' | sort >"$t/exported"

echo "1..5"
ok "the version script lists exactly the header's functions" 'diff "$t/header" "$t/script"'
ok "the shared object exports exactly them" 'sed "s/\$/@@CGDELEGATE_0.1/" "$t/header" | diff - "$t/exported"'
ok "the header has at least the 50 functions of both interfaces" '[ "$(wc -l <"$t/header")" -ge 50 ]'
ok "the header compiles alone as strict C99" \
   'echo "#include <cgdelegate.h>" | ${CC:-cc} -std=c99 -pedantic -Wall -Wextra -Werror -I"$root/include" -fsyntax-only -x c -'
cat >"$t/p.c" <<'C'
#include <cgdelegate.h>
#include <errno.h>
#include <stdio.h>
int main(void) {
        cgd_client *c;
        /* A socket that does not exist: a clean error, no crash, nothing returned. */
        int r = cgd_client_open("/nonexistent/cgd-abi/socket", &c);
        cgd_property *p;
        size_t n;
        const char *const a[] = { "MemoryMax=1G", NULL };
        if (r >= 0 || cgd_translate_systemd(a, &p, &n, NULL) < 0 || n != 1)
                return 1;
        printf("%s=%s\n", p[0].key, p[0].value);
        cgd_properties_free(p, n);
        return 0;
}
C
ok "a program built with pkg-config cgdelegate links the shared object and runs" \
   'PKG_CONFIG_PATH="$build/uninstalled" ${CC:-cc} $san -o "$t/p" "$t/p.c" $(PKG_CONFIG_PATH="$build/uninstalled" pkg-config --cflags --libs cgdelegate) -Wl,-rpath,"$build" &&
    [ "$("$t/p")" = "memory.max=1073741824" ] && ldd "$t/p" | grep -q "libcgdelegate.so.0 => $build/"'
[ "$failed" = 0 ]
