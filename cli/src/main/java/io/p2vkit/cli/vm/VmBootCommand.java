package io.p2vkit.cli.vm;

import io.p2vkit.cli.Failing;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.machine.Machine;
import io.p2vkit.hv.verify.Screenshots;
import io.p2vkit.image.VirtualDisk;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code p2v vm boot}: run a disk interactively on the serial console. */
@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Boot DISK with its serial console on this terminal. Ctrl-A X quits (as in QEMU); "
                + "Ctrl-A S writes the --screenshot PNG of the VGA text screen; "
                + "Ctrl-A Ctrl-A sends a Ctrl-A. Exit 0 when the guest powers off or you quit, 1 "
                + "when it crashes."},
        footer = {"", "Example:", "  p2v vm boot --memory 1G disk.vmdk"})
public final class VmBootCommand implements Callable<Integer>, Failing {

    private static final int CTRL_A = 1;

    @Mixin
    VmOptions vm;

    @Option(names = "--debug", description = "Print stack traces on errors.")
    boolean debug;

    @Option(names = "--screenshot", paramLabel = "FILE.png",
            description = "Where Ctrl-A S and the guest's stop write a PNG of the VGA text screen.")
    Path screenshot;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        List<VirtualDisk> disks = vm.openDisks();
        boolean raw = RawTerminal.enter();
        try (Machine m = Machine.create(vm.config(disks).engine(vm.engine()).serialSink(b -> {
            out.write(b);
            out.flush();
        }))) {
            m.start();
            Thread keys = Thread.ofPlatform().daemon().name("p2v-keyboard").start(() -> forwardKeys(System.in, m));
            Machine.StopInfo stop;
            do {
                stop = m.awaitStop(Duration.ofMillis(200));
            } while (stop == null);
            keys.interrupt();
            String nl = raw ? "\r\n" : "\n";
            System.err.print(nl + "p2v: guest stopped: " + stop.reason() + nl);
            if (screenshot != null) {
                System.err.print("p2v: " + takeScreenshot(m) + nl);
            }
            return stop.stop() == Vcpu.Stop.TRIPLE_FAULT || stop.stop() == Vcpu.Stop.ERROR ? 1 : 0;
        } finally {
            if (raw) {
                RawTerminal.leave();
            }
            for (VirtualDisk d : disks) {
                d.close();
            }
        }
    }

    /** Writes the screen to --screenshot; says what happened. */
    private String takeScreenshot(Machine m) {
        if (screenshot == null) {
            return "no --screenshot FILE given";
        }
        if (m.vga() == null) {
            return "no screenshot: the machine has no display";
        }
        try {
            return Screenshots.write(m.vga().snapshot(), screenshot)
                    ? "screenshot written to " + screenshot
                    : "no screenshot: the display shows " + m.vga().snapshot().displayMode().describe();
        } catch (IOException e) {
            return "screenshot failed: " + e.getMessage();
        }
    }

    /** Keyboard to COM1, watching for Ctrl-A X and Ctrl-A S. */
    private void forwardKeys(InputStream in, Machine m) {
        boolean escape = false;
        try {
            for (int b; (b = in.read()) >= 0; ) {
                if (escape) {
                    escape = false;
                    if (b == 'x' || b == 'X') {
                        m.stop("quit with Ctrl-A X");
                        return;
                    }
                    if (b == 's' || b == 'S') {
                        System.err.print("\r\np2v: " + takeScreenshot(m) + "\r\n");
                        continue;
                    }
                    if (b != CTRL_A) {
                        continue;
                    }
                } else if (b == CTRL_A) {
                    escape = true;
                    continue;
                }
                m.sendToSerial(new byte[] {(byte) b});
            }
        } catch (IOException e) {
            // stdin closed: the guest keeps running until it stops by itself
        }
    }

    @Override
    public int errorExitCode() {
        return 2;
    }

    @Override
    public boolean debug() {
        return debug;
    }

    /** Puts the terminal in raw mode (keys go to the guest one by one, unechoed) with stty. */
    static final class RawTerminal {
        private RawTerminal() {
        }

        static boolean enter() {
            return System.console() != null && System.console().isTerminal() && stty("raw -echo");
        }

        static void leave() {
            stty("sane");
        }

        private static boolean stty(String mode) {
            try {
                Process p = new ProcessBuilder("sh", "-c", "stty " + mode + " < /dev/tty").inheritIO().start();
                return p.waitFor() == 0;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }
}
