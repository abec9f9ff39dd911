package io.p2vkit.hv.emu;

/**
 * Segment register loads: real-mode loads (selector and base only, so limits set in protected
 * mode survive: "unreal mode", which SeaBIOS uses) and protected-mode descriptor loads with the
 * checks of SDM Vol. 3 §5.5-5.8 and Vol. 2 MOV/POP/LDS. Task switches are not emulated: a far
 * transfer to a TSS or task gate raises #GP and is counted. Call gates are in {@link CallGates}.
 */
final class Segments {

    private Segments() {
    }

    /** A descriptor's 8 bytes as (high << 32 | low). */
    static long readDescriptor(Cpu c, int sel) {
        int index = sel & 0xFFF8;
        long tableBase;
        int tableLimit;
        if ((sel & 4) != 0) {
            tableBase = c.ldtBase;
            tableLimit = c.ldtLimit;
        } else {
            tableBase = c.gdtBase;
            tableLimit = c.gdtLimit;
        }
        if (index + 7 > (tableLimit & 0xFFFF_FFFFL)) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        int lo = c.mmu.systemRead(c.tableAddress(tableBase, index), 4);
        int hi = c.mmu.systemRead(c.tableAddress(tableBase, index + 4), 4);
        return (long) hi << 32 | (lo & 0xFFFF_FFFFL);
    }

    static int base(long desc) {
        int lo = (int) desc;
        int hi = (int) (desc >>> 32);
        return (lo >>> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF00_0000);
    }

    static int limit(long desc) {
        int lo = (int) desc;
        int hi = (int) (desc >>> 32);
        int limit = (lo & 0xFFFF) | (hi & 0xF_0000);
        return (hi & (1 << 23)) != 0 ? limit << 12 | 0xFFF : limit;
    }

    static int attr(long desc) {
        return (int) (desc >>> 40) & 0xF0FF;
    }

    static int dpl(int attr) {
        return (attr >>> 5) & 3;
    }

    /** Marks the descriptor accessed in its table, as the CPU does on a load. */
    private static void setAccessed(Cpu c, int sel, int attr) {
        if ((attr & Cpu.ATTR_ACCESSED) == 0) {
            long tableBase = (sel & 4) != 0 ? c.ldtBase : c.gdtBase;
            c.mmu.systemWrite(c.tableAddress(tableBase, (sel & 0xFFF8) + 5), 1, attr | Cpu.ATTR_ACCESSED);
        }
    }

    /** MOV Sreg, POP Sreg, LDS/LES/LSS/LFS/LGS: loads a data or stack segment register. */
    static void load(Cpu c, int seg, int sel) {
        sel &= 0xFFFF;
        if (!c.protectedMode()) {
            c.setSegmentCache(seg, sel, sel << 4, c.segLimit[seg], c.segAttr[seg] | Cpu.ATTR_P);
            return;
        }
        if (seg == Cpu.CS) {
            throw CpuFault.ud();
        }
        int rpl = sel & 3;
        if ((sel & 0xFFFC) == 0) {
            // 64-bit code may load a null SS at CPL 0-2 with RPL = CPL (SDM Vol. 2 MOV, POP).
            if (seg == Cpu.SS && !(c.mode64 && c.cpl != 3 && rpl == c.cpl)) {
                throw CpuFault.gp(0);
            }
            c.setSegmentCache(seg, sel, 0, 0, 0); // null: usable by no access
            return;
        }
        long desc = readDescriptor(c, sel);
        int attr = attr(desc);
        int type = attr & 0xF;
        int dpl = dpl(attr);
        if ((attr & Cpu.ATTR_S) == 0) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        boolean code = (type & 8) != 0;
        if (seg == Cpu.SS) {
            if (code || (type & 2) == 0 || rpl != c.cpl || dpl != c.cpl) {
                throw CpuFault.gp(sel & 0xFFFC);
            }
            if ((attr & Cpu.ATTR_P) == 0) {
                throw CpuFault.withCode(CpuFault.SS, sel & 0xFFFC);
            }
        } else {
            if (code && (type & 2) == 0) {
                throw CpuFault.gp(sel & 0xFFFC); // execute-only code
            }
            boolean conforming = code && (type & 4) != 0;
            if (!conforming && dpl < Math.max(c.cpl, rpl)) {
                throw CpuFault.gp(sel & 0xFFFC);
            }
            if ((attr & Cpu.ATTR_P) == 0) {
                throw CpuFault.withCode(CpuFault.NP, sel & 0xFFFC);
            }
        }
        setAccessed(c, sel, attr);
        c.setSegmentCache(seg, sel, base(desc), limit(desc), attr | Cpu.ATTR_ACCESSED);
    }

    /**
     * Checks a code segment descriptor for a far JMP/CALL at the current privilege (no gates)
     * and returns it; the caller commits with {@link #commitCs}.
     */
    static long checkFarTarget(Cpu c, int sel) {
        if ((sel & 0xFFFC) == 0) {
            throw CpuFault.gp(0);
        }
        long desc = readDescriptor(c, sel);
        int attr = attr(desc);
        checkIa32eTarget(c, sel, attr);
        if ((attr & Cpu.ATTR_S) == 0) {
            int type = attr & 0xF;
            if (type == 0x4 || type == 0xC) {
                return desc; // a call gate: the caller hands it to CallGates
            }
            c.undefinedOpcodes++; // task gate or TSS: task switches are not emulated
            throw CpuFault.gp(sel & 0xFFFC);
        }
        if ((attr & Cpu.ATTR_CODE) == 0) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        int dpl = dpl(attr);
        boolean conforming = (attr & 4) != 0;
        if (conforming ? dpl > c.cpl : ((sel & 3) > c.cpl || dpl != c.cpl)) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        if ((attr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.NP, sel & 0xFFFC);
        }
        return desc;
    }

    /**
     * Far-transfer checks of IA-32e mode: a code segment with L = 1 and D = 1 is reserved (#GP);
     * of the system descriptors only the 64-bit call gate (type 0xC, {@link CallGates64}) may be
     * named: 16-bit call gates, task gates and TSSs raise #GP, as IA-32e mode has no task switches
     * (SDM Vol. 3 §7.7).
     */
    static void checkIa32eTarget(Cpu c, int sel, int attr) {
        if (!c.ia32e()) {
            return;
        }
        boolean code = (attr & Cpu.ATTR_S) != 0 && (attr & Cpu.ATTR_CODE) != 0;
        if (code && (attr & Cpu.ATTR_L) != 0 && (attr & Cpu.ATTR_DB) != 0) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        if ((attr & Cpu.ATTR_S) == 0 && (attr & 0xF) != 0xC) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
    }

    /** Checks a code segment for a far RET/IRET to privilege {@code rpl} (the selector's RPL). */
    static long checkReturnTarget(Cpu c, int sel) {
        if ((sel & 0xFFFC) == 0) {
            throw CpuFault.gp(0);
        }
        int rpl = sel & 3;
        if (rpl < c.cpl) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        long desc = readDescriptor(c, sel);
        int attr = attr(desc);
        checkIa32eTarget(c, sel, attr);
        if ((attr & Cpu.ATTR_S) == 0 || (attr & Cpu.ATTR_CODE) == 0) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        int dpl = dpl(attr);
        boolean conforming = (attr & 4) != 0;
        if (conforming ? dpl > rpl : dpl != rpl) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        if ((attr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.NP, sel & 0xFFFC);
        }
        return desc;
    }

    /** Loads CS from a checked descriptor; the new CPL is {@code newCpl} and becomes the RPL. */
    static void commitCs(Cpu c, int sel, long desc, int newCpl) {
        int attr = attr(desc);
        setAccessed(c, sel, attr);
        c.setSegmentCache(Cpu.CS, (sel & 0xFFFC) | newCpl, base(desc), limit(desc), attr | Cpu.ATTR_ACCESSED);
        c.setCpl(newCpl);
    }

    /** The stack a transfer to an inner ring switches to: selector, pointer and descriptor. */
    record InnerStack(int sel, int sp, long desc) {
        int base() {
            return Segments.base(desc);
        }

        boolean is32() {
            return (Segments.attr(desc) & Cpu.ATTR_DB) != 0;
        }
    }

    /**
     * Reads and checks the SS:ESP for privilege level {@code dpl} from the current TSS (16- or
     * 32-bit format), raising #TS or #SS as SDM Vol. 3 §6.12.1 and §5.8.5 describe.
     */
    static InnerStack innerStack(Cpu c, int dpl) {
        boolean tss32 = (c.trAttr & 8) != 0;
        int spOff = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
        int ssOff = tss32 ? 8 + dpl * 8 : 4 + dpl * 4;
        if (ssOff + 1 > c.trLimit) {
            throw CpuFault.withCode(CpuFault.TS, c.trSel & 0xFFFC);
        }
        int sp = c.mmu.systemRead(c.trBase + spOff, tss32 ? 4 : 2);
        int ss = c.mmu.systemRead(c.trBase + ssOff, 2) & 0xFFFF;
        if ((ss & 0xFFFC) == 0 || (ss & 3) != dpl) {
            throw CpuFault.withCode(CpuFault.TS, ss & 0xFFFC);
        }
        long desc = readDescriptor(c, ss);
        int attr = attr(desc);
        if ((attr & Cpu.ATTR_S) == 0 || (attr & Cpu.ATTR_CODE) != 0 || (attr & 2) == 0 || dpl(attr) != dpl) {
            throw CpuFault.withCode(CpuFault.TS, ss & 0xFFFC);
        }
        if ((attr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.SS, ss & 0xFFFC);
        }
        return new InnerStack(ss, sp, desc);
    }

    /** Makes {@code stack} the current stack with ESP = {@code sp}. */
    static void commitStack(Cpu c, InnerStack stack, int sp) {
        c.setSegmentCache(Cpu.SS, stack.sel(), stack.base(), limit(stack.desc()), attr(stack.desc()) | Cpu.ATTR_ACCESSED);
        c.set32(Cpu.ESP, stack.is32() ? sp : (c.r32(Cpu.ESP) & 0xFFFF_0000) | (sp & 0xFFFF));
    }

    /** Real-mode far transfer: CS base = selector * 16, the cached limit and size are kept. */
    static void loadCsReal(Cpu c, int sel) {
        c.setSegmentCache(Cpu.CS, sel, (sel & 0xFFFF) << 4, c.segLimit[Cpu.CS], c.segAttr[Cpu.CS]);
    }

    /** After a return to an outer ring, data segments the new CPL may not use become null (SDM RET). */
    static void nullifyForOuterRing(Cpu c) {
        for (int seg : new int[] {Cpu.ES, Cpu.DS, Cpu.FS, Cpu.GS}) {
            int attr = c.segAttr[seg];
            boolean conformingCode = (attr & Cpu.ATTR_CODE) != 0 && (attr & 4) != 0;
            if ((attr & Cpu.ATTR_S) != 0 && !conformingCode && dpl(attr) < c.cpl) {
                c.setSegmentCache(seg, 0, 0, 0, 0);
            }
        }
    }
}
