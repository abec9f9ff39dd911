package io.p2vkit.hv.emu;

import io.p2vkit.hv.cpu.Vcpu;

/**
 * A benchmark of the interpreter on cold 64-bit code, the shape of a kernel's initialisation:
 * a straight line of calls to {@link #FUNCTIONS} small functions spread over 32 pages, each run
 * fewer times than the region threshold, so that every instruction is interpreted. Prints the
 * interpreter's nanoseconds per instruction ({@code main}, or {@link EmuSpeedTest}).
 */
final class ColdCode64 {

    static final int FUNCTIONS = Integer.getInteger("p2v.bench.functions", 2048);
    static final int ITERATIONS = 2_048_000 / FUNCTIONS;
    private static final long CODE = 0x2000_0000L;
    private static final long FUNCTION_BASE = CODE + 0x4000;
    private static final int SLOT = 64;
    private static final long SCRATCH = RandomProgram.SCRATCH;

    /** One function: 15 instructions when its JE is not taken (RDX = -1 keeps it so). */
    private static final byte[] FUNCTION = ModeTransitionTest.asm(
            "55",                    // push rbp
            "48 89 e5",              // mov rbp, rsp
            "48 8b 43 08",           // mov rax, [rbx+8]
            "48 01 c8",              // add rax, rcx
            "48 39 d0",              // cmp rax, rdx
            "74 04",                 // je over the store
            "48 89 43 10",           // mov [rbx+16], rax
            "48 8d 34 48",           // lea rsi, [rax+rcx*2]
            "31 ff",                 // xor edi, edi
            "85 f6",                 // test esi, esi
            "0f b6 c0",              // movzx eax, al
            "48 ff c1",              // inc rcx
            "5d",                    // pop rbp
            "c3");                   // ret

    static final int INSNS_PER_FUNCTION = 15; // the 14 above, the CALL

    private ColdCode64() {
    }

    static FlatMachine machine() {
        FlatMachine m = new FlatMachine(new long[] {0, 0x10000}, new long[] {SCRATCH, 0x10000},
                new long[] {CODE, 0x40000});
        m.memory.writeLong(0x1000, 0x2000 | 3);
        m.memory.writeLong(0x2000, 0x83); // the first GiB, one 1 GiB page
        m.flat32();
        m.cpu.writeCr4(Mmu.CR4_PAE);
        m.cpu.writeCr3(0x1000);
        m.cpu.writeEfer(Mmu.EFER_LME);
        m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_PG);
        m.cpu.setSegmentCache(Cpu.CS, 0x08, 0, -1, FlatMachine.FLAT_CODE32 & ~Cpu.ATTR_DB | Cpu.ATTR_L);
        byte[] code = new byte[0x4000 + FUNCTIONS * SLOT];
        java.util.Arrays.fill(code, (byte) 0xCC);
        int at = 0;
        code[at++] = 0x41; // mov r8d, ITERATIONS
        code[at++] = (byte) 0xB8;
        at = putInt(code, at, ITERATIONS);
        int loop = at;
        for (int k = 0; k < FUNCTIONS; k++) {
            code[at] = (byte) 0xE8; // call function k
            at = putInt(code, at + 1, 0x4000 + k * SLOT - (at + 5));
        }
        code[at++] = 0x41; // dec r8d
        code[at++] = (byte) 0xFF;
        code[at++] = (byte) 0xC8;
        code[at++] = 0x0F; // jnz loop
        code[at++] = (byte) 0x85;
        at = putInt(code, at, loop - (at + 4));
        code[at] = (byte) 0xF4; // hlt
        for (int k = 0; k < FUNCTIONS; k++) {
            System.arraycopy(FUNCTION, 0, code, 0x4000 + k * SLOT, FUNCTION.length);
        }
        m.load(CODE, code);
        m.cpu.r[Cpu.EBX] = SCRATCH + 0x800;
        m.cpu.r[Cpu.ESP] = SCRATCH + 0x1F00;
        m.cpu.r[Cpu.EDX] = -1;
        m.cpu.rip = CODE;
        m.cpu.eip = (int) CODE;
        m.cpu.regionThreshold = ITERATIONS * 30; // above any address's count: all interpreted
        return m;
    }

    private static int putInt(byte[] b, int at, int v) {
        for (int i = 0; i < 4; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
        return at + 4;
    }

    /** Runs the program to its HLT; returns the thread CPU nanoseconds it took (other jobs share the machine). */
    static long runOnce(FlatMachine m) {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long t0 = threads.getCurrentThreadCpuTime();
        Vcpu.Stop stop = m.vcpu.run(Long.MAX_VALUE);
        long t = threads.getCurrentThreadCpuTime() - t0;
        if (stop != Vcpu.Stop.SHUTDOWN) {
            throw new AssertionError(stop + " " + m.vcpu.stopReason());
        }
        return t;
    }

    static long expectedInstructions() {
        return 1 + (long) ITERATIONS * (FUNCTIONS * INSNS_PER_FUNCTION + 2) + 1;
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        double[] each = new double[rounds];
        for (int round = 0; round < rounds; round++) {
            try (FlatMachine m = machine()) {
                long ns = runOnce(m);
                long n = m.vcpu.instructionsRetired();
                each[round] = (double) ns / n;
                System.out.printf("cold 64-bit code round %d: %d instructions (%d expected), %.2f s CPU = %.1f ns each%n",
                        round, n, expectedInstructions(), ns / 1e9, each[round]);
            }
        }
        double[] late = java.util.Arrays.copyOfRange(each, rounds / 2, rounds);
        java.util.Arrays.sort(late);
        System.out.printf("cold 64-bit code: median of the last %d rounds %.1f ns per instruction%n",
                late.length, late[late.length / 2]);
    }
}
