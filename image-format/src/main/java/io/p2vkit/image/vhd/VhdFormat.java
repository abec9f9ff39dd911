package io.p2vkit.image.vhd;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.DiskOpener;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.Probe;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

import static io.p2vkit.image.vhd.VhdConstants.FOOTER_SIZE;
import static io.p2vkit.image.vhd.VhdConstants.OLD_FOOTER_SIZE;

/**
 * Microsoft Virtual Hard Disk, qemu-img's "vpc": fixed, dynamic and differencing. See
 * docs/formats/vhd.md.
 */
public final class VhdFormat implements ImageFormat {

    /** A checksummed footer: as sure as probing gets. */
    static final int SCORE_VALID = 100;
    /** The cookie without a matching checksum: a damaged VHD, still more likely VHD than raw. */
    static final int SCORE_COOKIE_ONLY = 50;

    @Override
    public String name() {
        return "vpc";
    }

    @Override
    public List<String> aliases() {
        return List.of("vhd");
    }

    /**
     * Looks for the footer at the end (every VHD; the only place a fixed VHD has one, which
     * qemu's head-only probe misses), in the old 511-byte place, and its copy at offset 0
     * (dynamic and differencing).
     */
    @Override
    public int probe(Probe probe) {
        int best = 0;
        best = Math.max(best, score(probe.tail(), probe.tail().limit() - FOOTER_SIZE, FOOTER_SIZE));
        best = Math.max(best, score(probe.tail(), probe.tail().limit() - OLD_FOOTER_SIZE, OLD_FOOTER_SIZE));
        best = Math.max(best, score(probe.head(), 0, FOOTER_SIZE));
        return best;
    }

    private static int score(ByteBuffer buf, int offset, int length) {
        if (offset < 0 || buf.limit() - offset < length) {
            return 0;
        }
        byte[] b = new byte[length];
        buf.get(offset, b);
        if (!VhdFooter.hasCookie(b, 0)) {
            return 0;
        }
        return VhdFooter.parse(b).checksumValid() ? SCORE_VALID : SCORE_COOKIE_ONLY;
    }

    @Override
    public VirtualDisk open(Path file, OpenOptions options, DiskOpener opener) throws IOException {
        return VhdOpener.open(file, options, opener);
    }

    /** Sizes by current size, as Hyper-V and Disk2vhd do, instead of rounding to a CHS geometry. */
    @Override
    public CreateOptions exactSize(CreateOptions options) {
        return options.has("force_size") ? options : options.with("force_size", "on");
    }

    @Override
    public VirtualDisk create(Path file, long size, CreateOptions options) throws IOException {
        return VhdCreator.create(file, size, options);
    }

    @Override
    public CheckReport check(Path file, OpenOptions options, DiskOpener opener) throws IOException {
        return VhdChecker.check(file);
    }

    @Override
    public List<String> createOptionsHelp() {
        return List.of(
                "subformat=dynamic|fixed  dynamic (default) grows as written; fixed is the data then a footer",
                "force_size=on|off        keep the exact size instead of rounding up to a CHS geometry",
                "azure=on|off             a fixed VHD as Azure takes it: whole MiB size, exact size, creator \"win \"",
                "block_size=SIZE          dynamic block size, a power of two (default 2M; Hyper-V takes 512K or 2M)",
                "backing_file=FILE        make a differencing VHD over FILE (a VHD); size is the parent's",
                "backing_fmt=vpc          the parent's format (only vpc)");
    }
}
