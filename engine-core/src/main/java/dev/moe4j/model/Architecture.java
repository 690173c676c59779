package dev.moe4j.model;

import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.model.qwen3.Qwen3;
import dev.moe4j.model.qwen3moe.Qwen3Moe;
import java.util.List;

/**
 * What distinguishes one architecture from the shared decoder stack. For the Qwen3 family that is only the
 * feed-forward half of each layer: everything else (embedding, attention with QK-norm, norms, head) is shared.
 */
public interface Architecture {

    List<Architecture> ALL = List.of(new Qwen3(), new Qwen3Moe());

    /** The GGUF {@code general.architecture} value. */
    String name();

    /** Loads the feed-forward weights of one layer. */
    Weights.FeedForward feedForward(TensorSource tensors, ModelConfig config, int layer, float[] norm);

    static Architecture forName(String name) {
        return ALL.stream().filter(a -> a.name().equals(name)).findFirst()
                .orElseThrow(() -> new UnsupportedModelException("architecture '" + name + "' is not supported"));
    }

    /** The dense SwiGLU block, shared by every architecture that has dense layers. */
    static Weights.Dense denseFeedForward(TensorSource tensors, ModelConfig config, int layer, float[] norm) {
        int hidden = config.hiddenSize();
        int ffn = config.intermediateSize();
        return new Weights.Dense(norm,
                tensors.matrix(TensorName.FFN_GATE, layer, ffn, hidden),
                tensors.matrix(TensorName.FFN_UP, layer, ffn, hidden),
                tensors.matrix(TensorName.FFN_DOWN, layer, hidden, ffn));
    }
}
