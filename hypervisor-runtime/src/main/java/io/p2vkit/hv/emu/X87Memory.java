package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * Memory operands of x87 instructions in every mode: the linear address of the ModRM operand
 * (legacy segmentation with its limit and write checks, or 64-bit addressing through
 * {@link Exec64}), and reads and writes of 2 to 10 bytes. Multi-part writes probe the whole
 * range first, so a fault leaves memory untouched.
 */
final class X87Memory {

    private X87Memory() {
    }

    /** The operand's offset in its segment (what FDP records). */
    static long offset(Cpu c, DecodedInsn d) {
        return c.mode64 ? Exec64.ea(c, d) : c.ea(d) & 0xFFFF_FFFFL;
    }

    /** The linear address of a {@code size}-byte operand, checked for reading or writing. */
    static long address(Cpu c, DecodedInsn d, int size, boolean write) {
        if (c.mode64) {
            long lin = Exec64.rmLinear(c, d);
            if (write) {
                c.mmu.probeWrite(lin, size);
            }
            return lin;
        }
        int off = c.ea(d);
        long lin = (write ? c.linearWrite(d.seg, off, size) : c.linear(d.seg, off, size)) & 0xFFFF_FFFFL;
        if (write) {
            c.mmu.probeWrite(lin, size);
        }
        return lin;
    }

    static long next(Cpu c, long lin, int by) {
        return (lin + by) & c.mmu.linearMask;
    }

    static int read16(Cpu c, long lin) {
        return c.mmu.read(lin, 2) & 0xFFFF;
    }

    static int read32(Cpu c, long lin) {
        return c.mmu.read(lin, 4);
    }

    static long read64(Cpu c, long lin) {
        return c.mmu.read64(lin);
    }

    static void write16(Cpu c, long lin, int v) {
        c.mmu.write(lin, 2, v);
    }

    static void write32(Cpu c, long lin, int v) {
        c.mmu.write(lin, 4, v);
    }

    static void write64(Cpu c, long lin, long v) {
        c.mmu.write64(lin, v);
    }

    /** An 80-bit value: significand in bytes 0-7, sign and exponent in bytes 8-9. */
    static void write80(Cpu c, long lin, int se, long sig) {
        write64(c, lin, sig);
        write16(c, next(c, lin, 8), se);
    }
}
