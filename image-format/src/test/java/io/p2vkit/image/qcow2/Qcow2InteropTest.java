package io.p2vkit.image.qcow2;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.ImageInfo;
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
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interop with qemu-img in both directions: images qemu-img writes read the same bytes through
 * our reader as through qemu-img; images we write pass qemu-img check and compare.
 */
class Qcow2InteropTest {

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    static Path odd;
    static Path empty;
    static Path zero;

    @BeforeAll
    static void disks() throws IOException {
        odd = TestDisks.mixed(shared.resolve("odd.raw"), TestDisks.ODD_SIZE, 192 * 1024 + 512, 42);
        empty = TestDisks.empty(shared.resolve("empty.raw"), 64L * 1024 * 1024 + 512);
        zero = TestDisks.allZero(shared.resolve("zero.raw"), 16L * 1024 * 1024 + 512);
    }

    static Stream<Arguments> qemuVariants() {
        List<Arguments> out = new ArrayList<>();
        String[][] variants = {
            {"-o", "compat=0.10"},
            {"-o", "compat=1.1"},
            {"-c"},
            {"-o", "cluster_size=4096"},
            {"-o", "cluster_size=2M"},
            {"-c", "-o", "cluster_size=8192,compat=0.10"},
        };
        for (String disk : List.of("odd", "empty", "zero")) {
            for (String[] v : variants) {
                out.add(Arguments.of(disk, String.join(" ", v)));
            }
        }
        return out.stream();
    }

    private static Path disk(String name) {
        return switch (name) {
            case "odd" -> odd;
            case "empty" -> empty;
            default -> zero;
        };
    }

    @ParameterizedTest(name = "qemu-img {1} of {0} reads the same through us")
    @MethodSource("qemuVariants")
    void qemuWritesWeRead(String diskName, String options) throws Exception {
        Tools.require("qemu-img");
        Path img = dir.resolve("q.qcow2");
        List<String> cmd = new ArrayList<>(List.of("convert", "-f", "raw", "-O", "qcow2"));
        cmd.addAll(List.of(options.split(" ")));
        cmd.add(disk(diskName).toString());
        cmd.add(img.toString());
        Tools.ok(prepend(cmd));
        Path back = dir.resolve("back.raw");
        Tools.ok("qemu-img", "convert", "-f", "qcow2", "-O", "raw", img.toString(), back.toString());
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
            Qcow2TestSupport.assertSameBytes(back, d);
            Qcow2TestSupport.assertExtentsConsistent(d);
            ImageInfo info = d.info();
            assertEquals(options.contains("0.10") ? "0.10" : "1.1", info.details().get("compat"));
            if (options.contains("-c") && diskName.equals("odd")) {
                assertEquals(true, info.details().get("compressed clusters"));
            }
        }
        assertTrue(new Qcow2Format().check(img, OpenOptions.READ_ONLY, null).isClean(),
                "our check finds qemu-img's image clean");
    }

    private static String[] prepend(List<String> args) {
        List<String> all = new ArrayList<>();
        all.add("qemu-img");
        all.addAll(args);
        return all.toArray(String[]::new);
    }

    static Stream<Arguments> ourVariants() {
        List<Arguments> out = new ArrayList<>();
        for (String disk : List.of("odd", "empty", "zero")) {
            for (String v : List.of("", "compress=on", "compat=0.10", "cluster_size=2M",
                    "compress=on,cluster_size=4096")) {
                out.add(Arguments.of(disk, v));
            }
        }
        out.add(Arguments.of("odd", "cluster_size=512"));
        out.add(Arguments.of("odd", "compress=on,compat=0.10,cluster_size=16384"));
        return out.stream();
    }

    @ParameterizedTest(name = "we write {0} with [{1}]: qemu-img check and compare agree")
    @MethodSource("ourVariants")
    void weWriteQemuChecks(String diskName, String options) throws Exception {
        Tools.require("qemu-img");
        Path img = dir.resolve("ours.qcow2");
        Qcow2TestSupport.writeImage(disk(diskName), img, CreateOptions.parse(options));
        assertQemuClean(img);
        Tools.Result cmp = Tools.qemuImg("compare", "-f", "raw", "-F", "qcow2", disk(diskName).toString(),
                img.toString());
        assertEquals(0, cmp.exit(), cmp.all());
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
            Qcow2TestSupport.assertSameBytes(disk(diskName), d);
        }
        assertTrue(new Qcow2Format().check(img, OpenOptions.READ_ONLY, null).isClean(), "our check");
    }

    static void assertQemuClean(Path img) throws Exception {
        Tools.Result check = Tools.qemuImg("check", "-f", "qcow2", img.toString());
        assertEquals(0, check.exit(), "qemu-img check: " + check.all());
        assertTrue(check.out().contains("No errors"), check.all());
    }

    /** Writes made to a child: some whole clusters, some partial, some zeros over base data. */
    private static List<long[]> edits(long size) {
        Random rnd = new Random(5);
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            long off = (long) (rnd.nextDouble() * (size - 300_000)) & ~511L;
            long len = switch (i % 4) {
                case 0 -> 65536;
                case 1 -> 512 * (1 + rnd.nextInt(40));
                case 2 -> 200_000 + 512L * rnd.nextInt(100);
                default -> 131072;
            };
            out.add(new long[] {off, len, i % 4 == 3 ? 0 : 1 + rnd.nextInt(255)});
        }
        return out;
    }

    private static ByteBuffer editBytes(long[] e) {
        ByteBuffer b = ByteBuffer.allocate((int) e[1]);
        if (e[2] != 0) {
            for (int i = 0; i < b.capacity(); i++) {
                b.put(i, (byte) (e[2] + i / 512));
            }
        }
        return b;
    }

    private Path modifiedCopy(Path base) throws IOException {
        Path modified = dir.resolve("modified.raw");
        Files.copy(base, modified);
        try (FileChannel ch = FileChannel.open(modified, StandardOpenOption.WRITE)) {
            for (long[] e : edits(Files.size(base))) {
                ch.write(editBytes(e), e[0]);
            }
        }
        return modified;
    }

    @ParameterizedTest(name = "compressed child, {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"compat=1.1", "compat=0.10"})
    void weWriteCompressedChildInOnePass(String compat) throws Exception {
        Tools.require("qemu-img");
        Path base = dir.resolve("base.raw");
        Files.copy(odd, base);
        long size = Files.size(base);
        // Ascending, non-overlapping edits: zeros over data, part clusters, whole runs.
        List<long[]> edits = new ArrayList<>();
        Random rnd = new Random(8);
        for (long pos = 4096; pos < size - 400_000; pos += 300_000 + 512L * rnd.nextInt(2000)) {
            edits.add(new long[] {pos, 512L * (1 + rnd.nextInt(500)), rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(255)});
        }
        Path modified = dir.resolve("modified.raw");
        Files.copy(base, modified);
        Path child = dir.resolve("cchild.qcow2");
        try (FileChannel ch = FileChannel.open(modified, StandardOpenOption.WRITE);
             VirtualDisk d = new Qcow2Format().create(child, size,
                     CreateOptions.parse("compress=on,backing_file=base.raw,backing_fmt=raw," + compat))) {
            for (long[] e : edits) {
                ch.write(editBytes(e), e[0]);
                d.write(e[0], editBytes(e));
            }
        }
        assertQemuClean(child);
        Tools.Result cmp = Tools.qemuImg("compare", "-f", "raw", "-F", "qcow2", modified.toString(),
                child.toString());
        assertEquals(0, cmp.exit(), cmp.all());
    }

    @Test
    void qemuChildReadsThroughBacking() throws Exception {
        Tools.require("qemu-img");
        Path base = dir.resolve("base.raw");
        Files.copy(odd, base);
        Path modified = modifiedCopy(base);
        Path child = dir.resolve("child.qcow2");
        // -B builds a child holding only what differs from the base.
        Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-B", "base.raw", "-F", "raw",
                modified.toString(), child.toString());
        try (VirtualDisk d = Qcow2TestSupport.open(child, OpenOptions.READ_ONLY)) {
            Qcow2TestSupport.assertSameBytes(modified, d);
            ImageInfo info = d.info();
            assertEquals("base.raw", info.references().get(0).target());
            assertEquals("raw", info.details().get("backing format"));
        }
    }

    @ParameterizedTest(name = "child, {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"compat=1.1", "compat=0.10"})
    void weWriteChildQemuReads(String compat) throws Exception {
        Tools.require("qemu-img");
        Path base = dir.resolve("base.raw");
        Files.copy(odd, base);
        Path modified = modifiedCopy(base);
        Path child = dir.resolve("child.qcow2");
        try (VirtualDisk d = new Qcow2Format().create(child, Files.size(base),
                CreateOptions.parse("backing_file=base.raw,backing_fmt=raw," + compat))) {
            for (long[] e : edits(Files.size(base))) {
                d.write(e[0], editBytes(e));
            }
        }
        assertQemuClean(child);
        Tools.Result cmp = Tools.qemuImg("compare", "-f", "raw", "-F", "qcow2", modified.toString(),
                child.toString());
        assertEquals(0, cmp.exit(), cmp.all());
        Tools.Result info = Tools.ok("qemu-img", "info", "--output=json", child.toString());
        assertTrue(info.out().contains("\"backing-filename-format\": \"raw\""), info.out());
    }
}
