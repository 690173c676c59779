package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.LE_FLOAT;
import static dev.moe4j.kernels.simd.Storage.half;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec and widening over Q8_0 blocks ({@code f16 d; int8 q[32]}, w = d·q, see
 * {@link dev.moe4j.kernels.quant.Q8_0}). The mat-vec widens each weight in registers to the float the scalar
 * dequantiser gives, q·d, and sums in {@link TileMatmul}'s canonical order: the scale is not factored out of a
 * block's sum, which would round differently from the multi-token product.
 */
final class Q8_0Rows {

    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 34;
    private Q8_0Rows() {}

    /** Row {@code row} widened into out[outOff, outOff + cols). */
    static void widen(Lanes lanes, Matrix w, int row, float[] out, int outOff) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        long base = w.blockOffset(row, 0);
        long stride = w.blockStride(row);
        int blocks = w.cols() / BLOCK;
        for (int block = 0; block < blocks; block++) {
            long at = base + block * stride;
            float d = half(data, at);
            int o = outOff + block * BLOCK;
            for (int j = 0; j < BLOCK; j += bs.length()) {
                ByteVector q = ByteVector.fromMemorySegment(bs, data, at + 2 + j, LE);
                widen(q, fs, 0).mul(d).intoArray(out, o + j);
                // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                if (parts == 2) {
                    widen(q, fs, 1).mul(d).intoArray(out, o + j + fs.length());
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
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        MemorySegment data = w.data();
        long base = w.blockOffset(row, 0);
        long stride = w.blockStride(row);
        int blocks = w.cols() / BLOCK;
        for (int block = 0; block < blocks; block++) {
            long from = base + block * stride;
            float d = half(data, from);
            long first = at + 2L * block * vectorStride;
            widen(ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, from + 2, LE), fs, 0).mul(d)
                    .intoMemorySegment(to, first, LE);
            widen(ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, from + 18, LE), fs, 0).mul(d)
                    .intoMemorySegment(to, first + vectorStride, LE);
        }
    }

    /** out[r] = w[r]·x for r in [rowStart, rowEnd). */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        if (lanes.floats().length() == 16 && w.scales() != null) {
            matvec16(out, w, x, rowStart, rowEnd);
            return;
        }
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        int n = fs.length();
        float[] sums = new float[4 * n]; // [4 rows][n lanes]
        int last = rowEnd - 1;
        // four rows per pass share each load of x; their sums are four independent FMA chains. A pass short of rows
        // repeats the last one, so that every row is summed by this same code.
        for (int r = rowStart; r < rowEnd; r += 4) {
            // interleaved storage (Matrix.interleaved) puts the four rows' blocks side by side: one stream
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
                for (int j = 0; j < BLOCK; j += bs.length()) {
                    ByteVector q0 = ByteVector.fromMemorySegment(bs, data, at0 + 2 + j, LE);
                    ByteVector q1 = ByteVector.fromMemorySegment(bs, data, at1 + 2 + j, LE);
                    ByteVector q2 = ByteVector.fromMemorySegment(bs, data, at2 + 2 + j, LE);
                    ByteVector q3 = ByteVector.fromMemorySegment(bs, data, at3 + 2 + j, LE);
                    FloatVector xv = FloatVector.fromArray(fs, x, block * BLOCK + j);
                    acc0 = widen(q0, fs, 0).mul(d0).fma(xv, acc0);
                    acc1 = widen(q1, fs, 0).mul(d1).fma(xv, acc1);
                    acc2 = widen(q2, fs, 0).mul(d2).fma(xv, acc2);
                    acc3 = widen(q3, fs, 0).mul(d3).fma(xv, acc3);
                    // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                    if (parts == 2) {
                        xv = FloatVector.fromArray(fs, x, block * BLOCK + j + n);
                        acc0 = widen(q0, fs, 1).mul(d0).fma(xv, acc0);
                        acc1 = widen(q1, fs, 1).mul(d1).fma(xv, acc1);
                        acc2 = widen(q2, fs, 1).mul(d2).fma(xv, acc2);
                        acc3 = widen(q3, fs, 1).mul(d3).fma(xv, acc3);
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
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;

    /**
     * {@link #matvec} with 16-lane registers, written out with constant species and no helper taking a vector
     * (C2 gives up inlining into a method this size, and a vector passed to a call is boxed). Same order. Reads the
     * scales widened at load ({@link Matrix#scales()}, interleaved storage): a broadcast from memory instead of a
     * half converted and broadcast per block and row (decode 19.4 → 24.2 tok/s, 0.6B shape); row-major storage
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
     * How many pairs of whole interleaved groups the two-stream mat-vecs take from rows [rowStart, rowEnd): none
     * unless the range starts at a group; never the last group when it is partial.
     */
    static int groupPairs(Matrix w, int rowStart, int rowEnd) {
        if (rowStart % Matrix.GROUP != 0) {
            return 0;
        }
        int wholeEnd = Math.min(rowEnd, w.rows() / Matrix.GROUP * Matrix.GROUP);
        return Math.max(0, wholeEnd - rowStart) / (2 * Matrix.GROUP);
    }

    /**
     * Groups [first, first + 2·pairs) of four rows (whole groups), as two streams: pass g sums group g of the first
     * half and group g of the second half, each with exactly the ops {@link #oneStream} gives a row. From DRAM one
     * core then keeps two prefetch streams going where one left it waiting on memory (see {@code Q4_0Rows}).
     *
     * <p>Every product is written {@code x.fma(scale.mul(widened), acc)}: the methods are called on vectors whose
     * exact class C2 knows from a constant species ({@code fromArray}, {@code broadcast}), never on the result of
     * {@code convertShape}, whose class C2 learns only from the call site's type profile. In about one JVM run in
     * three that profile did not help, the lanewise intrinsics failed at parse time, the late retries ran into
     * C2's node budget, and the loop boxed vectors: decode at 8-17 instead of 26-28 tok/s for the whole run
     * (0.6B Q8_0); 20 runs of 20 fast with exact receivers. q·d = d·q and x·w = w·x exactly: the same bits.
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
                FloatVector x1 = FloatVector.fromArray(F16, x, block * BLOCK + 16);
                long atA = a + block * groupStride;
                long stA = sa + block * scaleGroupStride;
                float da0 = scales.get(LE_FLOAT, stA);
                float da1 = scales.get(LE_FLOAT, stA + Float.BYTES);
                float da2 = scales.get(LE_FLOAT, stA + 2 * Float.BYTES);
                float da3 = scales.get(LE_FLOAT, stA + 3 * Float.BYTES);
                FloatVector scalea0 = FloatVector.broadcast(F16, da0);
                FloatVector scalea1 = FloatVector.broadcast(F16, da1);
                FloatVector scalea2 = FloatVector.broadcast(F16, da2);
                FloatVector scalea3 = FloatVector.broadcast(F16, da3);
                acc0 = x0.fma(scalea0.mul(ByteVector.fromMemorySegment(B16, data, atA + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc0);
                acc1 = x0.fma(scalea1.mul(ByteVector.fromMemorySegment(B16, data, atA + BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc1);
                acc2 = x0.fma(scalea2.mul(ByteVector.fromMemorySegment(B16, data, atA + 2 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc2);
                acc3 = x0.fma(scalea3.mul(ByteVector.fromMemorySegment(B16, data, atA + 3 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc3);
                acc0 = x1.fma(scalea0.mul(ByteVector.fromMemorySegment(B16, data, atA + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc0);
                acc1 = x1.fma(scalea1.mul(ByteVector.fromMemorySegment(B16, data, atA + BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc1);
                acc2 = x1.fma(scalea2.mul(ByteVector.fromMemorySegment(B16, data, atA + 2 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc2);
                acc3 = x1.fma(scalea3.mul(ByteVector.fromMemorySegment(B16, data, atA + 3 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc3);
                long atB = b + block * groupStride;
                long stB = sb + block * scaleGroupStride;
                float db0 = scales.get(LE_FLOAT, stB);
                float db1 = scales.get(LE_FLOAT, stB + Float.BYTES);
                float db2 = scales.get(LE_FLOAT, stB + 2 * Float.BYTES);
                float db3 = scales.get(LE_FLOAT, stB + 3 * Float.BYTES);
                FloatVector scaleb0 = FloatVector.broadcast(F16, db0);
                FloatVector scaleb1 = FloatVector.broadcast(F16, db1);
                FloatVector scaleb2 = FloatVector.broadcast(F16, db2);
                FloatVector scaleb3 = FloatVector.broadcast(F16, db3);
                bcc0 = x0.fma(scaleb0.mul(ByteVector.fromMemorySegment(B16, data, atB + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), bcc0);
                bcc1 = x0.fma(scaleb1.mul(ByteVector.fromMemorySegment(B16, data, atB + BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), bcc1);
                bcc2 = x0.fma(scaleb2.mul(ByteVector.fromMemorySegment(B16, data, atB + 2 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), bcc2);
                bcc3 = x0.fma(scaleb3.mul(ByteVector.fromMemorySegment(B16, data, atB + 3 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), bcc3);
                bcc0 = x1.fma(scaleb0.mul(ByteVector.fromMemorySegment(B16, data, atB + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), bcc0);
                bcc1 = x1.fma(scaleb1.mul(ByteVector.fromMemorySegment(B16, data, atB + BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), bcc1);
                bcc2 = x1.fma(scaleb2.mul(ByteVector.fromMemorySegment(B16, data, atB + 2 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), bcc2);
                bcc3 = x1.fma(scaleb3.mul(ByteVector.fromMemorySegment(B16, data, atB + 3 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), bcc3);
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
                float d0 = scales.get(LE_FLOAT, scale0 + block * scaleStride0);
                float d1 = scales.get(LE_FLOAT, scale1 + block * scaleStride1);
                float d2 = scales.get(LE_FLOAT, scale2 + block * scaleStride2);
                float d3 = scales.get(LE_FLOAT, scale3 + block * scaleStride3);
                FloatVector dv0 = FloatVector.broadcast(F16, d0);
                FloatVector dv1 = FloatVector.broadcast(F16, d1);
                FloatVector dv2 = FloatVector.broadcast(F16, d2);
                FloatVector dv3 = FloatVector.broadcast(F16, d3);
                FloatVector x0 = FloatVector.fromArray(F16, x, block * BLOCK + 0);
                acc0 = x0.fma(dv0.mul(ByteVector.fromMemorySegment(B16, data, at0 + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc0);
                acc1 = x0.fma(dv1.mul(ByteVector.fromMemorySegment(B16, data, at1 + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc1);
                acc2 = x0.fma(dv2.mul(ByteVector.fromMemorySegment(B16, data, at2 + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc2);
                acc3 = x0.fma(dv3.mul(ByteVector.fromMemorySegment(B16, data, at3 + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc3);
                FloatVector x1 = FloatVector.fromArray(F16, x, block * BLOCK + 16);
                acc0 = x1.fma(dv0.mul(ByteVector.fromMemorySegment(B16, data, at0 + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc0);
                acc1 = x1.fma(dv1.mul(ByteVector.fromMemorySegment(B16, data, at1 + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc1);
                acc2 = x1.fma(dv2.mul(ByteVector.fromMemorySegment(B16, data, at2 + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc2);
                acc3 = x1.fma(dv3.mul(ByteVector.fromMemorySegment(B16, data, at3 + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), acc3);
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

    /**
     * The high nibble of each byte of {@code q}, as a byte. x86 has no byte shift (C2 widens, shifts and narrows), so
     * the lanes are shifted as ints and each byte masked: the bits that cross from the next byte are masked off.
     */
    static ByteVector highNibbles(ByteVector q) {
        return q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
    }

    /**
     * Part {@code part} of the int8 lanes of {@code q}, as floats. Callers pass constants: the part is 0, or 1
     * with 128-bit registers, whose 8-byte loads fill two float vectors ({@link Lanes#bytes()}); a variable part
     * costs C2 the nodes of every shape-changing path and overflows its inlining budget.
     */
    static FloatVector widen(ByteVector q, VectorSpecies<Float> fs, int part) {
        return (FloatVector) q.convertShape(VectorOperators.B2F, fs, part);
    }
}
