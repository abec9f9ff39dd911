package io.p2vkit.agent.migrate;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Boots a captured image and says whether the guest came up. The agent does not know a
 * hypervisor (dependencies point one way): the cli implements this with the hypervisor's
 * {@code BootVerifier}, tests with whatever they need.
 */
public interface BootCheck {

    /**
     * Boots {@code image} without changing it, waits at most {@code timeout} for {@code expect} on
     * the guest's console or screen, and writes a PNG of the final screen to {@code screenshot}
     * when the machine has one. Host failures (no firmware) are exceptions; everything the guest
     * does is in the outcome.
     */
    BootOutcome boot(Path image, Pattern expect, Duration timeout, Path screenshot)
            throws IOException, InterruptedException;
}
