package dev.moe4j.kernels;

import dev.moe4j.kernels.simd.VectorKernels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Prints one line {@code hash <provider> <kernel> <hash>} per kernel result, hashing the raw bits of a fixed set of
 * results on seeded data; run in child JVMs (interpreter, C1, C2) by {@link DeterminismTest}, which expects the
 * same lines from each. Arguments: the vector width in bits, and how many times to compute everything first, so
 * that the JIT compiles the kernels. Sizes are small: the interpreter runs the Vector API's Java fallback slowly.
 */
public final class KernelHashes {

    /** Float types: 67 columns leave a scalar tail at every width. Block types: whole blocks. */
    private static final int FLOAT_COLS = 67;
    /** Interleaved 16-lane mat-vecs: two streams over rows 0-7, then rows 8-12 four at a time. */
    private static final int ROWS = 21; // five whole groups of four and a row: the many-stream mat-vecs, then one
    private static final int TOKENS = 4;
    private static final int N = 67;
    private static final int HEADS = 2;
    private static final int HEAD_DIM = 36;

    private final Map<DType, Matrix> weights = new LinkedHashMap<>();
    private final Map<DType, float[]> inputs = new LinkedHashMap<>(); // [TOKENS][cols]
    private final float[] a;
    private final float[] b;
    private final float[] logits;
    private final float[] gate;
    private final float[] heads; // [HEADS][HEAD_DIM]
    /** Offsets of the cached positions' rows in {@link #keys} and {@link #values}: 7 positions, out of order. */
    private static final int[] POSITIONS_ROWS = {0, 2 * N, N, 4 * N, 3 * N, 6 * N, 5 * N};
    private static final int[] QUERY_LENS = {7, 7, 6, 7, 3};
    private final float[] queries; // [QUERY_LENS.length][N]
    private final float[] keys; // [7][N]
    private final float[] values;
    private final float[] cos;
    private final float[] sin;

    private KernelHashes(Random random) {
        for (DType type : DType.values()) {
            int cols = type.isQuantized() ? type.blockSize() * 2 : FLOAT_COLS;
            weights.put(type, TestMatrices.random(random, type, ROWS, cols));
            inputs.put(type, TestMatrices.floats(random, TOKENS * cols));
        }
        a = TestMatrices.floats(random, N);
        b = TestMatrices.floats(random, N);
        logits = TestMatrices.floats(random, N);
        gate = TestMatrices.floats(random, N);
        for (int i = 0; i < N; i++) {
            logits[i] *= 20;
            gate[i] *= 10;
        }
        heads = TestMatrices.floats(random, HEADS * HEAD_DIM);
        keys = TestMatrices.floats(random, POSITIONS_ROWS.length * N);
        values = TestMatrices.floats(random, POSITIONS_ROWS.length * N);
        queries = TestMatrices.floats(random, QUERY_LENS.length * N);
        cos = TestMatrices.floats(random, HEAD_DIM / 2);
        sin = TestMatrices.floats(random, HEAD_DIM / 2);
    }

    /** Every kernel's result by name, in a fixed order. */
    private Map<String, float[]> results(KernelProvider kernels) {
        Map<String, float[]> results = new LinkedHashMap<>();
        for (DType type : DType.values()) {
            Matrix w = weights.get(type);
            float[] x = inputs.get(type);
            for (int nTokens : new int[] {1, TOKENS}) {
                float[] out = new float[nTokens * ROWS];
                kernels.matmul(out, w, x, nTokens, 0, ROWS);
                results.put("matmul-" + type + "-tokens-" + nTokens, out);
            }
        }
        for (DType type : DType.values()) {
            if (Matrix.interleavable(type)) {
                // the decode layout: 16-lane mat-vecs read it (and, for Q8_0 / Q4_0, its widened scales)
                float[] out = new float[ROWS];
                kernels.matmul(out, weights.get(type).interleaved(), inputs.get(type), 1, 0, ROWS);
                results.put("matvec-interleaved-" + type, out);
            }
        }
        results.put("dot", new float[] {kernels.dot(a, 0, b, 0, N)});
        float[] attended = new float[N];
        kernels.attend(attended, 0, a, 0, keys, values, POSITIONS_ROWS, 0, POSITIONS_ROWS.length, N, 0.125f,
                new float[POSITIONS_ROWS.length]);
        results.put("attend", attended);
        // five queries: one group of four (a tile of six positions, then each alone) and one left over
        float[] together = new float[QUERY_LENS.length * N];
        int[] offsets = new int[QUERY_LENS.length];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = i * N;
        }
        kernels.attend(together, offsets, queries, offsets, QUERY_LENS, QUERY_LENS.length, keys, values,
                POSITIONS_ROWS, 0, N, 0.125f, new float[4 * POSITIONS_ROWS.length]);
        results.put("attend-queries", together);
        // the same five queries in column order: one group of six (the last query repeated), a remainder each
        float[] columnOrder = new float[QUERY_LENS.length * N];
        kernels.attendInColumnOrder(columnOrder, offsets, queries, offsets, QUERY_LENS, QUERY_LENS.length, keys,
                values, POSITIONS_ROWS, 0, N, 0.125f, new float[POSITIONS_ROWS.length]);
        results.put("attend-column-order", columnOrder);
        float[] normed = new float[N];
        kernels.rmsNorm(normed, 0, a, 0, b, N, 1e-6f);
        results.put("rmsNorm", normed);
        float[] probabilities = logits.clone();
        kernels.softmax(probabilities, 0, N);
        results.put("softmax", probabilities);
        float[] activated = gate.clone();
        kernels.siluMul(activated, 0, b, 0, N);
        results.put("siluMul", activated);
        float[] rotated = heads.clone();
        kernels.rope(rotated, 0, HEADS, HEAD_DIM, cos, sin);
        results.put("rope", rotated);
        return results;
    }

    /** FNV-1a over the raw bits. */
    private static long hash(float[] values) {
        long h = 0xcbf2_9ce4_8422_2325L;
        for (float v : values) {
            h = (h ^ Float.floatToRawIntBits(v)) * 0x100_0000_01b3L;
        }
        return h;
    }

    public static void main(String[] args) {
        int bits = Integer.parseInt(args[0]);
        int warmUps = Integer.parseInt(args[1]);
        List<KernelProvider> providers = List.of(ScalarKernels.INSTANCE, new VectorKernels(bits));
        KernelHashes data = new KernelHashes(new Random(20_250_101));
        for (int i = 0; i < warmUps; i++) {
            for (KernelProvider kernels : providers) {
                data.results(kernels);
            }
        }
        List<String> lines = new ArrayList<>();
        for (KernelProvider kernels : providers) {
            data.results(kernels).forEach((name, values) ->
                    lines.add(String.format("hash %s %s %016x", kernels.name(), name, hash(values))));
        }
        lines.forEach(System.out::println);
    }
}
