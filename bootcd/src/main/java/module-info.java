/** Builds the bootable capture ISO (a later issue fills this in). */
module io.p2vkit.bootcd {
    requires io.p2vkit.agent;
    requires org.apache.commons.compress;
}
