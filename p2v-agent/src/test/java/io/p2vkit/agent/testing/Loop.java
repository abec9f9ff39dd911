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

    /**
     * Attaches {@code file} with partition scanning and returns /dev/loopN; the kernel's partition
     * devices appear as /dev/loopNpK (made here with mknod where no udev makes them).
     */
    public String attachPartitioned(Path file) throws IOException, InterruptedException {
        String dev = remember(Sh.run("losetup", "-P", "-f", "--show", file.toString()).strip());
        String name = Path.of(dev).getFileName().toString();
        Path sys = Path.of("/sys/block", name);
        for (int i = 0; i < 50; i++) {
            try (var parts = java.nio.file.Files.list(sys)) {
                List<Path> found = parts.filter(p -> p.getFileName().toString().startsWith(name + "p")).toList();
                if (!found.isEmpty()) {
                    for (Path p : found) {
                        Path node = Path.of("/dev", p.getFileName().toString());
                        if (!java.nio.file.Files.exists(node)) {
                            String[] mm = java.nio.file.Files.readString(p.resolve("dev")).strip().split(":");
                            Sh.run("mknod", node.toString(), "b", mm[0], mm[1]);
                        }
                    }
                    return dev;
                }
            }
            if (i == 10) {
                Sh.status("partx", "-a", dev);
            }
            Thread.sleep(100);
        }
        throw new IOException("no partitions appeared for " + dev);
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
