package dev.moe4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.format.gguf.GgmlType;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.QuantType;
import dev.moe4j.kernels.DType;
import dev.moe4j.model.Batch;
import dev.moe4j.model.Model;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.Scratch;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Synthetic models load with the real shapes (from qwen3-spec §3) and run. */
class SyntheticModelTest {
    @TempDir
    Path dir;

    @Test
    void denseShapeLoadsAndRuns() throws Exception {
        Path out = dir.resolve("s.gguf");
        SyntheticModel.write(SyntheticModel.shape("qwen3-0.6b"), 1, DType.Q4_0, null, out, 1, line -> { });
        try (Model m = Model.load(out)) {
            ModelConfig c = m.config();
            assertEquals(1024, c.hiddenSize());
            assertEquals(16, c.numHeads());
            assertEquals(8, c.numKvHeads());
            assertEquals(128, c.headDim());
            assertEquals(3072, c.intermediateSize());
            assertEquals(151936, c.vocabSize());
            assertTrue(c.tiedEmbeddings());
            assertFinite(m);
        }
    }

    @Test
    void moeShapeLoadsAndRuns() throws Exception {
        SyntheticModel.Shape a3b = SyntheticModel.shape("qwen3-30b-a3b");
        // same expert layout as Qwen3-30B-A3B, fewer experts' worth of memory is not possible: keep 1 layer
        Path out = dir.resolve("m.gguf");
        SyntheticModel.write(a3b, 1, DType.Q4_0, null, out, 1, line -> { });
        try (Model m = Model.load(out)) {
            ModelConfig c = m.config();
            assertEquals("qwen3moe", c.architecture());
            assertEquals(128, c.moe().numExperts());
            assertEquals(8, c.moe().numExpertsPerTok());
            assertEquals(768, c.moe().expertIntermediateSize());
            assertEquals(32, c.numHeads());
            assertEquals(4, c.numKvHeads());
            assertTrue(!c.tiedEmbeddings());
            assertFinite(m);
        }
    }

    @Test
    void mixFollowsTheRecipe() throws Exception {
        Path out = dir.resolve("k.gguf");
        SyntheticModel.write(SyntheticModel.shape("qwen3-0.6b"), 1, QuantType.Q4_K_M, null, out, 1, line -> { });
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(15, f.metadata().getLong("general.file_type"));
            // tied embedding, and with one layer that layer's attn_v and ffn_down get more bits
            assertEquals(GgmlType.Q6_K, f.tensor("token_embd.weight").type());
            assertEquals(GgmlType.Q6_K, f.tensor("blk.0.attn_v.weight").type());
            assertEquals(GgmlType.Q6_K, f.tensor("blk.0.ffn_down.weight").type());
            assertEquals(GgmlType.Q4_K, f.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.Q4_K, f.tensor("blk.0.ffn_up.weight").type());
            assertEquals(GgmlType.F32, f.tensor("blk.0.attn_norm.weight").type());
        }
        try (Model m = Model.load(out)) {
            assertFinite(m);
        }
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SyntheticModel.shape("qwen9"));
        assertTrue(e.getMessage().contains("unknown shape 'qwen9'"));
        IllegalArgumentException layers = assertThrows(IllegalArgumentException.class, () -> SyntheticModel.write(
                SyntheticModel.shape("qwen3-4b"), 99, DType.Q8_0, null, dir.resolve("x"), 1, line -> { }));
        assertTrue(layers.getMessage().contains("--layers must be in [1, 36]"));
    }

    private static void assertFinite(Model m) {
        KvCache cache = m.newKvCache(8, 4, 1);
        try (Sequence seq = cache.newSequence()) {
            float[] logits = m.forward(Batch.of(seq, new int[] {1, 2, 3}, false), new Scratch(m.config()));
            for (float v : logits) {
                assertTrue(Float.isFinite(v));
            }
        }
    }
}
