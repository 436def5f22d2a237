#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The fuzz lane of `make check-fuzz` (docs/fuzzing.md). For each libFuzzer target BUILD/fuzz/fuzz-NAME:
# every seed of tests/fuzz/corpus/NAME run once (a regression run), then CGD_FUZZ_SECONDS
# (default 30) seconds of fuzzing from a copy of that corpus, with tests/fuzz/NAME.dict when there
# is one. Two TAP lines per target. A crash, leak, timeout (10 s for one input) or running out of
# memory fails the lane; the "not ok" line names the input that did it, which is kept with the
# logs in the scratch directory. A target that cannot run here (fuzz-handlers needs root and a
# writable cgroupfs) exits with status 77 after a line "fuzz-NAME: skipped: WHY": both of its
# lines are skips. libFuzzer's own failures exit with 77 too (-error_exitcode), so the line decides. Everything is written below that directory, never into the source tree;
# it is removed when every target passed.
# Usage: tests/fuzz/run-fuzz.sh BUILD/fuzz/fuzz-NAME...
set -u
here=$(cd "$(dirname "$0")" && pwd)
seconds=${CGD_FUZZ_SECONDS:-30}
# The longest input each target is given: past each parser's own limit (4095-byte values and
# paths) so that the limit itself is tried, small enough to keep the runs fast.
# fuzz-handlers: a few dozen bytes make a call; CALLS_MAX calls fit well below its limit.
declare -A max_len=([knob]=4200 [cgpath]=4200 [policy]=8192 [ocistate]=4096 [wire]=8192 [handlers]=1024)

[ $# -gt 0 ] || { echo "run-fuzz: no fuzz targets (make fuzz builds them)" >&2; exit 1; }
t=$(mktemp -d "${TMPDIR:-/tmp}/cgd-fuzz.XXXXXX") || exit 1
export TMPDIR=$t # fuzz-wire's socket directory, and anything else a target makes
n=0 failed=0

# skipped STATUS LOG: the target said it cannot run here.
skipped() {
        [ "$1" = 77 ] && grep -q '^fuzz-[a-z]*: skipped: ' "$2"
}

# report DESCRIPTION LOG STATUS: one TAP line; on failure the input at fault and the log's tail.
report() {
        n=$((n + 1))
        if [ "$3" = 0 ]; then
                echo "ok $n - $1"
                return
        fi
        if skipped "$3" "$2"; then
                echo "ok $n - $1 # SKIP $(sed -n 's/^fuzz-[a-z]*: skipped: //p' "$2" | head -n 1)"
                return
        fi
        failed=$((failed + 1))
        local input
        input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$2" | tail -n 1)
        [ -n "$input" ] || input=$(sed -n 's/^Running: \(.*\)$/\1/p' "$2" | tail -n 1)
        echo "not ok $n - $1: ${input:-exit status $3} (log: $2)"
        grep -E -m 24 'invariant failed|ERROR:|SUMMARY:|^ *#[0-9]+ ' "$2" | sed 's/^/#   /'
}

echo "1..$(($# * 2))"
for bin in "$@"; do
        name=${bin##*/fuzz-}
        work=$t/$name
        mkdir -p "$work/corpus" "$work/artifacts"
        [ -d "$here/corpus/$name" ] && cp -r "$here/corpus/$name/." "$work/corpus/"
        args=(-max_len="${max_len[$name]:-4096}" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/")
        [ -f "$here/$name.dict" ] && args+=(-dict="$here/$name.dict")

        seeds=("$work"/corpus/*)
        if [ -e "${seeds[0]}" ]; then
                timeout 600 "$bin" "${args[@]}" "${seeds[@]}" >"$work/regression.log" 2>&1
                status=$?
                report "fuzz-$name: ${#seeds[@]} seeds of tests/fuzz/corpus/$name" "$work/regression.log" $status
                if skipped "$status" "$work/regression.log"; then
                        report "fuzz-$name: not fuzzed" "$work/regression.log" 77
                        continue
                fi
        else
                n=$((n + 1))
                echo "ok $n - fuzz-$name: no seeds # SKIP tests/fuzz/corpus/$name is empty"
        fi

        timeout $((seconds + 300)) "$bin" "${args[@]}" -max_total_time="$seconds" -print_final_stats=1 \
                "$work/corpus" >"$work/fuzz.log" 2>&1
        status=$?
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
        speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log")
        report "fuzz-$name: ${seconds} s, ${runs:-?} runs, ${speed:-?} exec/s" "$work/fuzz.log" $status
done

if [ "$failed" -gt 0 ]; then
        echo "# $failed of $n failed; inputs and logs kept in $t"
        exit 1
fi
rm -rf "$t"
