/** Virtual disk images: the VirtualDisk API, format drivers, conversion, check, compare, map. */
module io.p2vkit.image {
    exports io.p2vkit.image;
    exports io.p2vkit.image.io;
    exports io.p2vkit.image.raw;
    exports io.p2vkit.image.vhd;
    exports io.p2vkit.image.convert;
    exports io.p2vkit.image.compare;
    exports io.p2vkit.image.vmdk;
    exports io.p2vkit.image.qcow2;
    exports io.p2vkit.image.json;
}
