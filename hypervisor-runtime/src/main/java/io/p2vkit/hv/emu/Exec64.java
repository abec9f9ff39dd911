package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * 64-bit mode (IA-32e mode with CS.L = 1): the run loop and the operand, memory and stack
 * accessors its handlers ({@link Ops64}, through {@link Dispatch64}) use. Registers are the 16
 * of {@link Cpu#r}; byte registers 4-7 are SPL..DIL with a REX prefix, AH..BH without; 32-bit
 * results zero-extend. Segment bases apply to FS and GS only (the 32-bit bases of their
 * descriptors: the base MSRs are not emulated yet); linear addresses must be canonical (#GP,
 * #SS for stack references).
 */
final class Exec64 {

    /** Compiled regions for hot code by default (-Dp2v.emu.blocks=false interprets everything). */
    static final boolean BLOCKS = !"false".equals(System.getProperty("p2v.emu.blocks"));

    private Exec64() {
    }

    /**
     * Runs up to {@code max} 64-bit instructions; a {@link CpuFault} escapes to the caller.
     * Control alternates between compiled regions and straight-line runs of the interpreter;
     * each run starts with a region lookup, which is also where the interpreter counts how hot
     * an address is ({@link CodePage#block}).
     */
    static void run(Cpu c, int max) {
        Handler[] table = Dispatch64.TABLE;
        CompiledBlock last = null;
        int i = 0;
        while (i < max) {
            CompiledBlock b = last == null ? null : last.successor(c);
            if (b == null || !runsNow(c, b, max - i)) {
                // Noted before the region lookup too: translating RIP there may fault (a code
                // page not present yet), and the fault must name this instruction. A region
                // notes its own faulting instruction.
                noteInsn(c);
                CodePage page = c.codePage64();
                b = page != null && c.compileBlocks ? page.block(c, c.rip, (int) c.rip & 0xFFF) : null;
                if (b != null && last != null) {
                    last.link(b, c);
                }
                if (b == null || !runsNow(c, b, max - i)) {
                    last = null;
                    i = interpretRun(c, page, i, max, table);
                    if (i < 0) {
                        return;
                    }
                    continue;
                }
            }
            long before = c.retired;
            int n;
            try {
                n = b.run(c, max - i);
            } catch (StoreIntoCode stop) {
                // The region left before a store into decoded code, RIP at that instruction: the
                // interpreter runs it (a region starting there would only stop again), and what
                // it changes is decoded afresh.
                n = (int) (c.retired - before);
                c.regionRetired += n;
                i += n;
                last = null;
                if (i < max) {
                    noteInsn(c);
                    i = interpretRun(c, c.codePage64(), i, max, table);
                    if (i < 0) {
                        return;
                    }
                }
                continue;
            }
            c.regionRetired += n;
            c.regionRuns++;
            i += n; // the region left RIP and EIP at the next instruction
            if (c.breakSlice) {
                c.breakSlice = false;
                return;
            }
            last = b;
        }
    }

    /**
     * Whether region {@code b} may run with {@code room} instructions left in the slice: it fits
     * (or the slice may overshoot), and SSE is usable when it holds SSE instructions.
     */
    private static boolean runsNow(Cpu c, CompiledBlock b, int room) {
        return (b.size <= room || c.sliceMayOvershoot) && (!b.sse || Sse.usable(c));
    }

    /** The state a fault rolls back to, noted before an instruction that may fault. */
    private static void noteInsn(Cpu c) {
        c.insnRip = c.rip;
        c.insnEip = (int) c.rip;
        c.insnEsp = c.r[Cpu.ESP];
    }

    /**
     * Interprets from RIP along one straight line of {@code page} (null: code in MMIO, one
     * instruction), with no lookup per instruction. The run ends, and the next starts with a
     * region lookup, when an instruction transfers control, when the next one is on another
     * page, when the MMU generation moves (a store into code or a flushed translation:
     * {@code page} may be stale), and where the page notes a break ({@link CodePage#breaksBefore}:
     * a region's start, the instruction after one no region can hold). Returns the instructions
     * run in the slice so far, or -1 when the slice ends early (breakSlice, a mode change).
     * From the second instruction on, the one after is usually the previous one's link
     * ({@link DecodedInsn#next}): a kernel's lukewarm code is interpreted out of the CPU's caches,
     * and the link spares a load from the page's tables for each instruction.
     */
    private static int interpretRun(Cpu c, CodePage page, int i, int max, Handler[] table) {
        Mmu mmu = c.mmu;
        int generation = mmu.generation;
        long pageBase = c.rip & ~0xFFFL;
        DecodedInsn d = page == null ? c.fetch() : c.insn64(page, c.rip);
        int length = d.length;
        while (true) {
            long next = c.rip + length;
            // The next instruction's object is read now, so that a cache miss on it overlaps
            // this instruction's work instead of following it.
            DecodedInsn ahead = d.next();
            int aheadLength = ahead == null ? 0 : ahead.length;
            c.rip = next;
            c.eip = (int) next;
            if (d.invalid()) {
                throw CpuFault.ud(); // an i64 opcode: undefined in 64-bit mode, not a gap of ours
            }
            if ((d.prefixes & DecodedInsn.PREFIX_LOCK) != 0 && !LockRules.allowed(d)) {
                throw CpuFault.ud();
            }
            if (c.lockedAccess != null && Cpu.needsLockedAccess(d)) {
                c.lockedAccess.execute(c, d, table[d.opcode]);
            } else {
                execute(c, d, table);
            }
            c.retired++;
            if (!c.mode64) {
                c.breakSlice = false;
                return -1; // a far transfer to compatibility mode set EIP; legacy code runs next
            }
            c.eip = (int) c.rip;
            if (c.breakSlice) {
                c.breakSlice = false;
                return -1;
            }
            if (++i >= max || c.rip != next || mmu.generation != generation) {
                return i;
            }
            if (ahead == null) {
                if ((next & ~0xFFFL) != pageBase || page == null || page.breaksBefore((int) next & 0xFFF)) {
                    return i;
                }
                ahead = c.insn64(page, next);
                aheadLength = ahead.length;
                page.link(d, (int) next & 0xFFF, ahead);
            }
            noteInsn(c);
            d = ahead;
            length = aheadLength;
        }
    }

    /**
     * Runs one instruction: the commonest opcodes through direct calls the JIT inlines, the rest
     * through the dispatch table (a megamorphic call costs more than most instructions).
     */
    private static void execute(Cpu c, DecodedInsn d, Handler[] table) {
        switch (d.opcode) {
            case 0x000, 0x001, 0x002, 0x003, 0x004, 0x005, 0x008, 0x009, 0x00A, 0x00B, 0x00C, 0x00D,
                 0x020, 0x021, 0x022, 0x023, 0x024, 0x025, 0x028, 0x029, 0x02A, 0x02B, 0x02C, 0x02D,
                 0x030, 0x031, 0x032, 0x033, 0x034, 0x035, 0x038, 0x039, 0x03A, 0x03B, 0x03C, 0x03D -> Ops64.arith(c, d);
            case 0x088, 0x089, 0x08A, 0x08B -> Ops64.mov(c, d);
            case 0x070, 0x071, 0x072, 0x073, 0x074, 0x075, 0x076, 0x077, 0x078, 0x079, 0x07A, 0x07B,
                 0x07C, 0x07D, 0x07E, 0x07F, 0x180, 0x181, 0x182, 0x183, 0x184, 0x185, 0x186, 0x187,
                 0x188, 0x189, 0x18A, 0x18B, 0x18C, 0x18D, 0x18E, 0x18F -> Ops64.jcc(c, d);
            case 0x050, 0x051, 0x052, 0x053, 0x054, 0x055, 0x056, 0x057 -> Ops64.pushReg(c, d);
            case 0x058, 0x059, 0x05A, 0x05B, 0x05C, 0x05D, 0x05E, 0x05F -> Ops64.popReg(c, d);
            case 0x080, 0x081, 0x083 -> Ops64.group1(c, d);
            case 0x084, 0x085, 0x0A8, 0x0A9 -> Ops64.test(c, d);
            case 0x08D -> Ops64.lea(c, d);
            case 0x0E8 -> Ops64.callRel(c, d);
            case 0x0C2, 0x0C3 -> Ops64.ret(c, d);
            case 0x0E9, 0x0EB -> Ops64.jmpRel(c, d);
            case 0x1B6, 0x1B7, 0x1BE, 0x1BF -> Ops64.movx(c, d);
            case 0x0C0, 0x0C1, 0x0D0, 0x0D1, 0x0D2, 0x0D3 -> Arith64.group2(c, d);
            case 0x0B0, 0x0B1, 0x0B2, 0x0B3, 0x0B4, 0x0B5, 0x0B6, 0x0B7,
                 0x0B8, 0x0B9, 0x0BA, 0x0BB, 0x0BC, 0x0BD, 0x0BE, 0x0BF -> Ops64.movImmReg(c, d);
            case 0x0C6, 0x0C7 -> Ops64.movImmRm(c, d);
            case 0x063 -> Ops64.movsxd(c, d);
            case 0x0FF -> Ops64.group5(c, d);
            case 0x0F6, 0x0F7 -> Ops64.group3(c, d);
            case 0x0FE -> Ops64.group4(c, d);
            case 0x090, 0x091, 0x092, 0x093, 0x094, 0x095, 0x096, 0x097 -> Ops64.xchgAcc(c, d);
            case 0x118, 0x119, 0x11A, 0x11B, 0x11C, 0x11D, 0x11E, 0x11F -> SystemOps.nop(c, d);
            case 0x140, 0x141, 0x142, 0x143, 0x144, 0x145, 0x146, 0x147,
                 0x148, 0x149, 0x14A, 0x14B, 0x14C, 0x14D, 0x14E, 0x14F -> Ops64.cmov(c, d);
            case 0x190, 0x191, 0x192, 0x193, 0x194, 0x195, 0x196, 0x197,
                 0x198, 0x199, 0x19A, 0x19B, 0x19C, 0x19D, 0x19E, 0x19F -> Ops64.setcc(c, d);
            case 0x068, 0x06A -> Ops64.pushImm(c, d);
            case 0x069, 0x06B, 0x1AF -> Arith64.imul(c, d);
            case 0x086, 0x087 -> Ops64.xchg(c, d);
            case 0x098, 0x099 -> Ops64.convert(c, d);
            case 0x0A4, 0x0A5, 0x0AA, 0x0AB -> StringOps64.string(c, d);
            default -> table[d.opcode].exec(c, d);
        }
    }

    static long mask(int size) {
        return Flags.mask64(size);
    }

    // ---- registers ----

    /** Register {@code n} at {@code size} bytes, zero-extended. */
    static long reg(Cpu c, DecodedInsn d, int n, int size) {
        return switch (size) {
            case 8 -> c.r[n];
            case 4 -> c.r[n] & 0xFFFF_FFFFL;
            case 2 -> c.r[n] & 0xFFFF;
            default -> n < 4 || d.rex != 0 ? c.r[n] & 0xFF : (c.r[n - 4] >>> 8) & 0xFF;
        };
    }

    /** Writes register {@code n}: 32-bit writes zero-extend, 8/16-bit writes keep the rest. */
    static void setReg(Cpu c, DecodedInsn d, int n, int size, long v) {
        switch (size) {
            case 8 -> c.r[n] = v;
            case 4 -> c.r[n] = v & 0xFFFF_FFFFL;
            case 2 -> c.r[n] = (c.r[n] & ~0xFFFFL) | (v & 0xFFFF);
            default -> {
                if (n < 4 || d.rex != 0) {
                    c.r[n] = (c.r[n] & ~0xFFL) | (v & 0xFF);
                } else {
                    c.r[n - 4] = (c.r[n - 4] & ~0xFF00L) | ((v & 0xFF) << 8);
                }
            }
        }
    }

    // ---- memory ----

    /** The effective address of a ModRM memory operand (RIP-relative to the next instruction). */
    static long ea(Cpu c, DecodedInsn d) {
        long a = d.disp;
        if (d.base == DecodedInsn.BASE_RIP) {
            a += c.rip;
        } else if (d.base >= 0) {
            a += c.r[d.base];
        }
        if (d.index >= 0) {
            a += c.r[d.index] << d.scale;
        }
        return d.addr64() ? a : a & 0xFFFF_FFFFL;
    }

    /** The linear address of {@code offset} in segment {@code seg}, checked to be canonical. */
    static long linear(Cpu c, int seg, long offset) {
        long lin = offset;
        if (seg == Cpu.FS) {
            lin += c.fsBase;
        } else if (seg == Cpu.GS) {
            lin += c.gsBase;
        }
        return seg == Cpu.SS ? canonicalStack(lin) : canonical(lin);
    }

    /** {@code lin} if canonical, else #GP(0). */
    static long canonical(long lin) {
        if (lin << 16 >> 16 != lin) {
            throw CpuFault.gp(0);
        }
        return lin;
    }

    /** {@code lin} if canonical, else #SS(0) (a stack reference). */
    static long canonicalStack(long lin) {
        if (lin << 16 >> 16 != lin) {
            throw CpuFault.withCode(CpuFault.SS, 0);
        }
        return lin;
    }

    static long rmLinear(Cpu c, DecodedInsn d) {
        return linear(c, d.seg, ea(c, d));
    }

    static long read(Cpu c, long lin, int size) {
        return size == 8 ? c.mmu.read64(lin) : c.mmu.read(lin, size) & mask(size);
    }

    static void write(Cpu c, long lin, int size, long v) {
        if (size == 8) {
            c.mmu.write64(lin, v);
        } else {
            c.mmu.write(lin, size, (int) v);
        }
    }

    /** Reads an operand that will be written back, checking the write permission first. */
    static long readRmw(Cpu c, long lin, int size) {
        return size == 8 ? c.mmu.readRmw64(lin) : c.mmu.readRmw(lin, size) & mask(size);
    }

    static long readRM(Cpu c, DecodedInsn d, int size) {
        return d.mod == 3 ? reg(c, d, d.rm, size) : read(c, rmLinear(c, d), size);
    }

    static void writeRM(Cpu c, DecodedInsn d, int size, long v) {
        if (d.mod == 3) {
            setReg(c, d, d.rm, size, v);
        } else {
            write(c, rmLinear(c, d), size, v);
        }
    }

    // ---- stack (SS base is ignored in 64-bit mode; RSP is always 64 bits wide) ----

    static void push(Cpu c, int size, long v) {
        long sp = c.r[Cpu.ESP] - size;
        write(c, linear(c, Cpu.SS, sp), size, v);
        c.r[Cpu.ESP] = sp;
    }

    static long pop(Cpu c, int size) {
        long sp = c.r[Cpu.ESP];
        long v = read(c, linear(c, Cpu.SS, sp), size);
        c.r[Cpu.ESP] = sp + size;
        return v;
    }

    /** A branch target must be canonical: #GP on the branch itself, nothing changed. */
    static long checkTarget(long target) {
        if (target << 16 >> 16 != target) {
            throw CpuFault.gp(0);
        }
        return target;
    }
}
