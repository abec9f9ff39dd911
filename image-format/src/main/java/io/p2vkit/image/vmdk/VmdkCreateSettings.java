package io.p2vkit.image.vmdk;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.ImageFormatException;

import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code -o} options of a new VMDK (the same keys as qemu-img's) and the descriptor they give.
 *
 * @param subformat   the createType written to the descriptor
 * @param adapterType ide, lsilogic, buslogic or legacyESX
 * @param hwVersion   ddb.virtualHWVersion
 * @param zeroedGrain header version 2 with the zeroed-grain flag (GTE 1 reads as zeros)
 */
record VmdkCreateSettings(String subformat, String adapterType, int hwVersion, boolean zeroedGrain) {

    static final List<String> SUBFORMATS = List.of("monolithicSparse", "monolithicFlat", "streamOptimized",
            "twoGbMaxExtentSparse");
    static final List<String> ADAPTERS = List.of("ide", "lsilogic", "buslogic", "legacyESX");

    /** "No tools installed", what VMware's own tools write when they do not know better. */
    private static final String TOOLS_VERSION_NONE = "2147483647";

    private static final SecureRandom RANDOM = new SecureRandom();

    static VmdkCreateSettings from(CreateOptions o) throws ImageFormatException {
        String sub = match("subformat", o.get("subformat", "monolithicSparse"), SUBFORMATS);
        String adapter = match("adapter_type", o.get("adapter_type", "ide"), ADAPTERS);
        boolean compat6 = o.flag("compat6", false);
        String hw = o.get("hwversion", null);
        int hwVersion = 4;
        if (hw != null) {
            if (compat6) {
                throw new ImageFormatException("VMDK options hwversion and compat6 cannot be used together");
            }
            try {
                hwVersion = Integer.parseInt(hw.trim());
            } catch (NumberFormatException e) {
                throw new ImageFormatException("option hwversion: '" + hw + "' is not a number");
            }
            if (hwVersion < 3 || hwVersion > 99) {
                throw new ImageFormatException("option hwversion: " + hwVersion + " is out of range (3 to 99)");
            }
        } else if (compat6) {
            hwVersion = 6;
        }
        boolean zeroed = o.flag("zeroed_grain", false);
        o.rejectUnknown("vmdk");
        return new VmdkCreateSettings(sub, adapter, hwVersion, zeroed);
    }

    private static String match(String key, String value, List<String> allowed) throws ImageFormatException {
        for (String a : allowed) {
            if (a.equalsIgnoreCase(value.trim())) {
                return a;
            }
        }
        throw new ImageFormatException("option " + key + ": '" + value + "' is not one of " + String.join(", ", allowed));
    }

    /** A fresh random content ID, avoiding the values that mean "no parent" and "invalid". */
    static long newCid() {
        long cid;
        do {
            cid = RANDOM.nextInt() & 0xFFFF_FFFFL;
        } while (cid >= 0xFFFF_FFFEL);
        return cid;
    }

    /**
     * The descriptor of a new disk: the header keys VMware writes, then the disk database with the
     * geometry, adapter and hardware version that VMware and VirtualBox read.
     */
    Descriptor descriptor(long capacitySectors, List<Descriptor.ExtentLine> extents) {
        long cid = newCid();
        Map<String, String> header = new LinkedHashMap<>();
        header.put("version", "1");
        header.put("encoding", "UTF-8");
        header.put("CID", String.format(Locale.ROOT, "%08x", cid));
        header.put("parentCID", "ffffffff");
        header.put("createType", subformat);
        // IDE disks report 16 heads (the ATA CHS limit of 16383 cylinders); SCSI ones 255.
        int heads = adapterType.equals("ide") ? 16 : 255;
        int sectors = 63;
        long maxCylinders = adapterType.equals("ide") ? 16383 : 65535;
        long cylinders = Math.min(capacitySectors / (heads * sectors), maxCylinders);
        Map<String, String> ddb = new LinkedHashMap<>();
        ddb.put("ddb.adapterType", adapterType);
        ddb.put("ddb.geometry.cylinders", Long.toString(cylinders));
        ddb.put("ddb.geometry.heads", Integer.toString(heads));
        ddb.put("ddb.geometry.sectors", Integer.toString(sectors));
        // VMware's tools end longContentID with the CID; it changes whenever the content does.
        ddb.put("ddb.longContentID", String.format(Locale.ROOT, "%08x%08x%08x%08x", RANDOM.nextInt(),
                RANDOM.nextInt(), RANDOM.nextInt(), cid));
        ddb.put("ddb.toolsVersion", TOOLS_VERSION_NONE);
        ddb.put("ddb.virtualHWVersion", Integer.toString(hwVersion));
        return new Descriptor(header, extents, ddb);
    }
}
