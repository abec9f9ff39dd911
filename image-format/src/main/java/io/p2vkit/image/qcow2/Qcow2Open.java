package io.p2vkit.image.qcow2;

import io.p2vkit.image.DiskOpener;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.References;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;

/** Opening an existing image: header, extensions, feature checks, backing file, L1 table. */
final class Qcow2Open {

    /** Longer backing chains are refused: a chain that names itself would never end. */
    static final int MAX_CHAIN_DEPTH = 32;
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    /** The parsed start of an image. */
    record Start(Qcow2Header header, Qcow2Extensions extensions, String backingName) {
    }

    private Qcow2Open() {
    }

    /** Reads and checks the header, its extensions and the backing file name. */
    static Start readStart(ImageFile f) throws IOException {
        long fileSize = f.size();
        int headLength = (int) Math.min(fileSize, 1L << MAX_CLUSTER_BITS);
        ByteBuffer head = ByteBuffer.allocate(headLength);
        f.readFully(0, head, "qcow2 header");
        head.flip();
        Qcow2Header h = Qcow2Header.parse(head, fileSize);
        ByteBuffer firstCluster = head.duplicate().limit(Math.min(headLength, h.clusterSize()));
        Qcow2Extensions ext = Qcow2Extensions.parse(firstCluster, h);
        String backing = null;
        if (h.backingFileSize() > 0) {
            byte[] name = new byte[h.backingFileSize()];
            head.get((int) h.backingFileOffset(), name);
            backing = new String(name, StandardCharsets.UTF_8);
        }
        return new Start(h, ext, backing);
    }

    /** Refuses incompatible features we do not implement, naming each. */
    static void checkFeatures(Qcow2Header h, Qcow2Extensions ext) throws ImageFormatException {
        long bits = h.incompatibleFeatures();
        if ((bits & INCOMPAT_DATA_FILE) != 0) {
            throw new ImageFormatException("qcow2 external data file"
                    + (ext.dataFile() != null ? " '" + ext.dataFile() + "'" : "") + " is not supported");
        }
        if ((bits & INCOMPAT_EXTL2) != 0) {
            throw new ImageFormatException("qcow2 extended L2 entries (subclusters) are not supported");
        }
        if (h.compressionType() != COMPRESSION_DEFLATE) {
            throw new ImageFormatException("qcow2 compression type "
                    + (h.compressionType() == COMPRESSION_ZSTD ? "zstd" : String.valueOf(h.compressionType()))
                    + " is not supported (only zlib)");
        }
        long unknown = bits & ~INCOMPAT_KNOWN;
        if (unknown != 0) {
            List<String> names = new ArrayList<>();
            for (int bit = 0; bit < 64; bit++) {
                if ((unknown & (1L << bit)) != 0) {
                    names.add(ext.incompatibleName(bit));
                }
            }
            throw new ImageFormatException("qcow2 image needs incompatible feature(s) we do not support: "
                    + String.join(", ", names), OFF_INCOMPATIBLE_FEATURES);
        }
    }

    /** Why this image cannot be opened for writing, or null. */
    private static String writeRefusal(Qcow2Header h, Qcow2Extensions ext) {
        if (h.isCorrupt()) {
            return "qcow2 image is marked corrupt; open it read-only or repair it with qemu-img check -r all";
        }
        if (h.version() < 3) {
            return "writing to an existing qcow2 v2 image is not supported (it has no dirty bit to guard"
                    + " the refcounts); upgrade it with qemu-img amend -o compat=1.1";
        }
        if (h.nbSnapshots() > 0) {
            return "writing to a qcow2 image with internal snapshots is not supported";
        }
        return null;
    }

    static Qcow2Disk open(Path path, OpenOptions options, DiskOpener opener) throws IOException {
        ImageFile f = ImageFile.open(path, options.readOnly());
        VirtualDisk backing = null;
        try {
            Start s = readStart(f);
            Qcow2Header h = s.header();
            checkFeatures(h, s.extensions());
            if (h.refcountTableClusters() == 0) {
                // As QEMU: only check() looks at an image without a refcount table.
                throw new ImageFormatException("qcow2 image has no refcount table (refcount_table_clusters is 0)",
                        OFF_REFCOUNT_TABLE_CLUSTERS);
            }
            if (!options.readOnly()) {
                String refusal = writeRefusal(h, s.extensions());
                if (refusal != null) {
                    throw new ImageFormatException(refusal);
                }
            }
            Qcow2ClusterMap map = Qcow2ClusterMap.load(f, h);
            if (s.backingName() != null && options.followReferences()) {
                backing = openBacking(path, s.backingName(), s.extensions().backingFormat(), options, opener);
            }
            return new Qcow2Disk(f, h, s.extensions(), map, backing, s.backingName(), false);
        } catch (IOException | RuntimeException | Error e) {
            closeAfter(e, backing, f);
            throw e;
        }
    }

    /** Closes what a failed open or create had opened, keeping the first failure as the cause. */
    static void closeAfter(Throwable failure, AutoCloseable... resources) {
        for (AutoCloseable r : resources) {
            if (r == null) {
                continue;
            }
            try {
                r.close();
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
        }
    }

    /**
     * Opens the backing file read-only: named relative to the image's folder, refused outside it
     * unless allowed, opened as the backing-format extension says or else by probing.
     */
    static VirtualDisk openBacking(Path image, String name, String format, OpenOptions options, DiskOpener opener)
            throws IOException {
        Path resolved = References.resolve(image, name, "qcow2 backing file", options);
        int[] depth = DEPTH.get();
        if (depth[0] >= MAX_CHAIN_DEPTH) {
            throw new ImageFormatException("qcow2 backing chain is deeper than " + MAX_CHAIN_DEPTH
                    + " images (does it loop?) at '" + name + "'");
        }
        depth[0]++;
        try {
            if (format != null) {
                ImageFormat f = Formats.get().byName(format).orElseThrow(() -> new ImageFormatException(
                        "qcow2 backing file '" + name + "' has unknown format '" + format + "'"));
                return f.open(resolved, options.forBacking(), opener);
            }
            return opener.open(resolved, options.forBacking());
        } catch (ImageFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageFormatException("cannot open qcow2 backing file '" + name + "': " + e, e);
        } finally {
            depth[0]--;
        }
    }
}
