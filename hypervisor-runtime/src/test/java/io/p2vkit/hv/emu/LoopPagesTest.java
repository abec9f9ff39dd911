package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.ModeTransitionTest.asm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

/**
 * Lookups hoisted out of loops ({@link LoopPages}): which operands share one, which loops get
 * none, and that a region using them ends in the interpreter's state, also where the hoisted
 * page cannot serve (a code page written through it, a span across a page end).
 */
class LoopPagesTest {

    private static final long CODE = NativeHarness64.CODE;
    private static final long DATA = NativeDifferential64Test.DATA;
    private static final int THRESHOLD = 50;

    /**
     * XZ's dictionary copy, reduced: each iteration copies a byte inside the buffer [RBX] at the
     * position [RBX+0x10] and writes the position back, wrapping at the limit [RBX+0x28].
     */
    private static final byte[] DICTIONARY_COPY = asm(
            "b9 b8 0b 00 00",           // mov ecx, 3000
            "48 8b 03",                 // L: mov rax, [rbx]
            "48 8b 53 10",              // mov rdx, [rbx+0x10]
            "0f b6 34 10",              // movzx esi, byte [rax+rdx]
            "40 88 74 10 01",           // mov [rax+rdx+1], sil
            "48 ff c2",                 // inc rdx
            "48 3b 53 28",              // cmp rdx, [rbx+0x28]
            "48 0f 43 d7",              // cmovae rdx, rdi
            "48 89 53 10",              // mov [rbx+0x10], rdx
            "ff c9",                    // dec ecx
            "75 dd",                    // jnz L
            "f4");                      // hlt

    /** The dictionary at {@code dictionary}: its buffer 0x100 bytes on, a pattern in it, position 0, limit 0x1F0. */
    private static Consumer<FlatMachine> dictionaryAt(long dictionary) {
        return m -> {
            m.cpu.r[Cpu.EBX] = dictionary;
            m.memory.writeLong(dictionary, dictionary + 0x100);
            m.memory.writeLong(dictionary + 0x10, 0);
            m.memory.writeLong(dictionary + 0x28, 0x1F0);
            for (int k = 0; k < 0x40; k++) {
                m.memory.writeLong(dictionary + 0x100 + 8 * k, 0x0123_4567_89AB_CDEFL * (k + 1));
            }
        };
    }

    private record Outcome(long[] regs, int flags, byte[] scratch, long retired, long regionRetired) {
    }

    private static Outcome run(byte[] code, boolean regions, Consumer<FlatMachine> setup) {
        try (FlatMachine m = NativeDifferential64Test.loaded64(code, regions, THRESHOLD)) {
            setup.accept(m);
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
            byte[] scratch = new byte[RandomProgram.SCRATCH_SIZE];
            m.memory.read(RandomProgram.SCRATCH, scratch, 0, scratch.length);
            return new Outcome(m.cpu.r.clone(), m.cpu.eflags(), scratch, m.cpu.retired, m.cpu.regionRetired);
        }
    }

    /** Runs {@code code} interpreted and with regions; both must end alike, most of it compiled. */
    private static void sameBothWays(byte[] code, Consumer<FlatMachine> setup) {
        Outcome interpreted = run(code, false, setup);
        Outcome compiled = run(code, true, setup);
        assertArrayEquals(interpreted.regs(), compiled.regs(), "registers");
        assertEquals(interpreted.flags(), compiled.flags(), "flags");
        assertArrayEquals(interpreted.scratch(), compiled.scratch(), "memory");
        assertEquals(interpreted.retired(), compiled.retired(), "retired instructions");
        assertTrue(compiled.regionRetired() > compiled.retired() / 2, "mostly compiled: " + compiled.regionRetired());
    }

    /** The plan for the region starting at {@code start}, once {@code code} has run there (a million instructions at most). */
    private static LoopPages planAt(byte[] code, long start, Consumer<FlatMachine> setup) {
        try (FlatMachine m = NativeDifferential64Test.loaded64(code, false, THRESHOLD)) {
            setup.accept(m);
            m.vcpu.run(1_000_000);
            CodePage page = m.cpu.mmu.codePageFor(start);
            return LoopPages.plan(RegionScan.scan(m.cpu, start, RegionScan.MAX_INSNS, page));
        }
    }

    @Test
    void theFieldsReadAndWrittenThroughALoopsUnchangedPointerShareOneLookup() {
        LoopPages plan = planAt(DICTIONARY_COPY, CODE + 5, dictionaryAt(DATA));
        assertEquals(1, plan.groups().length);
        LoopPages.Group g = plan.groups()[0];
        assertEquals(Cpu.EBX, g.base());
        assertEquals(-1, g.index());
        assertEquals(0, g.low());
        assertEquals(0x28 + 15, g.span(), "the fields up to the limit's, and 16 bytes from each");
        assertTrue(g.write(), "the position is written back");
        assertTrue(plan.hasPreheader(0), "looked up before the loop's head");
        int[] viaRbx = {0, 1, 5, 7};       // [rbx], [rbx+0x10], cmp [rbx+0x28], store [rbx+0x10]
        int[] viaRaxRdx = {2, 3};           // the buffer's bytes: RDX moves
        for (int i : viaRbx) {
            assertEquals(0, plan.groupOf(i), "instruction " + i);
        }
        for (int i : viaRaxRdx) {
            assertEquals(-1, plan.groupOf(i), "instruction " + i);
        }
    }

    @Test
    void aRegionWithHoistedLookupsEndsAsTheInterpreterDoes() {
        sameBothWays(DICTIONARY_COPY, dictionaryAt(DATA));
    }

    @Test
    void fieldsAcrossAPageEndTakeTheUsualPath() {
        // The dictionary's fields straddle a page end: the hoisted span cannot be one page.
        long dictionary = RandomProgram.SCRATCH + 0x2FF8;
        sameBothWays(DICTIONARY_COPY, dictionaryAt(dictionary));
    }

    @Test
    void aLoopThatMovesItsPointerLooksEachAccessUp() {
        byte[] code = asm(
                "31 c9",                    // xor ecx, ecx
                "ff c1",                    // M: inc ecx
                "48 8b 43 10",              // mov rax, [rbx+0x10]
                "48 01 43 20",              // add [rbx+0x20], rax
                "48 83 c3 08",              // add rbx, 8
                "81 f9 00 02 00 00",        // cmp ecx, 512
                "72 ea",                    // jb M
                "f4");                      // hlt
        assertEquals(0, planAt(code, CODE + 2, m -> { }).groups().length);
        sameBothWays(code, m -> { });
    }

    @Test
    void aLoopEnteredAtItsTestLooksItsPagesUpWhereItIsEntered() {
        // The outer loop jumps to the inner loop's test (as compilers lay loops out); the inner
        // loop's pointer, RBX, only the outer loop moves. The lookup is made on the way in, at
        // the test, and the inner loop's own edges go round past it.
        byte[] code = asm(
                "41 b8 00 04 00 00",        // mov r8d, 1024
                "b9 04 00 00 00",           // O: mov ecx, 4
                "eb 04",                    // jmp Mid
                "48 8b 43 10",              // L: mov rax, [rbx+0x10]
                "48 01 43 18",              // Mid: add [rbx+0x18], rax
                "ff c9",                    // dec ecx
                "75 f4",                    // jnz L
                "48 83 c3 08",              // add rbx, 8
                "48 81 e3 ff 1f ff ff",     // and rbx, ~0xE000 (stays in the data page)
                "41 ff c8",                 // dec r8d
                "75 dd",                    // jnz O
                "f4");                      // hlt
        LoopPages plan = planAt(code, CODE + 6, m -> { });
        assertEquals(1, plan.groups().length, "the inner loop's; the outer one moves RBX");
        int l = 2;
        int mid = 3;
        int jnz = 5;
        assertTrue(plan.hasPreheader(mid), "entered at the test");
        assertTrue(!plan.hasPreheader(l), "the head is reached only from inside");
        assertTrue(plan.entersLoop(1, mid), "the JMP enters");
        assertTrue(!plan.entersLoop(jnz, l), "the JNZ goes round");
        sameBothWays(code, m -> { });
    }

    /** The XZ decompressor's CRC-32 loop: a table of 256 entries indexed by a byte. */
    private static final byte[] CRC_LOOP = asm(
            "44 0f b6 3f",              // L: movzx r15d, byte [rdi]
            "48 83 c7 01",              // add rdi, 1
            "41 31 cf",                 // xor r15d, ecx
            "c1 e9 08",                 // shr ecx, 8
            "45 0f b6 ff",              // movzx r15d, r15b
            "43 33 0c b9",              // xor ecx, [r9+r15*4]
            "4c 39 c7",                 // cmp rdi, r8
            "75 e5",                    // jne L
            "f4");                      // hlt

    /** A table at DATA (R9) and 2 KiB of bytes to run through it (RDI to R8). */
    private static void tableAndBytes(FlatMachine m) {
        for (int k = 0; k < 256; k++) {
            m.memory.writeInt(DATA + 4 * k, 0x9E37_79B9 * (k + 1));
        }
        long bytes = RandomProgram.SCRATCH + 0x4000;
        for (int k = 0; k < 0x800; k += 8) {
            m.memory.writeLong(bytes + k, 0x0123_4567_89AB_CDEFL * (k + 3));
        }
        m.cpu.r[9] = DATA;
        m.cpu.r[Cpu.EDI] = bytes;
        m.cpu.r[8] = bytes + 0x800;
        m.cpu.r[Cpu.ECX] = 0xFFFF_FFFFL;
    }

    @Test
    void aTableIndexedByAByteIsLookedUpOnceThoughItsIndexChanges() {
        LoopPages plan = planAt(CRC_LOOP, CODE, LoopPagesTest::tableAndBytes);
        assertEquals(1, plan.groups().length, "the table; RDI moves");
        LoopPages.Group g = plan.groups()[0];
        assertEquals(9, g.base());
        assertEquals(15, g.index());
        assertEquals(255, g.indexBound(), "MOVZX from R15B just before");
        assertEquals(255 * 4 + 15, g.span());
        assertEquals(0, plan.groupOf(5));
        assertEquals(-1, plan.groupOf(0));
        sameBothWays(CRC_LOOP, LoopPagesTest::tableAndBytes);
    }

    @Test
    void anIndexBoundedOnOnlyOnePathIsNotBounded() {
        byte[] code = asm(
                "0f b6 07",                 // M: movzx eax, byte [rdi]
                "48 83 c7 01",              // add rdi, 1
                "a9 01 00 00 00",           // test eax, 1
                "74 05",                    // jz S
                "05 00 03 00 00",           // add eax, 0x300
                "41 03 14 81",              // S: add edx, [r9+rax*4]
                "4c 39 c7",                 // cmp rdi, r8
                "75 e4",                    // jne M
                "f4");                      // hlt
        LoopPages plan = planAt(code, CODE, LoopPagesTest::tableAndBytes);
        assertEquals(0, plan.groups().length, "two ways into S, one adding 0x300");
        sameBothWays(code, LoopPagesTest::tableAndBytes);
    }

    /** SCRATCH's pages mapped to themselves, {@code readOnly} not writable, and supervisor writes honouring that (CR0.WP). */
    private static void withReadOnlyPage(FlatMachine m, long readOnly) {
        NativeDifferential64Test.mapThroughSmallPages(m, RandomProgram.SCRATCH, false,
                page -> page | (page == readOnly ? 1 : 3));
        m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_WP);
    }

    /** How a run ended in a fault: the fault, the faulting instruction, the registers, how much ran compiled. */
    private record Faulted(CpuFault fault, long insnRip, long[] regs, long retired, long regionRetired) {
    }

    private static Faulted runToFault(byte[] code, boolean regions, Consumer<FlatMachine> setup) {
        try (FlatMachine m = NativeDifferential64Test.loaded64(code, regions, THRESHOLD)) {
            setup.accept(m);
            CpuFault f = org.junit.jupiter.api.Assertions.assertThrows(CpuFault.class,
                    () -> { for (;;) { m.cpu.runSlice(4096); } });
            return new Faulted(f, m.cpu.insnRip, m.cpu.r.clone(), m.cpu.retired, m.cpu.regionRetired);
        }
    }

    @Test
    void aStoreThroughALoopsPointerIntoAReadOnlyPageFaultsAsInTheInterpreter() {
        // The inner loop adds to a field of the structure RBX points at; the outer one takes
        // the pointers from a list: 64 structures on a writable page, then one on a read-only
        // page, which the outer loop reads first. The region's lookup before the inner loop finds
        // the page in the TLB for reading but must refuse it for the store.
        byte[] code = asm(
                "49 c7 c0 00 40 00 10",     // mov r8, SCRATCH + 0x4000 (the list)
                "49 8b 18",                 // O: mov rbx, [r8]
                "48 8b 43 10",              // mov rax, [rbx+0x10] (the TLB maps the page for reading)
                "49 83 c0 08",              // add r8, 8
                "b9 64 00 00 00",           // mov ecx, 100
                "48 8b 43 10",              // L: mov rax, [rbx+0x10]
                "48 01 c8",                 // add rax, rcx
                "48 89 43 18",              // mov [rbx+0x18], rax
                "ff c9",                    // dec ecx
                "75 f1",                    // jnz L
                "eb df");                   // jmp O
        long readOnly = RandomProgram.SCRATCH + 0x6000;
        Consumer<FlatMachine> setup = m -> {
            withReadOnlyPage(m, readOnly);
            for (int k = 0; k < 64; k++) {
                m.memory.writeLong(RandomProgram.SCRATCH + 0x4000 + 8 * k, DATA);
            }
            m.memory.writeLong(RandomProgram.SCRATCH + 0x4000 + 8 * 64, readOnly);
            m.memory.writeLong(readOnly + 0x10, 7);
        };
        Faulted interpreted = runToFault(code, false, setup);
        Faulted compiled = runToFault(code, true, setup);
        assertEquals(CpuFault.PF, compiled.fault().vector);
        assertEquals(CODE + 0x1E, compiled.insnRip(), "the store faulted");
        assertEquals(interpreted.fault().errorCode, compiled.fault().errorCode, "error code");
        assertArrayEquals(interpreted.regs(), compiled.regs(), "registers");
        assertEquals(interpreted.retired(), compiled.retired(), "retired instructions");
        assertTrue(compiled.regionRetired() > compiled.retired() / 2, "mostly compiled: " + compiled.regionRetired());
        LoopPages plan = planAt(code, CODE + 0x17, setup);
        assertEquals(1, plan.groups().length, "[rbx+0x10] and [rbx+0x18] share a lookup");
        assertTrue(plan.groups()[0].write());
    }

    @Test
    void thePageLookupServesOnlyAWholeSpanTheTlbMapsForTheAccess() {
        try (FlatMachine m = NativeDifferential64Test.loaded64(asm("f4"), true, THRESHOLD)) {
            long mask = Mmu.tagMask(false);
            long[] tlb = m.cpu.mmu.tlb;
            assertEquals(Mmu.NO_PAGE, Mmu.loopPage(tlb, mask, DATA, 15, false), "not in the TLB yet");
            m.cpu.mmu.read64(DATA);
            long addend = Mmu.loopPage(tlb, mask, DATA, 15, false);
            assertNotEquals(Mmu.NO_PAGE, addend);
            assertEquals(0, addend & 0xFFF, "a page's addend");
            assertEquals(Mmu.NO_PAGE, Mmu.loopPage(tlb, mask, (DATA | 0xFFF) - 7, 15, false), "across the page end");
            m.cpu.mmu.write64(DATA, 1);
            assertEquals(addend, Mmu.loopPage(tlb, mask, DATA, 15, true), "writable once written");
            m.cpu.mmu.read64(CODE);
            m.cpu.codePage64(); // RIP is at CODE: its page holds code now
            assertNotEquals(Mmu.NO_PAGE, Mmu.loopPage(tlb, mask, CODE, 15, false), "code reads");
            assertEquals(Mmu.NO_PAGE, Mmu.loopPage(tlb, mask, CODE, 15, true), "code is not written through the TLB");
        }
    }
}
