package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

/** REP MOVS/STOS over page boundaries, overlaps, 64 KiB wrap and code pages (the bulk path). */
class StringOpsTest {

    private static FlatMachine run(String... code) {
        FlatMachine m = new FlatMachine(new long[] {0, 0x200000});
        runOn(m, code);
        return m;
    }

    /** Loads {@code code} at 0x1000 and runs it in flat 32-bit mode to its HLT. */
    private static void runOn(FlatMachine m, String... code) {
        m.load(0x1000, ModeTransitionTest.asm(code));
        m.flat32();
        m.cpu.eip = 0x1000;
        m.cpu.set32(Cpu.ESP, 0x9000);
        assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1_000_000), m.vcpu.stopReason());
    }

    @Test
    void repStosdAcrossPages() {
        try (FlatMachine m = run("b8 78 56 34 12", "bf f8 2f 01 00", "b9 00 08 00 00", "f3 ab", "f4")) {
            for (int a = 0x12FF8; a < 0x12FF8 + 0x2000; a += 4) {
                assertEquals(0x12345678, m.memory.readInt(a), Integer.toHexString(a));
            }
            assertEquals(0, m.memory.readInt(0x12FF8 + 0x2000));
            assertEquals(0x12FF8 + 0x2000, m.cpu.r32(Cpu.EDI));
            assertEquals(0, m.cpu.r32(Cpu.ECX));
        }
    }

    /** A data port counting up from 1 per word read, handing over at most 100 words per block read when it has them. */
    private static final class CountingPort implements io.p2vkit.hv.bus.PortIoDevice {
        private final boolean blocks;
        int next = 1;
        int blockReads;

        CountingPort(boolean blocks) {
            this.blocks = blocks;
        }

        @Override
        public int read(int offset, int size) {
            return next++ & 0xFFFF;
        }

        @Override
        public void write(int offset, int size, int value) {
        }

        @Override
        public int readBlock(int offset, int size, java.lang.foreign.MemorySegment dst, long at, int count) {
            if (!blocks) {
                return 0;
            }
            blockReads++;
            int n = Math.min(count, 100);
            for (int i = 0; i < n; i++) {
                dst.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, at + 2L * i, (short) next++);
            }
            return n;
        }
    }

    @Test
    void repInswThroughBlockReadsEqualsWordByWord() {
        for (boolean blocks : new boolean[] {true, false}) {
            try (FlatMachine m = new FlatMachine(new long[] {0, 0x200000})) {
                CountingPort port = new CountingPort(blocks);
                m.bus.registerPio("counter", 0x1F0, 1, port);
                // rep insw 3000 words from port 0x1F0 to 0x12FFF: one word straddles each page end.
                runOn(m, "ba f0 01 00 00", "bf ff 2f 01 00", "b9 b8 0b 00 00", "66 f3 6d", "f4");
                for (int i = 0; i < 3000; i++) {
                    assertEquals(i + 1, m.memory.readShort(0x12FFF + 2 * i) & 0xFFFF, "word " + i);
                }
                assertEquals(0, m.memory.readShort(0x12FFF + 6000));
                assertEquals(0x12FFF + 6000, m.cpu.r32(Cpu.EDI));
                assertEquals(0, m.cpu.r32(Cpu.ECX));
                assertEquals(blocks, port.blockReads > 0);
            }
        }
    }

    @Test
    void overlappingForwardMoveReplicatesTheFirstByte() {
        // rep movsb from 0x20000 to 0x20001: every byte copies the one just written.
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x200000})) {
            m.memory.writeByte(0x20000, (byte) 0xAB);
            for (int i = 1; i < 0x3000; i++) {
                m.memory.writeByte(0x20000 + i, (byte) i);
            }
            runOn(m, "be 00 00 02 00", "bf 01 00 02 00", "b9 ff 2f 00 00",
                    "f3 a4", "f4");
            for (int i = 0; i < 0x3000; i++) {
                assertEquals((byte) 0xAB, m.memory.readByte(0x20000 + i), Integer.toHexString(i));
            }
        }
    }

    @Test
    void largeMoveBetweenPages() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x200000})) {
            for (int i = 0; i < 0x10000; i += 4) {
                m.memory.writeInt(0x40000 + i, i * 7919);
            }
            runOn(m, "be 00 00 04 00", "bf 02 00 08 00", "b9 00 40 00 00",
                    "f3 a5", "f4");
            for (int i = 0; i < 0x10000; i += 4) {
                assertEquals(i * 7919, m.memory.readInt(0x80002 + i));
            }
        }
    }

    @Test
    void sixteenBitAddressingWrapsAt64KiB() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x200000})) {
            // Real mode, ES = 0x2000: DI runs from 0xFFFE and wraps to 0 within the segment.
            m.load(0x7C00, ModeTransitionTest.asm("b8 aa 55", "bf fe ff", "b9 03 00", "f3 ab", "f4"));
            m.real(0, 0x7C00, 0x2000);
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
            assertEquals((short) 0x55AA, m.memory.readShort(0x2FFFE));
            assertEquals((short) 0x55AA, m.memory.readShort(0x20000));
            assertEquals((short) 0x55AA, m.memory.readShort(0x20002));
            assertEquals(0, m.memory.readShort(0x30000));
            assertEquals(4, m.cpu.r32(Cpu.EDI) & 0xFFFF);
        }
    }

    @Test
    void copyingOverCodeThatRanIsSeen() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x200000})) {
            // 0x3000: "mov eax, 1; ret" runs first; then rep movsb copies "mov eax, 2; ret" over it.
            m.load(0x3000, ModeTransitionTest.asm("b8 01 00 00 00", "c3"));
            m.load(0x4000, ModeTransitionTest.asm("b8 02 00 00 00", "c3"));
            m.load(0x1000, ModeTransitionTest.asm(
                    "e8 fb 1f 00 00",            // call 0x3000
                    "89 c3",                     // mov ebx, eax
                    "be 00 40 00 00",            // mov esi, 0x4000
                    "bf 00 30 00 00",            // mov edi, 0x3000
                    "b9 06 00 00 00",            // mov ecx, 6
                    "f3 a4",                     // rep movsb
                    "e8 df 1f 00 00",            // call 0x3000
                    "f4"));
            m.flat32();
            m.cpu.eip = 0x1000;
            m.cpu.set32(Cpu.ESP, 0x9000);
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
            assertEquals(1, m.cpu.r32(Cpu.EBX));
            assertEquals(2, m.cpu.r32(Cpu.EAX));
        }
    }
}
