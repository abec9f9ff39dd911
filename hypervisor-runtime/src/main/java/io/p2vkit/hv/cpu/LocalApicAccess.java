package io.p2vkit.hv.cpu;

/**
 * What a CPU core needs from its own local APIC: the interrupts it takes (fixed vectors, and the
 * 8259's through LINT0 in ExtINT mode), the APIC's MMIO page (decoded by the core itself, since
 * every CPU sees its own APIC at the same address), the MSRs that belong to the APIC, and the
 * INIT, start-up and NMI signals that change the core's run state.
 */
public interface LocalApicAccess extends InterruptController {

    /** {@link #takeSignals()} bits. */
    int SIGNAL_INIT = 1;
    int SIGNAL_SIPI = 2;
    int SIGNAL_NMI = 4;

    /** The initial APIC ID (CPUID leaf 1 EBX[31:24]). */
    int initialApicId();

    /** Whether this is the bootstrap processor (IA32_APIC_BASE bit 8). */
    boolean isBootstrapProcessor();

    /** IA32_APIC_BASE as RDMSR returns it. */
    long apicBaseMsr();

    /** WRMSR IA32_APIC_BASE; false when the value is refused (the CPU raises #GP). */
    boolean writeApicBaseMsr(long value);

    /** The physical address of the MMIO page while the APIC is globally enabled, else -1. */
    long mmioBase();

    /** A read of the APIC page at {@code offset} (0-0xFFF); size 1, 2, 4 or 8. */
    long mmioRead(long offset, int size);

    void mmioWrite(long offset, int size, long value);

    /** IA32_TSC_DEADLINE as RDMSR returns it. */
    long tscDeadline();

    void writeTscDeadline(long tsc);

    /** The core's TSC is its clock plus this offset (WRMSR IA32_TIME_STAMP_COUNTER moved it). */
    void setTscOffset(long offset);

    /** Clears and returns pending {@code SIGNAL_*} bits. */
    int takeSignals();

    /** The vector of the last start-up IPI (the AP starts at vector << 12). */
    int startupVector();

    /** Nanoseconds until the APIC timer next needs a look, or -1 when it is idle. */
    long nanosToNextEvent();

    /** Run by the APIC whenever something arrives for the core (it unparks a halted vCPU). */
    void setWakeup(Runnable wakeup);

    /** TPR bits 7:4, what MOV from CR8 reads in 64-bit mode. */
    int taskPriorityClass();

    void setTaskPriorityClass(int value);
}
