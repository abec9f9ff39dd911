package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * 64-bit mode string instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with REP/REPE/REPNE, element by
 * element: RSI/RDI/RCX (ESI/EDI/ECX with a 67 prefix, written zero-extended) are updated after
 * every element, so a fault leaves them at the element that faulted and the instruction
 * restarts there. A long REP gives up after {@link #CHUNK} elements and re-executes itself,
 * so the run loop can look at interrupts in between. PUSHFQ/POPFQ, ENTER and LEAVE live here too.
 */
final class StringOps64 {

    /** Elements per execution of a REP instruction before it restarts itself. */
    static final int CHUNK = 4096;

    private StringOps64() {
    }

    private static long index(Cpu c, DecodedInsn d, int reg) {
        return d.addr64() ? c.r[reg] : c.r[reg] & 0xFFFF_FFFFL;
    }

    private static void setIndex(Cpu c, DecodedInsn d, int reg, long v) {
        c.r[reg] = d.addr64() ? v : v & 0xFFFF_FFFFL;
    }

    /** A4-AF: MOVS, CMPS, STOS, LODS, SCAS (byte forms even, the others by operand size). */
    static void string(Cpu c, DecodedInsn d) {
        int kind = d.opcode & 0xFE;
        boolean io = kind == 0x6C || kind == 0x6E;
        int size = (d.opcode & 1) == 0 ? 1 : io ? Math.min(d.opSize(), 4) : d.opSize();
        int port = (int) c.r[Cpu.EDX] & 0xFFFF;
        if (io) {
            IoOps.checkIoPermission(c, port, size);
        }
        long delta = c.flags.isSet(Flags.DF) ? -size : size;
        boolean rep = (d.prefixes & (DecodedInsn.PREFIX_REP | DecodedInsn.PREFIX_REPNE)) != 0;
        if (rep && (kind == 0xA4 || kind == 0xAA) && delta > 0 && bulk(c, d, kind == 0xA4, size)) {
            return;
        }
        for (int n = 0; ; n++) {
            if (rep) {
                if (index(c, d, Cpu.ECX) == 0) {
                    return;
                }
                if (n == CHUNK) {
                    c.rip = c.insnRip; // not finished: run again (interrupts may come first)
                    return;
                }
            }
            long rsi = index(c, d, Cpu.ESI);
            long rdi = index(c, d, Cpu.EDI);
            switch (kind) {
                case 0xA4 -> { // MOVS
                    long v = Exec64.read(c, Exec64.linear(c, d.seg, rsi), size);
                    Exec64.write(c, Exec64.linear(c, Cpu.ES, rdi), size, v);
                    setIndex(c, d, Cpu.ESI, rsi + delta);
                    setIndex(c, d, Cpu.EDI, rdi + delta);
                }
                case 0xA6 -> { // CMPS
                    long a = Exec64.read(c, Exec64.linear(c, d.seg, rsi), size);
                    long b = Exec64.read(c, Exec64.linear(c, Cpu.ES, rdi), size);
                    Ops64.alu(c, Alu.CMP, size, a, b);
                    setIndex(c, d, Cpu.ESI, rsi + delta);
                    setIndex(c, d, Cpu.EDI, rdi + delta);
                }
                case 0xAA -> { // STOS
                    Exec64.write(c, Exec64.linear(c, Cpu.ES, rdi), size, Exec64.reg(c, d, Cpu.EAX, size));
                    setIndex(c, d, Cpu.EDI, rdi + delta);
                }
                case 0xAC -> { // LODS
                    long v = Exec64.read(c, Exec64.linear(c, d.seg, rsi), size);
                    Exec64.setReg(c, d, Cpu.EAX, size, v);
                    setIndex(c, d, Cpu.ESI, rsi + delta);
                }
                case 0x6C -> { // INS: the destination is checked first so a fault loses no port data
                    long lin = Exec64.linear(c, Cpu.ES, rdi);
                    c.mmu.probeWrite(lin, size);
                    Exec64.write(c, lin, size, c.bus.pioRead(port, size));
                    setIndex(c, d, Cpu.EDI, rdi + delta);
                }
                case 0x6E -> { // OUTS
                    c.bus.pioWrite(port, size, (int) Exec64.read(c, Exec64.linear(c, d.seg, rsi), size));
                    setIndex(c, d, Cpu.ESI, rsi + delta);
                }
                default -> { // SCAS
                    long b = Exec64.read(c, Exec64.linear(c, Cpu.ES, rdi), size);
                    Ops64.alu(c, Alu.CMP, size, Exec64.reg(c, d, Cpu.EAX, size), b);
                    setIndex(c, d, Cpu.EDI, rdi + delta);
                }
            }
            if (!rep) {
                return;
            }
            setIndex(c, d, Cpu.ECX, index(c, d, Cpu.ECX) - 1);
            if (kind == 0xA6 || kind == 0xAE) {
                boolean zf = c.flags.zf();
                if (d.rep() ? !zf : zf) {
                    return; // REPE stops on a difference, REPNE on a match
                }
            }
        }
    }

    /**
     * REP MOVS/STOS forwards, a page at a time straight on guest RAM: what memcpy, memset and
     * clear_page cost in a kernel. Returns false (leaving the element-wise loop to do the rest,
     * and to fault at the exact element) at MMIO, ROM, pages holding decoded code, a
     * non-canonical address, or a forward overlap where each element must see the last one.
     */
    private static boolean bulk(Cpu c, DecodedInsn d, boolean movs, int size) {
        long budget = StringOps.BULK_BUDGET;
        while (budget > 0) {
            long count = index(c, d, Cpu.ECX);
            if (count == 0) {
                return true;
            }
            long rdi = index(c, d, Cpu.EDI);
            long rsi = index(c, d, Cpu.ESI);
            long dstLin = rdi; // ES: no base in 64-bit mode
            long srcLin = rsi + (d.seg == Cpu.FS ? c.fsBase : d.seg == Cpu.GS ? c.gsBase : 0);
            if (dstLin << 16 >> 16 != dstLin || srcLin << 16 >> 16 != srcLin) {
                return false;
            }
            long elems = Math.min(count, (0x1000 - (dstLin & 0xFFF)) / size);
            if (movs) {
                elems = Math.min(elems, (0x1000 - (srcLin & 0xFFF)) / size);
            }
            if (elems <= 0) {
                return false;
            }
            int bytes = (int) elems * size;
            MemorySegment dst = c.mmu.writeSegmentAt(dstLin);
            if (dst == null) {
                return false;
            }
            long dstOff = c.mmu.bulkOffset;
            if (movs) {
                MemorySegment src = c.mmu.readSegmentAt(srcLin);
                if (src == null) {
                    return false;
                }
                long srcOff = c.mmu.bulkOffset;
                if (src == dst && dstOff > srcOff && dstOff < srcOff + bytes) {
                    return false;
                }
                MemorySegment.copy(src, srcOff, dst, dstOff, bytes);
                setIndex(c, d, Cpu.ESI, rsi + bytes);
            } else if (size == 1) {
                dst.asSlice(dstOff, bytes).fill((byte) c.r[Cpu.EAX]);
            } else {
                long v = c.r[Cpu.EAX];
                for (int i = 0; i < bytes; i += size) {
                    switch (size) {
                        case 2 -> dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, dstOff + i, (short) v);
                        case 4 -> dst.set(ValueLayout.JAVA_INT_UNALIGNED, dstOff + i, (int) v);
                        default -> dst.set(ValueLayout.JAVA_LONG_UNALIGNED, dstOff + i, v);
                    }
                }
            }
            setIndex(c, d, Cpu.EDI, rdi + bytes);
            setIndex(c, d, Cpu.ECX, count - elems);
            budget -= bytes;
        }
        if (index(c, d, Cpu.ECX) != 0) {
            c.rip = c.insnRip; // not finished: run again (interrupts may come first)
        }
        return true;
    }

    /** 9C: PUSHFQ (PUSHF with 66): RF and VM read as zero in the image. */
    static void pushf(Cpu c, DecodedInsn d) {
        Exec64.push(c, d.opSize(), c.eflags() & ~(Flags.RF | Flags.VM));
    }

    /** 9D: POPFQ (POPF with 66), with the privilege rules of {@link Cpu#writeEflags}. */
    static void popf(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        long v = Exec64.pop(c, size);
        c.writeEflags((int) v, size == 2 ? 2 : 4);
    }

    /** C9: LEAVE (RSP = RBP, then POP RBP; BP with 66). */
    static void leave(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        long rbp = c.r[Cpu.EBP];
        long v = Exec64.read(c, Exec64.linear(c, Cpu.SS, rbp), size);
        c.r[Cpu.ESP] = rbp + size;
        Exec64.setReg(c, d, Cpu.EBP, size, v);
    }

    /**
     * C8: ENTER Iw, Ib: pushes RBP, copies {@code level - 1} outer frame pointers, pushes the
     * new frame pointer and allocates {@code Iw} bytes (8-byte slots; 2 with 66).
     */
    static void enter(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int alloc = d.imm & 0xFFFF;
        int level = d.imm2 & 0x1F;
        Exec64.push(c, size, Exec64.reg(c, d, Cpu.EBP, size));
        long frame = c.r[Cpu.ESP];
        if (level > 0) {
            long bp = c.r[Cpu.EBP];
            for (int i = 1; i < level; i++) {
                bp -= size;
                Exec64.push(c, size, Exec64.read(c, Exec64.linear(c, Cpu.SS, bp), size));
            }
            Exec64.push(c, size, frame);
        }
        Exec64.setReg(c, d, Cpu.EBP, size, frame);
        c.r[Cpu.ESP] -= alloc;
    }
}
