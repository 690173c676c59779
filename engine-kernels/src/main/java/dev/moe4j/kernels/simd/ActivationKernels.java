package dev.moe4j.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise and reducing kernels over F32 activations on the heap: vector body, scalar tail. Sums add lanes
 * by {@link Lanes#sum} and exponentials come from {@link Exp}, so every result is the same in every JVM state.
 */
final class ActivationKernels {

    private ActivationKernels() {}

    static float dot(Lanes lanes, float[] a, int aOff, float[] b, int bOff, int n) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        FloatVector acc0 = FloatVector.zero(fs);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        int i = 0;
        // unrolled 4x: independent FMA chains hide the FMA latency
        for (int bound = n - 4 * step; i <= bound; i += 4 * step) {
            acc0 = FloatVector.fromArray(fs, a, aOff + i).fma(FloatVector.fromArray(fs, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(fs, a, aOff + i + step)
                    .fma(FloatVector.fromArray(fs, b, bOff + i + step), acc1);
            acc2 = FloatVector.fromArray(fs, a, aOff + i + 2 * step)
                    .fma(FloatVector.fromArray(fs, b, bOff + i + 2 * step), acc2);
            acc3 = FloatVector.fromArray(fs, a, aOff + i + 3 * step)
                    .fma(FloatVector.fromArray(fs, b, bOff + i + 3 * step), acc3);
        }
        for (int bound = n - step; i <= bound; i += step) {
            acc0 = FloatVector.fromArray(fs, a, aOff + i).fma(FloatVector.fromArray(fs, b, bOff + i), acc0);
        }
        float[] lanesOf = new float[step];
        acc0.add(acc1).add(acc2.add(acc3)).intoArray(lanesOf, 0);
        float sum = lanes.sum(lanesOf, 0);
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    static void axpy(Lanes lanes, float[] y, int yOff, float alpha, float[] x, int xOff, int n) {
        VectorSpecies<Float> fs = lanes.floats();
        FloatVector alphas = FloatVector.broadcast(fs, alpha);
        int i = 0;
        for (int bound = fs.loopBound(n); i < bound; i += fs.length()) {
            FloatVector yv = FloatVector.fromArray(fs, y, yOff + i);
            FloatVector.fromArray(fs, x, xOff + i).fma(alphas, yv).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    static void scale(Lanes lanes, float[] x, int off, float alpha, int n) {
        VectorSpecies<Float> fs = lanes.floats();
        int i = 0;
        for (int bound = fs.loopBound(n); i < bound; i += fs.length()) {
            FloatVector.fromArray(fs, x, off + i).mul(alpha).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= alpha;
        }
    }

    static void rmsNorm(Lanes lanes, float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        float sumSq = dot(lanes, x, xOff, x, xOff, n);
        float inv = (float) (1.0 / Math.sqrt(sumSq / n + eps));
        VectorSpecies<Float> fs = lanes.floats();
        int i = 0;
        // weight·(x·inv) in this order, as the scalar twin, so that only the sum of squares differs
        for (int bound = fs.loopBound(n); i < bound; i += fs.length()) {
            FloatVector normed = FloatVector.fromArray(fs, x, xOff + i).mul(inv);
            FloatVector.fromArray(fs, weight, i).mul(normed).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = weight[i] * (x[xOff + i] * inv);
        }
    }

    static void softmax(Lanes lanes, float[] x, int off, int n) {
        VectorSpecies<Float> fs = lanes.floats();
        int bound = fs.loopBound(n);
        FloatVector maxes = FloatVector.broadcast(fs, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < bound; i += fs.length()) {
            maxes = maxes.max(FloatVector.fromArray(fs, x, off + i));
        }
        float max = maxes.reduceLanes(VectorOperators.MAX); // exact: any order gives the same max
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        // Exp is within an ulp of the scalar twin's (float) Math.exp; its scalar form gives the tail the same values
        FloatVector sums = FloatVector.zero(fs);
        for (i = 0; i < bound; i += fs.length()) {
            FloatVector e = Exp.exp(FloatVector.fromArray(fs, x, off + i).sub(max));
            e.intoArray(x, off + i);
            sums = sums.add(e);
        }
        float[] lanesOf = new float[fs.length()];
        sums.intoArray(lanesOf, 0);
        float sum = lanes.sum(lanesOf, 0);
        for (; i < n; i++) {
            float e = Exp.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        scale(lanes, x, off, 1f / sum, n);
    }

    static void siluMul(Lanes lanes, float[] gate, int gateOff, float[] up, int upOff, int n) {
        VectorSpecies<Float> fs = lanes.floats();
        int i = 0;
        for (int bound = fs.loopBound(n); i < bound; i += fs.length()) {
            FloatVector g = FloatVector.fromArray(fs, gate, gateOff + i);
            FloatVector silu = g.div(Exp.exp(g.neg()).add(1f));
            silu.mul(FloatVector.fromArray(fs, up, upOff + i)).intoArray(gate, gateOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gateOff + i];
            gate[gateOff + i] = g / (Exp.exp(-g) + 1f) * up[upOff + i];
        }
    }

    static void rope(Lanes lanes, float[] x, int off, int nHeads, int headDim, float[] cos, float[] sin) {
        VectorSpecies<Float> fs = lanes.floats();
        int half = headDim / 2;
        int bound = fs.loopBound(half);
        for (int head = 0; head < nHeads; head++) {
            int lo = off + head * headDim;
            int hi = lo + half;
            int i = 0;
            // the scalar twin's operations in its order: the results are identical
            for (; i < bound; i += fs.length()) {
                FloatVector x0 = FloatVector.fromArray(fs, x, lo + i);
                FloatVector x1 = FloatVector.fromArray(fs, x, hi + i);
                FloatVector c = FloatVector.fromArray(fs, cos, i);
                FloatVector s = FloatVector.fromArray(fs, sin, i);
                x0.mul(c).sub(x1.mul(s)).intoArray(x, lo + i);
                x1.mul(c).add(x0.mul(s)).intoArray(x, hi + i);
            }
            for (; i < half; i++) {
                float x0 = x[lo + i];
                float x1 = x[hi + i];
                x[lo + i] = x0 * cos[i] - x1 * sin[i];
                x[hi + i] = x1 * cos[i] + x0 * sin[i];
            }
        }
    }
}
