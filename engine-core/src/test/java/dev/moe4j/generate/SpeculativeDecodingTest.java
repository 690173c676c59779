package dev.moe4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTokenizer;
import dev.moe4j.model.Batch;
import dev.moe4j.model.Model;
import dev.moe4j.model.Scratch;
import dev.moe4j.testutil.Fixtures;
import dev.moe4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Speculative decoding changes nothing but speed: a verification pass gives each position the bits of a one-token
 * decode, greedy output equals plain greedy output token for token, sampled output keeps the sampler's
 * distribution, and the KV pool's bookkeeping is exact afterwards.
 */
class SpeculativeDecodingTest {
    private static final int BLOCK = 16;

    @Test
    void promptLookupProposesWhatFollowedTheLatestLongestMatch() {
        PromptLookup lookup = new PromptLookup(4, 3);
        int[] draft = new int[4];
        // ... 7 8 9 [1 2] ... 5 6 [1 2]: the 3-gram "9 1 2" never recurs, "1 2" last did before "5 6"
        int[] tokens = {1, 2, 3, 4, 7, 8, 9, 1, 2, 5, 6, 1, 2};
        assertEquals(4, lookup.draft(tokens, tokens.length, 8, draft));
        assertArrayEquals(new int[] {5, 6, 1, 2}, draft);
        // the limit and the end of the tokens cut the draft
        assertEquals(2, lookup.draft(tokens, tokens.length, 2, draft));
        int[] tail = {4, 5, 6, 4};
        assertEquals(3, lookup.draft(tail, tail.length, 8, draft));
        assertArrayEquals(new int[] {5, 6, 4}, Arrays.copyOf(draft, 3));
        assertEquals(0, lookup.draft(new int[] {1, 2, 3}, 3, 8, draft), "no suffix recurs");
        assertThrows(IllegalArgumentException.class, () -> new PromptLookup(0, 3));
    }

    /** A pass over the pending token and k drafted ones gives each position the bits one-token decoding gives. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qwen3-moe-tiny.q8_0", "qwen3-moe-tiny.f32", "qwen3-moe-tiny.q4_0", "qwen3-dense-tiny.f32",
            "qwen3-dense-tiny.q4_k", "qwen3-dense-tiny.q6_k", "qwen3-dense-tiny.q5_0", "qwen3-dense-half.bf16"})
    void verificationPassEqualsOneTokenDecode(String stem) throws Exception {
        int[] tokens = Fixtures.ref(stem).tokens();
        int prompt = tokens.length - 7;
        try (Model model = Model.loadGguf(Fixtures.ref(stem).gguf())) {
            KvCache cache = model.newKvCache(tokens.length, 4, 2);
            Scratch scratch = new Scratch(model.config());
            int vocab = model.config().vocabSize();
            float[] stepwise = new float[7 * vocab];
            float[] verified;
            try (Sequence a = cache.newSequence(); Sequence b = cache.newSequence()) {
                model.forward(Batch.of(a, Arrays.copyOf(tokens, prompt), false), scratch);
                for (int i = 0; i < 7; i++) {
                    float[] row = model.forward(Batch.of(a, new int[] {tokens[prompt + i]}, true), scratch);
                    System.arraycopy(row, 0, stepwise, i * vocab, vocab);
                }
                model.forward(Batch.of(b, Arrays.copyOf(tokens, prompt), false), scratch);
                verified = model.forward(Batch.of(b, Arrays.copyOfRange(tokens, prompt, tokens.length), true),
                        scratch);
            }
            assertArrayEquals(stepwise, verified, stem + ": verification rows differ from one-token decode");
        }
    }

    record Loaded(Model model, Tokenizer tokenizer, int vocab) implements AutoCloseable {
        static Loaded of(String file) throws Exception {
            Model model = Model.loadGguf(Fixtures.model(file));
            try (GgufFile gguf = GgufFile.open(Fixtures.model(file))) {
                Tokenizer tokenizer = GgufTokenizer.fromMetadata(gguf);
                return new Loaded(model, tokenizer, Math.min(tokenizer.vocabSize(), model.config().vocabSize()));
            }
        }

        KvCache cache(int blocks, int sequences) {
            return new KvCache(model.stateLayout(), BLOCK, blocks, 512, sequences, new KvCache.PrefixCaching(7, 1));
        }

        Generation submit(Scheduler s, int[] prompt, SamplingParams sampling, int maxTokens, long seed) {
            return s.submit(listener -> new Generation.Plan(prompt, new Sampler(sampling, vocab, seed),
                    new OutputParser(new OutputParser.Tags(-1, -1, -1, -1), tokenizer.newDecoder(true), listener,
                            List.of(), false), Set.of(), maxTokens, -1, new int[0]), new ChatListener() {});
        }

        @Override
        public void close() throws Exception {
            model.close();
        }
    }

    /** Every token a finished generation produced (the last one is counted, not fed) and its response. */
    record Output(int[] fed, ChatResponse response) {}

    private static List<Output> run(Loaded m, KvCache cache, Scheduler s, List<int[]> prompts,
                                    SamplingParams sampling, int maxTokens) {
        List<Generation> gs = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            gs.add(m.submit(s, prompts.get(i), sampling, maxTokens, 100 + i));
        }
        List<Output> out = new ArrayList<>();
        for (Generation g : gs) {
            ChatResponse r = g.await();
            out.add(new Output(Arrays.copyOf(g.tokens(), g.tokenCount()), r));
        }
        return out;
    }

    /** Prompts whose suffixes recur, so that drafts are proposed from the start; a looping model accepts many. */
    private static List<int[]> repetitivePrompts(int vocab, int count) {
        Random random = new Random(3);
        List<int[]> prompts = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            int[] motif = new int[5 + p];
            for (int i = 0; i < motif.length; i++) {
                motif[i] = random.nextInt(vocab);
            }
            int[] prompt = new int[3 * motif.length + 2];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = motif[i % motif.length];
            }
            prompts.add(prompt);
        }
        return prompts;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qwen3-moe-tiny.q8_0.gguf", "qwen3-moe-tiny.f32.gguf", "qwen3-dense-tiny.f32.gguf",
            "qwen3-dense-tiny.q4_k_m.gguf", "qwen3-dense-half.bf16.gguf"})
    void greedyEqualsPlainGreedy(String file) throws Exception {
        try (Loaded m = Loaded.of(file)) {
            List<int[]> prompts = repetitivePrompts(m.vocab(), 6);
            KvCache plainCache = m.cache(256, 4);
            List<Output> plain;
            try (Scheduler s = new Scheduler(m.model(), plainCache, 4, new Scheduler.Budget(64, 32))) {
                plain = run(m, plainCache, s, prompts, SamplingParams.GREEDY, 32);
            }
            // a pool of 10 blocks for up to 4 sequences of up to 51 positions: drafts meet a dry pool and preemption
            for (int blocks : new int[] {256, 10}) {
                KvCache cache = m.cache(blocks, 4);
                try (Scheduler s = new Scheduler(m.model(), cache, 4, new Scheduler.Budget(64, 32),
                        new PromptLookup(6, 3), false)) {
                    List<Output> spec = run(m, cache, s, prompts, SamplingParams.GREEDY, 32);
                    for (int i = 0; i < prompts.size(); i++) {
                        assertArrayEquals(plain.get(i).fed(), spec.get(i).fed(), file + " request " + i);
                        assertEquals(plain.get(i).response(), spec.get(i).response(), file + " request " + i);
                    }
                    assertTrue(s.acceptedDraftTokens() > 0, "drafts were accepted: " + s.acceptedDraftTokens()
                            + " of " + s.draftedTokens());
                    assertTrue(s.draftedTokens() > s.acceptedDraftTokens(), "drafts were rejected too");
                    assertTrue(blocks > 10 || s.preemptions() > 0, "the small pool preempted");
                    assertEquals(prompts.size() * 32L, s.sampledTokens(), "every output token counted once");
                }
                cache.pool().checkConsistency();
                assertEquals(cache.pool().capacity(), cache.pool().freeBlocks(), "every block back in the pool");
            }
        }
    }

    /** Drafts take only what the step's budget leaves: every running request is fed in every step, to its end. */
    @Test
    void draftsNeverCrowdOutAnotherRequestsToken() throws Exception {
        try (Loaded m = Loaded.of("qwen3-moe-tiny.q8_0.gguf")) {
            int budget = 8;
            List<int[]> prompts = repetitivePrompts(m.vocab(), 4);
            KvCache cache = m.cache(256, 4);
            List<long[]> steps = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<int[]> counts = new java.util.concurrent.CopyOnWriteArrayList<>();
            try (Scheduler s = new Scheduler(m.model(), cache, 4, new Scheduler.Budget(64, budget),
                    new PromptLookup(6, 3), false)) {
                s.observeSteps((arrivals, c) -> {
                    steps.add(arrivals.clone());
                    counts.add(c.clone());
                });
                run(m, cache, s, prompts, SamplingParams.GREEDY, 30);
                assertTrue(s.draftedTokens() > 0);
            }
            Map<Long, int[]> span = new HashMap<>(); // first and last step each request is fed in
            for (int step = 0; step < steps.size(); step++) {
                assertTrue(Arrays.stream(counts.get(step)).sum() <= Math.max(64, budget), "step " + step);
                for (long arrival : steps.get(step)) {
                    int at = step;
                    span.computeIfAbsent(arrival, k -> new int[] {at, at})[1] = at;
                }
            }
            for (Map.Entry<Long, int[]> e : span.entrySet()) {
                for (int step = e.getValue()[0]; step <= e.getValue()[1]; step++) {
                    long arrival = e.getKey();
                    assertTrue(Arrays.stream(steps.get(step)).anyMatch(a -> a == arrival),
                            "request " + arrival + " skipped in step " + step);
                }
            }
        }
    }

    @Test
    void modelsWithRecurrentLayersRefuseDrafts() throws Exception {
        try (Loaded m = Loaded.of("qwen3-next-tiny.q8_0.gguf")) {
            KvCache cache = new KvCache(m.model().stateLayout(), BLOCK, 16, 128, 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Scheduler(m.model(),
                    cache, 2, new Scheduler.Budget(64, 32), new PromptLookup(4, 3), true));
            assertTrue(e.getMessage().contains("recurrent"), e.getMessage());
        }
    }

    private static final SamplingParams[] SAMPLINGS = {
        new SamplingParams(1.0, 0, 1, 0, 0, 0, 1),
        new SamplingParams(0.7, 3, 1, 0, 0, 0, 1),
        new SamplingParams(1.3, 0, 0.8, 0, 0.5, 0.2, 1.1),
        new SamplingParams(0.9, 0, 1, 0.2, 0, 0, 1),
    };

    /** verify(draft) draws from the distribution sample() draws from, for likely, unlikely and excluded drafts. */
    @Test
    void verificationKeepsTheSamplersDistribution() {
        int vocab = 7;
        float[] logits = {2.0f, 1.5f, 1.4f, 0.3f, -1f, Float.NEGATIVE_INFINITY, 0.9f};
        int n = 20_000;
        for (SamplingParams params : SAMPLINGS) {
            for (int draft : new int[] {0, 2, 4, 5}) {
                long[] plain = new long[vocab];
                long[] verified = new long[vocab];
                for (int seed = 0; seed < n; seed++) {
                    Sampler a = new Sampler(params, vocab, seed);
                    Sampler b = new Sampler(params, vocab, 1_000_000 + seed);
                    a.accept(1);
                    b.accept(1); // the penalties apply alike
                    plain[a.sample(logits, 0)]++;
                    verified[b.verify(logits, 0, draft)]++;
                }
                double p = ChiSquare.twoSampleP(plain, verified);
                assertTrue(p > 0.001, params + ", draft " + draft + ": p = " + p + ", plain "
                        + Arrays.toString(plain) + ", verified " + Arrays.toString(verified));
            }
        }
        // greedy: the most likely token, whatever the draft
        Sampler greedy = new Sampler(SamplingParams.GREEDY, vocab, 1);
        assertEquals(0, greedy.verify(logits, 0, 3));
    }

    /**
     * Through the whole loop: over 2,000 seeds, the token at each of the first positions drafts can reach has the
     * same distribution with speculation as without (two-sample chi-square, p > 0.001 per position).
     */
    @Test
    void sampledOutputKeepsItsDistribution() throws Exception {
        try (Loaded m = Loaded.of("qwen3-dense-tiny.f32.gguf")) {
            SamplingParams sampling = new SamplingParams(0.8, 3, 1, 0, 0, 0, 1);
            int seeds = 2000;
            int length = 4;
            int[] prompt = repetitivePrompts(m.vocab(), 1).getFirst();
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < seeds; i++) {
                prompts.add(prompt);
            }
            KvCache plainCache = m.cache(512, 16);
            List<Output> plain;
            try (Scheduler s = new Scheduler(m.model(), plainCache, 16, new Scheduler.Budget(256, 128))) {
                plain = run(m, plainCache, s, prompts, sampling, length);
            }
            KvCache cache = m.cache(512, 16);
            List<Output> spec;
            try (Scheduler s = new Scheduler(m.model(), cache, 16, new Scheduler.Budget(256, 128),
                    new PromptLookup(2, 3), true)) { // the positions compared are within two of the first
                spec = run(m, cache, s, prompts, sampling, length);
                assertTrue(s.acceptedDraftTokens() > seeds / 10, "drafts accepted: " + s.acceptedDraftTokens() + " of "
                        + s.draftedTokens());
                assertTrue(s.draftedTokens() - s.acceptedDraftTokens() > seeds / 4, "and rejected");
            }
            cache.pool().checkConsistency();
            assertEquals(cache.pool().capacity(), cache.pool().freeBlocks());
            // a seed gives the same sample again, whatever the batch it shares steps with
            KvCache again = m.cache(512, 3);
            try (Scheduler s = new Scheduler(m.model(), again, 3, new Scheduler.Budget(256, 128),
                    new PromptLookup(2, 3), true)) {
                List<Output> rerun = run(m, again, s, prompts.subList(0, 40), sampling, length);
                for (int i = 0; i < rerun.size(); i++) {
                    assertArrayEquals(spec.get(i).fed(), rerun.get(i).fed(), "seed " + (100 + i));
                }
            }
            for (int pos = 1; pos < length - 1; pos++) {
                Map<Integer, long[]> counts = new TreeMap<>();
                for (int i = 0; i < seeds; i++) {
                    counts.computeIfAbsent(plain.get(i).fed()[prompt.length + pos], k -> new long[2])[0]++;
                    counts.computeIfAbsent(spec.get(i).fed()[prompt.length + pos], k -> new long[2])[1]++;
                }
                long[] a = counts.values().stream().mapToLong(c -> c[0]).toArray();
                long[] b = counts.values().stream().mapToLong(c -> c[1]).toArray();
                double p = ChiSquare.twoSampleP(a, b);
                assertTrue(p > 0.001, "generated token " + pos + ": p = " + p);
            }
        }
    }

    /** Two-sample chi-square on counts, rare categories pooled; p from the Wilson–Hilferty approximation. */
    static final class ChiSquare {
        static double twoSampleP(long[] a, long[] b) {
            long na = Arrays.stream(a).sum();
            long nb = Arrays.stream(b).sum();
            Map<Integer, long[]> pooled = new HashMap<>();
            long[] rare = new long[2];
            int cells = 0;
            double chi = 0;
            List<long[]> kept = new ArrayList<>();
            for (int i = 0; i < a.length; i++) {
                if (a[i] + b[i] < 10) {
                    rare[0] += a[i];
                    rare[1] += b[i];
                } else {
                    kept.add(new long[] {a[i], b[i]});
                }
            }
            if (rare[0] + rare[1] > 0) {
                kept.add(rare);
            }
            for (long[] c : kept) {
                double total = c[0] + c[1];
                double ea = total * na / (na + nb);
                double eb = total * nb / (na + nb);
                chi += (c[0] - ea) * (c[0] - ea) / ea + (c[1] - eb) * (c[1] - eb) / eb;
                cells++;
            }
            int df = cells - 1;
            if (df < 1) {
                return 1;
            }
            double z = (Math.cbrt(chi / df) - (1 - 2.0 / (9 * df))) / Math.sqrt(2.0 / (9 * df));
            return 0.5 * erfc(z / Math.sqrt(2));
        }

        /** Complementary error function (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7). */
        private static double erfc(double x) {
            double z = Math.abs(x);
            double t = 1 / (1 + 0.5 * z);
            double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                    + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                    + t * (-0.82215223 + t * 0.17087277)))))))));
            return x >= 0 ? r : 2 - r;
        }
    }
}
