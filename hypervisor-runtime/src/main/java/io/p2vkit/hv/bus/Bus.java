package io.p2vkit.hv.bus;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Routes port I/O and MMIO to devices. Every range is registered once, in the machine builder;
 * overlapping and empty ranges are refused. An access nobody claims reads all ones and is counted.
 */
public final class Bus {

    private static final int PORTS = 0x10000;

    /** Port → device slot; -1 for unclaimed. Ports are few enough for a direct table. */
    private final int[] portSlot = new int[PORTS];
    private final List<Claim<PortIoDevice>> portClaims = new ArrayList<>();
    private final List<Claim<MmioDevice>> mmioClaims = new ArrayList<>();
    private volatile Claim<MmioDevice>[] mmioSorted = newArray(0);
    private long unclaimedAccesses;

    /** A device's range on the bus. */
    public record Claim<D>(String name, long base, long length, D device) {
        boolean contains(long addr) {
            return addr >= base && addr - base < length;
        }
    }

    public Bus() {
        Arrays.fill(portSlot, -1);
    }

    /** Claims ports {@code [base, base + length)} for {@code device}, named for errors and logs. */
    public synchronized void registerPio(String name, int base, int length, PortIoDevice device) {
        if (length <= 0 || base < 0 || base + length > PORTS) {
            throw new IllegalArgumentException(name + ": bad port range " + base + "+" + length);
        }
        for (int p = base; p < base + length; p++) {
            if (portSlot[p] >= 0) {
                throw new IllegalArgumentException(name + ": port 0x" + Integer.toHexString(p)
                        + " already belongs to " + portClaims.get(portSlot[p]).name());
            }
        }
        portClaims.add(new Claim<>(name, base, length, device));
        Arrays.fill(portSlot, base, base + length, portClaims.size() - 1);
    }

    /** Removes a port claim (a PCI I/O BAR being moved or disabled by the guest). */
    public synchronized void unregisterPio(PortIoDevice device, int base) {
        for (int slot = 0; slot < portClaims.size(); slot++) {
            Claim<PortIoDevice> c = portClaims.get(slot);
            if (c != null && c.device() == device && c.base() == base) {
                Arrays.fill(portSlot, base, base + (int) c.length(), -1);
                portClaims.set(slot, null);   // keep the other slots' indices stable
            }
        }
    }

    /** The claims, ports first, for the machine's device listing. */
    public synchronized List<Claim<?>> claims() {
        List<Claim<?>> all = new ArrayList<>();
        portClaims.stream().filter(c -> c != null).forEach(all::add);
        all.addAll(mmioClaims);
        return all;
    }

    /** Claims guest-physical {@code [base, base + length)} for {@code device}. */
    public synchronized void registerMmio(String name, long base, long length, MmioDevice device) {
        if (length <= 0 || base < 0 || base + length < base) {
            throw new IllegalArgumentException(name + ": bad MMIO range " + base + "+" + length);
        }
        for (Claim<MmioDevice> c : mmioClaims) {
            if (base < c.base() + c.length() && c.base() < base + length) {
                throw new IllegalArgumentException(name + ": MMIO range overlaps " + c.name());
            }
        }
        mmioClaims.add(new Claim<>(name, base, length, device));
        Claim<MmioDevice>[] sorted = mmioClaims.toArray(newArray(0));
        Arrays.sort(sorted, (a, b) -> Long.compare(a.base(), b.base()));
        mmioSorted = sorted;
    }

    /** Removes an MMIO claim (a PCI BAR being moved by the guest). */
    public synchronized void unregisterMmio(MmioDevice device, long base) {
        mmioClaims.removeIf(c -> c.device() == device && c.base() == base);
        mmioSorted = mmioClaims.stream().sorted((a, b) -> Long.compare(a.base(), b.base()))
                .toArray(Bus::newArray);
    }

    public int pioRead(int port, int size) {
        int slot = portSlot[port & 0xFFFF];
        if (slot < 0) {
            unclaimedAccesses++;
            return size == 1 ? 0xFF : size == 2 ? 0xFFFF : -1;
        }
        Claim<PortIoDevice> c = portClaims.get(slot);
        return c.device().read((port & 0xFFFF) - (int) c.base(), size);
    }

    /** {@link PortIoDevice#readBlock} at {@code port}: how many elements were read (0 when unclaimed). */
    public int pioReadBlock(int port, int size, MemorySegment dst, long dstOffset, int count) {
        int slot = portSlot[port & 0xFFFF];
        if (slot < 0) {
            return 0;
        }
        Claim<PortIoDevice> c = portClaims.get(slot);
        return c.device().readBlock((port & 0xFFFF) - (int) c.base(), size, dst, dstOffset, count);
    }

    public void pioWrite(int port, int size, int value) {
        int slot = portSlot[port & 0xFFFF];
        if (slot < 0) {
            unclaimedAccesses++;
            return;
        }
        Claim<PortIoDevice> c = portClaims.get(slot);
        c.device().write((port & 0xFFFF) - (int) c.base(), size, value);
    }

    /** The MMIO claim covering {@code addr}, or null. */
    public Claim<MmioDevice> mmioAt(long addr) {
        Claim<MmioDevice>[] sorted = mmioSorted;
        int lo = 0;
        int hi = sorted.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Claim<MmioDevice> c = sorted[mid];
            if (addr < c.base()) {
                hi = mid - 1;
            } else if (addr - c.base() >= c.length()) {
                lo = mid + 1;
            } else {
                return c;
            }
        }
        return null;
    }

    public long mmioRead(long addr, int size) {
        Claim<MmioDevice> c = mmioAt(addr);
        if (c == null) {
            unclaimedAccesses++;
            return size == 8 ? -1L : (1L << (size * 8)) - 1;
        }
        return c.device().read(addr - c.base(), size);
    }

    public void mmioWrite(long addr, int size, long value) {
        Claim<MmioDevice> c = mmioAt(addr);
        if (c == null) {
            unclaimedAccesses++;
            return;
        }
        c.device().write(addr - c.base(), size, value);
    }

    /** How many accesses hit no device (a guest probing, or a device we lack). */
    public long unclaimedAccesses() {
        return unclaimedAccesses;
    }

    @SuppressWarnings("unchecked")
    private static Claim<MmioDevice>[] newArray(int n) {
        return (Claim<MmioDevice>[]) new Claim<?>[n];
    }
}
