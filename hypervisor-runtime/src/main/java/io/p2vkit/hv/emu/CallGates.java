package io.p2vkit.hv.emu;

/**
 * Far JMP and CALL through a call gate (SDM Vol. 3 §5.8.3-5.8.5): the gate names the target code
 * segment and offset; a CALL to a more privileged non-conforming segment switches to the stack
 * the TSS holds for that ring and copies the gate's parameter count of words or dwords. IA-32e
 * mode's 16-byte gates are {@link CallGates64}'s.
 */
final class CallGates {

    private CallGates() {
    }

    static boolean isCallGate(long desc) {
        int attr = Segments.attr(desc);
        return (attr & Cpu.ATTR_S) == 0 && ((attr & 0xF) == 0x4 || (attr & 0xF) == 0xC);
    }

    static void transfer(Cpu c, int gateSel, long gate, boolean call) {
        if (c.ia32e()) {
            CallGates64.transfer(c, gateSel, gate, call); // from compatibility code
            return;
        }
        int gateAttr = Segments.attr(gate);
        if (Segments.dpl(gateAttr) < Math.max(c.cpl, gateSel & 3)) {
            throw CpuFault.gp(gateSel & 0xFFFC);
        }
        if ((gateAttr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.NP, gateSel & 0xFFFC);
        }
        boolean gate32 = (gateAttr & 0xF) == 0xC;
        int lo = (int) gate;
        int hi = (int) (gate >>> 32);
        int targetSel = lo >>> 16;
        int offset = gate32 ? (lo & 0xFFFF) | (hi & 0xFFFF_0000) : lo & 0xFFFF;
        int params = hi & 0x1F;
        if ((targetSel & 0xFFFC) == 0) {
            throw CpuFault.gp(0);
        }
        long desc = Segments.readDescriptor(c, targetSel);
        int attr = Segments.attr(desc);
        int dpl = Segments.dpl(attr);
        if ((attr & Cpu.ATTR_S) == 0 || (attr & Cpu.ATTR_CODE) == 0 || dpl > c.cpl) {
            throw CpuFault.gp(targetSel & 0xFFFC);
        }
        if ((attr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.NP, targetSel & 0xFFFC);
        }
        boolean conforming = (attr & 4) != 0;
        if (!call) {
            if (!conforming && dpl != c.cpl) {
                throw CpuFault.gp(targetSel & 0xFFFC);
            }
            Segments.commitCs(c, targetSel, desc, c.cpl);
            c.eip = offset & c.ipMask;
            return;
        }
        int size = gate32 ? 4 : 2;
        if (conforming || dpl == c.cpl) {
            c.push(size, c.segSel[Cpu.CS]);
            c.push(size, c.eip);
            Segments.commitCs(c, targetSel, desc, c.cpl);
            c.eip = offset & c.ipMask;
            return;
        }
        // More privileged: new stack from the TSS, then old SS:ESP, the parameters, CS:EIP.
        Segments.InnerStack stack = Segments.innerStack(c, dpl);
        int[] frame = new int[4 + params];
        int n = 0;
        frame[n++] = c.segSel[Cpu.SS];
        frame[n++] = c.r32(Cpu.ESP);
        for (int i = params - 1; i >= 0; i--) {
            frame[n++] = c.peek(i * size, size);
        }
        frame[n++] = c.segSel[Cpu.CS];
        frame[n++] = c.eip;
        int sp = stack.sp();
        for (int i = 0; i < n; i++) {
            sp -= size;
            c.mmu.write(stack.base() + (stack.is32() ? sp : sp & 0xFFFF), size, frame[i]);
        }
        Segments.commitStack(c, stack, sp);
        Segments.commitCs(c, targetSel, desc, dpl);
        c.eip = offset & c.ipMask;
    }
}
