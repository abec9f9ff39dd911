package io.p2vkit.agent.migrate;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The migration job around a boot check the test controls: what it captures, what it hands the
 * check, and that report.json and report.html say what happened — valid JSON by Python's reader,
 * well-formed XHTML by the JDK's strict XML parser, the guest's text escaped.
 */
class MigrationTest {

    /** A 1x1 PNG (a real one: signature, IHDR, IDAT, IEND). */
    private static final byte[] TINY_PNG = Base64.getDecoder().decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    /** What a hostile guest could print: markup, an entity, control characters, a lone surrogate. */
    private static final String HOSTILE = "<script>alert('x')</script> &amp; \"q\" \u0000\u001b[31m red \u0007 \ud800 ]]>";

    @TempDir
    Path dir;

    private final List<String> phases = new ArrayList<>();

    /** A boot check that records its arguments and answers what the test says. */
    private final class ScriptedBoot implements BootCheck {
        final boolean pass;
        final String console;
        Path image;
        Pattern expect;
        Duration timeout;

        ScriptedBoot(boolean pass, String console) {
            this.pass = pass;
            this.console = console;
        }

        @Override
        public BootOutcome boot(Path image, Pattern expect, Duration timeout, Path screenshot) throws java.io.IOException {
            this.image = image;
            this.expect = expect;
            this.timeout = timeout;
            assertTrue(Files.isRegularFile(image), "the image exists when the boot starts");
            Files.write(screenshot, TINY_PNG);
            return new BootOutcome(pass, pass ? "matched /x/" : "failure text: \"" + console + "\"", "emu",
                    "test engine", pass ? "serial" : null, "text 80x25", null, "", Duration.ofMillis(10),
                    Duration.ofMillis(20), pass ? Duration.ofMillis(30) : null, Duration.ofMillis(40),
                    "SeaBIOS\n" + console + "\n", "screen: " + console, screenshot);
        }
    }

    private final Migration.Listener listener = new Migration.Listener() {
        @Override
        public void phase(String line) {
            phases.add(line);
        }

        @Override
        public void warning(String line) {
            phases.add("warning: " + line);
        }
    };

    private Path source() throws Exception {
        byte[] disk = new byte[4 << 20];
        for (int i = 0; i < 1 << 20; i++) {
            disk[(1 << 20) + i] = (byte) (i * 31);
        }
        disk[510] = 0x55;
        disk[511] = (byte) 0xAA;
        return Files.write(dir.resolve("server.img"), disk);
    }

    private Migration.Request request(Path source, Path out, Pattern expect, boolean force) throws Exception {
        return new Migration.Request(source, Formats.get().require("vmdk"), Migration.imageName(source, "vmdk"), out,
                CreateOptions.none(), expect, Duration.ofSeconds(7), false, force);
    }

    @Test
    void migratedRunWritesImageManifestAndBothReports() throws Exception {
        Path src = source();
        Path out = dir.resolve("out");
        ScriptedBoot boot = new ScriptedBoot(true, "P2V-GUEST-OK");
        MigrationReport r = Migration.run(request(src, out, Pattern.compile("P2V-GUEST-OK"), false),
                (done, total) -> { }, listener, boot);

        assertTrue(r.migrated());
        assertEquals(out.resolve("server.vmdk"), boot.image);
        assertEquals("P2V-GUEST-OK", boot.expect.pattern());
        assertEquals(Duration.ofSeconds(7), boot.timeout);
        assertTrue(phases.getFirst().startsWith("capturing "), phases.toString());
        assertTrue(Files.isRegularFile(out.resolve("server.vmdk.manifest.json")));

        Path json = out.resolve(Migration.REPORT_JSON);
        assertEquals("MIGRATED|P2V-GUEST-OK|False|serial|4194304|vmdk|screen.png|1",
                JsonOracle.eval(json, "'|'.join(str(x) for x in [d['result'], d['expect']['pattern'], "
                        + "d['expect']['default_markers'], d['boot']['matched_on'], d['source']['size'], "
                        + "d['image']['format'], d['screenshot'], d['p2vkit_migration_report']])"));
        // Every field docs/migrate.md documents is there.
        assertEquals("boot,console_log,expect,image,p2vkit_migration_report,reason,result,screen_text,screenshot,"
                        + "source,started,timings,warnings",
                JsonOracle.eval(json, "','.join(sorted(d))"));
        assertEquals("capture_ms,checksum_ms,boot_ms,total_ms", JsonOracle.eval(json, "','.join(d['timings'])"));
        assertEquals("path,format,virtual_size,file_size,copied_bytes,sha256,file_sha256,manifest",
                JsonOracle.eval(json, "','.join(d['image'])"));
        // The file checksum is the file's: what sha256sum would print.
        String fileSha = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(out.resolve("server.vmdk"))));
        assertEquals(fileSha, JsonOracle.eval(json, "d['image']['file_sha256']"));
        assertEquals(Files.size(out.resolve("server.vmdk")) + "", JsonOracle.eval(json, "d['image']['file_size']"));

        Document html = xhtml(out.resolve(Migration.REPORT_HTML));
        assertEquals("MIGRATED", html.getElementsByTagName("h1").item(0).getTextContent());
        assertEquals(List.of("Source", "Image", "Boot", "Timings", "Last screen", "Serial console"),
                texts(html.getElementsByTagName("h2")));
        Element img = (Element) html.getElementsByTagName("img").item(0);
        assertEquals("data:image/png;base64," + Base64.getEncoder().encodeToString(TINY_PNG), img.getAttribute("src"));
        assertEquals("screen.png", ((Element) img.getParentNode()).getAttribute("href"));
        assertTrue(texts(html.getElementsByTagName("td")).contains("server.vmdk"));
    }

    @Test
    void hostileGuestTextIsEscapedInTheHtml() throws Exception {
        Path out = dir.resolve("out");
        MigrationReport r = Migration.run(request(source(), out, Pattern.compile("never"), false),
                (done, total) -> { }, listener, new ScriptedBoot(false, HOSTILE));
        assertFalse(r.migrated());
        Document html = xhtml(out.resolve(Migration.REPORT_HTML));
        assertEquals(0, html.getElementsByTagName("script").getLength(), "the guest's markup stays text");
        assertEquals("FAILED", html.getElementsByTagName("h1").item(0).getTextContent());
        String console = texts(html.getElementsByTagName("pre")).getLast();
        assertTrue(console.contains("<script>alert('x')</script> &amp; \"q\""), console);
        assertTrue(console.contains("\u2400\u241b[31m red \u2407 \ufffd ]]>"), "controls shown as their pictures: " + console);
        // The JSON carries the guest's text exactly (a lone surrogate, which UTF-8 cannot hold, as '?').
        assertEquals(HOSTILE.replace("\ud800", "?"), JsonOracle.eval(out.resolve(Migration.REPORT_JSON),
                "d['console_log'].split('\\n')[1]"));
    }

    @Test
    void defaultMarkersAreUsedWhenNoTextIsExpected() throws Exception {
        ScriptedBoot boot = new ScriptedBoot(true, "debian login: ");
        MigrationReport r = Migration.run(request(source(), dir.resolve("out"), null, false),
                (done, total) -> { }, listener, boot);
        assertEquals(BootMarkers.defaultPattern().pattern(), boot.expect.pattern());
        assertTrue(r.expect().defaults());
    }

    @Test
    void existingReportsAreRefusedBeforeAnythingIsCaptured() throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve(Migration.REPORT_JSON), "{}");
        ScriptedBoot boot = new ScriptedBoot(true, "");
        assertThrows(FileAlreadyExistsException.class, () -> Migration.run(request(source(), out, null, false),
                (done, total) -> { }, listener, boot));
        assertFalse(Files.exists(out.resolve("server.vmdk")));
        assertNull(boot.image, "no boot");
        Migration.run(request(source(), out, null, true), (done, total) -> { }, listener, boot);
        assertTrue(Files.readString(out.resolve(Migration.REPORT_JSON)).contains("\"MIGRATED\""));
    }

    @Test
    void missingSourceIsAnErrorAndLeavesNoOutputFolder() {
        Path out = dir.resolve("out");
        assertThrows(NoSuchFileException.class, () -> Migration.run(request(dir.resolve("nope.img"), out, null, false),
                (done, total) -> { }, listener, new ScriptedBoot(true, "")));
        assertFalse(Files.exists(out));
    }

    @Test
    void defaultMarkersMatchBootedSystemsAndNotFirmwareOrBootloaders() {
        Pattern p = BootMarkers.defaultPattern();
        for (String booted : List.of("debian login: ", "[  OK  ] Reached target multi-user.target - Multi-User System.",
                "[  OK  ] Reached target Graphical Interface.", "P2V-GUEST-OK kernel=6.1.0 cpus=1")) {
            assertTrue(p.matcher(booted).find(), booted);
        }
        for (String early : List.of("SeaBIOS (version 1.16.2)", "Booting from Hard Disk...", "SYSLINUX 6.04",
                "Loading vmlinuz... ok", "Reached target Basic System", "No bootable device.")) {
            assertFalse(p.matcher(early).find(), early);
        }
    }

    @Test
    void imageNamesComeFromTheSource() {
        assertEquals("sda.vmdk", Migration.imageName(Path.of("/dev/sda"), "vmdk"));
        assertEquals("server.vhd", Migration.imageName(Path.of("/srv/server.img"), "vhd"));
        assertEquals(".hidden.qcow2", Migration.imageName(Path.of(".hidden"), "qcow2"));
    }

    @Test
    void hrefsArePercentEncoded() {
        assertEquals("a%20b%22%3C.vmdk", ReportHtml.href(Path.of("a b\"<.vmdk")));
    }

    private static Document xhtml(Path file) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return f.newDocumentBuilder().parse(file.toFile());
    }

    private static List<String> texts(NodeList nodes) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add(nodes.item(i).getTextContent());
        }
        return out;
    }
}
