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

    /** {@code sum} plus q[c]·k[c] for the columns [from, n) past the last whole vector, one by one. */
    private static float tail(float sum, float[] q, int qOff, float[] keys, int kOff, int from, int n) {
        for (int c = from; c < n; c++) {
            sum += q[qOff + c] * keys[kOff + c];
        }
        return sum;
    }
}
