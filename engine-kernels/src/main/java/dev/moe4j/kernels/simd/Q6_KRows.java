package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;
import static dev.moe4j.kernels.simd.Storage.half;
import static dev.moe4j.kernels.simd.Storage.i8;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec and widening over Q6_K blocks ({@code uint8 ql[128]; uint8 qh[64]; int8 scales[16]; f16 d} for 256 weights, see
 * {@link dev.moe4j.kernels.quant.Q6_K}), bit for bit as the scalar dequantiser: w = (d·scale)·(q − 32). Each half
 * of 128 weights takes its quants' low 4 bits from 64 bytes of ql (quarters 0 and 1 from the low nibbles of
 * ql[0, 32) and ql[32, 64), quarters 2 and 3 from their high nibbles) and their top 2 bits from the 32 bytes of
 * qh (bits 2k and 2k + 1 for quarter k).
 */
final class Q6_KRows {

    private static final int BLOCK = 256;

    private Q6_KRows() {}

    /** Row {@code row} widened into out[outOff, outOff + cols). */
    static void widen(Lanes lanes, Matrix w, int row, float[] out, int outOff) {
        MemorySegment data = w.data();
        long base = w.blockOffset(row, 0);
        long stride = w.blockStride(row);
        int blocks = w.cols() / BLOCK;
        for (int block = 0; block < blocks; block++) {
            long at = base + block * stride;
            float d = half(data, at + 208);
            for (int half = 0; half < 2; half++) {
                long ql = at + 64L * half;
                long qh = at + 128 + 32L * half;
                long sc = at + 192 + 8L * half;
                int o = outOff + block * BLOCK + 128 * half;
                // quarters in two calls: all four in one method exceed C2's inlining budget
                widenQuarters(lanes, data, ql, qh, sc, d, false, out, o);
                widenQuarters(lanes, data, ql, qh, sc, d, true, out, o + 64);
            }
        }
    }

    /**
     * out[r] = w[r]·x for r in [rowStart, rowEnd), each weight widened in registers to the float the scalar
     * dequantiser gives and summed in {@link TileMatmul}'s canonical order: quarter by quarter (32 weights), so that
     * each lane sums its columns in order. A quarter's quants take their low 4 bits from the low (quarters 0, 1) or
     * high (2, 3) nibbles of ql[0, 32) (quarters 0, 2) or ql[32, 64) (1, 3) of its half, their top 2 bits from bits
     * 2·quarter and 2·quarter + 1 of qh[0, 32).
     */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        if (lanes.floats().length() == 16) {
            matvec16(out, w, x, rowStart, rowEnd);
            return;
        }
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        float[] sums = new float[fs.length()];
        for (int r = rowStart; r < rowEnd; r++) {
            long base = w.blockOffset(r, 0);
            long stride = w.blockStride(r);
            FloatVector acc = FloatVector.zero(fs);
            for (int block = 0; block < blocks; block++) {
                long at = base + block * stride;
                float d = half(data, at + 208);
                for (int part = 0; part < 8; part++) { // quarter part % 4 of half part / 4
                    int quarter = part & 3;
                    long ql = at + 64L * (part >> 2) + 32L * (quarter & 1);
                    long qh = at + 128 + 32L * (part >> 2);
                    long sc = at + 192 + 8L * (part >> 2) + 2 * quarter;
                    int nibbleShift = 4 * (quarter >> 1);
                    int topShift = 2 * quarter;
                    int xOff = block * BLOCK + 32 * part;
                    for (int l = 0; l < 32; l += bs.length()) {
                        ByteVector low = nibbles(ByteVector.fromMemorySegment(bs, data, ql + l, LE), nibbleShift);
                        ByteVector top = ByteVector.fromMemorySegment(bs, data, qh + l, LE).reinterpretAsInts()
                                .lanewise(VectorOperators.LSHR, topShift).lanewise(VectorOperators.LSHL, 4)
                                .reinterpretAsBytes().and((byte) 0x30);
                        ByteVector q = low.or(top).sub((byte) 32);
                        float scale = d * i8(data, sc + l / 16);
                        acc = Q8_0Rows.widen(q, fs, 0).mul(scale).fma(FloatVector.fromArray(fs, x, xOff + l), acc);
                        // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
                        if (parts == 2) {
                            FloatVector xv = FloatVector.fromArray(fs, x, xOff + l + fs.length());
                            acc = Q8_0Rows.widen(q, fs, 1).mul(scale).fma(xv, acc);
                        }
                    }
                }
            }
            acc.intoArray(sums, 0);
            out[r] = lanes.sum(sums, 0);
        }
    }

    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;

    /**
     * {@link #matvec} with 16-lane registers, four rows per pass sharing each load of x (on interleaved storage their
     * blocks are one contiguous stream). A block's sixteen scales d·scale are widened once per row into a small table;
     * each 16 weights are then one load of ql and one of qh, their bits combined in 128-bit byte lanes, and one
     * widening to 16 floats, scaled and summed in the same order as {@link #matvec}. All in this one method: C2 boxes
     * vectors passed to calls it does not inline.
     */
    private static void matvec16(float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        MemorySegment data = w.data();
        int blocks = w.cols() / BLOCK;
        int last = rowEnd - 1;
        float[] scales = new float[64]; // [row of the pass][sub-block]
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
                ((FloatVector) ByteVector.fromMemorySegment(B16, data, at0 + 192, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)).mul(half(data, at0 + 208)).intoArray(scales, 0);
                ((FloatVector) ByteVector.fromMemorySegment(B16, data, at1 + 192, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)).mul(half(data, at1 + 208)).intoArray(scales, 16);
                ((FloatVector) ByteVector.fromMemorySegment(B16, data, at2 + 192, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)).mul(half(data, at2 + 208)).intoArray(scales, 32);
                ((FloatVector) ByteVector.fromMemorySegment(B16, data, at3 + 192, LE)
                        .convertShape(VectorOperators.B2F, F16, 0)).mul(half(data, at3 + 208)).intoArray(scales, 48);
                // each quarter unrolled, so that its shifts and offsets are constants (2x the speed of a loop)
                for (int half = 0; half < 2; half++) {
                    long ql0 = at0 + 64L * half;
                    long ql1 = at1 + 64L * half;
                    long ql2 = at2 + 64L * half;
                    long ql3 = at3 + 64L * half;
                    long qh0 = at0 + 128 + 32L * half;
                    long qh1 = at1 + 128 + 32L * half;
                    long qh2 = at2 + 128 + 32L * half;
                    long qh3 = at3 + 128 + 32L * half;
                    int c = block * BLOCK + 128 * half;
                    int s = 8 * half;
                    // quarter 0: low nibbles of ql[0, 32), bits 0-1 of qh
                    FloatVector x00 = FloatVector.fromArray(F16, x, c + 0);
                    acc0 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql0 + 0, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh0 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[0 + s + 0])
                            .fma(x00, acc0);
                    acc1 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql1 + 0, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh1 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[16 + s + 0])
                            .fma(x00, acc1);
                    acc2 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql2 + 0, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh2 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[32 + s + 0])
                            .fma(x00, acc2);
                    acc3 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql3 + 0, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh3 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[48 + s + 0])
                            .fma(x00, acc3);
                    FloatVector x01 = FloatVector.fromArray(F16, x, c + 16);
                    acc0 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql0 + 16, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh0 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[0 + s + 1])
                            .fma(x01, acc0);
                    acc1 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql1 + 16, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh1 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[16 + s + 1])
                            .fma(x01, acc1);
                    acc2 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql2 + 16, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh2 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[32 + s + 1])
                            .fma(x01, acc2);
                    acc3 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql3 + 16, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh3 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[48 + s + 1])
                            .fma(x01, acc3);
                    // quarter 1: low nibbles of ql[32, 64), bits 2-3 of qh
                    FloatVector x10 = FloatVector.fromArray(F16, x, c + 32);
                    acc0 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql0 + 32, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh0 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[0 + s + 2])
                            .fma(x10, acc0);
                    acc1 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql1 + 32, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh1 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[16 + s + 2])
                            .fma(x10, acc1);
                    acc2 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql2 + 32, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh2 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[32 + s + 2])
                            .fma(x10, acc2);
                    acc3 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql3 + 32, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh3 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[48 + s + 2])
                            .fma(x10, acc3);
                    FloatVector x11 = FloatVector.fromArray(F16, x, c + 48);
                    acc0 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql0 + 48, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh0 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[0 + s + 3])
                            .fma(x11, acc0);
                    acc1 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql1 + 48, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh1 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[16 + s + 3])
                            .fma(x11, acc1);
                    acc2 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql2 + 48, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh2 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[32 + s + 3])
                            .fma(x11, acc2);
                    acc3 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql3 + 48, LE).and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh3 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[48 + s + 3])
                            .fma(x11, acc3);
                    // quarter 2: high nibbles of ql[0, 32), bits 4-5 of qh
                    FloatVector x20 = FloatVector.fromArray(F16, x, c + 64);
                    acc0 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql0 + 0, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh0 + 0, LE).and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[0 + s + 4])
                            .fma(x20, acc0);
                    acc1 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql1 + 0, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh1 + 0, LE).and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[16 + s + 4])
                            .fma(x20, acc1);
                    acc2 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql2 + 0, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh2 + 0, LE).and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[32 + s + 4])
                            .fma(x20, acc2);
                    acc3 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql3 + 0, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh3 + 0, LE).and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[48 + s + 4])
                            .fma(x20, acc3);
                    FloatVector x21 = FloatVector.fromArray(F16, x, c + 80);
                    acc0 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql0 + 16, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh0 + 16, LE).and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[0 + s + 5])
                            .fma(x21, acc0);
                    acc1 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql1 + 16, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh1 + 16, LE).and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[16 + s + 5])
                            .fma(x21, acc1);
                    acc2 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql2 + 16, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh2 + 16, LE).and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[32 + s + 5])
                            .fma(x21, acc2);
                    acc3 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql3 + 16, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh3 + 16, LE).and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[48 + s + 5])
                            .fma(x21, acc3);
                    // quarter 3: high nibbles of ql[32, 64), bits 6-7 of qh
                    FloatVector x30 = FloatVector.fromArray(F16, x, c + 96);
                    acc0 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql0 + 32, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh0 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[0 + s + 6])
                            .fma(x30, acc0);
                    acc1 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql1 + 32, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh1 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[16 + s + 6])
                            .fma(x30, acc1);
                    acc2 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql2 + 32, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh2 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[32 + s + 6])
                            .fma(x30, acc2);
                    acc3 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql3 + 32, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh3 + 0, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[48 + s + 6])
                            .fma(x30, acc3);
                    FloatVector x31 = FloatVector.fromArray(F16, x, c + 112);
                    acc0 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql0 + 48, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh0 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[0 + s + 7])
                            .fma(x31, acc0);
                    acc1 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql1 + 48, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh1 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[16 + s + 7])
                            .fma(x31, acc1);
                    acc2 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql2 + 48, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh2 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[32 + s + 7])
                            .fma(x31, acc2);
                    acc3 = ((FloatVector) ByteVector.fromMemorySegment(B16, data, ql3 + 48, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                            .or(ByteVector.fromMemorySegment(B16, data, qh3 + 16, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes().and((byte) 0x30))
                            .sub((byte) 32).convertShape(VectorOperators.B2F, F16, 0)).mul(scales[48 + s + 7])
                            .fma(x31, acc3);
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

    /**
     * Quarters 0 and 1 (low nibbles of ql) or 2 and 3 ({@code highNibbles}) of one half, into out[o, o + 64).
     * A load of at most 16 bytes stays inside one 16-weight sub-block, so it has one scale.
     */
    private static void widenQuarters(Lanes lanes, MemorySegment data, long ql, long qh, long sc, float d,
            boolean highNibbles, float[] out, int o) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        int shift = highNibbles ? 4 : 0;
        int firstScale = highNibbles ? 4 : 0;
        for (int l = 0; l < 32; l += bs.length()) {
            int sub = l / 16;
            ByteVector lowA = ByteVector.fromMemorySegment(bs, data, ql + l, LE);
            ByteVector lowB = ByteVector.fromMemorySegment(bs, data, ql + 32 + l, LE);
            ByteVector high = ByteVector.fromMemorySegment(bs, data, qh + l, LE);
            IntVector highBits = high.reinterpretAsInts().lanewise(VectorOperators.LSHR, shift);
            ByteVector topA = highBits.lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30);
            ByteVector topB = highBits.lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30);
            ByteVector qa = nibbles(lowA, shift).or(topA).sub((byte) 32);
            ByteVector qb = nibbles(lowB, shift).or(topB).sub((byte) 32);
            float sa = d * i8(data, sc + sub + firstScale);
            float sb = d * i8(data, sc + sub + firstScale + 2);
            Q8_0Rows.widen(qa, fs, 0).mul(sa).intoArray(out, o + l);
            Q8_0Rows.widen(qb, fs, 0).mul(sb).intoArray(out, o + l + 32);
            // 128-bit registers: the 8 loaded bytes fill a second vector of 4 floats
            if (parts == 2) {
                int i = o + l + fs.length();
                Q8_0Rows.widen(qa, fs, 1).mul(sa).intoArray(out, i);
                Q8_0Rows.widen(qb, fs, 1).mul(sb).intoArray(out, i + 32);
            }
        }
    }

    /**
     * The nibble at bit {@code shift} (0 or 4) of each byte. Here and for the high bits, lanes are shifted as ints
     * and masked per byte: x86 has no byte shift, and the bits that cross bytes are masked off.
     */
    private static ByteVector nibbles(ByteVector q, int shift) {
        return q.reinterpretAsInts().lanewise(VectorOperators.LSHR, shift).reinterpretAsBytes().and((byte) 0x0F);
    }
}
