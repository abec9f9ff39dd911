package io.p2vkit.hv.machine;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.IrqLine;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.device.A20Gate;
import io.p2vkit.hv.device.ApicBus;
import io.p2vkit.hv.device.ByteSink;
import io.p2vkit.hv.device.Clock;
import io.p2vkit.hv.device.Cmos;
import io.p2vkit.hv.device.DebugConsole;
import io.p2vkit.hv.device.FwCfg;
import io.p2vkit.hv.device.I440fx;
import io.p2vkit.hv.device.I8042;
import io.p2vkit.hv.device.Ide;
import io.p2vkit.hv.device.IgnoredPorts;
import io.p2vkit.hv.device.IoApic;
import io.p2vkit.hv.device.LocalApic;
import io.p2vkit.hv.device.Pic8259;
import io.p2vkit.hv.device.PciHost;
import io.p2vkit.hv.device.Piix3Isa;
import io.p2vkit.hv.device.PiixIde;
import io.p2vkit.hv.device.Pit8254;
import io.p2vkit.hv.device.Port92;
import io.p2vkit.hv.device.PostCode;
import io.p2vkit.hv.device.Serial16550;
import io.p2vkit.hv.device.SystemControlB;
import io.p2vkit.hv.device.VirtioBlk;
import io.p2vkit.hv.device.vga.VgaCard;
import io.p2vkit.hv.memory.GuestMemory;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A PC in the i440FX/PIIX3 mould that SeaBIOS knows from QEMU: RAM below 4 GiB up to the PCI
 * hole (and the rest above 4 GiB), the BIOS at the top of 4 GiB with its last 128 KiB shadowed at
 * 0xE0000, and the devices listed in {@link #wire}. Build one with {@link #create}, then
 * {@link #start()}, {@link #awaitStop} and {@link #close()}.
 */
public final class Machine implements AutoCloseable {

    /** RAM below 4 GiB ends here at most; the rest is PCI MMIO, IOAPIC, LAPIC and the BIOS. */
    public static final long LOW_RAM_LIMIT = 0xE000_0000L;
    public static final long FOUR_GIB = 1L << 32;
    static final long VGA_HOLE = 0xA_0000L;
    static final long SHADOW_BASE = 0xC_0000L;
    static final long SHADOW_SIZE = 0x4_0000L;
    static final long HIGH_BASE = 0x10_0000L;
    static final int E820_RAM = 1;
    static final int E820_RESERVED = 2;
    /** Real-mode TSS and identity map pages KVM needs, just below a 256 KiB BIOS. */
    static final long KVM_PAGES = 0xFFFB_C000L;
    static final int VIRTIO_FIRST_SLOT = 3;

    /** Why the machine stopped. */
    public record StopInfo(Vcpu.Stop stop, String reason) {
    }

    private final MachineConfig config;
    private final GuestMemory memory = new GuestMemory();
    private final Bus bus = new Bus();
    private final Clock clock = Clock.SYSTEM;
    private final List<VirtualDisk> overlays = new ArrayList<>();
    private final List<Runnable> timers = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final List<String> wiring = new ArrayList<>();
    private EngineBinding binding;
    private Pic8259 pic;
    private ApicBus apicBus;
    private IoApic ioApic;
    private final List<LocalApic> localApics = new ArrayList<>();
    private Piix3Isa piix3;
    private Serial16550 serial;
    private PostCode post;
    private IgnoredPorts ignored;
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final List<Thread> vcpuThreads = new ArrayList<>();
    private Thread timerThread;
    private volatile StopInfo stopInfo;
    private volatile String stopRequest;
    private final List<VirtioBlk> virtioDisks = new ArrayList<>();
    private byte[] vgaBios;
    private VgaCard vga;
    private final long lowRam;
    private final long highRam;

    private Machine(MachineConfig config) {
        this.config = config;
        this.lowRam = Math.min(config.memoryBytes(), LOW_RAM_LIMIT);
        this.highRam = config.memoryBytes() - lowRam;
    }

    /** Builds the machine: memory, firmware, devices, engine. Nothing runs until {@link #start()}. */
    public static Machine create(MachineConfig config) throws IOException {
        if (config.engine() == null) {
            throw new IllegalArgumentException("no engine chosen");
        }
        Machine m = new Machine(config);
        try {
            m.build();
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    private void build() throws IOException {
        byte[] bios = FirmwareLocator.load(FirmwareLocator.locate(config.bios()));
        if (config.display() != MachineConfig.Display.NONE) {
            Path vgaRom = FirmwareLocator.locateVgaBios(config.vgaBios());
            if (vgaRom == null && config.display() == MachineConfig.Display.VGA) {
                throw new IOException("no VGA BIOS found (looked in " + FirmwareLocator.VGA_BIOS_PATHS
                        + "; install Debian's seabios package or turn the display off)");
            }
            if (vgaRom != null) {
                vgaBios = FirmwareLocator.loadOptionRom(vgaRom);
            }
        }
        if (bios.length > FOUR_GIB - KVM_PAGES - 0x4000) {
            throw new IOException("BIOS image of " + bios.length + " bytes would overlap the KVM TSS pages");
        }
        // Guest-physical layout (the e820 map below describes the same).
        var ramLow = memory.add("ram 0-640K", 0, VGA_HOLE, false);
        var shadow = memory.add("BIOS shadow 0xC0000-0xFFFFF", SHADOW_BASE, SHADOW_SIZE, false);
        var ram = memory.add("ram 1M-" + (lowRam >> 20) + "M", HIGH_BASE, lowRam - HIGH_BASE, false);
        var ramHigh = highRam > 0 ? memory.add("ram above 4G", FOUR_GIB, highRam, false) : null;
        var rom = memory.add("BIOS ROM", FOUR_GIB - bios.length, bios.length, true);
        memory.load(rom.base(), bios);
        // The last 128 KiB of the BIOS also appears at 0xE0000 (what reads see before PAM opens RAM).
        int isaLen = Math.min(bios.length, 0x20000);
        memory.load(0x10_0000L - isaLen, java.util.Arrays.copyOfRange(bios, bios.length - isaLen, bios.length));

        binding = config.engine().bind(memory, bus);
        binding.mapMemory(ramLow.base(), ramLow.segment(), false);
        // The shadow area in PAM-sized slots, write-protected until SeaBIOS opens them.
        for (int i = 0; i < 13; i++) {
            I440fx.PamSegment s = I440fx.segment(i, 0);
            binding.mapMemory(s.base(), shadow.segment().asSlice(s.base() - SHADOW_BASE, s.size()), true);
        }
        binding.mapMemory(ram.base(), ram.segment(), false);
        if (ramHigh != null) {
            binding.mapMemory(ramHigh.base(), ramHigh.segment(), false);
        }
        binding.mapMemory(rom.base(), rom.segment(), true);
        wire();
        if (config.cpus() > 1 && !binding.hasInKernelIrqchip() && apicBus == null) {
            throw new IllegalArgumentException(config.cpus() + " vCPUs need local APICs; the "
                    + config.engine().name() + " engine offers one vCPU");
        }
        for (int i = 0; i < config.cpus(); i++) {
            // vCPU 0 is the bootstrap processor; APIC IDs are the vCPU indices, as SeaBIOS's MP table assumes.
            if (apicBus != null) {
                LocalApic apic = new LocalApic(i, i == 0, apicBus, pic, clock);
                localApics.add(apic);
                vcpus.add(binding.createVcpu(i, config.cpus(), apic));
            } else {
                vcpus.add(binding.createVcpu(i, pic));
            }
        }
        // Device DMA (virtio-blk reads) lands in RAM without the CPU seeing it: tell every vCPU.
        memory.setHostWriteListener((gpa, len) -> {
            for (Vcpu v : vcpus) {
                v.memoryWritten(gpa, len);
            }
        });
    }

    /**
     * ISA interrupt {@code irq}: KVM's in-kernel chips, or our 8259 and, when there is one, the
     * IOAPIC pin the MP table SeaBIOS writes names for it (identity, except IRQ 0 on pin 2: the
     * "etc/irq0-override" we pass in fw_cfg).
     */
    private IrqLine isaIrq(int irq) {
        if (binding.hasInKernelIrqchip()) {
            return binding.irqLine(irq);
        }
        if (ioApic == null) {
            return pic.line(irq);
        }
        IrqLine toPic = pic.line(irq);
        IrqLine toIoApic = ioApic.pin(irq == 0 ? 2 : irq);
        return level -> {
            toPic.set(level);
            toIoApic.set(level);
        };
    }

    /** Every device, once, with its chip named: the PC's port map. */
    private void wire() throws IOException {
        A20Gate a20 = new A20Gate();
        boolean kernelChips = binding.hasInKernelIrqchip();
        long now = System.currentTimeMillis() / 1000;

        if (!kernelChips) {
            pic = new Pic8259();   // before any IRQ line is handed out
            if (binding.usesMachineApics()) {
                apicBus = new ApicBus();
                ioApic = new IoApic(apicBus);
            }
        }
        serial = new Serial16550(isaIrq(4), b -> config.serialSink().put(b));
        Cmos cmos = new Cmos(isaIrq(8), clock, now);
        setupCmos(cmos);
        FwCfg fwCfg = setupFwCfg();
        I8042 kbc = new I8042(isaIrq(1), this::resetRequested, a20);
        post = new PostCode();
        PciHost pci = new PciHost(this::resetRequested);
        ignored = new IgnoredPorts();

        if (!kernelChips) {
            Pit8254 pit = new Pit8254(clock, isaIrq(0));
            pio(0x0020, 2, "8259A PIC master", pic.masterPorts());
            pio(0x0040, 4, "8254 PIT", pit);
            pio(0x0061, 1, "system control port B (PIT gate, speaker)", new SystemControlB(pit, clock));
            pio(0x00A0, 2, "8259A PIC slave", pic.slavePorts());
            pio(0x04D0, 2, "PIIX ELCR (edge/level per IRQ)", pic.elcrPorts());
            timers.add(pit::poll);
            if (ioApic != null) {
                mmio(IoApic.DEFAULT_BASE, 0x1000, "82093AA IOAPIC (local APICs at 0xFEE00000 are per vCPU)", ioApic);
            }
        }
        pio(0x0060, 1, "8042 keyboard controller, data", kbc.dataPort());
        pio(0x0064, 1, "8042 keyboard controller, status/command", kbc.commandPort());
        pio(0x0070, 2, "MC146818 RTC + CMOS", cmos);
        pio(0x0080, 1, "POST code", post);
        pio(0x0092, 1, "system control port A (fast A20, reset)", new Port92(a20, this::resetRequested));
        pio(0x03F8, 8, "16550A UART COM1", serial);
        pio(0x0402, 1, "SeaBIOS debug console", new DebugConsole(b -> config.debugSink().put(b)));
        pio(0x0510, 2, "QEMU fw_cfg (selector, data)", fwCfg);
        pio(0x0CF8, 8, "PCI configuration mechanism #1 (+ PIIX3 reset control at 0xCF9)", pci);
        timers.add(cmos::tick);
        if (vgaBios != null) {
            vga = new VgaCard(clock);
            pio(VgaCard.PORT_BASE, VgaCard.PORT_COUNT, "VGA registers (misc, sequencer, CRTC, graphics, attribute, DAC, status)",
                    vga.ports());
            mmio(VgaCard.WINDOW_BASE, VgaCard.WINDOW_SIZE, "VGA memory window (four planes)", vga.memoryWindow());
        }

        // PCI bus 0.
        I440fx host = new I440fx(s -> binding.setReadOnly(s.base(), !s.writeRam()));
        piix3 = new Piix3Isa();
        PiixIde ideFunction = new PiixIde();
        plug(pci, 0, 0, host);
        plug(pci, 1, 0, piix3);
        plug(pci, 1, 1, ideFunction);

        int slot = VIRTIO_FIRST_SLOT;
        boolean haveIde = false;
        for (MachineConfig.Disk d : config.disks()) {
            VirtualDisk disk = d.mode() == MachineConfig.DiskMode.WRITE_THROUGH ? d.disk() : overlay(d.disk());
            if (d.bus() == MachineConfig.DiskInterface.IDE) {
                Ide ide = new Ide(disk, isaIrq(14), "P2VKIT-IDE-0");
                pio(0x01F0, 8, "ATA primary channel, command block", ide.commandBlock());
                pio(0x03F6, 1, "ATA primary channel, control block", ide.controlBlock());
                haveIde = true;
            } else {
                VirtioBlk vb = new VirtioBlk(memory, disk, pciIrq(slot), "P2VKIT-VD-" + slot);
                plug(pci, slot++, 0, vb);
                virtioDisks.add(vb);
            }
        }

        // Ports guests touch that we do not model: reads float high, writes vanish.
        ignore(0x0000, 0x20, "8237 DMA controller 1: no ISA DMA users (no floppy, no sound card)");
        ignore(0x0081, 0x0F, "DMA page registers (0x80 itself is the POST port)");
        ignore(0x00C0, 0x20, "8237 DMA controller 2");
        ignore(0x00F0, 0x10, "x87 coprocessor error ports (Linux clears FPU busy at 0xF0)");
        ignore(0x0170, 8, "secondary ATA channel: no drives, so the bus floats and probes find nothing");
        ignore(0x0376, 1, "secondary ATA control block");
        if (!haveIde) {
            ignore(0x01F0, 8, "primary ATA channel without a disk: floating bus");
            ignore(0x03F6, 1, "primary ATA control block without a disk");
        }
        ignore(0x0278, 3, "LPT2: absent");
        ignore(0x02E8, 8, "COM4: absent (8250 probes it)");
        ignore(0x02F8, 8, "COM2: absent (8250 probes it)");
        ignore(0x0378, 3, "LPT1: absent");
        if (vga == null) {
            ignore(0x03B0, 0x30, "VGA registers: no display adapter, the console is serial");
        } else {
            ignore(0x01CE, 2, "Bochs VBE dispi index/data: absent, so SeaBIOS's VGA BIOS stays standard VGA");
        }
        ignore(0x03E8, 8, "COM3: absent (8250 probes it)");
        ignore(0x03F0, 6, "floppy controller: no floppy drive");
        ignore(0x03F7, 1, "floppy digital input register");
    }

    private void pio(int base, int len, String chip, io.p2vkit.hv.bus.PortIoDevice d) {
        bus.registerPio(chip, base, len, d);
        wiring.add(String.format("port 0x%04x-0x%04x  %s", base, base + len - 1, chip));
    }

    private void mmio(long base, long len, String chip, io.p2vkit.hv.bus.MmioDevice d) {
        bus.registerMmio(chip, base, len, d);
        wiring.add(String.format("mmio 0x%05x-0x%05x  %s", base, base + len - 1, chip));
    }

    private void ignore(int base, int len, String why) {
        bus.registerPio("ignored: " + why, base, len, ignored);
        wiring.add(String.format("port 0x%04x-0x%04x  (ignored) %s", base, base + len - 1, why));
    }

    private void plug(PciHost pci, int dev, int fn, io.p2vkit.hv.device.PciFunction f) {
        pci.plug(dev, fn, f);
        f.attach(bus);
        wiring.add(String.format("pci 00:%02x.%d      %s", dev, fn, f.name()));
    }

    /** INTA# of a bus-0 slot, through the PIIX3 PIRQ router (slot + pin rotation as on QEMU's i440FX). */
    private IrqLine pciIrq(int slot) {
        int pirq = (slot - 1) & 3;
        int[] routed = {-1};
        return level -> {
            synchronized (routed) {
                int irq = piix3.route(pirq);
                if (routed[0] >= 0 && routed[0] != irq) {
                    isaIrq(routed[0]).set(false);
                }
                routed[0] = level ? irq : -1;
                if (irq >= 0) {
                    isaIrq(irq).set(level);
                }
            }
        };
    }

    private VirtualDisk overlay(VirtualDisk base) throws IOException {
        CowOverlayDisk o = new CowOverlayDisk(base);
        overlays.add(o);
        return o;
    }

    private void setupCmos(Cmos cmos) {
        cmos.set(Cmos.CMOS_BASE_MEM_LOW, 640 & 0xFF);
        cmos.set(Cmos.CMOS_BASE_MEM_LOW + 1, 640 >> 8);
        long extKiB = Math.min((lowRam - HIGH_BASE) / 1024, 0xFFFF);
        cmos.set(Cmos.CMOS_EXT_MEM_LOW, (int) extKiB);
        cmos.set(Cmos.CMOS_EXT_MEM_LOW + 1, (int) (extKiB >> 8));
        cmos.set(0x17, (int) extKiB);
        cmos.set(0x18, (int) (extKiB >> 8));
        long above16 = lowRam > (16L << 20) ? Math.min((lowRam - (16L << 20)) >> 16, 0xFFFF) : 0;
        cmos.set(Cmos.CMOS_EXT_MEM2_LOW, (int) above16);
        cmos.set(Cmos.CMOS_EXT_MEM2_LOW + 1, (int) (above16 >> 8));
        long high = highRam >> 16;
        cmos.set(Cmos.CMOS_HIGH_MEM_LOW, (int) high);
        cmos.set(Cmos.CMOS_HIGH_MEM_LOW + 1, (int) (high >> 8));
        cmos.set(Cmos.CMOS_HIGH_MEM_LOW + 2, (int) (high >> 16));
        cmos.set(Cmos.CMOS_SMP_COUNT, config.cpus() - 1);
        cmos.set(0x12, 0xF0);     // hard disk 0: type in extended byte 0x19
        cmos.set(0x14, 0x06);     // equipment: math coprocessor, EGA/VGA mode bits
        cmos.updateChecksum();
    }

    private FwCfg setupFwCfg() {
        FwCfg f = new FwCfg();
        f.item(FwCfg.KEY_RAM_SIZE, FwCfg.le(config.memoryBytes(), 8));
        // With a VGA BIOS SeaBIOS runs it from "vgaroms/" (optionroms.c run_file_roms), as QEMU's
        // ISA VGA is found; its sercon then works in split mode, on the screen and on COM1.
        f.item(FwCfg.KEY_NOGRAPHIC, FwCfg.le(vgaBios == null ? 1 : 0, 2));
        if (vgaBios != null) {
            f.file("vgaroms/vgabios.bin", vgaBios);
        }
        f.item(FwCfg.KEY_NB_CPUS, FwCfg.le(config.cpus(), 2));
        f.item(FwCfg.KEY_MAX_CPUS, FwCfg.le(config.cpus(), 2));
        f.item(FwCfg.KEY_BOOT_MENU, FwCfg.le(0, 2));      // no "Press ESC" pause
        f.item(FwCfg.KEY_IRQ0_OVERRIDE, FwCfg.le(1, 1));
        f.file("etc/e820", e820());
        f.file("etc/sercon-port", FwCfg.le(0x3F8, 8));     // SeaBIOS mirrors int 10h output to COM1
        StringBuilder order = new StringBuilder();
        int slot = VIRTIO_FIRST_SLOT;
        for (MachineConfig.Disk d : config.disks()) {
            if (d.bus() == MachineConfig.DiskInterface.IDE) {
                order.append("/pci@i0cf8/ide@1,1/drive@0/disk@0\n");
            } else {
                order.append("/pci@i0cf8/scsi@").append(slot++).append("/disk@0,0\n");
            }
        }
        f.file("bootorder", order.toString().getBytes(StandardCharsets.US_ASCII));
        f.seal();
        return f;
    }

    byte[] e820() {
        return e820(lowRam, highRam);
    }

    /** The e820 map as QEMU passes it in "etc/e820": {u64 address, u64 length, u32 type} each. */
    static byte[] e820(long lowRam, long highRam) {
        List<long[]> entries = new ArrayList<>();
        entries.add(new long[] {0, lowRam, E820_RAM});
        entries.add(new long[] {KVM_PAGES, 4 * 4096, E820_RESERVED});
        if (highRam > 0) {
            entries.add(new long[] {FOUR_GIB, highRam, E820_RAM});
        }
        ByteBuffer b = ByteBuffer.allocate(20 * entries.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] e : entries) {
            b.putLong(e[0]).putLong(e[1]).putInt((int) e[2]);
        }
        return b.array();
    }

    /**
     * Starts one platform thread per vCPU and the device timer thread. The first vCPU to stop
     * stops the machine: its reason is the machine's, and the others are asked to stop.
     */
    public synchronized void start() {
        if (!vcpuThreads.isEmpty()) {
            throw new IllegalStateException("already started");
        }
        for (int i = 0; i < vcpus.size(); i++) {
            Vcpu v = vcpus.get(i);
            vcpuThreads.add(Thread.ofPlatform().name("vcpu" + i).daemon().start(() -> runVcpu(v)));
        }
        timerThread = Thread.ofPlatform().name("machine-timers").daemon().start(() -> {
            while (stopped.getCount() > 0) {
                for (Runnable r : timers) {
                    r.run();
                }
                LockSupport.parkNanos(1_000_000L);
            }
        });
    }

    private void runVcpu(Vcpu v) {
        Vcpu.Stop s;
        String reason;
        try {
            s = v.run();
            reason = v.stopReason();
        } catch (RuntimeException e) {
            s = Vcpu.Stop.ERROR;
            reason = "engine failure: " + e;
        }
        synchronized (this) {
            if (stopInfo == null) {
                String req = stopRequest;
                if (s == Vcpu.Stop.REQUESTED && req != null) {
                    reason = req;
                }
                stopInfo = new StopInfo(s, reason);
                stopped.countDown();
            }
        }
        if (stopRequest == null) {
            stopRequest = "another vCPU stopped: " + reason;
        }
        for (Vcpu other : vcpus) {
            other.requestStop();
        }
    }

    /** Asks the vCPU to stop; {@code why} becomes the stop reason. Safe from any thread. */
    public void stop(String why) {
        if (stopRequest == null) {
            stopRequest = why;
        }
        for (Vcpu v : vcpus) {
            v.requestStop();
        }
    }

    private void resetRequested(String why) {
        stop("guest requested a reset: " + why);
    }

    /** Waits for the machine to stop; null on timeout. */
    public StopInfo awaitStop(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toNanos(), TimeUnit.NANOSECONDS) ? stopInfo : null;
    }

    public boolean isStopped() {
        return stopped.getCount() == 0;
    }

    /** Bytes for COM1's receiver (console input). */
    public void sendToSerial(byte[] data) {
        serial.receive(data);
    }

    /** The VGA adapter, or null when the machine has no display. */
    public VgaCard vga() {
        return vga;
    }

    public GuestMemory memory() {
        return memory;
    }

    public Bus bus() {
        return bus;
    }

    /** The device map, one line per port range or PCI function. */
    public List<String> wiring() {
        return List.copyOf(wiring);
    }

    public String engineDescription() {
        return binding == null ? config.engine().name() : binding.describe();
    }

    public String engineName() {
        return config.engine().name();
    }

    public int lastPostCode() {
        return post == null ? -1 : post.last();
    }

    public long ignoredPortAccesses() {
        return ignored == null ? 0 : ignored.accesses();
    }

    public List<VirtioBlk> virtioDisks() {
        return List.copyOf(virtioDisks);
    }

    /** The bootstrap processor. */
    public Vcpu vcpu() {
        return vcpus.getFirst();
    }

    public List<Vcpu> vcpus() {
        return List.copyOf(vcpus);
    }

    /** The emulator's local APICs, one per vCPU (empty on KVM, whose APICs are in the kernel). */
    public List<LocalApic> localApics() {
        return List.copyOf(localApics);
    }

    /** Stops the guest if needed and frees the VM, overlays and memory; the disks stay open. */
    @Override
    public void close() {
        if (!vcpuThreads.isEmpty()) {
            stop("machine closed");
            try {
                for (Thread t : vcpuThreads) {
                    t.join(5000);
                    if (t.isAlive()) {
                        throw new IllegalStateException(t.getName() + " did not stop within 5 s");
                    }
                }
            } catch (InterruptedException e) {
                // A vCPU may still be running, and the emulator reads guest RAM by host address:
                // the memory stays allocated rather than be freed under it.
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while stopping the vCPUs", e);
            }
        }
        if (timerThread != null) {
            try {
                timerThread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (binding != null) {
            binding.close();
        }
        for (VirtualDisk o : overlays) {
            try {
                o.close();
            } catch (IOException ignoredFailure) {
                // A temp file we could not delete: nothing the caller can do about it.
            }
        }
        memory.close();
    }
}
