package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * Decoded instructions of one 4 KiB physical page, indexed by the offset of their first byte,
 * and the blocks compiled from them.
 * The page is dropped as a whole when the guest writes to it (self-modifying code, a loader
 * copying a new kernel over old code). Instructions crossing the page end are never cached.
 */
final class CodePage {

    final long physPage;
    final DecodedInsn[] insns = new DecodedInsn[4096];
    /** Compiled 64-bit blocks by start offset, and how often the interpreter reached each offset. */
    private CompiledBlock[] blocks;
    private short[] heat;

    CodePage(long physPage) {
        this.physPage = physPage;
    }

    /**
     * The compiled block at {@code off}, compiling it once the interpreter has reached that
     * offset {@link Cpu#regionThreshold} times; null while cold or when nothing there compiles.
     * A block holds the linear addresses it was compiled at (RIP values) and the privilege, so it
     * only serves that alias of this physical page at that CPL; otherwise it is compiled again.
     */
    CompiledBlock block(Cpu c, long lin, int off) {
        if (blocks != null && blocks[off] != null && blocks[off].start == lin && blocks[off].user == c.mmu.user) {
            return blocks[off];
        }
        if (heat == null) {
            heat = new short[4096];
        }
        int h = heat[off];
        if (h < 0) {
            return null; // tried: the first instruction there cannot be in a block
        }
        if (h < c.regionThreshold) {
            heat[off] = (short) (h + 1);
            return null;
        }
        heat[off] = 0;
        CompiledBlock b = RegionCompiler.compile(c, lin, this);
        if (b == null) {
            heat[off] = -1;
            return null;
        }
        if (blocks == null) {
            blocks = new CompiledBlock[4096];
        }
        blocks[off] = b;
        return b;
    }

    /** Whether the interpreter has run the instruction at {@code off} (regions hold only such code). */
    boolean executed(int off) {
        return heat != null && heat[off] != 0;
    }
}
