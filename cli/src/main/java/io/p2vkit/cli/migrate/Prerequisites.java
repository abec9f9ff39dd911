package io.p2vkit.cli.migrate;

import io.p2vkit.hv.machine.FirmwareLocator;
import io.p2vkit.image.ImageFormatException;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * What the demo needs from Debian beyond what scripts/build-test-guest.sh installs itself: SeaBIOS
 * and its VGA BIOS (package seabios). Installed with apt-get when run as root, else asked for.
 */
final class Prerequisites {

    static final String FIRMWARE_PACKAGE = "seabios";

    private Prerequisites() {
    }

    static void ensureFirmware(boolean root) throws IOException, InterruptedException {
        if (firmwarePresent()) {
            return;
        }
        String command = "apt-get install -y " + FIRMWARE_PACKAGE;
        if (!root) {
            throw new ImageFormatException("the demo boots through SeaBIOS, which is not installed: run 'sudo "
                    + command + "' (or run the demo as root to have it installed)");
        }
        System.err.println("demo: installing Debian's " + FIRMWARE_PACKAGE + " (" + command + ")");
        ProcessBuilder pb = new ProcessBuilder("apt-get", "install", "-y", "-q", FIRMWARE_PACKAGE)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
        }
        if (p.isAlive() || p.exitValue() != 0 || !firmwarePresent()) {
            throw new ImageFormatException("could not install " + FIRMWARE_PACKAGE + " (" + command
                    + " failed; try 'apt-get update' first)");
        }
    }

    /** Both images found where the machine will look for them (P2VKIT_BIOS and P2VKIT_VGABIOS count). */
    private static boolean firmwarePresent() {
        try {
            FirmwareLocator.locate(null);
            return FirmwareLocator.locateVgaBios(null) != null;
        } catch (IOException e) {
            return false;
        }
    }
}
