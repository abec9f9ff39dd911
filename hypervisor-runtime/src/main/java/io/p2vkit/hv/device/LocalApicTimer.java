package io.p2vkit.hv.device;

/**
 * The local APIC timer (SDM Vol. 3 §11.5.4): a 32-bit down-counter clocked by the APIC bus clock
 * through the divide configuration register, in one-shot, periodic or TSC-deadline mode. Nothing
 * ticks: the count is computed from the clock when read, and {@link #poll} says whether an
 * interrupt is due. The bus clock is {@link #FREQUENCY_HZ}, derived from the same nanosecond
 * clock the emulator's TSC counts (1 GHz): the 25 MHz core crystal that CPUID leaves 0x15 and
 * 0x16 report, which Linux takes as the APIC timer's rate without calibrating it. Not
 * thread-safe: {@link LocalApic} guards it.
 */
final class LocalApicTimer {

    /** The APIC timer clock: the crystal of CPUID leaf 0x15, one tick per 40 ns of the machine's clock. */
    static final long FREQUENCY_HZ = 25_000_000L;
    private static final long NANOS_PER_TICK = 1_000_000_000L / FREQUENCY_HZ;

    static final int MODE_ONE_SHOT = 0;
    static final int MODE_PERIODIC = 1;
    static final int MODE_TSC_DEADLINE = 2;

    private final Clock clock;
    private int divideConfig;
    private int shift;              // log2 of the divisor
    private int initialCount;
    private long startNanos;
    private boolean running;        // one-shot or periodic counting
    private long nextExpiry;        // clock nanos of the next interrupt
    private long deadlineTsc;       // IA32_TSC_DEADLINE as written; 0 = disarmed
    private long tscOffset;         // TSC = clock nanos + offset (the vCPU's IA32_TIME_STAMP_COUNTER)
    private int mode;

    LocalApicTimer(Clock clock) {
        this.clock = clock;
        writeDivide(0);
    }

    void reset() {
        writeDivide(0);
        initialCount = 0;
        running = false;
        deadlineTsc = 0;
        mode = MODE_ONE_SHOT;
    }

    int divideConfig() {
        return divideConfig;
    }

    /** Bits 0, 1 and 3 select divide by 2, 4, 8, 16, 32, 64, 128 or 1 (SDM Figure 11-10). */
    void writeDivide(int value) {
        long now = clock.nanos();
        int current = running ? currentCount(now) : 0;
        divideConfig = value & 0xB;
        int code = (divideConfig & 3) | ((divideConfig & 8) >> 1);
        shift = (code + 1) & 7;
        if (running) {
            // The count continues from where it is at the new rate.
            startNanos = now - ticksToNanos((initialCount & 0xFFFF_FFFFL) - (current & 0xFFFF_FFFFL));
            nextExpiry = now + ticksToNanos(current & 0xFFFF_FFFFL);
        }
    }

    /**
     * The LVT timer mode changed. Switching between TSC-deadline and the counting modes disarms
     * the timer (SDM §11.5.4.1); one-shot and periodic keep counting.
     */
    void setMode(int newMode) {
        boolean deadlineBefore = mode == MODE_TSC_DEADLINE;
        boolean deadlineAfter = newMode == MODE_TSC_DEADLINE;
        if (deadlineBefore != deadlineAfter) {
            running = false;
            initialCount = 0;
            deadlineTsc = 0;
        }
        mode = newMode;
    }

    int initialCount() {
        return initialCount;
    }

    /** A write to the initial count starts the count (0 stops it); ignored in TSC-deadline mode. */
    void writeInitialCount(int value) {
        if (mode == MODE_TSC_DEADLINE) {
            return;
        }
        initialCount = value;
        running = value != 0;
        startNanos = clock.nanos();
        nextExpiry = startNanos + ticksToNanos(value & 0xFFFF_FFFFL);
    }

    int currentCount() {
        return currentCount(clock.nanos());
    }

    private int currentCount(long now) {
        if (!running || mode == MODE_TSC_DEADLINE) {
            return 0;
        }
        long ticks = (now - startNanos) / NANOS_PER_TICK >>> shift;
        long initial = initialCount & 0xFFFF_FFFFL;
        if (mode == MODE_PERIODIC) {
            return (int) (initial - ticks % initial);
        }
        return ticks >= initial ? 0 : (int) (initial - ticks);
    }

    long deadline() {
        return deadlineTsc;
    }

    /** WRMSR IA32_TSC_DEADLINE: arms the timer for that TSC value (0 disarms); ignored outside that mode. */
    void writeDeadline(long tsc) {
        if (mode != MODE_TSC_DEADLINE) {
            return;
        }
        deadlineTsc = tsc;
    }

    void setTscOffset(long offset) {
        tscOffset = offset;
    }

    /**
     * Whether the timer expired since the last poll. A periodic timer reloads and skips the
     * periods a stalled vCPU missed (one interrupt, as a masked-then-unmasked APIC would give);
     * one-shot stops at zero; the deadline disarms (IA32_TSC_DEADLINE reads 0 afterwards).
     */
    boolean poll() {
        long now = clock.nanos();
        if (mode == MODE_TSC_DEADLINE) {
            if (deadlineTsc != 0 && now + tscOffset - deadlineTsc >= 0) {
                deadlineTsc = 0;
                return true;
            }
            return false;
        }
        if (!running || now - nextExpiry < 0) {
            return false;
        }
        if (mode == MODE_PERIODIC) {
            long period = ticksToNanos(initialCount & 0xFFFF_FFFFL);
            long behind = (now - nextExpiry) / period + 1;
            nextExpiry += behind * period;
        } else {
            running = false;
        }
        return true;
    }

    /** Nanoseconds for {@code ticks} counts at the current divisor (at most 2^32 * 128 * 40: no overflow). */
    private long ticksToNanos(long ticks) {
        return (ticks << shift) * NANOS_PER_TICK;
    }

    /** Nanoseconds until the next expiry (0 when due), or -1 when nothing is armed. */
    long nanosToExpiry() {
        long now = clock.nanos();
        long until;
        if (mode == MODE_TSC_DEADLINE) {
            if (deadlineTsc == 0) {
                return -1;
            }
            until = deadlineTsc - (now + tscOffset);
        } else {
            if (!running) {
                return -1;
            }
            until = nextExpiry - now;
        }
        return Math.max(0, until);
    }
}
