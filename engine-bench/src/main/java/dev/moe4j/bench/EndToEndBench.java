package dev.moe4j.bench;

import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.kernels.Matrix;
import dev.moe4j.model.Batch;
import dev.moe4j.model.Model;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.Scratch;
import dev.moe4j.model.Weights;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Prefill and decode speed the way llama-bench measures it: {@code ppN} evaluates N random tokens in one batch
 * from an empty context; {@code tgN} decodes N tokens one at a time from an empty context. Each test runs once to
 * warm up, then {@code reps} times; the median is reported.
 */
public final class EndToEndBench {

    /** One test's result; {@code weightGbPerSecond} is the weight bytes a token touches × tokens/s (decode only). */
    public record Result(String test, int tokens, double tokensPerSecond, double[] samples, double weightGbPerSecond) {}

    private EndToEndBench() {}

    /**
     * JIT warm-up before any timed run: a JVM runs a kernel interpreted (the Vector API in its slow Java fallback)
     * until C2 has compiled it, and a prefill alone calls the decode mat-vecs too rarely for that (once, for the last
     * token's logits: cold, 7.7 % of a 0.6B pp512's samples). A short prefill and {@code steps} decode steps compile
     * every kernel the timed runs use. llama-bench, with no JIT, warms up with one run of each test too.
     */
    public static void warmUp(Model model, int steps, Consumer<String> progress) {
        progress.accept("warming up (JIT) ...");
        KvCache cache = model.newKvCache(64 + steps, KvCache.DEFAULT_BLOCK_SIZE, 1);
        Scratch scratch = new Scratch(model.config());
        int[] ids = randomTokens(model, 64 + steps, 3);
        try (Sequence seq = cache.newSequence()) {
            model.forward(Batch.of(seq, Arrays.copyOf(ids, 64), false), scratch);
            for (int i = 64; i < 64 + steps; i++) {
                model.forward(Batch.of(seq, new int[] {ids[i]}, false), scratch);
            }
        }
    }

    public static Result prefill(Model model, int tokens, int reps, Consumer<String> progress) {
        KvCache cache = model.newKvCache(tokens, KvCache.DEFAULT_BLOCK_SIZE, 1);
        Scratch scratch = new Scratch(model.config());
        int[] ids = randomTokens(model, tokens, 1);
        double[] samples = new double[reps];
        for (int rep = -1; rep < reps; rep++) {
            try (Sequence seq = cache.newSequence()) {
                long start = System.nanoTime();
                model.forward(Batch.of(seq, ids, false), scratch);
                double tps = tokens / ((System.nanoTime() - start) / 1e9);
                if (rep >= 0) {
                    samples[rep] = tps;
                    progress.accept(String.format("pp%d rep %d/%d: %.2f tok/s", tokens, rep + 1, reps, tps));
                }
            }
        }
        return new Result("pp" + tokens, tokens, median(samples), samples, Double.NaN);
    }

    public static Result decode(Model model, int tokens, int reps, Consumer<String> progress) {
        KvCache cache = model.newKvCache(tokens + 1, KvCache.DEFAULT_BLOCK_SIZE, 1);
        Scratch scratch = new Scratch(model.config());
        int[] ids = randomTokens(model, tokens, 2);
        double[] samples = new double[reps];
        for (int rep = -1; rep < reps; rep++) {
            try (Sequence seq = cache.newSequence()) {
                long start = System.nanoTime();
                for (int i = 0; i < tokens; i++) {
                    model.forward(Batch.of(seq, new int[] {ids[i]}, false), scratch);
                }
                double tps = tokens / ((System.nanoTime() - start) / 1e9);
                if (rep >= 0) {
                    samples[rep] = tps;
                    progress.accept(String.format("tg%d rep %d/%d: %.2f tok/s", tokens, rep + 1, reps, tps));
                }
            }
        }
        double tps = median(samples);
        return new Result("tg" + tokens, tokens, tps, samples, decodeWeightBytes(model) * tps / 1e9);
    }

    /**
     * Weight bytes read per decoded token: every matrix of the attention and dense FFN blocks, the router, the
     * k chosen experts on average (k/E of the expert bytes) and the output head; one embedding row is negligible.
     */
    public static long decodeWeightBytes(Model model) {
        Weights.Model w = model.weights();
        long bytes = size(w.output());
        for (Weights.Layer layer : w.layers()) {
            for (Matrix m : layer.mixer().matrices()) {
                bytes += size(m);
            }
            bytes += feedForwardBytes(layer.feedForward(), true);
        }
        return bytes;
    }

    /** A feed-forward's weight bytes: all of them, or what one token reads on average (k of E experts). */
    private static long feedForwardBytes(Weights.FeedForward ffn, boolean perToken) {
        return switch (ffn) {
            case Weights.Dense d -> size(d.gate()) + size(d.up()) + size(d.down());
            case Weights.Moe m -> {
                long experts = 0;
                for (int e = 0; e < m.numExperts(); e++) {
                    experts += size(m.gate().get(e)) + size(m.up().get(e)) + size(m.down().get(e));
                }
                yield size(m.router()) + (perToken ? experts * m.numExpertsPerTok() / m.numExperts() : experts);
            }
            case Weights.SharedExpertMoe m ->
                    feedForwardBytes(m.routed(), perToken) + feedForwardBytes(m.shared(), perToken) + 4L * m.gate().length;
        };
    }

    /** All weight bytes (for the size column). */
    public static long totalWeightBytes(Model model) {
        Weights.Model w = model.weights();
        long bytes = size(w.embedding()) + (w.output() == w.embedding() ? 0 : size(w.output()));
        for (Weights.Layer layer : w.layers()) {
            for (Matrix m : layer.mixer().matrices()) {
                bytes += size(m);
            }
            bytes += feedForwardBytes(layer.feedForward(), false);
        }
        return bytes;
    }

    private static long size(Matrix m) {
        return m.data().byteSize();
    }

    private static int[] randomTokens(Model model, int n, long seed) {
        ModelConfig c = model.config();
        Random r = new Random(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(Math.min(c.vocabSize(), 150000));
        }
        return ids;
    }

    public static double median(double[] samples) {
        double[] s = samples.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
