package io.p2vkit.hv.verify;

import io.p2vkit.hv.kvm.Kvm;
import io.p2vkit.hv.kvm.KvmEngine;
import io.p2vkit.hv.machine.MachineConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class KvmBootTest {

    @BeforeAll
    static void needKvm() {
        String why = Kvm.unavailableReason();
        assumeTrue(why == null, "KVM unavailable: " + why);
    }

    @Test
    void seabiosPrintsBannerOnSerial() throws Exception {
        BootReport r = new BootVerifier(new KvmEngine())
                .expect(BootVerifier.FIRMWARE_BANNER)
                .timeout(Duration.ofSeconds(20))
                .verify(new MachineConfig().memoryMiB(64));
        System.out.println(r.summary());
        System.out.println("--- console\n" + r.consoleLog());
        System.out.println("--- firmware\n" + r.firmwareLog());
        assertTrue(r.passed(), r.reason());
        assertNotNull(r.firmwareBanner());
    }
}
