package dev.moe4j.kernels;

import dev.moe4j.kernels.parallel.Parallel;
import dev.moe4j.kernels.parallel.Parallel.RangeTask;
import java.util.Objects;

/**
 * The facade the model calls: checks shapes once per call, then runs a {@link KernelProvider}, splitting
 * matrix products across the {@link Parallel} pool by output rows.
 */
public final class Kernels {

    /** Below this many multiply-adds per chunk a hand-off to another thread costs more than it saves. */
    private static final int MIN_WORK_PER_CHUNK = 1 << 15;
    /** Mat-vec sized products: at most this many multiply-adds per row (one token, up to 8192 columns). */
    private static final int MAT_VEC_WORK_PER_ROW = 8192;
    /**
     * A region of mat-vec sized products is claimed in pieces when it holds at least this many multiply-adds (about
     * half a millisecond on one core). A hiccup of one thread costs a short region its length whatever the split,
     * and claiming the short regions too cost the 0.6B-shape decode, whose products are all short but the head,
     * about 5 % (5 of 7 A/B pairs slower).
     */
    private static final long MIN_CLAIMED_WORK = 16L << 20;
    /** Claims per thread in such a region. */
    private static final int CLAIMS_PER_THREAD = 8;

    /**
     * Element-wise kernels over more elements than this (a prefill's residual add or SiLU gate) are split across
     * the pool, in chunks of {@link #ELEMENT_CHUNK}: a multiple of every vector length, so each element is
     * computed by the same code (vector body or scalar tail) as in one call, and the bits do not change.
     */
    private static final int PARALLEL_ELEMENTS = 1 << 16;
    private static final int ELEMENT_CHUNK = 1 << 12;

    private static final class Holder {
        static final Kernels DEFAULT = new Kernels(KernelProviders.preferred(), Parallel.common());
    }

    private final KernelProvider provider;
    private final Parallel parallel;

    public Kernels(KernelProvider provider, Parallel parallel) {
        this.provider = Objects.requireNonNull(provider, "provider");
        this.parallel = Objects.requireNonNull(parallel, "parallel");
    }

    /** The preferred provider on the common pool. */
    public static Kernels get() {
        return Holder.DEFAULT;
    }

    public KernelProvider provider() {
        return provider;
    }

    public Parallel parallel() {
        return parallel;
    }

    /**
     * out[t][r] = Σ_c w[r][c]·x[t][c]: x is {@code [nTokens][w.cols()]}, out {@code [nTokens][w.rows()]}.
     * Rows are split across the pool.
     */
    public void matmul(float[] out, Matrix w, float[] x, int nTokens) {
        matmulAll(new Product(out, w, x, nTokens));
    }

    /** One product of {@link #matmulAll}: out[t][r] = Σ_c w[r][c]·x[t][c], as for {@link #matmul}. */
    public record Product(float[] out, Matrix w, float[] x, int nTokens) {
        public Product {
            Objects.requireNonNull(out, "out");
            Objects.requireNonNull(w, "w");
            Objects.requireNonNull(x, "x");
        }
    }

    /**
     * Independent products in one parallel region: the rows of all of them, in groups of {@link Matrix#GROUP}
     * (which interleaved storage keeps together; {@link Q4_0Rounded#ROWS} for a matrix with the rounded-activation
     * form), are split across the pool together. A decode step's q, k and v,
     * or its experts, are small matrices; one hand-off for all of them instead of one each keeps both threads
     * streaming. A long region of mat-vec sized products (a MoE step's experts, an output head) is claimed in
     * pieces ({@link Parallel#forRangeClaimed}, about eight a thread); other regions give each thread one contiguous
     * chunk (the prefill tile packs its tokens once per call). Every out[t][r] is computed exactly as
     * {@link #matmul} computes it, whichever thread takes its row.
     */
    public void matmulAll(Product... products) {
        int[] firstGroup = new int[products.length + 1];
        int[] groupRows = new int[products.length];
        long work = 0;
        long totalRows = 0;
        boolean columnOrder = true;
        for (int i = 0; i < products.length; i++) {
            Product p = products[i];
            columnOrder &= p.w().sumsInColumnOrder(p.nTokens());
            if (p.nTokens() <= 0) {
                throw new IllegalArgumentException("nTokens must be positive, was " + p.nTokens());
            }
            checkLength("x", p.x(), (long) p.nTokens() * p.w().cols(), p.w());
            checkLength("out", p.out(), (long) p.nTokens() * p.w().rows(), p.w());
            groupRows[i] = p.w().rounded() != null ? Q4_0Rounded.ROWS : Matrix.GROUP;
            firstGroup[i + 1] = Math.addExact(firstGroup[i], (p.w().rows() + groupRows[i] - 1) / groupRows[i]);
            work += (long) p.w().cols() * p.nTokens() * p.w().rows();
            totalRows += p.w().rows();
        }
        int groups = firstGroup[products.length];
        if (groups == 0) {
            return;
        }
        long workPerGroup = Math.max(1, work / groups);
        int minGroups = (int) Math.max(1, MIN_WORK_PER_CHUNK / workPerGroup);
        RangeTask split = (start, end) -> {
            for (int i = 0; i < products.length; i++) {
                int from = Math.max(start, firstGroup[i]);
                int to = Math.min(end, firstGroup[i + 1]);
                if (from < to) {
                    Product p = products[i];
                    int rows = p.w().rows();
                    int group = groupRows[i];
                    provider.matmul(p.out(), p.w(), p.x(), p.nTokens(), (from - firstGroup[i]) * group,
                            Math.min((to - firstGroup[i]) * group, rows));
                }
            }
        };
        if (columnOrder) {
            // prompt-sized products in the rounded mode's column order pack nothing per call, so they are claimed
            // one 64-row tile (two 32-row groups) at a time: a piece is then ~0.2 ms of a 0.6B prompt's work, and
            // the thread that finishes first waits for at most that (pieces of 1/16 of the region cost ~2 %)
            parallel.forRangeClaimed(groups, 2, split);
        } else if (work / totalRows <= MAT_VEC_WORK_PER_ROW && work >= MIN_CLAIMED_WORK) {
            // a long mat-vec region: claimed in pieces, so that a thread slowed by its core's neighbours takes fewer
            int grain = Math.max(Math.max(2, minGroups), groups / (parallel.threads() * CLAIMS_PER_THREAD));
            parallel.forRangeClaimed(groups, grain, split);
        } else {
            // one contiguous chunk per thread: a short region, or a prefill (each call packs its tokens once)
            parallel.forRange(groups, minGroups, split);
        }
    }

    private static void checkLength(String what, float[] array, long needed, Matrix w) {
        if (array.length < needed) {
            throw new IllegalArgumentException(what + " holds " + array.length + " floats, product with "
                    + w.name() + " [" + w.rows() + "][" + w.cols() + "] needs " + needed);
        }
    }

    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        Objects.checkFromIndexSize(aOff, n, a.length);
        Objects.checkFromIndexSize(bOff, n, b.length);
        return provider.dot(a, aOff, b, bOff, n);
    }

    /** See {@link KernelProvider#attend}; every position's key and value must lie inside their arrays. */
    public void attend(float[] out, int outOff, float[] q, int qOff, float[] keys, float[] values, int[] rows,
            int headOff, int len, int n, float scale, float[] scores) {
        Objects.checkFromIndexSize(outOff, n, out.length);
        Objects.checkFromIndexSize(qOff, n, q.length);
        Objects.checkFromIndexSize(0, len, rows.length);
        Objects.checkFromIndexSize(0, len, scores.length);
        int limit = Math.min(keys.length, values.length);
        for (int p = 0; p < len; p++) {
            Objects.checkFromIndexSize(rows[p] + headOff, n, limit);
        }
        provider.attend(out, outOff, q, qOff, keys, values, rows, headOff, len, n, scale, scores);
    }

    /**
     * See {@link KernelProvider#attend(float[], int[], float[], int[], int[], int, float[], float[], int[], int, int,
     * float, float[])}; every query's key and value rows must lie inside their arrays, and {@code scores} hold
     * min(count, 4) × the largest len floats.
     */
    public void attend(float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens, int count, float[] keys,
            float[] values, int[] rows, int headOff, int n, float scale, float[] scores) {
        int longest = checkQueries(out, outOffs, q, qOffs, lens, count, keys, values, rows, headOff, n);
        Objects.checkFromIndexSize(0, Math.multiplyExact(Math.min(count, 4), longest), scores.length);
        provider.attend(out, outOffs, q, qOffs, lens, count, keys, values, rows, headOff, n, scale, scores);
    }

    /**
     * See {@link KernelProvider#attendInColumnOrder}; every query's key and value rows must lie inside their arrays,
     * and {@code scores} hold the largest len floats.
     */
    public void attendInColumnOrder(float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens, int count,
            float[] keys, float[] values, int[] rows, int headOff, int n, float scale, float[] scores) {
        int longest = checkQueries(out, outOffs, q, qOffs, lens, count, keys, values, rows, headOff, n);
        Objects.checkFromIndexSize(0, longest, scores.length);
        provider.attendInColumnOrder(out, outOffs, q, qOffs, lens, count, keys, values, rows, headOff, n, scale,
                scores);
    }

    /** Checks several queries' offsets and every key and value row they read; returns the largest len. */
    private static int checkQueries(float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens, int count,
            float[] keys, float[] values, int[] rows, int headOff, int n) {
        Objects.checkFromIndexSize(0, count, outOffs.length);
        Objects.checkFromIndexSize(0, count, qOffs.length);
        Objects.checkFromIndexSize(0, count, lens.length);
        int longest = 0;
        for (int i = 0; i < count; i++) {
            Objects.checkFromIndexSize(outOffs[i], n, out.length);
            Objects.checkFromIndexSize(qOffs[i], n, q.length);
            Objects.checkFromIndexSize(0, lens[i], rows.length);
            longest = Math.max(longest, lens[i]);
        }
        int limit = Math.min(keys.length, values.length);
        for (int p = 0; p < longest; p++) {
            Objects.checkFromIndexSize(rows[p] + headOff, n, limit);
        }
        return longest;
    }

    public void axpy(float[] y, int yOff, float alpha, float[] x, int xOff, int n) {
        Objects.checkFromIndexSize(yOff, n, y.length);
        Objects.checkFromIndexSize(xOff, n, x.length);
        forElements(n, (from, count) -> provider.axpy(y, yOff + from, alpha, x, xOff + from, count));
    }

    /** An element-wise kernel over the elements [from, from + count). */
    @FunctionalInterface
    private interface ElementTask {
        void run(int from, int count);
    }

    /** Runs {@code task} over [0, n): in one call below {@link #PARALLEL_ELEMENTS}, else split across the pool. */
    private void forElements(int n, ElementTask task) {
        if (n < PARALLEL_ELEMENTS) {
            task.run(0, n);
            return;
        }
        parallel.forRange((n + ELEMENT_CHUNK - 1) / ELEMENT_CHUNK, 1, (start, end) -> {
            int from = start * ELEMENT_CHUNK;
            task.run(from, Math.min(n, end * ELEMENT_CHUNK) - from);
        });
    }

    public void scale(float[] x, int off, float alpha, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        provider.scale(x, off, alpha, n);
    }

    public void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        Objects.checkFromIndexSize(outOff, n, out.length);
        Objects.checkFromIndexSize(xOff, n, x.length);
        Objects.checkFromIndexSize(0, n, weight.length);
        provider.rmsNorm(out, outOff, x, xOff, weight, n, eps);
    }

    public void softmax(float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        provider.softmax(x, off, n);
    }

    public void siluMul(float[] gate, int gateOff, float[] up, int upOff, int n) {
        Objects.checkFromIndexSize(gateOff, n, gate.length);
        Objects.checkFromIndexSize(upOff, n, up.length);
        forElements(n, (from, count) -> provider.siluMul(gate, gateOff + from, up, upOff + from, count));
    }

    /** See {@link GatedDeltaNet#step}; single-threaded (the layer runs its heads in parallel). */
    public void gatedDeltaStep(float[] out, int outOff, float[] state, int stateOff, float[] q, int qOff, float[] k,
            int kOff, float[] v, int vOff, float g, float beta, int dk, int dv, float scale) {
        Objects.checkFromIndexSize(outOff, dv, out.length);
        Objects.checkFromIndexSize(stateOff, Math.multiplyExact(dk, dv), state.length);
        Objects.checkFromIndexSize(qOff, dk, q.length);
        Objects.checkFromIndexSize(kOff, dk, k.length);
        Objects.checkFromIndexSize(vOff, dv, v.length);
        provider.gatedDeltaStep(out, outOff, state, stateOff, q, qOff, k, kOff, v, vOff, g, beta, dk, dv, scale);
    }

    /** See {@link GatedDeltaNet#chunked}; single-threaded (the layer runs its heads in parallel). */
    public void gatedDeltaChunked(float[] out, int outOff, int outStride, float[] state, int stateOff, float[] q,
            int qOff, int qStride, float[] k, int kOff, int kStride, float[] v, int vOff, int vStride, float[] g,
            float[] beta, int gateOff, int gateStride, int nTokens, int dk, int dv, float scale) {
        Objects.checkFromIndexSize(stateOff, Math.multiplyExact(dk, dv), state.length);
        checkRows(out, outOff, outStride, nTokens, dv);
        checkRows(q, qOff, qStride, nTokens, dk);
        checkRows(k, kOff, kStride, nTokens, dk);
        checkRows(v, vOff, vStride, nTokens, dv);
        checkRows(g, gateOff, gateStride, nTokens, 1);
        checkRows(beta, gateOff, gateStride, nTokens, 1);
        provider.gatedDeltaChunked(out, outOff, outStride, state, stateOff, q, qOff, qStride, k, kOff, kStride, v,
                vOff, vStride, g, beta, gateOff, gateStride, nTokens, dk, dv, scale);
    }

    /** See {@link GatedDeltaNet#causalConv1dSilu}; kernel ≥ 1. */
    public void causalConv1dSilu(float[] out, int outOff, int outStride, float[] x, int xOff, int xStride,
            float[] weight, float[] convState, int stateOff, int nTokens, int channels, int kernel) {
        if (kernel < 1) {
            throw new IllegalArgumentException("kernel must be >= 1, was " + kernel);
        }
        checkRows(out, outOff, outStride, nTokens, channels);
        checkRows(x, xOff, xStride, nTokens, channels);
        Objects.checkFromIndexSize(0, Math.multiplyExact(channels, kernel), weight.length);
        Objects.checkFromIndexSize(stateOff, Math.multiplyExact(kernel - 1, channels), convState.length);
        provider.causalConv1dSilu(out, outOff, outStride, x, xOff, xStride, weight, convState, stateOff, nTokens,
                channels, kernel);
    }

    /** See {@link GatedDeltaNet#l2Normalize}. */
    public void l2Normalize(float[] x, int off, int nHeads, int n, float eps) {
        Objects.checkFromIndexSize(off, Math.multiplyExact(nHeads, n), x.length);
        provider.l2Normalize(x, off, nHeads, n, eps);
    }

    /** See {@link GatedDeltaNet#gatedRmsNorm}. */
    public void gatedRmsNorm(float[] out, int outOff, float[] x, int xOff, float[] z, int zOff, float[] weight,
            int nHeads, int n, float eps) {
        int size = Math.multiplyExact(nHeads, n);
        Objects.checkFromIndexSize(outOff, size, out.length);
        Objects.checkFromIndexSize(xOff, size, x.length);
        Objects.checkFromIndexSize(zOff, size, z.length);
        Objects.checkFromIndexSize(0, n, weight.length);
        provider.gatedRmsNorm(out, outOff, x, xOff, z, zOff, weight, nHeads, n, eps);
    }

    /** Rows of {@code width} floats at a[off + t·stride] for t in [0, rows) lie inside a. */
    private static void checkRows(float[] a, int off, int stride, int rows, int width) {
        if (rows < 0 || stride < 0) {
            throw new IllegalArgumentException("rows and stride must be >= 0, were " + rows + " and " + stride);
        }
        if (rows > 0) {
            Objects.checkFromIndexSize(off, Math.addExact(Math.multiplyExact(rows - 1, stride), width), a.length);
        }
    }

    /**
     * out[t][0, n) = rmsNorm(x[t][0, n))·weight for the rows t in [0, rows), rows {@code n} floats apart starting at
     * the offsets given; rows in parallel (a prefill normalises hundreds).
     */
    public void rmsNormRows(float[] out, int outOff, float[] x, int xOff, float[] weight, int rows, int n,
            float eps) {
        Objects.checkFromIndexSize(outOff, Math.multiplyExact(rows, n), out.length);
        Objects.checkFromIndexSize(xOff, Math.multiplyExact(rows, n), x.length);
        Objects.checkFromIndexSize(0, n, weight.length);
        parallel.forRange(rows, Math.max(1, PARALLEL_ELEMENTS / 8 / Math.max(1, n)), (start, end) -> {
            for (int t = start; t < end; t++) {
                provider.rmsNorm(out, outOff + t * n, x, xOff + t * n, weight, n, eps);
            }
        });
    }

    public void rope(float[] x, int off, int nHeads, int headDim, float[] cos, float[] sin) {
        Objects.checkFromIndexSize(off, nHeads * headDim, x.length);
        Objects.checkFromIndexSize(0, headDim / 2, cos.length);
        Objects.checkFromIndexSize(0, headDim / 2, sin.length);
        provider.rope(x, off, nHeads, headDim, cos, sin);
    }

    public void dequantizeRow(Matrix w, int row, float[] out, int outOff) {
        Objects.checkIndex(row, w.rows());
        Objects.checkFromIndexSize(outOff, w.cols(), out.length);
        provider.dequantizeRow(w, row, out, outOff);
    }
}
