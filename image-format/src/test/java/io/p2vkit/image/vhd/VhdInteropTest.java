package io.p2vkit.image.vhd;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Extent;
import io.p2vkit.image.Formats;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interop with the independent tools, both directions: qemu-img writes VHDs we read, we write
 * VHDs that qemu-img compare and vhdiinfo accept. Skipped where the tools are missing.
 */
class VhdInteropTest {

    @TempDir
    static Path dir;

    static Path mixed;
    static Path empty;
    static Path zero;

    @BeforeAll
    static void disks() throws IOException {
        mixed = TestDisks.mixed(dir.resolve("mixed.raw"), TestDisks.ODD_SIZE, 256 * 1024, 42);
        empty = TestDisks.empty(dir.resolve("empty.raw"), TestDisks.ODD_SIZE);
        zero = TestDisks.allZero(dir.resolve("zero.raw"), TestDisks.ODD_SIZE);
    }

    static List<Arguments> qemuVariants() {
        List<Arguments> out = new ArrayList<>();
        for (String raw : List.of("mixed", "empty", "zero")) {
            for (String opts : List.of("subformat=dynamic", "subformat=fixed", "subformat=dynamic,force_size=on",
                    "subformat=fixed,force_size=on")) {
                out.add(Arguments.of(raw, opts));
            }
        }
        return out;
    }

    static Path raw(String name) {
        return switch (name) {
            case "mixed" -> mixed;
            case "empty" -> empty;
            default -> zero;
        };
    }

    @ParameterizedTest(name = "qemu-img {1} of {0} reads back identical")
    @MethodSource("qemuVariants")
    void weReadWhatQemuWrites(String rawName, String opts) throws Exception {
        Tools.require("qemu-img");
        Path raw = raw(rawName);
        Path vhd = dir.resolve(rawName + "-" + opts.replace(',', '-').replace('=', '_') + ".vhd");
        Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", opts, raw.toString(), vhd.toString());
        long qemuSize = virtualSize(Tools.ok("qemu-img", "info", "-f", "vpc", "--output=json", vhd.toString()).out());
        if (opts.contains("force_size")) {
            assertEquals(TestDisks.ODD_SIZE, qemuSize);
        }
        // Probing must find the VHD, fixed ones included (their only signature is the footer).
        assertInstanceOf(VhdFormat.class, Formats.get().detect(vhd));
        try (VirtualDisk disk = Formats.get().open(vhd, OpenOptions.READ_ONLY)) {
            VhdTestSupport.assertSameContent(raw, disk, qemuSize);
            List<Extent> ext = disk.extents(0, disk.size());
            assertEquals(0, ext.getFirst().offset());
            assertEquals(disk.size(), ext.getLast().end());
        }
        var report = new VhdFormat().check(vhd, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(report.isClean(), report.corruptions() + " " + report.leaks());
        Files.delete(vhd);
    }

    static List<Arguments> ourVariants() {
        List<Arguments> out = new ArrayList<>();
        for (String raw : List.of("mixed", "empty", "zero")) {
            for (String opts : List.of("", "subformat=fixed", "force_size=on", "subformat=fixed,force_size=on",
                    "block_size=512K")) {
                out.add(Arguments.of(raw, opts));
            }
        }
        return out;
    }

    @ParameterizedTest(name = "our vpc {1} of {0} matches in qemu-img and vhdiinfo")
    @MethodSource("ourVariants")
    void qemuAndLibvhdiReadWhatWeWrite(String rawName, String opts) throws Exception {
        Tools.require("qemu-img");
        Path raw = raw(rawName);
        Path vhd = dir.resolve("ours-" + rawName + "-" + opts.replace(',', '-').replace('=', '_') + ".vhd");
        VhdTestSupport.convert(raw, vhd, CreateOptions.parse(opts));
        long size;
        try (VirtualDisk disk = Formats.get().open(vhd, OpenOptions.READ_ONLY)) {
            size = disk.size();
            VhdTestSupport.assertSameContent(raw, disk, size);
        }
        if (opts.contains("force_size")) {
            assertEquals(TestDisks.ODD_SIZE, size);
        }
        Tools.Result cmp = Tools.qemuImg("compare", "-f", "raw", "-F", "vpc", raw.toString(), vhd.toString());
        assertEquals(0, cmp.exit(), cmp.all());
        assertEquals(size, virtualSize(Tools.ok("qemu-img", "info", "-f", "vpc", "--output=json",
                vhd.toString()).out()), "qemu-img's idea of the size");
        if (Tools.available("vhdiinfo")) {
            String info = Tools.ok("vhdiinfo", vhd.toString()).out();
            assertTrue(info.contains("(" + size + " bytes)"), info);
            assertTrue(info.contains(opts.contains("fixed") ? "Fixed" : "Dynamic"), info);
        }
        assertTrue(new VhdFormat().check(vhd, OpenOptions.READ_ONLY, Formats.get()).isClean());
        Files.delete(vhd);
    }

    /**
     * A differencing disk reads its parent where it holds nothing and its own blocks elsewhere;
     * vhdiinfo sees the parent link. (qemu-img 7.2 would read the parent's part as zeros.)
     */
    @Test
    void differencingReadsThroughParent() throws Exception {
        Path parent = dir.resolve("parent.vhd");
        VhdTestSupport.convert(mixed, parent, CreateOptions.parse("force_size=on"));
        Path child = dir.resolve("child.vhd");
        byte[] a = new byte[3 * 512];
        java.util.Arrays.fill(a, (byte) 0xA5);
        byte[] b = new byte[4 << 20];
        java.util.Arrays.fill(b, (byte) 0x5A);
        try (VirtualDisk c = new VhdFormat().create(child, 0, CreateOptions.parse("backing_file=parent.vhd"))) {
            assertEquals(TestDisks.ODD_SIZE, c.size());
            c.write(10 * 512 + 100, ByteBuffer.wrap(a, 0, 1000));  // unaligned, inside one block
            c.write(8L << 20, ByteBuffer.wrap(b));                 // two whole blocks
        }
        // The expected disk: the raw with the same writes applied.
        Path expected = dir.resolve("expected.raw");
        Files.copy(mixed, expected);
        try (var ch = java.nio.channels.FileChannel.open(expected, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(a, 0, 1000), 10 * 512 + 100);
            ch.write(ByteBuffer.wrap(b), 8L << 20);
        }
        try (VirtualDisk c = Formats.get().open(child, OpenOptions.READ_ONLY)) {
            VhdTestSupport.assertSameContent(expected, c, TestDisks.ODD_SIZE);
            List<Extent> ext = c.extents(0, 12L << 20);
            assertEquals(new Extent(0, 10 * 512, Extent.Kind.UNALLOCATED), ext.get(0));
            assertEquals(new Extent(10 * 512, 3 * 512, Extent.Kind.DATA), ext.get(1));
            assertTrue(ext.contains(new Extent(8L << 20, 4L << 20, Extent.Kind.DATA)), ext.toString());
            assertEquals("differencing", c.info().details().get("subformat"));
            assertEquals("parent", c.info().references().getFirst().kind());
        }
        assertTrue(new VhdFormat().check(child, OpenOptions.READ_ONLY, Formats.get()).isClean());
        if (Tools.available("vhdiinfo")) {
            String info = Tools.ok("vhdiinfo", child.toString()).out();
            assertTrue(info.contains("Differential"), info);
            try (VhdDisk p = (VhdDisk) Formats.get().open(parent, OpenOptions.READ_ONLY)) {
                assertTrue(info.contains(p.uniqueId().toString()), info);
            }
        }
        if (Tools.available("qemu-img")) {
            // The peer's behaviour we document: qemu-img reads the child without its parent.
            Tools.Result cmp = Tools.qemuImg("compare", "-f", "raw", "-F", "vpc", expected.toString(),
                    child.toString());
            assertNotEquals(0, cmp.exit(), "qemu-img now reads differencing VHDs: update docs/formats/vhd.md");
        }
    }

    static long virtualSize(String json) {
        Matcher m = Pattern.compile("\"virtual-size\":\\s*(\\d+)").matcher(json);
        assertTrue(m.find(), json);
        return Long.parseLong(m.group(1));
    }
}
