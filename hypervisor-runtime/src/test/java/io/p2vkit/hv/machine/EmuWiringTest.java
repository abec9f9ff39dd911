package io.p2vkit.hv.machine;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.LocalApicAccess;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.memory.GuestMemory;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the emulator engine will plug into: a stand-in vCPU that drives the machine's ports the
 * way firmware would (through the Bus it is given) and asks the InterruptController it is given,
 * so the emu-side wiring (PIC, PIT and its timer thread, IRQ lines of devices) is tested without
 * an emulator.
 */
class EmuWiringTest {

    /** A vCPU that runs a script against the bus, then waits to be stopped. */
    private static final class ScriptedVcpu implements Vcpu {
        final Bus bus;
        final InterruptController pic;
        final CountDownLatch stop = new CountDownLatch(1);

        ScriptedVcpu(Bus bus, InterruptController pic) {
            this.bus = bus;
            this.pic = pic;
        }

        @Override
        public Stop run() {
            try {
                stop.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Stop.REQUESTED;
        }

        @Override
        public void requestStop() {
            stop.countDown();
        }

        @Override
        public String stopReason() {
            return "scripted vCPU stopped";
        }

        @Override
        public long instructionsRetired() {
            return 0;
        }
    }

    private static void initPic(Bus bus) {
        bus.pioWrite(0x20, 1, 0x11);
        bus.pioWrite(0x21, 1, 0x08);
        bus.pioWrite(0x21, 1, 0x04);
        bus.pioWrite(0x21, 1, 0x01);
        bus.pioWrite(0xA0, 1, 0x11);
        bus.pioWrite(0xA1, 1, 0x70);
        bus.pioWrite(0xA1, 1, 0x02);
        bus.pioWrite(0xA1, 1, 0x01);
        bus.pioWrite(0x21, 1, 0x00);
        bus.pioWrite(0xA1, 1, 0x00);
    }

    @Test
    void serialAndPitInterruptsReachThePicGivenToTheVcpu() throws Exception {
        assumeTrue(FirmwareLocator.DEFAULT_PATHS.stream().anyMatch(Files::isRegularFile), "no SeaBIOS installed");
        AtomicReference<ScriptedVcpu> cpu = new AtomicReference<>();
        MachineConfig config = new MachineConfig().memoryMiB(32)
                .engine(new EmuEngine((memory, bus, pic) -> {
                    ScriptedVcpu v = new ScriptedVcpu(bus, pic);
                    cpu.set(v);
                    return v;
                }));
        try (Machine m = Machine.create(config)) {
            ScriptedVcpu v = cpu.get();
            assertNotNull(v.pic, "the emulator gets the machine's PIC");
            Bus bus = v.bus;
            initPic(bus);
            bus.pioWrite(0x21, 1, 0xFE);          // only IRQ 0 for now
            assertFalse(v.pic.hasPendingInterrupt());

            // COM1: THRE interrupt with OUT2 set raises IRQ 4.
            bus.pioWrite(0x21, 1, 0xEF);          // unmask IRQ 4 only
            bus.pioWrite(0x3FC, 1, 0x08);
            bus.pioWrite(0x3F9, 1, 0x02);
            assertTrue(v.pic.hasPendingInterrupt());
            assertEquals(0x0C, v.pic.acknowledge(), "vector 0x08 + 4");
            bus.pioRead(0x3FA, 1);                // IIR read clears THRE
            bus.pioWrite(0x20, 1, 0x20);          // EOI
            assertFalse(v.pic.hasPendingInterrupt());

            // PIT channel 0 at ~1 kHz: the machine's timer thread raises IRQ 0.
            bus.pioWrite(0x21, 1, 0xFE);
            bus.pioWrite(0x43, 1, 0x34);
            bus.pioWrite(0x40, 1, 1193 & 0xFF);
            bus.pioWrite(0x40, 1, 1193 >> 8);
            m.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (!v.pic.hasPendingInterrupt() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertTrue(v.pic.hasPendingInterrupt(), "timer interrupt within 2 s");
            assertEquals(0x08, v.pic.acknowledge());
            m.stop("test done");
            Machine.StopInfo s = m.awaitStop(Duration.ofSeconds(2));
            assertEquals(Vcpu.Stop.REQUESTED, s.stop());
            assertEquals("test done", s.reason());
        }
    }

    @Test
    void guestResetThroughTheKeyboardControllerStopsTheMachine() throws Exception {
        assumeTrue(FirmwareLocator.DEFAULT_PATHS.stream().anyMatch(Files::isRegularFile), "no SeaBIOS installed");
        AtomicReference<ScriptedVcpu> cpu = new AtomicReference<>();
        try (Machine m = Machine.create(new MachineConfig().memoryMiB(32).engine(new EmuEngine((memory, bus, pic) -> {
            ScriptedVcpu v = new ScriptedVcpu(bus, pic);
            cpu.set(v);
            return v;
        })))) {
            m.start();
            cpu.get().bus.pioWrite(0x64, 1, 0xFE);
            Machine.StopInfo s = m.awaitStop(Duration.ofSeconds(2));
            assertNotNull(s);
            assertTrue(s.reason().startsWith("guest requested a reset: keyboard controller"), s.reason());
        }
    }

    /** A factory whose vCPUs come with the machine's local APICs: scripted vCPUs again. */
    private static final class ApicScriptFactory implements VcpuFactory {
        final List<ScriptedVcpu> vcpus = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<LocalApicAccess> apics = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public Vcpu create(GuestMemory memory, Bus bus, InterruptController pic) {
            throw new AssertionError("a machine with local APICs asks withApics");
        }

        @Override
        public ApicVcpus withApics(GuestMemory memory, Bus bus, int count) {
            return (index, apic) -> {
                ScriptedVcpu v = new ScriptedVcpu(bus, apic);
                vcpus.add(v);
                apics.add(apic);
                return v;
            };
        }
    }

    @Test
    void isaIrqsReachTheIoApicAndIrq0ArrivesOnPin2() throws Exception {
        assumeTrue(FirmwareLocator.DEFAULT_PATHS.stream().anyMatch(Files::isRegularFile), "no SeaBIOS installed");
        ApicScriptFactory f = new ApicScriptFactory();
        try (Machine m = Machine.create(new MachineConfig().memoryMiB(32).cpus(2).engine(new EmuEngine(f)))) {
            assertEquals(2, f.apics.size());
            assertEquals(2, m.localApics().size());
            assertTrue(m.wiring().stream().anyMatch(l -> l.startsWith("mmio 0xfec00000") && l.contains("IOAPIC")));
            Bus bus = f.vcpus.getFirst().bus;
            LocalApicAccess cpu1 = f.apics.get(1);
            assertTrue(f.apics.getFirst().isBootstrapProcessor());
            assertFalse(cpu1.isBootstrapProcessor());
            cpu1.mmioWrite(0xF0, 4, 0x1FF);                              // SVR: software-enable CPU 1's APIC
            initPic(bus);
            bus.pioWrite(0x21, 1, 0xFF);                                 // the 8259 masked, as Linux leaves it
            // IOAPIC pin 2: vector 0x31, fixed, physical destination APIC 1, edge, unmasked.
            bus.mmioWrite(0xFEC0_0000L, 4, 0x10 + 2 * 2 + 1);
            bus.mmioWrite(0xFEC0_0010L, 4, 0x0100_0000L);
            bus.mmioWrite(0xFEC0_0000L, 4, 0x10 + 2 * 2);
            bus.mmioWrite(0xFEC0_0010L, 4, 0x31);
            bus.pioWrite(0x43, 1, 0x34);                                 // PIT channel 0, mode 2, ~1 kHz
            bus.pioWrite(0x40, 1, 1193 & 0xFF);
            bus.pioWrite(0x40, 1, 1193 >> 8);
            m.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (!cpu1.hasPendingInterrupt() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertTrue(cpu1.hasPendingInterrupt(), "PIT tick through IOAPIC pin 2 within 2 s");
            assertEquals(0x31, cpu1.acknowledge());
            assertFalse(f.apics.getFirst().hasPendingInterrupt(), "the BSP's virtual wire sees a masked 8259");
            m.stop("test done");
        }
    }
}
