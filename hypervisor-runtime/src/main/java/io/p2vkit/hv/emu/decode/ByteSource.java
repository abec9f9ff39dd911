package io.p2vkit.hv.emu.decode;

/** Where the decoder reads instruction bytes: byte {@code i} counted from the instruction start. */
@FunctionalInterface
public interface ByteSource {

    /** The byte at {@code offset} (0-14), zero-extended. May throw the CPU's fetch fault. */
    int byteAt(int offset);
}
