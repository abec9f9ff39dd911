package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.emu.decode.DecodedInsn;
import io.p2vkit.hv.memory.GuestMemory;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lockstep against QEMU's emulator: SeaBIOS runs under {@code qemu-system-x86_64 -accel tcg
 * -singlestep -d cpu,nochain} (one register dump before every instruction, read through a FIFO)
 * and in emu, and the general registers, EIP, EFLAGS, segment selectors and bases and CR0 are
 * compared before every instruction of a window. QEMU has the PC devices and emu here has none,
 * so what a device returns (IN, INS) and what the CPU model reports (CPUID, RDTSC, RDMSR) is
 * copied from QEMU's next state into emu's registers; everything else must agree. The window
 * ends at the first INS (device data written to memory cannot be replayed from the trace); on
 * SeaBIOS 1.16.2 that is after about 21,600 instructions: the reset vector, the real-mode
 * entry, the switch to 32-bit protected mode, BSS clearing, the banner, the PCI probe and the
 * start of fw_cfg detection.
 */
class QemuLockstepTest {

    static final int WINDOW = 400_000;
    static final int FLAG_MASK = 0x0000_0FD5 | 0x0003_7000; // arithmetic, DF, IF, TF, IOPL, NT, RF, VM

    @TempDir
    Path tmp;

    /** One QEMU register dump. */
    record State(int[] regs, int eip, int eflags, int[] sel, int[] base, int cr0, boolean halted) {
    }

    static State parse(BufferedReader in) throws IOException {
        String line;
        int[] regs = new int[8];
        int eip = 0;
        int eflags = 0;
        int[] sel = new int[6];
        int[] base = new int[6];
        int cr0 = 0;
        boolean halted = false;
        boolean any = false;
        String[] segNames = {"ES =", "CS =", "SS =", "DS =", "FS =", "GS ="};
        while ((line = in.readLine()) != null) {
            if (line.startsWith("EAX=")) {
                any = true;
                regs[Cpu.EAX] = hex(line, "EAX=");
                regs[Cpu.EBX] = hex(line, "EBX=");
                regs[Cpu.ECX] = hex(line, "ECX=");
                regs[Cpu.EDX] = hex(line, "EDX=");
            } else if (line.startsWith("ESI=")) {
                regs[Cpu.ESI] = hex(line, "ESI=");
                regs[Cpu.EDI] = hex(line, "EDI=");
                regs[Cpu.EBP] = hex(line, "EBP=");
                regs[Cpu.ESP] = hex(line, "ESP=");
            } else if (line.startsWith("EIP=")) {
                eip = hex(line, "EIP=");
                eflags = hex(line, "EFL=");
                halted = line.contains("HLT=1");
            } else if (line.startsWith("CR0=")) {
                cr0 = hex(line, "CR0=");
            } else if (line.startsWith("EFER=") && any) {
                return new State(regs, eip, eflags, sel, base, cr0, halted);
            } else {
                for (int s = 0; s < 6; s++) {
                    if (line.startsWith(segNames[s])) {
                        String[] f = line.substring(4).trim().split("\\s+");
                        sel[s] = Integer.parseUnsignedInt(f[0], 16);
                        base[s] = Integer.parseUnsignedInt(f[1], 16);
                    }
                }
            }
        }
        return null;
    }

    private static int hex(String line, String key) {
        int i = line.indexOf(key) + key.length();
        return Integer.parseUnsignedInt(line.substring(i, i + 8), 16);
    }

    private static String diff(Cpu c, State q) {
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
            if (c.segSel[s] != q.sel()[s] || c.segBase[s] != q.base()[s]) {
                d.append(String.format(" seg%d qemu=%04X/%08X emu=%04X/%08X", s, q.sel()[s], q.base()[s],
                        c.segSel[s], c.segBase[s]));
            }
        }
        if (c.cr0() != q.cr0()) {
            d.append(String.format(" CR0 qemu=%08X emu=%08X", q.cr0(), c.cr0()));
        }
        return d.toString();
    }

    @Test
    void seaBiosMatchesQemuInstructionByInstruction() throws Exception {
        Assumptions.assumeTrue(Files.isReadable(SeaBiosBootTest.BIOS), "SeaBIOS is not installed");
        Path fifo = tmp.resolve("trace.fifo");
        Process mk;
        try {
            mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
            mk.waitFor();
            Process probe = new ProcessBuilder("qemu-system-x86_64", "--version").start();
            probe.waitFor();
        } catch (IOException e) {
            Assumptions.abort("qemu-system-x86_64 or mkfifo is missing: " + e.getMessage());
            return;
        }
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-accel", "tcg", "-singlestep",
                "-d", "cpu,nochain", "-D", fifo.toString(), "-nographic", "-m", "64", "-nodefaults",
                "-bios", SeaBiosBootTest.BIOS.toString(), "-icount", "shift=0", "-no-reboot")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("qemu.out").toFile()).start();
        try (BufferedReader trace = Files.newBufferedReader(fifo);
                GuestMemory memory = new GuestMemory()) {
            byte[] bios = Files.readAllBytes(SeaBiosBootTest.BIOS);
            memory.add("low RAM", 0, 0xA0000, false);
            memory.add("BIOS shadow", 0xC0000, 0x40000, false);
            memory.add("RAM", 0x100000, 63 << 20, false);
            memory.add("BIOS ROM", 0x1_0000_0000L - bios.length, bios.length, true);
            memory.load(0x1_0000_0000L - bios.length, bios);
            memory.load(0x100000 - bios.length, bios);
            Bus bus = new Bus();
            long[] lastMmio = {-1, 0};
            io.p2vkit.hv.bus.MmioDevice unmapped = new io.p2vkit.hv.bus.MmioDevice() {
                @Override
                public long read(long offset, int size) {
                    lastMmio[0] = offset;
                    lastMmio[1]++;
                    return -1L;
                }

                @Override
                public void write(long offset, int size, long value) {
                }
            };
            bus.registerMmio("unmapped", 0, 0x1_0000_0000L, unmapped); // RAM regions take precedence
            EmuVcpu vcpu = new EmuVcpu(memory, bus, null);
            Cpu c = vcpu.cpu();
            State q = parse(trace);
            c.set32(Cpu.EDX, q.regs()[Cpu.EDX]); // the CPU signature differs by model
            int injected = 0;
            String previous = "(none)";
            for (int i = 0; i < WINDOW; i++) {
                String d = diff(c, q);
                if (!d.isEmpty()) {
                    fail("first divergence before instruction " + i + " (" + injected
                            + " device/CPU-model values injected):" + d + "\n  previous instruction: " + previous
                            + String.format("\n  MMIO reads outside RAM: %d, last at %X", lastMmio[1], lastMmio[0]));
                }
                if (q.halted()) {
                    System.out.println("QEMU halted after " + i + " instructions; all matched");
                    return;
                }
                int lin = c.segBase[Cpu.CS] + c.eip;
                DecodedInsn insn = c.decodeAt(lin);
                if (insn.opcode == 0x6C || insn.opcode == 0x6D) {
                    // INS puts device data into memory, which the trace does not show: the window
                    // ends here (SeaBIOS reads the fw_cfg feature bitmap with INSB).
                    System.out.println("lockstep: " + i + " instructions matched QEMU (" + injected
                            + " values injected) up to the first INS, at " + String.format("%04X:%08X",
                            c.segSel[Cpu.CS], c.eip));
                    assertTrue(i > 20_000, "the window is too short to mean much: " + i);
                    return;
                }
                int startEip = c.eip;
                previous = String.format("%04X:%08X %s", c.segSel[Cpu.CS], c.eip, insn);
                int startCs = c.segSel[Cpu.CS];
                vcpu.run(1);
                boolean rep = (insn.prefixes & (DecodedInsn.PREFIX_REP | DecodedInsn.PREFIX_REPNE)) != 0
                        && ((insn.opcode >= 0xA4 && insn.opcode <= 0xAF) || (insn.opcode >= 0x6C && insn.opcode <= 0x6F));
                while (rep && c.eip == startEip && c.segSel[Cpu.CS] == startCs) {
                    vcpu.run(1); // a long REP yields to the run loop every few thousand iterations
                }
                State next = parse(trace);
                while (rep && next != null && next.eip() == startEip && next.sel()[Cpu.CS] == startCs) {
                    next = parse(trace); // QEMU logs every REP iteration
                }
                if (next == null) {
                    fail("the QEMU trace ended after " + i + " instructions");
                }
                switch (insn.opcode) {
                    case 0xE4, 0xE5, 0xEC, 0xED, 0x131, 0x132 -> {
                        c.set32(Cpu.EAX, next.regs()[Cpu.EAX]);
                        c.set32(Cpu.EDX, next.regs()[Cpu.EDX]);
                        injected++;
                    }
                    case 0x1A2 -> {
                        for (int n = 0; n < 4; n++) {
                            c.set32(n, next.regs()[n]);
                        }
                        injected++;
                    }
                    default -> {
                        // everything else must agree by itself
                    }
                }
                q = next;
            }
            System.out.println("lockstep: " + WINDOW + " instructions matched QEMU (" + injected + " values injected)");
        } finally {
            qemu.destroyForcibly();
            qemu.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
