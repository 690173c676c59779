package dev.moe4j.kernels;

import static dev.moe4j.kernels.TestMatrices.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.kernels.parallel.Parallel;
import dev.moe4j.kernels.simd.VectorKernels;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Kernels#matmulAll}: each product as the provider computes it alone, whatever the split; bad shapes named. */
class MatmulAllTest {

    private static final Kernels TWO_THREADS = new Kernels(new VectorKernels(0), new Parallel(2));

    @Test
    void eachProductEqualsItsOwnMatmul() {
        Random random = new Random(21);
        DType[] types = {DType.Q8_0, DType.Q4_0, DType.F32, DType.Q6_K};
        int[][] shapes = {{1030, 256}, {7, 512}, {5, 256}, {64, 256}}; // rows, cols: partial groups included
        for (int nTokens : new int[] {1, 3, 9}) {
            Kernels.Product[] products = new Kernels.Product[types.length];
            float[][] expected = new float[types.length][];
            for (int i = 0; i < types.length; i++) {
                Matrix w = TestMatrices.random(random, types[i], shapes[i][0], shapes[i][1]);
                if (types[i] == DType.Q8_0 || types[i] == DType.Q4_0) {
                    w = w.interleaved();
                }
                float[] x = floats(random, nTokens * w.cols());
                expected[i] = new float[nTokens * w.rows()];
                TWO_THREADS.provider().matmul(expected[i], w, x, nTokens, 0, w.rows());
                products[i] = new Kernels.Product(new float[nTokens * w.rows()], w, x, nTokens);
            }
            TWO_THREADS.matmulAll(products);
            for (int i = 0; i < types.length; i++) {
                assertArrayEquals(expected[i], products[i].out(), types[i] + " tokens " + nTokens);
            }
        }
    }

    @Test
    void aLongDecodeRegionIsClaimedInPiecesWithTheSameResults() {
        // 16 one-token products of 16.8 M multiply-adds in all: a region long enough to be claimed in pieces
        Random random = new Random(8);
        for (int threads : new int[] {2, 3}) {
            Kernels kernels = new Kernels(new VectorKernels(0), new Parallel(threads));
            Kernels.Product[] products = new Kernels.Product[16];
            float[][] expected = new float[products.length][];
            for (int i = 0; i < products.length; i++) {
                DType type = i % 2 == 0 ? DType.Q4_0 : DType.Q8_0;
                Matrix w = TestMatrices.random(random, type, 514 + i, 2048).interleaved();
                float[] x = floats(random, w.cols());
                expected[i] = new float[w.rows()];
                kernels.provider().matmul(expected[i], w, x, 1, 0, w.rows());
                products[i] = new Kernels.Product(new float[w.rows()], w, x, 1);
            }
            kernels.matmulAll(products);
            for (int i = 0; i < products.length; i++) {
                assertArrayEquals(expected[i], products[i].out(), "product " + i + ", threads " + threads);
            }
        }
    }

    @Test
    void rejectsBadShapesByName() {
        Random random = new Random(5);
        Matrix w = TestMatrices.random(random, DType.Q8_0, 8, 64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TWO_THREADS.matmulAll(
                new Kernels.Product(new float[8], w, new float[64], 1),
                new Kernels.Product(new float[7], w, new float[64], 1)));
        assertTrue(e.getMessage().contains("out") && e.getMessage().contains(w.name()), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> TWO_THREADS.matmulAll(new Kernels.Product(new float[8], w, new float[64], 0)));
        assertThrows(NullPointerException.class, () -> new Kernels.Product(null, w, new float[64], 1));
        TWO_THREADS.matmulAll(); // nothing to do
    }
}
