#!/usr/bin/env bash
# make demo: build the built-in busybox image (Debian's busybox-static) as an OCI image, load it
# into a store of its own and `berth run` it, showing next to the host's what the container
# sees: its own hostname, itself as pid 1, its own mount table. No network needed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
case $build in /*) berth="$build/berth" ;; *) berth="$PWD/$build/berth" ;; esac
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The built-in busybox image: one static binary and its applet links, in an OCI layout.
mkdir -p "$work/src/bin" "$work/src/etc"
cp /bin/busybox "$work/src/bin/busybox"
for applet in $(/bin/busybox --list | grep -vx busybox); do
        ln -sf busybox "$work/src/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$work/src/etc/passwd"
echo "root:x:0:" >"$work/src/etc/group"
umoci init --layout "$work/layout"
umoci new --image "$work/layout:demo"
umoci insert --image "$work/layout:demo" "$work/src" /
umoci config --image "$work/layout:demo" --os linux --architecture amd64 --config.cmd /bin/sh
"$berth" image load --storage "$work/store" --dir "$work/layout" --name localhost/busybox:demo >/dev/null

echo "== host"
echo "hostname:   $(hostname)"
echo "my pid:     $$"
echo "processes:  $(ls -d /proc/[0-9]* | wc -l)"
echo "mounts:     $(wc -l </proc/self/mounts)"
echo
echo "== container (berth run --rm localhost/busybox:demo)"
"$berth" run --rm --storage "$work/store" --name berth-demo localhost/busybox:demo sh -c \
        'echo "hostname:   $(hostname)"; echo "my pid:     $$";
         echo "processes:  $(ls -d /proc/[0-9]* | wc -l) (ps:)"; ps -o pid,comm | sed "s/^/            /";
         echo "mounts:     $(wc -l < /proc/self/mounts)"; sed "s/^/            /" /proc/self/mounts;
         echo "network:    $(ls /sys/class/net | tr "\n" " ")"'
