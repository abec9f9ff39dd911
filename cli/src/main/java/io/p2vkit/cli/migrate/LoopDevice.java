package io.p2vkit.cli.migrate;

import io.p2vkit.image.ImageFormatException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A read-only loop device over a file (losetup -r), detached on close. Needs root. */
final class LoopDevice implements AutoCloseable {

    private final Path device;

    private LoopDevice(Path device) {
        this.device = device;
    }

    static LoopDevice attachReadOnly(Path file) throws IOException, InterruptedException {
        String out = losetup("-r", "-f", "--show", file.toString());
        return new LoopDevice(Path.of(out.strip()));
    }

    Path device() {
        return device;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        losetup("-d", device.toString());
    }

    private static String losetup(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "losetup";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new ImageFormatException("losetup did not finish in 30 s");
        }
        if (p.exitValue() != 0) {
            throw new ImageFormatException("losetup " + String.join(" ", args) + ": " + out.strip());
        }
        return out;
    }
}
