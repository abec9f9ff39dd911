package io.p2vkit.image;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code p2v image info} reports.
 *
 * @param format      the format's qemu-img name ({@code raw}, {@code vpc}, {@code vmdk}, {@code qcow2})
 * @param virtualSize bytes the guest sees
 * @param fileSize    bytes the image occupies on the host (allocated blocks of all its files)
 * @param details     format-specific facts in display order (subformat, cluster size, creator...)
 * @param references  other files this image refers to (extents, backing file, parent)
 */
public record ImageInfo(String format, long virtualSize, long fileSize,
                        Map<String, Object> details, List<Reference> references) {

    public ImageInfo {
        details = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(details));
        references = List.copyOf(references);
    }

    /** A file the image refers to. {@code kind} is e.g. "backing file", "extent", "parent". */
    public record Reference(String kind, String target, String format) {
    }
}
