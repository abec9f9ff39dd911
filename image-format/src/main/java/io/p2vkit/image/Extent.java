package io.p2vkit.image;

/** One run of a disk's address space: {@code [offset, offset + length)} of one {@link Kind}. */
public record Extent(long offset, long length, Kind kind) {

    /** What a run of the disk holds. */
    public enum Kind {
        /** Stored data (may still read as zeros). */
        DATA,
        /** Known zeros, stored as such by the format (a zero cluster, a hole, a zero grain). */
        ZERO,
        /** Not stored in this layer: reads come from the backing disk, or zeros without one. */
        UNALLOCATED
    }

    public Extent {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("bad extent " + offset + "+" + length);
        }
    }

    public long end() {
        return offset + length;
    }

    /** Whether reading this run can give anything but zeros, assuming no backing disk. */
    public boolean holdsData() {
        return kind == Kind.DATA;
    }
}
