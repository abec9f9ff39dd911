package io.p2vkit.agent.fs;

import java.io.IOException;

/** A filesystem's allocation structures cannot be trusted; the caller copies it whole. */
public final class AllocationException extends IOException {
    public AllocationException(String message) {
        super(message);
    }
}
