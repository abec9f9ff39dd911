package io.p2vkit.hv.verify;

import java.time.Duration;

/**
 * The outcome of one verified boot.
 *
 * @param passed            whether the expected text appeared before any failure
 * @param reason            one line: what matched, or why the boot failed
 * @param engine            "kvm" or "emu"
 * @param engineDetail      what the engine said about itself
 * @param firmwareBanner    time from start to the firmware's banner on the console, or null
 * @param bootloaderStarted time until the firmware handed over to the boot sector, or null
 * @param expectedSeen      time until the expected text, or null
 * @param elapsed           total time the guest ran
 * @param consoleLog        everything the guest wrote to COM1 (escape sequences removed)
 * @param firmwareLog       the firmware's debug port output
 * @param engineGaps        instructions the guest used that the engine lacks (see
 *                          {@code Vcpu.missingFeatures}), or "" when none
 */
public record BootReport(boolean passed, String reason, String engine, String engineDetail,
                         Duration firmwareBanner, Duration bootloaderStarted, Duration expectedSeen,
                         Duration elapsed, String consoleLog, String firmwareLog, String engineGaps) {

    /** A short human summary, one line per fact. */
    public String summary() {
        return (passed ? "PASS" : "FAIL") + ": " + reason + "\n"
                + "engine: " + engine + " (" + engineDetail + ")\n"
                + "firmware banner: " + ms(firmwareBanner) + "\n"
                + "bootloader started: " + ms(bootloaderStarted) + "\n"
                + "expected text: " + ms(expectedSeen) + "\n"
                + "elapsed: " + ms(elapsed)
                + (engineGaps.isEmpty() ? "" : "\nengine gaps: " + engineGaps);
    }

    private static String ms(Duration d) {
        return d == null ? "not seen" : d.toMillis() + " ms";
    }
}
