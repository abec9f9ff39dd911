package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * The x87 control and status instructions that firmware uses to detect an FPU (FNINIT, FNSTSW,
 * FNSTCW, FLDCW, FNCLEX, FWAIT). x87 arithmetic is missing (the x86-64 issue adds it): CPUID
 * reports no FPU, those opcodes raise #UD in the guest, and the count reaches the boot report
 * through {@code Vcpu.missingFeatures}. CR0.EM/TS give #NM as the SDM says (§2.5, Table 2-2).
 */
final class Fpu {

    private Fpu() {
    }

    /** D8-DF: x87 escapes. */
    static void escape(Cpu c, DecodedInsn d) {
        int cr0 = c.cr0();
        if ((cr0 & (Cpu.CR0_EM | Cpu.CR0_TS)) != 0) {
            throw CpuFault.of(CpuFault.NM);
        }
        int op = d.opcode;
        if (op == 0xDB && d.mod == 3 && d.reg == 4 && d.rm == 3) { // FNINIT
            c.fpu.control = 0x37F;
            c.fpu.status = 0;
            c.fpu.tag = 0xFFFF;
        } else if (op == 0xDB && d.mod == 3 && d.reg == 4 && (d.rm == 0 || d.rm == 1 || d.rm == 4)) {
            // FNENI, FNDISI, FNSETPM: 8087/287 controls that a 387 and later execute as NOPs
        } else if (op == 0xDB && d.mod == 3 && d.reg == 4 && d.rm == 2) { // FNCLEX
            c.fpu.status &= 0x7F00;
        } else if (op == 0xDF && d.mod == 3 && d.reg == 4 && d.rm == 0) { // FNSTSW AX
            c.setReg(Cpu.EAX, 2, c.fpu.status);
        } else if (op == 0xDD && d.mod != 3 && d.reg == 7) { // FNSTSW m16
            c.writeRM(d, 2, c.fpu.status);
        } else if (op == 0xD9 && d.mod != 3 && d.reg == 7) { // FNSTCW m16
            c.writeRM(d, 2, c.fpu.control);
        } else if (op == 0xD9 && d.mod != 3 && d.reg == 5) { // FLDCW m16
            c.fpu.control = c.readRM(d, 2);
        } else {
            throw c.undefined(d);
        }
    }

    /** 9B: WAIT/FWAIT (#NM when both MP and TS are set). */
    static void fwait(Cpu c, DecodedInsn d) {
        int cr0 = c.cr0();
        if ((cr0 & (Cpu.CR0_MP | Cpu.CR0_TS)) == (Cpu.CR0_MP | Cpu.CR0_TS)) {
            throw CpuFault.of(CpuFault.NM);
        }
    }
}
