package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.LE_FLOAT;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Mat-vec over F32 weights, read straight from storage. */
final class F32Rows {

    private F32Rows() {}

    /** out[r] = w[r]·x for r in [rowStart, rowEnd). */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        VectorSpecies<Float> fs = lanes.floats();
        MemorySegment data = w.data();
        int cols = w.cols();
        long rowBytes = w.rowBytes();
        int bound = fs.loopBound(cols);
        int r = rowStart;
        // four rows per pass share each load of x; their sums are four independent FMA chains
        for (; r + 4 <= rowEnd; r += 4) {
            long base0 = w.rowOffset(r);
            long base1 = base0 + rowBytes;
            long base2 = base1 + rowBytes;
            long base3 = base2 + rowBytes;
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            int c = 0;
            for (; c < bound; c += fs.length()) {
                FloatVector xv = FloatVector.fromArray(fs, x, c);
                long at = 4L * c;
                acc0 = FloatVector.fromMemorySegment(fs, data, base0 + at, LE).fma(xv, acc0);
                acc1 = FloatVector.fromMemorySegment(fs, data, base1 + at, LE).fma(xv, acc1);
                acc2 = FloatVector.fromMemorySegment(fs, data, base2 + at, LE).fma(xv, acc2);
                acc3 = FloatVector.fromMemorySegment(fs, data, base3 + at, LE).fma(xv, acc3);
            }
            float sum0 = acc0.reduceLanes(VectorOperators.ADD);
            float sum1 = acc1.reduceLanes(VectorOperators.ADD);
            float sum2 = acc2.reduceLanes(VectorOperators.ADD);
            float sum3 = acc3.reduceLanes(VectorOperators.ADD);
            for (; c < cols; c++) {
                long at = 4L * c;
                sum0 += data.get(LE_FLOAT, base0 + at) * x[c];
                sum1 += data.get(LE_FLOAT, base1 + at) * x[c];
                sum2 += data.get(LE_FLOAT, base2 + at) * x[c];
                sum3 += data.get(LE_FLOAT, base3 + at) * x[c];
            }
            out[r] = sum0;
            out[r + 1] = sum1;
            out[r + 2] = sum2;
            out[r + 3] = sum3;
        }
        for (; r < rowEnd; r++) {
            out[r] = dotRow(lanes, data, w.rowOffset(r), x, cols);
        }
    }

    private static float dotRow(Lanes lanes, MemorySegment data, long base, float[] x, int cols) {
        VectorSpecies<Float> fs = lanes.floats();
        int step = fs.length();
        FloatVector acc0 = FloatVector.zero(fs);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        int c = 0;
        // unrolled 4x: independent FMA chains
        for (int bound = cols - 4 * step; c <= bound; c += 4 * step) {
            long at = base + 4L * c;
            acc0 = FloatVector.fromMemorySegment(fs, data, at, LE).fma(FloatVector.fromArray(fs, x, c), acc0);
            acc1 = FloatVector.fromMemorySegment(fs, data, at + 4L * step, LE)
                    .fma(FloatVector.fromArray(fs, x, c + step), acc1);
            acc2 = FloatVector.fromMemorySegment(fs, data, at + 8L * step, LE)
                    .fma(FloatVector.fromArray(fs, x, c + 2 * step), acc2);
            acc3 = FloatVector.fromMemorySegment(fs, data, at + 12L * step, LE)
                    .fma(FloatVector.fromArray(fs, x, c + 3 * step), acc3);
        }
        for (int bound = cols - step; c <= bound; c += step) {
            acc0 = FloatVector.fromMemorySegment(fs, data, base + 4L * c, LE).fma(FloatVector.fromArray(fs, x, c), acc0);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            sum += data.get(LE_FLOAT, base + 4L * c) * x[c];
        }
        return sum;
    }
}
