package io.p2vkit.hv.device.vga;

import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.device.Clock;

/**
 * The VGA register file at ports 0x3B0-0x3DF (offsets here are from 0x3B0): miscellaneous output,
 * sequencer, CRT controller, graphics controller, attribute controller, DAC and the input status
 * registers. The CRTC and input status 1 answer at 0x3Dx when misc output bit 0 (I/O address
 * select) is set and at 0x3Bx when clear; the other half floats. Word and dword accesses are
 * byte accesses to consecutive ports, which is what {@code outw(index | value << 8)} relies on.
 * Thread-safety comes from {@link VgaCard}'s lock.
 */
final class VgaRegisters implements PortIoDevice {

    static final int BASE_PORT = 0x3B0;
    static final int PORT_COUNT = 0x30;

    // Offsets from 0x3B0.
    static final int MONO_CRTC_INDEX = 0x04;
    static final int MONO_CRTC_DATA = 0x05;
    static final int MONO_STATUS1 = 0x0A;       // read: input status 1; write: feature control
    static final int ATTR_INDEX_DATA = 0x10;    // 0x3C0
    static final int ATTR_DATA_READ = 0x11;     // 0x3C1
    static final int MISC_WRITE_STATUS0 = 0x12; // 0x3C2 write: misc output; read: input status 0
    static final int VGA_ENABLE = 0x13;         // 0x3C3
    static final int SEQ_INDEX = 0x14;          // 0x3C4
    static final int SEQ_DATA = 0x15;
    static final int DAC_PIXEL_MASK = 0x16;     // 0x3C6
    static final int DAC_READ_INDEX = 0x17;     // 0x3C7 write: read index; read: DAC state
    static final int DAC_WRITE_INDEX = 0x18;    // 0x3C8
    static final int DAC_DATA = 0x19;           // 0x3C9
    static final int FEATURE_READ = 0x1A;       // 0x3CA
    static final int MISC_READ = 0x1C;          // 0x3CC
    static final int GC_INDEX = 0x1E;           // 0x3CE
    static final int GC_DATA = 0x1F;
    static final int COLOR_CRTC_INDEX = 0x24;   // 0x3D4
    static final int COLOR_CRTC_DATA = 0x25;
    static final int COLOR_STATUS1 = 0x2A;      // 0x3DA

    static final int SEQ_REGISTERS = 5;
    static final int CRTC_REGISTERS = 0x19;
    static final int GC_REGISTERS = 9;

    /** Misc output bit 0: CRTC at 0x3Dx (colour) rather than 0x3Bx (mono). */
    static final int MISC_IO_COLOR = 0x01;
    /** CRTC 0x11 bit 7: registers 0-7 are write-protected (bit 4 of register 7 excepted). */
    static final int CRTC_VRETRACE_END = 0x11;
    static final int CRTC_PROTECT = 0x80;
    static final int CRTC_OVERFLOW = 0x07;
    static final int OVERFLOW_LINE_COMPARE_8 = 0x10;
    /** Graphics controller misc (index 6) bit 0: graphics mode; the attribute mode bit agrees. */
    static final int GC_MISC = 6;
    static final int GC_MISC_GRAPHICS = 0x01;

    /** Input status 1 bits: display disabled (any blanking), vertical retrace. */
    static final int STATUS1_DISPLAY_DISABLED = 0x01;
    static final int STATUS1_VRETRACE = 0x08;

    // A 640x400 70 Hz frame: 449 lines of 31.78 us, 400 visible, retrace on lines 412-413.
    static final long FRAME_NS = 14_268_000L;
    static final int FRAME_LINES = 449;
    static final int VISIBLE_LINES = 400;
    static final int VRETRACE_FIRST = 412;
    static final int VRETRACE_LINES = 2;
    static final long LINE_NS = FRAME_NS / FRAME_LINES;
    static final long HACTIVE_NS = LINE_NS * 8 / 10;

    private final Clock clock;
    final AttributeController attr = new AttributeController();
    final VgaDac dac = new VgaDac();
    final byte[] seq = new byte[SEQ_REGISTERS];
    final byte[] crtc = new byte[CRTC_REGISTERS];
    final byte[] gc = new byte[GC_REGISTERS];
    int misc;
    private int seqIndex;
    private int crtcIndex;
    private int gcIndex;
    private int featureControl;
    private int vgaEnable = 1;
    private long missed;
    /** Set by the card when a register write may have changed text/graphics mode. */
    Runnable modeListener = () -> { };

    VgaRegisters(Clock clock) {
        this.clock = clock;
    }

    @Override
    public int read(int offset, int size) {
        int v = 0;
        for (int i = 0; i < size && i < 4; i++) {
            v |= readByte(offset + i) << (8 * i);
        }
        return v;
    }

    @Override
    public void write(int offset, int size, int value) {
        for (int i = 0; i < size && i < 4; i++) {
            writeByte(offset + i, (value >>> (8 * i)) & 0xFF);
        }
    }

    private boolean color() {
        return (misc & MISC_IO_COLOR) != 0;
    }

    /** Whether {@code offset} is in the CRTC/status half (0x3Bx or 0x3Dx) the misc register disables. */
    private boolean inactiveHalf(int offset) {
        return color() ? offset < 0x10 : offset >= 0x20;
    }

    int readByte(int offset) {
        if (offset < 0 || offset >= PORT_COUNT || inactiveHalf(offset)) {
            missed++;
            return 0xFF;
        }
        return switch (offset) {
            case MONO_CRTC_INDEX, COLOR_CRTC_INDEX -> crtcIndex;
            case MONO_CRTC_DATA, COLOR_CRTC_DATA -> crtcIndex < CRTC_REGISTERS ? crtc[crtcIndex] & 0xFF : 0xFF;
            case MONO_STATUS1, COLOR_STATUS1 -> {
                attr.resetFlipFlop();
                yield status1();
            }
            case ATTR_INDEX_DATA -> attr.readIndex();
            case ATTR_DATA_READ -> attr.readData();
            case MISC_WRITE_STATUS0 -> 0x00;   // input status 0: no switch sense, no CRT interrupt
            case VGA_ENABLE -> vgaEnable;
            case SEQ_INDEX -> seqIndex;
            case SEQ_DATA -> seqIndex < SEQ_REGISTERS ? seq[seqIndex] & 0xFF : 0xFF;
            case DAC_PIXEL_MASK -> dac.pixelMask();
            case DAC_READ_INDEX -> dac.state();
            case DAC_WRITE_INDEX -> dac.writeIndex();
            case DAC_DATA -> dac.readData();
            case FEATURE_READ -> featureControl;
            case MISC_READ -> misc;
            case GC_INDEX -> gcIndex;
            case GC_DATA -> gcIndex < GC_REGISTERS ? gc[gcIndex] & 0xFF : 0xFF;
            default -> {
                missed++;
                yield 0xFF;
            }
        };
    }

    void writeByte(int offset, int v) {
        if (offset < 0 || offset >= PORT_COUNT || inactiveHalf(offset)) {
            missed++;
            return;
        }
        switch (offset) {
            case MONO_CRTC_INDEX, COLOR_CRTC_INDEX -> crtcIndex = v;
            case MONO_CRTC_DATA, COLOR_CRTC_DATA -> writeCrtc(v);
            case MONO_STATUS1, COLOR_STATUS1 -> featureControl = v & 0x0B;
            case ATTR_INDEX_DATA -> {
                attr.write(v);
                modeListener.run();
            }
            case MISC_WRITE_STATUS0 -> misc = v;
            case VGA_ENABLE -> vgaEnable = v & 0x01;
            case SEQ_INDEX -> seqIndex = v & 0x07;
            case SEQ_DATA -> {
                if (seqIndex < SEQ_REGISTERS) {
                    seq[seqIndex] = (byte) v;
                } else {
                    missed++;
                }
            }
            case DAC_PIXEL_MASK -> dac.setPixelMask(v);
            case DAC_READ_INDEX -> dac.setReadIndex(v);
            case DAC_WRITE_INDEX -> dac.setWriteIndex(v);
            case DAC_DATA -> dac.writeData(v);
            case GC_INDEX -> gcIndex = v & 0x0F;
            case GC_DATA -> {
                if (gcIndex < GC_REGISTERS) {
                    gc[gcIndex] = (byte) v;
                    if (gcIndex == GC_MISC) {
                        modeListener.run();
                    }
                } else {
                    missed++;
                }
            }
            default -> missed++;   // 0x3C1, 0x3C5-type holes and read-only ports
        }
    }

    private void writeCrtc(int v) {
        if (crtcIndex >= CRTC_REGISTERS) {
            missed++;
            return;
        }
        if ((crtc[CRTC_VRETRACE_END] & CRTC_PROTECT) != 0 && crtcIndex <= CRTC_OVERFLOW) {
            if (crtcIndex == CRTC_OVERFLOW) {
                // Only the line compare bit 8 stays writable (VGA CRTC register 7 notes).
                crtc[CRTC_OVERFLOW] = (byte) ((crtc[CRTC_OVERFLOW] & ~OVERFLOW_LINE_COMPARE_8)
                        | (v & OVERFLOW_LINE_COMPARE_8));
            } else {
                missed++;
            }
            return;
        }
        crtc[crtcIndex] = (byte) v;
    }

    /** Input status 1 from the time in a 70 Hz frame, so guests that wait for retrace see it come and go. */
    private int status1() {
        long t = Math.floorMod(clock.nanos(), FRAME_NS);
        int line = (int) (t / LINE_NS);
        int v = 0;
        if (line >= VISIBLE_LINES || t % LINE_NS >= HACTIVE_NS) {
            v |= STATUS1_DISPLAY_DISABLED;
        }
        if (line >= VRETRACE_FIRST && line < VRETRACE_FIRST + VRETRACE_LINES) {
            v |= STATUS1_VRETRACE;
        }
        return v;
    }

    /** Whether the graphics controller or the attribute controller selects a graphics mode. */
    boolean graphicsMode() {
        return (gc[GC_MISC] & GC_MISC_GRAPHICS) != 0
                || (attr.register(AttributeController.MODE_CONTROL) & AttributeController.MODE_GRAPHICS) != 0;
    }

    /** Accesses to ports that hold no register or to the disabled CRTC half. */
    long missedAccesses() {
        return missed + attr.ignoredWrites();
    }
}
