package io.p2vkit.image.vhd;

import static io.p2vkit.image.vhd.VhdConstants.SECTOR;

/**
 * Which footer field gives the disk's size. The spec has two candidates that usually disagree:
 * "Current Size" (bytes) and "Disk Geometry" (cylinders x heads x sectors, which Virtual PC's
 * BIOS shows the guest and which rounds down). The creator application decides:
 *
 * <ul>
 *   <li>"vpc " (Virtual PC), "vs  " (Virtual Server) and "qemu" (qemu-img without force_size)
 *   size by geometry: that is what their guests saw;</li>
 *   <li>everything else ("win " Hyper-V, "d2v " Disk2vhd, "qem2" qemu-img with force_size,
 *   "tap\0" XenServer, "CTXS" XenConverter, "wa\0\0" Azure, and creators we do not know) by
 *   current size, the field the spec calls the disk's size;</li>
 *   <li>and any disk whose geometry is the maximum 65535/16/255 by current size, because that
 *   geometry means "too big for CHS" (qemu writes it for force_size and for disks over 127 GiB).</li>
 * </ul>
 *
 * qemu differs in one place: it sizes creators it does not know by geometry. Our rule never
 * hides data the footer says is there.
 */
final class VhdSizeRule {

    private VhdSizeRule() {
    }

    /** Whether the disk is sized by its geometry rather than its current size. */
    static boolean usesGeometry(VhdFooter footer) {
        if (footer.geometry().isMaximum()) {
            return false;
        }
        return switch (footer.creatorApp()) {
            case "vpc ", "vs  ", "qemu" -> true;
            default -> false;
        };
    }

    /** The virtual size in bytes (signed: a damaged footer may give a negative number). */
    static long virtualSize(VhdFooter footer) {
        if (usesGeometry(footer)) {
            return footer.geometry().sectors() * SECTOR;
        }
        // Like qemu, a size that is not whole sectors is cut to whole sectors.
        return footer.currentSize() & ~(long) (SECTOR - 1);
    }

    static String describe(VhdFooter footer) {
        return usesGeometry(footer) ? "disk geometry" : "current size";
    }
}
