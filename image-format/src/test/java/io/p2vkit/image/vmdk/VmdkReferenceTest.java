package io.p2vkit.image.vmdk;

import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.UnsafeReferenceException;
import io.p2vkit.image.VirtualDisk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Extent names are references: absolute paths and ../ escapes are refused unless allowed. */
class VmdkReferenceTest {

    private static final byte[] SECRET = secret();

    private static byte[] secret() {
        byte[] b = new byte[4096];
        byte[] text = "top secret content of a file outside the image folder\n".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < b.length; i++) {
            b[i] = text[i % text.length];
        }
        return b;
    }

    private static Path descriptor(Path dir, String extentName) throws IOException {
        Path d = dir.resolve("disk.vmdk");
        Files.writeString(d, "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
                + "createType=\"monolithicFlat\"\n\n# Extent description\nRW 8 FLAT \"" + extentName + "\" 0\n"
                + "\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"ide\"\n");
        return d;
    }

    @Test
    void absoluteExtentIsRefusedByDefault(@TempDir Path dir) throws IOException {
        Path outside = Files.createTempFile("p2v-secret", ".bin");
        try {
            Files.write(outside, SECRET);
            Path image = Files.createDirectories(dir.resolve("img"));
            Path d = descriptor(image, outside.toAbsolutePath().toString());
            assertRefusedThenAllowed(d, outside.toAbsolutePath().toString());
        } finally {
            Files.deleteIfExists(outside);
        }
    }

    @Test
    void escapingExtentIsRefusedByDefault(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("outside.bin"), SECRET);
        Path image = Files.createDirectories(dir.resolve("img"));
        Path d = descriptor(image, "../outside.bin");
        assertRefusedThenAllowed(d, "../outside.bin");
    }

    @Test
    void symlinkOutOfTheFolderIsRefused(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("outside.bin"), SECRET);
        Path image = Files.createDirectories(dir.resolve("img"));
        Files.createSymbolicLink(image.resolve("inner.bin"), dir.resolve("outside.bin"));
        Path d = descriptor(image, "inner.bin");
        assertThrows(UnsafeReferenceException.class, () -> Formats.get().open(d, OpenOptions.READ_ONLY));
    }

    private static void assertRefusedThenAllowed(Path d, String name) throws IOException {
        UnsafeReferenceException e = assertThrows(UnsafeReferenceException.class,
                () -> Formats.get().open(d, OpenOptions.READ_ONLY));
        assertEquals(name, e.reference());
        assertTrue(e.getMessage().contains(name), e.getMessage());
        ImageFormatException c = assertThrows(ImageFormatException.class,
                () -> new VmdkFormat().check(d, OpenOptions.READ_ONLY, Formats.get()));
        assertTrue(c instanceof UnsafeReferenceException, "check refuses it too");
        try (VirtualDisk disk = Formats.get().open(d, OpenOptions.READ_ONLY.withAllowExternal(true))) {
            assertEquals(4096, disk.size());
            ByteBuffer b = ByteBuffer.allocate(4096);
            disk.read(0, b);
            assertArrayEquals(SECRET, Arrays.copyOf(b.array(), 4096));
            assertTrue(disk.info().references().stream().anyMatch(r -> r.kind().equals("extent")));
        }
    }
}
