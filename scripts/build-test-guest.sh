#!/usr/bin/env bash
# Builds the test guest: a small BIOS-bootable MBR disk that looks like a Linux server's disk,
# made only from Debian packages (nothing binary is committed):
#   partition 1  FAT16 /boot, active: SYSLINUX (MBR code from syslinux-common), the Debian kernel
#                (linux-image-amd64) and an initramfs (busybox-static) whose /init prints
#                "P2V-GUEST-OK kernel=... cpus=... memtotal_kb=..." to ttyS0 and powers off
#   partition 2  ext4 "data" with a few files
# A second disk, test-guest-bench.img, boots the same kernel with p2v.bench=SCALE so that /init
# first runs bench/guest/cpu-bench.c (compiled here with gcc -static) and prints its lines.
# A third, test-guest-vga.img, is the same server without a serial console: its SYSLINUX has no
# SERIAL line and its kernel no console=ttyS0, so the bootloader, the kernel and /init's marker
# all go to the VGA text screen only (a migrated physical server looks like this).
# Usage: scripts/build-test-guest.sh [OUT_DIR]      (default: build/test-guest)
# Prints the main disk's path. Cached: re-running with the same inputs reuses the disks.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/test-guest}"
mkdir -p "$out/debs"
disk="$out/test-guest.img"

need() { command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" || -x "/sbin/$1" ]]; }
missing=()
for t in mcopy:mtools mkfs.fat:dosfstools mkfs.ext4:e2fsprogs sfdisk:fdisk cpio:cpio dpkg-deb:dpkg gzip:gzip; do
    need "${t%%:*}" || missing+=("${t##*:}")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "build-test-guest: install ${missing[*]} (apt-get install -y ${missing[*]})" >&2
        exit 2
    fi
fi
export PATH="$PATH:/usr/sbin:/sbin"

# The packages, by name; the kernel meta package names the current kernel.
kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[[ -n "$kernel_pkg" ]] || { echo "build-test-guest: apt-cache does not know linux-image-amd64 (apt-get update?)" >&2; exit 2; }
bench_src="$root/bench/guest/cpu-bench.c"
stamp="$kernel_pkg busybox-static syslinux syslinux-common v3 $(sha256sum "$bench_src" | cut -c1-16)"
if [[ -f "$disk" && -f "$out/test-guest-vga.img" && -f "$out/stamp" && "$(cat "$out/stamp")" == "$stamp" ]]; then
    echo "$disk"
    exit 0
fi

cd "$out/debs"
for p in "$kernel_pkg" busybox-static syslinux syslinux-common; do
    ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -q "$p" >/dev/null 2>&1
done
cd "$out"
rm -rf pkg initramfs boot data && mkdir -p pkg initramfs boot data
for d in debs/*.deb; do dpkg-deb -x "$d" pkg; done
kver=$(ls pkg/lib/modules | head -1)

# initramfs: busybox and an init that reports and powers off.
mkdir -p initramfs/{bin,sbin,proc,sys,dev,etc}
cp pkg/bin/busybox initramfs/bin/busybox
for app in sh mount cat grep sed awk uname poweroff sleep echo ls head nproc; do
    ln -sf busybox "initramfs/bin/$app"
done
if command -v gcc >/dev/null; then
    gcc -O2 -static -o initramfs/bin/cpu-bench "$bench_src" -lm
fi
cat >initramfs/init <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        p2v.bench=*) [ -x /bin/cpu-bench ] && /bin/cpu-bench "${arg#p2v.bench=}" ;;
    esac
done
cpus=$(grep -c '^processor' /proc/cpuinfo)
mem=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
echo "P2V-GUEST-OK kernel=$(uname -r) cpus=$cpus memtotal_kb=$mem"
poweroff -f
INIT
chmod +x initramfs/init
(cd initramfs && find . | cpio -o -H newc --quiet | gzip -9) >boot/initrd.gz
cp "pkg/boot/vmlinuz-$kver" boot/vmlinuz

syslinux_cfg() {  # syslinux_cfg DEFAULT_LABEL serial|vga
    local console="console=ttyS0,115200 "
    if [[ "$2" == serial ]]; then
        echo "SERIAL 0 115200"
    else
        console=""   # the kernel's default console: the VGA text screen (tty0)
    fi
    cat <<CFG
PROMPT 0
TIMEOUT 1
DEFAULT $1
SAY p2vkit test guest: SYSLINUX loading the kernel
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND ${console}panic=-1
LABEL bench
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND ${console}panic=-1 p2v.bench=10
CFG
}

echo "p2vkit test guest data partition" >data/README
date -u +%Y-%m-%dT%H:%M:%SZ >data/built
head -c 1048576 /dev/zero | tr '\0' 'x' >data/payload

# The disks: 1 MiB gap (as a partitioner leaves it), 64 MiB /boot, 32 MiB data.
make_disk() {  # make_disk FILE DEFAULT_LABEL serial|vga
    local target="$1" tmp="$1.tmp"
    rm -f "$tmp" boot.fs data.fs
    truncate -s 97M "$tmp"
    printf 'label: dos\nstart=2048, size=131072, type=6, bootable\nstart=133120, type=83\n' | sfdisk -q "$tmp"
    syslinux_cfg "$2" "$3" >boot/syslinux.cfg
    truncate -s 64M boot.fs
    mkfs.fat -F 16 -n BOOT boot.fs >/dev/null
    mcopy -i boot.fs boot/vmlinuz boot/initrd.gz boot/syslinux.cfg ::/
    pkg/usr/bin/syslinux --install boot.fs
    truncate -s $((97 * 1024 * 1024 - 133120 * 512)) data.fs
    mkfs.ext4 -q -F -L data -d data data.fs
    dd if=boot.fs of="$tmp" bs=512 seek=2048 conv=notrunc status=none
    dd if=data.fs of="$tmp" bs=512 seek=133120 conv=notrunc status=none
    dd if=pkg/usr/lib/syslinux/mbr/mbr.bin of="$tmp" bs=440 count=1 conv=notrunc status=none
    rm -f boot.fs data.fs
    mv "$tmp" "$target"
}
make_disk "$disk" linux serial
make_disk "$out/test-guest-bench.img" bench serial
make_disk "$out/test-guest-vga.img" linux vga
echo "$stamp" >"$out/stamp"
echo "$disk"
