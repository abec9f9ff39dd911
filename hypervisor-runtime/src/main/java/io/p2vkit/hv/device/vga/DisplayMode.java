package io.p2vkit.hv.device.vga;

/**
 * What the card is showing, worked out from its registers: a text mode of {@code width} columns
 * by {@code height} rows, or a graphics mode of {@code width} by {@code height} pixels, or nothing
 * (the sequencer's screen-off bit, or the attribute controller's palette source cleared).
 */
public record DisplayMode(Kind kind, int width, int height, int colours) {

    /** Text, graphics, or a blanked screen. */
    public enum Kind { TEXT, GRAPHICS, BLANK }

    public boolean isText() {
        return kind == Kind.TEXT;
    }

    public boolean isGraphics() {
        return kind == Kind.GRAPHICS;
    }

    /** "text 80x25", "graphics 640x480, 16 colours", "blank". */
    public String describe() {
        return switch (kind) {
            case TEXT -> "text " + width + "x" + height;
            case GRAPHICS -> "graphics " + width + "x" + height + ", " + colours + " colours";
            case BLANK -> "blank";
        };
    }
}
