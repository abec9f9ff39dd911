package io.p2vkit.image.vmdk;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.References;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static io.p2vkit.image.vmdk.VmdkConstants.*;

/** Checks a VMDK: its descriptor, then every extent it lists. */
final class VmdkChecker {

    private VmdkChecker() {
    }

    static CheckReport check(Path path, OpenOptions options) throws IOException {
        CheckReport report = new CheckReport("vmdk");
        long allocated = 0;
        long total = 0;
        try (ImageFile f = ImageFile.openRead(path)) {
            ByteBuffer head = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            f.readUpTo(0, head);
            int magic = head.position() == 4 ? head.getInt(0) : 0;
            if (magic == COWD_MAGIC) {
                throw new ImageFormatException("VMDK ESX sparse extent (COWD) is not supported");
            }
            if (magic == SPARSE_MAGIC) {
                SparseExtentChecker c = new SparseExtentChecker(f, path.getFileName().toString(), report);
                c.run(-1);
                checkEmbeddedDescriptor(f, report);
                report.allocation(c.allocatedGrains(), c.totalGrains());
                return report;
            }
            if (f.size() > MAX_DESCRIPTOR_BYTES) {
                throw new ImageFormatException("VMDK descriptor file is larger than " + MAX_DESCRIPTOR_BYTES + " bytes");
            }
            ByteBuffer b = f.read(0, (int) f.size(), "VMDK descriptor");
            int len = 0;
            while (len < b.limit() && b.get(len) != 0) {
                len++;
            }
            Descriptor d = Descriptor.parse(new String(b.array(), 0, len, StandardCharsets.UTF_8), "VMDK descriptor");
            for (Descriptor.ExtentLine line : d.extents()) {
                if (line.isZero()) {
                    continue;
                }
                Path file = References.resolve(path, line.fileName(), "VMDK extent", options);
                try (ImageFile e = ImageFile.openRead(file)) {
                    if (line.isFlat()) {
                        long need = (line.offsetSectors() + line.sectors()) * SECTOR;
                        if (e.size() < need) {
                            report.corruption(line.fileName() + ": flat extent holds " + e.size()
                                    + " bytes, its descriptor line needs " + need);
                        }
                        continue;
                    }
                    SparseExtentChecker c = new SparseExtentChecker(e, line.fileName(), report);
                    c.run(line.sectors());
                    allocated += c.allocatedGrains();
                    total += c.totalGrains();
                } catch (NoSuchFileException nf) {
                    report.corruption(line.fileName() + ": extent file is missing");
                } catch (java.nio.file.FileSystemException fs) {
                    report.corruption(line.fileName() + ": extent cannot be opened: " + fs.getReason());
                }
            }
            report.allocation(allocated, total);
        } catch (ImageFormatException e) {
            if (e instanceof io.p2vkit.image.UnsafeReferenceException) {
                throw e;
            }
            report.corruption(e.getMessage());
        }
        return report;
    }

    private static void checkEmbeddedDescriptor(ImageFile f, CheckReport report) throws IOException {
        try {
            SparseExtentHeader h = SparseExtentHeader.parse(f.read(0, SECTOR, "VMDK sparse header"), 0);
            String text = SparseExtent.readEmbeddedDescriptor(f, h);
            if (text != null && !text.isBlank()) {
                Descriptor d = Descriptor.parse(text, "VMDK embedded descriptor");
                if (d.totalSectors() != h.capacity()) {
                    report.corruption("embedded descriptor lists " + d.totalSectors()
                            + " sectors but the header's capacity is " + h.capacity());
                }
            }
        } catch (ImageFormatException e) {
            report.corruption(e.getMessage());
        }
    }
}
