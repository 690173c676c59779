package dev.moe4j.kernels.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Exp}: its vector and scalar forms agree bit for bit, and both stay close to {@link Math#exp}. */
class ExpTest {

    /** Every 4093rd float bit pattern (about a million, of every sign and exponent), then edge cases. */
    private static float[] samples() {
        float[] edges = {0f, -0f, 1f, -1f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
            Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE,
            88.72283f, 88.72284f, 88.7229f, 89f, 100f, 101f, -87.33654f, -87.3366f, -100f, -103.97207f, -103.9721f,
            -104f, -110f, -111f, 0.34657359f, -0.34657359f, 1e-8f, -1e-8f};
        int stride = 4093;
        int count = (int) ((1L << 32) / stride) + 1;
        float[] samples = new float[count + edges.length];
        for (int i = 0; i < count; i++) {
            samples[i] = Float.intBitsToFloat((int) ((long) i * stride));
        }
        System.arraycopy(edges, 0, samples, count, edges.length);
        return samples;
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void vectorLanesEqualTheScalarExp(int bits) {
        VectorSpecies<Float> fs = Lanes.of(bits).floats();
        float[] x = samples();
        float[] lanes = new float[x.length + fs.length()];
        int i = 0;
        for (; i + fs.length() <= x.length; i += fs.length()) {
            Exp.exp(FloatVector.fromArray(fs, x, i)).intoArray(lanes, i);
        }
        for (; i < x.length; i++) {
            lanes[i] = Exp.exp(x[i]);
        }
        for (i = 0; i < x.length; i++) {
            float scalar = Exp.exp(x[i]);
            if (Float.isNaN(scalar)) {
                assertTrue(Float.isNaN(lanes[i]), "x=" + x[i]);
            } else {
                assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(lanes[i]), "x=" + x[i]);
            }
        }
    }

    /**
     * Over all 2^32 floats (checked once, ad hoc) the largest difference from {@code (float) Math.exp} is 1 ulp,
     * subnormal results included; 2 leaves room for another platform's Math.exp.
     */
    @Test
    void withinTwoUlpsOfMathExp() {
        for (float x : samples()) {
            float expected = (float) Math.exp(x);
            float actual = Exp.exp(x);
            if (Float.isNaN(expected)) {
                assertTrue(Float.isNaN(actual), "x=" + x);
                continue;
            }
            long ulps = Math.abs((long) Float.floatToRawIntBits(expected) - Float.floatToRawIntBits(actual));
            assertTrue(ulps <= 2, "x=" + x + ": " + actual + " against " + expected + ", " + ulps + " ulps");
        }
    }

    @Test
    void limits() {
        assertEquals(1f, Exp.exp(0f));
        assertEquals(1f, Exp.exp(-0f));
        assertEquals(0f, Exp.exp(Float.NEGATIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, Exp.exp(Float.POSITIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, Exp.exp(89f));
        assertEquals(0f, Exp.exp(-104f));
        assertTrue(Float.isNaN(Exp.exp(Float.NaN)));
        // a subnormal result, not flushed to zero
        float subnormal = Exp.exp(-100f);
        assertTrue(subnormal > 0 && subnormal < Float.MIN_NORMAL, "exp(-100) = " + subnormal);
        assertEquals((float) Math.exp(-100), subnormal, Math.ulp((float) Math.exp(-100)));
    }
}
