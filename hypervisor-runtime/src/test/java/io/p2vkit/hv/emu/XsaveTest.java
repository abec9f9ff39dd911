package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.emu.decode.DecodedInsn;
import io.p2vkit.hv.emu.decode.Decoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The XSAVE feature set (SDM Vol. 1 ch. 13, Vol. 2 XSAVE, XRSTOR, XGETBV, XSETBV): CPUID leaf 1
 * and 0xD, CR4.OSXSAVE, XCR0's rules, XSAVE/XRSTOR's layout, requested-feature bitmap, header
 * checks, init states and faults in 32-bit and 64-bit mode; and XSAVE images and XRSTOR results
 * against the host CPU through {@link NativeHarness64}.
 */
class XsaveTest {

    static final int CODE = 0x1000;
    static final int AREA = 0x2000;
    static final int OTHER = 0x3000;

    // 32-bit encodings with [disp32] operands
    private static final String XSAVE = "0f ae 25 00 20 00 00";   // xsave [0x2000]
    private static final String XRSTOR = "0f ae 2d 00 20 00 00";  // xrstor [0x2000]
    private static final String FXSAVE_OTHER = "0f ae 05 00 30 00 00"; // fxsave [0x3000]
    private static final String XGETBV = "0f 01 d0";
    private static final String XSETBV = "0f 01 d1";
    private static final String CPUID = "0f a2";

    @TempDir
    Path tmp;

    /** Flat 32-bit protected mode, SSE and XSAVE enabled, XCR0 = x87 | SSE. */
    private static FlatMachine machine() {
        FlatMachine m = new FlatMachine(new long[] {0, 0x100000});
        m.flat32();
        m.cpu.writeCr4(Sse.CR4_OSFXSR | Sse.CR4_OSXMMEXCPT | Cpu.CR4_OSXSAVE);
        m.cpu.xcr0 = XSave.X87 | XSave.SSE;
        return m;
    }

    /** Runs one instruction at CODE; the fault it raised, or null. */
    private static CpuFault step(FlatMachine m, String hex) {
        return m.step(CODE, hex);
    }

    private static int vector(FlatMachine m, String hex) {
        return m.faultVector(CODE, hex);
    }

    private static void setMask(Cpu c, long mask) {
        c.r[Cpu.EAX] = mask & 0xFFFF_FFFFL;
        c.r[Cpu.EDX] = mask >>> 32;
    }

    /** A recognisable x87 and SSE state: three registers in use, TOP = 3, XMMn filled with n + 1. */
    private static void fillState(Cpu c) {
        X87State f = c.fpu;
        f.control = 0x27F;
        f.status = 3 << 11 | 0x20;
        f.tag = 0xFFFF & ~(0x3F << 6) | (1 << 8) | (2 << 10);
        f.significand[3] = 0x8000_0000_0000_0000L;
        f.signExponent[3] = 0x3FFF;
        f.significand[4] = 0;
        f.signExponent[4] = 0x8000;
        f.significand[5] = 0xC000_0000_0000_0000L;
        f.signExponent[5] = 0x7FFF;
        f.opcode = 0x5A5;
        f.instructionPointer = 0x1234_5678L;
        f.dataPointer = 0x0BAD_F00DL;
        c.mxcsr = 0x3F80 | SoftFloat.PE;
        for (int i = 0; i < 32; i++) {
            c.xmm[i] = 0x0101_0101_0101_0101L * (i / 2 + 1) + (i & 1);
        }
    }

    private static byte[] bytes(FlatMachine m, long at, int n) {
        byte[] b = new byte[n];
        m.memory.read(at, b, 0, n);
        return b;
    }

    /** Fills [at, at + n) with 0xA5 so that untouched bytes show. */
    private static void poison(FlatMachine m, long at, int n) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) 0xA5);
        m.memory.load(at, b);
    }

    private static byte[] slice(byte[] b, int from, int to) {
        return java.util.Arrays.copyOfRange(b, from, to);
    }

    // ---- CPUID, CR4, XCR0 ----

    private static int[] cpuid(FlatMachine m, int leaf, int sub) {
        m.cpu.set32(Cpu.EAX, leaf);
        m.cpu.set32(Cpu.ECX, sub);
        assertNull(step(m, CPUID));
        return new int[] {m.cpu.r32(Cpu.EAX), m.cpu.r32(Cpu.EBX), m.cpu.r32(Cpu.ECX), m.cpu.r32(Cpu.EDX)};
    }

    @Test
    void initKeepsTheSseStateAndXcr0WhileResetClearsThem() {
        try (FlatMachine m = machine()) {
            m.cpu.xmm[0] = 0x1234_5678_9ABC_DEF0L;
            m.cpu.xmm[31] = -1;
            m.cpu.mxcsr = 0x1FC0;
            m.cpu.r[Cpu.EAX] = 7;
            m.cpu.init();
            assertEquals(0x1234_5678_9ABC_DEF0L, m.cpu.xmm[0]);
            assertEquals(-1, m.cpu.xmm[31]);
            assertEquals(0x1FC0, m.cpu.mxcsr);
            assertEquals(XSave.X87 | XSave.SSE, m.cpu.xcr0);
            assertEquals(0, m.cpu.r[Cpu.EAX]);
            assertEquals(0xFFF0, m.cpu.eip);
            assertEquals(0, m.cpu.mmu.cr4);
            m.cpu.reset();
            assertEquals(0, m.cpu.xmm[0]);
            assertEquals(0x1F80, m.cpu.mxcsr);
            assertEquals(XSave.X87, m.cpu.xcr0);
        }
    }

    @Test
    void cpuidReportsXsaveAndOsxsaveFollowsCr4() {
        try (FlatMachine m = machine()) {
            assertTrue(cpuid(m, 0, 0)[0] >= 0xD, "the maximum basic leaf covers 0xD");
            int ecx = cpuid(m, 1, 0)[2];
            assertEquals(1 << 26, ecx & 1 << 26, "XSAVE");
            assertEquals(1 << 27, ecx & 1 << 27, "OSXSAVE while CR4.OSXSAVE = 1");
            m.cpu.writeCr4(Sse.CR4_OSFXSR);
            ecx = cpuid(m, 1, 0)[2];
            assertEquals(1 << 26, ecx & 1 << 26);
            assertEquals(0, ecx & 1 << 27, "OSXSAVE clear with CR4.OSXSAVE");
        }
    }

    @Test
    void cpuidLeafDDescribesX87AndSseOnly() {
        try (FlatMachine m = machine()) {
            assertArrayEquals(new int[] {3, 576, 576, 0}, cpuid(m, 0xD, 0), "sub-leaf 0: XCR0 bits, sizes");
            m.cpu.xcr0 = XSave.X87;
            assertArrayEquals(new int[] {3, 576, 576, 0}, cpuid(m, 0xD, 0),
                    "x87 alone still needs the legacy region and the header");
            assertArrayEquals(new int[] {0, 0, 0, 0}, cpuid(m, 0xD, 1), "no XSAVEOPT, XSAVEC, XGETBV1, XSAVES");
            for (int sub = 2; sub < 64; sub++) {
                assertArrayEquals(new int[] {0, 0, 0, 0}, cpuid(m, 0xD, sub), "sub-leaf " + sub);
            }
        }
    }

    @Test
    void cr4OsxsaveIsWritableAndXcr0ResetsToX87() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x100000})) {
            m.flat32();
            assertEquals(XSave.X87, m.cpu.xcr0, "XCR0 after reset");
            m.cpu.set32(Cpu.EAX, Cpu.CR4_OSXSAVE | Sse.CR4_OSFXSR);
            assertNull(step(m, "0f 22 e0"), "mov cr4, eax");
            assertEquals(Cpu.CR4_OSXSAVE | Sse.CR4_OSFXSR, m.cpu.mmu.cr4);
            m.cpu.set32(Cpu.EAX, 1 << 17);
            assertEquals(CpuFault.GP, vector(m, "0f 22 e0"), "PCIDE stays reserved");
            m.cpu.xcr0 = 3;
            m.cpu.reset();
            assertEquals(XSave.X87, m.cpu.xcr0);
        }
    }

    @Test
    void xgetbvReadsXcr0() {
        try (FlatMachine m = machine()) {
            m.cpu.set32(Cpu.ECX, 0);
            m.cpu.set32(Cpu.EAX, -1);
            m.cpu.set32(Cpu.EDX, -1);
            assertNull(step(m, XGETBV));
            assertEquals(3, m.cpu.r32(Cpu.EAX));
            assertEquals(0, m.cpu.r32(Cpu.EDX));
            m.cpu.setCpl(3);
            m.cpu.xcr0 = 1;
            assertNull(step(m, XGETBV), "any privilege level");
            assertEquals(1, m.cpu.r32(Cpu.EAX));
            m.cpu.set32(Cpu.ECX, 1);
            assertEquals(CpuFault.GP, vector(m, XGETBV), "ECX = 1 needs XGETBV1, not claimed");
            m.cpu.set32(Cpu.ECX, 2);
            assertEquals(CpuFault.GP, vector(m, XGETBV));
            m.cpu.set32(Cpu.ECX, 0);
            m.cpu.writeCr4(Sse.CR4_OSFXSR);
            assertEquals(CpuFault.UD, vector(m, XGETBV), "CR4.OSXSAVE = 0");
            assertEquals(CpuFault.UD, vector(m, "f0 " + XGETBV), "LOCK");
        }
    }

    @Test
    void xsetbvChecksPrivilegeRegisterAndBits() {
        try (FlatMachine m = machine()) {
            Cpu c = m.cpu;
            c.set32(Cpu.ECX, 0);
            setMask(c, 1);
            assertNull(step(m, XSETBV));
            assertEquals(1, c.xcr0);
            setMask(c, 3);
            assertNull(step(m, XSETBV));
            assertEquals(3, c.xcr0);
            for (long bad : new long[] {0, 2, 5, 6, 7, 0xE7, 1L << 32 | 3, 1L << 63 | 3}) {
                setMask(c, bad);
                CpuFault f = step(m, XSETBV);
                assertNotNull(f, "XCR0 = " + Long.toHexString(bad));
                assertEquals(CpuFault.GP, f.vector);
                assertEquals(0, f.errorCode);
                assertEquals(3, c.xcr0, "a refused XSETBV changes nothing");
            }
            setMask(c, 1);
            c.set32(Cpu.ECX, 1);
            assertEquals(CpuFault.GP, vector(m, XSETBV), "only XCR0 exists");
            c.set32(Cpu.ECX, 0);
            c.setCpl(3);
            assertEquals(CpuFault.GP, vector(m, XSETBV), "CPL 3");
            c.setCpl(0);
            c.writeCr4(Sse.CR4_OSFXSR);
            assertEquals(CpuFault.UD, vector(m, XSETBV), "CR4.OSXSAVE = 0 comes first");
            assertEquals(3, c.xcr0);
        }
    }

    @Test
    void xsetbvInRealModeAndIn64BitModeIgnoresHighHalves() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x100000})) {
            m.real(0, CODE, 0);
            m.cpu.writeCr4(Cpu.CR4_OSXSAVE);
            m.load(CODE, FlatMachine.hex(XSETBV));
            m.cpu.r[Cpu.EAX] = 3;
            m.cpu.r[Cpu.EDX] = 0;
            m.cpu.r[Cpu.ECX] = 0;
            m.cpu.runSlice(1);
            assertEquals(3, m.cpu.xcr0, "real mode is privilege level 0");
        }
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            Cpu c = m.cpu;
            c.writeCr4(c.mmu.cr4 | Cpu.CR4_OSXSAVE);
            c.r[Cpu.EAX] = 0xFFFF_FFFF_0000_0003L;
            c.r[Cpu.EDX] = 0x1234_5678_0000_0000L;
            c.r[Cpu.ECX] = 0x7_0000_0000L;
            run64(m, "0f 01 d1 0f 01 d0");                       // xsetbv; xgetbv
            assertEquals(3, c.xcr0, "RAX, RDX and RCX high halves are ignored");
            assertEquals(3, c.r[Cpu.EAX], "XGETBV zero-extends into RAX");
            assertEquals(0, c.r[Cpu.EDX]);
        }
    }

    // ---- XSAVE ----

    @Test
    void xsaveFaults() {
        try (FlatMachine m = machine()) {
            assertEquals(CpuFault.GP, vector(m, XSAVE.replace("00 20", "10 20")), "16-byte aligned is not enough");
            assertEquals(CpuFault.GP, vector(m, XRSTOR.replace("00 20", "20 20")));
            assertNull(step(m, XSAVE.replace("00 20", "40 20")), "64-byte aligned");
            m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_TS);
            assertEquals(CpuFault.NM, vector(m, XSAVE));
            assertEquals(CpuFault.NM, vector(m, XRSTOR));
            assertEquals(CpuFault.NM, vector(m, XSAVE.replace("00 20", "10 20")), "#NM before alignment");
            m.cpu.writeCr0(m.cpu.cr0() & ~Cpu.CR0_TS | Cpu.CR0_EM);
            assertNull(step(m, XSAVE), "CR0.EM does not matter to XSAVE");
            m.cpu.writeCr0(m.cpu.cr0() & ~Cpu.CR0_EM);
            assertEquals(CpuFault.UD, vector(m, "f0 " + XSAVE), "LOCK");
            assertEquals(CpuFault.UD, vector(m, "66 " + XSAVE), "a mandatory prefix names no XSAVE form");
            assertEquals(CpuFault.UD, vector(m, "0f ae 35 00 20 00 00"), "XSAVEOPT is not claimed");
            m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_TS);
            m.cpu.writeCr4(Sse.CR4_OSFXSR);
            assertEquals(CpuFault.UD, vector(m, XSAVE), "CR4.OSXSAVE = 0: #UD before #NM");
            assertEquals(CpuFault.UD, vector(m, XRSTOR));
        }
    }

    @Test
    void xsaveWithBothComponentsWritesFxsaveLayoutAndSetsXstateBv() {
        try (FlatMachine m = machine()) {
            fillState(m.cpu);
            poison(m, AREA, 1024);
            poison(m, OTHER, 1024);
            m.memory.writeLong(AREA + 512, 0x8000_0000_0000_0004L);   // bits outside RFBM stay
            setMask(m.cpu, -1L);
            assertNull(step(m, XSAVE));
            assertNull(step(m, FXSAVE_OTHER));
            byte[] x = bytes(m, AREA, 1024);
            byte[] fx = bytes(m, OTHER, 1024);
            assertArrayEquals(slice(fx, 0, 512), slice(x, 0, 512), "the legacy region is FXSAVE's image");
            assertEquals(0x8000_0000_0000_0007L, m.memory.readLong(AREA + 512), "XSTATE_BV |= RFBM (XINUSE = 1)");
            for (int i = 520; i < 1024; i++) {
                assertEquals((byte) 0xA5, x[i], "header byte " + i + " and beyond: not written");
            }
            for (int i = 288; i < 512; i++) {
                assertEquals((byte) 0xA5, x[i], "32-bit mode: XMM8-15 and bytes 416-511 not written, byte " + i);
            }
            assertEquals(0x27F, m.memory.readInt(AREA) & 0xFFFF, "FCW");
            assertEquals(0x3F80 | SoftFloat.PE, m.memory.readInt(AREA + 24), "MXCSR");
            assertEquals(Sse.MXCSR_MASK, m.memory.readInt(AREA + 28), "MXCSR_MASK");
        }
    }

    @Test
    void xsaveWritesOnlyRequestedComponents() {
        try (FlatMachine m = machine()) {
            fillState(m.cpu);
            poison(m, AREA, 576);
            m.memory.writeLong(AREA + 512, 0);
            setMask(m.cpu, 1);
            assertNull(step(m, XSAVE));
            byte[] x = bytes(m, AREA, 576);
            assertEquals(0x27F, m.memory.readInt(AREA) & 0xFFFF, "x87 written");
            assertEquals(0x8000_0000_0000_0000L, m.memory.readLong(AREA + 32), "ST0");
            for (int i = 24; i < 32; i++) {
                assertEquals((byte) 0xA5, x[i], "MXCSR, MXCSR_MASK belong to SSE: byte " + i);
            }
            for (int i = 160; i < 512; i++) {
                assertEquals((byte) 0xA5, x[i], "no XMM register: byte " + i);
            }
            assertEquals(1, m.memory.readLong(AREA + 512));

            poison(m, AREA, 576);
            m.memory.writeLong(AREA + 512, 0);
            setMask(m.cpu, 2);
            assertNull(step(m, XSAVE));
            x = bytes(m, AREA, 576);
            for (int i = 0; i < 24; i++) {
                assertEquals((byte) 0xA5, x[i], "no x87 header field: byte " + i);
            }
            for (int i = 32; i < 160; i++) {
                assertEquals((byte) 0xA5, x[i], "no x87 register: byte " + i);
            }
            assertEquals(0x3F80 | SoftFloat.PE, m.memory.readInt(AREA + 24), "MXCSR with SSE");
            assertEquals(m.cpu.xmm[14], m.memory.readLong(AREA + 160 + 7 * 16), "XMM7");
            assertEquals(2, m.memory.readLong(AREA + 512));

            m.cpu.xcr0 = 1;
            poison(m, AREA, 576);
            m.memory.writeLong(AREA + 512, 2);
            setMask(m.cpu, 3);
            assertNull(step(m, XSAVE));
            assertEquals(0xA5A5_A5A5, m.memory.readInt(AREA + 24), "XCR0 without SSE: MXCSR not saved");
            assertEquals(3, m.memory.readLong(AREA + 512), "the SSE bit, outside RFBM, is left as it was");

            poison(m, AREA, 576);
            m.memory.writeLong(AREA + 512, 0);
            setMask(m.cpu, 0);
            assertNull(step(m, XSAVE));
            assertArrayEquals(slice(bytes(m, AREA, 512), 0, 512), slice(poisoned(), 0, 512), "RFBM = 0: nothing");
            assertEquals(0, m.memory.readLong(AREA + 512), "and XSTATE_BV unchanged");
        }
    }

    private static byte[] poisoned() {
        byte[] b = new byte[576];
        java.util.Arrays.fill(b, (byte) 0xA5);
        return b;
    }

    @Test
    void xsaveProbesTheWholeAreaBeforeWriting() {
        try (FlatMachine m = machine()) {
            Cpu c = m.cpu;
            // 32-bit paging: the area's last 64 bytes (the header) sit on a page that is not present
            m.memory.writeInt(0x10000, 0x11000 | 3);                    // PDE 0 -> page table
            for (int p = 0; p < 0x10; p++) {
                m.memory.writeInt(0x11000 + 4 * p, p << 12 | 3);        // identity, 0-64 KiB
            }
            m.memory.writeInt(0x11000 + 4 * 4, 0);                      // 0x4000 not present
            c.writeCr3(0x10000);
            c.writeCr0(c.cr0() | Cpu.CR0_PG);
            fillState(c);
            poison(m, 0x3E00, 0x200);
            setMask(c, 3);
            CpuFault f = step(m, "0f ae 25 00 3e 00 00");               // xsave [0x3E00]
            assertNotNull(f);
            assertEquals(CpuFault.PF, f.vector);
            assertArrayEquals(slice(poisoned(), 0, 512), bytes(m, 0x3E00, 512), "nothing written before the fault");
        }
    }

    @Test
    void xsave64InLongModeWritesSixteenRegistersAndWidePointers() {
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            Cpu c = m.cpu;
            c.writeCr4(c.mmu.cr4 | Cpu.CR4_OSXSAVE);
            c.xcr0 = 3;
            fillState(c);
            c.fpu.instructionPointer = 0x7FFF_1234_5678_9ABCL;
            long area = RandomProgram.SCRATCH + 0x1000;
            long fx = RandomProgram.SCRATCH + 0x2000;
            c.r[Cpu.EBX] = area;
            c.r[Cpu.ESI] = fx;
            setMask(c, 3);
            run64(m, "48 0f ae 23 48 0f ae 06");                       // xsave64 [rbx]; fxsave64 [rsi]
            assertArrayEquals(bytes(m, fx, 416), bytes(m, area, 416), "XSAVE64's legacy region is FXSAVE64's");
            assertEquals(0x7FFF_1234_5678_9ABCL, m.memory.readLong(area + 8), "64-bit FIP");
            assertEquals(c.xmm[31], m.memory.readLong(area + 160 + 15 * 16 + 8), "XMM15 high");
            run64(m, "0f ae 23 0f ae 06");                             // xsave [rbx]; fxsave [rsi]
            assertArrayEquals(bytes(m, fx, 416), bytes(m, area, 416));
            assertEquals(0x5678_9ABCL, m.memory.readLong(area + 8), "without REX.W: 32-bit FIP, zero FCS");
        }
    }

    // ---- XRSTOR ----

    /** Fills the x87 and SSE state with known values and XSAVEs it (RFBM = 3) to a clean AREA. */
    private static void saveFilledState(FlatMachine m) {
        fillState(m.cpu);
        m.memory.writeLong(AREA + 512, 0);
        m.memory.writeLong(AREA + 520, 0);
        m.memory.writeLong(AREA + 528, 0);
        setMask(m.cpu, 3);
        assertNull(step(m, XSAVE));
    }

    @Test
    void xrstorRoundTripRestoresEverything() {
        try (FlatMachine m = machine()) {
            Cpu c = m.cpu;
            saveFilledState(m);
            X87State f = c.fpu;
            int tag = f.tag;
            long[] sig = f.significand.clone();
            int[] se = f.signExponent.clone();
            long[] xmm = c.xmm.clone();
            f.reset();
            java.util.Arrays.fill(c.xmm, 0, 16, 0);
            c.mxcsr = 0x1F80;
            assertNull(step(m, XRSTOR));
            assertEquals(0x27F, f.control);
            assertEquals(3 << 11 | 0x20, f.status);
            assertEquals(tag, f.tag, "the full tag word rebuilt");
            assertArrayEquals(sig, f.significand);
            assertArrayEquals(se, f.signExponent);
            assertEquals(0x5A5, f.opcode);
            assertEquals(0x1234_5678L, f.instructionPointer);
            assertEquals(0x0BAD_F00DL, f.dataPointer);
            assertEquals(0x3F80 | SoftFloat.PE, c.mxcsr);
            assertArrayEquals(xmm, c.xmm);
        }
    }

    @Test
    void xrstorInitialisesRequestedComponentsAbsentFromXstateBv() {
        try (FlatMachine m = machine()) {
            Cpu c = m.cpu;
            fillState(c);
            setMask(c, 3);
            assertNull(step(m, XSAVE));
            m.memory.writeLong(AREA + 512, 0);
            m.memory.writeInt(AREA + 24, 0x1F80 | Sse.MXCSR_DAZ);
            fillState(c);
            assertNull(step(m, XRSTOR));
            X87State f = c.fpu;
            assertEquals(0x37F, f.control, "x87 initial configuration");
            assertEquals(0, f.status);
            assertEquals(0xFFFF, f.tag);
            assertEquals(0, f.opcode);
            assertEquals(0, f.instructionPointer);
            assertEquals(0, f.dataPointer);
            assertArrayEquals(new long[8], f.significand);
            assertArrayEquals(new int[8], f.signExponent);
            assertArrayEquals(new long[16], java.util.Arrays.copyOf(c.xmm, 16), "XMM0-7 zero");
            assertEquals(0x0909_0909_0909_0909L, c.xmm[16], "32-bit mode: XMM8 untouched");
            assertEquals(0x1F80 | Sse.MXCSR_DAZ, c.mxcsr, "MXCSR is loaded from memory even so");

            fillState(c);
            m.memory.writeLong(AREA + 512, 1);                  // x87 from memory, SSE initialised
            assertNull(step(m, XRSTOR));
            assertEquals(0x27F, f.control);
            assertEquals(0, c.xmm[0]);

            fillState(c);
            c.fpu.control = 0x37F;
            setMask(c, 2);                                      // only SSE requested
            m.memory.writeLong(AREA + 512, 3);
            assertNull(step(m, XRSTOR));
            assertEquals(0x37F, f.control, "x87 outside RFBM: unchanged");
            assertEquals(0x1F80 | Sse.MXCSR_DAZ, c.mxcsr);
        }
    }

    @Test
    void xrstorRefusesBadHeadersAndMxcsrBeforeChangingAnything() {
        try (FlatMachine m = machine()) {
            Cpu c = m.cpu;
            saveFilledState(m);
            c.fpu.control = 0x37F;
            c.xmm[0] = 42;

            m.memory.writeLong(AREA + 520, 1L << 63);
            assertGp(m, "XCOMP_BV[63]: the compacted form is not supported");
            m.memory.writeLong(AREA + 520, 2);
            assertGp(m, "XCOMP_BV");
            m.memory.writeLong(AREA + 520, 0);
            for (int off = 528; off < 536; off++) {
                m.memory.writeByte(AREA + off, (byte) 1);
                assertGp(m, "header byte " + (off - 512));
                m.memory.writeByte(AREA + off, (byte) 0);
            }
            m.memory.writeLong(AREA + 512, 7);
            assertGp(m, "XSTATE_BV bit 2 is not in XCR0");
            c.xcr0 = 1;
            m.memory.writeLong(AREA + 512, 3);
            assertGp(m, "XSTATE_BV bit 1 is not in XCR0 = 1");
            c.xcr0 = 3;
            m.memory.writeInt(AREA + 24, 0x1_1F80);
            assertGp(m, "MXCSR reserved bit with SSE requested");
            assertEquals(0x37F, c.fpu.control, "nothing was loaded");
            assertEquals(42, c.xmm[0]);
            assertEquals(0x3F80 | SoftFloat.PE, c.mxcsr);

            setMask(c, 1);
            assertNull(step(m, XRSTOR), "MXCSR is not looked at without SSE");
            assertEquals(0x27F, c.fpu.control);
            assertEquals(42, c.xmm[0]);

            m.memory.writeInt(AREA + 24, 0x1F80);
            for (int off = 536; off < 576; off++) {
                m.memory.writeByte(AREA + off, (byte) 0x5A);
            }
            setMask(c, 3);
            assertNull(step(m, XRSTOR), "header bytes 24-63 are not checked by the standard form");
        }
    }

    private static void assertGp(FlatMachine m, String what) {
        CpuFault f = step(m, XRSTOR);
        assertNotNull(f, what);
        assertEquals(CpuFault.GP, f.vector, what);
        assertEquals(0, f.errorCode, what);
    }

    @Test
    void xrstor64InLongModeLoadsSixteenRegistersAndWidePointers() {
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            Cpu c = m.cpu;
            c.writeCr4(c.mmu.cr4 | Cpu.CR4_OSXSAVE);
            c.xcr0 = 3;
            fillState(c);
            c.fpu.instructionPointer = 0x7FFF_1234_5678_9ABCL;
            long area = RandomProgram.SCRATCH + 0x1000;
            m.memory.load(area, new byte[576]);
            c.r[Cpu.EBX] = area;
            setMask(c, 3);
            run64(m, "48 0f ae 23");                                   // xsave64 [rbx]
            long[] xmm = c.xmm.clone();
            java.util.Arrays.fill(c.xmm, 0);
            c.fpu.instructionPointer = 0;
            run64(m, "48 0f ae 2b");                                   // xrstor64 [rbx]
            assertArrayEquals(xmm, c.xmm, "XMM0-15");
            assertEquals(0x7FFF_1234_5678_9ABCL, c.fpu.instructionPointer);
            run64(m, "0f ae 2b");                                      // xrstor [rbx]
            assertEquals(0x5678_9ABCL, c.fpu.instructionPointer, "without REX.W: a 32-bit FIP");
            m.memory.writeLong(area + 512, 1);
            run64(m, "0f ae 2b");
            assertArrayEquals(new long[32], c.xmm, "SSE initialised: XMM0-15 zero in 64-bit mode");
        }
    }

    private static void run64(FlatMachine m, String hex) {
        byte[] code = FlatMachine.hex(hex);
        m.load(NativeHarness64.CODE, code);
        m.cpu.rip = NativeHarness64.CODE;
        m.cpu.eip = NativeHarness64.CODE;
        while (m.cpu.rip != NativeHarness64.CODE + code.length) {
            m.cpu.runSlice(1);
        }
    }

    @Test
    void compiledRegionsEndBeforeTheXsaveInstructions() {
        // they read EDX:EAX and XCR0 or change what later code may do: the interpreter runs them
        for (String hex : new String[] {"0f ae 23", "48 0f ae 23", "0f ae 2b", "48 0f ae 2b", "0f 01 d0", "0f 01 d1"}) {
            byte[] b = FlatMachine.hex(hex);
            DecodedInsn d = Decoder.decode64(i -> b[i] & 0xFF);
            assertFalse(RegionTraits.translatable(d), hex);
            assertFalse(RegionTraits.delegated(d), hex);
        }
    }

    @Test
    void aHotLoopWithXsaveGivesTheSameResultWithCompiledRegions() {
        long[] sums = new long[2];
        for (int pass = 0; pass < 2; pass++) {
            try (FlatMachine m = NativeDifferential64Test.machine64()) {
                Cpu c = m.cpu;
                c.writeCr4(c.mmu.cr4 | Cpu.CR4_OSXSAVE);
                c.xcr0 = 3;
                c.compileBlocks = pass == 1;
                c.regionThreshold = 2;
                m.load(NativeHarness64.CODE, FlatMachine.hex(String.join(" ",
                        "b9 c8 00 00 00",                               // mov ecx, 200
                        "b8 03 00 00 00 31 d2 31 f6 31 ff",             // mov eax, 3; xor edx, esi, edi
                        "66 48 0f 6e c6",                               // L: movq xmm0, rsi
                        "48 83 c6 07",                                  // add rsi, 7
                        "0f ae 23",                                     // xsave [rbx]
                        "48 03 bb a0 00 00 00",                         // add rdi, [rbx+0xa0] (saved XMM0)
                        "ff c9 75 e9",                                  // dec ecx; jnz L
                        "f4")));                                        // hlt
                c.r[Cpu.EBX] = NativeDifferential64Test.DATA;
                c.rip = NativeHarness64.CODE;
                c.eip = NativeHarness64.CODE;
                assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
                sums[pass] = c.r[Cpu.EDI];
                if (pass == 1) {
                    assertTrue(c.regionRetired > 0, "regions ran around the XSAVE");
                }
            }
        }
        assertEquals(7L * 199 * 200 / 2, sums[0], "each XSAVE saw the XMM0 of its iteration");
        assertEquals(sums[0], sums[1]);
    }

    // ---- against the host CPU ----

    static final long NATIVE_AREA = RandomProgram.SCRATCH + 0x1000;
    /** Where the XRSTOR cases FXSAVE the result, from the area. */
    static final int FXSAVE_IMAGE = 0x400;
    static final int NATIVE_CASES = Integer.getInteger("emu.xsave.cases", 300);

    /** A fixed sequence for the harness. */
    record Sequence(byte[] code, String listing) implements GeneratedProgram64 {
        @Override
        public int undefinedFlags() {
            return 0;
        }
    }

    /**
     * The state components a host's XCR0 may hold besides x87 and SSE, which random
     * requested-feature bitmaps leave out (the host would save them, the emulator has none): AVX,
     * MPX, AVX-512, PKRU and AMX (bits 2-7, 9, 17-18; bits 0 and 1 are drawn apart).
     */
    private static final long HOST_STATES = 0x6_02FFL;

    /**
     * XSAVE and XSAVE64 of a known x87 state (FNINIT, then an MMX operation: TOP 0, every register
     * valid, FIP/FDP/FOP zero) and random XMM registers and MXCSR, with random requested-feature
     * bitmaps, over a random XSAVE header: the emulator's image equals the host's byte for byte
     * except MXCSR_MASK, which is each CPU's own (the host's may include AMD's MM bit 17).
     */
    @Test
    void xsaveImagesMatchTheHostCpu() throws Exception {
        Random rnd = new Random(0x5A7E);
        List<NativeHarness64.Input> inputs = new ArrayList<>();
        List<Sequence> seqs = new ArrayList<>();
        for (int i = 0; i < NATIVE_CASES; i++) {
            boolean wide = rnd.nextBoolean();
            String hex = "db e3 0f eb c1 " + (wide ? "48 " : "") + "0f ae 23"; // fninit; por mm0, mm1; xsave[64] [rbx]
            long mask = rnd.nextInt(4) | (rnd.nextLong() & ~HOST_STATES);
            seqs.add(new Sequence(FlatMachine.hex(hex), (wide ? "xsave64" : "xsave") + " mask " + Long.toHexString(mask)));
            inputs.add(input(rnd, FlatMachine.hex(hex), mask));
        }
        compareWithHost(inputs, seqs);
    }

    /**
     * XRSTOR and XRSTOR64 with random requested-feature bitmaps and XSTATE_BV values over random
     * register images (FSW, FOP and the pointers zeroed, as AMD saves pointers only with an
     * exception pending; a valid FCW and MXCSR), then FXSAVE64 of the result: the registers and
     * that image must match the host's, initialised components included.
     */
    @Test
    void xrstorResultsMatchTheHostCpu() throws Exception {
        Random rnd = new Random(0x7E57);
        List<NativeHarness64.Input> inputs = new ArrayList<>();
        List<Sequence> seqs = new ArrayList<>();
        for (int i = 0; i < NATIVE_CASES; i++) {
            boolean wide = rnd.nextBoolean();
            int fcw = 0x40 | rnd.nextInt() & 0x1F3F;
            int mxcsr = rnd.nextInt() & 0xFFFF;
            int xstateBv = rnd.nextInt(4);
            String hex = String.join(" ",
                    "db e3 0f eb c1",                                   // fninit; por mm0, mm1
                    "66 c7 03", le(fcw, 2),                             // mov word [rbx], fcw
                    "66 c7 43 02 00 00",                                // mov word [rbx+2], 0 (FSW)
                    "66 c7 43 06 00 00",                                // mov word [rbx+6], 0 (FOP)
                    "48 c7 43 08 00 00 00 00",                          // mov qword [rbx+8], 0
                    "48 c7 43 10 00 00 00 00",                          // mov qword [rbx+16], 0
                    "c7 43 18", le(mxcsr, 4),                           // mov dword [rbx+24], mxcsr
                    "48 c7 83 00 02 00 00", le(xstateBv, 4),            // mov qword [rbx+512], xstate_bv
                    "48 c7 83 08 02 00 00 00 00 00 00",                 // mov qword [rbx+520], 0
                    "48 c7 83 10 02 00 00 00 00 00 00",                 // mov qword [rbx+528], 0
                    wide ? "48 0f ae 2b" : "0f ae 2b",                  // xrstor[64] [rbx]
                    "48 0f ae 83 00 04 00 00");                         // fxsave64 [rbx+0x400]
            long mask = rnd.nextInt(4) | (rnd.nextLong() & ~HOST_STATES);
            seqs.add(new Sequence(FlatMachine.hex(hex), (wide ? "xrstor64" : "xrstor") + " mask "
                    + Long.toHexString(mask) + " xstate_bv " + xstateBv + " fcw " + Integer.toHexString(fcw)
                    + " mxcsr " + Integer.toHexString(mxcsr)));
            inputs.add(input(rnd, FlatMachine.hex(hex), mask));
        }
        compareWithHost(inputs, seqs);
    }

    private static String le(int v, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(String.format("%02x ", v >>> (8 * i) & 0xFF));
        }
        return sb.toString().trim();
    }

    /** Random non-zero XMM and MMX values (so the host tracks both components as in use), RBX the area. */
    private static NativeHarness64.Input input(Random rnd, byte[] code, long mask) {
        long[] regs = new long[16];
        for (int r = 0; r < 16; r++) {
            regs[r] = rnd.nextLong();
        }
        regs[Cpu.EAX] = mask & 0xFFFF_FFFFL | rnd.nextLong() << 32;
        regs[Cpu.EDX] = mask >>> 32 | rnd.nextLong() << 32;
        regs[Cpu.EBX] = NATIVE_AREA;
        regs[Cpu.ESP] = NativeDifferential64Test.STACK;
        long[] xmm = new long[32];
        for (int n = 0; n < 32; n++) {
            xmm[n] = rnd.nextLong() | 1;
        }
        long[] mm = new long[8];
        for (int n = 0; n < 8; n++) {
            mm[n] = rnd.nextLong() | 1;
        }
        int mxcsr = 0x1F80 | rnd.nextInt(0x40) | (rnd.nextInt(4) << 13);
        return new NativeHarness64.Input(code, regs, 0x202, rnd.nextInt() | 1, mxcsr, xmm, mm);
    }

    private void compareWithHost(List<NativeHarness64.Input> inputs, List<Sequence> seqs) throws Exception {
        NativeHarness64 h = NativeHarness64.build(tmp);
        List<String> lines = h.runRaw(inputs);
        assertEquals(inputs.size(), lines.size(), () -> "the harness stopped: "
                + (lines.isEmpty() ? "" : lines.get(lines.size() - 1)) + " after " + seqs.get(lines.size()).listing());
        List<String> failures = new ArrayList<>();
        int areaOffset = (int) (NATIVE_AREA - RandomProgram.SCRATCH);
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            Cpu c = m.cpu;
            c.writeCr4(c.mmu.cr4 | Cpu.CR4_OSXSAVE);
            c.xcr0 = XSave.SUPPORTED;
            for (int i = 0; i < inputs.size() && failures.size() < 5; i++) {
                NativeHarness64.Input in = inputs.get(i);
                String line = lines.get(i);
                if (line.startsWith("CRASH") || line.startsWith("FPE")) {
                    failures.add(seqs.get(i).listing() + ": native " + line);
                    continue;
                }
                NativeHarness64.Output want = NativeHarness64.parse(line);
                byte[] pattern = NativeHarness64.scratchPattern(in.memSeed());
                m.memory.load(RandomProgram.SCRATCH, pattern);
                loadHarnessState(c, in);
                try {
                    run64(m, hexOf(in.code()));
                } catch (CpuFault f) {
                    failures.add(seqs.get(i).listing() + ": emu raised vector " + f.vector);
                    continue;
                }
                StringBuilder diff = new StringBuilder();
                if (c.mxcsr != want.mxcsr()) {
                    diff.append(String.format(" MXCSR native=%X emu=%X", want.mxcsr(), c.mxcsr));
                }
                for (int n = 0; n < 32; n++) {
                    if (c.xmm[n] != want.xmm()[n]) {
                        diff.append(String.format(" XMM%d.%d native=%X emu=%X", n / 2, n % 2, want.xmm()[n], c.xmm[n]));
                    }
                }
                for (int n = 0; n < 8; n++) {
                    if (c.fpu.significand[n] != want.mm()[n]) {
                        diff.append(String.format(" MM%d native=%X emu=%X", n, want.mm()[n], c.fpu.significand[n]));
                    }
                }
                TreeMap<Integer, Integer> emuMem = changed(m, pattern);
                TreeMap<Integer, Integer> nativeMem = new TreeMap<>(want.memory());
                for (int image : new int[] {areaOffset, areaOffset + FXSAVE_IMAGE}) {
                    int mask = m.memory.readInt(RandomProgram.SCRATCH + image + 28);
                    if (emuMem.containsKey(image + 28) && mask != Sse.MXCSR_MASK) {
                        diff.append(String.format(" emu MXCSR_MASK %X", mask));
                    }
                    for (int b = 28; b < 32; b++) {
                        // MXCSR_MASK: each CPU writes its own writable MXCSR bits (AMD's include bit 17)
                        nativeMem.remove(image + b);
                        emuMem.remove(image + b);
                    }
                }
                if (!nativeMem.equals(emuMem)) {
                    diff.append(" memory native=").append(nativeMem).append(" emu=").append(emuMem);
                }
                if (!diff.isEmpty()) {
                    failures.add(seqs.get(i).listing() + ":" + diff);
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " case(s) differ from the host CPU:\n" + String.join("\n", failures));
        }
        System.out.printf("%d XSAVE/XRSTOR cases identical to the host CPU%n", inputs.size());
    }

    /** The state {@code native_harness64.c} loads: MMX loads leave TOP 0, every tag valid, exponents all ones. */
    private static void loadHarnessState(Cpu c, NativeHarness64.Input in) {
        System.arraycopy(in.regs(), 0, c.r, 0, 16);
        c.flags.load((int) in.rflags());
        c.mxcsr = in.mxcsr();
        System.arraycopy(in.xmm(), 0, c.xmm, 0, 32);
        X87State f = c.fpu;
        System.arraycopy(in.mm(), 0, f.significand, 0, 8);
        java.util.Arrays.fill(f.signExponent, 0xFFFF);
        f.control = 0x37F;
        f.status = 0;
        f.tag = 0;
    }

    private static TreeMap<Integer, Integer> changed(FlatMachine m, byte[] pattern) {
        byte[] now = new byte[RandomProgram.SCRATCH_SIZE];
        m.memory.read(RandomProgram.SCRATCH, now, 0, now.length);
        TreeMap<Integer, Integer> map = new TreeMap<>();
        for (int i = 0; i < now.length; i++) {
            if (now[i] != pattern[i]) {
                map.put(i, now[i] & 0xFF);
            }
        }
        return map;
    }

    private static String hexOf(byte[] code) {
        StringBuilder sb = new StringBuilder();
        for (byte b : code) {
            sb.append(String.format("%02x ", b & 0xFF));
        }
        return sb.toString();
    }
}
