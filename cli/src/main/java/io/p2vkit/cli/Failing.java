package io.p2vkit.cli;

/** A command that says which exit code its errors get and whether to print stack traces. */
public interface Failing {

    /** The exit code for an error (qemu-img's: compare uses 2, check uses 1, others 1). */
    int errorExitCode();

    boolean debug();
}
