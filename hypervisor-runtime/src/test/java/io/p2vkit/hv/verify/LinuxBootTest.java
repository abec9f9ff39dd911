package io.p2vkit.hv.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.guest.TestGuest;
import io.p2vkit.hv.machine.MachineConfig;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.convert.Converter;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The test guest's 64-bit Debian kernel boots on our emulator through SeaBIOS and SYSLINUX to
 * its userspace marker, which reports the CPUs and memory the kernel found; the kernel's log is
 * free of the complaints that betray a wrong CPU or timer model; a kernel that panics is reported
 * as failed with its panic line; a static userland benchmark prints the host's result. Each boot
 * takes about a minute: the default run boots a chosen few, {@code -Pslow} the whole matrix.
 */
class LinuxBootTest {

    static final Pattern MARKER = Pattern.compile("P2V-GUEST-OK kernel=\\S+ cpus=(\\d+) memtotal_kb=(\\d+)");
    static final int MEMORY_MIB = 512;
    /** Lines a healthy boot on a correct CPU and timer model never prints. */
    static final List<String> COMPLAINTS = List.of("unstable", "soft lockup", "unchecked MSR", "invalid opcode",
            "traps:", "Call Trace", "BUG:", "WARNING:", "hung_task", "clocksource watchdog", "TSC unstable");

    @TempDir
    static Path dir;

    private static BootVerifier emu(Pattern expect) {
        return new BootVerifier(Engines.of(Engines.choose("emu"))).expect(expect).timeout(Duration.ofMinutes(6));
    }

    /** The test guest in {@code format} (converted by our own converter from the raw image). */
    static Path guestAs(String format) throws IOException, InterruptedException {
        Path raw = TestGuest.disk();
        if (format.equals("raw")) {
            return raw;
        }
        Path out = dir.resolve("test-guest." + format);
        if (!Files.exists(out)) {
            CreateOptions options = format.equals("vmdk") ? CreateOptions.parse("subformat=streamOptimized")
                    : CreateOptions.none();
            try (VirtualDisk source = Formats.get().open(raw, OpenOptions.READ_ONLY)) {
                Converter.convert(source, Formats.get().require(format), out, options, false,
                        io.p2vkit.image.convert.ProgressListener.NONE);
            }
        }
        return out;
    }

    private static BootReport boot(Path disk, MachineConfig.DiskInterface bus, int cpus, Pattern expect)
            throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/share/seabios/bios-256k.bin")), "seabios not installed");
        try (VirtualDisk image = Formats.get().open(disk, OpenOptions.READ_ONLY)) {
            return emu(expect).verify(new MachineConfig().memoryMiB(MEMORY_MIB).cpus(cpus).disk(image, bus));
        }
    }

    /** Boots and checks the marker's CPU count and MemTotal and the absence of complaints. */
    static void bootsToUserspace(String format, MachineConfig.DiskInterface bus, int cpus) throws Exception {
        BootReport r = boot(guestAs(format), bus, cpus, MARKER);
        assertTrue(r.passed(), r.summary() + "\n" + r.consoleLog());
        Matcher m = MARKER.matcher(r.consoleLog());
        assertTrue(m.find());
        assertEquals(cpus, Integer.parseInt(m.group(1)), "CPUs the kernel brought up");
        long memKb = Long.parseLong(m.group(2));
        assertTrue(memKb > MEMORY_MIB * 1024L * 8 / 10 && memKb <= MEMORY_MIB * 1024L,
                "MemTotal " + memKb + " kB for " + MEMORY_MIB + " MiB of RAM");
        for (String complaint : COMPLAINTS) {
            assertFalse(r.consoleLog().contains(complaint), "the kernel says \"" + complaint + "\":\n" + r.consoleLog());
        }
        assertEquals("", r.engineGaps(), "instructions the emulator lacks");
        // the kernel keeps FPU state with XSAVE/XRSTOR in the standard format: x87 and SSE, 576 bytes
        assertTrue(r.consoleLog().contains("x86/fpu: Enabled xstate features 0x3, context size is 576 bytes, using 'standard' format."),
                "the kernel's XSAVE set-up:\n" + r.consoleLog());
        r.consoleLog().lines().filter(l -> l.contains("x86/fpu")).forEach(System.out::println);
    }

    @Test
    void rawOverIdeWithOneCpu() throws Exception {
        bootsToUserspace("raw", MachineConfig.DiskInterface.IDE, 1);
    }

    @Test
    void qcow2OverVirtioWithTwoCpus() throws Exception {
        bootsToUserspace("qcow2", MachineConfig.DiskInterface.VIRTIO, 2);
    }

    static Stream<Arguments> matrix() {
        return Stream.of("raw", "vpc", "vmdk", "qcow2").flatMap(f -> Stream.of(MachineConfig.DiskInterface.values())
                .flatMap(bus -> Stream.of(1, 2).map(cpus -> Arguments.of(f, bus, cpus))));
    }

    @Tag("slow")
    @ParameterizedTest(name = "{0} over {1}, {2} CPU(s)")
    @MethodSource("matrix")
    void bootMatrix(String format, MachineConfig.DiskInterface bus, int cpus) throws Exception {
        bootsToUserspace(format, bus, cpus);
    }

    @Test
    void aPanickingKernelFailsWithItsPanicLine() throws Exception {
        Path disk = dir.resolve("panic.img");
        Files.copy(TestGuest.disk(), disk);
        // No /init in the initramfs and no root device: the kernel has nothing to run.
        String cfg = "SERIAL 0 115200\nPROMPT 0\nTIMEOUT 1\nDEFAULT linux\nLABEL linux\n  KERNEL vmlinuz\n"
                + "  INITRD initrd.gz\n  APPEND console=ttyS0,115200 rdinit=/none root=/dev/nothing panic=-1\n";
        Path cfgFile = dir.resolve("syslinux.cfg");
        Files.writeString(cfgFile, cfg);
        Process p = new ProcessBuilder("mcopy", "-o", "-i", disk + "@@1048576", cfgFile.toString(), "::/syslinux.cfg")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(1, TimeUnit.MINUTES) && p.exitValue() == 0, "mcopy: " + out);
        BootReport r = boot(disk, MachineConfig.DiskInterface.IDE, 1, MARKER);
        assertFalse(r.passed());
        assertTrue(r.reason().contains("Kernel panic"), r.reason());
        assertTrue(r.consoleLog().contains("VFS: Unable to mount root fs"), r.consoleLog());
    }

    @Tag("slow")
    @Test
    void userlandBenchmarkPrintsTheHostsResult() throws Exception {
        Path bench = TestGuest.disk().resolveSibling("test-guest-bench.img");
        Path binary = TestGuest.disk().resolveSibling("initramfs/bin/cpu-bench");
        Assumptions.assumeTrue(Files.exists(bench) && Files.exists(binary), "no benchmark guest (gcc missing?)");
        Process p = new ProcessBuilder(binary.toString(), "10").redirectErrorStream(true).start();
        String host = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(1, TimeUnit.MINUTES));
        Matcher hostResult = Pattern.compile("P2V-BENCH RESULT [^\r\n]+").matcher(host);
        assertTrue(hostResult.find(), host);
        BootReport r = boot(bench, MachineConfig.DiskInterface.IDE, 1, MARKER);
        assertTrue(r.passed(), r.summary() + "\n" + r.consoleLog());
        assertTrue(r.consoleLog().contains(hostResult.group()), "guest printed a different result than the host's "
                + hostResult.group() + ":\n" + r.consoleLog());
        assertNotNull(r.firmwareBanner());
    }
}
