package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * Interrupts and exceptions in IA-32e mode (SDM Vol. 3 §6.14): 16-byte IDT gates (64-bit
 * interrupt and trap gates only) to 64-bit code segments, the stack from the IST or, on a
 * privilege change, from RSPn of the 64-bit TSS with SS set to a null selector, the stack aligned
 * to 16 bytes, and always the five-quadword frame SS, RSP, RFLAGS, CS, RIP (plus the error code).
 * IRETQ in {@link #iret}. The 64-bit TSS comes from LTR of a 16-byte TSS descriptor.
 */
final class Interrupts64 {

    private Interrupts64() {
    }

    /** Transfers to the handler of {@code vector}; {@code returnRip} is what the frame holds. */
    static void deliver(Cpu c, int vector, int error, boolean hasError, int source, long returnRip) {
        int ext = source == Interrupts.EXTERNAL ? 1 : 0;
        int idtError = vector * 8 + 2 + ext;
        if (vector * 16L + 15 > (c.idtLimit & 0xFFFF_FFFFL)) {
            throw CpuFault.gp(idtError);
        }
        long gate = c.idtBase + vector * 16L;
        int lo = c.mmu.systemRead(gate, 4);
        int hi = c.mmu.systemRead(gate + 4, 4);
        int upper = c.mmu.systemRead(gate + 8, 4);
        int type = (hi >>> 8) & 0x1F;
        if (type != 0x0E && type != 0x0F) {
            throw CpuFault.gp(idtError); // only 64-bit interrupt and trap gates exist here
        }
        if (source == Interrupts.SOFTWARE && ((hi >>> 13) & 3) < c.cpl) {
            throw CpuFault.gp(idtError);
        }
        if ((hi & 0x8000) == 0) {
            throw CpuFault.withCode(CpuFault.NP, idtError);
        }
        int sel = lo >>> 16;
        long offset = (lo & 0xFFFFL) | (hi & 0xFFFF_0000L) | ((long) upper << 32);
        int ist = hi & 7;
        if ((sel & 0xFFFC) == 0) {
            throw CpuFault.gp(ext);
        }
        long desc = Segments.readDescriptor(c, sel);
        int attr = Segments.attr(desc);
        int dpl = Segments.dpl(attr);
        boolean code64 = (attr & Cpu.ATTR_L) != 0 && (attr & Cpu.ATTR_DB) == 0;
        if ((attr & Cpu.ATTR_S) == 0 || (attr & Cpu.ATTR_CODE) == 0 || dpl > c.cpl || !code64) {
            throw CpuFault.gp((sel & 0xFFFC) + ext);
        }
        if ((attr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.NP, (sel & 0xFFFC) + ext);
        }
        if (offset << 16 >> 16 != offset) {
            throw CpuFault.gp(ext);
        }
        boolean conforming = (attr & 4) != 0;
        int newCpl = conforming ? c.cpl : dpl;
        boolean inner = newCpl < c.cpl;
        long rsp;
        if (ist != 0) {
            rsp = tssQword(c, 0x1C + ist * 8);
        } else if (inner) {
            rsp = tssQword(c, 4 + newCpl * 8);
        } else {
            rsp = c.r[Cpu.ESP];
        }
        rsp &= ~15L;
        long oldSs = c.segSel[Cpu.SS];
        long oldRsp = c.r[Cpu.ESP];
        long oldFlags = c.eflags() & 0xFFFF_FFFFL;
        long oldCs = c.segSel[Cpu.CS];
        // The frame is written before anything changes, with the new privilege's rights.
        boolean supervisor = newCpl < 3;
        long sp = rsp;
        sp = push(c, sp, oldSs, supervisor);
        sp = push(c, sp, oldRsp, supervisor);
        sp = push(c, sp, oldFlags, supervisor);
        sp = push(c, sp, oldCs, supervisor);
        sp = push(c, sp, returnRip, supervisor);
        if (hasError) {
            sp = push(c, sp, error & 0xFFFF_FFFFL, supervisor);
        }
        rsp = sp;
        if (inner) {
            c.setSegmentCache(Cpu.SS, newCpl, 0, 0, 0); // a null SS with RPL = the new CPL
        }
        c.r[Cpu.ESP] = rsp;
        Segments.commitCs(c, sel, desc, newCpl);
        c.jumpTo64(offset);
        c.flags.materialize();
        c.flags.setBit(Flags.TF | Flags.NT | Flags.RF | Flags.VM, false);
        if (type == 0x0E) {
            c.flags.setBit(Flags.IF, false);
        }
    }

    /** Pushes a quadword below {@code sp} (#SS(0) if not canonical), as the kernel or not; the new sp. */
    static long push(Cpu c, long sp, long v, boolean supervisor) {
        sp -= 8;
        if (sp << 16 >> 16 != sp) {
            throw CpuFault.withCode(CpuFault.SS, 0);
        }
        if (supervisor) {
            c.mmu.systemWrite(sp, 4, (int) v);
            c.mmu.systemWrite(sp + 4, 4, (int) (v >>> 32));
        } else {
            c.mmu.write64(sp, v);
        }
        return sp;
    }

    /** A quadword of the 64-bit TSS (RSPn at 4 + 8n, ISTn at 0x1C + 8n), read as the kernel. */
    static long tssQword(Cpu c, int offset) {
        if (offset + 7 > (c.trLimit & 0xFFFF_FFFFL)) {
            throw CpuFault.withCode(CpuFault.TS, c.trSel & 0xFFFC);
        }
        long at = c.trBase64 + offset;
        return (c.mmu.systemRead(at, 4) & 0xFFFF_FFFFL) | (long) c.mmu.systemRead(at + 4, 4) << 32;
    }

    /**
     * 48 CF: IRETQ (CF: IRETD, 66 CF: IRET) in 64-bit mode: pops RIP, CS, RFLAGS, RSP and SS,
     * returning to 64-bit or compatibility code at the same or an outer privilege level.
     */
    static void iret(Cpu c, DecodedInsn d) {
        c.nmiBlocked = false; // IRET ends NMI blocking (SDM Vol. 3 §6.7.1)
        if (c.flags.isSet(Flags.NT)) {
            throw CpuFault.gp(0); // no task switches in IA-32e mode
        }
        int size = d.opSize();
        long sp = c.r[Cpu.ESP];
        long rip = Exec64.read(c, Exec64.linear(c, Cpu.SS, sp), size);
        int cs = (int) Exec64.read(c, Exec64.linear(c, Cpu.SS, sp + size), size) & 0xFFFF;
        long flags = Exec64.read(c, Exec64.linear(c, Cpu.SS, sp + 2L * size), size);
        long rsp = Exec64.read(c, Exec64.linear(c, Cpu.SS, sp + 3L * size), size);
        int ss = (int) Exec64.read(c, Exec64.linear(c, Cpu.SS, sp + 4L * size), size) & 0xFFFF;
        long desc = Segments.checkReturnTarget(c, cs);
        int attr = Segments.attr(desc);
        int newCpl = cs & 3;
        boolean to64 = (attr & Cpu.ATTR_L) != 0;
        if (!to64) {
            rip &= 0xFFFF_FFFFL;
        } else if (rip << 16 >> 16 != rip) {
            throw CpuFault.gp(0);
        }
        long ssDesc = 0;
        boolean nullSs = (ss & 0xFFFC) == 0;
        if (nullSs) {
            if (!to64 || newCpl == 3) {
                throw CpuFault.gp(0); // a null SS only for 64-bit code at CPL 0-2
            }
        } else {
            if ((ss & 3) != newCpl) {
                throw CpuFault.gp(ss & 0xFFFC);
            }
            ssDesc = Segments.readDescriptor(c, ss);
            int sattr = Segments.attr(ssDesc);
            if ((sattr & Cpu.ATTR_S) == 0 || (sattr & Cpu.ATTR_CODE) != 0 || (sattr & 2) == 0
                    || Segments.dpl(sattr) != newCpl) {
                throw CpuFault.gp(ss & 0xFFFC);
            }
            if ((sattr & Cpu.ATTR_P) == 0) {
                throw CpuFault.withCode(CpuFault.SS, ss & 0xFFFC);
            }
        }
        int oldCpl = c.cpl;
        c.writeEflags((int) flags, size == 2 ? 2 : 4);
        Segments.commitCs(c, cs, desc, newCpl);
        if (nullSs) {
            c.setSegmentCache(Cpu.SS, ss, 0, 0, 0);
        } else {
            c.setSegmentCache(Cpu.SS, ss, Segments.base(ssDesc), Segments.limit(ssDesc),
                    Segments.attr(ssDesc) | Cpu.ATTR_ACCESSED);
        }
        if (newCpl > oldCpl) {
            Segments.nullifyForOuterRing(c);
        }
        c.r[Cpu.ESP] = to64 ? rsp : rsp & 0xFFFF_FFFFL;
        if (to64) {
            c.jumpTo64(rip);
        } else {
            c.eip = (int) rip;
        }
        c.breakSlice = true;
    }
}
