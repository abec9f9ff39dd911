package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random bytes as code, data, IVT, GDT and IDT: whatever the guest does, the emulator must only
 * ever stop cleanly (budget spent, shutdown, triple fault), never with a Java exception.
 */
class ByteSoupTest {

    static final int SEEDS = 150;
    static final int BUDGET = 20_000;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"real", "protected", "paging", "pae"})
    void randomBytesNeverBreakTheEmulator(String mode) {
        boolean protectedMode = !mode.equals("real");
        Random rnd = new Random(mode.hashCode());
        byte[] soup = new byte[0x20000];
        long retired = 0;
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x20000})) {
            for (int seed = 0; seed < SEEDS; seed++) {
                rnd.nextBytes(soup);
                m.load(0, soup);
                m.cpu.reset();
                if (protectedMode) {
                    m.flat32();
                    m.cpu.gdtBase = rnd.nextInt(0x10000);
                    m.cpu.gdtLimit = rnd.nextInt(0x10000);
                    m.cpu.idtBase = rnd.nextInt(0x10000);
                    m.cpu.idtLimit = rnd.nextInt(0x800);
                    m.cpu.eip = rnd.nextInt(0x20000);
                    m.cpu.set32(Cpu.ESP, rnd.nextInt(0x20000));
                    if (!mode.equals("protected")) {
                        // Page tables that map the soup with random flags (mostly present),
                        // inside the soup so that the random code may rewrite them.
                        boolean pae = mode.equals("pae");
                        for (int page = 0; page < 0x20; page++) {
                            long flags = (rnd.nextInt(10) == 0 ? 0 : 1) | (rnd.nextInt() & 0x6);
                            if (pae) {
                                long nx = rnd.nextInt(8) == 0 ? 1L << 63 : 0;
                                m.memory.writeLong(0x1E000 + page * 8L, (long) page << 12 | flags | nx);
                            } else {
                                m.memory.writeInt(0x1E000 + page * 4, page << 12 | (int) flags);
                            }
                        }
                        if (pae) {
                            m.memory.writeLong(0x1F000, 0x1D000 | 1);
                            m.memory.writeLong(0x1D000, 0x1E000 | 7);
                        } else {
                            m.memory.writeInt(0x1F000, 0x1E000 | 7);
                        }
                        m.vcpu.invalidateCode(0, 0x20000);
                        m.cpu.mmu.cr3 = 0x1F000;
                        m.cpu.writeCr4(mode.equals("pae") ? 0x30 : 0x10);
                        m.cpu.mmu.efer = mode.equals("pae") ? Mmu.EFER_NXE : 0;
                        m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_PG);
                    }
                } else {
                    m.real(rnd.nextInt(0x1000), rnd.nextInt(0x10000), rnd.nextInt(0x2000));
                }
                long before = m.vcpu.instructionsRetired();
                Vcpu.Stop stop = m.vcpu.run(BUDGET);
                retired += m.vcpu.instructionsRetired() - before;
                assertNotEquals(Vcpu.Stop.ERROR, stop, "seed " + seed + ": " + m.vcpu.stopReason()
                        + "\n" + m.vcpu.registers());
            }
        }
        assertTrue(retired > 0, "nothing ran");
    }
}
