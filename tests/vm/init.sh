#!/bin/sh
# /init of the berth test VM, run by busybox sh as PID 1.
#
# Stage 1 runs on the initramfs and copies it to a tmpfs, because
# pivot_root(2) fails with EINVAL while the root is the initramfs itself
# and container runtimes need pivot_root. Stage 2 runs on that tmpfs: it
# sets the system up (pure cgroup v2), runs the guest script with its
# output on the second serial port, writes "BERTH-VM-EXIT=<status>" on the
# console (first serial port) and powers off. tests/vm/run.sh builds the
# image and reads both ports.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

if [ "${1-}" != stage2 ]; then
        mount -t devtmpfs -o mode=0755 devtmpfs /dev
        exec </dev/console >/dev/console 2>&1
        mkdir -p /newroot
        mount -t tmpfs -o mode=0755 tmpfs /newroot
        for entry in /* /.[!.]*; do
                case $entry in
                /dev | /newroot | /proc | /sys | '/.[!.]*') ;;
                *) cp -a "$entry" /newroot/ ;;
                esac
        done
        mkdir -p /newroot/dev /newroot/proc /newroot/sys
        mount --move /dev /newroot/dev
        # switch_root empties the initramfs, which gives its memory back.
        exec switch_root /newroot /init stage2
fi

# is_user_process PID: true for a live process that is not a kernel thread.
is_user_process() {
        stat=
        read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
        # Fields after "(comm) ": state ppid pgrp session tty tpgid flags ...
        # shellcheck disable=SC2086 # split into fields on purpose
        set -- ${stat##*) }
        case $1 in Z | X) return 1 ;; esac
        # PF_KTHREAD
        [ $(($7 & 0x200000)) -eq 0 ]
}

# kill_all_but [PID]...: SIGKILL every user process except PID 1 and the
# given ones, and wait (up to 5 s) until they are gone. A process that
# still held the output port would keep its last bytes from draining.
kill_all_but() {
        tries=0
        while :; do
                left=
                for dir in /proc/[0-9]*; do
                        pid=${dir#/proc/}
                        case " 1 $$ $* " in *" $pid "*) continue ;; esac
                        is_user_process "$pid" || continue
                        kill -9 "$pid" 2>/dev/null
                        left=1
                done
                [ -z "$left" ] && return 0
                tries=$((tries + 1))
                [ "$tries" -ge 100 ] && return 1
                usleep 50000
        done
}

# report STATUS: never returns.
report() {
        kill_all_but
        # Closing the last descriptor of a tty waits until its output has
        # been sent, so nothing is lost by the power-off below.
        exec >/dev/null 2>&1
        echo "BERTH-VM-EXIT=$1" >/dev/ttyS0
        poweroff -f
        sleep 10
        exit "$1"
}

fatal() {
        echo "vm: init: $*" >&2
        report 125
}

mount -t proc -o nosuid,nodev,noexec proc /proc
# The raw mode keeps newlines as they are; fall back to the console if
# QEMU was started without a second serial port.
if stty -F /dev/ttyS1 raw -echo 2>/dev/null; then
        exec </dev/null >/dev/ttyS1 2>&1
fi

mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || fatal "cannot mount sysfs"
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup ||
        fatal "cannot mount cgroup2 on /sys/fs/cgroup"
mkdir -p /dev/pts /dev/shm /run /tmp /root
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs /run
chmod 1777 /tmp
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
hostname berth-vm
ip link set lo up

# One boot that only proves the guest runs: used by run.sh to test KVM.
case " $(cat /proc/cmdline) " in *" berth.probe "*) report 0 ;; esac

if [ -f /vm/modules.load ]; then
        while read -r module; do
                insmod "$module" || echo "vm: init: insmod $module failed" >&2
        done </vm/modules.load
fi

# The script writes into a pipe, not the tty: it sees no terminal, as in
# CI, and what it leaves running cannot hold the port open after it exits.
mkfifo /run/vm-output
cat /run/vm-output &
cat_pid=$!
(cd /root && exec sh /vm/run </dev/null >/run/vm-output 2>&1) &
wait $!
status=$?
kill_all_but "$cat_pid" || echo "vm: init: some processes did not exit" >&2
wait "$cat_pid"
report "$status"
