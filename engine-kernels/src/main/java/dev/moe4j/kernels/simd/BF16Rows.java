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

    /** out[r] = w[r]·x for r in [rowStart, rowEnd). */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Short> ss = lanes.shorts();
        VectorSpecies<Integer> is = lanes.ints();
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
                long at = 2L * c;
                acc0 = load(ss, is, data, base0 + at).fma(xv, acc0);
                acc1 = load(ss, is, data, base1 + at).fma(xv, acc1);
                acc2 = load(ss, is, data, base2 + at).fma(xv, acc2);
                acc3 = load(ss, is, data, base3 + at).fma(xv, acc3);
            }
            float sum0 = acc0.reduceLanes(VectorOperators.ADD);
            float sum1 = acc1.reduceLanes(VectorOperators.ADD);
            float sum2 = acc2.reduceLanes(VectorOperators.ADD);
            float sum3 = acc3.reduceLanes(VectorOperators.ADD);
            for (; c < cols; c++) {
                long at = 2L * c;
                sum0 += get(data, base0 + at) * x[c];
                sum1 += get(data, base1 + at) * x[c];
                sum2 += get(data, base2 + at) * x[c];
                sum3 += get(data, base3 + at) * x[c];
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
        VectorSpecies<Short> ss = lanes.shorts();
        VectorSpecies<Integer> is = lanes.ints();
        int step = fs.length();
        FloatVector acc0 = FloatVector.zero(fs);
        FloatVector acc1 = acc0;
        int c = 0;
        // unrolled 2x: two independent FMA chains
        for (int bound = cols - 2 * step; c <= bound; c += 2 * step) {
            long at = base + 2L * c;
            acc0 = load(ss, is, data, at).fma(FloatVector.fromArray(fs, x, c), acc0);
            acc1 = load(ss, is, data, at + 2L * step).fma(FloatVector.fromArray(fs, x, c + step), acc1);
        }
        for (int bound = cols - step; c <= bound; c += step) {
            acc0 = load(ss, is, data, base + 2L * c).fma(FloatVector.fromArray(fs, x, c), acc0);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            sum += get(data, base + 2L * c) * x[c];
        }
        return sum;
    }
}
