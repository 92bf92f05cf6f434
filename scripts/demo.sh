#!/usr/bin/env bash
# make demo: run a container from the built-in busybox image (Debian's busybox-static)
# and show, next to the host's, what it sees: its own hostname, itself as pid 1, its
# own mount table.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runtime="$PWD/$build/berth-runtime"
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
root="$work/state"
trap '"$runtime" --root "$root" delete --force demo >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# The built-in busybox image: one static binary and its applet links.
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/etc"
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list | grep -vx busybox); do
        ln -sf busybox "$work/bundle/rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$work/bundle/rootfs/etc/passwd"
echo "root:x:0:" >"$work/bundle/rootfs/etc/group"

"$runtime" spec --bundle "$work/bundle"
/usr/bin/python3 - "$work/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
c["process"]["terminal"] = False
c["hostname"] = "berth-demo"
c["process"]["args"] = ["sh", "-c",
    "echo \"hostname:   $(hostname)\"; "
    "echo \"my pid:     $$\"; "
    "echo \"processes:  $(ls -d /proc/[0-9]* | wc -l) (ps:)\"; ps -o pid,comm | sed 's/^/            /'; "
    "echo \"mounts:     $(wc -l < /proc/self/mounts)\"; sed 's/^/            /' /proc/self/mounts; "
    "echo \"network:    $(ls /sys/class/net | tr '\\n' ' ')\""]
json.dump(c, open(path, "w"), indent=2)
PY

echo "== host"
echo "hostname:   $(hostname)"
echo "my pid:     $$"
echo "processes:  $(ls -d /proc/[0-9]* | wc -l)"
echo "mounts:     $(wc -l </proc/self/mounts)"
echo
echo "== container (berth-runtime run, busybox-static rootfs)"
"$runtime" --root "$root" run --bundle "$work/bundle" demo
