package io.p2vkit.image.qcow2;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.UnsafeReferenceException;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Backing files outside the image's folder are refused unless allowed; loops end. */
class Qcow2ReferencesTest {

    private static final int SIZE = 1 << 20;

    @TempDir
    Path dir;

    private Path secret() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        byte[] content = new byte[SIZE];
        Arrays.fill(content, (byte) 's');
        return Files.write(outside.resolve("secret.raw"), content);
    }

    private Path child(String backingName) throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path child = images.resolve("child.qcow2");
        Files.deleteIfExists(child);
        if (Tools.available("qemu-img")) {
            // qemu-img writes the hostile image, so our writer's rules do not shape the test.
            Tools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", backingName, "-F", "raw",
                    child.toString(), String.valueOf(SIZE));
        } else {
            new Qcow2Format().create(child, SIZE, CreateOptions.parse("backing_file=" + backingName
                    + ",backing_fmt=raw")).close();
        }
        return child;
    }

    private void assertRefusedThenAllowed(Path child, String name) throws Exception {
        UnsafeReferenceException e = assertThrows(UnsafeReferenceException.class,
                () -> Qcow2TestSupport.open(child, OpenOptions.READ_ONLY));
        assertEquals(name, e.reference());
        assertTrue(e.getMessage().contains(name), e.getMessage());
        // info without following still names it
        try (VirtualDisk d = Qcow2TestSupport.open(child, OpenOptions.READ_ONLY.withFollowReferences(false))) {
            assertEquals(name, d.info().references().get(0).target());
            ByteBuffer buf = ByteBuffer.allocate(SIZE);
            d.read(0, buf);
            assertTrue(io.p2vkit.image.io.Zeros.isZero(buf.flip()), "an unfollowed backing file reads as zeros");
        }
        try (VirtualDisk d = Qcow2TestSupport.open(child, OpenOptions.READ_ONLY.withAllowExternal(true))) {
            ByteBuffer buf = ByteBuffer.allocate(SIZE);
            d.read(0, buf);
            byte[] expected = new byte[SIZE];
            Arrays.fill(expected, (byte) 's');
            assertArrayEquals(expected, buf.array());
        }
    }

    @Test
    void absoluteBackingFile() throws Exception {
        Path secret = secret();
        assertRefusedThenAllowed(child(secret.toString()), secret.toString());
    }

    @Test
    void backingFileOutsideTheFolder() throws Exception {
        secret();
        assertRefusedThenAllowed(child("../outside/secret.raw"), "../outside/secret.raw");
    }

    @Test
    void backingChainLoopEnds() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path self = images.resolve("self.qcow2");
        if (Tools.available("qemu-img")) {
            Tools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", "self.qcow2", "-F", "qcow2",
                    self.toString(), String.valueOf(SIZE));
        } else {
            return;
        }
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> Qcow2TestSupport.open(self, OpenOptions.READ_ONLY));
        assertTrue(e.getMessage().contains("deeper than"), e.getMessage());
    }

    @Test
    void missingBackingFileIsNamed() throws Exception {
        Path child = child("gone.raw");
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> Qcow2TestSupport.open(child, OpenOptions.READ_ONLY));
        assertTrue(e.getMessage().contains("gone.raw"), e.getMessage());
    }
}
