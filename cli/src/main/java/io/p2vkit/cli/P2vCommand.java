package io.p2vkit.cli;

import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/**
 * What every image and capture command shares: the common options ({@code --output},
 * {@code --allow-external}, {@code --debug}) and exit code 1 for an error, which a command
 * overrides where qemu-img's habit differs (compare's 2).
 */
public abstract class P2vCommand implements Callable<Integer>, Failing {

    @Mixin
    protected CommonOptions common;

    /** Sets the common options of a command line parsed without picocli ({@code ImageArgs}). */
    public final void setCommonOptions(CommonOptions options) {
        common = options;
    }

    @Override
    public int errorExitCode() {
        return 1;
    }

    @Override
    public boolean debug() {
        return common.debug;
    }
}
