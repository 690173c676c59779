package dev.moe4j.kernels;

/**
 * Rotary position embedding frequencies for the NeoX layout, optionally YaRN-scaled, computed the way Hugging
 * Face's {@code _compute_default_rope_parameters} / {@code _compute_yarn_parameters} do: frequencies in float32,
 * the correction range in double, and the attention factor applied to both cos and sin (so every q·k logit is
 * multiplied by its square).
 */
public final class Rope {

    /** YaRN settings as in a {@code rope_scaling} block; {@code attentionFactor} may be NaN (then derived). */
    public record Yarn(double factor, int originalContext, double betaFast, double betaSlow, double attentionFactor) {
        public Yarn {
            if (!(factor > 0) || originalContext <= 0) {
                throw new IllegalArgumentException(
                        "YaRN needs factor > 0 and original context > 0, got " + factor + ", " + originalContext);
            }
        }

        public static Yarn of(double factor, int originalContext) {
            return new Yarn(factor, originalContext, 32, 1, Double.NaN);
        }
    }

    private final int headDim;
    private final float[] invFreq;
    private final float attentionFactor;

    /** Plain RoPE. */
    public Rope(int headDim, double theta) {
        this(headDim, theta, null);
    }

    public Rope(int headDim, double theta, Yarn yarn) {
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("rotary dimension must be positive and even, was " + headDim);
        }
        this.headDim = headDim;
        int half = headDim / 2;
        float base = (float) theta;
        // pos_freqs = base ** (arange(0, dim, 2).float() / dim), in float32
        float[] posFreqs = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            posFreqs[i] = (float) Math.pow(base, exponent);
        }
        invFreq = new float[half];
        if (yarn == null) {
            for (int i = 0; i < half; i++) {
                invFreq[i] = 1.0f / posFreqs[i];
            }
            attentionFactor = 1.0f;
            return;
        }
        float factor = (float) yarn.factor();
        double low = correctionDim(yarn.betaFast(), headDim, theta, yarn.originalContext());
        double high = correctionDim(yarn.betaSlow(), headDim, theta, yarn.originalContext());
        low = Math.max(Math.floor(low), 0);
        high = Math.min(Math.ceil(high), headDim - 1);
        if (low == high) {
            high += 0.001; // HF: prevent a singular ramp
        }
        float lowF = (float) low;
        float span = (float) (high - low);
        for (int i = 0; i < half; i++) {
            float extrapolation = 1.0f / posFreqs[i];
            float interpolation = 1.0f / (factor * posFreqs[i]);
            float ramp = Math.min(1f, Math.max(0f, ((float) i - lowF) / span));
            float extrapolationFactor = 1f - ramp;
            invFreq[i] = interpolation * (1f - extrapolationFactor) + extrapolation * extrapolationFactor;
        }
        double attn = yarn.attentionFactor();
        if (Double.isNaN(attn)) {
            attn = yarn.factor() <= 1 ? 1.0 : 0.1 * Math.log(yarn.factor()) + 1.0;
        }
        attentionFactor = (float) attn;
    }

    private static double correctionDim(double rotations, int dim, double base, int maxPositions) {
        return dim * Math.log(maxPositions / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    public int headDim() {
        return headDim;
    }

    /** The inverse frequencies, one per rotated pair (a copy). */
    public float[] invFreq() {
        return invFreq.clone();
    }

    public float attentionFactor() {
        return attentionFactor;
    }

    /** cos and sin (attention factor applied) of the angles at {@code pos}, each of length headDim/2. */
    public void cosSin(int pos, float[] cos, float[] sin) {
        float p = pos;
        for (int i = 0; i < invFreq.length; i++) {
            float angle = p * invFreq[i];
            cos[i] = (float) Math.cos(angle) * attentionFactor;
            sin[i] = (float) Math.sin(angle) * attentionFactor;
        }
    }
}
