package dev.moe4j.cli;

import dev.moe4j.api.Engine;
import dev.moe4j.api.SpeculativeDecoding;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.model.GgufTensorSource;
import dev.moe4j.model.Model;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import picocli.CommandLine.Option;

/** The options of every command that loads a model, and the loading itself with its progress lines. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "PATH",
            description = "a GGUF file or a Hugging Face model directory; without it, the bundled demo model"
                    + " (tiny Qwen3-MoE, random weights)")
    String model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--rounded-activations",
            description = "Q4_0 and Q4_K decode round activations to 9 bits per block (llama.cpp rounds to 8): faster,"
                    + " not the bits of the default F32 path (see docs/performance.md)")
    boolean roundedActivations;

    @Option(names = "--no-prefix-cache",
            description = "keep no KV blocks between requests (by default a request whose prompt starts like an earlier"
                    + " one's reuses its cached blocks; models with linear-attention layers never do)")
    boolean noPrefixCache;

    @Option(names = "--draft", paramLabel = "KIND", defaultValue = "none",
            description = "speculative decoding: prompt-lookup (draft the tokens that followed the latest earlier"
                    + " occurrence of the last 3..1 tokens, verified in one pass; same greedy output, same sampling"
                    + " distribution) or none (default: ${DEFAULT-VALUE})")
    String draft;

    @Option(names = "--draft-tokens", paramLabel = "K", defaultValue = "6",
            description = "with --draft prompt-lookup: tokens drafted at most per step, 1..64 (default: ${DEFAULT-VALUE})")
    int draftTokens;

    @Option(names = "--no-warmup",
            description = "skip running the kernels once at load (then the first answer is several times slower)")
    boolean noWarmup;

    /**
     * Checks the values and finds the model file (announcing the demo model when none is named), before anything
     * loads.
     */
    Path resolve(PrintStream err) {
        if (threads != null && threads < 1) {
            throw new UsageException("--threads must be >= 1, was " + threads);
        }
        speculative(); // checks --draft and --draft-tokens
        Path path = ModelPaths.resolve(model, err);
        if (threads != null) {
            // the kernels read their thread count from this property when they are first created
            System.setProperty("moe4j.threads", threads.toString());
        }
        return path;
    }

    /** What --draft and --draft-tokens ask for. */
    SpeculativeDecoding speculative() {
        if (draftTokens < 1 || draftTokens > 64) {
            throw new UsageException("--draft-tokens must be in 1..64, was " + draftTokens);
        }
        return switch (draft) {
            case "none" -> SpeculativeDecoding.OFF;
            case "prompt-lookup" -> SpeculativeDecoding.promptLookup(draftTokens);
            default -> throw new UsageException("--draft must be prompt-lookup or none, was " + draft);
        };
    }

    /** The option, or else the system property {@value GgufTensorSource#ROUNDED_ACTIVATIONS_PROPERTY}. */
    boolean rounded() {
        return roundedActivations || GgufTensorSource.roundedActivationsByDefault();
    }

    /** Loads the model for the commands that run the forward pass themselves (logits, token ids, bench). */
    Model loadModel(Path path, PrintStream err) {
        if (!"none".equals(draft)) {
            throw new UsageException("--draft needs the engine's scheduler; this command runs the model directly"
                    + " (generate takes drafts with -p, not --tokens)");
        }
        Kernels kernels = Kernels.get(); // chooses (and may log about) the kernels before the progress line
        long start = System.nanoTime();
        err.print("loading " + path.getFileName() + " ... ");
        err.flush();
        boolean rounded = rounded();
        Model loaded = Model.load(path, kernels, rounded);
        err.printf("done in %d ms (%s, %d layers, %s kernels, %d threads%s)%n", (System.nanoTime() - start) / 1_000_000,
                loaded.config().architecture(), loaded.config().numLayers(), kernels.provider().name(),
                kernels.parallel().threads(), rounded ? ", Q4_0 and Q4_K decode with rounded activations" : "");
        return loaded;
    }

    /**
     * Reads the model file once (so the weights are in the page cache), with a progress bar when {@code terminal}, then
     * loads an engine.
     */
    Engine loadEngine(Path path, Engine.Options options, PrintStream err, boolean terminal) throws IOException {
        warm(path, err, terminal);
        options = options.withRoundedActivations(rounded()).withWarmup(!noWarmup).withPrefixCache(!noPrefixCache)
                .withSpeculative(speculative());
        long start = System.nanoTime();
        Engine engine = Engine.load(path, options);
        err.printf("model ready in %d ms: %s, %d layers, context %d%s%s%n", (System.nanoTime() - start) / 1_000_000,
                engine.config().architecture(), engine.config().numLayers(), engine.contextLength(),
                options.roundedActivations() ? ", Q4_0 and Q4_K decode with rounded activations" : "",
                options.speculative().enabled() ? ", prompt-lookup drafts of up to "
                        + options.speculative().draftTokens() + " tokens" : "");
        return engine;
    }

    private static void warm(Path path, PrintStream err, boolean terminal) throws IOException {
        if (Files.isDirectory(path)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20);
            long done = 0;
            int lastPercent = -1;
            while (true) {
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    break;
                }
                done += n;
                int percent = (int) (100 * done / Math.max(1, size));
                if (terminal && percent != lastPercent) {
                    lastPercent = percent;
                    int bars = percent / 4;
                    err.printf("\rloading %s [%s%s] %3d%%", path.getFileName(), "#".repeat(bars), " ".repeat(25 - bars),
                            percent);
                }
            }
            if (terminal) {
                err.println();
            }
        }
    }
}
