package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.ModeTransitionTest.asm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

/**
 * Interrupts and exceptions in IA-32e mode (SDM Vol. 3 §6.14): 16-byte gates, the five-quadword
 * frame on a 16-byte aligned stack, RSP0 and IST stacks from a 64-bit TSS loaded by LTR, the
 * privilege change from CPL 3 with a null SS, IRETQ back to the same and to an outer ring, and
 * a fault in compatibility mode reaching a 64-bit handler.
 */
class Interrupts64Test {

    static final long CODE = NativeHarness64.CODE;
    static final int GDT = 0x3000;
    static final int IDT = 0x4000;
    static final int TSS = 0x5000;

    /** GDT: 0x08 64-bit code, 0x10 data, 0x18 64-bit user code, 0x20 user data, 0x28 TSS (16 bytes), 0x38 32-bit code. */
    static FlatMachine machine() {
        FlatMachine m = NativeDifferential64Test.machine64();
        m.memory.writeLong(0x1000, 0x2000 | 7);                  // user access allowed everywhere
        m.memory.writeLong(0x2000, 0x87);
        m.memory.writeLong(GDT + 0x08, 0x00AF_9A00_0000_FFFFL);
        m.memory.writeLong(GDT + 0x10, 0x00CF_9200_0000_FFFFL);
        m.memory.writeLong(GDT + 0x18, 0x00AF_FA00_0000_FFFFL);
        m.memory.writeLong(GDT + 0x20, 0x00CF_F200_0000_FFFFL);
        m.memory.writeLong(GDT + 0x28, 0x0000_8900_0000_0067L | (long) TSS << 16);
        m.memory.writeLong(GDT + 0x30, 0);
        m.memory.writeLong(GDT + 0x38, 0x00CF_9A00_0000_FFFFL);
        m.memory.writeLong(TSS + 4, 0x9008);                     // RSP0 (not aligned on purpose)
        m.memory.writeLong(TSS + 0x24, 0x8800);                  // IST1
        m.cpu.gdtBase = GDT;
        m.cpu.gdtLimit = 0x3F;
        m.cpu.idtBase = IDT;
        m.cpu.idtLimit = 0xFFF;
        m.cpu.mmu.flush();
        return m;
    }

    /** A 64-bit interrupt gate (type 0xE) or trap gate (0xF) to 0x08:handler. */
    static void gate(FlatMachine m, int vector, long handler, int type, int dpl, int ist) {
        long at = IDT + vector * 16L;
        m.memory.writeInt(at, 0x08 << 16 | (int) (handler & 0xFFFF));
        m.memory.writeInt(at + 4, (int) (handler & 0xFFFF_0000L) | 0x8000 | dpl << 13 | type << 8 | ist);
        m.memory.writeInt(at + 8, (int) (handler >>> 32));
        m.memory.writeInt(at + 12, 0);
    }


    @Test
    void int3AtTheSamePrivilegeAndIretq() {
        try (FlatMachine m = machine()) {
            gate(m, 3, CODE + 0x100, 0xE, 0, 0);
            m.load(CODE, asm("fb", "cc", "f4"));                 // sti; int3; hlt
            m.load(CODE + 0x100, asm(
                    "48 8b 04 24",                               // mov rax, [rsp]      (RIP)
                    "48 8b 4c 24 08",                            // mov rcx, [rsp+8]    (CS)
                    "48 8b 54 24 10",                            // mov rdx, [rsp+16]   (RFLAGS)
                    "48 8b 7c 24 18",                            // mov rdi, [rsp+24]   (RSP)
                    "48 89 e6",                                  // mov rsi, rsp
                    "9c", "41 5f",                               // pushfq; pop r15 (IF in the handler)
                    "48 cf"));                                   // iretq
            m.cpu.r[Cpu.ESP] = 0x7008;
            m.cpu.rip = CODE;
            m.cpu.eip = (int) CODE;
            m.runTo(CODE + 2);
            assertEquals(CODE + 2, m.cpu.r[Cpu.EAX], "INT3 pushes the next instruction");
            assertEquals(0x08, m.cpu.r[Cpu.ECX]);
            assertTrue((m.cpu.r[Cpu.EDX] & Flags.IF) != 0);
            assertEquals(0x7008, m.cpu.r[Cpu.EDI]);
            assertEquals(0x7000 - 40, m.cpu.r[Cpu.ESI], "aligned to 16, then five quadwords");
            assertEquals(0, m.cpu.r[15] & Flags.IF, "an interrupt gate clears IF");
            assertEquals(0x7008, m.cpu.r[Cpu.ESP], "IRETQ restores RSP");
            assertTrue(m.cpu.interruptsEnabled());
        }
    }

    @Test
    void fromUserModeThroughTheTssAndTheIst() {
        try (FlatMachine m = machine()) {
            gate(m, 3, CODE + 0x100, 0xF, 3, 0);                 // trap gate, callable from CPL 3
            gate(m, 0x40, CODE + 0x200, 0xE, 3, 1);              // interrupt gate on IST1
            m.load(CODE + 0x100, asm("48 89 e6", "48 cf"));      // mov rsi, rsp; iretq
            m.load(CODE + 0x200, asm("48 89 e7", "48 cf"));      // mov rdi, rsp; iretq
            m.load(CODE, asm("cc", "cd 40", "90"));              // int3; int 0x40; nop
            // LTR of the 16-byte TSS descriptor (from compatibility mode, where LTR runs).
            m.cpu.setSegmentCache(Cpu.CS, 0x38, 0, -1, FlatMachine.FLAT_CODE32);
            m.load(0x6000, asm("66 b8 28 00", "0f 00 d8"));      // mov ax, 0x28; ltr ax
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.REQUESTED, m.vcpu.run(2), m.vcpu.stopReason());
            assertEquals(TSS, m.cpu.trBase64);
            assertEquals(0x8B, m.memory.readLong(GDT + 0x28) >>> 40 & 0xFF, "marked busy");
            // To CPL 3 in 64-bit code.
            m.cpu.setSegmentCache(Cpu.CS, 0x1B, 0, -1, 0xA0FB);
            m.cpu.setSegmentCache(Cpu.SS, 0x23, 0, -1, FlatMachine.FLAT_DATA32 | 0x60);
            m.cpu.setCpl(3);
            m.cpu.r[Cpu.ESP] = 0x7000;
            m.cpu.flags.load(0x202);
            m.cpu.rip = CODE;
            m.cpu.eip = (int) CODE;
            m.runTo(CODE + 3);
            assertEquals(0x9000 - 40, m.cpu.r[Cpu.ESI], "RSP0, aligned, five quadwords");
            assertEquals(0x23, m.memory.readLong(0x9000 - 8), "the old SS");
            assertEquals(0x7000, m.memory.readLong(0x9000 - 16), "the old RSP");
            assertEquals(0x1B, m.memory.readLong(0x9000 - 32), "the old CS");
            assertEquals(0x8800 - 40, m.cpu.r[Cpu.EDI], "IST1 wins over RSP0");
            assertEquals(3, m.cpu.cpl, "IRETQ went back to CPL 3");
            assertEquals(0x23, m.cpu.segSel[Cpu.SS]);
            assertEquals(0x7000, m.cpu.r[Cpu.ESP]);
            m.runTo(CODE + 4);
        }
    }

    @Test
    void aFaultInCompatibilityModeGoesToA64BitHandler() {
        try (FlatMachine m = machine()) {
            gate(m, 6, CODE + 0x100, 0xE, 0, 0);
            m.load(CODE + 0x100, asm("48 8b 04 24", "48 8b 4c 24 08", "f4")); // rax = RIP, rcx = CS; hlt
            m.cpu.setSegmentCache(Cpu.CS, 0x38, 0, -1, FlatMachine.FLAT_CODE32);
            m.load(0x6000, asm("90", "0f 0b"));                 // nop; ud2
            m.cpu.r[Cpu.ESP] = 0x7000;
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(10), m.vcpu.stopReason());
            assertTrue(m.cpu.mode64);
            assertEquals(0x6001, m.cpu.r[Cpu.EAX], "#UD is a fault: the UD2 itself, zero-extended");
            assertEquals(0x38, m.cpu.r[Cpu.ECX]);
        }
    }

    @Test
    void pageFaultIn64BitModeReportsA64BitCr2() {
        try (FlatMachine m = machine()) {
            gate(m, 14, CODE + 0x100, 0xE, 0, 0);
            m.load(CODE + 0x100, asm(
                    "0f 20 d0",                                  // mov rax, cr2
                    "0f 20 d9",                                  // mov rcx, cr3
                    "5a",                                        // pop rdx (the error code)
                    "f4"));
            m.load(CODE, asm(
                    "0f 20 d8", "0f 22 d8",                      // mov rax, cr3; mov cr3, rax
                    "48 b9 00 10 00 00 80 7f 00 00",             // mov rcx, 0x7f8000001000
                    "0f 01 39",                                  // invlpg [rcx]
                    "48 8b 01"));                                // mov rax, [rcx]: PML4[0xff] absent
            m.cpu.r[Cpu.ESP] = 0x7000;
            m.cpu.rip = CODE;
            m.cpu.eip = (int) CODE;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(20), m.vcpu.stopReason());
            assertEquals(0x7F80_0000_1000L, m.cpu.r[Cpu.EAX]);
            assertEquals(0x7F80_0000_1000L, m.cpu.cr2);
            assertEquals(0x1000, m.cpu.r[Cpu.ECX]);
            assertEquals(0, m.cpu.r[Cpu.EDX], "not present, read, supervisor");
            assertEquals(CODE + 3 + 3 + 10 + 3, m.memory.readLong(0x7000 - 40), "the faulting MOV (above the error code)");
        }
    }
}
