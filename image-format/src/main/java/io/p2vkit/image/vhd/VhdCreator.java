package io.p2vkit.image.vhd;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.Sizes;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import static io.p2vkit.image.vhd.VhdConstants.*;

/**
 * Creates new VHDs: fixed (a sparse data area and the footer), dynamic (footer copy, header, an
 * empty BAT sized for the disk, footer) and differencing (a dynamic disk naming its parent).
 */
final class VhdCreator {

    private static final long MIB = 1 << 20;

    private VhdCreator() {
    }

    /** What the options ask for, checked. */
    record Plan(boolean fixed, long size, VhdGeometry geometry, String creator, int creatorVersion, long blockSize,
                String backingFile) {
    }

    static Plan plan(long requested, CreateOptions o) throws ImageFormatException {
        String sub = o.get("subformat", "dynamic").toLowerCase(Locale.ROOT);
        boolean forceSize = o.flag("force_size", false);
        boolean azure = o.flag("azure", false);
        long blockSize = o.size("block_size", DEFAULT_BLOCK_SIZE);
        String backing = o.get("backing_file", null);
        String backingFmt = o.get("backing_fmt", "vpc").toLowerCase(Locale.ROOT);
        o.rejectUnknown("vpc");
        if (!sub.equals("dynamic") && !sub.equals("fixed")) {
            throw new ImageFormatException("option subformat: expected dynamic or fixed, got '" + sub + "'");
        }
        if (!backingFmt.equals("vpc") && !backingFmt.equals("vhd")) {
            throw new ImageFormatException("a differencing VHD's parent must be a VHD, not " + backingFmt);
        }
        if (azure && o.has("subformat") && !sub.equals("fixed")) {
            throw new ImageFormatException("azure=on makes a fixed VHD; it cannot be subformat=" + sub);
        }
        boolean fixed = azure || sub.equals("fixed");
        if (backing != null && fixed) {
            throw new ImageFormatException("a differencing VHD (backing_file) is dynamic; it cannot be fixed");
        }
        checkBlockSize(blockSize);
        if (requested < 0) {
            throw new ImageFormatException("size must not be negative");
        }
        if (azure && requested % MIB != 0) {
            long up = Math.ceilDiv(requested, MIB) * MIB;
            throw new ImageFormatException("Azure needs a virtual size that is a whole number of MiB; "
                    + requested + " bytes is not: use size=" + up + " (" + Sizes.human(up) + ")");
        }
        long size;
        VhdGeometry geometry;
        if (forceSize || azure) {
            size = Math.ceilDiv(requested, SECTOR) * SECTOR;
            geometry = VhdGeometry.forSectors(size / SECTOR);
        } else {
            VhdGeometry.Rounded r = VhdGeometry.roundUp(requested);
            size = r.size();
            geometry = r.geometry();
        }
        if (size > MAX_VIRTUAL_SIZE) {
            throw new ImageFormatException("a VHD holds at most 2040 GiB (" + MAX_VIRTUAL_SIZE + " bytes); "
                    + Sizes.human(size) + " is too big (use VHDX or qcow2)");
        }
        // When the geometry gives the size exactly, every reader agrees whatever the creator;
        // otherwise say "win ", which every reader sizes by the current size (see VhdSizeRule).
        boolean exact = geometry.sectors() * SECTOR == size || geometry.isMaximum();
        boolean hyperV = azure || !exact;
        return new Plan(fixed, size, geometry, hyperV ? CREATOR_HYPERV : CREATOR_P2VKIT,
                hyperV ? CREATOR_HYPERV_VERSION : CREATOR_P2VKIT_VERSION, blockSize, backing);
    }

    private static void checkBlockSize(long blockSize) throws ImageFormatException {
        if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || Long.bitCount(blockSize) != 1) {
            throw new ImageFormatException("option block_size: " + blockSize + " is not a power of two between "
                    + MIN_BLOCK_SIZE + " and " + MAX_BLOCK_SIZE + " (Hyper-V takes 512K and 2M)");
        }
    }

    static VhdDisk create(Path path, long requested, CreateOptions options) throws IOException {
        Plan plan = plan(requested, options);
        Parent parent = plan.backingFile() == null ? null
                : parent(options.referenceFolder(path), plan.backingFile(), requested);
        long size = parent == null ? plan.size() : parent.size;
        int timestamp = (int) (System.currentTimeMillis() / 1000 - TIMESTAMP_EPOCH);
        int type = plan.fixed() ? TYPE_FIXED : parent != null ? TYPE_DIFFERENCING : TYPE_DYNAMIC;
        VhdGeometry geometry = parent == null ? plan.geometry() : parent.geometry;
        String creator = parent == null ? plan.creator() : parent.creator;
        int creatorVersion = parent == null ? plan.creatorVersion()
                : creator.equals(CREATOR_HYPERV) ? CREATOR_HYPERV_VERSION : CREATOR_P2VKIT_VERSION;
        VhdFooter footer = new VhdFooter(FEATURE_RESERVED, VERSION_1_0, plan.fixed() ? NO_OFFSET : FOOTER_SIZE,
                timestamp, creator, creatorVersion, OS_WINDOWS, size, size, geometry, type, 0, UUID.randomUUID(),
                false, true);
        byte[] footerBytes = footer.encode();
        try (ImageFile f = ImageFile.create(path)) {
            if (plan.fixed()) {
                // The data area stays a hole: a new fixed VHD takes no space until written.
                f.writeFully(size, ByteBuffer.wrap(footerBytes));
            } else {
                writeDynamic(f, footerBytes, size, plan.blockSize(), parent);
            }
            f.force();
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(path);
            throw e;
        }
        // The parent was named by whoever created the disk: follow it wherever it is.
        try {
            VhdDisk disk = VhdOpener.open(path, new OpenOptions(false, true, true), Formats.get());
            disk.markNew();
            return disk;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(path);
            throw e;
        }
    }

    private static void writeDynamic(ImageFile f, byte[] footerBytes, long size, long blockSize, Parent parent)
            throws IOException {
        long entries = Math.ceilDiv(size, blockSize);
        if (entries > MAX_BAT_ENTRIES) {
            throw new ImageFormatException("block_size " + blockSize + " needs " + entries
                    + " table entries for this size; use a larger block_size");
        }
        long tableOffset = FOOTER_SIZE + DYNAMIC_HEADER_SIZE;
        long batBytes = VhdBat.byteSize(entries);
        long next = tableOffset + batBytes;
        List<VhdDynamicHeader.Locator> locators = new ArrayList<>();
        List<byte[]> locatorData = new ArrayList<>();
        if (parent != null) {
            // Relative first: readers (ours, Hyper-V) try it first, so a copied chain still opens.
            int[] platforms = {PLATFORM_W2RU, PLATFORM_W2KU};
            String[] paths = {parent.relative, parent.absolute};
            for (int i = 0; i < platforms.length; i++) {
                byte[] data = paths[i].getBytes(StandardCharsets.UTF_16LE);
                long space = Math.ceilDiv(Math.max(data.length, 1), SECTOR) * SECTOR;
                locators.add(new VhdDynamicHeader.Locator(platforms[i], space, data.length, next));
                locatorData.add(data);
                next += space;
            }
        }
        while (locators.size() < LOCATOR_COUNT) {
            locators.add(new VhdDynamicHeader.Locator(PLATFORM_NONE, 0, 0, 0));
        }
        VhdDynamicHeader header = new VhdDynamicHeader(NO_OFFSET, tableOffset, VERSION_1_0, entries, blockSize, 0,
                true, parent == null ? new UUID(0, 0) : parent.uniqueId, parent == null ? 0 : parent.timestamp,
                parent == null ? "" : parent.name, locators);
        f.writeFully(0, ByteBuffer.wrap(footerBytes));
        f.writeFully(FOOTER_SIZE, ByteBuffer.wrap(header.encode()));
        byte[] unused = new byte[(int) Math.min(batBytes, 1 << 20)];
        Arrays.fill(unused, (byte) 0xFF);
        for (long done = 0; done < batBytes; done += unused.length) {
            f.writeFully(tableOffset + done, ByteBuffer.wrap(unused, 0, (int) Math.min(unused.length, batBytes - done)));
        }
        for (int i = 0; i < locatorData.size(); i++) {
            f.writeFully(locators.get(i).dataOffset(), ByteBuffer.wrap(locatorData.get(i)));
        }
        f.writeFully(next, ByteBuffer.wrap(footerBytes));
    }

    /** What a differencing child records of its parent. */
    private record Parent(long size, VhdGeometry geometry, String creator, UUID uniqueId, int timestamp, String name,
                          String relative, String absolute) {
    }

    /** The parent named {@code backing}, relative to {@code folder}, where the child will live. */
    private static Parent parent(Path folder, String backing, long requested) throws IOException {
        Path parentPath = folder.resolve(backing).normalize();
        if (!Files.isRegularFile(parentPath)) {
            throw new ImageFormatException("backing file " + backing + " not found (looked for " + parentPath + ")");
        }
        VhdLayout l;
        try (ImageFile pf = ImageFile.openRead(parentPath)) {
            l = VhdLayout.read(pf);
        } catch (ImageFormatException e) {
            throw new ImageFormatException("backing file " + backing + ": " + e.getMessage(), e);
        }
        if (requested != 0 && requested != l.virtualSize) {
            throw new ImageFormatException("a differencing VHD has its parent's size (" + l.virtualSize
                    + " bytes), not " + requested);
        }
        String relative = folder.relativize(parentPath).toString();
        if (!relative.startsWith(".")) {
            relative = "./" + relative;
        }
        boolean exact = l.footer.geometry().sectors() * SECTOR == l.virtualSize || l.footer.geometry().isMaximum();
        return new Parent(l.virtualSize, l.footer.geometry(), exact ? CREATOR_P2VKIT : CREATOR_HYPERV,
                l.footer.uniqueId(), l.footer.timestamp(), parentPath.getFileName().toString(),
                relative.replace('/', '\\'), parentPath.toString().replace('/', '\\'));
    }
}
