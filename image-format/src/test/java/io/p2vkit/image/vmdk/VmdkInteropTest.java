package io.p2vkit.image.vmdk;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interop in both directions with the independent oracles, for every subformat on three disks:
 * qemu-img writes and we read; we write and qemu-img compare/check and vmdkinfo accept it.
 */
class VmdkInteropTest {

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String sub : VmdkCreateSettings.SUBFORMATS) {
            for (String disk : List.of("odd", "empty", "zero")) {
                out.add(Arguments.of(sub, disk));
            }
        }
        return out.stream();
    }

    static Path rawDisk(Path dir, String kind) throws IOException {
        Path raw = dir.resolve(kind + ".raw");
        return switch (kind) {
            case "odd" -> TestDisks.mixed(raw, TestDisks.ODD_SIZE, 192 * 1024, 42);
            case "empty" -> TestDisks.empty(raw, TestDisks.ODD_SIZE);
            default -> TestDisks.allZero(raw, 8L * 1024 * 1024 + 512);
        };
    }

    @ParameterizedTest(name = "qemu-img writes {0} of {1}, we read it")
    @MethodSource("cases")
    void weReadWhatQemuWrites(String subformat, String kind, @TempDir Path dir) throws Exception {
        Tools.require("qemu-img");
        Path raw = rawDisk(dir, kind);
        Path vmdk = dir.resolve("q.vmdk");
        Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=" + subformat,
                raw.toString(), vmdk.toString());
        ImageFormat detected = Formats.get().detect(vmdk);
        assertInstanceOf(VmdkFormat.class, detected);
        try (VirtualDisk disk = Formats.get().open(vmdk, OpenOptions.READ_ONLY)) {
            VmdkTestSupport.assertSameAsRaw(raw, disk);
            assertEquals(subformat, disk.info().details().get("create type"));
        }
        CheckReport report = new VmdkFormat().check(vmdk, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(report.isClean(), () -> "our check of qemu's image: " + report.corruptions() + report.leaks());
    }

    @ParameterizedTest(name = "we write {0} of {1}, qemu-img and vmdkinfo accept it")
    @MethodSource("cases")
    void qemuReadsWhatWeWrite(String subformat, String kind, @TempDir Path dir) throws Exception {
        Tools.require("qemu-img");
        Path raw = rawDisk(dir, kind);
        Path vmdk = dir.resolve("ours.vmdk");
        VmdkTestSupport.convert(raw, vmdk, "subformat=" + subformat);
        Tools.ok("qemu-img", "compare", "-f", "raw", "-F", "vmdk", raw.toString(), vmdk.toString());
        Tools.Result check = Tools.ok("qemu-img", "check", "-f", "vmdk", vmdk.toString());
        assertTrue(check.out().contains("No errors were found"), check.all());
        Tools.Result info = Tools.ok("qemu-img", "info", "--output=json", vmdk.toString());
        assertTrue(info.out().contains("\"virtual-size\": " + java.nio.file.Files.size(raw)), info.out());
        if (Tools.available("vmdkinfo")) {
            Tools.Result vi = Tools.ok("vmdkinfo", vmdk.toString());
            assertTrue(vi.out().contains("Media size"), vi.all());
        }
        try (VirtualDisk disk = Formats.get().open(vmdk, OpenOptions.READ_ONLY)) {
            VmdkTestSupport.assertSameAsRaw(raw, disk);
        }
        CheckReport report = new VmdkFormat().check(vmdk, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(report.isClean(), () -> "our check of our image: " + report.corruptions() + report.leaks());
    }
}
