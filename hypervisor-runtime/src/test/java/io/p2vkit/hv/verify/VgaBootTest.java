package io.p2vkit.hv.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.device.vga.TextScreen;
import io.p2vkit.hv.device.vga.VgaSnapshot;
import io.p2vkit.hv.guest.TestGuest;
import io.p2vkit.hv.kvm.KvmEngine;
import io.p2vkit.hv.kvm.KvmRequirement;
import io.p2vkit.hv.machine.FirmwareLocator;
import io.p2vkit.hv.machine.Machine;
import io.p2vkit.hv.machine.MachineConfig;
import io.p2vkit.image.VirtualDisk;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SeaBIOS with its VGA BIOS on our emulator: the firmware and SYSLINUX print to the VGA text
 * screen, boot verification matches text that only the screen shows, a guest that selects a
 * graphics mode is reported as such, and the screenshot's glyph cells are the font in plane 2
 * drawing the characters of the text buffer.
 */
class VgaBootTest {

    @TempDir
    Path dir;

    @BeforeEach
    void needFirmware() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/share/seabios/bios-256k.bin")), "seabios not installed");
        Assumptions.assumeTrue(FirmwareLocator.locateVgaBios(null) != null, "no VGA BIOS (seabios package)");
    }

    private static BootVerifier emu() {
        return new BootVerifier(Engines.of(Engines.choose("emu")));
    }

    /** A boot sector that writes {@code text} straight into text memory on row 10 and halts: COM1 sees nothing. */
    static byte[] screenOnlySector(String text) {
        return Asm16.prologue()
                .b(0xB8).imm16(0xB800)                     // mov ax, 0xB800
                .b(0x8E, 0xC0)                             // mov es, ax
                .b(0xBF).imm16(160 * 10)                   // mov di, row 10
                .abs16(0xBE, "msg")                        // mov si, msg
                .b(0xB4, 0x1E)                             // mov ah, yellow on blue
                .label("next").b(0xAC)                     // lodsb
                .b(0x84, 0xC0)                             // test al, al
                .jmp8(0x74, "done")                        // jz done
                .b(0xAB)                                   // stosw
                .jmp8(0xEB, "next")
                .label("done")
                .haltForever()
                .label("msg").asciz(text)
                .bootSector();
    }

    private BootReport boot(byte[] sector, BootVerifier v) throws Exception {
        Path disk = TestDisks.raw(dir, "disk.raw", sector);
        try (VirtualDisk image = TestDisks.open(disk)) {
            return v.verify(new MachineConfig().memoryMiB(32).disk(image, MachineConfig.DiskInterface.IDE));
        }
    }

    @Test
    void expectMatchesTextOnlyTheScreenShows() throws Exception {
        Path png = dir.resolve("screen.png");
        BootReport r = boot(screenOnlySector("P2V-SCREEN-ONLY"), emu().expect(Pattern.compile("P2V-SCREEN-ONLY"))
                .timeout(Duration.ofSeconds(60)).screenshot(png));
        assertTrue(r.passed(), r.summary() + "\n" + r.screenText());
        assertEquals(BootReport.SCREEN, r.matchedOn());
        assertTrue(r.reason().contains("on the screen"), r.reason());
        assertFalse(r.consoleLog().contains("P2V-SCREEN-ONLY"), "the marker never went to COM1");
        assertEquals("text 80x25", r.display());
        assertNull(r.graphicsMode());
        assertTrue(r.screenText().contains("SeaBIOS (version"), r.screenText());
        assertNotNull(r.firmwareBanner());
        assertEquals(png, r.screenshot());
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(720, img.getWidth());
        assertEquals(400, img.getHeight());
    }

    /** Under KVM the window is not RAM: every access is an MMIO exit that reaches the same card. */
    @Test
    void screenMatchingWorksUnderKvmToo() throws Exception {
        KvmRequirement.require();
        Path png = dir.resolve("kvm.png");
        BootReport r = boot(screenOnlySector("P2V-KVM-SCREEN"), new BootVerifier(new KvmEngine())
                .expect(Pattern.compile("P2V-KVM-SCREEN")).timeout(Duration.ofSeconds(60)).screenshot(png));
        assertTrue(r.passed(), r.summary() + "\n" + r.screenText());
        assertEquals(BootReport.SCREEN, r.matchedOn());
        assertTrue(r.screenText().contains("SeaBIOS (version"), r.screenText());
        assertEquals(720, ImageIO.read(png.toFile()).getWidth());
    }

    @Test
    void failurePatternMatchesOnTheScreenToo() throws Exception {
        Path png = dir.resolve("fail.png");
        BootReport r = boot(screenOnlySector("FATAL-ON-SCREEN"), emu().expect(Pattern.compile("never shown"))
                .failOn(Pattern.compile("FATAL-ON-SCREEN")).timeout(Duration.ofSeconds(60)).failureScreenshot(png));
        assertFalse(r.passed());
        assertEquals(BootReport.SCREEN, r.matchedOn());
        assertTrue(r.reason().startsWith("failure text on the screen"), r.reason());
        assertEquals(png, r.screenshot(), "a failed boot leaves a screenshot");
        assertNotNull(ImageIO.read(png.toFile()));
    }

    @Test
    void graphicsModeIsReportedInsteadOfNeverMatching() throws Exception {
        byte[] sector = Asm16.prologue()
                .b(0xB8).imm16(0x0012)                     // mov ax, 0x0012: mode 12h, 640x480x16
                .b(0xCD, 0x10)                             // int 10h
                .haltForever()
                .bootSector();
        Path png = dir.resolve("graphics.png");
        BootReport r = boot(sector, emu().expect(Pattern.compile("never shown"))
                .timeout(Duration.ofSeconds(20)).screenshot(png));
        assertFalse(r.passed());
        assertEquals("graphics 640x480, 16 colours", r.graphicsMode());
        assertEquals("graphics 640x480, 16 colours", r.display());
        assertTrue(r.reason().contains("graphics 640x480"), r.reason());
        assertNull(r.screenshot(), "graphics modes are not drawn");
        assertFalse(Files.exists(png));
    }

    @Test
    void displayNoneLeavesTheSerialConsoleAlone() throws Exception {
        Path disk = TestDisks.raw(dir, "disk.raw", screenOnlySector("P2V-SCREEN-ONLY"));
        BootReport r;
        try (VirtualDisk image = TestDisks.open(disk)) {
            r = emu().expect(Pattern.compile("Booting from Hard Disk")).timeout(Duration.ofSeconds(60))
                    .verify(new MachineConfig().memoryMiB(32).display(MachineConfig.Display.NONE)
                            .disk(image, MachineConfig.DiskInterface.IDE));
        }
        assertTrue(r.passed(), r.summary());
        assertEquals(BootReport.SERIAL, r.matchedOn());
        assertEquals("none", r.display());
        assertEquals("", r.screenText());
    }

    /**
     * The test guest: SeaBIOS's banner and SYSLINUX's banner reach the screen, and the PNG drawn
     * from it shows, in every cell, the glyph the font in plane 2 holds for the character in the
     * text buffer, in the cell's colours.
     */
    @Test
    void testGuestBannersReachTheScreenAndTheScreenshotShowsThem() throws Exception {
        Path disk = TestGuest.disk();
        VgaSnapshot snap = null;
        String text = "";
        try (VirtualDisk image = TestDisks.open(disk);
             Machine m = Machine.create(new MachineConfig().memoryMiB(256).disk(image, MachineConfig.DiskInterface.IDE)
                     .engine(Engines.of(Engines.choose("emu"))))) {
            m.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (System.nanoTime() < deadline) {
                m.awaitStop(Duration.ofMillis(250));
                snap = m.vga().snapshot();
                TextScreen t = snap.textScreen();
                text = t == null ? "" : t.text();
                if (text.contains("SYSLINUX 6")) {
                    break;
                }
            }
        }
        assertTrue(text.contains("SeaBIOS (version"), text);
        assertTrue(text.contains("SYSLINUX 6"), text);
        Path png = dir.resolve("guest.png");
        assertTrue(Screenshots.write(snap, png));
        BufferedImage img = ImageIO.read(png.toFile());
        TextScreen t = snap.textScreen();
        assertEquals(t.cols() * t.cellWidth(), img.getWidth());
        assertEquals(t.rows() * t.cellHeight(), img.getHeight());
        int inkCells = 0;
        for (int row = 0; row < t.rows(); row++) {
            for (int col = 0; col < t.cols(); col++) {
                if (row == t.cursorRow() && col == t.cursorCol()) {
                    continue;
                }
                int a = t.attrAt(row, col);
                int fg = snap.colour(a & 0x0F);
                int bg = snap.colour((a >> 4) & 0x07);
                boolean ink = false;
                for (int y = 0; y < t.cellHeight(); y++) {
                    int bits = snap.glyphLine(a, t.charAt(row, col), y);
                    for (int x = 0; x < 8; x++) {
                        int want = (bits & (0x80 >> x)) != 0 ? fg : bg;
                        int got = img.getRGB(col * t.cellWidth() + x, row * t.cellHeight() + y) & 0xFFFFFF;
                        assertEquals(want, got, "cell " + row + "," + col + " ('" + (char) t.charAt(row, col) + "') line " + y);
                        ink |= want != bg;
                    }
                }
                if (ink) {
                    inkCells++;
                }
            }
        }
        // The font is real: the banners' letters are drawn with ink, and 'S' differs from 'Y'.
        assertTrue(inkCells > 100, "only " + inkCells + " cells with ink");
        boolean differ = false;
        for (int y = 0; y < 16; y++) {
            differ |= snap.glyphLine(0x07, 'S', y) != snap.glyphLine(0x07, 'Y', y);
        }
        assertTrue(differ, "plane 2 holds distinct glyphs");
    }
}
