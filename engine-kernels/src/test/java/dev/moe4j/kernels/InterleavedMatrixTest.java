package dev.moe4j.kernels;

import static dev.moe4j.kernels.TestMatrices.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.moe4j.kernels.parallel.Parallel;
import dev.moe4j.kernels.simd.VectorKernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Matrix#interleaved()} (Q8_0, Q4_0, Q4_K, Q6_K): the layout puts the blocks where the class comment says, and every kernel gives
 * bit-for-bit the products and widened rows of the row-major matrix, at every width, for whole and partial groups.
 */
class InterleavedMatrixTest {

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    // 8, 13, 17, 28, 33: the 16-lane mat-vecs pair whole groups as two streams (an even or odd count of groups, with or
    // without a partial one) and take the rest four rows at a time
    private static final int[] ROWS = {1, 3, 4, 5, 8, 13, 17, 28, 33};
    private static final int[] COLS = {32, 96, 1056};
    private static final int[] K_COLS = {256, 768, 1280};

    private static int[] colsFor(DType type) {
        return type.blockSize() == 256 ? K_COLS : COLS;
    }
    private static final int[] TOKENS = {1, 2, 5};

    static Stream<Arguments> providersAndTypes() {
        return types().flatMap(type -> Stream.of(
                Arguments.of("scalar", ScalarKernels.INSTANCE, type),
                Arguments.of("vector128", new VectorKernels(128), type),
                Arguments.of("vector256", new VectorKernels(256), type),
                Arguments.of("vector512", new VectorKernels(512), type)));
    }

    @ParameterizedTest(name = "{2} blocks land where documented")
    @MethodSource("types")
    void layout(DType type) {
        Random random = new Random(7 + type.ordinal());
        int bb = type.blockBytes();
        for (int rows : ROWS) {
            for (int cols : colsFor(type)) {
                Matrix w = TestMatrices.random(random, type, rows, cols);
                Matrix v = w.interleaved();
                assertEquals(Matrix.GROUP, v.rowGroup());
                assertEquals(type == DType.Q8_0 || type == DType.Q4_0, v.scales() != null, "widened scales");
                int blocks = cols / type.blockSize();
                long rowBytes = (long) blocks * bb;
                for (int r = 0; r < rows; r++) {
                    int first = r / 4 * 4;
                    int inGroup = Math.min(4, rows - first);
                    for (int b = 0; b < blocks; b++) {
                        // independent of Matrix.blockOffset: group start, then block-major, row-minor
                        long expected = first * rowBytes + ((long) b * inGroup + (r - first)) * bb;
                        assertEquals(expected, v.blockOffset(r, b), "rows " + rows + " row " + r + " block " + b);
                        assertEquals((long) inGroup * bb, v.blockStride(r));
                        MemorySegment original = w.data().asSlice(r * rowBytes + (long) b * bb, bb);
                        MemorySegment copied = v.data().asSlice(expected, bb);
                        assertEquals(-1, original.mismatch(copied), "block bytes of row " + r + " block " + b);
                        if (v.scales() != null) {
                            // the block's f16 scale (its first two bytes), widened, at the block's ordinal
                            float d = Float.float16ToFloat(original.get(LE_SHORT, 0));
                            assertEquals(d, v.scales().get(LE_FLOAT, expected / bb * Float.BYTES),
                                    "scale of row " + r + " block " + b);
                        }
                    }
                }
            }
        }
    }

    static Stream<DType> types() {
        return Stream.of(DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K);
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("providersAndTypes")
    void productsAndRowsMatchRowMajorBitForBit(String label, KernelProvider provider, DType type) {
        Random random = new Random(label.hashCode() * 31L + type.ordinal());
        for (int rows : ROWS) {
            for (int cols : colsFor(type)) {
                Matrix w = TestMatrices.random(random, type, rows, cols);
                Matrix v = w.interleaved();
                for (int nTokens : TOKENS) {
                    float[] x = floats(random, nTokens * cols);
                    float[] expected = new float[nTokens * rows];
                    float[] actual = new float[nTokens * rows];
                    provider.matmul(expected, w, x, nTokens, 0, rows);
                    provider.matmul(actual, v, x, nTokens, 0, rows);
                    assertArrayEquals(expected, actual, label + " " + rows + "x" + cols + " tokens " + nTokens);
                    if (rows > 3) {
                        // a range that starts and ends inside groups
                        Arrays.fill(expected, 0);
                        Arrays.fill(actual, 0);
                        provider.matmul(expected, w, x, nTokens, 1, rows - 1);
                        provider.matmul(actual, v, x, nTokens, 1, rows - 1);
                        assertArrayEquals(expected, actual, label + " rows [1, " + (rows - 1) + ")");
                    }
                    if (rows > 12) {
                        // a range that starts at a later group
                        Arrays.fill(expected, 0);
                        Arrays.fill(actual, 0);
                        provider.matmul(expected, w, x, nTokens, 4, rows);
                        provider.matmul(actual, v, x, nTokens, 4, rows);
                        assertArrayEquals(expected, actual, label + " rows [4, " + rows + ")");
                    }
                }
                for (int r = 0; r < rows; r++) {
                    float[] a = new float[cols];
                    float[] b = new float[cols];
                    provider.dequantizeRow(w, r, a, 0);
                    provider.dequantizeRow(v, r, b, 0);
                    assertArrayEquals(a, b, label + " row " + r);
                }
            }
        }
    }

    @Test
    void facadeSplitsWholeGroupsAcrossThreads() {
        // two threads over interleaved storage give the bits one thread gives over the row-major matrix
        Random random = new Random(11);
        Kernels kernels = new Kernels(new VectorKernels(0), new Parallel(2));
        for (DType type : new DType[] {DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K}) {
            for (int rows : new int[] {6, 1022, 4099}) {
                Matrix w = TestMatrices.random(random, type, rows, 1024);
                float[] x = floats(random, 1024);
                float[] expected = new float[rows];
                float[] actual = new float[rows];
                kernels.provider().matmul(expected, w, x, 1, 0, rows);
                kernels.matmul(actual, w.interleaved(), x, 1);
                assertArrayEquals(expected, actual, type + " rows " + rows);
            }
        }
    }

    @ParameterizedTest(name = "{0} experts sliced from one interleaved matrix")
    @MethodSource("types")
    void slicedExpertsMultiplyAsTheirRowMajorRows(DType type) {
        // the 16-lane mat-vecs read a slice's widened scales: each slice must see its own rows' scales
        Random random = new Random(21 + type.ordinal());
        int cols = type.blockSize() == 256 ? 512 : 96;
        Matrix w = TestMatrices.random(random, type, 3 * 12, cols); // 3 "experts" of 12 rows
        Matrix v = w.interleaved();
        float[] x = floats(random, cols);
        for (KernelProvider provider : new KernelProvider[] {new VectorKernels(512), new VectorKernels(256)}) {
            for (int e = 0; e < 3; e++) {
                float[] expected = new float[12];
                float[] actual = new float[12];
                provider.matmul(expected, w.rowSlice("plain", 12 * e, 12), x, 1, 0, 12);
                provider.matmul(actual, v.rowSlice("e" + e, 12 * e, 12), x, 1, 0, 12);
                assertArrayEquals(expected, actual, type + " expert " + e);
            }
        }
    }

    @Test
    void scalesAreCheckedOnConstruction() {
        MemorySegment q8 = MemorySegment.ofArray(new byte[4 * 2 * 34]); // [4][64]: 8 blocks
        MemorySegment eight = MemorySegment.ofArray(new float[8]);
        assertEquals(eight, new Matrix("w", q8, DType.Q8_0, 4, 64, Matrix.GROUP, eight).scales());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> new Matrix("w", q8, DType.Q8_0, 4, 64, Matrix.GROUP, MemorySegment.ofArray(new float[7])));
        assertEquals(true, size.getMessage().contains("8 blocks"), size.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Matrix("w", q8, DType.Q8_0, 4, 64, 1, eight));
        MemorySegment q4k = MemorySegment.ofArray(new byte[4 * 144]);
        assertThrows(IllegalArgumentException.class,
                () -> new Matrix("w", q4k, DType.Q4_K, 4, 256, Matrix.GROUP, MemorySegment.ofArray(new float[4])));
    }

    @Test
    void slicesKeepWholeGroups() {
        Random random = new Random(5);
        Matrix w = TestMatrices.random(random, DType.Q8_0, 4 * 3 * 2, 64); // 2 "experts" of 12 rows
        Matrix v = w.interleaved();
        Matrix second = v.rowSlice("e1", 12, 12);
        Matrix plain = w.rowSlice("e1", 12, 12);
        float[] x = floats(random, 64);
        float[] expected = new float[12];
        float[] actual = new float[12];
        ScalarKernels.INSTANCE.matmul(expected, plain, x, 1, 0, 12);
        ScalarKernels.INSTANCE.matmul(actual, second, x, 1, 0, 12);
        assertArrayEquals(expected, actual);
        Matrix odd = TestMatrices.random(random, DType.Q4_0, 10, 32).interleaved();
        assertEquals(2, odd.rowSlice("tail", 8, 2).rows()); // the partial last group
        assertThrows(IllegalArgumentException.class, () -> v.rowSlice("split", 2, 4));
        assertThrows(IllegalArgumentException.class, () -> v.rowSlice("split", 0, 6));
        assertThrows(IllegalStateException.class, () -> v.rowOffset(1));
    }

    @Test
    void onlyQ8_0Q4_0Q4_KAndQ6_KInterleave() {
        Random random = new Random(3);
        for (DType type : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            Matrix w = TestMatrices.random(random, type, 4, 256);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, w::interleaved);
            assertEquals(true, e.getMessage().contains(type.toString()), e.getMessage());
        }
        MemorySegment data = MemorySegment.ofArray(new byte[4 * 34]);
        assertThrows(IllegalArgumentException.class, () -> new Matrix("w", data, DType.Q8_0, 4, 32, 3));
        assertEquals(0, data.get(ValueLayout.JAVA_BYTE, 0));
    }
}
