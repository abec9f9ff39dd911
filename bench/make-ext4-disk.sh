#!/usr/bin/env bash
# Builds the capture benchmark's source: a 4 GiB disk file with one ext4 partition about 30% full
# of mixed data (random, text-like, zeros), with some files deleted after being written.
# Usage: bench/make-ext4-disk.sh DISK.img   (as root: uses a loop device and a mount)
set -euo pipefail
disk="$1"
truncate -s 4G "$disk"
printf 'label: dos\n,,83\n' | sfdisk -q "$disk"
start=$((2048 * 512))
dev=$(losetup -f --show -o "$start" "$disk")
mnt=$(mktemp -d)
trap 'umount "$mnt" 2>/dev/null || true; losetup -d "$dev"; rmdir "$mnt"' EXIT
mkfs.ext4 -q -L bench "$dev"
mount "$dev" "$mnt"
python3 - "$mnt" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(4242)
MIB = 1 << 20
table = bytes(b" etaoinshrdlucmfwyp\n"[b % 20] for b in range(256))
def chunk():
    k = rnd.random()
    if k < 0.45: return rnd.randbytes(MIB)
    if k < 0.80: return rnd.randbytes(MIB).translate(table)
    return bytes(MIB)
def write(path, mib):
    with open(path, "wb") as f:
        for _ in range(mib): f.write(chunk())
os.makedirs(f"{root}/data", exist_ok=True)
for i in range(60):            # ~1.2 GiB kept
    write(f"{root}/data/file{i:03}", 20)
for i in range(20):            # ~0.4 GiB written then deleted: must not be copied
    write(f"{root}/gone{i:03}", 20)
os.sync()
for i in range(20):
    os.remove(f"{root}/gone{i:03}")
PY
sync
