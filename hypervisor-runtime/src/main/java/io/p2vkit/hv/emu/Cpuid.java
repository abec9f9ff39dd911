package io.p2vkit.hv.emu;

/**
 * What CPUID reports: only what this emulator implements (SDM Vol. 2 CPUID, Table 3-11). No
 * x87 (only its detection instructions exist), no SSE, no APIC, no long mode yet.
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
    static final int EXT_FEATURE_NX = 1 << 20;
    static final int FEATURE_APIC = 1 << 9;           // EDX: on-chip APIC, while IA32_APIC_BASE enables it
    static final int FEATURE_TSC_DEADLINE = 1 << 24;  // ECX: IA32_TSC_DEADLINE

    static final int FEATURES = FEATURE_DE | FEATURE_PSE | FEATURE_TSC | FEATURE_MSR | FEATURE_PAE
            | FEATURE_CX8 | FEATURE_PGE | FEATURE_CMOV | FEATURE_PSE36;

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
                if (c.apic != null) {
                    // EBX[31:24]: initial APIC ID. No HTT, so EBX[23:16] stays 0 (SDM CPUID leaf 1).
                    b |= c.apic.initialApicId() << 24;
                    cx |= FEATURE_TSC_DEADLINE;
                    if (c.apic.mmioBase() >= 0) {
                        dx |= FEATURE_APIC;
                    }
                }
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
