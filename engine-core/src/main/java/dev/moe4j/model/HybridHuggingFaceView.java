package dev.moe4j.model;

/**
 * What every hybrid (Gated DeltaNet) architecture's Hugging Face checkpoint stores differently from GGUF: RMSNorm
 * weights zero-centred (all but the gated norm's), A_log in place of ssm_a = −exp(A_log), and the convolution as
 * {@code [channels, 1, kernel]}. Each architecture's own view adds its projection layouts.
 */
public abstract class HybridHuggingFaceView extends HuggingFaceView {

    protected HybridHuggingFaceView(SafetensorsTensorSource checkpoint) {
        super(checkpoint);
    }

    @Override
    public float[] vector(TensorName name, int layer, int n) {
        float[] v = super.vector(name, layer, n);
        return switch (name) {
            case OUTPUT_NORM, ATTN_NORM, POST_ATTENTION_NORM, ATTN_Q_NORM, ATTN_K_NORM -> plusOne(v);
            case LINEAR_A -> {
                // in double, rounded once (the converter's float32 exp may differ in the last bit)
                for (int i = 0; i < n; i++) {
                    v[i] = (float) -StrictMath.exp(v[i]);
                }
                yield v;
            }
            default -> v;
        };
    }

    @Override
    public float[] floats(TensorName name, int layer, int rows, int cols) {
        return name == TensorName.LINEAR_CONV
                ? checkpoint.floats(checkpoint.name(name, layer), rows, 1, cols)
                : super.floats(name, layer, rows, cols);
    }
}
