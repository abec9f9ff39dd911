package io.p2vkit.hv.emu;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.LocalApicAccess;
import io.p2vkit.hv.memory.GuestMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * Linear to physical translation and memory access for the emulated CPU: 2-level and PAE paging
 * (SDM Vol. 3 ch. 4), a direct-mapped software TLB whose entries point straight into the
 * RAM region's native segment, MMIO routed to the {@link Bus}, ROM writes dropped, and the
 * decoded-code cache with its invalidation on writes to code pages.
 */
final class Mmu {

    static final int ACCESS_READ = 0;
    static final int ACCESS_WRITE = 1;
    static final int ACCESS_FETCH = 2;

    static final int CR0_PE = 1;
    static final int CR0_WP = 1 << 16;
    static final int CR0_PG = 1 << 31;
    static final int CR4_PSE = 1 << 4;
    static final int CR4_PAE = 1 << 5;
    static final int CR4_PGE = 1 << 7;
    static final long EFER_LME = 1L << 8;
    static final long EFER_LMA = 1L << 10;
    static final long EFER_NXE = 1L << 11;

    /**
     * 16,384 entries: 64 MiB of 4 KiB pages. A guest's working set (a 20 MB sieve, a sort over
     * 600,000 heap strings) misses a 4,096-entry TLB all the time. CR3 loads drop only the
     * entries listed as filled since ({@link #nonGlobal}), so the size costs them nothing.
     */
    private static final int TLB_BITS = 14;
    private static final int TLB_SIZE = 1 << TLB_BITS;
    private static final int TLB_MASK = TLB_SIZE - 1;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final long PTE_P = 1;
    private static final long PTE_RW = 2;
    private static final long PTE_US = 4;
    private static final long PTE_A = 0x20;
    private static final long PTE_D = 0x40;
    private static final long PTE_PS = 0x80;
    private static final long PTE_G = 0x100;
    private static final long PAE_ADDR = 0x000F_FFFF_FFFF_F000L;

    private final GuestMemory memory;
    private final Bus bus;

    // Paging controls, kept in sync by the CPU.
    int cr0;
    /** CR3: a 52-bit physical address in IA-32e mode, 32 bits otherwise. */
    long cr3;
    int cr4;
    long efer;
    /** Whether the current privilege level is 3 (user accesses); set through {@link #setUser}. */
    boolean user;
    /**
     * A TLB entry filled at CPL 0-2 has this bit in its tags: its rights (a supervisor page, a
     * write with CR0.WP clear) may exceed what CPL 3 may do. CPL 3 compares whole tags and so
     * uses only entries filled at CPL 3; CPL 0-2 masks the bit off and uses both (no SMEP or SMAP
     * is offered, so supervisor code may use anything user code may). So a change of privilege
     * (every interrupt and system call from user mode) needs no flush.
     */
    private static final long SUPERVISOR = 1L << 62;
    private long tagMask = tagMask(false);

    /** What TLB tags are masked with before comparing, at CPL 3 or at CPL 0-2. */
    static long tagMask(boolean user) {
        return user ? -1 : ~SUPERVISOR;
    }
    /**
     * Linear addresses wrap at 4 GiB outside 64-bit mode: accesses that cross a page end step
     * through this mask. All ones once 64-bit code runs (whoever enters 64-bit mode sets it).
     */
    long linearMask = 0xFFFF_FFFFL;
    /** The faulting linear address of the last #PF (the CPU copies it to CR2). */
    long faultAddress;

    // The software TLB, direct-mapped by linear page: entry i is the four longs at tlb[4i], the
    // read, write and fetch tags (the page number, -1 when that access must take the slow path)
    // and the addend from a linear address of the page to its host address. A compiled region
    // (this vCPU's own) holds the array in a static final field: to the JIT a constant of known
    // length, so a lookup is two array loads with no bounds check. (It was native memory read
    // through sun.misc.Unsafe: each of those reads counts ~50 bytecodes towards the JIT's
    // inlining budget of 8,000 per method, and large regions ran out of it.)
    static final int TLB_READ = 0;
    static final int TLB_WRITE = 1;
    static final int TLB_FETCH = 2;
    static final int TLB_ADDEND = 3;
    final long[] tlb = emptyTlb();
    /**
     * The table the interpreter's data accessors look up: {@link #tlb}, or while a locked
     * instruction runs {@link #MISS}, so that its every access takes the slow path into the
     * locked transaction. (Locked instructions never run inside a compiled region.)
     */
    private long[] dataTlb = tlb;
    private static final long[] MISS = emptyTlb();
    private final MemorySegment[] segment = new MemorySegment[TLB_SIZE];
    private final long[] segmentOffset = new long[TLB_SIZE];
    // A TLB entry only points into a RAM region of GuestMemory, which stays allocated while a
    // vCPU runs (the machine frees it after its vCPU threads have stopped): the fast paths
    // load and store at its host addresses through HostMemory.
    /** Where the accessors' host load or store goes when the access took the slow path. */
    private final MemorySegment scratch = Arena.ofAuto().allocate(8, 8);
    private final long scratchAddress = scratch.address();
    private final long[] physPage = new long[TLB_SIZE];
    /** Per TLB entry, whether its translation is global (survives a CR3 load while CR4.PGE is set). */
    private final boolean[] globalEntry = new boolean[TLB_SIZE];
    /**
     * The entries filled without the global bit since the last CR3 load, each listed once: a CR3
     * load drops those instead of scanning all 16,384. Linux's boot loads CR3 ~17,000 times
     * (mostly text_poke's temporary address space), with a few hundred fills in between.
     */
    private final int[] nonGlobal = new int[TLB_SIZE];
    private final boolean[] listedNonGlobal = new boolean[TLB_SIZE];
    private int nonGlobalCount;

    private final CodePageTable codePages = new CodePageTable();
    /** Bumped whenever a translation or a code page goes away; the fetch path re-checks then. */
    int generation;
    long romWritesDropped;
    /**
     * The 4 MiB-aligned windows where a 2 MiB or 4 MiB page has entered the TLB since the last
     * full flush, as bits hashed from the window's number (a bit may stand for several windows:
     * INVLPG then drops a window needlessly, never misses one).
     */
    private final long[] largePageWindows = new long[64];
    /** Whether a 1 GiB page has entered the TLB since the last full flush. */
    private boolean gigaPagesCached;

    /** The vCPU's own local APIC, decoded here because each CPU sees its own at the same address. */
    private final LocalApicAccess apic;
    /** The APIC page's physical page number while it is enabled, else -1. */
    private long apicPpn = -1;
    /** Decoded-code coherence with the other vCPUs, or null on a single-vCPU machine. */
    private final SharedCode shared;
    private final int vcpuIndex;
    private final SharedCode.Inbox inbox;
    private final long[] inboxMessages;

    Mmu(GuestMemory memory, Bus bus) {
        this(memory, bus, null, null, 0);
    }

    Mmu(GuestMemory memory, Bus bus, LocalApicAccess apic, SharedCode shared, int vcpuIndex) {
        this.memory = memory;
        this.bus = bus;
        this.apic = apic;
        this.shared = shared;
        this.vcpuIndex = vcpuIndex;
        this.inbox = shared == null ? null : new SharedCode.Inbox();
        this.inboxMessages = shared == null ? null : SharedCode.Inbox.buffer();
        if (shared != null) {
            shared.join(vcpuIndex, inbox);
        }
        flush();
        refreshApicBase();
    }

    /** Re-reads where the APIC page is (after WRMSR IA32_APIC_BASE); translations to it are dropped. */
    void refreshApicBase() {
        long base = apic == null ? -1 : apic.mmioBase();
        apicPpn = base < 0 ? -1 : base >>> 12;
        flush();
    }

    // ---- TLB maintenance ----

    /** Changes between CPL 3 and CPL 0-2: the TLB entries stay, tagged with the rights they were filled with. */
    void setUser(boolean cpl3) {
        user = cpl3;
        tagMask = tagMask(cpl3);
        generation++; // cached code pages were checked for the other privilege
    }

    /**
     * A CR3 load: drops the translations of the old address space but keeps global ones while
     * CR4.PGE is set (SDM Vol. 3 §4.10.2.4) — the kernel's, which every process shares.
     */
    void flushNonGlobal() {
        if ((cr4 & CR4_PGE) == 0) {
            flush();
            return;
        }
        for (int k = 0; k < nonGlobalCount; k++) {
            int i = nonGlobal[k];
            listedNonGlobal[i] = false;
            if (!globalEntry[i]) {
                drop(slot(i));
            }
        }
        nonGlobalCount = 0;
        generation++;
    }

    /** Drops every translation (paging mode or CR4 change, INIT). */
    void flush() {
        Arrays.fill(largePageWindows, 0);
        gigaPagesCached = false;
        Arrays.fill(tlb, -1);
        for (int k = 0; k < nonGlobalCount; k++) {
            listedNonGlobal[nonGlobal[k]] = false;
        }
        nonGlobalCount = 0;
        generation++;
    }

    /**
     * INVLPG. The TLB holds 4 KiB pieces, and INVLPG must drop every piece of a large page
     * holding {@code lin} (SDM Vol. 3 §4.10.4.1): once a 2/4 MiB page of the 4 MiB-aligned
     * window around it has been cached, every entry of that window goes (any such page lies
     * within it); once a 1 GiB page has, the whole TLB. (Linux's direct map and text are 2 MiB
     * pages, and its boot patches ~40,000 call sites with an INVLPG each: a whole flush each time
     * meant ~2 million page walks; a window each time, a scan of 1,024 entries. Its patching
     * maps the text through a 4 KiB page in a window of its own.)
     */
    void flushPage(long lin) {
        if (gigaPagesCached) {
            flush();
            return;
        }
        if (largePageMayHold(lin)) {
            dropWindow(lin);
        } else {
            drop(entry(lin));
        }
        generation++;
    }

    /** Notes that a 2 or 4 MiB page holding {@code lin} enters the TLB. */
    private void noteLargePage(long lin) {
        int bit = largePageWindowBit(lin);
        largePageWindows[bit >>> 6] |= 1L << bit;
    }

    /** Whether a 2 or 4 MiB page in the window of {@code lin} may have entered the TLB. */
    private boolean largePageMayHold(long lin) {
        int bit = largePageWindowBit(lin);
        return (largePageWindows[bit >>> 6] & 1L << bit) != 0;
    }

    private static int largePageWindowBit(long lin) {
        long window = lin >>> 22;
        return (int) (window ^ window >>> 12) & 0xFFF;
    }

    /** Drops the entries of the 1,024 pages of the 4 MiB-aligned window holding {@code lin}. */
    private void dropWindow(long lin) {
        long first = lin >>> 12 & ~0x3FFL;
        for (long vpn = first; vpn < first + 1024; vpn++) {
            int e = entry(vpn << 12);
            if ((tlb[e + TLB_READ] & ~SUPERVISOR) == vpn) {
                drop(e);
            }
        }
    }

    boolean pagingOn() {
        return (cr0 & CR0_PG) != 0;
    }

    // ---- fast paths ----
    //
    // Compiled regions call the static accessors below with the Mmu, the TLB's address and the
    // tag mask as constants (a region serves one vCPU at one privilege: a change of CPL ends a
    // region and needs another), so an access is the TLB lookup and one host
    // load or store, with no field loads or bounds checks in between. The accessors are small
    // enough that the JIT inlines them at every access of a large region, where a call would
    // spill the guest registers held in locals. The interpreter's instance accessors pass the
    // same through.
    //
    // The TLB entry comes from the access's last byte: an access that crosses a page end then
    // misses (the entry there cannot hold this page) and takes the slow path with no separate
    // check. A non-canonical address never hits either, its page number being no page's tag,
    // so the slow paths raise its #GP and regions need not check first.

    static int load8(Mmu m, long[] tlb, long mask, long lin) {
        return hostLoad8(readAddress(m, tlb, mask, lin, lin, 1));
    }

    static int load16(Mmu m, long[] tlb, long mask, long lin) {
        return hostLoad16(readAddress(m, tlb, mask, lin, lin + 1, 2));
    }

    static int load32(Mmu m, long[] tlb, long mask, long lin) {
        return hostLoad32(readAddress(m, tlb, mask, lin, lin + 3, 4));
    }

    /**
     * A 64-bit read. Off the fast path an aligned quadword within a page is one 8-byte access
     * (single-copy atomic, SDM Vol. 3 §9.1.1); across a page end or to MMIO it is two 32-bit
     * reads, so a device sees two 4-byte accesses.
     */
    static long load64(Mmu m, long[] tlb, long mask, long lin) {
        return hostLoad64(readAddress(m, tlb, mask, lin, lin + 7, 8));
    }

    static void store8(Mmu m, long[] tlb, long mask, long lin, int v) {
        hostStore8(writeAddress(m, tlb, mask, lin, lin, 1, v), v);
    }

    static void store16(Mmu m, long[] tlb, long mask, long lin, int v) {
        hostStore16(writeAddress(m, tlb, mask, lin, lin + 1, 2, v), v);
    }

    static void store32(Mmu m, long[] tlb, long mask, long lin, int v) {
        hostStore32(writeAddress(m, tlb, mask, lin, lin + 3, 4, v), v);
    }

    /** A 64-bit write; both pages are checked first, so a fault leaves memory untouched. */
    static void store64(Mmu m, long[] tlb, long mask, long lin, long v) {
        hostStore64(writeAddress(m, tlb, mask, lin, lin + 7, 8, v), v);
    }

    // A region's stores: as above, except that one into code this vCPU has decoded stops the
    // region first (StoreIntoCode), so that no store leaves a region running changed code.

    static void regionStore8(Mmu m, long[] tlb, long mask, long lin, int v) {
        hostStore8(regionWriteAddress(m, tlb, mask, lin, lin, 1, v), v);
    }

    static void regionStore16(Mmu m, long[] tlb, long mask, long lin, int v) {
        hostStore16(regionWriteAddress(m, tlb, mask, lin, lin + 1, 2, v), v);
    }

    static void regionStore32(Mmu m, long[] tlb, long mask, long lin, int v) {
        hostStore32(regionWriteAddress(m, tlb, mask, lin, lin + 3, 4, v), v);
    }

    static void regionStore64(Mmu m, long[] tlb, long mask, long lin, long v) {
        hostStore64(regionWriteAddress(m, tlb, mask, lin, lin + 7, 8, v), v);
    }

    // The host side of every fast-path access: one load or store, ordered as x86 (TSO) orders
    // them. Region loops call these directly with a host address from a hoisted lookup (loopPage).

    static int hostLoad8(long host) {
        int v = HostMemory.getByte(host) & 0xFF;
        VarHandle.acquireFence(); // no later load or store moves above this load
        return v;
    }

    static int hostLoad16(long host) {
        int v = HostMemory.getShort(host) & 0xFFFF;
        VarHandle.acquireFence();
        return v;
    }

    static int hostLoad32(long host) {
        int v = HostMemory.getInt(host);
        VarHandle.acquireFence();
        return v;
    }

    static long hostLoad64(long host) {
        long v = HostMemory.getLong(host);
        VarHandle.acquireFence();
        return v;
    }

    static void hostStore8(long host, int v) {
        VarHandle.releaseFence(); // no earlier load or store moves below this store
        HostMemory.putByte(host, (byte) v);
    }

    static void hostStore16(long host, int v) {
        VarHandle.releaseFence();
        HostMemory.putShort(host, (short) v);
    }

    static void hostStore32(long host, int v) {
        VarHandle.releaseFence();
        HostMemory.putInt(host, v);
    }

    static void hostStore64(long host, long v) {
        VarHandle.releaseFence();
        HostMemory.putLong(host, v);
    }

    /** What {@link #loopPage} answers when it cannot serve: no addend has its low bit set (pages are 4 KiB aligned on both sides). */
    static final long NO_PAGE = 1;

    /**
     * For a compiled region's loop ({@link LoopPages}): the addend from linear to host addresses
     * of the page holding {@code [lo, lo + span]}, when that range is within one page the TLB
     * maps for reading (and for writing when {@code write}); else {@link #NO_PAGE}. It fills
     * nothing, so it never faults: the loop's accesses then take their usual path.
     */
    static long loopPage(long[] tlb, long mask, long lo, long span, boolean write) {
        if ((lo ^ (lo + span)) >>> 12 != 0) {
            return NO_PAGE;
        }
        int e = entry(lo);
        long tag = lo >>> 12;
        if ((tlb[e + TLB_READ] & mask) != tag || write && (tlb[e + TLB_WRITE] & mask) != tag) {
            return NO_PAGE;
        }
        return tlb[e + TLB_ADDEND];
    }

    /**
     * Reads of operands the instruction will write back: the write permission is checked first,
     * so a fault never leaves flags updated for a write that did not happen.
     */
    static int loadRmw8(Mmu m, long[] tlb, long mask, long lin) {
        return hostLoad8(rmwAddress(m, tlb, mask, lin, lin, 1));
    }

    static int loadRmw16(Mmu m, long[] tlb, long mask, long lin) {
        return hostLoad16(rmwAddress(m, tlb, mask, lin, lin + 1, 2));
    }

    static int loadRmw32(Mmu m, long[] tlb, long mask, long lin) {
        return hostLoad32(rmwAddress(m, tlb, mask, lin, lin + 3, 4));
    }

    static long loadRmw64(Mmu m, long[] tlb, long mask, long lin) {
        return hostLoad64(rmwAddress(m, tlb, mask, lin, lin + 7, 8));
    }

    /** The offset in the TLB of the entry of the page holding linear {@code lin}. */
    private static int entry(long lin) {
        return (int) (lin >>> 10) & TLB_MASK << 2; // slot((int) (lin >>> 12) & TLB_MASK) in two host instructions
    }

    /** The offset in the TLB of entry {@code i}. */
    private static int slot(int i) {
        return i << 2;
    }

    /** Makes every access through the entry at {@code e} miss. */
    private void drop(int e) {
        tlb[e + TLB_READ] = -1;
        tlb[e + TLB_WRITE] = -1;
        tlb[e + TLB_FETCH] = -1;
    }

    /** A TLB whose every access misses. */
    private static long[] emptyTlb() {
        long[] t = new long[4 * TLB_SIZE];
        Arrays.fill(t, -1);
        return t;
    }

    /**
     * The host address of {@code [lin, lin+size)} ({@code last} its last byte) when the TLB maps it to RAM for reading;
     * otherwise the access happens here (page walk, MMIO, a page end, a locked instruction) and
     * the answer is the address of {@link #scratch}, which then holds the value read.
     */
    private static long readAddress(Mmu m, long[] tlb, long mask, long lin, long last, int size) {
        int e = entry(last);
        if ((tlb[e] & mask) == lin >>> 12) {
            return tlb[e + TLB_ADDEND] + lin;
        }
        return m.readMiss(lin, size);
    }

    /** The read {@link #readAddress} could not serve from the TLB, its value left in {@link #scratch}. */
    private long readMiss(long lin, int size) {
        Exec64.canonical(lin); // a region's non-canonical operand lands here (outside 64-bit mode all are)
        scratch.set(LONG, 0, size == 8 ? read64Slow(lin) : readSlow(lin, size) & 0xFFFF_FFFFL);
        return scratchAddress;
    }

    /**
     * The host address to store {@code [lin, lin+size)} at when the TLB maps it to writable RAM;
     * otherwise the write of {@code v} happens here, all of it, and the answer is the address
     * of {@link #scratch}, where the caller's store then lands harmlessly.
     */
    private static long writeAddress(Mmu m, long[] tlb, long mask, long lin, long last, int size, long v) {
        int e = entry(last) + TLB_WRITE;
        if ((tlb[e] & mask) == lin >>> 12) {
            return tlb[e + (TLB_ADDEND - TLB_WRITE)] + lin;
        }
        return m.writeMiss(lin, size, v);
    }

    /** {@link #writeAddress} for a region's store ({@link #regionStore32}). */
    private static long regionWriteAddress(Mmu m, long[] tlb, long mask, long lin, long last, int size, long v) {
        int e = entry(last) + TLB_WRITE;
        if ((tlb[e] & mask) == lin >>> 12) {
            return tlb[e + (TLB_ADDEND - TLB_WRITE)] + lin;
        }
        return m.regionWriteMiss(tlb, mask, lin, last, size, v);
    }

    /**
     * A region's store the TLB could not serve. A store into a page of decoded code throws
     * {@link StoreIntoCode} with nothing written (a page fault comes first, as it would); any other
     * goes through {@link #writeAddress} again, which the walk here has made serve a plain miss
     * from the TLB, and the rest (MMIO, ROM, a page end) through {@link #writeMiss}.
     */
    private long regionWriteMiss(long[] tlb, long mask, long lin, long last, int size, long v) {
        Exec64.canonical(lin);
        if (holdsCode(lin) || (last ^ lin) >>> 12 != 0 && holdsCode(last)) {
            throw StoreIntoCode.STOP;
        }
        return writeAddress(this, tlb, mask, lin, last, size, v);
    }

    /** Whether a write at {@code lin} goes to a page this vCPU has decoded code of (walking as the write would). */
    private boolean holdsCode(long lin) {
        return codePages.contains(translate(lin, ACCESS_WRITE, user) >>> 12);
    }

    /** The write {@link #writeAddress} could not serve from the TLB, done; its caller's store goes to {@link #scratch}. */
    private long writeMiss(long lin, int size, long v) {
        Exec64.canonical(lin); // a region's non-canonical operand lands here (outside 64-bit mode all are)
        if (size == 8) {
            write64Slow(lin, v);
        } else {
            writeSlow(lin, size, (int) v);
        }
        return scratchAddress;
    }

    /** {@link #readAddress} for an operand about to be written: the write tag must hit, or the write is probed. */
    private static long rmwAddress(Mmu m, long[] tlb, long mask, long lin, long last, int size) {
        int e = entry(last) + TLB_WRITE;
        if ((tlb[e] & mask) == lin >>> 12) {
            return tlb[e + (TLB_ADDEND - TLB_WRITE)] + lin; // a write tag is only ever set with the read tag
        }
        return m.rmwMiss(lin, size);
    }

    private long rmwMiss(long lin, int size) {
        Exec64.canonical(lin); // a region's non-canonical operand lands here (outside 64-bit mode all are)
        probeWrite(lin, size);
        return readMiss(lin, size);
    }

    // The interpreter's accessors: the same, with the table of the moment.

    int read8(long lin) {
        return load8(this, dataTlb, tagMask, lin);
    }

    int read16(long lin) {
        return load16(this, dataTlb, tagMask, lin);
    }

    int read32(long lin) {
        return load32(this, dataTlb, tagMask, lin);
    }

    long read64(long lin) {
        return load64(this, dataTlb, tagMask, lin);
    }

    int read(long lin, int size) {
        return size == 4 ? read32(lin) : size == 2 ? read16(lin) : read8(lin);
    }

    void write8(long lin, int v) {
        store8(this, dataTlb, tagMask, lin, v);
    }

    void write16(long lin, int v) {
        store16(this, dataTlb, tagMask, lin, v);
    }

    void write32(long lin, int v) {
        store32(this, dataTlb, tagMask, lin, v);
    }

    void write64(long lin, long v) {
        store64(this, dataTlb, tagMask, lin, v);
    }

    void write(long lin, int size, int v) {
        if (size == 4) {
            write32(lin, v);
        } else if (size == 2) {
            write16(lin, v);
        } else {
            write8(lin, v);
        }
    }

    int readRmw(long lin, int size) {
        return size == 4 ? readRmw32(lin) : size == 2 ? readRmw16(lin) : readRmw8(lin);
    }

    int readRmw8(long lin) {
        return loadRmw8(this, dataTlb, tagMask, lin);
    }

    int readRmw16(long lin) {
        return loadRmw16(this, dataTlb, tagMask, lin);
    }

    int readRmw32(long lin) {
        return loadRmw32(this, dataTlb, tagMask, lin);
    }

    long readRmw64(long lin) {
        return loadRmw64(this, dataTlb, tagMask, lin);
    }

    private long read64Slow(long lin) {
        if (locked == null && (lin & 0xFFF) <= 0xFF8) {
            long pa = translate(lin, ACCESS_READ, user);
            GuestMemory.Region r = pa >>> 12 == apicPpn ? null : memory.find(pa, 8);
            if (r != null) {
                return r.segment().get(LONG, pa - r.base());
            }
        }
        return (read32(lin) & 0xFFFF_FFFFL) | (long) read32((lin + 4) & linearMask) << 32;
    }

    private void write64Slow(long lin, long v) {
        if (locked == null && (lin & 0xFFF) <= 0xFF8) {
            long pa = translate(lin, ACCESS_WRITE, user);
            GuestMemory.Region r = pa >>> 12 == apicPpn ? null : memory.find(pa, 8);
            if (r != null && !r.readOnly()) {
                invalidateCode(pa >>> 12);
                if (shared != null) {
                    shared.written(pa >>> 12, vcpuIndex);
                }
                r.segment().set(LONG, pa - r.base(), v);
                return;
            }
        }
        probeWrite(lin, 8);
        write32(lin, (int) v);
        write32((lin + 4) & linearMask, (int) (v >>> 32));
    }

    /** Checks that {@code [lin, lin+size)} may be written, faulting now rather than mid-update. */
    void probeWrite(long lin, int size) {
        translate(lin, ACCESS_WRITE, user);
        if (((lin & 0xFFF) + size) > 0x1000) {
            translate((lin + size - 1) & linearMask, ACCESS_WRITE, user);
        }
    }

    /** An instruction byte at {@code lin}. */
    int fetch8(long lin) {
        int e = entry(lin);
        if ((tlb[e + TLB_FETCH] & tagMask) == lin >>> 12) {
            return HostMemory.getByte(tlb[e + TLB_ADDEND] + lin) & 0xFF;
        }
        long pa = translate(lin, ACCESS_FETCH, user);
        return physRead(pa, 1);
    }

    // ---- bulk access for REP MOVS/STOS ----

    /** Host offset of the last {@link #readSegmentAt}/{@link #writeSegmentAt} answer. */
    long bulkOffset;

    /**
     * The RAM segment behind {@code lin} for reading (translating and filling the TLB, which may
     * raise #PF), or null when the page is not plain RAM. The offset goes to {@link #bulkOffset}.
     */
    MemorySegment readSegmentAt(long lin) {
        int idx = (int) (lin >>> 12) & TLB_MASK;
        int tag = entry(lin) + TLB_READ;
        if ((dataTlb[tag] & tagMask) != lin >>> 12) {
            translate(lin, ACCESS_READ, user);
            if ((dataTlb[tag] & tagMask) != lin >>> 12) {
                return null;
            }
        }
        bulkOffset = segmentOffset[idx] + (lin & 0xFFF);
        return segment[idx];
    }

    /** Like {@link #readSegmentAt} for writing; null also for ROM and pages holding decoded code. */
    MemorySegment writeSegmentAt(long lin) {
        int idx = (int) (lin >>> 12) & TLB_MASK;
        int tag = entry(lin) + TLB_WRITE;
        if ((dataTlb[tag] & tagMask) != lin >>> 12) {
            translate(lin, ACCESS_WRITE, user);
            if ((dataTlb[tag] & tagMask) != lin >>> 12) {
                return null;
            }
        }
        bulkOffset = segmentOffset[idx] + (lin & 0xFFF);
        return segment[idx];
    }

    // ---- slow paths ----

    private int readSlow(long lin, int size) {
        if (locked != null && (lin & 0xFFF) + size <= 0x1000) {
            return locked.read(physForLocked(lin, ACCESS_READ), size);
        }
        if ((lin & 0xFFF) + size > 0x1000) {
            int v = 0;
            for (int i = 0; i < size; i++) {
                v |= read8((lin + i) & linearMask) << (8 * i);
            }
            return v;
        }
        long pa = translate(lin, ACCESS_READ, user);
        return physRead(pa, size);
    }

    private void writeSlow(long lin, int size, int v) {
        if (locked != null && (lin & 0xFFF) + size <= 0x1000) {
            locked.write(physForLocked(lin, ACCESS_WRITE), size, v);
            return;
        }
        if ((lin & 0xFFF) + size > 0x1000) {
            probeWrite(lin, size);
            for (int i = 0; i < size; i++) {
                write8((lin + i) & linearMask, v >>> (8 * i));
            }
            return;
        }
        long pa = translate(lin, ACCESS_WRITE, user);
        physWrite(pa, size, v);
    }

    /** Reads guest-physical memory, MMIO included. */
    int physRead(long pa, int size) {
        if (pa >>> 12 == apicPpn) {
            return (int) apic.mmioRead(pa & 0xFFF, size);
        }
        GuestMemory.Region r = memory.find(pa, size);
        if (r == null) {
            return (int) bus.mmioRead(pa, size);
        }
        long off = pa - r.base();
        int v = switch (size) {
            case 1 -> r.segment().get(BYTE, off) & 0xFF;
            case 2 -> r.segment().get(SHORT, off) & 0xFFFF;
            default -> r.segment().get(INT, off);
        };
        VarHandle.acquireFence();
        return v;
    }

    /** Writes guest-physical memory: MMIO to the bus, ROM writes dropped, code pages invalidated. */
    void physWrite(long pa, int size, int v) {
        if (pa >>> 12 == apicPpn) {
            apic.mmioWrite(pa & 0xFFF, size, v & 0xFFFF_FFFFL);
            return;
        }
        GuestMemory.Region r = memory.find(pa, size);
        if (r == null) {
            bus.mmioWrite(pa, size, v & 0xFFFF_FFFFL);
            return;
        }
        if (r.readOnly()) {
            romWritesDropped++;
            return;
        }
        invalidateCode(pa >>> 12);
        if (shared != null) {
            shared.written(pa >>> 12, vcpuIndex);
        }
        long off = pa - r.base();
        VarHandle.releaseFence();
        switch (size) {
            case 1 -> r.segment().set(BYTE, off, (byte) v);
            case 2 -> r.segment().set(SHORT, off, (short) v);
            default -> r.segment().set(INT, off, v);
        }
    }

    long physRead64(long pa) {
        GuestMemory.Region r = (pa & 7) == 0 && pa >>> 12 != apicPpn ? memory.find(pa, 8) : null;
        if (r == null) {
            return (physRead(pa, 4) & 0xFFFF_FFFFL) | ((long) physRead(pa + 4, 4) << 32);
        }
        // An aligned quadword in RAM (a paging entry): one access, atomic as the CPU's own walk.
        long v = HostMemory.getLong(r.segment().address() + (pa - r.base()));
        VarHandle.acquireFence();
        return v;
    }

    /** Reads with supervisor rights whatever the CPL (descriptor tables, the TSS: SDM §4.6.1). */
    int systemRead(long lin, int size) {
        if ((lin & 0xFFF) + size > 0x1000) {
            int v = 0;
            for (int i = 0; i < size; i++) {
                v |= systemRead((lin + i) & linearMask, 1) << (8 * i);
            }
            return v;
        }
        return physRead(translate(lin, ACCESS_READ, false), size);
    }

    void systemWrite(long lin, int size, int v) {
        if ((lin & 0xFFF) + size > 0x1000) {
            for (int i = 0; i < size; i++) {
                systemWrite((lin + i) & linearMask, 1, v >>> (8 * i));
            }
            return;
        }
        physWrite(translate(lin, ACCESS_WRITE, false), size, v);
    }

    // ---- translation ----

    /**
     * Translates {@code lin} for an access, walking the page tables if paging is on, setting the
     * accessed/dirty bits, raising #PF with CR2 and the error code of SDM §4.7 on failure, and
     * filling the TLB when the page is plain memory.
     */
    long translate(long lin, int access, boolean userAccess) {
        for (;;) {
            try {
                return translateOnce(lin, access, userAccess);
            } catch (EntryChanged raced) {
                // Another vCPU changed a paging entry between our read and our A/D update: walk again.
            }
        }
    }

    /** Thrown when the compare-and-set of accessed/dirty bits finds the entry changed. */
    private static final class EntryChanged extends RuntimeException {
        private EntryChanged() {
            super("paging entry changed during the walk", null, false, false);
        }
    }

    private static final EntryChanged ENTRY_CHANGED = new EntryChanged();
    private static final java.lang.invoke.VarHandle INT_ATOMIC = ValueLayout.JAVA_INT.varHandle();

    /**
     * Sets accessed/dirty {@code bits} in the paging entry at {@code addr} that the walk read as
     * {@code entry}. The processor does this with a locked operation (SDM Vol. 3 §4.8); with
     * several vCPUs it is a compare-and-set, so that a guest's concurrent change to the entry
     * (clearing it, clearing D) is never overwritten with the stale value.
     */
    private void setEntryBits(long addr, long entry, long bits) {
        int old = (int) entry;
        int updated = (int) (entry | bits);
        GuestMemory.Region r = shared == null ? null : lockableRegion(addr, 4);
        if (r == null || (addr & 3) != 0) {
            physWrite(addr, 4, updated);
            return;
        }
        if (!INT_ATOMIC.compareAndSet(r.segment(), addr - r.base(), old, updated)) {
            throw ENTRY_CHANGED;
        }
        invalidateCode(addr >>> 12);
        shared.written(addr >>> 12, vcpuIndex);
    }

    private long translateOnce(long lin, int access, boolean userAccess) {
        long pa;
        boolean writable = true;
        boolean executable = true;
        boolean global = false;
        if ((cr0 & CR0_PG) == 0) {
            pa = lin & 0xFFFF_FFFFL;
        } else if ((efer & EFER_LMA) != 0) {
            long[] out = walk4Level(lin, access, userAccess);
            pa = out[0];
            writable = out[1] != 0;
            executable = out[2] != 0;
            global = out[3] != 0;
        } else if ((cr4 & CR4_PAE) != 0) {
            long[] out = walkPae(lin, access, userAccess);
            pa = out[0];
            writable = out[1] != 0;
            executable = out[2] != 0;
        } else {
            long[] out = walkLegacy(lin, access, userAccess);
            pa = out[0];
            writable = out[1] != 0;
        }
        if (userAccess == user) {
            fill(lin, pa, writable, executable, global);
        }
        return pa;
    }

    private void fill(long lin, long pa, boolean writable, boolean executable, boolean global) {
        long ppn = pa >>> 12;
        GuestMemory.Region r = memory.find(ppn << 12, 4096);
        if (r == null || ppn == apicPpn) {
            return; // MMIO: every access takes the slow path
        }
        int idx = (int) (lin >>> 12) & TLB_MASK;
        long vpn = lin >>> 12;
        segment[idx] = r.segment();
        segmentOffset[idx] = (ppn << 12) - r.base();
        physPage[idx] = ppn;
        globalEntry[idx] = global;
        if (!global && !listedNonGlobal[idx]) {
            listedNonGlobal[idx] = true;
            nonGlobal[nonGlobalCount++] = idx;
        }
        long tag = user ? vpn : vpn | SUPERVISOR; // filled with supervisor rights: not for CPL 3
        boolean code = codePages.contains(ppn) || shared != null && shared.isCode(ppn);
        int e = entry(lin);
        tlb[e + TLB_ADDEND] = r.segment().address() + segmentOffset[idx] - (vpn << 12);
        tlb[e + TLB_READ] = tag;
        tlb[e + TLB_WRITE] = writable && !r.readOnly() && !code ? tag : -1;
        tlb[e + TLB_FETCH] = executable ? tag : -1;
    }

    private long[] walkLegacy(long lin, int access, boolean userAccess) {
        long pdeAddr = (cr3 & 0xFFFF_F000L) + ((lin >>> 22) << 2);
        long pde = physRead(pdeAddr, 4) & 0xFFFF_FFFFL;
        if ((pde & PTE_P) == 0) {
            throw pageFault(lin, false, access, userAccess);
        }
        if ((pde & PTE_PS) != 0 && (cr4 & CR4_PSE) != 0) {
            check(lin, pde, -1, access, userAccess, 0);
            noteLargePage(lin);
            long dirty = access == ACCESS_WRITE ? PTE_D : 0;
            if ((pde & (PTE_A | dirty)) != (PTE_A | dirty)) {
                setEntryBits(pdeAddr, pde, PTE_A | dirty);
            }
            // PSE-36: bits 13-16 of a 4 MiB PDE hold physical address bits 32-35.
            long base = (pde & 0xFFC0_0000L) | ((pde & 0x1E000L) << 19);
            return new long[] {base | (lin & 0x3F_FFFF), writableFor(pde, userAccess) ? 1 : 0, 1};
        }
        long pteAddr = (pde & 0xFFFF_F000L) + (((lin >>> 12) & 0x3FF) << 2);
        long pte = physRead(pteAddr, 4) & 0xFFFF_FFFFL;
        if ((pte & PTE_P) == 0) {
            throw pageFault(lin, false, access, userAccess);
        }
        check(lin, pde, pte, access, userAccess, 0);
        if ((pde & PTE_A) == 0) {
            setEntryBits(pdeAddr, pde, PTE_A);
        }
        long dirty = access == ACCESS_WRITE ? PTE_D : 0;
        if ((pte & (PTE_A | dirty)) != (PTE_A | dirty)) {
            setEntryBits(pteAddr, pte, PTE_A | dirty);
        }
        boolean w = writableFor(pde, userAccess) && writableFor(pte, userAccess);
        return new long[] {(pte & 0xFFFF_F000L) | (lin & 0xFFF), w ? 1 : 0, 1};
    }

    private long[] walkPae(long lin, int access, boolean userAccess) {
        boolean nxe = (efer & EFER_NXE) != 0;
        long rsvdHigh = nxe ? 0x7FF0_0000_0000_0000L : 0xFFF0_0000_0000_0000L;
        long pdpteAddr = (cr3 & 0xFFFF_FFE0L) + ((lin >>> 30) << 3);
        long pdpte = physRead64(pdpteAddr);
        if ((pdpte & PTE_P) == 0) {
            throw pageFault(lin, false, access, userAccess);
        }
        long pdeAddr = (pdpte & PAE_ADDR) + (((lin >>> 21) & 0x1FF) << 3);
        long pde = physRead64(pdeAddr);
        if ((pde & PTE_P) == 0) {
            throw pageFault(lin, false, access, userAccess);
        }
        if ((pde & rsvdHigh) != 0) {
            throw pageFaultReserved(lin, access, userAccess);
        }
        boolean nx = nxe && pde < 0;
        if ((pde & PTE_PS) != 0) {
            check(lin, pde, -1, access, userAccess, nx ? 1 : 0);
            noteLargePage(lin);
            long dirty = access == ACCESS_WRITE ? PTE_D : 0;
            if ((pde & (PTE_A | dirty)) != (PTE_A | dirty)) {
                setEntryBits(pdeAddr, pde, PTE_A | dirty);
            }
            long base = pde & 0x000F_FFFF_FFE0_0000L;
            return new long[] {base | (lin & 0x1F_FFFF), writableFor(pde, userAccess) ? 1 : 0, nx ? 0 : 1};
        }
        long pteAddr = (pde & PAE_ADDR) + (((lin >>> 12) & 0x1FF) << 3);
        long pte = physRead64(pteAddr);
        if ((pte & PTE_P) == 0) {
            throw pageFault(lin, false, access, userAccess);
        }
        if ((pte & rsvdHigh) != 0) {
            throw pageFaultReserved(lin, access, userAccess);
        }
        nx |= nxe && pte < 0;
        check(lin, pde, pte, access, userAccess, nx ? 1 : 0);
        if ((pde & PTE_A) == 0) {
            setEntryBits(pdeAddr, pde, PTE_A);
        }
        long dirty = access == ACCESS_WRITE ? PTE_D : 0;
        if ((pte & (PTE_A | dirty)) != (PTE_A | dirty)) {
            setEntryBits(pteAddr, pte, PTE_A | dirty);
        }
        boolean w = writableFor(pde, userAccess) && writableFor(pte, userAccess);
        return new long[] {(pte & PAE_ADDR) | (lin & 0xFFF), w ? 1 : 0, nx ? 0 : 1};
    }

    /**
     * 4-level paging (IA-32e mode, SDM Vol. 3 §4.5): PML4, PDPT (PS=1: a 1 GiB page), PD (PS=1:
     * a 2 MiB page), PT. The walk indexes bits 47:0 of the linear address (32-bit addresses in
     * compatibility mode arrive zero-extended); 64-bit code must check canonicality before. Rights combine over every level: U/S and R/W must allow the
     * access at each one, XD at any level (with EFER.NXE) forbids fetches. Reserved bits: PS in a
     * PML4E, bit 63 without NXE, and the bits between the PAT bit and the page base of a large
     * page; MAXPHYADDR is taken as 52, so no address bit is reserved. Accessed bits are set only
     * once the access is allowed, the dirty bit on the leaf for writes.
     */
    private long[] walk4Level(long lin, int access, boolean userAccess) {
        long la = lin;
        long rsvd63 = (efer & EFER_NXE) != 0 ? 0 : 1L << 63;
        long table = cr3 & PAE_ADDR;
        long[] addrs = walkAddrs;
        long[] entries = walkEntries;
        int level = 3;
        long e;
        while (true) {
            int shift = 12 + 9 * level;
            long addr = table + (((la >>> shift) & 0x1FF) << 3);
            e = physRead64(addr);
            addrs[level] = addr;
            entries[level] = e;
            if ((e & PTE_P) == 0) {
                throw pageFault(lin, false, access, userAccess);
            }
            boolean large = (level == 1 || level == 2) && (e & PTE_PS) != 0;
            long reserved = rsvd63 | (level == 3 ? PTE_PS : 0)
                    | (large ? ((1L << shift) - 1) & ~0x1FFFL : 0);
            if ((e & reserved) != 0) {
                throw pageFaultReserved(lin, access, userAccess);
            }
            if (level == 0 || large) {
                break;
            }
            table = e & PAE_ADDR;
            level--;
        }
        int leaf = level;
        boolean userOk = true;
        boolean writeOk = true;
        boolean nx = false;
        for (int l = 3; l >= leaf; l--) {
            long ent = entries[l];
            userOk &= (ent & PTE_US) != 0;
            writeOk &= writableFor(ent, userAccess);
            nx |= (efer & EFER_NXE) != 0 && ent < 0;
        }
        if ((userAccess && !userOk) || (access == ACCESS_WRITE && !writeOk)
                || (access == ACCESS_FETCH && nx)) {
            throw pageFault(lin, true, access, userAccess);
        }
        for (int l = 3; l > leaf; l--) {
            if ((entries[l] & PTE_A) == 0) {
                setEntryBits(addrs[l], entries[l], PTE_A);
            }
        }
        long dirty = access == ACCESS_WRITE ? PTE_D : 0;
        if ((e & (PTE_A | dirty)) != (PTE_A | dirty)) {
            setEntryBits(addrs[leaf], e, PTE_A | dirty);
        }
        long pageMask = (1L << (12 + 9 * leaf)) - 1;
        if (leaf > 0) {
            noteLargePage(la);
            gigaPagesCached |= leaf == 2;
        }
        long pa = (e & PAE_ADDR & ~pageMask) | (la & pageMask);
        boolean global = (cr4 & CR4_PGE) != 0 && (e & PTE_G) != 0;
        return new long[] {pa, writeOk ? 1 : 0, nx ? 0 : 1, global ? 1 : 0};
    }

    /** Scratch for {@link #walk4Level}: the entries met at each level and where they live. */
    private final long[] walkAddrs = new long[4];
    private final long[] walkEntries = new long[4];

    /** Whether an entry permits writes for this kind of access (CR0.WP, SDM §4.6.1). */
    private boolean writableFor(long entry, boolean userAccess) {
        return (entry & PTE_RW) != 0 || (!userAccess && (cr0 & CR0_WP) == 0);
    }

    private void check(long lin, long pde, long pte, int access, boolean userAccess, int nx) {
        if (userAccess && ((pde & PTE_US) == 0 || (pte != -1 && (pte & PTE_US) == 0))) {
            throw pageFault(lin, true, access, userAccess);
        }
        if (access == ACCESS_WRITE && (!writableFor(pde, userAccess)
                || (pte != -1 && !writableFor(pte, userAccess)))) {
            throw pageFault(lin, true, access, userAccess);
        }
        if (access == ACCESS_FETCH && nx != 0) {
            throw pageFault(lin, true, access, userAccess);
        }
    }

    private CpuFault pageFault(long lin, boolean present, int access, boolean userAccess) {
        faultAddress = lin;
        int code = (present ? 1 : 0) | (access == ACCESS_WRITE ? 2 : 0) | (userAccess ? 4 : 0)
                | (access == ACCESS_FETCH && (efer & EFER_NXE) != 0 && (cr4 & CR4_PAE) != 0 ? 16 : 0);
        return CpuFault.withCode(CpuFault.PF, code);
    }

    private CpuFault pageFaultReserved(long lin, int access, boolean userAccess) {
        faultAddress = lin;
        int code = 1 | 8 | (access == ACCESS_WRITE ? 2 : 0) | (userAccess ? 4 : 0)
                | (access == ACCESS_FETCH && (efer & EFER_NXE) != 0 ? 16 : 0); // only PAE/4-level get here
        return CpuFault.withCode(CpuFault.PF, code);
    }

    // ---- decoded-code cache ----

    /**
     * The code page holding the instruction at {@code lin} (translated for execution), or null
     * when the code runs from MMIO. Creating a code page revokes write TLB entries for it, so the
     * next write to it takes the slow path and invalidates.
     */
    CodePage codePageFor(long lin) {
        long pa = translate(lin, ACCESS_FETCH, user);
        long ppn = pa >>> 12;
        CodePage page = codePages.get(ppn);
        if (page == null) {
            if (memory.find(ppn << 12, 4096) == null) {
                return null;
            }
            page = new CodePage(ppn);
            codePages.put(ppn, page);
            revokeWrites(ppn);
            if (shared != null) {
                shared.codeCreated(ppn, vcpuIndex);
            }
        }
        return page;
    }

    /** Forgets decoded code on physical page {@code ppn} (the guest, or a DMA, wrote to it). */
    void invalidateCode(long ppn) {
        if (!codePages.isEmpty() && codePages.remove(ppn) != null) {
            generation++;
            if (shared != null) {
                shared.codeDropped(ppn, vcpuIndex);
            }
        }
    }

    /**
     * Drops the write entries pointing at {@code ppn}; true if there was one. The page numbers are
     * compared first: that scan reads 128 KiB in a row, where one through the TLB's write tags
     * reads a cache line of its 512 KiB for every entry, and every new code page pays for it
     * (a kernel's initialisation patches and makes many).
     */
    private boolean revokeWrites(long ppn) {
        boolean had = false;
        for (int i = 0; i < TLB_SIZE; i++) {
            int tag = slot(i) + TLB_WRITE;
            if (physPage[i] == ppn && tlb[tag] != -1) {
                tlb[tag] = -1;
                had = true;
            }
        }
        return had;
    }

    /** Whether other vCPUs or devices left messages about code pages for this vCPU. */
    boolean hasCodeMessages() {
        return inbox != null && inbox.pending;
    }

    /**
     * Acts on the messages from other vCPUs and devices (this vCPU's thread, between slices).
     * A page another vCPU now runs from loses this vCPU's write entries; if one existed, this
     * vCPU may have written the page since that vCPU decoded it, so the holders are told to
     * decode it afresh. A page written elsewhere loses its decoded code here.
     */
    void drainCodeMessages() {
        int n = inbox.drain(inboxMessages);
        if (n < 0) {
            codePages.forEachPageNumber(ppn -> shared.codeDropped(ppn, vcpuIndex));
            codePages.clear();
            flush();
            return;
        }
        for (int i = 0; i < n; i++) {
            long ppn = inboxMessages[i] >>> 1;
            if ((inboxMessages[i] & 1) == SharedCode.Inbox.REVOKE_WRITES) {
                if (revokeWrites(ppn)) {
                    shared.written(ppn, vcpuIndex);
                }
            } else {
                invalidateCode(ppn);
            }
        }
    }

    /**
     * A device or the host wrote {@code ppn}. On a multi-vCPU machine the caller is not this
     * vCPU's thread: a page this vCPU decoded is dropped through its inbox; others need nothing.
     */
    void hostWrote(long ppn) {
        if (shared == null) {
            invalidateCode(ppn);
        } else if (shared.isCodeOn(ppn, vcpuIndex)) {
            inbox.post(SharedCode.Inbox.DROP_CODE, ppn);
        }
    }

    // ---- locked instructions ----

    /** The transaction of the locked instruction running now, or null. */
    private LockedAccess locked;

    /** Starts a locked instruction: data accesses go to {@code txn} until {@link #endLocked}. */
    void beginLocked(LockedAccess txn) {
        locked = txn;
        dataTlb = MISS;
    }

    void endLocked() {
        locked = null;
        dataTlb = tlb;
    }

    /**
     * The physical address of a locked access, through the real TLB when it holds a write entry
     * (RAM, writable, no decoded code), else by a walk that checks the rights.
     */
    private long physForLocked(long lin, int access) {
        int idx = (int) (lin >>> 12) & TLB_MASK;
        if ((tlb[entry(lin) + TLB_WRITE] & tagMask) == lin >>> 12) {
            return physPage[idx] << 12 | (lin & 0xFFF);
        }
        return translate(lin, access, user);
    }

    /** The RAM region behind {@code pa} for a locked access, or null (MMIO, ROM, the APIC page). */
    GuestMemory.Region lockableRegion(long pa, int size) {
        if (pa >>> 12 == apicPpn) {
            return null;
        }
        GuestMemory.Region r = memory.find(pa, size);
        return r == null || r.readOnly() ? null : r;
    }

    /** After a locked write lands: decoded code of that page goes, here and on the other vCPUs. */
    void lockedWriteDone(long pa) {
        invalidateCode(pa >>> 12);
        if (shared != null) {
            shared.written(pa >>> 12, vcpuIndex);
        }
    }

    int cachedCodePages() {
        return codePages.size();
    }

    // ---- 32-bit linear addresses ----
    // Everything outside 64-bit mode computes linear addresses in an int: these overloads
    // zero-extend them (an int address is a 32-bit address, never a sign-extended one).

    int read(int lin, int size) {
        return read(lin & 0xFFFF_FFFFL, size);
    }

    int read32(int lin) {
        return read32(lin & 0xFFFF_FFFFL);
    }

    void write(int lin, int size, int v) {
        write(lin & 0xFFFF_FFFFL, size, v);
    }

    void write32(int lin, int v) {
        write32(lin & 0xFFFF_FFFFL, v);
    }

    int readRmw(int lin, int size) {
        return readRmw(lin & 0xFFFF_FFFFL, size);
    }

    void probeWrite(int lin, int size) {
        probeWrite(lin & 0xFFFF_FFFFL, size);
    }

    int fetch8(int lin) {
        return fetch8(lin & 0xFFFF_FFFFL);
    }

    MemorySegment readSegmentAt(int lin) {
        return readSegmentAt(lin & 0xFFFF_FFFFL);
    }

    MemorySegment writeSegmentAt(int lin) {
        return writeSegmentAt(lin & 0xFFFF_FFFFL);
    }

    int systemRead(int lin, int size) {
        return systemRead(lin & 0xFFFF_FFFFL, size);
    }

    void systemWrite(int lin, int size, int v) {
        systemWrite(lin & 0xFFFF_FFFFL, size, v);
    }

    long translate(int lin, int access, boolean userAccess) {
        return translate(lin & 0xFFFF_FFFFL, access, userAccess);
    }

    void flushPage(int lin) {
        flushPage(lin & 0xFFFF_FFFFL);
    }

    CodePage codePageFor(int lin) {
        return codePageFor(lin & 0xFFFF_FFFFL);
    }
}
