package io.p2vkit.hv.device;

import io.p2vkit.hv.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;

/**
 * A split virtqueue (VIRTIO 1.2 §2.7) whose rings live in guest memory. Everything the driver
 * wrote is checked before use, as rust-vmm's virtio-queue does: the size and ring placement when
 * the queue is enabled, the avail-index delta, every descriptor's buffer against guest memory, a
 * chain walk bounded by the queue size (so loops end), no nested indirect tables, and a chain
 * length summed exactly and kept under 2^32. A violation is a {@link Fault} naming the rule.
 */
public final class VirtQueue {

    public static final int DESC_F_NEXT = 1;
    public static final int DESC_F_WRITE = 2;
    public static final int DESC_F_INDIRECT = 4;
    public static final int DESC_SIZE = 16;

    /** The rules a driver can break, each with its own name. */
    public enum Error {
        /** Queue size not a power of two, zero, or above the device maximum (§2.7). */
        BAD_QUEUE_SIZE,
        /** Descriptor table not 16-aligned, avail ring not 2-aligned or used ring not 4-aligned (§2.7). */
        MISALIGNED_RING,
        /** A ring reaches outside guest RAM. */
        RING_OUT_OF_RANGE,
        /** The avail index moved by more than the queue size since we last looked. */
        AVAIL_INDEX_JUMP,
        /** A head or next index at or beyond the queue (or indirect table) size. */
        DESC_INDEX_OUT_OF_RANGE,
        /** A descriptor's buffer reaches outside guest RAM, or wraps. */
        BUFFER_OUT_OF_RANGE,
        /** A chain longer than the table it lives in: a loop. */
        CHAIN_LOOP,
        /** An indirect descriptor inside an indirect table (§2.7.5.3.1). */
        NESTED_INDIRECT,
        /** An indirect table whose length is zero, not a multiple of 16, or has NEXT set too. */
        BAD_INDIRECT_TABLE,
        /** The chain's buffers add up to 2^32 bytes or more. */
        CHAIN_TOO_LONG,
        /** The queue was used before it was set up. */
        NOT_READY
    }

    /** A driver's broken promise about a queue. */
    public static final class Fault extends Exception {
        private final Error error;

        public Fault(Error error, String detail) {
            super(error + ": " + detail);
            this.error = error;
        }

        public Error error() {
            return error;
        }
    }

    /** One guest buffer of a chain, already checked against guest memory. */
    public record Buffer(long addr, int len, boolean deviceWritable) {
    }

    /** A descriptor chain taken from the avail ring. */
    public record Chain(int head, List<Buffer> buffers, long totalLength) {
    }

    private final GuestMemory memory;
    private final int maxSize;
    private int size;
    private long descAddr;
    private long availAddr;
    private long usedAddr;
    private boolean ready;
    private int lastAvail;
    private int usedIdx;

    public VirtQueue(GuestMemory memory, int maxSize) {
        this.memory = memory;
        this.maxSize = maxSize;
    }

    public int maxSize() {
        return maxSize;
    }

    public boolean ready() {
        return ready;
    }

    /** Places the rings and checks them (§2.7: size, alignment, and that all three lie in RAM). */
    public void enable(int size, long desc, long avail, long used) throws Fault {
        ready = false;
        if (size <= 0 || size > maxSize || Integer.bitCount(size) != 1) {
            throw new Fault(Error.BAD_QUEUE_SIZE, "size " + size + ", maximum " + maxSize);
        }
        if (desc % 16 != 0 || avail % 2 != 0 || used % 4 != 0) {
            throw new Fault(Error.MISALIGNED_RING, String.format("desc 0x%x avail 0x%x used 0x%x", desc, avail, used));
        }
        requireRam(desc, (long) DESC_SIZE * size, Error.RING_OUT_OF_RANGE, "descriptor table");
        requireRam(avail, 6 + 2L * size, Error.RING_OUT_OF_RANGE, "avail ring");
        requireRam(used, 6 + 8L * size, Error.RING_OUT_OF_RANGE, "used ring");
        this.size = size;
        this.descAddr = desc;
        this.availAddr = avail;
        this.usedAddr = used;
        this.lastAvail = 0;
        this.usedIdx = 0;
        this.ready = true;
    }

    public void reset() {
        ready = false;
        size = 0;
        lastAvail = 0;
        usedIdx = 0;
    }

    /** The next chain the driver made available, or null when there is none. */
    public Chain next() throws Fault {
        if (!ready) {
            throw new Fault(Error.NOT_READY, "queue not enabled");
        }
        int availIdx = memory.readShort(availAddr + 2) & 0xFFFF;
        int pending = (availIdx - lastAvail) & 0xFFFF;
        if (pending == 0) {
            return null;
        }
        if (pending > size) {
            throw new Fault(Error.AVAIL_INDEX_JUMP, "avail index " + availIdx + " is " + pending
                    + " ahead of " + lastAvail + " in a queue of " + size);
        }
        int head = memory.readShort(availAddr + 4 + 2L * (lastAvail % size)) & 0xFFFF;
        lastAvail = (lastAvail + 1) & 0xFFFF;
        return walk(head);
    }

    private Chain walk(int head) throws Fault {
        if (head >= size) {
            throw new Fault(Error.DESC_INDEX_OUT_OF_RANGE, "head " + head + " in a queue of " + size);
        }
        List<Buffer> buffers = new ArrayList<>();
        long total = 0;
        long table = descAddr;
        int tableSize = size;
        int ttl = size;   // more descriptors than the table holds means a loop
        int index = head;
        boolean indirect = false;
        while (true) {
            if (ttl-- == 0) {
                throw new Fault(Error.CHAIN_LOOP, "chain from head " + head + " exceeds " + tableSize + " descriptors");
            }
            long d = table + (long) DESC_SIZE * index;
            long addr = memory.readLong(d);
            long len = memory.readInt(d + 8) & 0xFFFFFFFFL;
            int flags = memory.readShort(d + 12) & 0xFFFF;
            int next = memory.readShort(d + 14) & 0xFFFF;
            if ((flags & DESC_F_INDIRECT) != 0) {
                if (indirect) {
                    throw new Fault(Error.NESTED_INDIRECT, "indirect descriptor inside an indirect table");
                }
                if (len == 0 || len % DESC_SIZE != 0 || (flags & DESC_F_NEXT) != 0 || len / DESC_SIZE > 0xFFFF) {
                    throw new Fault(Error.BAD_INDIRECT_TABLE, "indirect table of " + len + " bytes, flags " + flags);
                }
                requireRam(addr, len, Error.BUFFER_OUT_OF_RANGE, "indirect table");
                indirect = true;
                table = addr;
                tableSize = (int) (len / DESC_SIZE);
                ttl = tableSize;
                index = 0;
                continue;
            }
            requireRam(addr, len, Error.BUFFER_OUT_OF_RANGE, "buffer of descriptor " + index);
            total = Math.addExact(total, len);
            if (total >= 1L << 32) {
                throw new Fault(Error.CHAIN_TOO_LONG, "chain from head " + head + " holds " + total + " bytes");
            }
            buffers.add(new Buffer(addr, (int) len, (flags & DESC_F_WRITE) != 0));
            if ((flags & DESC_F_NEXT) == 0) {
                return new Chain(head, List.copyOf(buffers), total);
            }
            if (next >= tableSize) {
                throw new Fault(Error.DESC_INDEX_OUT_OF_RANGE, "next " + next + " in a table of " + tableSize);
            }
            index = next;
        }
    }

    /** Returns a finished chain to the driver with {@code written} bytes placed in its buffers. */
    public void pushUsed(int head, long written) {
        long slot = usedAddr + 4 + 8L * (usedIdx % size);
        memory.writeInt(slot, head);
        memory.writeInt(slot + 4, (int) written);
        usedIdx = (usedIdx + 1) & 0xFFFF;
        memory.writeShort(usedAddr + 2, (short) usedIdx);
    }

    private void requireRam(long addr, long len, Error error, String what) throws Fault {
        if (len == 0) {
            return;
        }
        boolean ok;
        try {
            ok = addr >= 0 && memory.find(addr, len) != null && Math.addExact(addr, len) > addr;
        } catch (ArithmeticException overflow) {
            ok = false;
        }
        if (!ok) {
            throw new Fault(error, String.format("%s at 0x%x+%d is not guest RAM", what, addr, len));
        }
    }
}
