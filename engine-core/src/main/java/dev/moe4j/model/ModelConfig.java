package dev.moe4j.model;

import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.kernels.Rope;
import java.util.Objects;

/**
 * The shape and hyper-parameters of a Qwen3 or Qwen3-MoE model, filled from GGUF metadata or a Hugging Face
 * config.json through {@link ConfigKeys}.
 *
 * @param headDim           per-head width of q, k and v (Qwen3 sets it explicitly; it is not hidden/heads)
 * @param intermediateSize  FFN width of dense layers
 * @param yarn              YaRN scaling of RoPE, or null
 * @param contextLength     the longest sequence the model was configured for
 * @param moe               the expert configuration, or null for a dense model
 * @param tiedEmbeddings    whether the output head reuses the token embedding
 */
public record ModelConfig(
        String architecture,
        int vocabSize,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int intermediateSize,
        float rmsNormEps,
        double ropeTheta,
        Rope.Yarn yarn,
        int contextLength,
        MoeConfig moe,
        boolean tiedEmbeddings) {

    /**
     * @param numExperts              experts per MoE layer
     * @param numExpertsPerTok        experts each token is routed to (top-k)
     * @param expertIntermediateSize  FFN width of one expert
     * @param normTopKProb            renormalise the k chosen routing weights to sum to one
     * @param decoderSparseStep       layers s-1, 2s-1, … are MoE (1 = every layer)
     * @param mlpOnlyLayers           layers forced dense
     */
    public record MoeConfig(int numExperts, int numExpertsPerTok, int expertIntermediateSize, boolean normTopKProb,
                            int decoderSparseStep, java.util.Set<Integer> mlpOnlyLayers) {
        public MoeConfig {
            mlpOnlyLayers = java.util.Set.copyOf(mlpOnlyLayers);
            if (numExperts < 1 || numExpertsPerTok < 1 || numExpertsPerTok > numExperts) {
                throw new UnsupportedModelException("MoE needs 1 <= experts used (" + numExpertsPerTok
                        + ") <= experts (" + numExperts + ")");
            }
            if (expertIntermediateSize < 1 || decoderSparseStep < 1) {
                throw new UnsupportedModelException("MoE expert width " + expertIntermediateSize
                        + " and sparse step " + decoderSparseStep + " must be positive");
            }
        }

        /** Whether layer {@code layer} (0-based) has the MoE block, as Hugging Face's Qwen3MoeDecoderLayer decides. */
        public boolean isMoeLayer(int layer) {
            return !mlpOnlyLayers.contains(layer) && (layer + 1) % decoderSparseStep == 0;
        }
    }

    public ModelConfig {
        Objects.requireNonNull(architecture, "architecture");
        requirePositive("vocab size", vocabSize);
        requirePositive("hidden size", hiddenSize);
        requirePositive("layer count", numLayers);
        requirePositive("attention heads", numHeads);
        requirePositive("key/value heads", numKvHeads);
        requirePositive("head dim", headDim);
        requirePositive("context length", contextLength);
        if (numHeads % numKvHeads != 0) {
            throw new UnsupportedModelException(
                    "attention heads (" + numHeads + ") must be a multiple of key/value heads (" + numKvHeads + ")");
        }
        if (headDim % 2 != 0) {
            throw new UnsupportedModelException("head dim " + headDim + " must be even for RoPE");
        }
        if (!(rmsNormEps > 0) || !(ropeTheta > 0)) {
            throw new UnsupportedModelException("rms eps " + rmsNormEps + " and rope theta " + ropeTheta
                    + " must be positive");
        }
    }

    private static void requirePositive(String what, int value) {
        if (value <= 0) {
            throw new UnsupportedModelException(what + " must be positive, was " + value);
        }
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    public boolean isMoe() {
        return moe != null;
    }

    public Rope rope() {
        return new Rope(headDim, ropeTheta, yarn);
    }

    public ModelConfig withTiedEmbeddings(boolean tied) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim,
                intermediateSize, rmsNormEps, ropeTheta, yarn, contextLength, moe, tied);
    }
}
