package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Rotary frequencies against the worked numbers of docs/qwen3-spec.md §2.5 and the plain formula in double. */
class RopeTest {

    /** Frequencies are computed in float32 (as Hugging Face does): a few float ulps from the exact values. */
    private static final double RELATIVE = 1e-6;

    private static void assertRelative(double expected, double actual, String what) {
        assertEquals(expected, actual, RELATIVE * Math.abs(expected), what);
    }

    @Test
    void yarnOfQwen3MatchesTheWorkedNumbers() {
        // d = 128, θ = 1e6, factor 4, original context 32768: correction range [23, 40]
        Rope rope = new Rope(128, 1e6, Rope.Yarn.of(4, 32768));
        float[] inv = rope.invFreq();
        assertEquals(64, inv.length);
        assertRelative(1.0, inv[0], "inv[0]");
        assertRelative(6.978305849e-03, inv[23], "inv[23]");
        assertRelative(5.375321491e-03, inv[24], "inv[24]");
        assertRelative(8.029597275e-04, inv[31], "inv[31]");
        assertRelative(6.490394321e-05, inv[39], "inv[39]");
        assertRelative(4.445698525e-05, inv[40], "inv[40]");
        assertRelative(3.102344402e-07, inv[63], "inv[63]");
        assertRelative(1.1386294361, rope.attentionFactor(), "attention factor");
    }

    @Test
    void yarnInterpolatesFullyAboveTheRangeAndNotAtAllBelow() {
        float[] yarn = new Rope(128, 1e6, Rope.Yarn.of(4, 32768)).invFreq();
        float[] plain = new Rope(128, 1e6).invFreq();
        for (int i = 0; i <= 23; i++) {
            assertEquals(plain[i], yarn[i], "i=" + i);
        }
        for (int i = 40; i < 64; i++) {
            assertRelative(plain[i] / 4.0, yarn[i], "i=" + i);
        }
    }

    @Test
    void plainRopeIsThetaToTheMinusTwoIOverD() {
        for (int headDim : new int[] {64, 128}) {
            for (double theta : new double[] {1e4, 1e6}) {
                Rope rope = new Rope(headDim, theta);
                float[] inv = rope.invFreq();
                for (int i = 0; i < headDim / 2; i++) {
                    assertRelative(Math.pow(theta, -2.0 * i / headDim), inv[i], "d=" + headDim + " i=" + i);
                }
                assertEquals(1f, rope.attentionFactor());
            }
        }
    }

    @Test
    void cosSinAreOfPositionTimesFrequencyScaledByTheAttentionFactor() {
        Rope rope = new Rope(128, 1e6, Rope.Yarn.of(4, 32768));
        float[] inv = rope.invFreq();
        float[] cos = new float[64];
        float[] sin = new float[64];
        rope.cosSin(1234, cos, sin);
        for (int i = 0; i < 64; i++) {
            double angle = 1234f * inv[i];
            assertEquals(Math.cos(angle) * rope.attentionFactor(), cos[i], 4e-7, "cos i=" + i);
            assertEquals(Math.sin(angle) * rope.attentionFactor(), sin[i], 4e-7, "sin i=" + i);
        }
    }
}
