#!/bin/sh
# Guest script: checks that the VM is a pure cgroup v2 system whose memory
# and pids controllers enforce their limits. Needs root and busybox sh.
#   tests/vm/run.sh -- tests/vm/smoke.sh
set -u

CG=/sys/fs/cgroup
TMPFS=/tmp/smoke-tmpfs
passed=0
failed=0

pass() {
        passed=$((passed + 1))
        echo "ok - $1"
}

fail() {
        failed=$((failed + 1))
        echo "FAIL - $1: $2"
}

# event FILE KEY: the value of KEY in a flat-keyed file such as memory.events.
event() {
        awk -v key="$2" '$1 == key { print $2 }' "$1"
}

# drain CGROUP: kill what is left in CGROUP and remove it.
drain() {
        [ -d "$1" ] || return 0
        echo 1 >"$1/cgroup.kill" 2>/dev/null
        i=0
        while grep -q '^populated 1' "$1/cgroup.events" && [ $i -lt 100 ]; do
                usleep 20000
                i=$((i + 1))
        done
        rmdir "$1"
}

check_cgroup2_root() {
        if grep -q "^cgroup2 $CG cgroup2 " /proc/mounts; then
                pass "cgroup2 is mounted at $CG"
        else
                fail "cgroup2 is mounted at $CG" "$(grep " $CG " /proc/mounts)"
        fi
}

check_no_v1() {
        v1=$(awk '$3 == "cgroup"' /proc/mounts)
        self=$(cat /proc/self/cgroup)
        if [ -n "$v1" ]; then
                fail "no cgroup v1 hierarchy" "mounted: $v1"
        elif [ "$self" != "0::/" ]; then
                fail "no cgroup v1 hierarchy" "/proc/self/cgroup: $self"
        else
                pass "no cgroup v1 hierarchy"
        fi
}

check_controllers() {
        controllers=$(cat "$CG/cgroup.controllers")
        missing=
        for c in memory pids cpu; do
                case " $controllers " in *" $c "*) ;; *) missing="$missing $c" ;; esac
        done
        if [ -n "$missing" ]; then
                fail "controllers memory, pids, cpu available" "missing:$missing (have: $controllers)"
        elif ! echo "+memory +pids +cpu" >"$CG/cgroup.subtree_control"; then
                fail "controllers memory, pids, cpu available" "cannot enable them for children"
        else
                pass "controllers memory, pids, cpu available"
        fi
}

# check_oom NAME COMMAND: COMMAND run in a cgroup with memory.max=32M must
# be OOM-killed and counted in memory.events.
check_oom() {
        name="memory.max kills $1"
        cg=$CG/smoke-$2
        mkdir "$cg" || {
                fail "$name" "cannot create $cg"
                return
        }
        echo 32M >"$cg/memory.max"
        [ -f "$cg/memory.swap.max" ] && echo 0 >"$cg/memory.swap.max"
        CG_PROCS=$cg/cgroup.procs sh -c 'echo $$ >"$CG_PROCS" && exec '"$3" >/dev/null 2>&1
        status=$?
        max=$(cat "$cg/memory.max")
        kills=$(event "$cg/memory.events" oom_kill)
        peak=$(cat "$cg/memory.peak" 2>/dev/null || echo "?")
        # tmpfs pages stay charged to the cgroup until the file is gone.
        rm -f "$TMPFS/fill"
        drain "$cg"
        if [ "$max" != 33554432 ]; then
                fail "$name" "memory.max reads $max"
        elif [ "$status" -ne 137 ]; then
                fail "$name" "writer exited with $status, not SIGKILL (peak $peak)"
        elif [ "${kills:-0}" -lt 1 ]; then
                fail "$name" "memory.events oom_kill is ${kills:-missing}"
        else
                pass "$name (oom_kill $kills, peak $peak bytes)"
        fi
}

check_pids() {
        name="pids.max stops a fork loop"
        cg=$CG/smoke-pids
        mkdir "$cg" || {
                fail "$name" "cannot create $cg"
                return
        }
        echo 8 >"$cg/pids.max"
        # busybox sh exits when fork fails, so the loop stops either way;
        # /tmp/smoke-forks counts the children it got.
        CG_PROCS=$cg/cgroup.procs sh -c '
                echo $$ >"$CG_PROCS" || exit 100
                i=0
                while [ $i -lt 64 ]; do
                        sleep 60 &
                        i=$((i + 1))
                        echo $i >/tmp/smoke-forks
                done' >/dev/null 2>&1
        status=$?
        forks=$(cat /tmp/smoke-forks 2>/dev/null || echo 0)
        current=$(cat "$cg/pids.current")
        limited=$(event "$cg/pids.events" max)
        rm -f /tmp/smoke-forks
        drain "$cg"
        if [ "$status" -eq 100 ]; then
                fail "$name" "cannot join $cg"
        elif [ "$forks" -ge 64 ]; then
                fail "$name" "all 64 forks succeeded"
        elif [ "$current" -gt 8 ]; then
                fail "$name" "pids.current is $current"
        elif [ "${limited:-0}" -lt 1 ]; then
                fail "$name" "pids.events max is ${limited:-missing}"
        else
                pass "$name ($forks forks, pids.events max $limited)"
        fi
}

check_cpu() {
        name="cpu.max and cpu.weight can be set"
        cg=$CG/smoke-cpu
        mkdir "$cg" || {
                fail "$name" "cannot create $cg"
                return
        }
        echo "50000 100000" >"$cg/cpu.max"
        echo 50 >"$cg/cpu.weight"
        max=$(cat "$cg/cpu.max")
        weight=$(cat "$cg/cpu.weight")
        drain "$cg"
        if [ "$max" != "50000 100000" ] || [ "$weight" != 50 ]; then
                fail "$name" "cpu.max '$max', cpu.weight '$weight'"
        else
                pass "$name"
        fi
}

check_cgroup2_root
check_no_v1
check_controllers
mkdir -p "$TMPFS"
mount -t tmpfs -o size=256M tmpfs "$TMPFS"
check_oom "a writer to tmpfs" oom-tmpfs "dd if=/dev/zero of=$TMPFS/fill bs=1M count=64"
check_oom "an allocating process" oom-anon \
        "awk 'BEGIN { s = \"x\"; for (;;) s = s s }'"
umount "$TMPFS"
check_pids
check_cpu

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
