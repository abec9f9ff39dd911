package io.p2vkit.hv.kvm;

/** A KVM call that failed: which one, and the errno the kernel gave. */
public final class KvmException extends RuntimeException {

    private final int errno;

    public KvmException(String what, int errno) {
        super(what + " failed: errno " + errno + " (" + Native.errnoName(errno) + ")");
        this.errno = errno;
    }

    public KvmException(String message) {
        super(message);
        this.errno = 0;
    }

    public int errno() {
        return errno;
    }
}
