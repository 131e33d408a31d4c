package io.efficientnet.train;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files of the repository for tests, found from the module's base directory whatever the working directory is. */
public final class ProjectPaths {

    private ProjectPaths() {
    }

    /**
     * The repository root: the folder at or above the module's base directory (surefire's {@code basedir}, else the
     * working directory) that holds {@code pom.xml} and {@code bin/efficientnet}.
     */
    public static Path root() {
        String basedir = System.getProperty("basedir");
        Path start = (basedir != null ? Path.of(basedir) : Path.of("")).toAbsolutePath().normalize();
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("bin").resolve("efficientnet"))
                    && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no bin/efficientnet at or above " + start);
    }
}
