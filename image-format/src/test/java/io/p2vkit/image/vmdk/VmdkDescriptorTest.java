package io.p2vkit.image.vmdk;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.ImageFormatException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Descriptor text: what VMware and qemu write parses, and what we write has the fields they expect. */
class VmdkDescriptorTest {

    private static final String VMWARE = """
            # Disk DescriptorFile
            version=1
            encoding="UTF-8"
            CID=2d7ad210
            parentCID=ffffffff
            isNativeSnapshot="no"
            createType="twoGbMaxExtentSparse"

            # Extent description
            RW 4192256 SPARSE "My Disk-s001.vmdk"
            RDONLY 2048 FLAT "base-flat.vmdk" 64
            RW 1000 ZERO

            # The Disk Data Base
            #DDB

            ddb.adapterType = "lsilogic"
            ddb.geometry.cylinders = "261"
            ddb.virtualHWVersion = "8"
            """;

    @Test
    void parsesVmwareDescriptor() throws ImageFormatException {
        Descriptor d = Descriptor.parse(VMWARE, "test");
        assertEquals("twoGbMaxExtentSparse", d.createType());
        assertEquals(0x2d7ad210L, d.cid());
        assertEquals(Descriptor.NO_PARENT, d.parentCid());
        assertEquals(3, d.extents().size());
        assertEquals(new Descriptor.ExtentLine("RW", 4192256, "SPARSE", "My Disk-s001.vmdk", 0), d.extents().get(0));
        assertEquals(new Descriptor.ExtentLine("RDONLY", 2048, "FLAT", "base-flat.vmdk", 64), d.extents().get(1));
        assertTrue(d.extents().get(2).isZero());
        assertNull(d.extents().get(2).fileName());
        assertEquals("lsilogic", d.ddb().get("ddb.adapterType"));
        assertEquals(4192256 + 2048 + 1000, d.totalSectors());
    }

    @Test
    void generatedDescriptorHasTheFieldsVmwareReads() throws ImageFormatException {
        VmdkCreateSettings s = VmdkCreateSettings.from(CreateOptions.parse(
                "subformat=streamOptimized,adapter_type=lsilogic,hwversion=7"));
        Descriptor d = s.descriptor(20971520, List.of(new Descriptor.ExtentLine("RW", 20971520, "SPARSE", "a.vmdk", 0)));
        String text = d.toText();
        assertTrue(text.startsWith("# Disk DescriptorFile\nversion=1\n"), text);
        assertTrue(text.contains("createType=\"streamOptimized\""), text);
        assertTrue(text.contains("parentCID=ffffffff\n"), text);
        assertTrue(text.matches("(?s).*\nCID=[0-9a-f]{8}\n.*"), text);
        assertTrue(text.contains("RW 20971520 SPARSE \"a.vmdk\"\n"), text);
        assertTrue(text.contains("ddb.virtualHWVersion = \"7\""), text);
        assertTrue(text.contains("ddb.adapterType = \"lsilogic\""), text);
        assertTrue(text.contains("ddb.geometry.heads = \"255\""), text);
        assertTrue(text.contains("ddb.geometry.sectors = \"63\""), text);
        assertTrue(text.contains("ddb.geometry.cylinders = \"1305\""), text);
        assertTrue(text.contains("ddb.toolsVersion = \"2147483647\""), text);
        assertTrue(text.matches("(?s).*ddb.longContentID = \"[0-9a-f]{32}\".*"), text);
        assertTrue(d.ddb().get("ddb.longContentID").endsWith(String.format("%08x", d.cid())));
        Descriptor back = Descriptor.parse(text, "ours");
        assertEquals(d, back);
    }

    @Test
    void optionsAreChecked() {
        assertThrows(ImageFormatException.class, () -> VmdkCreateSettings.from(CreateOptions.parse("subformat=bogus")));
        assertThrows(ImageFormatException.class, () -> VmdkCreateSettings.from(CreateOptions.parse("adapter_type=nvme")));
        assertThrows(ImageFormatException.class, () -> VmdkCreateSettings.from(CreateOptions.parse("compat6,hwversion=7")));
        assertThrows(ImageFormatException.class, () -> VmdkCreateSettings.from(CreateOptions.parse("cluster_size=4k")));
    }

    @Test
    void defaultsMatchQemuImg() throws ImageFormatException {
        VmdkCreateSettings s = VmdkCreateSettings.from(CreateOptions.none());
        assertEquals("monolithicSparse", s.subformat());
        assertEquals("ide", s.adapterType());
        assertEquals(4, s.hwVersion());
        assertEquals(6, VmdkCreateSettings.from(CreateOptions.parse("compat6=on")).hwVersion());
    }

    @Test
    void rejectsDamage() {
        assertThrows(ImageFormatException.class, () -> Descriptor.parse("createType=\"x\"\n", "t"), "no extents");
        assertThrows(ImageFormatException.class, () -> Descriptor.parse("RW 10 SPARSE \"a\"\n", "t"), "no createType");
        assertThrows(ImageFormatException.class, () -> Descriptor.parse("createType=\"x\"\nRW -5 FLAT \"a\" 0\n", "t"));
        assertThrows(ImageFormatException.class, () -> Descriptor.parse("createType=\"x\"\nRW 99999999999999999999 FLAT \"a\"\n", "t"));
        assertThrows(ImageFormatException.class, () -> Descriptor.parse("createType=\"x\"\nRW 5 FLAT a\n", "t"), "unquoted");
        assertThrows(ImageFormatException.class, () -> Descriptor.parse("createType=\"x\"\nRW 5 VMFSSPARSE \"a\"\n", "t"));
        assertThrows(ImageFormatException.class, () -> Descriptor.parse("createType=\"x\"\nRW 5 FLAT \"a\"\ngarbage\n", "t"));
        StringBuilder many = new StringBuilder("createType=\"x\"\n");
        for (int i = 0; i < 5000; i++) {
            many.append("RW 1 ZERO\n");
        }
        assertThrows(ImageFormatException.class, () -> Descriptor.parse(many.toString(), "t"), "too many extents");
    }
}
