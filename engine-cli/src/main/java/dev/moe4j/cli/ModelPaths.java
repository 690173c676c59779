package dev.moe4j.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the model to run: the one named, or the random-weight demo model bundled in the repository. */
final class ModelPaths {
    static final String DEMO = "models/qwen3-moe-tiny.q8_0.gguf";

    private ModelPaths() {}

    static Path resolve(String given, PrintStream err) {
        if (given != null) {
            Path p = Path.of(given);
            if (!Files.exists(p)) {
                throw new UsageException("model " + p + " does not exist");
            }
            return p;
        }
        String home = System.getProperty("moe4j.home", ".");
        Path demo = Path.of(home).resolve(DEMO);
        if (!Files.isRegularFile(demo)) {
            throw new UsageException("no --model given and the bundled demo model " + demo
                    + " is missing (run through scripts/moe4j, or pass --model)");
        }
        err.println("no --model given: using the bundled demo model " + DEMO
                + " (tiny Qwen3-MoE with RANDOM weights: its output is meaningless)");
        return demo;
    }
}
