package dev.moe4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.testutil.Fixtures;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every fixture model against llama.cpp's reference: logits at every position (the whole token list in one batch)
 * within 1e-4, and the 32-token greedy continuation of the prompt, one token at a time over the KV cache.
 */
class FixtureLogitsTest {
    static final double TOLERANCE = 1e-4;

    static List<Fixtures.Ref> fixtures() {
        return Fixtures.refs();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void logitsMatchReferenceAtEveryPosition(Fixtures.Ref ref) throws Exception {
        try (Model model = Model.loadGguf(ref.gguf())) {
            assertEquals(ref.vocab(), model.config().vocabSize());
            int[] tokens = ref.tokens();
            KvCache cache = model.newKvCache(Math.max(256, tokens.length), KvCache.DEFAULT_BLOCK_SIZE, 1);
            try (Sequence seq = cache.newSequence()) {
                float[] logits = model.forward(Batch.of(seq, tokens, true), new Scratch(model.config()));
                double diff = Fixtures.maxAbsDiff(logits, ref.expectedLogits());
                System.out.printf("fixture %-26s max|Δ| = %.3g over %d positions%n", ref.stem(), diff, tokens.length);
                assertTrue(diff <= TOLERANCE, ref.stem() + ": max |Δ| " + diff + " > " + TOLERANCE);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void greedyContinuationMatchesReference(Fixtures.Ref ref) throws Exception {
        try (Model model = Model.loadGguf(ref.gguf())) {
            int[] expected = ref.expectedGreedy();
            int[] prompt = ref.promptTokens();
            KvCache cache = model.newKvCache(prompt.length + expected.length, 4, 1);
            Scratch scratch = new Scratch(model.config());
            int[] generated = new int[expected.length];
            try (Sequence seq = cache.newSequence()) {
                float[] logits = model.forward(Batch.of(seq, prompt, false), scratch);
                for (int i = 0; i < expected.length; i++) {
                    generated[i] = argmax(logits);
                    if (i + 1 < expected.length) {
                        logits = model.forward(Batch.of(seq, new int[] {generated[i]}, false), scratch);
                    }
                }
            }
            assertArrayEquals(expected, generated, ref.stem());
        }
    }

    static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }
}
