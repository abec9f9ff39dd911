package io.p2vkit.image;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * What a format looks at to recognise a file: its first and last bytes. The tail is there
 * because some formats (fixed VHD, VMDK stream footers) sign the end of the file, not the start.
 *
 * @param head     up to {@link #HEAD_BYTES} bytes from offset 0 (read-only, position 0)
 * @param tail     up to {@link #TAIL_BYTES} bytes ending at the end of the file
 * @param fileSize size of the file in bytes
 */
public record Probe(Path file, ByteBuffer head, ByteBuffer tail, long fileSize) {

    public static final int HEAD_BYTES = 64 * 1024;
    public static final int TAIL_BYTES = 4 * 1024;
}
