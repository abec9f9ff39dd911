package io.p2vkit.hv.emu.decode;

/** The bytes are longer than the 15-byte architectural limit (the CPU raises #GP). */
public final class DecodeException extends RuntimeException {

    public DecodeException(String message) {
        super(message, null, false, false);
    }
}
