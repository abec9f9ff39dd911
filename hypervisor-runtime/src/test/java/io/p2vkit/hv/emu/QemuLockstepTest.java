package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.emu.decode.DecodedInsn;
import io.p2vkit.hv.guest.TestGuest;
import io.p2vkit.hv.memory.GuestMemory;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lockstep against QEMU's emulator from power-on to the bootloader: SeaBIOS boots the test
 * guest's disk under {@code qemu-system-x86_64 -accel tcg -singlestep -d cpu,nochain,int} with
 * the trace events of every device read and write (read through a FIFO, never stored), and emu
 * runs the same firmware one instruction at a time. Before every instruction the general
 * registers, EIP, EFLAGS, the segment registers (selector, base, limit, attributes), GDTR, IDTR,
 * CR0, CR2, CR3 and CR4 must be equal, through the MBR at
 * 0000:7C00 (which must hold the disk's sector 0) on to SYSLINUX's banner on COM1 (in the
 * default run), or for the first {@link #SHORT_WINDOW} instructions (a quick slow-tagged check).
 *
 * <p>What a device does is QEMU's business here: emu's bus is a {@link DeviceReplay} that
 * serves each port and MMIO read (IN, INS element by element, MOV from MMIO) the value QEMU's
 * device returned, after checking that emu asked for the same address and size, and checks each
 * write against the one QEMU's CPU made. Hardware interrupts QEMU reports are injected at the same
 * instruction. What the CPU model reports (CPUID, RDTSC, RDMSR, MSRs only QEMU's model has) and
 * flags the SDM leaves undefined are copied from QEMU's next state and counted. Everything else
 * the CPU computes must agree by itself.
 */
class QemuLockstepTest {

    /** A safety net far above the ~23 million QEMU logs up to SYSLINUX's banner. */
    static final long LIMIT = 60_000_000;
    /**
     * The default run's window: reset, the switch to 32-bit mode, PCI, PAM and the fw_cfg file
     * reads with INSB, in a few seconds.
     */
    static final long SHORT_WINDOW = 500_000;
    static final int FLAG_MASK = 0x0000_0FD5 | 0x0003_7000; // arithmetic, DF, IF, TF, IOPL, NT, RF, VM
    static final int MBR = 0x7C00;
    /** The start of the bootloader's first line on COM1: the end of the window. */
    static final String BANNER = "SYSLINUX ";

    @TempDir
    Path tmp;

    /** Whether emu's state is QEMU's, without allocating (this runs 22 million times). */
    static boolean matches(Cpu c, QemuTrace.State q) {
        for (int n = 0; n < 8; n++) {
            if (c.r32(n) != q.regs()[n]) {
                return false;
            }
        }
        for (int s = 0; s < 6; s++) {
            if (c.segSel[s] != q.sel()[s] || c.segBase[s] != q.base()[s] || c.segLimit[s] != q.limit()[s]
                    || c.segAttr[s] != attributes(q.flags()[s])) {
                return false;
            }
        }
        int[] t = q.tables();
        int[] cr = q.cr();
        return c.eip == q.eip() && ((c.eflags() ^ q.eflags()) & FLAG_MASK) == 0 && c.cr0() == cr[0]
                && (int) c.cr2 == cr[2] && (int) c.mmu.cr3 == cr[3] && c.mmu.cr4 == cr[4]
                && (int) c.gdtBase == t[QemuTrace.GDT_BASE] && c.gdtLimit == t[QemuTrace.GDT_LIMIT]
                && (int) c.idtBase == t[QemuTrace.IDT_BASE] && c.idtLimit == t[QemuTrace.IDT_LIMIT];
    }

    /**
     * QEMU keeps a segment's descriptor flags as the descriptor's high doubleword (type, S, DPL, P
     * in bits 8-15; AVL, L, D/B, G in bits 20-23); emu keeps the same bits packed as byte 5 and the
     * high nibble of byte 6 of the descriptor.
     */
    static int attributes(int qemuFlags) {
        return (qemuFlags >>> 8) & 0xF0FF;
    }

    static String diff(Cpu c, QemuTrace.State q) {
        StringBuilder d = new StringBuilder();
        String[] names = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
        for (int n = 0; n < 8; n++) {
            if (c.r32(n) != q.regs()[n]) {
                d.append(String.format(" %s qemu=%08X emu=%08X", names[n], q.regs()[n], c.r32(n)));
            }
        }
        if (c.eip != q.eip()) {
            d.append(String.format(" EIP qemu=%08X emu=%08X", q.eip(), c.eip));
        }
        if ((c.eflags() & FLAG_MASK) != (q.eflags() & FLAG_MASK)) {
            d.append(String.format(" EFL qemu=%08X emu=%08X", q.eflags(), c.eflags()));
        }
        for (int s = 0; s < 6; s++) {
            if (c.segSel[s] != q.sel()[s] || c.segBase[s] != q.base()[s] || c.segLimit[s] != q.limit()[s]
                    || c.segAttr[s] != attributes(q.flags()[s])) {
                d.append(String.format(" seg%d qemu=%04X/%08X/%08X/%04X emu=%04X/%08X/%08X/%04X", s, q.sel()[s],
                        q.base()[s], q.limit()[s], attributes(q.flags()[s]), c.segSel[s], c.segBase[s],
                        c.segLimit[s], c.segAttr[s]));
            }
        }
        int[] cr = q.cr();
        long[] emuCr = {c.cr0(), 0, c.cr2, c.mmu.cr3, c.mmu.cr4};
        for (int n : new int[] {0, 2, 3, 4}) {
            if ((int) emuCr[n] != cr[n]) {
                d.append(String.format(" CR%d qemu=%08X emu=%08X", n, cr[n], emuCr[n]));
            }
        }
        int[] t = q.tables();
        if ((int) c.gdtBase != t[QemuTrace.GDT_BASE] || c.gdtLimit != t[QemuTrace.GDT_LIMIT]) {
            d.append(String.format(" GDTR qemu=%08X/%X emu=%08X/%X", t[QemuTrace.GDT_BASE], t[QemuTrace.GDT_LIMIT],
                    c.gdtBase, c.gdtLimit));
        }
        if ((int) c.idtBase != t[QemuTrace.IDT_BASE] || c.idtLimit != t[QemuTrace.IDT_LIMIT]) {
            d.append(String.format(" IDTR qemu=%08X/%X emu=%08X/%X", t[QemuTrace.IDT_BASE], t[QemuTrace.IDT_LIMIT],
                    c.idtBase, c.idtLimit));
        }
        return d.toString();
    }

    /**
     * QEMU made as deterministic and small as it goes: instruction counting drives its clocks, the
     * RTC included (SeaBIOS waits for the RTC's update-in-progress bit), SMM and the
     * kvmvapic option ROM are off (emu models neither), fw_cfg is read through its data port
     * (its DMA writes memory where the trace cannot see), and the one disk is IDE (PIO).
     */
    static List<String> qemuCommand(Path bios, Path disk, Path log) {
        return List.of("qemu-system-x86_64", "-accel", "tcg", "-singlestep", "-d", "cpu,nochain,int",
                "-trace", "memory_region_ops_read", "-trace", "memory_region_ops_write", "-D", log.toString(),
                "-display", "none", "-nodefaults", "-serial", "null", "-machine", "pc,smm=off", "-global", "apic.vapic=off",
                "-global", "fw_cfg_io.dma_enabled=off", "-m", "64", "-bios", bios.toString(),
                "-icount", "shift=0", "-rtc", "base=2020-01-01T00:00:00,clock=vm", "-boot", "menu=off", "-no-reboot",
                "-drive", "file=" + disk + ",format=raw,if=ide,snapshot=on");
    }

    /** In the default run (about three minutes): issue 3 asks CI to show the whole window. */
    @Test
    void seaBiosMatchesQemuUpToTheBootloader() throws Exception {
        lockstep(true);
    }

    /** The first {@link #SHORT_WINDOW} instructions only: a quick check while working on emu. */
    @Test
    @Tag("slow")
    void seaBiosMatchesQemuForItsFirstHalfMillionInstructions() throws Exception {
        lockstep(false);
    }

    /** Runs to SYSLINUX's banner, or for {@link #SHORT_WINDOW} instructions. */
    private void lockstep(boolean toBootloader) throws Exception {
        Assumptions.assumeTrue(Files.isReadable(SeaBiosBootTest.BIOS), "SeaBIOS is not installed");
        Path disk = TestGuest.disk();
        Path fifo = tmp.resolve("trace.fifo");
        try {
            new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor();
            new ProcessBuilder("qemu-system-x86_64", "--version").start().waitFor();
        } catch (IOException e) {
            Assumptions.abort("qemu-system-x86_64 or mkfifo is missing: " + e.getMessage());
            return;
        }
        long started = System.nanoTime();
        Process qemu = new ProcessBuilder(qemuCommand(SeaBiosBootTest.BIOS, disk, fifo))
                .redirectErrorStream(true).redirectOutput(tmp.resolve("qemu.out").toFile()).start();
        try (InputStream log = Files.newInputStream(fifo); GuestMemory memory = new GuestMemory()) {
            byte[] bios = Files.readAllBytes(SeaBiosBootTest.BIOS);
            memory.add("low RAM", 0, 0xA0000, false);
            memory.add("BIOS shadow", 0xC0000, 0x40000, false);
            memory.add("RAM", 0x100000, 63 << 20, false);
            memory.add("BIOS ROM", 0x1_0000_0000L - bios.length, bios.length, true);
            memory.load(0x1_0000_0000L - bios.length, bios);
            memory.load(0x100000 - bios.length, bios);
            QemuTrace trace = new QemuTrace(log);
            DeviceReplay devices = new DeviceReplay(trace.accesses());
            Bus bus = new Bus();
            bus.registerPio("replayed ports", 0, 0x10000, devices);
            bus.registerMmio("replayed MMIO", 0, 0x1_0000_0000L, devices); // RAM regions take precedence
            EmuVcpu vcpu = new EmuVcpu(memory, bus, null);
            Cpu c = vcpu.cpu();
            Copied copied = new Copied();

            QemuTrace.State q = trace.next();
            if (q == null) {
                fail("QEMU wrote no trace: " + Files.readString(tmp.resolve("qemu.out")));
            }
            devices.assertAllTaken("before the first instruction");
            c.set32(Cpu.EDX, q.regs()[Cpu.EDX]); // the reset signature in EDX names the CPU model
            copied.signature++;
            DecodedInsn previous = null;
            int previousCs = 0;
            int previousEip = 0;
            long atMbr = -1;
            int consoleSeen = 0;
            long i = 0;
            long limit = toBootloader ? LIMIT : SHORT_WINDOW;
            for (; i < limit; i++) {
                if (!matches(c, q)) {
                    fail("first divergence before instruction " + i + " (" + copied + "):" + diff(c, q)
                            + String.format("%n  previous instruction: %04X:%08X %s", previousCs, previousEip, previous));
                }
                if (atMbr < 0 && c.segBase[Cpu.CS] + c.eip == MBR && c.segSel[Cpu.CS] == 0) {
                    atMbr = i;
                    assertMbrLoaded(memory, disk);
                }
                if (devices.com1().length() != consoleSeen) {
                    consoleSeen = devices.com1().length();
                    if (devices.com1().toString().contains(BANNER)) {
                        break;
                    }
                }
                if (q.halted()) {
                    fail("QEMU halted at instruction " + i + ", before the bootloader; the replay has no"
                            + " model of waiting for an interrupt");
                }
                int lin = c.segBase[Cpu.CS] + c.eip;
                DecodedInsn insn = c.decodeAt(lin);
                previous = insn;
                previousCs = c.segSel[Cpu.CS];
                previousEip = c.eip;
                int undefinedFlags = UndefinedFlags.of(insn, c);
                int startEip = c.eip;
                int startCs = c.segSel[Cpu.CS];
                boolean rep = (insn.prefixes & (DecodedInsn.PREFIX_REP | DecodedInsn.PREFIX_REPNE)) != 0
                        && ((insn.opcode >= 0xA4 && insn.opcode <= 0xAF) || (insn.opcode >= 0x6C && insn.opcode <= 0x6F));
                // QEMU's side of this instruction first, so its device accesses are queued for emu.
                QemuTrace.State next = trace.next();
                while (rep && next != null && next.eip() == startEip && next.sel()[Cpu.CS] == startCs
                        && next.interruptBefore() < 0) {
                    next = trace.next(); // QEMU logs every REP iteration
                }
                // With -icount, a TB whose instruction budget is spent exits before executing and is
                // logged again when it resumes: an identical dump with no access in between.
                while (next != null && !rep && next.sameRegisters(q) && next.interruptBefore() < 0
                        && trace.accesses().isEmpty()) {
                    next = trace.next();
                    copied.repeatedDumps++;
                }
                if (next == null) {
                    fail("the QEMU trace ended after " + i + " instructions: "
                            + Files.readString(tmp.resolve("qemu.out")));
                }
                boolean msr = insn.opcode == 0x130 || insn.opcode == 0x132;
                if (msr && next.eip() == startEip + insn.length && next.sel()[Cpu.CS] == startCs) {
                    modelSpecificRegister(c, insn, next, copied);
                } else if (rep && next.interruptBefore() >= 0 && remaining(insn, next.regs()[Cpu.ECX]) != 0) {
                    suspendedRep(vcpu, c, insn, next.regs()[Cpu.ECX], startEip, startCs);
                    copied.suspendedReps++;
                } else {
                    step(vcpu, c, rep, startEip, startCs);
                }
                if (!trace.accesses().isEmpty()) {
                    devices.assertAllTaken(String.format("at instruction %d %04X:%08X %s", i, startCs, startEip, insn));
                }
                if (next.interruptBefore() >= 0) {
                    injectInterrupt(c, next.interruptBefore());
                    copied.interrupts++;
                }
                switch (insn.opcode) {
                    case 0x131 -> { // RDTSC: QEMU's clock
                        c.set32(Cpu.EAX, next.regs()[Cpu.EAX]);
                        c.set32(Cpu.EDX, next.regs()[Cpu.EDX]);
                        copied.rdtsc++;
                    }
                    case 0x1A2 -> { // CPUID: QEMU's CPU model
                        for (int n = 0; n < 4; n++) {
                            c.set32(n, next.regs()[n]);
                        }
                        copied.cpuid++;
                    }
                    default -> {
                        // everything else must agree by itself
                    }
                }
                int undefinedDiffer = (c.eflags() ^ next.eflags()) & undefinedFlags;
                if (undefinedDiffer != 0) {
                    // The SDM leaves these flags undefined after this instruction: take QEMU's.
                    c.writeEflags((c.eflags() & ~undefinedDiffer) | (next.eflags() & undefinedDiffer), 4);
                    copied.undefinedFlags++;
                }
                q = next;
            }
            if (!toBootloader) {
                System.out.printf("lockstep: the first %,d instructions matched QEMU in %.1f s; %,d device reads"
                        + " replayed, %,d device writes checked; copied from QEMU: %s%n", i,
                        (System.nanoTime() - started) / 1e9, devices.reads(), devices.writes(), copied);
                return;
            }
            if (i == LIMIT) {
                fail("no bootloader banner after " + LIMIT + " instructions; COM1: " + devices.com1());
            }
            assertTrue(atMbr > 0, "SYSLINUX's banner without the MBR at 0000:7C00 first");
            System.out.printf("lockstep: %,d instructions matched QEMU from reset to the MBR at 0000:7C00 (%,d)"
                    + " and on to SYSLINUX's banner on COM1, in %.1f s; %,d device reads replayed, %,d device"
                    + " writes checked; copied from QEMU: %s%n", i, atMbr, (System.nanoTime() - started) / 1e9,
                    devices.reads(), devices.writes(), copied);
        } finally {
            qemu.destroyForcibly();
            qemu.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** SeaBIOS has read sector 0 through the replayed IDE data port: it must be the disk's. */
    private static void assertMbrLoaded(GuestMemory memory, Path disk) throws IOException {
        byte[] mbr = new byte[512];
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "r")) {
            f.readFully(mbr);
        }
        byte[] loaded = new byte[512];
        memory.read(MBR, loaded, 0, 512);
        assertArrayEquals(mbr, loaded, "the MBR emu read through the replayed IDE port is not the disk's");
    }

    /** One instruction in emu; a REP string instruction runs to its end as QEMU's log shows it. */
    private static void step(EmuVcpu vcpu, Cpu c, boolean rep, int startEip, int startCs) {
        vcpu.run(1);
        while (rep && c.eip == startEip && c.segSel[Cpu.CS] == startCs) {
            vcpu.run(1); // a long REP yields to the run loop every few thousand iterations
        }
    }

    /**
     * RDMSR or WRMSR that QEMU's CPU model completed. The MSRs are the CPU model's, and the guest
     * sees QEMU's model through the copied CPUID (MTRRs, an APIC this replayed machine lacks): emu
     * does the access where it has the MSR, and where it has not (#GP in emu) the MSR is listed
     * in the report. RDMSR's result is QEMU's either way.
     */
    private static void modelSpecificRegister(Cpu c, DecodedInsn insn, QemuTrace.State next, Copied copied) {
        int msr = c.r32(Cpu.ECX);
        try {
            if (insn.opcode == 0x132) {
                SystemOps.rdmsr(c, insn);
            } else {
                SystemOps.wrmsr(c, insn);
            }
        } catch (CpuFault absent) {
            copied.msrsEmuLacks.add(msr);
        }
        if (insn.opcode == 0x132) {
            c.set32(Cpu.EAX, next.regs()[Cpu.EAX]);
            c.set32(Cpu.EDX, next.regs()[Cpu.EDX]);
            copied.rdmsr++;
        } else {
            copied.wrmsr++;
        }
        c.eip += insn.length;
    }

    /** The count register a REP string instruction uses: CX with 16-bit addressing, else ECX. */
    private static int remaining(DecodedInsn insn, int ecx) {
        return insn.addr32() ? ecx : ecx & 0xFFFF;
    }

    /**
     * A REP string instruction QEMU interrupted between iterations (an interrupt may be taken
     * there, SDM Vol. 2 "REP"): emu runs the same number of iterations, by running the
     * instruction with the count set to that number, and then stands where QEMU stands, on the
     * instruction with the rest of the count in (E)CX.
     */
    private static void suspendedRep(EmuVcpu vcpu, Cpu c, DecodedInsn insn, int qemuEcx, int startEip, int startCs) {
        int size = insn.addr32() ? 4 : 2;
        int left = remaining(insn, qemuEcx);
        int done = remaining(insn, c.r32(Cpu.ECX) - left);
        c.setReg(Cpu.ECX, size, done);
        step(vcpu, c, true, startEip, startCs);
        if (remaining(insn, c.r32(Cpu.ECX)) == 0 && c.segSel[Cpu.CS] == startCs) {
            c.setReg(Cpu.ECX, size, left);
            c.eip = startEip;
        }
    }

    /** An external interrupt QEMU delivered before its next instruction, delivered here too. */
    private static void injectInterrupt(Cpu c, int vector) {
        c.insnEip = c.eip;
        c.insnRip = c.rip;
        c.insnEsp = c.r[Cpu.ESP];
        c.halted = false;
        Interrupts.deliver(c, vector, 0, false, Interrupts.EXTERNAL, c.eip);
    }

    /** What was taken from QEMU rather than computed by emu, counted for the report. */
    static final class Copied {
        long signature;
        long cpuid;
        long rdtsc;
        long rdmsr;
        long wrmsr;
        final SortedSet<Integer> msrsEmuLacks = new TreeSet<>();
        long interrupts;
        long repeatedDumps;
        long suspendedReps;
        long undefinedFlags;

        @Override
        public String toString() {
            return String.format("reset signature %d, CPUID %d, RDTSC %d, RDMSR %d, hardware interrupts %d,"
                    + " REP instructions they suspended %d, flags the SDM leaves undefined %d; WRMSR %d; MSRs only"
                    + " QEMU's model has %s (and %d repeated QEMU dumps skipped)", signature, cpuid, rdtsc, rdmsr,
                    interrupts, suspendedReps, undefinedFlags, wrmsr,
                    msrsEmuLacks.stream().map(Integer::toHexString).toList(), repeatedDumps);
        }
    }
}
