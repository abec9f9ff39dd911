package io.p2vkit.hv.emu;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class X87BisectTest {
    @Test
    void bisect() throws Exception {
        NativeDifferentialTest t = new NativeDifferentialTest();
        t.tmp = Files.createTempDirectory("x87b");
        long base = NativeDifferentialTest.SEED ^ 0x87;
        int off = Integer.getInteger("bis.off", 0);
        t.runAgainstHost(1, 60 * 20, (seed, rnd) -> {
            int i = (int) (seed - 31);
            long s = base * 31 + off + i / 20;
            return new X87Sequence(new RandomProgram(s), s).generate(i % 20 + 1);
        }, true);
    }
}
