package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;
import io.p2vkit.hv.memory.GuestMemory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Locked instructions (LOCK prefix, XCHG with memory) on a machine with several vCPUs, run as a
 * small transaction so that they are atomic against every other vCPU's accesses, locked or
 * plain (SDM Vol. 3 §9.1.2.2). The instruction's handler runs unchanged while the {@link Mmu}
 * sends its data accesses here: the first one snapshots the aligned 8 bytes of RAM that hold the
 * operand, reads are served from the snapshot and writes are merged into a copy, and at the end
 * one compare-and-set puts the copy in place if memory still holds the snapshot. If another vCPU
 * wrote those bytes meanwhile, the registers and flags are restored and the instruction runs
 * again. The compare-and-set is a full fence, which is what a locked instruction is on x86.
 *
 * <p>An operand that does not fit in one aligned 8-byte chunk (a split lock), or that is MMIO or
 * ROM, runs under one machine-wide lock instead: atomic against other split locked instructions,
 * not against plain stores. Linux avoids split locks (it can even trap them); none of its
 * atomics are split.
 */
final class LockedAccess {

    /** Thrown inside a transaction that cannot be one compare-and-set; the instruction reruns under the lock. */
    static final class Split extends RuntimeException {
        private Split() {
            super("split locked access", null, false, false);
        }
    }

    private static final Split SPLIT = new Split();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final ReentrantLock splitLock;
    private MemorySegment segment;
    private long offset;
    private long chunk = -1;
    private long snapshot;
    private long value;
    private boolean wrote;
    private final long[] savedRegisters = new long[16];
    private long retries;
    private long splitLocks;

    /** {@code splitLock} is shared by every vCPU of the machine. */
    LockedAccess(ReentrantLock splitLock) {
        this.splitLock = splitLock;
    }

    /** Runs {@code h} for {@code d} atomically; CPU faults propagate with memory untouched. */
    void execute(Cpu c, DecodedInsn d, Handler h) {
        System.arraycopy(c.r, 0, savedRegisters, 0, 16);
        Flags f = c.flags;
        int stored = f.stored;
        int kind = f.kind;
        int size = f.size;
        long a = f.a;
        long b = f.b;
        long res = f.res;
        int carryIn = f.carryIn;
        for (;;) {
            chunk = -1;
            wrote = false;
            boolean committed;
            c.mmu.beginLocked(this);
            try {
                h.exec(c, d);
                committed = commit(c.mmu);
            } catch (Split s) {
                committed = false;
            } finally {
                c.mmu.endLocked();
            }
            if (committed) {
                return;
            }
            System.arraycopy(savedRegisters, 0, c.r, 0, 16);
            f.stored = stored;
            f.kind = kind;
            f.size = size;
            f.a = a;
            f.b = b;
            f.res = res;
            f.carryIn = carryIn;
            if (chunk == -2) {
                runSplit(c, d, h);
                return;
            }
            retries++;
        }
    }

    private void runSplit(Cpu c, DecodedInsn d, Handler h) {
        splitLocks++;
        splitLock.lock();
        try {
            h.exec(c, d);
            VarHandle.fullFence();
        } finally {
            splitLock.unlock();
        }
    }

    /** A read of {@code size} bytes at physical {@code pa} (within one page) inside the transaction. */
    int read(long pa, int size) {
        enter(pa, size);
        int shift = (int) (pa & 7) * 8;
        long v = value >>> shift;
        return size == 4 ? (int) v : (int) v & ((1 << (size * 8)) - 1);
    }

    void write(long pa, int size, int v) {
        enter(pa, size);
        int shift = (int) (pa & 7) * 8;
        long mask = (size == 4 ? 0xFFFF_FFFFL : (1L << (size * 8)) - 1) << shift;
        value = (value & ~mask) | (((long) v << shift) & mask);
        wrote = true;
    }

    private Mmu mmuOf;

    private void enter(long pa, int size) {
        long first = pa & ~7L;
        if ((pa + size - 1 & ~7L) != first) {
            throw split();
        }
        if (chunk == first) {
            return;
        }
        if (chunk != -1) {
            throw split(); // a second chunk: two locations cannot be one compare-and-set
        }
        GuestMemory.Region r = mmuOf.lockableRegion(first, 8);
        if (r == null) {
            throw split();
        }
        chunk = first;
        segment = r.segment();
        offset = first - r.base();
        snapshot = (long) LONG.getVolatile(segment, offset);
        value = snapshot;
    }

    private Split split() {
        chunk = -2;
        return SPLIT;
    }

    private boolean commit(Mmu mmu) {
        if (chunk < 0) {
            return chunk == -1; // no memory operand touched (cannot happen for LOCK forms): done
        }
        if (!LONG.compareAndSet(segment, offset, snapshot, value)) {
            return false;
        }
        if (wrote && value != snapshot) {
            mmu.lockedWriteDone(chunk);
        }
        return true;
    }

    /** Binds the MMU whose regions this transaction reads (one LockedAccess per vCPU). */
    void bind(Mmu mmu) {
        this.mmuOf = mmu;
    }

    /** Transactions that found their bytes changed by another vCPU and ran again. */
    long retries() {
        return retries;
    }

    /** Locked instructions that ran under the machine-wide lock (split, MMIO or ROM operands). */
    long splitLocks() {
        return splitLocks;
    }
}
