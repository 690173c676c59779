package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The scalar dequantisers (the specification of each block format) against blocks packed here from chosen
 * integers and scales, whose weights are known by construction. Power-of-two scales make every expected weight
 * exact in float, so those cases compare exactly.
 */
class BlockFormatTest {

    private static float[] widen(DType type, MemorySegment data, int cols) {
        return TestMatrices.widened(new Matrix(type.toString(), data, type, 1, cols), 0);
    }

    private static int[] randomInts(Random random, int n, int from, int to) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = from + random.nextInt(to - from + 1);
        }
        return a;
    }

    @Test
    void q8_0IsScaleTimesQuant() {
        Random random = new Random(21);
        float[] d = {0.5f, -0.0625f, 0x1p-10f};
        int[] q = randomInts(random, 96, -128, 127);
        float[] w = widen(DType.Q8_0, BlockPacker.q8_0(d, q), 96);
        for (int i = 0; i < 96; i++) {
            assertEquals(d[i / 32] * q[i], w[i], 0.0, "i=" + i);
        }
    }

    @Test
    void q4_0IsScaleTimesQuantMinusEight() {
        Random random = new Random(22);
        float[] d = {0.25f, -3f};
        int[] q = randomInts(random, 64, 0, 15);
        q[0] = 0;
        q[17] = 15;
        float[] w = widen(DType.Q4_0, BlockPacker.q4_0(d, q), 64);
        for (int i = 0; i < 64; i++) {
            assertEquals(d[i / 32] * (q[i] - 8), w[i], 0.0, "i=" + i);
        }
    }

    @Test
    void q4_KIsScaledQuantMinusScaledMin() {
        Random random = new Random(23);
        for (int trial = 0; trial < 20; trial++) {
            int[] scales = randomInts(random, 8, 0, 63);
            int[] mins = randomInts(random, 8, 0, 63);
            int[] q = randomInts(random, 256, 0, 15);
            // exercise the packed top bits of sub-blocks 4-7
            scales[4 + trial % 4] = 63;
            mins[7 - trial % 4] = 48;
            float d = 0x1p-4f;
            float dmin = 0x1p-6f;
            float[] w = widen(DType.Q4_K, BlockPacker.q4_K(d, dmin, scales, mins, q), 256);
            for (int i = 0; i < 256; i++) {
                int sub = i / 32;
                double expected = (double) d * scales[sub] * q[i] - (double) dmin * mins[sub];
                assertEquals(expected, w[i], 0.0, "trial " + trial + " i=" + i);
            }
        }
    }

    @Test
    void q4_KWithInexactScales() {
        Random random = new Random(24);
        int[] scales = randomInts(random, 8, 0, 63);
        int[] mins = randomInts(random, 8, 0, 63);
        int[] q = randomInts(random, 256, 0, 15);
        float d = Float.float16ToFloat(Float.floatToFloat16(0.0123f));
        float dmin = Float.float16ToFloat(Float.floatToFloat16(0.0071f));
        float[] w = widen(DType.Q4_K, BlockPacker.q4_K(0.0123f, 0.0071f, scales, mins, q), 256);
        for (int i = 0; i < 256; i++) {
            int sub = i / 32;
            double scaled = (double) d * scales[sub] * q[i];
            double offset = (double) dmin * mins[sub];
            // three float roundings: d·scale, ·q, − dmin·min
            assertEquals(scaled - offset, w[i], 4 * 0x1p-24 * (scaled + offset) + Float.MIN_NORMAL, "i=" + i);
        }
    }

    @Test
    void q6_KIsScaleTimesQuantMinus32() {
        Random random = new Random(25);
        for (int trial = 0; trial < 20; trial++) {
            int[] scales = randomInts(random, 16, -128, 127);
            int[] q = randomInts(random, 256, 0, 63);
            q[trial] = 63;
            q[255 - trial] = 0;
            float d = 0x1p-5f;
            float[] w = widen(DType.Q6_K, BlockPacker.q6_K(d, scales, q), 256);
            for (int i = 0; i < 256; i++) {
                assertEquals((double) d * scales[i / 16] * (q[i] - 32), w[i], 0.0, "trial " + trial + " i=" + i);
            }
        }
    }

    @Test
    void q4_1IsScaleTimesQuantPlusMin() {
        Random random = new Random(26);
        float[] d = {0.25f, -0x1p-6f, 2f};
        float[] m = {-1.5f, 0.125f, 0x1p-9f};
        int[] q = randomInts(random, 96, 0, 15);
        q[3] = 15;
        q[40] = 0;
        float[] w = widen(DType.Q4_1, BlockPacker.q4_1(d, m, q), 96);
        for (int i = 0; i < 96; i++) {
            assertEquals((double) d[i / 32] * q[i] + m[i / 32], w[i], 0.0, "i=" + i);
        }
    }

    @Test
    void q5_0IsScaleTimesQuantMinus16() {
        Random random = new Random(27);
        float[] d = {0.5f, -0x1p-7f, 4f};
        int[] q = randomInts(random, 96, 0, 31);
        q[0] = 31;
        q[31] = 16;
        q[47] = 0;
        float[] w = widen(DType.Q5_0, BlockPacker.q5(d, null, q, false), 96);
        for (int i = 0; i < 96; i++) {
            assertEquals((double) d[i / 32] * (q[i] - 16), w[i], 0.0, "i=" + i);
        }
    }

    @Test
    void q5_1IsScaleTimesQuantPlusMin() {
        Random random = new Random(28);
        float[] d = {0.0625f, -0.5f, 0x1p-10f};
        float[] m = {-2f, 0.75f, -0x1p-5f};
        int[] q = randomInts(random, 96, 0, 31);
        q[16] = 31;
        q[63] = 16;
        float[] w = widen(DType.Q5_1, BlockPacker.q5(d, m, q, true), 96);
        for (int i = 0; i < 96; i++) {
            assertEquals((double) d[i / 32] * q[i] + m[i / 32], w[i], 0.0, "i=" + i);
        }
    }

    @Test
    void q2_KIsScaledQuantMinusScaledMin() {
        Random random = new Random(29);
        for (int trial = 0; trial < 20; trial++) {
            int[] scales = randomInts(random, 16, 0, 15);
            int[] mins = randomInts(random, 16, 0, 15);
            int[] q = randomInts(random, 256, 0, 3);
            scales[trial % 16] = 15;
            mins[15 - trial % 16] = 15;
            float d = 0x1p-3f;
            float dmin = -0x1p-5f;
            float[] w = widen(DType.Q2_K, BlockPacker.q2_K(d, dmin, scales, mins, q), 256);
            for (int i = 0; i < 256; i++) {
                double expected = (double) d * scales[i / 16] * q[i] - (double) dmin * mins[i / 16];
                assertEquals(expected, w[i], 0.0, "trial " + trial + " i=" + i);
            }
        }
    }

    @Test
    void q3_KIsSignedScaleTimesSignedQuant() {
        Random random = new Random(30);
        for (int trial = 0; trial < 20; trial++) {
            int[] scales = randomInts(random, 16, -32, 31);
            int[] q = randomInts(random, 256, -4, 3);
            scales[trial % 16] = -32;
            scales[15 - trial % 16] = 31;
            q[trial] = -4;
            q[255 - trial] = 3;
            float d = 0x1p-4f;
            float[] w = widen(DType.Q3_K, BlockPacker.q3_K(d, scales, q), 256);
            for (int i = 0; i < 256; i++) {
                assertEquals((double) d * scales[i / 16] * q[i], w[i], 0.0, "trial " + trial + " i=" + i);
            }
        }
    }

    @Test
    void q5_KIsScaledQuantMinusScaledMin() {
        Random random = new Random(31);
        for (int trial = 0; trial < 20; trial++) {
            int[] scales = randomInts(random, 8, 0, 63);
            int[] mins = randomInts(random, 8, 0, 63);
            int[] q = randomInts(random, 256, 0, 31);
            scales[4 + trial % 4] = 63;
            mins[7 - trial % 4] = 48;
            q[trial] = 31;
            q[255 - trial] = 16;
            float d = 0x1p-5f;
            float dmin = 0x1p-7f;
            float[] w = widen(DType.Q5_K, BlockPacker.q5_K(d, dmin, scales, mins, q), 256);
            for (int i = 0; i < 256; i++) {
                double expected = (double) d * scales[i / 32] * q[i] - (double) dmin * mins[i / 32];
                assertEquals(expected, w[i], 0.0, "trial " + trial + " i=" + i);
            }
        }
    }

    /** The 16 levels of the IQ4 formats, as ggml-common.h lists them. */
    private static final int[] IQ4_LEVELS = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    @Test
    void iq4_NLIsScaleTimesLevel() {
        Random random = new Random(32);
        float[] d = {0x1p-7f, -0.25f, 3f};
        int[] q = randomInts(random, 96, 0, 15);
        for (int i = 0; i < 16; i++) {
            q[i] = i;
            q[i + 48] = 15 - i;
        }
        float[] w = widen(DType.IQ4_NL, BlockPacker.iq4_nl(d, q), 96);
        for (int i = 0; i < 96; i++) {
            assertEquals((double) d[i / 32] * IQ4_LEVELS[q[i]], w[i], 0.0, "i=" + i);
        }
    }

    @Test
    void iq4_XSIsSignedScaleTimesLevel() {
        Random random = new Random(33);
        for (int trial = 0; trial < 20; trial++) {
            int[] scales = randomInts(random, 8, -32, 31);
            int[] q = randomInts(random, 256, 0, 15);
            scales[trial % 8] = -32;
            scales[7 - trial % 8] = 31;
            float d = 0x1p-9f;
            float[] w = widen(DType.IQ4_XS, BlockPacker.iq4_xs(d, scales, q), 256);
            for (int i = 0; i < 256; i++) {
                assertEquals((double) d * scales[i / 32] * IQ4_LEVELS[q[i]], w[i], 0.0, "trial " + trial + " i=" + i);
            }
        }
    }
}
