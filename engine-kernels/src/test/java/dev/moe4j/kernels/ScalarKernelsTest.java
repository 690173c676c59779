package dev.moe4j.kernels;

import static dev.moe4j.kernels.TestMatrices.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The scalar reference against independent computations: the formulas evaluated in double here, and weights
 * known by construction.
 */
class ScalarKernelsTest {

    private static final KernelProvider SCALAR = ScalarKernels.INSTANCE;
    private static final int[] SIZES = {1, 3, 31, 33, 127, 1021, 4099};

    /** Float against double: n·2^-24 relative to the sum of |terms| bounds the float summation error. */
    private static double sumTolerance(int n, double terms) {
        return (n + 1) * 0x1p-24 * terms + Float.MIN_NORMAL;
    }

    @Test
    void dotIsTheSumOfProducts() {
        Random random = new Random(11);
        for (int n : SIZES) {
            float[] a = floats(random, n + 1);
            float[] b = floats(random, n);
            double sum = 0;
            double terms = 0;
            for (int i = 0; i < n; i++) {
                sum += (double) a[1 + i] * b[i];
                terms += Math.abs((double) a[1 + i] * b[i]);
            }
            assertEquals(sum, SCALAR.dot(a, 1, b, 0, n), sumTolerance(n, terms), "n=" + n);
        }
    }

    @Test
    void axpyAndScale() {
        float[] y = {1, 2, 3, 4};
        SCALAR.axpy(y, 1, 0.5f, new float[] {8, 10, 12}, 0, 3);
        assertArrayEquals(new float[] {1, 6, 8, 10}, y);
        SCALAR.scale(y, 2, -2f, 2);
        assertArrayEquals(new float[] {1, 6, -16, -20}, y);
    }

    @Test
    void rmsNormDividesByTheRootMeanSquare() {
        Random random = new Random(12);
        for (int n : SIZES) {
            float[] x = floats(random, n);
            float[] weight = floats(random, n);
            double sumSq = 0;
            for (float v : x) {
                sumSq += (double) v * v;
            }
            double inv = 1 / Math.sqrt(sumSq / n + 1e-6);
            float[] out = new float[n];
            SCALAR.rmsNorm(out, 0, x, 0, weight, n, 1e-6f);
            for (int i = 0; i < n; i++) {
                double expected = weight[i] * x[i] * inv;
                // the float sum of squares: relative error below n·2^-24
                assertEquals(expected, out[i], (n + 4) * 0x1p-24 * Math.abs(expected) + Float.MIN_NORMAL,
                        "n=" + n + " i=" + i);
            }
        }
    }

    @Test
    void rmsNormOfAKnownVector() {
        // mean square of (3, 4, 0, 0) is 25/4: x / 2.5
        float[] out = new float[4];
        SCALAR.rmsNorm(out, 0, new float[] {3, 4, 0, 0}, 0, new float[] {1, 2, 1, 1}, 4, 0f);
        assertArrayEquals(new float[] {1.2f, 3.2f, 0, 0}, out, 1e-6f);
    }

    @Test
    void softmaxIsNormalisedExponentials() {
        Random random = new Random(13);
        for (int n : SIZES) {
            float[] x = floats(random, n);
            for (int i = 0; i < n; i++) {
                x[i] *= 30;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (float v : x) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (float v : x) {
                sum += Math.exp(v - max);
            }
            float[] p = x.clone();
            SCALAR.softmax(p, 0, n);
            for (int i = 0; i < n; i++) {
                double expected = Math.exp(x[i] - max) / sum;
                assertEquals(expected, p[i], (n + 4) * 0x1p-24 * expected + Float.MIN_NORMAL, "n=" + n + " i=" + i);
            }
        }
    }

    @Test
    void siluMulIsGatedLinear() {
        Random random = new Random(14);
        float[] gate = floats(random, 1000);
        for (int i = 0; i < gate.length; i++) {
            gate[i] *= 20;
        }
        float[] up = floats(random, 1000);
        float[] out = gate.clone();
        SCALAR.siluMul(out, 0, up, 0, gate.length);
        for (int i = 0; i < gate.length; i++) {
            double expected = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
            assertEquals(expected, out[i], 8 * 0x1p-24 * Math.abs(expected) + Float.MIN_NORMAL, "i=" + i);
        }
    }

    @Test
    void ropeRotatesElementIWithElementIPlusHalf() {
        Random random = new Random(15);
        int headDim = 128;
        int nHeads = 2;
        float[] x = floats(random, nHeads * headDim + 3);
        float[] cos = new float[headDim / 2];
        float[] sin = new float[headDim / 2];
        new Rope(headDim, 1e6).cosSin(77, cos, sin);
        float[] rotated = x.clone();
        SCALAR.rope(rotated, 3, nHeads, headDim, cos, sin);
        for (int head = 0; head < nHeads; head++) {
            int base = 3 + head * headDim;
            for (int i = 0; i < headDim / 2; i++) {
                double x0 = x[base + i];
                double x1 = x[base + i + headDim / 2];
                double scale = 2 * 0x1p-24 * (Math.abs(x0) + Math.abs(x1)) + Float.MIN_NORMAL;
                assertEquals(x0 * cos[i] - x1 * sin[i], rotated[base + i], scale, "head " + head + " i=" + i);
                assertEquals(x1 * cos[i] + x0 * sin[i], rotated[base + i + headDim / 2], scale,
                        "head " + head + " i+half=" + (i + headDim / 2));
            }
        }
        assertEquals(x[0], rotated[0]);
    }

    @Test
    void widensHalvesOfKnownValue() {
        short[] f16 = {0x3c00, (short) 0xc000, 0x7bff, 0x0001, 0x0400, (short) 0x8000, 0x7c00, 0x3555};
        float[] f16Values = {1f, -2f, 65504f, 0x1p-24f, 0x1p-14f, -0f, Float.POSITIVE_INFINITY, 0.33325195f};
        assertArrayEquals(f16Values, TestMatrices.widened(halves(DType.F16, f16), 0));
        short[] bf16 = {0x3f80, (short) 0xc040, 0x7f80, 0x0001};
        float[] bf16Values = {1f, -3f, Float.POSITIVE_INFINITY, Float.intBitsToFloat(0x10000)};
        assertArrayEquals(bf16Values, TestMatrices.widened(halves(DType.BF16, bf16), 0));
    }

    private static Matrix halves(DType type, short[] values) {
        MemorySegment data = Arena.ofAuto().allocate(2L * values.length, 2);
        for (int i = 0; i < values.length; i++) {
            data.set(TestMatrices.LE_SHORT, 2L * i, values[i]);
        }
        return new Matrix("halves", data, type, 1, values.length);
    }

    @Test
    void matmulOfKnownIntegers() {
        // w = [[1, 2, 3], [4, 5, 6]], x = [[1, 0, -1], [2, 2, 2]]
        MemorySegment data = Arena.ofAuto().allocate(6 * 4, 4);
        for (int i = 0; i < 6; i++) {
            data.set(TestMatrices.LE_FLOAT, 4L * i, i + 1);
        }
        Matrix w = new Matrix("w", data, DType.F32, 2, 3);
        float[] out = new float[4];
        SCALAR.matmul(out, w, new float[] {1, 0, -1, 2, 2, 2}, 2, 0, 2);
        assertArrayEquals(new float[] {-2, -2, 12, 30}, out);
    }

    @Test
    void matmulOfQ8_0IsTheProductOfItsWeights() {
        // one row of two blocks with known scales: weights d·q exactly
        int[] q = new int[64];
        for (int i = 0; i < 64; i++) {
            q[i] = (i * 37) % 256 - 128;
        }
        Matrix w = new Matrix("q8", BlockPacker.q8_0(new float[] {0.5f, -0.125f}, q), DType.Q8_0, 1, 64);
        float[] x = new float[64];
        double expected = 0;
        for (int i = 0; i < 64; i++) {
            x[i] = (i % 5) - 2;
            expected += (i < 32 ? 0.5 : -0.125) * q[i] * x[i];
        }
        float[] out = new float[1];
        SCALAR.matmul(out, w, x, 1, 0, 1);
        assertEquals(expected, out[0], 0.0);
    }
}
