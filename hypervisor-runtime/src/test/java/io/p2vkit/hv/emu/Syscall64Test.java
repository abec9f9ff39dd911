package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.ModeTransitionTest.asm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

/** SYSCALL/SYSRET between CPL 3 and CPL 0 in 64-bit mode, with the MSRs set by WRMSR. */
class Syscall64Test {

    static final long CODE = NativeHarness64.CODE;


    @Test
    void syscallToTheKernelAndSysretqBack() {
        try (FlatMachine m = Interrupts64Test.machine()) {
            m.load(CODE + 0x300, asm(
                    "b9 80 00 00 c0", "0f 32", "83 c8 01", "0f 30",   // EFER.SCE
                    "b9 81 00 00 c0", "31 c0", "ba 08 00 10 00", "0f 30", // STAR: SYSCALL CS 0x08, SYSRET base 0x10
                    "b9 82 00 00 c0", "b8 00 01 00 20", "31 d2", "0f 30", // LSTAR = CODE + 0x100
                    "b9 84 00 00 c0", "b8 00 02 00 00", "0f 30",          // FMASK = IF
                    "f4"));
            m.cpu.rip = CODE + 0x300;
            m.cpu.eip = (int) m.cpu.rip;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            m.cpu.halted = false;
            m.load(CODE + 0x100, asm(
                    "48 89 c8",                  // mov rax, rcx (return RIP)
                    "4c 89 da",                  // mov rdx, r11 (user RFLAGS)
                    "9c", "41 5f",               // pushfq; pop r15
                    "48 0f 07"));                // sysretq
            m.load(CODE, asm("0f 05", "90"));    // syscall; nop
            m.cpu.setSegmentCache(Cpu.CS, 0x1B, 0, -1, 0xA0FB);
            m.cpu.setSegmentCache(Cpu.SS, 0x23, 0, -1, 0xC0F3);
            m.cpu.setCpl(3);
            m.cpu.flags.load(0x246);
            m.cpu.r[Cpu.ESP] = 0x7000;
            m.cpu.rip = CODE;
            m.cpu.eip = (int) CODE;
            m.runTo(CODE + 2);
            assertEquals(CODE + 2, m.cpu.r[Cpu.EAX], "RCX held the return RIP");
            assertEquals(0x246, m.cpu.r[Cpu.EDX] & 0xFFF, "R11 held RFLAGS");
            assertEquals(0, m.cpu.r[15] & Flags.IF, "FMASK cleared IF in the kernel");
            assertEquals(3, m.cpu.cpl);
            assertEquals(0x10 + 16 | 3, m.cpu.segSel[Cpu.CS], "SYSRETQ: CS = STAR[63:48] + 16, RPL 3");
            assertEquals(0x10 + 8 | 3, m.cpu.segSel[Cpu.SS]);
            assertEquals(0x246, m.cpu.eflags() & 0xFFF);
            CpuFault f = assertThrows(CpuFault.class, () -> Syscall64.sysret(m.cpu, null));
            assertEquals(CpuFault.GP, f.vector, "SYSRET at CPL 3");
            m.cpu.mmu.efer &= ~Syscall64.EFER_SCE;
            assertEquals(CpuFault.UD, assertThrows(CpuFault.class, () -> Syscall64.syscall(m.cpu, null)).vector);
        }
    }
}
