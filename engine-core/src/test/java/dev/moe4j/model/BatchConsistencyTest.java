package dev.moe4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.ContextFullException;
import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.testutil.Fixtures;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The forward pass does not care how work is batched: a prompt in one pass equals one token at a time, across KV
 * block boundaries; sequences batched together equal each alone.
 */
class BatchConsistencyTest {
    static final double TOLERANCE = 1e-4;

    @ParameterizedTest(name = "{0}, block size {1}")
    @CsvSource({"qwen3-dense-tiny.f32, 4", "qwen3-dense-tiny.f32, 16", "qwen3-moe-tiny.f32, 4",
            "qwen3-moe-tiny.f32, 16", "qwen3-dense-yarn.f32, 4", "qwen3-dense-half.bf16, 16",
            "qwen3-next-tiny.f32, 16", "qwen35-tiny.f32, 4", "qwen35-moe-tiny.f32, 16"})
    void prefillEqualsStepwise(String stem, int blockSize) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(stem);
        int[] tokens = ref.tokens();
        try (Model model = Model.loadGguf(ref.gguf())) {
            KvCache cache = model.newKvCache(tokens.length, blockSize, 2);
            Scratch scratch = new Scratch(model.config());
            float[] batched;
            try (Sequence seq = cache.newSequence()) {
                batched = model.forward(Batch.of(seq, tokens, true), scratch);
                assertEquals(tokens.length, seq.length());
                assertEquals((tokens.length + blockSize - 1) / blockSize, seq.blockCount());
            }
            int vocab = model.config().vocabSize();
            float[] stepwise = new float[batched.length];
            try (Sequence seq = cache.newSequence()) {
                for (int i = 0; i < tokens.length; i++) {
                    float[] row = model.forward(Batch.of(seq, new int[] {tokens[i]}, true), scratch);
                    System.arraycopy(row, 0, stepwise, i * vocab, vocab);
                }
            }
            double diff = Fixtures.maxAbsDiff(batched, stepwise);
            assertTrue(diff <= TOLERANCE, stem + ": batched vs stepwise max |Δ| " + diff);
            assertEquals(cache.pool().capacity(), cache.pool().freeBlocks(), "closed sequences return their blocks");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qwen3-dense-tiny.f32", "qwen3-moe-tiny.f32", "qwen3-next-tiny.f32", "qwen35-tiny.f32"})
    void sequencesBatchedTogetherEqualEachAlone(String stem) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(stem);
        int[] a = Arrays.copyOfRange(ref.tokens(), 0, 20);
        int[] b = ref.promptTokens();
        try (Model model = Model.loadGguf(ref.gguf())) {
            KvCache cache = model.newKvCache(64, 4, 4);
            Scratch scratch = new Scratch(model.config());
            float[] aloneA;
            float[] aloneB;
            try (Sequence seq = cache.newSequence()) {
                aloneA = model.forward(Batch.of(seq, a, true), scratch);
            }
            try (Sequence seq = cache.newSequence()) {
                aloneB = model.forward(Batch.of(seq, b, true), scratch);
            }
            int vocab = model.config().vocabSize();
            try (Sequence seqA = cache.newSequence(); Sequence seqB = cache.newSequence()) {
                // interleave: prefix of A, all of B and the rest of A mixed, then A's tail in a second step
                Batch.Builder first = Batch.builder();
                int splitA = 12;
                for (int i = 0; i < Math.max(splitA, b.length); i++) {
                    if (i < splitA) {
                        first.add(a[i], i, seqA, true);
                    }
                    if (i < b.length) {
                        first.add(b[i], i, seqB, true);
                    }
                }
                float[] mixed = model.forward(first.build(), scratch);
                float[] tailA = model.forward(Batch.of(seqA, Arrays.copyOfRange(a, splitA, a.length), true), scratch);
                float[] gotA = new float[a.length * vocab];
                float[] gotB = new float[b.length * vocab];
                int row = 0;
                for (int i = 0; i < Math.max(splitA, b.length); i++) {
                    if (i < splitA) {
                        System.arraycopy(mixed, row++ * vocab, gotA, i * vocab, vocab);
                    }
                    if (i < b.length) {
                        System.arraycopy(mixed, row++ * vocab, gotB, i * vocab, vocab);
                    }
                }
                System.arraycopy(tailA, 0, gotA, splitA * vocab, tailA.length);
                assertTrue(Fixtures.maxAbsDiff(aloneA, gotA) <= TOLERANCE, "sequence A");
                assertTrue(Fixtures.maxAbsDiff(aloneB, gotB) <= TOLERANCE, "sequence B");
            }
        }
    }

    /**
     * Hybrid models keep a recurrent state that a prompt's chunked delta rule (64 tokens a chunk) and single tokens
     * advance differently: a prompt fed in random pieces, with boundaries inside and across the 64-token chunks, must
     * give the logits of the prompt in one batch.
     */
    @ParameterizedTest(name = "{0}, seed {1}")
    @CsvSource({"qwen3-next-tiny.f32, 1", "qwen3-next-tiny.f32, 2", "qwen35-tiny.f32, 3", "qwen35-moe-tiny.q8_0, 4"})
    void promptInRandomPiecesEqualsOneBatch(String stem, long seed) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(stem);
        int[] tokens = ref.tokens();
        try (Model model = Model.loadGguf(ref.gguf())) {
            KvCache cache = model.newKvCache(tokens.length, 16, 1);
            Scratch scratch = new Scratch(model.config());
            float[] whole;
            try (Sequence seq = cache.newSequence()) {
                whole = model.forward(Batch.of(seq, tokens, true), scratch);
            }
            java.util.Random random = new java.util.Random(seed);
            float[] pieces = new float[whole.length];
            int vocab = model.config().vocabSize();
            List<Integer> cuts = new ArrayList<>();
            try (Sequence seq = cache.newSequence()) {
                for (int at = 0; at < tokens.length; ) {
                    int n = Math.min(tokens.length - at, 1 + random.nextInt(70));
                    float[] part = model.forward(Batch.of(seq, Arrays.copyOfRange(tokens, at, at + n), true), scratch);
                    System.arraycopy(part, 0, pieces, at * vocab, part.length);
                    at += n;
                    cuts.add(at);
                }
            }
            double diff = Fixtures.maxAbsDiff(whole, pieces);
            assertTrue(diff <= TOLERANCE, stem + " cut at " + cuts + ": max |Δ| " + diff);
            assertEquals(cache.pool().capacity(), cache.pool().freeBlocks());
            assertEquals(1, cache.freeRecurrentSlots(), "the closed sequence gave its recurrent slot back");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qwen3-dense-tiny.f32"})
    void badBatchesAreRejected(String stem) throws Exception {
        try (Model model = Model.loadGguf(Fixtures.ref(stem).gguf())) {
            KvCache cache = model.newKvCache(8, 4, 1);
            Scratch scratch = new Scratch(model.config());
            try (Sequence seq = cache.newSequence()) {
                IllegalArgumentException gap = assertThrows(IllegalArgumentException.class,
                        () -> model.forward(Batch.builder().add(1, 3, seq, true).build(), scratch));
                assertTrue(gap.getMessage().contains("position 3 does not continue sequence"), gap.getMessage());
                IllegalArgumentException badId = assertThrows(IllegalArgumentException.class,
                        () -> model.forward(Batch.builder().add(5000, 0, seq, true).build(), scratch));
                assertTrue(badId.getMessage().contains("id 5000 is outside the vocabulary [0, 965)"), badId.getMessage());
                model.forward(Batch.of(seq, new int[] {1, 2, 3, 4, 5, 6, 7, 8}, false), scratch);
                ContextFullException full = assertThrows(ContextFullException.class,
                        () -> model.forward(Batch.of(seq, new int[] {9}, false), scratch));
                assertTrue(full.getMessage().contains("past the context length 8"), full.getMessage());
                assertEquals(8, seq.length(), "a rejected batch leaves the sequence as it was");
                assertArrayEquals(new int[] {0, 1}, seq.blockTable());
            }
            // pool exhaustion: two blocks of 4 for a cache sized for one sequence of 8
            try (Sequence s1 = cache.newSequence(); Sequence s2 = cache.newSequence()) {
                model.forward(Batch.of(s1, new int[] {1, 2, 3, 4, 5, 6, 7, 8}, false), scratch);
                ContextFullException poolFull = assertThrows(ContextFullException.class,
                        () -> model.forward(Batch.of(s2, new int[] {1}, false), scratch));
                assertTrue(poolFull.getMessage().contains("KV cache is full"), poolFull.getMessage());
            }
        }
    }
}
