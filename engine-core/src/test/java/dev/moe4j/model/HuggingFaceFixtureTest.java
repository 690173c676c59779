package dev.moe4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.kernels.DType;
import dev.moe4j.kernels.Matrix;
import dev.moe4j.testutil.Fixtures;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each Hugging Face fixture directory against its GGUF twin (the same weights): the same config, bit-identical
 * logits at every position, within 1e-4 of the twin's reference, and the same 32-token greedy continuation.
 */
class HuggingFaceFixtureTest {

    record Twin(String hfDir, String ggufStem, DType matrixType) {
        @Override
        public String toString() {
            return hfDir;
        }
    }

    static List<Twin> twins() {
        return List.of(
                new Twin("qwen3-dense-tiny", "qwen3-dense-tiny.f32", DType.F32),
                new Twin("qwen3-moe-tiny-sharded", "qwen3-moe-tiny.f32", DType.F32),
                new Twin("qwen3-dense-half-bf16", "qwen3-dense-half.bf16", DType.BF16),
                new Twin("qwen3-dense-yarn", "qwen3-dense-yarn.f32", DType.F32));
    }

    private static float[] logits(Model model, int[] tokens) {
        KvCache cache = model.newKvCache(Math.max(256, tokens.length), KvCache.DEFAULT_BLOCK_SIZE, 1);
        try (Sequence seq = cache.newSequence()) {
            return model.forward(Batch.of(seq, tokens, true), new Scratch(model.config()));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("twins")
    void sameConfigAndBitIdenticalLogitsAsTheGgufTwin(Twin twin) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(twin.ggufStem());
        int[] tokens = ref.tokens();
        try (Model hf = Model.load(Fixtures.hfDir(twin.hfDir())); Model gguf = Model.load(ref.gguf())) {
            assertEquals(gguf.config(), hf.config());
            assertTrue(hf.huggingFaceFiles().isPresent());
            assertTrue(gguf.huggingFaceFiles().isEmpty());

            // weights used in place: views over the mapped shards, in the stored type
            Weights.Attention attention = hf.weights().layers().get(0).attention();
            for (Matrix m : List.of(hf.weights().embedding(), attention.q(), attention.o())) {
                assertEquals(twin.matrixType(), m.type(), m.name());
                assertTrue(m.data().isMapped(), m.name() + " should be a view over the mapped file");
            }
            assertEquals(hf.config().tiedEmbeddings(), hf.weights().output() == hf.weights().embedding());

            float[] hfLogits = logits(hf, tokens);
            assertArrayEquals(logits(gguf, tokens), hfLogits, twin.hfDir() + " vs " + twin.ggufStem());
            double diff = Fixtures.maxAbsDiff(hfLogits, ref.expectedLogits());
            System.out.printf("hf fixture %-24s max|Δ| = %.3g vs reference over %d positions%n", twin.hfDir(), diff,
                    tokens.length);
            assertTrue(diff <= FixtureLogitsTest.TOLERANCE, twin.hfDir() + ": max |Δ| " + diff);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("twins")
    void greedyContinuationMatchesReference(Twin twin) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(twin.ggufStem());
        try (Model model = Model.load(Fixtures.hfDir(twin.hfDir()))) {
            int[] expected = ref.expectedGreedy();
            int[] prompt = ref.promptTokens();
            KvCache cache = model.newKvCache(prompt.length + expected.length, 4, 1);
            Scratch scratch = new Scratch(model.config());
            int[] generated = new int[expected.length];
            try (Sequence seq = cache.newSequence()) {
                float[] logits = model.forward(Batch.of(seq, prompt, false), scratch);
                for (int i = 0; i < expected.length; i++) {
                    generated[i] = FixtureLogitsTest.argmax(logits);
                    if (i + 1 < expected.length) {
                        logits = model.forward(Batch.of(seq, new int[] {generated[i]}, false), scratch);
                    }
                }
            }
            assertArrayEquals(expected, generated, twin.hfDir());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("twins")
    void generationConfigAndTokenizerFiles(Twin twin) throws Exception {
        try (Model model = Model.load(Fixtures.hfDir(twin.hfDir()))) {
            GenerationConfig g = model.generationConfig();
            assertEquals(List.of(958, 956), g.eosTokenIds());
            assertTrue(g.isEndToken(958));
            assertEquals(956, g.bosTokenId());
            assertEquals(956, g.padTokenId());
            assertTrue(g.doSample());
            assertEquals(0.6, g.temperature());
            assertEquals(20, g.topK());
            assertEquals(0.95, g.topP());
            assertEquals(0.0, g.minP());
            HuggingFaceFiles files = model.huggingFaceFiles().orElseThrow();
            assertEquals(Fixtures.hfDir(twin.hfDir()).resolve("tokenizer.json"), files.tokenizer());
            assertEquals(Fixtures.hfDir(twin.hfDir()).resolve("tokenizer_config.json"), files.tokenizerConfig());
        }
    }
}
