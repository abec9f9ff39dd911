package io.p2vkit.hv.machine;

import io.p2vkit.hv.kvm.Kvm;
import io.p2vkit.hv.kvm.KvmRequirement;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AccelChooserTest {

    @Test
    void explicitChoicesAreHonoured() {
        assertEquals("emu", AccelChooser.choose("emu").engine());
        assertThrows(IllegalArgumentException.class, () -> AccelChooser.choose("tcg"));
    }

    /**
     * This project's build machines have nested kvm_pvm (no VT-x): /dev/kvm works but runs guest
     * kernel code at ~1.5 M instructions/s, so auto must pick the emulator and say so with the rate.
     * On a host with real hardware virtualization this test is skipped (the probe then picks kvm).
     */
    @Test
    void autoPicksEmuOnSlowNestedKvmAndSaysWhy() {
        KvmRequirement.require();
        AccelChooser.Choice c = AccelChooser.choose("auto");
        System.out.println("accel auto: " + c.engine() + " — " + c.reason());
        assumeTrue(c.measuredInstructionsPerSecond() < AccelChooser.KVM_THRESHOLD,
                "this host's KVM is hardware-assisted: " + c.reason());
        assertEquals("emu", c.engine());
        assertTrue(c.reason().contains("instructions/s"), c.reason());
        assertTrue(c.reason().contains("no hardware virtualization"), c.reason());
    }

    @Test
    void autoWithoutKvmPicksEmuWithReason() {
        assumeTrue(Kvm.unavailableReason() != null, "KVM is available here");
        AccelChooser.Choice c = AccelChooser.choose("auto");
        assertEquals("emu", c.engine());
        assertTrue(c.reason().startsWith("KVM unavailable"), c.reason());
    }
}
