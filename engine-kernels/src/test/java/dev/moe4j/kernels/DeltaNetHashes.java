package dev.moe4j.kernels;

import dev.moe4j.kernels.simd.VectorKernels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * {@link KernelHashes} for the Gated DeltaNet kernels: prints {@code hash <provider> <kernel> <hash>} per result
 * (outputs and states) on seeded data, after computing everything {@code warmUps} times; run in child JVMs by
 * {@link DeltaNetDeterminismTest}. Sizes leave a vector body and a scalar tail at every width, and the chunked form
 * gets a four-token block and two tokens after it.
 */
public final class DeltaNetHashes {

    private static final int DK = 20;
    private static final int DV = 19;
    private static final int TOKENS = 6;
    private static final int CHANNELS = 19;
    private static final int KERNEL = 4;
    private static final int CONV_TOKENS = 3;
    /** Heads of {@link #DV} floats to normalise: enough sums that an order changed by the JIT shows in some. */
    private static final int NORM_HEADS = 32;

    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] g;
    private final float[] beta;
    private final float[] state;
    private final float[] x;
    private final float[] weight;
    private final float[] window;
    private final float[] z;
    private final float[] normHeads;
    private final float[] normWeight;

    private DeltaNetHashes(Random random) {
        q = new float[TOKENS * DK];
        k = new float[TOKENS * DK];
        for (int t = 0; t < TOKENS; t++) {
            GatedDeltaNetTest.unit(random, q, t * DK, DK);
            GatedDeltaNetTest.unit(random, k, t * DK, DK);
        }
        v = TestMatrices.floats(random, TOKENS * DV);
        g = new float[TOKENS];
        beta = new float[TOKENS];
        for (int t = 0; t < TOKENS; t++) {
            g[t] = -2 * random.nextFloat();
            beta[t] = random.nextFloat();
        }
        state = TestMatrices.floats(random, DK * DV);
        x = TestMatrices.floats(random, CONV_TOKENS * CHANNELS);
        weight = TestMatrices.floats(random, CHANNELS * KERNEL);
        window = TestMatrices.floats(random, (KERNEL - 1) * CHANNELS);
        z = TestMatrices.floats(random, NORM_HEADS * DV);
        normWeight = TestMatrices.floats(random, DV);
        normHeads = TestMatrices.floats(random, NORM_HEADS * DV);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 8;
        }
        for (int i = 0; i < z.length; i++) {
            z[i] *= 8;
        }
    }

    /** Every kernel's results by name, in a fixed order. */
    private Map<String, float[]> results(KernelProvider kernels) {
        Map<String, float[]> results = new LinkedHashMap<>();
        float scale = (float) (1 / Math.sqrt(DK));
        float[] stepped = state.clone();
        float[] stepOut = new float[DV];
        kernels.gatedDeltaStep(stepOut, 0, stepped, 0, q, 0, k, 0, v, 0, g[0], beta[0], DK, DV, scale);
        results.put("step", stepOut);
        results.put("step-state", stepped);
        float[] chunkState = state.clone();
        float[] chunkOut = new float[TOKENS * DV];
        kernels.gatedDeltaChunked(chunkOut, 0, DV, chunkState, 0, q, 0, DK, k, 0, DK, v, 0, DV, g, beta, 0, 1, TOKENS,
                DK, DV, scale);
        results.put("chunked", chunkOut);
        results.put("chunked-state", chunkState);
        float[] convOut = new float[x.length];
        float[] convWindow = window.clone();
        kernels.causalConv1dSilu(convOut, 0, CHANNELS, x, 0, CHANNELS, weight, convWindow, 0, CONV_TOKENS, CHANNELS,
                KERNEL);
        results.put("conv", convOut);
        results.put("conv-window", convWindow);
        float[] normalised = normHeads.clone();
        kernels.l2Normalize(normalised, 0, NORM_HEADS, DV, 1e-6f);
        results.put("l2Normalize", normalised);
        float[] gated = new float[NORM_HEADS * DV];
        kernels.gatedRmsNorm(gated, 0, normHeads, 0, z, 0, normWeight, NORM_HEADS, DV, 1e-6f);
        results.put("gatedRmsNorm", gated);
        return results;
    }

    /** FNV-1a over the raw bits. */
    private static long hash(float[] values) {
        long h = 0xcbf2_9ce4_8422_2325L;
        for (float value : values) {
            h = (h ^ Float.floatToRawIntBits(value)) * 0x100_0000_01b3L;
        }
        return h;
    }

    public static void main(String[] args) {
        int bits = Integer.parseInt(args[0]);
        int warmUps = Integer.parseInt(args[1]);
        List<KernelProvider> providers = List.of(ScalarKernels.INSTANCE, new VectorKernels(bits));
        DeltaNetHashes data = new DeltaNetHashes(new Random(20_260_101));
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
