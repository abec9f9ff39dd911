#!/usr/bin/env bash
# Boot benchmark: time from command start to the test guest's userspace marker (P2V-GUEST-OK,
# printed by its /init; BOOT_EXPECT='SYSLINUX 6' measures to the bootloader's banner instead) on
# the serial console, for p2v vm verify --accel emu and for qemu-system-x86_64 -accel tcg, on the
# same test guest disk, memory, disk bus and no display, alternating. Prints the medians, their
# ratio, and the geometric mean of the pairs' ratios (steadier than the medians when the host's
# speed drifts during the runs).
# Usage: bench/boot.sh [RUNS] [ide|virtio]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-5}"
bus="${2:-ide}"
work="${BENCH_DIR:-$root/build/bench}"
mkdir -p "$work"
disk="$(bash "$root/scripts/build-test-guest.sh" | tail -1)"
"$root/bin/p2v" --version >/dev/null
expect="${BOOT_EXPECT:-P2V-GUEST-OK}"
limit=600
qemu_if=$([[ "$bus" == virtio ]] && echo virtio || echo ide)
# The first boot after a build records bin/p2v's profile cache (~2 s longer): it is not timed.
"$root/bin/p2v" vm verify --accel emu --memory 512M --no-vga --disk-bus "$bus" --timeout ${limit}s \
    --expect P2V-GUEST-OK "$disk" >/dev/null 2>&1 || true

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now() { date +%s.%N; }

p2v_once() {
    local t0; t0=$(now)
    "$root/bin/p2v" vm verify --accel emu --memory 512M --no-vga --disk-bus "$bus" --timeout ${limit}s \
        --expect "$expect" "$disk" >/dev/null 2>&1
    echo "$(now) - $t0" | bc -l
}
qemu_once() {
    local t0; t0=$(now)
    # grep exits at the banner; QEMU then dies of SIGPIPE on its next write to the console.
    timeout $limit sh -c "qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -snapshot \
        -drive file=$disk,format=raw,if=$qemu_if 2>&1 | grep -a -q -m1 '$expect'" || true
    echo "$(now) - $t0" | bc -l
}
: >"$work/boot-p2v.txt"; : >"$work/boot-qemu.txt"
for ((i = 0; i < runs; i++)); do
    if ((i % 2 == 0)); then p2v_once >>"$work/boot-p2v.txt"; qemu_once >>"$work/boot-qemu.txt"
    else qemu_once >>"$work/boot-qemu.txt"; p2v_once >>"$work/boot-p2v.txt"; fi
done
p=$(median <"$work/boot-p2v.txt"); q=$(median <"$work/boot-qemu.txt")
pairs=$(paste "$work/boot-p2v.txt" "$work/boot-qemu.txt" | awk '{s += log($1 / $2); n++} END {print exp(s / n)}')
printf "to '%s' over %s: p2v emu %.2f s, qemu tcg %.2f s, ratio %.2f (pairs' geometric mean %.2f)\n" \
    "$expect" "$bus" "$p" "$q" "$(echo "$p / $q" | bc -l)" "$pairs"
