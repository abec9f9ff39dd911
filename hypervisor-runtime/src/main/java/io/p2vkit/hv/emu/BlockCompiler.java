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
            if ((at & 0xFFF) + d.length > 0x1000 || !compilable(d)) {
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

    private static CompiledBlock define(long start, List<DecodedInsn> insns) {
        int n = insns.size();
        Object[] data = new Object[2 * n];
        long[] next = new long[n];
        long[] begin = new long[n];
        long at = start;
        for (int i = 0; i < n; i++) {
            DecodedInsn d = insns.get(i);
            data[2 * i] = Dispatch64.TABLE[d.opcode];
            data[2 * i + 1] = d;
            begin[i] = at;
            at += d.length;
            next[i] = at;
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
            cb.withMethodBody("run", MTD_RUN, ClassFile.ACC_PUBLIC, code -> run(code, self, begin, next));
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

    /** The body: per instruction, the interpreter's bookkeeping, the handler call and the exits. */
    private static void run(CodeBuilder code, ClassDesc self, long[] begin, long[] next) {
        int n = begin.length;
        int cpu = 1;
        int gen = 2;
        code.aload(cpu).getfield(CD_CPU, "mmu", CD_MMU).getfield(CD_MMU, "generation", ConstantDescs.CD_int)
                .istore(gen);
        Label[] exits = new Label[n];
        for (int i = 0; i < n; i++) {
            exits[i] = code.newLabel();
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
            code.labelBinding(exits[i]);
            code.loadConstant(i + 1).ireturn();
        }
    }
}
