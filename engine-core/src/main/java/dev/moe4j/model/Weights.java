package dev.moe4j.model;

import dev.moe4j.kernels.Matrix;
import java.util.List;

/**
 * The immutable weights of a model, shared by every sequence and thread. Matrices are views over the mapped model
 * file; norm weights (small) are widened to F32 arrays at load. Arrays inside these records are never written
 * after loading.
 */
public final class Weights {
    private Weights() {}

    /** @param norm input RMSNorm weight [hidden]; qNorm, kNorm [headDim]; q [H·hd][hidden]; o [hidden][H·hd] */
    public record Attention(float[] norm, Matrix q, Matrix k, Matrix v, float[] qNorm, float[] kNorm, Matrix o) {}

    /** The feed-forward half of a layer: a dense SwiGLU or a routed mixture of SwiGLU experts. */
    public sealed interface FeedForward permits Dense, Moe {
        /** Post-attention RMSNorm weight [hidden]. */
        float[] norm();
    }

    /** gate and up [ffn][hidden], down [hidden][ffn]. */
    public record Dense(float[] norm, Matrix gate, Matrix up, Matrix down) implements FeedForward {}

    /**
     * router [experts][hidden]; per expert e: gate.get(e), up.get(e) [expertFfn][hidden], down.get(e)
     * [hidden][expertFfn].
     */
    public record Moe(float[] norm, Matrix router, List<Matrix> gate, List<Matrix> up, List<Matrix> down,
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

    public record Layer(Attention attention, FeedForward feedForward) {}

    /** embedding [vocab][hidden]; output [vocab][hidden] (the embedding itself when tied). */
    public record Model(Matrix embedding, List<Layer> layers, float[] outputNorm, Matrix output) {
        public Model {
            layers = List.copyOf(layers);
        }
    }
}
