package io.p2vkit.hv.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.device.vga.TextScreen;
import io.p2vkit.hv.device.vga.VgaSnapshot;
import io.p2vkit.hv.machine.FirmwareLocator;
import io.p2vkit.hv.machine.Machine;
import io.p2vkit.hv.machine.MachineConfig;
import io.p2vkit.image.VirtualDisk;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU as the oracle for the screen: the same boot sector (every character code in many colours,
 * line-drawing characters among them, and a marker line) runs under QEMU's emulator with its
 * standard VGA and under our emulator with ours, both with SeaBIOS's VGA BIOS. QEMU's
 * {@code screendump} and our screenshot must show the same pixels, compared at the DAC's six bits
 * per channel (QEMU widens them by shifting, we by replicating the top bits), the cursor cell
 * aside (QEMU blinks it), and the ninth column of codes 0xB0-0xBF aside: QEMU repeats the eighth
 * column there too, where the VGA's line-graphics rule covers 0xC0-0xDF only.
 */
class VgaQemuScreenTest {

    static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");

    @TempDir
    Path dir;

    /** Codes 1-255 from row 12 on, attribute = code & 0x7F (no blinking), then the marker on row 20. */
    static byte[] colourfulSector() {
        return Asm16.prologue()
                .b(0xB8).imm16(0xB800)                     // mov ax, 0xB800
                .b(0x8E, 0xC0)                             // mov es, ax
                .b(0xBF).imm16(160 * 12)                   // mov di, row 12
                .b(0xB9).imm16(1)                          // mov cx, 1
                .label("code")
                .b(0x88, 0xC8)                             // mov al, cl
                .b(0x88, 0xCC)                             // mov ah, cl
                .b(0x80, 0xE4, 0x7F)                       // and ah, 0x7F
                .b(0xAB)                                   // stosw
                .b(0x41)                                   // inc cx
                .b(0x81, 0xF9).imm16(256)                  // cmp cx, 256
                .jmp8(0x75, "code")                        // jne code
                .b(0xBF).imm16(160 * 20)                   // mov di, row 20
                .abs16(0xBE, "msg")                        // mov si, msg
                .b(0xB4, 0x1E)                             // mov ah, yellow on blue
                .label("next").b(0xAC)                     // lodsb
                .b(0x84, 0xC0)                             // test al, al
                .jmp8(0x74, "done")
                .b(0xAB)                                   // stosw
                .jmp8(0xEB, "next")
                .label("done")
                .haltForever()
                .label("msg").asciz("QEMU-ORACLE \u00C4\u00C4\u00B3\u00DA\u00BF")
                .bootSector();
    }

    @Test
    void ourScreenshotMatchesQemusScreendump() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(QEMU), "qemu-system-x86 not installed");
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/share/seabios/vgabios-stdvga.bin")), "seabios not installed");
        Assumptions.assumeTrue(FirmwareLocator.locateVgaBios(null) != null, "no VGA BIOS");
        Path disk = TestDisks.raw(dir, "oracle.raw", colourfulSector());

        VgaSnapshot snap = null;
        TextScreen screen = null;
        try (VirtualDisk image = TestDisks.open(disk);
             Machine m = Machine.create(new MachineConfig().memoryMiB(32).disk(image, MachineConfig.DiskInterface.IDE)
                     .engine(Engines.of(Engines.choose("emu"))))) {
            m.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                m.awaitStop(Duration.ofMillis(200));
                snap = m.vga().snapshot();
                screen = snap.textScreen();
                if (screen != null && screen.text().contains("QEMU-ORACLE")) {
                    break;
                }
            }
        }
        assertTrue(screen != null && screen.text().contains("QEMU-ORACLE"), "our guest never showed the marker");
        Path ours = dir.resolve("ours.png");
        assertTrue(Screenshots.write(snap, ours));
        BufferedImage mine = ImageIO.read(ours.toFile());

        Process q = new ProcessBuilder(QEMU.toString(), "-accel", "tcg", "-m", "32", "-L", "/usr/share/seabios",
                "-vga", "std", "-drive", "file=" + disk + ",format=raw,if=ide", "-display", "none",
                "-monitor", "stdio", "-nic", "none", "-serial", "null", "-no-reboot")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        int best = Integer.MAX_VALUE;
        StringBuilder where = new StringBuilder();
        try (OutputStream monitor = q.getOutputStream()) {
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            for (int i = 0; System.nanoTime() < deadline && best > 0; i++) {
                Thread.sleep(2000);
                Path dump = dir.resolve("qemu" + i + ".ppm");
                monitor.write(("screendump " + dump + "\n").getBytes(StandardCharsets.US_ASCII));
                monitor.flush();
                for (int w = 0; w < 50 && !complete(dump); w++) {
                    Thread.sleep(100);
                }
                if (complete(dump)) {
                    StringBuilder w = new StringBuilder();
                    int n = differences(mine, readPpm(dump), screen, w);
                    if (n < best) {
                        best = n;
                        where = w;
                    }
                }
            }
            monitor.write("quit\n".getBytes(StandardCharsets.US_ASCII));
        } finally {
            if (!q.waitFor(10, TimeUnit.SECONDS)) {
                q.destroyForcibly();
            }
        }
        assertEquals(0, best, "pixels that differ from QEMU's screendump (best of the dumps): " + where);
    }

    private static boolean complete(Path ppm) throws IOException {
        return Files.exists(ppm) && Files.size(ppm) >= 15 + 720 * 400 * 3;
    }

    /** A binary PPM (P6, maxval 255) as 0xRRGGBB pixels. */
    static int[][] readPpm(Path p) throws IOException {
        byte[] d = Files.readAllBytes(p);
        String header = new String(d, 0, Math.min(d.length, 32), StandardCharsets.US_ASCII);
        String[] f = header.split("\\s+");
        int w = Integer.parseInt(f[1]);
        int h = Integer.parseInt(f[2]);
        int offset = header.indexOf(f[3]) + f[3].length() + 1;
        int[][] px = new int[h][w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = offset + (y * w + x) * 3;
                px[y][x] = (d[i] & 0xFF) << 16 | (d[i + 1] & 0xFF) << 8 | (d[i + 2] & 0xFF);
            }
        }
        return px;
    }

    /** Pixels whose six-bit colour differs, the cursor cell excepted; everything if the sizes differ. */
    static int differences(BufferedImage mine, int[][] qemu, TextScreen t, StringBuilder where) {
        if (qemu.length != mine.getHeight() || qemu[0].length != mine.getWidth()) {
            return mine.getWidth() * mine.getHeight();
        }
        int bad = 0;
        for (int y = 0; y < qemu.length; y++) {
            for (int x = 0; x < qemu[0].length; x++) {
                if (y / t.cellHeight() == t.cursorRow() && x / t.cellWidth() == t.cursorCol()) {
                    continue;
                }
                int code = t.charAt(y / t.cellHeight(), x / t.cellWidth());
                if (x % t.cellWidth() == 8 && code >= 0xB0 && code <= 0xBF) {
                    continue;
                }
                int ours = mine.getRGB(x, y) & 0xFFFFFF;
                if ((ours & 0xFCFCFC) != (qemu[y][x] & 0xFCFCFC)) {
                    if (bad++ < 8) {
                        int row = y / t.cellHeight();
                        int col = x / t.cellWidth();
                        where.append(String.format("(%d,%d) cell %d,%d char 0x%02x attr 0x%02x ours %06x qemu %06x; ",
                                x, y, row, col, t.charAt(row, col), t.attrAt(row, col), ours, qemu[y][x]));
                    }
                }
            }
        }
        return bad;
    }
}
