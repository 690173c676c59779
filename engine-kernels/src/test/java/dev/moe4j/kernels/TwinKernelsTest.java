package dev.moe4j.kernels;

import static dev.moe4j.kernels.TestMatrices.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.kernels.simd.VectorKernels;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every activation kernel of {@link VectorKernels}, at each forced register width, against its scalar twin, over
 * odd sizes (vector body, scalar tail, both, neither) and non-zero offsets.
 */
class TwinKernelsTest {

    static final int[] SIZES = {1, 3, 31, 33, 127, 1021, 4099};

    /*
     * Sums of n terms: both twins round every partial sum to float, in different orders. Their difference is
     * below n·2^-24·Σ|terms| in the worst case and about √n·2^-24·Σ|terms| for terms of random sign; 1e-5·Σ|terms|
     * covers the random case up to n ≈ 25 000 with margin, while one wrong or missing term of average size
     * (Σ|terms|/n, 2.4e-4·Σ|terms| at n = 4099) is far above it.
     */
    static final double SUM_TOLERANCE = 1e-5;

    /*
     * Results normalised by a sum of positive terms (rmsNorm, softmax): the sum's relative error is about
     * √n·2^-24 (4e-6 at n = 4099), plus an ulp or two of exp in softmax; so 1e-5 relative.
     */
    static final double NORMALISED_TOLERANCE = 1e-5;

    private static final KernelProvider SCALAR = ScalarKernels.INSTANCE;

    @Test
    void rejectsUnsupportedWidth() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new VectorKernels(100));
        assertTrue(e.getMessage().contains("100"), e.getMessage());
        assertEquals("vector(256-bit)", new VectorKernels(256).name());
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void dot(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(1);
        for (int n : SIZES) {
            float[] a = floats(random, n + 5);
            float[] b = floats(random, n + 2);
            double terms = 0;
            for (int i = 0; i < n; i++) {
                terms += Math.abs((double) a[5 + i] * b[2 + i]);
            }
            assertEquals(SCALAR.dot(a, 5, b, 2, n), vector.dot(a, 5, b, 2, n), SUM_TOLERANCE * terms, "n=" + n);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void axpy(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(2);
        for (int n : SIZES) {
            float[] x = floats(random, n + 1);
            float[] y = floats(random, n + 3);
            float[] expected = y.clone();
            SCALAR.axpy(expected, 3, 0.75f, x, 1, n);
            vector.axpy(y, 3, 0.75f, x, 1, n);
            // a fused multiply-add against a rounded product and sum: at most one rounding of the sum apart
            for (int i = 0; i < n + 3; i++) {
                assertEquals(expected[i], y[i], 2 * Math.ulp(Math.abs(expected[i]) + 1f), "n=" + n + " i=" + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void scale(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(3);
        for (int n : SIZES) {
            float[] x = floats(random, n + 4);
            float[] expected = x.clone();
            SCALAR.scale(expected, 4, -1.5f, n);
            vector.scale(x, 4, -1.5f, n);
            assertArrayEquals(expected, x, "n=" + n);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void rmsNorm(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(4);
        for (int n : SIZES) {
            float[] x = floats(random, n + 2);
            float[] weight = floats(random, n);
            float[] expected = new float[n + 1];
            float[] actual = new float[n + 1];
            SCALAR.rmsNorm(expected, 1, x, 2, weight, n, 1e-6f);
            vector.rmsNorm(actual, 1, x, 2, weight, n, 1e-6f);
            assertRelative(expected, actual, NORMALISED_TOLERANCE, "n=" + n);
            // in place: out aliases x
            float[] inPlace = x.clone();
            vector.rmsNorm(inPlace, 2, inPlace, 2, weight, n, 1e-6f);
            for (int i = 0; i < n; i++) {
                assertEquals(actual[1 + i], inPlace[2 + i], "in place, n=" + n + " i=" + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void softmax(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(5);
        for (int n : SIZES) {
            // logits up to ±40: exp of the unshifted values would overflow
            float[] x = floats(random, n + 3);
            for (int i = 0; i < x.length; i++) {
                x[i] *= 40;
            }
            float[] expected = x.clone();
            SCALAR.softmax(expected, 3, n);
            vector.softmax(x, 3, n);
            assertRelative(expected, x, NORMALISED_TOLERANCE, "n=" + n);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void softmaxOfMaskedScores(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        float[] x = new float[37];
        java.util.Arrays.fill(x, Float.NEGATIVE_INFINITY);
        x[5] = 2f;
        x[33] = 2f;
        vector.softmax(x, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals(i == 5 || i == 33 ? 0.5f : 0f, x[i], "i=" + i);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void siluMul(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(6);
        for (int n : SIZES) {
            float[] gate = floats(random, n + 1);
            for (int i = 0; i < gate.length; i++) {
                gate[i] *= 20;
            }
            float[] up = floats(random, n + 2);
            float[] expected = gate.clone();
            SCALAR.siluMul(expected, 1, up, 2, n);
            vector.siluMul(gate, 1, up, 2, n);
            // exp within an ulp or two, then a divide and a multiply: a few ulps
            assertRelative(expected, gate, 1e-6, "n=" + n);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void rope(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(7);
        for (int n : SIZES) {
            int headDim = 2 * n;
            int nHeads = 3;
            float[] x = floats(random, nHeads * headDim + 4);
            float[] cos = floats(random, n);
            float[] sin = floats(random, n);
            float[] expected = x.clone();
            SCALAR.rope(expected, 4, nHeads, headDim, cos, sin);
            vector.rope(x, 4, nHeads, headDim, cos, sin);
            // the same operations in the same order
            assertArrayEquals(expected, x, "headDim=" + headDim);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void attend(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(77 + bits);
        for (int n : new int[] {1, 3, 31, 33, 128}) {
            for (int len : new int[] {1, 3, 5, 17, 100}) {
                // positions in shuffled slots of a [head][slot][n] cache with 2 heads; the query reads head 1
                int slots = len + 7;
                float[] keys = new float[2 * slots * n];
                float[] values = new float[2 * slots * n];
                for (int i = 0; i < keys.length; i++) {
                    keys[i] = (float) random.nextGaussian();
                    values[i] = (float) random.nextGaussian();
                }
                java.util.List<Integer> order = new java.util.ArrayList<>();
                for (int i = 0; i < slots; i++) {
                    order.add(i);
                }
                java.util.Collections.shuffle(order, random);
                int[] rows = new int[len];
                for (int p = 0; p < len; p++) {
                    rows[p] = order.get(p) * n;
                }
                int headOff = slots * n;
                float[] q = new float[n + 3];
                for (int i = 0; i < q.length; i++) {
                    q[i] = (float) random.nextGaussian();
                }
                float scale = (float) (1 / Math.sqrt(n));
                float[] expected = new float[n + 2];
                float[] actual = new float[n + 2];
                SCALAR.attend(expected, 2, q, 3, keys, values, rows, headOff, len, n, scale, new float[len]);
                vector.attend(actual, 2, q, 3, keys, values, rows, headOff, len, n, scale, new float[len]);
                // independent reference in double
                double[] w = new double[len];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p < len; p++) {
                    double dot = 0;
                    for (int c = 0; c < n; c++) {
                        dot += (double) q[3 + c] * keys[rows[p] + headOff + c];
                    }
                    w[p] = dot * scale;
                    max = Math.max(max, w[p]);
                }
                double total = 0;
                for (int p = 0; p < len; p++) {
                    w[p] = Math.exp(w[p] - max);
                    total += w[p];
                }
                for (int c = 0; c < n; c++) {
                    double sum = 0;
                    double magnitude = 0;
                    for (int p = 0; p < len; p++) {
                        double term = w[p] / total * values[rows[p] + headOff + c];
                        sum += term;
                        magnitude += Math.abs(term);
                    }
                    // a score's rounding (~√n·2^-24 of Σ|q·k|, ≤ 1e-5 here) moves the weights by as much, relatively
                    double tolerance = 2e-5 * magnitude + 1e-7;
                    String what = bits + " bits n=" + n + " len=" + len + " c=" + c;
                    assertEquals(sum, expected[2 + c], tolerance, "scalar " + what);
                    assertEquals(sum, actual[2 + c], tolerance, "vector " + what);
                }
                assertEquals(0f, actual[0], "writes only its output");
                assertEquals(0f, actual[1], "writes only its output");
            }
        }
    }

    /**
     * Several queries at once give each query exactly the bits of the one-query call (which {@link #attend} checks
     * against a reference), for groups of every size around the four-query tile, equal and unequal lengths, with
     * and without a common prefix that is a multiple of four.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void attendSeveralQueriesAsAlone(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(91 + bits);
        // groups of four tile the positions below their shortest length six at a time, then go one by one
        int[][] lengths = {{1}, {5, 6, 7, 8}, {4, 4, 4, 4}, {6, 6, 6, 6}, {25, 25, 25, 25}, {17, 3, 9, 30, 1},
            {13, 14, 15, 16, 17, 18, 19, 20, 21}, {2, 40, 40, 39, 8, 8, 8}, {37, 31, 44, 30, 50, 13}};
        for (int n : new int[] {1, 3, 16, 31, 33, 128}) {
            for (int[] lens : lengths) {
                int count = lens.length;
                int longest = java.util.Arrays.stream(lens).max().orElseThrow();
                int slots = longest + 5;
                float[] keys = new float[2 * slots * n];
                float[] values = new float[2 * slots * n];
                for (int i = 0; i < keys.length; i++) {
                    keys[i] = (float) random.nextGaussian();
                    values[i] = (float) random.nextGaussian();
                }
                int[] rows = new int[longest];
                for (int p = 0; p < longest; p++) {
                    rows[p] = ((p * 7 + 3) % slots) * n; // scattered slots, as in a paged cache
                }
                int headOff = slots * n;
                // queries and outputs interleaved with gaps, in reverse order: offsets are the caller's to choose
                int width = n + 3;
                float[] q = new float[count * width + 2];
                for (int i = 0; i < q.length; i++) {
                    q[i] = (float) random.nextGaussian();
                }
                int[] qOffs = new int[count];
                int[] outOffs = new int[count];
                for (int i = 0; i < count; i++) {
                    qOffs[i] = 2 + (count - 1 - i) * width;
                    outOffs[i] = 1 + i * width;
                }
                float scale = (float) (1 / Math.sqrt(n));
                for (KernelProvider provider : new KernelProvider[] {SCALAR, vector}) {
                    float[] together = new float[count * width + 1];
                    provider.attend(together, outOffs, q, qOffs, lens, count, keys, values, rows, headOff, n, scale,
                            new float[Math.min(count, 4) * longest]);
                    float[] alone = new float[together.length];
                    for (int i = 0; i < count; i++) {
                        provider.attend(alone, outOffs[i], q, qOffs[i], keys, values, rows, headOff, lens[i], n, scale,
                                new float[lens[i]]);
                    }
                    assertArrayEquals(alone, together, provider.name() + " n=" + n + " lens="
                            + java.util.Arrays.toString(lens));
                    for (int i = 0; i < count; i++) {
                        for (int c = outOffs[i] + n; c < outOffs[i] + width && c < together.length; c++) {
                            assertEquals(0f, together[c], "writes only its outputs");
                        }
                    }
                    assertEquals(0f, together[0], "writes only its outputs");
                }
            }
        }
    }

    /**
     * Column-order attention (the rounded-activation mode's prompts): scalar twin and vector kernel against a
     * double-precision reference, for query groups around the six-query tile, lengths across the 16/32/64-position
     * panels of each width, unequal lengths within a group (each query finishes its own positions alone), head
     * widths with and without a partial panel of columns; a query's bits are those it gets alone, and nothing
     * outside the outputs is written.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void attendInColumnOrder(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(131 + bits);
        int[][] lengths = {{1}, {3, 3}, {5, 6, 7, 8, 9, 10}, {64, 64, 64, 64, 64, 64, 64}, {17, 3, 9, 30, 1},
            {60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72}, {2, 40, 129, 39, 8, 8, 8}, {130, 1, 97, 33, 16, 65}};
        for (int n : new int[] {1, 3, 16, 31, 33, 128}) {
            for (int[] lens : lengths) {
                int count = lens.length;
                int longest = java.util.Arrays.stream(lens).max().orElseThrow();
                int slots = longest + 5;
                float[] keys = new float[2 * slots * n];
                float[] values = new float[2 * slots * n];
                for (int i = 0; i < keys.length; i++) {
                    keys[i] = (float) random.nextGaussian();
                    values[i] = (float) random.nextGaussian();
                }
                int[] rows = new int[longest];
                for (int p = 0; p < longest; p++) {
                    rows[p] = ((p * 7 + 3) % slots) * n;
                }
                int headOff = slots * n;
                int width = n + 3;
                float[] q = new float[count * width + 2];
                for (int i = 0; i < q.length; i++) {
                    q[i] = (float) random.nextGaussian();
                }
                int[] qOffs = new int[count];
                int[] outOffs = new int[count];
                for (int i = 0; i < count; i++) {
                    qOffs[i] = 2 + (count - 1 - i) * width;
                    outOffs[i] = 1 + i * width;
                }
                float scale = (float) (1 / Math.sqrt(n));
                String what = bits + " bits n=" + n + " lens=" + java.util.Arrays.toString(lens);
                for (KernelProvider provider : new KernelProvider[] {SCALAR, vector}) {
                    float[] together = new float[count * width + 1];
                    provider.attendInColumnOrder(together, outOffs, q, qOffs, lens, count, keys, values, rows, headOff,
                            n, scale, new float[longest]);
                    float[] alone = new float[together.length];
                    for (int i = 0; i < count; i++) {
                        provider.attendInColumnOrder(alone, new int[] {outOffs[i]}, q, new int[] {qOffs[i]},
                                new int[] {lens[i]}, 1, keys, values, rows, headOff, n, scale, new float[lens[i]]);
                    }
                    assertArrayEquals(alone, together, provider.name() + " alone " + what);
                    assertEquals(0f, together[0], "writes only its outputs");
                    for (int i = 0; i < count; i++) {
                        for (int c = outOffs[i] + n; c < outOffs[i] + width && c < together.length; c++) {
                            assertEquals(0f, together[c], "writes only its outputs");
                        }
                        double[] expected = referenceAttention(q, qOffs[i], keys, values, rows, headOff, lens[i], n,
                                scale);
                        for (int c = 0; c < n; c++) {
                            // as in attend: a score's rounding moves the weights by as much, relatively
                            double tolerance = 2e-5 * expected[n + c] + 1e-7;
                            assertEquals(expected[c], together[outOffs[i] + c], tolerance,
                                    provider.name() + " " + what + " query " + i + " c=" + c);
                        }
                    }
                }
            }
        }
    }

    /** Softmax-weighted values in double: [n] outputs, then [n] sums of |weight·value| (their magnitudes). */
    private static double[] referenceAttention(float[] q, int qOff, float[] keys, float[] values, int[] rows,
            int headOff, int len, int n, float scale) {
        double[] w = new double[len];
        double max = Double.NEGATIVE_INFINITY;
        for (int p = 0; p < len; p++) {
            double dot = 0;
            for (int c = 0; c < n; c++) {
                dot += (double) q[qOff + c] * keys[rows[p] + headOff + c];
            }
            w[p] = dot * scale;
            max = Math.max(max, w[p]);
        }
        double total = 0;
        for (int p = 0; p < len; p++) {
            w[p] = Math.exp(w[p] - max);
            total += w[p];
        }
        double[] result = new double[2 * n];
        for (int c = 0; c < n; c++) {
            for (int p = 0; p < len; p++) {
                double term = w[p] / total * values[rows[p] + headOff + c];
                result[c] += term;
                result[n + c] += Math.abs(term);
            }
        }
        return result;
    }

    /** |expected − actual| ≤ tolerance·|expected| (plus the smallest normal, for zeros). */
    static void assertRelative(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            int index = i;
            assertEquals(expected[i], actual[i], tolerance * Math.abs(expected[i]) + Float.MIN_NORMAL,
                    () -> what + " i=" + index);
        }
    }
}
