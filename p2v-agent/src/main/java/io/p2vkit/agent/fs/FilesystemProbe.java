package io.p2vkit.agent.fs;

import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Optional;

/**
 * Recognises a filesystem or volume format from its superblock, the way blkid does, but in Java
 * and without trusting any field further than a bounds check.
 */
public final class FilesystemProbe {

    private FilesystemProbe() {
    }

    /** The filesystem in {@code [start, start + length)} of {@code disk}, if one is recognised. */
    public static Optional<Filesystem> probe(VirtualDisk disk, long start, long length) throws IOException {
        ByteBuffer head = Bytes.read(disk, start, length, 0, (int) Math.min(length, 8192));
        if (head == null || head.limit() < 512) {
            return Optional.empty();
        }
        Filesystem fs = luks(head);
        if (fs == null) fs = xfs(head);
        if (fs == null) fs = ntfs(head, disk, start, length);
        if (fs == null) fs = exfat(head, disk, start, length);
        if (fs == null) fs = fat(head, length);
        if (fs == null) fs = ext(head);
        if (fs == null) fs = swap(head);
        if (fs == null) fs = lvm(head);
        if (fs == null) fs = btrfs(disk, start, length);
        return Optional.ofNullable(fs);
    }

    /** ext2/3/4: superblock at 1024, magic 0xEF53; the features tell the generation. */
    private static Filesystem ext(ByteBuffer h) {
        if (h.limit() < 2048 || (h.getShort(1024 + 56) & 0xFFFF) != 0xEF53) {
            return null;
        }
        ExtSuperblock sb = ExtSuperblock.parse(h.slice(1024, 1024).order(ByteOrder.LITTLE_ENDIAN));
        if (sb == null) {
            return null;
        }
        String type = sb.isExt4() ? "ext4" : sb.hasJournal() ? "ext3" : "ext2";
        return new Filesystem(type, sb.label(), sb.uuid(), sb.blocksCount() * sb.blockSize(),
                (sb.blocksCount() - sb.freeBlocks()) * sb.blockSize());
    }

    private static Filesystem xfs(ByteBuffer h) {
        if (!Bytes.matches(h, 0, "XFSB")) {
            return null;
        }
        ByteBuffer be = h.duplicate().order(ByteOrder.BIG_ENDIAN);
        long blockSize = be.getInt(4) & 0xFFFF_FFFFL;
        long blocks = be.getLong(8);
        long free = be.getLong(144);
        boolean sane = blockSize >= 512 && blockSize <= 65536 && blocks > 0 && free >= 0 && free <= blocks;
        return new Filesystem("xfs", Bytes.ascii(h, 108, 12), Bytes.uuid(h, 32), sane ? blocks * blockSize : -1,
                sane ? (blocks - free) * blockSize : -1);
    }

    private static Filesystem btrfs(VirtualDisk disk, long start, long length) throws IOException {
        ByteBuffer sb = Bytes.read(disk, start, length, 0x10000, 0x1000);
        if (!Bytes.matches(sb, 0x40, "_BHRfS_M")) {
            return null;
        }
        return new Filesystem("btrfs", Bytes.ascii(sb, 0x12b, 256), Bytes.uuid(sb, 0x20), sb.getLong(0x70),
                sb.getLong(0x78));
    }

    /** NTFS: the label lives in $Volume (MFT record 3); a damaged MFT leaves it empty. */
    private static Filesystem ntfs(ByteBuffer h, VirtualDisk disk, long start, long length) throws IOException {
        if (!Bytes.matches(h, 3, "NTFS    ")) {
            return null;
        }
        long sectors = h.getLong(40);
        int bps = h.getShort(11) & 0xFFFF;
        String serial = String.format(Locale.ROOT, "%016X", h.getLong(72));
        String label;
        try {
            label = NtfsVolume.open(disk, start, length).label();
        } catch (AllocationException e) {
            label = "";
        }
        return new Filesystem("ntfs", label, serial, bps > 0 && sectors > 0 ? (sectors + 1) * bps : -1, -1);
    }

    private static Filesystem exfat(ByteBuffer h, VirtualDisk disk, long start, long length) throws IOException {
        if (!Bytes.matches(h, 3, "EXFAT   ")) {
            return null;
        }
        int serial = h.getInt(100);
        String id = String.format(Locale.ROOT, "%04X-%04X", (serial >>> 16) & 0xFFFF, serial & 0xFFFF);
        int shift = h.get(108);
        long len = h.getLong(72);
        return new Filesystem("exfat", exfatLabel(h, disk, start, length), id,
                shift >= 9 && shift <= 12 && len > 0 ? len << shift : -1, -1);
    }

    /** exFAT keeps its label in a Volume Label entry (type 0x83) of the root directory's first cluster. */
    private static String exfatLabel(ByteBuffer h, VirtualDisk disk, long start, long length) throws IOException {
        int sectorShift = h.get(108);
        int clusterShift = h.get(109);
        long heap = h.getInt(88) & 0xFFFF_FFFFL;
        long root = h.getInt(96) & 0xFFFF_FFFFL;
        if (sectorShift < 9 || sectorShift > 12 || clusterShift < 0 || clusterShift > 25 - sectorShift || root < 2) {
            return "";
        }
        long offset = (heap << sectorShift) + ((root - 2) << (sectorShift + clusterShift));
        int bytes = (int) Math.min(1L << (sectorShift + clusterShift), 64 * 1024);
        ByteBuffer dir = Bytes.read(disk, start, length, offset, bytes);
        if (dir == null) {
            return "";
        }
        for (int e = 0; e + 32 <= dir.limit(); e += 32) {
            int type = dir.get(e) & 0xFF;
            if (type == 0) {
                break;
            }
            if (type == 0x83) {
                int chars = Math.min(dir.get(e + 1) & 0xFF, 11);
                byte[] name = new byte[chars * 2];
                dir.get(e + 2, name);
                return new String(name, java.nio.charset.StandardCharsets.UTF_16LE);
            }
        }
        return "";
    }

    private static Filesystem fat(ByteBuffer h, long partLength) {
        FatBootSector bs = FatBootSector.parse(h, partLength);
        if (bs == null) {
            return null;
        }
        String id = String.format(Locale.ROOT, "%04X-%04X", (bs.volumeId() >>> 16) & 0xFFFF, bs.volumeId() & 0xFFFF);
        String label = bs.label().equals("NO NAME") ? "" : bs.label();
        return new Filesystem(bs.type(), label, id, bs.totalSectors() * bs.bytesPerSector(), -1);
    }

    /** Linux swap v1: "SWAPSPACE2" ends the first page (4 KiB on x86). */
    private static Filesystem swap(ByteBuffer h) {
        if (h.limit() < 4096 || !Bytes.matches(h, 4096 - 10, "SWAPSPACE2")) {
            return null;
        }
        long pages = h.getInt(1024 + 4) & 0xFFFF_FFFFL;
        return new Filesystem("swap", Bytes.ascii(h, 1024 + 28, 16), Bytes.uuid(h, 1024 + 12), (pages + 1) * 4096, 0);
    }

    /** LVM2 physical volume: a "LABELONE" label in one of the first four sectors. */
    private static Filesystem lvm(ByteBuffer h) {
        for (int s = 0; s < 4; s++) {
            int off = s * 512;
            if (off + 512 <= h.limit() && Bytes.matches(h, off, "LABELONE") && Bytes.matches(h, off + 24, "LVM2 001")) {
                int pvOff = off + (h.getInt(off + 20));
                String id = pvOff >= 0 && pvOff + 32 <= h.limit() ? Bytes.ascii(h, pvOff, 32) : "";
                return new Filesystem("lvm2_member", "", lvmUuid(id), -1, -1);
            }
        }
        return null;
    }

    /** LVM prints its 32-character ids in groups of 6-4-4-4-4-4-6. */
    private static String lvmUuid(String id) {
        if (id.length() != 32) {
            return id;
        }
        int[] groups = {6, 4, 4, 4, 4, 4, 6};
        StringBuilder sb = new StringBuilder();
        int at = 0;
        for (int g : groups) {
            if (at > 0) {
                sb.append('-');
            }
            sb.append(id, at, at + g);
            at += g;
        }
        return sb.toString();
    }

    private static Filesystem luks(ByteBuffer h) {
        if (!(Bytes.matches(h, 0, "LUKS\u00ba\u00be") || Bytes.matches(h, 0, "SKUL\u00ba\u00be"))) {
            return null;
        }
        int version = h.duplicate().order(ByteOrder.BIG_ENDIAN).getShort(6);
        String label = version == 2 ? Bytes.ascii(h, 24, 48) : "";
        return new Filesystem("crypto_luks", label, Bytes.ascii(h, 168, 40), -1, -1);
    }
}
