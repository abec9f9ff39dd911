/** The PC machine, its devices, the KVM and emulator CPU engines, boot-and-verify. */
module io.p2vkit.hv {
    requires transitive io.p2vkit.image;   // MachineConfig and the disk devices take VirtualDisk
    requires java.management;               // -Dp2v.emu.stats: a vCPU thread's CPU time
    requires jdk.unsupported;               // sun.misc.Unsafe: the TLB fast paths (emu.HostMemory)
    exports io.p2vkit.hv.bus;
    exports io.p2vkit.hv.memory;
    exports io.p2vkit.hv.cpu;
    exports io.p2vkit.hv.device;
    exports io.p2vkit.hv.device.vga;
    exports io.p2vkit.hv.machine;
    exports io.p2vkit.hv.kvm;
    exports io.p2vkit.hv.verify;
}
