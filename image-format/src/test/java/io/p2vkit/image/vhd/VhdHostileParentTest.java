package io.p2vkit.image.vhd;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.UnsafeReferenceException;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A differencing VHD names its parent by path. A hostile one names a file outside its folder
 * (absolute, or through ..): by default we refuse before reading a byte of it, and follow it
 * only with allowExternal, and then only to a VHD with the expected unique id.
 */
class VhdHostileParentTest {

    private static final byte[] SECRET = "root:x:0:0:SECRET-PASSWD-LINE\n".getBytes(StandardCharsets.US_ASCII);
    private static final OpenOptions EXTERNAL = OpenOptions.READ_ONLY.withAllowExternal(true);

    @TempDir
    Path tmp;
    Path images;
    Path outside;
    Path parent;

    @BeforeEach
    void layout() throws IOException {
        images = Files.createDirectory(tmp.resolve("images"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        parent = outside.resolve("parent.vhd");
        try (VirtualDisk p = new VhdFormat().create(parent, 1 << 20, CreateOptions.parse("force_size=on"))) {
            byte[] fill = new byte[1 << 20];
            for (int i = 0; i < fill.length; i++) {
                fill[i] = SECRET[i % SECRET.length];
            }
            p.write(0, ByteBuffer.wrap(fill));
        }
    }

    /** A child in images/ over outside/parent.vhd, keeping only the locators of the given platforms. */
    private Path child(int... keepPlatforms) throws IOException {
        Path child = images.resolve("child.vhd");
        new VhdFormat().create(child, 0, CreateOptions.parse("backing_file=" + parent)).close();
        try (ImageFile f = ImageFile.open(child, false)) {
            VhdLayout l = VhdLayout.read(f);
            VhdDynamicHeader h = l.header;
            List<VhdDynamicHeader.Locator> locs = new ArrayList<>();
            for (VhdDynamicHeader.Locator loc : h.locators()) {
                boolean keep = Arrays.stream(keepPlatforms).anyMatch(p -> p == loc.platform());
                locs.add(keep ? loc : new VhdDynamicHeader.Locator(0, 0, 0, 0));
            }
            VhdDynamicHeader patched = new VhdDynamicHeader(h.dataOffset(), h.tableOffset(), h.headerVersion(),
                    h.maxTableEntries(), h.blockSize(), 0, true, h.parentUniqueId(), h.parentTimestamp(), "", locs);
            f.writeFully(l.footer.dataOffset(), ByteBuffer.wrap(patched.encode()));
        }
        return child;
    }

    @Test
    void relativeDotDotLocatorIsRefusedByDefault() throws IOException {
        Path child = child(VhdConstants.PLATFORM_W2RU);
        UnsafeReferenceException e = assertThrows(UnsafeReferenceException.class,
                () -> Formats.get().open(child, OpenOptions.READ_ONLY));
        assertEquals("../outside/parent.vhd", e.reference());
        assertTrue(e.getMessage().contains("../outside/parent.vhd"), e.getMessage());
        assertReadsSecretOnlyWhenAllowed(child);
    }

    @Test
    void absoluteLocatorIsRefusedByDefault() throws IOException {
        Path child = child(VhdConstants.PLATFORM_W2KU);
        UnsafeReferenceException e = assertThrows(UnsafeReferenceException.class,
                () -> Formats.get().open(child, OpenOptions.READ_ONLY));
        assertEquals(parent.toString(), e.reference());
        assertReadsSecretOnlyWhenAllowed(child);
    }

    @Test
    void bothLocatorsAsWrittenAreRefusedByDefault() throws IOException {
        Path child = images.resolve("child.vhd");
        new VhdFormat().create(child, 0, CreateOptions.parse("backing_file=" + parent)).close();
        assertThrows(UnsafeReferenceException.class, () -> Formats.get().open(child, OpenOptions.READ_ONLY));
        // check and info (which do not follow references) still work and name the parent.
        assertTrue(new VhdFormat().check(child, OpenOptions.READ_ONLY, Formats.get()).isClean());
        try (VirtualDisk d = Formats.get().open(child, OpenOptions.READ_ONLY.withFollowReferences(false))) {
            assertEquals("../outside/parent.vhd", d.info().references().getFirst().target());
            assertThrows(ImageFormatException.class, () -> d.read(0, ByteBuffer.allocate(512)));
        }
    }

    /** The locator names a plain file (the /etc/passwd case): never read, not even when allowed. */
    @Test
    void absoluteLocatorToAPlainFileNeverReachesARead() throws IOException {
        Path child = child(VhdConstants.PLATFORM_W2KU);
        Files.delete(parent);
        Files.write(parent, SECRET);
        assertThrows(UnsafeReferenceException.class, () -> Formats.get().open(child, OpenOptions.READ_ONLY));
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> Formats.get().open(child, EXTERNAL));
        assertTrue(e.getMessage().contains("not a VHD"), e.getMessage());
        assertFalse(e.getMessage().contains("SECRET"), e.getMessage());
    }

    @Test
    void parentWithAnotherUniqueIdIsRefused() throws IOException {
        Path child = child(VhdConstants.PLATFORM_W2KU);
        Files.delete(parent);
        new VhdFormat().create(parent, 1 << 20, CreateOptions.parse("force_size=on")).close();
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> Formats.get().open(child, EXTERNAL));
        assertTrue(e.getMessage().contains("unique id"), e.getMessage());
    }

    @Test
    void parentLoopIsRefused() throws IOException {
        new VhdFormat().create(images.resolve("p.vhd"), 1 << 20, CreateOptions.parse("force_size=on")).close();
        Path a = images.resolve("a.vhd");
        new VhdFormat().create(a, 0, CreateOptions.parse("backing_file=p.vhd")).close();
        new VhdFormat().create(images.resolve("b.vhd"), 0, CreateOptions.parse("backing_file=a.vhd")).close();
        // Point a's locators at b (same length, so only the path bytes change): a -> b -> a.
        byte[] bytes = Files.readAllBytes(a);
        byte[] from = "p.vhd".getBytes(StandardCharsets.UTF_16LE);
        byte[] to = "b.vhd".getBytes(StandardCharsets.UTF_16LE);
        int replaced = 0;
        for (int i = 1536; i + from.length <= bytes.length; i++) { // past the header, whose name is UTF-16BE
            if (Arrays.equals(bytes, i, i + from.length, from, 0, from.length)) {
                System.arraycopy(to, 0, bytes, i, to.length);
                replaced++;
            }
        }
        assertEquals(2, replaced);
        Files.write(a, bytes);
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> Formats.get().open(a, OpenOptions.READ_ONLY));
        assertTrue(e.getMessage().contains("loops"), e.getMessage());
    }

    @Test
    void symlinkInsideTheFolderToOutsideIsRefused() throws IOException {
        Files.createSymbolicLink(images.resolve("parent.vhd"), parent);
        Path child = images.resolve("child.vhd");
        new VhdFormat().create(child, 0, CreateOptions.parse("backing_file=parent.vhd")).close();
        assertThrows(UnsafeReferenceException.class, () -> Formats.get().open(child, OpenOptions.READ_ONLY));
    }

    private void assertReadsSecretOnlyWhenAllowed(Path child) throws IOException {
        try (VirtualDisk d = Formats.get().open(child, EXTERNAL)) {
            byte[] got = new byte[SECRET.length];
            d.read(0, ByteBuffer.wrap(got));
            assertArrayEquals(SECRET, got);
        }
    }
}
