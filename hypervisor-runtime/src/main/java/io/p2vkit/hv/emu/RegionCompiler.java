package io.p2vkit.hv.emu;

import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;

import io.p2vkit.hv.emu.decode.DecodedInsn;

import java.io.IOException;
import java.io.UncheckedIOException;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.attribute.CodeAttribute;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Compiles a hot 64-bit region ({@link RegionScan}) into a hidden class whose {@code run} method
 * is the region translated to JVM bytecode ({@link RegionEmitter}): the JVM's own JIT then
 * turns it into host code, with the guest registers it uses most in host registers and loops
 * inside the region as host loops. The method loads those registers from {@link Cpu#r} on
 * entry and stores them back on every exit (the others it uses in place), with the flags still
 * pending in its locals ({@link PendingFlags}); on an exception it does so before rethrowing it
 * with the faulting instruction's RIP and RSP where the interpreter expects them. An
 * {@link EmuVcpu} has the class built and loaded on the {@link RegionTranslator}'s thread; a CPU
 * without one (unit tests) on its own.
 */
final class RegionCompiler {

    /**
     * Interpreted executions of an address before a region is compiled there. High, because
     * each region costs the JVM a compilation: code run only a few thousand times (most of a
     * kernel's initialisation) is cheaper to interpret. -Dp2v.emu.regionThreshold=N for measuring.
     */
    static final int THRESHOLD = Integer.getInteger("p2v.emu.regionThreshold", 2000);
    /** HotSpot leaves methods above 8,000 bytecode bytes interpreted (HugeMethodLimit): stay below. */
    private static final int BYTECODE_LIMIT = 7_500;

    private static final MethodTypeDesc MTD_RUN = MethodTypeDesc.of(CD_int, RegionOperands.CD_CPU, CD_int);
    private static final ClassDesc CD_BLOCK = ClassDesc.of("io.p2vkit.hv.emu.CompiledBlock");
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    static final boolean TRACE = Boolean.getBoolean("p2v.emu.traceRegions");
    /**
     * Calls that make the JIT compile a new region's method (HotSpot's tiered policy asks C1 for a
     * method past 200 invocations, checked every 128): a region's first runs would otherwise be
     * in the JVM's bytecode interpreter, at about twice the cost of our own interpreter.
     */
    private static final int WARM_UP_CALLS = 300;
    /** A folder to write each region's class file to (for javap), from -Dp2v.emu.dumpRegions. */
    private static final String DUMP = System.getProperty("p2v.emu.dumpRegions");

    private RegionCompiler() {
    }

    /**
     * The compiled region starting at linear {@code start}, or null when nothing there translates.
     * Should translating ever fail, the code stays with the interpreter (which is exact) and the
     * first failure is reported once on stderr: a slower guest, never a stopped one.
     */
    static CompiledBlock compile(Cpu c, long start, CodePage page) {
        return compile(c, start, page, RegionScan.MAX_INSNS);
    }

    /** {@link #compile(Cpu, long, CodePage)} with at most {@code max} instructions. */
    static CompiledBlock compile(Cpu c, long start, CodePage page, int max) {
        long t0 = threadCpuNanos();
        try {
            return translate(c, start, page, max);
        } catch (RuntimeException | LinkageError e) {
            reportFailure(start, e);
            return null;
        } finally {
            c.regionCompileNanos += threadCpuNanos() - t0;
        }
    }

    /** Reports the first region that failed to translate (it stays with the interpreter). */
    static void reportFailure(long start, Throwable e) {
        if (!failureReported) {
            failureReported = true;
            System.err.println("p2v: emu: region at " + Long.toHexString(start)
                    + " left to the interpreter: " + e);
        }
    }

    /** The CPU time of the calling thread, for the statistics of time spent translating. */
    static long threadCpuNanos() {
        return THREAD_CPU.getCurrentThreadCpuTime();
    }

    private static final ThreadMXBean THREAD_CPU = ManagementFactory.getThreadMXBean();
    private static volatile boolean failureReported;

    /** A region's loaded class and the length of its run method in bytecode bytes. */
    record Built(CompiledBlock block, int length) {
    }

    /** Halves the region until its method fits the JIT's size limit. */
    private static CompiledBlock translate(Cpu c, long start, CodePage page, int first) {
        for (int max = first; ; max /= 2) {
            RegionScan.Region region = RegionScan.scan(c, start, max, page);
            if (region == null) {
                return null;
            }
            Built built = build(region, c.mmu.user, classData(region, c), max <= 1);
            if (built != null) {
                return counted(c, built, region, page);
            }
        }
    }

    /**
     * Builds and loads the class of {@code region}; null when its method is above the JIT's size
     * limit, unless {@code anySize}. Touches no vCPU state: the translator thread calls it too.
     */
    static Built build(RegionScan.Region region, boolean user, Object[] data, boolean anySize) {
        long t0 = System.nanoTime();
        byte[] bytes = classBytes(region, user);
        int length = runLength(bytes);
        if (!anySize && length > BYTECODE_LIMIT) {
            return null;
        }
        if (DUMP != null) {
            dump(region.start(), bytes);
        }
        CompiledBlock block = load(bytes, data, region.start());
        warmUp(block);
        if (TRACE) {
            System.err.printf("region %x: %d instructions, %d bytecode bytes, %d us%n", region.start(),
                    region.size(), length, (System.nanoTime() - t0) / 1000);
        }
        return new Built(block, length);
    }

    /**
     * Counts a region built for {@code c} in its statistics and makes the code it left out for
     * lack of room as hot as its start ({@link CodePage#heatUp}); returns its block.
     */
    static CompiledBlock counted(Cpu c, Built built, RegionScan.Region region, CodePage page) {
        c.regionsCompiled++;
        c.regionBytecode += built.length();
        page.heatUp(region.continuations(), c.regionThreshold);
        return built.block();
    }

    private static void dump(long start, byte[] bytes) {
        try {
            Files.write(Path.of(DUMP, "Region_" + Long.toHexString(start) + ".class"), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] classBytes(RegionScan.Region region, boolean user) {
        // Named after the guest address, so that profiles and JIT logs say which code it is.
        ClassDesc self = ClassDesc.of("io.p2vkit.hv.emu.Region_" + Long.toHexString(region.start()));
        return ClassFile.of().build(self, cb -> {
            cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SYNTHETIC);
            cb.withSuperclass(CD_BLOCK);
            cb.withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC,
                    code -> code.aload(0).loadConstant(region.start()).loadConstant(region.size()).loadConstant(user ? 1 : 0)
                            .loadConstant(RegionSse.anyInline(region) ? 1 : 0)
                            .invokespecial(CD_BLOCK, ConstantDescs.INIT_NAME, MethodTypeDesc.of(ConstantDescs.CD_void,
                                    CD_long, CD_int, ConstantDescs.CD_boolean, ConstantDescs.CD_boolean))
                            .return_());
            // The vCPU and MMU the region belongs to (their code pages hold it), as constants the
            // JIT embeds rather than keeps in registers.
            cb.withField("cpu", RegionOperands.CD_CPU, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_FINAL);
            cb.withField("mmu", RegionOperands.CD_MMU, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_FINAL);
            cb.withField("tlb", RegionOperands.CD_TLB, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_FINAL);
            cb.withField("xmm", RegionOperands.CD_XMM, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_FINAL);
            cb.withField("regs", RegionOperands.CD_REGS, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_FINAL);
            if (region.tail() != null) {
                cb.withField("tail", RegionEmitter.CD_CODE_PAGE, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_FINAL);
                // The MMU generation under which the tail page was last found to be the same.
                cb.withField("tailGeneration", CD_int, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC);
            }
            // The handlers and decoded instructions of delegated instructions, as constants.
            for (int i = 0; i < region.size(); i++) {
                if (RegionTraits.delegated(region.insns()[i])) {
                    cb.withField("h" + i, RegionEmitter.CD_HANDLER, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_FINAL);
                    cb.withField("d" + i, RegionEmitter.CD_INSN, ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_FINAL);
                }
            }
            cb.withMethodBody(ConstantDescs.CLASS_INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_STATIC,
                    code -> classInit(code, self, region));
            cb.withMethodBody("run", MTD_RUN, 0, code -> run(code, self, region, user));
        });
    }

    /** Loads the delegated instructions' handlers and decoded forms from the class data. */
    private static void classInit(CodeBuilder code, ClassDesc self, RegionScan.Region region) {
        ClassDesc handles = ClassDesc.of("java.lang.invoke.MethodHandles");
        ClassDesc lookup = ClassDesc.of("java.lang.invoke.MethodHandles$Lookup");
        code.invokestatic(handles, "lookup", MethodTypeDesc.of(lookup))
                .loadConstant("_")
                .loadConstant(ConstantDescs.CD_Object.arrayType())
                .invokestatic(handles, "classData", MethodTypeDesc.of(ConstantDescs.CD_Object, lookup,
                        ConstantDescs.CD_String, ConstantDescs.CD_Class))
                .checkcast(ConstantDescs.CD_Object.arrayType())
                .astore(0);
        code.aload(0).loadConstant(2 * region.size()).aaload().checkcast(RegionOperands.CD_CPU)
                .putstatic(self, "cpu", RegionOperands.CD_CPU);
        code.aload(0).loadConstant(2 * region.size() + 1).aaload().checkcast(RegionOperands.CD_MMU)
                .putstatic(self, "mmu", RegionOperands.CD_MMU);
        code.aload(0).loadConstant(2 * region.size() + 2).aaload().checkcast(RegionOperands.CD_TLB)
                .putstatic(self, "tlb", RegionOperands.CD_TLB);
        code.aload(0).loadConstant(2 * region.size() + 4).aaload().checkcast(RegionOperands.CD_XMM)
                .putstatic(self, "xmm", RegionOperands.CD_XMM);
        code.aload(0).loadConstant(2 * region.size() + 5).aaload().checkcast(RegionOperands.CD_REGS)
                .putstatic(self, "regs", RegionOperands.CD_REGS);
        if (region.tail() != null) {
            code.aload(0).loadConstant(2 * region.size() + 3).aaload().checkcast(RegionEmitter.CD_CODE_PAGE)
                    .putstatic(self, "tail", RegionEmitter.CD_CODE_PAGE);
            code.loadConstant(Integer.MIN_VALUE).putstatic(self, "tailGeneration", CD_int); // not checked yet
        }
        for (int i = 0; i < region.size(); i++) {
            if (RegionTraits.delegated(region.insns()[i])) {
                code.aload(0).loadConstant(2 * i).aaload().checkcast(RegionEmitter.CD_HANDLER)
                        .putstatic(self, "h" + i, RegionEmitter.CD_HANDLER);
                code.aload(0).loadConstant(2 * i + 1).aaload().checkcast(RegionEmitter.CD_INSN)
                        .putstatic(self, "d" + i, RegionEmitter.CD_INSN);
            }
        }
        code.return_();
    }

    /**
     * The class data: per instruction its handler and decoded form (null where not delegated),
     * then the vCPU, its MMU and TLB, the code page of a crossing instruction's tail, and the
     * vCPU's XMM and general registers.
     */
    static Object[] classData(RegionScan.Region region, Cpu c) {
        Object[] data = new Object[2 * region.size() + 6];
        data[2 * region.size() + 4] = c.xmm;
        data[2 * region.size() + 5] = c.r;
        data[2 * region.size() + 3] = region.tail();
        data[2 * region.size()] = c;
        data[2 * region.size() + 1] = c.mmu;
        data[2 * region.size() + 2] = c.mmu.tlb;
        for (int i = 0; i < region.size(); i++) {
            DecodedInsn d = region.insns()[i];
            if (RegionTraits.delegated(d)) {
                data[2 * i] = Dispatch64.TABLE[d.opcode];
                data[2 * i + 1] = d;
            }
        }
        return data;
    }

    private static int runLength(byte[] bytes) {
        ClassModel model = ClassFile.of().parse(bytes);
        return model.methods().stream().filter(m -> m.methodName().equalsString("run"))
                .mapToInt(m -> ((CodeAttribute) m.code().orElseThrow()).codeLength()).sum();
    }

    /**
     * Has the JIT compile {@code block} before its first real run: calls with a negative budget
     * return at once, touching nothing (no vCPU state: the translator thread makes them).
     */
    private static void warmUp(CompiledBlock block) {
        for (int i = 0; i < WARM_UP_CALLS; i++) {
            block.run(null, -1);
        }
    }

    private static CompiledBlock load(byte[] bytes, Object[] data, long start) {
        try {
            MethodHandles.Lookup lookup = LOOKUP.defineHiddenClassWithClassData(bytes, data, true);
            return (CompiledBlock) lookup.findConstructor(lookup.lookupClass(), MethodType.methodType(void.class))
                    .invoke();
        } catch (Throwable e) {
            throw new IllegalStateException("region compilation failed at " + Long.toHexString(start), e);
        }
    }

    private static void run(CodeBuilder code, ClassDesc self, RegionScan.Region region, boolean user) {
        int cpu = RegionOperands.CPU;
        Label enter = code.newLabel();
        code.iload(RegionOperands.BUDGET).ifge(enter);
        code.iconst_0().ireturn(); // a warm-up call (see warmUp)
        code.labelBinding(enter);
        // The region's own vCPU (the argument is the same object) and MMU, as constants.
        code.getstatic(self, "cpu", RegionOperands.CD_CPU).astore(cpu);
        code.getstatic(self, "mmu", RegionOperands.CD_MMU).astore(RegionOperands.MMU);
        loadRegs(code, self);
        code.aload(RegionOperands.MMU).getfield(RegionOperands.CD_MMU, "generation", CD_int).istore(RegionOperands.GEN);
        code.iload(RegionOperands.BUDGET).loadConstant(region.size()).isub().istore(RegionOperands.LIMIT);
        code.iconst_0().istore(RegionOperands.RETIRED);
        code.aconst_null().astore(RegionOperands.EXCEPTION);
        code.iconst_0().istore(RegionOperands.PEND);
        reload(code, region.locals());
        for (int slot : new int[] {RegionOperands.PC, RegionOperands.NEXT, RegionOperands.FA, RegionOperands.FB,
            RegionOperands.FRES, RegionOperands.T0, RegionOperands.T1, RegionOperands.T2}) {
            code.lconst_0().lstore(slot);
        }
        Label exit = code.newLabel();
        Label handler = code.newLabel();
        Label tryStart = code.newLabel();
        Label tryEnd = code.newLabel();
        RegionEmitter emitter = new RegionEmitter(code, self, region, exit, user);
        code.labelBinding(tryStart);
        code.goto_(emitter.entry());
        emitter.emitBody();
        code.labelBinding(tryEnd);

        // One exit for both ways out, so that the registers' write-back is emitted once: a fault
        // leaves through it with RIP at the faulting instruction and is rethrown at its end.
        Label rethrow = code.newLabel();
        code.labelBinding(exit);
        loadRegs(code, self);
        writeBack(code, emitter.written());
        applyPendingFlags(code);
        setRip(code, RegionOperands.NEXT, "rip", "eip");
        addRetired(code);
        code.aload(RegionOperands.EXCEPTION).ifnonnull(rethrow);
        code.iload(RegionOperands.RETIRED).ireturn();

        code.labelBinding(rethrow);
        setRip(code, RegionOperands.PC, "insnRip", "insnEip");
        // RSP before the faulting instruction: what the write-back just left in Cpu.r.
        code.aload(cpu).aload(RegionOperands.REGS).loadConstant(Cpu.ESP).laload()
                .putfield(RegionOperands.CD_CPU, "insnEsp", CD_long);
        code.aload(RegionOperands.EXCEPTION).athrow();

        code.labelBinding(handler);
        code.astore(RegionOperands.EXCEPTION).lload(RegionOperands.PC).lstore(RegionOperands.NEXT).goto_(exit);
        code.exceptionCatchAll(tryStart, tryEnd, handler);
    }

    /** Flags gets the flags still pending in the locals ({@link PendingFlags}). */
    private static void applyPendingFlags(CodeBuilder code) {
        Label none = code.newLabel();
        code.iload(RegionOperands.PEND).ifeq(none);
        code.aload(RegionOperands.CPU).iload(RegionOperands.PEND).lload(RegionOperands.FA).lload(RegionOperands.FRES)
                .invokestatic(ClassDesc.of("io.p2vkit.hv.emu.PendingFlags"), "apply",
                        MethodTypeDesc.of(ConstantDescs.CD_void, RegionOperands.CD_CPU, CD_int, CD_long, CD_long));
        code.labelBinding(none);
    }

    /**
     * REGS = {@link Cpu#r}, loaded where it is used rather than kept in a register throughout;
     * from a static final field of the region's class, so a constant array of known length.
     */
    static void loadRegs(CodeBuilder code, ClassDesc self) {
        code.getstatic(self, "regs", RegionOperands.CD_REGS).astore(RegionOperands.REGS);
    }

    /** Loads the guest registers in {@code mask} (a bit per register) into their locals from {@link Cpu#r}. */
    static void reload(CodeBuilder code, int mask) {
        for (int n = 0; n < 16; n++) {
            if ((mask & (1 << n)) != 0) {
                code.aload(RegionOperands.REGS).loadConstant(n).laload().lstore(RegionOperands.reg(n));
            }
        }
    }

    /** Stores the guest registers in {@code mask} (a bit per register) from their locals into {@link Cpu#r}. */
    static void writeBack(CodeBuilder code, int mask) {
        for (int n = 0; n < 16; n++) {
            if ((mask & (1 << n)) != 0) {
                code.aload(RegionOperands.REGS).loadConstant(n).lload(RegionOperands.reg(n)).lastore();
            }
        }
    }

    private static void setRip(CodeBuilder code, int slot, String rip, String eip) {
        code.aload(RegionOperands.CPU).lload(slot).putfield(RegionOperands.CD_CPU, rip, CD_long);
        code.aload(RegionOperands.CPU).lload(slot).l2i().putfield(RegionOperands.CD_CPU, eip, CD_int);
    }

    private static void addRetired(CodeBuilder code) {
        code.aload(RegionOperands.CPU).dup().getfield(RegionOperands.CD_CPU, "retired", CD_long)
                .iload(RegionOperands.RETIRED).i2l().ladd().putfield(RegionOperands.CD_CPU, "retired", CD_long);
    }
}
