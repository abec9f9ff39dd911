package io.p2vkit.hv.verify;

import io.p2vkit.hv.kvm.Kvm;
import io.p2vkit.hv.kvm.KvmRequirement;
import io.p2vkit.hv.kvm.KvmEngine;
import io.p2vkit.hv.machine.MachineConfig;
import io.p2vkit.image.VirtualDisk;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** SeaBIOS on our machine under KVM: banner, booting a boot sector from IDE and virtio-blk, failure. */
class KvmBootTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void needKvm() {
        KvmRequirement.require();
    }

    @Test
    void seabiosPrintsBannerOnSerial() throws Exception {
        BootReport r = new BootVerifier(new KvmEngine())
                .expect(BootVerifier.FIRMWARE_BANNER)
                .timeout(Duration.ofSeconds(20))
                .verify(new MachineConfig().memoryMiB(64));
        assertTrue(r.passed(), r.reason() + "\n" + r.firmwareLog());
        assertNotNull(r.firmwareBanner());
        assertTrue(r.firmwareLog().contains("Running on QEMU (i440fx)"), r.firmwareLog());
        assertTrue(r.firmwareLog().contains("Found QEMU fw_cfg"), r.firmwareLog());
    }

    @Test
    void seabiosFindsEveryVcpu() throws Exception {
        BootReport r = new BootVerifier(new KvmEngine())
                .expect(BootVerifier.FIRMWARE_BANNER)
                .timeout(Duration.ofSeconds(20))
                .verify(new MachineConfig().memoryMiB(64).cpus(2));
        assertTrue(r.passed(), r.reason() + "\n" + r.firmwareLog());
        assertTrue(r.firmwareLog().contains("Found 2 cpu(s) max supported 2 cpu(s)"), r.firmwareLog());
    }

    @Test
    void bootsSectorFromIdeAndLeavesImageUnchanged() throws Exception {
        bootSector(MachineConfig.DiskInterface.IDE);
    }

    @Test
    void bootsSectorFromVirtioBlkAndLeavesImageUnchanged() throws Exception {
        bootSector(MachineConfig.DiskInterface.VIRTIO);
    }

    private void bootSector(MachineConfig.DiskInterface bus) throws Exception {
        Path image = TestDisks.raw(dir, "boot.raw", TestDisks.printAndWriteSector());
        String before = TestDisks.sha256(image);
        BootReport r;
        try (VirtualDisk disk = TestDisks.open(image)) {
            r = new BootVerifier(new KvmEngine())
                    .expect(Pattern.compile("DISK WRITE READBACK (OK|FAILED)"))
                    .timeout(Duration.ofSeconds(30))
                    .verify(new MachineConfig().memoryMiB(64).disk(disk, bus));
        }
        assertTrue(r.passed(), r.summary() + "\n" + r.consoleLog() + "\n" + r.firmwareLog());
        assertTrue(r.consoleLog().contains("P2VKIT BOOT SECTOR OK"), r.consoleLog());
        assertTrue(r.consoleLog().contains("DISK WRITE READBACK OK"), r.consoleLog());
        assertNotNull(r.bootloaderStarted(), "SeaBIOS's 'Booting from Hard Disk' seen");
        assertTrue(r.firmwareBanner().compareTo(r.bootloaderStarted()) < 0);
        assertEquals(before, TestDisks.sha256(image), "the image must be byte-identical (copy-on-write)");
    }

    @Test
    void writeThroughReachesTheImage() throws Exception {
        Path image = TestDisks.raw(dir, "rw.raw", TestDisks.printAndWriteSector());
        BootReport r;
        try (VirtualDisk disk = io.p2vkit.image.Formats.get().open(image, io.p2vkit.image.OpenOptions.READ_WRITE)) {
            r = new BootVerifier(new KvmEngine())
                    .expect(Pattern.compile("DISK WRITE READBACK OK"))
                    .timeout(Duration.ofSeconds(30))
                    .verify(new MachineConfig().memoryMiB(64)
                            .disk(disk, MachineConfig.DiskInterface.VIRTIO, MachineConfig.DiskMode.WRITE_THROUGH));
        }
        assertTrue(r.passed(), r.summary());
        byte[] bytes = java.nio.file.Files.readAllBytes(image);
        assertEquals(java.util.Arrays.toString(java.util.Arrays.copyOfRange(bytes, 0, 512)),
                java.util.Arrays.toString(java.util.Arrays.copyOfRange(bytes, 512, 1024)),
                "the guest copied its boot sector to LBA 1 of the image");
    }

    /** --bios: a 64 KiB firmware of our own whose reset vector writes a line to COM1. */
    @Test
    void customBiosImageRuns() throws Exception {
        byte[] bios = new byte[0x10000];
        int[] code = {
            0xBA, 0xF8, 0x03,        // mov dx, 0x3F8
            0xBE, 0x40, 0x00,        // mov si, 0x40
            0x2E, 0xAC,              // l: cs lodsb
            0x84, 0xC0,              // test al, al
            0x74, 0x03,              // jz done
            0xEE,                    // out dx, al
            0xEB, 0xF7,              // jmp l
            0xF4, 0xEB, 0xFD         // done: hlt; jmp done
        };
        for (int i = 0; i < code.length; i++) {
            bios[i] = (byte) code[i];
        }
        byte[] msg = "TINY BIOS OK\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(msg, 0, bios, 0x40, msg.length);
        bios[0xFFF0] = (byte) 0xE9;  // reset vector: jmp near 0x0000
        bios[0xFFF1] = 0x0D;
        bios[0xFFF2] = 0x00;
        Path file = dir.resolve("tiny-bios.bin");
        java.nio.file.Files.write(file, bios);
        BootReport r = new BootVerifier(new KvmEngine())
                .expect(Pattern.compile("TINY BIOS OK"))
                .timeout(Duration.ofSeconds(20))
                .verify(new MachineConfig().memoryMiB(16).bios(file));
        assertTrue(r.passed(), r.summary());
        assertTrue(r.firmwareBanner() == null, "no SeaBIOS here");
    }

    @Test
    void diskWithoutBootloaderFailsWithSeabiosText() throws Exception {
        Path image = TestDisks.raw(dir, "blank.raw", new byte[0]);
        BootReport r;
        try (VirtualDisk disk = TestDisks.open(image)) {
            r = new BootVerifier(new KvmEngine())
                    .expect(Pattern.compile("login:"))
                    .timeout(Duration.ofSeconds(30))
                    .verify(new MachineConfig().memoryMiB(64).disk(disk, MachineConfig.DiskInterface.IDE));
        }
        assertFalse(r.passed());
        assertTrue(r.reason().contains("No bootable device"), r.reason());
        assertTrue(r.consoleLog().contains("not a bootable disk"), r.consoleLog());
    }
}
