package io.p2vkit.hv.device.vga;

/**
 * The VGA attribute controller at port 0x3C0: one port takes both the index and the data, told
 * apart by a flip-flop that a read of input status 1 (0x3BA/0x3DA) resets to "index". Bit 5 of the
 * index byte (PAS, palette address source) must be set for the screen to show anything; the BIOS
 * clears it while it loads the palette. Data is read back at 0x3C1.
 */
final class AttributeController {

    static final int REGISTERS = 0x15;
    static final int PALETTE_ENTRIES = 16;
    static final int MODE_CONTROL = 0x10;
    static final int OVERSCAN = 0x11;
    static final int COLOR_PLANE_ENABLE = 0x12;
    static final int HORIZONTAL_PANNING = 0x13;
    static final int COLOR_SELECT = 0x14;

    /** Mode control (0x10) bits. */
    static final int MODE_GRAPHICS = 0x01;
    static final int MODE_LINE_GRAPHICS = 0x04;
    static final int MODE_BLINK = 0x08;
    static final int MODE_P54_SELECT = 0x80;

    static final int INDEX_MASK = 0x1F;
    static final int INDEX_PAS = 0x20;

    private final byte[] regs = new byte[REGISTERS];
    private int index;
    private boolean pas;
    private boolean expectData;
    private long ignoredWrites;

    /** A read of input status 1: the next write to 0x3C0 is an index. */
    void resetFlipFlop() {
        expectData = false;
    }

    /** Port 0x3C0 write. */
    void write(int value) {
        if (!expectData) {
            index = value & INDEX_MASK;
            pas = (value & INDEX_PAS) != 0;
        } else if (index < REGISTERS) {
            regs[index] = (byte) (index < PALETTE_ENTRIES ? value & 0x3F : value);
        } else {
            ignoredWrites++;   // indexes 0x15-0x1F name no register
        }
        expectData = !expectData;
    }

    /** Port 0x3C0 read: the index byte, PAS included. */
    int readIndex() {
        return index | (pas ? INDEX_PAS : 0);
    }

    /** Port 0x3C1 read. */
    int readData() {
        return index < REGISTERS ? regs[index] & 0xFF : 0;
    }

    int register(int i) {
        return regs[i] & 0xFF;
    }

    boolean paletteSourceOn() {
        return pas;
    }

    long ignoredWrites() {
        return ignoredWrites;
    }

    byte[] registers() {
        return regs.clone();
    }
}
