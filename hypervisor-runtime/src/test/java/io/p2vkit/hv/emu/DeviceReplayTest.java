package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayDeque;
import org.junit.jupiter.api.Test;

/** The replayed devices of the QEMU lockstep: recorded reads served, every mismatch a failure. */
class DeviceReplayTest {

    private final ArrayDeque<QemuTrace.Access> recorded = new ArrayDeque<>();
    private final DeviceReplay replay = new DeviceReplay(recorded);

    @Test
    void servesRecordedReadsInOrder() {
        recorded.add(new QemuTrace.Access(false, 0x511, 1, 0x51, "fwcfg"));
        recorded.add(new QemuTrace.Access(false, 0xFEE00030L, 4, 0x50014, "apic-msi"));
        assertEquals(0x51, replay.read(0x511, 1));
        assertEquals(0x50014, replay.read(0xFEE00030L, 4));
        assertEquals(2, replay.reads());
        replay.assertAllTaken("here");
    }

    @Test
    void joinsTheByteReadsQemuSplitAWideAccessInto() {
        recorded.add(new QemuTrace.Access(false, 0x70, 1, 0x34, "rtc-index"));
        recorded.add(new QemuTrace.Access(false, 0x71, 1, 0x12, "rtc"));
        assertEquals(0x1234, replay.read(0x70, 2));
    }

    @Test
    void aReadOfAnotherPortOrSizeIsADivergence() {
        recorded.add(new QemuTrace.Access(false, 0x1F7, 1, 0x50, "ide"));
        assertThrows(AssertionError.class, () -> replay.read(0x1F6, 1));
        recorded.clear();
        recorded.add(new QemuTrace.Access(false, 0x1F0, 2, 0xABCD, "ide"));
        assertThrows(AssertionError.class, () -> replay.read(0x1F0, 1));
    }

    @Test
    void aWriteMustMatchQemusValue() {
        recorded.add(new QemuTrace.Access(true, 0xCF8, 4, 0x80000000L, "pci-conf-idx"));
        replay.write(0xCF8, 4, 0x80000000);
        assertEquals(1, replay.writes());
        recorded.add(new QemuTrace.Access(true, 0xCF8, 4, 0x80000000L, "pci-conf-idx"));
        assertThrows(AssertionError.class, () -> replay.write(0xCF8, 4, 0x80000004));
    }

    @Test
    void aReadWhereQemuWroteOrMadeNoAccessIsADivergence() {
        recorded.add(new QemuTrace.Access(true, 0x80, 1, 0, "io"));
        assertThrows(AssertionError.class, () -> replay.read(0x80, 1));
        assertThrows(AssertionError.class, () -> replay.read(0x80, 1));
    }

    @Test
    void anAccessOnlyQemuMadeIsADivergence() {
        recorded.add(new QemuTrace.Access(false, 0x64, 1, 0x18, "i8042-cmd"));
        assertThrows(AssertionError.class, () -> replay.assertAllTaken("at instruction 1"));
    }

    @Test
    void collectsWhatTheGuestSendsToCom1() {
        for (char ch : "OK".toCharArray()) {
            recorded.add(new QemuTrace.Access(true, 0x3F8, 1, ch, "serial"));
            replay.write(0x3F8, 1, ch);
        }
        assertEquals("OK", replay.com1().toString());
    }
}
