package dev.moe4j.model.qwen3;

import dev.moe4j.model.Architecture;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.TensorSource;
import dev.moe4j.model.Weights;

/** Qwen3 dense: the shared decoder stack with a SwiGLU MLP in every layer. */
public final class Qwen3 implements Architecture {

    @Override
    public String name() {
        return "qwen3";
    }

    @Override
    public Weights.FeedForward feedForward(TensorSource tensors, ModelConfig config, int layer, float[] norm) {
        return Architecture.denseFeedForward(tensors, config, layer, norm);
    }
}
