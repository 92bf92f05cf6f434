#!/bin/sh
# Guest script: berth-runtime's cgroup v2 driver against a pure cgroup v2 kernel
# (issue 3: resource limits, exhaustion, update, pause/resume, events, cleanup).
# Runs with busybox sh as root in the VM; see tests/vm/run-runtime-v2.sh for the host side.
#   tests/vm/run-runtime-v2.sh [BUILD_DIR [CHECK]...]     (CHECK: check_oom ...; default all)
# Needs berth-runtime (BERTH_RUNTIME) and the static berth-probe (BERTH_PROBE) in the guest.
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed" at the end; the shell
# functions share globals, so helpers use _-prefixed names.
set -u

RUNTIME=${BERTH_RUNTIME:-/usr/local/bin/berth-runtime}
PROBE=${BERTH_PROBE:-/usr/local/bin/berth-probe}
STATE_ROOT=/run/berth-test
CG=/sys/fs/cgroup
CGP=$CG/berth-test
W=/tmp/berth-v2
ROOTFS=$W/rootfs
passed=0
failed=0
skipped=0

pass() {
        passed=$((passed + 1))
        echo "ok - $1"
}

fail() {
        failed=$((failed + 1))
        echo "not ok - $1: $2"
}

# skip NAME REASON: a check that cannot run here; a failure under BERTH_MUST_WORK=1.
skip() {
        if [ "${BERTH_MUST_WORK:-0}" = 1 ]; then
                fail "$1" "cannot run (BERTH_MUST_WORK=1): $2"
        else
                skipped=$((skipped + 1))
                echo "ok - $1 # SKIP $2"
        fi
}

rt() {
        timeout -k 5 30 "$RUNTIME" --root "$STATE_ROOT" "$@"
}

# key FILE KEY: the value of KEY in a flat-keyed file (memory.events, cpu.stat) or of a
# KEY=VALUE line.
key() {
        awk -v key="$2" '
                $1 == key { print $2; exit }
                index($0, key "=") == 1 { print substr($0, length(key) + 2); exit }' "$1" 2>/dev/null
}

one_line() {
        tr '\n' ' ' <"$1" | cut -c 1-400
}

# status ID: the container's status from `state`, or "none".
status() {
        _st=$(rt state "$1" 2>/dev/null | tr -d ' \n' | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
        echo "${_st:-none}"
}

# wait_status ID STATUS: up to 10 s.
wait_status() {
        _i=0
        while [ "$(status "$1")" != "$2" ]; do
                [ $_i -ge 100 ] && return 1
                usleep 100000
                _i=$((_i + 1))
        done
}

# wait_file FILE PATTERN: up to 10 s for a line matching PATTERN.
wait_file() {
        _i=0
        until grep -q "$2" "$1" 2>/dev/null; do
                [ $_i -ge 100 ] && return 1
                usleep 100000
                _i=$((_i + 1))
        done
}

# gone ID: neither the cgroup nor the state directory remains.
gone() {
        [ ! -e "$CGP/$1" ] && [ ! -e "$STATE_ROOT/$1" ]
}

# usage_usec ID / uptime_usec: CPU time of the container, and wall time.
usage_usec() {
        key "$CGP/$1/cpu.stat" usage_usec
}

uptime_usec() {
        awk '{ split($1, t, "."); print t[1] * 1000000 + t[2] * 10000 }' /proc/uptime
}

# json_args ARG...: a JSON array of strings (ARGs hold no '"' or '\').
json_args() {
        _json=
        for _a in "$@"; do
                _json="$_json${_json:+, }\"$_a\""
        done
        echo "[$_json]"
}

# bundle ID RESOURCES ARG...: $W/ID/config.json for a container running ARG... with
# linux.resources RESOURCES (JSON) in cgroup /berth-test/ID (or $CGROUPS_PATH).
bundle() {
        _id=$1
        _res=$2
        shift 2
        mkdir -p "$W/$_id"
        cat >"$W/$_id/config.json" <<EOF
{
  "ociVersion": "1.2.0",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": $(json_args "$@"),
    "env": ["PATH=/bin", "HOME=/"],
    "cwd": "/"
  },
  "root": {"path": "$ROOTFS", "readonly": true},
  "hostname": "$_id",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "cgroupsPath": "${CGROUPS_PATH:-/berth-test/$_id}",
    "resources": $_res,
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}]
  }
}
EOF
}

# A rootfs of busybox, its applet links, the probe and the scripts containers run.
make_rootfs() {
        mkdir -p "$ROOTFS/bin" "$ROOTFS/proc" "$ROOTFS/dev" "$ROOTFS/sys" "$ROOTFS/tmp" "$ROOTFS/t" \
                "$ROOTFS/go" || return 1
        cp /bin/busybox "$ROOTFS/bin/busybox" || return 1
        for applet in $(/bin/busybox --list); do
                [ "$applet" = busybox ] || ln -s busybox "$ROOTFS/bin/$applet"
        done
        cp "$PROBE" "$ROOTFS/bin/berth-probe" || return 1

        cat >"$ROOTFS/t/sanity.sh" <<'EOF'
echo "pid=$$"
echo "hostname=$(hostname)"
echo "cgfs=$(awk '$2 == "/sys/fs/cgroup" { print $3 }' /proc/mounts)"
echo "self=$(cat /proc/self/cgroup)"
echo "memory.max=$(cat /sys/fs/cgroup/memory.max)"
echo "procs=$(tr '\n' ' ' </sys/fs/cgroup/cgroup.procs)"
EOF
        # Waits for the host to say go (it starts `events` first), then allocates without end.
        cat >"$ROOTFS/t/oom.sh" <<'EOF'
while [ ! -e /go/oom ]; do usleep 20000; done
exec awk 'BEGIN { s = "x"; for (;;) s = s s }'
EOF
        # pid 1 reports without forking (read and echo are builtins): at the limit it cannot.
        cat >"$ROOTFS/t/forkbomb.sh" <<'EOF'
sh -c 'i=0; while [ $i -lt 200 ]; do sleep 60 & i=$((i + 1)); echo $i >/dev/shm/forks; done'
read forks </dev/shm/forks
read current </sys/fs/cgroup/pids.current
read max </sys/fs/cgroup/pids.max
while read k v; do [ "$k" = max ] && echo "events_max=$v"; done </sys/fs/cgroup/pids.events
echo "forks=$forks"
echo "current=$current"
echo "max=$max"
EOF
        cat >"$ROOTFS/t/spin.sh" <<'EOF'
i=1
while [ $i -lt "$1" ]; do
        sh -c 'while :; do :; done' &
        i=$((i + 1))
done
while :; do :; done
EOF
        # Makes a child cgroup and moves a process there, as systemd inside a container would.
        cat >"$ROOTFS/t/nested.sh" <<'EOF'
mkdir /sys/fs/cgroup/sub
sleep 600 &
echo $! >/sys/fs/cgroup/sub/cgroup.procs
exec sleep 600
EOF
        # /dev/null is allowed; c 1:11 (kmsg) is not, unless the config allows it.
        cat >"$ROOTFS/t/devices.sh" <<'EOF'
mknod /dev/kmsg-test c 1 11 && echo mknod=ok
mknod /dev/zero-test c 1 5
echo "null=$(berth-probe open /dev/null)"
echo "kmsg=$(berth-probe write /dev/kmsg-test berth-devices-test)"
echo "zero=$(berth-probe open /dev/zero-test)"
EOF
}

# 1. A container runs under cgroup v2: pid 1, its own hostname, its own cgroup2 mount.
check_sanity() {
        name="container runs: pid 1, own hostname, cgroup2 at /sys/fs/cgroup with its own files"
        bundle sanity '{"memory": {"limit": 67108864}}' sh /t/sanity.sh
        rt run --keep -b "$W/sanity" sanity >"$W/sanity.out" 2>&1
        rc=$?
        host_max=$(cat "$CGP/sanity/memory.max" 2>/dev/null)
        rt delete sanity >/dev/null 2>&1
        out=$W/sanity.out
        if [ $rc -ne 0 ]; then
                fail "$name" "run exited $rc: $(one_line "$out")"
        elif [ "$(key "$out" pid)" != 1 ] || [ "$(key "$out" hostname)" != sanity ]; then
                fail "$name" "$(one_line "$out")"
        elif [ "$(key "$out" cgfs)" != cgroup2 ] || [ "$(key "$out" self)" != "0::/" ]; then
                fail "$name" "not a cgroup2 namespace root: $(one_line "$out")"
        elif ! case " $(key "$out" procs)" in *" 1 "*) true ;; *) false ;; esac then
                fail "$name" "pid 1 is not in the cgroup.procs it sees: $(one_line "$out")"
        elif [ "$(key "$out" memory.max)" != 67108864 ] || [ "$host_max" != 67108864 ]; then
                fail "$name" "memory.max inside '$(key "$out" memory.max)', on the host '$host_max'"
        else
                pass "$name"
        fi
}

# 2. memory.max: the hog is OOM-killed, run exits 137, oom_kill counted, events reports it.
check_oom() {
        name="memory.max 32M: a hog is OOM-killed, run exits 137, oom_kill counted, events reports oom"
        bundle mem '{"memory": {"limit": 33554432, "swap": 33554432}}' sh /t/oom.sh
        rm -f "$ROOTFS/go/oom"
        rt run --keep -b "$W/mem" mem >"$W/mem.out" 2>&1 &
        run_pid=$!
        if ! wait_status mem running; then
                kill $run_pid 2>/dev/null
                wait $run_pid
                fail "$name" "the container did not start: $(one_line "$W/mem.out")"
                rt delete --force mem >/dev/null 2>&1
                return
        fi
        "$RUNTIME" --root "$STATE_ROOT" events --interval 1s mem >"$W/mem.events" 2>&1 &
        events_pid=$!
        wait_file "$W/mem.events" '"type":"stats"' # its OOM baseline is taken
        touch "$ROOTFS/go/oom"
        wait $run_pid
        rc=$?
        i=0
        while kill -0 $events_pid 2>/dev/null && [ $i -lt 50 ]; do
                usleep 100000
                i=$((i + 1))
        done
        kill $events_pid 2>/dev/null
        wait $events_pid
        max=$(cat "$CGP/mem/memory.max" 2>/dev/null)
        swap=$(cat "$CGP/mem/memory.swap.max" 2>/dev/null)
        kills=$(key "$CGP/mem/memory.events" oom_kill)
        peak=$(cat "$CGP/mem/memory.peak" 2>/dev/null || echo "?")
        rt delete mem >/dev/null 2>&1
        rm -f "$ROOTFS/go/oom"
        if [ "$max" != 33554432 ] || [ "$swap" != 0 ]; then
                fail "$name" "memory.max '$max', memory.swap.max '$swap' (want 33554432 and 0)"
        elif [ $rc -ne 137 ]; then
                fail "$name" "run exited $rc, not 137 (peak $peak): $(one_line "$W/mem.out")"
        elif [ "${kills:-0}" -lt 1 ]; then
                fail "$name" "memory.events oom_kill is '${kills:-missing}'"
        elif ! grep -q '"type":"oom"' "$W/mem.events"; then
                fail "$name" "no oom event: $(grep -v '"stats"' "$W/mem.events" | one_line /dev/stdin)"
        elif ! grep -q 'OOM killer' "$W/mem.out"; then
                fail "$name" "run did not say the OOM killer acted: $(one_line "$W/mem.out")"
        else
                pass "$name (oom_kill $kills, peak $peak)"
        fi
}

# 3. pids.max stops a fork bomb.
check_pids() {
        name="pids.max 16 stops a fork bomb"
        bundle pids '{"pids": {"limit": 16}}' sh /t/forkbomb.sh
        rt run -b "$W/pids" pids >"$W/pids.out" 2>&1
        rc=$?
        out=$W/pids.out
        forks=$(key "$out" forks)
        current=$(key "$out" current)
        if [ $rc -ne 0 ] || [ -z "$forks" ] || [ -z "$current" ]; then
                fail "$name" "run exited $rc: $(one_line "$out")"
        elif [ "$(key "$out" max)" != 16 ]; then
                fail "$name" "pids.max inside is '$(key "$out" max)'"
        elif [ "$forks" -ge 200 ] || [ "$current" -gt 16 ]; then
                fail "$name" "$forks forks succeeded, pids.current $current"
        elif [ "$(key "$out" events_max)" -lt 1 ]; then
                fail "$name" "pids.events max is '$(key "$out" events_max)'"
        else
                pass "$name ($forks forks, pids.current $current, pids.events max $(key "$out" events_max))"
        fi
}

# 4. cpu.max 50000 100000: two spinners get 0.5 CPU, measured against wall time.
check_cpu_max() {
        name="cpu.max 50000 100000 holds two spinners to 0.5 CPU +-10%"
        bundle cpu '{"cpu": {"quota": 50000, "period": 100000}}' sh /t/spin.sh 2
        if ! rt run -d -b "$W/cpu" cpu >"$W/cpu.out" 2>&1; then
                fail "$name" "run -d: $(one_line "$W/cpu.out")"
                rt delete --force cpu >/dev/null 2>&1
                return
        fi
        max=$(cat "$CGP/cpu/cpu.max")
        usleep 300000
        u0=$(usage_usec cpu)
        t0=$(uptime_usec)
        sleep 2
        u1=$(usage_usec cpu)
        t1=$(uptime_usec)
        throttled=$(key "$CGP/cpu/cpu.stat" nr_throttled)
        rt delete --force cpu >/dev/null 2>&1
        ratio=$(awk -v du=$((u1 - u0)) -v dt=$((t1 - t0)) 'BEGIN { printf "%.3f", du / dt }')
        detail="$ratio CPU over $((t1 - t0)) us of wall time, nr_throttled $throttled"
        if [ "$max" != "50000 100000" ]; then
                fail "$name" "cpu.max reads '$max'"
        elif awk -v r="$ratio" 'BEGIN { exit !(r >= 0.45 && r <= 0.55) }'; then
                pass "$name ($detail)"
        else
                fail "$name" "$detail"
        fi
}

# 5. cpu.cpus pins the container.
check_cpus() {
        name="cpu.cpus \"1\" pins the container (Cpus_allowed_list)"
        if ! grep -qw cpuset "$CG/cgroup.controllers"; then
                skip "$name" "no cpuset controller"
                return
        fi
        if [ "$(nproc)" -lt 2 ]; then
                skip "$name" "the VM has only one CPU"
                return
        fi
        bundle cpus '{"cpu": {"cpus": "1"}}' grep Cpus_allowed_list /proc/self/status
        rt run --keep -b "$W/cpus" cpus >"$W/cpus.out" 2>&1
        rc=$?
        host=$(cat "$CGP/cpus/cpuset.cpus" 2>/dev/null)
        rt delete cpus >/dev/null 2>&1
        got=$(awk '{ print $2 }' "$W/cpus.out")
        if [ $rc -ne 0 ] || [ "$got" != 1 ] || [ "$host" != 1 ]; then
                fail "$name" "run exited $rc, inside '$(one_line "$W/cpus.out")', cpuset.cpus '$host'"
        else
                pass "$name"
        fi
}

# 6. devices: the eBPF filter. A node made inside with mknod cannot be opened unless a rule
# (the config's or runc's default list, which has /dev/null and /dev/zero) allows it; an
# update -r with a rule for it lets the same container in.
check_devices() {
        name="devices: eBPF filter denies a mknod'ed device that is not allowed, update -r allows it"
        deny='{"allow": false, "access": "rwm"}'
        null='{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}'
        kmsg='{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}'
        bundle dev "{\"devices\": [$deny, $null]}" sleep 600
        if ! rt run -d -b "$W/dev" dev >"$W/dev.out" 2>&1; then
                fail "$name" "run -d: $(one_line "$W/dev.out")"
                rt delete --force dev >/dev/null 2>&1
                return
        fi
        rt exec dev sh /t/devices.sh >"$W/dev.out" 2>&1
        rc=$?
        echo "{\"devices\": [$deny, $null, $kmsg]}" | rt update -r - dev >"$W/dev-update.out" 2>&1
        rc_update=$?
        after=$(rt exec dev berth-probe write /dev/kmsg-test berth-devices-test 2>&1)
        rt delete --force dev >/dev/null 2>&1
        out=$W/dev.out
        if [ $rc -ne 0 ] || [ "$(key "$out" mknod)" != ok ]; then
                fail "$name" "exec exited $rc: $(one_line "$out")"
        elif ! key "$out" null | grep -q '"ok":true'; then
                fail "$name" "/dev/null (allowed) cannot be opened: $(key "$out" null)"
        elif ! key "$out" kmsg | grep -q '"errno":1[,}]'; then
                fail "$name" "c 1:11 was not denied with EPERM: $(key "$out" kmsg)"
        elif ! key "$out" zero | grep -q '"ok":true'; then
                fail "$name" "/dev/zero (runc's default list) cannot be opened: $(key "$out" zero)"
        elif [ $rc_update -ne 0 ]; then
                fail "$name" "update -r with c 1:11 allowed exited $rc_update: $(one_line "$W/dev-update.out")"
        elif ! echo "$after" | grep -q '"ok":true'; then
                fail "$name" "after update -r allowed c 1:11, writing it: $after"
        else
                pass "$name (c 1:11 EPERM, then allowed by update -r; /dev/null and /dev/zero allowed)"
        fi
}

# 7. update changes memory.max and pids.max of a running container.
check_update() {
        name="update changes memory.max, pids.max and cpu.max of a running container"
        bundle upd '{"memory": {"limit": 33554432}, "pids": {"limit": 10}}' sleep 600
        if ! rt run -d -b "$W/upd" upd >"$W/upd.out" 2>&1; then
                fail "$name" "run -d: $(one_line "$W/upd.out")"
                rt delete --force upd >/dev/null 2>&1
                return
        fi
        before="$(cat "$CGP/upd/memory.max") $(cat "$CGP/upd/pids.max")"
        rt update --memory 64M --pids-limit 20 --cpu-quota 25000 upd >"$W/upd.out" 2>&1
        rc=$?
        after="$(cat "$CGP/upd/memory.max") $(cat "$CGP/upd/pids.max") $(cat "$CGP/upd/cpu.max")"
        echo '{"pids": {"limit": 0}}' | rt update -r - upd >>"$W/upd.out" 2>&1
        rc2=$?
        unlimited=$(cat "$CGP/upd/pids.max")
        rt delete --force upd >/dev/null 2>&1
        if [ "$before" != "33554432 10" ]; then
                fail "$name" "before: '$before'"
        elif [ $rc -ne 0 ] || [ "$after" != "67108864 20 25000 100000" ]; then
                fail "$name" "update exited $rc, after: '$after': $(one_line "$W/upd.out")"
        elif [ $rc2 -ne 0 ] || [ "$unlimited" != max ]; then
                fail "$name" "update -r {pids.limit 0} exited $rc2, pids.max '$unlimited'"
        else
                pass "$name (32M/10/max -> 64M/20/25000 100000 -> pids max)"
        fi
}

# 7b. ps and events --stats read the container's cgroup.
check_ps_stats() {
        name="ps lists the container's processes, events --stats reports its limits"
        bundle st '{"memory": {"limit": 33554432}, "pids": {"limit": 10}}' sh -c 'sleep 600 & exec sleep 600'
        if ! rt run -d -b "$W/st" st >"$W/st.out" 2>&1; then
                fail "$name" "run -d: $(one_line "$W/st.out")"
                rt delete --force st >/dev/null 2>&1
                return
        fi
        i=0
        while [ "$(wc -l <"$CGP/st/cgroup.procs")" -lt 2 ] && [ $i -lt 50 ]; do
                usleep 100000
                i=$((i + 1))
        done
        want="[$(sort -n "$CGP/st/cgroup.procs" | tr '\n' ',' | sed 's/,$//')]"
        ps=$(rt ps --format json st 2>&1)
        rt events --stats st >"$W/st.stats" 2>&1
        rc=$?
        rt delete --force st >/dev/null 2>&1
        stats=$(tr -d ' \n' <"$W/st.stats")
        if [ "$ps" != "$want" ]; then
                fail "$name" "ps --format json says '$ps', cgroup.procs has '$want'"
        elif [ $rc -ne 0 ]; then
                fail "$name" "events --stats exited $rc: $stats"
        else
                case $stats in
                *'"type":"stats"'*'"limit":33554432'*'"pids":{"current":2,"limit":10}'*)
                        pass "$name" ;;
                *) fail "$name" "events --stats: $(echo "$stats" | cut -c 1-400)" ;;
                esac
        fi
}

# 7c. A container that makes cgroups of its own (systemd, docker in docker): ps lists the
# processes in them and delete removes them.
check_nested() {
        name="ps and delete cover sub-cgroups the container made"
        bundle nest '{"pids": {"limit": 32}}' sh /t/nested.sh
        sed -i 's/"relatime", "ro"/"relatime"/' "$W/nest/config.json" # a writable cgroup mount
        if ! rt run -d -b "$W/nest" nest >"$W/nest.out" 2>&1; then
                fail "$name" "run -d: $(one_line "$W/nest.out")"
                rt delete --force nest >/dev/null 2>&1
                return
        fi
        # cgroupfs files have no size: read them.
        wait_file "$CGP/nest/sub/cgroup.procs" .
        made=$?
        want="[$(cat "$CGP/nest/cgroup.procs" "$CGP/nest/sub/cgroup.procs" | sort -n | tr '\n' ',' |
                sed 's/,$//')]"
        ps=$(rt ps --format json nest 2>&1)
        rt delete --force nest >"$W/nest.out" 2>&1
        rc=$?
        if [ $made -ne 0 ]; then
                fail "$name" "the container did not make its sub-cgroup"
                rt delete --force nest >/dev/null 2>&1
        elif [ "$ps" != "$want" ]; then
                fail "$name" "ps --format json says '$ps', the cgroup and its child hold '$want'"
        elif [ $rc -ne 0 ] || ! gone nest; then
                fail "$name" "delete --force exited $rc, left: $(find "$CGP/nest" -type d 2>/dev/null |
                        tr '\n' ' ') $(one_line "$W/nest.out")"
        else
                pass "$name"
        fi
}

# 8. pause/resume through cgroup.freeze.
check_pause() {
        name="pause/resume freeze and thaw the cgroup (state paused, CPU time stops and resumes)"
        bundle frz '{}' sh /t/spin.sh 1
        if ! rt run -d -b "$W/frz" frz >"$W/frz.out" 2>&1; then
                fail "$name" "run -d: $(one_line "$W/frz.out")"
                rt delete --force frz >/dev/null 2>&1
                return
        fi
        usleep 200000
        rt pause frz >"$W/frz.out" 2>&1
        rc=$?
        st=$(status frz)
        freeze=$(cat "$CGP/frz/cgroup.freeze")
        frozen=$(key "$CGP/frz/cgroup.events" frozen)
        u0=$(usage_usec frz)
        usleep 500000
        u1=$(usage_usec frz)
        rt resume frz >>"$W/frz.out" 2>&1
        rc2=$?
        st2=$(status frz)
        usleep 500000
        u2=$(usage_usec frz)
        # Deleting a paused container must thaw, kill and remove it.
        rt pause frz >/dev/null 2>&1
        rt delete --force frz >>"$W/frz.out" 2>&1
        rc3=$?
        if [ $rc -ne 0 ] || [ "$st" != paused ] || [ "$freeze" != 1 ] || [ "$frozen" != 1 ]; then
                fail "$name" "pause exited $rc, state '$st', cgroup.freeze '$freeze', frozen '$frozen'"
        elif [ "$u1" != "$u0" ]; then
                fail "$name" "usage_usec grew while paused: $u0 -> $u1"
        elif [ $rc2 -ne 0 ] || [ "$st2" != running ]; then
                fail "$name" "resume exited $rc2, state '$st2': $(one_line "$W/frz.out")"
        elif [ "$u2" -le "$u1" ]; then
                fail "$name" "usage_usec did not grow after resume: $u1 -> $u2"
        elif [ $rc3 -ne 0 ] || ! gone frz; then
                fail "$name" "delete --force of the paused container exited $rc3: $(one_line "$W/frz.out")"
        else
                pass "$name"
        fi
}

# 9. Nothing remains after delete, nor after a create the kernel refuses.
check_cleanup() {
        name="no cgroup or state left after delete and after a failed create"
        left=
        for id in sanity mem pids cpu cpus dev upd st nest frz; do
                gone $id || left="$left $id"
        done
        bundle bad '{"cpu": {"cpus": "7"}}' true
        rt create -b "$W/bad" bad >"$W/bad.out" 2>&1
        rc=$?
        if [ -n "$left" ]; then
                fail "$name" "left behind:$left"
        elif [ $rc -eq 0 ]; then
                fail "$name" "create with cpu.cpus \"7\" on a 2-CPU VM succeeded"
                rt delete --force bad >/dev/null 2>&1
        elif ! gone bad; then
                fail "$name" "the failed create left $(find "$CGP/bad" "$STATE_ROOT/bad" -maxdepth 0 2>/dev/null |
                        tr '\n' ' ')"
        elif ! grep -q 'linux.resources.cpu.cpus' "$W/bad.out"; then
                fail "$name" "the error does not name the field: $(one_line "$W/bad.out")"
        elif [ -e "$CGP" ]; then
                fail "$name" "$CGP remains: $(find "$CGP" -mindepth 1 -maxdepth 1 -type d | tr '\n' ' ')"
        else
                pass "$name ($(one_line "$W/bad.out"))"
        fi
}

# 9b. delete removes the container's cgroup, not a parent it did not create (an admin's slice
# with its own limit), even when that parent is left empty.
check_parent_kept() {
        name="delete keeps an empty parent cgroup that berth did not create"
        admin=$CG/berth-admin
        if ! mkdir "$admin" || ! echo 268435456 >"$admin/memory.max"; then
                fail "$name" "cannot prepare $admin"
                return
        fi
        CGROUPS_PATH=/berth-admin/kept bundle kept '{"pids": {"limit": 8}}' true
        rt run -b "$W/kept" kept >"$W/kept.out" 2>&1
        rc=$?
        max=$(cat "$admin/memory.max" 2>/dev/null)
        leaf=$(ls -d "$admin/kept" 2>/dev/null)
        rmdir "$admin" 2>/dev/null
        if [ $rc -ne 0 ]; then
                fail "$name" "run exited $rc: $(one_line "$W/kept.out")"
        elif [ -n "$leaf" ]; then
                fail "$name" "$leaf remains"
        elif [ "$max" != 268435456 ]; then
                fail "$name" "$admin was removed (its memory.max reads '$max')"
        else
                pass "$name"
        fi
}

# 10. linux.resources.unified.
check_unified() {
        name="unified {\"memory.high\": \"100M\"} is written"
        bundle uni '{"unified": {"memory.high": "100M"}}' true
        rt create -b "$W/uni" uni >"$W/uni.out" 2>&1
        rc=$?
        high=$(cat "$CGP/uni/memory.high" 2>/dev/null)
        rt delete --force uni >/dev/null 2>&1
        if [ $rc -ne 0 ] || [ "$high" != 104857600 ]; then
                fail "$name" "create exited $rc, memory.high '$high': $(one_line "$W/uni.out")"
        else
                pass "$name"
        fi

        name="unified with an unknown controller key is refused with a clear message"
        bundle unk '{"unified": {"nosuchctl.max": "1"}}' true
        rt create -b "$W/unk" unk >"$W/unk.out" 2>&1
        rc=$?
        if [ $rc -eq 0 ]; then
                fail "$name" "create succeeded"
                rt delete --force unk >/dev/null 2>&1
        elif ! grep -q 'unified.*nosuchctl.*unknown controller "nosuchctl"' "$W/unk.out"; then
                fail "$name" "message: $(one_line "$W/unk.out")"
        elif ! gone unk; then
                fail "$name" "the failed create left its cgroup or state behind"
        else
                pass "$name ($(one_line "$W/unk.out"))"
        fi
}

# 11. cpu.shares converts to cpu.weight.
check_shares() {
        name="cpu.shares 1024 -> cpu.weight 39"
        bundle shr '{"cpu": {"shares": 1024}}' true
        rt create -b "$W/shr" shr >"$W/shr.out" 2>&1
        rc=$?
        weight=$(cat "$CGP/shr/cpu.weight" 2>/dev/null)
        rt delete --force shr >/dev/null 2>&1
        if [ $rc -ne 0 ] || [ "$weight" != 39 ]; then
                fail "$name" "create exited $rc, cpu.weight '$weight': $(one_line "$W/shr.out")"
        else
                pass "$name"
        fi
}

if [ "$(stat -f -c %T $CG 2>/dev/null)" != cgroup2 ] && ! grep -q "^cgroup2 $CG cgroup2 " /proc/mounts; then
        echo "not ok - $CG is not cgroup2"
        echo "0 passed, 1 failed"
        exit 1
fi
if [ ! -x "$RUNTIME" ] || [ ! -x "$PROBE" ] || ! make_rootfs; then
        echo "not ok - setup: need $RUNTIME, $PROBE and a rootfs in $ROOTFS"
        echo "0 passed, 1 failed"
        exit 1
fi

# Arguments name checks to run (check_oom ...); none runs them all.
if [ $# -gt 0 ]; then
        for check in "$@"; do
                "$check"
        done
else
        check_sanity
        check_oom
        check_pids
        check_cpu_max
        check_cpus
        check_devices
        check_update
        check_ps_stats
        check_nested
        check_pause
        check_cleanup
        check_parent_kept
        check_unified
        check_shares
fi

# Whatever a failed check left behind.
for dir in "$STATE_ROOT"/*; do
        [ -d "$dir" ] && rt delete --force "${dir##*/}" >/dev/null 2>&1
done

if [ $skipped -gt 0 ]; then
        echo "$passed passed, $failed failed, $skipped skipped"
else
        echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
