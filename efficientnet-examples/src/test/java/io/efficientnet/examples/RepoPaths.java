package io.efficientnet.examples;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths in the repository, found from the module folder (surefire's {@code basedir}) or the working directory. */
final class RepoPaths {

    private RepoPaths() {
    }

    /** The repository root: the nearest folder at or above the module holding pom.xml and the bundled dataset. */
    static Path root() {
        String basedir = System.getProperty("basedir");
        Path start = (basedir != null ? Path.of(basedir) : Path.of("")).toAbsolutePath().normalize();
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("efficientnet-examples"))
                    && Files.isDirectory(p.resolve("datasets"))) {
                return p;
            }
        }
        throw new IllegalStateException("no repository root (pom.xml, efficientnet-examples/, datasets/) at or above "
                + start);
    }

    /** This module's folder. */
    static Path module() {
        return root().resolve("efficientnet-examples");
    }

    /** The bundled Fashion-MNIST subset, or one of its folders. */
    static String data(String... sub) {
        Path p = root().resolve("datasets").resolve("fashion-mnist-mini");
        for (String s : sub) {
            p = p.resolve(s);
        }
        return p.toString();
    }
}
