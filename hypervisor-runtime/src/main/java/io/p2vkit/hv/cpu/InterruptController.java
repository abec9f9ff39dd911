package io.p2vkit.hv.cpu;

/**
 * What a CPU engine asks its interrupt controller (the PIC pair, or the local APIC): is an
 * interrupt pending, and which vector does acknowledging it deliver (the INTA cycle).
 */
public interface InterruptController {

    /** Whether a maskable interrupt is waiting for the CPU. */
    boolean hasPendingInterrupt();

    /** Acknowledges the highest-priority pending interrupt and returns its vector. */
    int acknowledge();
}
