package io.p2vkit.hv.memory;

/** A guest-physical range outside every RAM/ROM region (or a write to ROM). */
public final class GuestMemoryException extends RuntimeException {

    private final long address;

    public GuestMemoryException(long address, long length) {
        super("guest-physical range 0x" + Long.toHexString(address) + "+" + length + " is not memory");
        this.address = address;
    }

    public long address() {
        return address;
    }
}
