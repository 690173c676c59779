package dev.moe4j.cli;

import dev.moe4j.api.Engine;
import dev.moe4j.api.SpeculativeDecoding;
import dev.moe4j.bench.EndToEndBench;
import dev.moe4j.bench.MemoryBandwidth;
import dev.moe4j.bench.ParallelBench;
import dev.moe4j.bench.PrefixCacheBench;
import dev.moe4j.bench.SpeculativeBench;
import dev.moe4j.bench.ResidentMemory;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.model.Model;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code moe4j bench}: one stream's prefill and decode speed, with --parallel N streams through the scheduler, with
 * --prefix-cache the first token's time with a cached system prompt against an uncached one, or with --speculative
 * a copying task's decode speed with prompt-lookup drafts against without.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Measure prefill and decode speed (one stream, or --parallel N), or the prefix cache's gain.",
        description = {"Prefill (ppN) and decode (tgN) tokens/s, median of -r runs, with the decode weight bandwidth"
                + " and this machine's measured read bandwidth.",
                "--parallel N: N requests at once through the scheduler: aggregate decode tokens/s and time to first"
                        + " token; then inter-token latency p50/p99 of N streams while a --long prompt arrives.",
                "--prefix-cache: time to first token of a --system N-token system prompt and a --user turn, cached"
                        + " against uncached, median of -r runs, and their ratio.",
                "--speculative: decode tokens/s of a prompt that asks to repeat a passage, plain against prompt-lookup"
                        + " drafts of --draft-tokens K, median of -r runs, the drafts' acceptance rate and the speedup."
                        + " Without --model, a tiny scripted model that copies the passage; with --model, any model"
                        + " (greedy)."})
final class BenchCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "-p", paramLabel = "N", defaultValue = "512",
            description = "prompt tokens (default: ${DEFAULT-VALUE}; 0: no prefill test)")
    int promptTokens;

    @Option(names = "-n", paramLabel = "N", defaultValue = "128",
            description = "generated tokens (default: ${DEFAULT-VALUE}; 0: no decode test)")
    int genTokens;

    @Option(names = "-r", paramLabel = "N", description = "runs, the median reported (default: 5)")
    Integer reps;

    @Option(names = "--json", description = "one JSON object per line instead of a table")
    boolean json;

    @Option(names = "--parallel", paramLabel = "N", description = "N streams at once through the scheduler")
    Integer parallel;

    @Option(names = "--long", paramLabel = "N",
            description = "with --parallel: the long prompt's tokens (default: 2000)")
    Integer longPrompt;

    @Option(names = "--step-tokens", paramLabel = "K",
            description = "with --parallel: tokens a step while streams decode (Engine.Options.decodeStepTokens)")
    Integer stepTokens;

    @Option(names = "--batch-tokens", paramLabel = "B",
            description = "with --parallel: tokens a step while none decodes (Engine.Options.maxBatchTokens)")
    Integer batchTokens;

    @Option(names = "--prefix-cache",
            description = "time to first token with the system prompt's KV blocks cached against without")
    boolean prefixCache;

    @Option(names = "--system", paramLabel = "N",
            description = "with --prefix-cache: the system prompt's tokens (default: 2000)")
    Integer systemTokens;

    @Option(names = "--user", paramLabel = "N",
            description = "with --prefix-cache: the user turn's tokens after it (default: 64)")
    Integer userTokens;

    @Option(names = "--speculative",
            description = "decode speed of a copying task with prompt-lookup drafts against without")
    boolean speculative;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Override
    public Integer call() throws Exception {
        if (speculative) {
            if (prefixCache || parallel != null) {
                throw new UsageException("--speculative is a case of its own; drop --prefix-cache and --parallel");
            }
            return speculative();
        }
        if (prefixCache && parallel != null) {
            throw new UsageException("--prefix-cache and --parallel are separate cases; choose one");
        }
        if (!prefixCache && (systemTokens != null || userTokens != null)) {
            throw new UsageException((systemTokens != null ? "--system" : "--user")
                    + " applies only with --prefix-cache");
        }
        return prefixCache ? prefixCache() : parallel != null ? parallel() : single();
    }

    private int prefixCache() throws Exception {
        String other = longPrompt != null ? "--long" : stepTokens != null ? "--step-tokens"
                : batchTokens != null ? "--batch-tokens" : null;
        if (other != null) {
            throw new UsageException(other + " applies only with --parallel");
        }
        int system = systemTokens != null ? systemTokens : 2000;
        int user = userTokens != null ? userTokens : 64;
        int runs = reps != null ? reps : 5;
        if (system < 1 || user < 1 || runs < 1) {
            throw new UsageException("bench --prefix-cache needs --system >= 1, --user >= 1 and -r >= 1, was "
                    + system + ", " + user + ", " + runs);
        }
        Path path = model.resolve(main.err);
        // room for three such sequences: the cached one stays while an uncached one is read beside it
        Engine.Options options = Engine.Options.defaults().withMaxSequences(3)
                .withContextLength(system + user + 64);
        PrintStream out = main.out;
        try (Engine engine = model.loadEngine(path, options, main.err, false)) {
            PrefixCacheBench.Result r = PrefixCacheBench.run(engine, system, user, runs, main.err::println);
            String name = engine.config().architecture() + " " + engine.config().numLayers() + "L";
            if (json) {
                out.printf(Locale.ROOT, "{\"test\": \"prefix%d\", \"uncached_ttft_ms\": %.1f, \"cached_ttft_ms\": %.1f, "
                                + "\"speedup\": %.2f, \"cached_tokens\": %d, \"user_tokens\": %d, \"runs\": %d, "
                                + "\"prefix_cache\": %s, \"model\": \"%s\"}%n", r.systemTokens(), r.uncachedTtftMs(),
                        r.cachedTtftMs(), r.speedup(), r.cachedTokensPerRequest(), r.userTokens(), r.runs(),
                        engine.prefixCaching(), name);
            } else {
                out.printf("| model | test | uncached TTFT ms | cached TTFT ms | ratio | tokens from the cache |%n");
                out.printf("|---|---|---:|---:|---:|---:|%n");
                out.printf(Locale.ROOT, "| %s | prefix%d + user%d | %.1f | %.1f | %.2fx | %d |%n", name,
                        r.systemTokens(), r.userTokens(), r.uncachedTtftMs(), r.cachedTtftMs(), r.speedup(),
                        r.cachedTokensPerRequest());
            }
        }
        return 0;
    }

    private int speculative() throws Exception {
        int runs = reps != null ? reps : 5;
        if (genTokens < 2 || runs < 1) {
            throw new UsageException("bench --speculative needs -n >= 2 and -r >= 1, was -n " + genTokens + " -r "
                    + runs);
        }
        model.speculative(); // checks --draft-tokens; this case runs both with and without drafts
        SpeculativeDecoding drafts = SpeculativeDecoding.promptLookup(model.draftTokens);
        Path path = model.resolve(main.err);
        Path scripted = null;
        if (model.model == null) {
            scripted = Files.createTempFile("moe4j-copy", ".gguf");
            SpeculativeBench.writeCopyModel(path, scripted);
            main.err.println("a tiny scripted model that copies the passage: " + scripted);
            path = scripted;
        }
        try {
            Engine.Options options = Engine.Options.defaults().withMaxSequences(1).withContextLength(1024 + genTokens)
                    .withRoundedActivations(model.rounded()).withPrefixCache(!model.noPrefixCache);
            SpeculativeBench.Result plain;
            SpeculativeBench.Result fast;
            String name;
            try (Engine engine = Engine.load(path, options)) {
                name = engine.config().architecture() + " " + engine.config().numLayers() + "L";
                main.err.println("plain decoding ...");
                plain = SpeculativeBench.run(engine, genTokens, runs, main.err::println);
            }
            try (Engine engine = Engine.load(path, options.withSpeculative(drafts))) {
                main.err.println("prompt-lookup drafts of up to " + drafts.draftTokens() + " tokens ...");
                fast = SpeculativeBench.run(engine, genTokens, runs, main.err::println);
            }
            if (fast.drafted() == 0) {
                main.err.println("no tokens were drafted (recurrent layers or rounded activations turn drafts off,"
                        + " or the output never repeated its context)");
            }
            double speedup = fast.decodeTokensPerSecond() / plain.decodeTokensPerSecond();
            PrintStream out = main.out;
            if (json) {
                out.printf(Locale.ROOT, "{\"test\": \"speculative\", \"plain_tokens_per_s\": %.3f, "
                                + "\"speculative_tokens_per_s\": %.3f, \"acceptance\": %.3f, \"speedup\": %.2f, "
                                + "\"draft_tokens\": %d, \"gen_tokens\": %d, \"runs\": %d, \"model\": \"%s\"}%n",
                        plain.decodeTokensPerSecond(), fast.decodeTokensPerSecond(),
                        Double.isNaN(fast.acceptance()) ? 0 : fast.acceptance(), speedup, drafts.draftTokens(),
                        fast.tokens(), runs, name);
            } else {
                out.printf("| model | test | plain decode t/s | speculative decode t/s | drafts accepted | speedup |%n");
                out.printf("|---|---|---:|---:|---:|---:|%n");
                out.printf(Locale.ROOT, "| %s | copy tg%d, K=%d | %.2f | %.2f | %.0f%% | %.2fx |%n", name,
                        fast.tokens(), drafts.draftTokens(), plain.decodeTokensPerSecond(),
                        fast.decodeTokensPerSecond(), 100 * (Double.isNaN(fast.acceptance()) ? 0 : fast.acceptance()),
                        speedup);
            }
            return 0;
        } finally {
            if (scripted != null) {
                Files.deleteIfExists(scripted);
            }
        }
    }

    private int single() throws Exception {
        if (!"none".equals(model.draft)) {
            throw new UsageException("--draft applies to bench --parallel, --prefix-cache and --speculative (the single"
                    + " stream runs the model without the scheduler)");
        }
        String parallelOnly = longPrompt != null ? "--long" : stepTokens != null ? "--step-tokens"
                : batchTokens != null ? "--batch-tokens" : null;
        if (parallelOnly != null) {
            throw new UsageException(parallelOnly + " applies only with --parallel");
        }
        int runs = reps != null ? reps : 5;
        if (promptTokens < 0 || genTokens < 0 || runs < 1) {
            throw new UsageException("bench needs -p >= 0, -n >= 0 and -r >= 1, was -p " + promptTokens + " -n "
                    + genTokens + " -r " + runs);
        }
        Path path = model.resolve(main.err);
        try (Model loaded = model.loadModel(path, main.err)) {
            return single(loaded, runs);
        }
    }

    private int parallel() throws Exception {
        int longTokens = longPrompt != null ? longPrompt : 2000;
        if (reps != null) {
            throw new UsageException("-r applies only without --parallel");
        }
        if (parallel < 1 || promptTokens < 1 || genTokens < 2 || longTokens < 1) {
            throw new UsageException("bench --parallel needs N >= 1, -p >= 1, -n >= 2 and --long >= 1, was "
                    + parallel + ", -p " + promptTokens + " -n " + genTokens + " --long " + longTokens);
        }
        if ((stepTokens != null && stepTokens < 1) || (batchTokens != null && batchTokens < 1)) {
            throw new UsageException("--step-tokens and --batch-tokens must be >= 1");
        }
        Path path = model.resolve(main.err);
        Engine.Options options = Engine.Options.defaults().withRoundedActivations(model.rounded())
                .withPrefixCache(!model.noPrefixCache)
                .withSpeculative(model.speculative())
                .withMaxSequences(parallel + 1) // the N streams and the long prompt at once
                .withContextLength(Math.max(longTokens, promptTokens) + 1024);
        if (stepTokens != null) {
            options = options.withDecodeStepTokens(stepTokens);
        }
        if (batchTokens != null) {
            options = options.withMaxBatchTokens(batchTokens);
        }
        PrintStream err = main.err;
        long start = System.nanoTime();
        try (Engine engine = Engine.load(path, options)) {
            err.printf("loaded %s in %d ms; %d / %d tokens a step%n", path.getFileName(),
                    (System.nanoTime() - start) / 1_000_000, options.maxBatchTokens(), options.decodeStepTokens());
            return parallel(engine, longTokens);
        }
    }

    private int parallel(Engine engine, int longTokens) throws InterruptedException {
        int n = parallel;
        PrintStream out = main.out;
        PrintStream err = main.err;
        // a first round compiles the kernels (JIT) for every batch shape the timed round meets
        err.println("warming up (JIT) ...");
        ParallelBench.run(engine, n, Math.min(promptTokens, 64), Math.min(genTokens, 16), Math.min(longTokens, 256),
                s -> { });
        ParallelBench.Result r = ParallelBench.run(engine, n, promptTokens, genTokens, longTokens, err::println);
        String name = engine.config().architecture() + " " + engine.config().numLayers() + "L";
        if (json) {
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

    private int single(Model loaded, int runs) {
        PrintStream out = main.out;
        PrintStream err = main.err;
        Kernels kernels = loaded.kernels();
        int threads = kernels.parallel().threads();
        err.println("after load: " + ResidentMemory.describe());
        err.println("measuring machine read bandwidth ...");
        double machine = MemoryBandwidth.readGbPerSecond(kernels.parallel(), 2L << 30, 5);
        List<EndToEndBench.Result> results = new ArrayList<>();
        EndToEndBench.warmUp(loaded, 48, err::println);
        if (promptTokens > 0) {
            results.add(EndToEndBench.prefill(loaded, promptTokens, runs, err::println));
        }
        if (genTokens > 0) {
            results.add(EndToEndBench.decode(loaded, genTokens, runs, err::println));
        }
        String name = loaded.config().architecture() + " " + loaded.config().numLayers() + "L";
        // decode's Q4_0 activations: rounded with --rounded-activations, else F32
        boolean rounded = model.rounded();
        String activations = rounded ? "rounded" : "f32";
        String kernelName = kernels.provider().name() + (rounded ? ", rounded activations" : "");
        double sizeGb = EndToEndBench.totalWeightBytes(loaded) / 1e9;
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
