package io.p2vkit.hv.emu;

/** A fault while delivering a double fault: a real CPU shuts down (SDM Vol. 3 §6.15, #DF). */
final class TripleFault extends RuntimeException {

    TripleFault(String message) {
        super(message, null, false, false);
    }
}
