package dev.moe4j.generate;

import dev.moe4j.api.SamplingParams;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The straightforward sampler the engine's {@link Sampler} must agree with token for token: every candidate boxed
 * and sorted by a comparator, then the same truncations and draw.
 */
final class ReferenceSampler {
    private final SamplingParams params;
    private final int vocab;
    private final SplittableRandom random;
    private final int[] counts;
    // scratch reused across calls: candidate ids and their logits / probabilities
    private final int[] ids;
    private final float[] values;

    /** @param vocab ids ≥ vocab are never produced (e.g. the padding rows of Qwen3's output head) */
    ReferenceSampler(SamplingParams params, int vocab, long seed) {
        this.params = params;
        this.vocab = vocab;
        this.random = new SplittableRandom(seed);
        this.counts = new int[vocab];
        this.ids = new int[vocab];
        this.values = new float[vocab];
    }

    /** Records a token as generated (sampled or forced), for the penalties. */
    void accept(int token) {
        if (token >= 0 && token < vocab) {
            counts[token]++;
        }
    }

    /** Picks the next token from {@code logits[offset, offset + vocab)}; the array is not modified. */
    int sample(float[] logits, int offset) {
        int n = 0;
        for (int id = 0; id < vocab; id++) {
            float v = penalised(logits[offset + id], counts[id]);
            if (v == Float.NEGATIVE_INFINITY || Float.isNaN(v)) {
                continue;
            }
            ids[n] = id;
            values[n] = v;
            n++;
        }
        if (n == 0) {
            throw new IllegalStateException("every logit is -inf or NaN: nothing to sample");
        }
        if (params.isGreedy()) {
            int best = 0;
            for (int i = 1; i < n; i++) {
                if (values[i] > values[best]) {
                    best = i;
                }
            }
            return ids[best];
        }
        float invT = (float) (1.0 / params.temperature());
        for (int i = 0; i < n; i++) {
            values[i] *= invT;
        }
        // candidates sorted by logit, descending (ties: lower id first), truncated to top-k
        n = sortDescending(n, params.topK() > 0 ? Math.min(params.topK(), n) : n);
        float max = values[0];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            values[i] = (float) Math.exp(values[i] - max);
            sum += values[i];
        }
        // top-p: the smallest prefix whose probability reaches p
        if (params.topP() < 1) {
            double cumulative = 0;
            int keep = n;
            for (int i = 0; i < n; i++) {
                cumulative += values[i] / sum;
                if (cumulative >= params.topP()) {
                    keep = i + 1;
                    break;
                }
            }
            n = keep;
        }
        // min-p: relative to the most likely token (values[0] is exp(0) = 1)
        if (params.minP() > 0) {
            int keep = 1;
            while (keep < n && values[keep] >= params.minP() * values[0]) {
                keep++;
            }
            n = keep;
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += values[i];
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < n; i++) {
            r -= values[i];
            if (r < 0) {
                return ids[i];
            }
        }
        return ids[n - 1];
    }

    private float penalised(float logit, int count) {
        if (count == 0) {
            return logit;
        }
        float v = logit;
        if (params.repetitionPenalty() != 1) {
            v = v > 0 ? (float) (v / params.repetitionPenalty()) : (float) (v * params.repetitionPenalty());
        }
        return (float) (v - params.presencePenalty() - params.frequencyPenalty() * count);
    }

    /** Sorts all n candidates by value descending, ids ascending on ties; returns {@code keep}. */
    private int sortDescending(int n, int keep) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> values[a] > values[b] || (values[a] == values[b] && ids[a] < ids[b]) ? -1
                : values[b] > values[a] || (values[a] == values[b] && ids[b] < ids[a]) ? 1 : 0);
        int[] sortedIds = new int[n];
        float[] sortedValues = new float[n];
        for (int i = 0; i < n; i++) {
            sortedIds[i] = ids[order[i]];
            sortedValues[i] = values[order[i]];
        }
        System.arraycopy(sortedIds, 0, ids, 0, n);
        System.arraycopy(sortedValues, 0, values, 0, n);
        return keep;
    }
}
