package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.emu.decode.DecodedInsn;
import io.p2vkit.hv.emu.decode.Decoder;
import org.junit.jupiter.api.Test;

/**
 * The interpreter follows an instruction's link to the next one without asking the page about a
 * break there ({@link Exec64#run}), so every break the page notes must cut the links into it:
 * otherwise a straight-line run would go past a region's start without running the region.
 */
class CodePageLinkTest {

    private static DecodedInsn decode(int... bytes) {
        return Decoder.decode64(i -> bytes[i]);
    }

    /** A page holding "mov eax, 1" at 0 and "nop" at 5, the first linked to the second. */
    private static CodePage linkedPage(DecodedInsn mov, DecodedInsn nop) {
        CodePage page = new CodePage(0x100);
        page.decoded(0, mov);
        page.decoded(5, nop);
        page.link(mov, 5, nop);
        assertSame(nop, mov.next());
        return page;
    }

    @Test
    void aRegionInstalledAtTheNextInstructionCutsTheLinkToIt() {
        DecodedInsn mov = decode(0xB8, 0x01, 0x00, 0x00, 0x00);
        DecodedInsn nop = decode(0x90);
        CodePage page = linkedPage(mov, nop);
        try (FlatMachine m = NativeDifferential64Test.loaded64(new byte[] {(byte) 0xF4}, true, 1000)) {
            assertNull(page.block(m.cpu, 0x100005, 5)); // counts heat there, as the run loop does first
        }
        page.install(5, new CompiledBlock(0x100005, 1, false, false) {
            @Override
            int run(Cpu c, int budget) {
                return 0;
            }
        });
        assertTrue(page.breaksBefore(5));
        assertNull(mov.next());
    }

    @Test
    void anInstructionNoRegionHoldsCutsTheLinkToTheOneAfterIt() {
        DecodedInsn mov = decode(0xB8, 0x01, 0x00, 0x00, 0x00);
        DecodedInsn nop = decode(0x90);
        CodePage page = linkedPage(mov, nop);
        page.decoded(4, decode(0xFA)); // cli, decoded where a jump into the MOV's last byte lands
        assertTrue(page.breaksBefore(5));
        assertNull(mov.next());
    }

    @Test
    void onlyAnInstructionThePageHoldsWhollyIsLinked() {
        DecodedInsn nop = decode(0x90);
        CodePage page = new CodePage(0x100);
        page.decoded(0xFFD, nop);
        page.link(nop, 0xFFE, decode(0x90)); // not the page's own decode at 0xFFE
        assertNull(nop.next());
        DecodedInsn crossing = decode(0xB8, 0x01, 0x00, 0x00, 0x00); // 0xFFE-0x1002: its tail is on the next page
        page.decoded(0xFFE, crossing);
        page.link(nop, 0xFFE, crossing);
        assertNull(nop.next());
    }
}
