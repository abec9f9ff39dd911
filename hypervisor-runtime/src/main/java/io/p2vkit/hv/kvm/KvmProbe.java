package io.p2vkit.hv.kvm;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.Vcpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Measures how fast this host's KVM runs guest kernel-mode code: a tiny VM with 64 KiB at the
 * top of 4 GiB whose reset vector switches to 32-bit protected mode (ring 0, flat segments) and
 * runs {@code mov ecx, N; l: dec ecx; jnz l; hlt}. Protected mode rather than real mode, because
 * VT-x without "unrestricted guest" emulates real mode even on real hardware. With real
 * VT-x/AMD-V the loop runs at host speed (hundreds of millions of instructions per second or
 * more); nested or paravirtual KVM without hardware support (kvm_pvm) emulates it at a few
 * million per second.
 */
public final class KvmProbe {

    /** The measured rate, and how long the measurement took. */
    public record Result(double instructionsPerSecond, long iterations, long nanos) {
    }

    private static final long TOP = 0xFFFF_0000L;
    private static final long WATCHDOG_NANOS = 5_000_000_000L;

    private KvmProbe() {
    }

    /** Runs the probe; throws KvmException when KVM cannot even start the tiny guest. */
    public static Result measure() {
        Result first = run(100_000);
        if (first.nanos() < 5_000_000L) {
            return run(20_000_000);   // fast enough to be real hardware: measure over a longer loop
        }
        return first;
    }

    /** Offsets in the 64 KiB segment at 0xFFFF0000 (CS base at reset). */
    private static final int CODE16 = 0x0000;
    private static final int GDT = 0x0020;
    private static final int GDTR = 0x0040;
    private static final int CODE32 = 0x0050;
    private static final int RESET = 0xFFF0;

    private static void load(MemorySegment mem, long iterations) {
        put(mem, RESET, 0xE9, (CODE16 - (RESET + 3)) & 0xFF, ((CODE16 - (RESET + 3)) >> 8) & 0xFF); // jmp near CODE16
        put(mem, CODE16,
                0x2E, 0x66, 0x0F, 0x01, 0x16, GDTR & 0xFF, GDTR >> 8,    // lgdt dword cs:[GDTR]
                0x0F, 0x20, 0xC0,                                        // mov eax, cr0
                0x0C, 0x01,                                              // or al, 1 (PE)
                0x0F, 0x22, 0xC0,                                        // mov cr0, eax
                0x66, 0xEA, CODE32, 0x00, 0xFF, 0xFF, 0x08, 0x00);       // jmp dword 0x08:0xFFFF0050
        put(mem, GDT,
                0, 0, 0, 0, 0, 0, 0, 0,                                  // null
                0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0,                      // 0x08: flat 32-bit code, ring 0
                0xFF, 0xFF, 0, 0, 0, 0x92, 0xCF, 0);                     // 0x10: flat data
        put(mem, GDTR, 23, 0, GDT, 0x00, 0xFF, 0xFF);                    // limit 23, base 0xFFFF0020
        put(mem, CODE32,
                0xB9, (int) iterations & 0xFF, (int) (iterations >> 8) & 0xFF,
                (int) (iterations >> 16) & 0xFF, (int) (iterations >> 24) & 0xFF,   // mov ecx, N
                0x49,                                                    // l: dec ecx
                0x75, 0xFD,                                              // jnz l
                0xF4);                                                   // hlt
    }

    private static void put(MemorySegment mem, int offset, int... bytes) {
        for (int i = 0; i < bytes.length; i++) {
            mem.set(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + i, (byte) bytes[i]);
        }
    }

    private static Result run(long iterations) {
        try (Kvm kvm = Kvm.open(); KvmVm vm = kvm.createVm(); Arena arena = Arena.ofConfined()) {
            vm.setupRealModeSupport();
            MemorySegment mem = arena.allocate(0x10000, 4096);
            load(mem, iterations);
            vm.map(TOP, mem, false);
            KvmVcpu vcpu = vm.createVcpu(0, new Bus());
            Thread watchdog = Thread.ofPlatform().daemon().start(() -> {
                try {
                    Thread.sleep(WATCHDOG_NANOS / 1_000_000);
                    vcpu.requestStop();
                } catch (InterruptedException done) {
                    // the probe finished first
                }
            });
            long t0 = System.nanoTime();
            Vcpu.Stop stop = vcpu.run();
            long t = System.nanoTime() - t0;
            watchdog.interrupt();
            long done = iterations;
            if (stop == Vcpu.Stop.REQUESTED) {
                done = iterations / 2;   // did not finish within the watchdog: at most this fast
            } else if (stop != Vcpu.Stop.SHUTDOWN || !vcpu.stopReason().startsWith("HLT exit")) {
                throw new KvmException("probe guest stopped unexpectedly: " + vcpu.stopReason());
            }
            return new Result(2.0 * done * 1e9 / Math.max(t, 1), done, t);
        }
    }
}
