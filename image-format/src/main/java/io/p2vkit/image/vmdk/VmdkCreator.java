package io.p2vkit.image.vmdk;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static io.p2vkit.image.vmdk.VmdkConstants.*;

/**
 * Creates new VMDK disks of each subformat. Multi-file subformats put their extent files next to
 * the descriptor, named after it ({@code x.vmdk} → {@code x-flat.vmdk}, {@code x-s001.vmdk}...),
 * and refer to them by that relative name.
 */
final class VmdkCreator {

    /** Hosted sparse extents hold their preallocated tables; past this they stop making sense. */
    static final long MAX_SPARSE_CAPACITY_SECTORS = (64L << 40) / SECTOR;

    private VmdkCreator() {
    }

    static VirtualDisk create(Path path, long size, VmdkCreateSettings s) throws IOException {
        if (size < 0) {
            throw new ImageFormatException("size must not be negative");
        }
        // VMDK counts sectors; a size that is not a multiple of 512 is rounded up, as qemu-img does.
        long capacity = ceilDiv(size, SECTOR);
        if (capacity == 0) {
            throw new ImageFormatException("a VMDK disk holds at least one sector (512 bytes)");
        }
        if (capacity > MAX_CAPACITY_SECTORS) {
            throw new ImageFormatException("VMDK size " + size + " is larger than the format holds");
        }
        boolean sparse = !s.subformat().equals("monolithicFlat");
        if (sparse && capacity > MAX_SPARSE_CAPACITY_SECTORS) {
            throw new ImageFormatException("VMDK sparse disks of more than 64 TiB are not supported");
        }
        if (s.zeroedGrain() && s.subformat().equals("streamOptimized")) {
            throw new ImageFormatException("option zeroed_grain does not apply to streamOptimized");
        }
        String self = path.getFileName().toString();
        return switch (s.subformat()) {
            case "streamOptimized" -> StreamOptimizedWriter.create(path, capacity,
                    s.descriptor(capacity, List.of(new Descriptor.ExtentLine("RW", capacity, "SPARSE", self, 0))));
            case "monolithicSparse" -> monolithicSparse(path, capacity, s);
            case "monolithicFlat" -> monolithicFlat(path, capacity, s);
            case "twoGbMaxExtentSparse" -> split(path, capacity, s);
            default -> throw new ImageFormatException("VMDK subformat " + s.subformat() + " cannot be created");
        };
    }

    private static VirtualDisk monolithicSparse(Path path, long capacity, VmdkCreateSettings s) throws IOException {
        String self = path.getFileName().toString();
        Descriptor d = s.descriptor(capacity, List.of(new Descriptor.ExtentLine("RW", capacity, "SPARSE", self, 0)));
        SparseExtent e = SparseExtentWriter.create(path, capacity, d.toText(), s.zeroedGrain());
        return new VmdkDisk(path, d, List.of(e), List.of(path), false);
    }

    private static VirtualDisk monolithicFlat(Path path, long capacity, VmdkCreateSettings s) throws IOException {
        String flatName = baseName(path) + "-flat.vmdk";
        Path flat = path.resolveSibling(flatName);
        requireAbsent(path);
        Descriptor d = s.descriptor(capacity, List.of(new Descriptor.ExtentLine("RW", capacity, "FLAT", flatName, 0)));
        ImageFile f = ImageFile.create(flat);
        try {
            f.extendTo(capacity * SECTOR);
            writeDescriptor(path, d);
        } catch (IOException | RuntimeException e) {
            f.close();
            Files.deleteIfExists(flat);
            throw e;
        }
        return new VmdkDisk(path, d, List.of(new FlatExtent(f, flatName, capacity, 0)), List.of(flat), false);
    }

    private static VirtualDisk split(Path path, long capacity, VmdkCreateSettings s) throws IOException {
        requireAbsent(path);
        String base = baseName(path);
        List<Descriptor.ExtentLine> lines = new ArrayList<>();
        List<VmdkExtent> extents = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        try {
            long left = capacity;
            int n = 1;
            while (left > 0) {
                long sectors = Math.min(left, SPLIT_EXTENT_SECTORS);
                String name = String.format(Locale.ROOT, "%s-s%03d.vmdk", base, n++);
                Path file = path.resolveSibling(name);
                extents.add(SparseExtentWriter.create(file, sectors, null, s.zeroedGrain()));
                files.add(file);
                lines.add(new Descriptor.ExtentLine("RW", sectors, "SPARSE", name, 0));
                left -= sectors;
            }
            Descriptor d = s.descriptor(capacity, lines);
            writeDescriptor(path, d);
            return new VmdkDisk(path, d, extents, files, false);
        } catch (IOException | RuntimeException e) {
            for (VmdkExtent x : extents) {
                try {
                    x.close();
                } catch (IOException ignored) {
                    // report the first failure
                }
            }
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
            throw e;
        }
    }

    private static void requireAbsent(Path path) throws IOException {
        if (Files.exists(path)) {
            throw new java.nio.file.FileAlreadyExistsException(path.toString());
        }
    }

    private static void writeDescriptor(Path path, Descriptor d) throws IOException {
        try (ImageFile f = ImageFile.create(path)) {
            f.writeFully(0, ByteBuffer.wrap(d.toText().getBytes(StandardCharsets.UTF_8)));
        }
    }

    /** {@code disk.vmdk} → {@code disk}; a name without .vmdk loses only its last extension. */
    static String baseName(Path path) {
        String name = path.getFileName().toString();
        if (name.toLowerCase(Locale.ROOT).endsWith(".vmdk")) {
            return name.substring(0, name.length() - 5);
        }
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
