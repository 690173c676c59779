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
        scores(lanes, q, qOff, keys, rows, headOff, len, n, scale, scores);
        ActivationKernels.softmax(lanes, scores, 0, len);
        weightedSum(lanes, out, outOff, values, rows, headOff, len, n, scores);
    }

    /** scores[p] = scale·(q · key p), for the positions p in [0, len). */
    private static void scores(Lanes lanes, float[] q, int qOff, float[] keys, int[] rows, int headOff, int len,
            int n, float scale, float[] scores) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int bound = fs.loopBound(n);
        float[] lanesOf = new float[4 * step];
        int p = 0;
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
            scores[p] = tail(sum0, q, qOff, keys, k0, bound, n) * scale;
            scores[p + 1] = tail(sum1, q, qOff, keys, k1, bound, n) * scale;
            scores[p + 2] = tail(sum2, q, qOff, keys, k2, bound, n) * scale;
            scores[p + 3] = tail(sum3, q, qOff, keys, k3, bound, n) * scale;
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
            scores[p] = tail(sum0, q, qOff, keys, k0, bound, n) * scale;
        }
    }

    /** out[c] = Σ_p scores[p]·value p [c], for the columns c in [0, n). */
    private static void weightedSum(Lanes lanes, float[] out, int outOff, float[] values, int[] rows, int headOff,
            int len, int n, float[] scores) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int bound = fs.loopBound(n);
        int p;
        int c = 0;
        for (; c + 4 * step <= bound; c += 4 * step) {
            FloatVector o0 = FloatVector.zero(fs);
            FloatVector o1 = o0;
            FloatVector o2 = o0;
            FloatVector o3 = o0;
            for (p = 0; p < len; p++) {
                FloatVector s = FloatVector.broadcast(fs, scores[p]);
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
                o0 = FloatVector.fromArray(fs, values, rows[p] + headOff + c).fma(FloatVector.broadcast(fs, scores[p]), o0);
            }
            o0.intoArray(out, outOff + c);
        }
        for (; c < n; c++) {
            float sum = 0;
            for (p = 0; p < len; p++) {
                sum = Math.fma(scores[p], values[rows[p] + headOff + c], sum);
            }
            out[outOff + c] = sum;
        }
    }


    /**
     * {@link #attend} for two query heads that read the same key and value heads (a GQA group): each key and value
     * is loaded once for both. Every score and output gets the ops {@link #attend} gives it alone, so the same bits.
     * Query {@code g} (0 or 1) is q[qOff + g·qStride, +n), its output out[outOff + g·outStride, +n), its scores
     * scores[g·len, +len).
     */
    static void attendPair(Lanes lanes, float[] out, int outOff, int outStride, float[] q, int qOff, int qStride,
            float[] keys, float[] values, int[] rows, int headOff, int len, int n, float scale, float[] scores) {
        scoresPair(lanes, q, qOff, qOff + qStride, keys, rows, headOff, len, n, scale, scores);
        ActivationKernels.softmax(lanes, scores, 0, len);
        ActivationKernels.softmax(lanes, scores, len, len);
        weightedSumPair(lanes, out, outOff, outOff + outStride, values, rows, headOff, len, n, scores);
    }

    /** scores[p] = scale·(qa · key p), scores[len + p] = scale·(qb · key p); {@link #scores}' order for each. */
    private static void scoresPair(Lanes lanes, float[] q, int qa, int qb, float[] keys, int[] rows, int headOff,
            int len, int n, float scale, float[] scores) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int bound = fs.loopBound(n);
        float[] lanesOf = new float[8 * step];
        int p = 0;
        for (; p + 4 <= len; p += 4) {
            int k0 = rows[p] + headOff;
            int k1 = rows[p + 1] + headOff;
            int k2 = rows[p + 2] + headOff;
            int k3 = rows[p + 3] + headOff;
            FloatVector a0 = FloatVector.zero(fs);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector b0 = a0;
            FloatVector b1 = a0;
            FloatVector b2 = a0;
            FloatVector b3 = a0;
            for (int c = 0; c < bound; c += step) {
                FloatVector qav = FloatVector.fromArray(fs, q, qa + c);
                FloatVector qbv = FloatVector.fromArray(fs, q, qb + c);
                FloatVector kv = FloatVector.fromArray(fs, keys, k0 + c);
                a0 = kv.fma(qav, a0);
                b0 = kv.fma(qbv, b0);
                kv = FloatVector.fromArray(fs, keys, k1 + c);
                a1 = kv.fma(qav, a1);
                b1 = kv.fma(qbv, b1);
                kv = FloatVector.fromArray(fs, keys, k2 + c);
                a2 = kv.fma(qav, a2);
                b2 = kv.fma(qbv, b2);
                kv = FloatVector.fromArray(fs, keys, k3 + c);
                a3 = kv.fma(qav, a3);
                b3 = kv.fma(qbv, b3);
            }
            float sumA0;
            float sumA1;
            float sumA2;
            float sumA3;
            float sumB0;
            float sumB1;
            float sumB2;
            float sumB3;
            if (step == 16) {
                a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_8));
                a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_4));
                a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_2));
                a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_1));
                sumA0 = a0.lane(0);
                a1 = a1.add(a1.rearrange(Lanes.Bits512.ROTATE_8));
                a1 = a1.add(a1.rearrange(Lanes.Bits512.ROTATE_4));
                a1 = a1.add(a1.rearrange(Lanes.Bits512.ROTATE_2));
                a1 = a1.add(a1.rearrange(Lanes.Bits512.ROTATE_1));
                sumA1 = a1.lane(0);
                a2 = a2.add(a2.rearrange(Lanes.Bits512.ROTATE_8));
                a2 = a2.add(a2.rearrange(Lanes.Bits512.ROTATE_4));
                a2 = a2.add(a2.rearrange(Lanes.Bits512.ROTATE_2));
                a2 = a2.add(a2.rearrange(Lanes.Bits512.ROTATE_1));
                sumA2 = a2.lane(0);
                a3 = a3.add(a3.rearrange(Lanes.Bits512.ROTATE_8));
                a3 = a3.add(a3.rearrange(Lanes.Bits512.ROTATE_4));
                a3 = a3.add(a3.rearrange(Lanes.Bits512.ROTATE_2));
                a3 = a3.add(a3.rearrange(Lanes.Bits512.ROTATE_1));
                sumA3 = a3.lane(0);
                b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_8));
                b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_4));
                b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_2));
                b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_1));
                sumB0 = b0.lane(0);
                b1 = b1.add(b1.rearrange(Lanes.Bits512.ROTATE_8));
                b1 = b1.add(b1.rearrange(Lanes.Bits512.ROTATE_4));
                b1 = b1.add(b1.rearrange(Lanes.Bits512.ROTATE_2));
                b1 = b1.add(b1.rearrange(Lanes.Bits512.ROTATE_1));
                sumB1 = b1.lane(0);
                b2 = b2.add(b2.rearrange(Lanes.Bits512.ROTATE_8));
                b2 = b2.add(b2.rearrange(Lanes.Bits512.ROTATE_4));
                b2 = b2.add(b2.rearrange(Lanes.Bits512.ROTATE_2));
                b2 = b2.add(b2.rearrange(Lanes.Bits512.ROTATE_1));
                sumB2 = b2.lane(0);
                b3 = b3.add(b3.rearrange(Lanes.Bits512.ROTATE_8));
                b3 = b3.add(b3.rearrange(Lanes.Bits512.ROTATE_4));
                b3 = b3.add(b3.rearrange(Lanes.Bits512.ROTATE_2));
                b3 = b3.add(b3.rearrange(Lanes.Bits512.ROTATE_1));
                sumB3 = b3.lane(0);
            } else {
                a0.intoArray(lanesOf, 0 * step);
                a1.intoArray(lanesOf, 1 * step);
                a2.intoArray(lanesOf, 2 * step);
                a3.intoArray(lanesOf, 3 * step);
                b0.intoArray(lanesOf, 4 * step);
                b1.intoArray(lanesOf, 5 * step);
                b2.intoArray(lanesOf, 6 * step);
                b3.intoArray(lanesOf, 7 * step);
                sumA0 = lanes.sum(lanesOf, 0 * step);
                sumA1 = lanes.sum(lanesOf, 1 * step);
                sumA2 = lanes.sum(lanesOf, 2 * step);
                sumA3 = lanes.sum(lanesOf, 3 * step);
                sumB0 = lanes.sum(lanesOf, 4 * step);
                sumB1 = lanes.sum(lanesOf, 5 * step);
                sumB2 = lanes.sum(lanesOf, 6 * step);
                sumB3 = lanes.sum(lanesOf, 7 * step);
            }
            scores[p + 0] = tail(sumA0, q, qa, keys, k0, bound, n) * scale;
            scores[p + 1] = tail(sumA1, q, qa, keys, k1, bound, n) * scale;
            scores[p + 2] = tail(sumA2, q, qa, keys, k2, bound, n) * scale;
            scores[p + 3] = tail(sumA3, q, qa, keys, k3, bound, n) * scale;
            scores[len + p + 0] = tail(sumB0, q, qb, keys, k0, bound, n) * scale;
            scores[len + p + 1] = tail(sumB1, q, qb, keys, k1, bound, n) * scale;
            scores[len + p + 2] = tail(sumB2, q, qb, keys, k2, bound, n) * scale;
            scores[len + p + 3] = tail(sumB3, q, qb, keys, k3, bound, n) * scale;
        }
        for (; p < len; p++) {
            int k0 = rows[p] + headOff;
            FloatVector a0 = FloatVector.zero(fs);
            FloatVector b0 = a0;
            for (int c = 0; c < bound; c += step) {
                FloatVector kv = FloatVector.fromArray(fs, keys, k0 + c);
                a0 = kv.fma(FloatVector.fromArray(fs, q, qa + c), a0);
                b0 = kv.fma(FloatVector.fromArray(fs, q, qb + c), b0);
            }
            float sumA0;
            float sumB0;
            if (step == 16) {
                a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_8));
                a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_4));
                a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_2));
                a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_1));
                sumA0 = a0.lane(0);
                b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_8));
                b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_4));
                b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_2));
                b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_1));
                sumB0 = b0.lane(0);
            } else {
                a0.intoArray(lanesOf, 0 * step);
                b0.intoArray(lanesOf, 1 * step);
                sumA0 = lanes.sum(lanesOf, 0 * step);
                sumB0 = lanes.sum(lanesOf, 1 * step);
            }
            scores[p] = tail(sumA0, q, qa, keys, k0, bound, n) * scale;
            scores[len + p] = tail(sumB0, q, qb, keys, k0, bound, n) * scale;
        }
    }

    /** out[outA + c] = Σ_p scores[p]·value p [c], out[outB + c] = Σ_p scores[len + p]·value p [c]. */
    private static void weightedSumPair(Lanes lanes, float[] out, int outA, int outB, float[] values, int[] rows,
            int headOff, int len, int n, float[] scores) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        int bound = fs.loopBound(n);
        int p;
        int c = 0;
        for (; c + 4 * step <= bound; c += 4 * step) {
            FloatVector a0 = FloatVector.zero(fs);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector b0 = a0;
            FloatVector b1 = a0;
            FloatVector b2 = a0;
            FloatVector b3 = a0;
            for (p = 0; p < len; p++) {
                FloatVector sa = FloatVector.broadcast(fs, scores[p]);
                FloatVector sb = FloatVector.broadcast(fs, scores[len + p]);
                int v = rows[p] + headOff + c;
                FloatVector vv = FloatVector.fromArray(fs, values, v);
                a0 = vv.fma(sa, a0);
                b0 = vv.fma(sb, b0);
                vv = FloatVector.fromArray(fs, values, v + step);
                a1 = vv.fma(sa, a1);
                b1 = vv.fma(sb, b1);
                vv = FloatVector.fromArray(fs, values, v + 2 * step);
                a2 = vv.fma(sa, a2);
                b2 = vv.fma(sb, b2);
                vv = FloatVector.fromArray(fs, values, v + 3 * step);
                a3 = vv.fma(sa, a3);
                b3 = vv.fma(sb, b3);
            }
            a0.intoArray(out, outA + c);
            a1.intoArray(out, outA + c + step);
            a2.intoArray(out, outA + c + 2 * step);
            a3.intoArray(out, outA + c + 3 * step);
            b0.intoArray(out, outB + c);
            b1.intoArray(out, outB + c + step);
            b2.intoArray(out, outB + c + 2 * step);
            b3.intoArray(out, outB + c + 3 * step);
        }
        for (; c < bound; c += step) {
            FloatVector a0 = FloatVector.zero(fs);
            FloatVector b0 = a0;
            for (p = 0; p < len; p++) {
                FloatVector vv = FloatVector.fromArray(fs, values, rows[p] + headOff + c);
                a0 = vv.fma(FloatVector.broadcast(fs, scores[p]), a0);
                b0 = vv.fma(FloatVector.broadcast(fs, scores[len + p]), b0);
            }
            a0.intoArray(out, outA + c);
            b0.intoArray(out, outB + c);
        }
        for (; c < n; c++) {
            float sumA = 0;
            float sumB = 0;
            for (p = 0; p < len; p++) {
                float v = values[rows[p] + headOff + c];
                sumA = Math.fma(scores[p], v, sumA);
                sumB = Math.fma(scores[len + p], v, sumB);
            }
            out[outA + c] = sumA;
            out[outB + c] = sumB;
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
