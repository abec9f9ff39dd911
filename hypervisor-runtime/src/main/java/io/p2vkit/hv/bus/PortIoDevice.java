package io.p2vkit.hv.bus;

import java.lang.foreign.MemorySegment;

/**
 * A device on the I/O port bus. It sees offsets inside its own range, never port numbers, a vCPU
 * or a hypervisor handle. {@code size} is 1, 2 or 4 bytes. Accesses a chip would ignore are
 * ignored (reads return what the chip returns, usually all ones), never exceptions.
 */
public interface PortIoDevice {

    int read(int offset, int size);

    void write(int offset, int size, int value);

    /**
     * A REP INS's reads in one call: up to {@code count} elements of {@code size} bytes, each what
     * {@link #read} would return, stored one after another at {@code dst} from {@code dstOffset}.
     * Returns how many it read, stopping early wherever a read would do more than hand over data
     * it already holds; 0 means "use read", which is all a device without a data port offers.
     */
    default int readBlock(int offset, int size, MemorySegment dst, long dstOffset, int count) {
        return 0;
    }
}
