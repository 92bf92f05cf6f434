#!/bin/bash
# Run a shell script inside a small QEMU VM whose kernel has cgroup v2 only.
# See tests/vm/README.md.
set -euo pipefail
# Modes in the guest come from here; other users there need to read them.
umask 022

usage() {
        cat <<'EOF'
usage: tests/vm/run.sh [--timeout SEC] [--file HOST_PATH[:GUEST_PATH]]...
                       [--env NAME=VALUE]... -- GUEST_SCRIPT [ARG]...

Boots a pure cgroup v2 kernel under QEMU, runs GUEST_SCRIPT there with
busybox sh and exits with its exit status. The script's output (stdout and
stderr together) is printed here as it comes.

  --timeout SEC   kill the VM after SEC seconds (default 180)
  --file SPEC     copy HOST_PATH into the guest at GUEST_PATH (default: the
                  same absolute path); directories are copied as they are,
                  a dynamically linked file brings its libraries along
  --env NAME=VAL  set an environment variable for GUEST_SCRIPT

Environment: BERTH_VM_CACHE (default build/vm-cache in the repository),
BERTH_VM_ACCEL (auto, kvm or tcg; default auto).
EOF
}

die() {
        echo "vm: $*" >&2
        exit 1
}

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$VM_DIR/../.." && pwd)
readonly VM_DIR REPO_DIR
readonly PACKAGES=(qemu-system-x86 linux-image-amd64 busybox-static cpio)
# Loaded in the guest with their dependencies from modules.dep.
readonly MODULES=(overlay veth bridge)
# Bump when the layout of a cache entry changes.
readonly CACHE_FORMAT=1
readonly GUEST_RESERVED='^/(init|vm|dev|proc|sys|newroot)(/|$)'

timeout_sec=180
files=()
envs=()
script=
script_args=()

tmp_dir=
timeout_pid=
tail_pid=
cache_build=
kernel_entry=
accel=

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
        local qemu_pid=

        # timeout(1) passes SIGTERM on to QEMU; the pid file catches a QEMU
        # that outlived it.
        if [[ -n $timeout_pid ]] && kill -0 "$timeout_pid" 2>/dev/null; then
                kill -TERM "$timeout_pid" 2>/dev/null || true
                wait "$timeout_pid" 2>/dev/null || true
        fi
        if [[ -n $tmp_dir && -s $tmp_dir/qemu.pid ]]; then
                qemu_pid=$(<"$tmp_dir/qemu.pid")
                if [[ $qemu_pid =~ ^[0-9]+$ ]] &&
                        [[ $(cat "/proc/$qemu_pid/comm" 2>/dev/null) == qemu-system-* ]]; then
                        kill -KILL "$qemu_pid" 2>/dev/null || true
                fi
        fi
        if [[ -n $tail_pid ]]; then
                kill "$tail_pid" 2>/dev/null || true
                wait "$tail_pid" 2>/dev/null || true
        fi
        if [[ -n $tmp_dir ]]; then
                rm -rf -- "$tmp_dir"
        fi
        if [[ -n $cache_build ]]; then
                rm -rf -- "$cache_build"
        fi
}

parse_args() {
        while (($# > 0)); do
                case $1 in
                --timeout)
                        (($# >= 2)) || die "--timeout needs a value"
                        [[ $2 =~ ^[1-9][0-9]*$ ]] || die "--timeout: not a number of seconds: $2"
                        timeout_sec=$2
                        shift 2
                        ;;
                --file)
                        (($# >= 2)) || die "--file needs a value"
                        files+=("$2")
                        shift 2
                        ;;
                --env)
                        (($# >= 2)) || die "--env needs a value"
                        [[ $2 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env: not NAME=VALUE: $2"
                        envs+=("$2")
                        shift 2
                        ;;
                -h | --help)
                        usage
                        exit 0
                        ;;
                --)
                        shift
                        break
                        ;;
                -*)
                        usage >&2
                        die "unknown option: $1"
                        ;;
                *) break ;;
                esac
        done
        (($# >= 1)) || {
                usage >&2
                die "no guest script given"
        }
        script=$1
        script_args=("${@:2}")
        [[ -f $script ]] || die "guest script not found: $script"
}

ensure_packages() {
        local missing=() pkg

        for pkg in "${PACKAGES[@]}"; do
                if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
                        missing+=("$pkg")
                fi
        done
        ((${#missing[@]} == 0)) && return 0
        ((EUID == 0)) || die "missing packages (install them as root): ${missing[*]}"
        echo "vm: installing ${missing[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                "${missing[@]}" >"$tmp_dir/apt.log" 2>&1 || {
                cat "$tmp_dir/apt.log" >&2
                die "apt-get install ${missing[*]} failed"
        }
}

# The newest installed kernel that has its modules.
find_kernel_version() {
        local image kver

        while IFS= read -r image; do
                kver=${image#/boot/vmlinuz-}
                if [[ -f /boot/vmlinuz-$kver && -f /lib/modules/$kver/modules.dep ]]; then
                        echo "$kver"
                        return 0
                fi
        done < <(printf '%s\n' /boot/vmlinuz-* | sort -rV)
        die "no /boot/vmlinuz-* with modules in /lib/modules (is linux-image-amd64 installed?)"
}

# extract_vmlinux BZIMAGE OUT: write the uncompressed ELF kernel inside a
# bzImage. Booting it directly (PVH) saves the few seconds that TCG needs
# to run the kernel's own decompressor.
extract_vmlinux() {
        local image=$1 out=$2 magic tool offset

        for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
                tool=${magic%%:*}
                while IFS=: read -r offset _; do
                        case $tool in
                        xz) tail -c "+$((offset + 1))" "$image" | xz -dc --single-stream >"$out" 2>/dev/null || true ;;
                        zstd) tail -c "+$((offset + 1))" "$image" | zstd -dcq >"$out" 2>/dev/null || true ;;
                        gzip) tail -c "+$((offset + 1))" "$image" | gzip -dcq >"$out" 2>/dev/null || true ;;
                        esac
                        if [[ $(head -c 4 "$out" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
                                return 0
                        fi
                done < <(LC_ALL=C grep -obUaP "${magic#*:}" "$image" || true)
        done
        return 1
}

# has_pvh_note ELF: QEMU boots an ELF kernel only with a PVH entry point
# (Xen note type 0x12, XEN_ELFNOTE_PHYS32_ENTRY).
# Without readelf (binutils), trust it: Debian's amd64 kernels have one.
has_pvh_note() {
        command -v readelf >/dev/null || return 0
        readelf -n "$1" 2>/dev/null | grep -qE 'Xen[[:space:]].*(0x00000012|PHYS32_ENTRY)'
}

# copy_modules KVER DEST: copy MODULES and what they depend on into
# DEST/lib/modules/KVER and list them in load order in DEST/modules.load.
copy_modules() {
        local kver=$1 dest=$2 moddir=/lib/modules/$1
        local -A deps=() by_name=() added=()
        local -a order=()
        local line path name src target

        while IFS= read -r line; do
                path=${line%%:*}
                deps[$path]=${line#*:}
                name=${path##*/}
                name=${name%%.ko*}
                by_name[${name//-/_}]=$path
        done <"$moddir/modules.dep"

        add_module() {
                local p=$1 d
                [[ -n ${added[$p]:-} ]] && return 0
                added[$p]=1
                for d in ${deps[$p]}; do
                        add_module "$d"
                done
                order+=("$p")
        }
        for name in "${MODULES[@]}"; do
                name=${name//-/_}
                if [[ -n ${by_name[$name]:-} ]]; then
                        add_module "${by_name[$name]}"
                elif grep -qE "/${name//_/[-_]}\.ko" "$moddir/modules.builtin" 2>/dev/null; then
                        continue
                else
                        die "kernel module $name not found in $moddir"
                fi
        done

        : >"$dest/modules.load"
        for path in "${order[@]}"; do
                src=$moddir/$path
                target=lib/modules/$kver/${path%.ko*}.ko
                mkdir -p "$dest/$(dirname "$target")"
                # busybox insmod wants plain .ko files.
                case $src in
                *.ko) cp "$src" "$dest/$target" ;;
                *.ko.xz) xz -dc "$src" >"$dest/$target" ;;
                *.ko.zst) zstd -dcq "$src" >"$dest/$target" ;;
                *.ko.gz) gzip -dc "$src" >"$dest/$target" ;;
                *) die "unknown module format: $src" ;;
                esac
                echo "/$target" >>"$dest/modules.load"
        done
}

# prepare_kernel: set kernel_entry to the cache entry (vmlinux, modules,
# base.cpio) of the newest kernel, building what is missing or stale.
prepare_kernel() {
        local cache=${BERTH_VM_CACHE:-$REPO_DIR/build/vm-cache}
        local kver stamp base_stamp entry old lock_fd

        kver=$(find_kernel_version)
        stamp="format=$CACHE_FORMAT kernel=$kver modules=${MODULES[*]}"
        mkdir -p "$cache"
        cache=$(cd "$cache" && pwd)
        entry=$cache/$kver

        exec {lock_fd}>"$cache/.lock"
        flock "$lock_fd"
        if [[ ! -f $entry/stamp || $(<"$entry/stamp") != "$stamp" ]]; then
                echo "vm: preparing kernel $kver in $cache" >&2
                cache_build=$(mktemp -d "$cache/.build.XXXXXX")
                chmod 755 "$cache_build"
                extract_vmlinux "/boot/vmlinuz-$kver" "$cache_build/vmlinux" ||
                        die "cannot extract vmlinux from /boot/vmlinuz-$kver"
                if ! has_pvh_note "$cache_build/vmlinux"; then
                        # Boots too, only slower: the kernel decompresses itself.
                        echo "vm: $kver has no PVH entry point; using the bzImage" >&2
                        cp "/boot/vmlinuz-$kver" "$cache_build/vmlinux"
                fi
                copy_modules "$kver" "$cache_build"
                echo "$stamp" >"$cache_build/stamp"
                rm -rf -- "$entry"
                mv "$cache_build" "$entry"
                cache_build=
                # Entries of older kernels; only ours, recognised by the stamp.
                for old in "$cache"/*/stamp; do
                        [[ -f $old && $old != "$entry/stamp" ]] && rm -rf -- "$(dirname "$old")"
                done
        fi
        base_stamp="format=$CACHE_FORMAT busybox=$(stat -L -c '%s %Y %i' /bin/busybox)"
        if [[ ! -f $entry/base.stamp || $(<"$entry/base.stamp") != "$base_stamp" ]]; then
                build_base "$entry" "$entry/base.cpio.tmp"
                mv "$entry/base.cpio.tmp" "$entry/base.cpio"
                echo "$base_stamp" >"$entry/base.stamp"
        fi
        exec {lock_fd}>&-
        kernel_entry=$entry
}

# shell_quote STRING: STRING quoted for sh.
shell_quote() {
        printf "'%s'" "${1//\'/\'\\\'\'}"
}

# stage_libraries ROOT FILE: copy the shared libraries FILE needs.
stage_libraries() {
        local root=$1 file=$2 lib

        # Not ELF, or static: nothing to do.
        [[ $(head -c 4 "$file" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]] || return 0
        if LC_ALL=C ldd "$file" 2>/dev/null | grep -q 'not found'; then
                die "$file: missing libraries: $(LC_ALL=C ldd "$file" | grep 'not found' | tr -s ' \t\n' ' ')"
        fi
        while IFS= read -r lib; do
                [[ -e $root$lib ]] && continue
                mkdir -p "$root$(dirname "$lib")"
                cp -L "$lib" "$root$lib"
        done < <(LC_ALL=C ldd "$file" 2>/dev/null |
                awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}

# stage_file ROOT SPEC: copy one --file HOST_PATH[:GUEST_PATH] into ROOT.
stage_file() {
        local root=$1 spec=$2 host guest

        host=${spec%%:*}
        if [[ $spec == *:* ]]; then
                guest=${spec#*:}
        else
                guest=$(realpath -s -- "$host")
        fi
        [[ -e $host ]] || die "--file: not found: $host"
        [[ $guest == /* && /$guest/ != */../* && $guest != / ]] ||
                die "--file: guest path must be absolute, without '..': $guest"
        [[ ! $guest =~ $GUEST_RESERVED ]] || die "--file: guest path is reserved: $guest"

        mkdir -p "$root$(dirname "$guest")"
        if [[ -d $host ]]; then
                mkdir -p "$root$guest"
                cp -a -- "$host/." "$root$guest/"
        else
                # Never write through a link that is already there.
                rm -f -- "$root$guest"
                cp -L --preserve=mode,timestamps -- "$host" "$root$guest"
                stage_libraries "$root" "$root$guest"
        fi
}

# build_base ENTRY OUT: the part of the initramfs that is the same for
# every run (busybox and its applet links, the modules), built once: the
# applet links alone take most of a second to make.
build_base() {
        local entry=$1 out=$2 root=$tmp_dir/base applet up

        mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root,run,vm}
        cp /bin/busybox "$root/bin/busybox"
        while IFS= read -r applet; do
                [[ $applet == */* && ! -e $root/$applet ]] || continue
                # Relative, so that a link can never point out of the root.
                up=${applet//[!\/]/}
                up=${up//\//../}
                mkdir -p "$root/${applet%/*}"
                ln -s "${up}bin/busybox" "$root/$applet"
        done < <(/bin/busybox --list-full)
        # The kernel opens it for /init; without it (not root) /init
        # mounts devtmpfs first.
        mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
        printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
        printf '%s\n' 'root:x:0:' 'tty:x:5:' 'nogroup:x:65534:' >"$root/etc/group"
        echo 127.0.0.1 localhost berth-vm >"$root/etc/hosts"
        cp -a "$entry/lib" "$root/"
        cp "$entry/modules.load" "$root/vm/modules.load"
        write_cpio "$root" "$out"
        rm -rf -- "$root"
}

# write_cpio DIR OUT: DIR as an uncompressed newc archive, owned by root.
# The kernel unpacks it faster than it would decompress one (under TCG
# above all) and it is limited to half of the guest's memory anyway.
write_cpio() {
        (cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
                cpio --null -o -H newc -R 0:0 --quiet) >"$2"
}

# build_initramfs ENTRY OUT: the base archive followed by one with /init,
# the guest script and the --file files. The kernel unpacks both in turn;
# a later entry replaces an earlier one (a --file over an applet link).
build_initramfs() {
        local entry=$1 out=$2 root=$tmp_dir/root spec env arg size_mib

        mkdir -p "$root/vm"
        for spec in ${files[@]+"${files[@]}"}; do
                stage_file "$root" "$spec"
        done
        install -m 755 "$VM_DIR/init.sh" "$root/init"
        install -m 644 "$script" "$root/vm/script.sh"
        {
                echo 'export HOME=/root TERM=dumb BERTH_VM=1'
                for env in ${envs[@]+"${envs[@]}"}; do
                        echo "export ${env%%=*}=$(shell_quote "${env#*=}")"
                done
                printf 'exec sh /vm/script.sh'
                for arg in ${script_args[@]+"${script_args[@]}"}; do
                        printf ' %s' "$(shell_quote "$arg")"
                done
                echo
        } >"$root/vm/run"
        write_cpio "$root" "$tmp_dir/run.cpio"
        cat "$entry/base.cpio" "$tmp_dir/run.cpio" >"$out"
        rm -rf -- "$root" "$tmp_dir/run.cpio"
        # /init holds two copies for a moment (initramfs and tmpfs) in the
        # guest's 1 GiB.
        size_mib=$(($(stat -c %s "$out") / 1048576))
        ((size_mib <= 256)) || die "initramfs is $size_mib MiB, more than the 256 MiB that fit in the guest"
}

# run_qemu ACCEL KERNEL INITRD TIMEOUT APPEND: boot, stream the output port,
# and leave the console in $tmp_dir/console.log. Prints nothing else.
run_qemu() {
        local accel=$1 kernel=$2 initrd=$3 limit=$4 append=$5 rc=0
        local -a accel_args

        if [[ $accel == kvm ]]; then
                accel_args=(-accel kvm -cpu host)
        else
                # shellcheck disable=SC2054 # commas inside an option value
                accel_args=(-accel tcg,thread=multi -cpu max)
        fi
        : >"$tmp_dir/console.log"
        : >"$tmp_dir/output.log"
        rm -f "$tmp_dir/qemu.pid"
        timeout -k 5 "$limit" qemu-system-x86_64 \
                "${accel_args[@]}" -m 1024 -smp 2 \
                -nodefaults -display none -no-reboot \
                -chardev "file,id=console,path=$tmp_dir/console.log" -serial chardev:console \
                -chardev "file,id=output,path=$tmp_dir/output.log,append=on" -serial chardev:output \
                -pidfile "$tmp_dir/qemu.pid" \
                -kernel "$kernel" -initrd "$initrd" \
                -append "console=ttyS0 cgroup_no_v1=all panic=-1 oops=panic quiet $append" \
                </dev/null >"$tmp_dir/qemu.log" 2>&1 &
        timeout_pid=$!
        if [[ $append != *berth.probe* ]]; then
                tail -n +1 -s 0.1 -f --pid="$timeout_pid" "$tmp_dir/output.log" &
                tail_pid=$!
        fi
        # Quietly: bash would report a QEMU that died of a signal.
        wait "$timeout_pid" 2>/dev/null || rc=$?
        timeout_pid=
        if [[ -n $tail_pid ]]; then
                wait "$tail_pid" || true
                tail_pid=
        fi
        return "$rc"
}

# exit_marker: the guest script's exit status, from the console.
exit_marker() {
        { grep -ao 'BERTH-VM-EXIT=[0-9]\+' "$tmp_dir/console.log" || true; } | tail -n 1 | cut -d= -f2
}

# choose_accel ENTRY KERNEL INITRD: set accel to kvm if KVM boots this
# guest, else to tcg.
# /dev/kvm can exist and still fail (a nested hypervisor without the MSRs
# QEMU wants); a failed KVM guest pauses, hence the probe with a timeout,
# done once per kernel and QEMU version.
choose_accel() {
        local kernel=$2 initrd=$3 cached=$1/accel key

        accel=${BERTH_VM_ACCEL:-auto}
        case $accel in
        kvm | tcg) return 0 ;;
        auto) ;;
        *) die "BERTH_VM_ACCEL must be auto, kvm or tcg: $accel" ;;
        esac
        accel=tcg
        [[ -r /dev/kvm && -w /dev/kvm ]] || return 0
        key="$(qemu-system-x86_64 --version | head -n 1) $(uname -r)"
        if [[ -f $cached && $(sed -n 2p "$cached") == "$key" ]]; then
                accel=$(sed -n 1p "$cached")
                return 0
        fi
        echo "vm: checking whether KVM works (once)" >&2
        if run_qemu kvm "$kernel" "$initrd" 20 berth.probe && [[ $(exit_marker) == 0 ]]; then
                accel=kvm
        fi
        printf '%s\n%s\n' "$accel" "$key" >"$cached"
}

main() {
        local kernel initrd status rc=0 start end

        parse_args "$@"
        trap cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/berth-vm.XXXXXX")

        ensure_packages
        prepare_kernel
        kernel=$kernel_entry/vmlinux
        initrd=$tmp_dir/initramfs.cpio
        build_initramfs "$kernel_entry" "$initrd"
        choose_accel "$kernel_entry" "$kernel" "$initrd"

        start=$(date +%s%N)
        run_qemu "$accel" "$kernel" "$initrd" "$timeout_sec" "" || rc=$?
        end=$(date +%s%N)
        status=$(exit_marker)
        if [[ -z $status ]]; then
                ((rc == 124)) && echo "vm: timed out after $timeout_sec s" >&2
                echo "vm: no exit marker (kernel panic or timeout)" >&2
                if [[ -s $tmp_dir/qemu.log ]]; then
                        echo "vm: qemu said:" >&2
                        tail -n 20 "$tmp_dir/qemu.log" >&2
                fi
                echo "vm: last console lines:" >&2
                tail -n 30 "$tmp_dir/console.log" | tr -d '\r' >&2
                exit 1
        fi
        printf 'vm: guest script exited with status %s after %d.%01d s (%s)\n' "$status" \
                $(((end - start) / 1000000000)) $(((end - start) / 100000000 % 10)) "$accel" >&2
        exit "$status"
}

main "$@"
