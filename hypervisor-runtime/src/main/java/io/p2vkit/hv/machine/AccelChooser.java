package io.p2vkit.hv.machine;

import io.p2vkit.hv.kvm.Kvm;
import io.p2vkit.hv.kvm.KvmEngine;
import io.p2vkit.hv.kvm.KvmException;
import io.p2vkit.hv.kvm.KvmProbe;

import java.util.Locale;

/**
 * {@code --accel auto|kvm|emu}: picks the CPU engine and says why. "auto" chooses KVM only where
 * it runs guest kernel code at hardware speed, measured by {@link KvmProbe}; the existence of
 * /dev/kvm is not enough (nested kvm_pvm runs guest kernels at ~1.5 M instructions/s, slower than
 * our emulator).
 */
public final class AccelChooser {

    /** Below this many guest instructions per second, KVM is not hardware-assisted. */
    public static final double KVM_THRESHOLD = 100e6;

    /** The engine chosen ("kvm" or "emu"), the reason in one line, and the probe's rate (or -1). */
    public record Choice(String engine, String reason, double measuredInstructionsPerSecond) {

        /** The engine itself; {@code emu} needs the emulator's vCPU factory. */
        public Engine engine(VcpuFactory emulator) {
            if (engine.equals("kvm")) {
                return new KvmEngine();
            }
            if (emulator == null) {
                throw new IllegalStateException("the emulator engine is not available in this build");
            }
            return new EmuEngine(emulator);
        }
    }

    private AccelChooser() {
    }

    public static Choice choose(String accel) {
        String a = accel == null ? "auto" : accel.toLowerCase(Locale.ROOT);
        switch (a) {
            case "emu":
                return new Choice("emu", "requested with --accel emu", -1);
            case "kvm": {
                String why = Kvm.unavailableReason();
                if (why != null) {
                    throw new IllegalArgumentException("--accel kvm: " + why);
                }
                return new Choice("kvm", "requested with --accel kvm", -1);
            }
            case "auto":
                return auto();
            default:
                throw new IllegalArgumentException("unknown accelerator '" + accel + "' (auto, kvm, emu)");
        }
    }

    private static Choice auto() {
        String why = Kvm.unavailableReason();
        if (why != null) {
            return new Choice("emu", "KVM unavailable: " + why, -1);
        }
        KvmProbe.Result r;
        try {
            r = KvmProbe.measure();
        } catch (KvmException e) {
            return new Choice("emu", "KVM present but the probe guest failed: " + e.getMessage(), -1);
        }
        double mips = r.instructionsPerSecond() / 1e6;
        String rate = String.format(Locale.ROOT, "%.1f M guest kernel-mode instructions/s (threshold %.0f M)",
                mips, KVM_THRESHOLD / 1e6);
        if (r.instructionsPerSecond() < KVM_THRESHOLD) {
            return new Choice("emu", "KVM runs " + rate
                    + ": no hardware virtualization under it (nested or paravirtual KVM), so the emulator is faster",
                    r.instructionsPerSecond());
        }
        return new Choice("kvm", "KVM runs " + rate + ": hardware-assisted", r.instructionsPerSecond());
    }
}
