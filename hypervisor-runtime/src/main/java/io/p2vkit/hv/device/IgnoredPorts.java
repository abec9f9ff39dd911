package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;

/**
 * Ports a guest pokes that we do not model (the machine builder lists each with the reason).
 * Reads return what an empty ISA bus returns, all ones; writes are dropped; all are counted.
 */
public final class IgnoredPorts implements PortIoDevice {

    private long accesses;

    @Override
    public synchronized int read(int offset, int size) {
        accesses++;
        return size == 4 ? -1 : (1 << (8 * size)) - 1;
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        accesses++;
    }

    public synchronized long accesses() {
        return accesses;
    }
}
