package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

import java.lang.classfile.ClassFile;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles a hot run of 64-bit instructions into a hidden class (one per block): each
 * instruction becomes a call to its handler through a static final field, a constant the JVM's
 * JIT resolves and inlines, in place of the interpreter's fetch, decode-cache lookup and
 * megamorphic dispatch. A block stays inside one code page (which owns it and drops it when the
 * page is written), holds at most {@link #MAX_INSNS} instructions and ends after the first
 * control transfer. Instructions that change privileged state, segments, interrupt flags or
 * port I/O are left to the interpreter: a block stops before them.
 */
final class BlockCompiler {

    /** The most instructions in one block (the run loop only enters a block with this much budget left). */
    static final int MAX_INSNS = 32;
    /** Interpreted executions of an address before a block is compiled there. */
    static final int THRESHOLD = 200;

    private static final ClassDesc CD_CPU = ClassDesc.of("io.p2vkit.hv.emu.Cpu");
    private static final ClassDesc CD_MMU = ClassDesc.of("io.p2vkit.hv.emu.Mmu");
    private static final ClassDesc CD_HANDLER = ClassDesc.of("io.p2vkit.hv.emu.Handler");
    private static final ClassDesc CD_BLOCK = ClassDesc.of("io.p2vkit.hv.emu.CompiledBlock");
    private static final ClassDesc CD_INSN = ClassDesc.of("io.p2vkit.hv.emu.decode.DecodedInsn");
    private static final MethodTypeDesc MTD_EXEC = MethodTypeDesc.of(ConstantDescs.CD_void, CD_CPU, CD_INSN);
    private static final MethodTypeDesc MTD_RUN = MethodTypeDesc.of(ConstantDescs.CD_int, CD_CPU);
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();

    private BlockCompiler() {
    }

    /**
     * The block starting at linear {@code start} (on {@code page}), or null when its first
     * instruction cannot be in a block.
     */
    static CompiledBlock compile(Cpu c, long start) {
        List<DecodedInsn> insns = new ArrayList<>();
        long at = start;
        while (insns.size() < MAX_INSNS) {
            DecodedInsn d;
            try {
                d = c.decodeAt(at);
            } catch (CpuFault f) {
                break; // a fetch fault belongs to the interpreter, at the exact instruction
            }
            if ((at & 0xFFF) + d.length > 0x1000 || !compilable(d)
                    || c.lockedAccess != null && Cpu.needsLockedAccess(d)) {
                // Locked instructions on a multi-vCPU machine run in the interpreter as a LockedAccess.
                break;
            }
            insns.add(d);
            at += d.length;
            if (endsBlock(d)) {
                break;
            }
        }
        if (insns.isEmpty()) {
            return null;
        }
        return define(start, insns);
    }

    /** Whether a decoded 64-bit instruction may run inside a block. */
    static boolean compilable(DecodedInsn d) {
        if (d.invalid || ((d.prefixes & DecodedInsn.PREFIX_LOCK) != 0 && !LockRules.allowed(d))) {
            return false;
        }
        int op = d.opcode;
        return switch (op) {
            // port I/O, MOV Sreg, POPF, far returns, INT n, IRET, HLT, CLI/STI
            case 0x06C, 0x06D, 0x06E, 0x06F, 0x08E, 0x09D, 0x0CA, 0x0CB, 0x0CC, 0x0CD, 0x0CE, 0x0CF,
                 0x0E4, 0x0E5, 0x0E6, 0x0E7, 0x0EC, 0x0ED, 0x0EE, 0x0EF, 0x0F1, 0x0F4, 0x0FA, 0x0FB -> false;
            case 0x0FF -> (d.reg & 7) != 3 && (d.reg & 7) != 5; // not far CALL/JMP
            default -> !(op >= 0x100 && op <= 0x10B)              // groups 6/7, SYSCALL..UD2
                    && !(op >= 0x120 && op <= 0x137)              // MOV CR/DR, MSRs, SYSENTER
                    && op != 0x1A0 && op != 0x1A1 && op != 0x1A8 && op != 0x1A9 && op != 0x1AA
                    && op != 0x1B2 && op != 0x1B4 && op != 0x1B5;
        };
    }

    /** Control transfers: the last instruction of a block. */
    static boolean endsBlock(DecodedInsn d) {
        int op = d.opcode;
        return (op >= 0x070 && op <= 0x07F) || (op >= 0x180 && op <= 0x18F)
                || op == 0x0C2 || op == 0x0C3 || (op >= 0x0E0 && op <= 0x0E3)
                || op == 0x0E8 || op == 0x0E9 || op == 0x0EB
                || (op == 0x0FF && ((d.reg & 7) == 2 || (d.reg & 7) == 4));
    }

    /**
     * Register-to-register work that cannot fault, jump, read RIP or write memory: inside a block
     * it needs neither the rollback state nor RIP nor the exit checks, only its handler call.
     */
    static boolean quiet(DecodedInsn d) {
        int op = d.opcode;
        boolean reg = d.hasModrm && d.mod == 3;
        int ext = d.reg & 7;
        return switch (op) {
            case 0x004, 0x005, 0x00C, 0x00D, 0x014, 0x015, 0x01C, 0x01D, 0x024, 0x025, 0x02C, 0x02D,
                 0x034, 0x035, 0x03C, 0x03D, 0x0A8, 0x0A9, 0x098, 0x099,
                 0x0B0, 0x0B1, 0x0B2, 0x0B3, 0x0B4, 0x0B5, 0x0B6, 0x0B7,
                 0x0B8, 0x0B9, 0x0BA, 0x0BB, 0x0BC, 0x0BD, 0x0BE, 0x0BF,
                 0x1C8, 0x1C9, 0x1CA, 0x1CB, 0x1CC, 0x1CD, 0x1CE, 0x1CF -> true;
            case 0x000, 0x001, 0x002, 0x003, 0x008, 0x009, 0x00A, 0x00B, 0x010, 0x011, 0x012, 0x013,
                 0x018, 0x019, 0x01A, 0x01B, 0x020, 0x021, 0x022, 0x023, 0x028, 0x029, 0x02A, 0x02B,
                 0x030, 0x031, 0x032, 0x033, 0x038, 0x039, 0x03A, 0x03B, 0x063, 0x069, 0x06B,
                 0x080, 0x081, 0x083, 0x084, 0x085, 0x086, 0x087, 0x088, 0x089, 0x08A, 0x08B,
                 0x0C0, 0x0C1, 0x0D0, 0x0D1, 0x0D2, 0x0D3, 0x1A3, 0x1A4, 0x1A5, 0x1AB, 0x1AC, 0x1AD,
                 0x1AF, 0x1B0, 0x1B1, 0x1B3, 0x1B6, 0x1B7, 0x1BA, 0x1BB, 0x1BC, 0x1BD, 0x1BE, 0x1BF,
                 0x1C0, 0x1C1 -> reg;
            case 0x140, 0x141, 0x142, 0x143, 0x144, 0x145, 0x146, 0x147,
                 0x148, 0x149, 0x14A, 0x14B, 0x14C, 0x14D, 0x14E, 0x14F,
                 0x190, 0x191, 0x192, 0x193, 0x194, 0x195, 0x196, 0x197,
                 0x198, 0x199, 0x19A, 0x19B, 0x19C, 0x19D, 0x19E, 0x19F -> reg;
            case 0x0F6, 0x0F7 -> reg && ext < 6;           // not DIV/IDIV (#DE)
            case 0x0FE, 0x0FF -> reg && ext < 2;           // INC/DEC
            case 0x08D -> d.base != DecodedInsn.BASE_RIP;  // LEA computes, it does not access
            default -> false;
        };
    }

    private static CompiledBlock define(long start, List<DecodedInsn> insns) {
        int n = insns.size();
        Object[] data = new Object[2 * n];
        long[] next = new long[n];
        long[] begin = new long[n];
        boolean[] quiet = new boolean[n];
        long at = start;
        for (int i = 0; i < n; i++) {
            DecodedInsn d = insns.get(i);
            data[2 * i] = Dispatch64.TABLE[d.opcode];
            data[2 * i + 1] = d;
            begin[i] = at;
            at += d.length;
            next[i] = at;
            quiet[i] = quiet(d) && i < n - 1; // the last one leaves RIP right for the caller
        }
        ClassDesc self = ClassDesc.of("io.p2vkit.hv.emu.Block");
        byte[] bytes = ClassFile.of().build(self, cb -> {
            cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SYNTHETIC);
            cb.withInterfaceSymbols(CD_BLOCK);
            for (int i = 0; i < n; i++) {
                cb.withField("h" + i, CD_HANDLER, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_FINAL);
                cb.withField("d" + i, CD_INSN, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_FINAL);
            }
            cb.withMethodBody(ConstantDescs.CLASS_INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_STATIC,
                    code -> classInit(code, self, n));
            cb.withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC,
                    code -> code.aload(0)
                            .invokespecial(ConstantDescs.CD_Object, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void)
                            .return_());
            cb.withMethodBody("run", MTD_RUN, ClassFile.ACC_PUBLIC, code -> run(code, self, begin, next, quiet));
            cb.withMethodBody("start", MethodTypeDesc.of(ConstantDescs.CD_long), ClassFile.ACC_PUBLIC,
                    code -> code.loadConstant(start).lreturn());
        });
        try {
            MethodHandles.Lookup lookup = LOOKUP.defineHiddenClassWithClassData(bytes, data, true);
            return (CompiledBlock) lookup.findConstructor(lookup.lookupClass(), MethodType.methodType(void.class))
                    .invoke();
        } catch (Throwable e) {
            throw new IllegalStateException("block compilation failed at " + Long.toHexString(start), e);
        }
    }

    /** Loads the handlers and decoded instructions from the class data into the static finals. */
    private static void classInit(CodeBuilder code, ClassDesc self, int n) {
        ClassDesc handles = ClassDesc.of("java.lang.invoke.MethodHandles");
        ClassDesc lookup = ClassDesc.of("java.lang.invoke.MethodHandles$Lookup");
        code.invokestatic(handles, "lookup", MethodTypeDesc.of(lookup))
                .loadConstant("_")
                .loadConstant(ConstantDescs.CD_Object.arrayType())
                .invokestatic(handles, "classData", MethodTypeDesc.of(ConstantDescs.CD_Object, lookup,
                        ConstantDescs.CD_String, ConstantDescs.CD_Class))
                .checkcast(ConstantDescs.CD_Object.arrayType())
                .astore(0);
        for (int i = 0; i < n; i++) {
            code.aload(0).loadConstant(2 * i).aaload().checkcast(CD_HANDLER).putstatic(self, "h" + i, CD_HANDLER);
            code.aload(0).loadConstant(2 * i + 1).aaload().checkcast(CD_INSN).putstatic(self, "d" + i, CD_INSN);
        }
        code.return_();
    }

    /**
     * The body: per instruction, the interpreter's bookkeeping (rollback state, RIP), the handler
     * call and the exits; a {@link #quiet} instruction gets only its call.
     */
    private static void run(CodeBuilder code, ClassDesc self, long[] begin, long[] next, boolean[] quiet) {
        int n = begin.length;
        int cpu = 1;
        int gen = 2;
        code.aload(cpu).getfield(CD_CPU, "mmu", CD_MMU).getfield(CD_MMU, "generation", ConstantDescs.CD_int)
                .istore(gen);
        Label[] exits = new Label[n];
        for (int i = 0; i < n; i++) {
            exits[i] = code.newLabel();
            if (quiet[i]) {
                code.getstatic(self, "h" + i, CD_HANDLER).aload(cpu).getstatic(self, "d" + i, CD_INSN)
                        .invokeinterface(CD_HANDLER, "exec", MTD_EXEC);
                code.aload(cpu).dup().getfield(CD_CPU, "retired", ConstantDescs.CD_long).lconst_1().ladd()
                        .putfield(CD_CPU, "retired", ConstantDescs.CD_long);
                continue;
            }
            code.aload(cpu).loadConstant(begin[i]).putfield(CD_CPU, "insnRip", ConstantDescs.CD_long);
            code.aload(cpu).loadConstant((int) begin[i]).putfield(CD_CPU, "insnEip", ConstantDescs.CD_int);
            code.aload(cpu).aload(cpu).getfield(CD_CPU, "r", ConstantDescs.CD_long.arrayType())
                    .loadConstant(Cpu.ESP).laload().putfield(CD_CPU, "insnEsp", ConstantDescs.CD_long);
            code.aload(cpu).loadConstant(next[i]).putfield(CD_CPU, "rip", ConstantDescs.CD_long);
            code.aload(cpu).loadConstant((int) next[i]).putfield(CD_CPU, "eip", ConstantDescs.CD_int);
            code.getstatic(self, "h" + i, CD_HANDLER).aload(cpu).getstatic(self, "d" + i, CD_INSN)
                    .invokeinterface(CD_HANDLER, "exec", MTD_EXEC);
            code.aload(cpu).dup().getfield(CD_CPU, "retired", ConstantDescs.CD_long).lconst_1().ladd()
                    .putfield(CD_CPU, "retired", ConstantDescs.CD_long);
            if (i < n - 1) {
                code.aload(cpu).getfield(CD_CPU, "rip", ConstantDescs.CD_long).loadConstant(next[i]).lcmp()
                        .ifne(exits[i]);
                code.aload(cpu).getfield(CD_CPU, "breakSlice", ConstantDescs.CD_boolean).ifne(exits[i]);
                code.aload(cpu).getfield(CD_CPU, "mmu", CD_MMU).getfield(CD_MMU, "generation", ConstantDescs.CD_int)
                        .iload(gen).if_icmpne(exits[i]);
            }
        }
        code.loadConstant(n).ireturn();
        for (int i = 0; i < n - 1; i++) {
            if (!quiet[i]) {
                code.labelBinding(exits[i]);
                code.loadConstant(i + 1).ireturn();
            }
        }
    }
}
