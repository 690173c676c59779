package dev.moe4j.model;

import dev.moe4j.kernels.Kernels;
import java.util.Arrays;

/** The feed-forward half of a layer: reads {@code s.xn}, writes {@code s.out}. */
final class FeedForwardBlock {
    private FeedForwardBlock() {}

    static void forward(Kernels kernels, ModelConfig config, Weights.FeedForward ffn, int n, Scratch s) {
        switch (ffn) {
            case Weights.Dense dense -> dense(kernels, dense, n, s);
            case Weights.Moe moe -> moe(kernels, config, moe, n, s);
        }
    }

    /** down · (silu(gate · x) ⊙ (up · x)) */
    private static void dense(Kernels kernels, Weights.Dense w, int n, Scratch s) {
        int ffn = w.gate().rows();
        kernels.matmul(s.gate, w.gate(), s.xn, n);
        kernels.matmul(s.up, w.up(), s.xn, n);
        kernels.siluMul(s.gate, 0, s.up, 0, n * ffn);
        kernels.matmul(s.out, w.down(), s.gate, n);
    }

    /**
     * Router softmax over all experts in F32 → top-k per token → optional renormalisation → tokens grouped by
     * expert, so each chosen expert runs once over its group → weighted scatter-add.
     */
    private static void moe(Kernels kernels, ModelConfig config, Weights.Moe w, int n, Scratch s) {
        int hidden = config.hiddenSize();
        int experts = w.numExperts();
        int topK = w.numExpertsPerTok();
        kernels.matmul(s.router, w.router(), s.xn, n);

        int[] perExpert = new int[experts + 1];
        for (int t = 0; t < n; t++) {
            int off = t * experts;
            kernels.softmax(s.router, off, experts);
            float sum = 0f;
            for (int j = 0; j < topK; j++) {
                // the j-th largest probability; ties go to the lower expert index
                int best = -1;
                for (int e = 0; e < experts; e++) {
                    if (!isChosen(s.chosen, t * topK, j, e) && (best < 0 || s.router[off + e] > s.router[off + best])) {
                        best = e;
                    }
                }
                s.chosen[t * topK + j] = best;
                s.chosenWeights[t * topK + j] = s.router[off + best];
                sum += s.router[off + best];
                perExpert[best + 1]++;
            }
            if (w.normTopKProb()) {
                for (int j = 0; j < topK; j++) {
                    s.chosenWeights[t * topK + j] /= sum;
                }
            }
        }
        // group routed slots by expert (counting sort)
        for (int e = 0; e < experts; e++) {
            perExpert[e + 1] += perExpert[e];
        }
        int[] fill = Arrays.copyOf(perExpert, experts);
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < topK; j++) {
                int slot = fill[s.chosen[t * topK + j]]++;
                s.expertTokens[slot] = t;
                s.expertWeights[slot] = s.chosenWeights[t * topK + j];
            }
        }

        Arrays.fill(s.out, 0, n * hidden, 0f);
        for (int e = 0; e < experts; e++) {
            int first = perExpert[e];
            int count = perExpert[e + 1] - first;
            if (count == 0) {
                continue;
            }
            for (int i = 0; i < count; i++) {
                System.arraycopy(s.xn, s.expertTokens[first + i] * hidden, s.expertIn, i * hidden, hidden);
            }
            int ffn = w.gate().get(e).rows();
            kernels.matmul(s.expertGate, w.gate().get(e), s.expertIn, count);
            kernels.matmul(s.expertUp, w.up().get(e), s.expertIn, count);
            kernels.siluMul(s.expertGate, 0, s.expertUp, 0, count * ffn);
            kernels.matmul(s.expertOut, w.down().get(e), s.expertGate, count);
            for (int i = 0; i < count; i++) {
                int t = s.expertTokens[first + i];
                kernels.axpy(s.out, t * hidden, s.expertWeights[first + i], s.expertOut, i * hidden, hidden);
            }
        }
    }

    private static boolean isChosen(int[] chosen, int base, int count, int expert) {
        for (int j = 0; j < count; j++) {
            if (chosen[base + j] == expert) {
                return true;
            }
        }
        return false;
    }
}
