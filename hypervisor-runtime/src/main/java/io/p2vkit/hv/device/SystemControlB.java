package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;

/**
 * Port 0x61, the PC/AT system control port B: bit 0 gates PIT channel 2, bit 1 drives the
 * speaker, bit 4 toggles with DRAM refresh every 15.085 µs (old delay loops count it), bit 5
 * reads channel 2's output (TSC calibration in SeaBIOS and Linux). Used with the emulator; on KVM
 * the in-kernel PIT owns this port.
 */
public final class SystemControlB implements PortIoDevice {

    public static final int B_GATE2 = 0x01;
    public static final int B_SPEAKER = 0x02;
    public static final int B_REFRESH = 0x10;
    public static final int B_OUT2 = 0x20;
    private static final long REFRESH_NANOS = 15_085;

    private final Pit8254 pit;
    private final Clock clock;
    private int value;

    public SystemControlB(Pit8254 pit, Clock clock) {
        this.pit = pit;
        this.clock = clock;
    }

    @Override
    public synchronized int read(int offset, int size) {
        int refresh = (clock.nanos() / REFRESH_NANOS & 1) != 0 ? B_REFRESH : 0;
        return value & (B_GATE2 | B_SPEAKER) | refresh | (pit.output2() ? B_OUT2 : 0);
    }

    @Override
    public synchronized void write(int offset, int size, int v) {
        value = v & (B_GATE2 | B_SPEAKER);
        pit.setGate2((v & B_GATE2) != 0);
    }
}
