package io.p2vkit.hv.kvm;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.IrqLine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One KVM virtual machine: its memory slots (each a guest-physical range backed by one of the
 * machine's native segments), the in-kernel PIC/IOAPIC and PIT, the real-mode TSS and identity
 * page table KVM needs on Intel, and IRQ lines. It knows nothing of devices.
 */
public final class KvmVm implements AutoCloseable {

    static final long KVM_CREATE_VCPU = 0xAE41L;
    static final long KVM_SET_USER_MEMORY_REGION = 0x4020AE46L;
    static final long KVM_SET_TSS_ADDR = 0xAE47L;
    static final long KVM_SET_IDENTITY_MAP_ADDR = 0x4008AE48L;
    static final long KVM_CREATE_IRQCHIP = 0xAE60L;
    static final long KVM_IRQ_LINE = 0x4008AE61L;
    static final long KVM_CREATE_PIT2 = 0x4040AE77L;

    static final int KVM_MEM_READONLY = 1 << 1;
    static final int KVM_PIT_SPEAKER_DUMMY = 1;

    /** Three pages of real-mode TSS and one identity-map page, just below the 256 KiB BIOS. */
    public static final long TSS_ADDR = 0xFFFB_D000L;
    public static final long IDENTITY_MAP_ADDR = 0xFFFB_C000L;
    public static final long RESERVED_BASE = IDENTITY_MAP_ADDR;
    public static final long RESERVED_SIZE = 4 * 4096;

    private record Slot(int id, long gpa, MemorySegment host, boolean readOnly) {
    }

    private final Kvm kvm;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment err = Native.errnoSpace(arena);
    private final MemorySegment region = arena.allocate(32, 8);
    private final MemorySegment irqLevel = arena.allocate(8, 8);
    private final TreeMap<Long, Slot> slots = new TreeMap<>();
    private final List<KvmVcpu> vcpus = new ArrayList<>();
    private final boolean readOnlyMemory;
    private int nextSlot;
    private boolean irqchip;

    KvmVm(Kvm kvm, int fd) {
        this.kvm = kvm;
        this.fd = fd;
        this.readOnlyMemory = kvm.checkExtension(Kvm.CAP_READONLY_MEM) > 0;
    }

    /** KVM_SET_TSS_ADDR and KVM_SET_IDENTITY_MAP_ADDR (needed to run real mode on VT-x). */
    public synchronized void setupRealModeSupport() {
        Native.check("KVM_SET_IDENTITY_MAP_ADDR", ioctlPtr(KVM_SET_IDENTITY_MAP_ADDR, longArg(IDENTITY_MAP_ADDR)));
        Native.check("KVM_SET_TSS_ADDR", Native.ioctl(err, fd, KVM_SET_TSS_ADDR, TSS_ADDR));
    }

    private MemorySegment longArg(long v) {
        MemorySegment s = arena.allocate(8, 8);
        s.set(JAVA_LONG, 0, v);
        return s;
    }

    /** KVM_CREATE_IRQCHIP (PIC pair, IOAPIC, local APICs) and KVM_CREATE_PIT2 (8254 plus port 0x61). */
    public synchronized void createIrqchipAndPit() {
        Native.check("KVM_CREATE_IRQCHIP", Native.ioctl(err, fd, KVM_CREATE_IRQCHIP, 0));
        MemorySegment pit = arena.allocate(64, 8);
        pit.set(JAVA_INT, 0, KVM_PIT_SPEAKER_DUMMY);
        Native.check("KVM_CREATE_PIT2", ioctlPtr(KVM_CREATE_PIT2, pit));
        irqchip = true;
    }

    public boolean readOnlyMemorySupported() {
        return readOnlyMemory;
    }

    /** Maps {@code host} at {@code gpa} as a new memory slot. */
    public synchronized void map(long gpa, MemorySegment host, boolean readOnly) {
        if (slots.containsKey(gpa)) {
            throw new IllegalArgumentException("a memory slot already starts at 0x" + Long.toHexString(gpa));
        }
        Slot s = new Slot(nextSlot++, gpa, host, readOnly && readOnlyMemory);
        setRegion(s, host.byteSize());
        slots.put(gpa, s);
    }

    /**
     * Changes a slot's write protection. KVM refuses to flip KVM_MEM_READONLY on a live slot, so
     * the slot is deleted (size 0) and created again over the same host memory.
     */
    public synchronized void setReadOnly(long gpa, boolean readOnly) {
        Slot s = slots.get(gpa);
        if (s == null) {
            throw new IllegalArgumentException("no memory slot at 0x" + Long.toHexString(gpa));
        }
        boolean ro = readOnly && readOnlyMemory;
        if (ro == s.readOnly()) {
            return;
        }
        setRegion(s, 0);
        Slot changed = new Slot(s.id(), gpa, s.host(), ro);
        setRegion(changed, s.host().byteSize());
        slots.put(gpa, changed);
    }

    private void setRegion(Slot s, long size) {
        region.set(JAVA_INT, 0, s.id());
        region.set(JAVA_INT, 4, s.readOnly() ? KVM_MEM_READONLY : 0);
        region.set(JAVA_LONG, 8, s.gpa());
        region.set(JAVA_LONG, 16, size);
        region.set(JAVA_LONG, 24, s.host().address());
        Native.check("KVM_SET_USER_MEMORY_REGION slot " + s.id() + " at 0x" + Long.toHexString(s.gpa()),
                ioctlPtr(KVM_SET_USER_MEMORY_REGION, region));
    }

    /** KVM_IRQ_LINE: drives global system interrupt {@code gsi} (PIC and IOAPIC pin alike). */
    public IrqLine irqLine(int gsi) {
        return level -> setIrq(gsi, level);
    }

    synchronized void setIrq(int gsi, boolean level) {
        if (!irqchip) {
            throw new IllegalStateException("no in-kernel irqchip");
        }
        irqLevel.set(JAVA_INT, 0, gsi);
        irqLevel.set(JAVA_INT, 4, level ? 1 : 0);
        Native.check("KVM_IRQ_LINE " + gsi, ioctlPtr(KVM_IRQ_LINE, irqLevel));
    }

    /** KVM_CREATE_VCPU, its kvm_run mapping, and CPUID from KVM_GET_SUPPORTED_CPUID. */
    public synchronized KvmVcpu createVcpu(int index, Bus bus) {
        int vcpuFd = Native.check("KVM_CREATE_VCPU", Native.ioctl(err, fd, KVM_CREATE_VCPU, index));
        KvmVcpu v = new KvmVcpu(kvm, this, vcpuFd, index, bus);
        vcpus.add(v);
        return v;
    }

    private int ioctlPtr(long request, MemorySegment arg) {
        return Native.ioctl(err, fd, request, arg);
    }

    @Override
    public synchronized void close() {
        for (KvmVcpu v : vcpus) {
            v.close();
        }
        vcpus.clear();
        Native.close(fd);
        arena.close();
    }
}
