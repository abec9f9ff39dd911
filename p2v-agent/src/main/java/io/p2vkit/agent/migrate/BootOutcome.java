package io.p2vkit.agent.migrate;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What one verification boot saw, as plain data.
 *
 * @param passed            the expected text appeared before any failure text
 * @param reason            one line: what matched, or why the boot failed
 * @param engine            the CPU engine ("emu", "kvm")
 * @param engineDetail      what the engine said about itself
 * @param matchedOn         where the deciding text was seen ("serial", "screen"), or null
 * @param display           the display at the end ("text 80x25", "none", "graphics ...")
 * @param graphicsMode      the graphics mode the guest selected, or null
 * @param engineGaps        instructions the guest used that the engine lacks, "" when none
 * @param firmwareBanner    time to the firmware's banner, or null
 * @param bootloaderStarted time to the hand-over to the boot sector, or null
 * @param expectedSeen      time to the expected text, or null
 * @param elapsed           how long the guest ran
 * @param consoleLog        the serial console, as the guest wrote it (escape sequences removed)
 * @param screenText        the last text screen, rows joined by newlines
 * @param screenshot        the PNG written of the final screen, or null
 */
public record BootOutcome(boolean passed, String reason, String engine, String engineDetail, String matchedOn,
                          String display, String graphicsMode, String engineGaps, Duration firmwareBanner,
                          Duration bootloaderStarted, Duration expectedSeen, Duration elapsed, String consoleLog,
                          String screenText, Path screenshot) {
}
