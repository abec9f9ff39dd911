package io.p2vkit.image;

/**
 * How to open an image.
 *
 * @param readOnly          refuse writes (the file is opened read-only)
 * @param allowExternal     follow references to files outside the image's folder
 * @param followReferences  open backing/parent disks; {@code info} turns this off so that it only
 *                          reports them
 */
public record OpenOptions(boolean readOnly, boolean allowExternal, boolean followReferences) {

    public static final OpenOptions READ_ONLY = new OpenOptions(true, false, true);
    public static final OpenOptions READ_WRITE = new OpenOptions(false, false, true);

    public OpenOptions withAllowExternal(boolean allow) {
        return new OpenOptions(readOnly, allow, followReferences);
    }

    public OpenOptions withFollowReferences(boolean follow) {
        return new OpenOptions(readOnly, allowExternal, follow);
    }

    /** Options for opening a backing or parent disk: always read-only. */
    public OpenOptions forBacking() {
        return new OpenOptions(true, allowExternal, followReferences);
    }
}
