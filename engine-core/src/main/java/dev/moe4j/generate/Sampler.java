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
    // the ranking's sort keys, taken at the first sample that ranks (a queued request holds none)
    private long[] keys;
    private long[] keysSpare;

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

    /**
     * Picks the next token from {@code logits[offset, offset + vocab)}; the array is not modified.
     *
     * <p>The definition: the candidates (finite or +inf penalised logits) scaled by 1/T and ranked by value, ties to
     * the lower id; the first top-k of them (all with top-k 0); weights e^(v − max) as floats; top-p keeps the shortest
     * prefix of the ranking whose weights, each divided by the sum of all weights (summed in rank order, double),
     * add up to p; min-p keeps from that the prefix whose weights are at least min-p; one uniform draw times the kept
     * weights' sum (rank order) is walked down the ranking. Sums in double run in rank order, so their rounding is
     * part of the definition; the ranking is a primitive sort (a radix sort over the whole vocabulary when top-k
     * does not shorten it), and min-p alone ranks only the candidates it keeps.
     */
    public int sample(float[] logits, int offset) {
        int n = candidates(logits, offset);
        if (params.isGreedy()) {
            return best(n);
        }
        return draw(weigh(n));
    }

    /**
     * Speculative verification of a drafted token against the distribution {@link #sample} draws from: with
     * probability p(draft) it returns {@code draft}; otherwise it draws from that distribution with the draft's
     * weight removed. Because the draft is proposed with certainty, the result has exactly the distribution of
     * {@link #sample} (rejection sampling with a one-point proposal). Greedy: the most likely token, as {@link #sample}.
     * Takes one uniform from the stream, and one more when the draft is rejected.
     */
    public int verify(float[] logits, int offset, int draft) {
        int n = candidates(logits, offset);
        if (params.isGreedy()) {
            return best(n);
        }
        n = weigh(n);
        double total = 0;
        int at = -1;
        for (int i = 0; i < n; i++) {
            total += values[i];
            if (ids[i] == draft) {
                at = i;
            }
        }
        double u = random.nextDouble();
        if (at >= 0 && u * total < values[at]) {
            return draft;
        }
        if (at >= 0) {
            values[at] = 0;
        }
        return draw(n);
    }

    /** Whether this sampler picks the most likely token (no random stream is used). */
    public boolean isGreedy() {
        return params.isGreedy();
    }

    /** Fills (ids, values) with the finite (or +inf) penalised logits; returns how many. */
    private int candidates(float[] logits, int offset) {
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
        return n;
    }

    private int best(int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return ids[best];
    }

    /**
     * Scales, ranks and weighs the n candidates, then applies top-k, top-p and min-p: the kept candidates are first
     * in (ids, values) with their weights; returns how many.
     */
    private int weigh(int n) {
        if (keys == null) {
            keys = new long[vocab];
            keysSpare = new long[vocab];
        }
        float invT = (float) (1.0 / params.temperature());
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            values[i] *= invT;
            max = Math.max(max, values[i]);
        }
        if (params.topK() > 0 && params.topK() < n) {
            n = topK(n, params.topK());
        } else if (params.topP() >= 1 && params.minP() > 0 && max != Float.POSITIVE_INFINITY) {
            return minPOnly(n, max);
        } else {
            sortAll(n);
        }
        // ranked: weights relative to the most likely token
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
        return n;
    }

    /** Draws from the first {@code n} ranked candidates by their weights. */
    private int draw(int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += values[i];
        }
        double r = random.nextDouble() * total;
        int last = n - 1;
        for (int i = 0; i < n; i++) {
            r -= values[i];
            if (r < 0) {
                return ids[i];
            }
            if (values[i] > 0) {
                last = i;
            }
        }
        return ids[last]; // rounding left r at 0: the last candidate with weight (never a rejected draft's)
    }

    /**
     * Min-p without top-k or top-p: ranks and weighs only the candidates whose weight reaches min-p (the same prefix
     * of the ranking as weighing all of them), leaving them first in (ids, values). Returns how many: at least the
     * most likely one, whose weight is 1, when max is finite.
     */
    private int minPOnly(int n, float max) {
        // exp(d) >= minP needs d >= ln(minP); the margin covers exp's and float's rounding
        double floor = Math.log(params.minP()) - 1e-6;
        int kept = 0;
        for (int i = 0; i < n; i++) {
            double d = values[i] - max;
            if (d >= floor) {
                float w = (float) Math.exp(d);
                if (w >= params.minP()) {
                    keys[kept++] = rankKey(values[i], i);
                }
            }
        }
        applyOrder(kept, false);
        for (int i = 0; i < kept; i++) {
            values[i] = (float) Math.exp(values[i] - max);
        }
        return kept;
    }

    /**
     * A candidate's place in the ranking as one signed long: the value's order bits, negated so that larger values
     * come first (−0 counted as +0, as the float comparison does), then the candidate's index, which grows with its
     * id, so that ties go to the lower id.
     */
    private static long rankKey(float value, int index) {
        int bits = Float.floatToRawIntBits(value == 0 ? 0f : value);
        int ascending = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return ((long) ~ascending << 32) | index;
    }

    /** Ranks all n candidates, in place. */
    private void sortAll(int n) {
        for (int i = 0; i < n; i++) {
            keys[i] = rankKey(values[i], i);
        }
        applyOrder(n, true);
    }

    /**
     * Sorts keys[0, n) and rewrites (ids, values)[0, n) in their order; the keys' indices point into the current
     * arrays. The value comes back from the key (its order bits are a bijection of the float, −0 read as +0).
     */
    private void applyOrder(int n, boolean radix) {
        if (radix && n > 256) {
            radixSortByValue(n);
        } else {
            Arrays.sort(keys, 0, n);
        }
        for (int i = 0; i < n; i++) {
            keys[i] = (keys[i] & 0xFFFFFFFF00000000L) | ids[(int) keys[i]];
        }
        for (int i = 0; i < n; i++) {
            int ascending = ~(int) (keys[i] >> 32);
            ids[i] = (int) keys[i];
            values[i] = Float.intBitsToFloat(ascending ^ ((ascending >> 31) & 0x7FFFFFFF));
        }
    }

    /**
     * Stable LSD radix sort of keys[0, n) by their upper 32 bits (three passes of 11 bits; a pass whose digit is the
     * same for all keys is skipped). The keys start in index order, so ties keep it: the same order as sorting the
     * whole longs.
     */
    private void radixSortByValue(int n) {
        int[][] counts = new int[3][2049];
        for (int i = 0; i < n; i++) {
            int u = (int) (keys[i] >>> 32) ^ Integer.MIN_VALUE;
            counts[0][(u & 0x7FF) + 1]++;
            counts[1][((u >>> 11) & 0x7FF) + 1]++;
            counts[2][(u >>> 22) + 1]++;
        }
        long[] from = keys;
        long[] to = keysSpare;
        for (int pass = 0; pass < 3; pass++) {
            int[] c = counts[pass];
            int shift = 11 * pass;
            boolean one = false;
            for (int b = 1; b < c.length; b++) {
                if (c[b] == n) {
                    one = true;
                    break;
                }
            }
            if (one) {
                continue;
            }
            for (int b = 1; b < c.length; b++) {
                c[b] += c[b - 1];
            }
            for (int i = 0; i < n; i++) {
                int u = (int) (from[i] >>> 32) ^ Integer.MIN_VALUE;
                to[c[(u >>> shift) & 0x7FF]++] = from[i];
            }
            long[] t = from;
            from = to;
            to = t;
        }
        if (from != keys) {
            System.arraycopy(from, 0, keys, 0, n);
        }
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

    /** Ranks the best {@code keep} of the n candidates first in (ids, values) through a bounded min-heap. */
    private int topK(int n, int keep) {
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
        for (int i = 0; i < keep; i++) {
            keys[i] = rankKey(values[heap[i]], heap[i]);
        }
        applyOrder(keep, false);
        return keep;
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
