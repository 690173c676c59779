package dev.moe4j.model.qwen3moe;

import dev.moe4j.format.gguf.GgufMetadata;
import dev.moe4j.model.Architecture;
import dev.moe4j.model.Blocks;
import dev.moe4j.model.ConfigKeys;
import dev.moe4j.model.JsonConfig;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.TensorSource;
import dev.moe4j.model.Weights;
import java.util.Set;

/**
 * Qwen3-MoE: Qwen3 with the MLP of the sparse layers replaced by top-k routed SwiGLU experts (no shared expert,
 * softmax routing over all experts, renormalised top-k when {@code norm_topk_prob}).
 */
public final class Qwen3Moe implements Architecture {

    @Override
    public String name() {
        return "qwen3moe";
    }

    @Override
    public Set<String> huggingFaceModelTypes() {
        return Set.of("qwen3_moe");
    }

    @Override
    public Set<String> huggingFaceClasses() {
        return Set.of("Qwen3MoeForCausalLM");
    }

    @Override
    public ModelConfig config(GgufMetadata md, int vocabSize, boolean tied) {
        String a = name();
        // GGUF has no sparse-step key; released Qwen3-MoE models are MoE in every layer
        ModelConfig.MoeConfig moe = new ModelConfig.MoeConfig(
                md.getInt(ConfigKeys.NUM_EXPERTS.gguf(a), 1),
                md.getInt(ConfigKeys.NUM_EXPERTS_PER_TOK.gguf(a), 1),
                md.getInt(ConfigKeys.EXPERT_INTERMEDIATE_SIZE.gguf(a), 1),
                md.getBoolean(ConfigKeys.NORM_TOPK_PROB.gguf(a), true),
                1, Set.of());
        return ConfigKeys.gguf(md, a, vocabSize, tied, md.getInt(ConfigKeys.INTERMEDIATE_SIZE.gguf(a), 0, 0), moe);
    }

    @Override
    public ModelConfig config(JsonConfig json) {
        // Qwen3MoeConfig has no head_dim field: its attention falls back to hidden / heads
        return ConfigKeys.huggingFace(json, name(), (hidden, heads) -> hidden / heads, c -> {
            Set<Integer> mlpOnly = ConfigKeys.mlpOnlyLayers(c);
            return new ModelConfig.MoeConfig(
                    c.getInt(ConfigKeys.NUM_EXPERTS),
                    c.getInt(ConfigKeys.NUM_EXPERTS_PER_TOK),
                    c.getInt(ConfigKeys.EXPERT_INTERMEDIATE_SIZE),
                    c.getBoolean(ConfigKeys.NORM_TOPK_PROB, false),
                    c.getInt(ConfigKeys.DECODER_SPARSE_STEP, 1),
                    mlpOnly);
        });
    }

    @Override
    public Weights.Layer layer(TensorSource tensors, ModelConfig config, int layer) {
        // mlp_only_layers / the sparse step make some layers dense
        Weights.FeedForward ffn = config.moe().isMoeLayer(layer)
                ? Blocks.moe(tensors, config, layer) : Blocks.dense(tensors, config, layer);
        return new Weights.Layer(Blocks.inputNorm(tensors, config, layer), Blocks.attention(tensors, config, layer),
                Blocks.ffnNorm(tensors, config, layer), ffn);
    }
}
