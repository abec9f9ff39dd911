package io.p2vkit.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

/**
 * Turns a failure into one line on stderr and the command's documented exit code. The stack
 * trace is printed only with {@code --debug} (or P2V_DEBUG=1): a damaged image is a user-facing
 * condition, not a crash.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        return report(ex, cl.getCommand(), cl.getErr());
    }

    /**
     * Runs a command that was parsed without picocli ({@code ImageArgs}) as picocli's
     * {@code execute} would: its exit code, or a failure reported here.
     */
    static int execute(P2vCommand cmd) {
        try {
            Integer code = cmd.call();
            return code == null ? 0 : code;
        } catch (Exception ex) {
            return report(ex, cmd, new PrintWriter(System.err, true));
        }
    }

    private static int report(Exception ex, Object cmd, PrintWriter err) {
        boolean debug = System.getenv("P2V_DEBUG") != null
                || (cmd instanceof Failing f && f.debug());
        err.println("p2v: " + message(ex));
        if (debug) {
            ex.printStackTrace(err);
        }
        err.flush();
        return cmd instanceof Failing f ? f.errorExitCode() : 1;
    }

    /** The one line a user sees for {@code ex}. */
    static String message(Throwable ex) {
        return switch (ex) {
            case NoSuchFileException e -> e.getFile() + ": no such file";
            case AccessDeniedException e -> e.getFile() + ": permission denied";
            case FileAlreadyExistsException e -> e.getMessage() != null && e.getMessage().contains("exists")
                    ? e.getMessage() : e.getFile() + " exists (use --force to overwrite)";
            case IOException e when e.getMessage() != null -> e.getMessage();
            case OutOfMemoryError e -> "out of memory (a bug: sizes read from images must be bounded): " + e;
            default -> ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage());
        };
    }
}
