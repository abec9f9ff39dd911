package io.p2vkit.agent.fs;

import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Used clusters of an NTFS volume from $Bitmap (MFT record 6): its unnamed $DATA attribute is a
 * bitmap with one bit per cluster. The record is read with its update-sequence fixups applied and
 * its run list decoded with every length and offset bounded by the volume.
 */
final class NtfsAllocation {

    private static final int BITMAP_RECORD = 6;

    private NtfsAllocation() {
    }

    static ByteRanges usedRanges(VirtualDisk disk, long start, long length) throws IOException {
        NtfsVolume v = NtfsVolume.open(disk, start, length);
        long clusterSize = v.clusterSize();
        long clusters = v.clusters();
        ByteBuffer rec = v.record(BITMAP_RECORD);
        ByteBuffer bitmap = readBitmapData(disk, start, length, rec, clusterSize, clusters);
        ByteRanges used = new ByteRanges();
        long runStart = -1;
        for (long c = 0; c < clusters; c++) {
            boolean set = (bitmap.get((int) (c >>> 3)) & (1 << (c & 7))) != 0;
            if (set && runStart < 0) {
                runStart = c;
            } else if (!set && runStart >= 0) {
                used.add(runStart * clusterSize, c * clusterSize);
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            used.add(runStart * clusterSize, clusters * clusterSize);
        }
        used.add(0, clusterSize); // the boot sector, whatever the bitmap says
        used.add(clusters * clusterSize, length); // the backup boot sector sits past the last cluster
        return used;
    }

    private static ByteBuffer readBitmapData(VirtualDisk disk, long start, long length, ByteBuffer rec,
                                             long clusterSize, long clusters) throws IOException {
        int off = NtfsVolume.attribute(rec, NtfsVolume.ATTR_DATA);
        if (off < 0) {
            throw new AllocationException("NTFS $Bitmap has no data attribute");
        }
        long attrLen = rec.getInt(off + 4) & 0xFFFF_FFFFL;
        long need = (clusters + 7) / 8;
        ByteBuffer out = ByteBuffer.allocate((int) need);
        if (rec.get(off + 8) == 0) { // resident
            int valLen = rec.getInt(off + 16);
            int valOff = rec.getShort(off + 20) & 0xFFFF;
            if (valLen < need || valOff + need > attrLen) {
                throw new AllocationException("NTFS $Bitmap is shorter than the volume");
            }
            out.put(rec.slice(off + valOff, (int) need));
            return out.flip();
        }
        int runsOff = rec.getShort(off + 32) & 0xFFFF;
        if (runsOff >= attrLen) {
            throw new AllocationException("NTFS $Bitmap run list is damaged");
        }
        readRuns(disk, start, length, rec.slice(off + runsOff, (int) attrLen - runsOff)
                .order(ByteOrder.LITTLE_ENDIAN), clusterSize, clusters, out);
        if (out.hasRemaining()) {
            throw new AllocationException("NTFS $Bitmap's runs are shorter than the volume");
        }
        return out.flip();
    }

    /** Decodes a run list (header nibbles: length bytes, offset bytes) and reads the runs. */
    private static void readRuns(VirtualDisk disk, long start, long length, ByteBuffer runs, long clusterSize,
                                 long clusters, ByteBuffer out) throws IOException {
        long lcn = 0;
        int p = 0;
        while (p < runs.limit() && out.hasRemaining()) {
            int header = runs.get(p) & 0xFF;
            if (header == 0) {
                break;
            }
            int lenBytes = header & 0xF;
            int offBytes = header >>> 4;
            if (lenBytes == 0 || lenBytes > 8 || offBytes > 8 || p + 1 + lenBytes + offBytes > runs.limit()) {
                throw new AllocationException("NTFS $Bitmap run list is damaged");
            }
            long runLen = signed(runs, p + 1, lenBytes);
            long delta = offBytes == 0 ? 0 : signed(runs, p + 1 + lenBytes, offBytes);
            p += 1 + lenBytes + offBytes;
            if (offBytes == 0) {
                throw new AllocationException("NTFS $Bitmap is sparse, which it never is");
            }
            lcn += delta;
            if (runLen <= 0 || lcn < 0 || lcn + runLen > clusters) {
                throw new AllocationException("NTFS $Bitmap run points outside the volume");
            }
            long bytes = Math.min(runLen * clusterSize, out.remaining());
            ByteBuffer part = Bytes.read(disk, start, length, lcn * clusterSize, (int) bytes);
            if (part == null) {
                throw new AllocationException("NTFS $Bitmap run lies outside the partition");
            }
            out.put(part);
        }
    }

    private static long signed(ByteBuffer b, int off, int n) {
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b.get(off + i) & 0xFF);
        }
        int shift = 64 - 8 * n;
        return (v << shift) >> shift;
    }
}
