package io.p2vkit.image.vhd;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.Fields;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;

import static io.p2vkit.image.vhd.VhdConstants.*;

/**
 * Where a VHD's structures are and which of them to trust: the footer (at the end, or its copy
 * at offset 0 when the end one is damaged), the dynamic header, and the virtual size. Every
 * number that later sizes an allocation or a loop is checked here.
 */
final class VhdLayout {

    /** What was found at one of the two footer places. */
    enum FooterState { VALID, BAD_CHECKSUM, ABSENT }

    final long fileSize;
    final VhdFooter footer;
    /** The footer's bytes as found (512; a 511-byte footer padded with its missing zero). */
    final byte[] footerBytes;
    /** Offset of the trailing footer, or -1 when only the copy at offset 0 is usable. */
    final long footerOffset;
    final FooterState tailState;
    final FooterState copyState;
    final VhdFooter copy;
    final boolean usingCopy;
    final VhdDynamicHeader header;
    final long virtualSize;

    private VhdLayout(long fileSize, VhdFooter footer, byte[] footerBytes, long footerOffset, FooterState tailState,
                      FooterState copyState, VhdFooter copy, boolean usingCopy, VhdDynamicHeader header,
                      long virtualSize) {
        this.fileSize = fileSize;
        this.footer = footer;
        this.footerBytes = footerBytes;
        this.footerOffset = footerOffset;
        this.tailState = tailState;
        this.copyState = copyState;
        this.copy = copy;
        this.usingCopy = usingCopy;
        this.header = header;
        this.virtualSize = virtualSize;
    }

    boolean isFixed() {
        return footer.diskType() == TYPE_FIXED;
    }

    boolean isDifferencing() {
        return footer.diskType() == TYPE_DIFFERENCING;
    }

    /** Whether the copy at offset 0 is byte-for-byte the footer in use. */
    boolean copyMatches() {
        return copyState == FooterState.VALID && copy != null && !usingCopy && copy.equals(footer);
    }

    /** A footer found at {@code offset}, or null. */
    record Found(VhdFooter footer, byte[] bytes, long offset) {
    }

    /** Reads and checks the structures of {@code file}. */
    static VhdLayout read(ImageFile file) throws IOException {
        long size = file.size();
        Found tail = tailFooter(file, size);
        Found head = null;
        if (size >= FOOTER_SIZE) {
            byte[] b = bytes(file, 0, FOOTER_SIZE, "VHD footer copy");
            if (VhdFooter.hasCookie(b, 0)) {
                head = new Found(VhdFooter.parse(b), b, 0);
            }
        }
        FooterState tailState = state(tail);
        FooterState copyState = state(head);
        VhdFooter footer;
        byte[] footerBytes;
        long footerOffset;
        boolean usingCopy = false;
        if (tailState == FooterState.VALID) {
            footer = tail.footer();
            footerBytes = tail.bytes();
            footerOffset = tail.offset();
        } else if (copyState == FooterState.VALID && head.footer().diskType() != TYPE_FIXED) {
            footer = head.footer();
            footerBytes = head.bytes();
            footerOffset = -1;
            usingCopy = true;
        } else if (tail != null) {
            throw new ImageFormatException("VHD footer checksum is wrong (stored 0x"
                    + Integer.toHexString(tail.footer().storedChecksum()) + ") and there is no good copy at offset 0",
                    tail.offset() + F_CHECKSUM);
        } else if (head != null) {
            throw new ImageFormatException("VHD footer copy checksum is wrong and the file has no footer at its end",
                    F_CHECKSUM);
        } else {
            throw new ImageFormatException("not a VHD: no 'conectix' footer at the end of the file or at offset 0");
        }
        long at = footerOffset >= 0 ? footerOffset : 0;
        int type = footer.diskType();
        Fields.require(type == TYPE_FIXED || type == TYPE_DYNAMIC || type == TYPE_DIFFERENCING,
                "VHD footer disk type " + type + " is not fixed (2), dynamic (3) or differencing (4)", at + F_DISK_TYPE);
        Fields.require(footer.formatVersion() >>> 16 == 1, "VHD footer format version 0x"
                + Integer.toHexString(footer.formatVersion()) + " is not 1.x", at + F_VERSION);
        long virtualSize = Fields.inRange("VHD virtual size (" + VhdSizeRule.describe(footer) + ")",
                at + F_CURRENT_SIZE, VhdSizeRule.virtualSize(footer), 0, MAX_READABLE_SIZE);
        if (type == TYPE_FIXED) {
            Fields.require(virtualSize <= footerOffset, "fixed VHD holds " + footerOffset
                    + " bytes of data but its footer says the disk has " + virtualSize, at + F_CURRENT_SIZE);
            return new VhdLayout(size, footer, footerBytes, footerOffset, tailState, copyState,
                    head == null ? null : head.footer(), false, null, virtualSize);
        }
        VhdDynamicHeader header = dynamicHeader(file, footer, at, size, virtualSize);
        return new VhdLayout(size, footer, footerBytes, footerOffset, tailState, copyState,
                head == null ? null : head.footer(), usingCopy, header, virtualSize);
    }

    private static FooterState state(Found f) {
        if (f == null) {
            return FooterState.ABSENT;
        }
        return f.footer().checksumValid() ? FooterState.VALID : FooterState.BAD_CHECKSUM;
    }

    /** The footer in the last 512 bytes, or in the last 511 (old Virtual PC), or null. */
    static Found tailFooter(ImageFile file, long size) throws IOException {
        if (size >= FOOTER_SIZE) {
            byte[] b = bytes(file, size - FOOTER_SIZE, FOOTER_SIZE, "VHD footer");
            if (VhdFooter.hasCookie(b, 0)) {
                return new Found(VhdFooter.parse(b), b, size - FOOTER_SIZE);
            }
            if (VhdFooter.hasCookie(b, 1)) {
                byte[] old = java.util.Arrays.copyOfRange(b, 1, FOOTER_SIZE);
                return new Found(VhdFooter.parse(old), java.util.Arrays.copyOf(old, FOOTER_SIZE),
                        size - OLD_FOOTER_SIZE);
            }
        }
        return null;
    }

    private static VhdDynamicHeader dynamicHeader(ImageFile file, VhdFooter footer, long footerAt, long fileSize,
                                                  long virtualSize) throws IOException {
        long offset = Fields.inRange("VHD footer data offset (dynamic header)", footerAt + F_DATA_OFFSET,
                footer.dataOffset(), FOOTER_SIZE, fileSize - DYNAMIC_HEADER_SIZE);
        byte[] b = bytes(file, offset, DYNAMIC_HEADER_SIZE, "VHD dynamic header");
        Fields.require(VhdDynamicHeader.hasCookie(b), "VHD dynamic header has no 'cxsparse' cookie", offset);
        VhdDynamicHeader h = VhdDynamicHeader.parse(b);
        Fields.require(h.checksumValid(), "VHD dynamic header checksum is wrong (stored 0x"
                + Integer.toHexString(h.storedChecksum()) + ")", offset + H_CHECKSUM);
        Fields.require(h.headerVersion() >>> 16 == 1, "VHD dynamic header version 0x"
                + Integer.toHexString(h.headerVersion()) + " is not 1.x", offset + H_VERSION);
        long blockSize = Fields.powerOfTwo("VHD block size", offset + H_BLOCK_SIZE, h.blockSize(),
                MIN_BLOCK_SIZE, MAX_BLOCK_SIZE);
        long needed = Math.ceilDiv(virtualSize, blockSize);
        Fields.inRange("VHD max table entries", offset + H_MAX_TABLE_ENTRIES, h.maxTableEntries(), needed,
                MAX_BAT_ENTRIES);
        Fields.inRange("VHD block allocation table offset", offset + H_TABLE_OFFSET, h.tableOffset(), 0,
                fileSize - h.maxTableEntries() * 4);
        return h;
    }

    static byte[] bytes(ImageFile file, long offset, int length, String what) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        file.readFully(offset, buf, what);
        return buf.array();
    }
}
