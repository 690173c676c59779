package dev.moe4j.model.qwen3;

import dev.moe4j.format.gguf.GgufMetadata;
import dev.moe4j.model.Architecture;
import dev.moe4j.model.Blocks;
import dev.moe4j.model.ConfigKeys;
import dev.moe4j.model.JsonConfig;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.TensorSource;
import dev.moe4j.model.Weights;
import java.util.Set;

/** Qwen3 dense: softmax attention with QK-norm and a SwiGLU MLP in every layer. */
public final class Qwen3 implements Architecture {

    @Override
    public String name() {
        return "qwen3";
    }

    @Override
    public Set<String> huggingFaceModelTypes() {
        return Set.of("qwen3");
    }

    @Override
    public Set<String> huggingFaceClasses() {
        return Set.of("Qwen3ForCausalLM");
    }

    @Override
    public ModelConfig config(GgufMetadata md, int vocabSize, boolean tied) {
        return ConfigKeys.gguf(md, name(), vocabSize, tied, md.getInt(ConfigKeys.INTERMEDIATE_SIZE.gguf(name()), 1),
                null);
    }

    @Override
    public ModelConfig config(JsonConfig json) {
        // head_dim defaults to 128: a Qwen3Config field
        return ConfigKeys.huggingFace(json, name(), (hidden, heads) -> 128, null);
    }

    @Override
    public Weights.Layer layer(TensorSource tensors, ModelConfig config, int layer) {
        return new Weights.Layer(Blocks.inputNorm(tensors, config, layer), Blocks.attention(tensors, config, layer),
                Blocks.ffnNorm(tensors, config, layer), Blocks.dense(tensors, config, layer));
    }
}
