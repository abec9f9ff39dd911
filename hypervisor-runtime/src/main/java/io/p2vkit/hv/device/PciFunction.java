package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.bus.MmioDevice;
import io.p2vkit.hv.bus.PortIoDevice;

/**
 * One PCI function's type-0 configuration header (PCI Local Bus Specification 3.0 §6.1) with its
 * base address registers. Subclasses set the identity bytes and say which bytes the guest may
 * write; BAR sizing (write all ones, read back the size mask) and moving a BAR on the {@link Bus}
 * when the guest reprograms it or toggles the command register's decode bits live here.
 */
public abstract class PciFunction {

    public static final int CFG_VENDOR_ID = 0x00;
    public static final int CFG_DEVICE_ID = 0x02;
    public static final int CFG_COMMAND = 0x04;
    public static final int CFG_STATUS = 0x06;
    public static final int CFG_REVISION = 0x08;
    public static final int CFG_PROG_IF = 0x09;
    public static final int CFG_SUBCLASS = 0x0A;
    public static final int CFG_CLASS = 0x0B;
    public static final int CFG_HEADER_TYPE = 0x0E;
    public static final int CFG_BAR0 = 0x10;
    public static final int CFG_SUBSYSTEM_VENDOR = 0x2C;
    public static final int CFG_SUBSYSTEM_ID = 0x2E;
    public static final int CFG_INTERRUPT_LINE = 0x3C;
    public static final int CFG_INTERRUPT_PIN = 0x3D;

    public static final int COMMAND_IO = 0x0001;
    public static final int COMMAND_MEMORY = 0x0002;
    public static final int COMMAND_BUS_MASTER = 0x0004;
    public static final int HEADER_MULTIFUNCTION = 0x80;
    public static final int BAR_IO = 0x1;

    private final String name;
    protected final byte[] config = new byte[256];
    private final byte[] writeMask = new byte[256];
    private final Bar[] bars = new Bar[6];
    private Bus bus;
    private long missed;

    /** A BAR: its size (a power of two), kind, and the device answering in it. */
    private static final class Bar {
        final int size;
        final boolean io;
        final PortIoDevice pio;
        final MmioDevice mmio;
        long mappedAt = -1;

        Bar(int size, boolean io, PortIoDevice pio, MmioDevice mmio) {
            this.size = size;
            this.io = io;
            this.pio = pio;
            this.mmio = mmio;
        }
    }

    protected PciFunction(String name, int vendor, int device, int classCode, int revision) {
        this.name = name;
        put16(CFG_VENDOR_ID, vendor);
        put16(CFG_DEVICE_ID, device);
        config[CFG_REVISION] = (byte) revision;
        config[CFG_PROG_IF] = (byte) classCode;
        config[CFG_SUBCLASS] = (byte) (classCode >> 8);
        config[CFG_CLASS] = (byte) (classCode >> 16);
        writable(CFG_COMMAND, 2);
        writable(CFG_INTERRUPT_LINE, 1);
        writable(0x0C, 2);   // cache line size, latency timer
    }

    public String name() {
        return name;
    }

    /** Called once by the machine builder: BARs are (un)registered here as the guest moves them. */
    public void attach(Bus bus) {
        this.bus = bus;
    }

    /** Declares an I/O BAR of {@code size} bytes (a power of two, at least 4). */
    protected final void ioBar(int index, int size, PortIoDevice device) {
        requirePowerOfTwo(size, 4);
        bars[index] = new Bar(size, true, device, null);
        config[CFG_BAR0 + 4 * index] = BAR_IO;
    }

    /** Declares a 32-bit memory BAR of {@code size} bytes (a power of two, at least 16). */
    protected final void memoryBar(int index, int size, MmioDevice device) {
        requirePowerOfTwo(size, 16);
        bars[index] = new Bar(size, false, null, device);
    }

    private static void requirePowerOfTwo(int size, int min) {
        if (size < min || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("BAR size " + size);
        }
    }

    /** Lets the guest write {@code len} bytes at {@code off}. */
    protected final void writable(int off, int len) {
        for (int i = 0; i < len; i++) {
            writeMask[off + i] = (byte) 0xFF;
        }
    }

    protected final void put16(int off, int v) {
        config[off] = (byte) v;
        config[off + 1] = (byte) (v >> 8);
    }

    protected final int get16(int off) {
        return (config[off] & 0xFF) | (config[off + 1] & 0xFF) << 8;
    }

    protected final int get32(int off) {
        return get16(off) | get16(off + 2) << 16;
    }

    protected final void put32(int off, int v) {
        put16(off, v);
        put16(off + 2, v >>> 16);
    }

    /** A configuration read; {@code off} is aligned to {@code size} by the host bridge. */
    public synchronized int readConfig(int off, int size) {
        int v = 0;
        for (int i = 0; i < size; i++) {
            v |= (config[(off + i) & 0xFF] & 0xFF) << (8 * i);
        }
        return v;
    }

    public synchronized void writeConfig(int off, int size, int value) {
        boolean touchedBars = false;
        boolean any = false;
        for (int i = 0; i < size; i++) {
            int o = (off + i) & 0xFF;
            int b = (value >>> (8 * i)) & 0xFF;
            if (o >= CFG_BAR0 && o < CFG_BAR0 + 24) {
                touchedBars = true;
                writeBarByte(o, b);
                continue;
            }
            int mask = writeMask[o] & 0xFF;
            if (mask == 0) {
                continue;
            }
            any = true;
            config[o] = (byte) ((config[o] & ~mask) | (b & mask));
        }
        if (!any && !touchedBars) {
            missed++;
        }
        if (touchedBars || off <= CFG_COMMAND + 1 && off + size > CFG_COMMAND) {
            remapBars();
        }
        configWritten(off, size);
    }

    private void writeBarByte(int o, int b) {
        int index = (o - CFG_BAR0) / 4;
        Bar bar = bars[index];
        if (bar == null) {
            return;   // unimplemented BAR: hardwired to zero
        }
        int shift = 8 * ((o - CFG_BAR0) % 4);
        int sizeMask = ~(bar.size - 1);
        int keep = bar.io ? BAR_IO : 0;
        int current = get32(CFG_BAR0 + 4 * index);
        int updated = (current & ~(0xFF << shift)) | (b << shift);
        put32(CFG_BAR0 + 4 * index, (updated & sizeMask) | keep);
    }

    /** Places each BAR on the bus where the guest put it, if decoding of its kind is enabled. */
    private void remapBars() {
        if (bus == null) {
            return;
        }
        int command = get16(CFG_COMMAND);
        for (int i = 0; i < bars.length; i++) {
            Bar bar = bars[i];
            if (bar == null) {
                continue;
            }
            long raw = get32(CFG_BAR0 + 4 * i) & 0xFFFFFFFFL;
            long base = bar.io ? raw & 0xFFFC : raw & 0xFFFFFFF0L;
            boolean enabled = (command & (bar.io ? COMMAND_IO : COMMAND_MEMORY)) != 0;
            boolean sane = base != 0 && (bar.io ? (raw & ~0xFFFFL) == 0 && base + bar.size <= 0x10000
                    : base + bar.size <= 0x1_0000_0000L && raw != (~(bar.size - 1L) & 0xFFFFFFF0L));
            long target = enabled && sane ? base : -1;
            if (target == bar.mappedAt) {
                continue;
            }
            unmap(bar);
            if (target >= 0) {
                try {
                    if (bar.io) {
                        bus.registerPio(name + " BAR" + i, (int) target, bar.size, bar.pio);
                    } else {
                        bus.registerMmio(name + " BAR" + i, target, bar.size, bar.mmio);
                    }
                    bar.mappedAt = target;
                } catch (IllegalArgumentException overlap) {
                    missed++;   // the guest placed the BAR over another device: it does not decode
                }
            }
        }
    }

    private void unmap(Bar bar) {
        if (bar.mappedAt < 0) {
            return;
        }
        if (bar.io) {
            bus.unregisterPio(bar.pio, (int) bar.mappedAt);
        } else {
            bus.unregisterMmio(bar.mmio, bar.mappedAt);
        }
        bar.mappedAt = -1;
    }

    /** Where BAR {@code index} is decoded now, or -1. */
    public synchronized long barAddress(int index) {
        return bars[index] == null ? -1 : bars[index].mappedAt;
    }

    /** Hook for subclasses with side effects on configuration writes (PAM, PIRQ routing). */
    protected void configWritten(int off, int size) {
    }

    /** Configuration writes that hit only read-only bytes. */
    public synchronized long missedAccesses() {
        return missed;
    }
}
