package io.p2vkit.hv.device.vga;

import io.p2vkit.hv.bus.MmioDevice;

/**
 * The four 64 KiB planes and the CPU's window onto them at 0xA0000-0xBFFFF (offsets here are from
 * 0xA0000). Graphics controller register 6 chooses which part of the window answers; the
 * sequencer memory mode chooses how a CPU address reaches the planes: chain-4 (address bits 0-1
 * pick the plane), odd/even (bit 0 picks plane 0/2 or 1/3: text mode's character and attribute
 * bytes) or planar (the map mask picks planes for writes, the read map select one plane for
 * reads). Every read loads the four latches; writes go through write modes 0-3 with set/reset,
 * rotate, logical operation and bit mask. Read mode 1 compares colours.
 * Thread-safety comes from {@link VgaCard}'s lock.
 */
final class VgaMemory implements MmioDevice {

    static final long WINDOW_BASE = 0xA_0000L;
    static final int WINDOW_SIZE = 0x2_0000;
    static final int PLANES = 4;
    static final int PLANE_SIZE = 0x1_0000;

    // Sequencer.
    static final int SEQ_MAP_MASK = 2;
    static final int SEQ_MEMORY_MODE = 4;
    static final int MEM_ODD_EVEN_OFF = 0x04;
    static final int MEM_CHAIN4 = 0x08;
    // Graphics controller.
    static final int GC_SET_RESET = 0;
    static final int GC_SET_RESET_ENABLE = 1;
    static final int GC_COLOR_COMPARE = 2;
    static final int GC_ROTATE = 3;
    static final int GC_READ_MAP = 4;
    static final int GC_MODE = 5;
    static final int GC_MISC = 6;
    static final int GC_COLOR_DONT_CARE = 7;
    static final int GC_BIT_MASK = 8;
    static final int MODE_READ_COMPARE = 0x08;
    static final int MODE_HOST_ODD_EVEN = 0x10;

    private final VgaRegisters regs;
    final byte[] planes = new byte[PLANES * PLANE_SIZE];
    /** The four latches, plane n in bits 8n-8n+7. */
    private int latches;
    private long outsideWindow;

    VgaMemory(VgaRegisters regs) {
        this.regs = regs;
    }

    @Override
    public long read(long offset, int size) {
        long v = 0;
        for (int i = 0; i < size && i < 8; i++) {
            v |= (long) readByte(offset + i) << (8 * i);
        }
        return v;
    }

    @Override
    public void write(long offset, int size, long value) {
        for (int i = 0; i < size && i < 8; i++) {
            writeByte(offset + i, (int) (value >>> (8 * i)) & 0xFF);
        }
    }

    /** The address inside the window GC register 6 selects, or -1 when that window does not cover it. */
    private int windowAddress(long offset) {
        if (offset < 0 || offset >= WINDOW_SIZE) {
            return -1;
        }
        int a = (int) offset;
        return switch ((regs.gc[GC_MISC] >> 2) & 3) {
            case 0 -> a & 0xFFFF;                                       // A0000, 128 KiB
            case 1 -> a < 0x1_0000 ? a : -1;                            // A0000, 64 KiB
            case 2 -> a >= 0x1_0000 && a < 0x1_8000 ? a - 0x1_0000 : -1; // B0000, 32 KiB
            default -> a >= 0x1_8000 ? a - 0x1_8000 : -1;               // B8000, 32 KiB
        };
    }

    int readByte(long offset) {
        int a = windowAddress(offset);
        if (a < 0) {
            outsideWindow++;
            return 0xFF;
        }
        int mem = regs.seq[SEQ_MEMORY_MODE];
        int mode = regs.gc[GC_MODE];
        int plane;
        int at;
        if ((mem & MEM_CHAIN4) != 0) {
            plane = a & 3;
            at = a & ~3;
        } else if ((mode & MODE_HOST_ODD_EVEN) != 0) {
            plane = (regs.gc[GC_READ_MAP] & 2) | (a & 1);
            at = a & ~1;
        } else {
            plane = regs.gc[GC_READ_MAP] & 3;
            at = a;
        }
        latches = (planes[at] & 0xFF) | (planes[PLANE_SIZE + at] & 0xFF) << 8
                | (planes[2 * PLANE_SIZE + at] & 0xFF) << 16 | (planes[3 * PLANE_SIZE + at] & 0xFF) << 24;
        if ((mode & MODE_READ_COMPARE) == 0) {
            return (latches >>> (8 * plane)) & 0xFF;
        }
        // Read mode 1: a bit is set where every plane not marked "don't care" matches the compare colour.
        int care = regs.gc[GC_COLOR_DONT_CARE];
        int color = regs.gc[GC_COLOR_COMPARE];
        int differ = 0;
        for (int p = 0; p < PLANES; p++) {
            if ((care & (1 << p)) != 0) {
                int want = (color & (1 << p)) != 0 ? 0xFF : 0;
                differ |= ((latches >>> (8 * p)) & 0xFF) ^ want;
            }
        }
        return ~differ & 0xFF;
    }

    void writeByte(long offset, int data) {
        int a = windowAddress(offset);
        if (a < 0) {
            outsideWindow++;
            return;
        }
        int mem = regs.seq[SEQ_MEMORY_MODE];
        int planeMask = regs.seq[SEQ_MAP_MASK] & 0x0F;
        int at;
        if ((mem & MEM_CHAIN4) != 0) {
            planeMask &= 1 << (a & 3);
            at = a & ~3;
        } else if ((mem & MEM_ODD_EVEN_OFF) == 0) {
            planeMask &= (a & 1) != 0 ? 0b1010 : 0b0101;
            at = a & ~1;
        } else {
            at = a;
        }
        if (planeMask == 0) {
            return;
        }
        int mode = regs.gc[GC_MODE] & 3;
        int rotate = regs.gc[GC_ROTATE] & 7;
        int op = (regs.gc[GC_ROTATE] >> 3) & 3;
        int setReset = regs.gc[GC_SET_RESET] & 0x0F;
        int bitMask = regs.gc[GC_BIT_MASK] & 0xFF;
        int rotated = ((data >>> rotate) | (data << (8 - rotate))) & 0xFF;
        for (int p = 0; p < PLANES; p++) {
            if ((planeMask & (1 << p)) == 0) {
                continue;
            }
            int latch = (latches >>> (8 * p)) & 0xFF;
            int value;
            int mask = bitMask;
            switch (mode) {
                case 0 -> value = (regs.gc[GC_SET_RESET_ENABLE] & (1 << p)) != 0
                        ? ((setReset & (1 << p)) != 0 ? 0xFF : 0) : rotated;
                case 1 -> {
                    planes[p * PLANE_SIZE + at] = (byte) latch;   // write mode 1: latches as they are
                    continue;
                }
                case 2 -> value = (data & (1 << p)) != 0 ? 0xFF : 0;
                default -> {
                    mask &= rotated;                               // write mode 3: data masks the set/reset colour
                    value = (setReset & (1 << p)) != 0 ? 0xFF : 0;
                }
            }
            value = switch (op) {
                case 0 -> value;
                case 1 -> value & latch;
                case 2 -> value | latch;
                default -> value ^ latch;
            };
            planes[p * PLANE_SIZE + at] = (byte) ((value & mask) | (latch & ~mask));
        }
    }

    /** Accesses outside the part of the window the graphics controller maps. */
    long outsideWindowAccesses() {
        return outsideWindow;
    }
}
