package dev.moe4j.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * e^x in float from fused multiply-adds, adds, multiplies and bit operations only, all exactly specified, so a lane
 * gives the same bits in the interpreter, C1 and C2 (the Vector API's lanewise {@code EXP} does not: C2 calls a
 * vector math library, the fallback {@link Math#exp}). The scalar {@link #exp(float)} performs the same operations
 * and equals every lane of the vector one. Within 2 ulp of {@code (float) Math.exp(x)}, subnormal results included
 * (ExpTest).
 *
 * <p>x = n·ln2 + r with n = round(x·log2 e) and |r| ≤ ln2/2; e^r by its Taylor series to degree 7 (truncation
 * below 10^-8 relative); e^x = e^r·2^n, applied as two powers of two so that 2^n from 2^-159 (underflow to 0) to
 * 2^144 (overflow to infinity) stays exact until the last rounding.
 */
final class Exp {

    /** Below this e^x rounds to 0, above it to infinity; clamping keeps n in range and maps ±∞ to 0 and ∞. */
    private static final float MIN_ARG = -110f;
    private static final float MAX_ARG = 100f;
    private static final float LOG2E = 1.44269504f;
    /** 1.5·2^23: adding it rounds to an integer, which then sits in the low mantissa bits. */
    private static final float SHIFTER = 0x1.8p23f;
    private static final int SHIFTER_BITS = 0x4b40_0000;
    /** ln 2 = LN2_HI + LN2_LO, LN2_HI with 9 significant bits so that n·LN2_HI and x − n·LN2_HI are exact. */
    private static final float LN2_HI = 0x1.63p-1f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float C3 = 1f / 6;
    private static final float C4 = 1f / 24;
    private static final float C5 = 1f / 120;
    private static final float C6 = 1f / 720;
    private static final float C7 = 1f / 5040;

    private Exp() {}

    /** e^x per lane; NaN stays NaN. */
    static FloatVector exp(FloatVector x) {
        FloatVector v = x.max(MIN_ARG).min(MAX_ARG);
        FloatVector z = v.fma(LOG2E, SHIFTER);
        FloatVector n = z.sub(SHIFTER);
        FloatVector r = n.fma(v.broadcast(-LN2_HI), v);
        r = n.fma(v.broadcast(-LN2_LO), r);
        FloatVector p = r.fma(C7, C6);
        p = p.fma(r, v.broadcast(C5));
        p = p.fma(r, v.broadcast(C4));
        p = p.fma(r, v.broadcast(C3));
        p = p.fma(r, v.broadcast(0.5f));
        p = p.fma(r, v.broadcast(1f));
        p = p.fma(r, v.broadcast(1f));
        // 2^n = 2^n1·2^n2 with n1 = floor(n/2), n2 = n1 + (n & 1): both normal floats
        IntVector bits = z.reinterpretAsInts();
        IntVector scale1 = bits.sub(SHIFTER_BITS).lanewise(VectorOperators.ASHR, 1).add(127)
                .lanewise(VectorOperators.LSHL, 23);
        IntVector scale2 = bits.and(1).lanewise(VectorOperators.LSHL, 23).add(scale1);
        return p.mul(scale1.reinterpretAsFloats()).mul(scale2.reinterpretAsFloats());
    }

    /** e^x, bit for bit as a lane of {@link #exp(FloatVector)}. */
    static float exp(float x) {
        float v = Math.min(Math.max(x, MIN_ARG), MAX_ARG);
        float z = Math.fma(v, LOG2E, SHIFTER);
        float n = z - SHIFTER;
        float r = Math.fma(n, -LN2_HI, v);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, C7, C6);
        p = Math.fma(p, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, 0.5f);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        int bits = Float.floatToRawIntBits(z);
        int scale1 = ((bits - SHIFTER_BITS) >> 1) + 127 << 23;
        int scale2 = ((bits & 1) << 23) + scale1;
        return p * Float.intBitsToFloat(scale1) * Float.intBitsToFloat(scale2);
    }
}
