package io.p2vkit.hv.emu;

/**
 * What CPUID reports: only what this emulator implements (SDM Vol. 2 CPUID, Table 3-11). No
 * x87 (only its detection instructions exist), no APIC, no long mode yet; MMX, FXSR, SSE, SSE2.
 */
final class Cpuid {

    static final int FEATURE_DE = 1 << 2;     // CR4.DE: DR4/DR5 trap
    static final int FEATURE_PSE = 1 << 3;    // 4 MiB pages
    static final int FEATURE_TSC = 1 << 4;
    static final int FEATURE_MSR = 1 << 5;
    static final int FEATURE_PAE = 1 << 6;
    static final int FEATURE_CX8 = 1 << 8;    // CMPXCHG8B
    static final int FEATURE_PGE = 1 << 13;   // CR4.PGE accepted; the TLB flushes globals too
    static final int FEATURE_CMOV = 1 << 15;
    static final int FEATURE_PSE36 = 1 << 17;
    static final int FEATURE_MMX = 1 << 23;
    static final int FEATURE_FXSR = 1 << 24;  // FXSAVE/FXRSTOR, CR4.OSFXSR
    static final int FEATURE_SSE = 1 << 25;
    static final int FEATURE_SSE2 = 1 << 26;
    static final int EXT_FEATURE_NX = 1 << 20;

    static final int FEATURES = FEATURE_DE | FEATURE_PSE | FEATURE_TSC | FEATURE_MSR | FEATURE_PAE
            | FEATURE_CX8 | FEATURE_PGE | FEATURE_CMOV | FEATURE_PSE36 | FEATURE_MMX | FEATURE_FXSR
            | FEATURE_SSE | FEATURE_SSE2;

    private Cpuid() {
    }

    private static int ascii(String four) {
        return four.charAt(0) | four.charAt(1) << 8 | four.charAt(2) << 16 | four.charAt(3) << 24;
    }

    static void execute(Cpu c) {
        int leaf = c.r32(Cpu.EAX);
        int a = 0;
        int b = 0;
        int cx = 0;
        int dx = 0;
        switch (leaf) {
            case 0 -> {
                a = 1;
                b = ascii("Genu");
                dx = ascii("ineI");
                cx = ascii("ntel");
            }
            case 1 -> {
                a = 0x0000_0633; // family 6, model 3, stepping 3
                dx = FEATURES;
            }
            case 0x8000_0000 -> a = 0x8000_0001;
            case 0x8000_0001 -> dx = EXT_FEATURE_NX;
            default -> {
                // reserved leaves read as zero
            }
        }
        c.set32(Cpu.EAX, a);
        c.set32(Cpu.EBX, b);
        c.set32(Cpu.ECX, cx);
        c.set32(Cpu.EDX, dx);
    }
}
