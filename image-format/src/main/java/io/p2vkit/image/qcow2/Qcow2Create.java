package io.p2vkit.image.qcow2;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.Fields;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;

/**
 * Creating an image. Layout: cluster 0 holds the header, its extensions and the backing file
 * name; the L1 table follows from cluster 1; L2 tables and data are appended in write order;
 * the refcount blocks and table are written after them at close ({@link Qcow2Refcounts}).
 * Until then the header has the dirty bit set (v3) and no refcount table, so an unfinished
 * image is refused rather than misread.
 */
final class Qcow2Create {

    static final List<String> HELP = List.of(
            "cluster_size=SIZE      cluster size, a power of two from 512 to 2M (default 64K)",
            "compat=1.1|0.10        qcow2 version 3 (default) or 2",
            "compress=on|off        deflate every cluster (written in one ascending pass)",
            "backing_file=NAME      create a child image reading unwritten clusters from NAME",
            "backing_fmt=FMT        the backing file's format, stored in the image",
            "refcount_bits=N        refcount width, a power of two 1..64 (default 16; 16 for compat=0.10)",
            "lazy_refcounts=off     only off is supported",
            "preallocation=off      only off is supported");

    private Qcow2Create() {
    }

    static Qcow2Disk create(Path path, long requestedSize, CreateOptions options) throws IOException {
        long clusterSize = options.size("cluster_size", 1L << DEFAULT_CLUSTER_BITS);
        Fields.powerOfTwo("option cluster_size", -1, clusterSize, 1L << MIN_CLUSTER_BITS, 1L << MAX_CLUSTER_BITS);
        int clusterBits = Long.numberOfTrailingZeros(clusterSize);
        String compat = options.get("compat", "1.1").toLowerCase(Locale.ROOT);
        int version = switch (compat) {
            case "1.1", "v3" -> 3;
            case "0.10", "v2" -> 2;
            default -> throw new ImageFormatException("option compat: expected 1.1 or 0.10, got '" + compat + "'");
        };
        boolean compress = options.flag("compress", false);
        String backingFile = options.get("backing_file", null);
        String backingFormat = options.get("backing_fmt", null);
        long refcountBits = options.size("refcount_bits", 16);
        Fields.powerOfTwo("option refcount_bits", -1, refcountBits, 1, 64);
        if (version == 2 && refcountBits != 16) {
            throw new ImageFormatException("option refcount_bits: compat=0.10 images have 16-bit refcounts");
        }
        if (options.flag("lazy_refcounts", false)) {
            throw new ImageFormatException("option lazy_refcounts=on is not supported (refcounts are written"
                    + " once at close anyway)");
        }
        String prealloc = options.get("preallocation", "off");
        if (!prealloc.equalsIgnoreCase("off")) {
            throw new ImageFormatException("option preallocation: only off is supported, got '" + prealloc + "'");
        }
        options.rejectUnknown("qcow2");
        if (backingFormat != null && backingFile == null) {
            throw new ImageFormatException("option backing_fmt needs backing_file");
        }

        // QEMU sizes disks in 512-byte sectors; a size between sectors would be cut on its side.
        long size = requestedSize;
        Fields.inRange("qcow2 virtual size", -1, size, 0, MAX_OFFSET - SECTOR);
        size = (size + SECTOR - 1) & -(long) SECTOR;
        long l1Entries = Qcow2Header.l1EntriesFor(size, clusterBits);
        if (l1Entries * 8 > MAX_L1_BYTES) {
            throw new ImageFormatException("qcow2 virtual size " + size + " needs an L1 table larger than 32 MiB"
                    + " with " + clusterSize + "-byte clusters; use a larger cluster_size");
        }
        int l1Clusters = (int) ((l1Entries * 8 + clusterSize - 1) >>> clusterBits);

        boolean v3 = version == 3;
        int headerLength = v3 ? V3_HEADER_LENGTH_WITH_COMPRESSION : V2_HEADER_LENGTH;
        byte[] ext = Qcow2Extensions.encode(backingFormat, v3);
        byte[] name = backingFile == null ? new byte[0] : backingFile.getBytes(StandardCharsets.UTF_8);
        if (headerLength + ext.length + name.length > clusterSize) {
            ext = Qcow2Extensions.encode(backingFormat, false);
        }
        if (name.length > MAX_BACKING_NAME || headerLength + ext.length + name.length > clusterSize) {
            throw new ImageFormatException("qcow2 backing file name (" + name.length + " bytes) does not fit"
                    + " in the first cluster");
        }
        long backingOffset = name.length == 0 ? 0 : headerLength + ext.length;
        Qcow2Header h = new Qcow2Header(version, backingOffset, name.length, clusterBits, size, 0,
                (int) l1Entries, l1Entries == 0 ? 0 : clusterSize, 0, 0, 0, 0,
                v3 ? INCOMPAT_DIRTY : 0, 0, 0, Long.numberOfTrailingZeros(refcountBits), headerLength,
                COMPRESSION_DEFLATE);

        ImageFile f = ImageFile.create(path);
        VirtualDisk backing = null;
        try {
            ByteBuffer first = ByteBuffer.allocate((int) clusterSize);
            first.put(h.encode()).put(ext).put(name);
            first.clear();
            f.writeFully(0, first);
            if (l1Clusters > 0) {
                f.writeFully(clusterSize, ByteBuffer.allocate(l1Clusters * (int) clusterSize));
            }
            if (backingFile != null) {
                // The caller named the backing file: it is followed wherever it is.
                backing = Qcow2Open.openBacking(path, backingFile, backingFormat,
                        OpenOptions.READ_ONLY.withAllowExternal(true), io.p2vkit.image.Formats.get());
            }
            Qcow2Disk disk = new Qcow2Disk(f, h, new Qcow2Extensions(backingFormat, null, java.util.Map.of(),
                    null, List.of()), Qcow2ClusterMap.empty(f, h), backing, backingFile, compress);
            disk.markCreated();
            return disk;
        } catch (IOException | RuntimeException | Error e) {
            Qcow2Open.closeAfter(e, backing, f);
            throw e;
        }
    }
}
