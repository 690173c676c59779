package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;

import dev.moe4j.kernels.Matrix;
import dev.moe4j.kernels.Q4_KRounded;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The decode-sized Q4_K product with rounded activations ({@link Q4_KRounded}, whose scalar specification this matches
 * bit for bit): rows in 16-bit lanes, a register of them per pass (32 rows at 512 bits; narrower registers take a
 * group of 32 in several passes). For each byte column j of a block one load gives the rows' low-nibble weight (one
 * {@code and}) and high-nibble weight minus 8 (the sign-extended byte shifted right by 4), each multiplied by its
 * broadcast activation and added in 16 bits, per half sub-block. A low half's sum wraps (up to 15·255 a product) but
 * its true value less the 8·Σq it owes lies within ±32640, so the wrap-around cancels; a high half's never wraps.
 * Per sub-block the halves are widened to ints, completed by 8·Σq, and multiplied by the rows' scales; per block
 * the two integer sums are converted once and scaled with two fmas.
 */
final class Q4_KRoundedRows {

    private static final int BLOCK = Q4_KRounded.BLOCK;
    private static final int ROWS = Q4_KRounded.ROWS;
    private static final int GROUP_BYTES = Q4_KRounded.GROUP_BLOCK_BYTES;
    /** 2^112: a half's bits moved to a float's places (exponent rebased by 112) times this is the half's value. */
    private static final float REBIAS = 0x1p112f;
    /** 1.5·2^23: x + MAGIC − MAGIC rounds x to the nearest integer, ties to even, for |x| < 2^22 (Math.rint). */
    private static final float MAGIC = 12582912f;

    /** Per-thread rounded activations, grown to the widest product seen. */
    private static final class Scratch {
        short[] q = new short[0];
        float[] dx = new float[0];
        /** Per block and sub-block: 8·Σq, the integer a sub-block's (q_w − 8) sums owe. */
        int[] eights = new int[0];
        /** Per block and sub-block: Σq, for the mins. */
        int[] sums = new int[0];
        /** Per block, low sub-block and half: 8·Σq over the half, as the wrapping short the low sums subtract. */
        short[] corrections = new short[0];
        final float[] out = new float[ROWS];

        void ensure(int values) {
            if (q.length < values) {
                q = new short[values];
                dx = new float[values / BLOCK];
                eights = new int[values / BLOCK * 8];
                sums = new int[values / BLOCK * 8];
                corrections = new short[values / BLOCK * 8];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Q4_KRoundedRows() {}

    /** {@link Q4_KRounded#quantizeActivations} with vectors, plus the sums the kernel subtracts and adds. */
    static void quantize(Lanes lanes, float[] x, int values, Scratch s) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Short> ss = lanes.shorts();
        int n = fs.length();
        for (int b = 0; b < values / BLOCK; b++) {
            int o = b * BLOCK;
            FloatVector m = FloatVector.fromArray(fs, x, o).abs();
            for (int i = n; i < BLOCK; i += n) {
                m = m.max(FloatVector.fromArray(fs, x, o + i).abs());
            }
            float d = m.reduceLanes(VectorOperators.MAX) / Q4_KRounded.STEPS;
            float id = d != 0f ? 1f / d : 0f;
            for (int h = 0; h < 16; h++) { // halves of sub-blocks, 16 values each
                float half = 0f;
                for (int i = 16 * h; i < 16 * h + 16; i += n) {
                    FloatVector r = FloatVector.fromArray(fs, x, o + i).mul(id).add(MAGIC).sub(MAGIC);
                    r.convertShape(VectorOperators.F2S, ss, 0).reinterpretAsShorts().intoArray(s.q, o + i);
                    half += r.reduceLanes(VectorOperators.ADD); // whole numbers below 2^13: exact in any order
                }
                int sub = 8 * b + h / 2;
                int sum = (int) half;
                if (h % 2 == 0) {
                    s.sums[sub] = sum;
                } else {
                    s.sums[sub] += sum;
                    s.eights[sub] = 8 * s.sums[sub];
                }
                if ((h / 2) % 2 == 0) { // a low-nibble sub-block: 2·group
                    s.corrections[8 * b + 2 * (h / 4) + h % 2] = (short) (8 * sum);
                }
            }
            s.dx[b] = d;
        }
    }

    /**
     * out[t][r] = w[r]·x[t] for t in [0, nTokens) (at most {@link Q4_KRounded#MAX_TOKENS}) and r in [rowStart,
     * rowEnd), as {@link Q4_KRounded} specifies; w has that form.
     */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int nTokens, int rowStart, int rowEnd) {
        int cols = w.cols();
        int rowsAll = w.rows();
        int blocks = cols / BLOCK;
        Scratch s = SCRATCH.get();
        s.ensure(nTokens * cols);
        quantize(lanes, x, nTokens * cols, s); // blocks never straddle tokens
        short[] q = s.q;
        float[] dxs = s.dx;
        int[] eights = s.eights;
        int[] sums = s.sums;
        short[] corrections = s.corrections;
        float[] rowsOut = s.out;

        VectorSpecies<Short> ss = lanes.registerShorts();
        VectorSpecies<Byte> bs = lanes.registerShortBytes();
        VectorSpecies<Integer> is = lanes.ints();
        VectorSpecies<Float> fs = lanes.floats();
        int width = ss.length();
        int n = fs.length();
        MemorySegment form = w.rounded().data();
        int firstGroup = rowStart / ROWS;
        int lastGroup = (rowEnd - 1) / ROWS;
        for (int g = firstGroup; g <= lastGroup; g++) {
            for (int t = 0; t < nTokens; t++) {
                int tokenBlock = t * blocks;
                for (int h = 0; h < ROWS; h += width) {
                    FloatVector a0 = FloatVector.zero(fs);
                    FloatVector a1 = a0;
                    long at = (long) g * blocks * GROUP_BYTES;
                    for (int b = 0; b < blocks; b++) {
                        int k = (tokenBlock + b) * BLOCK;
                        int sb = 8 * (tokenBlock + b);
                        IntVector dots0 = IntVector.zero(is);
                        IntVector dots1 = dots0;
                        IntVector mins0 = dots0;
                        IntVector mins1 = dots0;
                        for (int group = 0; group < 4; group++) {
                            ShortVector low0 = ShortVector.zero(ss);
                            ShortVector low1 = low0;
                            ShortVector high0 = low0;
                            ShortVector high1 = low0;
                            long column = at + (long) 32 * group * ROWS + h;
                            int xl = k + 64 * group;
                            for (int j = 0; j < 16; j++) {
                                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(bs, form,
                                        column + (long) j * ROWS, LE).convertShape(VectorOperators.B2S, ss, 0);
                                low0 = low0.add(v.and((short) 15).mul(q[xl + j]));
                                high0 = high0.add(v.lanewise(VectorOperators.ASHR, 4).mul(q[xl + 32 + j]));
                            }
                            for (int j = 16; j < 32; j++) {
                                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(bs, form,
                                        column + (long) j * ROWS, LE).convertShape(VectorOperators.B2S, ss, 0);
                                low1 = low1.add(v.and((short) 15).mul(q[xl + j]));
                                high1 = high1.add(v.lanewise(VectorOperators.ASHR, 4).mul(q[xl + 32 + j]));
                            }
                            int lowSub = 2 * group;
                            low0 = low0.sub(corrections[sb + lowSub]);
                            low1 = low1.sub(corrections[sb + lowSub + 1]);
                            ShortVector scalesLow = ShortVector.fromMemorySegment(ss, form,
                                    at + Q4_KRounded.SCALES_AT + 2L * (lowSub * ROWS + h), LE);
                            ShortVector scalesHigh = ShortVector.fromMemorySegment(ss, form,
                                    at + Q4_KRounded.SCALES_AT + 2L * ((lowSub + 1) * ROWS + h), LE);
                            // written out per half of the rows: a helper taking vectors would box them where C2
                            // declines to inline it
                            IntVector packedLow = (IntVector) scalesLow.convertShape(VectorOperators.S2I, is, 0);
                            IntVector packedHigh = (IntVector) scalesHigh.convertShape(VectorOperators.S2I, is, 0);
                            dots0 = dots0.add(((IntVector) low0.convertShape(VectorOperators.S2I, is, 0))
                                            .add((IntVector) low1.convertShape(VectorOperators.S2I, is, 0))
                                            .add(eights[sb + lowSub]).mul(packedLow.and(255)))
                                    .add(((IntVector) high0.convertShape(VectorOperators.S2I, is, 0))
                                            .add((IntVector) high1.convertShape(VectorOperators.S2I, is, 0))
                                            .add(eights[sb + lowSub + 1]).mul(packedHigh.and(255)));
                            mins0 = mins0.add(packedLow.lanewise(VectorOperators.LSHR, 8).mul(sums[sb + lowSub]))
                                    .add(packedHigh.lanewise(VectorOperators.LSHR, 8).mul(sums[sb + lowSub + 1]));
                            packedLow = (IntVector) scalesLow.convertShape(VectorOperators.S2I, is, 1);
                            packedHigh = (IntVector) scalesHigh.convertShape(VectorOperators.S2I, is, 1);
                            dots1 = dots1.add(((IntVector) low0.convertShape(VectorOperators.S2I, is, 1))
                                            .add((IntVector) low1.convertShape(VectorOperators.S2I, is, 1))
                                            .add(eights[sb + lowSub]).mul(packedLow.and(255)))
                                    .add(((IntVector) high0.convertShape(VectorOperators.S2I, is, 1))
                                            .add((IntVector) high1.convertShape(VectorOperators.S2I, is, 1))
                                            .add(eights[sb + lowSub + 1]).mul(packedHigh.and(255)));
                            mins1 = mins1.add(packedLow.lanewise(VectorOperators.LSHR, 8).mul(sums[sb + lowSub]))
                                    .add(packedHigh.lanewise(VectorOperators.LSHR, 8).mul(sums[sb + lowSub + 1]));
                        }
                        float dx = dxs[tokenBlock + b];
                        // the rows' f16 d and dmin, widened exactly: sign and the 15 other bits shifted to a float's
                        // places (the sign-extended copies above the exponent masked off), times 2^112
                        ShortVector d = ShortVector.fromMemorySegment(ss, form, at + Q4_KRounded.D_AT + 2L * h, LE);
                        ShortVector dmin = ShortVector.fromMemorySegment(ss, form,
                                at + Q4_KRounded.DMIN_AT + 2L * h, LE);
                        a0 = ((FloatVector) dots0.convert(VectorOperators.I2F, 0))
                                .fma(((IntVector) d.convertShape(VectorOperators.S2I, is, 0))
                                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                                        .mul(REBIAS).mul(dx), a0);
                        a0 = ((FloatVector) mins0.convert(VectorOperators.I2F, 0))
                                .fma(((IntVector) dmin.convertShape(VectorOperators.S2I, is, 0))
                                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                                        .mul(REBIAS).mul(dx).neg(), a0);
                        a1 = ((FloatVector) dots1.convert(VectorOperators.I2F, 0))
                                .fma(((IntVector) d.convertShape(VectorOperators.S2I, is, 1))
                                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                                        .mul(REBIAS).mul(dx), a1);
                        a1 = ((FloatVector) mins1.convert(VectorOperators.I2F, 0))
                                .fma(((IntVector) dmin.convertShape(VectorOperators.S2I, is, 1))
                                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                                        .mul(REBIAS).mul(dx).neg(), a1);
                        at += GROUP_BYTES;
                    }
                    a0.intoArray(rowsOut, h);
                    a1.intoArray(rowsOut, h + n);
                }
                int first = Math.max(rowStart, g * ROWS);
                int end = Math.min(rowEnd, (g + 1) * ROWS);
                System.arraycopy(rowsOut, first - g * ROWS, out, t * rowsAll + first, end - first);
            }
        }
    }
}
