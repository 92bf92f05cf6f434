#!/usr/bin/env bash
# Build the libFuzzer targets (tests/fuzz/fuzz-*) with clang, ASan and UBSan, in their own build
# directory: everything there carries the coverage instrumentation libFuzzer needs.
# Usage: tests/fuzz/build.sh [BUILD_DIR]   (default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}

if ! command -v clang >/dev/null; then
        echo "fuzz: clang is missing (scripts/deps.sh --fuzz installs it)" >&2
        exit 1
fi
# libFuzzer is in Debian's libclang-rt-N-dev; without it -fsanitize=fuzzer does not link.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$probe/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" 2>"$probe/err"; then
        cat "$probe/err" >&2
        echo "fuzz: clang cannot link libFuzzer (scripts/deps.sh --fuzz installs libclang-rt-dev)" >&2
        exit 1
fi

if [[ ! -f "$build/build.ninja" ]]; then
        # UBSan reports are crashes to libFuzzer, not warnings. clang counts vsnprintf(fmt) in a
        # printf-like function as a non-literal format, gcc does not.
        CC=clang meson setup "$build" -Dfuzzing=true -Dtests=true \
                -Db_sanitize=address,undefined -Db_lundef=false \
                -Dc_args="['-fno-sanitize-recover=undefined', '-Wno-format-nonliteral']" >/dev/null
fi
ninja -C "$build" tests/fuzz/fuzz-config tests/fuzz/fuzz-resources tests/fuzz/fuzz-sched tests/fuzz/fuzz-sim tests/fuzz/fuzz-journal tests/fuzz/fuzz-seccomp-profile
