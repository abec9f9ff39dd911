package io.p2vkit.hv.emu;

/**
 * What CPUID reports: only what this emulator implements (SDM Vol. 2 CPUID, Table 3-11): long
 * mode with SYSCALL and NX, address sizes matching the page walker (MAXPHYADDR 52, 48-bit linear),
 * an invariant TSC, the architectural capabilities of a CPU that does not speculate, and a brand
 * string naming the emulator, the TSC frequency (leaves 0x15, 0x16), the x87 FPU, MMX, FXSR, SSE
 * and SSE2, XSAVE for x87 and SSE state (leaf 0xD). Other leaves up to 0x16 (caches, topology,
 * performance monitoring) read as zero: nothing to report.
 */
final class Cpuid {

    static final int FEATURE_FPU = 1;         // x87 on chip
    static final int FEATURE_DE = 1 << 2;     // CR4.DE: DR4/DR5 trap
    static final int FEATURE_PSE = 1 << 3;    // 4 MiB pages
    static final int FEATURE_TSC = 1 << 4;
    static final int FEATURE_MSR = 1 << 5;
    static final int FEATURE_PAE = 1 << 6;
    static final int FEATURE_CX8 = 1 << 8;    // CMPXCHG8B
    static final int FEATURE_PGE = 1 << 13;   // CR4.PGE: global translations survive CR3 loads
    static final int FEATURE_CMOV = 1 << 15;
    static final int FEATURE_PSE36 = 1 << 17;
    static final int FEATURE_MMX = 1 << 23;
    static final int FEATURE_FXSR = 1 << 24;  // FXSAVE/FXRSTOR, CR4.OSFXSR
    static final int FEATURE_SSE = 1 << 25;
    static final int FEATURE_SSE2 = 1 << 26;
    static final int FEATURE2_CX16 = 1 << 13; // CMPXCHG16B (leaf 1 ECX)
    static final int FEATURE2_XSAVE = 1 << 26; // XSAVE/XRSTOR, XGETBV/XSETBV, CR4.OSXSAVE
    static final int FEATURE2_OSXSAVE = 1 << 27; // a copy of CR4.OSXSAVE
    static final int EXT2_FEATURE_LAHF = 1;    // LAHF/SAHF in 64-bit mode (leaf 0x80000001 ECX)
    static final int EXT_FEATURE_SYSCALL = 1 << 11;
    static final int EXT_FEATURE_NX = 1 << 20;
    static final int EXT_FEATURE_LM = 1 << 29;
    static final int EXT_FEATURES = EXT_FEATURE_SYSCALL | EXT_FEATURE_NX | EXT_FEATURE_LM;
    /** Leaf 0x80000008 EAX: linear address bits << 8 | physical address bits. */
    static final int ADDRESS_SIZES = 48 << 8 | 52;
    /**
     * Leaf 7 EBX: the IA32_TSC_ADJUST MSR exists. With an invariant TSC it tells Linux that nothing
     * can move the TSC behind its back, so it needs no clocksource watchdog: a jiffies watchdog
     * would call the TSC unstable whenever a busy host delays timer ticks.
     */
    static final int LEAF7_TSC_ADJUST = 1 << 1;
    /** Leaf 7 EDX: the IA32_ARCH_CAPABILITIES MSR exists. */
    static final int LEAF7_ARCH_CAPABILITIES = 1 << 29;
    static final int MSR_ARCH_CAPABILITIES = 0x10A;
    /**
     * An interpreter executes nothing speculatively, so it is immune to the transient-execution
     * attacks these bits rule out (RDCL_NO: Meltdown, SSB_NO, MDS_NO, PSCHANGE_MC_NO, TAA_NO,
     * SBDR_SSDP_NO, FBSDP_NO, PSDP_NO, PBRSB_NO, GDS_NO, RFDS_NO): the guest skips page-table
     * isolation and buffer clearing, which cost an emulator dearly.
     */
    static final long ARCH_CAPABILITIES = 1L | 1L << 4 | 1L << 5 | 1L << 6 | 1L << 8 | 1L << 13 | 1L << 14
            | 1L << 15 | 1L << 24 | 1L << 26 | 1L << 27;
    /**
     * The TSC rate (RDTSC reads the host's monotonic clock in nanoseconds) and a nominal crystal:
     * leaf 0x15 states it, so a kernel need not calibrate against the PIT, which fails when the
     * emulated CPU is slow or the host busy.
     */
    static final int TSC_HZ = 1_000_000_000;
    static final int CRYSTAL_HZ = 25_000_000;
    /** Leaf 0x80000007 EDX: invariant TSC (ours is the host's monotonic clock at 1 GHz). */
    static final int EXT_POWER_INVARIANT_TSC = 1 << 8;
    /** Leaves 0x80000002-4: 48 bytes, NUL-padded. */
    private static final String BRAND = "p2vkit emu x86-64";
    static final int FEATURE_APIC = 1 << 9;           // EDX: on-chip APIC, while IA32_APIC_BASE enables it
    static final int FEATURE_TSC_DEADLINE = 1 << 24;  // ECX: IA32_TSC_DEADLINE

    static final int FEATURES = FEATURE_FPU | FEATURE_DE | FEATURE_PSE | FEATURE_TSC | FEATURE_MSR
            | FEATURE_PAE | FEATURE_CX8 | FEATURE_PGE | FEATURE_CMOV | FEATURE_PSE36 | FEATURE_MMX
            | FEATURE_FXSR | FEATURE_SSE | FEATURE_SSE2;

    private Cpuid() {
    }

    private static int ascii(String four) {
        return four.charAt(0) | four.charAt(1) << 8 | four.charAt(2) << 16 | four.charAt(3) << 24;
    }

    private static int brandWord(int at) {
        int w = 0;
        for (int i = 0; i < 4; i++) {
            int ch = at + i < BRAND.length() ? BRAND.charAt(at + i) : 0;
            w |= ch << (8 * i);
        }
        return w;
    }

    static void execute(Cpu c) {
        int leaf = c.r32(Cpu.EAX);
        int a = 0;
        int b = 0;
        int cx = 0;
        int dx = 0;
        switch (leaf) {
            case 0 -> {
                a = 0x16;
                b = ascii("Genu");
                dx = ascii("ineI");
                cx = ascii("ntel");
            }
            case 1 -> {
                a = 0x0000_0633; // family 6, model 3, stepping 3
                cx = FEATURE2_CX16 | FEATURE2_XSAVE;
                if ((c.mmu.cr4 & Cpu.CR4_OSXSAVE) != 0) {
                    cx |= FEATURE2_OSXSAVE;
                }
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
            case 0x8000_0000 -> a = 0x8000_0008;
            case 0x8000_0001 -> {
                cx = EXT2_FEATURE_LAHF;
                dx = EXT_FEATURES;
            }
            case 0x8000_0002, 0x8000_0003, 0x8000_0004 -> {
                int at = (leaf - 0x8000_0002) * 16;
                a = brandWord(at);
                b = brandWord(at + 4);
                cx = brandWord(at + 8);
                dx = brandWord(at + 12);
            }
            case 7 -> {
                if (c.r32(Cpu.ECX) == 0) {
                    b = LEAF7_TSC_ADJUST;
                    dx = LEAF7_ARCH_CAPABILITIES; // sub-leaf 0; EAX = 0: no further sub-leaves
                }
            }
            case 0xD -> {
                if (c.r32(Cpu.ECX) == 0) {
                    // sub-leaf 0: the XCR0 bits supported, the area size for the current XCR0 and
                    // for all of them; x87 and SSE both live in the legacy region, so both sizes
                    // are the legacy region and header. Sub-leaf 1 (XSAVEOPT, XSAVEC, XGETBV1,
                    // XSAVES) and the per-component sub-leaves 2-63 stay zero: none is supported.
                    a = (int) XSave.SUPPORTED;
                    b = XSave.AREA_SIZE;
                    cx = XSave.AREA_SIZE;
                }
            }
            case 0x15 -> { // TSC = crystal * EBX / EAX: 25 MHz * 40 = the 1 GHz of our TSC
                a = 1;
                b = TSC_HZ / CRYSTAL_HZ;
                cx = CRYSTAL_HZ;
            }
            case 0x16 -> { // base, maximum and bus frequencies in MHz
                a = TSC_HZ / 1_000_000;
                b = TSC_HZ / 1_000_000;
                cx = CRYSTAL_HZ / 1_000_000;
            }
            case 0x8000_0007 -> dx = EXT_POWER_INVARIANT_TSC;
            case 0x8000_0008 -> a = ADDRESS_SIZES;
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
