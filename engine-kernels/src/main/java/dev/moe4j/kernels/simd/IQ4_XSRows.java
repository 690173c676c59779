package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.half;

import dev.moe4j.kernels.Matrix;
import dev.moe4j.kernels.quant.IQ4_NL;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec over IQ4_XS blocks ({@code f16 d; uint16 scales_h; uint8 scales_l[4]; uint8 qs[128]} for 256 weights, see
 * {@link dev.moe4j.kernels.quant.IQ4_XS}) with 16-lane registers, bit for bit as the scalar dequantiser:
 * w = (d·(scale − 32))·level(q). Other widths use {@link CodedFormats#IQ4_XS}.
 */
final class IQ4_XSRows {

    private static final int BLOCK = 256;
    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** The 16 non-linear levels, lane q holding level(q). */
    private static final FloatVector LEVELS = levels();

    private IQ4_XSRows() {}

    private static FloatVector levels() {
        float[] levels = new float[16];
        for (int q = 0; q < 16; q++) {
            levels[q] = IQ4_NL.level(q);
        }
        return FloatVector.fromArray(F16, levels, 0);
    }

    /**
     * out[r] = w[r]·x for r in [rowStart, rowEnd), in {@link TileMatmul}'s canonical order: four rows per pass sharing
     * each load of x; a sub-block's 16 weight values are one vector, and each weight is looked up in it with one
     * permute (the index wraps, so a byte's low nibble needs no mask). Written out with constant species and no
     * helper taking a vector: C2 boxes vectors passed to calls it does not inline.
     */
    static void matvec16(float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        float[] scales = new float[32]; // [4 rows][8 sub-blocks] d·(scale − 32)
        int last = rowEnd - 1;
        for (int r = rowStart; r < rowEnd; r += 4) {
            long base0 = w.blockOffset(r, 0);
            long base1 = w.blockOffset(Math.min(r + 1, last), 0);
            long base2 = w.blockOffset(Math.min(r + 2, last), 0);
            long base3 = w.blockOffset(Math.min(r + 3, last), 0);
            long stride0 = w.blockStride(r);
            long stride1 = w.blockStride(Math.min(r + 1, last));
            long stride2 = w.blockStride(Math.min(r + 2, last));
            long stride3 = w.blockStride(Math.min(r + 3, last));
            FloatVector acc0 = FloatVector.zero(F16);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int block = 0; block < blocks; block++) {
                long at0 = base0 + block * stride0;
                long at1 = base1 + block * stride1;
                long at2 = base2 + block * stride2;
                long at3 = base3 + block * stride3;
                scales(data, at0, scales, 0);
                scales(data, at1, scales, 8);
                scales(data, at2, scales, 16);
                scales(data, at3, scales, 24);
                // sub-block s: 16 bytes, weights 0-15 in the low nibbles, 16-31 in the high ones
                for (int sub = 0; sub < 8; sub++) {
                    int c = block * BLOCK + 32 * sub;
                    FloatVector x0 = FloatVector.fromArray(F16, x, c);
                    FloatVector x1 = FloatVector.fromArray(F16, x, c + 16);
                    IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B16, data, at0 + 8 + 16L * sub, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector t0 = LEVELS.mul(scales[0 + sub]).reinterpretAsInts();
                    acc0 = q0.selectFrom(t0).reinterpretAsFloats().fma(x0, acc0);
                    acc0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(t0).reinterpretAsFloats().fma(x1, acc0);
                    IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B16, data, at1 + 8 + 16L * sub, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector t1 = LEVELS.mul(scales[8 + sub]).reinterpretAsInts();
                    acc1 = q1.selectFrom(t1).reinterpretAsFloats().fma(x0, acc1);
                    acc1 = q1.lanewise(VectorOperators.LSHR, 4).selectFrom(t1).reinterpretAsFloats().fma(x1, acc1);
                    IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B16, data, at2 + 8 + 16L * sub, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector t2 = LEVELS.mul(scales[16 + sub]).reinterpretAsInts();
                    acc2 = q2.selectFrom(t2).reinterpretAsFloats().fma(x0, acc2);
                    acc2 = q2.lanewise(VectorOperators.LSHR, 4).selectFrom(t2).reinterpretAsFloats().fma(x1, acc2);
                    IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B16, data, at3 + 8 + 16L * sub, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
                    IntVector t3 = LEVELS.mul(scales[24 + sub]).reinterpretAsInts();
                    acc3 = q3.selectFrom(t3).reinterpretAsFloats().fma(x0, acc3);
                    acc3 = q3.lanewise(VectorOperators.LSHR, 4).selectFrom(t3).reinterpretAsFloats().fma(x1, acc3);
                }
            }
            // Lanes.sum's steps inline; the last row first: a short pass repeats it
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_8));
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_4));
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_2));
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_1));
            out[Math.min(r + 3, last)] = acc3.lane(0);
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_8));
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_4));
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_2));
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_1));
            out[Math.min(r + 2, last)] = acc2.lane(0);
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_8));
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_4));
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_2));
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_1));
            out[Math.min(r + 1, last)] = acc1.lane(0);
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_8));
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_4));
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_2));
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_1));
            out[r] = acc0.lane(0);
        }
    }

    /** d·(scale − 32) of the block at {@code at}'s eight sub-blocks into scales[off, off + 8). */
    private static void scales(MemorySegment data, long at, float[] scales, int off) {
        float d = half(data, at);
        int high = Short.toUnsignedInt(data.get(Storage.LE_SHORT, at + 2));
        int low = data.get(Storage.LE_INT, at + 4);
        for (int sub = 0; sub < 8; sub++) {
            scales[off + sub] = d * ((low >>> 4 * sub & 0x0F | (high >>> 2 * sub & 3) << 4) - 32);
        }
    }
}
