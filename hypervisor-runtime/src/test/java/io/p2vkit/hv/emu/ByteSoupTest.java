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

    @ParameterizedTest(name = "protected mode: {0}")
    @ValueSource(booleans = {false, true})
    void randomBytesNeverBreakTheEmulator(boolean protectedMode) {
        Random rnd = new Random(protectedMode ? 0xB0B : 0xA11CE);
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
                    m.cpu.r[Cpu.ESP] = rnd.nextInt(0x20000);
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
