package io.p2vkit.agent.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loop devices over test files, detached on close. Partitions get their own loop device with an
 * offset and size limit rather than relying on partition scanning, which needs udev to make the
 * device nodes.
 */
public final class Loop implements AutoCloseable {

    private final List<String> attached = new ArrayList<>();

    /** Attaches {@code file} read-write; returns /dev/loopN. */
    public String attach(Path file) throws IOException, InterruptedException {
        return remember(Sh.run("losetup", "-f", "--show", file.toString()).strip());
    }

    /** Attaches {@code file} read-only: nothing can write the source through it. */
    public String attachReadOnly(Path file) throws IOException, InterruptedException {
        return remember(Sh.run("losetup", "-r", "-f", "--show", file.toString()).strip());
    }

    /** Attaches {@code [offset, offset + length)} of {@code file}. */
    public String attach(Path file, long offset, long length) throws IOException, InterruptedException {
        return remember(Sh.run("losetup", "-f", "--show", "-o", Long.toString(offset), "--sizelimit",
                Long.toString(length), file.toString()).strip());
    }

    private String remember(String dev) {
        attached.add(dev);
        return dev;
    }

    public void detach(String dev) throws IOException, InterruptedException {
        Sh.status("losetup", "-d", dev);
        attached.remove(dev);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        for (String dev : List.copyOf(attached)) {
            detach(dev);
        }
    }
}
