package io.p2vkit.image.vmdk;

import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static io.p2vkit.image.vmdk.VmdkConstants.*;

/**
 * Creates an empty hosted sparse extent laid out as VMware and qemu do: header, optional embedded
 * descriptor, redundant grain directory and its tables, grain directory and its tables, then the
 * grains from {@code overHead} on. The tables are preallocated but left as holes in the file, so
 * a multi-TiB extent costs only its directories until data arrives.
 */
final class SparseExtentWriter {

    private SparseExtentWriter() {
    }

    /**
     * Creates {@code path} (which must not exist) for {@code capacity} sectors and returns it open
     * for writing. {@code descriptor} is embedded when not null.
     */
    static SparseExtent create(Path path, long capacity, String descriptor, boolean zeroedGrain) throws IOException {
        ImageFile file = ImageFile.create(path);
        try {
            long descSectors = 0;
            byte[] descBytes = null;
            if (descriptor != null) {
                descBytes = descriptor.getBytes(StandardCharsets.UTF_8);
                descSectors = Math.max(EMBEDDED_DESCRIPTOR_SECTORS, ceilDiv(descBytes.length, SECTOR));
            }
            int flags = FLAG_NEWLINE_TEST | FLAG_REDUNDANT_GD | (zeroedGrain ? FLAG_ZERO_GRAIN_GTE : 0);
            SparseExtentHeader shape = new SparseExtentHeader(zeroedGrain ? VERSION_ZEROED_GRAIN : VERSION_1, flags,
                    capacity, DEFAULT_GRAIN_SECTORS, descriptor == null ? 0 : 1, descSectors, DEFAULT_GTES_PER_GT,
                    0, 0, 0, false, COMPRESSION_NONE);
            long gts = shape.gtCount();
            long gdSectors = shape.gdBytes() / SECTOR;
            long gtSectors = shape.gtBytes() / SECTOR;
            long rgd = 1 + descSectors;
            long gd = rgd + gdSectors + gts * gtSectors;
            long end = gd + gdSectors + gts * gtSectors;
            long overHead = ceilDiv(end, DEFAULT_GRAIN_SECTORS) * DEFAULT_GRAIN_SECTORS;
            SparseExtentHeader h = new SparseExtentHeader(shape.version(), flags, capacity, DEFAULT_GRAIN_SECTORS,
                    shape.descriptorOffset(), descSectors, DEFAULT_GTES_PER_GT, rgd, gd, overHead, false,
                    COMPRESSION_NONE);
            file.writeFully(0, h.toBytes());
            if (descBytes != null) {
                file.writeFully(SECTOR, ByteBuffer.wrap(descBytes));
            }
            int[] gdEntries = new int[(int) gts];
            int[] rgdEntries = new int[(int) gts];
            for (int i = 0; i < gts; i++) {
                rgdEntries[i] = (int) (rgd + gdSectors + i * gtSectors);
                gdEntries[i] = (int) (gd + gdSectors + i * gtSectors);
            }
            GrainDirectory dir = GrainDirectory.fresh(file, h, gdEntries, rgdEntries);
            dir.writeDirectories();
            file.extendTo(overHead * SECTOR);
            return SparseExtent.created(file, path.getFileName().toString(), h, dir);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }
}
