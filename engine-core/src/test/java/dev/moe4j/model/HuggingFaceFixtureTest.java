package dev.moe4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.kernels.DType;
import dev.moe4j.kernels.KernelProviders;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.kernels.Matrix;
import dev.moe4j.kernels.WeightMemory;
import dev.moe4j.kernels.parallel.Parallel;
import dev.moe4j.testutil.Fixtures;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each Hugging Face fixture directory against its GGUF twin (the same weights): the same config and byte-identical
 * weights, bit-identical logits at every position, within 1e-4 of the twin's reference, and the same 32-token greedy
 * continuation.
 */
class HuggingFaceFixtureTest {
    /**
     * Bit-identity needs deterministic kernels. The Vector API kernels sum lanes with {@code reduceLanes(ADD)}, whose
     * order is unspecified and changes once the JIT compiles them, so two runs of one model in one JVM may differ in
     * the last bits; the scalar kernels always compute the same sums in the same order.
     */
    static final Kernels DETERMINISTIC = new Kernels(KernelProviders.scalar(), Parallel.common());

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

    static float[] logits(Model model, int[] tokens) {
        KvCache cache = model.newKvCache(Math.max(256, tokens.length), KvCache.DEFAULT_BLOCK_SIZE, 1);
        try (Sequence seq = cache.newSequence()) {
            return model.forward(Batch.of(seq, tokens, true), new Scratch(model.config()));
        }
    }

    /** Logits of every position of {@code tokens} with the deterministic kernels. */
    static float[] deterministicLogits(Path model, int[] tokens) throws Exception {
        try (Model m = Model.load(model, DETERMINISTIC)) {
            return logits(m, tokens);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("twins")
    void sameConfigAndWeightsAsTheGgufTwin(Twin twin) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(twin.ggufStem());
        try (Model hf = Model.load(Fixtures.hfDir(twin.hfDir())); Model gguf = Model.load(ref.gguf())) {
            assertEquals(gguf.config(), hf.config());
            assertTrue(hf.huggingFaceFiles().isPresent());
            assertTrue(gguf.huggingFaceFiles().isEmpty());
            assertSameWeights(gguf.weights(), hf.weights());

            // used in place: views over the mapped files, in the stored type
            Weights.Attention attention = (Weights.Attention) hf.weights().layers().get(0).mixer();
            for (Matrix m : List.of(hf.weights().embedding(), attention.q(), attention.o())) {
                assertEquals(twin.matrixType(), m.type(), m.name());
                assertTrue(WeightMemory.fileBacked(m.data()), m.name() + " should be a view over the mapped file");
            }
            assertEquals(hf.config().tiedEmbeddings(), hf.weights().output() == hf.weights().embedding());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("twins")
    void bitIdenticalLogitsToTheGgufTwin(Twin twin) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(twin.ggufStem());
        assertArrayEquals(deterministicLogits(ref.gguf(), ref.tokens()),
                deterministicLogits(Fixtures.hfDir(twin.hfDir()), ref.tokens()), twin.hfDir() + " vs " + twin.ggufStem());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("twins")
    void logitsMatchTheTwinsReference(Twin twin) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(twin.ggufStem());
        try (Model model = Model.load(Fixtures.hfDir(twin.hfDir()))) {
            assertEquals(ref.vocab(), model.config().vocabSize());
            float[] logits = logits(model, ref.tokens());
            double diff = Fixtures.maxAbsDiff(logits, ref.expectedLogits());
            System.out.printf("hf fixture %-24s max|Δ| = %.3g vs %s reference over %d positions (%s kernels)%n",
                    twin.hfDir(), diff, twin.ggufStem(), ref.tokens().length, model.kernels().provider().name());
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
        Path dir = Fixtures.hfDir(twin.hfDir());
        try (Model model = Model.load(dir)) {
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
            assertEquals(dir.resolve("tokenizer.json"), files.tokenizer());
            assertEquals(dir.resolve("tokenizer_config.json"), files.tokenizerConfig());
        }
    }

    static void assertSameWeights(Weights.Model expected, Weights.Model actual) {
        assertSameMatrix(expected.embedding(), actual.embedding());
        assertSameMatrix(expected.output(), actual.output());
        assertArrayEquals(expected.outputNorm(), actual.outputNorm());
        assertEquals(expected.layers().size(), actual.layers().size());
        for (int layer = 0; layer < expected.layers().size(); layer++) {
            assertArrayEquals(expected.layers().get(layer).inputNorm(), actual.layers().get(layer).inputNorm());
            assertArrayEquals(expected.layers().get(layer).ffnNorm(), actual.layers().get(layer).ffnNorm());
            Weights.Attention e = (Weights.Attention) expected.layers().get(layer).mixer();
            Weights.Attention a = (Weights.Attention) actual.layers().get(layer).mixer();
            assertArrayEquals(e.qNorm(), a.qNorm());
            assertArrayEquals(e.kNorm(), a.kNorm());
            for (Matrix[] pair : new Matrix[][] {{e.q(), a.q()}, {e.k(), a.k()}, {e.v(), a.v()}, {e.o(), a.o()}}) {
                assertSameMatrix(pair[0], pair[1]);
            }
            Weights.FeedForward ef = expected.layers().get(layer).feedForward();
            Weights.FeedForward af = actual.layers().get(layer).feedForward();
            switch (ef) {
                case Weights.Dense d when af instanceof Weights.Dense h -> {
                    assertSameMatrix(d.gate(), h.gate());
                    assertSameMatrix(d.up(), h.up());
                    assertSameMatrix(d.down(), h.down());
                }
                case Weights.Moe d when af instanceof Weights.Moe h -> {
                    assertSameMatrix(d.router(), h.router());
                    assertEquals(d.numExperts(), h.numExperts());
                    assertEquals(d.numExpertsPerTok(), h.numExpertsPerTok());
                    assertEquals(d.normTopKProb(), h.normTopKProb());
                    for (int expert = 0; expert < d.numExperts(); expert++) {
                        assertSameMatrix(d.gate().get(expert), h.gate().get(expert));
                        assertSameMatrix(d.up().get(expert), h.up().get(expert));
                        assertSameMatrix(d.down().get(expert), h.down().get(expert));
                    }
                }
                default -> throw new AssertionError("layer " + layer + ": " + ef.getClass() + " vs " + af.getClass());
            }
        }
    }

    private static void assertSameMatrix(Matrix expected, Matrix actual) {
        String what = expected.name() + " vs " + actual.name();
        assertEquals(expected.type(), actual.type(), what);
        assertEquals(expected.rows(), actual.rows(), what);
        assertEquals(expected.cols(), actual.cols(), what);
        assertEquals(-1, expected.data().mismatch(actual.data()), what + ": bytes differ");
    }
}
