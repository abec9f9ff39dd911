#!/usr/bin/env bash
# Benchmark: p2v image convert against qemu-img convert on the same 2 GiB input, alternating,
# each output deleted before the next run. Prints median wall time, peak RSS and the ratio.
# Usage: bench/convert.sh [RUNS] [SIZE_MIB]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-3}"
size_mib="${2:-2048}"
work="${BENCH_DIR:-$root/build/bench}"
mkdir -p "$work"
src="$work/bench-${size_mib}M.raw"
[[ -f "$src" ]] || python3 "$root/bench/make-image.py" "$src" "$size_mib"
"$root/bin/p2v" --version >/dev/null   # build once, outside the timings

# name | p2v arguments | qemu-img arguments | input
pairs=(
  "raw->vpc|-O vpc|-O vpc|$src"
  "raw->vmdk|-O vmdk|-O vmdk|$src"
  "raw->vmdk-stream|-O vmdk -o subformat=streamOptimized|-O vmdk -o subformat=streamOptimized|$src"
  "raw->qcow2|-O qcow2|-O qcow2|$src"
  "raw->qcow2-c|-c -O qcow2|-c -O qcow2|$src"
  "vmdk->vpc|-O vpc|-O vpc|$work/input.vmdk"
)
[[ -f "$work/input.vmdk" ]] || qemu-img convert -O vmdk "$src" "$work/input.vmdk"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

timed() {  # timed OUTFILE CMD... -> prints "seconds maxrss_kib"
    local out="$1"; shift
    rm -f "$out"; sync
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>&1
    rm -f "$out"
    cat "$work/time.txt"
}

printf "%-18s %10s %10s %8s %12s %12s\n" pair p2v_s qemu_s ratio p2v_rss_MiB qemu_rss_MiB
for pair in "${pairs[@]}"; do
    IFS='|' read -r name ours theirs input <<<"$pair"
    : >"$work/ours.txt"; : >"$work/theirs.txt"
    for ((i = 0; i < runs; i++)); do
        # shellcheck disable=SC2086
        if ((i % 2 == 0)); then
            timed "$work/out.p2v" "$root/bin/p2v" image convert $ours "$input" "$work/out.p2v" >>"$work/ours.txt"
            timed "$work/out.qemu" qemu-img convert $theirs "$input" "$work/out.qemu" >>"$work/theirs.txt"
        else
            timed "$work/out.qemu" qemu-img convert $theirs "$input" "$work/out.qemu" >>"$work/theirs.txt"
            timed "$work/out.p2v" "$root/bin/p2v" image convert $ours "$input" "$work/out.p2v" >>"$work/ours.txt"
        fi
    done
    a=$(cut -d' ' -f1 "$work/ours.txt" | median); b=$(cut -d' ' -f1 "$work/theirs.txt" | median)
    ra=$(cut -d' ' -f2 "$work/ours.txt" | median); rb=$(cut -d' ' -f2 "$work/theirs.txt" | median)
    printf "%-18s %10.2f %10.2f %8.2f %12.0f %12.0f\n" "$name" "$a" "$b" "$(echo "$a / $b" | bc -l)" \
        "$(echo "$ra / 1024" | bc -l)" "$(echo "$rb / 1024" | bc -l)"
done
