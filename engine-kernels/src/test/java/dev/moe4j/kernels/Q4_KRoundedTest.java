package dev.moe4j.kernels;

import static dev.moe4j.kernels.TestMatrices.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.kernels.quant.BlockFormat;
import dev.moe4j.kernels.simd.VectorKernels;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Q4_K product with rounded activations ({@link Q4_KRounded}): the vector kernel gives the scalar specification's
 * bits at every register width, row count (partial groups of 32 included) and block count, in both storage layouts;
 * the specification agrees with a double-precision sum over the dequantised weights and the rounded activations; and
 * its distance from the exact product stays inside the bound the activations' rounding allows.
 */
class Q4_KRoundedTest {

    private static final int[] ROWS = {1, 3, 31, 33, 70};
    private static final int[] COLS = {256, 768, 1280}; // 1, 3 and 5 blocks

    private static float[] product(KernelProvider provider, Matrix w, float[] x, int rowStart, int rowEnd) {
        float[] out = new float[w.rows()];
        provider.matmul(out, w, x, 1, rowStart, rowEnd);
        return out;
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 256, 512})
    void vectorKernelMatchesTheScalarSpecificationBitForBit(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(bits);
        for (int cols : COLS) {
            for (int rows : ROWS) {
                Matrix plain = TestMatrices.random(random, DType.Q4_K, rows, cols);
                Matrix[] layouts = {plain.withRoundedActivations(), plain.interleaved().withRoundedActivations()};
                for (Matrix w : layouts) {
                    float[] x = floats(random, cols);
                    x[7] = 40f; // one large value: the rest round to few steps
                    String what = rows + "x" + cols + " row group " + w.rowGroup() + " at " + bits + " bits";
                    float[] whole = product(ScalarKernels.INSTANCE, w, x, 0, rows);
                    assertArrayEquals(whole, product(vector, w, x, 0, rows), what);
                    int from = Math.min(rows - 1, 5);
                    int to = Math.max(from + 1, rows - 2);
                    float[] part = product(vector, w, x, from, to);
                    for (int r = 0; r < rows; r++) {
                        assertEquals(r >= from && r < to ? whole[r] : 0f, part[r], what + " row " + r);
                    }
                }
            }
        }
    }

    /** Decode batches of up to 4 tokens round each token as alone; a fifth token takes the default F32 path. */
    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 256, 512})
    void eachTokenOfADecodeBatchGetsItsOwnBits(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(bits + 3);
        int cols = 768;
        for (int rows : new int[] {3, 70}) {
            Matrix plain = TestMatrices.random(random, DType.Q4_K, rows, cols);
            Matrix w = plain.withRoundedActivations();
            for (int nTokens = 2; nTokens <= RoundedForm.MAX_TOKENS + 1; nTokens++) {
                float[] x = floats(random, nTokens * cols);
                float[] batch = new float[nTokens * rows];
                vector.matmul(batch, w, x, nTokens, 0, rows);
                float[] plainBatch = new float[nTokens * rows];
                vector.matmul(plainBatch, plain, x, nTokens, 0, rows);
                for (int t = 0; t < nTokens; t++) {
                    float[] alone = product(ScalarKernels.INSTANCE, w, Arrays.copyOfRange(x, t * cols, (t + 1) * cols),
                            0, rows);
                    float[] got = Arrays.copyOfRange(batch, t * rows, (t + 1) * rows);
                    String what = rows + " rows, token " + t + " of " + nTokens + " at " + bits + " bits";
                    if (nTokens <= RoundedForm.MAX_TOKENS) {
                        assertArrayEquals(alone, got, what);
                    } else {
                        assertArrayEquals(Arrays.copyOfRange(plainBatch, t * rows, (t + 1) * rows), got,
                                what + ": a prefill-sized batch is the default product");
                    }
                }
            }
        }
    }

    /**
     * Independent of the kernels' integer bookkeeping: Σ over the scalar dequantiser's weights times the rounded
     * activations q·dx, in double, agrees with the specification to float rounding; and the specification is as close
     * to the exact F32 product as rounding each activation by at most dx/2 allows.
     */
    @Test
    void specificationIsTheProductWithRoundedActivations() {
        Random random = new Random(11);
        int rows = 9;
        int cols = 1280;
        Matrix w = TestMatrices.random(random, DType.Q4_K, rows, cols);
        float[] x = floats(random, cols);
        short[] q = new short[cols];
        float[] dx = new float[cols / 256];
        Q4_KRounded.quantizeActivations(x, 0, cols, q, dx, new int[cols / 32]);
        float[] spec = new float[rows];
        Q4_KRounded.matvecScalar(spec, w, x, 1, 0, rows);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < cols / 256; b++) {
                BlockFormat.of(DType.Q4_K).dequantize(w.data(), w.blockOffset(r, b), row, b * 256);
            }
            double rounded = 0;
            double exact = 0;
            double magnitude = 0;
            double bound = 0;
            for (int c = 0; c < cols; c++) {
                rounded += (double) row[c] * q[c] * dx[c / 256];
                exact += (double) row[c] * x[c];
                magnitude += Math.abs((double) row[c] * x[c]);
                bound += Math.abs(row[c]) * dx[c / 256] / 2;
            }
            assertEquals(rounded, spec[r], 1e-5 * magnitude, "row " + r + " against the rounded activations");
            assertTrue(Math.abs(exact - spec[r]) <= bound + 1e-5 * magnitude, "row " + r + " within the rounding bound");
            assertTrue(Math.abs(exact - spec[r]) > 0, "row " + r + ": rounding changes the product");
        }
    }

    @Test
    void activationsAreRoundedPerBlockOf256ToTheGivenSteps() {
        Random random = new Random(3);
        float[] x = floats(random, 512);
        x[40] = 3f;
        Arrays.fill(x, 256, 512, 0f); // an all-zero block
        short[] q = new short[512];
        float[] dx = new float[2];
        int[] subSums = new int[16];
        Q4_KRounded.quantizeActivations(x, 0, 512, q, dx, subSums);
        assertEquals(3f / Q4_KRounded.STEPS, dx[0], 1e-7f);
        assertEquals((short) Q4_KRounded.STEPS, q[40]);
        assertEquals(0f, dx[1]);
        for (int s = 0; s < 8; s++) {
            int sum = 0;
            for (int i = 32 * s; i < 32 * s + 32; i++) {
                assertEquals((int) Math.rint(x[i] * (1f / dx[0])), q[i], "value " + i);
                sum += q[i];
            }
            assertEquals(sum, subSums[s], "sub-block " + s);
            assertEquals(0, subSums[8 + s]);
        }
    }

    @Test
    void nonFiniteHalvesAreRefused() {
        Matrix w = TestMatrices.random(new Random(5), DType.Q4_K, 40, 256);
        w.data().set(TestMatrices.LE_SHORT, 144L * 33 + 2, (short) 0x7C00); // row 33's dmin: infinity
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, w::withRoundedActivations);
        assertTrue(e.getMessage().contains("row 33") && e.getMessage().contains("not finite"), e.getMessage());
    }
}
