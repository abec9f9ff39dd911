#!/usr/bin/env python3
"""Writes the benchmark disk: SIZE bytes of 1 MiB chunks chosen with a fixed seed,
30% random bytes, 20% text-like bytes, 50% zeros (written, not holes, as a real disk dump has)."""
import random
import sys

MIB = 1 << 20
path, size_mib = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2048
rnd = random.Random(20261122)
text_table = bytes((b" etaoinshrdlucmfwypvbgkqjxz\n.,ETAOIN"[b % 36]) for b in range(256)).ljust(256, b" ")
zero = bytes(MIB)
with open(path, "wb") as f:
    for _ in range(size_mib):
        kind = rnd.random()
        if kind < 0.30:
            f.write(rnd.randbytes(MIB))
        elif kind < 0.50:
            f.write(rnd.randbytes(MIB).translate(text_table))
        else:
            f.write(zero)
