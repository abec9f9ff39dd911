package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.memory.GuestMemory;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs Debian's SeaBIOS on the emulator with RAM, the BIOS at the top of 4 GiB and shadowed at
 * 0xE0000, and a debug-console device at port 0x402 (QEMU's "debugcon"). The other PC devices
 * come with the machine; here we assert SeaBIOS gets through its entry code, real-to-protected
 * mode switch and 32-bit C code far enough to print its banner.
 */
class SeaBiosBootTest {

    static final Path BIOS = Path.of("/usr/share/seabios/bios-256k.bin");

    /** QEMU's debugcon: reads give 0xE9 (SeaBIOS checks this before using it), writes are text. */
    static final class DebugConsole implements PortIoDevice {
        final ByteArrayOutputStream text = new ByteArrayOutputStream();

        @Override
        public int read(int offset, int size) {
            return 0xE9;
        }

        @Override
        public synchronized void write(int offset, int size, int value) {
            text.write(value);
        }

        synchronized String text() {
            return text.toString(StandardCharsets.ISO_8859_1);
        }
    }

    record Boot(EmuVcpu vcpu, DebugConsole console, Vcpu.Stop stop, GuestMemory memory) {
    }

    static Boot boot(long maxInstructions) throws Exception {
        Assumptions.assumeTrue(Files.isReadable(BIOS), "SeaBIOS is not installed (apt-get install seabios)");
        byte[] bios = Files.readAllBytes(BIOS);
        GuestMemory memory = new GuestMemory();
        memory.add("low RAM", 0, 0xA0000, false);
        memory.add("BIOS shadow", 0xC0000, 0x40000, false);
        memory.add("RAM", 0x100000, 64 << 20, false);
        memory.add("BIOS ROM", 0x1_0000_0000L - bios.length, bios.length, true);
        memory.load(0x1_0000_0000L - bios.length, bios);
        // A PC shows the BIOS's last 128 KiB at 0xE0000; SeaBIOS then copies its whole image to
        // 0xC0000-0xFFFFF once the i440FX PAM registers make that RAM writable. Without a PCI
        // host in this test we do that copy up front.
        memory.load(0x100000 - bios.length, bios);
        Bus bus = new Bus();
        DebugConsole console = new DebugConsole();
        bus.registerPio("debugcon", 0x402, 1, console);
        EmuVcpu vcpu = new EmuVcpu(memory, bus, null);
        long t0 = System.nanoTime();
        Vcpu.Stop stop = vcpu.run(maxInstructions);
        long t1 = System.nanoTime();
        System.out.printf("SeaBIOS: %d instructions in %.3f s (%.1f M instructions/s, cold JIT)%n",
                vcpu.instructionsRetired(), (t1 - t0) / 1e9, vcpu.instructionsRetired() * 1e3 / (t1 - t0));
        return new Boot(vcpu, console, stop, memory);
    }

    @Test
    void seaBiosPrintsItsBanner() throws Exception {
        Boot b = boot(20_000_000);
        String out = b.console().text();
        System.out.println("SeaBIOS stop: " + b.stop() + " " + b.vcpu().stopReason());
        System.out.println("registers: " + b.vcpu().registers());
        System.out.println("undefined opcodes: " + b.vcpu().undefinedOpcodes() + " (last " + b.vcpu().lastUndefinedOpcode() + "), faults: " + b.vcpu().faultsDelivered());
        System.out.println("---- SeaBIOS debug output ----\n" + out + "\n----");
        b.memory().close();
        assertTrue(out.contains("SeaBIOS (version"), "no banner; output was: " + out);
        // Without PIT, PIC and keyboard SeaBIOS gets as far as its boot menu prompt, then waits
        // with HLT for a timer tick that never comes.
        assertTrue(out.contains("Press ESC for boot menu"), "POST did not finish; output was: " + out);
        assertEquals(0, b.vcpu().undefinedOpcodes(), b.vcpu().lastUndefinedOpcode());
    }
}
