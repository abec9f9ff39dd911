package io.p2vkit.agent.migrate;

import java.util.List;
import java.util.regex.Pattern;

/**
 * What counts as "the guest came up" when the user names no expected text: text a booted server
 * shows on its console or screen and an unbooted one never does.
 */
public final class BootMarkers {

    /** Each marker with the system that prints it; docs/migrate.md lists the same. */
    public static final List<String> DEFAULTS = List.of(
            // getty/agetty on a console or serial line ("debian login: "), and BusyBox's login applet
            "login:",
            // systemd once the multi-user or graphical target is up
            "Reached target .*(Multi-User System|Graphical Interface)",
            // the p2vkit test guest's /init (scripts/build-test-guest.sh)
            "P2V-GUEST-OK");

    private BootMarkers() {
    }

    /** The defaults as one pattern. */
    public static Pattern defaultPattern() {
        return Pattern.compile(String.join("|", DEFAULTS.stream().map(m -> "(?:" + m + ")").toList()));
    }
}
