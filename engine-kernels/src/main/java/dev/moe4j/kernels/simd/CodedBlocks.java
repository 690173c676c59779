package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;

import dev.moe4j.kernels.Matrix;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec and widening for the block formats whose weights are, per run of {@link #RUN} consecutive weights, an
 * affine map of small integer codes: scale·code, scale·code + offset or scale·code − offset, in that order of
 * float operations, which is how each scalar dequantiser rounds (Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K, IQ4_NL,
 * IQ4_XS). A format unpacks one block's bits into int8 codes with 16-byte vector operations
 * ({@link #unpack}); the codes are then widened in registers of the chosen width, mapped, and fused-multiply-added
 * with the activations in {@link TileMatmul}'s canonical order.
 */
abstract class CodedBlocks {

    /** Weights sharing one scale and offset; every format's sub-blocks are whole runs. */
    static final int RUN = 16;

    /** Byte lanes of the unpacking: one run of codes. */
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;

    /** How a run's codes map to weights. */
    enum Affine {
        /** scale·code */
        SCALE,
        /** scale·code + offset */
        SCALE_PLUS,
        /** scale·code − offset */
        SCALE_MINUS
    }

    final int blockSize;
    final Affine affine;

    CodedBlocks(int blockSize, Affine affine) {
        this.blockSize = blockSize;
        this.affine = affine;
    }

    /**
     * The block at byte {@code at}: its codes into codes[0, blockSize), and per run k the scale and offset into
     * scales[k] and offsets[k] (offsets unused by {@link Affine#SCALE}).
     */
    abstract void unpack(MemorySegment data, long at, byte[] codes, float[] scales, float[] offsets);

    /** Row {@code row} widened into out[outOff, outOff + cols). */
    final void widen(Lanes lanes, Matrix w, int row, float[] out, int outOff) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        int n = fs.length();
        MemorySegment data = w.data();
        long base = w.blockOffset(row, 0);
        long stride = w.blockStride(row);
        int blocks = w.cols() / blockSize;
        byte[] codes = new byte[blockSize];
        float[] scales = new float[blockSize / RUN];
        float[] offsets = new float[blockSize / RUN];
        for (int block = 0; block < blocks; block++) {
            unpack(data, base + block * stride, codes, scales, offsets);
            int o = outOff + block * blockSize;
            // a load of bs.length() codes (8 or 16) never straddles two runs
            for (int i = 0; i < blockSize; i += bs.length()) {
                ByteVector q = ByteVector.fromArray(bs, codes, i);
                float scale = scales[i / RUN];
                float offset = offsets[i / RUN];
                map(Q8_0Rows.widen(q, fs, 0), scale, offset).intoArray(out, o + i);
                // 128-bit registers: the 8 loaded codes fill a second vector of 4 floats
                if (parts == 2) {
                    map(Q8_0Rows.widen(q, fs, 1), scale, offset).intoArray(out, o + i + n);
                }
            }
        }
    }

    /**
     * out[r] = w[r]·x for r in [rowStart, rowEnd), each weight widened in registers to the float {@link #widen}
     * gives and summed in {@link TileMatmul}'s canonical order.
     */
    final void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int rowStart, int rowEnd) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Byte> bs = lanes.bytes();
        int parts = bs.length() / fs.length();
        int n = fs.length();
        MemorySegment data = w.data();
        int blocks = w.cols() / blockSize;
        float[] sums = new float[2 * n]; // [2 rows][n lanes]
        byte[] codes0 = new byte[blockSize];
        byte[] codes1 = new byte[blockSize];
        float[] scales0 = new float[blockSize / RUN];
        float[] scales1 = new float[blockSize / RUN];
        float[] offsets0 = new float[blockSize / RUN];
        float[] offsets1 = new float[blockSize / RUN];
        int last = rowEnd - 1;
        // two rows per pass share each load of x. A pass short of rows repeats the last one, so that every row is
        // summed by this same code.
        for (int r = rowStart; r < rowEnd; r += 2) {
            long base0 = w.blockOffset(r, 0);
            long base1 = w.blockOffset(Math.min(r + 1, last), 0);
            long stride0 = w.blockStride(r);
            long stride1 = w.blockStride(Math.min(r + 1, last));
            FloatVector acc0 = FloatVector.zero(fs);
            FloatVector acc1 = acc0;
            for (int block = 0; block < blocks; block++) {
                unpack(data, base0 + block * stride0, codes0, scales0, offsets0);
                unpack(data, base1 + block * stride1, codes1, scales1, offsets1);
                for (int i = 0; i < blockSize; i += bs.length()) {
                    ByteVector q0 = ByteVector.fromArray(bs, codes0, i);
                    ByteVector q1 = ByteVector.fromArray(bs, codes1, i);
                    int run = i / RUN;
                    int c = block * blockSize + i;
                    FloatVector xv = FloatVector.fromArray(fs, x, c);
                    acc0 = map(Q8_0Rows.widen(q0, fs, 0), scales0[run], offsets0[run]).fma(xv, acc0);
                    acc1 = map(Q8_0Rows.widen(q1, fs, 0), scales1[run], offsets1[run]).fma(xv, acc1);
                    if (parts == 2) {
                        xv = FloatVector.fromArray(fs, x, c + n);
                        acc0 = map(Q8_0Rows.widen(q0, fs, 1), scales0[run], offsets0[run]).fma(xv, acc0);
                        acc1 = map(Q8_0Rows.widen(q1, fs, 1), scales1[run], offsets1[run]).fma(xv, acc1);
                    }
                }
            }
            acc0.intoArray(sums, 0);
            acc1.intoArray(sums, n);
            out[r] = lanes.sum(sums, 0);
            out[Math.min(r + 1, last)] = lanes.sum(sums, n);
        }
    }

    private FloatVector map(FloatVector codes, float scale, float offset) {
        FloatVector scaled = codes.mul(scale);
        return switch (affine) {
            case SCALE -> scaled;
            case SCALE_PLUS -> scaled.add(offset);
            case SCALE_MINUS -> scaled.sub(offset);
        };
    }

    /** 16 bytes of a block. */
    static ByteVector load(MemorySegment data, long at) {
        return ByteVector.fromMemorySegment(B16, data, at, LE);
    }

    /** The low nibble of each byte. */
    static ByteVector lowNibbles(ByteVector q) {
        return q.and((byte) 0x0F);
    }

    /** The high nibble of each byte. */
    static ByteVector highNibbles(ByteVector q) {
        return bits(q, 4, 0x0F);
    }

    /**
     * Bits [shift, shift + width) of each byte, for shift + width ≤ 8: the 32-bit lanes are shifted (bytes have no
     * shift instruction) and the bits that came down from the next byte are masked off.
     */
    static ByteVector bits(ByteVector q, int shift, int mask) {
        ByteVector shifted = shift == 0 ? q
                : q.reinterpretAsInts().lanewise(VectorOperators.LSHR, shift).reinterpretAsBytes();
        return shifted.and((byte) mask);
    }

    /** The lanes j of 16 where bit j of {@code word} is set. */
    static VectorMask<Byte> bitSet(int word) {
        return VectorMask.fromLong(B16, word & 0xFFFF);
    }

    /** The lanes where bit {@code bit} of the byte is set. */
    static VectorMask<Byte> bitSet(ByteVector q, int bit) {
        return bits(q, bit, 1).compare(VectorOperators.NE, (byte) 0);
    }
}
