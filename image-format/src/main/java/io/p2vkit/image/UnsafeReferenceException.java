package io.p2vkit.image;

/**
 * An image refers to another file (VMDK extent, qcow2 backing or data file, VHD parent) that is
 * absolute or leaves the image's own folder, and the caller did not allow external references.
 */
public class UnsafeReferenceException extends ImageFormatException {

    private final String reference;

    public UnsafeReferenceException(String kind, String reference) {
        super(kind + " '" + reference + "' is outside the image's folder;"
                + " refusing to open it (use --allow-external to follow it)");
        this.reference = reference;
    }

    public String reference() {
        return reference;
    }
}
