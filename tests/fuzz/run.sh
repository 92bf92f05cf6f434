#!/usr/bin/env bash
# Run every libFuzzer target built by tests/fuzz/build.sh for a while, each on its corpus and the
# dictionary. New inputs go to BUILD_DIR/fuzz/corpus-NAME, not to the tree; --merge then adds those
# that reach new edges to tests/fuzz/corpora/NAME (commit them, but keep the corpora under 300
# files and 2 MB together: every file is a test case of `make test`). Crashes are written to
# BUILD_DIR/fuzz/crash-* (leaks to leak-*): fix the bug and add the input to the corpus.
# Usage: tests/fuzz/run.sh [--merge] [BUILD_DIR [SECONDS]]   (defaults: build-fuzz, 60)
set -uo pipefail
cd "$(dirname "$0")/../.."
merge=false
if [[ "${1:-}" == "--merge" ]]; then
        merge=true
        shift
fi
build=${1:-build-fuzz}
seconds=${2:-60}
targets=(config resources sched sim journal seccomp-profile)
out="$build/fuzz"
mkdir -p "$out"
failed=0

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

for t in "${targets[@]}"; do
        bin="$build/tests/fuzz/fuzz-$t"
        corpus="tests/fuzz/corpora/$t"
        if [[ ! -x "$bin" ]]; then
                echo "fuzz: $bin is missing (run tests/fuzz/build.sh $build)" >&2
                exit 1
        fi
        mkdir -p "$out/corpus-$t"
        if $merge; then
                echo "==> fuzz-$t: merging $out/corpus-$t into $corpus"
                "$bin" -merge=1 -use_counters=0 "$corpus" "$out/corpus-$t" 2>&1 | grep -E '^MERGE-OUTER: [0-9]+ new files'
                continue
        fi
        echo "==> fuzz-$t: ${seconds}s on $corpus"
        "$bin" -max_total_time="$seconds" -max_len=16384 -timeout=10 -print_final_stats=1 \
                -dict=tests/fuzz/config.dict -artifact_prefix="$out/" \
                "$out/corpus-$t" "$corpus" >"$out/fuzz-$t.log" 2>&1
        rc=$?
        grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' "$out/fuzz-$t.log"
        if [[ $rc -ne 0 ]]; then
                grep -E '^(==[0-9]+==ERROR|SUMMARY|.*check failed|artifact_prefix|Test unit written)' "$out/fuzz-$t.log" | head -20
                echo "fuzz-$t FAILED (exit status $rc): see $out/fuzz-$t.log"
                failed=$((failed + 1))
        fi
done

if ! $merge; then
        echo
        echo "new inputs are in $out/corpus-*; keep those that reach new code with: tests/fuzz/run.sh --merge $build"
fi
[[ $failed -eq 0 ]]
