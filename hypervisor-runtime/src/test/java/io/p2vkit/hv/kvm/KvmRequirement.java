package io.p2vkit.hv.kvm;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Skips a KVM test where there is no usable /dev/kvm — except in CI on a machine that has
 * /dev/kvm: there a skipped KVM test would hide a broken engine, so it fails instead.
 */
public final class KvmRequirement {

    private KvmRequirement() {
    }

    public static void require() {
        String why = Kvm.unavailableReason();
        if (why == null) {
            return;
        }
        if (System.getenv("CI") != null && Files.exists(Path.of("/dev/kvm"))) {
            fail("/dev/kvm exists but KVM is unusable in CI: " + why);
        }
        Assumptions.assumeTrue(false, "KVM unavailable: " + why);
    }
}
