package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.moe4j.kernels.parallel.Parallel;
import dev.moe4j.kernels.simd.VectorKernels;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link KernelProvider#attendGroup}: the query heads of a GQA group attended together (the vector provider shares
 * key and value loads between pairs of them) give each query exactly the bits {@code attend} gives it alone, at every
 * width, for odd group sizes, head sizes with scalar tails, and position counts around the four-position passes.
 * That {@code attend} itself is right is {@link TwinKernelsTest}'s business (independent double reference).
 */
class AttendGroupTest {

    @ParameterizedTest(name = "{0}-bit")
    @ValueSource(ints = {128, 256, 512})
    void eachQueryGetsTheBitsOfAttendAlone(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(5 + bits);
        for (int queries : new int[] {1, 2, 3, 8}) {
            for (int n : new int[] {1, 3, 31, 33, 128}) {
                for (int len : new int[] {1, 3, 4, 5, 17, 100}) {
                    int slots = len + 7;
                    float[] keys = gaussians(random, 2 * slots * n);
                    float[] values = gaussians(random, 2 * slots * n);
                    List<Integer> order = new ArrayList<>();
                    for (int i = 0; i < slots; i++) {
                        order.add(i);
                    }
                    Collections.shuffle(order, random);
                    int[] rows = new int[len];
                    for (int p = 0; p < len; p++) {
                        rows[p] = order.get(p) * n;
                    }
                    int headOff = slots * n; // the group reads kv head 1
                    float[] q = gaussians(random, 3 + queries * n);
                    float scale = (float) (1 / Math.sqrt(n));
                    float[] expected = new float[2 + queries * n];
                    for (int g = 0; g < queries; g++) {
                        vector.attend(expected, 2 + g * n, q, 3 + g * n, keys, values, rows, headOff, len, n, scale,
                                new float[len]);
                    }
                    float[] actual = new float[2 + queries * n];
                    vector.attendGroup(actual, 2, q, 3, queries, keys, values, rows, headOff, len, n, scale,
                            new float[queries * len]);
                    String what = queries + " queries, n " + n + ", len " + len;
                    assertArrayEquals(expected, actual, what);
                    float[] scalar = new float[2 + queries * n];
                    ScalarKernels.INSTANCE.attendGroup(scalar, 2, q, 3, queries, keys, values, rows, headOff, len, n,
                            scale, new float[queries * len]);
                    float[] scalarAlone = new float[2 + queries * n];
                    for (int g = 0; g < queries; g++) {
                        ScalarKernels.INSTANCE.attend(scalarAlone, 2 + g * n, q, 3 + g * n, keys, values, rows, headOff,
                                len, n, scale, new float[len]);
                    }
                    assertArrayEquals(scalarAlone, scalar, "scalar " + what);
                }
            }
        }
    }

    @Test
    void facadeChecksTheGroup() {
        Kernels kernels = new Kernels(new VectorKernels(0), new Parallel(2));
        float[] keys = new float[4 * 8];
        int[] rows = {0, 8, 16};
        assertThrows(IndexOutOfBoundsException.class, () -> kernels.attendGroup(new float[16], 0, new float[16], 0, 2,
                keys, keys, rows, 0, 3, 8, 1f, new float[5])); // scores: 2 queries x 3 positions
        assertThrows(IndexOutOfBoundsException.class, () -> kernels.attendGroup(new float[15], 0, new float[16], 0, 2,
                keys, keys, rows, 0, 3, 8, 1f, new float[6]));
        assertThrows(IndexOutOfBoundsException.class, () -> kernels.attendGroup(new float[16], 0, new float[16], 0, 2,
                keys, keys, rows, 16, 3, 8, 1f, new float[6])); // position 2's key past the cache
        assertThrows(IllegalArgumentException.class, () -> kernels.attendGroup(new float[16], 0, new float[16], 0, 0,
                keys, keys, rows, 0, 3, 8, 1f, new float[6]));
    }

    private static float[] gaussians(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }
}
