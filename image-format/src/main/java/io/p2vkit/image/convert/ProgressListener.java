package io.p2vkit.image.convert;

/** Told how far a long operation has come; called from the working thread, often. */
@FunctionalInterface
public interface ProgressListener {

    ProgressListener NONE = (done, total) -> { };

    /**
     * @param done  bytes of the virtual disk dealt with so far (read, or skipped as empty)
     * @param total bytes in all
     */
    void progress(long done, long total);
}
