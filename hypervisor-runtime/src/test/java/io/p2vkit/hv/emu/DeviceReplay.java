package io.p2vkit.hv.emu;

import io.p2vkit.hv.bus.MmioDevice;
import io.p2vkit.hv.bus.PortIoDevice;
import java.util.Deque;

/**
 * Every device of the machine at once, played back from QEMU's log: a port or MMIO read returns
 * the value QEMU's device gave for the same access, and a write must be the one QEMU's CPU made.
 * The address, size and direction of each access must match the recorded one in order; anything
 * else is a divergence of the CPUs and fails the lockstep with both sides shown.
 *
 * <p>QEMU splits an access wider than a region allows into several (an {@code inw} from a
 * byte-wide port is logged as two byte reads): consecutive recorded pieces that cover the access
 * are joined, low address first.
 */
final class DeviceReplay implements PortIoDevice, MmioDevice {

    /** COM1's transmit register (the divisor latch too, while DLAB is set). */
    private static final int COM1_DATA = 0x3F8;

    private final Deque<QemuTrace.Access> recorded;
    /** What emu wrote to COM1's data port: the guest's console, to see how far the boot got. */
    private final StringBuilder com1 = new StringBuilder();
    private long reads;
    private long writes;

    DeviceReplay(Deque<QemuTrace.Access> recorded) {
        this.recorded = recorded;
    }

    @Override
    public int read(int port, int size) {
        return (int) replay(false, port, size, 0);
    }

    @Override
    public void write(int port, int size, int value) {
        replay(true, port, size, value);
        if (port == COM1_DATA && size == 1) {
            com1.append((char) (value & 0xFF));
        }
    }

    @Override
    public long read(long addr, int size) {
        return replay(false, addr, size, 0);
    }

    @Override
    public void write(long addr, int size, long value) {
        replay(true, addr, size, value);
    }

    /** The bytes emu wrote to COM1's data port, as text. */
    CharSequence com1() {
        return com1;
    }

    /** Recorded reads served so far (each access as emu made it, however QEMU split it). */
    long reads() {
        return reads;
    }

    /** Writes checked against QEMU's so far. */
    long writes() {
        return writes;
    }

    /** Fails if QEMU made accesses that emu did not make in the same instruction. */
    void assertAllTaken(String where) {
        if (!recorded.isEmpty()) {
            throw new AssertionError("QEMU made a device access that emu did not, " + where + ": "
                    + recorded.peek() + (recorded.size() > 1 ? " and " + (recorded.size() - 1) + " more" : ""));
        }
    }

    private long replay(boolean write, long addr, int size, long value) {
        long result = 0;
        int covered = 0;
        while (covered < size) {
            QemuTrace.Access a = recorded.poll();
            if (a == null) {
                throw divergence(write, addr, size, value, "QEMU made no further access in this instruction");
            }
            long expectedValue = (value >>> (8 * covered)) & mask(a.size());
            if (a.write() != write || a.addr() != addr + covered || a.size() > size - covered
                    || (write && a.value() != expectedValue)) {
                throw divergence(write, addr, size, value, "QEMU made this one: " + a);
            }
            result |= a.value() << (8 * covered);
            covered += a.size();
        }
        if (write) {
            writes++;
        } else {
            reads++;
        }
        return result & mask(size);
    }

    private static AssertionError divergence(boolean write, long addr, int size, long value, String qemu) {
        return new AssertionError(String.format("emu %s %X size %d%s, %s", write ? "writes" : "reads", addr, size,
                write ? String.format(" value %X", value & mask(size)) : "", qemu));
    }

    private static long mask(int size) {
        return size == 8 ? -1L : (1L << (8 * size)) - 1;
    }
}
