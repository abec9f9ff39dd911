package io.p2vkit.image.vhd;

import io.p2vkit.image.DiskOpener;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.p2vkit.image.vhd.VhdConstants.DYNAMIC_HEADER_SIZE;
import static io.p2vkit.image.vhd.VhdConstants.SECTOR;

/** Opens a VHD file: its layout, its BAT, and for a differencing disk its parent. */
final class VhdOpener {

    private VhdOpener() {
    }

    static VhdDisk open(Path path, OpenOptions options, DiskOpener opener) throws IOException {
        ImageFile file = ImageFile.open(path, options.readOnly());
        VhdDisk parent = null;
        try {
            VhdLayout layout = VhdLayout.read(file);
            if (layout.isFixed()) {
                return VhdDisk.of(path, file, layout, null, 0, null, List.of());
            }
            VhdBat bat = VhdBat.load(file, layout.header, layout.fileSize);
            List<ImageInfo.Reference> refs = new ArrayList<>();
            if (layout.isDifferencing()) {
                List<VhdParent.Candidate> candidates = VhdParent.candidates(file, layout.header);
                if (!candidates.isEmpty()) {
                    refs.add(new ImageInfo.Reference("parent", candidates.getFirst().path(), "vpc"));
                }
                if (options.followReferences()) {
                    parent = VhdParent.open(path, file, layout.header, options, opener);
                }
            }
            return VhdDisk.of(path, file, layout, bat, nextFree(layout, bat), parent, refs);
        } catch (IOException | RuntimeException e) {
            try {
                file.close();
                if (parent != null) {
                    parent.close();
                }
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Where a new block goes: past every structure and block, at the trailing footer (which the
     * block's bitmap overwrites and which is written again after it), or past the end of the
     * file when the trailing footer is missing, so that nothing found in the file is reused.
     */
    static long nextFree(VhdLayout layout, VhdBat bat) {
        VhdDynamicHeader h = layout.header;
        long end = layout.footer.dataOffset() + DYNAMIC_HEADER_SIZE;
        end = Math.max(end, h.tableOffset() + VhdBat.byteSize(h.maxTableEntries()));
        for (VhdDynamicHeader.Locator l : h.locators()) {
            if (l.isUsed() && l.dataOffset() >= 0 && l.dataOffset() + l.dataLength() <= layout.fileSize) {
                end = Math.max(end, l.dataOffset() + l.dataLength());
            }
        }
        long span = h.bitmapSize() + h.blockSize();
        for (int i = 0; i < bat.size(); i++) {
            if (bat.isAllocated(i)) {
                end = Math.max(end, bat.bitmapOffset(i) + span);
            }
        }
        end = Math.max(end, layout.footerOffset >= 0 ? layout.footerOffset : layout.fileSize);
        return Math.ceilDiv(end, SECTOR) * SECTOR;
    }
}
