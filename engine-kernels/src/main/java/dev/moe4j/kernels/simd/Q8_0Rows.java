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
        int quads = groupPairs(w, rowStart, rowEnd) / 2;
        if (quads > 0) {
            fourStreams(out, w, x, rowStart, quads);
        }
        int r = rowStart + 4 * Matrix.GROUP * quads;
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
     * Groups [first, first + 4·quads) of four rows (whole groups), as four streams: pass g sums group g of each
     * quarter, each row with exactly the ops {@link #oneStream} gives it. From DRAM one core keeps four prefetch
     * streams going: two streams (as {@code Q4_0Rows} still runs) left it waiting on memory, one core on the
     * 151936×2048 head 19.4 → 22.7 Gweights/s (alternating in one process); tg128 alternating A/B, two threads:
     * 0.6B shape 43–48 → 55–59 tok/s, 30B-A3B 4 layers 48–63 → 48–78 (6 of 7 pairs faster or equal). In L2 it
     * costs about a fifth (36 → 30 Gweights/s), but decode reads its weights from DRAM. The sixteen lane sums stay
     * written out as rotations: through memory and {@code Lanes.Bits512.sum16} the 30B-A3B tg128 measured slower
     * (A/B 61.4/61.0/50.1 → 36.4/44.2/49.1 tok/s).
     *
     * <p>Every product is written {@code x.fma(scale.mul(widened), acc)}: the methods are called on vectors whose
     * exact class C2 knows from a constant species ({@code fromArray}, {@code broadcast}), never on the result of
     * {@code convertShape}, whose class C2 learns only from the call site's type profile. In about one JVM run in
     * three that profile did not help, the lanewise intrinsics failed at parse time, the late retries ran into
     * C2's node budget, and the loop boxed vectors: decode at 8-17 instead of 26-28 tok/s for the whole run
     * (0.6B Q8_0); 20 runs of 20 fast with exact receivers. q·d = d·q and x·w = w·x exactly: the same bits.
     */
    private static void fourStreams(float[] out, Matrix w, float[] x, int first, int quads) {
        MemorySegment data = w.data();
        MemorySegment scales = w.scales();
        int blocks = w.cols() / BLOCK;
        long groupStride = Matrix.GROUP * BLOCK_BYTES;
        long scaleGroupStride = Matrix.GROUP * Float.BYTES;
        for (int g = 0; g < quads; g++) {
            int ra = first + Matrix.GROUP * (0 * quads + g);
            int rb = first + Matrix.GROUP * (1 * quads + g);
            int rc = first + Matrix.GROUP * (2 * quads + g);
            int rd = first + Matrix.GROUP * (3 * quads + g);
            long a = w.blockOffset(ra, 0);
            long b = w.blockOffset(rb, 0);
            long c = w.blockOffset(rc, 0);
            long d = w.blockOffset(rd, 0);
            // scale k of the interleaved storage is that of the block at byte k * BLOCK_BYTES
            long sa = a / BLOCK_BYTES * Float.BYTES;
            long sb = b / BLOCK_BYTES * Float.BYTES;
            long sc = c / BLOCK_BYTES * Float.BYTES;
            long sd = d / BLOCK_BYTES * Float.BYTES;
            FloatVector a0 = FloatVector.zero(F16);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector b0 = a0;
            FloatVector b1 = a0;
            FloatVector b2 = a0;
            FloatVector b3 = a0;
            FloatVector c0 = a0;
            FloatVector c1 = a0;
            FloatVector c2 = a0;
            FloatVector c3 = a0;
            FloatVector d0 = a0;
            FloatVector d1 = a0;
            FloatVector d2 = a0;
            FloatVector d3 = a0;
            for (int block = 0; block < blocks; block++) {
                FloatVector x0 = FloatVector.fromArray(F16, x, block * BLOCK);
                FloatVector x1 = FloatVector.fromArray(F16, x, block * BLOCK + 16);
                long ata = a + block * groupStride;
                long sta = sa + block * scaleGroupStride;
                FloatVector da0 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, sta));
                FloatVector da1 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, sta + Float.BYTES));
                FloatVector da2 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, sta + 2 * Float.BYTES));
                FloatVector da3 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, sta + 3 * Float.BYTES));
                a0 = x0.fma(da0.mul(ByteVector.fromMemorySegment(B16, data, ata + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), a0);
                a1 = x0.fma(da1.mul(ByteVector.fromMemorySegment(B16, data, ata + BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), a1);
                a2 = x0.fma(da2.mul(ByteVector.fromMemorySegment(B16, data, ata + 2 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), a2);
                a3 = x0.fma(da3.mul(ByteVector.fromMemorySegment(B16, data, ata + 3 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), a3);
                a0 = x1.fma(da0.mul(ByteVector.fromMemorySegment(B16, data, ata + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), a0);
                a1 = x1.fma(da1.mul(ByteVector.fromMemorySegment(B16, data, ata + BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), a1);
                a2 = x1.fma(da2.mul(ByteVector.fromMemorySegment(B16, data, ata + 2 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), a2);
                a3 = x1.fma(da3.mul(ByteVector.fromMemorySegment(B16, data, ata + 3 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), a3);
                long atb = b + block * groupStride;
                long stb = sb + block * scaleGroupStride;
                FloatVector db0 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, stb));
                FloatVector db1 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, stb + Float.BYTES));
                FloatVector db2 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, stb + 2 * Float.BYTES));
                FloatVector db3 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, stb + 3 * Float.BYTES));
                b0 = x0.fma(db0.mul(ByteVector.fromMemorySegment(B16, data, atb + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), b0);
                b1 = x0.fma(db1.mul(ByteVector.fromMemorySegment(B16, data, atb + BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), b1);
                b2 = x0.fma(db2.mul(ByteVector.fromMemorySegment(B16, data, atb + 2 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), b2);
                b3 = x0.fma(db3.mul(ByteVector.fromMemorySegment(B16, data, atb + 3 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), b3);
                b0 = x1.fma(db0.mul(ByteVector.fromMemorySegment(B16, data, atb + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), b0);
                b1 = x1.fma(db1.mul(ByteVector.fromMemorySegment(B16, data, atb + BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), b1);
                b2 = x1.fma(db2.mul(ByteVector.fromMemorySegment(B16, data, atb + 2 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), b2);
                b3 = x1.fma(db3.mul(ByteVector.fromMemorySegment(B16, data, atb + 3 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), b3);
                long atc = c + block * groupStride;
                long stc = sc + block * scaleGroupStride;
                FloatVector dc0 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, stc));
                FloatVector dc1 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, stc + Float.BYTES));
                FloatVector dc2 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, stc + 2 * Float.BYTES));
                FloatVector dc3 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, stc + 3 * Float.BYTES));
                c0 = x0.fma(dc0.mul(ByteVector.fromMemorySegment(B16, data, atc + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), c0);
                c1 = x0.fma(dc1.mul(ByteVector.fromMemorySegment(B16, data, atc + BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), c1);
                c2 = x0.fma(dc2.mul(ByteVector.fromMemorySegment(B16, data, atc + 2 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), c2);
                c3 = x0.fma(dc3.mul(ByteVector.fromMemorySegment(B16, data, atc + 3 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), c3);
                c0 = x1.fma(dc0.mul(ByteVector.fromMemorySegment(B16, data, atc + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), c0);
                c1 = x1.fma(dc1.mul(ByteVector.fromMemorySegment(B16, data, atc + BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), c1);
                c2 = x1.fma(dc2.mul(ByteVector.fromMemorySegment(B16, data, atc + 2 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), c2);
                c3 = x1.fma(dc3.mul(ByteVector.fromMemorySegment(B16, data, atc + 3 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), c3);
                long atd = d + block * groupStride;
                long std = sd + block * scaleGroupStride;
                FloatVector dd0 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, std));
                FloatVector dd1 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, std + Float.BYTES));
                FloatVector dd2 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, std + 2 * Float.BYTES));
                FloatVector dd3 = FloatVector.broadcast(F16, scales.get(LE_FLOAT, std + 3 * Float.BYTES));
                d0 = x0.fma(dd0.mul(ByteVector.fromMemorySegment(B16, data, atd + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), d0);
                d1 = x0.fma(dd1.mul(ByteVector.fromMemorySegment(B16, data, atd + BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), d1);
                d2 = x0.fma(dd2.mul(ByteVector.fromMemorySegment(B16, data, atd + 2 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), d2);
                d3 = x0.fma(dd3.mul(ByteVector.fromMemorySegment(B16, data, atd + 3 * BLOCK_BYTES + 2, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), d3);
                d0 = x1.fma(dd0.mul(ByteVector.fromMemorySegment(B16, data, atd + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), d0);
                d1 = x1.fma(dd1.mul(ByteVector.fromMemorySegment(B16, data, atd + BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), d1);
                d2 = x1.fma(dd2.mul(ByteVector.fromMemorySegment(B16, data, atd + 2 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), d2);
                d3 = x1.fma(dd3.mul(ByteVector.fromMemorySegment(B16, data, atd + 3 * BLOCK_BYTES + 18, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)), d3);
            }
            a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_8));
            a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_4));
            a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_2));
            a0 = a0.add(a0.rearrange(Lanes.Bits512.ROTATE_1));
            out[ra] = a0.lane(0);
            a1 = a1.add(a1.rearrange(Lanes.Bits512.ROTATE_8));
            a1 = a1.add(a1.rearrange(Lanes.Bits512.ROTATE_4));
            a1 = a1.add(a1.rearrange(Lanes.Bits512.ROTATE_2));
            a1 = a1.add(a1.rearrange(Lanes.Bits512.ROTATE_1));
            out[ra + 1] = a1.lane(0);
            a2 = a2.add(a2.rearrange(Lanes.Bits512.ROTATE_8));
            a2 = a2.add(a2.rearrange(Lanes.Bits512.ROTATE_4));
            a2 = a2.add(a2.rearrange(Lanes.Bits512.ROTATE_2));
            a2 = a2.add(a2.rearrange(Lanes.Bits512.ROTATE_1));
            out[ra + 2] = a2.lane(0);
            a3 = a3.add(a3.rearrange(Lanes.Bits512.ROTATE_8));
            a3 = a3.add(a3.rearrange(Lanes.Bits512.ROTATE_4));
            a3 = a3.add(a3.rearrange(Lanes.Bits512.ROTATE_2));
            a3 = a3.add(a3.rearrange(Lanes.Bits512.ROTATE_1));
            out[ra + 3] = a3.lane(0);
            b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_8));
            b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_4));
            b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_2));
            b0 = b0.add(b0.rearrange(Lanes.Bits512.ROTATE_1));
            out[rb] = b0.lane(0);
            b1 = b1.add(b1.rearrange(Lanes.Bits512.ROTATE_8));
            b1 = b1.add(b1.rearrange(Lanes.Bits512.ROTATE_4));
            b1 = b1.add(b1.rearrange(Lanes.Bits512.ROTATE_2));
            b1 = b1.add(b1.rearrange(Lanes.Bits512.ROTATE_1));
            out[rb + 1] = b1.lane(0);
            b2 = b2.add(b2.rearrange(Lanes.Bits512.ROTATE_8));
            b2 = b2.add(b2.rearrange(Lanes.Bits512.ROTATE_4));
            b2 = b2.add(b2.rearrange(Lanes.Bits512.ROTATE_2));
            b2 = b2.add(b2.rearrange(Lanes.Bits512.ROTATE_1));
            out[rb + 2] = b2.lane(0);
            b3 = b3.add(b3.rearrange(Lanes.Bits512.ROTATE_8));
            b3 = b3.add(b3.rearrange(Lanes.Bits512.ROTATE_4));
            b3 = b3.add(b3.rearrange(Lanes.Bits512.ROTATE_2));
            b3 = b3.add(b3.rearrange(Lanes.Bits512.ROTATE_1));
            out[rb + 3] = b3.lane(0);
            c0 = c0.add(c0.rearrange(Lanes.Bits512.ROTATE_8));
            c0 = c0.add(c0.rearrange(Lanes.Bits512.ROTATE_4));
            c0 = c0.add(c0.rearrange(Lanes.Bits512.ROTATE_2));
            c0 = c0.add(c0.rearrange(Lanes.Bits512.ROTATE_1));
            out[rc] = c0.lane(0);
            c1 = c1.add(c1.rearrange(Lanes.Bits512.ROTATE_8));
            c1 = c1.add(c1.rearrange(Lanes.Bits512.ROTATE_4));
            c1 = c1.add(c1.rearrange(Lanes.Bits512.ROTATE_2));
            c1 = c1.add(c1.rearrange(Lanes.Bits512.ROTATE_1));
            out[rc + 1] = c1.lane(0);
            c2 = c2.add(c2.rearrange(Lanes.Bits512.ROTATE_8));
            c2 = c2.add(c2.rearrange(Lanes.Bits512.ROTATE_4));
            c2 = c2.add(c2.rearrange(Lanes.Bits512.ROTATE_2));
            c2 = c2.add(c2.rearrange(Lanes.Bits512.ROTATE_1));
            out[rc + 2] = c2.lane(0);
            c3 = c3.add(c3.rearrange(Lanes.Bits512.ROTATE_8));
            c3 = c3.add(c3.rearrange(Lanes.Bits512.ROTATE_4));
            c3 = c3.add(c3.rearrange(Lanes.Bits512.ROTATE_2));
            c3 = c3.add(c3.rearrange(Lanes.Bits512.ROTATE_1));
            out[rc + 3] = c3.lane(0);
            d0 = d0.add(d0.rearrange(Lanes.Bits512.ROTATE_8));
            d0 = d0.add(d0.rearrange(Lanes.Bits512.ROTATE_4));
            d0 = d0.add(d0.rearrange(Lanes.Bits512.ROTATE_2));
            d0 = d0.add(d0.rearrange(Lanes.Bits512.ROTATE_1));
            out[rd] = d0.lane(0);
            d1 = d1.add(d1.rearrange(Lanes.Bits512.ROTATE_8));
            d1 = d1.add(d1.rearrange(Lanes.Bits512.ROTATE_4));
            d1 = d1.add(d1.rearrange(Lanes.Bits512.ROTATE_2));
            d1 = d1.add(d1.rearrange(Lanes.Bits512.ROTATE_1));
            out[rd + 1] = d1.lane(0);
            d2 = d2.add(d2.rearrange(Lanes.Bits512.ROTATE_8));
            d2 = d2.add(d2.rearrange(Lanes.Bits512.ROTATE_4));
            d2 = d2.add(d2.rearrange(Lanes.Bits512.ROTATE_2));
            d2 = d2.add(d2.rearrange(Lanes.Bits512.ROTATE_1));
            out[rd + 2] = d2.lane(0);
            d3 = d3.add(d3.rearrange(Lanes.Bits512.ROTATE_8));
            d3 = d3.add(d3.rearrange(Lanes.Bits512.ROTATE_4));
            d3 = d3.add(d3.rearrange(Lanes.Bits512.ROTATE_2));
            d3 = d3.add(d3.rearrange(Lanes.Bits512.ROTATE_1));
            out[rd + 3] = d3.lane(0);
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
