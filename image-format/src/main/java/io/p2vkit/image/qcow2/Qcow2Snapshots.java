package io.p2vkit.image.qcow2;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.Fields;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static io.p2vkit.image.qcow2.Qcow2Constants.MAX_L1_BYTES;

/**
 * The internal snapshot table (spec "Snapshots"). We never read a snapshot's data; the table is
 * parsed so that check() counts the clusters a snapshot holds, as QEMU does.
 */
final class Qcow2Snapshots {

    /** Fixed part of a snapshot table entry. */
    static final int ENTRY_FIXED = 40;
    /** QEMU's QCOW_MAX_SNAPSHOTS_SIZE: the whole table is at most 64 MiB. */
    static final long MAX_TABLE_BYTES = 64L << 20;

    /** One snapshot's L1 table. */
    record Snapshot(long l1Offset, int l1Size) {
    }

    /** The snapshots and the bytes the table occupies. */
    record Table(List<Snapshot> snapshots, long bytes) {
        static final Table NONE = new Table(List.of(), 0);
    }

    private Qcow2Snapshots() {
    }

    static Table read(ImageFile file, Qcow2Header h) throws IOException {
        if (h.nbSnapshots() == 0) {
            return Table.NONE;
        }
        long fileSize = file.size();
        List<Snapshot> out = new ArrayList<>();
        long pos = h.snapshotsOffset();
        long l1Bytes = 0;
        for (int i = 0; i < h.nbSnapshots(); i++) {
            Fields.require(pos - h.snapshotsOffset() + ENTRY_FIXED <= MAX_TABLE_BYTES,
                    "qcow2 snapshot table is larger than 64 MiB", h.snapshotsOffset());
            ByteBuffer e = file.read(pos, ENTRY_FIXED, "qcow2 snapshot table entry " + i).order(ByteOrder.BIG_ENDIAN);
            long l1Offset = e.getLong(0);
            long l1Size = Fields.u32(e.getInt(8));
            int idSize = e.getShort(12) & 0xFFFF;
            int nameSize = e.getShort(14) & 0xFFFF;
            long extra = Fields.u32(e.getInt(36));
            Fields.inRange("qcow2 snapshot " + i + " extra_data_size", pos + 36, extra, 0, 1024);
            Fields.inRange("qcow2 snapshot " + i + " l1_size", pos + 8, l1Size, 0, MAX_L1_BYTES / 8);
            if (l1Size > 0) {
                Fields.require(l1Offset > 0 && l1Offset % h.clusterSize() == 0 && l1Offset < fileSize
                                && l1Size * 8 <= fileSize - l1Offset,
                        "qcow2 snapshot " + i + " L1 table at " + l1Offset + " is misaligned or beyond the file",
                        pos);
            }
            // Each snapshot's L1 table is its own allocation, so together they fit in the file;
            // a damaged table naming one region over and over would otherwise cost a read each.
            l1Bytes += l1Size * 8;
            Fields.require(l1Bytes <= fileSize, "qcow2 snapshot L1 tables add up to more than the file holds",
                    pos);
            out.add(new Snapshot(l1Offset, (int) l1Size));
            long len = ENTRY_FIXED + extra + idSize + nameSize;
            pos += (len + 7) & ~7L;
            if (pos > fileSize) {
                throw new ImageFormatException("qcow2 snapshot table runs past the end of the file",
                        h.snapshotsOffset());
            }
        }
        return new Table(out, pos - h.snapshotsOffset());
    }
}
