package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The JIT's C2 threads yield while regions are built, and get their priority back once none are. */
class CompilerPriorityTest {

    @Test
    void c2ThreadsYieldWhileRegionsAreBuiltAndGetTheirPriorityBackWhenQuiet() throws Exception {
        // Only a process that may lower a nice value again (root, or a nice limit of 20) raises one.
        assumeTrue(CompilerPriority.ENABLED, "this process could not give C2 its priority back");
        assertFalse(nices("C2 Compiler").isEmpty(), "this JVM has C2 threads");
        CompilerPriority.regionBuilt();
        assertEquals(List.of(CompilerPriority.NICE), distinct(nices("C2 Compiler")));
        assertEquals(List.of(0), distinct(nices("C1 Compiler")), "C1 keeps its priority");
        CompilerPriority.restoreIfQuiet(); // too soon: regions may still be coming
        assertEquals(List.of(CompilerPriority.NICE), distinct(nices("C2 Compiler")));
        Thread.sleep(CompilerPriority.QUIET_MILLIS + 50);
        CompilerPriority.restoreIfQuiet();
        assertEquals(List.of(0), distinct(nices("C2 Compiler")));
    }

    /** The nice values of this JVM's threads whose name starts with {@code prefix}. */
    private static List<Integer> nices(String prefix) throws IOException {
        List<Integer> nices = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                if (Files.readString(task.resolve("comm")).startsWith(prefix)) {
                    String stat = Files.readString(task.resolve("stat"));
                    // Fields after the name in parentheses: state is the 3rd field, nice the 19th.
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    nices.add(Integer.parseInt(fields[19 - 3]));
                }
            }
        }
        return nices;
    }

    private static List<Integer> distinct(List<Integer> values) {
        return values.stream().distinct().toList();
    }
}
