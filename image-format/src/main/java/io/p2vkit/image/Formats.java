package io.p2vkit.image;

import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.qcow2.Qcow2Format;
import io.p2vkit.image.raw.RawFormat;
import io.p2vkit.image.vhd.VhdFormat;
import io.p2vkit.image.vmdk.VmdkFormat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Every format p2vkit knows, and probing: each format scores the file's head and tail and the
 * highest score wins. Raw scores 1 for anything, so it is chosen only when nothing else claims
 * the file.
 */
public final class Formats implements DiskOpener {

    /** The drivers, strongest signature first (ties go to the earlier one). */
    private static final List<ImageFormat> ALL = List.of(
            new Qcow2Format(),  // "QFI\xfb" magic and a version at 0
            new VmdkFormat(),   // "KDMV" magic at 0, or a "# Disk DescriptorFile" text head
            new VhdFormat(),    // "conectix" footer, checksummed, at the end (fixed) or also at 0 (dynamic)
            new RawFormat()   // no signature: anything
    );

    private static final Formats INSTANCE = new Formats();

    private Formats() {
    }

    public static Formats get() {
        return INSTANCE;
    }

    public List<ImageFormat> all() {
        return ALL;
    }

    /** Finds a format by its qemu-img name or alias ({@code vpc}, {@code vhd}, ...). */
    public Optional<ImageFormat> byName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return ALL.stream().filter(f -> f.name().equals(n) || f.aliases().contains(n)).findFirst();
    }

    public ImageFormat require(String name) throws ImageFormatException {
        return byName(name).orElseThrow(() -> new ImageFormatException("unknown format '" + name
                + "' (known: " + String.join(", ", ALL.stream().map(ImageFormat::name).toList()) + ")"));
    }

    /** Reads the head and tail of {@code file} for probing. */
    public static Probe probeOf(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString());
        }
        try (ImageFile f = ImageFile.openRead(file)) {
            long size = f.size();
            ByteBuffer head = ByteBuffer.allocate((int) Math.min(size, Probe.HEAD_BYTES));
            f.readUpTo(0, head);
            int tailLen = (int) Math.min(size, Probe.TAIL_BYTES);
            ByteBuffer tail = ByteBuffer.allocate(tailLen);
            f.readUpTo(size - tailLen, tail);
            return new Probe(file, head.flip().asReadOnlyBuffer(), tail.flip().asReadOnlyBuffer(), size);
        }
    }

    /** The format whose probe scores highest for {@code file}. */
    public ImageFormat detect(Path file) throws IOException {
        Probe probe = probeOf(file);
        ImageFormat best = null;
        int bestScore = 0;
        for (ImageFormat f : ALL) {
            int score = f.probe(new Probe(probe.file(), probe.head().duplicate(), probe.tail().duplicate(),
                    probe.fileSize()));
            if (score > bestScore) {
                best = f;
                bestScore = score;
            }
        }
        if (best == null) {
            throw new ImageFormatException("no format recognises " + file);
        }
        return best;
    }

    /** Opens {@code file}, probing its format. */
    @Override
    public VirtualDisk open(Path file, OpenOptions options) throws IOException {
        return detect(file).open(file, options, this);
    }

    /** Opens {@code file} as {@code format}, or probes when {@code format} is null. */
    public VirtualDisk open(Path file, String format, OpenOptions options) throws IOException {
        ImageFormat f = format == null ? detect(file) : require(format);
        return f.open(file, options, this);
    }
}
