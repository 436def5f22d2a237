#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The man pages (man/) and the bash completion (completion/cgdelegatectl). Every page renders
# without a single warning (man --warnings=all and groff -ww), has its sections, and stays true
# to the programs: every option of each program (its getopt table and its --help), every verb
# of cgdelegatectl and each verb's options, --version exactly where the program answers it, every
# policy key of lib/policy.c with its range and default, both policy groups and every property
# of lib/knob.c, every systemd name client/sdprop.c translates, the OCI hook's stages and
# configuration keys. The completion is sourced in bash and asked as bash would ask it (COMP_WORDS
# split at ':' and '=', COMP_LINE, COMP_POINT): verbs, options, container names and NAME:/path
# from a stand-in cgdelegatectl, and nothing the real program knows is missing from it.
# Unprivileged; TAP.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${CGD_BUILD:-$root/build}
t=$(mktemp -d /tmp/cgd-man.XXXXXX)
trap 'rm -rf "$t"' EXIT
# shellcheck source=tests/common/tap.sh
. "$root/tests/common/tap.sh"
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }

man=$root/man
pages="cgdelegated.8 cgdelegatectl.1 cgdelegate-systemd-bridge.8 cgdelegate-oci-hook.1 cgdelegate.policy.5"
daemon=$build/daemon/cgdelegated ctl=$build/client/cgdelegatectl
bridge=$build/bridge/cgdelegate-systemd-bridge hook=$build/oci-hook/cgdelegate-oci-hook
has_man=0 has_groff=0
command -v man >/dev/null && has_man=1
command -v groff >/dev/null && has_groff=1
if [ "$has_man$has_groff" = 00 ]; then
        echo "1..0 # SKIP needs man (Debian: man-db) or groff (groff-base) to render the pages"
        exit 0
fi
# No leak report of a sanitizer build may end up in what is compared.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

# ---- helpers ----

# The page's source with the escapes that matter for matching undone: \- is -, fonts and \& go.
text() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "$man/$1"; }
# The tags of its .TP entries (the line after each .TP), normalized: where options, verbs and
# keys are documented.
tags() { text "$1" | awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }'; }
# has_opt OPTION FILE: OPTION as a whole word (options are [a-z0-9-]).
has_opt() { grep -qE -- "(^|[^a-zA-Z0-9-])$1([^a-zA-Z0-9-]|\$)" "$2"; }
# missing_opts OPTIONS FILE: prints the options that FILE lacks; false if there is one.
missing_opts() {
        local o r=0
        for o in $1; do has_opt "$o" "$2" || { echo "missing: $o"; r=1; }; done
        return $r
}
long_opts() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
# The options of a source file's getopt tables ({ "name", no_argument, ... }), as --name.
table_opts() { grep -oE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$root/$1" | sed -E 's/^\{ *"([^"]*)".*/--\1/' | sort -u; }
# Its short options (getopt_long's and cgdelegatectl's parse_options' strings), as -x.
short_opts() { grep -oE '(getopt_long|parse_options)\(argc, argv, "[^"]*"' "$root/$1" | sed -E 's/.*"([^"]*)"/\1/' | tr -d '+:' | grep -o . | sed 's/^/-/' | sort -u; }
built() { [ -x "$1" ]; }
# each LIST PREDICATE ARGS...: PREDICATE ARGS... ITEM for every item of the file LIST (at least
# one), naming those that fail.
each() {
        local list=$1 x r=0
        shift
        nonempty "$list" || return 1
        for x in $(cat "$list"); do "$@" "$x" || { echo "fails for $x"; r=1; }; done
        return $r
}
# tag_starts PAGE REGEX WORD: an entry of PAGE starts with macro and WORD followed by REGEX.
tag_starts() { grep -qE "^\.B[IR]? \"?$3$2" "$t/$1.tags"; }
# tag_has PAGE WORD: WORD is a whole word of an entry of PAGE.
tag_has() { grep -qE "(^|[ \"])$2([ \",]|\$)" "$t/$1.tags"; }
# text_has PAGE STRING: STRING is in PAGE.
text_has() { grep -qF -- "$2" "$t/$1.text"; }
# line_starts PAGE WORD: a line of PAGE is .B WORD or .BR WORD ...
line_starts() { grep -qE "^\.BR? $2( |\$)" "$t/$1.text"; }
# group_section PAGE GROUP: PAGE has the section [GROUP].
group_section() { grep -qx "\.SH \[$2\]" "$t/$1.text"; }
# offered FILE WORD: WORD is a line of FILE.
offered() { grep -qx -- "$2" "$1"; }
nonempty() { [ -s "$1" ] || { echo "nothing extracted into $1: the extraction no longer matches the source"; return 1; }; }

for p in $pages; do
        text "$p" >"$t/$p.text"
        tags "$p" >"$t/$p.tags"
done

# ---- rendering ----

for p in $pages; do
        if [ "$has_man" = 1 ]; then
                ok "$p renders with man --warnings=all, not a warning" \
                   'LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l "$man/$p" 2>"$t/err" >"$t/$p.txt" && [ -s "$t/$p.txt" ] && ! [ -s "$t/err" ] || { cat "$t/err"; false; }'
        fi
        if [ "$has_groff" = 1 ]; then
                ok "$p: groff -man -ww -z is silent" 'groff -man -ww -z "$man/$p" >"$t/err" 2>&1 && ! [ -s "$t/err" ] || { cat "$t/err"; false; }'
        fi
done
if command -v lexgrog >/dev/null; then
        for p in $pages; do
                ok "$p: its NAME line parses (lexgrog), naming ${p%.*}" \
                   'lexgrog "$man/$p" && lexgrog "$man/$p" | grep -q ": \"${p%.*} - "'
        done
fi
# Sections: every page NAME..SEE ALSO; programs OPTIONS and EXIT STATUS; cgdelegatectl COMMANDS;
# the policy page its two groups.
sections() {
        local s r=0
        for s in "$@"; do grep -qE "^\.SH \"?$s\"?\$" "$man/$p" || { echo "no section $s"; r=1; }; done
        return $r
}
for p in $pages; do
        case $p in
        cgdelegatectl.1) want='OPTIONS COMMANDS ENVIRONMENT EXIT.STATUS' ;;
        cgdelegate.policy.5) want='SYNTAX .Policy. .Ceilings.' ;;
        cgdelegated.8 | cgdelegate-systemd-bridge.8) want='OPTIONS ENVIRONMENT EXIT.STATUS' ;;
        *) want='OPTIONS EXIT.STATUS' ;;
        esac
        ok "$p has NAME, SYNOPSIS, DESCRIPTION, $want, FILES, EXAMPLES and SEE ALSO" \
           "sections NAME SYNOPSIS DESCRIPTION $want FILES EXAMPLES SEE.ALSO"
done

# ---- the pages and the sources ----

# Every option in a program's getopt tables is an entry of its page, short options too.
while read -r src page; do
        ok "$page documents every option of $src's getopt tables as an entry" \
           'table_opts "$src" >"$t/o" && nonempty "$t/o" && missing_opts "$(cat "$t/o")" "$t/$page.tags"'
        ok "$page documents every short option of $src" \
           'short_opts "$src" >"$t/o" && nonempty "$t/o" && missing_opts "$(cat "$t/o")" "$t/$page.tags"'
done <<EOF
daemon/main.c cgdelegated.8
client/cgdelegatectl.c cgdelegatectl.1
bridge/bridge.c cgdelegate-systemd-bridge.8
oci-hook/cgdelegate-oci-hook.c cgdelegate-oci-hook.1
EOF

# The capabilities the daemon keeps (daemon/caps.c's kept[]), each named in cgdelegated.8.
if [ -e "$root/daemon/caps.c" ]; then
        sed -n '/^} kept\[\] = {/,/^};/p' "$root/daemon/caps.c" | grep -oE '\{ *CAP_[A-Z_]+' | tr -d '{ ' >"$t/caps"
        ok "cgdelegated.8 names every capability the daemon keeps ($(tr '\n' ' ' <"$t/caps"))" 'each "$t/caps" text_has cgdelegated.8'
fi

# [Policy] keys: the table policy_keys[] of lib/policy.c, each an entry KEY= of the page with
# its range (NUM_KEY's bounds) and its built-in default (builtin_default).
sed -n '/^static const PolicyKey policy_keys\[\] = {/,/^};/p' "$root/lib/policy.c" >"$t/keys.c"
grep -oE '"[A-Z][A-Za-z]+"' "$t/keys.c" | tr -d '"' >"$t/keys"
ok "cgdelegate.policy.5 has an entry for every [Policy] key of lib/policy.c ($(wc -l <"$t/keys") keys)" \
   '[ "$(wc -l <"$t/keys")" -ge 10 ] && each "$t/keys" tag_starts cgdelegate.policy.5 ='
# The text of KEY's entry, one line: from its tag to the next entry or section.
entry() { awk -v k="$1" '/^\.(TP|SH|SS)/ { on = 0 } on { printf "%s ", $0 } $0 ~ "^\\.BI? \"?" k "=" { on = 1 }' "$t/cgdelegate.policy.5.text" |
          sed -E 's/(^| )\.[A-Z]+ /\1/g; s/"//g; s/  +/ /g'; }
define() { sed -nE "s/^#define $1 ([0-9]+)U?\b.*/\1/p" "$root/lib/policy.c" "$root/lib/policy.h" | head -1; }
ranges_and_defaults() {
        local r=0 line key field lo hi def e
        while read -r line; do
                key=$(echo "$line" | sed -E 's/.*_KEY\("([A-Za-z]+)".*/\1/')
                field=$(echo "$line" | sed -E 's/.*_KEY\("[A-Za-z]+", *([a-z_]+).*/\1/')
                def=$(sed -n '/^static const Policy builtin_default = {/,/^};/p' "$root/lib/policy.c" |
                      sed -nE "s/^ *\.$field = ([a-z0-9]+),.*/\1/p")
                e=$(entry "$key")
                case $line in
                *NUM_KEY*)
                        lo=$(echo "$line" | sed -E 's/.*NUM_KEY\([^,]*,[^,]*, *([A-Z_0-9]+), *([A-Z_0-9]+)\).*/\1/')
                        hi=$(echo "$line" | sed -E 's/.*NUM_KEY\([^,]*,[^,]*, *([A-Z_0-9]+), *([A-Z_0-9]+)\).*/\2/')
                        [[ $lo =~ ^[0-9]+$ ]] || lo=$(define "$lo")
                        [[ $hi =~ ^[0-9]+$ ]] || hi=$(define "$hi")
                        [[ $e == *"$lo to $hi"* && $e == *"default $def"* ]] ||
                                { echo "$key: want '$lo to $hi' and 'default $def' in: $e"; r=1; } ;;
                *BOOL_KEY*)
                        [ "$def" = true ] && def=yes || def=no
                        [[ $e == *"Default: $def"* ]] || { echo "$key: want 'Default: $def' in: $e"; r=1; } ;;
                esac
        done < <(grep -E '(NUM|BOOL)_KEY\("' "$t/keys.c")
        return $r
}
ok "cgdelegate.policy.5 gives each numeric key its range and default, each switch its default" \
   '[ "$(grep -cE "(NUM|BOOL)_KEY\(\"" "$t/keys.c")" -ge 8 ] && ranges_and_defaults'
sed -nE 's/^static const char \*const group_names\[\] = \{ *(.*) *\};/\1/p' "$root/lib/policy.c" | grep -oE '"[A-Za-z]+"' | tr -d '"' >"$t/groups"
ok "cgdelegate.policy.5 has a section for each group of lib/policy.c ($(tr '\n' ' ' <"$t/groups"))" \
   'each "$t/groups" group_section cgdelegate.policy.5'
# The properties: lib/knob.c's table, each KNOB_ID, "key", KNOB_KIND_...
grep -oE 'KNOB_[A-Z0-9_]+, "[a-z0-9.]+", KNOB_KIND' "$root/lib/knob.c" | sed -E 's/.*"([^"]*)".*/\1/' | sort -u >"$t/props"
for p in cgdelegate.policy.5 cgdelegatectl.1; do
        ok "$p names every property of lib/knob.c ($(wc -l <"$t/props"))" \
           'each "$t/props" text_has "$p"'
done
# systemd's names: client/sdprop.c's table { "Name", "v2.key", parse_... }.
grep -oE '^ *\{ *"[A-Z][A-Za-z]+", *"[a-z0-9.]+", *parse_' "$root/client/sdprop.c" | sed -E 's/^ *\{ *"([^"]*)".*/\1/' >"$t/sdnames"
ok "cgdelegatectl.1 lists every systemd name client/sdprop.c translates ($(wc -l <"$t/sdnames"))" \
   'each "$t/sdnames" line_starts cgdelegatectl.1'
# The OCI hook: its stages and the keys of its configuration.
grep -oE 'streq\(stage, "[A-Za-z]+"\)' "$root/oci-hook/cgdelegate-oci-hook.c" | sed -E 's/.*"(.*)".*/\1/' | sort -u >"$t/stages"
ok "cgdelegate-oci-hook.1 documents every stage ($(tr '\n' ' ' <"$t/stages"))" \
   'each "$t/stages" tag_has cgdelegate-oci-hook.1'
grep -oE '(get_or\(kf|"Hook"), "[A-Z][A-Za-z]+"' "$root/oci-hook/hookconf.c" | sed -E 's/.*"([A-Za-z]+)"$/\1/' | sort -u >"$t/hookkeys"
ok "cgdelegate-oci-hook.1 has an entry for every configuration key of hookconf.c ($(tr '\n' ' ' <"$t/hookkeys"))" \
   'each "$t/hookkeys" tag_starts cgdelegate-oci-hook.1 ='

# ---- the pages and the programs ----

while read -r prog page; do
        name=${prog##*/}
        if ! built "$prog"; then
                skip "$name is not built ($prog; make)"
                skip "$name is not built ($prog; make)"
                continue
        fi
        ok "$page documents every long option $name --help prints" \
           '"$prog" --help >"$t/help" 2>&1; long_opts <"$t/help" >"$t/o" && nonempty "$t/o" && missing_opts "$(cat "$t/o")" "$t/$page.text"'
        # --version: an entry exactly when the program answers it.
        if "$prog" --version 2>/dev/null | grep -qE "^$name [0-9]"; then
                ok "$name answers --version, and $page has an entry for it" 'grep -qE "(^|[ \"])--version( |\"|\$)" "$t/$page.tags"'
        else
                ok "$name has no --version, and $page has no entry for one" '! grep -qE "(^|[ \"])--version( |\"|\$)" "$t/$page.tags"'
        fi
done <<EOF
$daemon cgdelegated.8
$ctl cgdelegatectl.1
$bridge cgdelegate-systemd-bridge.8
$hook cgdelegate-oci-hook.1
EOF

if built "$ctl"; then
        "$ctl" help >"$t/ctlhelp" 2>&1
        # The verb list: the indented lines between the usage text and "Options:".
        sed -n '/^Options:/q; p' "$t/ctlhelp" | sed -nE 's/^  ([a-z][a-z-]*)( .*)?$/\1/p' >"$t/verbs"
        ok "cgdelegatectl.1 has a COMMANDS entry for every verb of cgdelegatectl help ($(wc -l <"$t/verbs") verbs)" \
           '[ "$(wc -l <"$t/verbs")" -ge 10 ] && each "$t/verbs" tag_starts cgdelegatectl.1 "( |\"|\$)"'
        for v in $(cat "$t/verbs"); do
                ok "cgdelegatectl.1 documents every long option of cgdelegatectl $v --help" \
                   '"$ctl" "$v" --help >"$t/vhelp" 2>&1 && grep -q "^Usage: cgdelegatectl $v" "$t/vhelp" &&
                    long_opts <"$t/vhelp" >"$t/o"; missing_opts "$(cat "$t/o")" "$t/cgdelegatectl.1.text"'
        done
else
        skip "cgdelegatectl is not built ($ctl; make): verbs and their options"
fi

# ---- the completion ----

comp=$root/completion/cgdelegatectl
# A stand-in cgdelegatectl for the names: `--no-legend list` and `--no-legend policy` as the real
# one prints them (ctl-output.c: columns two blanks apart, name first), `--json tree` as JSON.
mkdir -p "$t/bin"
cat >"$t/bin/cgdelegatectl" <<'EOF'
#!/bin/bash
[ "$1" = --socket ] && { echo "$2" >>"${0%/*}/sockets"; shift 2; }
case "$*" in
"--no-legend list") printf 'db   default  -     0  0   0  /machines/db\nweb  web      4242  1  17  2  /machines/web\n' ;;
"--no-legend policy") printf 'default\nweb\n' ;;
"--json tree web:/") echo '{"path": "/", "processes": 1, "children": [{"path": "/app", "processes": 2, "children": [{"path": "/app/worker", "processes": 0, "children": []}]}]}' ;;
"--json tree") echo '{"path": "/", "processes": 1, "children": [{"path": "/srv", "processes": 0, "children": []}]}' ;;
*) exit 1 ;;
esac
EOF
chmod +x "$t/bin/cgdelegatectl"
# complete_line LINE: what the completion offers at the end of LINE, one a line, with COMP_WORDS
# split as bash splits them (at blanks, and ':' and '=' as words of their own).
cat >"$t/complete.sh" <<'EOF'
. "$1" || exit 1
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
COMP_LINE=$2
read -ra COMP_WORDS <<<"$(sed -E 's/([:=])/ \1 /g' <<<"$COMP_LINE")"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_POINT=${#COMP_LINE}
_cgdelegatectl || exit 1
[ ${#COMPREPLY[@]} = 0 ] || printf '%s\n' "${COMPREPLY[@]}"
EOF
complete_line() { bash "$t/complete.sh" "$comp" "$1"; }
# shellcheck disable=SC2034 # used in the checks' eval'ed text
fake=$t/bin/cgdelegatectl
# verb_options_offered VERB: cgdelegatectl VERB --<TAB> offers every long option of VERB --help.
verb_options_offered() {
        "$ctl" "$1" --help | long_opts >"$t/vo"
        complete_line "cgdelegatectl $1 --" >"$t/voffered"
        [ -s "$t/vo" ] || return 0
        each "$t/vo" offered "$t/voffered"
}
ok "the completion is valid bash and registers _cgdelegatectl for cgdelegatectl" \
   'bash -n "$comp" && bash -c ". \"\$0\" && complete -p cgdelegatectl" "$comp" | grep -q "_cgdelegatectl cgdelegatectl$"'
ok "cgdelegatectl fr<TAB> completes freeze" '[ "$(complete_line "cgdelegatectl fr")" = freeze ]'
ok "cgdelegatectl --j<TAB> completes --json" '[ "$(complete_line "cgdelegatectl --j")" = --json ]'
ok "cgdelegatectl --no-legend st<TAB> offers status and stats" '[ "$(complete_line "cgdelegatectl --no-legend st" | tr "\n" " ")" = "status stats " ]'
ok "cgdelegatectl kill /app --s<TAB> completes --signal, and --signal K<TAB> KILL" \
   '[ "$(complete_line "cgdelegatectl kill /app --s")" = --signal ] && [ "$(complete_line "cgdelegatectl kill /app --signal K")" = KILL ]'
ok "cgdelegatectl set /app TasksM<TAB> completes TasksMax= (the value follows in the same word)" \
   '[ "$(complete_line "cgdelegatectl set /app TasksM")" = TasksMax= ]'
ok "unregister <TAB> offers the container names of --no-legend list" \
   '[ "$(complete_line "$fake unregister " | tr "\n" " ")" = "db web " ]'
ok "freeze w<TAB> on the host completes the container as web:" '[ "$(complete_line "$fake freeze w")" = web: ]'
ok "freeze web:/a<TAB> offers the groups below /a (readline replaces the text after the colon)" \
   '[ "$(complete_line "$fake freeze web:/a" | tr "\n" " ")" = "/app /app/worker " ]'
ok "--socket=/c/socket tree /<TAB> offers the container socket's groups, asked on that socket" \
   '[ "$(complete_line "$fake --socket=/c/socket tree /" | tr "\n" " ")" = "/ /srv " ] && grep -qx /c/socket "$t/bin/sockets"'
ok "register x --policy <TAB> offers the loaded policies" '[ "$(complete_line "$fake register x --policy " | tr "\n" " ")" = "default web " ]'
ok "the completion knows every systemd name of client/sdprop.c and every property of lib/knob.c" \
   'complete_line "cgdelegatectl set /app " | sed "s/=\$//" >"$t/keys-offered" &&
    each "$t/sdnames" offered "$t/keys-offered" && each "$t/props" offered "$t/keys-offered"'
if built "$ctl"; then
        ok "cgdelegatectl <TAB> offers exactly the verbs of cgdelegatectl help" \
           'complete_line "cgdelegatectl " | sort >"$t/offered" && sort "$t/verbs" | diff - "$t/offered"'
        ok "cgdelegatectl --<TAB> offers every global option of cgdelegatectl help" \
           'sed -n "/^Options:/,\$p" "$t/ctlhelp" | long_opts >"$t/o" && complete_line "cgdelegatectl --" >"$t/offered" &&
            each "$t/o" offered "$t/offered"'
        ok "cgdelegatectl VERB --<TAB> offers every long option of VERB --help, for every verb" \
           'each "$t/verbs" verb_options_offered'
else
        skip "cgdelegatectl is not built ($ctl; make): the completion against its help"
fi

echo "1..$n"
[ "$failed" = 0 ]
