package io.p2vkit.image.vhd;

import static io.p2vkit.image.vhd.VhdConstants.MAX_GEOMETRY_SECTORS;
import static io.p2vkit.image.vhd.VhdConstants.SECTOR;

/**
 * The footer's "Disk Geometry": cylinders, heads and sectors per track, as the BIOS of a
 * Virtual PC guest sees the disk.
 */
record VhdGeometry(int cylinders, int heads, int sectorsPerTrack) {

    /** The geometry that tells readers to use the footer's current size (qemu's convention too). */
    static final VhdGeometry MAXIMUM = new VhdGeometry(VhdConstants.MAX_CYLINDERS, VhdConstants.MAX_HEADS,
            VhdConstants.MAX_SECTORS_PER_TRACK);

    long sectors() {
        return (long) cylinders * heads * sectorsPerTrack;
    }

    boolean isMaximum() {
        return sectors() == MAX_GEOMETRY_SECTORS;
    }

    /**
     * Spec appendix "CHS Calculation", line for line: the geometry Virtual PC gives a disk of
     * {@code totalSectors}. Its product may be less than {@code totalSectors}.
     */
    static VhdGeometry forSectors(long totalSectors) {
        long total = Math.min(totalSectors, MAX_GEOMETRY_SECTORS);
        int spt;
        long heads;
        long cylTimesHeads;
        if (total >= 65535L * 16 * 63) {
            spt = 255;
            heads = 16;
            cylTimesHeads = total / spt;
        } else {
            spt = 17;
            cylTimesHeads = total / spt;
            heads = (cylTimesHeads + 1023) / 1024;
            if (heads < 4) {
                heads = 4;
            }
            if (cylTimesHeads >= heads * 1024 || heads > 16) {
                spt = 31;
                heads = 16;
                cylTimesHeads = total / spt;
            }
            if (cylTimesHeads >= heads * 1024) {
                spt = 63;
                heads = 16;
                cylTimesHeads = total / spt;
            }
        }
        return new VhdGeometry((int) (cylTimesHeads / heads), (int) heads, spt);
    }

    /**
     * The smallest size of at least {@code bytes} (rounded up to a sector) that a geometry
     * describes exactly, as qemu-img rounds without force_size, and that geometry. Past the
     * largest geometry (about 127 GiB) no geometry fits: the size stays as asked and the
     * geometry is the maximum, which readers take as "use the current size".
     */
    static Rounded roundUp(long bytes) {
        long wanted = Math.ceilDiv(bytes, SECTOR);
        if (wanted >= MAX_GEOMETRY_SECTORS) {
            return new Rounded(wanted * SECTOR, MAXIMUM);
        }
        // Each geometry's product is a multiple of heads x sectors per track (< 4080 sectors),
        // so this ends within a few thousand steps.
        for (long candidate = wanted; ; candidate++) {
            VhdGeometry g = forSectors(candidate);
            if (g.isMaximum()) {
                return new Rounded(wanted * SECTOR, MAXIMUM);
            }
            if (g.sectors() >= wanted) {
                return new Rounded(g.sectors() * SECTOR, g);
            }
        }
    }

    /** A size and the geometry that describes it. */
    record Rounded(long size, VhdGeometry geometry) {
    }

    @Override
    public String toString() {
        return cylinders + "/" + heads + "/" + sectorsPerTrack;
    }
}
