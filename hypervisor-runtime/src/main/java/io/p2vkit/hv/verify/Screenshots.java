package io.p2vkit.hv.verify;

import io.p2vkit.hv.device.vga.PngEncoder;
import io.p2vkit.hv.device.vga.TextRenderer;
import io.p2vkit.hv.device.vga.TextScreen;
import io.p2vkit.hv.device.vga.VgaSnapshot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** PNG pictures of the text screen, drawn with the font the guest loaded. */
public final class Screenshots {

    private Screenshots() {
    }

    /**
     * Writes {@code snapshot}'s text screen to {@code file} as a PNG; false (and nothing written)
     * when the card shows no text (a graphics mode, a blanked screen, or an empty geometry).
     */
    public static boolean write(VgaSnapshot snapshot, Path file) throws IOException {
        if (snapshot == null) {
            return false;
        }
        TextScreen screen = snapshot.textScreen();
        if (screen == null || screen.cols() == 0 || screen.rows() == 0) {
            return false;
        }
        Files.write(file, PngEncoder.encode(TextRenderer.render(snapshot, screen)));
        return true;
    }
}
