package io.p2vkit.cli.launch;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.lang.constant.ClassDesc;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Rewrites the class files of a dependency that are older than Java 6 (version 50) as version 52
 * with stack maps, for {@code bin/p2v}'s AOT cache. JDK 25's cache cannot hold a class that the
 * old type-inferencing verifier linked, so every such class is read, verified and linked again on
 * every start; picocli 4.7 is compiled for Java 5, and its ~170 classes cost about 30 ms of each
 * {@code p2v} command. The bytecode is unchanged: only the version and the StackMapTable that the
 * split verifier needs are new, and a class whose rewrite does not verify keeps its original bytes.
 *
 * <p>Usage: {@code LegacyClassUpgrade LIB_DIR OUT_DIR}: each jar of LIB_DIR holding old classes
 * gets an upgraded copy of the same name in OUT_DIR; the other jars are left alone.
 */
public final class LegacyClassUpgrade {

    /** Class file version of Java 6, the first with stack maps. */
    private static final int FIRST_SPLIT_VERIFIER_VERSION = 50;
    /** Java 8: the oldest version every tool still reads, and all the bytecode needs. */
    private static final int TARGET_VERSION = 52;

    private LegacyClassUpgrade() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: LegacyClassUpgrade LIB_DIR OUT_DIR");
            System.exit(2);
        }
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(Path.of(args[0]), "*.jar")) {
            for (Path jar : jars) {
                Path target = out.resolve(jar.getFileName());
                Path staged = out.resolve(jar.getFileName() + ".tmp");
                int upgraded = upgrade(jar, staged);
                if (upgraded > 0) {
                    Files.move(staged, target, StandardCopyOption.REPLACE_EXISTING);
                    System.err.println("upgraded " + upgraded + " classes of " + jar.getFileName());
                } else {
                    Files.deleteIfExists(staged);
                }
            }
        }
    }

    /**
     * Writes {@code jar} to {@code target} with its old classes upgraded; returns how many were,
     * 0 when none needed it (signed jars are never rewritten: their signatures would break).
     */
    static int upgrade(Path jar, Path target) throws IOException {
        try (JarFile in = new JarFile(jar.toFile())) {
            if (isSigned(in) || !hasOldClass(in)) {
                return 0;
            }
            ClassFile classFile = ClassFile.of(
                    ClassFile.ClassHierarchyResolverOption.of(resolverFor(in)),
                    ClassFile.StackMapsOption.GENERATE_STACK_MAPS);
            int upgraded = 0;
            try (OutputStream file = Files.newOutputStream(target); JarOutputStream out = new JarOutputStream(file)) {
                for (Enumeration<JarEntry> it = in.entries(); it.hasMoreElements(); ) {
                    JarEntry entry = it.nextElement();
                    byte[] bytes;
                    try (InputStream s = in.getInputStream(entry)) {
                        bytes = s.readAllBytes();
                    }
                    if (isTopLevelClass(entry)) {
                        byte[] rewritten = upgradeClass(classFile, bytes);
                        if (rewritten != bytes) {
                            bytes = rewritten;
                            upgraded++;
                        }
                    }
                    JarEntry copy = new JarEntry(entry.getName());
                    copy.setTime(entry.getTime());
                    out.putNextEntry(copy);
                    out.write(bytes);
                    out.closeEntry();
                }
            }
            return upgraded;
        }
    }

    /** The class rewritten at version 52 with stack maps, or {@code bytes} itself if it stays. */
    static byte[] upgradeClass(ClassFile classFile, byte[] bytes) {
        ClassModel model = classFile.parse(bytes);
        if (model.majorVersion() >= FIRST_SPLIT_VERIFIER_VERSION) {
            return bytes;
        }
        try {
            // Rebuilding every method body (instead of copying it) is what makes the library
            // compute the stack maps.
            byte[] rewritten = classFile.transformClass(model,
                    ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
                            .andThen(ClassTransform.endHandler(b -> b.withVersion(TARGET_VERSION, 0))));
            return classFile.verify(rewritten).isEmpty() ? rewritten : bytes;
        } catch (IllegalArgumentException | IllegalStateException e) {
            // jsr/ret, or a type the hierarchy cannot resolve: the class stays as it was.
            return bytes;
        }
    }

    private static boolean isTopLevelClass(JarEntry entry) {
        // META-INF/versions/N/... hold multi-release classes, already of a recent version.
        return entry.getName().endsWith(".class") && !entry.getName().startsWith("META-INF/");
    }

    private static boolean hasOldClass(JarFile in) throws IOException {
        for (Enumeration<JarEntry> it = in.entries(); it.hasMoreElements(); ) {
            JarEntry entry = it.nextElement();
            if (isTopLevelClass(entry)) {
                try (InputStream s = in.getInputStream(entry)) {
                    byte[] head = s.readNBytes(8);
                    // The major version is the big-endian u2 at offset 6 (JVMS §4.1).
                    return head.length == 8 && ((head[6] & 0xff) << 8 | (head[7] & 0xff)) < FIRST_SPLIT_VERIFIER_VERSION;
                }
            }
        }
        return false;
    }

    private static boolean isSigned(JarFile in) {
        return in.stream().anyMatch(e -> {
            String n = e.getName();
            return n.startsWith("META-INF/") && (n.endsWith(".SF") || n.endsWith(".RSA") || n.endsWith(".DSA")
                    || n.endsWith(".EC"));
        });
    }

    /** Stack maps need the supertypes of the jar's own classes, and the JDK's. */
    private static ClassHierarchyResolver resolverFor(JarFile in) {
        return ClassHierarchyResolver.ofResourceParsing((ClassDesc desc) -> {
            String descriptor = desc.descriptorString();
            JarEntry e = in.getJarEntry(descriptor.substring(1, descriptor.length() - 1) + ".class");
            try {
                return e == null ? null : in.getInputStream(e);
            } catch (IOException x) {
                throw new UncheckedIOException(x);
            }
        }).orElse(ClassHierarchyResolver.defaultResolver());
    }
}
