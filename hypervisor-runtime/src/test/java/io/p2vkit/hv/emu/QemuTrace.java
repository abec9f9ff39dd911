package io.p2vkit.hv.emu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * Streams QEMU's log of {@code -d cpu,int -singlestep} with the trace events
 * {@code memory_region_ops_read}/{@code memory_region_ops_write} (log backend): one register
 * dump before every instruction, and between two dumps the device accesses the instruction made
 * and the hardware interrupts QEMU delivered after it. The log runs to gigabytes, so it is read
 * through a byte buffer line by line and never kept.
 *
 * <p>Lines it does not know stop the replay with an exception, so that nothing QEMU reports is
 * silently dropped.
 */
final class QemuTrace {

    /** One register dump: the state before an instruction, and what happened since the last one. */
    record State(int[] regs, int eip, int eflags, int[] sel, int[] base, int[] limit, int[] flags,
            int[] tables, int[] cr, boolean halted, int interruptBefore) {

        /** The same registers as {@code o}: what a dump repeated without an instruction shows. */
        boolean sameRegisters(State o) {
            return eip == o.eip && eflags == o.eflags && Arrays.equals(regs, o.regs)
                    && Arrays.equals(sel, o.sel) && Arrays.equals(base, o.base)
                    && Arrays.equals(limit, o.limit) && Arrays.equals(flags, o.flags)
                    && Arrays.equals(tables, o.tables) && Arrays.equals(cr, o.cr);
        }

        int cr0() {
            return cr[0];
        }
    }

    /** Indices into {@link State#tables()}: the GDTR's and IDTR's base and limit. */
    static final int GDT_BASE = 0;
    static final int GDT_LIMIT = 1;
    static final int IDT_BASE = 2;
    static final int IDT_LIMIT = 3;

    /** One device access by the vCPU: port I/O (addresses below 64 KiB) or MMIO. */
    record Access(boolean write, long addr, int size, long value, String region) {
        @Override
        public String toString() {
            return String.format("%s %X size %d value %X (%s)", write ? "write" : "read", addr, size,
                    value, region);
        }
    }

    private static final byte[] READ = ascii("memory_region_ops_read ");
    private static final byte[] WRITE = ascii("memory_region_ops_write ");
    private static final byte[] HARD_INT = ascii("Servicing hardware INT=0x");
    private static final byte[] CHECK_EXCEPTION = ascii("check_exception ");
    private static final byte[] EAX = ascii("EAX=");
    private static final byte[] ESI = ascii("ESI=");
    private static final byte[] EIP = ascii("EIP=");
    private static final byte[] CR0 = ascii("CR0=");
    private static final byte[] EFER = ascii("EFER=");
    private static final byte[] HALTED = ascii("HLT=1");
    /** "  12: v=08 e=0000 i=0 ...": -d int's record of a protected-mode interrupt, then a dump. */
    private static final byte[] INTERRUPT_RECORD = ascii(": v=");
    private static final byte[] CPU = ascii(" cpu ");
    private static final byte[] ADDR = ascii(" addr 0x");
    private static final byte[] VALUE = ascii(" value 0x");
    private static final byte[] SIZE = ascii(" size ");
    private static final byte[] NAME = ascii(" name '");
    /** Dump lines the comparison does not use (descriptor tables, debug registers, lazy flags). */
    private static final byte[][] IGNORED = {ascii("LDT="), ascii("TR ="), ascii("DR0="), ascii("DR6="),
        ascii("CCS=")};
    private static final byte[] GDT = ascii("GDT=");
    private static final byte[] IDT = ascii("IDT=");
    private static final byte[][] SEGMENTS = {ascii("ES ="), ascii("CS ="), ascii("SS ="), ascii("DS ="),
        ascii("FS ="), ascii("GS =")};

    private final InputStream in;
    private final byte[] buf = new byte[1 << 20];
    private int pos;
    private int lim;
    private int lineStart;
    private int lineEnd;
    private long lineNumber;
    private final Deque<Access> accesses;
    private long interrupts;

    /** Device accesses go into {@code accesses} in log order, for a replay to take them from. */
    QemuTrace(InputStream in, Deque<Access> accesses) {
        this.in = in;
        this.accesses = accesses;
    }

    QemuTrace(InputStream in) {
        this(in, new ArrayDeque<>());
    }

    Deque<Access> accesses() {
        return accesses;
    }

    /** Hardware interrupts QEMU reported so far. */
    long interrupts() {
        return interrupts;
    }

    long lineNumber() {
        return lineNumber;
    }

    /**
     * Reads up to and including the next register dump; the device accesses before it are added
     * to {@link #accesses()}. Returns null at the end of the log.
     */
    State next() throws IOException {
        int[] regs = new int[8];
        int[] sel = new int[6];
        int[] base = new int[6];
        int[] limit = new int[6];
        int[] flags = new int[6];
        int[] tables = new int[4];
        int[] cr = new int[5];
        int eip = 0;
        int eflags = 0;
        boolean halted = false;
        boolean inDump = false;
        boolean skipDump = false;
        int interrupt = -1;
        while (readLine()) {
            if (startsWith(EAX)) {
                inDump = true;
                regs[Cpu.EAX] = hexAt(4, 8);
                regs[Cpu.EBX] = hexAt(17, 8);
                regs[Cpu.ECX] = hexAt(30, 8);
                regs[Cpu.EDX] = hexAt(43, 8);
            } else if (startsWith(ESI)) {
                regs[Cpu.ESI] = hexAt(4, 8);
                regs[Cpu.EDI] = hexAt(17, 8);
                regs[Cpu.EBP] = hexAt(30, 8);
                regs[Cpu.ESP] = hexAt(43, 8);
            } else if (startsWith(EIP)) {
                eip = hexAt(4, 8);
                eflags = hexAt(17, 8);
                halted = indexOf(HALTED) >= 0;
            } else if (startsWith(CR0)) {
                // "CR0=60000010 CR2=00000000 CR3=00000000 CR4=00000000"
                cr[0] = hexAt(4, 8);
                cr[2] = hexAt(17, 8);
                cr[3] = hexAt(30, 8);
                cr[4] = hexAt(43, 8);
            } else if (startsWith(GDT)) {
                tables[GDT_BASE] = hexAt(9, 8);
                tables[GDT_LIMIT] = hexAt(18, 8);
            } else if (startsWith(IDT)) {
                tables[IDT_BASE] = hexAt(9, 8);
                tables[IDT_LIMIT] = hexAt(18, 8);
            } else if (startsWith(EFER)) {
                if (!inDump) {
                    throw bad("EFER before EAX");
                }
                if (skipDump) {
                    // The dump -d int prints with a protected-mode interrupt is not an instruction.
                    skipDump = false;
                    inDump = false;
                    continue;
                }
                return new State(regs, eip, eflags, sel, base, limit, flags, tables, cr, halted, interrupt);
            } else if (segment() >= 0) {
                // "CS =f000 000f0000 0000ffff 00009b00": selector, base, limit, descriptor flags
                int s = segment();
                sel[s] = hexAt(4, 4);
                base[s] = hexAt(9, 8);
                limit[s] = hexAt(18, 8);
                flags[s] = hexAt(27, 8);
            } else if (startsWith(READ) || startsWith(WRITE)) {
                access();
            } else if (startsWith(HARD_INT)) {
                if (interrupt >= 0) {
                    throw bad("two hardware interrupts between two instructions");
                }
                interrupt = hexAt(HARD_INT.length, lineEnd - lineStart - HARD_INT.length);
                interrupts++;
            } else if (indexOf(INTERRUPT_RECORD) >= 0) {
                skipDump = true;
            } else if (!startsWith(CHECK_EXCEPTION) && !ignored() && lineEnd > lineStart) {
                throw bad("unrecognised line");
            }
        }
        if (inDump && !skipDump) {
            throw bad("the log ends inside a register dump");
        }
        return null;
    }

    /** "memory_region_ops_read cpu 0 mr 0x... addr 0x71 value 0x30 size 1 name 'rtc'". */
    private void access() {
        boolean write = startsWith(WRITE);
        int cpu = indexOf(CPU);
        if (cpu < 0) {
            throw bad("no cpu field");
        }
        if (buf[lineStart + cpu + 5] == '-') {
            return; // cpu -1: the machine itself during reset, not an instruction
        }
        long addr = hexField(ADDR);
        long value = hexField(VALUE);
        int sizeAt = indexOf(SIZE);
        int nameAt = indexOf(NAME);
        if (sizeAt < 0 || nameAt < 0) {
            throw bad("no size or name field");
        }
        int size = buf[lineStart + sizeAt + 6] - '0';
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw bad("bad access size");
        }
        String region = new String(buf, lineStart + nameAt + 7, Math.max(0, lineEnd - lineStart - nameAt - 8),
                StandardCharsets.US_ASCII);
        long mask = size == 8 ? -1L : (1L << (8 * size)) - 1;
        accesses.add(new Access(write, addr, size, value & mask, region));
    }

    private long hexField(byte[] key) {
        int at = indexOf(key);
        if (at < 0) {
            throw bad("no field" + new String(key, StandardCharsets.US_ASCII));
        }
        long v = 0;
        int digits = 0;
        for (int i = lineStart + at + key.length; i < lineEnd && digits < 16; i++, digits++) {
            int d = Character.digit(buf[i], 16);
            if (d < 0) {
                break;
            }
            v = v << 4 | d;
        }
        if (digits == 0) {
            throw bad("empty field" + new String(key, StandardCharsets.US_ASCII));
        }
        return v;
    }

    private int segment() {
        for (int s = 0; s < SEGMENTS.length; s++) {
            if (startsWith(SEGMENTS[s])) {
                return s;
            }
        }
        return -1;
    }

    private boolean ignored() {
        for (byte[] prefix : IGNORED) {
            if (startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private int hexAt(int offset, int digits) {
        if (lineEnd - lineStart < offset + digits) {
            throw bad("line too short");
        }
        int v = 0;
        for (int i = lineStart + offset; i < lineStart + offset + digits; i++) {
            int d = Character.digit(buf[i], 16);
            if (d < 0) {
                throw bad("not a hex digit at column " + (i - lineStart));
            }
            v = v << 4 | d;
        }
        return v;
    }

    private boolean startsWith(byte[] prefix) {
        if (lineEnd - lineStart < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (buf[lineStart + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private int indexOf(byte[] needle) {
        outer:
        for (int i = lineStart; i + needle.length <= lineEnd; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (buf[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i - lineStart;
        }
        return -1;
    }

    /** Sets {@link #lineStart}/{@link #lineEnd} to the next line, without its newline. */
    private boolean readLine() throws IOException {
        for (;;) {
            for (int i = pos; i < lim; i++) {
                if (buf[i] == '\n') {
                    lineStart = pos;
                    lineEnd = i;
                    pos = i + 1;
                    lineNumber++;
                    return true;
                }
            }
            if (pos > 0) {
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                lim -= pos;
                pos = 0;
            }
            if (lim == buf.length) {
                throw new IOException("a line longer than " + buf.length + " bytes in the QEMU log");
            }
            int n = in.read(buf, lim, buf.length - lim);
            if (n < 0) {
                if (lim > pos) {
                    lineStart = pos;
                    lineEnd = lim;
                    pos = lim;
                    lineNumber++;
                    return true;
                }
                return false;
            }
            lim += n;
        }
    }

    private IllegalStateException bad(String why) {
        return new IllegalStateException("QEMU log line " + lineNumber + ": " + why + ": "
                + new String(buf, lineStart, Math.min(lineEnd - lineStart, 200), StandardCharsets.US_ASCII));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
