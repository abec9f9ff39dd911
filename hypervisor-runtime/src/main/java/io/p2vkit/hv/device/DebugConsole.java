package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;

/**
 * The Bochs/QEMU debug console port (0x402 for SeaBIOS on QEMU): every byte written is a
 * character of the firmware's debug log. Reading returns 0xE9, which is how SeaBIOS checks that
 * the port exists before it writes there.
 */
public final class DebugConsole implements PortIoDevice {

    public static final int PRESENT = 0xE9;
    private final ByteSink sink;

    public DebugConsole(ByteSink sink) {
        this.sink = sink;
    }

    @Override
    public int read(int offset, int size) {
        return PRESENT;
    }

    @Override
    public void write(int offset, int size, int value) {
        sink.put(value & 0xFF);
    }
}
