package io.p2vkit.hv.kvm;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.Vcpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A KVM vCPU run on one platform thread. Each exit is either forwarded to the {@link Bus} (port
 * I/O and MMIO) or ends {@link #run()} with a reason: SHUTDOWN is a triple fault, FAIL_ENTRY and
 * INTERNAL_ERROR carry their codes, anything else is named. {@link #requestStop()} sets
 * kvm_run.immediate_exit and signals the thread, so a vCPU halted in the kernel returns too.
 */
public final class KvmVcpu implements Vcpu {

    static final long KVM_RUN = 0xAE80L;
    static final long KVM_GET_REGS = 0x8090AE81L;
    static final long KVM_GET_SREGS = 0x8138AE83L;
    static final long KVM_SET_CPUID2 = 0x4008AE90L;

    // struct kvm_run (x86-64).
    static final long RUN_IMMEDIATE_EXIT = 1;
    static final long RUN_EXIT_REASON = 8;
    static final long RUN_UNION = 32;

    public static final int EXIT_UNKNOWN = 0;
    public static final int EXIT_EXCEPTION = 1;
    public static final int EXIT_IO = 2;
    public static final int EXIT_DEBUG = 4;
    public static final int EXIT_HLT = 5;
    public static final int EXIT_MMIO = 6;
    public static final int EXIT_IRQ_WINDOW_OPEN = 7;
    public static final int EXIT_SHUTDOWN = 8;
    public static final int EXIT_FAIL_ENTRY = 9;
    public static final int EXIT_INTR = 10;
    public static final int EXIT_INTERNAL_ERROR = 17;
    public static final int EXIT_SYSTEM_EVENT = 24;

    static final int IO_IN = 0;

    private final KvmVm vm;
    private final int fd;
    private final int index;
    private final Bus bus;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment err = Native.errnoSpace(arena);
    private final MemorySegment run;
    private final Object threadLock = new Object();
    private long thread;          // pthread_t while run() executes, else 0
    private volatile boolean stopRequested;
    private volatile String stopReason = "";
    private volatile long exits;
    private volatile long ioExits;
    private volatile long mmioExits;

    KvmVcpu(Kvm kvm, KvmVm vm, int fd, int index, Bus bus) {
        this.vm = vm;
        this.fd = fd;
        this.index = index;
        this.bus = bus;
        this.run = Native.mmapShared(fd, kvm.vcpuMmapSize());
        setCpuid(kvm);
        Native.installKickHandler();
    }

    /** CPUID as the host supports it, with this vCPU's initial APIC ID in leaf 1. */
    private void setCpuid(Kvm kvm) {
        MemorySegment cpuid = kvm.supportedCpuid(arena);
        int n = cpuid.get(JAVA_INT, 0);
        for (int i = 0; i < n; i++) {
            long e = 8 + (long) Kvm.CPUID_ENTRY_SIZE * i;
            if (cpuid.get(JAVA_INT, e) == 1) {
                int ebx = cpuid.get(JAVA_INT, e + 16);
                cpuid.set(JAVA_INT, e + 16, (ebx & 0x00FF_FFFF) | index << 24);
            }
        }
        Native.check("KVM_SET_CPUID2", Native.ioctl(err, fd, KVM_SET_CPUID2, cpuid));
    }

    @Override
    public Stop run() {
        synchronized (threadLock) {
            thread = Native.pthreadSelf();
        }
        try {
            return loop();
        } finally {
            synchronized (threadLock) {
                thread = 0;
            }
        }
    }

    private Stop loop() {
        while (true) {
            if (stopRequested) {
                stopReason = "stop requested";
                return Stop.REQUESTED;
            }
            int r = Native.ioctl(err, fd, KVM_RUN, 0);
            if (r < 0) {
                if (-r == Native.EINTR || -r == Native.EAGAIN) {
                    continue;
                }
                stopReason = "KVM_RUN failed: " + Native.errnoName(-r);
                return Stop.ERROR;
            }
            exits++;
            int reason = run.get(JAVA_INT, RUN_EXIT_REASON);
            try {
                switch (reason) {
                    case EXIT_IO -> io();
                    case EXIT_MMIO -> mmio();
                    case EXIT_INTR, EXIT_IRQ_WINDOW_OPEN -> { }
                    case EXIT_HLT -> {
                        stopReason = "HLT exit (no in-kernel irqchip to wait for interrupts) at " + where();
                        return Stop.SHUTDOWN;
                    }
                    case EXIT_SHUTDOWN -> {
                        stopReason = "triple fault (KVM_EXIT_SHUTDOWN) at " + where();
                        return Stop.TRIPLE_FAULT;
                    }
                    case EXIT_FAIL_ENTRY -> {
                        stopReason = String.format("KVM_EXIT_FAIL_ENTRY: hardware entry failure reason 0x%x on cpu %d",
                                run.get(JAVA_LONG, RUN_UNION), run.get(JAVA_INT, RUN_UNION + 8));
                        return Stop.ERROR;
                    }
                    case EXIT_INTERNAL_ERROR -> {
                        int sub = run.get(JAVA_INT, RUN_UNION);
                        int ndata = Math.min(run.get(JAVA_INT, RUN_UNION + 4), 16);
                        StringBuilder data = new StringBuilder();
                        for (int i = 0; i < ndata; i++) {
                            data.append(i == 0 ? "" : " ").append(Long.toHexString(run.get(JAVA_LONG, RUN_UNION + 8 + 8L * i)));
                        }
                        stopReason = "KVM_EXIT_INTERNAL_ERROR suberror " + sub + " (" + internalErrorName(sub)
                                + ") data [" + data + "]" + instructionBytes(sub, ndata) + " at " + where();
                        return Stop.ERROR;
                    }
                    case EXIT_SYSTEM_EVENT -> {
                        int type = run.get(JAVA_INT, RUN_UNION);
                        stopReason = "KVM_EXIT_SYSTEM_EVENT type " + type + (type == 1 ? " (shutdown)" : type == 2 ? " (reset)" : "");
                        return Stop.SHUTDOWN;
                    }
                    default -> {
                        stopReason = "unhandled KVM exit reason " + reason + " at " + where();
                        return Stop.ERROR;
                    }
                }
            } catch (RuntimeException bug) {
                stopReason = "device error on exit " + reason + ": " + bug;
                return Stop.ERROR;
            }
        }
    }

    private void io() {
        ioExits++;
        int direction = run.get(JAVA_BYTE, RUN_UNION) & 0xFF;
        int size = run.get(JAVA_BYTE, RUN_UNION + 1) & 0xFF;
        int port = run.get(JAVA_SHORT, RUN_UNION + 2) & 0xFFFF;
        int count = run.get(JAVA_INT, RUN_UNION + 4);
        long dataOffset = run.get(JAVA_LONG, RUN_UNION + 8);
        if (size != 1 && size != 2 && size != 4 || count < 0 || dataOffset < 0
                || dataOffset + (long) size * count > run.byteSize()) {
            throw new IllegalStateException("malformed KVM_EXIT_IO: size " + size + " count " + count);
        }
        for (int i = 0; i < count; i++) {
            long at = dataOffset + (long) i * size;
            if (direction == IO_IN) {
                int v = bus.pioRead(port, size);
                switch (size) {
                    case 1 -> run.set(JAVA_BYTE, at, (byte) v);
                    case 2 -> run.set(JAVA_SHORT_UNALIGNED, at, (short) v);
                    default -> run.set(JAVA_INT_UNALIGNED, at, v);
                }
            } else {
                int v = switch (size) {
                    case 1 -> run.get(JAVA_BYTE, at) & 0xFF;
                    case 2 -> run.get(JAVA_SHORT_UNALIGNED, at) & 0xFFFF;
                    default -> run.get(JAVA_INT_UNALIGNED, at);
                };
                bus.pioWrite(port, size, v);
            }
        }
    }

    private static final java.lang.foreign.ValueLayout.OfShort JAVA_SHORT_UNALIGNED = JAVA_SHORT.withByteAlignment(1);
    private static final java.lang.foreign.ValueLayout.OfInt JAVA_INT_UNALIGNED = JAVA_INT.withByteAlignment(1);

    private void mmio() {
        mmioExits++;
        long addr = run.get(JAVA_LONG, RUN_UNION);
        int len = run.get(JAVA_INT, RUN_UNION + 16);
        boolean write = run.get(JAVA_BYTE, RUN_UNION + 20) != 0;
        if (len < 1 || len > 8) {
            throw new IllegalStateException("malformed KVM_EXIT_MMIO: len " + len);
        }
        if (write) {
            long v = 0;
            for (int i = 0; i < len; i++) {
                v |= (run.get(JAVA_BYTE, RUN_UNION + 8 + i) & 0xFFL) << (8 * i);
            }
            bus.mmioWrite(addr, len, v);
        } else {
            long v = bus.mmioRead(addr, len);
            for (int i = 0; i < len; i++) {
                run.set(JAVA_BYTE, RUN_UNION + 8 + i, (byte) (v >>> (8 * i)));
            }
        }
    }

    /** CS:RIP of the vCPU (for stop reasons), read with KVM_GET_REGS/KVM_GET_SREGS. */
    private String where() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment regs = a.allocate(144, 8);
            MemorySegment sregs = a.allocate(312, 8);
            if (Native.ioctl(err, fd, KVM_GET_REGS, regs) < 0 || Native.ioctl(err, fd, KVM_GET_SREGS, sregs) < 0) {
                return "(registers unavailable)";
            }
            long rip = regs.get(JAVA_LONG, 0x80);
            long csBase = sregs.get(JAVA_LONG, 0);
            int cs = sregs.get(JAVA_SHORT, 12) & 0xFFFF;
            long cr0 = sregs.get(JAVA_LONG, 0xE0);
            return String.format("cs=%04x rip=0x%x (linear 0x%x) cr0=0x%x", cs, rip, csBase + rip, cr0);
        }
    }

    /**
     * For an emulation failure with KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES, the bytes
     * KVM could not emulate: data[0] is the flags, then one byte of length and up to 15 bytes.
     */
    private String instructionBytes(int sub, int ndata) {
        if (sub != 1 || ndata < 2 || (run.get(JAVA_LONG, RUN_UNION + 8) & 1) == 0) {
            return "";
        }
        long base = RUN_UNION + 16;
        int len = Math.min(run.get(JAVA_BYTE, base) & 0xFF, 15);
        StringBuilder b = new StringBuilder(", instruction bytes");
        for (int i = 0; i < len; i++) {
            b.append(String.format(" %02x", run.get(JAVA_BYTE, base + 1 + i) & 0xFF));
        }
        return b.toString();
    }

    private static String internalErrorName(int sub) {
        return switch (sub) {
            case 1 -> "emulation failure";
            case 2 -> "simultaneous exception";
            case 3 -> "delivery event";
            case 4 -> "unexpected exit reason";
            default -> "unknown";
        };
    }

    @Override
    public void requestStop() {
        stopRequested = true;
        run.set(JAVA_BYTE, RUN_IMMEDIATE_EXIT, (byte) 1);
        synchronized (threadLock) {
            if (thread != 0) {
                Native.pthreadKill(thread, Native.SIG_KICK);
            }
        }
    }

    @Override
    public String stopReason() {
        return stopReason;
    }

    @Override
    public long instructionsRetired() {
        return -1;
    }

    public int index() {
        return index;
    }

    public long exits() {
        return exits;
    }

    public long ioExits() {
        return ioExits;
    }

    public long mmioExits() {
        return mmioExits;
    }

    void close() {
        Native.munmap(run);
        Native.close(fd);
        arena.close();
    }
}
