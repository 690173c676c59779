package dev.moe4j.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link dev.moe4j.kernels.KernelProvider#attend}: one query head over its cached positions in one call. Scores
 * are computed four positions per pass, sharing each load of the query; the weighted sum of values keeps four
 * vectors of the output in registers across all positions instead of reading and writing it per position.
 *
 * <p>Each score follows one order whatever the position count: lane i of an accumulator sums q[c]·k[c] for
 * c ≡ i (mod lanes) in increasing c, the lanes are summed by {@link Lanes#sum}, the columns past the last whole
 * vector are added one by one. So a query gets the same bits in a batch of many tokens as alone.
 */
final class AttentionKernels {

    private AttentionKernels() {}

    /**
     * Scores, softmax, weighted sum of values. Three calls, not one method: inlined into the large score loop, the
     * softmax's {@link Exp} (which takes a vector) ran out of C2's inlining budget, was called with a boxed vector
     * and ran in the Vector API's Java fallback, 7 % of a prefill (JFR). The two loops are too large for C2 to
     * inline here, so the softmax is parsed in this small method, with its exp inlined.
     */
    static void attend(Lanes lanes, float[] out, int outOff, float[] q, int qOff, float[] keys, float[] values,
            int[] rows, int headOff, int len, int n, float scale, float[] scores) {
        scores(lanes, q, qOff, keys, rows, headOff, 0, len, n, scale, scores, 0);
        ActivationKernels.softmax(lanes, scores, 0, len);
        weightedSum(lanes, out, outOff, values, rows, headOff, len, n, scores, 0, 0);
    }

    /** scores[sOff + p] = scale·(q · key p), for the positions p in [from, len). */
    private static void scores(Lanes lanes, float[] q, int qOff, float[] keys, int[] rows, int headOff, int from,
            int len, int n, float scale, float[] scores, int sOff) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int bound = fs.loopBound(n);
        float[] lanesOf = new float[4 * step];
        int p = from;
        for (; p + 4 <= len; p += 4) {
            int k0 = rows[p] + headOff;
            int k1 = rows[p + 1] + headOff;
            int k2 = rows[p + 2] + headOff;
            int k3 = rows[p + 3] + headOff;
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int c = 0; c < bound; c += step) {
                FloatVector qv = FloatVector.fromArray(fs, q, qOff + c);
                acc0 = FloatVector.fromArray(fs, keys, k0 + c).fma(qv, acc0);
                acc1 = FloatVector.fromArray(fs, keys, k1 + c).fma(qv, acc1);
                acc2 = FloatVector.fromArray(fs, keys, k2 + c).fma(qv, acc2);
                acc3 = FloatVector.fromArray(fs, keys, k3 + c).fma(qv, acc3);
            }
            float sum0;
            float sum1;
            float sum2;
            float sum3;
            if (step == 16) {
                // Lanes.sum's steps inline (see Lanes.Bits512): the call through memory doubled the cost
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_8));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_4));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_2));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_1));
                sum0 = acc0.lane(0);
                acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_8));
                acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_4));
                acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_2));
                acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_1));
                sum1 = acc1.lane(0);
                acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_8));
                acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_4));
                acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_2));
                acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_1));
                sum2 = acc2.lane(0);
                acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_8));
                acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_4));
                acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_2));
                acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_1));
                sum3 = acc3.lane(0);
            } else {
                acc0.intoArray(lanesOf, 0);
                acc1.intoArray(lanesOf, step);
                acc2.intoArray(lanesOf, 2 * step);
                acc3.intoArray(lanesOf, 3 * step);
                sum0 = lanes.sum(lanesOf, 0);
                sum1 = lanes.sum(lanesOf, step);
                sum2 = lanes.sum(lanesOf, 2 * step);
                sum3 = lanes.sum(lanesOf, 3 * step);
            }
            scores[sOff + p] = tail(sum0, q, qOff, keys, k0, bound, n) * scale;
            scores[sOff + p + 1] = tail(sum1, q, qOff, keys, k1, bound, n) * scale;
            scores[sOff + p + 2] = tail(sum2, q, qOff, keys, k2, bound, n) * scale;
            scores[sOff + p + 3] = tail(sum3, q, qOff, keys, k3, bound, n) * scale;
        }
        for (; p < len; p++) {
            int k0 = rows[p] + headOff;
            FloatVector acc0 = FloatVector.zero(fs);
            for (int c = 0; c < bound; c += step) {
                acc0 = FloatVector.fromArray(fs, keys, k0 + c).fma(FloatVector.fromArray(fs, q, qOff + c), acc0);
            }
            float sum0;
            if (step == 16) {
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_8));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_4));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_2));
                acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_1));
                sum0 = acc0.lane(0);
            } else {
                acc0.intoArray(lanesOf, 0);
                sum0 = lanes.sum(lanesOf, 0);
            }
            scores[sOff + p] = tail(sum0, q, qOff, keys, k0, bound, n) * scale;
        }
    }

    /**
     * out[c] = Σ_p scores[sOff + p]·value p [c] over the positions p in [0, len), for the columns c in [fromCol, n);
     * {@code fromCol} is 0 or where {@link #weightedSum4} left the columns to this method.
     */
    private static void weightedSum(Lanes lanes, float[] out, int outOff, float[] values, int[] rows, int headOff,
            int len, int n, float[] scores, int sOff, int fromCol) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int bound = fs.loopBound(n);
        int p;
        int c = fromCol;
        for (; c + 4 * step <= bound; c += 4 * step) {
            FloatVector o0 = FloatVector.zero(fs);
            FloatVector o1 = o0;
            FloatVector o2 = o0;
            FloatVector o3 = o0;
            for (p = 0; p < len; p++) {
                FloatVector s = FloatVector.broadcast(fs, scores[sOff + p]);
                int v = rows[p] + headOff + c;
                o0 = FloatVector.fromArray(fs, values, v).fma(s, o0);
                o1 = FloatVector.fromArray(fs, values, v + step).fma(s, o1);
                o2 = FloatVector.fromArray(fs, values, v + 2 * step).fma(s, o2);
                o3 = FloatVector.fromArray(fs, values, v + 3 * step).fma(s, o3);
            }
            o0.intoArray(out, outOff + c);
            o1.intoArray(out, outOff + c + step);
            o2.intoArray(out, outOff + c + 2 * step);
            o3.intoArray(out, outOff + c + 3 * step);
        }
        for (; c < bound; c += step) {
            FloatVector o0 = FloatVector.zero(fs);
            for (p = 0; p < len; p++) {
                FloatVector s = FloatVector.broadcast(fs, scores[sOff + p]);
                o0 = FloatVector.fromArray(fs, values, rows[p] + headOff + c).fma(s, o0);
            }
            o0.intoArray(out, outOff + c);
        }
        for (; c < n; c++) {
            float sum = 0;
            for (p = 0; p < len; p++) {
                sum = Math.fma(scores[sOff + p], values[rows[p] + headOff + c], sum);
            }
            out[outOff + c] = sum;
        }
    }

    /**
     * {@link dev.moe4j.kernels.KernelProvider#attend(float[], int[], float[], int[], int[], int, float[], float[],
     * int[], int, int, float, float[])}: several queries over one head's positions. Queries go four at a time:
     * over the positions all four see, each key and value vector is loaded once for the four of them (one query at
     * a time read every key from L2 once per query, and a prefill's attention ran at ~45 cycles a score). Every
     * score and every output column is summed in the order {@link #attend} uses, so a query gets the same bits in
     * a group as alone.
     */
    static void attend(Lanes lanes, float[] out, int[] outOffs, float[] q, int[] qOffs, int[] lens, int count,
            float[] keys, float[] values, int[] rows, int headOff, int n, float scale, float[] scores) {
        int stride = 0;
        for (int i = 0; i < count; i++) {
            stride = Math.max(stride, lens[i]);
        }
        int i = 0;
        for (; i + 4 <= count; i += 4) {
            int common = Math.min(Math.min(lens[i], lens[i + 1]), Math.min(lens[i + 2], lens[i + 3]));
            int tiled = common & ~3;
            int s0 = i * stride;
            scores4(lanes, q, qOffs[i], qOffs[i + 1], qOffs[i + 2], qOffs[i + 3], keys, rows, headOff, tiled, n,
                    scale, scores, s0, stride);
            for (int j = 0; j < 4; j++) {
                int sOff = s0 + j * stride;
                scores(lanes, q, qOffs[i + j], keys, rows, headOff, tiled, lens[i + j], n, scale, scores, sOff);
                ActivationKernels.softmax(lanes, scores, sOff, lens[i + j]);
            }
            weightedSum4(lanes, out, outOffs, values, rows, headOff, lens, i, common, n, scores, s0, stride);
        }
        for (; i < count; i++) {
            int sOff = i * stride;
            scores(lanes, q, qOffs[i], keys, rows, headOff, 0, lens[i], n, scale, scores, sOff);
            ActivationKernels.softmax(lanes, scores, sOff, lens[i]);
            weightedSum(lanes, out, outOffs[i], values, rows, headOff, lens[i], n, scores, sOff, 0);
        }
    }

    /**
     * Scores of four queries at the positions [0, len), len a multiple of 4, into scores[s0 + j·stride + p] for
     * query j: a tile of 4 queries × 4 positions, sixteen accumulators, each summed as {@link #scores} sums one;
     * their lanes are summed together by {@link Lanes#sum16}, in {@link Lanes#sum}'s order.
     */
    private static void scores4(Lanes lanes, float[] q, int q0, int q1, int q2, int q3, float[] keys, int[] rows,
            int headOff, int len, int n, float scale, float[] scores, int s0, int stride) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int bound = fs.loopBound(n);
        float[] sums = new float[16 * step];
        for (int p = 0; p < len; p += 4) {
            int k0 = rows[p] + headOff;
            int k1 = rows[p + 1] + headOff;
            int k2 = rows[p + 2] + headOff;
            int k3 = rows[p + 3] + headOff;
            FloatVector a00 = FloatVector.zero(fs);
            FloatVector a01 = a00;
            FloatVector a02 = a00;
            FloatVector a03 = a00;
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            FloatVector a12 = a00;
            FloatVector a13 = a00;
            FloatVector a20 = a00;
            FloatVector a21 = a00;
            FloatVector a22 = a00;
            FloatVector a23 = a00;
            FloatVector a30 = a00;
            FloatVector a31 = a00;
            FloatVector a32 = a00;
            FloatVector a33 = a00;
            for (int c = 0; c < bound; c += step) {
                FloatVector x0 = FloatVector.fromArray(fs, q, q0 + c);
                FloatVector x1 = FloatVector.fromArray(fs, q, q1 + c);
                FloatVector x2 = FloatVector.fromArray(fs, q, q2 + c);
                FloatVector x3 = FloatVector.fromArray(fs, q, q3 + c);
                FloatVector k = FloatVector.fromArray(fs, keys, k0 + c);
                a00 = k.fma(x0, a00);
                a10 = k.fma(x1, a10);
                a20 = k.fma(x2, a20);
                a30 = k.fma(x3, a30);
                k = FloatVector.fromArray(fs, keys, k1 + c);
                a01 = k.fma(x0, a01);
                a11 = k.fma(x1, a11);
                a21 = k.fma(x2, a21);
                a31 = k.fma(x3, a31);
                k = FloatVector.fromArray(fs, keys, k2 + c);
                a02 = k.fma(x0, a02);
                a12 = k.fma(x1, a12);
                a22 = k.fma(x2, a22);
                a32 = k.fma(x3, a32);
                k = FloatVector.fromArray(fs, keys, k3 + c);
                a03 = k.fma(x0, a03);
                a13 = k.fma(x1, a13);
                a23 = k.fma(x2, a23);
                a33 = k.fma(x3, a33);
            }
            a00.intoArray(sums, 0);
            a01.intoArray(sums, step);
            a02.intoArray(sums, 2 * step);
            a03.intoArray(sums, 3 * step);
            a10.intoArray(sums, 4 * step);
            a11.intoArray(sums, 5 * step);
            a12.intoArray(sums, 6 * step);
            a13.intoArray(sums, 7 * step);
            a20.intoArray(sums, 8 * step);
            a21.intoArray(sums, 9 * step);
            a22.intoArray(sums, 10 * step);
            a23.intoArray(sums, 11 * step);
            a30.intoArray(sums, 12 * step);
            a31.intoArray(sums, 13 * step);
            a32.intoArray(sums, 14 * step);
            a33.intoArray(sums, 15 * step);
            lanes.sum16(sums, 0, sums, 0);
            for (int j = 0; j < 4; j++) {
                int qOff = j == 0 ? q0 : j == 1 ? q1 : j == 2 ? q2 : q3;
                int at = s0 + j * stride + p;
                scores[at] = tail(sums[4 * j], q, qOff, keys, k0, bound, n) * scale;
                scores[at + 1] = tail(sums[4 * j + 1], q, qOff, keys, k1, bound, n) * scale;
                scores[at + 2] = tail(sums[4 * j + 2], q, qOff, keys, k2, bound, n) * scale;
                scores[at + 3] = tail(sums[4 * j + 3], q, qOff, keys, k3, bound, n) * scale;
            }
        }
    }

    /**
     * Four queries' weighted sums of values, out_j[c] = Σ_p w_j[p]·value p [c] with w_j = scores[s0 + j·stride, ...):
     * over the positions [0, common) that all four see, each value vector is loaded once for the four; each query
     * then goes on alone to its own length, in the same accumulators, so every column is summed in increasing p as
     * in {@link #weightedSum}. Columns past the last whole 4-vector block are left to {@link #weightedSum}.
     */
    private static void weightedSum4(Lanes lanes, float[] out, int[] outOffs, float[] values, int[] rows,
            int headOff, int[] lens, int first, int common, int n, float[] scores, int s0, int stride) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int bound = fs.loopBound(n);
        int w0 = s0;
        int w1 = s0 + stride;
        int w2 = s0 + 2 * stride;
        int w3 = s0 + 3 * stride;
        int c = 0;
        for (; c + 4 * step <= bound; c += 4 * step) {
            FloatVector o00 = FloatVector.zero(fs);
            FloatVector o01 = o00;
            FloatVector o02 = o00;
            FloatVector o03 = o00;
            FloatVector o10 = o00;
            FloatVector o11 = o00;
            FloatVector o12 = o00;
            FloatVector o13 = o00;
            FloatVector o20 = o00;
            FloatVector o21 = o00;
            FloatVector o22 = o00;
            FloatVector o23 = o00;
            FloatVector o30 = o00;
            FloatVector o31 = o00;
            FloatVector o32 = o00;
            FloatVector o33 = o00;
            int p = 0;
            for (; p < common; p++) {
                int v = rows[p] + headOff + c;
                FloatVector v0 = FloatVector.fromArray(fs, values, v);
                FloatVector v1 = FloatVector.fromArray(fs, values, v + step);
                FloatVector v2 = FloatVector.fromArray(fs, values, v + 2 * step);
                FloatVector v3 = FloatVector.fromArray(fs, values, v + 3 * step);
                FloatVector s = FloatVector.broadcast(fs, scores[w0 + p]);
                o00 = v0.fma(s, o00);
                o01 = v1.fma(s, o01);
                o02 = v2.fma(s, o02);
                o03 = v3.fma(s, o03);
                s = FloatVector.broadcast(fs, scores[w1 + p]);
                o10 = v0.fma(s, o10);
                o11 = v1.fma(s, o11);
                o12 = v2.fma(s, o12);
                o13 = v3.fma(s, o13);
                s = FloatVector.broadcast(fs, scores[w2 + p]);
                o20 = v0.fma(s, o20);
                o21 = v1.fma(s, o21);
                o22 = v2.fma(s, o22);
                o23 = v3.fma(s, o23);
                s = FloatVector.broadcast(fs, scores[w3 + p]);
                o30 = v0.fma(s, o30);
                o31 = v1.fma(s, o31);
                o32 = v2.fma(s, o32);
                o33 = v3.fma(s, o33);
            }
            for (p = common; p < lens[first]; p++) {
                int v = rows[p] + headOff + c;
                FloatVector s = FloatVector.broadcast(fs, scores[w0 + p]);
                o00 = FloatVector.fromArray(fs, values, v).fma(s, o00);
                o01 = FloatVector.fromArray(fs, values, v + step).fma(s, o01);
                o02 = FloatVector.fromArray(fs, values, v + 2 * step).fma(s, o02);
                o03 = FloatVector.fromArray(fs, values, v + 3 * step).fma(s, o03);
            }
            for (p = common; p < lens[first + 1]; p++) {
                int v = rows[p] + headOff + c;
                FloatVector s = FloatVector.broadcast(fs, scores[w1 + p]);
                o10 = FloatVector.fromArray(fs, values, v).fma(s, o10);
                o11 = FloatVector.fromArray(fs, values, v + step).fma(s, o11);
                o12 = FloatVector.fromArray(fs, values, v + 2 * step).fma(s, o12);
                o13 = FloatVector.fromArray(fs, values, v + 3 * step).fma(s, o13);
            }
            for (p = common; p < lens[first + 2]; p++) {
                int v = rows[p] + headOff + c;
                FloatVector s = FloatVector.broadcast(fs, scores[w2 + p]);
                o20 = FloatVector.fromArray(fs, values, v).fma(s, o20);
                o21 = FloatVector.fromArray(fs, values, v + step).fma(s, o21);
                o22 = FloatVector.fromArray(fs, values, v + 2 * step).fma(s, o22);
                o23 = FloatVector.fromArray(fs, values, v + 3 * step).fma(s, o23);
            }
            for (p = common; p < lens[first + 3]; p++) {
                int v = rows[p] + headOff + c;
                FloatVector s = FloatVector.broadcast(fs, scores[w3 + p]);
                o30 = FloatVector.fromArray(fs, values, v).fma(s, o30);
                o31 = FloatVector.fromArray(fs, values, v + step).fma(s, o31);
                o32 = FloatVector.fromArray(fs, values, v + 2 * step).fma(s, o32);
                o33 = FloatVector.fromArray(fs, values, v + 3 * step).fma(s, o33);
            }
            int o = outOffs[first] + c;
            o00.intoArray(out, o);
            o01.intoArray(out, o + step);
            o02.intoArray(out, o + 2 * step);
            o03.intoArray(out, o + 3 * step);
            o = outOffs[first + 1] + c;
            o10.intoArray(out, o);
            o11.intoArray(out, o + step);
            o12.intoArray(out, o + 2 * step);
            o13.intoArray(out, o + 3 * step);
            o = outOffs[first + 2] + c;
            o20.intoArray(out, o);
            o21.intoArray(out, o + step);
            o22.intoArray(out, o + 2 * step);
            o23.intoArray(out, o + 3 * step);
            o = outOffs[first + 3] + c;
            o30.intoArray(out, o);
            o31.intoArray(out, o + step);
            o32.intoArray(out, o + 2 * step);
            o33.intoArray(out, o + 3 * step);
        }
        if (c < n) {
            for (int j = 0; j < 4; j++) {
                weightedSum(lanes, out, outOffs[first + j], values, rows, headOff, lens[first + j], n, scores,
                        s0 + j * stride, c);
            }
        }
    }

    /** {@code sum} plus q[c]·k[c] for the columns [from, n) past the last whole vector, one by one. */
    private static float tail(float sum, float[] q, int qOff, float[] keys, int kOff, int from, int n) {
        for (int c = from; c < n; c++) {
            sum += q[qOff + c] * keys[kOff + c];
        }
        return sum;
    }
}
