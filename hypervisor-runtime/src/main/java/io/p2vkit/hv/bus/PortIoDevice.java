package io.p2vkit.hv.bus;

/**
 * A device on the I/O port bus. It sees offsets inside its own range, never port numbers, a vCPU
 * or a hypervisor handle. {@code size} is 1, 2 or 4 bytes. Accesses a chip would ignore are
 * ignored (reads return what the chip returns, usually all ones), never exceptions.
 */
public interface PortIoDevice {

    int read(int offset, int size);

    void write(int offset, int size, int value);
}
