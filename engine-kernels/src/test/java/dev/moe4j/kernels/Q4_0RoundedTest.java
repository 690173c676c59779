package dev.moe4j.kernels;

import static dev.moe4j.kernels.TestMatrices.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.kernels.parallel.Parallel;
import dev.moe4j.kernels.simd.VectorKernels;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Q4_0 product with rounded activations ({@link Q4_0Rounded}): the vector kernel gives the scalar specification's
 * bits at every register width, row count (partial groups of 32 included) and block count; the specification agrees
 * with a double-precision sum over the dequantised weights and the rounded activations; and its distance from the
 * exact F32 product stays inside the bound the activations' rounding allows.
 */
class Q4_0RoundedTest {

    private static final int[] ROWS = {1, 3, 31, 33, 64, 70};
    private static final int[] COLS = {32, 96, 1056}; // 1, 3 and 33 blocks

    private static float[] product(KernelProvider provider, Matrix w, float[] x, int rowStart, int rowEnd) {
        float[] out = new float[w.rows()];
        provider.matmul(out, w, x, 1, rowStart, rowEnd);
        return out;
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 256, 512})
    void vectorKernelMatchesTheScalarSpecificationBitForBit(int bits) throws Throwable {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(bits);
        for (int cols : COLS) {
            for (int rows : ROWS) {
                Matrix plain = TestMatrices.random(random, DType.Q4_0, rows, cols);
                Matrix[] layouts = {plain.withRoundedActivations(), plain.interleaved().withRoundedActivations()};
                for (Matrix w : layouts) {
                    float[] x = floats(random, cols);
                    String what = rows + "x" + cols + " row group " + w.rowGroup() + " at " + bits + " bits";
                    assertArrayEquals(product(ScalarKernels.INSTANCE, w, x, 0, rows), product(vector, w, x, 0, rows),
                            what);
                    // a range that starts and ends inside groups writes those rows only
                    int from = Math.min(rows - 1, 5);
                    int to = Math.max(from + 1, rows - 2);
                    float[] part = product(vector, w, x, from, to);
                    float[] whole = product(ScalarKernels.INSTANCE, w, x, 0, rows);
                    for (int r = 0; r < rows; r++) {
                        assertEquals(r >= from && r < to ? whole[r] : 0f, part[r], what + " row " + r);
                    }
                }
            }
        }
    }

    /**
     * Decode batches of up to {@link Q4_0Rounded#MAX_TOKENS} tokens round too, each token with exactly the bits it gets
     * alone, in the vector kernel as in the specification; a fifth token takes the F32 column-order path.
     */
    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 256, 512})
    void eachTokenOfADecodeBatchGetsItsOwnBits(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(bits + 3);
        for (int rows : new int[] {3, 70}) {
            Matrix w = TestMatrices.random(random, DType.Q4_0, rows, 1056).withRoundedActivations();
            for (int nTokens = 2; nTokens <= Q4_0Rounded.MAX_TOKENS + 1; nTokens++) {
                float[] x = floats(random, nTokens * 1056);
                float[] batch = new float[nTokens * rows];
                float[] scalar = new float[nTokens * rows];
                vector.matmul(batch, w, x, nTokens, 0, rows);
                ScalarKernels.INSTANCE.matmul(scalar, w, x, nTokens, 0, rows);
                for (int t = 0; t < nTokens; t++) {
                    float[] alone = product(ScalarKernels.INSTANCE, w, java.util.Arrays.copyOfRange(x, t * 1056,
                            (t + 1) * 1056), 0, rows);
                    float[] got = java.util.Arrays.copyOfRange(batch, t * rows, (t + 1) * rows);
                    String what = rows + " rows, token " + t + " of " + nTokens + " at " + bits + " bits";
                    if (nTokens <= Q4_0Rounded.MAX_TOKENS) {
                        assertArrayEquals(alone, got, what);
                        assertArrayEquals(alone, java.util.Arrays.copyOfRange(scalar, t * rows, (t + 1) * rows), what);
                    } else {
                        assertTrue(!java.util.Arrays.equals(alone, got), what + ": a prefill-sized batch keeps F32 activations");
                    }
                }
            }
        }
    }

    @Test
    void activationsAreRoundedPerBlockToTheGivenSteps() {
        Random random = new Random(3);
        float[] x = floats(random, 96);
        x[40] = 0.5f;
        for (int i = 64; i < 96; i++) {
            x[i] = 0f; // an all-zero block
        }
        short[] q = new short[96];
        float[] dx = new float[3];
        int[] lowSums = new int[3];
        Q4_0Rounded.quantizeActivations(x, 0, 96, q, dx, lowSums);
        for (int b = 0; b < 3; b++) {
            double amax = 0;
            int low = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(x[32 * b + i]));
                low += i < 16 ? q[32 * b + i] : 0;
            }
            assertEquals(amax / Q4_0Rounded.STEPS, dx[b], 1e-7 * amax, "scale of block " + b);
            assertEquals(low, lowSums[b], "low sum of block " + b);
            for (int i = 0; i < 32; i++) {
                int v = q[32 * b + i];
                assertTrue(Math.abs(v) <= Q4_0Rounded.STEPS, "|q| <= " + Q4_0Rounded.STEPS);
                assertTrue(Math.abs(v * (double) dx[b] - x[32 * b + i]) <= dx[b] * 0.5000001 + 1e-30,
                        "x[" + (32 * b + i) + "] = " + x[32 * b + i] + " rounded to " + v + " steps of " + dx[b]);
            }
        }
        assertEquals(0f, dx[2]);
    }

    @Test
    void specificationAgreesWithADoublePrecisionSumAndBoundsTheRoundingError() {
        Random random = new Random(11);
        int rows = 40;
        int cols = 1056;
        Matrix w = TestMatrices.random(random, DType.Q4_0, rows, cols).withRoundedActivations();
        float[] x = floats(random, cols);
        short[] q = new short[cols];
        float[] dx = new float[cols / 32];
        Q4_0Rounded.quantizeActivations(x, 0, cols, q, dx, new int[cols / 32]);
        float[] out = product(new VectorKernels(0), w, x, 0, rows);
        for (int r = 0; r < rows; r++) {
            float[] row = TestMatrices.widened(w, r);
            double rounded = 0;
            double exact = 0;
            double magnitude = 0;
            double bound = 0;
            for (int c = 0; c < cols; c++) {
                rounded += (double) row[c] * (q[c] * (double) dx[c / 32]);
                exact += (double) row[c] * x[c];
                magnitude += Math.abs((double) row[c] * x[c]);
                bound += Math.abs(row[c]) * dx[c / 32] * 0.5;
            }
            // the integer sums are exact; only the 33 scaled float additions round
            assertEquals(rounded, out[r], 1e-6 * magnitude, "row " + r + " against the rounded activations");
            assertTrue(Math.abs(out[r] - exact) <= bound * 1.0001 + 1e-6 * magnitude,
                    "row " + r + ": " + out[r] + " vs exact " + exact + ", rounding bound " + bound);
        }
    }

    @Test
    void slicesAndParallelSplitsGiveTheSameBits() {
        Random random = new Random(5);
        Matrix w = TestMatrices.random(random, DType.Q4_0, 3 * 96 + 17, 4096).withRoundedActivations();
        float[] x = floats(random, 4096);
        float[] whole = product(ScalarKernels.INSTANCE, w, x, 0, w.rows());
        Matrix slice = w.rowSlice("slice", 96, 96);
        float[] sliced = product(new VectorKernels(0), slice, x, 0, 96);
        for (int r = 0; r < 96; r++) {
            assertEquals(whole[96 + r], sliced[r], "sliced row " + r);
        }
        assertThrows(IllegalArgumentException.class, () -> w.rowSlice("split", 4, 32));
        // one long region (20 M multiply-adds), claimed in pieces of whole groups of 32 rows
        for (int threads : new int[] {2, 3}) {
            Kernels kernels = new Kernels(new VectorKernels(0), new Parallel(threads));
            Kernels.Product[] products = new Kernels.Product[16];
            for (int i = 0; i < products.length; i++) {
                products[i] = new Kernels.Product(new float[w.rows()], w, x, 1);
            }
            kernels.matmulAll(products);
            for (Kernels.Product p : products) {
                assertArrayEquals(whole, p.out(), threads + " threads");
            }
        }
    }

    /**
     * The kernel widens f16 scales with a shift and a multiply: zeros, subnormals and the extremes must come out exact.
     */
    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 256, 512})
    void everyFiniteScaleIsWidenedExactly(int bits) {
        short[] halves = {0x0000, (short) 0x8000, 0x0001, (short) 0x8001, 0x03FF, (short) 0x83FF, 0x0400, 0x3C00,
            (short) 0xBC00, 0x7BFF, (short) 0xFBFF, 0x1234, (short) 0x9876};
        Random random = new Random(bits + 7);
        int rows = 45;
        int cols = 96;
        Matrix w = TestMatrices.random(random, DType.Q4_0, rows, cols);
        for (long block = 0; block < (long) rows * cols / 32; block++) {
            w.data().set(TestMatrices.LE_SHORT, block * 18, halves[(int) (block % halves.length)]);
        }
        Matrix rounded = w.withRoundedActivations();
        // activations near 1 so that products with the largest scale (65504) stay finite
        float[] x = floats(random, cols);
        assertArrayEquals(product(ScalarKernels.INSTANCE, rounded, x, 0, rows),
                product(new VectorKernels(bits), rounded, x, 0, rows));
        w.data().set(TestMatrices.LE_SHORT, 18 * 5, (short) 0x7C00); // infinity
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, w::withRoundedActivations);
        assertTrue(e.getMessage().contains("not finite"), e.getMessage());
    }

    @Test
    void onlyQ4_0AndQ4_KHaveTheForm() {
        Matrix q8 = TestMatrices.random(new Random(1), DType.Q8_0, 4, 64);
        assertThrows(IllegalArgumentException.class, q8::withRoundedActivations);
        Matrix q4 = TestMatrices.random(new Random(1), DType.Q4_0, 4, 64).withRoundedActivations();
        assertThrows(IllegalStateException.class, q4::interleaved);
    }
}
