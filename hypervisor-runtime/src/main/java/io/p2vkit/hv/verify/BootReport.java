package io.p2vkit.hv.verify;

import java.nio.file.Path;
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
 * @param matchedOn         where the deciding text (expected or failure) was seen: {@link #SERIAL},
 *                          {@link #SCREEN}, or null when none was
 * @param display           the display at the end: "none" (no adapter), "text 80x25",
 *                          "graphics 640x480, 16 colours", "blank"
 * @param graphicsMode      the first graphics mode the guest selected, or null if it never left text
 * @param screenText        the last text screen read, rows joined by newlines ("" if none)
 * @param screenshot        the PNG written of the final screen, or null
 */
public record BootReport(boolean passed, String reason, String engine, String engineDetail,
                         Duration firmwareBanner, Duration bootloaderStarted, Duration expectedSeen,
                         Duration elapsed, String consoleLog, String firmwareLog, String engineGaps,
                         String matchedOn, String display, String graphicsMode, String screenText,
                         Path screenshot) {

    public static final String SERIAL = "serial";
    public static final String SCREEN = "screen";

    /** A report of a machine without a display. */
    public BootReport(boolean passed, String reason, String engine, String engineDetail,
                      Duration firmwareBanner, Duration bootloaderStarted, Duration expectedSeen,
                      Duration elapsed, String consoleLog, String firmwareLog, String engineGaps) {
        this(passed, reason, engine, engineDetail, firmwareBanner, bootloaderStarted, expectedSeen, elapsed,
                consoleLog, firmwareLog, engineGaps, null, "none", null, "", null);
    }

    /** A short human summary, one line per fact. */
    public String summary() {
        return (passed ? "PASS" : "FAIL") + ": " + reason + "\n"
                + "engine: " + engine + " (" + engineDetail + ")\n"
                + "firmware banner: " + ms(firmwareBanner) + "\n"
                + "bootloader started: " + ms(bootloaderStarted) + "\n"
                + "expected text: " + ms(expectedSeen) + "\n"
                + "elapsed: " + ms(elapsed) + "\n"
                + "display: " + display + (graphicsMode == null ? "" : " (the guest selected " + graphicsMode + ")")
                + (screenshot == null ? "" : "\nscreenshot: " + screenshot)
                + (engineGaps.isEmpty() ? "" : "\nengine gaps: " + engineGaps);
    }

    private static String ms(Duration d) {
        return d == null ? "not seen" : d.toMillis() + " ms";
    }
}
