package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The SSE fault rules (SDM Vol. 3 §13.1, Vol. 2 per instruction): CR0.EM and CR4.OSFXSR give
 * #UD, CR0.TS #NM (FXSAVE/FXRSTOR: EM or TS give #NM), misaligned 16-byte operands #GP(0),
 * reserved MXCSR bits #GP(0) from LDMXCSR and FXRSTOR, unmasked exceptions #XM with
 * CR4.OSXMMEXCPT and #UD without (leaving the destination unwritten); and SSE instructions in
 * 32-bit protected mode with memory operands.
 */
class SseFaultTest {

    static final int CODE = 0x1000;
    static final int DATA = 0x2000;

    private static FlatMachine machine() {
        FlatMachine m = new FlatMachine(new long[] {0, 0x100000});
        m.flat32();
        m.cpu.writeCr4(Sse.CR4_OSFXSR | Sse.CR4_OSXMMEXCPT);
        return m;
    }

    /** Runs one instruction at CODE; the fault it raised, or null. */
    private static CpuFault step(FlatMachine m, String hex) {
        return m.step(CODE, hex);
    }

    private static int vector(FlatMachine m, String hex) {
        return m.faultVector(CODE, hex);
    }

    private static final String ADDPS = "0f 58 c1";           // addps xmm0, xmm1
    private static final String PADDB_MM = "0f fc c1";        // paddb mm0, mm1
    private static final String FXSAVE = "0f ae 05 00 20 00 00"; // fxsave [0x2000]
    private static final String FXRSTOR = "0f ae 0d 00 20 00 00"; // fxrstor [0x2000]

    @Test
    void emulationBitAndOsfxsrGiveUndefinedOpcode() {
        try (FlatMachine m = machine()) {
            m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_EM);
            assertEquals(CpuFault.UD, vector(m, ADDPS));
            assertEquals(CpuFault.UD, vector(m, PADDB_MM), "MMX: EM is #UD too");
            assertEquals(CpuFault.NM, vector(m, FXSAVE), "FXSAVE: EM is #NM");
            m.cpu.writeCr0(m.cpu.cr0() & ~Cpu.CR0_EM);
            m.cpu.writeCr4(0);
            assertEquals(CpuFault.UD, vector(m, ADDPS), "SSE needs CR4.OSFXSR");
            assertEquals(CpuFault.UD, vector(m, "0f ae 15 00 20 00 00"), "LDMXCSR needs CR4.OSFXSR");
            assertNull(step(m, PADDB_MM), "MMX does not");
            assertNull(step(m, FXSAVE), "FXSAVE does not");
        }
    }

    @Test
    void taskSwitchedGivesDeviceNotAvailable() {
        try (FlatMachine m = machine()) {
            m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_TS);
            assertEquals(CpuFault.NM, vector(m, ADDPS));
            assertEquals(CpuFault.NM, vector(m, PADDB_MM));
            assertEquals(CpuFault.NM, vector(m, FXSAVE));
            assertEquals(CpuFault.NM, vector(m, FXRSTOR));
            assertNull(step(m, "0f ae f8"), "SFENCE touches no SIMD state");
        }
    }

    @Test
    void lockPrefixIsUndefined() {
        try (FlatMachine m = machine()) {
            assertEquals(CpuFault.UD, vector(m, "f0 0f 58 c1"));               // lock addps
            assertEquals(CpuFault.UD, vector(m, "f0 66 0f 7f 05 00 20 00 00")); // lock movdqa [m], xmm0
        }
    }

    @Test
    void misalignedSixteenByteOperandsGiveGeneralProtection() {
        try (FlatMachine m = machine()) {
            CpuFault f = step(m, "0f 28 05 08 20 00 00");        // movaps xmm0, [0x2008]
            assertNotNull(f);
            assertEquals(CpuFault.GP, f.vector);
            assertEquals(0, f.errorCode);
            assertEquals(CpuFault.GP, vector(m, "66 0f 7f 05 04 20 00 00")); // movdqa [0x2004], xmm0
            assertEquals(CpuFault.GP, vector(m, "0f 58 05 01 20 00 00"));    // addps xmm0, [0x2001]
            assertEquals(CpuFault.GP, vector(m, FXSAVE.replace("00 20", "08 20")));
            assertNull(step(m, "0f 10 05 08 20 00 00"), "movups takes any address");
            assertNull(step(m, "f3 0f 58 05 01 20 00 00"), "addss reads 4 bytes, no alignment");
            assertNull(step(m, "66 0f fc 05 00 20 00 00"), "paddb with an aligned operand");
        }
    }

    @Test
    void reservedMxcsrBitsGiveGeneralProtection() {
        try (FlatMachine m = machine()) {
            m.memory.writeInt(DATA, 0x1_1F80);
            assertEquals(CpuFault.GP, vector(m, "0f ae 15 00 20 00 00"));   // ldmxcsr [0x2000]
            assertEquals(0x1F80, m.cpu.mxcsr);
            m.memory.writeInt(DATA, 0x7F80 | Sse.MXCSR_DAZ);
            assertNull(step(m, "0f ae 15 00 20 00 00"));
            assertEquals(0x7F80 | Sse.MXCSR_DAZ, m.cpu.mxcsr, "DAZ is supported");
            assertNull(step(m, "0f ae 1d 10 20 00 00"));                    // stmxcsr [0x2010]
            assertEquals(0x7F80 | Sse.MXCSR_DAZ, m.memory.readInt(DATA + 0x10));

            assertNull(step(m, FXSAVE));
            m.memory.writeInt(DATA + 24, 0x8000_1F80);
            m.cpu.xmm[0] = 0x1234;
            assertEquals(CpuFault.GP, vector(m, FXRSTOR));
            assertEquals(0x1234, m.cpu.xmm[0], "a refused FXRSTOR changes nothing");
        }
    }

    @Test
    void unmaskedExceptionsRaiseSimdFaultOrUndefinedOpcode() {
        try (FlatMachine m = machine()) {
            m.cpu.xmm[0] = Float.floatToRawIntBits(1f);
            m.cpu.xmm[2] = 0; // +0.0f
            m.cpu.mxcsr = 0x1F80 & ~(SoftFloat.ZE << 7);
            assertEquals(CpuFault.XM, vector(m, "f3 0f 5e c2"));           // divss xmm0, xmm2
            assertEquals(Float.floatToRawIntBits(1f), m.cpu.xmm[0], "the destination is not written");
            assertEquals(SoftFloat.ZE, m.cpu.mxcsr & Sse.MXCSR_FLAGS, "the flag is set for the handler");
            m.cpu.writeCr4(Sse.CR4_OSFXSR);
            assertEquals(CpuFault.UD, vector(m, "f3 0f 5e c2"), "without OSXMMEXCPT: #UD");
            m.cpu.mxcsr = 0x1F80;
            assertNull(step(m, "f3 0f 5e c2"));
            assertEquals(0x7F80_0000L, m.cpu.xmm[0], "masked: +infinity");
            assertEquals(SoftFloat.ZE, m.cpu.mxcsr & Sse.MXCSR_FLAGS);
        }
    }

    @Test
    void protectedModeSequenceWithMemoryOperands() {
        try (FlatMachine m = machine()) {
            for (int i = 0; i < 4; i++) {
                m.memory.writeInt(DATA + 4 * i, Float.floatToRawIntBits(i + 1));        // 1 2 3 4
                m.memory.writeInt(DATA + 16 + 4 * i, Float.floatToRawIntBits(0.5f));
            }
            m.memory.writeLong(DATA + 32, Double.doubleToRawLongBits(-7.75));
            m.load(CODE, FlatMachine.hex(String.join(" ",
                    "0f 28 05 00 20 00 00",        // movaps xmm0, [0x2000]
                    "0f 59 05 10 20 00 00",        // mulps xmm0, [0x2010]
                    "0f 11 05 41 20 00 00",        // movups [0x2041], xmm0
                    "f2 0f 2c 05 20 20 00 00",     // cvttsd2si eax, [0x2020]
                    "f2 0f 2d 1d 20 20 00 00",     // cvtsd2si ebx, [0x2020]
                    "66 0f 6e c8",                 // movd xmm1, eax
                    "66 0f 7e 0d 60 20 00 00",     // movd [0x2060], xmm1
                    "f4")));
            m.cpu.eip = CODE;
            m.runUntilEip(CODE + 7 + 7 + 7 + 8 + 8 + 4 + 8, 20);
            assertEquals(Float.floatToRawIntBits(2f), m.memory.readInt(DATA + 0x41 + 12), "4 * 0.5");
            assertEquals(Float.floatToRawIntBits(0.5f), m.memory.readInt(DATA + 0x41));
            assertEquals(-7, m.cpu.r32(Cpu.EAX), "truncated");
            assertEquals(-8, m.cpu.r32(Cpu.EBX), "rounded to nearest");
            assertEquals(-7, m.memory.readInt(DATA + 0x60));
        }
    }

    @Test
    void fxsaveLayoutAndRoundTrip() {
        try (FlatMachine m = machine()) {
            X87State f = m.cpu.fpu;
            f.control = 0x27F;
            f.status = 3 << 11 | 0x20;                 // TOP = 3, PE
            f.tag = 0xFFFF & ~(3 << 6) & ~(3 << 8) & ~(3 << 10) | (1 << 8) | (2 << 10); // R3 valid, R4 zero, R5 special
            f.significand[3] = 0x8000_0000_0000_0000L; // 1.0
            f.signExponent[3] = 0x3FFF;
            f.significand[4] = 0;
            f.signExponent[4] = 0x8000;                // -0
            f.significand[5] = 0xC000_0000_0000_0000L; // a QNaN
            f.signExponent[5] = 0x7FFF;
            f.opcode = 0x5A5;
            f.instructionPointer = 0x1234_5678L;
            f.dataPointer = 0x0BAD_F00DL;
            m.cpu.mxcsr = 0x3F80 | SoftFloat.PE;
            for (int i = 0; i < 16; i++) {
                m.cpu.xmm[i] = 0x0101_0101_0101_0101L * (i + 1);
            }
            assertNull(step(m, FXSAVE));
            assertEquals(0x27F, m.memory.readInt(DATA) & 0xFFFF, "FCW");
            assertEquals(f.status, m.memory.readInt(DATA + 2) & 0xFFFF, "FSW");
            assertEquals(0b0011_1000, m.memory.readInt(DATA + 4) & 0xFF, "abridged FTW: R3, R4, R5 in use");
            assertEquals(0x5A5, m.memory.readInt(DATA + 6) & 0xFFFF, "FOP");
            assertEquals(0x1234_5678, m.memory.readInt(DATA + 8), "FIP");
            assertEquals(0x0BAD_F00D, m.memory.readInt(DATA + 16), "FDP");
            assertEquals(0x3F80 | SoftFloat.PE, m.memory.readInt(DATA + 24), "MXCSR");
            assertEquals(Sse.MXCSR_MASK, m.memory.readInt(DATA + 28), "MXCSR_MASK");
            assertEquals(0x8000_0000_0000_0000L, m.memory.readLong(DATA + 32), "ST0 is R3 (TOP = 3)");
            assertEquals(0x3FFF, m.memory.readInt(DATA + 40) & 0xFFFF);
            assertEquals(0x8000, m.memory.readInt(DATA + 56) & 0xFFFF, "ST1 is R4");
            assertEquals(0x0101_0101_0101_0101L, m.memory.readLong(DATA + 160), "XMM0 low");
            assertEquals(0x0808_0808_0808_0808L * 2, m.memory.readLong(DATA + 160 + 7 * 16 + 8), "XMM7 high");
            assertEquals(0, m.memory.readLong(DATA + 160 + 8 * 16), "32-bit mode: XMM8 is not saved");

            long[] xmmBefore = m.cpu.xmm.clone();
            long[] sigBefore = f.significand.clone();
            int tagBefore = f.tag;
            m.cpu.fpu.reset();
            java.util.Arrays.fill(m.cpu.xmm, 0);
            m.cpu.mxcsr = 0x1F80;
            assertNull(step(m, FXRSTOR));
            assertEquals(0x27F, f.control);
            assertEquals(3 << 11 | 0x20, f.status);
            assertEquals(tagBefore, f.tag, "the full tag word is rebuilt from the contents");
            assertArrayEquals(sigBefore, f.significand);
            assertEquals(0x7FFF, f.signExponent[5]);
            assertEquals(0x5A5, f.opcode);
            assertEquals(0x3F80 | SoftFloat.PE, m.cpu.mxcsr);
            for (int i = 0; i < 16; i++) {
                assertEquals(xmmBefore[i], m.cpu.xmm[i], "XMM half " + i);
            }
        }
    }

    @Test
    void fxsaveWithRexWIn64BitModeSavesSixteenRegistersAndWidePointers() {
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            Cpu c = m.cpu;
            c.fpu.instructionPointer = 0x7FFF_1234_5678_9ABCL;
            for (int i = 0; i < 32; i++) {
                c.xmm[i] = 0x1111_1111_1111_1111L * (i % 15 + 1);
            }
            long area = RandomProgram.SCRATCH + 0x1000;
            c.r[Cpu.EBX] = area;
            m.load(NativeHarness64.CODE, FlatMachine.hex("48 0f ae 03 0f ae 03"));   // fxsave64 [rbx]; fxsave [rbx]
            c.rip = NativeHarness64.CODE;
            c.eip = NativeHarness64.CODE;
            c.runSlice(1);
            assertEquals(0x7FFF_1234_5678_9ABCL, m.memory.readLong(area + 8), "64-bit FIP");
            assertEquals(c.xmm[31], m.memory.readLong(area + 160 + 15 * 16 + 8), "XMM15 high");
            c.runSlice(1);
            assertEquals(0x5678_9ABCL, m.memory.readLong(area + 8), "without REX.W: 32-bit FIP, zero FCS");
        }
    }

    @Test
    void mmxRegistersAliasTheX87File() {
        try (FlatMachine m = machine()) {
            X87State f = m.cpu.fpu;
            f.status = 5 << 11;                        // TOP = 5
            f.tag = 0xFFFF;
            f.significand[1] = 0x0102_0304_0506_0708L;
            f.significand[0] = 0x1010_1010_1010_1010L;
            assertNull(step(m, PADDB_MM));             // paddb mm0, mm1
            assertEquals(0x1112_1314_1516_1718L, f.significand[0]);
            assertEquals(0xFFFF, f.signExponent[0], "a written MMX register's exponent is all ones");
            assertEquals(0, f.top(), "MMX sets TOP to 0");
            assertEquals(0, f.tag, "and tags every register valid");
            assertNull(step(m, "0f 77"));              // emms
            assertEquals(0xFFFF, f.tag, "EMMS empties the tags");
            f.status |= 0x80;                          // an unmasked x87 exception is pending (ES)
            assertEquals(CpuFault.MF, vector(m, PADDB_MM));
        }
    }

    @Test
    void cpuidClaimsMmxFxsrSseSse2() {
        int edx = Cpuid.FEATURES;
        assertTrue((edx & 1 << 23) != 0 && (edx & 1 << 24) != 0 && (edx & 1 << 25) != 0 && (edx & 1 << 26) != 0);
    }
}
