package io.p2vkit.image.vmdk;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.Formats;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two more independent implementations, from Debian packages, when installed: libvmdk's Python
 * binding (python3-libvmdk) reads every byte of what we write, and Ubuntu's VMDKstream
 * (python3-vmdkstream) writes a stream in VMware's canonical layout, which we read.
 */
class VmdkForeignToolsTest {

    private static final String PYTHON = "/usr/bin/python3";

    private static void requireModule(String module) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is not installed");
        Tools.Result r = Tools.run(PYTHON, "-c", "import " + module);
        Assumptions.assumeTrue(r.exit() == 0, "Python module " + module + " is not installed"
                + " (apt-get install python3-libvmdk python3-vmdkstream)");
    }

    private static final String LIBVMDK_SHA256 = """
            import hashlib, sys, pyvmdk
            h = pyvmdk.handle()
            h.open(sys.argv[1])
            h.open_extent_data_files()
            size = h.get_media_size()
            d = hashlib.sha256()
            pos = 0
            while pos < size:
                n = min(4 << 20, size - pos)
                d.update(h.read_buffer_at_offset(n, pos))
                pos += n
            print(size, d.hexdigest())
            """;

    @ParameterizedTest
    @ValueSource(strings = {"monolithicSparse", "streamOptimized", "monolithicFlat", "twoGbMaxExtentSparse"})
    void libvmdkReadsEveryByteWeWrite(String subformat, @TempDir Path dir) throws Exception {
        requireModule("pyvmdk");
        Path raw = TestDisks.mixed(dir.resolve("d.raw"), TestDisks.ODD_SIZE, 192 * 1024, 42);
        Path vmdk = dir.resolve("ours.vmdk");
        VmdkTestSupport.convert(raw, vmdk, "subformat=" + subformat);
        Tools.Result r = Tools.ok(PYTHON, "-c", LIBVMDK_SHA256, vmdk.toString());
        assertEquals(TestDisks.ODD_SIZE + " " + sha256(raw), r.out().strip());
    }

    @Test
    void weReadVmdkStreamsCanonicalLayout(@TempDir Path dir) throws Exception {
        requireModule("VMDKstream");
        Path raw = TestDisks.mixed(dir.resolve("d.raw"), TestDisks.ODD_SIZE, 192 * 1024, 43);
        Path vmdk = dir.resolve("canonical.vmdk");
        Tools.ok(PYTHON, "-c", "import VMDKstream, sys; VMDKstream.convert_to_stream(sys.argv[1], sys.argv[2])",
                raw.toString(), vmdk.toString());
        try (VirtualDisk disk = Formats.get().open(vmdk, OpenOptions.READ_ONLY)) {
            VmdkTestSupport.assertSameAsRaw(raw, disk);
            assertEquals("streamOptimized", disk.info().details().get("create type"));
        }
        CheckReport report = new VmdkFormat().check(vmdk, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(report.isClean(), () -> report.corruptions() + " " + report.leaks());
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
