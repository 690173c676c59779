package dev.moe4j.cli;

import dev.moe4j.api.Engine;
import dev.moe4j.bench.EndToEndBench;
import dev.moe4j.bench.MemoryBandwidth;
import dev.moe4j.bench.ParallelBench;
import dev.moe4j.bench.ResidentMemory;
import dev.moe4j.bench.SyntheticModel;
import dev.moe4j.format.gguf.QuantType;
import dev.moe4j.kernels.DType;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.model.Model;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code moe4j synth} and {@code moe4j bench}. */
final class BenchCommands {
    private BenchCommands() {}

    static int synth(Args args, PrintStream err) throws IOException {
        SyntheticModel.Shape shape;
        try {
            shape = SyntheticModel.shape(args.require("shape"));
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException(e.getMessage());
        }
        String typeName = args.get("type", "q8_0").toUpperCase(Locale.ROOT);
        DType type = switch (typeName) {
            case "F32" -> DType.F32;
            case "BF16" -> DType.BF16;
            case "F16" -> DType.F16;
            case "Q8_0" -> DType.Q8_0;
            case "Q4_0" -> DType.Q4_0;
            default -> null;
        };
        QuantType target = null;
        if (type == null) {
            try {
                target = QuantType.parse(typeName);
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException("--type must be f32, bf16, f16 or " + QuantType.names() + ", was '"
                        + args.get("type") + "'");
            }
        }
        int layers = args.getInt("layers", shape.layers());
        String vocab = args.get("vocab");
        Path vocabPath = vocab == null ? null : Path.of(vocab);
        Path out = Path.of(args.require("out"));
        long start = System.nanoTime();
        if (target != null) {
            SyntheticModel.write(shape, layers, target, vocabPath, out, args.getInt("seed", 42), err::println);
        } else {
            SyntheticModel.write(shape, layers, type, vocabPath, out, args.getInt("seed", 42), err::println);
        }
        err.printf("wrote %s: %s, %d of %d layers, %s, %.2f GB, random weights, in %.1f s%n", out, shape.name(), layers,
                shape.layers(), target != null ? target : type, Files.size(out) / 1e9,
                (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /** An engine for {@code bench --parallel N}: N streams plus the long prompt run at once. */
    static Engine parallelEngine(Args args, int n, PrintStream err) throws IOException {
        String threads = args.get("threads", args.get("t"));
        if (threads != null) {
            System.setProperty("moe4j.threads", threads);
        }
        Path path = ModelPaths.resolve(args.get("model"), err);
        Engine.Options options = Engine.Options.defaults().withRoundedActivations(Main.roundedActivations(args))
                .withMaxSequences(n + 1)
                .withContextLength(Math.max(args.getInt("long", 2000), args.getInt("p", 512)) + 1024);
        if (args.get("step-tokens") != null) {
            options = options.withDecodeStepTokens(args.getInt("step-tokens", 0));
        }
        if (args.get("batch-tokens") != null) {
            options = options.withMaxBatchTokens(args.getInt("batch-tokens", 0));
        }
        long start = System.nanoTime();
        Engine engine = Engine.load(path, options);
        err.printf("loaded %s in %d ms; %d / %d tokens a step%n", path.getFileName(),
                (System.nanoTime() - start) / 1_000_000, options.maxBatchTokens(), options.decodeStepTokens());
        return engine;
    }

    static int parallel(Args args, Engine engine, int n, PrintStream out, PrintStream err) throws InterruptedException {
        int promptTokens = args.getInt("p", 512);
        int genTokens = args.getInt("n", 128);
        int longPrompt = args.getInt("long", 2000);
        if (promptTokens < 1 || genTokens < 2 || longPrompt < 1) {
            throw new Args.UsageException("bench --parallel needs -p >= 1, -n >= 2 and --long >= 1");
        }
        // a first round compiles the kernels (JIT) for every batch shape the timed round meets
        err.println("warming up (JIT) ...");
        ParallelBench.run(engine, n, Math.min(promptTokens, 64), Math.min(genTokens, 16), Math.min(longPrompt, 256),
                s -> {});
        ParallelBench.Result r = ParallelBench.run(engine, n, promptTokens, genTokens, longPrompt, err::println);
        String name = engine.config().architecture() + " " + engine.config().numLayers() + "L";
        if (args.flag("json")) {
            out.printf(Locale.ROOT, "{\"test\": \"parallel%d\", \"tokens_per_s\": %.3f, \"ttft_ms\": %.1f, "
                            + "\"itl_p50_ms\": %.1f, \"itl_p99_ms\": %.1f, \"long_prompt_tokens\": %d, "
                            + "\"long_prompt_ttft_ms\": %.1f, \"itl_samples\": %d, \"prompt_tokens\": %d, "
                            + "\"gen_tokens\": %d, \"model\": \"%s\"}%n", n, r.tokensPerSecond(), r.ttftMs(),
                    r.itlP50Ms(), r.itlP99Ms(), r.longPromptTokens(), r.longPromptTtftMs(), r.itlSamples(),
                    r.promptTokens(), r.genTokens(), name);
        } else {
            out.printf("| model | test | aggregate decode t/s | TTFT ms | ITL p50 ms | ITL p99 ms | long prompt | its TTFT ms |%n");
            out.printf("|---|---|---:|---:|---:|---:|---:|---:|%n");
            out.printf(Locale.ROOT, "| %s | parallel%d (pp%d+tg%d) | %.2f | %.0f | %.1f | %.1f | %d | %.0f |%n", name,
                    n, r.promptTokens(), r.genTokens(), r.tokensPerSecond(), r.ttftMs(), r.itlP50Ms(), r.itlP99Ms(),
                    r.longPromptTokens(), r.longPromptTtftMs());
        }
        return 0;
    }

    static int bench(Args args, Model model, PrintStream out, PrintStream err) {
        int promptTokens = args.getInt("p", 512);
        int genTokens = args.getInt("n", 128);
        int reps = args.getInt("r", 5);
        boolean json = args.flag("json");
        Kernels kernels = model.kernels();
        int threads = kernels.parallel().threads();
        err.println("after load: " + ResidentMemory.describe());
        err.println("measuring machine read bandwidth ...");
        double machine = MemoryBandwidth.readGbPerSecond(kernels.parallel(), 2L << 30, 5);
        List<EndToEndBench.Result> results = new ArrayList<>();
        EndToEndBench.warmUp(model, 48, err::println);
        if (promptTokens > 0) {
            results.add(EndToEndBench.prefill(model, promptTokens, reps, err::println));
        }
        if (genTokens > 0) {
            results.add(EndToEndBench.decode(model, genTokens, reps, err::println));
        }
        String name = model.config().architecture() + " " + model.config().numLayers() + "L";
        // decode's Q4_0 activations: rounded with --rounded-activations, else F32
        boolean rounded = Main.roundedActivations(args);
        String activations = rounded ? "rounded" : "f32";
        String kernelName = kernels.provider().name() + (rounded ? ", rounded activations" : "");
        double sizeGb = EndToEndBench.totalWeightBytes(model) / 1e9;
        if (!json) {
            out.printf("| model | weights GB | kernels | threads | test | t/s | weight GB/s | machine read GB/s | of roofline |%n");
            out.printf("|---|---:|---|---:|---|---:|---:|---:|---:|%n");
        }
        for (EndToEndBench.Result r : results) {
            if (json) {
                out.printf(Locale.ROOT, "{\"test\": \"%s\", \"tokens_per_s\": %.3f, \"weight_gb_per_s\": %s, "
                                + "\"machine_read_gb_per_s\": %.3f, \"threads\": %d, \"kernels\": \"%s\", "
                                + "\"model\": \"%s\", \"activations\": \"%s\"}%n",
                        r.test(), r.tokensPerSecond(), Double.isNaN(r.weightGbPerSecond()) ? "null"
                                : String.format(Locale.ROOT, "%.3f", r.weightGbPerSecond()),
                        machine, threads, kernels.provider().name(), name, activations);
            } else {
                out.printf(Locale.ROOT, "| %s | %.2f | %s | %d | %s | %.2f | %s | %.1f | %s |%n", name, sizeGb,
                        kernelName, threads, r.test(), r.tokensPerSecond(),
                        Double.isNaN(r.weightGbPerSecond()) ? "" : String.format(Locale.ROOT, "%.1f", r.weightGbPerSecond()),
                        machine, Double.isNaN(r.weightGbPerSecond()) ? ""
                                : String.format(Locale.ROOT, "%.0f%%", 100 * r.weightGbPerSecond() / machine));
            }
        }
        return 0;
    }
}
