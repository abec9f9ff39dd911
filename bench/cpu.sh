#!/usr/bin/env bash
# Guest CPU benchmark: bench/guest/cpu-bench.c (scale 10) natively, inside the test guest under
# QEMU's emulator (qemu-system-x86_64 -accel tcg) and inside the test guest under p2vkit's
# emulator (p2v vm verify --accel emu), the two emulators alternating. Reports each TIME, checks the
# RESULT lines agree, prints emu/TCG (from the medians, and the geometric mean of each run's pair)
# and emu/native, then the medians of its three phases (integer, floating point, strings) for
# each. Usage: bench/cpu.sh [RUNS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-3}"
work="${BENCH_DIR:-$root/build/bench}"
mkdir -p "$work"
disk="$(dirname "$(bash "$root/scripts/build-test-guest.sh" | tail -1)")/test-guest-bench.img"
gcc -O2 -static -o "$work/cpu-bench" "$root/bench/guest/cpu-bench.c" -lm

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { tr -d '\r' | grep -a "P2V-BENCH $1" | head -1 || true; }  # consoles end lines in CRLF

: >"$work/native.ms"; : >"$work/tcg.ms"; : >"$work/emu.ms"; : >"$work/pairs.ms"
: >"$work/native.phases"; : >"$work/tcg.phases"; : >"$work/emu.phases"
phases() { field PHASES | sed 's/.*int=\([0-9]*\) float=\([0-9]*\) string=\([0-9]*\).*/\1 \2 \3/' | grep -E '^[0-9]+ [0-9]+ [0-9]+$' || true; }
have_emu=0
"$root/bin/p2v" vm verify --help >/dev/null 2>&1 && have_emu=1
if ((have_emu)); then  # the first boot after a build records bin/p2v's profile cache: not timed
    "$root/bin/p2v" vm verify --accel emu --memory 256M --timeout 600s --expect 'P2V-GUEST-OK' \
        "$(dirname "$disk")/test-guest.img" >/dev/null 2>&1 || true
fi
tcg_run() {
    timeout 600 qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot -snapshot \
        -drive "file=$disk,format=raw,if=ide" >"$work/tcg.out" 2>&1 || true
}
emu_run() {
    "$root/bin/p2v" vm verify --accel emu --memory 256M --timeout 600s --expect 'P2V-GUEST-OK' \
        --log "$work/emu.out" "$disk" >/dev/null 2>&1 || true
}
for ((i = 0; i < runs; i++)); do
    "$work/cpu-bench" 10 >"$work/native.out"
    rm -f "$work/tcg.out" "$work/emu.out"  # a run that fails leaves no output of an earlier one
    # The two emulators alternate which goes first, so that a drift in the host's speed favours neither.
    if ((i % 2 == 0)); then
        tcg_run
        if ((have_emu)); then emu_run; fi
    else
        if ((have_emu)); then emu_run; fi
        tcg_run
    fi
    field TIME <"$work/native.out" | sed 's/.*ms=//' >>"$work/native.ms"
    t_ms=$(field TIME <"$work/tcg.out" | sed 's/.*ms=//')
    [[ -z "$t_ms" ]] || echo "$t_ms" >>"$work/tcg.ms"
    phases <"$work/native.out" >>"$work/native.phases"
    phases <"$work/tcg.out" >>"$work/tcg.phases"
    if ((have_emu)) && [[ -f "$work/emu.out" ]]; then
        e_ms=$(field TIME <"$work/emu.out" | sed 's/.*ms=//')
        [[ -z "$e_ms" ]] || echo "$e_ms" >>"$work/emu.ms"
        phases <"$work/emu.out" >>"$work/emu.phases"
        [[ -z "$e_ms" || -z "$t_ms" ]] || echo "$e_ms $t_ms" >>"$work/pairs.ms"
    fi
done
expect=$(field RESULT <"$work/native.out")
[[ "$(field RESULT <"$work/tcg.out")" == "$expect" ]] || echo "WARNING: QEMU TCG guest result differs" >&2
n=$(median <"$work/native.ms"); t=$(median <"$work/tcg.ms")
printf "%-10s %10s\n" where ms
printf "%-10s %10.0f\n" native "$n" "tcg" "$t"
if ((have_emu)) && [[ -s "$work/emu.ms" ]]; then
    [[ "$(field RESULT <"$work/emu.out")" == "$expect" ]] || echo "WARNING: emu guest result differs" >&2
    e=$(median <"$work/emu.ms")
    pairs=$(awk '{s += log($1 / $2); n++} END {print n ? exp(s / n) : 0}' "$work/pairs.ms")
    printf "%-10s %10.0f\nemu/tcg %.2f (pairs' geometric mean %.2f)  emu/native %.2f\n" emu "$e" \
        "$(echo "$e / $t" | bc -l)" "$pairs" "$(echo "$e / $n" | bc -l)"
else
    echo "emu: p2v vm verify cannot boot this guest yet"
fi
printf "%-10s %8s %8s %8s   (phase medians, ms)\n" where int float string
for where in native tcg emu; do
    [[ -s "$work/$where.phases" ]] || continue
    printf "%-10s" "$where"
    for col in 1 2 3; do printf " %8.0f" "$(cut -d' ' -f$col <"$work/$where.phases" | median)"; done
    echo
done
