package dev.moe4j.kernels.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Lanes#sum} adds in its documented order, at every width. */
class LanesTest {

    /** Lane i + n/2 to lane i, then i + n/4 to i, ..., in scalar code. */
    private static float halvingSum(float[] a, int offset, int n) {
        float[] lanes = new float[n];
        System.arraycopy(a, offset, lanes, 0, n);
        for (int half = n / 2; half > 0; half /= 2) {
            for (int i = 0; i < half; i++) {
                lanes[i] += lanes[i + half];
            }
        }
        return lanes[0];
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void sumsByHalves(int bits) {
        Lanes lanes = Lanes.of(bits);
        int n = lanes.floats().length();
        Random random = new Random(bits);
        float[] a = new float[n + 3];
        for (int trial = 0; trial < 10_000; trial++) {
            // magnitudes 2^-20 to 2^20 of either sign: the order of the adds shows in the rounding
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (random.nextGaussian() * Math.scalb(1.0, random.nextInt(41) - 20));
            }
            assertEquals(Float.floatToRawIntBits(halvingSum(a, 3, n)), Float.floatToRawIntBits(lanes.sum(a, 3)),
                    "trial " + trial);
        }
    }
}
