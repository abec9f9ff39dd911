package io.p2vkit.image.vhd;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Decoding parent locators: platforms, encodings, order, bounds. */
class VhdParentTest {

    @TempDir
    Path dir;

    private record Loc(int platform, byte[] data) {
    }

    /** A file holding the locators' data from offset 4096 on, and the header naming them. */
    private List<VhdParent.Candidate> candidates(String parentName, Loc... locs) throws IOException {
        Path f = dir.resolve("h" + System.nanoTime());
        List<VhdDynamicHeader.Locator> entries = new ArrayList<>();
        long at = 4096;
        for (Loc l : locs) {
            VhdTestSupport.write(f, at, l.data());
            entries.add(new VhdDynamicHeader.Locator(l.platform(), 512, l.data().length, at));
            at += 512;
        }
        while (entries.size() < 8) {
            entries.add(new VhdDynamicHeader.Locator(0, 0, 0, 0));
        }
        VhdTestSupport.write(f, at, new byte[512]);
        VhdDynamicHeader h = new VhdDynamicHeader(-1, 1536, 0x10000, 1, 2 << 20, 0, true, UUID.randomUUID(), 0,
                parentName, entries);
        try (ImageFile file = ImageFile.openRead(f)) {
            return VhdParent.candidates(file, h);
        }
    }

    @Test
    void relativeBeforeAbsoluteWhateverTheOrderInTheHeader() throws IOException {
        List<VhdParent.Candidate> c = candidates("parent.vhd",
                new Loc(VhdConstants.PLATFORM_MACX, "file://localhost/Users/me/parent%20disk.vhd"
                        .getBytes(StandardCharsets.UTF_8)),
                new Loc(VhdConstants.PLATFORM_W2KU, "C:\\VMs\\parent.vhd".getBytes(StandardCharsets.UTF_16LE)),
                new Loc(VhdConstants.PLATFORM_MAC, new byte[] {1, 2, 3}),
                new Loc(VhdConstants.PLATFORM_W2RU, ".\\parent.vhd\0\0".getBytes(StandardCharsets.UTF_16LE)),
                new Loc(VhdConstants.PLATFORM_WI2R, "..\\old\\p.vhd".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(List.of(
                new VhdParent.Candidate("W2ru locator", "./parent.vhd"),
                new VhdParent.Candidate("Wi2r locator", "../old/p.vhd"),
                new VhdParent.Candidate("W2ku locator", "C:/VMs/parent.vhd"),
                new VhdParent.Candidate("MacX locator", "/Users/me/parent disk.vhd"),
                new VhdParent.Candidate("parent name", "parent.vhd")), c);
    }

    @Test
    void locatorOutsideTheFileIsAnError() throws IOException {
        Path f = dir.resolve("short");
        VhdTestSupport.write(f, 0, new byte[1024]);
        List<VhdDynamicHeader.Locator> entries = new ArrayList<>();
        entries.add(new VhdDynamicHeader.Locator(VhdConstants.PLATFORM_W2RU, 512, 100, 1000));
        entries.add(new VhdDynamicHeader.Locator(VhdConstants.PLATFORM_W2KU, 512, 1 << 20, 0));
        while (entries.size() < 8) {
            entries.add(new VhdDynamicHeader.Locator(0, 0, 0, 0));
        }
        VhdDynamicHeader h = new VhdDynamicHeader(-1, 1536, 0x10000, 1, 2 << 20, 0, true, UUID.randomUUID(), 0, "",
                entries);
        try (ImageFile file = ImageFile.openRead(f)) {
            ImageFormatException e = assertThrows(ImageFormatException.class, () -> VhdParent.candidates(file, h));
            assertTrue(e.getMessage().contains("outside the file"), e.getMessage());
        }
    }
}
