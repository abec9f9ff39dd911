#!/usr/bin/env bash
# Builds a small BIOS-bootable MBR disk that looks like a real Linux server disk, from Debian
# packages only, and caches it under build/test-guest/ (gitignored; nothing here is committed):
#
#   sector 0        syslinux's MBR boot code, partition table
#   partition 1     FAT16, bootable: syslinux (prints a marker line on the serial console),
#                   the Debian kernel (linux-image-amd64), an initramfs with busybox-static
#   partition 2     ext4 "data" partition with a few files
#
# The initramfs's init prints one line to ttyS0 and powers off:
#   P2VKIT-GUEST-UP kernel=<uname -r> cpus=<n> MemTotal: <n> kB
# and syslinux prints  P2VKIT-BOOTLOADER: syslinux loading the Debian kernel  before it.
#
# Usage: scripts/build-test-guest.sh [--check]   (--check boots it in QEMU TCG as the oracle)
# Prints the disk's path on the last line.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/build/test-guest"
DISK="$OUT/test-guest.raw"
WORK="$OUT/work"
DISK_MIB=64
BOOT_START=2048            # sectors: partition 1 at 1 MiB
BOOT_SECTORS=$((40 * 2048))  # 40 MiB
DATA_START=$((BOOT_START + BOOT_SECTORS))

need() { command -v "$1" >/dev/null 2>&1; }

install_tools() {
    local missing=()
    need mkfs.vfat || missing+=(dosfstools)
    need mcopy || missing+=(mtools)
    need sfdisk || missing+=(fdisk)
    need cpio || missing+=(cpio)
    need mkfs.ext4 || missing+=(e2fsprogs)
    if ((${#missing[@]})); then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
}

# Downloads a Debian package (no install) and unpacks it into $WORK/pkg/<name>.
unpack() {
    local pkg="$1" dir="$WORK/pkg/$1"
    if [[ ! -d "$dir" ]]; then
        mkdir -p "$WORK/debs" "$dir"
        (cd "$WORK/debs" && apt-get download -qq "$pkg" 2>/dev/null || { apt-get update -qq && apt-get download -qq "$pkg"; })
        dpkg-deb -x "$WORK"/debs/"${pkg}"_*.deb "$dir"
    fi
    echo "$dir"
}

build() {
    install_tools
    mkdir -p "$WORK"
    # The real kernel package behind the linux-image-amd64 metapackage.
    local kpkg
    kpkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')"
    [[ -n "$kpkg" ]] || { apt-get update -qq; kpkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')"; }
    local kdir bbdir sldir slcdir
    kdir="$(unpack "$kpkg")"
    bbdir="$(unpack busybox-static)"
    sldir="$(unpack syslinux)"
    slcdir="$(unpack syslinux-common)"
    local vmlinuz
    vmlinuz="$(ls "$kdir"/boot/vmlinuz-* | head -n1)"

    # initramfs: busybox and an init that reports and powers off.
    local ir="$WORK/initramfs"
    rm -rf "$ir"
    mkdir -p "$ir"/{bin,dev,proc,sys}
    cp "$bbdir/bin/busybox" "$ir/bin/busybox"
    cat > "$ir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
cpus=$(/bin/busybox grep -c '^processor' /proc/cpuinfo)
mem=$(/bin/busybox grep MemTotal /proc/meminfo | /bin/busybox tr -s ' ')
echo "P2VKIT-GUEST-UP kernel=$(/bin/busybox uname -r) cpus=$cpus $mem" > /dev/ttyS0
/bin/busybox poweroff -f
INIT
    chmod 755 "$ir/init"
    (cd "$ir" && find . | cpio -o -H newc --quiet | gzip -9) > "$WORK/initrd.img"

    # Partition 1: FAT16 with syslinux, kernel and initramfs.
    local boot="$WORK/boot.fat"
    rm -f "$boot"
    mkfs.vfat -C -n P2VBOOT "$boot" $((BOOT_SECTORS / 2)) >/dev/null
    cat > "$WORK/syslinux.cfg" <<'CFG'
SERIAL 0 115200
SAY P2VKIT-BOOTLOADER: syslinux loading the Debian kernel
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.img
  APPEND console=ttyS0,115200 panic=-1 quiet
CFG
    export MTOOLS_SKIP_CHECK=1
    mcopy -i "$boot" "$vmlinuz" ::vmlinuz
    mcopy -i "$boot" "$WORK/initrd.img" ::initrd.img
    mcopy -i "$boot" "$WORK/syslinux.cfg" ::syslinux.cfg
    "$sldir/usr/bin/syslinux" --install "$boot"

    # Partition 2: an ext4 data partition, as a server disk has.
    local data="$WORK/data.ext4" total=$((DISK_MIB * 2048))
    local data_sectors=$((total - DATA_START))
    rm -f "$data"
    mkdir -p "$WORK/datafiles/srv"
    echo "p2vkit test guest data partition" > "$WORK/datafiles/srv/README"
    mkfs.ext4 -q -F -L p2vdata -d "$WORK/datafiles" "$data" $((data_sectors / 2))k

    # The disk: MBR boot code, partition table, both partitions.
    rm -f "$DISK.tmp"
    truncate -s "${DISK_MIB}M" "$DISK.tmp"
    sfdisk -q "$DISK.tmp" <<PART
label: dos
start=$BOOT_START, size=$BOOT_SECTORS, type=6, bootable
start=$DATA_START, type=83
PART
    dd if="$slcdir/usr/lib/syslinux/mbr/mbr.bin" of="$DISK.tmp" bs=440 count=1 conv=notrunc status=none
    dd if="$boot" of="$DISK.tmp" bs=512 seek=$BOOT_START conv=notrunc status=none
    dd if="$data" of="$DISK.tmp" bs=512 seek=$DATA_START conv=notrunc status=none
    mv "$DISK.tmp" "$DISK"
    echo "$kpkg" > "$OUT/kernel-package"
}

check() {
    command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed" >&2; exit 1; }
    local log="$OUT/qemu-check.log" t0 t1
    t0=$(date +%s.%N)
    timeout 120 qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot \
        -drive file="$DISK",format=raw,if=ide,snapshot=on > "$log" 2>&1 || true
    t1=$(date +%s.%N)
    if grep -q "P2VKIT-GUEST-UP" "$log" && grep -q "P2VKIT-BOOTLOADER" "$log"; then
        echo "QEMU TCG boot OK in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s: $(grep -a -o 'P2VKIT-GUEST-UP.*' "$log" | tr -d '\r')" >&2
    else
        echo "QEMU TCG boot did not reach the marker; see $log" >&2
        exit 1
    fi
}

if [[ ! -f "$DISK" ]]; then
    build >&2
fi
if [[ "${1:-}" == "--check" ]]; then
    check
fi
echo "$DISK"
