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
}
