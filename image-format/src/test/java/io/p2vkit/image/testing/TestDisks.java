package io.p2vkit.image.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/**
 * Raw test disks with a fixed seed: a mix of random, text-like and zero chunks, with holes, at
 * sizes that are not multiples of any block, grain or cluster size.
 */
public final class TestDisks {

    /** 100 MiB + 512 B: odd for every format's allocation unit. */
    public static final long ODD_SIZE = 100L * 1024 * 1024 + 512;

    private TestDisks() {
    }

    /**
     * Writes a raw disk of {@code size} bytes made of {@code chunk}-sized pieces, each random,
     * text-like, all zero (written) or left as a hole, chosen by {@code seed}.
     */
    public static Path mixed(Path file, long size, int chunk, long seed) throws IOException {
        Random rnd = new Random(seed);
        byte[] buf = new byte[chunk];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long pos = 0; pos < size; pos += chunk) {
                int n = (int) Math.min(chunk, size - pos);
                int kind = rnd.nextInt(10);
                if (kind < 3) {
                    rnd.nextBytes(buf);
                } else if (kind < 5) {
                    for (int i = 0; i < n; i++) {
                        buf[i] = (byte) ("etaoin shrdlu\n".charAt(rnd.nextInt(14)));
                    }
                } else if (kind < 7) {
                    java.util.Arrays.fill(buf, (byte) 0);
                } else {
                    continue; // a hole
                }
                ch.write(ByteBuffer.wrap(buf, 0, n), pos);
            }
            ch.truncate(size);
            if (ch.size() < size) {
                ch.write(ByteBuffer.allocate(1), size - 1);
            }
        }
        return file;
    }

    /** A raw disk of {@code size} bytes that is all one hole. */
    public static Path empty(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            if (size > 0) {
                ch.write(ByteBuffer.allocate(1), size - 1);
            }
        }
        return file;
    }

    /** A raw disk of {@code size} bytes of written zeros (no holes). */
    public static Path allZero(Path file, long size) throws IOException {
        byte[] zeros = new byte[1 << 20];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long pos = 0; pos < size; pos += zeros.length) {
                ch.write(ByteBuffer.wrap(zeros, 0, (int) Math.min(zeros.length, size - pos)), pos);
            }
        }
        return file;
    }
}
