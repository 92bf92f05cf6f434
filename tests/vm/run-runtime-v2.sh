#!/bin/bash
# Run tests/vm/runtime-v2.sh (berth-runtime's cgroup v2 checks, issue 3) in the pure cgroup v2
# VM, one boot. The guest builds its bundle rootfs from the busybox already in the VM.
# Usage: tests/vm/run-runtime-v2.sh [BUILD_DIR [CHECK]...]
#   BUILD_DIR defaults to $BERTH_BUILD_DIR, else build; CHECKs (check_oom ...) pick checks.
# Exit status: the guest script's (non-zero when a check failed).
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$VM_DIR/../.." && pwd)
build=${1:-${BERTH_BUILD_DIR:-build}}
if (($# > 0)); then
        shift
fi
[[ $build == /* ]] || build=$REPO_DIR/$build

runtime=$build/berth-runtime
probe=$build/tests/helpers/berth-probe
for f in "$runtime" "$probe"; do
        if [[ ! -x $f ]]; then
                echo "vm: $f: not built (run 'ninja -C $build')" >&2
                exit 1
        fi
done

args=(--timeout 120
        --file "$runtime:/usr/local/bin/berth-runtime"
        --file "$probe:/usr/local/bin/berth-probe")
if [[ -n ${BERTH_MUST_WORK:-} ]]; then
        args+=(--env "BERTH_MUST_WORK=$BERTH_MUST_WORK")
fi
exec "$VM_DIR/run.sh" "${args[@]}" -- "$VM_DIR/runtime-v2.sh" "$@"
