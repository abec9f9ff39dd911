package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS with REP/REPE/REPNE. Each iteration commits ESI, EDI
 * and ECX, so a fault or an interrupt between iterations restarts the instruction where it
 * stopped (SDM Vol. 2 REP). A long REP yields to the run loop every {@link #CHUNK} iterations.
 */
final class StringOps {

    private static final int CHUNK = 4096;

    private static final int MOVS = 0;
    private static final int CMPS = 1;
    private static final int STOS = 2;
    private static final int LODS = 3;
    private static final int SCAS = 4;
    private static final int INS = 5;
    private static final int OUTS = 6;

    private StringOps() {
    }

    static void string(Cpu c, DecodedInsn d) {
        int op = d.opcode;
        int kind = switch (op & 0xFE) {
            case 0xA4 -> MOVS;
            case 0xA6 -> CMPS;
            case 0xAA -> STOS;
            case 0xAC -> LODS;
            case 0xAE -> SCAS;
            case 0x6C -> INS;
            default -> OUTS;
        };
        int size = (op & 1) == 0 ? 1 : d.opSize();
        if (kind == INS || kind == OUTS) {
            IoOps.checkIoPermission(c, c.r32(Cpu.EDX) & 0xFFFF, size);
        }
        boolean a32 = d.addr32();
        int delta = c.flags.isSet(Flags.DF) ? -size : size;
        boolean rep = (d.prefixes & (DecodedInsn.PREFIX_REP | DecodedInsn.PREFIX_REPNE)) != 0;
        if (!rep) {
            step(c, d, kind, size, delta, a32);
            return;
        }
        if ((kind == MOVS || kind == STOS) && delta > 0 && bulk(c, d, kind, size, a32)) {
            return;
        }
        if (kind == INS && delta > 0 && bulkIns(c, d, size, a32)) {
            return;
        }
        boolean conditional = kind == CMPS || kind == SCAS;
        boolean whileEqual = d.rep();
        for (int i = 0; i < CHUNK; i++) {
            int count = count(c, a32);
            if (count == 0) {
                return;
            }
            step(c, d, kind, size, delta, a32);
            setCount(c, count - 1, a32);
            if (conditional && c.flags.zf() != whileEqual) {
                return;
            }
        }
        yieldUnlessDone(c, a32);
    }

    /** Bytes a bulk REP moves before yielding to the run loop. */
    static final int BULK_BUDGET = 1 << 20;

    /**
     * Forward REP MOVS/STOS between RAM pages in page-sized chunks with host copies and fills.
     * Returns true when the instruction is finished or has yielded (EIP rewound); false when an
     * element needs the one-at-a-time path: a page or 64 KiB boundary inside an element, a
     * segment limit, MMIO, ROM, a code page, or an overlap where byte order matters.
     */
    private static boolean bulk(Cpu c, DecodedInsn d, int kind, int size, boolean a32) {
        long budget = BULK_BUDGET;
        while (budget > 0) {
            int count = count(c, a32);
            if (count == 0) {
                return true;
            }
            int di = index(c, Cpu.EDI, a32);
            int si = index(c, Cpu.ESI, a32);
            int dstLin = c.segBase[Cpu.ES] + di;
            int srcLin = c.segBase[d.seg] + si;
            long elems = elementsInPage(di, dstLin, count & 0xFFFF_FFFFL, size, a32);
            if (kind == MOVS) {
                elems = elementsInPage(si, srcLin, elems, size, a32);
            }
            if (elems <= 0) {
                return false;
            }
            int bytes = (int) elems * size;
            try {
                c.linearWrite(Cpu.ES, di, bytes);
                if (kind == MOVS) {
                    c.linear(d.seg, si, bytes);
                }
            } catch (CpuFault limit) {
                return false; // let the element-wise path fault at the exact element
            }
            java.lang.foreign.MemorySegment dst = c.mmu.writeSegmentAt(dstLin);
            if (dst == null) {
                return false;
            }
            long dstOff = c.mmu.bulkOffset;
            if (kind == MOVS) {
                java.lang.foreign.MemorySegment src = c.mmu.readSegmentAt(srcLin);
                if (src == null) {
                    return false;
                }
                long srcOff = c.mmu.bulkOffset;
                if (src == dst && dstOff > srcOff && dstOff < srcOff + bytes) {
                    return false; // forward overlap: each byte must see the ones just written
                }
                java.lang.foreign.MemorySegment.copy(src, srcOff, dst, dstOff, bytes);
                advance(c, Cpu.ESI, bytes, a32);
            } else {
                int v = c.reg(Cpu.EAX, size);
                if (size == 1) {
                    dst.asSlice(dstOff, bytes).fill((byte) v);
                } else {
                    for (int i = 0; i < bytes; i += size) {
                        if (size == 2) {
                            dst.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, dstOff + i, (short) v);
                        } else {
                            dst.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, dstOff + i, v);
                        }
                    }
                }
            }
            advance(c, Cpu.EDI, bytes, a32);
            setCount(c, count - (int) elems, a32);
            budget -= bytes;
        }
        return yieldUnlessDone(c, a32);
    }

    /**
     * Forward REP INS into RAM a page at a time, through the device's block read (a disk's
     * sector buffer copied at once: SeaBIOS reads the kernel and initrd with REP INSW/INSD).
     * An element across a page end (or the 64 KiB wrap) is read on its own. Returns true when
     * the instruction is finished or has yielded; false when the next element needs the
     * one-at-a-time path (a segment limit, MMIO, a code page, a device with no block read).
     */
    private static boolean bulkIns(Cpu c, DecodedInsn d, int size, boolean a32) {
        int port = c.r32(Cpu.EDX) & 0xFFFF;
        long budget = BULK_BUDGET;
        while (budget > 0) {
            int count = count(c, a32);
            if (count == 0) {
                return true;
            }
            int di = index(c, Cpu.EDI, a32);
            int dstLin = c.segBase[Cpu.ES] + di;
            long elems = elementsInPage(di, dstLin, count & 0xFFFF_FFFFL, size, a32);
            if (elems <= 0) {
                step(c, d, INS, size, size, a32);
                setCount(c, count - 1, a32);
                budget -= size;
                continue;
            }
            try {
                c.linearWrite(Cpu.ES, di, (int) elems * size);
            } catch (CpuFault limit) {
                return false;
            }
            java.lang.foreign.MemorySegment dst = c.mmu.writeSegmentAt(dstLin);
            if (dst == null) {
                return false;
            }
            int n = c.bus.pioReadBlock(port, size, dst, c.mmu.bulkOffset, (int) elems);
            if (n == 0) {
                return false;
            }
            advance(c, Cpu.EDI, n * size, a32);
            setCount(c, count - n, a32);
            budget -= (long) n * size;
        }
        return yieldUnlessDone(c, a32);
    }

    /**
     * How many of {@code count} elements from linear {@code lin} (offset {@code index} in its
     * segment) lie whole before the page end and, with 16-bit addressing, before the offset wraps.
     */
    private static long elementsInPage(int index, int lin, long count, int size, boolean a32) {
        long n = Math.min(count, (0x1000 - (lin & 0xFFF)) / size);
        return a32 ? n : Math.min(n, (0x10000 - index) / size);
    }

    /** ECX, or CX with 16-bit addressing: what is left of a REP. */
    private static int count(Cpu c, boolean a32) {
        return index(c, Cpu.ECX, a32);
    }

    private static void setCount(Cpu c, int n, boolean a32) {
        if (a32) {
            c.set32(Cpu.ECX, n);
        } else {
            c.setReg(Cpu.ECX, 2, n);
        }
    }

    /** After a REP's chunk or budget: unless it is done, it runs again once the run loop had its look. Returns true. */
    private static boolean yieldUnlessDone(Cpu c, boolean a32) {
        if (count(c, a32) != 0) {
            c.eip = c.insnEip;
            c.breakSlice = true;
        }
        return true;
    }

    private static int index(Cpu c, int reg, boolean a32) {
        return a32 ? c.r32(reg) : c.r32(reg) & 0xFFFF;
    }

    private static void advance(Cpu c, int reg, int delta, boolean a32) {
        if (a32) {
            c.set32(reg, c.r32(reg) + delta);
        } else {
            c.setReg(reg, 2, c.r32(reg) + delta);
        }
    }

    private static void step(Cpu c, DecodedInsn d, int kind, int size, int delta, boolean a32) {
        switch (kind) {
            case MOVS -> {
                int v = c.readMem(d.seg, index(c, Cpu.ESI, a32), size);
                c.writeMem(Cpu.ES, index(c, Cpu.EDI, a32), size, v);
                advance(c, Cpu.ESI, delta, a32);
                advance(c, Cpu.EDI, delta, a32);
            }
            case CMPS -> {
                int a = c.readMem(d.seg, index(c, Cpu.ESI, a32), size);
                int b = c.readMem(Cpu.ES, index(c, Cpu.EDI, a32), size);
                Alu.op(c, Alu.CMP, size, a, b);
                advance(c, Cpu.ESI, delta, a32);
                advance(c, Cpu.EDI, delta, a32);
            }
            case STOS -> {
                c.writeMem(Cpu.ES, index(c, Cpu.EDI, a32), size, c.reg(Cpu.EAX, size));
                advance(c, Cpu.EDI, delta, a32);
            }
            case LODS -> {
                c.setReg(Cpu.EAX, size, c.readMem(d.seg, index(c, Cpu.ESI, a32), size));
                advance(c, Cpu.ESI, delta, a32);
            }
            case SCAS -> {
                int b = c.readMem(Cpu.ES, index(c, Cpu.EDI, a32), size);
                Alu.op(c, Alu.CMP, size, c.reg(Cpu.EAX, size), b);
                advance(c, Cpu.EDI, delta, a32);
            }
            case INS -> {
                int lin = c.linearWrite(Cpu.ES, index(c, Cpu.EDI, a32), size);
                c.mmu.probeWrite(lin, size);
                int v = c.bus.pioRead(c.r32(Cpu.EDX) & 0xFFFF, size);
                c.mmu.write(lin, size, v);
                advance(c, Cpu.EDI, delta, a32);
            }
            default -> {
                int v = c.readMem(d.seg, index(c, Cpu.ESI, a32), size);
                c.bus.pioWrite(c.r32(Cpu.EDX) & 0xFFFF, size, v);
                advance(c, Cpu.ESI, delta, a32);
            }
        }
    }
}
