package dev.moe4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.api.BadModelFileException;
import dev.moe4j.api.Moe4jException;
import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.format.safetensors.SafetensorsCheckpoint;
import dev.moe4j.format.safetensors.SafetensorsTensor;
import dev.moe4j.format.safetensors.SafetensorsType;
import dev.moe4j.format.safetensors.SafetensorsWriter;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.kernels.Matrix;
import dev.moe4j.kernels.WeightMemory;
import dev.moe4j.testutil.Fixtures;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The hybrid models' Hugging Face fixture directories (Qwen3-Next, Qwen3.5 dense and MoE) against their GGUF twins:
 * the same config, the same weights (Qwen3-Next's regrouped in_proj_qkvz byte for byte; Qwen3.5's value heads in
 * Hugging Face's grouped order, the converter's permutation of GGUF's tiled order), the twin's logits (bit for bit
 * for Qwen3-Next, within 1e-4 for Qwen3.5), within 1e-4 of the twin's reference at every position, and the same
 * greedy continuation; a multimodal layout (text_config,
 * model.language_model.) made from qwen35-tiny; and bad directories refused by name.
 */
class HybridHuggingFaceFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /**
     * @param groupedValueHeads the Hugging Face value heads are in grouped order, GGUF's in tiled order
     * @param identicalLogits   the weights are the same bits in the same order, so the logits are too (Qwen3.5's
     *                          are not: with the value heads in another order, ssm_out sums its inputs in another
     *                          order, and the converter's −exp(A_log) differs from moe4j's in the last bit of a few
     *                          heads)
     */
    record Twin(String hfDir, String ggufStem, boolean groupedValueHeads, boolean identicalLogits) {
        @Override
        public String toString() {
            return hfDir;
        }
    }

    static List<Twin> twins() {
        return List.of(
                new Twin("qwen3-next-tiny", "qwen3-next-tiny.f32", false, true),
                new Twin("qwen35-tiny", "qwen35-tiny.f32", true, false),
                new Twin("qwen35-moe-tiny", "qwen35-moe-tiny.f32", true, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("twins")
    void logitsMatchTheTwinsReference(Twin twin) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(twin.ggufStem());
        try (Model model = Model.load(Fixtures.hfDir(twin.hfDir()))) {
            assertEquals(ref.vocab(), model.config().vocabSize());
            float[] logits = HuggingFaceFixtureTest.logits(model, ref.tokens());
            double diff = Fixtures.maxAbsDiff(logits, ref.expectedLogits());
            System.out.printf("hf fixture %-16s max|Δ| = %.3g vs %s reference over %d positions (%s kernels)%n",
                    twin.hfDir(), diff, twin.ggufStem(), ref.tokens().length, model.kernels().provider().name());
            assertEquals(100, ref.tokens().length);
            assertTrue(diff <= FixtureLogitsTest.TOLERANCE, twin.hfDir() + ": max |Δ| " + diff);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("twins")
    void sameLogitsAsTheGgufTwin(Twin twin) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(twin.ggufStem());
        float[] gguf = HuggingFaceFixtureTest.deterministicLogits(ref.gguf(), ref.tokens());
        float[] hf = HuggingFaceFixtureTest.deterministicLogits(Fixtures.hfDir(twin.hfDir()), ref.tokens());
        double diff = Fixtures.maxAbsDiff(hf, gguf);
        System.out.printf("hf fixture %-16s max|Δ| = %.3g vs %s loaded from GGUF%n", twin.hfDir(), diff,
                twin.ggufStem());
        assertTrue(diff <= FixtureLogitsTest.TOLERANCE, twin.hfDir() + ": max |Δ| " + diff);
        if (twin.identicalLogits()) {
            assertArrayEquals(gguf, hf, twin.hfDir() + " vs " + twin.ggufStem());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("twins")
    void greedyContinuationMatchesReference(Twin twin) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(twin.ggufStem());
        try (Model model = Model.load(Fixtures.hfDir(twin.hfDir()))) {
            assertArrayEquals(ref.expectedGreedy(), greedy(model, ref.promptTokens(), ref.expectedGreedy().length),
                    twin.hfDir());
        }
    }

    static int[] greedy(Model model, int[] prompt, int n) {
        KvCache cache = model.newKvCache(prompt.length + n, 4, 1);
        Scratch scratch = new Scratch(model.config());
        int[] generated = new int[n];
        try (Sequence seq = cache.newSequence()) {
            float[] logits = model.forward(Batch.of(seq, prompt, false), scratch);
            for (int i = 0; i < n; i++) {
                generated[i] = FixtureLogitsTest.argmax(logits);
                if (i + 1 < n) {
                    logits = model.forward(Batch.of(seq, new int[] {generated[i]}, false), scratch);
                }
            }
        }
        return generated;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("twins")
    void sameConfigAndWeightsAsTheGgufTwin(Twin twin) throws Exception {
        Fixtures.Ref ref = Fixtures.ref(twin.ggufStem());
        try (Model hf = Model.load(Fixtures.hfDir(twin.hfDir())); Model gguf = Model.load(ref.gguf())) {
            assertEquals(gguf.config(), hf.config());
            Weights.Model e = gguf.weights();
            Weights.Model a = hf.weights();
            assertSameMatrix(e.embedding(), a.embedding());
            assertSameMatrix(e.output(), a.output());
            assertEquals(hf.config().tiedEmbeddings(), a.output() == a.embedding());
            assertArrayEquals(e.outputNorm(), a.outputNorm());
            ModelConfig.LinearAttention d = hf.config().linear();
            int nv = d.valueHeads();
            int nk = d.keyHeads();
            // GGUF value head m·nk + g is Hugging Face's grouped value head g·(nv/nk) + m (Qwen3.5); Qwen3-Next's
            // GGUF files keep the grouped order
            int[] hfHead = new int[nv];
            for (int j = 0; j < nv; j++) {
                hfHead[j] = twin.groupedValueHeads() ? (j % nk) * (nv / nk) + j / nk : j;
            }
            for (int layer = 0; layer < e.layers().size(); layer++) {
                Weights.Layer el = e.layers().get(layer);
                Weights.Layer al = a.layers().get(layer);
                assertArrayEquals(el.inputNorm(), al.inputNorm());
                assertArrayEquals(el.ffnNorm(), al.ffnNorm());
                switch (el.mixer()) {
                    case Weights.GatedAttention g when al.mixer() instanceof Weights.GatedAttention h -> {
                        assertArrayEquals(g.qNorm(), h.qNorm());
                        assertArrayEquals(g.kNorm(), h.kNorm());
                        assertSameMatrix(g.qGate(), h.qGate());
                        assertSameMatrix(g.k(), h.k());
                        assertSameMatrix(g.v(), h.v());
                        assertSameMatrix(g.o(), h.o());
                    }
                    case Weights.DeltaNet g when al.mixer() instanceof Weights.DeltaNet h ->
                            assertSameDeltaNet(g, h, d, hfHead);
                    default -> throw new AssertionError("layer " + layer + ": " + el.mixer().getClass() + " vs "
                            + al.mixer().getClass());
                }
                switch (el.feedForward()) {
                    case Weights.Dense g when al.feedForward() instanceof Weights.Dense h -> assertSameDense(g, h);
                    case Weights.SharedExpertMoe g when al.feedForward() instanceof Weights.SharedExpertMoe h -> {
                        assertSameDense(g.shared(), h.shared());
                        assertArrayEquals(g.gate(), h.gate());
                        assertSameMatrix(g.routed().router(), h.routed().router());
                        assertEquals(g.routed().numExperts(), h.routed().numExperts());
                        assertEquals(g.routed().numExpertsPerTok(), h.routed().numExpertsPerTok());
                        assertEquals(g.routed().normTopKProb(), h.routed().normTopKProb());
                        for (int x = 0; x < g.routed().numExperts(); x++) {
                            assertSameMatrix(g.routed().gate().get(x), h.routed().gate().get(x));
                            assertSameMatrix(g.routed().up().get(x), h.routed().up().get(x));
                            assertSameMatrix(g.routed().down().get(x), h.routed().down().get(x));
                        }
                    }
                    default -> throw new AssertionError("layer " + layer + ": " + el.feedForward().getClass()
                            + " vs " + al.feedForward().getClass());
                }
            }
        }
    }

    /** GGUF value head j holds what Hugging Face value head {@code hfHead[j]} holds. */
    private static void assertSameDeltaNet(Weights.DeltaNet g, Weights.DeltaNet h, ModelConfig.LinearAttention d,
                                           int[] hfHead) {
        int nv = d.valueHeads();
        int dv = d.valueDim();
        int qk = 2 * d.keyHeads() * d.keyDim();
        assertEquals(g.dims(), h.dims());
        assertArrayEquals(g.norm(), h.norm());
        for (int j = 0; j < nv; j++) {
            int k = hfHead[j];
            assertEquals(g.keyHead()[j], h.keyHead()[k], "key head of value head " + j);
            assertEquals(g.dtBias()[j], h.dtBias()[k]);
            // −exp(A_log): the converter's float32 exp and moe4j's correctly rounded one may differ in the last bit
            assertEquals(g.ssmA()[j], h.ssmA()[k], Math.ulp(g.ssmA()[j]));
            assertArrayEquals(row(g.gates(), g.betaColumn()[j]), row(h.gates(), h.betaColumn()[k]));
            assertArrayEquals(row(g.gates(), g.alphaColumn()[j]), row(h.gates(), h.alphaColumn()[k]));
            for (int c = 0; c < dv; c++) {
                assertArrayEquals(row(g.qkv(), qk + j * dv + c), row(h.qkv(), qk + k * dv + c));
                assertArrayEquals(row(g.z(), j * dv + c), row(h.z(), k * dv + c));
                int kernel = d.convKernel();
                for (int t = 0; t < kernel; t++) {
                    assertEquals(g.conv()[(qk + j * dv + c) * kernel + t], h.conv()[(qk + k * dv + c) * kernel + t]);
                }
                float[] gOut = column(g.out(), j * dv + c);
                assertArrayEquals(gOut, column(h.out(), k * dv + c));
            }
        }
        for (int r = 0; r < qk; r++) {
            assertArrayEquals(row(g.qkv(), r), row(h.qkv(), r));
        }
        if (hfHead[nv - 1] == nv - 1 && hfHead[1] == 1) { // no permutation: the same bytes
            assertSameMatrix(g.qkv(), h.qkv());
            assertSameMatrix(g.z(), h.z());
            assertSameMatrix(g.out(), h.out());
            assertArrayEquals(g.conv(), h.conv());
            assertArrayEquals(g.betaColumn(), h.betaColumn());
            assertArrayEquals(g.alphaColumn(), h.alphaColumn());
            assertArrayEquals(g.keyHead(), h.keyHead());
        }
    }

    private static float[] row(Matrix m, int r) {
        float[] out = new float[m.cols()];
        Kernels.get().dequantizeRow(m, r, out, 0);
        return out;
    }

    /** Row {@code column} of the gate projections' concatenated outputs. */
    private static float[] row(List<Matrix> gates, int column) {
        for (Matrix m : gates) {
            if (column < m.rows()) {
                return row(m, column);
            }
            column -= m.rows();
        }
        throw new AssertionError("column beyond the gate projections");
    }

    private static float[] column(Matrix m, int c) {
        float[] out = new float[m.rows()];
        for (int r = 0; r < m.rows(); r++) {
            out[r] = row(m, r)[c];
        }
        return out;
    }

    private static void assertSameDense(Weights.Dense e, Weights.Dense a) {
        assertSameMatrix(e.gate(), a.gate());
        assertSameMatrix(e.up(), a.up());
        assertSameMatrix(e.down(), a.down());
    }

    private static void assertSameMatrix(Matrix expected, Matrix actual) {
        String what = expected.name() + " vs " + actual.name();
        assertEquals(expected.type(), actual.type(), what);
        assertEquals(expected.rows(), actual.rows(), what);
        assertEquals(expected.cols(), actual.cols(), what);
        assertEquals(-1, expected.data().mismatch(actual.data()), what + ": bytes differ");
    }

    // ---- directories rewritten from the fixtures

    /** A copy of a fixture's side files with its tensors, renamed and edited, in one model.safetensors. */
    private Path rewrite(String fixture, String name, Consumer<List<SafetensorsTensor>> edit) throws IOException {
        Path out = Files.createDirectories(tmp.resolve(name));
        for (String file : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(Fixtures.hfDir(fixture).resolve(file), out.resolve(file));
        }
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(Fixtures.hfDir(fixture))) {
            List<SafetensorsTensor> list = new ArrayList<>(c.tensors().values());
            edit.accept(list);
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            list.forEach(w::add);
            w.write(out.resolve(SafetensorsCheckpoint.SINGLE_FILE));
        }
        return out;
    }

    private static void editConfig(Path dir, Consumer<ObjectNode> edit) throws IOException {
        Path file = dir.resolve("config.json");
        ObjectNode config = (ObjectNode) JSON.readTree(file.toFile());
        edit.accept(config);
        Files.writeString(file, config.toPrettyString());
    }

    private static SafetensorsTensor renamed(SafetensorsTensor t, String name) {
        return new SafetensorsTensor(name, t.type(), t.shape(), t.data());
    }

    private static SafetensorsTensor zeros(String name, long... shape) {
        int n = 1;
        for (long s : shape) {
            n *= (int) s;
        }
        return new SafetensorsTensor(name, SafetensorsType.F32, shape, MemorySegment.ofArray(new float[n]));
    }

    private static <E extends Moe4jException> void assertLoadFails(Class<E> type, Path model, String... parts) {
        E e = assertThrows(type, () -> Model.load(model).close());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should contain '" + part + "'");
        }
    }

    /**
     * A released Qwen3.5 checkpoint's layout: config.json's text keys under text_config (tie_word_embeddings only at
     * the top level), the text weights under model.language_model., beside vision and MTP weights that are not
     * loaded. The same logits as the plain directory.
     */
    @Test
    void multimodalLayoutGivesTheSameLogits() throws Exception {
        Path dir = rewrite("qwen35-tiny", "multimodal", list -> {
            list.replaceAll(t -> t.name().startsWith("model.")
                    ? renamed(t, "model.language_model." + t.name().substring("model.".length())) : t);
            list.add(zeros("model.visual.patch_embed.proj.weight", 8, 3, 2, 4, 4));
            list.add(zeros("model.visual.blocks.0.norm1.weight", 8));
            list.add(zeros("mtp.fc.weight", 64, 128));
        });
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertTrue(c.tensor("model.language_model.embed_tokens.weight") != null);
            assertTrue(c.tensor("model.embed_tokens.weight") == null);
        }
        editConfig(dir, c -> {
            ObjectNode text = c.deepCopy();
            text.remove("architectures");
            text.remove("tie_word_embeddings");
            c.removeAll();
            c.putArray("architectures").add("Qwen3_5ForConditionalGeneration");
            c.put("model_type", "qwen3_5");
            c.set("text_config", text);
            c.putObject("vision_config").put("model_type", "qwen3_5").put("depth", 1).put("hidden_size", 8);
            c.put("image_token_id", 960);
            c.put("tie_word_embeddings", true);
        });
        Fixtures.Ref ref = Fixtures.ref("qwen35-tiny.f32");
        try (Model m = Model.load(dir); Model plain = Model.load(Fixtures.hfDir("qwen35-tiny"))) {
            assertEquals(plain.config(), m.config());
            assertTrue(m.config().tiedEmbeddings());
        }
        assertArrayEquals(HuggingFaceFixtureTest.deterministicLogits(Fixtures.hfDir("qwen35-tiny"), ref.tokens()),
                HuggingFaceFixtureTest.deterministicLogits(dir, ref.tokens()));

        // the text config names its own model type; without it the top level's decides
        editConfig(dir, c -> ((ObjectNode) c.get("text_config")).remove("model_type"));
        try (Model m = Model.load(dir)) {
            assertEquals("qwen35", m.config().architecture());
        }
        // the text config's own tie_word_embeddings wins
        editConfig(dir, c -> ((ObjectNode) c.get("text_config")).put("tie_word_embeddings", false));
        assertLoadFails(BadModelFileException.class, dir, "missing tensor 'lm_head.weight'");
        editConfig(dir, c -> c.put("text_config", "qwen3_5_text"));
        assertLoadFails(BadModelFileException.class, dir, "'text_config' should be an object");
    }

    @Test
    void multimodalMoeTokensFromTextConfigAndMissingKeyIsNamed() throws Exception {
        Path dir = rewrite("qwen35-moe-tiny", "multimodal-moe", list -> list.replaceAll(t -> t.name().startsWith(
                "model.") ? renamed(t, "model.language_model." + t.name().substring("model.".length())) : t));
        editConfig(dir, c -> {
            ObjectNode text = c.deepCopy();
            c.removeAll();
            c.putArray("architectures").add("Qwen3_5MoeForConditionalGeneration");
            c.put("model_type", "qwen3_5_moe");
            c.set("text_config", text);
        });
        // without generation_config.json the end and padding tokens come from text_config
        Files.delete(dir.resolve("generation_config.json"));
        Fixtures.Ref ref = Fixtures.ref("qwen35-moe-tiny.f32");
        try (Model m = Model.load(dir)) {
            assertEquals("qwen35moe", m.config().architecture());
            assertEquals(List.of(958), m.generationConfig().eosTokenIds());
            assertEquals(956, m.generationConfig().padTokenId());
            assertArrayEquals(ref.expectedGreedy(), greedy(m, ref.promptTokens(), ref.expectedGreedy().length));
        }
        editConfig(dir, c -> ((ObjectNode) c.get("text_config")).remove("num_experts"));
        assertLoadFails(BadModelFileException.class, dir, "config.json (text_config): missing required key 'num_experts'");
    }

    @Test
    void badHybridDirectoriesAreRefusedByName() throws Exception {
        Path next = rewrite("qwen3-next-tiny", "next-noqkvz",
                list -> list.removeIf(t -> t.name().equals("model.layers.1.linear_attn.in_proj_qkvz.weight")));
        assertLoadFails(BadModelFileException.class, next,
                "missing tensor 'model.layers.1.linear_attn.in_proj_qkvz.weight'");

        Path conv = rewrite("qwen35-tiny", "conv-2d", list -> list.replaceAll(
                t -> t.name().equals("model.layers.2.linear_attn.conv1d.weight")
                        ? new SafetensorsTensor(t.name(), t.type(), new long[] {128, 4}, t.data()) : t));
        assertLoadFails(BadModelFileException.class, conv,
                "tensor 'model.layers.2.linear_attn.conv1d.weight' has shape [128, 4], expected [128, 1, 4]");

        Path experts = rewrite("qwen35-moe-tiny", "no-down", list -> list.removeIf(
                t -> t.name().equals("model.layers.3.mlp.experts.down_proj")));
        assertLoadFails(BadModelFileException.class, experts, "missing tensor 'model.layers.3.mlp.experts.down_proj'");

        Path dir = rewrite("qwen35-tiny", "config", list -> { });
        editConfig(dir, c -> ((com.fasterxml.jackson.databind.node.ArrayNode) c.get("layer_types")).set(1,
                "full_attention"));
        assertLoadFails(UnsupportedModelException.class, dir, "'layer_types[1]' is 'full_attention'");
        editConfig(dir, c -> ((com.fasterxml.jackson.databind.node.ArrayNode) c.get("layer_types")).set(1,
                "linear_attention"));
        editConfig(dir, c -> ((ObjectNode) c.get("rope_parameters")).putArray("mrope_section").add(4).add(2).add(2));
        assertLoadFails(UnsupportedModelException.class, dir, "config.json: 'rope_parameters.mrope_section'",
                "leave rotary pair");
        editConfig(dir, c -> ((ObjectNode) c.get("rope_parameters")).putArray("mrope_section").add(3).add(3).add(2));
        editConfig(dir, c -> c.put("attn_output_gate", false));
        assertLoadFails(UnsupportedModelException.class, dir, "'attn_output_gate' false is not supported");
        editConfig(dir, c -> c.remove("attn_output_gate"));
        editConfig(dir, c -> c.remove("linear_num_value_heads"));
        assertLoadFails(BadModelFileException.class, dir, "missing required key 'linear_num_value_heads'");

        Path sparse = rewrite("qwen3-next-tiny", "next-dense-layer", list -> { });
        editConfig(sparse, c -> c.putArray("mlp_only_layers").add(2));
        assertLoadFails(UnsupportedModelException.class, sparse, "make layer 2 dense");
    }

    /** The regrouping and the +1 are not no-ops: reading in_proj_qkvz as GGUF's attn_qkv would differ. */
    @Test
    void qwen3NextRegroupsTheProjections() throws Exception {
        try (Model hf = Model.load(Fixtures.hfDir("qwen3-next-tiny"));
             SafetensorsCheckpoint c = SafetensorsCheckpoint.open(Fixtures.hfDir("qwen3-next-tiny"))) {
            Weights.DeltaNet d = (Weights.DeltaNet) hf.weights().layers().get(0).mixer();
            SafetensorsTensor qkvz = c.tensor("model.layers.0.linear_attn.in_proj_qkvz.weight");
            MemorySegment firstRows = qkvz.data().asSlice(0, d.qkv().data().byteSize());
            assertNotEquals(-1, firstRows.mismatch(d.qkv().data()));
            assertTrue(!WeightMemory.fileBacked(d.qkv().data()), "a copy");
        }
    }
}
