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
    /**
     * Compiled 64-bit blocks by start offset, and how often the interpreter started a
     * straight-line run at each offset (a jump target, a region's exit, the instruction after
     * one no region can hold, the first reached on a page): only there, as QEMU's translation
     * blocks, do regions start, and only there is heat counted.
     */
    private CompiledBlock[] blocks;
    private short[] heat;
    /** The heat of an offset whose region the {@link RegionTranslator} is building. */
    private static final short TRANSLATING = -2;
    /**
     * One bit per offset before which a straight-line run of the interpreter ends, so that the
     * next run starts there with a region lookup: where a compiled region starts (falling into
     * it runs it), and after each instruction no region can hold (a region may start right
     * after it: the region before stops there).
     */
    private final long[] runBreaks = new long[64];

    /**
     * The instruction that starts at {@link #crossingOffset} and ends on the next page, whose
     * code page (at the time) is {@link #crossingTail}: a write to either page drops that page
     * object, so while RIP's next page is the same object the bytes are the same. Only one
     * instruction crosses a page's end in code that is not decoded at two offsets at once.
     */
    private DecodedInsn crossingInsn;
    private int crossingOffset = -1;
    private CodePage crossingTail;

    CodePage(long physPage) {
        this.physPage = physPage;
    }

    /**
     * The compiled block at {@code off}, compiling it once the interpreter has started a run
     * there {@link Cpu#regionThreshold} times; null while cold or when nothing there compiles.
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
            return null; // tried (the first instruction there cannot be in a block), or being translated
        }
        if (h < c.regionThreshold) {
            heat[off] = (short) (h + 1);
            return null;
        }
        if (c.translator != null && c.translator.submit(c, this, off, lin)) {
            heat[off] = TRANSLATING; // interpreted until the translator thread is done
            return null;
        }
        return install(off, RegionCompiler.compile(c, lin, this));
    }

    /**
     * Marks the instructions of a region being translated ({@code address}, linear) as such: the
     * interpreter still runs them meanwhile, and a loop among them must not count its way to a
     * region of its own that the one under way will hold.
     */
    void translating(long[] address, boolean on) {
        for (long a : address) {
            int off = (int) a & 0xFFF;
            if (on ? heat[off] >= 0 : heat[off] == TRANSLATING) {
                heat[off] = on ? TRANSLATING : 0;
            }
        }
    }

    /** Makes {@code b} (null: nothing there compiles) the block at {@code off}; returns it. */
    CompiledBlock install(int off, CompiledBlock b) {
        if (b == null) {
            heat[off] = -1;
            return null;
        }
        heat[off] = 0;
        if (blocks == null) {
            blocks = new CompiledBlock[4096];
        }
        blocks[off] = b;
        breakBefore(off);
        return b;
    }

    /**
     * Makes the code at {@code offsets} hot: where a region just compiled stopped only because
     * it was full, the code goes on as hot as the region's start. Straight-line code longer than
     * a region (an unrolled hash, a checksum) would otherwise count its heat afresh at each
     * region's end and be compiled one region per {@code threshold} further runs; now the next
     * run starting there compiles it. Called while {@link #block} compiles, so heat exists.
     */
    void heatUp(int[] offsets, int threshold) {
        for (int off : offsets) {
            if (heat[off] >= 0) {
                heat[off] = (short) Math.min(threshold, Short.MAX_VALUE);
            }
        }
    }

    /** Whether a straight-line run of the interpreter ends before {@code off} (see {@link #runBreaks}). */
    boolean breaksBefore(int off) {
        return (runBreaks[off >>> 6] & 1L << off) != 0;
    }

    /** The instruction cached at {@code off} that crosses the page end, or null. */
    DecodedInsn crossing(int off) {
        return off == crossingOffset ? crossingInsn : null;
    }

    /** The code page the cached crossing instruction's tail was on. */
    CodePage crossingTail() {
        return crossingTail;
    }

    /** Caches {@code d}, decoded at {@code off} and ending on {@code tail}. */
    void crossed(int off, DecodedInsn d, CodePage tail) {
        crossingInsn = d;
        crossingOffset = off;
        crossingTail = tail;
    }

    /** Caches {@code d}, decoded at {@code off}, noting a break after it if no region can hold it. */
    void decoded(int off, DecodedInsn d) {
        insns[off] = d;
        int after = off + d.length;
        if (after < 0x1000 && !RegionTraits.translatable(d)) {
            breakBefore(after);
        }
    }

    /**
     * Notes a break before {@code off}: the interpreter's straight-line runs end there. The
     * instructions that end there lose their link to the next one ({@link #link}), which skips
     * this check.
     */
    private void breakBefore(int off) {
        runBreaks[off >>> 6] |= 1L << off;
        for (int k = 1; k <= Math.min(off, 15); k++) {
            DecodedInsn d = insns[off - k];
            if (d != null && d.length == k) {
                d.unlinkNext();
            }
        }
    }

    /**
     * Links {@code d} to {@code next}, the instruction at {@code off} that the interpreter just went
     * on to: a straight line with no break before {@code off} (checked by the caller). An
     * instruction across the page end is not linked: it serves only while the next page is the
     * same ({@link Cpu#insn64} checks).
     */
    void link(DecodedInsn d, int off, DecodedInsn next) {
        if (off + next.length <= 0x1000 && insns[off] == next) {
            d.linkNext(next);
        }
    }

    /**
     * Whether the interpreter has run the 64-bit instruction at {@code off} (regions hold only
     * such code) and no region starts there (a region reaching another's start leaves to it).
     * The interpreter decodes into {@link #insns} only what it is about to run, so that cache
     * is the record: counting every interpreted instruction would cost a store per instruction.
     */
    boolean executed(int off) {
        return ran(off) && (blocks == null || blocks[off] == null);
    }

    /** Whether the interpreter has run the 64-bit instruction at {@code off}, a region starting there or not. */
    boolean ran(int off) {
        DecodedInsn d = insns[off];
        if ((d == null || !d.code64()) && off == crossingOffset) {
            d = crossingInsn;
        }
        return d != null && d.code64();
    }
}
