package dev.moe4j.kernels;

import static dev.moe4j.kernels.TestMatrices.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.moe4j.kernels.simd.VectorKernels;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batch invariance of {@link KernelProvider#matmul}: a token's products are, bit for bit, those it gets alone
 * (nTokens = 1), whichever tokens share the call and however the rows are split (the facade splits them across
 * threads). The engine batches different sequences into one forward pass and promises each the output it would get
 * alone, and a prompt evaluated in one pass the output of evaluating it token by token.
 */
class BatchInvarianceTest {

    private static final int ROWS = 13;
    private static final int[] TOKENS = {2, 3, 5, 8, 17};

    static Stream<Arguments> providersAndTypes() {
        return Stream.of("scalar", "128", "256", "512")
                .flatMap(provider -> Arrays.stream(DType.values()).map(type -> Arguments.of(provider, type)));
    }

    private static KernelProvider provider(String name) {
        return name.equals("scalar") ? ScalarKernels.INSTANCE : new VectorKernels(Integer.parseInt(name));
    }

    /** Whole vectors and, for the float types, an odd count that leaves a scalar tail at every width. */
    private static int[] colsFor(DType type) {
        return switch (type.blockSize()) {
            case 1 -> new int[] {96, 67, 1029};
            case 32 -> new int[] {32, 160};
            default -> new int[] {256, 512};
        };
    }

    @ParameterizedTest(name = "{1}, {0}")
    @MethodSource("providersAndTypes")
    void eachTokenGetsWhatItGetsAlone(String providerName, DType type) {
        KernelProvider kernels = provider(providerName);
        Random random = new Random(31L * type.ordinal() + providerName.hashCode());
        for (int cols : colsFor(type)) {
            Matrix w = TestMatrices.random(random, type, ROWS, cols);
            for (int nTokens : TOKENS) {
                float[] x = floats(random, nTokens * cols);
                float[] batched = new float[nTokens * ROWS];
                kernels.matmul(batched, w, x, nTokens, 0, ROWS);
                for (int t = 0; t < nTokens; t++) {
                    float[] alone = new float[ROWS];
                    kernels.matmul(alone, w, Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, 0, ROWS);
                    assertSameBits(alone, Arrays.copyOfRange(batched, t * ROWS, (t + 1) * ROWS),
                            w.name() + " token " + t + " of " + nTokens);
                }
            }
        }
    }

    @ParameterizedTest(name = "{1}, {0}")
    @MethodSource("providersAndTypes")
    void splittingTheRowsChangesNothing(String providerName, DType type) {
        KernelProvider kernels = provider(providerName);
        Random random = new Random(37L * type.ordinal() + providerName.hashCode());
        for (int cols : colsFor(type)) {
            Matrix w = TestMatrices.random(random, type, ROWS, cols);
            for (int nTokens : new int[] {1, 3, 8}) {
                float[] x = floats(random, nTokens * cols);
                float[] whole = new float[nTokens * ROWS];
                kernels.matmul(whole, w, x, nTokens, 0, ROWS);
                for (int trial = 0; trial < 4; trial++) {
                    float[] pieces = new float[nTokens * ROWS];
                    int[] bounds = randomSplit(random);
                    for (int i = 0; i + 1 < bounds.length; i++) {
                        kernels.matmul(pieces, w, x, nTokens, bounds[i], bounds[i + 1]);
                    }
                    assertSameBits(whole, pieces, w.name() + " tokens=" + nTokens + " split " + Arrays.toString(bounds));
                }
            }
        }
    }

    /** 0 = b0 < b1 < ... < bk = ROWS, with pieces of 1 to 6 rows. */
    private static int[] randomSplit(Random random) {
        int[] bounds = new int[ROWS + 1];
        int count = 1;
        for (int at = 0; at < ROWS; ) {
            at = Math.min(ROWS, at + 1 + random.nextInt(6));
            bounds[count++] = at;
        }
        return Arrays.copyOf(bounds, count);
    }

    private static void assertSameBits(float[] expected, float[] actual, String what) {
        assertArrayEquals(rawBits(expected), rawBits(actual), what);
    }

    private static int[] rawBits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}
