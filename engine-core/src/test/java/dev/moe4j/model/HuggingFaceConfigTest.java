package dev.moe4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.BadModelFileException;
import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.kernels.Rope;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** config.json into {@link ModelConfig}: Hugging Face's defaults for absent keys, the YaRN spellings, the refusals. */
class HuggingFaceConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ModelConfig parse(String json) throws Exception {
        return ConfigKeys.fromHuggingFace(JSON.readTree(json), "config.json");
    }

    private static final String DENSE_SIZES =
            "\"vocab_size\": 1000, \"hidden_size\": 256, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
                    + " \"intermediate_size\": 512";
    private static final String MOE_SIZES = DENSE_SIZES
            + ", \"num_experts\": 8, \"num_experts_per_tok\": 2, \"moe_intermediate_size\": 128";

    @Test
    void denseDefaults() throws Exception {
        ModelConfig c = parse("{\"model_type\": \"qwen3\", " + DENSE_SIZES + "}");
        assertEquals("qwen3", c.architecture());
        assertEquals(1000, c.vocabSize());
        assertEquals(4, c.numKvHeads());     // null num_key_value_heads = num_attention_heads
        assertEquals(128, c.headDim());      // Qwen3Config.head_dim default, not hidden / heads = 64
        assertEquals(1e-6f, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(32768, c.contextLength());
        assertFalse(c.tiedEmbeddings());
        assertNull(c.yarn());
        assertNull(c.moe());
    }

    @Test
    void moeDefaults() throws Exception {
        ModelConfig c = parse("{\"model_type\": \"qwen3_moe\", " + MOE_SIZES + ", \"rope_scaling\": null}");
        assertEquals("qwen3moe", c.architecture());
        assertEquals(64, c.headDim());       // Qwen3MoeConfig has no head_dim: hidden / heads
        assertFalse(c.moe().normTopKProb()); // Hugging Face's default, unlike GGUF's
        assertEquals(1, c.moe().decoderSparseStep());
        assertEquals(Set.of(), c.moe().mlpOnlyLayers());
        assertNull(c.yarn());
    }

    @Test
    void moeLayerChoice() throws Exception {
        ModelConfig c = parse("{\"architectures\": [\"Qwen3MoeForCausalLM\"], " + MOE_SIZES
                + ", \"num_hidden_layers\": 6, \"decoder_sparse_step\": 2, \"mlp_only_layers\": [3],"
                + " \"norm_topk_prob\": true, \"num_local_experts\": 99}");
        assertEquals("qwen3moe", c.architecture());
        assertEquals(8, c.moe().numExperts()); // num_experts wins over its alias
        assertTrue(c.moe().normTopKProb());
        assertEquals(Set.of(3), c.moe().mlpOnlyLayers());
        assertFalse(c.moe().isMoeLayer(0));
        assertTrue(c.moe().isMoeLayer(1));
        assertFalse(c.moe().isMoeLayer(3));
        assertTrue(c.moe().isMoeLayer(5));
    }

    @Test
    void moeWithoutDenseLayersNeedsNoIntermediateSize() throws Exception {
        ModelConfig c = parse("{\"model_type\": \"qwen3_moe\", " + MOE_SIZES.replace(", \"intermediate_size\": 512", "")
                + "}");
        assertEquals(0, c.intermediateSize());
        BadModelFileException e = assertThrows(BadModelFileException.class, () -> parse("{\"model_type\": \"qwen3_moe\", "
                + MOE_SIZES.replace(", \"intermediate_size\": 512", "") + ", \"mlp_only_layers\": [0]}"));
        assertTrue(e.getMessage().contains("missing required key 'intermediate_size'"), e.getMessage());
    }

    /** A claimed two billion layers walked every one of them (15 s) to find a dense layer; now the answer is direct. */
    @Test
    void aHugeLayerCountIsReadWithoutWalkingTheLayers() {
        String sizes = MOE_SIZES.replace(", \"intermediate_size\": 512", "")
                .replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": " + Integer.MAX_VALUE);
        ModelConfig c = assertTimeoutPreemptively(Duration.ofSeconds(2),
                () -> parse("{\"model_type\": \"qwen3_moe\", " + sizes + "}"));
        assertEquals(Integer.MAX_VALUE, c.numLayers());
        assertEquals(0, c.intermediateSize(), "every layer sparse: no dense width needed");
        BadModelFileException e = assertThrows(BadModelFileException.class, () -> parse("{\"model_type\": \"qwen3_moe\", "
                + sizes + ", \"decoder_sparse_step\": 3}"));
        assertTrue(e.getMessage().contains("missing required key 'intermediate_size'"), e.getMessage());
    }

    @Test
    void yarnSpellings() throws Exception {
        Rope.Yarn expected = new Rope.Yarn(4.0, 32768, 32, 1, Double.NaN);
        String base = "{\"model_type\": \"qwen3\", " + DENSE_SIZES + ", \"max_position_embeddings\": 131072, ";
        assertEquals(expected, parse(base + "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0,"
                + " \"original_max_position_embeddings\": 32768}}").yarn());
        assertEquals(expected, parse(base + "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4,"
                + " \"original_max_position_embeddings\": 32768}}").yarn());
        // transformers v5: rope_parameters carries theta and scaling
        ModelConfig v5 = parse(base + "\"rope_parameters\": {\"rope_type\": \"yarn\", \"rope_theta\": 1000000.0,"
                + " \"factor\": 4.0, \"original_max_position_embeddings\": 32768}}");
        assertEquals(expected, v5.yarn());
        assertEquals(1e6, v5.ropeTheta());
        assertNull(parse(base + "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 5e6}}").yarn());
        // absent original length: max_position_embeddings; explicit attention factor and betas kept
        assertEquals(new Rope.Yarn(2.0, 131072, 16, 2, 1.5), parse(base + "\"rope_scaling\": {\"rope_type\": \"yarn\","
                + " \"factor\": 2.0, \"beta_fast\": 16, \"beta_slow\": 2, \"attention_factor\": 1.5}}").yarn());
        // mscale / mscale_all_dim give the attention factor as in transformers
        Rope.Yarn ds = parse(base + "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0,"
                + " \"mscale\": 1.0, \"mscale_all_dim\": 0.5}}").yarn();
        assertEquals((0.1 * Math.log(4) + 1) / (0.05 * Math.log(4) + 1), ds.attentionFactor(), 1e-12);
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> parse(base
                + "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0, \"truncate\": false}}"));
        assertTrue(e.getMessage().contains("truncate false is not supported"), e.getMessage());
        BadModelFileException noFactor = assertThrows(BadModelFileException.class,
                () -> parse(base + "\"rope_scaling\": {\"rope_type\": \"yarn\"}}"));
        assertTrue(noFactor.getMessage().contains("missing required key 'rope_scaling.factor'"), noFactor.getMessage());
    }

    @Test
    void missingSizesAreNamed() throws Exception {
        BadModelFileException e = assertThrows(BadModelFileException.class,
                () -> parse("{\"model_type\": \"qwen3\", " + DENSE_SIZES.replace("\"hidden_size\": 256, ", "") + "}"));
        assertEquals("config.json: missing required key 'hidden_size'", e.getMessage());
        JsonNode notObject = JSON.readTree("[1]");
        assertThrows(BadModelFileException.class, () -> ConfigKeys.fromHuggingFace(notObject, "config.json"));
    }
}
