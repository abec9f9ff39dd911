package io.p2vkit.hv.machine;

import io.p2vkit.image.Formats;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CowOverlayDiskTest {

    @TempDir
    Path dir;

    private Path image(int size) throws IOException {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        Path p = dir.resolve("base.raw");
        Files.write(p, b);
        return p;
    }

    @Test
    void writesLandInTheOverlayAndTheBaseStaysIdentical() throws IOException {
        Path p = image(300_000);
        byte[] original = Files.readAllBytes(p);
        try (VirtualDisk base = Formats.get().open(p, OpenOptions.READ_ONLY);
             CowOverlayDisk cow = new CowOverlayDisk(base)) {
            byte[] w = new byte[70_000];
            Arrays.fill(w, (byte) 0x5A);
            cow.write(60_000, ByteBuffer.wrap(w));   // spans two overlay blocks, partially
            ByteBuffer r = ByteBuffer.allocate(300_000);
            cow.read(0, r);
            byte[] expected = original.clone();
            System.arraycopy(w, 0, expected, 60_000, w.length);
            assertArrayEquals(expected, r.array());
            assertEquals(2, cow.dirtyBlocks());
        }
        assertArrayEquals(original, Files.readAllBytes(p));
    }

    @Test
    void accessesOutsideTheDiskAreRefused() throws IOException {
        Path p = image(4096);
        try (VirtualDisk base = Formats.get().open(p, OpenOptions.READ_ONLY);
             CowOverlayDisk cow = new CowOverlayDisk(base)) {
            assertThrows(IOException.class, () -> cow.write(4000, ByteBuffer.allocate(200)));
            assertThrows(IOException.class, () -> cow.read(-1, ByteBuffer.allocate(1)));
        }
    }
}
