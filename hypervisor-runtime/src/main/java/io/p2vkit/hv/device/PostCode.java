package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;

/** Port 0x80, the POST diagnostic port: firmware writes progress codes; Linux uses it as a delay. */
public final class PostCode implements PortIoDevice {

    private volatile int last = -1;
    private long writes;

    @Override
    public int read(int offset, int size) {
        return 0xFF;   // nothing drives the bus on a read
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        last = value & 0xFF;
        writes++;
    }

    /** The last code written, or -1. */
    public int last() {
        return last;
    }

    public synchronized long writes() {
        return writes;
    }
}
