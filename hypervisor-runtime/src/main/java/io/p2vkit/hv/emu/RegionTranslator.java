package io.p2vkit.hv.emu;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Translates a vCPU's hot regions on a thread of their own, so that the vCPU goes on
 * interpreting instead of waiting for the class file to be built and defined (~0.4 ms a region,
 * ~1,700 regions in a Linux boot: most of a second of the vCPU's time otherwise).
 * <p>
 * The vCPU scans the region itself ({@link RegionScan} decodes through its MMU) and hands the
 * scan over; the translator thread builds and loads the class; the vCPU installs the result at
 * its next time slice ({@link #install}). Should the guest overwrite the page meanwhile, the MMU
 * has already dropped that {@link CodePage} and the result lands in a page no one looks up: the
 * region never runs. Only the vCPU's thread touches its pages, heat and statistics.
 */
final class RegionTranslator {

    /** Background translation for the vCPUs of a machine (-Dp2v.emu.backgroundTranslation=false: on the vCPU). */
    static final boolean ENABLED = !"false".equals(System.getProperty("p2v.emu.backgroundTranslation"));
    /** Translations one vCPU may have under way; past that it translates for itself, as without this. */
    static final int MAX_PENDING = 64;

    /**
     * One thread for every vCPU of the JVM: it only builds classes, the JIT compiles them. It
     * also tells the JIT's C2 threads to yield while it builds ({@link CompilerPriority}).
     */
    private static final ScheduledExecutorService THREAD = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread t = new Thread(task, "p2v-emu-translator");
        t.setDaemon(true);
        return t;
    });

    /** A translation done on the translator thread, waiting for the vCPU to install it. */
    private record Done(CodePage page, int offset, long start, RegionScan.Region region,
            RegionCompiler.Built built, Throwable failure, long nanos) {
    }

    private final ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
    /** Set by the translator thread when {@link #done} has entries: one volatile read per time slice. */
    private volatile boolean ready;
    /** Translations handed over and not installed yet (the vCPU's thread only). */
    private int pending;

    /**
     * Hands the region at linear {@code start} ({@code offset} on {@code page}) to the translator
     * thread. Returns false when it must be translated now instead: too many under way.
     * A region that does not translate at all is reported at install time, as a null block.
     */
    boolean submit(Cpu c, CodePage page, int offset, long start) {
        if (pending >= MAX_PENDING) {
            return false;
        }
        RegionScan.Region region = RegionScan.scan(c, start, RegionScan.MAX_INSNS, page);
        Object[] data = region == null ? null : RegionCompiler.classData(region, c);
        if (region != null) {
            page.translating(region.ownAddresses(), true);
        }
        boolean user = c.mmu.user;
        pending++;
        THREAD.execute(() -> {
            long t0 = RegionCompiler.threadCpuNanos();
            RegionCompiler.Built built = null;
            Throwable failure = null;
            try {
                built = region == null ? null : RegionCompiler.build(region, user, data, false);
            } catch (Throwable e) { // whatever it is, the code stays with the interpreter and the vCPU hears of it
                failure = e;
            }
            done.add(new Done(page, offset, start, region, built, failure,
                    RegionCompiler.threadCpuNanos() - t0));
            ready = true;
            if (CompilerPriority.ENABLED) {
                CompilerPriority.regionBuilt();
                THREAD.schedule(CompilerPriority::restoreIfQuiet, CompilerPriority.QUIET_MILLIS, TimeUnit.MILLISECONDS);
            }
        });
        return true;
    }

    /** Whether translations wait to be installed. */
    boolean ready() {
        return ready;
    }

    /** Installs the finished translations into their pages (the vCPU's thread). */
    void install(Cpu c) {
        ready = false;
        for (Done d; (d = done.poll()) != null; ) {
            pending--;
            c.regionCompileNanos += d.nanos;
            if (d.region != null) {
                d.page.translating(d.region.ownAddresses(), false);
            }
            CompiledBlock block;
            if (d.failure != null) {
                RegionCompiler.reportFailure(d.start, d.failure);
                block = null;
            } else if (d.region != null && d.built == null) {
                // Too long for the JIT at full size: halving rescans, which only this thread may do.
                block = RegionCompiler.compile(c, d.start, d.page, RegionScan.MAX_INSNS / 2);
            } else {
                block = d.built == null ? null : RegionCompiler.counted(c, d.built, d.region, d.page);
            }
            d.page.install(d.offset, block);
        }
    }
}
