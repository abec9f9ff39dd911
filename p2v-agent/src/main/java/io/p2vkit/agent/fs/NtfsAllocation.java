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
    private static final int ATTR_DATA = 0x80;
    private static final int ATTR_END = 0xFFFFFFFF;

    private NtfsAllocation() {
    }

    static ByteRanges usedRanges(VirtualDisk disk, long start, long length) throws IOException {
        ByteBuffer boot = Bytes.read(disk, start, length, 0, 512);
        if (boot == null || !Bytes.matches(boot, 3, "NTFS    ")) {
            throw new AllocationException("NTFS boot sector is damaged");
        }
        int bps = boot.getShort(11) & 0xFFFF;
        int spcRaw = boot.get(13) & 0xFF;
        long spc = spcRaw <= 0x80 ? spcRaw : 1L << (256 - spcRaw);
        long clusterSize = bps * spc;
        long totalSectors = boot.getLong(40);
        if (bps < 256 || bps > 4096 || Integer.bitCount(bps) != 1 || spc == 0 || clusterSize > (2 << 20)
                || totalSectors <= 0 || totalSectors > length / bps) {
            throw new AllocationException("NTFS geometry in the boot sector is invalid or larger than the partition");
        }
        long clusters = totalSectors * bps / clusterSize;
        int recRaw = boot.get(64);
        long recordSize = recRaw > 0 ? recRaw * clusterSize : 1L << -recRaw;
        long mftLcn = boot.getLong(48);
        if (recordSize < 256 || recordSize > 65536 || mftLcn <= 0 || mftLcn >= clusters) {
            throw new AllocationException("NTFS MFT location or record size is invalid");
        }
        ByteBuffer rec = Bytes.read(disk, start, length, mftLcn * clusterSize + BITMAP_RECORD * recordSize,
                (int) recordSize);
        if (rec == null) {
            throw new AllocationException("NTFS $Bitmap record lies outside the partition");
        }
        applyFixups(rec, bps);
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

    /** Puts back the last two bytes of each sector from the update sequence array (NTFS "fixups"). */
    private static void applyFixups(ByteBuffer rec, int sectorSize) throws AllocationException {
        if (!Bytes.matches(rec, 0, "FILE")) {
            throw new AllocationException("NTFS $Bitmap record has no FILE signature");
        }
        int usaOff = rec.getShort(4) & 0xFFFF;
        int usaCount = rec.getShort(6) & 0xFFFF;
        int sectors = rec.limit() / sectorSize;
        if (usaCount != sectors + 1 || usaOff + usaCount * 2 > rec.limit()) {
            throw new AllocationException("NTFS $Bitmap record's update sequence is invalid");
        }
        short usn = rec.getShort(usaOff);
        for (int i = 1; i < usaCount; i++) {
            int tail = i * sectorSize - 2;
            if (rec.getShort(tail) != usn) {
                throw new AllocationException("NTFS $Bitmap record is torn (update sequence mismatch)");
            }
            rec.putShort(tail, rec.getShort(usaOff + 2 * i));
        }
    }

    private static ByteBuffer readBitmapData(VirtualDisk disk, long start, long length, ByteBuffer rec,
                                             long clusterSize, long clusters) throws IOException {
        int off = rec.getShort(20) & 0xFFFF;
        for (int guard = 0; guard < 64 && off + 16 <= rec.limit(); guard++) {
            int type = rec.getInt(off);
            long attrLen = rec.getInt(off + 4) & 0xFFFF_FFFFL;
            if (type == ATTR_END) {
                break;
            }
            if (attrLen < 16 || off + attrLen > rec.limit()) {
                throw new AllocationException("NTFS $Bitmap attribute list is damaged");
            }
            boolean nonResident = rec.get(off + 8) != 0;
            int nameLen = rec.get(off + 9) & 0xFF;
            if (type == ATTR_DATA && nameLen == 0) {
                long need = (clusters + 7) / 8;
                ByteBuffer out = ByteBuffer.allocate((int) need);
                if (!nonResident) {
                    int valLen = rec.getInt(off + 16);
                    int valOff = rec.getShort(off + 20) & 0xFFFF;
                    if (valLen < need || off + valOff + need > off + attrLen) {
                        throw new AllocationException("NTFS $Bitmap is shorter than the volume");
                    }
                    out.put(rec.slice(off + valOff, (int) need));
                    return out.flip();
                }
                int runsOff = rec.getShort(off + 32) & 0xFFFF;
                readRuns(disk, start, length, rec.slice(off + runsOff, (int) attrLen - runsOff)
                        .order(ByteOrder.LITTLE_ENDIAN), clusterSize, clusters, out);
                if (out.hasRemaining()) {
                    throw new AllocationException("NTFS $Bitmap's runs are shorter than the volume");
                }
                return out.flip();
            }
            off += (int) attrLen;
        }
        throw new AllocationException("NTFS $Bitmap has no data attribute");
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
