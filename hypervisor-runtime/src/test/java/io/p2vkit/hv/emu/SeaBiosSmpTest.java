package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.machine.EmuEngine;
import io.p2vkit.hv.machine.Machine;
import io.p2vkit.hv.machine.MachineConfig;
import io.p2vkit.hv.memory.GuestMemory;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SeaBIOS on the emulator machine with local APICs and the IOAPIC: it wakes the APs with
 * INIT-SIPI-SIPI, counts them, and writes an MP table that this test reads back from guest
 * memory: one enabled processor entry per vCPU (the BSP flagged) and the IOAPIC at 0xFEC00000.
 */
class SeaBiosSmpTest {

    private static final Path BIOS = Path.of("/usr/share/seabios/bios-256k.bin");

    /** What the MP configuration table lists (MultiProcessor Specification 1.4, ch. 4). */
    record MpTable(List<int[]> processors, List<long[]> ioApics, List<int[]> intSources) {
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void seaBiosFindsEveryCpuAndListsThemInItsMpTable(int cpus) throws Exception {
        Assumptions.assumeTrue(Files.isReadable(BIOS), "SeaBIOS is not installed");
        ByteArrayOutputStream debug = new ByteArrayOutputStream();
        MachineConfig config = new MachineConfig().memoryMiB(64).cpus(cpus).bios(BIOS)
                .engine(new EmuEngine(new EmuVcpus()))
                .debugSink(b -> {
                    synchronized (debug) {
                        debug.write(b);
                    }
                });
        String log;
        MpTable mp;
        try (Machine m = Machine.create(config)) {
            m.start();
            long deadline = System.nanoTime() + 60_000_000_000L;
            String found = "Found " + cpus + " cpu(s)";
            do {
                Thread.sleep(50);
                synchronized (debug) {
                    log = debug.toString(StandardCharsets.ISO_8859_1);
                }
            } while (!(log.contains(found) && log.contains("Scan for option roms")) && !m.isStopped()
                    && System.nanoTime() < deadline);
            mp = readMpTable(m.memory());
            m.stop("test done");
        }
        assertTrue(log.contains("Found " + cpus + " cpu(s) max supported " + cpus + " cpu(s)"), log);
        assertEquals(cpus, mp.processors().size(), "processor entries");
        for (int i = 0; i < cpus; i++) {
            int[] p = mp.processors().get(i);
            assertEquals(i, p[0], "APIC ID");
            assertEquals(0x14, p[1], "APIC version");
            assertEquals(i == 0 ? 3 : 1, p[2], "flags: enabled, BSP");
        }
        assertEquals(1, mp.ioApics().size());
        assertEquals(0xFEC0_0000L, mp.ioApics().getFirst()[1]);
        // ISA IRQs 0-15 but the four SeaBIOS keeps for PCI (5, 9, 10, 11) and IRQ 2, whose pin
        // carries IRQ 0 (the irq0-override the machine passes in fw_cfg): the wiring isaIrq makes.
        assertEquals(11, mp.intSources().size(), "ISA interrupt source entries");
        for (int[] src : mp.intSources()) {
            assertEquals(src[0] == 0 ? 2 : src[0], src[1], "IOAPIC pin of ISA IRQ " + src[0]);
        }
    }

    /** Finds the "_MP_" floating pointer in the BIOS area and walks the configuration table it names. */
    static MpTable readMpTable(GuestMemory memory) {
        byte[] area = new byte[0x10000];
        memory.read(0xF0000, area, 0, area.length);
        for (int off = 0; off + 16 <= area.length; off += 16) {
            if (area[off] != '_' || area[off + 1] != 'M' || area[off + 2] != 'P' || area[off + 3] != '_'
                    || sum(area, off, 16) != 0) {
                continue;
            }
            long config = u32(area, off + 4);
            byte[] header = new byte[44];
            memory.read(config, header, 0, 44);
            assertEquals("PCMP", new String(header, 0, 4, StandardCharsets.US_ASCII));
            int length = u16(header, 4);
            byte[] table = new byte[length];
            memory.read(config, table, 0, length);
            assertEquals(0, sum(table, 0, length), "MP configuration table checksum");
            assertEquals(0xFEE0_0000L, u32(table, 36), "local APIC address");
            int entries = u16(table, 34);
            List<int[]> processors = new ArrayList<>();
            List<long[]> ioApics = new ArrayList<>();
            List<int[]> intSources = new ArrayList<>();
            int isaBus = -1;
            int p = 44;
            for (int i = 0; i < entries; i++) {
                int type = table[p] & 0xFF;
                if (type == 0) {
                    processors.add(new int[] {table[p + 1] & 0xFF, table[p + 2] & 0xFF, table[p + 3] & 0xFF});
                    p += 20;
                } else {
                    if (type == 1 && new String(table, p + 2, 3, StandardCharsets.US_ASCII).equals("ISA")) {
                        isaBus = table[p + 1] & 0xFF;
                    } else if (type == 2) {
                        ioApics.add(new long[] {table[p + 1] & 0xFF, u32(table, p + 4)});
                    } else if (type == 3 && (table[p + 4] & 0xFF) == isaBus) {
                        intSources.add(new int[] {table[p + 5] & 0xFF, table[p + 7] & 0xFF});
                    }
                    p += 8;
                }
            }
            return new MpTable(processors, ioApics, intSources);
        }
        throw new AssertionError("no MP floating pointer structure in 0xF0000-0xFFFFF");
    }

    private static int sum(byte[] b, int off, int len) {
        int s = 0;
        for (int i = 0; i < len; i++) {
            s += b[off + i];
        }
        return s & 0xFF;
    }

    private static int u16(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8;
    }

    private static long u32(byte[] b, int off) {
        return (u16(b, off) | (long) u16(b, off + 2) << 16) & 0xFFFF_FFFFL;
    }
}
