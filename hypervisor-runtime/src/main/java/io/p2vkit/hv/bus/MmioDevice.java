package io.p2vkit.hv.bus;

/** A device in guest-physical address space. {@code size} is 1, 2, 4 or 8 bytes. */
public interface MmioDevice {

    long read(long offset, int size);

    void write(long offset, int size, long value);
}
