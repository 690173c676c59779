package dev.moe4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Checks on files a command will write, made before the long work that precedes the writing. */
final class Outputs {
    private Outputs() {}

    /** The file's directory must exist and the file must not be a directory. */
    static void checkWritable(String option, Path file) {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new UsageException(option + " " + file + ": directory " + dir + " does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new UsageException(option + " " + file + " is a directory");
        }
    }

    /** An input file that must exist. */
    static void checkReadable(String option, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UsageException(option + " " + file + " does not exist");
        }
    }
}
