package io.p2vkit.image.vmdk;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Gives a disk a new content ID (the descriptor's {@code CID}) on the first write of a session,
 * as VMware and qemu do (spec, "The Descriptor File": the CID changes whenever the content does):
 * a child disk records its parent's CID as parentCID, so a changed base no longer matches it.
 * Only the CID line is touched; the rest of the descriptor stays byte for byte.
 */
final class ContentIdRenewer {

    private static final Pattern CID_LINE = Pattern.compile("(?m)^(\\s*CID\\s*=\\s*)([0-9A-Fa-f]+)");

    private final Path file;
    /** The embedded descriptor's place as {offset, length} in bytes, or null for a descriptor file. */
    private final long[] embedded;
    private boolean done;

    private ContentIdRenewer(Path file, long[] embedded) {
        this.file = file;
        this.embedded = embedded;
    }

    static ContentIdRenewer forDescriptorFile(Path descriptor) {
        return new ContentIdRenewer(descriptor, null);
    }

    static ContentIdRenewer forEmbedded(Path sparse, SparseExtentHeader h) {
        return new ContentIdRenewer(sparse, new long[]{h.descriptorOffset() * VmdkConstants.SECTOR,
                h.descriptorSize() * VmdkConstants.SECTOR});
    }

    /** Writes a new CID unless this session already did. */
    void renew() throws IOException {
        if (done) {
            return;
        }
        done = true;
        try (ImageFile f = ImageFile.open(file, false)) {
            long at = embedded == null ? 0 : embedded[0];
            long length = embedded == null ? f.size() : embedded[1];
            if (length > VmdkConstants.MAX_DESCRIPTOR_BYTES) {
                throw new ImageFormatException("VMDK descriptor is larger than " + VmdkConstants.MAX_DESCRIPTOR_BYTES + " bytes");
            }
            ByteBuffer b = f.read(at, (int) length, "VMDK descriptor");
            int len = 0;
            while (len < length && b.get(len) != 0) {
                len++;
            }
            String text = new String(b.array(), 0, len, StandardCharsets.UTF_8);
            Matcher m = CID_LINE.matcher(text);
            if (!m.find()) {
                return; // nothing to renew: the descriptor has no CID
            }
            String cid = String.format(Locale.ROOT, "%08x", VmdkCreateSettings.newCid());
            byte[] updated = (text.substring(0, m.start(2)) + cid + text.substring(m.end(2)))
                    .getBytes(StandardCharsets.UTF_8);
            if (embedded == null) {
                // Overwrite first, then cut: a crash in between leaves a readable descriptor.
                f.writeFully(0, ByteBuffer.wrap(updated));
                f.truncate(updated.length);
            } else if (updated.length <= length) {
                ByteBuffer out = ByteBuffer.allocate((int) length);
                out.put(updated).clear();
                f.writeFully(at, out);
            }
        }
    }
}
