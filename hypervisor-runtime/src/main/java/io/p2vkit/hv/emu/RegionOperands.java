package io.p2vkit.hv.emu;

import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

import io.p2vkit.hv.emu.decode.DecodedInsn;

import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;

/**
 * The frame of a compiled region's method and its operands as bytecode: which local holds
 * what, guest registers kept in locals (with the x86 rules for 8-, 16- and 32-bit writes), and
 * memory operands through {@link Exec64}'s address checks and the {@link Mmu}'s sized
 * accessors. {@link RegionEmitter} builds instructions out of these.
 */
final class RegionOperands {

    static final ClassDesc CD_CPU = ClassDesc.of("io.p2vkit.hv.emu.Cpu");
    static final ClassDesc CD_MMU = ClassDesc.of("io.p2vkit.hv.emu.Mmu");
    static final ClassDesc CD_TLB = CD_long.arrayType();
    static final ClassDesc CD_XMM = CD_long.arrayType();
    static final ClassDesc CD_REGS = CD_long.arrayType();
    static final ClassDesc CD_EXEC64 = ClassDesc.of("io.p2vkit.hv.emu.Exec64");
    private static final MethodTypeDesc MTD_CANONICAL = MethodTypeDesc.of(CD_long, CD_long);
    private static final MethodTypeDesc MTD_LOAD_INT = MethodTypeDesc.of(CD_int, CD_MMU, CD_TLB, CD_long, CD_long);
    private static final MethodTypeDesc MTD_LOAD_LONG = MethodTypeDesc.of(CD_long, CD_MMU, CD_TLB, CD_long, CD_long);
    private static final MethodTypeDesc MTD_STORE_INT = MethodTypeDesc.of(CD_void, CD_MMU, CD_TLB, CD_long, CD_long, CD_int);
    private static final MethodTypeDesc MTD_STORE_LONG = MethodTypeDesc.of(CD_void, CD_MMU, CD_TLB, CD_long, CD_long, CD_long);
    private static final MethodTypeDesc MTD_HOST_LOAD_INT = MethodTypeDesc.of(CD_int, CD_long);
    private static final MethodTypeDesc MTD_HOST_LOAD_LONG = MethodTypeDesc.of(CD_long, CD_long);
    private static final MethodTypeDesc MTD_HOST_STORE_INT = MethodTypeDesc.of(CD_void, CD_long, CD_int);
    private static final MethodTypeDesc MTD_HOST_STORE_LONG = MethodTypeDesc.of(CD_void, CD_long, CD_long);
    private static final MethodTypeDesc MTD_LOOP_PAGE = MethodTypeDesc.of(CD_long, CD_TLB, CD_long, CD_long, CD_long,
            CD_boolean);

    // Local variable slots of the generated run(Cpu, int) method.
    static final int CPU = 1;
    static final int BUDGET = 2;
    static final int RETIRED = 3;
    static final int REGS = 4;
    static final int GEN = 5;
    static final int LIMIT = 6;
    static final int REG0 = 7;           // 16 longs: guest register n in REG0 + 2n
    static final int PC = 39;            // the address of the instruction that may fault next
    static final int NEXT = 41;          // where the region exits to
    static final int FA = 43;            // the last flag-setting operation's operands and result
    static final int FB = 45;
    static final int FRES = 47;
    static final int T0 = 49;
    static final int T1 = 51;
    static final int T2 = 53;
    static final int EXCEPTION = 55;
    static final int MMU = 56;           // the Mmu, for the accessors' slow paths
    static final int PEND = 57;          // the recipe of the flags pending in FA and FRES (PendingFlags)
    static final int REG_VALUE = 58;     // a value on its way into a register the region keeps in Cpu.r
    static final int PAGE0 = 60;         // LoopPages group g's page addend in PAGE0 + 2g (Mmu.loopPage)

    private final CodeBuilder code;
    private final RegionScan.Region region;
    /** The region's class, whose static final field {@code tlb} holds this vCPU's TLB ({@link Mmu#tlb}): a constant to the JIT. */
    private final ClassDesc self;
    /** The TLB tag mask of the privilege the region runs at ({@link Mmu#tagMask(boolean)}). */
    private final long tagMask;
    /** The registers whose locals the emitted code writes, as a bit mask ({@link #setReg}). */
    private int written;
    /** The lookups hoisted out of the region's loops. */
    private final LoopPages pages;
    /**
     * The {@link LoopPages} group of the memory operand {@link #linear} last addressed (in T1),
     * or -1: {@link #readAt} and {@link #writeAt} at T1 go through its page.
     */
    private int accessGroup = -1;

    RegionOperands(CodeBuilder code, RegionScan.Region region, ClassDesc self, boolean user, LoopPages pages) {
        this.code = code;
        this.region = region;
        this.self = self;
        this.tagMask = Mmu.tagMask(user);
        this.pages = pages;
    }

    // ---- registers ----

    /**
     * Pushes {@link Cpu#xmm}, which the region's class holds in a static final field as it holds
     * the TLB: to the JIT a constant array of known length, so an XMM register's half is one
     * load or store at a fixed address (through the Cpu's field it was a field load and a bounds
     * check at each access, repeated after each guest load's fence).
     */
    CodeBuilder xmmArray() {
        return code.getstatic(self, "xmm", CD_XMM);
    }

    /** The local holding guest register {@code n}. */
    static int reg(int n) {
        return REG0 + 2 * n;
    }

    /** Whether register {@code n} lives in its local ({@link RegionScan#LOCAL_REGISTERS}) rather than in {@link Cpu#r}. */
    private boolean inLocal(int n) {
        return (region.locals() & 1 << n) != 0;
    }

    /** Pushes all 64 bits of register {@code n}. */
    void loadReg64(int n) {
        if (inLocal(n)) {
            code.lload(reg(n));
        } else {
            code.getstatic(self, "regs", CD_REGS).loadConstant(n).laload();
        }
    }

    /** Pushes register {@code n} at {@code size} bytes, zero-extended (AH..BH without REX). */
    void loadReg(int n, int size, DecodedInsn d) {
        if (size == 1 && n >= 4 && n < 8 && d.rex == 0) {
            loadReg64(n - 4);
            code.loadConstant(8).lushr().loadConstant(0xFFL).land();
            return;
        }
        loadReg64(n);
        mask(size);
    }

    /** Pops a long into register {@code n}: 32-bit writes zero-extend, 8/16-bit ones merge. */
    void storeReg(int n, int size, DecodedInsn d) {
        switch (size) {
            case 8 -> setReg(n);
            case 4 -> {
                code.loadConstant(0xFFFF_FFFFL).land();
                setReg(n);
            }
            case 2 -> merge(n, 0xFFFFL, 0);
            default -> {
                if (n >= 4 && n < 8 && d.rex == 0) {
                    merge(n - 4, 0xFF00L, 8);
                } else {
                    merge(n, 0xFFL, 0);
                }
            }
        }
    }

    private void merge(int n, long field, int shift) {
        if (shift != 0) {
            code.loadConstant(shift).lshl();
        }
        code.loadConstant(field).land();
        loadReg64(n);
        code.loadConstant(~field).land().lor();
        setReg(n);
    }

    /**
     * Pops a long into the whole of register {@code n}: its local, or {@link Cpu#r} at once. Every
     * write of a register's local other than a reload from {@link Cpu#r} goes through here, so
     * that {@link #written()} knows which registers the region's exit must store back.
     */
    void setReg(int n) {
        if (inLocal(n)) {
            code.lstore(reg(n));
            written |= 1 << n;
        } else {
            code.lstore(REG_VALUE).getstatic(self, "regs", CD_REGS).loadConstant(n).lload(REG_VALUE).lastore();
        }
    }

    /**
     * The registers the emitted code may change: the others' locals still hold what {@link Cpu#r}
     * holds, so the exit stores only these (a register stored back needlessly stays live in the
     * JIT's code from entry to exit, and a region's loop then spills its values to the stack).
     */
    int written() {
        return written;
    }

    void mask(int size) {
        if (size < 8) {
            code.loadConstant(Flags.mask64(size)).land();
        }
    }

    void signExtend(int size) {
        switch (size) {
            case 1 -> code.l2i().i2b().i2l();
            case 2 -> code.l2i().i2s().i2l();
            case 4 -> code.l2i().i2l();
            default -> {
            }
        }
    }

    // ---- memory ----

    /** Pushes the effective address of the ModRM memory operand. */
    void effectiveAddress(DecodedInsn d, int i) {
        if (d.base == DecodedInsn.BASE_RIP) {
            code.loadConstant(region.next(i) + d.disp);
        } else {
            code.loadConstant((long) d.disp);
            if (d.base >= 0) {
                loadReg64(d.base);
                code.ladd();
            }
        }
        if (d.index >= 0) {
            loadReg64(d.index);
            if (d.scale != 0) {
                code.loadConstant(d.scale).lshl();
            }
            code.ladd();
        }
        if (!d.addr64()) {
            code.loadConstant(0xFFFF_FFFFL).land();
        }
    }

    /**
     * Pushes the linear address of the memory operand. A non-canonical one faults in the MMU's
     * slow path (it never hits the TLB); only SS references are checked here, theirs being #SS.
     */
    void linear(DecodedInsn d, int i) {
        effectiveAddress(d, i);
        if (d.seg == Cpu.FS || d.seg == Cpu.GS) {
            code.aload(CPU).getfield(CD_CPU, d.seg == Cpu.FS ? "fsBase" : "gsBase", CD_long).ladd();
        }
        if (d.seg == Cpu.SS) {
            canonicalStack();
        }
        accessGroup = pages.groupOf(i);
    }

    /** Forgets the last operand's group: the instruction about to be emitted has its own. */
    void startInstruction() {
        accessGroup = -1;
    }

    /**
     * Looks up the pages of the groups ({@link LoopPages}) of the loops entered at instruction
     * {@code entry}: each group's addend, or {@link Mmu#NO_PAGE} when its accesses must take
     * their usual path.
     */
    void loopPages(int entry) {
        for (int g : pages.preheaderGroups(entry)) {
            LoopPages.Group group = pages.groups()[g];
            code.getstatic(self, "tlb", CD_TLB).loadConstant(tagMask).loadConstant(group.low());
            if (group.base() >= 0 && group.base() != DecodedInsn.BASE_RIP) { // else low is the address
                loadReg64(group.base());
                code.ladd();
            }
            if (group.index() >= 0 && group.indexBound() < 0) { // a bounded index is in the span
                loadReg64(group.index());
                code.loadConstant(group.scale()).lshl().ladd();
            }
            code.loadConstant(group.span()).loadConstant(group.write() ? 1 : 0)
                    .invokestatic(CD_MMU, "loopPage", MTD_LOOP_PAGE).lstore(PAGE0 + 2 * g);
        }
    }

    /** The current operand's group, checked to allow writing when {@code write}: -1 when none. */
    private int group(int linSlot, boolean write) {
        if (accessGroup < 0 || linSlot != T1) {
            return -1;
        }
        if (write && !pages.groups()[accessGroup].write()) {
            throw new IllegalStateException("a write through a read-only loop page group");
        }
        return accessGroup;
    }

    /** Checks the stack address on top of the operand stack: #SS(0) if it is not canonical. */
    void canonicalStack() {
        code.invokestatic(CD_EXEC64, "canonicalStack", MTD_CANONICAL);
    }

    /** Pushes the ModRM operand: a register or memory. */
    void readRm(DecodedInsn d, int i, int size) {
        if (d.mod == 3) {
            loadReg(d.rm, size, d);
            return;
        }
        linear(d, i);
        code.lstore(T1);
        readAt(T1, size, false);
    }

    /** Writes the long in {@code valueSlot} to the ModRM operand. */
    void writeRm(DecodedInsn d, int i, int size, int valueSlot) {
        if (d.mod == 3) {
            code.lload(valueSlot);
            storeReg(d.rm, size, d);
            return;
        }
        linear(d, i);
        code.lstore(T1);
        writeAt(T1, size, valueSlot);
    }

    /**
     * Pushes memory at the linear address in {@code linSlot}, zero-extended; checks write access
     * first when {@code rmw}. Straight to the MMU's accessor for the size: few bytecodes, so that
     * the JIT inlines every access of a large region; an operand of a {@link LoopPages} group
     * tries its loop's page first.
     */
    void readAt(int linSlot, int size, boolean rmw) {
        Runnable usual = () -> {
            code.aload(MMU).getstatic(self, "tlb", CD_TLB).loadConstant(tagMask).lload(linSlot);
            code.invokestatic(CD_MMU, (rmw ? "loadRmw" : "load") + 8 * size, size == 8 ? MTD_LOAD_LONG : MTD_LOAD_INT);
            widen(size);
        };
        if (group(linSlot, rmw) < 0) {
            usual.run();
            return;
        }
        throughLoopPage(linSlot, () -> {
            code.invokestatic(CD_MMU, "hostLoad" + 8 * size, size == 8 ? MTD_HOST_LOAD_LONG : MTD_HOST_LOAD_INT);
            widen(size);
        }, usual);
    }

    /** Zero-extends a load's int result of {@code size} bytes to a long. */
    private void widen(int size) {
        if (size < 8) {
            code.i2l();
            mask(size);
        }
    }

    void writeAt(int linSlot, int size, int valueSlot) {
        Runnable usual = () -> {
            code.aload(MMU).getstatic(self, "tlb", CD_TLB).loadConstant(tagMask).lload(linSlot).lload(valueSlot);
            if (size == 8) {
                code.invokestatic(CD_MMU, "regionStore64", MTD_STORE_LONG);
            } else {
                code.l2i().invokestatic(CD_MMU, "regionStore" + 8 * size, MTD_STORE_INT);
            }
        };
        if (group(linSlot, true) < 0) {
            usual.run();
            return;
        }
        throughLoopPage(linSlot, () -> {
            code.lload(valueSlot);
            if (size == 8) {
                code.invokestatic(CD_MMU, "hostStore64", MTD_HOST_STORE_LONG);
            } else {
                code.l2i().invokestatic(CD_MMU, "hostStore" + 8 * size, MTD_HOST_STORE_INT);
            }
        }, usual);
    }

    /**
     * The access at the linear address in {@code linSlot} both ways: {@code hoisted} with the host
     * address pushed (the current operand's loop page plus the address) when that page serves,
     * else {@code usual}.
     */
    private void throughLoopPage(int linSlot, Runnable hoisted, Runnable usual) {
        Label usualPath = code.newLabel();
        Label done = code.newLabel();
        int page = PAGE0 + 2 * accessGroup;
        code.lload(page).loadConstant(Mmu.NO_PAGE).lcmp().ifeq(usualPath);
        code.lload(page).lload(linSlot).ladd();
        hoisted.run();
        code.goto_(done);
        code.labelBinding(usualPath);
        usual.run();
        code.labelBinding(done);
    }

    /** Pushes {@code size} bytes from the top of the stack (RSP unchanged). */
    void stackRead(int size) {
        accessGroup = -1;
        loadReg64(Cpu.ESP);
        canonicalStack();
        code.lstore(T1);
        readAt(T1, size, false);
    }

    /** Pushes the long in T0; RSP moves only once the write succeeded. */
    void push(int size) {
        accessGroup = -1;
        loadReg64(Cpu.ESP);
        code.loadConstant((long) size).lsub();
        canonicalStack();
        code.lstore(T1);
        writeAt(T1, size, T0);
        loadReg64(Cpu.ESP);
        code.loadConstant((long) size).lsub();
        setReg(Cpu.ESP);
    }
}
