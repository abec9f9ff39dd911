package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.ModeTransitionTest.asm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.emu.decode.DecodedInsn;
import io.p2vkit.hv.emu.decode.Decoder;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;

/**
 * SSE instructions translated in place ({@link RegionSse}): a loop shaped like compiled C's
 * double and string code (with COMISD/UCOMISD flags read by SETcc, and BSF) gives the
 * interpreter's results compiled, every one of its instructions stays in the region without a
 * delegated handler, and faults raised from inside a compiled region (#GP for a misaligned
 * 16-byte operand, #NM once CR0.TS is set) stop at the same instruction with the same state as
 * in the interpreter.
 */
class RegionSseTest {

    private static final long CODE = NativeHarness64.CODE;
    private static final long DATA = NativeDifferential64Test.DATA;

    /** The loop body: scalar and packed doubles, a string-style compare and mask, a conversion, stores. */
    private static final byte[] BODY = asm(
            "89 c8",                        // L: mov eax, ecx
            "25 f0 01 00 00",               // and eax, 0x1f0
            "f2 0f 10 04 03",               // movsd xmm0, [rbx+rax]
            "66 0f 10 74 03 08",            // movupd xmm6, [rbx+rax+8]
            "66 0f 16 84 03 00 01 00 00",   // movhpd xmm0, [rbx+rax+0x100]
            "66 0f 59 c6",                  // mulpd xmm0, xmm6
            "f2 0f 58 c8",                  // addsd xmm1, xmm0
            "66 0f 15 c0",                  // unpckhpd xmm0, xmm0
            "f2 0f 58 c8",                  // addsd xmm1, xmm0
            "66 0f ef d0",                  // pxor xmm2, xmm0
            "66 0f 74 1c 03",               // pcmpeqb xmm3, [rbx+rax]
            "66 0f d7 d3",                  // pmovmskb edx, xmm3
            "44 0f bc e2",                  // bsf r12d, edx
            "49 01 d0",                     // add r8, rdx
            "f2 0f 2a e1",                  // cvtsi2sd xmm4, ecx
            "f2 0f 5e e1",                  // divsd xmm4, xmm1
            "0f 29 a4 03 00 04 00 00",      // movaps [rbx+rax+0x400], xmm4
            "f2 0f 11 8c 03 08 06 00 00",   // movsd [rbx+rax+0x608], xmm1
            "66 48 0f 7e ce",               // movq rsi, xmm1
            "49 31 f1",                     // xor r9, rsi
            "66 0f 2e cc",                  // ucomisd xmm1, xmm4
            "41 0f 97 c2",                  // seta r10b
            "66 0f 2f 0c 03",               // comisd xmm1, [rbx+rax]
            "41 0f 92 c3",                  // setb r11b
            "ff c9");                       // dec ecx

    private static byte[] loop(int n) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(asm("b9"));
        b.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(n).array()); // mov ecx, n
        b.writeBytes(BODY);
        b.write(0x75);
        b.write(-(BODY.length + 2));                                                            // jnz L
        b.write(0xF4);                                                                          // hlt
        return b.toByteArray();
    }

    private record Outcome(String stop, long[] regs, long[] xmm, int flags, int mxcsr, byte[] scratch, long retired,
            long regionRetired, int vector, long faultRip) {
    }

    private static FlatMachine machine(byte[] code, boolean regions) {
        FlatMachine m = NativeDifferential64Test.machine64();
        m.cpu.compileBlocks = regions;
        m.cpu.regionThreshold = RegionCompilerTest.THRESHOLD;
        m.load(CODE, code);
        ByteBuffer doubles = ByteBuffer.allocate(0x800).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < 0x100; k++) {
            doubles.putDouble(1.0 + k / 7.0);
        }
        m.memory.load(DATA, doubles.array());
        m.cpu.r[Cpu.EBX] = DATA;
        m.cpu.r[Cpu.ESP] = NativeDifferential64Test.STACK;
        m.cpu.xmm[2] = 0x1234_5678_9ABC_DEF0L;
        m.cpu.xmm[3] = 0x3FF0_0000_0000_0000L;
        m.cpu.rip = CODE;
        m.cpu.eip = (int) CODE;
        m.cpu.breakSlice = false;
        return m;
    }

    private static Outcome outcome(FlatMachine m, String stop, CpuFault f) {
        byte[] scratch = new byte[RandomProgram.SCRATCH_SIZE];
        m.memory.read(RandomProgram.SCRATCH, scratch, 0, scratch.length);
        return new Outcome(stop, m.cpu.r.clone(), m.cpu.xmm.clone(), m.cpu.eflags(), m.cpu.mxcsr, scratch,
                m.cpu.retired, m.cpu.regionRetired, f == null ? -1 : f.vector, f == null ? -1 : m.cpu.insnRip);
    }

    private static void assertSame(Outcome interpreted, Outcome compiled) {
        assertEquals(interpreted.stop(), compiled.stop(), "how it ended");
        assertEquals(interpreted.vector(), compiled.vector(), "the fault");
        assertEquals(interpreted.faultRip(), compiled.faultRip(), "the faulting instruction");
        assertArrayEquals(interpreted.regs(), compiled.regs(), "registers");
        assertArrayEquals(interpreted.xmm(), compiled.xmm(), "XMM registers");
        assertEquals(Integer.toHexString(interpreted.flags()), Integer.toHexString(compiled.flags()), "flags");
        assertEquals(interpreted.mxcsr(), compiled.mxcsr(), "MXCSR");
        assertArrayEquals(interpreted.scratch(), compiled.scratch(), "memory");
        assertEquals(interpreted.retired(), compiled.retired(), "retired instructions");
        assertEquals(0, interpreted.regionRetired());
        assertTrue(compiled.regionRetired() > compiled.retired() / 2, "regions ran: " + compiled.regionRetired());
    }

    @Test
    void aDoubleAndStringLoopRunsCompiledWithTheInterpretersResults() {
        Outcome[] o = toTheEnd(loop(5000), m -> { });
        assertSame(o[0], o[1]);
        assertEquals(2 + 26 * 5000L, o[1].retired());
    }

    @Test
    void sixteenByteOperandsAcrossAPageEndOrOutsideRamReadWhatTheInterpreterReads() {
        // 16-byte operands the TLB cannot serve in one piece, in a region: a MOVDQU 8 bytes
        // before a page end (its halves on two pages) and a PCMPEQB beyond RAM (the bus), among
        // operands it can serve, with stores into the bytes both sides of the page end each pass.
        byte[] code = asm(
                "b9 e8 03 00 00",                   // mov ecx, 1000
                "f3 0f 6f 83 f8 07 00 00",          // L: movdqu xmm0, [rbx+0x7f8] (DATA+0x7f8: a page end at +8)
                "66 0f fe c8",                      // paddd xmm1, xmm0
                "66 0f 74 93 00 08 00 00",          // pcmpeqb xmm2, [rbx+0x800]
                "66 0f d7 c2",                      // pmovmskb eax, xmm2
                "01 c2",                            // add edx, eax
                "66 0f 6f 9b f0 07 00 00",          // movdqa xmm3, [rbx+0x7f0]
                "66 0f fe cb",                      // paddd xmm1, xmm3
                "66 0f 74 a3 00 18 01 00",          // pcmpeqb xmm4, [rbx+0x11800] (past the end of RAM)
                "66 0f d7 c4",                      // pmovmskb eax, xmm4
                "01 c6",                            // add esi, eax
                "81 83 00 08 00 00 01 01 01 01",    // add dword [rbx+0x800], 0x01010101
                "83 83 fc 07 00 00 03",             // add dword [rbx+0x7fc], 3
                "ff c9",                            // dec ecx
                "75 b7",                            // jnz L
                "f4");                              // hlt
        Outcome[] o = toTheEnd(code, m -> { });
        assertSame(o[0], o[1]);
        assertEquals(2 + 14 * 1000L, o[1].retired());
    }

    @Test
    void theLoopRunsCompiledWithTheInterpretersResultsInEveryRoundingMode() {
        // Scalar arithmetic skips its error term only while MXCSR rounds to nearest with PE masked
        // and raised (FastFloat). The loop runs 200 passes (its region compiled), then MXCSR rounds
        // down, up or toward zero: the rest must still match the interpreter. (The host CPU judges
        // the rounding itself: NativeDifferential64Test fails when that shortcut ignores RC.)
        for (int mxcsr : new int[] {0x3FA0, 0x5FA0, 0x7FA0}) {
            Outcome[] o = toTheEnd(loop(3000), m -> {
                passes(m, 26, 5);
                m.cpu.mxcsr = mxcsr;
            });
            assertSame(o[0], o[1]);
        }
    }

    @Test
    void unmaskingPeMakesTheCompiledDivisionRaiseXm() {
        // 200 passes of a division loop under the usual MXCSR (its region compiled, PE raised),
        // then PE unmasked: the next inexact DIVSD raises #XM in the region as in the interpreter.
        byte[] code = asm(
                "b9 b8 0b 00 00",   // mov ecx, 3000
                "f2 0f 2a c1",      // L: cvtsi2sd xmm0, ecx
                "f2 0f 5e c5",      // divsd xmm0, xmm5 (3.0)
                "f2 0f 58 c8",      // addsd xmm1, xmm0
                "ff c9",            // dec ecx
                "75 f0",            // jnz L
                "f4");              // hlt
        Outcome[] o = toAFault(code, m -> {
            m.cpu.xmm[10] = Double.doubleToRawLongBits(3.0);
            passes(m, 5, 5);
            m.cpu.mxcsr = 0x0FA0;
        });
        assertEquals(CpuFault.XM, o[1].vector());
        assertEquals(CODE + 5 + 4, o[1].faultRip());
        assertArrayEquals(o[0].regs(), o[1].regs());
        assertArrayEquals(o[0].xmm(), o[1].xmm());
        assertEquals(o[0].mxcsr(), o[1].mxcsr());
        assertEquals(o[0].retired(), o[1].retired());
        assertTrue(o[1].regionRetired() > 0, "the region ran");
    }

    @Test
    void everyPackedOperationComputedInTheRegionMatchesTheInterpreter() {
        // Each operation a region computes lane by lane (PackedLanes.common's, and ANDPS..XORPS),
        // with a register and an aligned memory source, in a loop whose data changes every pass.
        int[] ops = {0xFC, 0xFD, 0xFE, 0xD4, 0xF8, 0xF9, 0xFA, 0xFB, 0xDB, 0xDF, 0xEB, 0xEF, 0x74, 0x75, 0x76, 0xDA, 0xDE};
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(asm("89 c8", "25 f0 01 00 00"));        // L: mov eax, ecx; and eax, 0x1f0
        for (int op : ops) {
            body.writeBytes(new byte[] {0x66, 0x0F, (byte) op, (byte) 0xCA});             // op xmm1, xmm2
            body.writeBytes(new byte[] {0x66, 0x0F, (byte) op, 0x0C, 0x03});              // op xmm1, [rbx+rax]
            body.writeBytes(asm("66 0f d4 d1", "66 0f fe d9"));                           // paddq xmm2, xmm1; paddd xmm3, xmm1
        }
        for (int op = 0x54; op <= 0x57; op++) {
            body.writeBytes(new byte[] {0x0F, (byte) op, (byte) 0xDA});                   // andps..xorps xmm3, xmm2
            body.writeBytes(new byte[] {0x66, 0x0F, (byte) op, 0x14, 0x03});              // andpd..xorpd xmm2, [rbx+rax]
        }
        body.writeBytes(asm("66 0f 7f 0c 03", "ff c9"));        // movdqa [rbx+rax], xmm1; dec ecx
        ByteArrayOutputStream code = new ByteArrayOutputStream();
        code.writeBytes(asm("b9 d0 07 00 00"));                 // mov ecx, 2000
        code.writeBytes(body.toByteArray());
        int back = -(body.size() + 6);
        code.writeBytes(new byte[] {0x0F, (byte) 0x85, (byte) back, (byte) (back >> 8), (byte) (back >> 16), (byte) (back >> 24)});
        code.write(0xF4);                                       // jnz L; hlt
        Outcome[] o = toTheEnd(code.toByteArray(), m -> {
            m.cpu.xmm[4] = 0x0102_0304_F1F2_F3F4L;
            m.cpu.xmm[5] = 0x8081_7F7E_0000_FFFFL;
        });
        assertSame(o[0], o[1]);
    }

    @Test
    void everySseInstructionOfTheLoopIsTranslatedInPlace() {
        int at = 0;
        while (at < BODY.length) {
            int from = at;
            DecodedInsn d = Decoder.decode64(k -> BODY[from + k] & 0xFF);
            assertTrue(RegionTraits.translatable(d), "translatable: " + d);
            assertFalse(RegionTraits.delegated(d), "not delegated: " + d);
            at += d.length;
        }
        assertFalse(RegionSse.inline(Decoder.decode64(k -> new int[] {0xF3, 0x0F, 0x28, 0xC1}[k])),
                "F3 0F 28 is #UD: the interpreter raises it");
        assertFalse(RegionSse.inline(Decoder.decode64(k -> new int[] {0x0F, 0xEF, 0xC1}[k])),
                "PXOR on MMX registers stays delegated");
    }

    /** Runs {@code code} interpreted (outcome 0) and with regions (1), each after {@code before}, until it halts. */
    private static Outcome[] toTheEnd(byte[] code, Consumer<FlatMachine> before) {
        Outcome[] o = new Outcome[2];
        for (int pass = 0; pass < 2; pass++) {
            try (FlatMachine m = machine(code, pass == 1)) {
                before.accept(m);
                Vcpu.Stop stop = m.vcpu.run(50_000_000);
                assertEquals(Vcpu.Stop.SHUTDOWN, stop, m.vcpu.stopReason());
                o[pass] = outcome(m, stop.toString(), null);
            }
        }
        return o;
    }

    /** The same until a fault escapes. */
    private static Outcome[] toAFault(byte[] code, Consumer<FlatMachine> before) {
        Outcome[] o = new Outcome[2];
        for (int pass = 0; pass < 2; pass++) {
            try (FlatMachine m = machine(code, pass == 1)) {
                before.accept(m);
                o[pass] = untilFault(m);
            }
        }
        return o;
    }

    /**
     * Runs the set-up instruction and then {@code slices} slices of 40 passes through a loop of
     * {@code length} instructions: every slice ends at the loop's head.
     */
    private static void passes(FlatMachine m, int length, int slices) {
        for (int slice = 0; slice < slices; slice++) {
            m.cpu.runSlice(slice == 0 ? 1 + length * 40 : length * 40);
            m.cpu.breakSlice = false;
        }
    }

    /** Runs slices until a fault escapes (failing after 10,000 slices without one); returns the state then. */
    private static Outcome untilFault(FlatMachine m) {
        CpuFault f = assertThrows(CpuFault.class, () -> {
            for (int s = 0; s < 10_000; s++) {
                m.cpu.runSlice(4096);
            }
        });
        return outcome(m, "fault", f);
    }

    @Test
    void aMisalignedOperandFaultsFromInsideARegionAtItsInstruction() {
        // The MOVAPS's address moves off 16-byte alignment after 1000 iterations, long after the
        // loop was compiled: #GP(0) at the MOVAPS, the ADDPD after it not run. (The ADC reads the
        // SHL's carry, so the flags at the fault are the SHL's in both runs.)
        byte[] code = asm(
                "31 c9",                    // xor ecx, ecx
                "ff c1",                    // L: inc ecx
                "81 f9 e8 03 00 00",        // cmp ecx, 1000
                "0f 93 c0",                 // setae al
                "0f b6 c0",                 // movzx eax, al
                "c1 e0 03",                 // shl eax, 3
                "0f 28 04 03",              // movaps xmm0, [rbx+rax]
                "66 0f 58 c8",              // addpd xmm1, xmm0
                "49 83 d0 00",              // adc r8, 0
                "eb e1");                   // jmp L
        Outcome[] o = toAFault(code, m -> { });
        assertSame(o[0], o[1]);
        assertEquals(CpuFault.GP, o[1].vector());
        assertEquals(CODE + 2 + 2 + 6 + 3 + 3 + 3, o[1].faultRip());
        assertEquals(1000, o[1].regs()[Cpu.ECX]);
    }

    @Test
    void settingCr0TsMakesTheCompiledSseInstructionsRaiseNm() {
        // Every slice ends at the loop's head (the MOV ECX, then 40 passes of 26 instructions; 40
        // passes each after that), where the compiled pass runs the loop's region: with CR0.TS set
        // it must not run (its SSE instructions make no check of their own), and the MOVSD raises
        // #NM as in the interpreter. Without the run loop's check the loop would run to its end.
        Outcome[] o = toAFault(loop(1_000_000), m -> {
            passes(m, 26, 20);
            assertEquals(CODE + 5, m.cpu.rip, "at the loop's head");
            m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_TS);
        });
        assertSame(o[0], o[1]);
        assertEquals(CpuFault.NM, o[1].vector());
        assertEquals(CODE + 5 + 2 + 5, o[1].faultRip());
    }
}
