package io.p2vkit.cli.launch;

import io.p2vkit.cli.Main;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * The training run from which {@code bin/p2v} records its AOT cache (JDK 25, JEP 483/515): the
 * classes a run loads and links, and the profiles of its hot methods, are stored for every later
 * start. One JVM runs the image verbs on every uncompressed output format, so the cache holds
 * the VHD, VMDK and qcow2 writers alike rather than only the format one command happened to use.
 *
 * <p>Usage: {@code AotTraining DIR} (an empty scratch folder; the caller removes it).
 */
public final class AotTraining {

    private static final int MIB = 1 << 20;

    private AotTraining() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: AotTraining DIR");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Main.linkNativeCallsAside();
        Path raw = writeDisk(dir.resolve("disk.raw"), 48);
        run("image", "info", raw.toString());
        String[][] outputs = {
                {"vpc", "disk.vhd"}, {"vmdk", "disk.vmdk"}, {"qcow2", "disk.qcow2"}, {"raw", "copy.raw"}};
        for (String[] o : outputs) {
            String out = dir.resolve(o[1]).toString();
            run("image", "convert", "-O", o[0], raw.toString(), out);
            run("image", "info", out);
            run("image", "compare", raw.toString(), out);
        }
        run("image", "check", dir.resolve("disk.qcow2").toString());
        run("image", "map", "--output", "json", dir.resolve("disk.vhd").toString());
        // Plain image command lines skip picocli (ImageArgs); help and the other commands use it.
        run("image", "convert", "--help");
        run("--version");
        // Exiting loads the classes of the JDK's exit logging, which every command pays.
        System.exit(0);
    }

    private static void run(String... args) {
        int code = Main.run(args);
        if (code != 0) {
            System.err.println("training: p2v " + String.join(" ", args) + " exited " + code);
        }
    }

    /** A disk like the benchmark's: MiB chunks of random bytes, text and zeros. */
    private static Path writeDisk(Path file, int mib) throws IOException {
        Random random = new Random(20261122);
        byte[] chunk = new byte[MIB];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int i = 0; i < mib; i++) {
                switch (i % 4) {
                    case 0, 1 -> random.nextBytes(chunk);
                    case 2 -> Arrays.fill(chunk, (byte) 0);
                    default -> {
                        for (int j = 0; j < MIB; j++) {
                            chunk[j] = (byte) ('a' + random.nextInt(26));
                        }
                    }
                }
                out.write(chunk);
            }
        }
        return file;
    }
}
