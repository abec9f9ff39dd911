package io.p2vkit.hv.machine;

import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.device.VirtioBlk;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The machine's layout and wiring, built on the emulator engine with a vCPU that never runs. */
class MachineTest {

    /** A stand-in vCPU: the machine is only built and inspected here, never started. */
    private static final VcpuFactory IDLE = (memory, bus, pic) -> new Vcpu() {
        @Override
        public Stop run() {
            return Stop.SHUTDOWN;
        }

        @Override
        public void requestStop() {
        }

        @Override
        public String stopReason() {
            return "idle test vCPU";
        }

        @Override
        public long instructionsRetired() {
            return 0;
        }
    };

    private static void needBios() {
        assumeTrue(FirmwareLocator.DEFAULT_PATHS.stream().anyMatch(Files::isRegularFile), "no SeaBIOS installed");
    }

    @Test
    void memoryMapAndBiosAlias() throws Exception {
        needBios();
        try (Machine m = Machine.create(new MachineConfig().memoryMiB(64).engine(new EmuEngine(IDLE)))) {
            var mem = m.memory();
            assertEquals(mem.readInt(0xFFFF_FFF0L), mem.readInt(0xFFFF0L), "reset vector shadowed at 0xFFFF0");
            assertTrue(mem.find(0xA0000, 1) == null, "the VGA window is a hole");
            assertTrue(mem.find((64L << 20) - 1, 1) != null);
            assertTrue(mem.find(64L << 20, 1) == null);
        }
    }

    /** 4 GiB of guest: RAM up to the PCI hole, the KVM pages reserved, the rest above 4 GiB. */
    @Test
    void e820ForLargeGuests() {
        long low = Machine.LOW_RAM_LIMIT;
        long high = (4096L << 20) - low;
        ByteBuffer e = ByteBuffer.wrap(Machine.e820(low, high)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, e.getLong());
        assertEquals(Machine.LOW_RAM_LIMIT, e.getLong());
        assertEquals(Machine.E820_RAM, e.getInt());
        assertEquals(Machine.KVM_PAGES, e.getLong());
        assertEquals(4 * 4096, e.getLong());
        assertEquals(Machine.E820_RESERVED, e.getInt());
        assertEquals(Machine.FOUR_GIB, e.getLong());
        assertEquals(high, e.getLong());
        assertEquals(Machine.E820_RAM, e.getInt());
        assertEquals(0, e.remaining());
    }

    @Test
    void wiringNamesEveryChipAndEmuGetsPicAndPit() throws Exception {
        needBios();
        try (Machine m = Machine.create(new MachineConfig().memoryMiB(64).engine(new EmuEngine(IDLE)))) {
            List<String> w = m.wiring();
            for (String chip : List.of("8259A PIC master", "8254 PIT", "16550A UART COM1", "QEMU fw_cfg",
                    "MC146818", "8042", "PCI configuration mechanism #1", "i440FX host bridge", "PIIX3 ISA bridge")) {
                assertTrue(w.stream().anyMatch(l -> l.contains(chip)), chip + " in " + w);
            }
            assertTrue(w.stream().anyMatch(l -> l.contains("(ignored)") && l.contains("secondary ATA")));
            assertEquals(0xFF, m.bus().pioRead(0x170, 1), "ignored ports float high");
            assertEquals(1, m.ignoredPortAccesses());
        }
    }

    @Test
    void badBiosAndMemoryAreRefused() throws Exception {
        Path bad = Files.createTempFile("bios", ".bin");
        Files.write(bad, new byte[1000]);
        try {
            assertThrows(java.io.IOException.class,
                    () -> Machine.create(new MachineConfig().bios(bad).engine(new EmuEngine(IDLE))));
        } finally {
            Files.delete(bad);
        }
        assertThrows(IllegalArgumentException.class, () -> new MachineConfig().memoryMiB(1));
        assertThrows(IllegalArgumentException.class, () -> new MachineConfig().cpus(0));
        needBios();
        assertThrows(IllegalArgumentException.class,
                () -> Machine.create(new MachineConfig().memoryMiB(16).cpus(2).engine(new EmuEngine(IDLE))),
                "the emulator engine has no local APICs for a second vCPU");
    }

    @Test
    void virtioDisksGetPciSlotsFromThree() throws Exception {
        needBios();
        try (Machine m = Machine.create(new MachineConfig().memoryMiB(64).engine(new EmuEngine(IDLE))
                .disk(new io.p2vkit.hv.machine.TestDisk(1 << 20), MachineConfig.DiskInterface.VIRTIO))) {
            List<VirtioBlk> v = m.virtioDisks();
            assertEquals(1, v.size());
            assertTrue(m.wiring().stream().anyMatch(l -> l.startsWith("pci 00:03.0") && l.contains("virtio-blk")));
        }
    }
}
