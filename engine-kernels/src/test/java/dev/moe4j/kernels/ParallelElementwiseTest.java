package dev.moe4j.kernels;

import static dev.moe4j.kernels.TestMatrices.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.moe4j.kernels.parallel.Parallel;
import dev.moe4j.kernels.simd.VectorKernels;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The facade splits large element-wise calls and row norms across the pool: every element must come out with the
 * bits one call of the provider gives, whatever the split (the split points are multiples of every vector length,
 * and the scalar tail stays the tail), at every width.
 */
class ParallelElementwiseTest {

    /** Below, at and above the split threshold (2^16), with tails that are not a multiple of any vector length. */
    private static final int[] SIZES = {65_535, 65_536, 65_536 + 4096 + 7, 200_003};

    @ParameterizedTest(name = "{0}-bit")
    @ValueSource(ints = {128, 256, 512})
    void siluMulAndAxpyGiveTheBitsOfOneCall(int bits) {
        Kernels kernels = new Kernels(new VectorKernels(bits), new Parallel(2));
        Random random = new Random(bits);
        for (int n : SIZES) {
            for (int offset : new int[] {0, 5}) {
                float[] gate = floats(random, n + offset);
                float[] up = floats(random, n + offset);
                for (int i = 0; i < gate.length; i++) {
                    gate[i] *= 12; // both sides of the SiLU's range
                }
                float[] expected = gate.clone();
                kernels.provider().siluMul(expected, offset, up, offset, n);
                float[] actual = gate.clone();
                kernels.siluMul(actual, offset, up, offset, n);
                assertArrayEquals(expected, actual, "siluMul n " + n + " offset " + offset);

                float[] y = floats(random, n + offset);
                expected = y.clone();
                kernels.provider().axpy(expected, offset, 0.37f, up, offset, n);
                actual = y.clone();
                kernels.axpy(actual, offset, 0.37f, up, offset, n);
                assertArrayEquals(expected, actual, "axpy n " + n + " offset " + offset);
            }
        }
    }

    @ParameterizedTest(name = "{0}-bit")
    @ValueSource(ints = {128, 256, 512})
    void rmsNormRowsGivesTheBitsOfOneCallPerRow(int bits) {
        Kernels kernels = new Kernels(new VectorKernels(bits), new Parallel(2));
        Random random = new Random(31 + bits);
        for (int dim : new int[] {67, 1024}) {
            for (int rows : new int[] {1, 3, 64, 513}) {
                float[] x = floats(random, 3 + rows * dim);
                float[] weight = floats(random, dim);
                float[] expected = new float[2 + rows * dim];
                for (int t = 0; t < rows; t++) {
                    kernels.provider().rmsNorm(expected, 2 + t * dim, x, 3 + t * dim, weight, dim, 1e-6f);
                }
                float[] actual = new float[2 + rows * dim];
                kernels.rmsNormRows(actual, 2, x, 3, weight, rows, dim, 1e-6f);
                assertArrayEquals(expected, actual, rows + " rows of " + dim);
            }
        }
    }

    @ParameterizedTest(name = "{0} floats short")
    @ValueSource(ints = {1, 100})
    void rmsNormRowsChecksItsArrays(int missing) {
        Kernels kernels = new Kernels(new VectorKernels(0), new Parallel(2));
        float[] weight = new float[64];
        assertThrows(IndexOutOfBoundsException.class,
                () -> kernels.rmsNormRows(new float[4 * 64 - missing], 0, new float[4 * 64], 0, weight, 4, 64, 1e-6f));
        assertThrows(IndexOutOfBoundsException.class,
                () -> kernels.rmsNormRows(new float[4 * 64], 0, new float[4 * 64 - missing], 0, weight, 4, 64, 1e-6f));
    }
}
