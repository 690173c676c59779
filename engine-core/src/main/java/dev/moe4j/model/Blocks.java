package dev.moe4j.model;

import dev.moe4j.kernels.Matrix;
import java.util.List;

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

    /** Gated attention: q_proj holds per head the query rows, then the gate rows. */
    public static Weights.GatedAttention gatedAttention(TensorSource tensors, ModelConfig config, int layer) {
        int hidden = config.hiddenSize();
        int hd = config.headDim();
        return new Weights.GatedAttention(
                tensors.matrix(TensorName.ATTN_Q, layer, 2 * config.qDim(), hidden),
                tensors.matrix(TensorName.ATTN_K, layer, config.kvDim(), hidden),
                tensors.matrix(TensorName.ATTN_V, layer, config.kvDim(), hidden),
                tensors.vector(TensorName.ATTN_Q_NORM, layer, hd),
                tensors.vector(TensorName.ATTN_K_NORM, layer, hd),
                tensors.matrix(TensorName.ATTN_OUTPUT, layer, hidden, config.qDim()));
    }

    /** Routed experts plus the shared expert and its sigmoid gate. */
    public static Weights.SharedExpertMoe sharedExpertMoe(TensorSource tensors, ModelConfig config, int layer) {
        int hidden = config.hiddenSize();
        int ffn = config.moe().sharedExpertSize();
        Weights.Dense shared = new Weights.Dense(
                tensors.matrix(TensorName.FFN_SHARED_GATE, layer, ffn, hidden),
                tensors.matrix(TensorName.FFN_SHARED_UP, layer, ffn, hidden),
                tensors.matrix(TensorName.FFN_SHARED_DOWN, layer, hidden, ffn));
        return new Weights.SharedExpertMoe(moe(tensors, config, layer), shared,
                tensors.row(TensorName.FFN_SHARED_GATE_INP, layer, hidden));
    }

    /**
     * Gated DeltaNet with the gate projections given by the architecture (their layout differs by file format):
     * value head j reads its beta input at column {@code betaColumn[j]} and its decay input at
     * {@code alphaColumn[j]} of the gate projections' concatenated outputs, and key head {@code keyHead[j]}.
     */
    public static Weights.DeltaNet deltaNet(TensorSource tensors, ModelConfig config, int layer, List<Matrix> gates,
                                            int[] betaColumn, int[] alphaColumn, int[] keyHead) {
        ModelConfig.LinearAttention d = config.linear();
        int hidden = config.hiddenSize();
        int nv = d.valueHeads();
        return new Weights.DeltaNet(d,
                tensors.matrix(TensorName.LINEAR_QKV, layer, d.convChannels(), hidden),
                tensors.matrix(TensorName.LINEAR_Z, layer, nv * d.valueDim(), hidden),
                gates, betaColumn, alphaColumn, keyHead,
                tensors.floats(TensorName.LINEAR_CONV, layer, d.convChannels(), d.convKernel()),
                tensors.vector(TensorName.LINEAR_DT_BIAS, layer, nv),
                tensors.vector(TensorName.LINEAR_A, layer, nv),
                tensors.vector(TensorName.LINEAR_NORM, layer, d.valueDim()),
                tensors.matrix(TensorName.LINEAR_OUT, layer, hidden, nv * d.valueDim()));
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
