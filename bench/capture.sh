#!/usr/bin/env bash
# Benchmark: p2v capture of a 4 GiB loop device holding ext4 about 30% full, against dd bs=4M of
# the whole device and partclone.ext4 -c, alternating, each output deleted before the next run.
# Prints median seconds, bytes written and the ratios. Needs root (loop devices).
# Usage: bench/capture.sh [RUNS] [FORMAT]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-3}"
fmt="${2:-vmdk}"
work="${BENCH_DIR:-$root/build/bench}"
mkdir -p "$work"
disk="$work/capture-4G.img"
[[ -f "$disk" ]] || bash "$root/bench/make-ext4-disk.sh" "$disk"
"$root/bin/p2v" --version >/dev/null
dev=$(losetup -r -f --show "$disk")
part=$(losetup -r -f --show -o $((2048 * 512)) "$disk")
trap 'losetup -d "$dev" "$part"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
run() {  # run NAME OUTPUT CMD... ; appends "seconds bytes_on_disk" to NAME.txt
    local name="$1" out="$2"; shift 2
    rm -f "$out" "$out.manifest.json"; sync
    /usr/bin/time -f "%e" -o "$work/t" "$@" >/dev/null 2>&1
    echo "$(cat "$work/t") $(du -B1 "$out" | cut -f1)" >>"$work/$name.txt"
    rm -f "$out" "$out.manifest.json"
}
: >"$work/p2v.txt"; : >"$work/dd.txt"; : >"$work/partclone.txt"
for ((i = 0; i < runs; i++)); do
    run p2v "$work/cap.$fmt" "$root/bin/p2v" capture "$dev" -O "$fmt" -o "$work/cap.$fmt"
    run dd "$work/cap.dd" dd if="$dev" of="$work/cap.dd" bs=4M
    run partclone "$work/cap.pc" partclone.ext4 -c -s "$part" -o "$work/cap.pc"
done
rm -f "$work/qemu-sparse.$fmt"
qemu-img convert -O "$fmt" "$disk" "$work/qemu-sparse.$fmt"   # the peer's sparse image of the same disk
q=$(du -B1 "$work/qemu-sparse.$fmt" | cut -f1)
rm -f "$work/qemu-sparse.$fmt"
printf "%-10s %10s %14s %8s\n" tool seconds bytes_written p2v/tool
p=$(cut -d' ' -f1 "$work/p2v.txt" | median)
for t in p2v dd partclone; do
    s=$(cut -d' ' -f1 "$work/$t.txt" | median); b=$(cut -d' ' -f2 "$work/$t.txt" | median)
    printf "%-10s %10.2f %14.0f %8.2f\n" "$t" "$s" "$b" "$(echo "$p / $s" | bc -l)"
done
printf "%-10s %10s %14.0f   (qemu-img convert -O %s of the whole disk)\n" "qemu-img" "-" "$q" "$fmt"
