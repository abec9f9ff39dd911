package io.p2vkit.hv.emu;

/**
 * Interrupt and exception delivery: the real-mode IVT and the protected-mode IDT with interrupt
 * and trap gates, privilege changes through the TSS stack pointers, error codes, and the
 * double-fault and triple-fault rules of SDM Vol. 3 §6.15 (Table 6-5). Task gates are not
 * emulated (delivery through one raises #GP).
 */
final class Interrupts {

    /** An exception raised by the CPU (faults and traps alike). */
    static final int EXCEPTION = 0;
    /** INT n, INT3, INTO: gate DPL is checked against CPL. */
    static final int SOFTWARE = 1;
    /** A maskable interrupt from the interrupt controller: the EXT bit goes into error codes. */
    static final int EXTERNAL = 2;

    private Interrupts() {
    }

    /**
     * Delivers a fault: EIP and ESP have been rolled back to the faulting instruction. A second
     * fault during delivery becomes #DF where the table says so; a fault while delivering #DF is
     * a triple fault.
     */
    static void deliverFault(Cpu c, CpuFault fault) {
        int vector = fault.vector;
        int error = fault.errorCode;
        boolean hasError = fault.hasErrorCode;
        for (int attempt = 0; ; attempt++) {
            if (vector == CpuFault.PF) {
                c.cr2 = c.mmu.faultAddress;
            }
            long savedEsp = c.r[Cpu.ESP];
            try {
                deliver(c, vector, error, hasError, EXCEPTION, c.eip);
                return;
            } catch (CpuFault second) {
                c.r[Cpu.ESP] = savedEsp; // the whole register
                if (vector == CpuFault.DF || attempt >= 3) {
                    throw new TripleFault("fault " + second.vector + " while delivering #DF");
                }
                if (isDoubleFault(vector, second.vector)) {
                    vector = CpuFault.DF;
                    error = 0;
                    hasError = true;
                } else {
                    vector = second.vector;
                    error = second.errorCode;
                    hasError = second.hasErrorCode;
                }
            }
        }
    }

    private static boolean contributory(int v) {
        return v == CpuFault.DE || (v >= CpuFault.TS && v <= CpuFault.GP);
    }

    /** SDM Vol. 3 Table 6-5. */
    private static boolean isDoubleFault(int first, int second) {
        if (contributory(first)) {
            return contributory(second);
        }
        if (first == CpuFault.PF) {
            return contributory(second) || second == CpuFault.PF;
        }
        return false;
    }

    /**
     * Transfers control to the handler of {@code vector}, pushing a return address of
     * {@code returnEip} (the faulting instruction for faults, the next one for traps and
     * interrupts).
     */
    static void deliver(Cpu c, int vector, int error, boolean hasError, int source, int returnEip) {
        c.halted = false;
        c.deliveredInterrupt = true;
        if (c.protectedMode()) {
            deliverProtected(c, vector, error, hasError, source, returnEip);
        } else {
            deliverReal(c, vector, returnEip);
        }
        c.breakSlice = true;
    }

    private static void deliverReal(Cpu c, int vector, int returnEip) {
        if (vector * 4 + 3 > (c.idtLimit & 0xFFFF_FFFFL)) {
            throw CpuFault.gp(0);
        }
        int entry = c.mmu.read32((int) c.idtBase + vector * 4);
        int flags = c.eflags();
        c.push(2, flags);
        c.push(2, c.segSel[Cpu.CS]);
        c.push(2, returnEip);
        c.flags.setBit(Flags.IF, false);
        c.flags.setBit(Flags.TF, false);
        c.flags.setBit(Flags.AC, false);
        Segments.loadCsReal(c, entry >>> 16);
        c.eip = entry & 0xFFFF;
    }

    private static void deliverProtected(Cpu c, int vector, int error, boolean hasError, int source,
            int returnEip) {
        if (c.ia32e()) {
            // 16-byte gates and the 64-bit frame; from compatibility mode the return address is
            // the 32-bit EIP, zero-extended.
            Interrupts64.deliver(c, vector, error, hasError, source,
                    c.mode64 ? c.rip : returnEip & 0xFFFF_FFFFL);
            return;
        }
        int ext = source == EXTERNAL ? 1 : 0;
        int idtError = vector * 8 + 2 + ext;
        if (vector * 8 + 7 > (c.idtLimit & 0xFFFF_FFFFL)) {
            throw CpuFault.gp(idtError);
        }
        int lo = c.mmu.systemRead(c.tableAddress(c.idtBase, vector * 8), 4);
        int hi = c.mmu.systemRead(c.tableAddress(c.idtBase, vector * 8 + 4), 4);
        int type = (hi >>> 8) & 0x1F;
        boolean gate32;
        switch (type) {
            case 0x06, 0x07 -> gate32 = false;
            case 0x0E, 0x0F -> gate32 = true;
            default -> throw CpuFault.gp(idtError); // task gates and junk
        }
        boolean trapGate = (type & 1) != 0;
        int gateDpl = (hi >>> 13) & 3;
        if (source == SOFTWARE && gateDpl < c.cpl) {
            throw CpuFault.gp(idtError);
        }
        if ((hi & 0x8000) == 0) {
            throw CpuFault.withCode(CpuFault.NP, idtError);
        }
        int sel = lo >>> 16;
        int offset = gate32 ? (lo & 0xFFFF) | (hi & 0xFFFF_0000) : lo & 0xFFFF;
        if ((sel & 0xFFFC) == 0) {
            throw CpuFault.gp(ext);
        }
        long desc = Segments.readDescriptor(c, sel);
        int attr = Segments.attr(desc);
        int dpl = Segments.dpl(attr);
        if ((attr & Cpu.ATTR_S) == 0 || (attr & Cpu.ATTR_CODE) == 0 || dpl > c.cpl) {
            throw CpuFault.gp((sel & 0xFFFC) + ext);
        }
        if ((attr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.NP, (sel & 0xFFFC) + ext);
        }
        boolean conforming = (attr & 4) != 0;
        int size = gate32 ? 4 : 2;
        int oldFlags = c.eflags();
        int oldCs = c.segSel[Cpu.CS];

        int newCpl;
        int stackBase;
        int sp;
        boolean stack32;
        boolean inner = !conforming && dpl < c.cpl;
        Segments.InnerStack stack = null;
        if (inner) {
            newCpl = dpl;
            stack = Segments.innerStack(c, dpl);
            sp = stack.sp();
            stackBase = stack.base();
            stack32 = stack.is32();
        } else {
            newCpl = c.cpl;
            stackBase = c.segBase[Cpu.SS];
            sp = c.r32(Cpu.ESP);
            stack32 = c.ss32;
        }

        int[] frame = new int[7];
        int n = 0;
        if (inner) {
            frame[n++] = c.segSel[Cpu.SS];
            frame[n++] = c.r32(Cpu.ESP);
        }
        frame[n++] = oldFlags;
        frame[n++] = oldCs;
        frame[n++] = returnEip;
        if (hasError) {
            frame[n++] = error;
        }
        int newSp = sp;
        for (int i = 0; i < n; i++) {
            newSp -= size;
            int off = stack32 ? newSp : newSp & 0xFFFF;
            c.mmu.write(stackBase + off, size, frame[i]);
        }

        if (inner) {
            Segments.commitStack(c, stack, newSp);
        } else if (stack32) {
            c.set32(Cpu.ESP, newSp);
        } else {
            c.set32(Cpu.ESP, (c.r32(Cpu.ESP) & 0xFFFF_0000) | (newSp & 0xFFFF));
        }
        Segments.commitCs(c, sel, desc, newCpl);
        c.eip = offset;
        c.flags.materialize();
        c.flags.setBit(Flags.TF | Flags.NT | Flags.RF | Flags.VM, false);
        if (!trapGate) {
            c.flags.setBit(Flags.IF, false);
        }
    }
}
