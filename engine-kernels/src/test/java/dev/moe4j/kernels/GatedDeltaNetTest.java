package dev.moe4j.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.kernels.parallel.Parallel;
import dev.moe4j.kernels.simd.VectorKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Gated DeltaNet kernels: the recurrent and the chunked delta rule, the causal convolution with its window, and
 * the per-head normalisations, for the specification ({@link GatedDeltaNet}, the scalar provider) and the vector
 * kernels at each forced register width, against each other, against double-precision references written here,
 * and against themselves under splits of a prompt.
 */
class GatedDeltaNetTest {

    static final int[] HEAD_SIZES = {1, 3, 16, 17, 64, 128};
    static final int[] TOKENS = {1, 5, 63, 64, 65, 100, 130};

    /*
     * The delta rule against its exact value, in units of 2^-24·M with M the largest |S[i][j]| of the exact run
     * (outputs are scale·Sᵀq with |q| = 1 and scale = 1/sqrt(dk), so they are at most M as well). Each token's
     * update is non-expansive (decay ≤ 1, and I − beta·k·kᵀ has norm ≤ 1 for |k| = 1, 0 < beta < 1), so earlier
     * roundings are not amplified and the error stays a few roundings of M whatever the length: the grids below
     * measure at most 12 units for either form and for their difference; 32 leaves margin while one wrong or
     * missing term of a 64-token sum (about M/64, 2.6e5 units) is far above it.
     */
    static final double DELTA_RULE_UNITS = 32;

    /* SiLU's exponential: Exp within 2 ulp of Math.exp, then an add and a divide, as TwinKernelsTest.siluMul. */
    static final double SILU_TOLERANCE = 1e-6;

    /* Normalisations by a sum of squares of up to 128 terms summed in different orders, as TwinKernelsTest. */
    static final double NORMALISED_TOLERANCE = TwinKernelsTest.NORMALISED_TOLERANCE;

    private static final KernelProvider SCALAR = ScalarKernels.INSTANCE;

    /** How the per-token log-decays are drawn. */
    enum Decay {
        /** log-uniform in [-4.5, -0.007]: the spread of a trained model's heads. */
        MIXED,
        /** in [-0.02, 0]: the state remembers the whole prompt and the chunk's decays stay near 1. */
        WEAK,
        /** exactly 0: no forgetting at all. */
        NONE
    }

    /**
     * One value head's inputs for T tokens, laid out as the layer holds them: q, k and v in one row per token with
     * other heads' columns around them, the gates strided, outputs strided, the state at an offset.
     */
    static final class Head {
        final int tokens;
        final int dk;
        final int dv;
        final float scale;
        final int rowStride;
        final int qOff = 2;
        final int kOff;
        final int vOff;
        final float[] qkv;
        final int gateOff = 1;
        final int gateStride = 3;
        final float[] g;
        final float[] beta;
        final int outOff = 1;
        final int outStride;
        final int stateOff = 3;
        final float[] initialState;

        Head(Random random, int tokens, int dk, int dv, Decay decay, boolean zeroState) {
            this.tokens = tokens;
            this.dk = dk;
            this.dv = dv;
            this.scale = (float) (1 / Math.sqrt(dk));
            this.rowStride = 2 * dk + dv + 3;
            this.kOff = qOff + dk;
            this.vOff = kOff + dk;
            this.outStride = dv + 2;
            qkv = new float[tokens * rowStride];
            g = new float[tokens * gateStride + 1];
            beta = new float[tokens * gateStride + 1];
            for (int t = 0; t < tokens; t++) {
                unit(random, qkv, t * rowStride + qOff, dk);
                unit(random, qkv, t * rowStride + kOff, dk);
                for (int j = 0; j < dv; j++) {
                    qkv[t * rowStride + vOff + j] = (float) random.nextGaussian();
                }
                int gate = gateOff + t * gateStride;
                g[gate] = switch (decay) {
                    case MIXED -> (float) -Math.exp(random.nextDouble() * 6.5 - 5);
                    case WEAK -> (float) (-0.02 * random.nextDouble());
                    case NONE -> 0f;
                };
                beta[gate] = (float) (1 / (1 + Math.exp(-2 * random.nextGaussian())));
            }
            initialState = new float[stateOff + dk * dv + 2];
            if (!zeroState) {
                for (int i = 0; i < dk * dv; i++) {
                    initialState[stateOff + i] = (float) random.nextGaussian();
                }
            }
        }

        float[] newOut() {
            return new float[outOff + tokens * outStride];
        }

        /** Tokens [from, to) in one call of the chunked form. */
        void chunked(KernelProvider provider, float[] out, float[] state, int from, int to) {
            provider.gatedDeltaChunked(out, outOff + from * outStride, outStride, state, stateOff, qkv,
                    qOff + from * rowStride, rowStride, qkv, kOff + from * rowStride, rowStride, qkv,
                    vOff + from * rowStride, rowStride, g, beta, gateOff + from * gateStride, gateStride, to - from,
                    dk, dv, scale);
        }

        /** Tokens [from, to) one step at a time. */
        void steps(KernelProvider provider, float[] out, float[] state, int from, int to) {
            for (int t = from; t < to; t++) {
                int gate = gateOff + t * gateStride;
                provider.gatedDeltaStep(out, outOff + t * outStride, state, stateOff, qkv, qOff + t * rowStride, qkv,
                        kOff + t * rowStride, qkv, vOff + t * rowStride, g[gate], beta[gate], dk, dv, scale);
            }
        }

        /** The recurrence in double: [tokens][dv] outputs, then the final state, then M (the largest |S[i][j]|). */
        double[] reference() {
            double[] s = new double[dk * dv];
            double magnitude = 0;
            for (int i = 0; i < s.length; i++) {
                s[i] = initialState[stateOff + i];
                magnitude = Math.max(magnitude, Math.abs(s[i]));
            }
            double[] result = new double[tokens * dv + dk * dv + 1];
            for (int t = 0; t < tokens; t++) {
                int row = t * rowStride;
                double decay = Math.exp(g[gateOff + t * gateStride]);
                double b = beta[gateOff + t * gateStride];
                for (int i = 0; i < s.length; i++) {
                    s[i] *= decay;
                }
                for (int j = 0; j < dv; j++) {
                    double kv = 0;
                    for (int i = 0; i < dk; i++) {
                        kv += s[i * dv + j] * qkv[row + kOff + i];
                    }
                    double delta = b * (qkv[row + vOff + j] - kv);
                    double o = 0;
                    for (int i = 0; i < dk; i++) {
                        s[i * dv + j] += qkv[row + kOff + i] * delta;
                        magnitude = Math.max(magnitude, Math.abs(s[i * dv + j]));
                        o += s[i * dv + j] * qkv[row + qOff + i];
                    }
                    result[t * dv + j] = o / Math.sqrt(dk);
                }
            }
            System.arraycopy(s, 0, result, tokens * dv, s.length);
            result[result.length - 1] = magnitude;
            return result;
        }

        String describe() {
            return "dk=" + dk + " dv=" + dv + " T=" + tokens;
        }
    }

    /** n floats at x[off] of a random direction, normalised in double. */
    static void unit(Random random, float[] x, int off, int n) {
        double[] d = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            d[i] = random.nextGaussian();
            sum += d[i] * d[i];
        }
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) (d[i] / Math.sqrt(sum));
        }
    }

    /** Outputs and final state of a run against the double reference, in units of 2^-24·M; returns the worst. */
    static double assertNearReference(Head head, double[] reference, float[] out, float[] state, double units,
            String what) {
        double magnitude = reference[reference.length - 1];
        double unit = 0x1p-24 * magnitude;
        double worst = 0;
        for (int t = 0; t < head.tokens; t++) {
            for (int j = 0; j < head.dv; j++) {
                double error = Math.abs(out[head.outOff + t * head.outStride + j] - reference[t * head.dv + j]) / unit;
                worst = Math.max(worst, error);
                if (!(error <= units)) {
                    assertEquals(reference[t * head.dv + j], out[head.outOff + t * head.outStride + j], units * unit,
                            what + " " + head.describe() + " output t=" + t + " j=" + j);
                }
            }
        }
        for (int i = 0; i < head.dk * head.dv; i++) {
            double error = Math.abs(state[head.stateOff + i] - reference[head.tokens * head.dv + i]) / unit;
            worst = Math.max(worst, error);
            if (!(error <= units)) {
                assertEquals(reference[head.tokens * head.dv + i], state[head.stateOff + i], units * unit,
                        what + " " + head.describe() + " state " + i);
            }
        }
        return worst;
    }

    /** Two runs' outputs and states within {@code units} of 2^-24·M of each other. */
    static double assertClose(Head head, double magnitude, float[] expectedOut, float[] expectedState,
            float[] actualOut, float[] actualState, double units, String what) {
        double unit = 0x1p-24 * magnitude;
        double worst = 0;
        for (int i = 0; i < expectedOut.length; i++) {
            double error = Math.abs(expectedOut[i] - actualOut[i]) / unit;
            worst = Math.max(worst, error);
            if (!(error <= units)) {
                assertEquals(expectedOut[i], actualOut[i], units * unit, what + " " + head.describe() + " out " + i);
            }
        }
        for (int i = 0; i < expectedState.length; i++) {
            double error = Math.abs(expectedState[i] - actualState[i]) / unit;
            worst = Math.max(worst, error);
            if (!(error <= units)) {
                assertEquals(expectedState[i], actualState[i], units * unit,
                        what + " " + head.describe() + " state " + i);
            }
        }
        return worst;
    }

    /** Nothing outside a head's outputs was written. */
    static void assertOnlyOutputs(Head head, float[] out, String what) {
        for (int i = 0; i < out.length; i++) {
            int at = i - head.outOff;
            boolean output = at >= 0 && at % head.outStride < head.dv;
            if (!output) {
                assertEquals(0f, out[i], what + " writes only its outputs, index " + i);
            }
        }
    }

    /** Each token's step: the vector kernel gives the specification's bits, outputs and state. */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void stepTwins(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(10 + bits);
        for (int dk : HEAD_SIZES) {
            for (int dv : HEAD_SIZES) {
                Head head = new Head(random, 5, dk, dv, Decay.MIXED, false);
                float[] expectedOut = head.newOut();
                float[] expectedState = head.initialState.clone();
                head.steps(SCALAR, expectedOut, expectedState, 0, head.tokens);
                float[] out = head.newOut();
                float[] state = head.initialState.clone();
                head.steps(vector, out, state, 0, head.tokens);
                // the same fma chain per state column in both
                assertArrayEquals(expectedOut, out, bits + " bits " + head.describe());
                assertArrayEquals(expectedState, state, bits + " bits state " + head.describe());
                assertOnlyOutputs(head, out, vector.name());
            }
        }
    }

    /** The chunked form: the vector kernel gives the specification's bits for every size and length. */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void chunkedTwins(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(20 + bits);
        for (int dk : HEAD_SIZES) {
            for (int dv : HEAD_SIZES) {
                for (int tokens : TOKENS) {
                    Head head = new Head(random, tokens, dk, dv, Decay.MIXED, false);
                    float[] expectedOut = head.newOut();
                    float[] expectedState = head.initialState.clone();
                    head.chunked(SCALAR, expectedOut, expectedState, 0, tokens);
                    float[] out = head.newOut();
                    float[] state = head.initialState.clone();
                    head.chunked(vector, out, state, 0, tokens);
                    // each sum keeps the specification's fma order per lane
                    assertArrayEquals(expectedOut, out, bits + " bits " + head.describe());
                    assertArrayEquals(expectedState, state, bits + " bits state " + head.describe());
                    assertOnlyOutputs(head, out, vector.name());
                }
            }
        }
    }

    /**
     * Both forms of every provider against the recurrence in double, from a zero and a random state, for each kind
     * of decay; and the chunked form against the recurrent one token by token.
     */
    @Test
    void bothFormsMatchTheDoubleReferenceAndEachOther() {
        Random random = new Random(30);
        double worst = 0;
        for (KernelProvider provider : providers()) {
            for (Decay decay : Decay.values()) {
                for (int dk : HEAD_SIZES) {
                    for (int dv : new int[] {1, 17, 64}) {
                        for (int tokens : new int[] {1, 63, 65, 130}) {
                            for (boolean zeroState : new boolean[] {true, false}) {
                                Head head = new Head(random, tokens, dk, dv, decay, zeroState);
                                double[] reference = head.reference();
                                float[] recurrentOut = head.newOut();
                                float[] recurrentState = head.initialState.clone();
                                head.steps(provider, recurrentOut, recurrentState, 0, tokens);
                                float[] chunkedOut = head.newOut();
                                float[] chunkedState = head.initialState.clone();
                                head.chunked(provider, chunkedOut, chunkedState, 0, tokens);
                                String what = provider.name() + " " + decay + (zeroState ? " zero state" : "");
                                worst = Math.max(worst, assertNearReference(head, reference, recurrentOut,
                                        recurrentState, DELTA_RULE_UNITS, "recurrent " + what));
                                worst = Math.max(worst, assertNearReference(head, reference, chunkedOut,
                                        chunkedState, DELTA_RULE_UNITS, "chunked " + what));
                                worst = Math.max(worst, assertClose(head, reference[reference.length - 1],
                                        recurrentOut, recurrentState, chunkedOut, chunkedState, DELTA_RULE_UNITS,
                                        "chunked vs recurrent " + what));
                            }
                        }
                    }
                }
            }
        }
        assertTrue(worst > 0, "the forms round differently, so some difference shows");
    }

    /**
     * A prompt read in pieces continues the state: the pieces 37 + 64 + 29 (chunks then straddle the pieces), random
     * splits, and decode steps after a chunked prompt all stay within the delta rule's tolerance of the recurrence.
     * Pieces whose boundaries fall on the 64-token chunks of the whole prompt give the one-call bits.
     */
    @Test
    void promptInPiecesContinuesTheState() {
        Random random = new Random(40);
        for (KernelProvider provider : providers()) {
            for (int[] dims : new int[][] {{16, 16}, {17, 3}, {128, 128}, {64, 17}}) {
                int dk = dims[0];
                int dv = dims[1];
                Head head = new Head(random, 130, dk, dv, Decay.WEAK, false);
                double[] reference = head.reference();
                double magnitude = reference[reference.length - 1];
                float[] recurrentOut = head.newOut();
                float[] recurrentState = head.initialState.clone();
                head.steps(provider, recurrentOut, recurrentState, 0, head.tokens);
                float[] wholeOut = head.newOut();
                float[] wholeState = head.initialState.clone();
                head.chunked(provider, wholeOut, wholeState, 0, head.tokens);

                List<int[]> splits = new ArrayList<>();
                splits.add(new int[] {37, 64, 29});
                splits.add(new int[] {1, 1, 128});
                for (int n = 0; n < 4; n++) {
                    splits.add(randomSplit(random, head.tokens));
                }
                for (int[] split : splits) {
                    float[] out = head.newOut();
                    float[] state = head.initialState.clone();
                    int from = 0;
                    for (int length : split) {
                        head.chunked(provider, out, state, from, from + length);
                        from += length;
                    }
                    String what = provider.name() + " split " + Arrays.toString(split);
                    assertNearReference(head, reference, out, state, DELTA_RULE_UNITS, what);
                    assertClose(head, magnitude, recurrentOut, recurrentState, out, state, DELTA_RULE_UNITS,
                            what + " vs recurrent");
                }

                // chunk-aligned pieces: 64 + 64 + 2 computes exactly what one call does
                float[] out = head.newOut();
                float[] state = head.initialState.clone();
                head.chunked(provider, out, state, 0, 64);
                head.chunked(provider, out, state, 64, 128);
                head.chunked(provider, out, state, 128, 130);
                assertArrayEquals(wholeOut, out, provider.name() + " aligned pieces " + head.describe());
                assertArrayEquals(wholeState, state, provider.name() + " aligned pieces " + head.describe());

                // decode after a prompt: 100 tokens chunked, then 30 steps
                out = head.newOut();
                state = head.initialState.clone();
                head.chunked(provider, out, state, 0, 100);
                head.steps(provider, out, state, 100, 130);
                assertNearReference(head, reference, out, state, DELTA_RULE_UNITS, provider.name() + " prompt+decode");
            }
        }
    }

    /** Positive lengths adding up to n. */
    static int[] randomSplit(Random random, int n) {
        List<Integer> lengths = new ArrayList<>();
        int left = n;
        while (left > 0) {
            int length = Math.min(left, 1 + random.nextInt(90));
            lengths.add(length);
            left -= length;
        }
        return lengths.stream().mapToInt(Integer::intValue).toArray();
    }

    static KernelProvider[] providers() {
        return new KernelProvider[] {SCALAR, new VectorKernels(128), new VectorKernels(256), new VectorKernels(512)};
    }

    /** Conv inputs of {@code channels} channels for T tokens in rows of a wider array; weights [channels][K]. */
    record Conv(int tokens, int channels, int kernel, int xOff, int xStride, float[] x, float[] weight) {
        static Conv random(Random random, int tokens, int channels, int kernel) {
            int xStride = channels + 5;
            float[] x = new float[tokens * xStride + 4];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (3 * random.nextGaussian());
            }
            float[] weight = new float[channels * kernel];
            for (int i = 0; i < weight.length; i++) {
                weight[i] = (float) random.nextGaussian();
            }
            return new Conv(tokens, channels, kernel, 4, xStride, x, weight);
        }

        /** Tokens [from, to): outputs into out (same layout as x), window carried in state. */
        void run(KernelProvider provider, float[] out, float[] state, int from, int to) {
            provider.causalConv1dSilu(out, xOff + from * xStride, xStride, x, xOff + from * xStride, xStride, weight,
                    state, 2, to - from, channels, kernel);
        }

        float[] newState() {
            return new float[2 + Math.max(0, kernel - 1) * channels + 3];
        }
    }

    static final int[] CHANNELS = {1, 3, 16, 17, 64, 128, 131};
    static final int[] KERNELS = {1, 2, 4};

    /**
     * The vector convolution against the specification: the sums are the same fma chains and the windows equal bit
     * for bit; SiLU's exponential differs by an ulp or two.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void convTwins(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(50 + bits);
        for (int channels : CHANNELS) {
            for (int kernel : KERNELS) {
                for (int tokens : TOKENS) {
                    Conv conv = Conv.random(random, tokens, channels, kernel);
                    float[] initial = conv.newState();
                    for (int i = 2; i < initial.length - 3; i++) {
                        initial[i] = (float) random.nextGaussian();
                    }
                    float[] expected = new float[conv.x().length];
                    float[] expectedState = initial.clone();
                    conv.run(SCALAR, expected, expectedState, 0, tokens);
                    float[] actual = new float[conv.x().length];
                    float[] state = initial.clone();
                    conv.run(vector, actual, state, 0, tokens);
                    String what = bits + " bits channels=" + channels + " K=" + kernel + " T=" + tokens;
                    TwinKernelsTest.assertRelative(expected, actual, SILU_TOLERANCE, what);
                    assertArrayEquals(expectedState, state, what + " window");
                }
            }
        }
    }

    /**
     * Every provider's convolution against a double reference of the whole sequence (zeros before its start), and
     * a prompt in one call, token by token and in random pieces give the same bits and the same window; the output
     * may overwrite the input.
     */
    @Test
    void convWindowContinuesExactly() {
        Random random = new Random(60);
        for (KernelProvider provider : providers()) {
            for (int channels : CHANNELS) {
                for (int kernel : KERNELS) {
                    Conv conv = Conv.random(random, 100, channels, kernel);
                    String what = provider.name() + " channels=" + channels + " K=" + kernel;
                    float[] whole = new float[conv.x().length];
                    float[] wholeState = conv.newState();
                    conv.run(provider, whole, wholeState, 0, conv.tokens());
                    for (int t = 0; t < conv.tokens(); t++) {
                        for (int c = 0; c < channels; c++) {
                            double sum = 0;
                            for (int j = 0; j < kernel; j++) {
                                int source = t - kernel + 1 + j;
                                if (source >= 0) {
                                    sum += (double) conv.weight()[c * kernel + j]
                                            * conv.x()[conv.xOff() + source * conv.xStride() + c];
                                }
                            }
                            double expected = sum / (1 + Math.exp(-sum));
                            float actual = whole[conv.xOff() + t * conv.xStride() + c];
                            // K products summed in float, then SiLU within a few ulps
                            assertEquals(expected, actual, 1e-6 * (Math.abs(expected) + 1),
                                    what + " t=" + t + " c=" + c);
                        }
                    }
                    // the window: the last K-1 inputs, oldest first
                    for (int j = 0; j < kernel - 1; j++) {
                        for (int c = 0; c < channels; c++) {
                            int token = conv.tokens() - (kernel - 1) + j;
                            assertEquals(conv.x()[conv.xOff() + token * conv.xStride() + c],
                                    wholeState[2 + j * channels + c], what + " window " + j + " c=" + c);
                        }
                    }

                    float[] stepped = new float[conv.x().length];
                    float[] steppedState = conv.newState();
                    for (int t = 0; t < conv.tokens(); t++) {
                        conv.run(provider, stepped, steppedState, t, t + 1);
                    }
                    assertArrayEquals(whole, stepped, what + " token by token");
                    assertArrayEquals(wholeState, steppedState, what + " token by token window");

                    for (int n = 0; n < 3; n++) {
                        int[] split = randomSplit(random, conv.tokens());
                        float[] pieces = new float[conv.x().length];
                        float[] piecesState = conv.newState();
                        int from = 0;
                        for (int length : split) {
                            conv.run(provider, pieces, piecesState, from, from + length);
                            from += length;
                        }
                        assertArrayEquals(whole, pieces, what + " split " + Arrays.toString(split));
                        assertArrayEquals(wholeState, piecesState, what + " split window " + Arrays.toString(split));
                    }

                    // in place, in pieces: out is x
                    float[] inPlace = conv.x().clone();
                    float[] inPlaceState = conv.newState();
                    Conv aliased = new Conv(conv.tokens(), channels, kernel, conv.xOff(), conv.xStride(), inPlace,
                            conv.weight());
                    aliased.run(provider, inPlace, inPlaceState, 0, 37);
                    aliased.run(provider, inPlace, inPlaceState, 37, conv.tokens());
                    for (int t = 0; t < conv.tokens(); t++) {
                        int row = conv.xOff() + t * conv.xStride();
                        assertArrayEquals(Arrays.copyOfRange(whole, row, row + channels),
                                Arrays.copyOfRange(inPlace, row, row + channels), what + " in place t=" + t);
                    }
                    assertArrayEquals(wholeState, inPlaceState, what + " in place window");
                }
            }
        }
    }

    /** Per-head L2 normalisation: twins within the normalisation tolerance, both against double. */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void l2Normalize(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(70 + bits);
        for (int n : HEAD_SIZES) {
            int nHeads = 3;
            float[] x = TestMatrices.floats(random, 2 + nHeads * n + 1);
            Arrays.fill(x, 2 + n, 2 + 2 * n, 0f); // a zero head stays zero: eps keeps the root positive
            float[] expected = x.clone();
            SCALAR.l2Normalize(expected, 2, nHeads, n, 1e-6f);
            float[] actual = x.clone();
            vector.l2Normalize(actual, 2, nHeads, n, 1e-6f);
            String what = bits + " bits n=" + n;
            TwinKernelsTest.assertRelative(expected, actual, NORMALISED_TOLERANCE, what);
            for (int h = 0; h < nHeads; h++) {
                double sumSq = 0;
                for (int i = 0; i < n; i++) {
                    sumSq += (double) x[2 + h * n + i] * x[2 + h * n + i];
                }
                for (int i = 0; i < n; i++) {
                    int at = 2 + h * n + i;
                    double reference = x[at] / Math.sqrt(sumSq + 1e-6);
                    assertEquals(reference, expected[at], NORMALISED_TOLERANCE * Math.abs(reference) + 1e-30,
                            "scalar " + what);
                    assertEquals(reference, actual[at], NORMALISED_TOLERANCE * Math.abs(reference) + 1e-30,
                            "vector " + what);
                }
            }
            assertEquals(x[0], actual[0], "writes only its heads");
            assertEquals(x[x.length - 1], actual[x.length - 1], "writes only its heads");
        }
    }

    /** The gated RMSNorm: twins within the normalisation tolerance, both against double, in place too. */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void gatedRmsNorm(int bits) {
        KernelProvider vector = new VectorKernels(bits);
        Random random = new Random(80 + bits);
        for (int n : HEAD_SIZES) {
            int nHeads = 3;
            float[] x = TestMatrices.floats(random, 1 + nHeads * n);
            float[] z = TestMatrices.floats(random, 3 + nHeads * n);
            for (int i = 0; i < z.length; i++) {
                z[i] *= 12;
            }
            float[] weight = TestMatrices.floats(random, n);
            float[] expected = new float[2 + nHeads * n];
            SCALAR.gatedRmsNorm(expected, 2, x, 1, z, 3, weight, nHeads, n, 1e-6f);
            float[] actual = new float[2 + nHeads * n];
            vector.gatedRmsNorm(actual, 2, x, 1, z, 3, weight, nHeads, n, 1e-6f);
            String what = bits + " bits n=" + n;
            TwinKernelsTest.assertRelative(expected, actual, NORMALISED_TOLERANCE, what);
            for (int h = 0; h < nHeads; h++) {
                double sumSq = 0;
                for (int i = 0; i < n; i++) {
                    sumSq += (double) x[1 + h * n + i] * x[1 + h * n + i];
                }
                double inv = 1 / Math.sqrt(sumSq / n + 1e-6);
                for (int i = 0; i < n; i++) {
                    double gate = z[3 + h * n + i];
                    double reference = weight[i] * x[1 + h * n + i] * inv * gate / (1 + Math.exp(-gate));
                    int at = 2 + h * n + i;
                    assertEquals(reference, expected[at], NORMALISED_TOLERANCE * Math.abs(reference) + 1e-30,
                            "scalar " + what);
                    assertEquals(reference, actual[at], NORMALISED_TOLERANCE * Math.abs(reference) + 1e-30,
                            "vector " + what);
                }
            }
            assertEquals(0f, actual[0], "writes only its heads");
            assertEquals(0f, actual[1], "writes only its heads");
            float[] inPlace = new float[1 + nHeads * n];
            System.arraycopy(x, 0, inPlace, 0, inPlace.length);
            vector.gatedRmsNorm(inPlace, 1, inPlace, 1, z, 3, weight, nHeads, n, 1e-6f);
            assertArrayEquals(Arrays.copyOfRange(actual, 2, actual.length),
                    Arrays.copyOfRange(inPlace, 1, inPlace.length), "in place " + what);
        }
    }

    /** The facade runs its provider's kernels and rejects rows that leave their arrays before touching anything. */
    @Test
    void facadeChecksShapes() {
        Kernels kernels = new Kernels(new VectorKernels(256), new Parallel(1));
        Random random = new Random(90);
        Head head = new Head(random, 70, 16, 17, Decay.MIXED, false);
        float[] expectedOut = head.newOut();
        float[] expectedState = head.initialState.clone();
        head.chunked(kernels.provider(), expectedOut, expectedState, 0, head.tokens);
        float[] out = head.newOut();
        float[] state = head.initialState.clone();
        kernels.gatedDeltaChunked(out, head.outOff, head.outStride, state, head.stateOff, head.qkv, head.qOff,
                head.rowStride, head.qkv, head.kOff, head.rowStride, head.qkv, head.vOff, head.rowStride, head.g,
                head.beta, head.gateOff, head.gateStride, head.tokens, head.dk, head.dv, head.scale);
        assertArrayEquals(expectedOut, out);
        assertArrayEquals(expectedState, state);

        float[] untouched = head.initialState.clone();
        // one token more than the rows hold
        assertThrows(IndexOutOfBoundsException.class,
                () -> kernels.gatedDeltaChunked(head.newOut(), head.outOff, head.outStride, untouched, head.stateOff,
                        head.qkv, head.qOff, head.rowStride, head.qkv, head.kOff, head.rowStride, head.qkv,
                        head.vOff, head.rowStride, head.g, head.beta, head.gateOff, head.gateStride,
                        head.tokens + 1, head.dk, head.dv, head.scale));
        // a state one float short
        assertThrows(IndexOutOfBoundsException.class,
                () -> kernels.gatedDeltaStep(new float[17], 0, new float[16 * 17 - 1], 0, head.qkv, head.qOff,
                        head.qkv, head.kOff, head.qkv, head.vOff, -1f, 0.5f, 16, 17, 0.25f));
        assertArrayEquals(head.initialState, untouched, "nothing written before the checks");
        assertThrows(IndexOutOfBoundsException.class,
                () -> kernels.causalConv1dSilu(new float[40], 0, 10, new float[40], 0, 10, new float[40], new float[29],
                        0, 4, 10, 4));
        assertThrows(IllegalArgumentException.class,
                () -> kernels.causalConv1dSilu(new float[40], 0, 10, new float[40], 0, 10, new float[40], new float[30],
                        0, 4, 10, 0));
        assertThrows(IndexOutOfBoundsException.class,
                () -> kernels.gatedRmsNorm(new float[32], 0, new float[32], 0, new float[31], 0, new float[16], 2, 16,
                        1e-6f));
        assertThrows(IndexOutOfBoundsException.class,
                () -> kernels.l2Normalize(new float[32], 1, 2, 16, 1e-6f));
    }

    /** Gates in double: sigmoid, and softplus with PyTorch's linear branch above 20. */
    @Test
    void gates() {
        float[] a = {-30f, -1f, 0f, 2.5f, 19f, 25f};
        float[] b = {-40f, -2f, 0f, 1f, 3f, 50f};
        float[] ssmA = {-1f, -0.5f, -8f, -2f, -0.01f, -3f};
        float[] dtBias = {0f, 0.5f, -0.25f, 1f, 2f, -1f};
        float[] g = new float[8];
        float[] beta = new float[8];
        GatedDeltaNet.gates(g, beta, 1, a, 0, b, 0, ssmA, dtBias, a.length);
        for (int h = 0; h < a.length; h++) {
            double x = (double) a[h] + dtBias[h];
            double softplus = x > 20 ? x : Math.log1p(Math.exp(x));
            assertEquals((float) (ssmA[h] * softplus), g[1 + h], Math.ulp((float) (ssmA[h] * softplus)), "g " + h);
            float sigmoid = (float) (1 / (1 + Math.exp(-b[h])));
            assertEquals(sigmoid, beta[1 + h], Math.ulp(sigmoid), "beta " + h);
            assertTrue(g[1 + h] <= 0, "a log-decay");
        }
        assertEquals(0f, g[0], "writes only its heads");
        assertEquals(0f, g[7], "writes only its heads");
    }
}
