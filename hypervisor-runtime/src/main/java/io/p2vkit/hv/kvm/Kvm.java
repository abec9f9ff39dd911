package io.p2vkit.hv.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The KVM system handle, /dev/kvm: API version, capabilities, the size of each vCPU's shared
 * kvm_run area, the CPUID the host supports, and creating VMs. Ioctl numbers and structure
 * layouts are those of linux/kvm.h for x86-64 (Documentation/virt/kvm/api.rst).
 */
public final class Kvm implements AutoCloseable {

    public static final String DEVICE = "/dev/kvm";
    public static final int API_VERSION = 12;

    // System ioctls (_IO/_IOWR on KVMIO = 0xAE).
    static final long KVM_GET_API_VERSION = 0xAE00L;
    static final long KVM_CREATE_VM = 0xAE01L;
    static final long KVM_CHECK_EXTENSION = 0xAE03L;
    static final long KVM_GET_VCPU_MMAP_SIZE = 0xAE04L;
    static final long KVM_GET_SUPPORTED_CPUID = 0xC008AE05L;

    // Capabilities we depend on.
    public static final int CAP_IRQCHIP = 0;
    public static final int CAP_USER_MEMORY = 3;
    public static final int CAP_SET_TSS_ADDR = 4;
    public static final int CAP_EXT_CPUID = 7;
    public static final int CAP_NR_MEMSLOTS = 10;
    public static final int CAP_PIT2 = 33;
    public static final int CAP_SET_IDENTITY_MAP_ADDR = 37;
    public static final int CAP_READONLY_MEM = 81;
    public static final int CAP_IMMEDIATE_EXIT = 136;

    /** struct kvm_cpuid_entry2 is 40 bytes; struct kvm_cpuid2 has an 8-byte header. */
    static final int CPUID_ENTRY_SIZE = 40;
    static final int CPUID_MAX_ENTRIES = 256;

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment err = Native.errnoSpace(arena);
    private final int vcpuMmapSize;

    private Kvm(int fd) {
        this.fd = fd;
        int version = Native.check("KVM_GET_API_VERSION", Native.ioctl(err, fd, KVM_GET_API_VERSION, 0));
        if (version != API_VERSION) {
            Native.close(fd);
            throw new KvmException("KVM API version " + version + ", expected " + API_VERSION);
        }
        for (int cap : new int[] {CAP_USER_MEMORY, CAP_SET_TSS_ADDR, CAP_EXT_CPUID, CAP_IRQCHIP, CAP_PIT2,
                CAP_IMMEDIATE_EXIT}) {
            if (checkExtension(cap) <= 0) {
                Native.close(fd);
                throw new KvmException("KVM lacks capability " + cap + " (see linux/kvm.h KVM_CAP_*)");
            }
        }
        this.vcpuMmapSize = Native.check("KVM_GET_VCPU_MMAP_SIZE", Native.ioctl(err, fd, KVM_GET_VCPU_MMAP_SIZE, 0));
    }

    /** Opens /dev/kvm and checks the API version and the capabilities the machine needs. */
    public static Kvm open() {
        return new Kvm(Native.open(DEVICE));
    }

    /** Why KVM cannot be used here, or null when /dev/kvm opens and is usable. */
    public static String unavailableReason() {
        if (!Files.exists(Path.of(DEVICE))) {
            return DEVICE + " does not exist";
        }
        try {
            open().close();
            return null;
        } catch (KvmException e) {
            return e.getMessage();
        }
    }

    public synchronized int checkExtension(int cap) {
        return Native.ioctl(err, fd, KVM_CHECK_EXTENSION, cap);
    }

    int vcpuMmapSize() {
        return vcpuMmapSize;
    }

    /** KVM_GET_SUPPORTED_CPUID, as a kvm_cpuid2 structure ready for KVM_SET_CPUID2. */
    synchronized MemorySegment supportedCpuid(Arena into) {
        MemorySegment cpuid = into.allocate(8 + (long) CPUID_ENTRY_SIZE * CPUID_MAX_ENTRIES, 8);
        cpuid.set(JAVA_INT, 0, CPUID_MAX_ENTRIES);
        Native.check("KVM_GET_SUPPORTED_CPUID", Native.ioctl(err, fd, KVM_GET_SUPPORTED_CPUID, cpuid));
        return cpuid;
    }

    /** KVM_CREATE_VM: a new, empty VM. */
    public KvmVm createVm() {
        int vmFd;
        synchronized (this) {
            vmFd = Native.check("KVM_CREATE_VM", Native.ioctl(err, fd, KVM_CREATE_VM, 0));
        }
        return new KvmVm(this, vmFd);
    }

    @Override
    public void close() {
        Native.close(fd);
        arena.close();
    }
}
