package io.p2vkit.agent.fs;

import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.util.Optional;

/** Which filesystems p2vkit can map, and the map of one: the byte ranges it uses. */
public final class AllocationMaps {

    /** Bytes of a swap area kept: the header page, which carries the label and UUID. */
    private static final long SWAP_HEADER = 4096;

    private AllocationMaps() {
    }

    /**
     * The used ranges of the filesystem {@code fs} at {@code [start, start + length)}, relative to
     * {@code start}; empty when p2vkit does not map this type (the caller copies it whole).
     *
     * @throws AllocationException when the structures are damaged (the caller copies it whole)
     */
    public static Optional<ByteRanges> usedRanges(VirtualDisk disk, long start, long length, Filesystem fs)
            throws IOException {
        return switch (fs.type()) {
            case "ext2", "ext3", "ext4" -> Optional.of(ExtAllocation.usedRanges(disk, start, length));
            case "fat12", "fat16", "fat32" -> Optional.of(FatAllocation.usedRanges(disk, start, length));
            case "ntfs" -> Optional.of(NtfsAllocation.usedRanges(disk, start, length));
            case "swap" -> Optional.of(new ByteRanges().add(0, Math.min(SWAP_HEADER, length)));
            default -> Optional.empty();
        };
    }
}
