package io.p2vkit.cli.launch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.reflect.AccessFlag;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LegacyClassUpgradeTest {

    @TempDir
    Path dir;

    /** {@code static int sum(int n)}: a loop, so the upgraded class needs a stack map frame. */
    private static byte[] summingClass(int version) {
        return ClassFile.of(ClassFile.StackMapsOption.DROP_STACK_MAPS).build(ClassDesc.of("old.Sum"), cb -> cb
                .withVersion(version, 0)
                .withFlags(AccessFlag.PUBLIC, AccessFlag.SUPER)
                .withMethodBody("sum", MethodTypeDesc.of(ConstantDescs.CD_int, ConstantDescs.CD_int),
                        ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC, code -> {
                            Label loop = code.newLabel();
                            Label done = code.newLabel();
                            code.iconst_0().istore(1).iconst_0().istore(2)
                                    .labelBinding(loop)
                                    .iload(2).iload(0).if_icmpge(done)
                                    .iload(1).iload(2).iadd().istore(1)
                                    .iinc(2, 1).goto_(loop)
                                    .labelBinding(done)
                                    .iload(1).ireturn();
                        }));
    }

    private Path jarOf(String name, byte[] sumClass) throws Exception {
        Path jar = dir.resolve(name);
        try (OutputStream f = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(f)) {
            out.putNextEntry(new JarEntry("old/Sum.class"));
            out.write(sumClass);
            out.closeEntry();
            out.putNextEntry(new JarEntry("old/readme.txt"));
            out.write("kept as is".getBytes());
            out.closeEntry();
        }
        return jar;
    }

    private static int majorVersion(Path jar, String entry) throws Exception {
        try (JarFile in = new JarFile(jar.toFile()); InputStream s = in.getInputStream(in.getJarEntry(entry))) {
            return ClassFile.of().parse(s.readAllBytes()).majorVersion();
        }
    }

    @Test
    void aJava5ClassBecomesVersion52AndStillLoadsAndRuns() throws Exception {
        Path jar = jarOf("old.jar", summingClass(49));
        Path upgraded = dir.resolve("new.jar");

        assertEquals(1, LegacyClassUpgrade.upgrade(jar, upgraded));

        assertEquals(52, majorVersion(upgraded, "old/Sum.class"));
        try (JarFile in = new JarFile(upgraded.toFile())) {
            assertEquals("kept as is", new String(in.getInputStream(in.getJarEntry("old/readme.txt")).readAllBytes()));
        }
        // The JVM's own split verifier checks the new stack maps when the class is linked.
        try (URLClassLoader loader = new URLClassLoader(new URL[] {upgraded.toUri().toURL()}, null)) {
            Class<?> sum = Class.forName("old.Sum", true, loader);
            assertEquals(45, sum.getMethod("sum", int.class).invoke(null, 10));
        }
    }

    @Test
    void aJarWithoutOldClassesIsNotCopied() throws Exception {
        Path jar = jarOf("recent.jar", summingClass(52));
        Path target = dir.resolve("copy.jar");

        assertEquals(0, LegacyClassUpgrade.upgrade(jar, target));
        assertFalse(Files.exists(target));
    }

    /**
     * Every jar bin/p2v would upgrade (those of the runtime classpath with Java 5 classes: picocli,
     * jnr-x86asm): each rewritten class passes the verifier, and the JVM links and initialises it.
     */
    @Test
    void everyOldDependencyIsUpgradedAndItsClassesLoad() throws Exception {
        List<Path> jars = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(Path::of).filter(p -> p.toString().endsWith(".jar")).toList();
        List<String> upgradedNames = new ArrayList<>();
        for (Path jar : jars) {
            Path upgraded = dir.resolve(jar.getFileName());
            if (LegacyClassUpgrade.upgrade(jar, upgraded) == 0) {
                continue;
            }
            upgradedNames.add(jar.getFileName().toString());
            List<URL> urls = new ArrayList<>(List.of(upgraded.toUri().toURL()));
            for (Path other : jars) {
                if (!other.equals(jar)) {
                    urls.add(other.toUri().toURL());
                }
            }
            try (JarFile in = new JarFile(upgraded.toFile());
                 URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
                for (Enumeration<JarEntry> it = in.entries(); it.hasMoreElements(); ) {
                    JarEntry e = it.nextElement();
                    if (!e.getName().endsWith(".class") || e.getName().startsWith("META-INF/")) {
                        continue;
                    }
                    byte[] bytes = in.getInputStream(e).readAllBytes();
                    assertEquals(52, ClassFile.of().parse(bytes).majorVersion(), e.getName());
                    assertEquals(List.of(), ClassFile.of().verify(bytes), e.getName());
                    // The JVM's own verifier links the class as it is initialised: a wrong stack
                    // map would be a VerifyError here rather than in a user's p2v command.
                    String name = e.getName().substring(0, e.getName().length() - 6).replace('/', '.');
                    assertEquals(loader, Class.forName(name, true, loader).getClassLoader(), name);
                }
            }
        }
        assertTrue(upgradedNames.stream().anyMatch(n -> n.startsWith("picocli-")), upgradedNames.toString());
    }
}
