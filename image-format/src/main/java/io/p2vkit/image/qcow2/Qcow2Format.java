package io.p2vkit.image.qcow2;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.DiskOpener;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.Probe;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

/** QEMU's copy-on-write format, versions 2 and 3 (docs/formats/qcow2.md). */
public final class Qcow2Format implements ImageFormat {

    @Override
    public String name() {
        return "qcow2";
    }

    /**
     * The magic alone is a strong signature; with a known version it scores 100. Other versions
     * (qcow version 1 shares the magic) score 50, so that open() names the version it refuses.
     */
    @Override
    public int probe(Probe probe) {
        var head = probe.head().duplicate().order(ByteOrder.BIG_ENDIAN);
        if (head.remaining() < 8 || head.getInt(head.position()) != Qcow2Constants.MAGIC) {
            return 0;
        }
        int version = head.getInt(head.position() + 4);
        return version == 2 || version == 3 ? 100 : 50;
    }

    @Override
    public VirtualDisk open(Path file, OpenOptions options, DiskOpener opener) throws IOException {
        return Qcow2Open.open(file, options, opener);
    }

    @Override
    public VirtualDisk create(Path file, long size, CreateOptions options) throws IOException {
        return Qcow2Create.create(file, size, options);
    }

    @Override
    public CheckReport check(Path file, OpenOptions options, DiskOpener opener) throws IOException {
        return Qcow2Checker.check(file);
    }

    @Override
    public List<String> createOptionsHelp() {
        return Qcow2Create.HELP;
    }
}
