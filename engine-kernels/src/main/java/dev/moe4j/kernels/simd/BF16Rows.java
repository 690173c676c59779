package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.LE_SHORT;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Mat-vec and widening over BF16 weights: the top 16 bits of an F32, widened in registers by a shift. */
final class BF16Rows {

    private BF16Rows() {}

    private static FloatVector load(VectorSpecies<Short> ss, VectorSpecies<Integer> is, MemorySegment data,
            long offset) {
        ShortVector halves = ShortVector.fromMemorySegment(ss, data, offset, LE);
        // sign extension puts junk in the high half, which the shift discards
        IntVector bits = (IntVector) halves.convertShape(VectorOperators.S2I, is, 0);
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static float get(MemorySegment data, long offset) {
        return Float.intBitsToFloat(data.get(LE_SHORT, offset) << 16);
    }

    /** Row {@code row} widened into out[outOff, outOff + cols). */
    static void widen(Lanes lanes, Matrix w, int row, float[] out, int outOff) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Short> ss = lanes.shorts();
        VectorSpecies<Integer> is = lanes.ints();
        MemorySegment data = w.data();
        long base = w.rowOffset(row);
        int cols = w.cols();
        int c = 0;
        for (int bound = fs.loopBound(cols); c < bound; c += fs.length()) {
            load(ss, is, data, base + 2L * c).intoArray(out, outOff + c);
        }
        for (; c < cols; c++) {
            out[outOff + c] = get(data, base + 2L * c);
        }
    }

    /** out[r] = w[r]·x for r in [rowStart, rowEnd), in {@link TileMatmul}'s canonical order. */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Short> ss = lanes.shorts();
        VectorSpecies<Integer> is = lanes.ints();
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
                long at = 2L * c;
                acc0 = load(ss, is, data, base0 + at).fma(xv, acc0);
                acc1 = load(ss, is, data, base1 + at).fma(xv, acc1);
                acc2 = load(ss, is, data, base2 + at).fma(xv, acc2);
                acc3 = load(ss, is, data, base3 + at).fma(xv, acc3);
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
                    sum += get(data, base + 2L * c) * x[c];
                }
                out[row] = sum;
            }
        }
    }
}
