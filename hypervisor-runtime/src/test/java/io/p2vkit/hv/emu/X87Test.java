package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.ModeTransitionTest.asm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

/**
 * x87 instructions end to end: real-mode environment layouts, the pending-exception model
 * (#MF through the IVT), #NM, stack faults, unmasked overflow, and 64-bit mode addressing.
 */
class X87Test {

    private static FlatMachine realMode(String... code) {
        FlatMachine m = new FlatMachine(new long[] {0, 0x10000});
        m.load(0x1000, asm(code));
        m.real(0, 0x1000, 0);
        return m;
    }

    private static void runTo(FlatMachine m, int eip) {
        for (int i = 0; m.cpu.eip != eip; i++) {
            Vcpu.Stop stop = m.vcpu.run(1);
            if (stop != Vcpu.Stop.REQUESTED || i > 200) {
                throw new AssertionError(stop + " " + m.vcpu.stopReason());
            }
        }
    }

    private static int word(FlatMachine m, int at) {
        return m.memory.readInt(at) & 0xFFFF;
    }

    @Test
    void realModeEnvironmentHoldsLinearPointersAndTheOpcode() {
        try (FlatMachine m = realMode(
                "db e3",            // fninit
                "d9 e8",            // fld1
                "dd 06 00 06",      // fld qword [0x600]  (FOP 0x506, FDP 0x600)
                "d9 36 00 07")) {   // fnstenv [0x700] (14-byte real-mode layout)
            m.memory.writeLong(0x600, Double.doubleToRawLongBits(2.5));
            runTo(m, 0x100C);
            assertEquals(0x037F, word(m, 0x700));
            assertEquals(0x3000, word(m, 0x702), "TOP = 6");
            assertEquals(0x0FFF, word(m, 0x704), "ST0 and ST1 valid, the rest empty");
            assertEquals(0x1004, word(m, 0x706), "FIP: the linear address of the FLD");
            assertEquals(0x0506, word(m, 0x708), "FIP bits 19-16 (0) and FOP (DD 06 → 0x506)");
            assertEquals(0x0600, word(m, 0x70A));
            assertEquals(0x0000, word(m, 0x70C));
            assertEquals(0x037F | 0x3F, m.cpu.fpu.control, "FNSTENV masks all exceptions");
        }
    }

    @Test
    void fnsaveAndFrstorRoundTripAndFnsaveReinitializes() {
        try (FlatMachine m = realMode(
                "db e3", "d9 eb", "d9 e8", "de c9",    // fninit; fldpi; fld1; fmulp
                "dd 36 00 08",                         // fnsave [0x800] (94 bytes)
                "dd 26 00 08",                         // frstor [0x800]
                "dd 36 00 09")) {                      // fnsave [0x900]
            runTo(m, 0x1014);
            assertEquals(0x4000, word(m, 0x800 + 14 + 8), "ST0 = pi: exponent");
            assertEquals(0xC90FDAA22168C235L, m.memory.readLong(0x800 + 14));
            for (int i = 0; i < 94; i++) {
                assertEquals(m.memory.readByte(0x800 + i), m.memory.readByte(0x900 + i), "byte " + i);
            }
            assertEquals(0x037F, m.cpu.fpu.control);
            assertEquals(0xFFFF, m.cpu.fpu.tag);
        }
    }

    @Test
    void unmaskedZeroDivideIsPendingUntilTheNextWaitingInstruction() {
        try (FlatMachine m = realMode(
                "db e3",            // fninit
                "d9 2e 00 06",      // fldcw [0x600]: ZE unmasked
                "d9 e8", "d9 ee",   // fld1; fldz
                "de f9",            // fdivp: 1/0, unmasked #Z: nothing written, no pop
                "df e0",            // fnstsw ax (no wait: no #MF)
                "9b")) {            // fwait: #MF
            m.memory.writeShort(0x600, (short) 0x037B);
            m.memory.writeInt(16 * 4, 0x0000_0500); // IVT[16] = 0000:0500
            m.memory.writeByte(0x500, (byte) 0xF4);
            m.cpu.mmu.cr0 |= Cpu.CR0_NE;
            runTo(m, 0x100E);
            X87State s = m.cpu.fpu;
            assertEquals(Float80.ZE | X87Registers.SW_ES | X87Registers.SW_B, m.cpu.r32(Cpu.EAX) & 0x80FF);
            assertEquals(6, s.top(), "no pop");
            assertEquals(0, s.signExponent[X87Registers.phys(s, 0)], "ST0 still +0");
            m.vcpu.run(2);
            assertEquals(0x501, m.cpu.eip, "#MF delivered through IVT[16]");
        }
    }

    @Test
    void unmaskingAFlaggedExceptionWithFldcwMakesItPending() {
        try (FlatMachine m = realMode(
                "db e3", "d9 e8", "d9 ee", "de f9",   // fninit; 1/0 masked: +inf, ZE flagged
                "d9 2e 00 06",                         // fldcw [0x600]: ZE unmasked
                "9b")) {                               // fwait: #MF
            m.memory.writeShort(0x600, (short) 0x037B);
            m.memory.writeInt(16 * 4, 0x0000_0500);
            m.memory.writeByte(0x500, (byte) 0xF4);
            m.cpu.mmu.cr0 |= Cpu.CR0_NE;
            runTo(m, 0x100C);
            assertEquals(0x7FFF, X87Registers.se(m.cpu.fpu, 0), "the masked response: +inf");
            assertNotEquals(0, m.cpu.fpu.status & X87Registers.SW_ES);
            m.vcpu.run(2);
            assertEquals(0x501, m.cpu.eip, "#MF");
        }
    }

    @Test
    void withCr0NeClearAPendingExceptionIsIgnored() {
        try (FlatMachine m = realMode("db e3", "d9 2e 00 06", "d9 e8", "d9 ee", "de f9", "9b", "d9 e8")) {
            m.memory.writeShort(0x600, (short) 0x037B);
            runTo(m, 0x100F);
            assertEquals(5, m.cpu.fpu.top(), "FWAIT ran, then FLD1 pushed");
        }
    }

    @Test
    void emulationAndTaskSwitchedRaiseNm() {
        try (FlatMachine m = realMode("d9 e8")) {
            m.memory.writeInt(7 * 4, 0x0000_0500);
            m.memory.writeByte(0x500, (byte) 0xF4);
            m.cpu.mmu.cr0 |= Cpu.CR0_TS;
            m.vcpu.run(2);
            assertEquals(0x501, m.cpu.eip);
            assertEquals(0xFFFF, m.cpu.fpu.tag, "nothing pushed");
        }
    }

    @Test
    void stackOverflowPushesTheIndefiniteAndSetsC1() {
        String[] code = new String[10];
        code[0] = "db e3";
        for (int i = 1; i < 10; i++) {
            code[i] = "d9 e8"; // nine FLD1: the ninth overflows
        }
        try (FlatMachine m = realMode(code)) {
            runTo(m, 0x1000 + 20);
            X87State s = m.cpu.fpu;
            int sw = s.status;
            assertEquals(Float80.IE | X87Registers.SW_SF, sw & 0x7F);
            assertTrue((sw & X87Registers.SW_C1) != 0);
            assertEquals(Float80.INDEFINITE_SE, X87Registers.se(s, 0));
            assertEquals(Float80.INDEFINITE_SIG, X87Registers.sig(s, 0));
        }
    }

    @Test
    void unmaskedOverflowDeliversABiasAdjustedResult() {
        try (FlatMachine m = realMode("db e3", "d9 2e 00 06", "db 2e 10 06", "d8 c8")) { // fld tword; fmul st0,st0
            m.memory.writeShort(0x600, (short) 0x0377); // OE unmasked
            m.memory.writeLong(0x610, 0x8000_0000_0000_0000L);
            m.memory.writeShort(0x618, (short) 0x7000); // 2^(0x7000-16383)
            runTo(m, 0x100C);
            X87State s = m.cpu.fpu;
            assertEquals(0x7000 * 2 - 0x3FFF - 0x6000, X87Registers.se(s, 0));
            assertEquals(Float80.OE, s.status & 0x3F);
            assertNotEquals(0, s.status & X87Registers.SW_ES);
        }
    }

    @Test
    void sixtyFourBitModeUsesRexAndRipRelativeOperands() {
        long code = NativeHarness64.CODE;
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            m.load(code, asm(
                    "db e3",                        // fninit
                    "41 dd 01",                     // fld qword [r9]
                    "dd 05 15 00 00 00",            // fld qword [rip+0x15]: code + 0x20, after the code
                    "de c1",                        // faddp
                    "db f0",                        // fcomi st0,st0 (equal: ZF)
                    "41 db 79 10",                  // fstp tword [r9+16]
                    "49 df 79 20",                  // fistp qword [r9+32] (stack empty: indefinite)
                    "df e0",                        // fnstsw ax
                    "90", "90", "90", "90", "90", "90"));
            m.memory.writeLong(code + 0x20, Double.doubleToRawLongBits(0.5));
            long data = RandomProgram.SCRATCH;
            m.memory.writeLong(data, Double.doubleToRawLongBits(1.25));
            m.cpu.r[9] = data;
            m.cpu.rip = code;
            m.cpu.eip = (int) code;
            for (int i = 0; i < 8; i++) {
                assertEquals(Vcpu.Stop.REQUESTED, m.vcpu.run(1), m.vcpu.stopReason());
            }
            assertEquals(0xE000_0000_0000_0000L, m.memory.readLong(data + 16), "1.75");
            assertEquals(0x3FFF, m.memory.readInt(data + 24) & 0xFFFF);
            assertTrue(m.cpu.flags.zf());
            assertEquals(Long.MIN_VALUE, m.memory.readLong(data + 32), "integer indefinite");
            assertEquals(Float80.IE | X87Registers.SW_SF, m.cpu.r[Cpu.EAX] & 0x7F);
            assertEquals(code + 19, m.cpu.fpu.instructionPointer, "FIP of the FISTP");
            assertEquals(data + 32, m.cpu.fpu.dataPointer);
        }
    }

    @Test
    void cpuidReportsTheFpu() {
        assertEquals(1, Cpuid.FEATURES & 1);
    }
}
