package io.p2vkit.hv.verify;

import io.p2vkit.hv.guest.TestGuest;
import io.p2vkit.hv.machine.MachineConfig;
import io.p2vkit.image.VirtualDisk;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The test guest on our own emulator: SeaBIOS prints its banner, boots the disk's MBR from IDE and
 * from virtio-blk, SYSLINUX runs and loads the kernel; a disk without a boot loader fails with
 * SeaBIOS's reason; the image is byte-identical afterwards.
 */
class EmuBootTest {

    @TempDir
    Path dir;

    private static BootVerifier emu() {
        return new BootVerifier(Engines.of(Engines.choose("emu")));
    }

    @ParameterizedTest
    @EnumSource(MachineConfig.DiskInterface.class)
    void testGuestBootsToItsBootloader(MachineConfig.DiskInterface bus) throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/share/seabios/bios-256k.bin")), "seabios not installed");
        Path disk = TestGuest.disk();
        String before = TestDisks.sha256(disk);
        BootReport r;
        try (VirtualDisk image = TestDisks.open(disk)) {
            r = emu().expect(Pattern.compile("Loading vmlinuz"))
                    .timeout(Duration.ofSeconds(60))
                    .verify(new MachineConfig().memoryMiB(256).disk(image, bus));
        }
        assertTrue(r.passed(), r.summary() + "\n" + r.consoleLog());
        assertNotNull(r.firmwareBanner(), "SeaBIOS banner on the serial console");
        assertNotNull(r.bootloaderStarted());
        assertTrue(r.consoleLog().contains("SYSLINUX 6"), r.consoleLog());
        assertEquals("emu", r.engine());
        assertEquals(before, TestDisks.sha256(disk), "the image changed");
    }

    /** The same with two vCPUs: SeaBIOS starts the AP through its local APIC and still boots the disk. */
    @Test
    void testGuestBootsToItsBootloaderOnTwoVcpus() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/share/seabios/bios-256k.bin")), "seabios not installed");
        Path disk = TestGuest.disk();
        BootReport r;
        try (VirtualDisk image = TestDisks.open(disk)) {
            r = emu().expect(Pattern.compile("Loading vmlinuz"))
                    .timeout(Duration.ofSeconds(60))
                    .verify(new MachineConfig().memoryMiB(256).cpus(2).disk(image, MachineConfig.DiskInterface.IDE));
        }
        assertTrue(r.passed(), r.summary() + "\n" + r.consoleLog());
        assertTrue(r.consoleLog().contains("SYSLINUX 6"), r.consoleLog());
    }

    @Test
    void diskWithoutBootloaderFailsWithSeabiosReason() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/share/seabios/bios-256k.bin")), "seabios not installed");
        Path blank = Files.write(dir.resolve("blank.raw"), new byte[1 << 20]);
        BootReport r;
        try (VirtualDisk image = TestDisks.open(blank)) {
            r = emu().expect(Pattern.compile("login:")).timeout(Duration.ofSeconds(60))
                    .verify(new MachineConfig().memoryMiB(64).disk(image, MachineConfig.DiskInterface.IDE));
        }
        assertFalse(r.passed());
        assertTrue(r.reason().contains("No bootable device"), r.reason());
        assertTrue(r.elapsed().toSeconds() < 30, "failure is reported when it happens, not at the timeout");
    }
}
