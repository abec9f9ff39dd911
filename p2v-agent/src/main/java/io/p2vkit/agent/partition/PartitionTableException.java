package io.p2vkit.agent.partition;

import java.io.IOException;

/** A partition table that cannot be trusted (bad checksums on both GPT copies, entries past the disk). */
public final class PartitionTableException extends IOException {
    public PartitionTableException(String message) {
        super(message);
    }
}
