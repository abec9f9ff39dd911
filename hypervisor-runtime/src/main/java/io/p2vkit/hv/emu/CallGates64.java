package io.p2vkit.hv.emu;

/**
 * Far JMP and CALL through a call gate in IA-32e mode (SDM Vol. 3 §5.8.3.1, §5.8.5.1; Vol. 2
 * CALL, JMP), from 64-bit or compatibility code. The gate is a 16-byte descriptor (type 0xC; the
 * upper half's type field must be 0) holding a 64-bit offset into a 64-bit code segment (L = 1,
 * D = 0). A CALL to a more privileged non-conforming segment takes RSP from RSPn of the 64-bit TSS
 * (not aligned, unlike an interrupt), makes SS a null selector with RPL = the new CPL, and pushes
 * the old SS, RSP, CS and RIP as quadwords; no parameters are copied. A CALL at the same privilege
 * pushes CS and RIP as quadwords on the current stack, taken as a 64-bit stack. A 64-bit RETF
 * (REX.W) returns.
 */
final class CallGates64 {

    private CallGates64() {
    }

    /** The transfer through the gate {@code gateSel} whose low 8 bytes are {@code gateLow}. */
    static void transfer(Cpu c, int gateSel, long gateLow, boolean call) {
        int gateError = gateSel & 0xFFFC;
        long gateHigh = upperHalf(c, gateSel);
        if ((gateHigh >>> 40 & 0x1F) != 0) {
            throw CpuFault.gp(gateError);
        }
        int gateAttr = Segments.attr(gateLow);
        if (Segments.dpl(gateAttr) < Math.max(c.cpl, gateSel & 3)) {
            throw CpuFault.gp(gateError);
        }
        if ((gateAttr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.NP, gateError);
        }
        int targetSel = (int) (gateLow >>> 16) & 0xFFFF;
        long offset = (gateLow & 0xFFFF) | (gateLow >>> 32 & 0xFFFF_0000L) | gateHigh << 32;
        if ((targetSel & 0xFFFC) == 0) {
            throw CpuFault.gp(0);
        }
        long desc = Segments.readDescriptor(c, targetSel);
        int attr = Segments.attr(desc);
        int dpl = Segments.dpl(attr);
        boolean code64 = (attr & Cpu.ATTR_L) != 0 && (attr & Cpu.ATTR_DB) == 0;
        if ((attr & Cpu.ATTR_S) == 0 || (attr & Cpu.ATTR_CODE) == 0 || dpl > c.cpl || !code64) {
            throw CpuFault.gp(targetSel & 0xFFFC);
        }
        if ((attr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.NP, targetSel & 0xFFFC);
        }
        boolean conforming = (attr & 4) != 0;
        if (!call && !conforming && dpl != c.cpl) {
            throw CpuFault.gp(targetSel & 0xFFFC);
        }
        if (offset << 16 >> 16 != offset) {
            throw CpuFault.gp(0);
        }
        long returnRip = c.mode64 ? c.rip : c.eip & 0xFFFF_FFFFL;
        long oldCs = c.segSel[Cpu.CS];
        if (!call) {
            Segments.commitCs(c, targetSel, desc, c.cpl);
        } else if (conforming || dpl == c.cpl) {
            boolean supervisor = c.cpl < 3;
            long sp = Interrupts64.push(c, c.r[Cpu.ESP], oldCs, supervisor);
            sp = Interrupts64.push(c, sp, returnRip, supervisor);
            c.r[Cpu.ESP] = sp;
            Segments.commitCs(c, targetSel, desc, c.cpl);
        } else {
            // The frame is written before anything changes, with the inner ring's rights.
            long sp = Interrupts64.tssQword(c, 4 + dpl * 8);
            sp = Interrupts64.push(c, sp, c.segSel[Cpu.SS], true);
            sp = Interrupts64.push(c, sp, c.r[Cpu.ESP], true);
            sp = Interrupts64.push(c, sp, oldCs, true);
            sp = Interrupts64.push(c, sp, returnRip, true);
            c.setSegmentCache(Cpu.SS, dpl, 0, 0, 0); // a null SS with RPL = the new CPL
            c.r[Cpu.ESP] = sp;
            Segments.commitCs(c, targetSel, desc, dpl);
        }
        c.jumpTo64(offset);
        c.breakSlice = true;
    }

    /** Bytes 8-15 of the 16-byte descriptor {@code sel} names: #GP(sel) past the table's limit. */
    private static long upperHalf(Cpu c, int sel) {
        boolean ldt = (sel & 4) != 0;
        long tableBase = ldt ? c.ldtBase : c.gdtBase;
        int tableLimit = ldt ? c.ldtLimit : c.gdtLimit;
        int index = sel & 0xFFF8;
        if (index + 15 > (tableLimit & 0xFFFF_FFFFL)) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        int lo = c.mmu.systemRead(c.tableAddress(tableBase, index + 8), 4);
        int hi = c.mmu.systemRead(c.tableAddress(tableBase, index + 12), 4);
        return (long) hi << 32 | (lo & 0xFFFF_FFFFL);
    }
}
