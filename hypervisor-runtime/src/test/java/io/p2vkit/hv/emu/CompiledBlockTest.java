package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

/** A region remembers the three regions that ran after it last, for as long as the MMU generation holds. */
class CompiledBlockTest {

    private static CompiledBlock at(long start) {
        return new CompiledBlock(start, 1, false, false) {
            @Override
            int run(Cpu c, int budget) {
                throw new AssertionError("not run here");
            }
        };
    }

    private static CompiledBlock successorAt(CompiledBlock b, Cpu c, long rip) {
        c.rip = rip;
        return b.successor(c);
    }

    @Test
    void threeSuccessorsAreRememberedUntilAFourthOrAGenerationChange() {
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            Cpu c = m.cpu;
            CompiledBlock branch = at(0x1000);
            CompiledBlock taken = at(0x2000);
            CompiledBlock fallThrough = at(0x1010);
            CompiledBlock third = at(0x3000);
            CompiledBlock fourth = at(0x4000);
            assertNull(successorAt(branch, c, 0x2000));
            branch.link(taken, c);
            branch.link(fallThrough, c);
            assertSame(taken, successorAt(branch, c, 0x2000));
            assertSame(fallThrough, successorAt(branch, c, 0x1010));
            assertNull(successorAt(branch, c, 0x3000));

            branch.link(third, c);
            assertSame(third, successorAt(branch, c, 0x3000));
            assertSame(fallThrough, successorAt(branch, c, 0x1010));
            assertSame(taken, successorAt(branch, c, 0x2000));

            branch.link(fourth, c);
            assertSame(fourth, successorAt(branch, c, 0x4000));
            assertSame(third, successorAt(branch, c, 0x3000));
            assertSame(fallThrough, successorAt(branch, c, 0x1010));
            assertNull(successorAt(branch, c, 0x2000), "the oldest is forgotten");

            c.mmu.flush(); // a flushed translation: RIP may now be other code
            assertNull(successorAt(branch, c, 0x3000));
            assertNull(successorAt(branch, c, 0x1010));
        }
    }
}
