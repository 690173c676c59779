package dev.moe4j.kernels;

import static dev.moe4j.kernels.TestMatrices.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.kernels.simd.VectorKernels;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Matrix products and row widening of {@link VectorKernels}, for every storage type at each forced register
 * width, against the scalar twin. Rows 1, 3 and 17 reach the multi-row passes and their remainders; 1, 2 and 5
 * tokens reach the mat-vec, the token tiles and a partial tile.
 */
class TwinMatmulTest {

    private static final int[] FLOAT_COLS = {1, 3, 31, 33, 127, 1021, 4099};
    private static final int[] BLOCK32_COLS = {32, 96, 1056, 4096};
    private static final int[] BLOCK256_COLS = {256, 768, 4096};
    private static final int[] ROWS = {1, 3, 17};
    private static final int[] TOKENS = {1, 2, 5};

    private static final KernelProvider SCALAR = ScalarKernels.INSTANCE;

    static Stream<Arguments> widthsAndTypes() {
        return IntStream.of(128, 256, 512).boxed()
                .flatMap(bits -> Arrays.stream(DType.values()).map(type -> Arguments.of(bits, type)));
    }

    private static int[] colsFor(DType type) {
        return switch (type.blockSize()) {
            case 1 -> FLOAT_COLS;
            case 32 -> BLOCK32_COLS;
            default -> BLOCK256_COLS;
        };
    }

    /**
     * On a thread of its own: the tile keeps scratch per thread, sized by the first call, and a width must not rely on
     * scratch that a wider one left behind (the 16-lane tile's larger scratch once hid an out-of-bounds read of the
     * generic tile, which a JVM running only 128- or 256-bit kernels would have hit).
     */
    @ParameterizedTest(name = "{1} at {0} bits")
    @MethodSource("widthsAndTypes")
    void matmul(int bits, DType type) throws Throwable {
        Throwable[] failure = new Throwable[1];
        Thread thread = new Thread(() -> {
            try {
                matmulOnThisThread(bits, type);
            } catch (Throwable t) {
                failure[0] = t;
            }
        });
        thread.start();
        thread.join();
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    private static void matmulOnThisThread(int bits, DType type) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(1000L * type.ordinal() + bits);
        for (int cols : colsFor(type)) {
            for (int rows : ROWS) {
                Matrix w = TestMatrices.random(random, type, rows, cols);
                for (int nTokens : TOKENS) {
                    float[] x = floats(random, nTokens * cols);
                    float[] expected = new float[nTokens * rows];
                    float[] actual = new float[nTokens * rows];
                    SCALAR.matmul(expected, w, x, nTokens, 0, rows);
                    vector.matmul(actual, w, x, nTokens, 0, rows);
                    assertProducts(w, x, nTokens, 0, rows, expected, actual);
                }
            }
        }
    }

    /**
     * Many tokens are multiplied a panel of rows at a time (512 KiB of widened weights: 30 rows at about 4096
     * columns). 67 rows span three panels, the last one partial; each token's row of the product must still be
     * the twin's sums, and bit for bit what the one-token mat-vec gives (batch invariance).
     */
    @ParameterizedTest(name = "{1} at {0} bits")
    @MethodSource("widthsAndTypes")
    void matmulOverSeveralPanels(int bits, DType type) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(5000L * type.ordinal() + bits);
        int[] cols = colsFor(type);
        int n = cols[cols.length - 1];
        int rows = 67;
        int nTokens = 6;
        Matrix w = TestMatrices.random(random, type, rows, n);
        float[] x = floats(random, nTokens * n);
        float[] expected = new float[nTokens * rows];
        float[] actual = new float[nTokens * rows];
        SCALAR.matmul(expected, w, x, nTokens, 0, rows);
        vector.matmul(actual, w, x, nTokens, 0, rows);
        assertProducts(w, x, nTokens, 0, rows, expected, actual);
        for (int t = 0; t < nTokens; t++) {
            float[] alone = new float[rows];
            vector.matmul(alone, w, Arrays.copyOfRange(x, t * n, (t + 1) * n), 1, 0, rows);
            assertArrayEquals(alone, Arrays.copyOfRange(actual, t * rows, (t + 1) * rows), type + " token " + t);
        }
    }

    @ParameterizedTest(name = "{1} at {0} bits")
    @MethodSource("widthsAndTypes")
    void matmulWritesOnlyItsRows(int bits, DType type) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(2000L * type.ordinal() + bits);
        int rows = 17;
        int cols = colsFor(type)[1];
        Matrix w = TestMatrices.random(random, type, rows, cols);
        for (int nTokens : TOKENS) {
            float[] x = floats(random, nTokens * cols);
            float[] expected = new float[nTokens * rows];
            float[] actual = new float[nTokens * rows];
            Arrays.fill(actual, Float.NaN);
            SCALAR.matmul(expected, w, x, nTokens, 2, 13);
            vector.matmul(actual, w, x, nTokens, 2, 13);
            for (int t = 0; t < nTokens; t++) {
                for (int r = 0; r < rows; r++) {
                    if (r < 2 || r >= 13) {
                        assertTrue(Float.isNaN(actual[t * rows + r]), "wrote row " + r + " of token " + t);
                    }
                }
            }
            assertProducts(w, x, nTokens, 2, 13, expected, actual);
        }
    }

    @ParameterizedTest(name = "{1} at {0} bits")
    @MethodSource("widthsAndTypes")
    void dequantizeRowIsExact(int bits, DType type) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(3000L * type.ordinal() + bits);
        for (int cols : colsFor(type)) {
            Matrix w = TestMatrices.random(random, type, 3, cols);
            for (int row = 0; row < 3; row++) {
                float[] actual = new float[cols + 3];
                vector.dequantizeRow(w, row, actual, 3);
                assertArrayEquals(TestMatrices.widened(w, row), Arrays.copyOfRange(actual, 3, cols + 3),
                        type + " cols=" + cols + " row=" + row);
            }
        }
    }

    @ParameterizedTest(name = "{1} at {0} bits")
    @MethodSource("widthsAndTypes")
    void weightsOnTheHeap(int bits, DType type) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(4000L * type.ordinal() + bits);
        int rows = 5;
        int cols = colsFor(type)[1];
        Matrix offHeap = TestMatrices.random(random, type, rows, cols);
        // the same bytes in an array of the storage's element type
        long bytes = offHeap.data().byteSize();
        MemorySegment heap = switch (type) {
            case F32 -> MemorySegment.ofArray(new float[(int) bytes / 4]);
            case F16, BF16 -> MemorySegment.ofArray(new short[(int) bytes / 2]);
            default -> MemorySegment.ofArray(new byte[(int) bytes]);
        };
        MemorySegment.copy(offHeap.data(), 0, heap, 0, bytes);
        Matrix onHeap = new Matrix("heap " + type, heap, type, rows, cols);
        for (int nTokens : TOKENS) {
            float[] x = floats(random, nTokens * cols);
            float[] expected = new float[nTokens * rows];
            float[] actual = new float[nTokens * rows];
            vector.matmul(expected, offHeap, x, nTokens, 0, rows);
            vector.matmul(actual, onHeap, x, nTokens, 0, rows);
            assertArrayEquals(expected, actual, type + " tokens=" + nTokens);
        }
    }

    /**
     * Each out[t][r] for r in [rowStart, rowEnd) within {@link TwinKernelsTest#SUM_TOLERANCE} of the sum of
     * |w[r][c]·x[t][c]|: the widened weights are equal, so only the order of the sums differs (and the vector
     * kernels fuse each multiply-add, which rounds once per term where the scalar twin rounds twice).
     */
    private static void assertProducts(Matrix w, float[] x, int nTokens, int rowStart, int rowEnd, float[] expected,
            float[] actual) {
        int rows = w.rows();
        int cols = w.cols();
        for (int r = rowStart; r < rowEnd; r++) {
            float[] weights = TestMatrices.widened(w, r);
            for (int t = 0; t < nTokens; t++) {
                double terms = 0;
                for (int c = 0; c < cols; c++) {
                    terms += Math.abs((double) weights[c] * x[t * cols + c]);
                }
                int at = t * rows + r;
                String where = w.name() + " tokens=" + nTokens + " t=" + t + " r=" + r;
                assertEquals(expected[at], actual[at], TwinKernelsTest.SUM_TOLERANCE * terms + Float.MIN_NORMAL,
                        where);
            }
        }
    }
}
