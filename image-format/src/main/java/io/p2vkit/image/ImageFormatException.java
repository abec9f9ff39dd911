package io.p2vkit.image;

import java.io.IOException;

/**
 * A damaged, hostile or unsupported image: names the structure that is wrong and where it is.
 * The CLI prints {@link #getMessage()} as the one line the user sees.
 */
public class ImageFormatException extends IOException {

    private final long fileOffset;

    public ImageFormatException(String message) {
        this(message, -1);
    }

    public ImageFormatException(String message, long fileOffset) {
        super(fileOffset >= 0 ? message + " (at file offset " + fileOffset + ")" : message);
        this.fileOffset = fileOffset;
    }

    public ImageFormatException(String message, Throwable cause) {
        super(message, cause);
        this.fileOffset = -1;
    }

    /** Offset in the image file of the faulty structure, or -1 when not applicable. */
    public long fileOffset() {
        return fileOffset;
    }
}
