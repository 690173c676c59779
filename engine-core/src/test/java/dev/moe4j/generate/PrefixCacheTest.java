package dev.moe4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.cache.BlockPool;
import dev.moe4j.cache.KvCache;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTokenizer;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.kernels.RoundedForm;
import dev.moe4j.model.Model;
import dev.moe4j.testutil.Fixtures;
import dev.moe4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The prefix cache changes no bits: every request's logits rows with it equal, float for float, those without it
 * (on the batch-invariant default path, and in the rounded-activation mode where its rules keep small passes out of
 * the cache); and the pool's bookkeeping stays exact through many random requests with cancellations and
 * preemption.
 */
class PrefixCacheTest {
    private static final int BLOCK = 16;
    private static final SamplingParams SAMPLED = new SamplingParams(0.8, 0, 0.95, 0.02, 0, 0, 1);

    record Loaded(Model model, Tokenizer tokenizer, int vocab, boolean rounded) implements AutoCloseable {
        static Loaded of(String file, boolean rounded) throws Exception {
            Path path = Fixtures.model(file);
            Model model = Model.loadGguf(path, Kernels.get(), rounded);
            try (GgufFile gguf = GgufFile.open(path)) {
                Tokenizer tokenizer = GgufTokenizer.fromMetadata(gguf);
                return new Loaded(model, tokenizer, Math.min(tokenizer.vocabSize(), model.config().vocabSize()),
                        rounded);
            }
        }

        /** The engine's smallest prompt chunk for this mode. */
        int minChunk() {
            return rounded ? RoundedForm.MAX_TOKENS + 1 : 1;
        }

        KvCache cache(int blocks, int maxPositions, int sequences, boolean prefix, boolean rounded) {
            KvCache.PrefixCaching caching = prefix
                    ? new KvCache.PrefixCaching(7, rounded ? RoundedForm.MAX_TOKENS + 1 : 1) : null;
            return new KvCache(model.stateLayout(), BLOCK, blocks, maxPositions, sequences, caching);
        }

        Generation submit(Scheduler s, int[] prompt, int maxTokens, long seed) {
            return submit(s, prompt, maxTokens, seed, new ChatListener() {});
        }

        Generation submit(Scheduler s, int[] prompt, int maxTokens, long seed, ChatListener l) {
            return s.submit(listener -> new Generation.Plan(prompt, new Sampler(SAMPLED, vocab, seed),
                    new OutputParser(new OutputParser.Tags(-1, -1, -1, -1), tokenizer.newDecoder(true), listener,
                            List.of(), false), Set.of(), maxTokens, -1, new int[0]), l);
        }

        @Override
        public void close() throws Exception {
            model.close();
        }
    }

    private static int[] randomTokens(Random random, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = random.nextInt(vocab);
        }
        return t;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Runs the requests one after another; returns each request's logits rows, by arrival. */
    private static Map<Long, List<float[]>> runInTurn(Loaded m, KvCache cache, List<int[]> prompts, long[] hits,
                                                      int[][] fedTokens) throws Exception {
        Map<Long, List<float[]>> rows = new ConcurrentHashMap<>();
        int minChunk = cache.prefixCaching() != null ? cache.prefixCaching().minBatchTokens() : m.minChunk();
        try (Scheduler s = new Scheduler(m.model(), cache, 4, new Scheduler.Budget(24, 8, minChunk))) {
            s.observeLogits((arrival, logits, offset, vocab) -> rows.computeIfAbsent(arrival,
                    a -> new CopyOnWriteArrayList<>()).add(Arrays.copyOfRange(logits, offset, offset + vocab)));
            for (int i = 0; i < prompts.size(); i++) {
                int[] prompt = prompts.get(i);
                if (prompt == null) {
                    // the previous request's prompt and generated tokens, and a few more: a second turn
                    int[] fed = fedTokens[i - 1];
                    prompt = concat(fed, new int[] {1, 2, 3, 4, 5, 6});
                    prompts.set(i, prompt);
                }
                long before = s.cachedTokens();
                Generation g = m.submit(s, prompt, 20, 100 + i);
                g.await();
                hits[i] = s.cachedTokens() - before;
                fedTokens[i] = Arrays.copyOf(g.tokens(), g.tokenCount()); // the last sample is never fed
            }
            cache.pool().checkConsistency();
            assertEquals(cache.pool().capacity(), cache.pool().freeBlocks(), "every block back or idle");
        }
        return rows;
    }

    @ParameterizedTest
    @CsvSource({"qwen3-moe-tiny.q8_0.gguf, false", "qwen3-dense-tiny.f32.gguf, false",
            "qwen3-dense-tiny.q4_0.gguf, true", "qwen3-dense-tiny.q4_k.gguf, true"})
    void logitsAreTheBitsOfTheCacheOff(String file, boolean rounded) throws Exception {
        try (Loaded m = Loaded.of(file, rounded)) {
            Random random = new Random(11);
            int[] system = randomTokens(random, 40, m.vocab());
            List<int[]> prompts = new ArrayList<>();
            prompts.add(concat(system, randomTokens(random, 7, m.vocab())));   // 0: 47 tokens
            int[] second = concat(system, randomTokens(random, 12, m.vocab()));
            prompts.add(second);                                               // 1: the system prompt's 2 blocks
            prompts.add(second.clone());                                       // 2: the same prompt again
            int[] whole = concat(system, randomTokens(random, 8, m.vocab()));
            prompts.add(whole);                                                // 3: exactly 3 blocks
            prompts.add(whole.clone());                                        // 4: all of it cached
            prompts.add(null);                                                 // 5: 4's tokens and more
            prompts.add(concat(system, randomTokens(random, 90, m.vocab())));  // 6: long, read in chunks
            prompts.add(randomTokens(random, 3, m.vocab()));                   // 7: shorter than a block

            List<int[]> off = new ArrayList<>(prompts);
            long[] offHits = new long[prompts.size()];
            int[][] offFed = new int[prompts.size()][];
            Map<Long, List<float[]>> without = runInTurn(m, m.cache(200, 512, 4, false, rounded), off, offHits, offFed);
            long[] hits = new long[prompts.size()];
            int[][] fed = new int[prompts.size()][];
            KvCache cache = m.cache(200, 512, 4, true, rounded);
            Map<Long, List<float[]>> with = runInTurn(m, cache, prompts, hits, fed);

            assertEquals(without.size(), with.size());
            for (long r = 0; r < prompts.size(); r++) {
                List<float[]> a = without.get(r);
                List<float[]> b = with.get(r);
                assertEquals(a.size(), b.size(), "request " + r + ": logits rows");
                for (int row = 0; row < a.size(); row++) {
                    assertArrayEquals(a.get(row), b.get(row), "request " + r + ", row " + row + ": same bits");
                }
                assertArrayEquals(offFed[(int) r], fed[(int) r], "request " + r + ": same tokens");
            }
            assertEquals(0, offHits[1] + offHits[2] + offHits[4]);
            if (!rounded) {
                assertEquals(32, hits[1], "the system prompt's two full blocks");
                assertEquals(48, hits[2], "all of the repeated prompt's full blocks, the last token recomputed");
                assertEquals(32, hits[4], "a prompt of whole blocks recomputes its last block");
                assertEquals(64, hits[5], "a second turn takes the first turn's blocks with generated tokens");
                assertEquals(32, hits[6]);
                assertEquals(0, hits[7]);
            } else {
                // at least five tokens recomputed, and no block written by a pass of up to four tokens cached
                assertEquals(32, hits[1]);
                assertEquals(32, hits[2]);
                assertEquals(32, hits[4]);
                assertEquals(48, hits[5], "the first turn's prompt blocks only, not those of its decode steps");
            }
            assertTrue(cache.pool().cachedBlocks() > 0);
        }
    }

    @ParameterizedTest
    @CsvSource({"qwen3-moe-tiny.q8_0.gguf", "qwen3-dense-tiny.f32.gguf"})
    void concurrentRequestsGetTheBitsTheyGetAlone(String file) throws Exception {
        try (Loaded m = Loaded.of(file, false)) {
            Random random = new Random(5);
            int[] system = randomTokens(random, 50, m.vocab());
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                prompts.add(concat(system, randomTokens(random, 1 + random.nextInt(30), m.vocab())));
            }
            Map<Long, List<float[]>> alone = runInTurn(m, m.cache(200, 512, 4, false, false), new ArrayList<>(prompts),
                    new long[6], new int[6][]);
            Map<Long, List<float[]>> rows = new ConcurrentHashMap<>();
            KvCache cache = m.cache(200, 512, 4, true, false);
            try (Scheduler s = new Scheduler(m.model(), cache, 4, new Scheduler.Budget(24, 8))) {
                s.observeLogits((arrival, logits, offset, vocab) -> rows.computeIfAbsent(arrival,
                        a -> new CopyOnWriteArrayList<>()).add(Arrays.copyOfRange(logits, offset, offset + vocab)));
                // the first alone, so that the others find its blocks; then the rest at once
                m.submit(s, prompts.getFirst(), 20, 100).await();
                List<Generation> gs = new ArrayList<>();
                for (int i = 1; i < prompts.size(); i++) {
                    gs.add(m.submit(s, prompts.get(i), 20, 100 + i));
                }
                for (Generation g : gs) {
                    g.await();
                }
                assertTrue(s.cachedTokens() >= 5 * 48, "the later requests start on the system prompt's blocks");
            }
            for (long r = 0; r < prompts.size(); r++) {
                assertEquals(alone.get(r).size(), rows.get(r).size());
                for (int row = 0; row < rows.get(r).size(); row++) {
                    assertArrayEquals(alone.get(r).get(row), rows.get(r).get(row), "request " + r + ", row " + row);
                }
            }
            cache.pool().checkConsistency();
        }
    }

    @ParameterizedTest
    @CsvSource({"qwen3-dense-tiny.f32.gguf"})
    void thousandRandomRequestsLeaveThePoolExact(String file) throws Exception {
        try (Loaded m = Loaded.of(file, false)) {
            Random random = new Random(2026);
            int[][] prefixes = new int[6][];
            for (int i = 0; i < prefixes.length; i++) {
                prefixes[i] = randomTokens(random, 8 + random.nextInt(60), m.vocab());
            }
            // 16 blocks of 16: four sequences of up to 150 positions cannot all fit
            KvCache cache = m.cache(16, 160, 4, true, false);
            BlockPool pool = cache.pool();
            int cancelled = 0;
            try (Scheduler s = new Scheduler(m.model(), cache, 4, new Scheduler.Budget(32, 16))) {
                List<Generation> wave = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    int[] prefix = prefixes[random.nextInt(prefixes.length)];
                    int[] prompt = concat(Arrays.copyOf(prefix, random.nextInt(prefix.length + 1)),
                            randomTokens(random, 1 + random.nextInt(24), m.vocab()));
                    Generation g;
                    if (random.nextInt(8) == 0) {
                        // cancelled from its own stream, mid-generation, after a few pieces
                        int after = 1 + random.nextInt(4);
                        AtomicReference<Generation> self = new AtomicReference<>();
                        CountDownLatch submitted = new CountDownLatch(1);
                        g = m.submit(s, prompt, 60, i, new ChatListener() {
                            int pieces;

                            @Override
                            public void onContent(String delta) {
                                if (++pieces == after) {
                                    try {
                                        submitted.await();
                                    } catch (InterruptedException e) {
                                        Thread.currentThread().interrupt();
                                    }
                                    self.get().cancel();
                                }
                            }
                        });
                        self.set(g);
                        submitted.countDown();
                        cancelled++;
                    } else {
                        g = m.submit(s, prompt, 1 + random.nextInt(60), i);
                    }
                    wave.add(g);
                    if (random.nextInt(8) == 0) {
                        if (random.nextBoolean()) {
                            Thread.sleep(0, 200_000);
                        }
                        g.cancel();
                        cancelled++;
                    }
                    if (wave.size() == 8) {
                        for (Generation w : wave) {
                            w.await();
                        }
                        wave.clear();
                        pool.checkConsistency();
                    }
                }
                for (Generation w : wave) {
                    w.await();
                }
                while (s.running() > 0) {
                    Thread.onSpinWait();
                }
                assertTrue(s.preemptions() > 0, "the pool was small enough to preempt");
                assertTrue(s.cachedTokens() > 0, "requests started on cached blocks");
            }
            assertTrue(cancelled > 150, "cancelled: " + cancelled);
            assertTrue(pool.evictions() > 0, "idle cached blocks were evicted for room");
            pool.checkConsistency();
            assertEquals(pool.capacity(), pool.freeBlocks(), "every block free or cached and idle");
            for (int b = 0; b < pool.capacity(); b++) {
                assertEquals(0, pool.refCount(b), "block " + b);
            }
            assertTrue(pool.idleCachedBlocks() > 0);
            assertEquals(pool.idleCachedBlocks(), pool.cachedBlocks(), "every cached block idle");
        }
    }
}
