package dev.moe4j.bench;

import dev.moe4j.api.CompletionRequest;
import dev.moe4j.api.Engine;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Time to first token of a request that starts with an N-token system prompt, when the prompt's KV blocks are in
 * the engine's prefix cache against when they are not. Each timed request is a system prompt followed by a user
 * turn of its own and asks for one token. Uncached: a system prompt no earlier request had. Cached: the same system
 * prompt every time, read once before the timed runs. One run of each first compiles the kernels (JIT); the
 * medians of {@code runs} are reported, with the prompt tokens the cache gave per cached request.
 */
public final class PrefixCacheBench {

    /** Medians in milliseconds, and the prompt tokens a cached request took from the cache (median too). */
    public record Result(int systemTokens, int userTokens, double uncachedTtftMs, double cachedTtftMs,
                         long cachedTokensPerRequest, int runs) {
        /** How many times faster the first token comes with the system prompt cached. */
        public double speedup() {
            return uncachedTtftMs / cachedTtftMs;
        }
    }

    private static final SamplingParams SAMPLING = new SamplingParams(1.0, 20, 1, 0, 0, 0, 1);

    private PrefixCacheBench() {}

    public static Result run(Engine engine, int systemTokens, int userTokens, int runs, Consumer<String> progress) {
        if (!engine.prefixCaching()) {
            progress.accept("the engine's prefix cache is off: both cases compute the whole prompt");
        }
        Tokenizer tok = engine.tokenizer();
        String system = ParallelBench.prompt(tok, systemTokens, 1);
        progress.accept("prefix cache: " + systemTokens + "-token system prompt + " + userTokens
                + "-token user turn, first token only, " + runs + " runs each ...");
        double[] uncached = new double[runs];
        double[] cached = new double[runs];
        long[] hits = new long[runs];
        for (int run = -1; run < runs; run++) {
            String user = "\n" + ParallelBench.prompt(tok, userTokens, 1000 + run);
            String fresh = ParallelBench.prompt(tok, systemTokens, 2000 + run);
            double a = firstToken(engine, fresh + user, run);
            if (run == -1) {
                firstToken(engine, system + "\n" + ParallelBench.prompt(tok, userTokens, 999), run); // caches it
            }
            long before = engine.cachedPromptTokens();
            double b = firstToken(engine, system + user, run);
            if (run >= 0) {
                uncached[run] = a;
                cached[run] = b;
                hits[run] = engine.cachedPromptTokens() - before;
                progress.accept(String.format("run %d/%d: uncached %.1f ms, cached %.1f ms (%d tokens from the cache)",
                        run + 1, runs, a, b, hits[run]));
            }
        }
        Arrays.sort(hits);
        if (engine.prefixCaching() && hits[runs / 2] < systemTokens / 2) {
            progress.accept("the KV cache (" + engine.kvBlocks() + " blocks) could not keep the system prompt while an"
                    + " uncached request was read: give the JVM more heap (-Xmx) for a meaningful ratio");
        }
        return new Result(systemTokens, userTokens, median(uncached), median(cached), hits[runs / 2], runs);
    }

    private static double firstToken(Engine engine, String prompt, long seed) {
        long start = System.nanoTime();
        engine.complete(new CompletionRequest(prompt, SAMPLING, 1, List.of(), seed));
        return (System.nanoTime() - start) / 1e6;
    }

    private static double median(double[] samples) {
        double[] s = samples.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
