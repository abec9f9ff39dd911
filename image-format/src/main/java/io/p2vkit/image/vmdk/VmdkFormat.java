package io.p2vkit.image.vmdk;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.DiskOpener;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.Probe;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static io.p2vkit.image.vmdk.VmdkConstants.*;

/**
 * VMware's virtual disk format: monolithicSparse, streamOptimized, monolithicFlat and
 * twoGbMaxExtentSparse are read and written; descriptors listing FLAT, SPARSE and ZERO extents
 * are read. See docs/formats/vmdk.md.
 */
public final class VmdkFormat implements ImageFormat {

    /** An extent line, the surest sign of a descriptor without the usual first line. */
    private static final Pattern EXTENT_LINE = Pattern.compile(
            "(?m)^\\s*(RW|RDONLY|NOACCESS)\\s+\\d+\\s+(FLAT|SPARSE|ZERO|VMFS|VMFSSPARSE|VMFSRDM|VMFSRAW)\\b");

    @Override
    public String name() {
        return "vmdk";
    }

    /**
     * KDMV scores 95 (a magic plus a checked header layout), a text head that starts "# Disk
     * DescriptorFile" 90, text with createType and an extent line 70, COWD 60 (recognised so that
     * opening says it is unsupported rather than reading it as raw).
     */
    @Override
    public int probe(Probe probe) {
        ByteBuffer head = probe.head().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (head.remaining() >= 4) {
            int magic = head.getInt(head.position());
            if (magic == SPARSE_MAGIC) {
                return 95;
            }
            if (magic == COWD_MAGIC) {
                return 60;
            }
        }
        if (probe.fileSize() > MAX_DESCRIPTOR_BYTES || !head.hasRemaining()) {
            return 0;
        }
        byte[] bytes = new byte[head.remaining()];
        head.get(bytes);
        int textEnd = 0;
        while (textEnd < bytes.length && bytes[textEnd] != 0) {
            textEnd++;
        }
        String text = new String(bytes, 0, textEnd, StandardCharsets.ISO_8859_1);
        if (text.stripLeading().startsWith("# Disk DescriptorFile")) {
            return 90;
        }
        if (text.contains("createType") && EXTENT_LINE.matcher(text).find()) {
            return 70;
        }
        return 0;
    }

    @Override
    public VirtualDisk open(Path file, OpenOptions options, DiskOpener opener) throws IOException {
        return VmdkOpener.open(file, options, opener);
    }

    @Override
    public VirtualDisk create(Path file, long size, CreateOptions options) throws IOException {
        return VmdkCreator.create(file, size, VmdkCreateSettings.from(options));
    }

    @Override
    public CheckReport check(Path file, OpenOptions options, DiskOpener opener) throws IOException {
        return VmdkChecker.check(file, options);
    }

    @Override
    public List<String> createOptionsHelp() {
        return List.of(
                "subformat=monolithicSparse|monolithicFlat|streamOptimized|twoGbMaxExtentSparse (default monolithicSparse)",
                "adapter_type=ide|lsilogic|buslogic|legacyESX (default ide)",
                "hwversion=N  ddb.virtualHWVersion (default 4)",
                "compat6=on   hardware version 6",
                "zeroed_grain=on  sparse header version 2: zero grains need no data");
    }
}
