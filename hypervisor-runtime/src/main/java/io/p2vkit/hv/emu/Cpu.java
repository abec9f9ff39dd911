package io.p2vkit.hv.emu;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.emu.decode.DecodeException;
import io.p2vkit.hv.emu.decode.DecodedInsn;
import io.p2vkit.hv.emu.decode.Decoder;
import java.lang.invoke.MethodHandles;

/**
 * The architectural state of one emulated x86 CPU and the operand, stack and segment accessors
 * every handler uses. Handlers (in this package) read and write this state; nothing outside the
 * package sees it. The fetch-decode-execute slice loop lives here too, so that the hot path is
 * one method the JIT compiles as a whole.
 */
final class Cpu {

    static {
        // LockRules serves only LOCK-prefixed instructions, which the firmware and the kernel's
        // decompressor never run: still unloaded when C2 compiled an interpreter's loop (~1 s
        // into a boot), it made the kernel's first LOCK throw that compiled loop away. Both loops
        // (runSlice's and Exec64.interpretRun) check it, and this class comes before either.
        try {
            MethodHandles.lookup().ensureInitialized(LockRules.class);
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    static final int EAX = 0;
    static final int ECX = 1;
    static final int EDX = 2;
    static final int EBX = 3;
    static final int ESP = 4;
    static final int EBP = 5;
    static final int ESI = 6;
    static final int EDI = 7;

    static final int ES = 0;
    static final int CS = 1;
    static final int SS = 2;
    static final int DS = 3;
    static final int FS = 4;
    static final int GS = 5;

    // Cached descriptor attributes: bits 8-15 and 20-23 of the descriptor's high dword,
    // packed as (type | S << 4 | DPL << 5 | P << 7 | AVL << 12 | L << 13 | DB << 14 | G << 15).
    static final int ATTR_ACCESSED = 1;
    static final int ATTR_CODE = 8;
    static final int ATTR_S = 0x10;
    static final int ATTR_P = 0x80;
    static final int ATTR_L = 0x2000;
    static final int ATTR_DB = 0x4000;
    static final int ATTR_G = 0x8000;

    static final int CR0_PE = 1;
    static final int CR0_MP = 2;
    static final int CR0_EM = 4;
    static final int CR0_TS = 8;
    static final int CR0_ET = 0x10;
    static final int CR0_NE = 0x20;
    static final int CR0_WP = 1 << 16;
    static final int CR0_AM = 1 << 18;
    static final int CR0_NW = 1 << 29;
    static final int CR0_CD = 1 << 30;
    static final int CR0_PG = 1 << 31;

    /**
     * The 16 general registers, 64 bits wide (only 0-7 and the low halves are used outside
     * 64-bit mode). A 32-bit write zero-extends (SDM Vol. 1 §3.4.1.1), 8- and 16-bit writes keep
     * the rest; {@link #r32}/{@link #set32} are the 32-bit accessors.
     */
    final long[] r = new long[16];
    int eip;
    /** EIP and ESP at the start of the current instruction: a fault rolls back to them. */
    int insnEip;
    long insnEsp;
    /** 0xFFFF in 16-bit code, all ones in 32- and 64-bit code. */
    int ipMask = 0xFFFF;
    /** 64-bit mode (IA-32e mode with CS.L = 1): {@link #rip} is the instruction pointer there. */
    boolean mode64;
    long rip;
    long insnRip;
    /** Set when CS switches to 64-bit code: the next slice starts at RIP = EIP (zero-extended). */
    private boolean enter64;

    final int[] segSel = new int[6];
    final int[] segBase = new int[6];
    /**
     * The FS and GS bases in 64 bits (IA32_FS_BASE, IA32_GS_BASE): a descriptor load sets them
     * to the 32-bit base, the MSRs and SWAPGS to any canonical value; 64-bit code uses these.
     */
    long fsBase;
    long gsBase;
    long kernelGsBase;
    /** SYSCALL's MSRs: IA32_STAR, IA32_LSTAR, IA32_CSTAR (kept, unused by Intel), IA32_FMASK. */
    long star;
    long lstar;
    long cstar;
    long fmask;
    final int[] segLimit = new int[6];
    final int[] segAttr = new int[6];
    /** Limit as an unsigned long, or -1 when every access must take the checked path. */
    final long[] segCheckLimit = new long[6];
    /** Code or read-only data: writes raise #GP (#SS) in protected mode (SDM Vol. 3 §5.4). */
    final boolean[] segReadOnly = new boolean[6];
    boolean cs32;
    boolean ss32;
    int cpl;

    final Flags flags = new Flags();
    final Mmu mmu;
    final Bus bus;

    /** The last page-fault address, 64 bits wide (legacy code sees its low half). */
    long cr2;
    /** Descriptor-table bases: 64 bits in IA-32e mode, zero-extended 32-bit values otherwise. */
    long gdtBase;
    int gdtLimit;
    long idtBase;
    int idtLimit;
    int ldtSel;
    long ldtBase;
    int ldtLimit;
    int trSel;
    int trBase;
    /** The TSS base in 64 bits (a 16-byte TSS descriptor loaded by LTR in IA-32e mode). */
    long trBase64;
    int trLimit;
    int trAttr;
    /** DR0-DR7; DR0-DR3 hold 64-bit linear addresses in IA-32e mode. */
    final long[] dr = new long[8];
    long tscOffset;
    /** IA32_TSC_ADJUST: how far software has moved this CPU's TSC (writes to either move both). */
    long tscAdjust;

    final X87State fpu = new X87State();
    /** XMM0-XMM15 as (low, high) 64-bit halves: xmm[2n] is bits 0-63 of XMMn. */
    final long[] xmm = new long[32];
    int mxcsr = 0x1F80;
    /** XCR0, the state components XSAVE manages ({@link XSave}); x87 is always on. */
    long xcr0 = XSave.X87;
    /** MXCSR exception flags raised so far by the current SSE instruction ({@link Sse#commit}). */
    int simdExceptions;

    /** Run hot 64-bit code as compiled regions ({@link RegionCompiler}). */
    boolean compileBlocks = Exec64.BLOCKS;
    /**
     * Whether a compiled region may start with less of the slice left than its size (and so run
     * up to {@link RegionScan#MAX_INSNS} instructions past the slice): true for the time slices
     * of a free-running vCPU, false when the count is exact (single steps, instruction budgets).
     * Without it the last few dozen instructions of every slice are interpreted.
     */
    boolean sliceMayOvershoot;
    /** Translates regions on a thread of its own when set (a machine's vCPUs); null: on this thread. */
    RegionTranslator translator;
    /** Interpreted executions of an address before a region is compiled there (tests lower it). */
    int regionThreshold = RegionCompiler.THRESHOLD;
    boolean halted;
    /** Set by instructions after which the run loop must look at interrupts again (STI, POPF...). */
    boolean breakSlice;
    /** STI and MOV/POP SS block interrupts for one instruction (SDM Vol. 3 §6.8.3). */
    boolean interruptShadow;
    /** Set when an instruction transferred to an interrupt handler (no single-step trap after INT n). */
    boolean deliveredInterrupt;
    long retired;
    /** How many of the retired instructions ran in compiled regions. */
    long regionRetired;
    /** How many times compiled regions were entered, how many were compiled and their bytecode bytes. */
    long regionRuns;
    long regionsCompiled;
    long regionBytecode;
    /** This vCPU thread's CPU time spent translating regions (for the stats line). */
    long regionCompileNanos;
    long undefinedOpcodes;
    int lastUndefinedOpcode = -1;
    String lastUndefinedAt = "";
    /** The ModRM form of that opcode ("/reg (mod=.. rm=..)"), or empty: tells groups apart. */
    String lastUndefinedForm = "";

    private long fetchVpn = -1;
    private int fetchGen = -1;
    private CodePage fetchPage;
    private static final int CODE_CACHE_SIZE = 64;
    private final long[] codeCacheVpn = new long[CODE_CACHE_SIZE];
    private final CodePage[] codeCachePage = new CodePage[CODE_CACHE_SIZE];
    private int codeCacheGen = -1;

    /** This CPU's local APIC, or null on a machine without one (CPUID then reports none). */
    final io.p2vkit.hv.cpu.LocalApicAccess apic;
    /** Locked instructions as transactions, on a machine with several vCPUs; null with one. */
    final LockedAccess lockedAccess;
    /** An NMI is being handled: the next one waits for IRET (SDM Vol. 3 §6.7.1). */
    boolean nmiBlocked;

    Cpu(Mmu mmu, Bus bus) {
        this(mmu, bus, null, null);
    }

    Cpu(Mmu mmu, Bus bus, io.p2vkit.hv.cpu.LocalApicAccess apic, LockedAccess lockedAccess) {
        this.mmu = mmu;
        this.bus = bus;
        this.apic = apic;
        this.lockedAccess = lockedAccess;
        if (lockedAccess != null) {
            lockedAccess.bind(mmu);
        }
        reset();
    }

    /**
     * Runs one instruction's handler; on a multi-vCPU machine a locked read-modify-write (LOCK
     * prefix, or XCHG with memory, locked by definition) runs as a {@link LockedAccess}.
     */
    void execute(Handler h, DecodedInsn d) {
        if (lockedAccess != null && needsLockedAccess(d)) {
            lockedAccess.execute(this, d, h);
        } else {
            h.exec(this, d);
        }
    }

    /** LOCK-prefixed, or XCHG with a memory operand (locked by definition, SDM Vol. 2 XCHG). */
    static boolean needsLockedAccess(DecodedInsn d) {
        return (d.prefixes & DecodedInsn.PREFIX_LOCK) != 0 || (d.opcode & 0x1FE) == 0x86 && d.mod != 3;
    }

    /** The power-on state (SDM Vol. 3 §9.1.1, Table 9-1): CS:IP = F000:FFF0, CS base FFFF0000. */
    void reset() {
        java.util.Arrays.fill(r, 0);
        r[EDX] = 0x600; // family 6 signature
        for (int s = 0; s < 6; s++) {
            setSegmentCache(s, 0, 0, 0xFFFF, ATTR_P | ATTR_S | 0x3);
        }
        setSegmentCache(CS, 0xF000, 0xFFFF_0000, 0xFFFF, ATTR_P | ATTR_S | ATTR_CODE | 0x3);
        eip = 0xFFF0;
        flags.load(2);
        mmu.cr0 = CR0_ET | CR0_CD | CR0_NW;
        mmu.cr3 = 0;
        mmu.cr4 = 0;
        mmu.efer = 0;
        kernelGsBase = 0;
        star = 0;
        lstar = 0;
        cstar = 0;
        fmask = 0;
        mmu.linearMask = 0xFFFF_FFFFL;
        mmu.setUser(false);
        cpl = 0;
        cr2 = 0;
        gdtBase = 0;
        gdtLimit = 0xFFFF;
        idtBase = 0;
        idtLimit = 0xFFFF;
        ldtSel = 0;
        ldtBase = 0;
        ldtLimit = 0xFFFF;
        trSel = 0;
        trBase = 0;
        trBase64 = 0;
        trLimit = 0xFFFF;
        trAttr = 0x8B;
        java.util.Arrays.fill(dr, 0);
        dr[6] = 0xFFFF_0FF0L;
        dr[7] = 0x400;
        fpu.reset();
        java.util.Arrays.fill(xmm, 0);
        mxcsr = 0x1F80;
        xcr0 = XSave.X87;
        halted = false;
        enter64 = false;
        interruptShadow = false;
        nmiBlocked = false;
        mmu.flush();
    }

    /**
     * INIT: the reset state, except that the SSE state (XMM registers, MXCSR) and XCR0 are kept
     * (SDM Vol. 1 §11.6.4, §13.3).
     */
    void init() {
        long[] keptXmm = xmm.clone();
        int keptMxcsr = mxcsr;
        long keptXcr0 = xcr0;
        reset();
        System.arraycopy(keptXmm, 0, xmm, 0, xmm.length);
        mxcsr = keptMxcsr;
        xcr0 = keptXcr0;
    }

    // ---- modes ----

    boolean protectedMode() {
        return (mmu.cr0 & CR0_PE) != 0;
    }

    /** IA-32e mode is active (EFER.LMA): 4-level paging, compatibility or 64-bit code. */
    boolean ia32e() {
        return (mmu.efer & Mmu.EFER_LMA) != 0;
    }

    /** 64-bit mode: IA-32e mode with CS.L = 1 (never entered yet: such a CS load raises #GP). */
    boolean longMode64() {
        return ia32e() && (segAttr[CS] & ATTR_L) != 0;
    }

    /**
     * WRMSR to IA32_EFER: SCE, NXE and LME are writable; LMA is the CPU's to set (writes to it are
     * ignored); LME may not change while paging is on (SDM Vol. 3 §9.8.5); other bits #GP.
     */
    void writeEfer(long v) {
        if ((v & ~(Syscall64.EFER_SCE | Mmu.EFER_NXE | Mmu.EFER_LME | Mmu.EFER_LMA)) != 0) {
            throw CpuFault.gp(0);
        }
        long old = mmu.efer;
        if (((old ^ v) & Mmu.EFER_LME) != 0 && mmu.pagingOn()) {
            throw CpuFault.gp(0);
        }
        mmu.efer = (v & ~Mmu.EFER_LMA) | (old & Mmu.EFER_LMA);
        mmu.flush();
    }

    int cr0() {
        return mmu.cr0;
    }

    void setCpl(int newCpl) {
        if ((newCpl == 3) != mmu.user) {
            mmu.setUser(newCpl == 3);
        }
        cpl = newCpl;
    }

    /** Loads a segment register's hidden part, as a descriptor load or a real-mode load does. */
    void setSegmentCache(int seg, int sel, int base, int limit, int attr) {
        segSel[seg] = sel & 0xFFFF;
        segBase[seg] = base;
        if (seg == FS) {
            fsBase = base & 0xFFFF_FFFFL;
        } else if (seg == GS) {
            gsBase = base & 0xFFFF_FFFFL;
        }
        segLimit[seg] = limit;
        segAttr[seg] = attr;
        boolean expandDown = (attr & ATTR_CODE) == 0 && (attr & 4) != 0 && (attr & ATTR_S) != 0;
        segCheckLimit[seg] = (attr & ATTR_P) == 0 || expandDown ? -1L : limit & 0xFFFF_FFFFL;
        segReadOnly[seg] = (attr & ATTR_S) != 0 && ((attr & ATTR_CODE) != 0 || (attr & 2) == 0);
        if (seg == CS) {
            cs32 = (attr & ATTR_DB) != 0;
            boolean m64 = ia32e() && (attr & ATTR_L) != 0;
            enter64 |= m64 && !mode64;
            mode64 = m64;
            mmu.linearMask = m64 ? -1L : 0xFFFF_FFFFL;
            ipMask = cs32 || m64 ? -1 : 0xFFFF;
        } else if (seg == SS) {
            ss32 = (attr & ATTR_DB) != 0;
        }
    }

    /**
     * The linear address {@code offset} bytes into a descriptor table or TSS: 64-bit in IA-32e
     * mode (compatibility code included), wrapping at 4 GiB otherwise.
     */
    long tableAddress(long base, long offset) {
        long a = base + offset;
        return ia32e() ? a : a & 0xFFFF_FFFFL;
    }

    /** Continues at {@code target} in 64-bit code (interrupt delivery, IRETQ). */
    void jumpTo64(long target) {
        rip = target;
        eip = (int) target;
        enter64 = false;
    }

    /** Sets the FS or GS base from a 64-bit value (WRMSR, SWAPGS); legacy code sees its low half. */
    void setSegmentBase64(int seg, long base) {
        segBase[seg] = (int) base;
        if (seg == FS) {
            fsBase = base;
        } else {
            gsBase = base;
        }
    }

    // ---- registers ----

    int r32(int n) {
        return (int) r[n];
    }

    /** Writes a 32-bit register, zero-extending into the upper half. */
    void set32(int n, int v) {
        r[n] = v & 0xFFFF_FFFFL;
    }

    int reg(int n, int size) {
        return switch (size) {
            case 1 -> n < 4 ? (int) r[n] & 0xFF : ((int) r[n - 4] >>> 8) & 0xFF;
            case 2 -> (int) r[n] & 0xFFFF;
            default -> (int) r[n];
        };
    }

    void setReg(int n, int size, int v) {
        switch (size) {
            case 1 -> {
                if (n < 4) {
                    r[n] = (r[n] & 0xFFFF_FF00) | (v & 0xFF);
                } else {
                    r[n - 4] = (r[n - 4] & 0xFFFF_00FF) | ((v & 0xFF) << 8);
                }
            }
            case 2 -> r[n] = (r[n] & 0xFFFF_0000) | (v & 0xFFFF);
            default -> set32(n, v);
        }
    }

    // ---- memory operands ----

    /** The effective address (offset within the segment) of a ModRM memory operand. */
    int ea(DecodedInsn d) {
        int a = d.disp;
        if (d.base >= 0) {
            a += (int) r[d.base];
        }
        if (d.index >= 0) {
            a += (int) r[d.index] << d.scale;
        }
        return d.addr32() ? a : a & 0xFFFF;
    }

    /** Linear address of {@code size} bytes at {@code offset} in segment {@code seg}, limit-checked. */
    int linear(int seg, int offset, int size) {
        long end = (offset & 0xFFFF_FFFFL) + size - 1;
        if (end > segCheckLimit[seg]) {
            checkLimitSlow(seg, offset, end);
        }
        return segBase[seg] + offset;
    }

    private void checkLimitSlow(int seg, int offset, long end) {
        int attr = segAttr[seg];
        if ((attr & ATTR_P) == 0) {
            throw seg == SS ? CpuFault.withCode(CpuFault.SS, 0) : CpuFault.gp(0);
        }
        boolean expandDown = (attr & ATTR_CODE) == 0 && (attr & 4) != 0;
        if (expandDown) {
            long upper = (attr & ATTR_DB) != 0 ? 0xFFFF_FFFFL : 0xFFFF;
            if ((offset & 0xFFFF_FFFFL) > (segLimit[seg] & 0xFFFF_FFFFL) && end <= upper) {
                return;
            }
        }
        throw seg == SS ? CpuFault.withCode(CpuFault.SS, 0) : CpuFault.gp(0);
    }

    int rmLinear(DecodedInsn d, int size) {
        return linear(d.seg, ea(d), size);
    }

    /** Linear address for a write: also refuses code and read-only data segments in protected mode. */
    int linearWrite(int seg, int offset, int size) {
        if (segReadOnly[seg] && protectedMode()) {
            throw seg == SS ? CpuFault.withCode(CpuFault.SS, 0) : CpuFault.gp(0);
        }
        return linear(seg, offset, size);
    }

    int rmLinearWrite(DecodedInsn d, int size) {
        return linearWrite(d.seg, ea(d), size);
    }

    int readRM(DecodedInsn d, int size) {
        if (d.mod == 3) {
            return reg(d.rm, size);
        }
        return mmu.read(rmLinear(d, size), size);
    }

    void writeRM(DecodedInsn d, int size, int v) {
        if (d.mod == 3) {
            setReg(d.rm, size, v);
        } else {
            mmu.write(rmLinearWrite(d, size), size, v);
        }
    }

    int readMem(int seg, int offset, int size) {
        return mmu.read(linear(seg, offset, size), size);
    }

    void writeMem(int seg, int offset, int size, int v) {
        mmu.write(linearWrite(seg, offset, size), size, v);
    }

    // ---- stack ----

    int sp() {
        return ss32 ? (int) r[ESP] : (int) r[ESP] & 0xFFFF;
    }

    void setSp(int v) {
        if (ss32) {
            set32(ESP, v);
        } else {
            r[ESP] = (r[ESP] & 0xFFFF_0000) | (v & 0xFFFF);
        }
    }

    void push(int size, int v) {
        int nsp = sp() - size;
        if (!ss32) {
            nsp &= 0xFFFF;
        }
        mmu.write(linear(SS, nsp, size), size, v);
        setSp(nsp);
    }

    int pop(int size) {
        int sp = sp();
        int v = mmu.read(linear(SS, sp, size), size);
        setSp(sp + size);
        return v;
    }

    /** Reads the stack {@code depth} bytes above the top without popping. */
    int peek(int depth, int size) {
        int off = sp() + depth;
        if (!ss32) {
            off &= 0xFFFF;
        }
        return mmu.read(linear(SS, off, size), size);
    }

    // ---- flags ----

    int eflags() {
        return flags.get();
    }

    boolean interruptsEnabled() {
        return (flags.stored & Flags.IF) != 0;
    }

    int iopl() {
        return (flags.stored >>> 12) & 3;
    }

    /**
     * Writes EFLAGS as POPF/IRET do: which bits may change depends on the mode and privilege
     * (SDM Vol. 2 POPF): IOPL only at CPL 0, IF only when CPL <= IOPL. VM and RF are never set
     * here (virtual-8086 mode is not emulated).
     */
    void writeEflags(int value, int size) {
        int writable = Flags.ARITH | Flags.TF | Flags.DF | Flags.NT | Flags.AC | Flags.ID;
        if (!protectedMode() || cpl == 0) {
            writable |= Flags.IOPL | Flags.IF;
        } else if (cpl <= iopl()) {
            writable |= Flags.IF;
        }
        if (size == 2) {
            writable &= 0xFFFF;
        }
        int old = flags.get();
        flags.load((old & ~writable) | (value & writable));
        breakSlice = true;
    }

    // ---- control registers ----

    /**
     * MOV to CR0. Setting PG with EFER.LME activates IA-32e mode (EFER.LMA), which needs CR4.PAE
     * (SDM Vol. 3 §9.8.5); clearing PG leaves it, which 64-bit code may not do (§9.8.5.4).
     */
    void writeCr0(int v) {
        v |= CR0_ET;
        if ((v & CR0_PG) != 0 && (v & CR0_PE) == 0) {
            throw CpuFault.gp(0);
        }
        int old = mmu.cr0;
        boolean pagingOn = (old & CR0_PG) == 0 && (v & CR0_PG) != 0;
        boolean pagingOff = (old & CR0_PG) != 0 && (v & CR0_PG) == 0;
        if (pagingOn && (mmu.efer & Mmu.EFER_LME) != 0) {
            if ((mmu.cr4 & Mmu.CR4_PAE) == 0) {
                throw CpuFault.gp(0);
            }
            mmu.efer |= Mmu.EFER_LMA;
        } else if (pagingOff && (mmu.efer & Mmu.EFER_LMA) != 0) {
            if (longMode64()) {
                throw CpuFault.gp(0);
            }
            mmu.efer &= ~Mmu.EFER_LMA;
        }
        mmu.cr0 = v;
        if (((old ^ v) & (CR0_PG | CR0_PE | CR0_WP)) != 0) {
            mmu.flush();
        }
        if ((v & CR0_PE) == 0) {
            setCpl(0);
        }
        breakSlice = true;
    }

    void writeCr3(int v) {
        mmu.cr3 = v & 0xFFFF_FFFFL;
        mmu.flushNonGlobal();
    }

    /** CR4.OSXSAVE: XGETBV, XSETBV, XSAVE and XRSTOR are enabled (SDM Vol. 3 §2.5). */
    static final int CR4_OSXSAVE = 1 << 18;
    /** CR4 bits we implement: VME/PVI absent; DE, PSE, PAE, PGE, OSFXSR, OSXMMEXCPT, OSXSAVE. */
    static final int CR4_SUPPORTED = 0x8 | 0x10 | 0x20 | 0x80 | Sse.CR4_OSFXSR | Sse.CR4_OSXMMEXCPT | CR4_OSXSAVE;

    void writeCr4(int v) {
        if ((v & ~CR4_SUPPORTED) != 0) {
            throw CpuFault.gp(0);
        }
        if (ia32e() && (v & Mmu.CR4_PAE) == 0) {
            throw CpuFault.gp(0); // IA-32e mode cannot leave PAE (SDM Vol. 3 §9.8.5.4)
        }
        int old = mmu.cr4;
        mmu.cr4 = v;
        if (old != v) {
            mmu.flush();
        }
    }

    // ---- fetch, decode, execute ----

    /** Runs up to {@code max} instructions; a {@link CpuFault} escapes to the caller. */
    void runSlice(int max) {
        if (mode64) {
            if (enter64) {
                rip = eip & 0xFFFF_FFFFL;
                enter64 = false;
            }
            Exec64.run(this, max);
            return;
        }
        Handler[] table = Dispatch.TABLE;
        for (int i = 0; i < max; i++) {
            insnEip = eip;
            insnEsp = r[ESP];
            DecodedInsn d = fetch();
            eip = (eip + d.length) & ipMask;
            if ((d.prefixes & DecodedInsn.PREFIX_LOCK) != 0 && !LockRules.allowed(d)) {
                throw CpuFault.ud(); // a guest error, not an opcode we lack: not counted
            }
            if (lockedAccess == null) {
                table[d.opcode].exec(this, d);
            } else {
                execute(table[d.opcode], d);
            }
            retired++;
            if (breakSlice) {
                breakSlice = false;
                return;
            }
        }
    }

    /**
     * The code page RIP is on (64-bit mode), or null when the code runs from MMIO: #GP for a
     * non-canonical RIP, a page fault when RIP is not mapped for execution.
     */
    CodePage codePage64() {
        long lin = rip;
        if (lin << 16 >> 16 != lin) {
            throw CpuFault.gp(0);
        }
        return fetchPageFor(lin);
    }

    /**
     * The 64-bit instruction at {@code lin} on {@code page}, decoded and cached there the first
     * time. One that crosses the page end is cached with the code page its tail is on
     * ({@link CodePage#crossing}) and serves while RIP's next page is still that one, unwritten.
     */
    DecodedInsn insn64(CodePage page, long lin) {
        int off = (int) lin & 0xFFF;
        DecodedInsn d = page.insns[off];
        if (d != null && d.code64()) {
            return d;
        }
        long nextPage = (lin | 0xFFF) + 1;
        DecodedInsn crossing = page.crossing(off); // only this method fills it: 64-bit code
        // Translating the next page faults as fetching the tail's first byte would.
        if (crossing != null && codePage(nextPage) == page.crossingTail()) {
            return crossing;
        }
        d = decodeAt(lin);
        if (off + d.length <= 0x1000) {
            page.decoded(off, d);
        } else {
            CodePage tail = codePage(nextPage); // the decode fetched from it: no fault here
            if (tail != null) {
                page.crossed(off, d, tail);
            }
        }
        return d;
    }

    /** The instruction at CS:EIP, or at RIP in 64-bit mode, from the decode cache when it can. */
    DecodedInsn fetch() {
        long lin;
        if (mode64) {
            lin = rip;
            if (lin << 16 >> 16 != lin) {
                throw CpuFault.gp(0); // a non-canonical RIP
            }
        } else {
            if (Integer.compareUnsigned(eip, segLimit[CS]) > 0) {
                throw CpuFault.gp(0); // EIP beyond the code segment limit (SDM Vol. 3 §5.3)
            }
            lin = (segBase[CS] + eip) & 0xFFFF_FFFFL;
        }
        CodePage page = fetchPageFor(lin);
        int off = (int) lin & 0xFFF;
        if (page != null) {
            DecodedInsn d = page.insns[off];
            if (d != null && d.code64() == mode64 && (mode64 || d.code32() == cs32)) {
                return d;
            }
        }
        DecodedInsn d = decodeAt(lin);
        if (page != null && off + d.length <= 0x1000) {
            page.decoded(off, d);
        }
        return d;
    }

    /** The code page of linear {@code lin}, remembered while fetching stays on one page and nothing changed. */
    private CodePage fetchPageFor(long lin) {
        if (lin >>> 12 != fetchVpn || fetchGen != mmu.generation) {
            fetchPage = codePage(lin);
            fetchVpn = lin >>> 12;
            fetchGen = mmu.generation;
        }
        return fetchPage;
    }

    /**
     * The code page for linear {@code lin}, through a small direct-mapped cache of recent code
     * pages so that calls and returns between pages need no page walk or map lookup. The cache
     * is emptied whenever the MMU's generation moves (a translation or a code page went away).
     */
    CodePage codePage(long lin) {
        long vpn = lin >>> 12;
        if (codeCacheGen != mmu.generation) {
            java.util.Arrays.fill(codeCacheVpn, -1);
            codeCacheGen = mmu.generation;
        }
        int idx = (int) vpn & (CODE_CACHE_SIZE - 1);
        if (codeCacheVpn[idx] == vpn) {
            return codeCachePage[idx];
        }
        CodePage page = mmu.codePageFor(lin);
        if (codeCacheGen != mmu.generation) {
            return page; // the walk itself changed something (A/D bits in a code page): do not cache
        }
        codeCacheVpn[idx] = vpn;
        codeCachePage[idx] = page;
        return page;
    }

    DecodedInsn decodeAt(long lin) {
        try {
            if (mode64) {
                return Decoder.decode64(i -> mmu.fetch8(lin + i));
            }
            return Decoder.decode(i -> mmu.fetch8((lin + i) & 0xFFFF_FFFFL), cs32);
        } catch (DecodeException e) {
            throw CpuFault.gp(0);
        }
    }

    /** Forgets cached instructions so that the next fetch re-translates (mode switches). */
    void invalidateFetch() {
        fetchVpn = -1;
    }

    /** Raises #UD for an opcode we do not implement, counting it. */
    CpuFault undefined(DecodedInsn d) {
        undefinedOpcodes++;
        lastUndefinedOpcode = d.opcode;
        lastUndefinedForm = d.hasModrm() ? String.format(" /%d (mod=%d rm=%d)", d.reg & 7, d.mod, d.rm & 7) : "";
        lastUndefinedAt = mode64 ? String.format("%04X:%016X", segSel[CS], insnRip)
                : String.format("%04X:%08X", segSel[CS], insnEip);
        return CpuFault.ud();
    }
}
