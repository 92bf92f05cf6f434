#!/usr/bin/env bash
# Install what berth needs to build and test, on Debian 12, only if missing (idempotent).
# Usage: scripts/deps.sh [--bench|--fuzz]   (--bench adds the peers benchmarks compare against,
# --fuzz the clang and libFuzzer that tests/fuzz/build.sh needs)
set -euo pipefail

packages=(
        gcc meson ninja-build pkg-config clang-format
        libjson-c-dev libcap-dev libseccomp-dev libcmocka-dev libyaml-dev libssl-dev libarchive-dev
        zlib1g-dev libzstd-dev libcurl4-openssl-dev
        busybox-static python3 python3-pytest util-linux iproute2
        qemu-system-x86 linux-image-amd64 cpio
        podman containerd umoci skopeo conmon # tests/system/test_clients.py
        docker-registry apache2-utils openssl python3-cryptography # tests/system/test_image_pull.py
)
if [[ "${1:-}" == "--bench" ]]; then
        packages+=(crun runc hyperfine time curl e2fsprogs) # curl, mkfs.ext4: bench/pull
fi
if [[ "${1:-}" == "--fuzz" ]]; then
        packages+=(clang libclang-rt-14-dev) # libFuzzer is in libclang-rt
fi

missing=()
for p in "${packages[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
                missing+=("$p")
        fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
        echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
        exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
