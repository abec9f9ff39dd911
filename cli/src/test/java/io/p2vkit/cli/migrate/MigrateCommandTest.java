package io.p2vkit.cli.migrate;

import io.p2vkit.agent.discovery.Posix;
import io.p2vkit.cli.Main;
import io.p2vkit.cli.StdStreams;
import io.p2vkit.image.ImageFormatException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code p2v migrate} and {@code p2v demo} end to end on the emulator: the test guest (an image
 * file and a loop device) migrated to its bootloader, a disk without one FAILED, errors before
 * the boot, the reports checked by independent readers (Python's JSON, the JDK's XML parser,
 * ImageIO for the PNG).
 */
class MigrateCommandTest {

    /** The test guest's /init prints this once Linux is up (scripts/build-test-guest.sh). */
    private static final String MARKER = "P2V-GUEST-OK";

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

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private static Path guest() throws Exception {
        try {
            return SampleDisk.build(SampleDisk.repoRoot());
        } catch (ImageFormatException e) {
            Assumptions.abort("cannot build the test guest: " + e.getMessage());
            throw e;
        }
    }

    @Test
    void imageFileMigratesToItsBootloaderWithReportsAndScreenshot() throws Exception {
        Path o = dir.resolve("out");
        int rc = Main.run("migrate", guest().toString(), "-O", "vmdk", "-o", o.toString(), "--expect", "SYSLINUX",
                "--accel", "emu", "--timeout", "90s");
        assertEquals(0, rc, stdout() + stderr());
        assertTrue(stdout().startsWith("MIGRATED: matched /SYSLINUX/"), stdout());
        assertTrue(stderr().contains("migrate: capturing ") && stderr().contains("migrate: booting "), stderr());
        assertTrue(Files.isRegularFile(o.resolve("test-guest.vmdk")));
        assertTrue(Files.isRegularFile(o.resolve("test-guest.vmdk.manifest.json")));

        Path json = o.resolve("report.json");
        assertEquals("MIGRATED|vmdk|mbr|text 80x25|screen.png|emu|False",
                python(json, "'|'.join(str(x) for x in [d['result'], d['image']['format'], d['source']['partition_table'], "
                        + "d['boot']['display'], d['screenshot'], d['boot']['engine'], d['expect']['default_markers']])"));
        assertTrue(python(json, "d['console_log']").contains("SYSLINUX"));
        assertEquals(python(json, "d['image']['sha256']"),
                python(o.resolve("test-guest.vmdk.manifest.json"), "d['sha256']"), "the report carries the manifest's digest");

        Document html = xhtml(o.resolve("report.html"));
        assertEquals("MIGRATED", html.getElementsByTagName("h1").item(0).getTextContent());
        assertTrue(html.getElementsByTagName("pre").item(1).getTextContent().contains("SYSLINUX"), "the console log");

        BufferedImage png = ImageIO.read(o.resolve("screen.png").toFile());
        assertNotNull(png, "screen.png decodes");
        String screen = python(json, "d['screen_text']");
        int ink = ScreenCells.assertShows(png, screen, 80, 25);
        assertTrue(ink > 40, "the banners are drawn: " + ink + " cells with ink");
        // The comparison notices a picture that does not show the text: the same text a row lower.
        assertThrows(AssertionError.class, () -> ScreenCells.assertShows(png, "\n" + screen, 80, 25));
    }

    @Test
    void loopDeviceMigratesToVhd() throws Exception {
        Assumptions.assumeTrue(Posix.isRoot(), "loop devices need root");
        Path disk = guest();
        Path o = dir.resolve("out");
        LoopDevice loop;
        try {
            loop = LoopDevice.attachReadOnly(disk);
        } catch (ImageFormatException e) {
            Assumptions.abort("no loop device: " + e.getMessage());
            return;
        }
        try (loop) {
            int rc = Main.run("migrate", loop.device().toString(), "-O", "vhd", "-o", o.toString(), "--expect", "SYSLINUX",
                    "--accel", "emu", "--output", "json");
            assertEquals(0, rc, stdout() + stderr());
            Path printed = Files.writeString(dir.resolve("stdout.json"), stdout());
            assertEquals(python(o.resolve("report.json"), "d"), python(printed, "d"), "--output json prints report.json");
            assertTrue(stderr().contains("{ \"phase\": \"migrate\", \"message\": \"capturing " + loop.device()), stderr());
            String name = loop.device().getFileName() + ".vhd";
            assertEquals(loop.device() + "|" + Files.size(disk) + "|vpc|" + o.resolve(name),
                    python(o.resolve("report.json"), "'|'.join(str(x) for x in [d['source']['path'], d['source']['size'], "
                            + "d['image']['format'], d['image']['path']])"));
        }
    }

    @Test
    void diskWithoutBootloaderFailsWithTheReasonAndExitCodeOne() throws Exception {
        Path blank = dir.resolve("blank.img");
        try (var ch = Files.newByteChannel(blank, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(0).position((16 << 20) - 1).write(java.nio.ByteBuffer.wrap(new byte[1]));
        }
        Path o = dir.resolve("out");
        int rc = Main.run("migrate", blank.toString(), "-O", "qcow2", "-o", o.toString(), "--accel", "emu", "--timeout", "60s");
        assertEquals(1, rc, stdout() + stderr());
        assertTrue(stdout().startsWith("FAILED: "), stdout());
        assertTrue(stdout().contains("last screen:") && stdout().contains("| No bootable device"), stdout());
        Path json = o.resolve("report.json");
        assertEquals("FAILED|True", python(json, "d['result'] + '|' + str(d['expect']['default_markers'])"));
        assertTrue(python(json, "d['reason']").contains("No bootable device"));
        assertEquals("FAILED", xhtml(o.resolve("report.html")).getElementsByTagName("h1").item(0).getTextContent());
        assertNotNull(ImageIO.read(o.resolve("screen.png").toFile()));
    }

    @Test
    void errorsBeforeTheBootExitTwoWithOneLine() throws Exception {
        Path o = dir.resolve("out");
        assertEquals(2, Main.run("migrate", dir.resolve("missing.img").toString(), "-o", o.toString()));
        assertEquals("p2v: " + dir.resolve("missing.img") + ": no such file", stderr().strip());
        assertTrue(!Files.exists(o), "no output folder for a failed start");

        Path small = Files.write(dir.resolve("small.img"), new byte[1 << 20]);
        err.reset();
        assertEquals(2, Main.run("migrate", small.toString(), "-o", o.toString(), "--expect", "(unclosed"));
        assertTrue(stderr().startsWith("p2v: --expect: bad regular expression"), stderr());

        Files.createDirectories(o);
        Files.writeString(o.resolve("report.html"), "earlier");
        err.reset();
        assertEquals(2, Main.run("migrate", small.toString(), "-o", o.toString()));
        assertTrue(stderr().contains("report.html exists (use --force to overwrite)"), stderr());
        assertEquals("earlier", Files.readString(o.resolve("report.html")));
    }

    @Test
    void helpExplainsMigrateAndDemo() {
        assertEquals(0, Main.run("migrate", "--help"));
        String m = stdout();
        assertTrue(m.contains("Exit codes: 0 MIGRATED, 1 FAILED") && m.contains("login:") && m.contains("--expect"), m);
        out.reset();
        assertEquals(0, Main.run("demo", "--help"));
        String d = stdout();
        assertTrue(d.contains("Usage: p2v demo") && d.contains(MARKER) && d.contains("loop"), d);
        assertTrue(d.contains("VMDK") && d.contains("VHD") && d.contains("apt-get"), d);
    }

    /**
     * Issue 6, test 1: the guest without a serial console (test-guest-vga.img) is verified by its
     * screen alone (Linux's vgacon prints the marker), and the screenshot shows the marker's text
     * cell by cell. About a minute: the 64-bit kernel boots on the emulator.
     */
    @Test
    void vgaOnlyGuestIsVerifiedByItsScreen() throws Exception {
        Path vga = guest().resolveSibling("test-guest-vga.img");
        Path o = dir.resolve("out");
        int rc = Main.run("migrate", vga.toString(), "-O", "vmdk", "-o", o.toString(), "--accel", "emu", "--timeout", "6m");
        Path json = o.resolve("report.json");
        assertEquals(0, rc, stdout() + stderr());
        assertEquals("MIGRATED|screen", python(json, "d['result'] + '|' + d['boot']['matched_on']"));
        assertTrue(!python(json, "d['console_log']").contains(MARKER), "nothing reaches the serial port");
        String screen = python(json, "d['screen_text']");
        assertTrue(screen.contains(MARKER), screen);
        ScreenCells.assertShows(ImageIO.read(o.resolve("screen.png").toFile()), screen, 80, 25);
    }

    /** {@code p2v demo}: both migrations, the table, and valid reports. */
    @Test
    @Tag("slow")
    void demoMigratesTheSampleDiskToVmdkAndVhd() throws Exception {
        Path o = dir.resolve("demo");
        int rc = Main.run("demo", "-o", o.toString(), "--accel", "emu");
        assertEquals(0, rc, stdout() + stderr());
        for (String fmt : DemoCommand.FORMATS) {
            assertEquals("MIGRATED", python(o.resolve(fmt).resolve("report.json"), "d['result']"));
            xhtml(o.resolve(fmt).resolve("report.html"));
            assertTrue(stdout().contains(o.resolve(fmt).resolve("report.html").toString()), stdout());
        }
    }

    /** Evaluates a Python expression over the parsed JSON file {@code d}: Python's reader is the oracle. */
    static String python(Path file, String expression) throws IOException, InterruptedException {
        Path py = Path.of("/usr/bin/python3");
        Assumptions.assumeTrue(Files.isExecutable(py), "python3 is not installed");
        Process p = new ProcessBuilder(py.toString(), "-c",
                "import json, sys\nd = json.load(open(sys.argv[1], encoding='utf-8'))\nprint(" + expression + ")",
                file.toString()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("python3 could not read " + file + ": " + text);
        }
        return text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
    }

    /** Parses the report with the JDK's XML parser: it must be well-formed XHTML. */
    static Document xhtml(Path file) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return f.newDocumentBuilder().parse(file.toFile());
    }
}
