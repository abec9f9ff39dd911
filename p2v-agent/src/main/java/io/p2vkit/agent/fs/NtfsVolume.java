package io.p2vkit.agent.fs;

import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * An NTFS volume's geometry from its boot sector, and its MFT records read with their
 * update-sequence fixups applied. Every number is bounded by the partition before it is used.
 */
record NtfsVolume(VirtualDisk disk, long start, long length, int bytesPerSector, long clusterSize, long clusters,
                  long recordSize, long mftLcn) {

    static final int ATTR_VOLUME_NAME = 0x60;
    static final int ATTR_DATA = 0x80;
    private static final int ATTR_END = 0xFFFFFFFF;
    private static final int VOLUME_RECORD = 3;

    static NtfsVolume open(VirtualDisk disk, long start, long length) throws IOException {
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
        return new NtfsVolume(disk, start, length, bps, clusterSize, clusters, recordSize, mftLcn);
    }

    /** MFT record {@code n} (one of the first, which sit together at the MFT's start), fixups applied. */
    ByteBuffer record(int n) throws IOException {
        ByteBuffer rec = Bytes.read(disk, start, length, mftLcn * clusterSize + n * recordSize, (int) recordSize);
        if (rec == null) {
            throw new AllocationException("NTFS MFT record " + n + " lies outside the partition");
        }
        applyFixups(rec, n);
        return rec;
    }

    /** Puts back the last two bytes of each sector from the update sequence array (NTFS "fixups"). */
    private void applyFixups(ByteBuffer rec, int n) throws AllocationException {
        if (!Bytes.matches(rec, 0, "FILE")) {
            throw new AllocationException("NTFS MFT record " + n + " has no FILE signature");
        }
        int usaOff = rec.getShort(4) & 0xFFFF;
        int usaCount = rec.getShort(6) & 0xFFFF;
        int sectors = rec.limit() / bytesPerSector;
        if (usaCount != sectors + 1 || usaOff + usaCount * 2 > rec.limit()) {
            throw new AllocationException("NTFS MFT record " + n + "'s update sequence is invalid");
        }
        short usn = rec.getShort(usaOff);
        for (int i = 1; i < usaCount; i++) {
            int tail = i * bytesPerSector - 2;
            if (rec.getShort(tail) != usn) {
                throw new AllocationException("NTFS MFT record " + n + " is torn (update sequence mismatch)");
            }
            rec.putShort(tail, rec.getShort(usaOff + 2 * i));
        }
    }

    /** Offset in {@code rec} of its first unnamed attribute of {@code type}, or -1. */
    static int attribute(ByteBuffer rec, int type) throws AllocationException {
        int off = rec.getShort(20) & 0xFFFF;
        for (int guard = 0; guard < 64 && off + 16 <= rec.limit(); guard++) {
            int t = rec.getInt(off);
            long attrLen = rec.getInt(off + 4) & 0xFFFF_FFFFL;
            if (t == ATTR_END) {
                return -1;
            }
            if (attrLen < 16 || off + attrLen > rec.limit()) {
                throw new AllocationException("NTFS attribute list is damaged");
            }
            if (t == type && (rec.get(off + 9) & 0xFF) == 0) {
                return off;
            }
            off += (int) attrLen;
        }
        return -1;
    }

    /** The volume label, from $Volume's resident $VOLUME_NAME; "" when it has none. */
    String label() throws IOException {
        ByteBuffer rec = record(VOLUME_RECORD);
        int off = attribute(rec, ATTR_VOLUME_NAME);
        if (off < 0 || rec.get(off + 8) != 0) {
            return "";
        }
        int valLen = rec.getInt(off + 16);
        int valOff = rec.getShort(off + 20) & 0xFFFF;
        long attrLen = rec.getInt(off + 4) & 0xFFFF_FFFFL;
        if (valLen < 0 || valLen > 256 || valOff + (long) valLen > attrLen) {
            return "";
        }
        byte[] name = new byte[valLen];
        rec.get(off + valOff, name);
        return new String(name, StandardCharsets.UTF_16LE);
    }
}
