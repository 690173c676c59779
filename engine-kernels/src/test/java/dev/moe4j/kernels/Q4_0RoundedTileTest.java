package dev.moe4j.kernels;

import static dev.moe4j.kernels.TestMatrices.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.kernels.parallel.Parallel;
import dev.moe4j.kernels.simd.VectorKernels;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Products of more than {@link Q4_0Rounded#MAX_TOKENS} tokens with a matrix in the rounded-activation mode: F32
 * activations summed in column order ({@link Q4_0Rounded#matmulScalar}). The vector tile gives the specification's bits
 * at every register width, over odd row and token counts, ranges that cut tiles and groups, and more columns than
 * one panel holds (the sums carried across column blocks); the specification agrees with a double-precision sum within
 * the rounding bound of a chain of fmas; a token's result depends neither on its batch nor on the row split.
 */
class Q4_0RoundedTileTest {

    private static final int[] ROWS = {1, 3, 31, 33, 64, 70, 130};
    /** 1, 3 and 33 blocks, and more columns than a panel holds at 128 bits (8192; 4096 at 256, 2048 at 512). */
    private static final int[] COLS = {32, 96, 1056, 8224};
    private static final int[] TOKENS = {5, 6, 7, 13};

    private static float[] product(KernelProvider provider, Matrix w, float[] x, int nTokens, int rowStart,
            int rowEnd) {
        float[] out = new float[nTokens * w.rows()];
        provider.matmul(out, w, x, nTokens, rowStart, rowEnd);
        return out;
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 256, 512})
    void vectorTileMatchesTheScalarSpecificationBitForBit(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(bits + 21);
        for (int cols : COLS) {
            for (int rows : ROWS) {
                if (cols > 1056 && rows > 70) {
                    continue; // keeps the scalar side quick
                }
                Matrix plain = TestMatrices.random(random, DType.Q4_0, rows, cols);
                Matrix[] layouts = {plain.withRoundedActivations(), plain.interleaved().withRoundedActivations()};
                for (Matrix w : layouts) {
                    for (int nTokens : TOKENS) {
                        float[] x = floats(random, nTokens * cols);
                        String what = rows + "x" + cols + " × " + nTokens + " tokens, row group " + w.rowGroup()
                                + " at " + bits + " bits";
                        float[] expected = product(ScalarKernels.INSTANCE, w, x, nTokens, 0, rows);
                        assertArrayEquals(expected, product(vector, w, x, nTokens, 0, rows), what);
                        // ranges starting and ending inside groups and tiles write their rows only
                        int from = Math.min(rows - 1, 5);
                        int to = Math.max(from + 1, rows - 2);
                        float[] part = product(vector, w, x, nTokens, from, to);
                        for (int t = 0; t < nTokens; t++) {
                            for (int r = 0; r < rows; r++) {
                                int i = t * rows + r;
                                assertEquals(r >= from && r < to ? expected[i] : 0f, part[i],
                                        what + " token " + t + " row " + r + " of [" + from + ", " + to + ")");
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void specificationAgreesWithADoublePrecisionSumWithinTheFmaChainBound() {
        Random random = new Random(17);
        int rows = 40;
        int cols = 1056;
        int nTokens = 7;
        Matrix w = TestMatrices.random(random, DType.Q4_0, rows, cols).withRoundedActivations();
        float[] x = floats(random, nTokens * cols);
        float[] out = product(new VectorKernels(0), w, x, nTokens, 0, rows);
        double u = 0x1p-24;
        for (int r = 0; r < rows; r++) {
            float[] row = TestMatrices.widened(w, r);
            for (int t = 0; t < nTokens; t++) {
                double exact = 0;
                double magnitude = 0;
                for (int c = 0; c < cols; c++) {
                    exact += (double) row[c] * x[t * cols + c];
                    magnitude += Math.abs((double) row[c] * x[t * cols + c]);
                }
                // a chain of n fmas: |error| ≤ n·u / (1 − n·u) · Σ|w·x|
                double bound = cols * u / (1 - cols * u) * magnitude;
                float got = out[t * rows + r];
                assertTrue(Math.abs(got - exact) <= bound,
                        "row " + r + " token " + t + ": " + got + " vs " + exact + ", bound " + bound);
            }
        }
    }

    @Test
    void aTokensResultDependsNeitherOnItsBatchNorOnTheRowSplit() {
        Random random = new Random(23);
        int rows = 3 * 96 + 17;
        int cols = 1056;
        Matrix w = TestMatrices.random(random, DType.Q4_0, rows, cols).withRoundedActivations();
        float[] x = floats(random, 13 * cols);
        KernelProvider vector = new VectorKernels(0);
        float[] thirteen = product(vector, w, x, 13, 0, rows);
        float[] five = product(vector, w, Arrays.copyOfRange(x, 8 * cols, 13 * cols), 5, 0, rows);
        for (int t = 0; t < 5; t++) {
            assertArrayEquals(Arrays.copyOfRange(thirteen, (8 + t) * rows, (9 + t) * rows),
                    Arrays.copyOfRange(five, t * rows, (t + 1) * rows), "token " + (8 + t) + " in a batch of 5");
        }
        for (int threads : new int[] {2, 3}) {
            Kernels kernels = new Kernels(vector, new Parallel(threads));
            Kernels.Product[] products = new Kernels.Product[3];
            for (int i = 0; i < products.length; i++) {
                products[i] = new Kernels.Product(new float[13 * rows], w, x, 13);
            }
            kernels.matmulAll(products);
            for (Kernels.Product p : products) {
                assertArrayEquals(thirteen, p.out(), threads + " threads");
            }
        }
    }
}
