package io.p2vkit.cli.vm;

import io.p2vkit.cli.Main;
import io.p2vkit.cli.StdStreams;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code p2v vm verify} end to end on the emulator: exit codes, report, log, image untouched. */
class VmCommandsTest {

    @TempDir
    Path dir;

    @RegisterExtension
    final StdStreams std = new StdStreams();
    private final ByteArrayOutputStream out = std.out;
    private final ByteArrayOutputStream err = std.err;

    @BeforeEach
    void needsFirmware() {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/share/seabios/bios-256k.bin")), "seabios not installed");
    }

    /** A boot sector that writes "P2V HELLO" to COM1 and halts. */
    private Path helloDisk() throws Exception {
        return helloDisk(false);
    }

    /** The same, then either halts with interrupts off or spins forever ({@code spin}). */
    private Path helloDisk(boolean spin) throws Exception {
        byte[] sector = new byte[512];
        int p = 0;
        sector[p++] = (byte) 0xBA; // mov dx, 0x3F8
        sector[p++] = (byte) 0xF8;
        sector[p++] = 0x03;
        for (char c : "P2V HELLO\r\n".toCharArray()) {
            sector[p++] = (byte) 0xB0; // mov al, c
            sector[p++] = (byte) c;
            sector[p++] = (byte) 0xEE; // out dx, al
        }
        if (spin) {
            sector[p++] = (byte) 0xEB; // jmp $
            sector[p++] = (byte) 0xFE;
        } else {
            sector[p++] = (byte) 0xFA; // cli
            sector[p++] = (byte) 0xF4; // hlt
        }
        sector[510] = 0x55;
        sector[511] = (byte) 0xAA;
        byte[] disk = new byte[1 << 20];
        System.arraycopy(sector, 0, disk, 0, 512);
        return Files.write(dir.resolve("hello.raw"), disk);
    }

    @Test
    void verifyPassesWritesReportAndLogAndLeavesTheImageAlone() throws Exception {
        Path disk = helloDisk();
        byte[] before = Files.readAllBytes(disk);
        Path report = dir.resolve("report.json");
        Path log = dir.resolve("console.log");
        int rc = Main.run("vm", "verify", "--accel", "emu", "--memory", "64M", disk.toString(), "--expect", "P2V HELLO",
                "--timeout", "30s", "--report", report.toString(), "--log", log.toString());
        assertEquals(0, rc, out + "\n" + err);
        assertTrue(out.toString().startsWith("PASS"), out.toString());
        String json = Files.readString(report);
        assertTrue(json.contains("\"passed\": true") && json.contains("\"engine\": \"emu\""), json);
        assertTrue(json.contains("\"firmware_banner_ms\""), json);
        assertTrue(Files.readString(log).contains("P2V HELLO"));
        assertArrayEquals(before, Files.readAllBytes(disk));
    }

    /** A boot sector that writes "ON SCREEN" into VGA text memory (row 10) and halts; COM1 sees nothing. */
    private Path screenDisk() throws Exception {
        byte[] sector = new byte[512];
        int p = 0;
        for (int b : new int[] {0xFC, 0xB8, 0x00, 0xB8, 0x8E, 0xC0, 0xBF, 0x40, 0x06}) {
            sector[p++] = (byte) b;   // cld; mov ax, 0xB800; mov es, ax; mov di, 160 * 10
        }
        for (char c : "ON SCREEN".toCharArray()) {
            sector[p++] = (byte) 0xB8; // mov ax, 0x1E00 | c (yellow on blue)
            sector[p++] = (byte) c;
            sector[p++] = 0x1E;
            sector[p++] = (byte) 0xAB; // stosw
        }
        sector[p++] = (byte) 0xFA; // cli
        sector[p++] = (byte) 0xF4; // hlt
        sector[510] = 0x55;
        sector[511] = (byte) 0xAA;
        byte[] disk = new byte[1 << 20];
        System.arraycopy(sector, 0, disk, 0, 512);
        return Files.write(dir.resolve("screen.raw"), disk);
    }

    @Test
    void verifyMatchesTheScreenAndWritesTheScreenshot() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/share/seabios/vgabios-isavga.bin")), "no VGA BIOS");
        Path report = dir.resolve("report.json");
        Path png = dir.resolve("screen.png");
        int rc = Main.run("vm", "verify", "--accel", "emu", "--memory", "32M", screenDisk().toString(),
                "--expect", "ON SCREEN", "--timeout", "60s", "--report", report.toString(), "--screenshot", png.toString());
        assertEquals(0, rc, out + "\n" + err);
        String json = Files.readString(report);
        assertTrue(json.contains("\"matched_on\": \"screen\""), json);
        assertTrue(json.contains("\"display\": \"text 80x25\""), json);
        assertTrue(json.contains("\"screenshot\": \"" + png + "\""), json);
        assertTrue(json.contains("ON SCREEN"), "screen_text carries the screen");
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 24);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, java.util.Arrays.copyOf(head, 8));
        assertEquals(720, java.nio.ByteBuffer.wrap(head, 16, 4).getInt(), "IHDR width: 80 columns of 9 pixels");
        assertTrue(out.toString().contains("screenshot: " + png), out.toString());
    }

    @Test
    void aGuestInGraphicsModeIsReportedAsSuch() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/share/seabios/vgabios-isavga.bin")), "no VGA BIOS");
        byte[] sector = new byte[512];
        byte[] code = {(byte) 0xB8, 0x12, 0x00, (byte) 0xCD, 0x10, (byte) 0xFA, (byte) 0xF4};  // int 10h mode 12h; cli; hlt
        System.arraycopy(code, 0, sector, 0, code.length);
        sector[510] = 0x55;
        sector[511] = (byte) 0xAA;
        byte[] image = new byte[1 << 20];
        System.arraycopy(sector, 0, image, 0, 512);
        Path disk = Files.write(dir.resolve("gfx.raw"), image);
        Path report = dir.resolve("gfx.json");
        int rc = Main.run("vm", "verify", "--accel", "emu", "--memory", "32M", disk.toString(), "--expect", "login:",
                "--timeout", "20s", "--report", report.toString());
        assertEquals(1, rc, out + "\n" + err);
        String json = Files.readString(report);
        assertTrue(json.contains("\"graphics_mode\": \"graphics 640x480, 16 colours\""), json);
        assertTrue(err.toString().contains("switched the display to graphics 640x480, 16 colours"), err.toString());
        assertTrue(out.toString().contains("the guest selected graphics 640x480"), out.toString());
        assertTrue(!Files.exists(dir.resolve("gfx.png")), "graphics modes are not drawn");
    }

    @Test
    void withoutVgaTheScreenIsNotWatched() throws Exception {
        Path report = dir.resolve("novga.json");
        int rc = Main.run("vm", "verify", "--accel", "emu", "--memory", "32M", "--no-vga", screenDisk().toString(),
                "--expect", "ON SCREEN", "--timeout", "8s", "--report", report.toString());
        assertEquals(1, rc, out + "\n" + err);
        String json = Files.readString(report);
        assertTrue(json.contains("\"display\": \"none\""), json);
        assertTrue(!Files.exists(dir.resolve("novga.png")), "no display, no failure screenshot");
        assertEquals(2, Main.run("vm", "verify", "--accel", "emu", "--display", "crt", screenDisk().toString(),
                "--expect", "x"));
    }

    @Test
    void diskWithoutBootloaderFailsWithTheFirmwaresReason() throws Exception {
        Path blank = Files.write(dir.resolve("blank.raw"), new byte[1 << 20]);
        int rc = Main.run("vm", "verify", "--accel", "emu", "--memory", "64M", blank.toString(), "--expect", "login:",
                "--timeout", "60s");
        assertEquals(1, rc, out + "\n" + err);
        assertTrue(out.toString().contains("No bootable device"), out.toString());
    }

    @Test
    void bootShowsTheConsoleAndQuitsOnCtrlAX() throws Exception {
        Path disk = helloDisk(true);
        java.io.InputStream oldIn = System.in;
        // The keys arrive once the guest has had time to print: Ctrl-A, then x.
        System.setIn(new java.io.InputStream() {
            private final long start = System.nanoTime();
            private final byte[] keys = {1, 'x'};
            private int next;

            @Override
            public int read() throws java.io.IOException {
                while (System.nanoTime() - start < 3_000_000_000L) {
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        throw new java.io.InterruptedIOException();
                    }
                }
                return next < keys.length ? keys[next++] : -1;
            }
        });
        try {
            int rc = Main.run("vm", "boot", "--accel", "emu", "--memory", "64M", disk.toString());
            assertEquals(0, rc, out + "\n" + err);
        } finally {
            System.setIn(oldIn);
        }
        assertTrue(out.toString().contains("P2V HELLO"), out.toString());
        assertTrue(err.toString().contains("quit with Ctrl-A X"), err.toString());
    }

    @Test
    void bootWritesAScreenshotOnCtrlAS() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/share/seabios/vgabios-isavga.bin")), "no VGA BIOS");
        Path disk = helloDisk(true);
        Path png = dir.resolve("boot.png");
        java.io.InputStream oldIn = System.in;
        // Once the guest has printed: Ctrl-A S (screenshot), then Ctrl-A X.
        System.setIn(new java.io.InputStream() {
            private final long start = System.nanoTime();
            private final byte[] keys = {1, 's', 1, 'x'};
            private int next;

            @Override
            public int read() throws java.io.IOException {
                while (System.nanoTime() - start < 3_000_000_000L) {
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        throw new java.io.InterruptedIOException();
                    }
                }
                return next < keys.length ? keys[next++] : -1;
            }
        });
        try {
            int rc = Main.run("vm", "boot", "--accel", "emu", "--memory", "64M", "--screenshot", png.toString(),
                    disk.toString());
            assertEquals(0, rc, out + "\n" + err);
        } finally {
            System.setIn(oldIn);
        }
        assertTrue(err.toString().contains("screenshot written to " + png), err.toString());
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, head);
    }

    @Test
    void errorsBeforeTheBootExitTwo() throws Exception {
        assertEquals(2, Main.run("vm", "verify", "--accel", "emu", dir.resolve("missing.raw").toString(),
                "--expect", "x"));
        assertTrue(err.toString().contains("no such file"), err.toString());
        Path disk = helloDisk();
        assertEquals(2, Main.run("vm", "verify", "--accel", "emu", disk.toString(), "--expect", "(unclosed"));
        assertTrue(err.toString().contains("bad regular expression"), err.toString());
        assertEquals(2, Main.run("vm", "verify", "--accel", "emu", "--memory", "1K", disk.toString(), "--expect", "x"));
    }
}
