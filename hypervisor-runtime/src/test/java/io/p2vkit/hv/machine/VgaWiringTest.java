package io.p2vkit.hv.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.device.FwCfg;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The display option: what the bus and fw_cfg offer SeaBIOS with and without the VGA. */
class VgaWiringTest {

    @TempDir
    Path dir;

    private final AtomicReference<Bus> bus = new AtomicReference<>();

    @BeforeEach
    void needFirmware() throws IOException {
        assumeTrue(FirmwareLocator.DEFAULT_PATHS.stream().anyMatch(Files::isRegularFile), "no SeaBIOS installed");
        assumeTrue(FirmwareLocator.locateVgaBios(null) != null, "no VGA BIOS installed");
    }

    private MachineConfig config() {
        return new MachineConfig().memoryMiB(32).engine(new EmuEngine((memory, b, pic) -> {
            bus.set(b);
            return new Vcpu() {
                @Override
                public Stop run() {
                    return Stop.REQUESTED;
                }

                @Override
                public void requestStop() {
                }

                @Override
                public String stopReason() {
                    return "idle";
                }

                @Override
                public long instructionsRetired() {
                    return 0;
                }
            };
        }));
    }

    private byte[] fwCfg(int key, int length) {
        Bus b = bus.get();
        b.pioWrite(0x510, 2, key);
        byte[] v = new byte[length];
        for (int i = 0; i < length; i++) {
            v[i] = (byte) b.pioRead(0x511, 1);
        }
        return v;
    }

    private List<String> fwCfgFiles() {
        byte[] count = fwCfg(FwCfg.KEY_FILE_DIR, 4);
        int n = (count[0] & 0xFF) << 24 | (count[1] & 0xFF) << 16 | (count[2] & 0xFF) << 8 | (count[3] & 0xFF);
        byte[] dirBytes = fwCfg(FwCfg.KEY_FILE_DIR, 4 + 64 * n);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int at = 4 + 64 * i + 8;
            int end = at;
            while (dirBytes[end] != 0) {
                end++;
            }
            names.add(new String(dirBytes, at, end - at, StandardCharsets.US_ASCII));
        }
        return names;
    }

    @Test
    void byDefaultTheMachineHasAVgaAndSeaBiosGetsItsRom() throws Exception {
        try (Machine m = Machine.create(config())) {
            assertNotNull(m.vga());
            assertTrue(m.wiring().stream().anyMatch(l -> l.startsWith("port 0x03b0-0x03df  VGA registers")), m.wiring().toString());
            assertTrue(m.wiring().stream().anyMatch(l -> l.startsWith("mmio 0xa0000-0xbffff")), m.wiring().toString());
            assertTrue(fwCfgFiles().contains("vgaroms/vgabios.bin"), fwCfgFiles().toString());
            assertTrue(fwCfgFiles().contains("etc/sercon-port"), "SeaBIOS still mirrors int 10h to COM1");
            assertEquals(0, fwCfg(FwCfg.KEY_NOGRAPHIC, 2)[0]);
            // The window is the card's: a write to text memory reaches plane 0.
            Bus b = bus.get();
            b.pioWrite(0x3CE, 2, 0x0E06);                 // graphics controller 6: B8000, odd/even
            b.pioWrite(0x3CE, 2, 0x1005);                 // graphics controller 5: host odd/even reads
            b.pioWrite(0x3CE, 2, 0xFF08);                 // graphics controller 8: every bit from the CPU
            b.pioWrite(0x3C4, 2, 0x0302);                 // sequencer map mask: planes 0 and 1
            b.mmioWrite(0xB8000, 2, 0x0741);
            assertEquals(0x0741, b.mmioRead(0xB8000, 2));
        }
    }

    @Test
    void displayNoneKeepsTheSerialOnlyMachine() throws Exception {
        try (Machine m = Machine.create(config().display(MachineConfig.Display.NONE))) {
            assertNull(m.vga());
            assertTrue(m.wiring().stream().anyMatch(l -> l.contains("(ignored) VGA registers")), m.wiring().toString());
            assertTrue(fwCfgFiles().stream().noneMatch(f -> f.startsWith("vgaroms/")));
            assertEquals(1, fwCfg(FwCfg.KEY_NOGRAPHIC, 2)[0]);
            assertEquals(0xFF, bus.get().mmioRead(0xB8000, 1), "nothing answers in the VGA hole");
        }
    }

    @Test
    void aVgaBiosThatIsNotAnOptionRomIsRefused() throws Exception {
        Path bogus = Files.write(dir.resolve("bogus.bin"), new byte[4096]);
        IOException e = assertThrows(IOException.class,
                () -> Machine.create(config().display(MachineConfig.Display.VGA).vgaBios(bogus)).close());
        assertTrue(e.getMessage().contains("not an option ROM"), e.getMessage());
        Path huge = Files.write(dir.resolve("huge.bin"), new byte[256 << 10]);
        e = assertThrows(IOException.class, () -> Machine.create(config().vgaBios(huge)).close());
        assertTrue(e.getMessage().contains("128 KiB"), e.getMessage());
        e = assertThrows(IOException.class, () -> Machine.create(config().vgaBios(dir.resolve("missing.bin"))).close());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }
}
