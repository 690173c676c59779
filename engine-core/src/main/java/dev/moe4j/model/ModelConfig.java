package dev.moe4j.model;

import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.kernels.Rope;
import java.util.Objects;

/**
 * The shape and hyper-parameters of a model, filled from GGUF metadata or a Hugging Face config.json by its
 * {@link Architecture} (through the shared readers of {@link ConfigKeys}).
 *
 * @param headDim           per-head width of q, k and v (Qwen3 sets it explicitly; it is not hidden/heads)
 * @param intermediateSize  FFN width of dense layers
 * @param yarn              YaRN scaling of RoPE, or null
 * @param contextLength     the longest sequence the model was configured for
 * @param moe               the expert configuration, or null for a dense model
 * @param tiedEmbeddings    whether the output head reuses the token embedding
 * @param ropeDims          rotated dims at the start of each head (the whole head unless rotary is partial)
 * @param linear            the hybrid models' linear-attention layers, or null when every layer is attention
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
        boolean tiedEmbeddings,
        int ropeDims,
        LinearAttention linear) {

    /** Every layer softmax attention with rotary over the whole head. */
    public ModelConfig(String architecture, int vocabSize, int hiddenSize, int numLayers, int numHeads, int numKvHeads,
                       int headDim, int intermediateSize, float rmsNormEps, double ropeTheta, Rope.Yarn yarn,
                       int contextLength, MoeConfig moe, boolean tiedEmbeddings) {
        this(architecture, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize,
                rmsNormEps, ropeTheta, yarn, contextLength, moe, tiedEmbeddings, headDim, null);
    }

    /**
     * The Gated DeltaNet layers of a hybrid model: {@code keyHeads} heads of q and k ({@code keyDim} wide) serve
     * {@code valueHeads} heads of v ({@code valueDim} wide); the causal convolution spans {@code convKernel} tokens.
     * Layer i is full attention iff (i + 1) % {@code fullAttentionInterval} == 0.
     */
    public record LinearAttention(int keyHeads, int valueHeads, int keyDim, int valueDim, int convKernel,
                                  int fullAttentionInterval) {
        public LinearAttention {
            if (keyHeads < 1 || valueHeads < 1 || keyDim < 1 || valueDim < 1 || convKernel < 1
                    || fullAttentionInterval < 1) {
                throw new UnsupportedModelException("linear attention sizes must be positive: key heads " + keyHeads
                        + ", value heads " + valueHeads + ", key dim " + keyDim + ", value dim " + valueDim
                        + ", conv kernel " + convKernel + ", full attention interval " + fullAttentionInterval);
            }
            if (valueHeads % keyHeads != 0) {
                throw new UnsupportedModelException("linear attention value heads (" + valueHeads
                        + ") must be a multiple of key heads (" + keyHeads + ")");
            }
        }

        public boolean isFullAttention(int layer) {
            return (layer + 1) % fullAttentionInterval == 0;
        }

        /** Channels of the causal convolution: q, k and v. */
        public int convChannels() {
            return 2 * keyHeads * keyDim + valueHeads * valueDim;
        }
    }

    /**
     * @param numExperts              experts per MoE layer
     * @param numExpertsPerTok        experts each token is routed to (top-k)
     * @param expertIntermediateSize  FFN width of one expert
     * @param normTopKProb            renormalise the k chosen routing weights to sum to one
     * @param decoderSparseStep       layers s-1, 2s-1, … are MoE (1 = every layer)
     * @param mlpOnlyLayers           layers forced dense
     */
    public record MoeConfig(int numExperts, int numExpertsPerTok, int expertIntermediateSize, boolean normTopKProb,
                            int decoderSparseStep, java.util.Set<Integer> mlpOnlyLayers, int sharedExpertSize) {

        /** No shared expert. */
        public MoeConfig(int numExperts, int numExpertsPerTok, int expertIntermediateSize, boolean normTopKProb,
                         int decoderSparseStep, java.util.Set<Integer> mlpOnlyLayers) {
            this(numExperts, numExpertsPerTok, expertIntermediateSize, normTopKProb, decoderSparseStep, mlpOnlyLayers,
                    0);
        }

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
        if (ropeDims < 2 || ropeDims > headDim || ropeDims % 2 != 0) {
            throw new UnsupportedModelException("rotary dims " + ropeDims + " must be even and within the head dim "
                    + headDim);
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
        return new Rope(ropeDims, ropeTheta, yarn);
    }

    /** This config with partial rotary and (for hybrid models) linear-attention layers. */
    public ModelConfig withHybrid(int ropeDims, LinearAttention linear) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim,
                intermediateSize, rmsNormEps, ropeTheta, yarn, contextLength, moe, tiedEmbeddings, ropeDims, linear);
    }

    /** This config with dense layers {@code intermediateSize} wide (0: none). */
    public ModelConfig withIntermediateSize(int intermediateSize) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim,
                intermediateSize, rmsNormEps, ropeTheta, yarn, contextLength, moe, tiedEmbeddings, ropeDims, linear);
    }

    public ModelConfig withTiedEmbeddings(boolean tied) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim,
                intermediateSize, rmsNormEps, ropeTheta, yarn, contextLength, moe, tied, ropeDims, linear);
    }
}
