package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.LongModeTest.enterCompat;
import static io.p2vkit.hv.emu.ModeTransitionTest.asm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

/**
 * System instructions in 64-bit mode as a kernel's early code uses them: LGDT/SGDT/LIDT with
 * 8-byte bases, a null SS, LLDT/LTR with 16-byte descriptors, far RET and far JMP between 64-bit
 * and compatibility code, moffs MOV with a 64-bit offset, IN/OUT.
 */
class System64Test {

    static FlatMachine longMachine() {
        FlatMachine m = LongModeTest.machine();
        m.memory.writeLong(0x1000, 0);
        m.memory.writeLong(0x1008, 0x00CF_9A00_0000_FFFFL);  // 32-bit code
        m.memory.writeLong(0x1010, 0x00CF_9200_0000_FFFFL);  // data
        m.memory.writeLong(0x1018, 0x00AF_9A00_0000_FFFFL);  // 64-bit code
        m.memory.writeLong(0x1020, 0x0000_8200_5000_00FFL);  // LDT at 0x1_0000_5000 (upper half next)
        m.memory.writeLong(0x1028, 0x0000_0000_0000_0001L);
        m.memory.writeLong(0x1030, 0x0000_8900_6000_0067L);  // 64-bit TSS at 0x6000
        m.memory.writeLong(0x1038, 0);
        enterCompat(m);
        m.cpu.gdtBase = 0x1000;
        m.cpu.gdtLimit = 0x3F;
        m.load(0x6800, asm("ea 00 70 00 00 18 00"));     // jmp 0x18:0x7000
        m.cpu.eip = 0x6800;
        m.cpu.r[Cpu.ESP] = 0x5000;
        return m;
    }

    @Test
    void descriptorTablesNullSsAndFarReturnToCompatibilityMode() {
        try (FlatMachine m = longMachine()) {
            m.memory.writeShort(0x2000, (short) 0x3F);
            m.memory.writeLong(0x2002, 0x1000);
            m.memory.writeShort(0x2100, (short) 0xFFF);
            m.memory.writeLong(0x2102, 0xFFFF_FFFF_8000_0000L);
            m.load(0x7000, asm(
                    "0f 01 14 25 00 20 00 00",   // lgdt [0x2000]
                    "0f 01 1c 25 00 21 00 00",   // lidt [0x2100]
                    "0f 01 04 25 10 20 00 00",   // sgdt [0x2010]
                    "0f 01 0c 25 20 20 00 00",   // sidt [0x2020]
                    "31 c0",                     // xor eax, eax
                    "8e d0",                     // mov ss, eax (null SS: allowed at CPL 0)
                    "66 b8 20 00",               // mov ax, 0x20
                    "0f 00 d0",                  // lldt ax (16-byte LDT descriptor)
                    "66 b8 30 00",               // mov ax, 0x30
                    "0f 00 d8",                  // ltr ax
                    "48 a1 00 20 00 00 00 00 00 00", // mov rax, [qword 0x2000] (moffs)
                    "6a 08",                     // push 8
                    "68 00 71 00 00",            // push 0x7100
                    "48 cb"));                   // retfq to 32-bit code
            m.load(0x7100, asm("f4"));           // hlt
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(0x3F, m.memory.readShort(0x2010));
            assertEquals(0x1000, m.memory.readLong(0x2012));
            assertEquals(0xFFFF_FFFF_8000_0000L, m.cpu.idtBase);
            assertEquals(0xFFFF_FFFF_8000_0000L, m.memory.readLong(0x2022), "SIDT stores 8 bytes");
            assertEquals(0, m.cpu.segSel[Cpu.SS]);
            assertEquals(0x1_0000_5000L, m.cpu.ldtBase);
            assertEquals(0x6000, m.cpu.trBase64);
            assertEquals(0x8B, m.memory.readLong(0x1030) >>> 40 & 0xFF, "TSS marked busy");
            assertEquals(0x1000_003FL, m.cpu.r[Cpu.EAX]);
            assertFalse(m.cpu.mode64, "RETF to a 32-bit code segment leaves 64-bit mode");
            assertEquals(0x7101, m.cpu.eip);
            assertEquals(8, m.cpu.segSel[Cpu.CS]);
        }
    }

    @Test
    void farJumpThroughMemoryAndBack() {
        try (FlatMachine m = longMachine()) {
            m.memory.writeInt(0x3000, 0x7200);            // m16:32 -> 0x08:0x7200 (compatibility)
            m.memory.writeShort(0x3004, (short) 0x08);
            m.memory.writeLong(0x3010, 0x7300);           // m16:64 -> 0x18:0x7300 (REX.W form)
            m.memory.writeShort(0x3018, (short) 0x18);
            m.load(0x7000, asm("ff 2c 25 00 30 00 00"));  // jmp far [0x3000]
            m.load(0x7200, asm("ea 00 74 00 00 18 00"));  // (32-bit) jmp 0x18:0x7400
            m.load(0x7400, asm("48 ff 1c 25 10 30 00 00")); // call far qword [0x3010]
            m.load(0x7300, asm("e4 71", "f4"));           // in al, 0x71; hlt
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertTrue(m.cpu.mode64);
            assertEquals(0x7303, m.cpu.rip);
            assertEquals(0x18, m.memory.readLong(0x5000 - 8), "CALL FAR pushed CS...");
            assertEquals(0x7408, m.memory.readLong(0x5000 - 16), "...and the return RIP");
        }
    }
}
