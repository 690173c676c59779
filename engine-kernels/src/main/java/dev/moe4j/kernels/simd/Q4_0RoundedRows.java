package dev.moe4j.kernels.simd;

import static dev.moe4j.kernels.simd.Storage.LE;

import dev.moe4j.kernels.Matrix;
import dev.moe4j.kernels.Q4_0Rounded;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The decode-sized Q4_0 product with rounded activations ({@link Q4_0Rounded}, whose scalar specification this matches
 * bit for bit): rows in 16-bit lanes, a register of them per pass (32 rows at 512 bits; narrower registers take a
 * group of 32 in several passes). For each byte column j of a block one load gives the rows' weight j (low nibble,
 * one {@code and}) and weight j + 16 minus 8 (sign-extended high nibble, one arithmetic shift), each multiplied by the
 * broadcast activation and added in 16 bits, the low and high halves apart. The low half's sum wraps (up to 15·255
 * a product) but its true value less the 8·Σq it owes lies within ±32640, so the wrap-around cancels; the high half
 * never wraps. Then per block: both widened to ints and added, converted to float, one fma with the rows' scales times
 * the activation's. About 7 instructions per 64 weights against the F32 kernel's 10 per 32. Two groups go in one
 * pass, from the two halves of the rows asked for, so that a core keeps two memory streams going. One core,
 * 2048×1024 matrices, against the F32 kernel: 31 → 59 Gweights/s in L3, 27–28 → 35–48 from DRAM.
 */
final class Q4_0RoundedRows {

    private static final int BLOCK = 32;
    private static final int HALF = 16;
    private static final int GROUP_BYTES = Q4_0Rounded.GROUP_BLOCK_BYTES;
    /** 2^112: a half's bits moved to a float's places (exponent rebased by 112) times this is the half's value. */
    private static final float REBIAS = 0x1p112f;
    /** 1.5·2^23: x + MAGIC − MAGIC rounds x to the nearest integer, ties to even, for |x| < 2^22 (Math.rint). */
    private static final float MAGIC = 12582912f;

    /** Per-thread rounded activations, grown to the widest product seen. */
    private static final class Scratch {
        short[] q = new short[0];
        float[] dx = new float[0];
        short[] corrections = new short[0];
        final float[] sums = new float[2 * Q4_0Rounded.ROWS];

        void ensure(int values) {
            if (q.length < values) {
                q = new short[values];
                dx = new float[values / BLOCK];
                corrections = new short[values / BLOCK];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Q4_0RoundedRows() {}

    /**
     * {@link Q4_0Rounded#quantizeActivations} with vectors: q, dx, and corrections[b] = 8·lowSums[b] as a (wrapping)
     * short.
     */
    static void quantize(Lanes lanes, float[] x, int values, short[] q, float[] dx, short[] corrections) {
        VectorSpecies<Float> fs = lanes.floats();
        VectorSpecies<Short> ss = lanes.shorts();
        int n = fs.length();
        for (int b = 0; b < values / BLOCK; b++) {
            int o = b * BLOCK;
            FloatVector m = FloatVector.fromArray(fs, x, o).abs();
            for (int i = n; i < BLOCK; i += n) {
                m = m.max(FloatVector.fromArray(fs, x, o + i).abs());
            }
            float d = m.reduceLanes(VectorOperators.MAX) / Q4_0Rounded.STEPS;
            float id = d != 0f ? 1f / d : 0f;
            float low = 0f;
            for (int i = 0; i < BLOCK; i += n) {
                FloatVector r = FloatVector.fromArray(fs, x, o + i).mul(id).add(MAGIC).sub(MAGIC);
                r.convertShape(VectorOperators.F2S, ss, 0).reinterpretAsShorts().intoArray(q, o + i);
                if (i < HALF) {
                    low += r.reduceLanes(VectorOperators.ADD); // whole numbers below 2^11: exact in any order
                }
            }
            dx[b] = d;
            corrections[b] = (short) (8 * (int) low);
        }
    }

    /**
     * out[t][r] = w[r]·x[t] for t in [0, nTokens) (at most {@link Q4_0Rounded#MAX_TOKENS}) and r in [rowStart,
     * rowEnd), as {@link Q4_0Rounded} specifies; w has that form. The tokens take turns on each pair of groups, whose
     * weights then come from L2 after the first.
     */
    static void matvec(Lanes lanes, float[] out, Matrix w, float[] x, int nTokens, int rowStart, int rowEnd) {
        Q4_0Rounded form = (Q4_0Rounded) w.rounded();
        int cols = w.cols();
        int rowsAll = w.rows();
        int blocks = cols / BLOCK;
        Scratch scratch = SCRATCH.get();
        scratch.ensure(nTokens * cols);
        short[] q = scratch.q;
        float[] dx = scratch.dx;
        short[] corrections = scratch.corrections;
        float[] sums = scratch.sums;
        quantize(lanes, x, nTokens * cols, q, dx, corrections); // blocks never straddle tokens

        VectorSpecies<Short> ss = lanes.registerShorts();
        VectorSpecies<Byte> bs = lanes.registerShortBytes();
        VectorSpecies<Integer> is = lanes.ints();
        VectorSpecies<Float> fs = lanes.floats();
        int width = ss.length();
        int n = fs.length();
        MemorySegment nibbles = form.data();
        int firstGroup = rowStart / Q4_0Rounded.ROWS;
        int groups = (rowEnd - 1) / Q4_0Rounded.ROWS - firstGroup + 1;
        int pairs = groups / 2;
        // two groups a pass, from the two halves of the range: two streams from memory per core instead of one;
        // an odd last group is computed twice in one pass
        for (int i = 0; i < pairs + groups % 2; i++) {
            int ga = i < pairs ? firstGroup + i : firstGroup + groups - 1;
            int gb = i < pairs ? ga + pairs : ga;
            for (int t = 0; t < nTokens; t++) {
                int tokenBlock = t * blocks;
                for (int h = 0; h < Q4_0Rounded.ROWS; h += width) {
                    long atA = (long) ga * blocks * GROUP_BYTES + h;
                    long atB = (long) gb * blocks * GROUP_BYTES + h;
                    long scaleA = atA - h + Q4_0Rounded.SCALES_AT + 2L * h;
                    long scaleB = atB - h + Q4_0Rounded.SCALES_AT + 2L * h;
                    FloatVector a0 = FloatVector.zero(fs);
                    FloatVector a1 = a0;
                    FloatVector b0 = a0;
                    FloatVector b1 = a0;
                    for (int b = 0; b < blocks; b++) {
                        int k = (tokenBlock + b) * BLOCK;
                        ShortVector lowA = ShortVector.zero(ss);
                        ShortVector highA = lowA;
                        ShortVector lowB = lowA;
                        ShortVector highB = lowA;
                        for (int j = 0; j < HALF; j++) {
                            ShortVector va = (ShortVector) ByteVector.fromMemorySegment(bs, nibbles,
                                    atA + (long) j * Q4_0Rounded.ROWS, LE).convertShape(VectorOperators.B2S, ss, 0);
                            ShortVector vb = (ShortVector) ByteVector.fromMemorySegment(bs, nibbles,
                                    atB + (long) j * Q4_0Rounded.ROWS, LE).convertShape(VectorOperators.B2S, ss, 0);
                            short xl = q[k + j];
                            short xh = q[k + HALF + j];
                            lowA = lowA.add(va.and((short) 15).mul(xl));
                            highA = highA.add(va.lanewise(VectorOperators.ASHR, 4).mul(xh));
                            lowB = lowB.add(vb.and((short) 15).mul(xl));
                            highB = highB.add(vb.lanewise(VectorOperators.ASHR, 4).mul(xh));
                        }
                        short correction = corrections[tokenBlock + b];
                        float d = dx[tokenBlock + b];
                        lowA = lowA.sub(correction);
                        lowB = lowB.sub(correction);
                        // the rows' f16 scales, widened exactly: sign and the 15 other bits shifted to a float's places
                        // (the sign-extended copies above the exponent masked off), times 2^112. The four sums below are
                        // written out: a helper taking vectors would box them where C2 declines to inline it
                        ShortVector halvesA = ShortVector.fromMemorySegment(ss, nibbles, scaleA, LE);
                        ShortVector halvesB = ShortVector.fromMemorySegment(ss, nibbles, scaleB, LE);
                        a0 = ((IntVector) lowA.convertShape(VectorOperators.S2I, is, 0))
                                .add((IntVector) highA.convertShape(VectorOperators.S2I, is, 0))
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                                .fma(((IntVector) halvesA.convertShape(VectorOperators.S2I, is, 0))
                                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                                        .mul(REBIAS).mul(d), a0);
                        a1 = ((IntVector) lowA.convertShape(VectorOperators.S2I, is, 1))
                                .add((IntVector) highA.convertShape(VectorOperators.S2I, is, 1))
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                                .fma(((IntVector) halvesA.convertShape(VectorOperators.S2I, is, 1))
                                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                                        .mul(REBIAS).mul(d), a1);
                        b0 = ((IntVector) lowB.convertShape(VectorOperators.S2I, is, 0))
                                .add((IntVector) highB.convertShape(VectorOperators.S2I, is, 0))
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                                .fma(((IntVector) halvesB.convertShape(VectorOperators.S2I, is, 0))
                                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                                        .mul(REBIAS).mul(d), b0);
                        b1 = ((IntVector) lowB.convertShape(VectorOperators.S2I, is, 1))
                                .add((IntVector) highB.convertShape(VectorOperators.S2I, is, 1))
                                .convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                                .fma(((IntVector) halvesB.convertShape(VectorOperators.S2I, is, 1))
                                        .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats()
                                        .mul(REBIAS).mul(d), b1);
                        atA += GROUP_BYTES;
                        atB += GROUP_BYTES;
                        scaleA += GROUP_BYTES;
                        scaleB += GROUP_BYTES;
                    }
                    a0.intoArray(sums, h);
                    a1.intoArray(sums, h + n);
                    b0.intoArray(sums, Q4_0Rounded.ROWS + h);
                    b1.intoArray(sums, Q4_0Rounded.ROWS + h + n);
                }
                store(sums, 0, ga, out, t * rowsAll, rowStart, rowEnd);
                store(sums, Q4_0Rounded.ROWS, gb, out, t * rowsAll, rowStart, rowEnd);
            }
        }
    }

    /** The rows of group g inside [rowStart, rowEnd), from sums[from, from + 32) to out[outOff + row]. */
    private static void store(float[] sums, int from, int g, float[] out, int outOff, int rowStart, int rowEnd) {
        int first = Math.max(rowStart, g * Q4_0Rounded.ROWS);
        int end = Math.min(rowEnd, (g + 1) * Q4_0Rounded.ROWS);
        System.arraycopy(sums, from + first - g * Q4_0Rounded.ROWS, out, outOff + first, end - first);
    }
}
