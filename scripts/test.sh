#!/usr/bin/env bash
# Run every test berth has and print one total: "N passed, N failed".
# Usage: scripts/test.sh [BUILD_DIR] [ASAN_BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
asan=${2:-build-asan}
passed=0
failed=0
skipped=0
py=/usr/bin/python3

step() { printf '\n==> %s\n' "$*"; }
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

# Count TAP lines ("ok N", "not ok N") of one cmocka binary.
run_tap() {
        local out ok bad
        out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$1" 2>&1)
        local rc=$?
        ok=$(grep -c '^ok ' <<<"$out")
        bad=$(grep -c '^not ok ' <<<"$out")
        grep -E '^(not ok|#)' <<<"$out" | grep -v '^# ok' | head -40
        if [[ $rc -ne 0 && $bad -eq 0 ]]; then
                echo "$1 exited with status $rc"
                bad=1
        fi
        printf '%-40s %3d passed, %d failed\n' "$(basename "$1")" "$ok" "$bad"
        count "$ok" "$bad"
}

step "format (clang-format)"
unformatted=$(git ls-files '*.c' '*.h' | while read -r f; do
        clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
done)
if [[ -z "$unformatted" ]]; then
        echo "all sources formatted"
        count 1 0
else
        echo "not clang-format clean (run 'make format'):"
        echo "$unformatted"
        count 0 1
fi

step "unit tests"
for t in "$build"/tests/unit/test-*; do
        [[ -x "$t" && ! "$t" == *.p ]] && run_tap "$t"
done

step "unit tests under ASan+UBSan"
if [[ ! -f "$asan/build.ninja" ]]; then
        meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || count 0 1
fi
if ninja -C "$asan" >/dev/null; then
        for t in "$asan"/tests/unit/test-*; do
                [[ -x "$t" && ! "$t" == *.p ]] && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_tap "$t"
        done
else
        echo "ASan build failed"
        count 0 1
fi

step "fuzz corpora replayed under ASan+UBSan (tests/fuzz)"
replays=("$asan"/tests/fuzz/replay-*)
[[ -x "${replays[0]}" ]] || { echo "no replay binaries in $asan/tests/fuzz"; count 0 1; }
for t in "${replays[@]}"; do
        [[ -x "$t" && ! "$t" == *.p ]] && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_tap "$t"
done

step "system tests (pytest, as root)"
out=$(BERTH_BUILD_DIR="$PWD/$build" "$py" -m pytest -q -p no:cacheprovider tests/system 2>&1)
echo "$out" | tail -40
summary=$(grep -E '^[=]* ?[0-9]+ (passed|failed|error|skipped)' <<<"$out" | tail -1)
for kind in passed failed error errors skipped; do
        n=$(grep -oE "[0-9]+ $kind" <<<"$summary" | grep -oE '^[0-9]+' || true)
        case $kind in
        passed) count "${n:-0}" 0 ;;
        failed | error | errors) count 0 "${n:-0}" ;;
        skipped) skipped=$((skipped + ${n:-0})) ;;
        esac
done
if [[ -z "$summary" ]]; then
        echo "pytest printed no summary"
        count 0 1
fi

# Run a command that ends its output with "N passed, N failed[, N skipped]" and add its counts.
# No such line, or a failing exit status with no failed check, counts as one failure.
run_counted() {
        local out rc line p f s
        out=$("$@" 2>&1)
        rc=$?
        echo "$out" | tail -24
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
        if [[ -z "$line" ]]; then
                echo "no 'N passed, N failed' line from: $*"
                count 0 1
                return
        fi
        read -r p _ f _ s _ <<<"$line"
        f=${f%,}
        [[ $rc -ne 0 && $f -eq 0 ]] && f=1
        count "$p" "$f"
        skipped=$((skipped + ${s:-0}))
}

step "cgroup v2 VM smoke test (QEMU, pure cgroup v2 kernel)"
run_counted tests/vm/run.sh -- tests/vm/smoke.sh

step "cgroup v2 VM: eBPF device filter (tests/vm/devices-bpf.sh)"
run_counted tests/vm/run.sh --file "$build/tests/vm/devices-bpf-check:/usr/local/bin/devices-bpf-check" \
        -- tests/vm/devices-bpf.sh

step "cgroup v2 VM: berth-runtime limits, update, pause, events, cleanup (tests/vm/runtime-v2.sh)"
run_counted tests/vm/run-runtime-v2.sh "$build"

echo
if [[ $skipped -gt 0 ]]; then
        echo "$passed passed, $failed failed, $skipped skipped"
else
        echo "$passed passed, $failed failed"
fi
[[ $failed -eq 0 ]]
