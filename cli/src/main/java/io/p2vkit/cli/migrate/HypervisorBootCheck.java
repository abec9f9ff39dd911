package io.p2vkit.cli.migrate;

import io.p2vkit.agent.migrate.BootCheck;
import io.p2vkit.agent.migrate.BootOutcome;
import io.p2vkit.cli.launch.TrainingBoot;
import io.p2vkit.cli.vm.BootProgressLines;
import io.p2vkit.cli.vm.MachineOptions;
import io.p2vkit.hv.machine.Engine;
import io.p2vkit.hv.machine.MachineConfig;
import io.p2vkit.hv.verify.BootReport;
import io.p2vkit.hv.verify.BootVerifier;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The migration's boot check on p2vkit's own machine: the image opened read-only under a
 * copy-on-write overlay, booted by {@link BootVerifier} on the engine the machine options chose,
 * progress on stderr.
 */
final class HypervisorBootCheck implements BootCheck {

    private final MachineOptions machine;
    private final boolean jsonProgress;
    private final String label;
    private Engine engine;

    HypervisorBootCheck(MachineOptions machine, boolean jsonProgress) {
        this(machine, jsonProgress, "boot");
    }

    /** {@code label} starts every progress line (the demo boots two images at once). */
    HypervisorBootCheck(MachineOptions machine, boolean jsonProgress, String label) {
        this.machine = machine;
        this.jsonProgress = jsonProgress;
        this.label = label;
    }

    /** A check for another boot on the same engine, its progress lines labelled {@code label}. */
    HypervisorBootCheck labelled(String label) throws ImageFormatException {
        HypervisorBootCheck other = new HypervisorBootCheck(machine, jsonProgress, label);
        other.engine = engine();
        return other;
    }

    /**
     * Chooses the engine at the first boot (the choice may measure the host, which an error before
     * the boot should not wait for) and keeps it for every boot that follows.
     */
    private synchronized Engine engine() throws ImageFormatException {
        if (engine == null) {
            engine = machine.engine();
        }
        return engine;
    }

    @Override
    public BootOutcome boot(Path image, Pattern expect, Duration timeout, Path screenshot)
            throws IOException, InterruptedException {
        BootProgressLines lines = new BootProgressLines(System.err, label, timeout, expect.pattern(), jsonProgress);
        BootVerifier verifier = new BootVerifier(engine()).expect(expect).timeout(timeout).screenshot(screenshot)
                .progress(lines);
        BootReport r;
        try (VirtualDisk disk = Formats.get().open(image, OpenOptions.READ_ONLY)) {
            r = verifier.verify(machine.config(List.of(disk), MachineConfig.DiskMode.COPY_ON_WRITE));
        } finally {
            lines.finish();
        }
        TrainingBoot.finished(r);
        return new BootOutcome(r.passed(), r.reason(), r.engine(), r.engineDetail(), r.matchedOn(), r.display(),
                r.graphicsMode(), r.engineGaps(), r.firmwareBanner(), r.bootloaderStarted(), r.expectedSeen(),
                r.elapsed(), r.consoleLog(), r.screenText(), r.screenshot());
    }
}
