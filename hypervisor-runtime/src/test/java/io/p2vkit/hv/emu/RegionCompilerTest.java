package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.ModeTransitionTest.asm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.emu.decode.Decoder;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.HexFormat;

/**
 * Compiled blocks must be invisible: the same 64-bit programs run with and without them end in
 * the same registers, flags, memory and retired count, including code that rewrites itself
 * inside a block and a page fault raised from inside one. The speed of both is printed.
 */
class RegionCompilerTest {

    private static final long CODE = NativeHarness64.CODE;
    /** A low compile threshold, so that short test loops run mostly as regions. */
    static final int THRESHOLD = 50;

    /** A loop of ALU, memory, shift, flag and conditional-move work, {@code n} iterations. */
    static byte[] mixedLoop(int n) {
        byte[] body = asm(
                "48 89 c8",                 // L: mov rax, rcx
                "48 69 c0 b1 79 37 1e",     // imul rax, rax, 0x1e3779b1
                "48 31 c2",                 // xor rdx, rax
                "48 c1 c2 07",              // rol rdx, 7
                "48 89 ce",                 // mov rsi, rcx
                "81 e6 ff 01 00 00",        // and esi, 0x1ff
                "48 01 14 f3",              // add [rbx+rsi*8], rdx
                "49 11 d0",                 // adc r8, rdx
                "49 0f a4 d1 03",           // shld r9, rdx, 3
                "4c 39 c2",                 // cmp rdx, r8
                "4c 0f 42 d2",              // cmovb r10, rdx
                "0f 92 c0",                 // setb al
                "4c 01 c0",                 // add rax, r8
                "48 ff c9");                // dec rcx
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(asm("b9 " + HexFormat.ofDelimiter(" ").formatHex(new byte[] {
            (byte) n, (byte) (n >> 8), (byte) (n >> 16), (byte) (n >> 24)})));  // mov ecx, n
        b.writeBytes(body);
        b.write(0x75);
        b.write(-(body.length + 2));                                             // jnz L
        b.write(0xF4);                                                           // hlt
        return b.toByteArray();
    }

    private record Outcome(long[] regs, int flags, byte[] scratch, long retired, double seconds) {
    }

    /** A 64-bit machine with {@code code} at CODE, RBX and RBP at DATA, a stack, regions on or off, then {@code setup}. */
    private static FlatMachine loaded(byte[] code, boolean blocks, java.util.function.Consumer<FlatMachine> setup) {
        FlatMachine m = NativeDifferential64Test.loaded64(code, blocks, THRESHOLD);
        setup.accept(m);
        return m;
    }

    /**
     * A loop whose {@code access} (a memory operand at RBX+RAX or RSP/RBP+RAX) turns
     * non-canonical on iteration 1,000, at CODE + 21, after SHL set the flags the fault must show.
     */
    private static byte[] loopFaultingOnIteration1000(String access) {
        return asm(
                "31 c9",                    // xor ecx, ecx
                "ff c1",                    // L: inc ecx
                "81 f9 e8 03 00 00",        // cmp ecx, 1000
                "0f 93 c0",                 // setae al
                "48 0f b6 c0",              // movzx rax, al
                "48 c1 e0 3f",              // shl rax, 63
                access,
                "eb " + HexFormat.of().toHexDigits((byte) -(19 + asm(access).length + 2))); // jmp L
    }

    private static Outcome run(byte[] code, boolean blocks, java.util.function.Consumer<FlatMachine> setup) {
        try (FlatMachine m = loaded(code, blocks, setup)) {
            long t0 = System.nanoTime();
            Vcpu.Stop stop = m.vcpu.run(Long.MAX_VALUE);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals(Vcpu.Stop.SHUTDOWN, stop, m.vcpu.stopReason());
            byte[] scratch = new byte[RandomProgram.SCRATCH_SIZE];
            m.memory.read(RandomProgram.SCRATCH, scratch, 0, scratch.length);
            return new Outcome(m.cpu.r.clone(), m.cpu.eflags(), scratch, m.cpu.retired, seconds);
        }
    }

    private static void assertSame(Outcome interpreted, Outcome compiled) {
        assertArrayEquals(interpreted.regs(), compiled.regs(), "registers");
        assertEquals(interpreted.flags(), compiled.flags(), "flags");
        assertArrayEquals(interpreted.scratch(), compiled.scratch(), "memory");
        assertEquals(interpreted.retired(), compiled.retired(), "retired instructions");
    }

    /** A callee F that folds the six arithmetic flags it is called with into R10 (RSI clobbered). */
    private static final byte[] SUM_FLAGS = asm(
            "9c",                           // F: pushfq
            "5e",                           // pop rsi
            "81 e6 d5 08 00 00",            // and esi, 0x8d5 (CF PF AF ZF SF OF)
            "49 01 f2",                     // add r10, rsi
            "49 c1 c2 05",                  // rol r10, 5
            "c3");                          // ret

    /**
     * {@code mov ecx, n; L: body; jnz L; hlt}, then {@code callee}: each {@code call rel32} of
     * {@code body} written as E8 00 00 00 00 is aimed at the callee.
     */
    private static byte[] countedLoop(int n, byte[] body, byte[] callee) {
        byte[] head = asm("b9 " + HexFormat.ofDelimiter(" ").formatHex(intLe(n))); // mov ecx, n
        int bodyAt = head.length;
        int calleeAt = bodyAt + body.length + 6 + 1; // after JNZ and HLT
        byte[] patched = body.clone();
        for (int k = 0; k + 5 <= patched.length; k++) {
            if (patched[k] == (byte) 0xE8 && patched[k + 1] == 0 && patched[k + 2] == 0 && patched[k + 3] == 0
                    && patched[k + 4] == 0) {
                System.arraycopy(intLe(calleeAt - (bodyAt + k + 5)), 0, patched, k + 1, 4);
            }
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(head);
        b.writeBytes(patched);
        b.writeBytes(asm("0f 85 " + HexFormat.ofDelimiter(" ").formatHex(intLe(-(body.length + 6))))); // jnz L
        b.write(0xF4);
        b.writeBytes(callee);
        return b.toByteArray();
    }

    @Test
    void hotLoopRunsCompiledWithTheInterpretersResults() {
        int n = Integer.getInteger("emu.blocks.iterations", 300_000);
        byte[] code = mixedLoop(n);
        Outcome interpreted = run(code, false, m -> { });
        Outcome compiled = run(code, true, m -> { });
        assertSame(interpreted, compiled);
        assertEquals(2 + 15L * n, compiled.retired());
        System.out.printf("mixed 64-bit loop: interpreted %.1f M instructions/s, compiled %.1f M instructions/s%n",
                interpreted.retired() / interpreted.seconds() / 1e6, compiled.retired() / compiled.seconds() / 1e6);
    }

    @Test
    void oneOperandMultipliesAndDividesRunCompiledWithTheInterpretersResults() {
        // MUL/IMUL r/m64 and r/m32 with products that do and do not need the high half (CF and
        // OF counted by SETO/SETB into R10 and R11), DIV with RDX/EDX cleared; RAX and RDX summed.
        byte[] body = asm(
                "48 89 c8",                 // L: mov rax, rcx
                "48 c1 e0 28",              // shl rax, 40
                "48 09 c8",                 // or rax, rcx
                "48 89 ce",                 // mov rsi, rcx
                "48 c1 e6 15",              // shl rsi, 21
                "48 83 ce 03",              // or rsi, 3
                "48 f7 ee",                 // imul rsi
                "41 0f 90 c0",              // seto r8b
                "41 0f 92 c1",              // setb r9b
                "4d 01 c2",                 // add r10, r8
                "4d 01 cb",                 // add r11, r9
                "49 01 c4",                 // add r12, rax
                "49 01 d5",                 // add r13, rdx
                "48 f7 e6",                 // mul rsi
                "41 0f 92 c0",              // setb r8b
                "4d 01 c2",                 // add r10, r8
                "49 01 c4",                 // add r12, rax
                "49 01 d5",                 // add r13, rdx
                "89 c8",                    // mov eax, ecx
                "69 c0 b1 79 37 9e",        // imul eax, eax, 0x9e3779b1
                "f7 ee",                    // imul esi
                "41 0f 90 c0",              // seto r8b
                "4d 01 c3",                 // add r11, r8
                "49 01 c4",                 // add r12, rax
                "49 01 d5",                 // add r13, rdx
                "f7 e6",                    // mul esi
                "41 0f 92 c0",              // setb r8b
                "4d 01 c2",                 // add r10, r8
                "49 01 c4",                 // add r12, rax
                "49 01 d5",                 // add r13, rdx
                "31 d2",                    // xor edx, edx
                "48 f7 f6",                 // div rsi
                "49 01 c4",                 // add r12, rax
                "49 01 d5",                 // add r13, rdx
                "31 d2",                    // xor edx, edx
                "89 c8",                    // mov eax, ecx
                "f7 f6",                    // div esi
                "49 01 c4",                 // add r12, rax
                "49 01 d5",                 // add r13, rdx
                "48 ff c9");                // dec rcx
        int n = 3000;
        byte[] code = countedLoop(n, body, new byte[0]);
        Outcome interpreted = run(code, false, m -> { });
        Outcome compiled = run(code, true, m -> { });
        assertSame(interpreted, compiled);
        long overflows = compiled.regs()[10] + compiled.regs()[11];
        assertTrue(overflows > n && overflows < 5L * n, "some products overflow, some do not: " + overflows);
    }

    @Test
    void imulFlagsLeavingARegionByACallAreTheInterpreters() {
        // Each IMUL's flags are still pending when the CALL leaves the region; the callee counts
        // OF and CF by SETO/SETB into R10 and R11, for 16-, 32- and 64-bit products that do and
        // do not overflow (RCX runs from n down to 1).
        byte[] count = asm(
                "41 0f 90 c0",              // F: seto r8b
                "41 0f 92 c1",              // setb r9b
                "4d 01 c2",                 // add r10, r8
                "4d 01 cb",                 // add r11, r9
                "c3");                      // ret
        byte[] body = asm(
                "89 c8",                    // L: mov eax, ecx
                "66 69 c0 b1 79",           // imul ax, ax, 0x79b1
                "e8 00 00 00 00",           // call F
                "89 c8",                    // mov eax, ecx
                "69 c0 b1 79 37 00",        // imul eax, eax, 0x3779b1
                "e8 00 00 00 00",           // call F
                "48 89 c8",                 // mov rax, rcx
                "48 c1 e0 2a",              // shl rax, 42
                "48 0f af c1",              // imul rax, rcx
                "e8 00 00 00 00",           // call F
                "48 ff c9");                // dec rcx
        int n = 3000;
        byte[] code = countedLoop(n, body, count);
        Outcome interpreted = run(code, false, m -> { });
        Outcome compiled = run(code, true, m -> { });
        assertSame(interpreted, compiled);
        long overflows = interpreted.regs()[10];
        assertEquals(overflows, interpreted.regs()[11], "IMUL sets CF and OF together");
        assertTrue(overflows > n && overflows < 3L * n, "some products overflow, some do not: " + overflows);
    }

    @Test
    void carriesTestedInARegionOrLeftPendingAreTheInterpreters() {
        // ADD, ADC and SBB of 8, 4 and 1 bytes whose CF the next instruction reads from the
        // region's locals (ADC/SBB chains, SETB, JAE, CMOVB), with carries in of 0 and 1, also
        // where only the carry in decides CF; at each CALL an ADC or SBB's flags are still
        // pending, and the callee sums all six into R10.
        byte[] body = asm(
                "48 89 c8",                 // L: mov rax, rcx
                "48 ba 15 7c 4a 7f b9 79 37 9e", // mov rdx, 0x9e3779b97f4a7c15
                "48 0f af c2",              // imul rax, rdx
                "48 89 c2",                 // mov rdx, rax
                "48 c1 e2 03",              // shl rdx, 3
                "48 01 d0",                 // add rax, rdx
                "49 83 d0 00",              // adc r8, 0
                "48 11 d0",                 // adc rax, rdx
                "0f 92 c3",                 // setb bl
                "49 01 db",                 // add r11, rbx
                "11 d0",                    // adc eax, edx
                "73 03",                    // jae M
                "49 ff c4",                 // inc r12
                "10 d0",                    // M: adc al, dl
                "4c 0f 42 e9",              // cmovb r13, rcx
                "48 19 c2",                 // sbb rdx, rax
                "41 83 d9 07",              // sbb r9d, 7
                "e8 00 00 00 00",           // call F
                "01 c2",                    // add edx, eax
                "80 da 5a",                 // sbb dl, 0x5a
                "e8 00 00 00 00",           // call F
                "48 39 d0",                 // cmp rax, rdx
                "4d 19 f6",                 // sbb r14, r14
                "e8 00 00 00 00",           // call F
                "48 39 d0",                 // cmp rax, rdx
                "4d 19 f6",                 // sbb r14, r14 (equal operands: CF is the carry in)
                "49 83 d7 ff",              // adc r15, -1 (all ones: CF is the carry in too)
                "0f 92 c3",                 // setb bl
                "49 01 db",                 // add r11, rbx
                "48 ff c9");                // dec rcx
        int n = 3000;
        byte[] code = countedLoop(n, body, SUM_FLAGS);
        Outcome interpreted = run(code, false, m -> { });
        Outcome compiled = run(code, true, m -> { });
        assertSame(interpreted, compiled);
        long carries = interpreted.regs()[8];
        assertTrue(carries > n / 4 && carries < 3L * n / 4, "the first ADD carries out half the time: " + carries);
    }

    @Test
    void shiftsByClAreTheInterpreters() {
        // SHL, SHR and SAR by CL (the loop counter's low byte: counts of zero among them, which
        // keep the flags of the IMUL before) at 8, 4, 2 and 1 bytes, on registers and memory,
        // their flags read by SETB, dead, or left for a CALL whose callee sums them.
        byte[] body = asm(
                "48 89 c8",                 // L: mov rax, rcx
                "48 69 c0 b5 a9 43 6b",     // imul rax, rax, 0x6b43a9b5
                "48 89 c2",                 // mov rdx, rax
                "48 d3 e0",                 // shl rax, cl
                "e8 00 00 00 00",           // call F
                "d3 fa",                    // sar edx, cl
                "49 01 d0",                 // add r8, rdx
                "d2 ea",                    // shr dl, cl
                "0f 92 c3",                 // setb bl
                "49 01 db",                 // add r11, rbx
                "be " + HexFormat.ofDelimiter(" ").formatHex(intLe(RandomProgram.SCRATCH)), // mov esi, SCRATCH
                "48 89 06",                 // mov [rsi], rax
                "48 d3 3e",                 // sar qword [rsi], cl
                "e8 00 00 00 00",           // call F
                "66 d3 e8",                 // shr ax, cl
                "e8 00 00 00 00",           // call F
                "49 01 c1",                 // add r9, rax
                "48 ff c9");                // dec rcx
        byte[] code = countedLoop(3000, body, SUM_FLAGS);
        assertSame(run(code, false, m -> { }), run(code, true, m -> { }));
    }

    @Test
    void straightLineCodeLongerThanARegionIsCompiledWhollyOnceItsStartIsHot() {
        // A loop body of 300 instructions without a branch needs five regions of 64. Once the
        // loop head has run THRESHOLD times, its region's end is as hot as its start: the rest
        // follows in the same pass, not one region per THRESHOLD further passes.
        int bodyInsns = 300;
        int passes = THRESHOLD + 10;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(asm("b9 " + HexFormat.ofDelimiter(" ").formatHex(new byte[] {(byte) passes, 0, 0, 0})));
        for (int k = 0; k < bodyInsns / 2; k++) {
            b.writeBytes(asm("48 01 c8", "48 31 c2")); // add rax, rcx; xor rdx, rax
        }
        b.writeBytes(asm("48 ff c9", "0f 85 " + HexFormat.ofDelimiter(" ").formatHex(intLe(-(3 * bodyInsns + 9)))));
        b.write(0xF4);
        byte[] code = b.toByteArray();
        try (FlatMachine m = loaded(code, true, x -> { })) {
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
            long compiledPasses = m.cpu.regionRetired / (bodyInsns + 2);
            assertTrue(compiledPasses >= passes - THRESHOLD - 2,
                    "passes run compiled: " + compiledPasses + " (" + m.cpu.regionsCompiled + " regions)");
        }
        assertSame(run(code, false, x -> { }), run(code, true, x -> { }));
    }

    private static byte[] intLe(int v) {
        return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
    }

    @Test
    void aRegionServesOnlyThePrivilegeItWasCompiledAt() {
        // Its TLB lookups use that privilege's tags (a CPL 0 entry may grant what CPL 3 may not).
        try (FlatMachine m = loaded(mixedLoop(1000), true, x -> { })) {
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
            long loop = CODE + 5; // hot at CPL 0
            CodePage page = m.cpu.mmu.codePageFor(loop);
            int off = (int) loop & 0xFFF;
            CompiledBlock atCpl0 = page.block(m.cpu, loop, off);
            assertTrue(atCpl0 != null && !atCpl0.user);
            m.cpu.mmu.setUser(true);
            assertTrue(page.block(m.cpu, loop, off) == null, "not at CPL 3");
            m.cpu.mmu.setUser(false);
            assertTrue(page.block(m.cpu, loop, off) == atCpl0, "again at CPL 0");
        }
    }

    @Test
    void aWarmUpCallWithANegativeBudgetRunsNothing() {
        // The translator thread warms each new region up for the JIT with such calls.
        try (FlatMachine m = loaded(mixedLoop(1000), true, x -> { })) {
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
            long loop = CODE + 5;
            CompiledBlock block = m.cpu.mmu.codePageFor(loop).block(m.cpu, loop, (int) loop & 0xFFF);
            assertTrue(block != null);
            m.cpu.rip = loop;
            long[] regs = m.cpu.r.clone();
            long retired = m.cpu.regionRetired;
            assertEquals(0, block.run(null, -1));
            assertEquals(0, block.run(m.cpu, -1));
            assertEquals(loop, m.cpu.rip, "RIP untouched");
            assertArrayEquals(regs, m.cpu.r);
            assertEquals(retired, m.cpu.regionRetired);
            assertTrue(block.run(m.cpu, 1000) > 0, "and with a budget it runs the loop");
            assertFalse(java.util.Arrays.equals(regs, m.cpu.r));
        }
    }

    @Test
    void aFreeRunningLoopStaysCompiledAcrossSlicesAndAnExactBudgetIsKept() {
        byte[] code = mixedLoop(300_000);
        try (FlatMachine m = loaded(code, true, x -> { })) {
            // An exact budget: never one instruction more, even with a region longer than what is left.
            for (int k = 1; k <= 200; k++) {
                long before = m.cpu.retired;
                assertEquals(Vcpu.Stop.REQUESTED, m.vcpu.run(k));
                assertEquals(before + k, m.cpu.retired, "run(" + k + ")");
            }
            long interpretedBefore = m.cpu.retired - m.cpu.regionRetired;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
            // Free running, a region may start with less of a time slice left than its length:
            // the ends of the 2,048-instruction slices are not interpreted (about 15,000 were).
            long interpreted = m.cpu.retired - m.cpu.regionRetired - interpretedBefore;
            assertTrue(interpreted < 2_000, interpreted + " instructions interpreted");
            assertEquals(2 + 15L * 300_000, m.cpu.retired);
        }
    }

    @Test
    void codeRewrittenInsideABlockTakesEffectAtOnce() {
        // Each iteration stores CL into the immediate of the ADD two instructions later, in the
        // same block: the block must stop after the store and the ADD must see the new byte.
        byte[] code = asm(
                "b9 40 0d 03 00",           // mov ecx, 200000
                "88 0d 05 00 00 00",        // L: mov [rip+5], cl (the ADD's immediate)
                "90 90",                    // nop; nop
                "48 83 c0 00",              // add rax, imm8 (rewritten)
                "48 31 c2",                 // xor rdx, rax
                "ff c9",                    // dec ecx
                "75 ed",                    // jnz L
                "f4");                      // hlt
        Outcome interpreted = run(code, false, m -> { });
        Outcome compiled = run(code, true, m -> { });
        assertSame(interpreted, compiled);
        long expected = 0;
        for (int i = 200_000; i > 0; i--) {
            expected += (byte) i;
        }
        assertEquals(expected, interpreted.regs()[Cpu.EAX], "the interpreter itself sees the new immediates");
    }

    @Test
    void aRegionsStoreIntoItsOwnCodeStopsItAndTheNewBytesRunAtOnce() {
        // The compiled loop stores through RDX: into data, and once, halfway, into the immediate
        // of its own ADD (1 -> 5) just before running it. The region stops before that store
        // (StoreIntoCode), the interpreter makes it, and that same iteration's ADD adds 5; a
        // region that went on would add 1 until it left.
        long target = CODE + 34; // the ADD's immediate
        byte[] code = asm(
                "b9 40 0d 03 00",           // mov ecx, 200000
                "48 be " + HexFormat.ofDelimiter(" ").formatHex(java.nio.ByteBuffer.allocate(8)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(target).array()), // mov rsi, target
                "48 89 da",                 // L: mov rdx, rbx (data)
                "81 f9 a0 86 01 00",        // cmp ecx, 100000
                "48 0f 44 d6",              // cmove rdx, rsi
                "c6 02 05",                 // mov byte [rdx], 5
                "48 83 c0 01",              // add rax, 1 (its immediate at CODE + 34)
                "ff c9",                    // dec ecx
                "75 e8",                    // jnz L
                "f4");                      // hlt
        Outcome interpreted = run(code, false, m -> { });
        assertEquals(100_000 + 5 * 100_000, interpreted.regs()[Cpu.EAX]);
        try (FlatMachine m = loaded(code, true, x -> { })) {
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
            assertEquals(interpreted.regs()[Cpu.EAX], m.cpu.r[Cpu.EAX]);
            assertEquals(interpreted.retired(), m.cpu.retired);
            assertTrue(m.cpu.regionRetired > 1_000_000, "regions ran before and after the rewrite: " + m.cpu.regionRetired);
        }
    }

    @Test
    void aFaultInsideABlockRollsBackToTheFaultingInstruction() {
        // RDI walks up a MiB at a time until it leaves the 1 GiB page that maps everything: the
        // page fault comes from inside a block after many compiled iterations.
        byte[] code = asm(
                "48 ff c0",                 // L: inc rax
                "48 89 07",                 // mov [rdi], rax
                "48 81 c7 00 00 10 00",     // add rdi, 0x100000
                "eb f1");                   // jmp L
        Outcome[] outcomes = new Outcome[2];
        long[] regionRetired = new long[2];
        for (int pass = 0; pass < 2; pass++) {
            boolean blocks = pass == 1;
            try (FlatMachine m = NativeDifferential64Test.machine64()) {
                m.cpu.compileBlocks = blocks;
                m.cpu.regionThreshold = THRESHOLD;
                m.load(CODE, code);
                m.cpu.r[Cpu.EDI] = RandomProgram.SCRATCH + 0x800;
                m.cpu.rip = CODE;
                m.cpu.eip = (int) CODE;
                CpuFault f = org.junit.jupiter.api.Assertions.assertThrows(CpuFault.class,
                        () -> { for (;;) { m.cpu.runSlice(4096); } });
                assertEquals(CpuFault.PF, f.vector);
                assertEquals(CODE + 3, m.cpu.insnRip, "the MOV faulted");
                assertEquals(m.cpu.r[Cpu.ESP], m.cpu.insnEsp, "RSP before the MOV, for the exception frame");
                outcomes[pass] = new Outcome(m.cpu.r.clone(), 0, new byte[0], m.cpu.retired, 0);
                regionRetired[pass] = m.cpu.regionRetired;
            }
        }
        assertArrayEquals(outcomes[0].regs(), outcomes[1].regs());
        assertEquals(outcomes[0].retired(), outcomes[1].retired());
        assertTrue(regionRetired[1] > THRESHOLD, "regions ran: " + regionRetired[1]);
        assertEquals(0, regionRetired[0]);
    }

    /** How a hot loop ended in a fault: the fault, the state the interpreter was left, how much ran compiled. */
    private record Faulted(CpuFault fault, long insnRip, int flags, long rcx, long regionRetired) {
    }

    /** Runs {@code code} (at CODE, RBX = DATA, RBP = DATA) until it faults, compiled or interpreted. */
    private static Faulted runToFault(byte[] code, boolean blocks, java.util.function.Consumer<FlatMachine> setup) {
        try (FlatMachine m = loaded(code, blocks, setup)) {
            CpuFault f = org.junit.jupiter.api.Assertions.assertThrows(CpuFault.class,
                    () -> { for (;;) { m.cpu.runSlice(4096); } });
            return new Faulted(f, m.cpu.insnRip, m.cpu.eflags(), m.cpu.r[Cpu.ECX], m.cpu.regionRetired);
        }
    }

    /** Runs it both ways and requires the same fault and EFLAGS at {@code faultAt}, with regions having run. */
    private static Faulted sameFaultBothWays(String what, byte[] code, long faultAt, java.util.function.Consumer<FlatMachine> setup) {
        Faulted interpreted = runToFault(code, false, setup);
        Faulted compiled = runToFault(code, true, setup);
        assertEquals(0, interpreted.regionRetired());
        assertTrue(compiled.regionRetired() > THRESHOLD, what + ": regions ran: " + compiled.regionRetired());
        for (Faulted f : new Faulted[] {interpreted, compiled}) {
            assertEquals(faultAt, f.insnRip(), what + ": the faulting instruction");
        }
        assertEquals(interpreted.fault().vector, compiled.fault().vector, what + ": vector");
        assertEquals(interpreted.fault().errorCode, compiled.fault().errorCode, what + ": error code");
        assertEquals(Integer.toHexString(interpreted.flags()), Integer.toHexString(compiled.flags()), what + ": EFLAGS at the fault");
        return compiled;
    }

    @Test
    void aFaultSeesTheFlagsOfTheLastArithmeticEvenWhenLaterCodeWouldOverwriteThem() {
        // SHL's flags are dead on the normal path (INC and CMP overwrite them) but the MOV after
        // it faults on iteration 1,000 (a non-canonical address): the exception frame holds them.
        byte[] code = loopFaultingOnIteration1000("48 8b 14 03"); // mov rdx, [rbx+rax]
        assertEquals(CpuFault.GP, sameFaultBothWays("shl", code, CODE + 21, m -> { }).fault().vector);
    }

    @Test
    void aFaultRebuildsTheFlagsThatOnlyTheRegionsLocalsHeld() {
        // The instruction before the faulting MOV leaves its flags pending in locals (the loop head
        // overwrites them all): the region's exit must apply them to Flags, and an earlier
        // producer whose CF an INC keeps must have recorded its own.
        String[][] producers = {
            {"48 01 ce"},                 // add rsi, rcx
            {"48 29 ce"},                 // sub rsi, rcx
            {"48 85 f6"},                 // test rsi, rsi
            {"48 f7 de"},                 // neg rsi
            {"66 01 ce"},                 // add si, cx
            {"48 01 ce", "48 ff c7"},     // add rsi, rcx; inc rdi (CF from the ADD)
            {"48 29 ce", "40 fe cf"},     // sub rsi, rcx; dec dil
            {"48 c1 e6 05"},              // shl rsi, 5
            {"48 c1 ee 03"},              // shr rsi, 3
            {"c1 fe 02"},                 // sar esi, 2
            {"48 6b f6 07"},              // imul rsi, rsi, 7
            {"48 0f af f1"},              // imul rsi, rcx
        };
        for (String[] p : producers) {
            byte[] sequence = asm(p);
            byte[] code = asm(
                    "31 c9",                    // xor ecx, ecx
                    "83 c1 01",                 // L: add ecx, 1
                    "81 f9 e8 03 00 00",        // cmp ecx, 1000
                    "0f 93 c0",                 // setae al
                    "48 0f b6 c0",              // movzx rax, al
                    "48 c1 e0 3f",              // shl rax, 63
                    HexFormat.ofDelimiter(" ").formatHex(sequence),
                    "48 8b 14 03",              // mov rdx, [rbx+rax]: non-canonical on iteration 1,000
                    "eb " + HexFormat.of().toHexDigits((byte) -(20 + sequence.length + 6)));  // jmp L
            Faulted f = sameFaultBothWays(String.join("; ", p), code, CODE + 22 + sequence.length, m -> {
                m.cpu.r[Cpu.ESI] = 0x7FFF_FFFF_FFFF_FE00L;
                m.cpu.r[Cpu.EDI] = -600;
            });
            assertEquals(CpuFault.GP, f.fault().vector);
        }
    }

    @Test
    void aNonCanonicalOperandFaultsAsInTheInterpreterWhateverTheAccessAndSegment() {
        // Regions leave the canonical check of DS/ES/FS/GS operands to the TLB (a non-canonical
        // address never hits it, and the MMU's slow path raises #GP); SS operands keep theirs (#SS).
        String[][] cases = {
            {"48 8b 14 03", "0d"},       // mov rdx, [rbx+rax]
            {"8a 14 03", "0d"},          // mov dl, [rbx+rax]
            {"48 89 14 03", "0d"},       // mov [rbx+rax], rdx
            {"48 01 14 03", "0d"},       // add [rbx+rax], rdx
            {"64 48 8b 14 03", "0d"},    // mov rdx, fs:[rbx+rax]
            {"48 8b 14 04", "0c"},       // mov rdx, [rsp+rax]: #SS
            {"48 8b 54 05 00", "0c"},    // mov rdx, [rbp+rax]: #SS
        };
        for (String[] c : cases) {
            Faulted f = sameFaultBothWays(c[0], loopFaultingOnIteration1000(c[0]), CODE + 21, m -> { });
            assertEquals(Integer.parseInt(c[1], 16), f.fault().vector, c[0]);
            assertEquals(0, f.fault().errorCode, c[0]);
            assertEquals(1000, f.rcx(), c[0]);
        }
    }

    @Test
    void aBlockServesOnlyTheLinearAddressItWasCompiledAt() {
        // Physical 0x7000 is mapped at linear 0x7000 and at 0x4000_7000 (a 1 GiB alias page). A
        // hot loop runs first through the low alias, then through the high one: the RIP values
        // must follow the alias in use, the block compiled for the other must not be reused.
        try (FlatMachine m = System64Test.longMachine()) {
            m.cpu.compileBlocks = true;
            m.load(0x7000, asm(
                    "b9 e8 03 00 00",           // mov ecx, 1000
                    "48 ff c0",                 // L: inc rax
                    "ff c9",                    // dec ecx
                    "75 f9",                    // jnz L
                    "48 8d 1d 00 00 00 00",     // lea rbx, [rip]
                    "48 85 ff",                 // test rdi, rdi
                    "75 0c",                    // jnz done
                    "48 ff c7",                 // inc rdi
                    "48 c7 c2 00 70 00 40",     // mov rdx, 0x40007000
                    "ff e2",                    // jmp rdx (the same code through the high alias)
                    "f4"));                     // done: hlt
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100_000), m.vcpu.stopReason());
            assertEquals(0x4000_7000L + 19, m.cpu.r[Cpu.EBX], "LEA saw the high alias's RIP");
            assertEquals(0x4000_7000L + 37, m.cpu.rip, "HLT reached through the high alias");
            assertEquals(2000, m.cpu.r[Cpu.EAX]);
        }
    }

    @Test
    void aCodeFetchFaultNamesTheTargetNotTheJump() {
        // Looking for a block at a code address that is not mapped faults there: the fault must be
        // the target's instruction fetch (RIP = target), as the interpreter's own fetch reports it.
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            m.cpu.compileBlocks = true;
            m.load(CODE, asm("48 c7 c0 00 00 00 40", "ff e0"));  // mov rax, 0x40000000; jmp rax
            m.cpu.rip = CODE;
            m.cpu.eip = (int) CODE;
            m.cpu.breakSlice = false; // left set by the machine's mode switches
            CpuFault f = org.junit.jupiter.api.Assertions.assertThrows(CpuFault.class, () -> m.cpu.runSlice(4096));
            assertEquals(CpuFault.PF, f.vector);
            assertEquals(0x4000_0000L, m.cpu.insnRip, "the fault belongs to the jump's target");
        }
    }

    @Test
    void privilegedAndControlInstructionsStayInTheInterpreter() {
        assertFalse(RegionTraits.translatable(Decoder.decode64(i -> new int[] {0x0F, 0x22, 0xD8}[i])), "mov cr3, rax");
        assertFalse(RegionTraits.translatable(Decoder.decode64(i -> new int[] {0xFA}[i])), "cli");
        assertFalse(RegionTraits.translatable(Decoder.decode64(i -> new int[] {0xE6, 0x80}[i])), "out 0x80, al");
        assertFalse(RegionTraits.translatable(Decoder.decode64(i -> new int[] {0xFF, 0x2C, 0x24}[i])), "jmp far [rsp]");
        assertFalse(RegionTraits.translatable(Decoder.decode64(i -> new int[] {0xF0, 0x48, 0x01, 0x03}[i])), "lock add [rbx], rax");
        assertTrue(RegionTraits.translatable(Decoder.decode64(i -> new int[] {0x48, 0x01, 0xC8}[i])), "add rax, rcx");
        assertTrue(RegionTraits.leaves(Decoder.decode64(i -> new int[] {0xC3}[i])), "ret");
        assertFalse(RegionTraits.leaves(Decoder.decode64(i -> new int[] {0x48, 0x01, 0xC8}[i])));
    }

    /** CODE and the page after it in 64-bit mode, {@code code} at {@code at} about to run. */
    private static FlatMachine acrossPages(byte[] code, long at, boolean regions) {
        FlatMachine m = NativeDifferential64Test.machine64WithTwoCodePages();
        m.cpu.compileBlocks = regions;
        m.cpu.regionThreshold = THRESHOLD;
        m.load(at, code);
        m.cpu.r[Cpu.ESP] = NativeDifferential64Test.STACK;
        m.cpu.breakSlice = false;
        return m;
    }

    private static void runFrom(FlatMachine m, long at) {
        m.cpu.halted = false; // a run before ended with HLT
        m.cpu.rip = at;
        m.cpu.eip = (int) at;
        assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
    }

    @Test
    void anInstructionAcrossThePageEndRunsInItsRegionUntilItsTailPageChanges() {
        // The loop's second ADD starts 2 bytes before the page end; its immediate and the rest of
        // the loop are on the next page.
        long at = CODE + 0xFF0;
        byte[] code = asm(
                "b9 10 27 00 00",           // mov ecx, 10000
                "48 89 c2",                 // L: mov rdx, rax
                "48 01 ca",                 // add rdx, rcx
                "90 90 90",                 // nop x3
                "48 05 03 00 00 00",        // add rax, 3: 0xFFE..0x1003
                "48 01 d6",                 // add rsi, rdx
                "ff c9",                    // dec ecx
                "75 ea",                    // jnz L
                "f4");                      // hlt
        try (FlatMachine compiled = acrossPages(code, at, true); FlatMachine interpreted = acrossPages(code, at, false)) {
            runFrom(compiled, at);
            runFrom(interpreted, at);
            assertArrayEquals(interpreted.cpu.r, compiled.cpu.r);
            assertEquals(interpreted.cpu.eflags(), compiled.cpu.eflags());
            assertEquals(interpreted.cpu.retired, compiled.cpu.retired);
            assertTrue(compiled.cpu.regionRetired > 0.95 * compiled.cpu.retired,
                    "the ADD across the page end ran in a region: " + compiled.cpu.regionRetired + " of "
                    + compiled.cpu.retired);

            // A new immediate on the next page: the head page keeps its region, which must leave
            // the ADD to the interpreter now.
            for (FlatMachine m : new FlatMachine[] {compiled, interpreted}) {
                m.load(CODE + 0x1000, new byte[] {0x05});
                runFrom(m, at);
            }
            assertEquals(30_000 + 50_000, interpreted.cpu.r[Cpu.EAX], "10,000 passes adding 3, then 5");
            assertArrayEquals(interpreted.cpu.r, compiled.cpu.r, "the ADD saw the new immediate");
            assertEquals(interpreted.cpu.eflags(), compiled.cpu.eflags());
        }
    }

    @Test
    void aLoopWhoseBranchCrossesThePageEndRunsInItsRegionUntilItsTailPageChanges() {
        // The JNZ closing the loop starts at the page's last byte; its displacement is on the next
        // page. It runs in the region (it was left to the interpreter once per pass); after a
        // new displacement there the region must leave it to the interpreter.
        long at = CODE + 0xFE0;
        byte[] code = asm(
                "b9 10 27 00 00",           // mov ecx, 10000
                "48 01 c8",                 // L (0xFE5): add rax, rcx
                "48 83 c6 02",              // 0xFE8: add rsi, 2
                "0f 1f 84 00 00 00 00 00",  // 0xFEC: nop (8 bytes)
                "0f 1f 84 00 00 00 00 00",  // 0xFF4: nop
                "90",                       // 0xFFC: nop
                "ff c9",                    // 0xFFD: dec ecx
                "75 e4",                    // 0xFFF: jnz L (displacement at 0x1000)
                "f4");                      // hlt
        try (FlatMachine compiled = acrossPages(code, at, true); FlatMachine interpreted = acrossPages(code, at, false)) {
            runFrom(compiled, at);
            runFrom(interpreted, at);
            assertArrayEquals(interpreted.cpu.r, compiled.cpu.r);
            assertEquals(interpreted.cpu.retired, compiled.cpu.retired);
            assertTrue(compiled.cpu.regionRetired > 0.95 * compiled.cpu.retired,
                    "the JNZ across the page end ran in the region: " + compiled.cpu.regionRetired + " of "
                    + compiled.cpu.retired);

            // The JNZ now goes back to the ADD RSI (0xFE8), past the ADD RAX.
            for (FlatMachine m : new FlatMachine[] {compiled, interpreted}) {
                m.load(CODE + 0x1000, new byte[] {(byte) 0xE7});
                runFrom(m, at);
            }
            assertEquals(2 * 20_000, interpreted.cpu.r[Cpu.ESI], "2 added in each of 20,000 passes");
            assertArrayEquals(interpreted.cpu.r, compiled.cpu.r, "the JNZ took its new displacement");
            assertEquals(interpreted.cpu.eflags(), compiled.cpu.eflags());
        }
    }
}
