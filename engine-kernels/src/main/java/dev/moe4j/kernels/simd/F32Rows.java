package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.LE_FLOAT;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Mat-vec over F32 weights, read straight from storage, summed in {@link TileMatmul}'s canonical order. */
final class F32Rows {

    private F32Rows() {}

    /** out[r] = w[r]·x for r in [rowStart, rowEnd). */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        VectorSpecies<Float> fs = lanes.floats();
        MemorySegment data = w.data();
        int cols = w.cols();
        int bound = fs.loopBound(cols);
        int n = fs.length();
        float[] sums = new float[4 * n]; // [4 rows][n lanes]
        int last = rowEnd - 1;
        // four rows per pass share each load of x; their sums are four independent FMA chains. A pass short of rows
        // repeats the last one, so that every row is summed by this same code.
        for (int r = rowStart; r < rowEnd; r += 4) {
            long base0 = w.rowOffset(r);
            long base1 = w.rowOffset(Math.min(r + 1, last));
            long base2 = w.rowOffset(Math.min(r + 2, last));
            long base3 = w.rowOffset(Math.min(r + 3, last));
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int c = 0; c < bound; c += n) {
                FloatVector xv = FloatVector.fromArray(fs, x, c);
                long at = 4L * c;
                acc0 = FloatVector.fromMemorySegment(fs, data, base0 + at, LE).fma(xv, acc0);
                acc1 = FloatVector.fromMemorySegment(fs, data, base1 + at, LE).fma(xv, acc1);
                acc2 = FloatVector.fromMemorySegment(fs, data, base2 + at, LE).fma(xv, acc2);
                acc3 = FloatVector.fromMemorySegment(fs, data, base3 + at, LE).fma(xv, acc3);
            }
            acc0.intoArray(sums, 0);
            acc1.intoArray(sums, n);
            acc2.intoArray(sums, 2 * n);
            acc3.intoArray(sums, 3 * n);
            for (int i = 0; i < 4; i++) {
                int row = Math.min(r + i, last);
                long base = w.rowOffset(row);
                float sum = lanes.sum(sums, i * n);
                for (int c = bound; c < cols; c++) {
                    sum += data.get(LE_FLOAT, base + 4L * c) * x[c];
                }
                out[row] = sum;
            }
        }
    }
}
