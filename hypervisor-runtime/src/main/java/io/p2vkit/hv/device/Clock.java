package io.p2vkit.hv.device;

/** Monotonic time for devices that count it (PIT, RTC). Injected so tests control time. */
@FunctionalInterface
public interface Clock {

    long nanos();

    Clock SYSTEM = System::nanoTime;
}
