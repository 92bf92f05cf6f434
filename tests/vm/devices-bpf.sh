#!/bin/sh
# Guest script: the cgroup v2 device filter (src/cgroup/devices-bpf.c) against a real kernel.
#   tests/vm/run.sh --file build/tests/vm/devices-bpf-check:/usr/local/bin/devices-bpf-check \
#           -- tests/vm/devices-bpf.sh
set -u

CHECK=/usr/local/bin/devices-bpf-check
if [ ! -x "$CHECK" ]; then
        echo "FAIL - $CHECK is missing (pass it with --file)"
        echo "0 passed, 1 failed"
        exit 1
fi
exec "$CHECK" /sys/fs/cgroup/berth-devices-check
