package dev.moe4j.generate;

import dev.moe4j.api.SamplingParams;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses tokens for one sequence: its own seeded random stream and its own counts of generated tokens (for the
 * penalties). Not thread-safe; one per sequence.
 */
public final class Sampler {
    private final SamplingParams params;
    private final int vocab;
    private final SplittableRandom random;
    private final int[] counts;
    // scratch reused across calls: candidate ids and their logits / probabilities
    private final int[] ids;
    private final float[] values;

    /** @param vocab ids ≥ vocab are never produced (e.g. the padding rows of Qwen3's output head) */
    public Sampler(SamplingParams params, int vocab, long seed) {
        this.params = params;
        this.vocab = vocab;
        this.random = new SplittableRandom(seed);
        this.counts = new int[vocab];
        this.ids = new int[vocab];
        this.values = new float[vocab];
    }

    /** Records a token as generated (sampled or forced), for the penalties. */
    public void accept(int token) {
        if (token >= 0 && token < vocab) {
            counts[token]++;
        }
    }

    /** Picks the next token from {@code logits[offset, offset + vocab)}; the array is not modified. */
    public int sample(float[] logits, int offset) {
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

    /**
     * Orders the first {@code keep} positions of (ids, values)[0, n) by value descending, ids ascending on ties.
     * Returns {@code keep}. O(n log keep) through a bounded min-heap when keep is small.
     */
    private int sortDescending(int n, int keep) {
        Integer[] order;
        if (keep < n) {
            // min-heap of the best `keep` candidates seen so far, by (value asc, id desc)
            int[] heap = new int[keep];
            int size = 0;
            for (int i = 0; i < n; i++) {
                if (size < keep) {
                    heap[size] = i;
                    siftUp(heap, size++);
                } else if (better(i, heap[0])) {
                    heap[0] = i;
                    siftDown(heap, size);
                }
            }
            order = new Integer[keep];
            for (int i = 0; i < keep; i++) {
                order[i] = heap[i];
            }
        } else {
            order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
        }
        Arrays.sort(order, (a, b) -> better(a, b) ? -1 : better(b, a) ? 1 : 0);
        int[] sortedIds = new int[order.length];
        float[] sortedValues = new float[order.length];
        for (int i = 0; i < order.length; i++) {
            sortedIds[i] = ids[order[i]];
            sortedValues[i] = values[order[i]];
        }
        System.arraycopy(sortedIds, 0, ids, 0, order.length);
        System.arraycopy(sortedValues, 0, values, 0, order.length);
        return order.length;
    }

    private boolean better(int a, int b) {
        return values[a] > values[b] || (values[a] == values[b] && ids[a] < ids[b]);
    }

    private void siftUp(int[] heap, int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (better(heap[parent], heap[i])) {
                swap(heap, parent, i);
                i = parent;
            } else {
                return;
            }
        }
    }

    private void siftDown(int[] heap, int size) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            int r = l + 1;
            int worst = i;
            if (l < size && better(heap[worst], heap[l])) {
                worst = l;
            }
            if (r < size && better(heap[worst], heap[r])) {
                worst = r;
            }
            if (worst == i) {
                return;
            }
            swap(heap, i, worst);
            i = worst;
        }
    }

    private static void swap(int[] a, int i, int j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
