package io.p2vkit.image.vhd;

import io.p2vkit.image.DiskOpener;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.UnsafeReferenceException;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.References;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;

import static io.p2vkit.image.vhd.VhdConstants.*;

/**
 * Finds and opens a differencing disk's parent (spec "Dynamic Disk Header Format", "Parent
 * Locator Entries"). Relative locators are tried before absolute ones, so that a Hyper-V chain
 * (which records both) opens from the folder it was copied to; every candidate goes through
 * {@link References#resolve}, which refuses paths outside the child's folder unless allowed.
 */
final class VhdParent {

    /** The files whose parents are being opened on this thread, to stop parent loops. */
    private static final ThreadLocal<Deque<Path>> OPENING = ThreadLocal.withInitial(ArrayDeque::new);
    private static final int MAX_CHAIN = 64;

    private VhdParent() {
    }

    /** One place the parent may be, decoded from a locator or the header's parent name. */
    record Candidate(String source, String path) {
    }

    /** The decodable candidates, best first. */
    static List<Candidate> candidates(ImageFile file, VhdDynamicHeader header) throws IOException {
        List<VhdDynamicHeader.Locator> used = new ArrayList<>();
        for (VhdDynamicHeader.Locator l : header.locators()) {
            if (l.isUsed()) {
                used.add(l);
            }
        }
        used.sort(Comparator.comparingInt(l -> preference(l.platform())));
        List<Candidate> out = new ArrayList<>();
        for (VhdDynamicHeader.Locator l : used) {
            String text = decode(file, l);
            if (text != null && !text.isEmpty()) {
                out.add(new Candidate(l.platformName().strip() + " locator", text));
            }
        }
        if (!header.parentName().isEmpty()) {
            out.add(new Candidate("parent name", windowsToLocal(header.parentName())));
        }
        return out;
    }

    private static int preference(int platform) {
        return switch (platform) {
            case PLATFORM_W2RU -> 0;
            case PLATFORM_WI2R -> 1;
            case PLATFORM_W2KU -> 2;
            case PLATFORM_WI2K -> 3;
            case PLATFORM_MACX -> 4;
            default -> 5;
        };
    }

    /** The locator's path, or null for platforms we cannot read (a Mac OS alias). */
    private static String decode(ImageFile file, VhdDynamicHeader.Locator l) throws IOException {
        Charset cs = switch (l.platform()) {
            case PLATFORM_W2RU, PLATFORM_W2KU -> StandardCharsets.UTF_16LE;
            case PLATFORM_WI2R, PLATFORM_WI2K -> StandardCharsets.ISO_8859_1;
            case PLATFORM_MACX -> StandardCharsets.UTF_8;
            default -> null;
        };
        if (cs == null) {
            return null;
        }
        if (l.dataLength() > MAX_LOCATOR_BYTES || l.dataOffset() < 0
                || l.dataOffset() > file.size() - l.dataLength()) {
            throw new ImageFormatException("VHD parent locator " + l.platformName().strip() + " ("
                    + l.dataLength() + " bytes at " + l.dataOffset() + ") lies outside the file");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) l.dataLength());
        file.readFully(l.dataOffset(), buf, "VHD parent locator");
        String text = new String(buf.array(), cs);
        int nul = text.indexOf('\0');
        if (nul >= 0) {
            text = text.substring(0, nul);
        }
        if (l.platform() == PLATFORM_MACX) {
            return fileUrlToPath(text);
        }
        return windowsToLocal(text);
    }

    /** "file://localhost/Users/a/b.vhd" to "/Users/a/b.vhd". */
    private static String fileUrlToPath(String url) {
        try {
            URI uri = new URI(url);
            if ("file".equalsIgnoreCase(uri.getScheme()) && uri.getPath() != null) {
                return uri.getPath();
            }
        } catch (URISyntaxException e) {
            // Not a URL: take it as a plain path below.
        }
        return url;
    }

    /** Windows separators to ours: ".\parent.vhd" becomes "./parent.vhd". */
    static String windowsToLocal(String path) {
        return path.replace('\\', '/');
    }

    /**
     * Opens the parent of {@code child} read-only through {@code opener} and checks that it is
     * the VHD whose unique id the child's header names.
     */
    static VhdDisk open(Path child, ImageFile file, VhdDynamicHeader header, OpenOptions options, DiskOpener opener)
            throws IOException {
        List<Candidate> candidates = candidates(file, header);
        UnsafeReferenceException unsafe = null;
        List<String> tried = new ArrayList<>();
        for (Candidate c : candidates) {
            Path p;
            try {
                p = References.resolve(child, c.path(), "VHD parent", options);
            } catch (UnsafeReferenceException e) {
                if (unsafe == null) {
                    unsafe = e;
                }
                continue;
            } catch (ImageFormatException e) {
                tried.add(c.source() + " '" + c.path() + "' (" + e.getMessage() + ")");
                continue;
            }
            if (!Files.isRegularFile(p)) {
                tried.add(c.source() + " '" + c.path() + "'");
                continue;
            }
            return openChecked(child, p, header, options, opener);
        }
        if (unsafe != null) {
            throw unsafe;
        }
        throw new ImageFormatException(candidates.isEmpty()
                ? "differencing VHD has no parent locator we can read"
                : "VHD parent not found; tried " + String.join(", ", tried));
    }

    private static VhdDisk openChecked(Path child, Path parentPath, VhdDynamicHeader header, OpenOptions options,
                                       DiskOpener opener) throws IOException {
        Deque<Path> chain = OPENING.get();
        Path childReal = child.toRealPath();
        Path parentReal = parentPath.toRealPath();
        if (parentReal.equals(childReal) || chain.contains(parentReal)) {
            throw new ImageFormatException("VHD parent chain loops: " + child + " leads back to " + parentPath);
        }
        if (chain.size() >= MAX_CHAIN) {
            throw new ImageFormatException("VHD parent chain is longer than " + MAX_CHAIN + " disks");
        }
        chain.push(childReal);
        VirtualDisk disk;
        try {
            disk = opener.open(parentPath, options.forBacking());
        } catch (UnsafeReferenceException e) {
            throw e;
        } catch (ImageFormatException e) {
            throw new ImageFormatException("VHD parent " + parentPath + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ImageFormatException("cannot open VHD parent " + parentPath + ": " + e, e);
        } finally {
            chain.pop();
            if (chain.isEmpty()) {
                OPENING.remove();
            }
        }
        if (!(disk instanceof VhdDisk parent)) {
            disk.close();
            throw new ImageFormatException("VHD parent " + parentPath + " is not a VHD");
        }
        if (!parent.uniqueId().equals(header.parentUniqueId())) {
            parent.close();
            throw new ImageFormatException("VHD parent " + parentPath + " has unique id " + parent.uniqueId()
                    + " but the differencing disk expects " + header.parentUniqueId());
        }
        return parent;
    }
}
