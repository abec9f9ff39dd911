package io.p2vkit.hv.kvm;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.Vcpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Measures how fast this host's KVM runs guest kernel-mode code: a tiny VM with 64 KiB at the
 * top of 4 GiB whose reset vector holds {@code mov ecx, N; l: dec ecx; jnz l; hlt}. With real
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

    private static Result run(long iterations) {
        try (Kvm kvm = Kvm.open(); KvmVm vm = kvm.createVm(); Arena arena = Arena.ofConfined()) {
            vm.setupRealModeSupport();
            MemorySegment mem = arena.allocate(0x10000, 4096);
            byte[] code = {
                0x66, (byte) 0xB9, (byte) iterations, (byte) (iterations >> 8), (byte) (iterations >> 16),
                (byte) (iterations >> 24),                 // mov ecx, iterations
                0x66, 0x49,                                // l: dec ecx
                0x75, (byte) 0xFC,                         // jnz l
                (byte) 0xF4                                // hlt
            };
            MemorySegment.copy(code, 0, mem, java.lang.foreign.ValueLayout.JAVA_BYTE, 0xFFF0, code.length);
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
            } else if (stop != Vcpu.Stop.SHUTDOWN) {
                throw new KvmException("probe guest stopped unexpectedly: " + vcpu.stopReason());
            }
            return new Result(2.0 * done * 1e9 / Math.max(t, 1), done, t);
        }
    }
}
