package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.LE_FLOAT;
import static dev.moe4j.kernels.simd.Storage.half;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec and widening over Q4_0 blocks ({@code f16 d; uint8 qs[16]}: byte j holds weight j in its low nibble and
 * j + 16 in its high nibble; w = d·(q − 8), see {@link dev.moe4j.kernels.quant.Q4_0}). The mat-vec widens each
 * weight in registers to the float the scalar dequantiser gives and sums in {@link TileMatmul}'s canonical order.
 */
final class Q4_0Rows {

    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 18;

    private Q4_0Rows() {}

    /** Row {@code row} widened into out[outOff, outOff + cols). */
    static void widen(Lanes lanes, Matrix w, int row, float[] out, int outOff) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Integer> is = lanes.ints();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        int n = fs.length();
        MemorySegment data = w.data();
        long base = w.blockOffset(row, 0);
        long stride = w.blockStride(row);
        int blocks = w.cols() / BLOCK;
        for (int block = 0; block < blocks; block++) {
            long at = base + block * stride;
            float d = half(data, at);
            int o = outOff + block * BLOCK;
            for (int j = 0; j < BLOCK / 2; j += bs.length()) {
                ByteVector q = ByteVector.fromMemorySegment(bs, data, at + 2 + j, LE);
                IntVector i = (IntVector) q.convertShape(VectorOperators.B2I, is, 0);
                i.and(15).sub(8).convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d).intoArray(out, o + j);
                i.lanewise(VectorOperators.LSHR, 4).and(15).sub(8).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                        .mul(d).intoArray(out, o + BLOCK / 2 + j);
                // 128-bit registers: the 8 loaded bytes fill a second vector of 4 lanes
                if (parts == 2) {
                    i = (IntVector) q.convertShape(VectorOperators.B2I, is, 1);
                    i.and(15).sub(8).convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d)
                            .intoArray(out, o + j + n);
                    i.lanewise(VectorOperators.LSHR, 4).and(15).sub(8).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                            .mul(d).intoArray(out, o + BLOCK / 2 + j + n);
                }
            }
        }
    }

    /**
     * {@link #widen} at 16 lanes, straight into a prefill panel slot: the 16 weights of columns [16s, 16s + 16) go
     * to {@link PanelSlots#ALL}{@code [at + s·vectorStride]}, each as {@link #widen} computes it.
     */
    static void widen16(Matrix w, int row, long at, long vectorStride) {
        MemorySegment to = PanelSlots.ALL; // a constant: see PanelSlots
        MemorySegment data = w.data();
        long base = w.blockOffset(row, 0);
        long stride = w.blockStride(row);
        int blocks = w.cols() / BLOCK;
        for (int block = 0; block < blocks; block++) {
            long from = base + block * stride;
            float d = half(data, from);
            ByteVector q = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, from + 2, LE);
            IntVector i = (IntVector) q.convertShape(VectorOperators.B2I, IntVector.SPECIES_512, 0);
            long low = at + 2L * block * vectorStride;
            i.and(15).sub(8).convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d)
                    .intoMemorySegment(to, low, LE);
            i.lanewise(VectorOperators.LSHR, 4).and(15).sub(8).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                    .mul(d).intoMemorySegment(to, low + vectorStride, LE);
        }
    }

    /**
     * out[r] = w[r]·x for r in [rowStart, rowEnd). Four rows per pass share each load of x, with four independent
     * FMA chains; on interleaved storage ({@link Matrix#interleaved()}) their blocks are one contiguous stream.
     * Nibbles are unpacked in int lanes (x86 has no byte shift); each weight is (q − 8)·d as the scalar dequantiser
     * rounds it (fma(q, d, −8d) would be one op less but gives +0 where the product is −0). Everything stays in this one method: C2 would not
     * inline helpers taking vectors into a loop this size, and a vector passed to a call is boxed.
     */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        if (lanes.floats().length() == 16 && w.scales() != null) {
            matvec16(out, w, x, rowStart, rowEnd);
            return;
        }
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Integer> is = lanes.ints();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        int n = fs.length();
        float[] sums = new float[4 * n]; // [4 rows][n lanes]
        int last = rowEnd - 1;
        // a pass short of rows repeats the last one, so that every row is summed by this same code
        for (int r = rowStart; r < rowEnd; r += 4) {
            long base0 = w.blockOffset(r, 0);
            long base1 = w.blockOffset(Math.min(r + 1, last), 0);
            long base2 = w.blockOffset(Math.min(r + 2, last), 0);
            long base3 = w.blockOffset(Math.min(r + 3, last), 0);
            long stride0 = w.blockStride(r);
            long stride1 = w.blockStride(Math.min(r + 1, last));
            long stride2 = w.blockStride(Math.min(r + 2, last));
            long stride3 = w.blockStride(Math.min(r + 3, last));
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int block = 0; block < blocks; block++) {
                long at0 = base0 + block * stride0;
                long at1 = base1 + block * stride1;
                long at2 = base2 + block * stride2;
                long at3 = base3 + block * stride3;
                float d0 = half(data, at0);
                float d1 = half(data, at1);
                float d2 = half(data, at2);
                float d3 = half(data, at3);
                // the low nibbles: weights 0-15
                for (int j = 0; j < BLOCK / 2; j += bs.length()) {
                    ByteVector q0 = ByteVector.fromMemorySegment(bs, data, at0 + 2 + j, LE);
                    ByteVector q1 = ByteVector.fromMemorySegment(bs, data, at1 + 2 + j, LE);
                    ByteVector q2 = ByteVector.fromMemorySegment(bs, data, at2 + 2 + j, LE);
                    ByteVector q3 = ByteVector.fromMemorySegment(bs, data, at3 + 2 + j, LE);
                    FloatVector xv0 = FloatVector.fromArray(fs, x, block * BLOCK + j);
                    acc0 = ((IntVector) q0.convertShape(VectorOperators.B2I, is, 0)).and(15).sub(8)
                            .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d0).fma(xv0, acc0);
                    acc1 = ((IntVector) q1.convertShape(VectorOperators.B2I, is, 0)).and(15).sub(8)
                            .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d1).fma(xv0, acc1);
                    acc2 = ((IntVector) q2.convertShape(VectorOperators.B2I, is, 0)).and(15).sub(8)
                            .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d2).fma(xv0, acc2);
                    acc3 = ((IntVector) q3.convertShape(VectorOperators.B2I, is, 0)).and(15).sub(8)
                            .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d3).fma(xv0, acc3);
                    // 128-bit registers: the 8 loaded bytes fill a second vector of 4 lanes
                    if (parts == 2) {
                        FloatVector xv1 = FloatVector.fromArray(fs, x, block * BLOCK + j + n);
                        acc0 = ((IntVector) q0.convertShape(VectorOperators.B2I, is, 1)).and(15).sub(8)
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d0).fma(xv1, acc0);
                        acc1 = ((IntVector) q1.convertShape(VectorOperators.B2I, is, 1)).and(15).sub(8)
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d1).fma(xv1, acc1);
                        acc2 = ((IntVector) q2.convertShape(VectorOperators.B2I, is, 1)).and(15).sub(8)
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d2).fma(xv1, acc2);
                        acc3 = ((IntVector) q3.convertShape(VectorOperators.B2I, is, 1)).and(15).sub(8)
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d3).fma(xv1, acc3);
                    }
                }
                // the high nibbles: weights 16-31
                for (int j = 0; j < BLOCK / 2; j += bs.length()) {
                    ByteVector q0 = ByteVector.fromMemorySegment(bs, data, at0 + 2 + j, LE);
                    ByteVector q1 = ByteVector.fromMemorySegment(bs, data, at1 + 2 + j, LE);
                    ByteVector q2 = ByteVector.fromMemorySegment(bs, data, at2 + 2 + j, LE);
                    ByteVector q3 = ByteVector.fromMemorySegment(bs, data, at3 + 2 + j, LE);
                    FloatVector xv0 = FloatVector.fromArray(fs, x, block * BLOCK + BLOCK / 2 + j);
                    acc0 = ((IntVector) q0.convertShape(VectorOperators.B2I, is, 0)).lanewise(VectorOperators.LSHR, 4).and(15).sub(8)
                            .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d0).fma(xv0, acc0);
                    acc1 = ((IntVector) q1.convertShape(VectorOperators.B2I, is, 0)).lanewise(VectorOperators.LSHR, 4).and(15).sub(8)
                            .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d1).fma(xv0, acc1);
                    acc2 = ((IntVector) q2.convertShape(VectorOperators.B2I, is, 0)).lanewise(VectorOperators.LSHR, 4).and(15).sub(8)
                            .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d2).fma(xv0, acc2);
                    acc3 = ((IntVector) q3.convertShape(VectorOperators.B2I, is, 0)).lanewise(VectorOperators.LSHR, 4).and(15).sub(8)
                            .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d3).fma(xv0, acc3);
                    // 128-bit registers: the 8 loaded bytes fill a second vector of 4 lanes
                    if (parts == 2) {
                        FloatVector xv1 = FloatVector.fromArray(fs, x, block * BLOCK + BLOCK / 2 + j + n);
                        acc0 = ((IntVector) q0.convertShape(VectorOperators.B2I, is, 1)).lanewise(VectorOperators.LSHR, 4).and(15).sub(8)
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d0).fma(xv1, acc0);
                        acc1 = ((IntVector) q1.convertShape(VectorOperators.B2I, is, 1)).lanewise(VectorOperators.LSHR, 4).and(15).sub(8)
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d1).fma(xv1, acc1);
                        acc2 = ((IntVector) q2.convertShape(VectorOperators.B2I, is, 1)).lanewise(VectorOperators.LSHR, 4).and(15).sub(8)
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d2).fma(xv1, acc2);
                        acc3 = ((IntVector) q3.convertShape(VectorOperators.B2I, is, 1)).lanewise(VectorOperators.LSHR, 4).and(15).sub(8)
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(d3).fma(xv1, acc3);
                    }
                }
            }
            acc0.intoArray(sums, 0);
            acc1.intoArray(sums, n);
            acc2.intoArray(sums, 2 * n);
            acc3.intoArray(sums, 3 * n);
            for (int i = 0; i < 4; i++) {
                out[Math.min(r + i, last)] = lanes.sum(sums, i * n);
            }
        }
    }

    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** Lane i holds i − 8: a block's 16 weight values are LEVELS·d, as the scalar dequantiser rounds them. */
    private static final FloatVector LEVELS = FloatVector.fromArray(F16,
            new float[] {-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7}, 0);

    /**
     * {@link #matvec} with 16-lane registers: one 16-byte load per block and row gives both halves' nibbles as int
     * lanes, and a weight is looked up (one permute) in the row's table of its block's 16 values (q − 8)·d, instead
     * of being subtracted, converted and scaled. {@code selectFrom} wraps each index to its low 4 bits, which are the
     * low nibble of the sign-extended byte, or after the shift by 4 the high one, so no mask is needed. Same values,
     * same order as the other widths, 1.4x their speed. The tables start from the scales widened at load
     * ({@link Matrix#scales()}, interleaved storage), broadcast straight from memory: converting a half per block and
     * row had the permute port as busy as the lookups (decode 15.8 → 25.0 tok/s, 0.6B shape); row-major storage
     * takes the generic loop above.
     */
    private static void matvec16(float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        int pairs = Q8_0Rows.groupPairs(w, rowStart, rowEnd);
        if (pairs > 0) {
            twoStreams(out, w, x, rowStart, pairs);
        }
        int r = rowStart + 2 * Matrix.GROUP * pairs;
        if (r < rowEnd) {
            oneStream(out, w, x, r, rowEnd);
        }
    }

    /**
     * Groups [first, first + 2·pairs) of four rows (whole groups), as two streams: pass g sums group g of the first
     * half and group g of the second half, each with exactly the ops {@link #oneStream} gives a row. From DRAM one
     * core then keeps two prefetch streams going where one left it waiting on memory: one core, Q4_0 16384×2048
     * matrices cycled past the caches, 7.5 → 8.3-10 Gweights/s.
     */
    private static void twoStreams(float[] out, Matrix w, float[] x, int first, int pairs) {
        MemorySegment data = w.data();
        MemorySegment scales = w.scales();
        int blocks = w.cols() / BLOCK;
        long groupStride = Matrix.GROUP * BLOCK_BYTES;
        long scaleGroupStride = Matrix.GROUP * Float.BYTES;
        for (int g = 0; g < pairs; g++) {
            int ra = first + Matrix.GROUP * g;
            int rb = first + Matrix.GROUP * (pairs + g);
            long a = w.blockOffset(ra, 0);
            long b = w.blockOffset(rb, 0);
            // scale k of the interleaved storage is that of the block at byte k * BLOCK_BYTES
            long sa = a / BLOCK_BYTES * Float.BYTES;
            long sb = b / BLOCK_BYTES * Float.BYTES;
            FloatVector acc0 = FloatVector.zero(F16);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            FloatVector bcc0 = acc0;
            FloatVector bcc1 = acc0;
            FloatVector bcc2 = acc0;
            FloatVector bcc3 = acc0;
            for (int block = 0; block < blocks; block++) {
                FloatVector x0 = FloatVector.fromArray(F16, x, block * BLOCK);
                FloatVector x1 = FloatVector.fromArray(F16, x, block * BLOCK + BLOCK / 2);
                long at = a + block * groupStride;
                long st = sa + block * scaleGroupStride;
                FloatVector t0 = LEVELS.mul(scales.get(LE_FLOAT, st));
                FloatVector t1 = LEVELS.mul(scales.get(LE_FLOAT, st + Float.BYTES));
                FloatVector t2 = LEVELS.mul(scales.get(LE_FLOAT, st + 2 * Float.BYTES));
                FloatVector t3 = LEVELS.mul(scales.get(LE_FLOAT, st + 3 * Float.BYTES));
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B16, data, at + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B16, data, at + BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B16, data, at + 2 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B16, data, at + 3 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                acc0 = q0.selectFrom(t0.reinterpretAsInts()).reinterpretAsFloats().fma(x0, acc0);
                acc1 = q1.selectFrom(t1.reinterpretAsInts()).reinterpretAsFloats().fma(x0, acc1);
                acc2 = q2.selectFrom(t2.reinterpretAsInts()).reinterpretAsFloats().fma(x0, acc2);
                acc3 = q3.selectFrom(t3.reinterpretAsInts()).reinterpretAsFloats().fma(x0, acc3);
                acc0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(t0.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, acc0);
                acc1 = q1.lanewise(VectorOperators.LSHR, 4).selectFrom(t1.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, acc1);
                acc2 = q2.lanewise(VectorOperators.LSHR, 4).selectFrom(t2.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, acc2);
                acc3 = q3.lanewise(VectorOperators.LSHR, 4).selectFrom(t3.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, acc3);
                at = b + block * groupStride;
                st = sb + block * scaleGroupStride;
                t0 = LEVELS.mul(scales.get(LE_FLOAT, st));
                t1 = LEVELS.mul(scales.get(LE_FLOAT, st + Float.BYTES));
                t2 = LEVELS.mul(scales.get(LE_FLOAT, st + 2 * Float.BYTES));
                t3 = LEVELS.mul(scales.get(LE_FLOAT, st + 3 * Float.BYTES));
                q0 = (IntVector) ByteVector.fromMemorySegment(B16, data, at + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                q1 = (IntVector) ByteVector.fromMemorySegment(B16, data, at + BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                q2 = (IntVector) ByteVector.fromMemorySegment(B16, data, at + 2 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                q3 = (IntVector) ByteVector.fromMemorySegment(B16, data, at + 3 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                bcc0 = q0.selectFrom(t0.reinterpretAsInts()).reinterpretAsFloats().fma(x0, bcc0);
                bcc1 = q1.selectFrom(t1.reinterpretAsInts()).reinterpretAsFloats().fma(x0, bcc1);
                bcc2 = q2.selectFrom(t2.reinterpretAsInts()).reinterpretAsFloats().fma(x0, bcc2);
                bcc3 = q3.selectFrom(t3.reinterpretAsInts()).reinterpretAsFloats().fma(x0, bcc3);
                bcc0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(t0.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, bcc0);
                bcc1 = q1.lanewise(VectorOperators.LSHR, 4).selectFrom(t1.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, bcc1);
                bcc2 = q2.lanewise(VectorOperators.LSHR, 4).selectFrom(t2.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, bcc2);
                bcc3 = q3.lanewise(VectorOperators.LSHR, 4).selectFrom(t3.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, bcc3);
            }
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_8));
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_4));
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_2));
            acc0 = acc0.add(acc0.rearrange(Lanes.Bits512.ROTATE_1));
            out[ra] = acc0.lane(0);
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_8));
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_4));
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_2));
            acc1 = acc1.add(acc1.rearrange(Lanes.Bits512.ROTATE_1));
            out[ra + 1] = acc1.lane(0);
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_8));
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_4));
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_2));
            acc2 = acc2.add(acc2.rearrange(Lanes.Bits512.ROTATE_1));
            out[ra + 2] = acc2.lane(0);
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_8));
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_4));
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_2));
            acc3 = acc3.add(acc3.rearrange(Lanes.Bits512.ROTATE_1));
            out[ra + 3] = acc3.lane(0);
            bcc0 = bcc0.add(bcc0.rearrange(Lanes.Bits512.ROTATE_8));
            bcc0 = bcc0.add(bcc0.rearrange(Lanes.Bits512.ROTATE_4));
            bcc0 = bcc0.add(bcc0.rearrange(Lanes.Bits512.ROTATE_2));
            bcc0 = bcc0.add(bcc0.rearrange(Lanes.Bits512.ROTATE_1));
            out[rb] = bcc0.lane(0);
            bcc1 = bcc1.add(bcc1.rearrange(Lanes.Bits512.ROTATE_8));
            bcc1 = bcc1.add(bcc1.rearrange(Lanes.Bits512.ROTATE_4));
            bcc1 = bcc1.add(bcc1.rearrange(Lanes.Bits512.ROTATE_2));
            bcc1 = bcc1.add(bcc1.rearrange(Lanes.Bits512.ROTATE_1));
            out[rb + 1] = bcc1.lane(0);
            bcc2 = bcc2.add(bcc2.rearrange(Lanes.Bits512.ROTATE_8));
            bcc2 = bcc2.add(bcc2.rearrange(Lanes.Bits512.ROTATE_4));
            bcc2 = bcc2.add(bcc2.rearrange(Lanes.Bits512.ROTATE_2));
            bcc2 = bcc2.add(bcc2.rearrange(Lanes.Bits512.ROTATE_1));
            out[rb + 2] = bcc2.lane(0);
            bcc3 = bcc3.add(bcc3.rearrange(Lanes.Bits512.ROTATE_8));
            bcc3 = bcc3.add(bcc3.rearrange(Lanes.Bits512.ROTATE_4));
            bcc3 = bcc3.add(bcc3.rearrange(Lanes.Bits512.ROTATE_2));
            bcc3 = bcc3.add(bcc3.rearrange(Lanes.Bits512.ROTATE_1));
            out[rb + 3] = bcc3.lane(0);
        }
    }

    /** Rows [rowStart, rowEnd) four at a time, any start and end: a pass short of rows repeats the last one. */
    private static void oneStream(float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        MemorySegment data = w.data();
        MemorySegment scales = w.scales();
        int blocks = w.cols() / BLOCK;
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
            // scale k of the interleaved storage is that of the block at byte k * BLOCK_BYTES; divided here by a
            // constant (a multiply): through Matrix, dividing by type().blockBytes() cost 8-10 % of the kernel
            long scale0 = base0 / BLOCK_BYTES * Float.BYTES;
            long scale1 = base1 / BLOCK_BYTES * Float.BYTES;
            long scale2 = base2 / BLOCK_BYTES * Float.BYTES;
            long scale3 = base3 / BLOCK_BYTES * Float.BYTES;
            long scaleStride0 = stride0 / BLOCK_BYTES * Float.BYTES;
            long scaleStride1 = stride1 / BLOCK_BYTES * Float.BYTES;
            long scaleStride2 = stride2 / BLOCK_BYTES * Float.BYTES;
            long scaleStride3 = stride3 / BLOCK_BYTES * Float.BYTES;
            FloatVector acc0 = FloatVector.zero(F16);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int block = 0; block < blocks; block++) {
                long at0 = base0 + block * stride0;
                long at1 = base1 + block * stride1;
                long at2 = base2 + block * stride2;
                long at3 = base3 + block * stride3;
                FloatVector t0 = LEVELS.mul(scales.get(LE_FLOAT, scale0 + block * scaleStride0));
                FloatVector t1 = LEVELS.mul(scales.get(LE_FLOAT, scale1 + block * scaleStride1));
                FloatVector t2 = LEVELS.mul(scales.get(LE_FLOAT, scale2 + block * scaleStride2));
                FloatVector t3 = LEVELS.mul(scales.get(LE_FLOAT, scale3 + block * scaleStride3));
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B16, data, at0 + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B16, data, at1 + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B16, data, at2 + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B16, data, at3 + 2, LE)
                        .convertShape(VectorOperators.B2I, I16, 0);
                FloatVector x0 = FloatVector.fromArray(F16, x, block * BLOCK);
                acc0 = q0.selectFrom(t0.reinterpretAsInts()).reinterpretAsFloats().fma(x0, acc0);
                acc1 = q1.selectFrom(t1.reinterpretAsInts()).reinterpretAsFloats().fma(x0, acc1);
                acc2 = q2.selectFrom(t2.reinterpretAsInts()).reinterpretAsFloats().fma(x0, acc2);
                acc3 = q3.selectFrom(t3.reinterpretAsInts()).reinterpretAsFloats().fma(x0, acc3);
                FloatVector x1 = FloatVector.fromArray(F16, x, block * BLOCK + BLOCK / 2);
                acc0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(t0.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, acc0);
                acc1 = q1.lanewise(VectorOperators.LSHR, 4).selectFrom(t1.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, acc1);
                acc2 = q2.lanewise(VectorOperators.LSHR, 4).selectFrom(t2.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, acc2);
                acc3 = q3.lanewise(VectorOperators.LSHR, 4).selectFrom(t3.reinterpretAsInts())
                        .reinterpretAsFloats().fma(x1, acc3);
            }
            // the last row first: a short pass repeats it, and a real row must win
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
}
