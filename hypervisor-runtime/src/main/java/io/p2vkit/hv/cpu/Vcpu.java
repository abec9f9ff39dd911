package io.p2vkit.hv.cpu;

/**
 * One virtual CPU, whichever engine runs it (KVM or our emulator). The machine calls {@link #run}
 * on a dedicated thread; it returns only when the guest stops.
 */
public interface Vcpu {

    /** Why {@link #run} returned. */
    enum Stop {
        /** The guest powered off or reset was requested and the machine is stopping. */
        SHUTDOWN,
        /** Three faults in a row: the CPU would reset. Reported as a failure. */
        TRIPLE_FAULT,
        /** The machine asked the vCPU to stop (timeout, verify matched, user quit). */
        REQUESTED,
        /** The engine met something it cannot run; {@link #stopReason()} says what. */
        ERROR
    }

    /** Runs the guest until it stops; see {@link Stop}. */
    Stop run();

    /** Asks a running vCPU to stop soon; safe from any thread. */
    void requestStop();

    /** A one-line explanation of the last stop (the faulting instruction, the KVM exit...). */
    String stopReason();

    /** Instructions retired so far, where the engine knows (the emulator does; KVM returns -1). */
    long instructionsRetired();

    /**
     * A device wrote guest RAM behind the CPU's back (DMA). Engines that cache decoded code drop
     * what covers {@code [gpa, gpa + length)}; hardware-assisted ones need nothing.
     */
    default void memoryWritten(long gpa, long length) {
    }

    /**
     * What the guest tried that this engine does not implement (the emulator raises #UD for it),
     * as one line, or "" when nothing. A boot report shows it so that a failing guest is never
     * blamed on the guest when the engine is what lacks something.
     */
    default String missingFeatures() {
        return "";
    }
}
