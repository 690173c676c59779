package dev.moe4j.model;

import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.kernels.Kernels;

/**
 * Grouped-query self-attention with Qwen3's QK-norm, over the paged KV cache. Reads {@code s.xn}, writes
 * {@code s.out}; stores the batch's keys and values into their sequences' blocks before attending, so each token
 * sees exactly the positions 0…pos of its own sequence.
 */
final class AttentionBlock {
    private AttentionBlock() {}

    static void forward(Kernels kernels, ModelConfig config, Weights.Attention w, int layer,
                        Batch batch, KvCache cache, Scratch s) {
        int n = batch.size();
        kernels.matmulAll(new Kernels.Product(s.q, w.q(), s.xn, n), new Kernels.Product(s.k, w.k(), s.xn, n),
                new Kernels.Product(s.v, w.v(), s.xn, n));
        attend(kernels, config, w.qNorm(), w.kNorm(), w.q().sumsInColumnOrder(n), layer, batch, cache, s);
        kernels.matmul(s.out, w.o(), s.attn, n);
    }

    /** Gated attention: the query's second half per head gates the attention output through a sigmoid. */
    static void forwardGated(Kernels kernels, ModelConfig config, Weights.GatedAttention w, int layer,
                             Batch batch, KvCache cache, Scratch s) {
        int n = batch.size();
        int hd = config.headDim();
        int qDim = config.qDim();
        kernels.matmulAll(new Kernels.Product(s.qGate, w.qGate(), s.xn, n), new Kernels.Product(s.k, w.k(), s.xn, n),
                new Kernels.Product(s.v, w.v(), s.xn, n));
        for (int t = 0; t < n; t++) {
            for (int head = 0; head < config.numHeads(); head++) {
                int from = t * 2 * qDim + head * 2 * hd;
                System.arraycopy(s.qGate, from, s.q, t * qDim + head * hd, hd);
                System.arraycopy(s.qGate, from + hd, s.gateAttn, t * qDim + head * hd, hd);
            }
        }
        attend(kernels, config, w.qNorm(), w.kNorm(), w.qGate().sumsInColumnOrder(n), layer, batch, cache, s);
        for (int i = 0; i < n * qDim; i++) {
            s.attn[i] *= (float) (1.0 / (1.0 + Math.exp(-s.gateAttn[i])));
        }
        kernels.matmul(s.out, w.o(), s.attn, n);
    }

    /**
     * From the projections in {@code s.q}, {@code s.k}, {@code s.v}: QK-norm, rotary, the keys and values into the
     * cache, and causal attention into {@code s.attn}.
     */
    private static void attend(Kernels kernels, ModelConfig config, float[] qNorm, float[] kNorm, boolean columnOrder,
                               int layer, Batch batch, KvCache cache, Scratch s) {
        int n = batch.size();
        int hd = config.headDim();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        int ropeDims = config.ropeDims();
        float eps = config.rmsNormEps();

        // QK-norm per head (shared weight over heads), then RoPE at each token's position; store k, v
        float[] keys = cache.keys(layer);
        float[] values = cache.values(layer);
        int slots = cache.slots(); // layout: [kvHead][slot][hd]
        // tokens in parallel: each writes only its own q and k rows and its own cache slots
        kernels.parallel().forRange(n, 8, (first, end) -> {
            for (int t = first; t < end; t++) {
                for (int head = 0; head < heads; head++) {
                    int off = t * qDim + head * hd;
                    kernels.rmsNorm(s.q, off, s.q, off, qNorm, hd, eps);
                }
                for (int kvHead = 0; kvHead < kvHeads; kvHead++) {
                    int off = t * kvDim + kvHead * hd;
                    kernels.rmsNorm(s.k, off, s.k, off, kNorm, hd, eps);
                }
                if (ropeDims == hd) {
                    kernels.rope(s.q, t * qDim, heads, hd, s.cos[t], s.sin[t]);
                    kernels.rope(s.k, t * kvDim, kvHeads, hd, s.cos[t], s.sin[t]);
                } else {
                    // partial rotary: NeoX pairs within the first ropeDims of each head, the rest pass through
                    for (int head = 0; head < heads; head++) {
                        kernels.rope(s.q, t * qDim + head * hd, 1, ropeDims, s.cos[t], s.sin[t]);
                    }
                    for (int kvHead = 0; kvHead < kvHeads; kvHead++) {
                        kernels.rope(s.k, t * kvDim + kvHead * hd, 1, ropeDims, s.cos[t], s.sin[t]);
                    }
                }
                int slot = batch.sequence(t).slot(batch.position(t));
                for (int kvHead = 0; kvHead < kvHeads; kvHead++) {
                    int at = (kvHead * slots + slot) * hd;
                    System.arraycopy(s.k, t * kvDim + kvHead * hd, keys, at, hd);
                    System.arraycopy(s.v, t * kvDim + kvHead * hd, values, at, hd);
                }
            }
        });

        // causal attention: token t, head h reads kv head h / (H/KV) at positions 0..pos(t)
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(hd));
        // the batch in runs of consecutive tokens of one sequence: a run's queries of one head attend in one call,
        // which copies the positions' keys and values once and shares each load among four queries
        int[] runStart = new int[n + 1];
        int runs = 0;
        for (int t = 0; t < n; t++) {
            if (t == 0 || batch.sequence(t) != batch.sequence(t - 1)) {
                runStart[runs++] = t;
            }
        }
        runStart[runs] = n;
        int runCount = runs;
        // items are head-major, so that each thread's share holds every token: split by token, the causal
        // triangle would leave the thread with the later tokens three quarters of the work
        int maxLen = maxPosition(batch, 0, n - 1) + 1;
        // a batch whose products sum in column order (the rounded-activation mode's prompts) scores in that order
        // too, all query heads of a KV head in one call, which transposes the positions' keys and values once
        int perItem = columnOrder ? group : 1;
        kernels.parallel().forRange(runCount * (heads / perItem), 1, (start, end) -> {
            float[] scores = new float[4 * maxLen];
            int[] rows = new int[maxLen]; // where each position's k and v start within its head's cache region
            int[] offs = new int[perItem * n];
            int[] lens = new int[perItem * n];
            Sequence rowsOf = null;
            int rowsKnown = 0;
            for (int item = start; item < end; item++) {
                int head = item / runCount * perItem; // the item's first query head
                int run = item % runCount;
                int first = runStart[run];
                int count = runStart[run + 1] - first;
                Sequence seq = batch.sequence(first);
                if (seq != rowsOf) {
                    rowsOf = seq;
                    rowsKnown = 0;
                }
                for (int i = 0; i < count; i++) {
                    lens[i] = batch.position(first + i) + 1;
                    for (; rowsKnown < lens[i]; rowsKnown++) {
                        rows[rowsKnown] = seq.slot(rowsKnown) * hd;
                    }
                    for (int h = 0; h < perItem; h++) {
                        offs[h * count + i] = (first + i) * qDim + (head + h) * hd;
                        lens[h * count + i] = lens[i];
                    }
                }
                if (columnOrder) {
                    kernels.attendInColumnOrder(s.attn, offs, s.q, offs, lens, perItem * count, keys, values, rows,
                            (head / group) * slots * hd, hd, scale, scores);
                } else {
                    kernels.attend(s.attn, offs, s.q, offs, lens, count, keys, values, rows,
                            (head / group) * slots * hd, hd, scale, scores);
                }
            }
        });
    }

    private static int maxPosition(Batch batch, int fromToken, int toToken) {
        int max = 0;
        for (int t = fromToken; t <= toToken; t++) {
            max = Math.max(max, batch.position(t));
        }
        return max;
    }
}
