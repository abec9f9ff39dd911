package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.RegionOperands.CD_CPU;
import static io.p2vkit.hv.emu.RegionOperands.CD_EXEC64;
import static io.p2vkit.hv.emu.RegionOperands.CD_MMU;
import static io.p2vkit.hv.emu.RegionOperands.CPU;
import static io.p2vkit.hv.emu.RegionOperands.FA;
import static io.p2vkit.hv.emu.RegionOperands.FB;
import static io.p2vkit.hv.emu.RegionOperands.FRES;
import static io.p2vkit.hv.emu.RegionOperands.GEN;
import static io.p2vkit.hv.emu.RegionOperands.LIMIT;
import static io.p2vkit.hv.emu.RegionOperands.NEXT;
import static io.p2vkit.hv.emu.RegionOperands.PC;
import static io.p2vkit.hv.emu.RegionOperands.REGS;
import static io.p2vkit.hv.emu.RegionOperands.RETIRED;
import static io.p2vkit.hv.emu.RegionOperands.T0;
import static io.p2vkit.hv.emu.RegionOperands.T1;
import static io.p2vkit.hv.emu.RegionOperands.T2;
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
 * Translates the instructions of a {@link RegionScan.Region} into the body of one JVM method.
 * The few guest registers the region uses most live in JVM locals from entry to exit, so the
 * JVM's JIT keeps them in host registers, the others in {@link Cpu#r} (see
 * {@link RegionScan#LOCAL_REGISTERS}); memory goes through the accessors of {@link Exec64} and the
 * {@link Mmu}'s TLB, which the JIT inlines. Flags are recorded in {@link Flags} only where the
 * scan says a later instruction reads them there; otherwise they stay pending in locals
 * ({@link PendingFlags}) until the region's exit, and a condition right after the instruction
 * that set them is tested from its operands. Registers, memory and the method's locals are
 * {@link RegionOperands}'. Every instruction that may fault first notes its
 * address, and registers change only after its memory accesses, so the method's exception
 * handler can hand the interpreter the exact state before the faulting instruction.
 */
final class RegionEmitter {

    private static final ClassDesc CD_FLAGS = ClassDesc.of("io.p2vkit.hv.emu.Flags");
    private static final ClassDesc CD_ARITH64 = ClassDesc.of("io.p2vkit.hv.emu.Arith64");
    private static final ClassDesc CD_BITS64 = ClassDesc.of("io.p2vkit.hv.emu.Bits64");
    static final ClassDesc CD_HANDLER = ClassDesc.of("io.p2vkit.hv.emu.Handler");
    static final ClassDesc CD_CODE_PAGE = ClassDesc.of("io.p2vkit.hv.emu.CodePage");
    static final ClassDesc CD_INSN = ClassDesc.of("io.p2vkit.hv.emu.decode.DecodedInsn");
    private static final ClassDesc CD_LONGS = ClassDesc.of("java.lang.Long");
    private static final ClassDesc CD_MATH = ClassDesc.of("java.lang.Math");
    private static final ClassDesc CD_INTS = ClassDesc.of("java.lang.Integer");
    private static final MethodTypeDesc MTD_SHIFT = MethodTypeDesc.of(CD_long, CD_CPU, CD_int, CD_int, CD_long, CD_int);
    private static final MethodTypeDesc MTD_IMUL = MethodTypeDesc.of(CD_long, CD_CPU, CD_int, CD_long, CD_long);
    private static final MethodTypeDesc MTD_SET = MethodTypeDesc.of(CD_void, CD_int, CD_int, CD_long, CD_long, CD_long);

    private final CodeBuilder code;
    private final RegionOperands ops;
    private final RegionSse sse;
    private final ClassDesc self;
    private final RegionScan.Region region;
    private final Label[] labels;
    /** The lookups hoisted out of loops ({@link LoopPages}), made where control enters each loop. */
    private final LoopPages pages;
    /** Per instruction where control may enter a loop with hoisted lookups, the preheader making them (else null). */
    private final Label[] preheaders;
    private final Label exit;
    /** The lazy kind and size of the flags the locals FA/FB/FRES describe, or NONE. */
    private int pendingKind = Flags.NONE;
    private int pendingSize;
    /** What the local PEND holds on the path being emitted ({@link PendingFlags}), or UNKNOWN after a join. */
    private int pend = UNKNOWN;
    private static final int UNKNOWN = -1;

    RegionEmitter(CodeBuilder code, ClassDesc self, RegionScan.Region region, Label exit, boolean user) {
        this.code = code;
        this.pages = LoopPages.plan(region);
        this.ops = new RegionOperands(code, region, self, user, pages);
        this.sse = new RegionSse(code, ops);
        this.self = self;
        this.region = region;
        this.exit = exit;
        this.labels = new Label[region.size()];
        this.preheaders = new Label[region.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = code.newLabel();
            preheaders[i] = pages.hasPreheader(i) ? code.newLabel() : null;
        }
    }

    /** Emits every instruction; the entry must jump to {@link #entry()}. */
    void emitBody() {
        for (int i = 0; i < region.size(); i++) {
            emit(i);
        }
    }

    Label entry() {
        int start = region.startIndex();
        return preheaders[start] != null ? preheaders[start] : labels[start];
    }

    /**
     * Where the edge from instruction {@code from} to {@code to} lands: the preheader there when
     * the edge enters a loop, else the instruction itself.
     */
    private Label to(int from, int to) {
        return preheaders[to] != null && pages.entersLoop(from, to) ? preheaders[to] : labels[to];
    }

    /** The registers the emitted body may change ({@link RegionOperands#written()}): complete once it is emitted. */
    int written() {
        return ops.written();
    }

    private void emit(int i) {
        DecodedInsn d = region.insns()[i];
        if (preheaders[i] != null) {
            code.labelBinding(preheaders[i]); // the instruction before falls in here only to enter the loop
            ops.loopPages(i);
        }
        code.labelBinding(labels[i]);
        ops.startInstruction();
        if (region.label()[i]) {
            pendingKind = Flags.NONE; // a join point: the locals may describe either path's flags
            pend = UNKNOWN;
        }
        if (RegionTraits.mayFault(d) || region.crosses(i)) {
            code.loadConstant(region.address()[i]).lstore(PC);
        }
        if (region.crosses(i)) {
            tailGuard(region.address()[i]); // its end is on the tail page
        }
        boolean record = region.recordFlags()[i];
        int op = d.opcode;
        if (op < 0x40 || op == 0x80 || op == 0x81 || op == 0x83) {
            alu(d, i, record);
        } else if (RegionTraits.isJcc(op)) {
            code.iinc(RETIRED, 1);
            Label taken = code.newLabel();
            branchIf(op & 0xF, taken);
            if (region.fall()[i] == i + 1 && !region.entersTail(i, i + 1)) {
                code.goto_(to(i, i + 1)); // the taken path is emitted next
            } else {
                fallThrough(i);
            }
            code.labelBinding(taken);
            jump(i, region.jump()[i], region.target(i));
            return;
        } else if (RegionTraits.isJmp(op)) {
            code.iinc(RETIRED, 1);
            jump(i, region.jump()[i], region.target(i));
            return;
        } else if (RegionTraits.leaves(d)) {
            leave(d, i);
            code.iinc(RETIRED, 1);
            code.goto_(exit);
            return;
        } else {
            other(d, i, record);
        }
        code.iinc(RETIRED, 1);
        if (RegionTraits.stores(d) && (RegionTraits.delegated(d) || RegionSse.inline(d))) {
            // Through the interpreter's accessors a store into code (this region's page included)
            // drops decoded code: leave now. The region's own stores (Mmu.regionStore32...) stop
            // before such a store instead, so they need no check (StoreIntoCode).
            Label same = code.newLabel();
            code.aload(RegionOperands.MMU).getfield(CD_MMU, "generation", CD_int).iload(GEN).if_icmpeq(same);
            exitTo(region.next(i));
            code.labelBinding(same);
        }
        fallThrough(i);
    }

    private void fallThrough(int i) {
        int f = region.fall()[i];
        if (f < 0) {
            exitTo(region.next(i));
        } else if (region.entersTail(i, f)) {
            tailGuard(region.next(i));
            code.goto_(to(i, f));
        } else if (f != i + 1 || preheaders[f] != null && !pages.entersLoop(i, f)) {
            code.goto_(to(i, f)); // not the next instruction, or round its loop past the preheader
        }
    }

    /** Continues at region instruction {@code j}, or exits to {@code target} when it is outside. */
    private void jump(int i, int j, long target) {
        if (j >= 0 && region.entersTail(i, j)) {
            tailGuard(target);
        }
        if (j < 0) {
            exitTo(target);
        } else if (region.address()[j] <= region.address()[i]) {
            // A backward edge closes every loop: go round again only while the budget allows a
            // whole pass through the region.
            code.iload(RETIRED).iload(LIMIT).if_icmple(to(i, j));
            exitTo(target);
        } else {
            code.goto_(to(i, j));
        }
    }

    /**
     * Before code at {@code target} that is on the region's tail page (reached from its own page,
     * or an instruction ending there): unless that linear page is still the code page the region
     * was built from (not rewritten, not remapped), leave for the interpreter at {@code target},
     * which decodes afresh. Looking the page up faults as fetching there would.
     */
    private void tailGuard(long target) {
        // Checked once per MMU generation (no translation or code page has gone since): the
        // region's own vCPU alone runs it, so a static field of its class remembers when.
        Label same = code.newLabel();
        Label checked = code.newLabel();
        code.aload(RegionOperands.MMU).getfield(CD_MMU, "generation", CD_int)
                .getstatic(self, "tailGeneration", CD_int).if_icmpeq(same);
        code.loadConstant(target).lstore(PC);
        code.aload(RegionOperands.CPU).loadConstant(region.tailBase())
                .invokevirtual(CD_CPU, "codePage", MethodTypeDesc.of(CD_CODE_PAGE, CD_long))
                .getstatic(self, "tail", CD_CODE_PAGE).if_acmpeq(checked);
        exitTo(target);
        code.labelBinding(checked);
        code.aload(RegionOperands.MMU).getfield(CD_MMU, "generation", CD_int).putstatic(self, "tailGeneration", CD_int);
        code.labelBinding(same);
    }

    private void exitTo(long rip) {
        code.loadConstant(rip).lstore(NEXT).goto_(exit);
    }

    // ---- instructions ----

    private static int byteOrV(DecodedInsn d) {
        return (d.opcode & 1) == 0 ? 1 : d.opSize();
    }

    private void alu(DecodedInsn d, int i, boolean record) {
        int op = RegionTraits.aluOp(d);
        int form = d.opcode < 0x40 ? d.opcode & 7 : -1;
        int size = d.opcode < 0x40 ? byteOrV(d) : d.opcode == 0x80 ? 1 : d.opSize();
        boolean toRm = form < 2;               // 00/01 forms and group 1 write their ModRM operand
        boolean memDest = toRm && d.isMemory();
        if (RegionTraits.withCarry(d)) {
            carryIn(); // from the locals of the instruction before, which the operands replace
        }
        if (form >= 4) {
            ops.loadReg(Cpu.EAX, size, d);
        } else if (memDest) {
            ops.linear(d, i);
            code.lstore(T1);
            ops.readAt(T1, size, op != Alu.CMP);
        } else if (toRm) {
            ops.loadReg(d.rm, size, d);
        } else {
            ops.loadReg(d.reg, size, d);
        }
        if (form >= 4 || form < 0) {
            code.loadConstant(d.imm & Flags.mask64(size));
        } else if (toRm) {
            ops.loadReg(d.reg, size, d);
        } else {
            ops.readRm(d, i, size); // may fault: FA and FB change only after it
        }
        code.lstore(FB).lstore(FA);
        operate(op, size, record);
        if (op == Alu.CMP) {
            return;
        }
        if (memDest) {
            ops.writeAt(T1, size, FRES);
        } else {
            code.lload(FRES);
            ops.storeReg(form >= 4 ? Cpu.EAX : toRm ? d.rm : d.reg, size, d);
        }
    }

    /** FRES = FA op FB at {@code size}, flags recorded when {@code record}. */
    private void operate(int op, int size, boolean record) {
        if (op == Alu.ADC || op == Alu.SBB) {
            withCarry(op == Alu.SBB, size, record);
            return;
        }
        code.lload(FA).lload(FB);
        switch (op) {
            case Alu.ADD -> code.ladd();
            case Alu.OR -> code.lor();
            case Alu.AND -> code.land();
            case Alu.XOR -> code.lxor();
            default -> code.lsub(); // SUB, CMP
        }
        int kind = RegionTraits.aluKind(op); // the same kind the scan decided the flags' fate with
        ops.mask(size);
        code.lstore(FRES);
        produced(kind, size, record);
    }

    /** T2 = CF (0 or 1) before an ADC or SBB, tested as a JB tests it: from the locals where they describe it. */
    private void carryIn() {
        Label set = code.newLabel();
        Label done = code.newLabel();
        branchIf(2, set);
        code.lconst_0().lstore(T2).goto_(done);
        code.labelBinding(set);
        code.lconst_1().lstore(T2);
        code.labelBinding(done);
    }

    /**
     * FRES = FA + FB + T2 (ADC) or FA - FB - T2 (SBB). The flags are recorded when {@code record};
     * else they stay pending, the carry taken in (T2) kept in PEND's recipe ({@link PendingFlags#withCarry}).
     */
    private void withCarry(boolean subtract, int size, boolean record) {
        int kind = subtract ? Flags.SBB : Flags.ADC;
        code.lload(FA).lload(FB).lload(T2);
        if (subtract) {
            code.ladd().lsub();
        } else {
            code.ladd().ladd();
        }
        ops.mask(size);
        code.lstore(FRES);
        if (record) {
            code.aload(CPU).getfield(CD_CPU, "flags", CD_FLAGS).loadConstant(kind)
                    .loadConstant(size).lload(FA).lload(FB).lload(FRES).lload(T2).l2i()
                    .invokevirtual(CD_FLAGS, "setWithCarry",
                            MethodTypeDesc.of(CD_void, CD_int, CD_int, CD_long, CD_long, CD_long, CD_int));
            flagsInFlags();
            return;
        }
        code.loadConstant(PendingFlags.withCarry(kind, size)).lload(T2).l2i()
                .loadConstant(PendingFlags.CARRY_IN_SHIFT).ishl().ior().istore(RegionOperands.PEND);
        pend = UNKNOWN; // a recipe known only at run time
        pendingKind = kind;
        pendingSize = size;
    }

    /** The locals now describe a {@code kind} result; Flags gets it too when {@code record}. */
    private void produced(int kind, int size, boolean record) {
        if (record) {
            code.aload(CPU).getfield(CD_CPU, "flags", CD_FLAGS).loadConstant(kind).loadConstant(size)
                    .lload(FA).lload(FB).lload(FRES)
                    .invokevirtual(CD_FLAGS, kind == Flags.INC || kind == Flags.DEC ? "set" : "record", MTD_SET);
        }
        pendingKind = kind;
        pendingSize = size;
        setPending(record || kind == Flags.NONE ? PendingFlags.NONE : PendingFlags.lazy(kind, size));
    }

    /** Flags holds the flags; the locals describe none. */
    private void flagsInFlags() {
        pendingKind = Flags.NONE;
        setPending(PendingFlags.NONE);
    }

    /**
     * The flags now pending in the locals. Set once the operand and result are in FA and FRES,
     * after the instruction's accesses that may fault (the store of a read-modify-write cannot:
     * its read checked the write), so a fault still sees the flags from before it.
     */
    private void setPending(int recipe) {
        if (recipe != pend) {
            code.loadConstant(recipe).istore(RegionOperands.PEND);
            pend = recipe;
        }
    }

    private void other(DecodedInsn d, int i, boolean record) {
        int op = d.opcode;
        int ext = d.reg & 7;
        switch (op) {
            case 0x84, 0x85 -> {
                int size = byteOrV(d);
                ops.readRm(d, i, size);
                code.lstore(FA);
                ops.loadReg(d.reg, size, d);
                code.lstore(FB);
                operate(Alu.AND, size, record);
            }
            case 0xA8, 0xA9 -> {
                int size = byteOrV(d);
                ops.loadReg(Cpu.EAX, size, d);
                code.lstore(FA).loadConstant(d.imm & Flags.mask64(size)).lstore(FB);
                operate(Alu.AND, size, record);
            }
            case 0xF6, 0xF7 -> {
                int size = byteOrV(d);
                if ((ext == 4 || ext == 5) && size >= 4) {
                    multiply(d, i, size, ext == 5, record);
                } else if (ext == 6 && size >= 4) {
                    divide(d, i, size);
                } else if (ext >= 4) {
                    mulDiv(d, i, size, ext);
                } else {
                    group3(d, i, size, ext, record);
                }
            }
            case 0xFE, 0xFF -> {
                if (ext == 6) {
                    ops.readRm(d, i, d.opSize());
                    code.lstore(T0);
                    ops.push(d.opSize());
                } else {
                    incDec(d, i, op == 0xFE ? 1 : d.opSize(), ext == 0, record);
                }
            }
            case 0x88, 0x89 -> {
                ops.loadReg(d.reg, byteOrV(d), d);
                code.lstore(T0);
                ops.writeRm(d, i, byteOrV(d), T0);
            }
            case 0x8A, 0x8B -> {
                ops.readRm(d, i, byteOrV(d));
                ops.storeReg(d.reg, byteOrV(d), d);
            }
            case 0xC6, 0xC7 -> {
                code.loadConstant(d.imm & Flags.mask64(byteOrV(d))).lstore(T0);
                ops.writeRm(d, i, byteOrV(d), T0);
            }
            case 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7 -> {
                code.loadConstant((long) (d.imm & 0xFF));
                ops.storeReg(d.rm, 1, d);
            }
            case 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF -> {
                int size = d.opSize();
                code.loadConstant(size == 8 ? d.imm64() : d.imm & Flags.mask64(size));
                ops.storeReg(d.rm, size, d);
            }
            case 0x8D -> {
                ops.effectiveAddress(d, i);
                ops.storeReg(d.reg, d.opSize(), d);
            }
            case 0x63 -> {
                int size = d.opSize();
                ops.readRm(d, i, size == 2 ? 2 : 4);
                if (size == 8) {
                    code.l2i().i2l();
                }
                ops.storeReg(d.reg, size, d);
            }
            case 0x1B6, 0x1B7, 0x1BE, 0x1BF -> {
                int from = (op & 1) == 0 ? 1 : 2;
                ops.readRm(d, i, from);
                if (op >= 0x1BE) {
                    ops.signExtend(from);
                }
                ops.storeReg(d.reg, d.opSize(), d);
            }
            case 0x98 -> {
                int size = d.opSize();
                int from = size / 2;
                ops.loadReg(Cpu.EAX, from, d);
                ops.signExtend(from);
                ops.storeReg(Cpu.EAX, size, d);
            }
            case 0x99 -> {
                int size = d.opSize();
                ops.loadReg(Cpu.EAX, size, d);
                ops.signExtend(size);
                code.loadConstant(63).lshr();
                ops.storeReg(Cpu.EDX, size, d);
            }
            case 0x86, 0x87 -> exchange(d.reg, d.rm, byteOrV(d), d);
            case 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97 -> {
                if (d.rm != Cpu.EAX) {
                    exchange(Cpu.EAX, d.rm, d.opSize(), d);
                }
            }
            case 0x118, 0x119, 0x11A, 0x11B, 0x11C, 0x11D, 0x11E, 0x11F -> {
                // prefetches and hint NOPs: their operand is never accessed
            }
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57 -> {
                ops.loadReg(d.rm, d.opSize(), d);
                code.lstore(T0);
                ops.push(d.opSize());
            }
            case 0x68, 0x6A -> {
                code.loadConstant(d.imm & Flags.mask64(d.opSize())).lstore(T0);
                ops.push(d.opSize());
            }
            case 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F -> {
                int size = d.opSize();
                ops.stackRead(size);
                code.lstore(T0);
                ops.loadReg64(Cpu.ESP);
                code.loadConstant((long) size).ladd();
                ops.setReg(Cpu.ESP);
                code.lload(T0);
                ops.storeReg(d.rm, size, d);
            }
            case 0x69, 0x6B, 0x1AF -> imul(d, i, record);
            case 0x1BC, 0x1BD -> bitScan(d, i, record);
            case 0x1A3, 0x1AB, 0x1B3, 0x1BB, 0x1BA -> {
                if (RegionTraits.isBitOp(d)) {
                    bitTest(d);
                } else {
                    delegate(d, i); // a memory operand: the bit offset may reach other bytes
                }
            }
            case 0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3 -> shift(d, i, record);
            case 0x1C8, 0x1C9, 0x1CA, 0x1CB, 0x1CC, 0x1CD, 0x1CE, 0x1CF -> {
                int size = d.opSize();
                ops.loadReg(d.rm, size, d);
                if (size == 8) {
                    code.invokestatic(CD_LONGS, "reverseBytes", MethodTypeDesc.of(CD_long, CD_long));
                } else {
                    code.l2i().invokestatic(CD_INTS, "reverseBytes", MethodTypeDesc.of(CD_int, CD_int)).i2l();
                }
                ops.storeReg(d.rm, size, d);
            }
            default -> {
                if (RegionTraits.isCmov(op)) {
                    cmov(d, i);
                } else if (RegionTraits.isSetcc(op)) {
                    Label one = code.newLabel();
                    Label done = code.newLabel();
                    branchIf(op & 0xF, one);
                    code.lconst_0().lstore(T0).goto_(done);
                    code.labelBinding(one);
                    code.lconst_1().lstore(T0);
                    code.labelBinding(done);
                    ops.writeRm(d, i, 1, T0);
                } else if (RegionSse.inline(d)) {
                    sse.emit(d, i);
                    if (RegionSse.writesFlags(d)) {
                        flagsInFlags(); // COMIS/UCOMIS: the flags are in Flags
                    }
                } else if (RegionTraits.delegated(d)) {
                    delegate(d, i);
                } else {
                    throw new IllegalStateException("not translatable: " + d);
                }
            }
        }
    }

    /**
     * Runs the interpreter's handler for instruction {@code i} (a {@link RegionTraits#delegated}
     * one): the registers go back to {@link Cpu#r} before and are read again after, RIP and the
     * rollback state are set as the interpreter sets them, and the handler and the decoded
     * instruction are constants of the class, so that the JIT can inline the call.
     */
    private void delegate(DecodedInsn d, int i) {
        RegionCompiler.loadRegs(code, self);
        RegionCompiler.writeBack(code, region.locals());
        code.aload(CPU).loadConstant(region.next(i)).putfield(CD_CPU, "rip", CD_long);
        code.aload(CPU).loadConstant((int) region.next(i)).putfield(CD_CPU, "eip", CD_int);
        code.aload(CPU).loadConstant(region.address()[i]).putfield(CD_CPU, "insnRip", CD_long);
        code.aload(CPU).loadConstant((int) region.address()[i]).putfield(CD_CPU, "insnEip", CD_int);
        code.aload(CPU).aload(REGS).loadConstant(Cpu.ESP).laload().putfield(CD_CPU, "insnEsp", CD_long);
        code.getstatic(self, "h" + i, CD_HANDLER).aload(CPU).getstatic(self, "d" + i, CD_INSN)
                .invokeinterface(CD_HANDLER, "exec", MethodTypeDesc.of(CD_void, CD_CPU, CD_INSN));
        RegionCompiler.reload(code, region.locals());
        flagsInFlags();
    }

    /**
     * F6/F7 /4-/7: MUL, IMUL, DIV, IDIV. The operand is read first (it may fault); only RAX and
     * RDX go through {@link Cpu#r} for {@link Arith64#mulDiv(Cpu, int, int, long)}, which writes
     * them there (a #DE leaves them as they were) and sets the flags of a multiply in Flags.
     */
    private void mulDiv(DecodedInsn d, int i, int size, int ext) {
        ops.readRm(d, i, size);
        code.lstore(T0);
        mulDivCall(size, ext);
    }

    /** {@link #mulDiv} once the source is in T0. */
    private void mulDivCall(int size, int ext) {
        RegionCompiler.loadRegs(code, self);
        int inLocals = region.locals() & (1 << Cpu.EAX | 1 << Cpu.EDX);
        RegionCompiler.writeBack(code, inLocals);
        code.aload(CPU).loadConstant(ext).loadConstant(size).lload(T0)
                .invokestatic(CD_ARITH64, "mulDiv", MethodTypeDesc.of(CD_void, CD_CPU, CD_int, CD_int, CD_long));
        RegionCompiler.reload(code, inLocals);
        if (ext <= 5) {
            flagsInFlags(); // a multiply's flags are in Flags now
        }
    }

    /**
     * One-operand MUL or IMUL ({@code signed}) of 4 or 8 bytes: RDX:RAX (EDX:EAX, zero-extended)
     * = RAX * source, computed in place; the flags are IMUL's recipe (the low half in FRES, FA 1
     * when the high half is significant), which is exactly what the interpreter's multiply sets.
     */
    private void multiply(DecodedInsn d, int i, int size, boolean signed, boolean record) {
        ops.readRm(d, i, size);
        code.lstore(T0);
        if (size == 8) {
            ops.loadReg64(Cpu.EAX);
            code.lload(T0).invokestatic(CD_MATH, signed ? "multiplyHigh" : "unsignedMultiplyHigh",
                    MethodTypeDesc.of(CD_long, CD_long, CD_long)).lstore(T1);
            ops.loadReg64(Cpu.EAX);
            code.lload(T0).lmul().lstore(FRES);
            code.lload(T1); // significant: the high half is not the low half's sign (signed) or not zero
            if (signed) {
                code.lload(FRES).loadConstant(63).lshr();
            } else {
                code.lconst_0();
            }
        } else {
            ops.loadReg64(Cpu.EAX);
            extend32(signed);
            code.lload(T0);
            extend32(signed);
            code.lmul().lstore(T1); // the 64-bit product
            code.lload(T1);
            ops.mask(4);
            code.lstore(FRES);
            code.lload(T1).lload(T1); // significant: the product is not its low half extended
            extend32(signed);
            code.lload(T1).loadConstant(32).lushr();
            ops.mask(4);
            code.lstore(T1);
        }
        Label same = code.newLabel();
        Label done = code.newLabel();
        code.lcmp().ifeq(same).lconst_1().lstore(FA).goto_(done);
        code.labelBinding(same);
        code.lconst_0().lstore(FA);
        code.labelBinding(done);
        code.lload(FRES);
        ops.setReg(Cpu.EAX);
        code.lload(T1);
        ops.setReg(Cpu.EDX);
        if (record) {
            code.aload(CPU).loadConstant(size).lload(FRES).lload(FA).l2i().invokestatic(CD_ARITH64, "imulFlags",
                    MethodTypeDesc.of(CD_void, CD_CPU, CD_int, CD_long, CD_boolean));
            flagsInFlags();
        } else {
            pendingKind = Flags.NONE;
            setPending(PendingFlags.imul(size));
        }
    }

    /** Sign- or zero-extends the low 32 bits of the long on the stack. */
    private void extend32(boolean signed) {
        if (signed) {
            ops.signExtend(4);
        } else {
            ops.mask(4);
        }
    }

    /**
     * DIV of 4 or 8 bytes: computed in place when RDX (EDX) is zero and the divisor is not, as
     * compiled C divides; otherwise {@link #mulDiv} (#DE, a 128-bit dividend). Flags unchanged,
     * as the interpreter leaves them.
     */
    private void divide(DecodedInsn d, int i, int size) {
        ops.readRm(d, i, size);
        code.lstore(T0);
        Label slow = code.newLabel();
        Label done = code.newLabel();
        code.lload(T0);
        ops.mask(size);
        code.lconst_0().lcmp().ifeq(slow);
        ops.loadReg64(Cpu.EDX);
        ops.mask(size);
        code.lconst_0().lcmp().ifne(slow);
        if (size == 8) {
            MethodTypeDesc binary = MethodTypeDesc.of(CD_long, CD_long, CD_long);
            ops.loadReg64(Cpu.EAX);
            code.lload(T0).invokestatic(CD_LONGS, "remainderUnsigned", binary).lstore(T1);
            ops.loadReg64(Cpu.EAX);
            code.lload(T0).invokestatic(CD_LONGS, "divideUnsigned", binary);
        } else {
            ops.loadReg64(Cpu.EAX); // EAX; the divisor in T0 is zero-extended already (readRm)
            ops.mask(4);
            code.lstore(T2);
            code.lload(T2).lload(T0).lrem().lstore(T1);
            code.lload(T2).lload(T0).ldiv();
        }
        ops.setReg(Cpu.EAX);
        code.lload(T1);
        ops.setReg(Cpu.EDX);
        code.goto_(done);
        code.labelBinding(slow);
        mulDivCall(size, 6);
        code.labelBinding(done);
    }

    /**
     * BSF/BSR: flags as TEST of the source ({@link Bits64#bitScan}); a zero source leaves the
     * destination (all 64 bits) alone.
     */
    private void bitScan(DecodedInsn d, int i, boolean record) {
        int size = d.opSize();
        ops.readRm(d, i, size);
        code.lstore(T0);
        code.lload(T0).lstore(FA).lconst_0().lstore(FB).lload(T0).lstore(FRES);
        produced(Flags.LOGIC, size, record);
        Label done = code.newLabel();
        code.lload(T0).lconst_0().lcmp().ifeq(done);
        if (d.opcode == 0x1BC) {
            code.lload(T0).invokestatic(CD_LONGS, "numberOfTrailingZeros", MethodTypeDesc.of(CD_int, CD_long)).i2l();
        } else {
            code.loadConstant(63L).lload(T0)
                    .invokestatic(CD_LONGS, "numberOfLeadingZeros", MethodTypeDesc.of(CD_int, CD_long)).i2l().lsub();
        }
        ops.storeReg(d.reg, size, d);
        code.labelBinding(done);
    }

    /** BT/BTS/BTR/BTC on a register, the bit from a register or an immediate: CF in Flags. */
    private void bitTest(DecodedInsn d) {
        int size = d.opSize();
        int op = d.opcode == 0x1BA ? (d.reg & 7) - 4 : (d.opcode >>> 3) & 3;
        code.aload(CPU).loadConstant(op);
        ops.loadReg(d.rm, size, d);
        if (d.opcode == 0x1BA) {
            code.loadConstant(d.imm & (size * 8 - 1));
        } else {
            ops.loadReg(d.reg, size, d);
            code.l2i().loadConstant(size * 8 - 1).iand();
        }
        code.invokestatic(CD_BITS64, "bitTestValue", MethodTypeDesc.of(CD_long, CD_CPU, CD_int, CD_long, CD_int));
        if (op == 0) {
            code.pop2(); // BT writes no register (a 32-bit one keeps its upper half)
        } else {
            ops.storeReg(d.rm, size, d);
        }
        flagsInFlags();
    }

    /** F6/F7: TEST imm, NOT, NEG. */
    private void group3(DecodedInsn d, int i, int size, int ext, boolean record) {
        if (ext <= 1) {
            ops.readRm(d, i, size);
            code.lstore(FA).loadConstant(d.imm & Flags.mask64(size)).lstore(FB);
            operate(Alu.AND, size, record);
            return;
        }
        readModifyOperand(d, i, size);
        int result = FRES;
        if (ext == 2) {
            // NOT sets no flag: its result must not replace the operands a later condition tests
            code.loadConstant(-1L).lxor();
            ops.mask(size);
            code.lstore(T0);
            result = T0;
        } else {
            code.lstore(FB).lconst_0().lstore(FA);
            operate(Alu.SUB, size, record);
        }
        writeModifiedOperand(d, size, result);
    }

    private void incDec(DecodedInsn d, int i, int size, boolean inc, boolean record) {
        readModifyOperand(d, i, size);
        code.lstore(FA).lconst_1().lstore(FB);
        code.lload(FA).lconst_1();
        if (inc) {
            code.ladd();
        } else {
            code.lsub();
        }
        ops.mask(size);
        code.lstore(FRES);
        produced(inc ? Flags.INC : Flags.DEC, size, record);
        writeModifiedOperand(d, size, FRES);
    }

    /** Pushes the ModRM operand of a read-modify-write; a memory one's address stays in T1, checked for writing. */
    private void readModifyOperand(DecodedInsn d, int i, int size) {
        if (d.isMemory()) {
            ops.linear(d, i);
            code.lstore(T1);
            ops.readAt(T1, size, true);
        } else {
            ops.loadReg(d.rm, size, d);
        }
    }

    /** Writes the long in {@code slot} back to the operand {@link #readModifyOperand} read. */
    private void writeModifiedOperand(DecodedInsn d, int size, int slot) {
        if (d.isMemory()) {
            ops.writeAt(T1, size, slot);
        } else {
            code.lload(slot);
            ops.storeReg(d.rm, size, d);
        }
    }

    private void exchange(int a, int b, int size, DecodedInsn d) {
        ops.loadReg(a, size, d);
        code.lstore(T0);
        ops.loadReg(b, size, d);
        ops.storeReg(a, size, d);
        code.lload(T0);
        ops.storeReg(b, size, d);
    }

    private void cmov(DecodedInsn d, int i) {
        int size = d.opSize();
        ops.readRm(d, i, size);
        code.lstore(T0);
        Label move = code.newLabel();
        Label done = code.newLabel();
        branchIf(d.opcode & 0xF, move);
        if (size == 4) {
            ops.loadReg64(d.reg);
            code.loadConstant(0xFFFF_FFFFL).land(); // zero-extends anyway
            ops.setReg(d.reg);
        }
        code.goto_(done);
        code.labelBinding(move);
        code.lload(T0);
        ops.storeReg(d.reg, size, d);
        code.labelBinding(done);
    }

    private void imul(DecodedInsn d, int i, boolean record) {
        int size = d.opSize();
        ops.readRm(d, i, size);
        code.lstore(FA);
        if (d.opcode == 0x1AF) {
            ops.loadReg(d.reg, size, d);
        } else {
            code.loadConstant((long) d.imm);
        }
        code.lstore(FB);
        if (record) {
            code.aload(CPU).loadConstant(size).lload(FA).lload(FB).invokestatic(CD_ARITH64, "imul", MTD_IMUL);
        } else if (size == 8) {
            code.lload(FA).lload(FB).lmul();
        } else {
            code.lload(FA);
            ops.signExtend(size);
            code.lload(FB);
            ops.signExtend(size);
            code.lmul();
            // FA becomes the exact product: whether it overflowed is worked out from it only
            // where the flags leave the region, and the next flag-setting instruction (a CMP
            // after LZMA's range-coder multiply) usually makes that never.
            code.dup2().lstore(FA);
            ops.mask(size);
        }
        if (!record) {
            code.dup2().lstore(FRES);
        }
        ops.storeReg(d.reg, size, d);
        if (record) {
            flagsInFlags();
        } else {
            pendingKind = Flags.NONE;
            if (size == 8) {
                // FA becomes the overflow bit: no 64-bit local holds a 128-bit product
                code.loadConstant(size).lload(FA).lload(FB)
                        .invokestatic(CD_ARITH64, "imulOverflows", MethodTypeDesc.of(CD_boolean, CD_int, CD_long, CD_long))
                        .i2l().lstore(FA);
                setPending(PendingFlags.imul(size));
            } else {
                setPending(PendingFlags.imulProduct(size));
            }
        }
    }

    /** Group 2: rotates and shifts by a constant or by CL. */
    private void shift(DecodedInsn d, int i, boolean record) {
        int size = byteOrV(d);
        int kind = d.reg & 7;
        int count = RegionTraits.constantCount(d);
        boolean mem = d.isMemory();
        if (mem) {
            ops.linear(d, i);
            code.lstore(T1);
        }
        Label done = code.newLabel();
        if (count < 0) {
            ops.loadReg64(Cpu.ECX);
            code.loadConstant(size == 8 ? 0x3FL : 0x1FL).land().lstore(T2);
            Label nonZero = code.newLabel();
            code.lload(T2).lconst_0().lcmp().ifne(nonZero);
            countZero(d, size, mem);
            code.goto_(done);
            code.labelBinding(nonZero);
        } else if (count == 0) {
            countZero(d, size, mem);
            return;
        }
        if (mem) {
            ops.readAt(T1, size, true);
        } else {
            ops.loadReg(d.rm, size, d);
        }
        code.lstore(FA);
        boolean pure = count > 0 && kind != 2 && kind != 3 && !record; // RCL and RCR read CF
        if (pure) {
            pureShift(kind, size, count);
        } else {
            code.aload(CPU).loadConstant(kind).loadConstant(size).lload(FA);
            if (count < 0) {
                code.lload(T2).l2i();
            } else {
                code.loadConstant(count);
            }
            code.invokestatic(CD_ARITH64, "shift", MTD_SHIFT);
        }
        code.lstore(FRES);
        writeModifiedOperand(d, size, FRES);
        code.labelBinding(done);
        if (pure) {
            pendingKind = Flags.NONE;
            setPending(PendingFlags.shift(kind, size, count));
        } else {
            flagsInFlags();
        }
    }

    /** A shift by zero changes no flag, yet a memory operand is read and a 32-bit register zero-extended. */
    private void countZero(DecodedInsn d, int size, boolean mem) {
        if (mem) {
            ops.readAt(T1, size, false);
            code.pop2();
        } else if (size == 4) {
            ops.loadReg64(d.rm);
            code.loadConstant(0xFFFF_FFFFL).land();
            ops.setReg(d.rm);
        }
    }

    /** ROL, ROR, SHL, SHR, SAR of FA by a non-zero constant, without flags. */
    private void pureShift(int kind, int size, int count) {
        if (kind <= 1) {
            rotate(kind == 0, size, count & (size * 8 - 1));
            return;
        }
        code.lload(FA);
        switch (kind) {
            case 4, 6 -> code.loadConstant(count).lshl();
            case 5 -> code.loadConstant(count).lushr();
            default -> {
                ops.signExtend(size);
                code.loadConstant(Math.min(count, size * 8)).lshr();
            }
        }
        ops.mask(size);
    }

    /** FA rotated left or right by {@code n} bits (0 leaves it as it is) within {@code size} bytes. */
    private void rotate(boolean left, int size, int n) {
        int bits = size * 8;
        code.lload(FA);
        if (n == 0) {
            return;
        }
        code.loadConstant(left ? n : bits - n).lshl();
        code.lload(FA).loadConstant(left ? bits - n : n).lushr().lor();
        ops.mask(size);
    }

    /** Transfers that leave the region: CALL, RET, indirect JMP/CALL. NEXT gets the target. */
    private void leave(DecodedInsn d, int i) {
        switch (d.opcode) {
            case 0xE8 -> {
                code.loadConstant(region.next(i)).lstore(T0);
                ops.push(8);
                code.loadConstant(region.target(i)).lstore(NEXT);
            }
            case 0xC2, 0xC3 -> {
                ops.stackRead(8);
                code.invokestatic(CD_EXEC64, "checkTarget", MethodTypeDesc.of(CD_long, CD_long)).lstore(NEXT);
                long pop = 8 + (d.opcode == 0xC2 ? d.imm & 0xFFFF : 0);
                ops.loadReg64(Cpu.ESP);
                code.loadConstant(pop).ladd();
                ops.setReg(Cpu.ESP);
            }
            default -> { // FF /2, FF /4
                ops.readRm(d, i, 8);
                code.invokestatic(CD_EXEC64, "checkTarget", MethodTypeDesc.of(CD_long, CD_long)).lstore(T2);
                if ((d.reg & 7) == 2) {
                    code.loadConstant(region.next(i)).lstore(T0);
                    ops.push(8);
                }
                code.lload(T2).lstore(NEXT);
            }
        }
    }

    // ---- conditions ----

    /**
     * Jumps to {@code target} when CF is set ({@code set}) or clear after a pending ADD, ADC or
     * SBB: an addition carries out when its result is below its first operand (ADC: or equal, with
     * a carry in), a subtraction borrows when its first operand is below its second (SBB: or
     * equal). Both are "compare(x, y) < carry in", unsigned at the operands' size.
     */
    private void carryOut(boolean set, int size, Label target) {
        if (pendingKind == Flags.SBB) {
            code.lload(FA).lload(FB);
        } else {
            code.lload(FRES).lload(FA);
        }
        if (size == 8) {
            code.invokestatic(CD_LONGS, "compareUnsigned", MethodTypeDesc.of(CD_int, CD_long, CD_long));
        } else {
            code.lcmp(); // both zero-extended from fewer than 64 bits
        }
        if (pendingKind != Flags.ADD) {
            code.iload(RegionOperands.PEND).loadConstant(PendingFlags.CARRY_IN_SHIFT).iushr().iconst_1().iand().isub();
        }
        if (set) {
            code.iflt(target);
        } else {
            code.ifge(target);
        }
    }

    /** Jumps to {@code target} when condition {@code cc} holds. */
    private void branchIf(int cc, Label target) {
        if (pendingKind == Flags.NONE || !RegionTraits.fastCondition(pendingKind, cc)) {
            code.aload(CPU).getfield(CD_CPU, "flags", CD_FLAGS).loadConstant(cc)
                    .invokevirtual(CD_FLAGS, "cond", MethodTypeDesc.of(CD_boolean, CD_int))
                    .ifne(target);
            return;
        }
        int size = pendingSize;
        if (pendingKind == Flags.SUB && cc != 8 && cc != 9) {
            boolean signed = cc >= 12;
            code.lload(FA);
            if (signed) {
                ops.signExtend(size);
            }
            code.lload(FB);
            if (signed) {
                ops.signExtend(size);
            }
            if (!signed && size == 8 && cc != 4 && cc != 5) {
                code.invokestatic(CD_LONGS, "compareUnsigned", MethodTypeDesc.of(CD_int, CD_long, CD_long));
            } else {
                code.lcmp();
            }
            switch (cc) {
                case 2, 12 -> code.iflt(target);
                case 3, 13 -> code.ifge(target);
                case 4 -> code.ifeq(target);
                case 5 -> code.ifne(target);
                case 6, 14 -> code.ifle(target);
                default -> code.ifgt(target);
            }
            return;
        }
        boolean carries = pendingKind == Flags.ADD || pendingKind == Flags.ADC || pendingKind == Flags.SBB;
        if (carries && (cc == 2 || cc == 3)) {
            carryOut(cc == 2, size, target);
            return;
        }
        // From the result alone: LOGIC (CF = OF = 0), or ZF/SF of any kind.
        switch (cc) {
            case 0, 2 -> {
                // OF and CF are clear after a logical operation: never taken
            }
            case 1, 3 -> code.goto_(target);
            case 4, 6 -> code.lload(FRES).lconst_0().lcmp().ifeq(target);
            case 5, 7 -> code.lload(FRES).lconst_0().lcmp().ifne(target);
            default -> {
                code.lload(FRES);
                ops.signExtend(size);
                code.lconst_0().lcmp();
                switch (cc) {
                    case 8, 12 -> code.iflt(target);
                    case 9, 13 -> code.ifge(target);
                    case 14 -> code.ifle(target);
                    default -> code.ifgt(target);
                }
            }
        }
    }
}
