package dev.moe4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.BadModelFileException;
import dev.moe4j.api.Moe4jException;
import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.format.gguf.GgmlType;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTensor;
import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.kernels.Matrix;
import dev.moe4j.testutil.Fixtures;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config records from GGUF metadata, and model files that are valid GGUF but not a usable model. */
class ModelLoadingTest {
    @TempDir
    Path dir;

    @Test
    void denseConfigFromMetadata() throws Exception {
        try (Model m = Model.loadGguf(Fixtures.model("qwen3-dense-tiny.f32.gguf"))) {
            ModelConfig c = m.config();
            assertEquals("qwen3", c.architecture());
            assertEquals(256, c.hiddenSize());
            assertEquals(2, c.numLayers());
            assertEquals(4, c.numHeads());
            assertEquals(2, c.numKvHeads());
            assertEquals(128, c.headDim()); // from key_length: q width 512 != hidden 256
            assertEquals(512, c.intermediateSize());
            assertEquals(1e6, c.ropeTheta());
            assertEquals(1e-6f, c.rmsNormEps());
            assertTrue(c.tiedEmbeddings());
            assertFalse(c.isMoe());
            assertEquals(null, c.yarn());
        }
    }

    @Test
    void moeAndYarnConfigFromMetadata() throws Exception {
        try (Model m = Model.loadGguf(Fixtures.model("qwen3-moe-tiny.f32.gguf"))) {
            ModelConfig c = m.config();
            assertEquals("qwen3moe", c.architecture());
            assertEquals(64, c.headDim());
            assertEquals(8, c.moe().numExperts());
            assertEquals(2, c.moe().numExpertsPerTok());
            assertEquals(128, c.moe().expertIntermediateSize());
            assertTrue(c.moe().normTopKProb()); // absent key: Qwen3-MoE renormalises
            assertFalse(c.tiedEmbeddings());
            assertTrue(m.weights().layers().get(0).feedForward() instanceof Weights.Moe);
        }
        try (Model m = Model.loadGguf(Fixtures.model("qwen3-dense-yarn.f32.gguf"))) {
            assertNotNull(m.config().yarn());
            assertEquals(4.0, m.config().yarn().factor());
            assertEquals(32, m.config().yarn().originalContext());
            assertEquals(256, m.config().contextLength());
        }
    }

    /** Rewrites the dense fixture with {@code edit} applied to a writer holding all its metadata and tensors. */
    private Path rewrite(String name, Consumer<GgufWriter> edit) throws IOException {
        Path out = dir.resolve(name);
        try (GgufFile src = GgufFile.open(Fixtures.model("qwen3-dense-tiny.f32.gguf"))) {
            GgufWriter w = new GgufWriter().putAll(src.metadata());
            for (GgufTensor t : src.tensors().values()) {
                w.addTensor(t.name(), t.type(), t.dims(), t.data());
            }
            edit.accept(w);
            w.write(out);
        }
        return out;
    }

    @Test
    void rewrittenFileGivesIdenticalLogits() throws Exception {
        Path copy = rewrite("copy.gguf", w -> { });
        int[] tokens = Fixtures.ref("qwen3-dense-tiny.f32").tokens();
        assertArrayEquals(logits(Fixtures.model("qwen3-dense-tiny.f32.gguf"), tokens), logits(copy, tokens));
    }

    @Test
    void q8_0AndQ4_0MatricesAreRepackedUnlessTurnedOff() {
        for (String name : new String[] {"qwen3-moe-tiny.q8_0.gguf", "qwen3-moe-tiny.q4_0.gguf"}) {
            try (GgufFile file = GgufFile.open(Fixtures.model(name))) {
                GgufTensor q = file.tensor(TensorName.ATTN_Q.gguf(0));
                int rows = Math.toIntExact(q.dim(1));
                int cols = Math.toIntExact(q.dim(0));
                GgufTensor gate = file.tensor(TensorName.FFN_GATE_EXPERTS.gguf(0));
                int experts = Math.toIntExact(gate.dim(2));
                int expertRows = Math.toIntExact(gate.dim(1));
                for (boolean repack : new boolean[] {true, false}) {
                    GgufTensorSource source = new GgufTensorSource(file, repack);
                    int group = repack ? Matrix.GROUP : 1;
                    assertEquals(group, source.matrix(TensorName.ATTN_Q, 0, rows, cols).rowGroup(), name);
                    List<Matrix> slices = source.experts(TensorName.FFN_GATE_EXPERTS, 0, experts, expertRows, cols);
                    assertEquals(experts, slices.size());
                    for (Matrix m : slices) {
                        assertEquals(group, m.rowGroup(), name);
                        assertEquals(expertRows, m.rows(), name);
                    }
                }
            }
        }
    }

    @Test
    void repackedAndMappedWeightsGiveIdenticalLogits() throws Exception {
        for (String model : new String[] {"qwen3-moe-tiny.q8_0", "qwen3-dense-tiny.q4_0"}) {
            int[] tokens = Fixtures.ref(model).tokens();
            float[] repacked = logits(Fixtures.model(model + ".gguf"), tokens);
            String before = System.getProperty(GgufTensorSource.REPACK_PROPERTY);
            System.setProperty(GgufTensorSource.REPACK_PROPERTY, "false");
            try {
                assertArrayEquals(repacked, logits(Fixtures.model(model + ".gguf"), tokens), model);
            } finally {
                if (before == null) {
                    System.clearProperty(GgufTensorSource.REPACK_PROPERTY);
                } else {
                    System.setProperty(GgufTensorSource.REPACK_PROPERTY, before);
                }
            }
        }
    }

    private static float[] logits(Path gguf, int[] tokens) throws Exception {
        try (Model m = Model.loadGguf(gguf)) {
            KvCache cache = m.newKvCache(tokens.length, 16, 1);
            try (Sequence seq = cache.newSequence()) {
                return m.forward(Batch.of(seq, tokens, true), new Scratch(m.config()));
            }
        }
    }

    private void assertLoadFails(Class<? extends Moe4jException> type, Path file, String... parts) {
        Moe4jException e = assertThrows(type, () -> Model.loadGguf(file).close());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should contain '" + part + "'");
        }
    }

    @Test
    void missingRequiredKeyIsNamed() throws IOException {
        assertLoadFails(BadModelFileException.class,
                rewrite("nokey.gguf", w -> w.remove("qwen3.attention.key_length")),
                "missing required metadata key 'qwen3.attention.key_length'");
        assertLoadFails(BadModelFileException.class,
                rewrite("noarch.gguf", w -> w.remove("general.architecture")),
                "missing required metadata key 'general.architecture'");
        assertLoadFails(BadModelFileException.class,
                rewrite("badtype.gguf", w -> w.putString("qwen3.block_count", "two")),
                "metadata 'qwen3.block_count' should be an integer");
    }

    @Test
    void unsupportedArchitectureIsNamed() throws IOException {
        assertLoadFails(UnsupportedModelException.class,
                rewrite("llama.gguf", w -> w.putString("general.architecture", "llama")),
                "architecture 'llama' is not supported");
        assertLoadFails(UnsupportedModelException.class,
                rewrite("rope.gguf", w -> w.putString("qwen3.rope.scaling.type", "longrope")),
                "RoPE scaling 'longrope' is not supported");
    }

    @Test
    void missingOrMisshapenTensorsAreNamed() throws IOException {
        Path noTensor = dir.resolve("missing.gguf");
        Path wrongShape = dir.resolve("shape.gguf");
        Path iq2 = dir.resolve("iq2.gguf");
        try (GgufFile src = GgufFile.open(Fixtures.model("qwen3-dense-tiny.f32.gguf"))) {
            GgufWriter missing = new GgufWriter().putAll(src.metadata());
            GgufWriter shape = new GgufWriter().putAll(src.metadata());
            GgufWriter unsupported = new GgufWriter().putAll(src.metadata());
            for (GgufTensor t : src.tensors().values()) {
                if (!t.name().equals("blk.1.attn_k.weight")) {
                    missing.addTensor(t.name(), t.type(), t.dims(), t.data());
                }
                long[] dims = t.name().equals("blk.0.ffn_up.weight") ? new long[] {512, 256} : t.dims();
                shape.addTensor(t.name(), t.type(), dims, t.data());
                if (t.name().equals("blk.0.attn_v.weight")) {
                    // an IQ2_XXS tensor of the right shape: 256 × 256 values = 256 blocks of 66 bytes
                    unsupported.addTensor(t.name(), GgmlType.IQ2_XXS, t.dims(), Arena.ofAuto().allocate(256L * 66));
                } else {
                    unsupported.addTensor(t.name(), t.type(), t.dims(), t.data());
                }
            }
            missing.write(noTensor);
            shape.write(wrongShape);
            unsupported.write(iq2);
        }
        assertLoadFails(BadModelFileException.class, noTensor, "missing tensor 'blk.1.attn_k.weight'");
        assertLoadFails(BadModelFileException.class, wrongShape, "tensor 'blk.0.ffn_up.weight' has GGML dims [512, 256]",
                "expected [256, 512]");
        assertLoadFails(UnsupportedModelException.class, iq2, "tensor 'blk.0.attn_v.weight' has type IQ2_XXS");
    }

    @Test
    void inconsistentHeadsAreRejected() throws IOException {
        assertLoadFails(UnsupportedModelException.class,
                rewrite("heads.gguf", w -> w.putU32("qwen3.attention.head_count_kv", 3)),
                "attention heads (4) must be a multiple of key/value heads (3)");
    }
}
