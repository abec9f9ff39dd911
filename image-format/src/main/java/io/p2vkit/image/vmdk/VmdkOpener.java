package io.p2vkit.image.vmdk;

import io.p2vkit.image.DiskOpener;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.References;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.p2vkit.image.vmdk.VmdkConstants.*;

/**
 * Opens a VMDK: either a sparse extent file (KDMV magic; its embedded descriptor, if any, only
 * supplies metadata, the data is the file itself) or a text descriptor file whose extents are
 * resolved as references next to it.
 */
final class VmdkOpener {

    private VmdkOpener() {
    }

    /** How deep a chain of parents may go; deeper is taken for a loop. */
    static final int MAX_CHAIN = 64;
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    static VmdkDisk open(Path path, OpenOptions options, DiskOpener opener) throws IOException {
        VmdkDisk disk = openLayer(path, options);
        try {
            return attachParent(disk, path, options, opener);
        } catch (IOException | RuntimeException e) {
            disk.close();
            throw e;
        }
    }

    /**
     * Opens the parent a child disk names (spec, "parentFileNameHint") through {@code opener}, read
     * only, as a reference that must stay in the image's folder unless allowed. With
     * {@code followReferences} off (info) the child opens alone and reads unallocated grains as zeros.
     */
    private static VmdkDisk attachParent(VmdkDisk disk, Path path, OpenOptions options, DiskOpener opener)
            throws IOException {
        Descriptor d = disk.descriptor();
        if (!d.hasParent() || !options.followReferences()) {
            return disk;
        }
        String hint = d.parentFileNameHint();
        if (hint == null) {
            throw new ImageFormatException("VMDK child disk (parentCID " + String.format("%08x", d.parentCid())
                    + ") names no parent file (parentFileNameHint)");
        }
        Path parentPath = References.resolve(path, hint, "VMDK parent", options);
        if (parentPath.toAbsolutePath().normalize().equals(path.toAbsolutePath().normalize())) {
            throw new ImageFormatException("VMDK disk names itself as its parent");
        }
        int[] depth = DEPTH.get();
        if (depth[0] >= MAX_CHAIN) {
            throw new ImageFormatException("VMDK parent chain is deeper than " + MAX_CHAIN + " disks (a loop?)");
        }
        depth[0]++;
        VirtualDisk parent;
        try {
            parent = opener.open(parentPath, options.forBacking());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ImageFormatException("VMDK parent disk '" + hint + "' is missing");
        } finally {
            depth[0]--;
        }
        // VMware refuses a child whose parent changed since the child was made; so do we.
        if (parent instanceof VmdkDisk p && p.descriptor().cid() != d.parentCid()) {
            long cid = p.descriptor().cid();
            parent.close();
            throw new ImageFormatException("VMDK parent '" + hint + "' has CID " + String.format("%08x", cid)
                    + " but the child expects " + String.format("%08x", d.parentCid())
                    + ": the parent was changed after the child was made");
        }
        return disk.withParent(parent);
    }

    private static VmdkDisk openLayer(Path path, OpenOptions options) throws IOException {
        int magic;
        long fileSize;
        try (ImageFile f = ImageFile.openRead(path)) {
            fileSize = f.size();
            ByteBuffer head = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            f.readUpTo(0, head);
            magic = head.position() == 4 ? head.getInt(0) : 0;
        }
        if (magic == COWD_MAGIC) {
            throw new ImageFormatException("VMDK ESX sparse extent (COWD) is not supported: " + path.getFileName());
        }
        if (magic == SPARSE_MAGIC) {
            return openSparse(path, options);
        }
        return openDescriptorFile(path, fileSize, options);
    }

    private static VmdkDisk openSparse(Path path, OpenOptions options) throws IOException {
        SparseExtent extent = SparseExtent.open(ImageFile.open(path, options.readOnly()), path.getFileName().toString());
        try {
            Descriptor d = embeddedOrSynthetic(extent, path);
            VmdkDisk disk = new VmdkDisk(path, d, List.of(extent), List.of(path), options.readOnly());
            SparseExtentHeader h = extent.header();
            if (!options.readOnly() && h.descriptorOffset() > 0 && h.descriptorSize() > 0) {
                disk.renewContentIdOnWrite(ContentIdRenewer.forEmbedded(path, h));
            }
            return disk;
        } catch (IOException | RuntimeException e) {
            extent.close();
            throw e;
        }
    }

    /** The embedded descriptor, or one made up for a bare sparse extent (e.g. an x-s001.vmdk). */
    private static Descriptor embeddedOrSynthetic(SparseExtent extent, Path path) throws IOException {
        String text = extent.embeddedDescriptor();
        SparseExtentHeader h = extent.header();
        if (text != null && !text.isBlank()) {
            // Only metadata comes from here: the size is the header's capacity, as in qemu;
            // check() reports an extent line that disagrees with it.
            return Descriptor.parse(text, "VMDK embedded descriptor");
        }
        Map<String, String> header = new LinkedHashMap<>();
        header.put("version", "1");
        header.put("CID", "ffffffff");
        header.put("parentCID", "ffffffff");
        header.put("createType", h.compressed() ? "streamOptimized" : "monolithicSparse");
        return new Descriptor(header, List.of(new Descriptor.ExtentLine("RW", Math.max(1, h.capacity()), "SPARSE",
                path.getFileName().toString(), 0)), Map.of());
    }

    private static VmdkDisk openDescriptorFile(Path path, long fileSize, OpenOptions options) throws IOException {
        if (fileSize > MAX_DESCRIPTOR_BYTES) {
            throw new ImageFormatException("VMDK descriptor file is " + fileSize + " bytes, more than the "
                    + MAX_DESCRIPTOR_BYTES + " a descriptor may hold (is this a VMDK at all?)");
        }
        String text;
        try (ImageFile f = ImageFile.openRead(path)) {
            ByteBuffer b = f.read(0, (int) fileSize, "VMDK descriptor");
            int len = 0;
            while (len < fileSize && b.get(len) != 0) {
                len++;
            }
            text = new String(b.array(), 0, len, StandardCharsets.UTF_8);
        }
        Descriptor d = Descriptor.parse(text, "VMDK descriptor");
        List<VmdkExtent> extents = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        try {
            for (Descriptor.ExtentLine line : d.extents()) {
                if (line.isZero()) {
                    extents.add(new ZeroExtent(line.sectors()));
                    continue;
                }
                Path file = References.resolve(path, line.fileName(), "VMDK extent", options);
                if (file.toAbsolutePath().normalize().equals(path.toAbsolutePath().normalize())) {
                    throw new ImageFormatException("VMDK descriptor names itself as extent '" + line.fileName() + "'");
                }
                if (java.nio.file.Files.isDirectory(file)) {
                    throw new ImageFormatException("VMDK extent '" + line.fileName() + "' is a directory");
                }
                boolean ro = options.readOnly() || line.readOnly();
                files.add(file);
                if (line.isFlat()) {
                    extents.add(FlatExtent.open(ImageFile.open(file, ro), line.fileName(), line.sectors(),
                            line.offsetSectors()));
                } else {
                    extents.add(SparseExtent.open(ImageFile.open(file, ro), line.fileName(), line.sectors()));
                }
            }
        } catch (IOException | RuntimeException e) {
            for (VmdkExtent x : extents) {
                try {
                    x.close();
                } catch (IOException ignored) {
                    // the first failure is what the user needs to see
                }
            }
            if (e instanceof java.nio.file.NoSuchFileException nf) {
                throw new ImageFormatException("VMDK extent file is missing: " + nf.getFile());
            }
            if (e instanceof java.nio.file.FileSystemException fs) {
                // A directory, a device without permission...: the descriptor names something unusable.
                throw new ImageFormatException("VMDK extent '" + fs.getFile() + "' cannot be opened: " + fs.getReason());
            }
            throw e;
        }
        VmdkDisk disk = new VmdkDisk(path, d, extents, files, options.readOnly());
        return options.readOnly() ? disk : disk.renewContentIdOnWrite(ContentIdRenewer.forDescriptorFile(path));
    }
}
