package dev.moe4j.bench;

import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatListener;
import dev.moe4j.api.CompletionRequest;
import dev.moe4j.api.Engine;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Many users at once through the engine's scheduler, the way a server sees them. Two measurements:
 * <ol>
 *   <li>throughput: N requests of a {@code promptTokens} prompt each arrive together and generate
 *   {@code genTokens}; the aggregate decode rate is the tokens sampled while all N decode (from the moment the last
 *   one has its first token to the moment the first one ends) over that time; time to first token is the median
 *   over the N;</li>
 *   <li>latency: N streams decode, then a prompt of {@code longPromptTokens} arrives; inter-token latency is every
 *   gap between two streamed pieces of the N streams from its arrival until its first token, p50 and p99.</li>
 * </ol>
 */
public final class ParallelBench {

    public record Result(int parallel, int promptTokens, int genTokens, double tokensPerSecond, double ttftMs,
                         double itlP50Ms, double itlP99Ms, int longPromptTokens, double longPromptTtftMs,
                         int itlSamples) {}

    private static final SamplingParams SAMPLING = new SamplingParams(1.0, 20, 1, 0, 0, 0, 1);

    private ParallelBench() {}

    /** A prompt of exactly {@code tokens} tokens (random vocabulary pieces, re-encoded until the count fits). */
    public static String prompt(Tokenizer tokenizer, int tokens, long seed) {
        Random r = new Random(seed);
        int vocab = tokenizer.vocabSize();
        StringBuilder text = new StringBuilder();
        int have = 0;
        while (have < tokens) {
            int[] piece = new int[Math.max(1, (tokens - have) / 2)];
            for (int i = 0; i < piece.length; i++) {
                piece[i] = r.nextInt(Math.min(vocab, 150_000));
            }
            text.append(tokenizer.decode(piece, true).replace("<|", "< |"));
            have = tokenizer.encode(text.toString(), true).length;
        }
        int[] ids = tokenizer.encode(text.toString(), true);
        return tokenizer.decode(Arrays.copyOf(ids, tokens), true);
    }

    /** Streamed pieces of one request with their times. */
    private static final class Timeline implements ChatListener {
        final long[] times = new long[1 << 16];
        volatile int count;
        final CountDownLatch first = new CountDownLatch(1);

        @Override
        public void onContent(String delta) {
            int n = count;
            if (n < times.length) {
                times[n] = System.nanoTime();
                count = n + 1;
            }
            first.countDown();
        }

        @Override
        public void onReasoning(String delta) {
            onContent(delta);
        }
    }

    public static Result run(Engine engine, int n, int promptTokens, int genTokens, int longPromptTokens,
                             Consumer<String> progress) throws InterruptedException {
        Tokenizer tok = engine.tokenizer();
        // throughput
        progress.accept("parallel " + n + ": " + n + " requests of " + promptTokens + " prompt tokens, " + genTokens
                + " generated each ...");
        List<ChatHandle> handles = new ArrayList<>();
        List<Timeline> lines = new ArrayList<>();
        long submitted = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Timeline t = new Timeline();
            lines.add(t);
            handles.add(engine.completeStream(new CompletionRequest(prompt(tok, promptTokens, 100 + i), SAMPLING,
                    genTokens, List.of(), 7L + i), t));
        }
        for (Timeline t : lines) {
            t.first.await();
        }
        long allDecoding = System.nanoTime();
        long sampledAtStart = engine.tokensGenerated();
        double[] ttft = new double[n];
        for (int i = 0; i < n; i++) {
            ttft[i] = (lines.get(i).times[0] - submitted) / 1e6;
        }
        long sampledAtEnd = -1;
        long firstEnd = 0;
        while (sampledAtEnd < 0) {
            for (ChatHandle h : handles) {
                if (h.isDone()) {
                    firstEnd = System.nanoTime();
                    sampledAtEnd = engine.tokensGenerated();
                    break;
                }
            }
            TimeUnit.MICROSECONDS.sleep(200);
        }
        for (ChatHandle h : handles) {
            h.await();
        }
        double tps = (sampledAtEnd - sampledAtStart) / ((firstEnd - allDecoding) / 1e9);

        // latency while a long prompt arrives
        progress.accept("parallel " + n + ": " + n + " streams while a prompt of " + longPromptTokens
                + " tokens arrives ...");
        handles.clear();
        lines.clear();
        for (int i = 0; i < n; i++) {
            Timeline t = new Timeline();
            lines.add(t);
            handles.add(engine.completeStream(new CompletionRequest(prompt(tok, 16, 200 + i), SAMPLING,
                    Math.max(1, engine.contextLength() - longPromptTokens - 64), List.of(), 9L + i), t));
        }
        for (Timeline t : lines) {
            while (t.count < 8) {
                TimeUnit.MILLISECONDS.sleep(1);
            }
        }
        Timeline longLine = new Timeline();
        long arrived = System.nanoTime();
        ChatHandle longRequest = engine.completeStream(new CompletionRequest(prompt(tok, longPromptTokens, 300),
                SAMPLING, 1, List.of(), 11L), longLine);
        longRequest.await();
        long answered = System.nanoTime();
        for (ChatHandle h : handles) {
            h.cancel();
        }
        List<Double> gaps = new ArrayList<>();
        for (Timeline t : lines) {
            int c = t.count;
            for (int i = 1; i < c; i++) {
                // a gap counts if it ends after the long prompt arrived and starts before its answer
                if (t.times[i] > arrived && t.times[i - 1] < answered) {
                    gaps.add((t.times[i] - t.times[i - 1]) / 1e6);
                }
            }
        }
        for (ChatHandle h : handles) {
            h.await();
        }
        double[] g = gaps.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new Result(n, promptTokens, genTokens, tps, EndToEndBench.median(ttft), percentile(g, 0.50),
                percentile(g, 0.99), longPromptTokens, (answered - arrived) / 1e6, g.length);
    }

    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
