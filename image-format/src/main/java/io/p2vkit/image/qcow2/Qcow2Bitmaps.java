package io.p2vkit.image.qcow2;

import io.p2vkit.image.io.Fields;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;

/**
 * Persistent dirty bitmaps (spec "Bitmaps extension", "Bitmap directory", "Bitmap table"). We
 * neither read nor keep them; check() counts the clusters they hold, as QEMU does, so that an
 * image with bitmaps is not reported as leaking. When a writer that does not know bitmaps
 * changes the image it clears the autoclear bit, and the bitmaps stop counting (QEMU ignores
 * them from then on).
 */
final class Qcow2Bitmaps {

    /** QEMU's limits: 65535 bitmaps, a directory of at most 64 MiB. */
    static final long MAX_BITMAPS = 65535;
    static final long MAX_DIRECTORY = 64L << 20;
    static final int ENTRY_FIXED = 24;
    /** More structures than this are refused: far beyond any real image, and bounds memory. */
    static final int MAX_RANGES = 1 << 18;

    private Qcow2Bitmaps() {
    }

    /** {offset, bytes} of every structure the bitmaps hold (directory, tables, data clusters). */
    static List<long[]> ranges(ImageFile file, Qcow2Header h, Qcow2Extensions ext) throws IOException {
        List<long[]> out = new ArrayList<>();
        Qcow2Extensions.Bitmaps b = ext.bitmaps();
        if (b == null || (h.autoclearFeatures() & AUTOCLEAR_BITMAPS) == 0 || b.count() == 0) {
            return out;
        }
        long fileSize = file.size();
        Fields.inRange("qcow2 bitmap count", -1, b.count(), 1, MAX_BITMAPS);
        Fields.inRange("qcow2 bitmap directory size", -1, b.directorySize(), ENTRY_FIXED,
                Math.min(MAX_DIRECTORY, fileSize));
        Fields.require(b.directoryOffset() > 0 && b.directoryOffset() % h.clusterSize() == 0
                        && b.directoryOffset() <= fileSize - b.directorySize(),
                "qcow2 bitmap directory at " + b.directoryOffset() + " is misaligned or beyond the file", -1);
        out.add(new long[] {b.directoryOffset(), b.directorySize()});
        ByteBuffer dir = file.read(b.directoryOffset(), (int) b.directorySize(), "qcow2 bitmap directory")
                .order(ByteOrder.BIG_ENDIAN);
        int pos = 0;
        long tableBytes = 0;
        for (long i = 0; i < b.count(); i++) {
            Fields.require(pos + ENTRY_FIXED <= dir.limit(), "qcow2 bitmap directory is cut short",
                    b.directoryOffset());
            long tableOffset = dir.getLong(pos);
            long tableEntries = Fields.u32(dir.getInt(pos + 8));
            int nameSize = dir.getShort(pos + 18) & 0xFFFF;
            long extra = Fields.u32(dir.getInt(pos + 20));
            Fields.require(tableOffset > 0 && tableOffset % h.clusterSize() == 0 && tableOffset < fileSize,
                    "qcow2 bitmap table at " + tableOffset + " is misaligned or beyond the file",
                    b.directoryOffset() + pos);
            Fields.inRange("qcow2 bitmap table size", b.directoryOffset() + pos + 8, tableEntries, 0,
                    Math.min((fileSize - tableOffset) / 8, MAX_L1_BYTES / 8));
            // Tables are their own allocations: together they fit in the file.
            tableBytes += tableEntries * 8;
            Fields.require(tableBytes <= fileSize, "qcow2 bitmap tables add up to more than the file holds",
                    b.directoryOffset() + pos);
            out.add(new long[] {tableOffset, tableEntries * 8});
            ByteBuffer table = file.read(tableOffset, (int) (tableEntries * 8), "qcow2 bitmap table")
                    .order(ByteOrder.BIG_ENDIAN);
            for (int k = 0; k < tableEntries; k++) {
                long data = table.getLong(k * 8) & OFFSET_MASK;
                if (data != 0) {
                    Fields.require(out.size() < MAX_RANGES, "qcow2 bitmaps name more than " + MAX_RANGES
                            + " clusters", tableOffset);
                    out.add(new long[] {data, h.clusterSize()});
                }
            }
            long len = ENTRY_FIXED + extra + nameSize;
            Fields.require(len <= b.directorySize() - pos, "qcow2 bitmap directory entry runs past its end",
                    b.directoryOffset() + pos);
            pos += (int) ((len + 7) & ~7L);
        }
        return out;
    }
}
