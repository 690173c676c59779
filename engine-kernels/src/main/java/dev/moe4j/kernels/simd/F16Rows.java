package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.LE_SHORT;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec and widening over F16 (IEEE half) weights. The Vector API has no lane-wise half conversion, so halves
 * are widened with integer bit operations that give exactly {@link Float#float16ToFloat}.
 */
final class F16Rows {

    /**
     * {@link Float#float16ToFloat} quiets a signalling NaN where it runs on the CPU's conversion instruction and
     * keeps it in its Java fallback; the vector conversion matches whichever this JVM does.
     */
    private static final int NAN_QUIET_BIT =
            Float.floatToRawIntBits(Float.float16ToFloat((short) 0x7c01)) & 0x0040_0000;

    private F16Rows() {}

    private static FloatVector load(VectorSpecies<Short> ss, VectorSpecies<Integer> is, MemorySegment data,
            long offset) {
        ShortVector halves = ShortVector.fromMemorySegment(ss, data, offset, LE);
        return toFloats((IntVector) halves.convertShape(VectorOperators.S2I, is, 0));
    }

    /** Halves, sign-extended to ints, as floats. */
    static FloatVector toFloats(IntVector h) {
        // sign to bit 31; exponent and mantissa to bits 13-27, the low exponent bits of a float
        IntVector bits = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13).or(h.and(0x8000_0000));
        // rebias the exponent from 15 to 127: exact for normals and subnormals alike
        FloatVector finite = bits.reinterpretAsFloats().mul(0x1p112f);
        VectorMask<Integer> infOrNan = h.and(0x7c00).eq(0x7c00);
        if (!infOrNan.anyTrue()) {
            return finite;
        }
        // exponent 31 (infinity, NaN): all float exponent bits set, mantissa and sign kept
        VectorMask<Integer> nan = h.and(0x7fff).compare(VectorOperators.GT, 0x7c00);
        IntVector special = bits.or(0x7f80_0000).lanewise(VectorOperators.OR, NAN_QUIET_BIT, nan);
        return finite.reinterpretAsInts().blend(special, infOrNan).reinterpretAsFloats();
    }

    private static float get(MemorySegment data, long offset) {
        return Float.float16ToFloat(data.get(LE_SHORT, offset));
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
        float[] sums = new float[2 * n]; // [2 rows][n lanes]
        int last = rowEnd - 1;
        // two rows per pass share each load of x (four exceed C2's inlining budget with this conversion). A pass
        // short of rows repeats the last one, so that every row is summed by this same code.
        for (int r = rowStart; r < rowEnd; r += 2) {
            long base0 = w.rowOffset(r);
            long base1 = w.rowOffset(Math.min(r + 1, last));
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            for (int c = 0; c < bound; c += n) {
                FloatVector xv = FloatVector.fromArray(fs, x, c);
                long at = 2L * c;
                acc0 = load(ss, is, data, base0 + at).fma(xv, acc0);
                acc1 = load(ss, is, data, base1 + at).fma(xv, acc1);
            }
            acc0.intoArray(sums, 0);
            acc1.intoArray(sums, n);
            for (int i = 0; i < 2; i++) {
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
