package io.p2vkit.image.vhd;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static io.p2vkit.image.vhd.VhdConstants.*;

/**
 * {@code p2v image check} for VHD (which qemu-img cannot check): footers and their checksums,
 * the size limits, the dynamic header, and where every block lies in the file. Corruptions are
 * what would be read wrong; leaks are file space no structure uses.
 */
final class VhdChecker {

    private VhdChecker() {
    }

    /** A span of the file that a structure owns. */
    private record Span(long start, long end, String what) {
    }

    static CheckReport check(Path path) throws IOException {
        CheckReport r = new CheckReport("vpc");
        try (ImageFile f = ImageFile.openRead(path)) {
            checkFooters(f, r);
            VhdLayout layout;
            try {
                layout = VhdLayout.read(f);
            } catch (ImageFormatException e) {
                if (r.corruptionCount() == 0 && e.getMessage().startsWith("not a VHD")) {
                    throw e;
                }
                r.corruption(e.getMessage());
                return r;
            }
            checkSize(layout, r);
            if (!layout.isFixed()) {
                checkBlocks(f, layout, r);
            }
        }
        return r;
    }

    private static void checkFooters(ImageFile f, CheckReport r) throws IOException {
        long size = f.size();
        VhdLayout.Found tail = VhdLayout.tailFooter(f, size);
        VhdFooter head = null;
        if (size >= FOOTER_SIZE) {
            byte[] b = VhdLayout.bytes(f, 0, FOOTER_SIZE, "VHD footer copy");
            head = VhdFooter.hasCookie(b, 0) ? VhdFooter.parse(b) : null;
        }
        boolean headGood = head != null && head.checksumValid() && head.diskType() != TYPE_FIXED;
        String useCopy = headGood ? "; the copy at offset 0 is good and is used instead" : "";
        if (tail == null) {
            if (head != null) {
                r.corruption("VHD footer missing at the end of the file" + useCopy);
            }
        } else if (!tail.footer().checksumValid()) {
            r.corruption("VHD footer checksum is wrong at file offset " + tail.offset() + useCopy);
        } else if (tail.footer().diskType() != TYPE_FIXED) {
            if (head == null) {
                r.corruption("VHD footer copy at offset 0 is missing");
            } else if (!head.checksumValid()) {
                r.corruption("VHD footer copy at offset 0 has a wrong checksum");
            } else if (!head.equals(tail.footer())) {
                r.corruption("VHD footer copy at offset 0 differs from the footer at the end");
            }
        }
    }

    private static void checkSize(VhdLayout layout, CheckReport r) {
        VhdFooter footer = layout.footer;
        if (footer.currentSize() % SECTOR != 0) {
            r.corruption("VHD current size " + footer.currentSize() + " is not a whole number of sectors");
        }
        if (layout.virtualSize > MAX_VIRTUAL_SIZE) {
            r.corruption("VHD virtual size " + layout.virtualSize + " is beyond the format's 2040 GiB ("
                    + MAX_VIRTUAL_SIZE + " bytes); Hyper-V and qemu refuse it");
        }
        if (layout.isFixed() && layout.footerOffset > layout.virtualSize) {
            r.leak((layout.footerOffset - layout.virtualSize) + " bytes of the fixed VHD's data area lie past its"
                    + " virtual size (" + VhdSizeRule.describe(footer) + ")");
        }
    }

    private static void checkBlocks(ImageFile f, VhdLayout layout, CheckReport r) throws IOException {
        VhdDynamicHeader h = layout.header;
        long fileSize = layout.fileSize;
        long end = layout.footerOffset >= 0 ? layout.footerOffset : fileSize;
        List<Span> meta = new ArrayList<>();
        meta.add(new Span(0, FOOTER_SIZE, "the footer copy"));
        meta.add(new Span(layout.footer.dataOffset(), layout.footer.dataOffset() + DYNAMIC_HEADER_SIZE,
                "the dynamic header"));
        meta.add(new Span(h.tableOffset(), h.tableOffset() + VhdBat.byteSize(h.maxTableEntries()),
                "the block allocation table"));
        for (VhdDynamicHeader.Locator l : h.locators()) {
            if (!l.isUsed()) {
                continue;
            }
            if (l.dataOffset() < 0 || l.dataLength() > MAX_LOCATOR_BYTES || l.dataOffset() + l.dataLength() > end) {
                r.corruption("VHD parent locator " + l.platformName().strip() + " (" + l.dataLength() + " bytes at "
                        + l.dataOffset() + ") lies outside the file's data area");
            } else if (l.dataLength() > 0) {
                meta.add(new Span(l.dataOffset(), l.dataOffset() + l.dataLength(),
                        "parent locator " + l.platformName().strip()));
            }
        }
        if (layout.isDifferencing()) {
            try {
                if (VhdParent.candidates(f, h).isEmpty()) {
                    r.corruption("differencing VHD has no parent locator or parent name we can read");
                }
            } catch (ImageFormatException e) {
                r.corruption(e.getMessage());
            }
        }
        VhdBat bat = VhdBat.read(f, h);
        long span = h.bitmapSize() + h.blockSize();
        long needed = Math.ceilDiv(layout.virtualSize, h.blockSize());
        List<Span> blocks = new ArrayList<>();
        long allocated = 0;
        for (int i = 0; i < bat.size(); i++) {
            if (!bat.isAllocated(i)) {
                continue;
            }
            allocated++;
            long start = bat.bitmapOffset(i);
            long stop = start + span;
            String what = "block " + i + " (file offset " + start + ")";
            if (stop > fileSize) {
                r.corruption("VHD " + what + " ends past the end of the file (" + fileSize + " bytes)");
                continue;
            }
            if (stop > end) {
                r.corruption("VHD " + what + " overlaps the footer at " + end);
            }
            for (Span m : meta) {
                if (start < m.end() && m.start() < stop) {
                    r.corruption("VHD " + what + " overlaps " + m.what());
                }
            }
            if (i >= needed) {
                r.leak("VHD " + what + " lies past the virtual size and is never read");
            }
            blocks.add(new Span(start, stop, what));
        }
        blocks.sort(Comparator.comparingLong(Span::start));
        Span reach = null;
        for (Span b : blocks) {
            if (reach != null && b.start() < reach.end()) {
                r.corruption("VHD " + b.what() + " and " + reach.what() + " share file space: writing one changes"
                        + " the other");
            } else if (reach != null && b.start() > reach.end()) {
                r.leak((b.start() - reach.end()) + " bytes at file offset " + reach.end() + " are used by nothing");
            }
            if (reach == null || b.end() > reach.end()) {
                reach = b;
            }
        }
        if (reach != null && reach.end() < end) {
            r.leak((end - reach.end()) + " bytes at file offset " + reach.end()
                    + " between the last block and the footer are used by nothing");
        }
        r.allocation(allocated, needed);
    }
}
