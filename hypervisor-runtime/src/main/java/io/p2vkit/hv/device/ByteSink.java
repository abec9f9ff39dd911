package io.p2vkit.hv.device;

/** Where a device sends bytes the guest emits (a serial line, the firmware's debug port). */
@FunctionalInterface
public interface ByteSink {

    void put(int b);

    /** A sink that drops everything. */
    ByteSink NONE = b -> { };
}
