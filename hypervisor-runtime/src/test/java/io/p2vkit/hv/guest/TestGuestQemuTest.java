package io.p2vkit.hv.guest;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The oracle for the test guest itself: QEMU's own emulator boots it through SeaBIOS and SYSLINUX
 * to its marker, and the marker reports the CPUs and memory QEMU was given. Our engines are then
 * held to the same disk.
 */
class TestGuestQemuTest {

    @Test
    void bootsInQemuToItsMarker() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64")), "qemu-system-x86 not installed");
        Path disk = TestGuest.disk();
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-smp", "2",
                "-nographic", "-no-reboot", "-snapshot", "-drive", "file=" + disk + ",format=raw,if=ide")
                .redirectErrorStream(true).start();
        qemu.getOutputStream().close();
        boolean done = qemu.waitFor(180, TimeUnit.SECONDS);
        if (!done) {
            qemu.destroyForcibly();
        }
        String console = new String(qemu.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertTrue(done, "QEMU did not power off within 180 s:\n" + console);
        assertTrue(console.contains("SYSLINUX 6.04"), "the bootloader's banner:\n" + console);
        Matcher m = Pattern.compile(TestGuest.MARKER + " kernel=(\\S+) cpus=(\\d+) memtotal_kb=(\\d+)").matcher(console);
        assertTrue(m.find(), "no marker:\n" + console);
        assertEquals("2", m.group(2));
        long memKb = Long.parseLong(m.group(3));
        assertTrue(memKb > 150_000 && memKb < 262_144, "MemTotal " + memKb + " kB for -m 256");
        assertTrue(console.contains("reboot: Power down"));
    }
}
