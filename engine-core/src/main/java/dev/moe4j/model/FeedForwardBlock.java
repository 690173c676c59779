package dev.moe4j.model;

import dev.moe4j.kernels.Kernels;
import java.util.Arrays;

/** The feed-forward half of a layer: reads {@code s.xn}, writes {@code s.out}. */
final class FeedForwardBlock {
    private FeedForwardBlock() {}

    static void forward(Kernels kernels, ModelConfig config, Weights.FeedForward ffn, int n, Scratch s) {
        switch (ffn) {
            case Weights.Dense dense -> dense(kernels, dense, n, s, s.out);
            case Weights.Moe moe -> moe(kernels, config, moe, n, s);
            case Weights.SharedExpertMoe shared -> {
                moe(kernels, config, shared.routed(), n, s);
                dense(kernels, shared.shared(), n, s, s.sharedOut);
                int hidden = config.hiddenSize();
                for (int t = 0; t < n; t++) {
                    float logit = 0f;
                    for (int i = 0; i < hidden; i++) {
                        logit = Math.fma(shared.gate()[i], s.xn[t * hidden + i], logit);
                    }
                    float weight = (float) (1.0 / (1.0 + Math.exp(-logit)));
                    kernels.axpy(s.out, t * hidden, weight, s.sharedOut, t * hidden, hidden);
                }
            }
        }
    }

    /** down · (silu(gate · x) ⊙ (up · x)) into {@code out}. */
    private static void dense(Kernels kernels, Weights.Dense w, int n, Scratch s, float[] out) {
        int ffn = w.gate().rows();
        kernels.matmulAll(new Kernels.Product(s.gate, w.gate(), s.xn, n), new Kernels.Product(s.up, w.up(), s.xn, n));
        kernels.siluMul(s.gate, 0, s.up, 0, n * ffn);
        kernels.matmul(out, w.down(), s.gate, n);
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
        if (n <= Scratch.SMALL_BATCH) {
            smallBatchExperts(kernels, w, perExpert, hidden, s);
            return;
        }
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
            kernels.matmulAll(new Kernels.Product(s.expertGate, w.gate().get(e), s.expertIn, count),
                    new Kernels.Product(s.expertUp, w.up().get(e), s.expertIn, count));
            kernels.siluMul(s.expertGate, 0, s.expertUp, 0, count * ffn);
            kernels.matmul(s.expertOut, w.down().get(e), s.expertGate, count);
            for (int i = 0; i < count; i++) {
                int t = s.expertTokens[first + i];
                kernels.axpy(s.out, t * hidden, s.expertWeights[first + i], s.expertOut, i * hidden, hidden);
            }
        }
    }

    /**
     * The experts of a decode-sized batch: each active expert gets its own buffers, so that the gate and up
     * products of all of them run in one parallel region and their down products in another (a decode step's
     * experts are small matrices; per-expert hand-offs cost a quarter of the time). The same products and the same
     * scatter-add order as the loop above, so the same results.
     */
    private static void smallBatchExperts(Kernels kernels, Weights.Moe w, int[] perExpert, int hidden, Scratch s) {
        int experts = w.numExperts();
        int active = 0;
        for (int e = 0; e < experts; e++) {
            if (perExpert[e + 1] > perExpert[e]) {
                active++;
            }
        }
        s.ensureExpertSlots(active);
        int[] expertOf = new int[active];
        Kernels.Product[] gateUp = new Kernels.Product[2 * active];
        Kernels.Product[] down = new Kernels.Product[active];
        int a = 0;
        for (int e = 0; e < experts; e++) {
            int first = perExpert[e];
            int count = perExpert[e + 1] - first;
            if (count == 0) {
                continue;
            }
            for (int i = 0; i < count; i++) {
                System.arraycopy(s.xn, s.expertTokens[first + i] * hidden, s.slotIn[a], i * hidden, hidden);
            }
            expertOf[a] = e;
            gateUp[2 * a] = new Kernels.Product(s.slotGate[a], w.gate().get(e), s.slotIn[a], count);
            gateUp[2 * a + 1] = new Kernels.Product(s.slotUp[a], w.up().get(e), s.slotIn[a], count);
            down[a] = new Kernels.Product(s.slotOut[a], w.down().get(e), s.slotGate[a], count);
            a++;
        }
        kernels.matmulAll(gateUp);
        for (a = 0; a < active; a++) {
            int e = expertOf[a];
            int count = perExpert[e + 1] - perExpert[e];
            kernels.siluMul(s.slotGate[a], 0, s.slotUp[a], 0, count * w.gate().get(e).rows());
        }
        kernels.matmulAll(down);
        for (a = 0; a < active; a++) {
            int e = expertOf[a];
            int first = perExpert[e];
            for (int i = 0; i < perExpert[e + 1] - first; i++) {
                int t = s.expertTokens[first + i];
                kernels.axpy(s.out, t * hidden, s.expertWeights[first + i], s.slotOut[a], i * hidden, hidden);
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
