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
        int n = Integer.getInteger("bis.n", 60);
        t.runAgainstHost(1, n * 20, (seed, rnd) -> {
            int i = (int) (seed - 31);
            long s = base * 31 + off + i / 20;
            return new X87Sequence(new RandomProgram(s), s).generate(i % 20 + 1);
        }, NativeDifferentialTest.Check.X87);
    }

    @Test
    void trace() throws Exception {
        int g = Integer.getInteger("tr.g", -1);
        if (g < 0) {
            return;
        }
        boolean t = Boolean.getBoolean("tr.t");
        long base = NativeDifferentialTest.SEED ^ (t ? 0x1087 : 0x87);
        long s = Long.getLong("tr.seed", base * 31 + g);
        int k = Integer.getInteger("tr.k", 20);
        RandomProgram p = t ? new X87Sequence(new RandomProgram(s), s).generateTranscendental()
                : new X87Sequence(new RandomProgram(s), s).generate(k);
        System.out.println(p.listing);
        try (FlatMachine m = new FlatMachine(new long[] {RandomProgram.SCRATCH, RandomProgram.SCRATCH_SIZE},
                new long[] {NativeDifferentialTest.CODE, 0x1000})) {
            byte[] code = p.code();
            m.load(NativeDifferentialTest.CODE + 0x100, code);
            m.flat32();
            m.cpu.set32(Cpu.EBX, RandomProgram.DATA_BASE);
            m.cpu.eip = NativeDifferentialTest.CODE + 0x100;
            int end = m.cpu.eip + code.length;
            while (m.cpu.eip != end) {
                int at = m.cpu.eip;
                m.runUntilEip(-1, 1);
                X87State x = m.cpu.fpu;
                if (code[at - NativeDifferentialTest.CODE - 0x100] == (byte) 0xC7) {
                    continue;
                }
                StringBuilder sb = new StringBuilder(String.format("@%x sw=%04x cw=%04x tw=%04x", at, x.status, x.control, x.tag));
                for (int i = 0; i < 8; i++) {
                    int ph = (x.top() + i) & 7;
                    sb.append(String.format("\n   ST%d %04x %016x", i, x.signExponent[ph], x.significand[ph]));
                }
                System.out.println(sb);
            }
        }
    }
}
