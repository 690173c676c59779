package dev.moe4j.model;

/**
 * The shared blocks' tensors, resolved once for the architectures that use them: each returns the weight record
 * its block computes with.
 */
public final class Blocks {
    private Blocks() {}

    /** Input RMSNorm weight of layer {@code layer} [hidden]. */
    public static float[] inputNorm(TensorSource tensors, ModelConfig config, int layer) {
        return tensors.vector(TensorName.ATTN_NORM, layer, config.hiddenSize());
    }

    /** Post-attention (feed-forward input) RMSNorm weight [hidden]. */
    public static float[] ffnNorm(TensorSource tensors, ModelConfig config, int layer) {
        return tensors.vector(TensorName.FFN_NORM, layer, config.hiddenSize());
    }

    /** Softmax attention with QK-norm and rotary over the whole head (Qwen3). */
    public static Weights.Attention attention(TensorSource tensors, ModelConfig config, int layer) {
        int hidden = config.hiddenSize();
        int hd = config.headDim();
        return new Weights.Attention(
                tensors.matrix(TensorName.ATTN_Q, layer, config.qDim(), hidden),
                tensors.matrix(TensorName.ATTN_K, layer, config.kvDim(), hidden),
                tensors.matrix(TensorName.ATTN_V, layer, config.kvDim(), hidden),
                tensors.vector(TensorName.ATTN_Q_NORM, layer, hd),
                tensors.vector(TensorName.ATTN_K_NORM, layer, hd),
                tensors.matrix(TensorName.ATTN_OUTPUT, layer, hidden, config.qDim()));
    }

    /** The dense SwiGLU feed-forward. */
    public static Weights.Dense dense(TensorSource tensors, ModelConfig config, int layer) {
        int hidden = config.hiddenSize();
        int ffn = config.intermediateSize();
        return new Weights.Dense(
                tensors.matrix(TensorName.FFN_GATE, layer, ffn, hidden),
                tensors.matrix(TensorName.FFN_UP, layer, ffn, hidden),
                tensors.matrix(TensorName.FFN_DOWN, layer, hidden, ffn));
    }

    /** Routed SwiGLU experts: softmax over all experts, top-k, renormalised when the config says so. */
    public static Weights.Moe moe(TensorSource tensors, ModelConfig config, int layer) {
        ModelConfig.MoeConfig moe = config.moe();
        int hidden = config.hiddenSize();
        int experts = moe.numExperts();
        int ffn = moe.expertIntermediateSize();
        return new Weights.Moe(
                tensors.matrix(TensorName.FFN_ROUTER, layer, experts, hidden),
                tensors.experts(TensorName.FFN_GATE_EXPERTS, layer, experts, ffn, hidden),
                tensors.experts(TensorName.FFN_UP_EXPERTS, layer, experts, ffn, hidden),
                tensors.experts(TensorName.FFN_DOWN_EXPERTS, layer, experts, hidden, ffn),
                moe.numExpertsPerTok(), moe.normTopKProb());
    }
}
