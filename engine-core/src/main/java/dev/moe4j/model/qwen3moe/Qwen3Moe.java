package dev.moe4j.model.qwen3moe;

import dev.moe4j.model.Architecture;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.TensorName;
import dev.moe4j.model.TensorSource;
import dev.moe4j.model.Weights;

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
    public Weights.FeedForward feedForward(TensorSource tensors, ModelConfig config, int layer, float[] norm) {
        ModelConfig.MoeConfig moe = config.moe();
        if (!moe.isMoeLayer(layer)) { // only diff with the dense layer choice: mlp_only_layers / sparse step
            return Architecture.denseFeedForward(tensors, config, layer, norm);
        }
        int hidden = config.hiddenSize();
        int experts = moe.numExperts();
        int ffn = moe.expertIntermediateSize();
        return new Weights.Moe(norm,
                tensors.matrix(TensorName.FFN_ROUTER, layer, experts, hidden),
                tensors.experts(TensorName.FFN_GATE_EXPERTS, layer, experts, ffn, hidden),
                tensors.experts(TensorName.FFN_UP_EXPERTS, layer, experts, ffn, hidden),
                tensors.experts(TensorName.FFN_DOWN_EXPERTS, layer, experts, hidden, ffn),
                moe.numExpertsPerTok(), moe.normTopKProb());
    }
}
