package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Measures guest instructions per second on CPU-bound loops (printed, never asserted: tests do
 * not assert wall-clock times). Checks the loops computed the right thing.
 */
@Tag("slow")
class EmuSpeedTest {

    static final int ITERATIONS = 20_000_000;

    private static void measure(String name, byte[] code, int setupInstructions, int perIteration,
            java.util.function.Consumer<FlatMachine> check) {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x400000})) {
            m.load(0x1000, code);
            for (int round = 0; round < 3; round++) {
                m.flat32();
                m.cpu.eip = 0x1000;
                m.cpu.halted = false;
                java.util.Arrays.fill(m.cpu.r, 0);
                m.cpu.set32(Cpu.ESP, 0x9000);
                long before = m.vcpu.instructionsRetired();
                long t0 = System.nanoTime();
                Vcpu.Stop stop = m.vcpu.run(Long.MAX_VALUE);
                long t1 = System.nanoTime();
                long n = m.vcpu.instructionsRetired() - before;
                assertEquals(Vcpu.Stop.SHUTDOWN, stop, m.vcpu.stopReason());
                assertEquals((long) ITERATIONS * perIteration + setupInstructions, n);
                System.out.printf("%s round %d: %d instructions in %.2f s = %.1f M instructions/s%n",
                        name, round, n, (t1 - t0) / 1e9, n * 1e3 / (t1 - t0));
                check.accept(m);
            }
        }
    }

    @Test
    void registerLoop() {
        measure("register ALU loop", ModeTransitionTest.asm(
                "b9 00 2d 31 01",        // mov ecx, 20000000
                "01 c8",                 // L: add eax, ecx
                "31 c2",                 // xor edx, eax
                "d1 c2",                 // rol edx, 1
                "49",                    // dec ecx
                "75 f7",                 // jnz L
                "f4"), 2, 5, m -> assertEquals(0, m.cpu.r32(Cpu.ECX)));
    }

    @Test
    void sseScalarDoubleLoop() {
        measure("SSE2 scalar double loop", ModeTransitionTest.asm(
                "b8 00 02 00 00",        // mov eax, 0x200 (CR4.OSFXSR)
                "0f 22 e0",              // mov cr4, eax
                "b9 00 2d 31 01",        // mov ecx, 20000000
                "f2 0f 2a d9",           // cvtsi2sd xmm3, ecx
                "f2 0f 2a e9",           // cvtsi2sd xmm5, ecx
                "f2 0f 2a c9",           // cvtsi2sd xmm1, ecx
                "66 0f 28 e1",           // L: movapd xmm4, xmm1
                "f2 0f 5e e3",           // divsd xmm4, xmm3
                "f2 0f 59 e4",           // mulsd xmm4, xmm4
                "f2 0f 51 f4",           // sqrtsd xmm6, xmm4
                "f2 0f 58 cd",           // addsd xmm1, xmm5
                "66 0f fe f9",           // paddd xmm7, xmm1
                "49",                    // dec ecx
                "75 e5",                 // jnz L
                "f4"), 7, 8, m -> assertEquals(0, m.cpu.r32(Cpu.ECX)));
    }

    @Test
    void ssePackedIntegerLoop() {
        measure("SSE2 packed integer loop", ModeTransitionTest.asm(
                "b8 00 02 00 00",        // mov eax, 0x200 (CR4.OSFXSR)
                "0f 22 e0",              // mov cr4, eax
                "b9 00 2d 31 01",        // mov ecx, 20000000
                "bb 00 00 10 00",        // mov ebx, 0x100000
                "66 0f 6f 03",           // L: movdqa xmm0, [ebx]
                "66 0f 74 c1",           // pcmpeqb xmm0, xmm1
                "66 0f d7 d0",           // pmovmskb edx, xmm0
                "66 0f fe d0",           // paddd xmm2, xmm0
                "66 0f 7f 53 10",        // movdqa [ebx+16], xmm2
                "49",                    // dec ecx
                "75 e9",                 // jnz L
                "f4"), 5, 7, m -> assertEquals(0, m.cpu.r32(Cpu.ECX)));
    }

    @Test
    void memoryLoop() {
        measure("memory loop", ModeTransitionTest.asm(
                "b9 00 2d 31 01",        // mov ecx, 20000000
                "bb 00 00 10 00",        // mov ebx, 0x100000
                "89 c8",                 // L: mov eax, ecx
                "25 ff 0f 00 00",        // and eax, 0xfff
                "01 0c 83",              // add [ebx+eax*4], ecx
                "8b 14 83",              // mov edx, [ebx+eax*4]
                "52",                    // push edx
                "5e",                    // pop esi
                "e8 02 00 00 00",        // call F
                "eb 01",                 // jmp over
                "c3",                    // F: ret
                "49",                    // dec ecx
                "75 e6",                 // jnz L
                "f4"), 3, 11, m -> assertEquals(0, m.cpu.r32(Cpu.ECX)));
    }
    @Test
    void x87Loop() {
        measure("x87 loop", ModeTransitionTest.asm(
                "b9 00 2d 31 01",        // mov ecx, 20000000
                "db e3",                 // fninit
                "d9 e8",                 // fld1
                "d9 ee",                 // fldz
                "d8 c1",                 // L: fadd st0, st1
                "d9 c0",                 // fld st0
                "d8 ca",                 // fmul st0, st2
                "d9 fa",                 // fsqrt
                "dd d8",                 // fstp st0
                "49",                    // dec ecx
                "75 f3",                 // jnz L
                "f4"), 5, 7, m -> assertEquals(0x4017, X87Registers.se(m.cpu.fpu, 0), "20,000,000"));
    }

    /** The interpreter on cold 64-bit code: calls to 2,048 small functions, all interpreted. */
    @Test
    void coldCode64() {
        for (int round = 0; round < 5; round++) {
            try (FlatMachine m = ColdCode64.machine()) {
                long ns = ColdCode64.runOnce(m);
                long n = m.vcpu.instructionsRetired();
                assertEquals(ColdCode64.expectedInstructions(), n);
                assertEquals(0, m.cpu.regionRetired, "all interpreted");
                System.out.printf("cold 64-bit code round %d: %d instructions, %.2f s CPU = %.1f ns each%n",
                        round, n, ns / 1e9, (double) ns / n);
            }
        }
    }

    /** A CRC-32 table loop in 64-bit code, the shape of the kernel's XZ decompressor's checksum. */
    @Test
    void crcTableLoop64() {
        byte[] code = ModeTransitionTest.asm(
                "b9 00 2d 31 01",           // mov ecx, 20000000
                "31 c0",                    // xor eax, eax
                "0f b6 16",                 // L: movzx edx, byte [rsi]
                "48 ff c6",                 // inc rsi
                "48 81 e6 ff 0f 00 00",     // and rsi, 0xfff
                "48 81 ce 00 00 00 10",     // or rsi, SCRATCH
                "31 c2",                    // xor edx, eax
                "0f b6 d2",                 // movzx edx, dl
                "c1 e8 08",                 // shr eax, 8
                "33 04 93",                 // xor eax, [rbx + rdx*4]
                "ff c9",                    // dec ecx
                "75 dd",                    // jnz L
                "f4");                      // hlt
        for (int round = 0; round < 3; round++) {
            long n = 3 + 10L * ITERATIONS;
            long ns = timed64(code, n, m -> {
                m.cpu.r[Cpu.EBX] = NativeDifferential64Test.DATA;
                m.cpu.r[Cpu.ESI] = RandomProgram.SCRATCH;
            });
            System.out.printf("64-bit CRC table loop round %d: %d instructions in %.2f s = %.1f M instructions/s%n",
                    round, n, ns / 1e9, n * 1e3 / ns);
        }
    }

    /**
     * Runs {@code code} at {@link NativeHarness64#CODE} on a fresh 64-bit machine (RSP on its
     * stack, then {@code setup}) to its HLT; checks it retired {@code instructions}; returns the
     * nanoseconds the run took.
     */
    private static long timed64(byte[] code, long instructions, java.util.function.Consumer<FlatMachine> setup) {
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            m.load(NativeHarness64.CODE, code);
            m.cpu.r[Cpu.ESP] = NativeDifferential64Test.STACK;
            m.cpu.rip = NativeHarness64.CODE;
            m.cpu.eip = (int) NativeHarness64.CODE;
            setup.accept(m);
            long t0 = System.nanoTime();
            Vcpu.Stop stop = m.vcpu.run(Long.MAX_VALUE);
            long ns = System.nanoTime() - t0;
            assertEquals(Vcpu.Stop.SHUTDOWN, stop, m.vcpu.stopReason());
            assertEquals(instructions, m.vcpu.instructionsRetired());
            return ns;
        }
    }

    /**
     * A loop that calls a small function: every iteration leaves a region twice (the CALL, the
     * RET), the shape of qsort calling its comparison and that calling strcmp.
     */
    @Test
    void callReturnLoop64() {
        byte[] code = ModeTransitionTest.asm(
                "b9 00 2d 31 01",           // mov ecx, 20000000
                "31 c0",                    // xor eax, eax
                "e8 06 00 00 00",           // L: call F
                "ff c9",                    // dec ecx
                "75 f7",                    // jnz L
                "f4",                       // hlt
                "90",                       // nop
                "01 c8",                    // F: add eax, ecx
                "c3");                      // ret
        for (int round = 0; round < 3; round++) {
            long n = 3 + 5L * ITERATIONS;
            long ns = timed64(code, n, m -> { });
            System.out.printf("64-bit call/return loop round %d: %.1f ns per iteration (two region exits), %.1f M instructions/s%n",
                    round, ns / (double) ITERATIONS, n * 1e3 / ns);
        }
    }
}
