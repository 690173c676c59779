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
    public sealed interface Mixer permits Attention {
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

    /** The feed-forward half of a layer: a dense SwiGLU or a routed mixture of SwiGLU experts. */
    public sealed interface FeedForward permits Dense, Moe {}

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

    /** embedding [vocab][hidden]; output [vocab][hidden] (the embedding itself when tied). */
    public record Model(Matrix embedding, List<Layer> layers, float[] outputNorm, Matrix output) {
        public Model {
            layers = List.copyOf(layers);
        }
    }
}
