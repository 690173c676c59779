package dev.moe4j.model;

import dev.moe4j.cache.LayerState;
import dev.moe4j.kernels.Matrix;
import java.util.List;

/**
 * The immutable weights of a model, shared by every sequence and thread. Matrices are views over the mapped model
 * file (or its repacked copy); norm weights (small) are widened to F32 arrays at load. Arrays inside these records
 * are never written after loading.
 */
public final class Weights {
    private Weights() {}

    /**
     * One decoder layer: {@code x += mixer(rmsnorm(x, inputNorm)); x += feedForward(rmsnorm(x, ffnNorm))}.
     *
     * @param inputNorm the mixer's input RMSNorm weight [hidden]
     * @param ffnNorm   the feed-forward's input RMSNorm weight [hidden]
     */
    public record Layer(float[] inputNorm, Mixer mixer, float[] ffnNorm, FeedForward feedForward) {}

    /** How a layer mixes information across positions: the part that keeps per-sequence state. */
    public sealed interface Mixer permits Attention, GatedAttention, DeltaNet {
        /** Every matrix of the mixer (each read once per decoded token). */
        List<Matrix> matrices();

        /** What the mixer keeps per sequence. */
        LayerState state();
    }

    /**
     * Softmax self-attention over the paged KV cache, with RMS QK-norm per head and rotary on the whole head.
     * q [H·hd][hidden], k and v [KV·hd][hidden], qNorm and kNorm [hd], o [hidden][H·hd].
     */
    public record Attention(Matrix q, Matrix k, Matrix v, float[] qNorm, float[] kNorm, Matrix o) implements Mixer {
        @Override
        public List<Matrix> matrices() {
            return List.of(q, k, v, o);
        }

        @Override
        public LayerState state() {
            return new LayerState.Kv(k.rows());
        }
    }

    /**
     * Gated softmax attention (Qwen3-Next, Qwen3.5): qGate [H·2·hd][hidden] holds per head hd query rows, then hd
     * gate rows; the attention output is multiplied by sigmoid(gate) before o. QK-norm as in {@link Attention};
     * rotary on the first {@code ModelConfig.ropeDims()} of each head.
     */
    public record GatedAttention(Matrix qGate, Matrix k, Matrix v, float[] qNorm, float[] kNorm, Matrix o)
            implements Mixer {
        @Override
        public List<Matrix> matrices() {
            return List.of(qGate, k, v, o);
        }

        @Override
        public LayerState state() {
            return new LayerState.Kv(k.rows());
        }
    }

    /**
     * Gated DeltaNet linear attention (Qwen3-Next, Qwen3.5). qkv [2·nk·dk + nv·dv][hidden] (all q heads, all k
     * heads, all v heads), z [nv·dv][hidden]; the gate projections {@code gates} (one fused matrix or two) give per
     * token the inputs of beta and of the decay, read at columns {@code betaColumn[j]} and {@code alphaColumn[j]}
     * of their concatenated outputs for value head j; value head j reads key head {@code keyHead[j]}.
     * conv [channels][kernel] as stored, dtBias and ssmA (= −exp(A_log)) [nv], norm [dv] (the gated RMSNorm's
     * weight, one for all heads), out [hidden][nv·dv].
     */
    public record DeltaNet(ModelConfig.LinearAttention dims, Matrix qkv, Matrix z, List<Matrix> gates,
                           int[] betaColumn, int[] alphaColumn, int[] keyHead, float[] conv, float[] dtBias,
                           float[] ssmA, float[] norm, Matrix out) implements Mixer {
        public DeltaNet {
            gates = List.copyOf(gates);
        }

        @Override
        public List<Matrix> matrices() {
            List<Matrix> all = new java.util.ArrayList<>(List.of(qkv, z, out));
            all.addAll(gates);
            return all;
        }

        @Override
        public LayerState state() {
            return new LayerState.Recurrent((dims.convKernel() - 1) * dims.convChannels(),
                    dims.valueHeads() * dims.keyDim() * dims.valueDim());
        }
    }

    /** The feed-forward half of a layer: a dense SwiGLU, routed SwiGLU experts, or those plus a shared expert. */
    public sealed interface FeedForward permits Dense, Moe, SharedExpertMoe {}

    /** gate and up [ffn][hidden], down [hidden][ffn]. */
    public record Dense(Matrix gate, Matrix up, Matrix down) implements FeedForward {}

    /**
     * router [experts][hidden]; per expert e: gate.get(e), up.get(e) [expertFfn][hidden], down.get(e)
     * [hidden][expertFfn].
     */
    public record Moe(Matrix router, List<Matrix> gate, List<Matrix> up, List<Matrix> down,
                      int numExpertsPerTok, boolean normTopKProb) implements FeedForward {
        public Moe {
            gate = List.copyOf(gate);
            up = List.copyOf(up);
            down = List.copyOf(down);
        }

        public int numExperts() {
            return gate.size();
        }
    }

    /** Routed experts plus a shared expert that every token takes, weighted by sigmoid(gate · x); gate [hidden]. */
    public record SharedExpertMoe(Moe routed, Dense shared, float[] gate) implements FeedForward {}

    /** embedding [vocab][hidden]; output [vocab][hidden] (the embedding itself when tied). */
    public record Model(Matrix embedding, List<Layer> layers, float[] outputNorm, Matrix output) {
        public Model {
            layers = List.copyOf(layers);
        }
    }
}
