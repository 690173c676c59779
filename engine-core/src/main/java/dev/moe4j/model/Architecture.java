package dev.moe4j.model;

import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.format.gguf.GgufMetadata;
import dev.moe4j.model.qwen3.Qwen3;
import dev.moe4j.model.qwen3moe.Qwen3Moe;
import dev.moe4j.model.qwen35.Qwen35;
import dev.moe4j.model.qwen3next.Qwen3Next;
import java.util.List;
import java.util.Set;

/**
 * One architecture, in one file over the shared blocks: the configuration keys it reads (GGUF and Hugging Face), and
 * what each of its layers is made of: norm + mixer + norm + feed-forward, with the tensors that fill them. The
 * decoder stack around the layers (embedding, final norm, output head) and the blocks' computation are shared.
 */
public interface Architecture {

    /** Every architecture moe4j runs. */
    List<Architecture> ALL = List.of(new Qwen3(), new Qwen3Moe(), new Qwen3Next(), new Qwen35(false), new Qwen35(true));

    /** The GGUF {@code general.architecture} value. */
    String name();

    /** Hugging Face {@code model_type} values of config.json. */
    Set<String> huggingFaceModelTypes();

    /** Hugging Face {@code architectures} class names. */
    Set<String> huggingFaceClasses();

    /** Reads the config from GGUF metadata ({@code vocabSize} and {@code tied} come from the tensors). */
    ModelConfig config(GgufMetadata md, int vocabSize, boolean tied);

    /** Reads the config from a Hugging Face config.json. */
    ModelConfig config(JsonConfig json);

    /**
     * The tensors of a Hugging Face checkpoint as {@link #layer} and the shared decoder read them. By default the
     * checkpoint itself: its names map one to one to GGUF's, in the same layouts and values. An architecture whose
     * Hugging Face layout differs returns a {@link HuggingFaceView} that converts the tensors concerned.
     */
    default TensorSource huggingFaceTensors(SafetensorsTensorSource checkpoint, ModelConfig config) {
        return checkpoint;
    }

    /** Resolves the weights of one layer. */
    Weights.Layer layer(TensorSource tensors, ModelConfig config, int layer);

    static Architecture forName(String name) {
        return ALL.stream().filter(a -> a.name().equals(name)).findFirst()
                .orElseThrow(() -> new UnsupportedModelException("architecture '" + name + "' is not supported"
                        + " (supported: " + String.join(", ", ALL.stream().map(Architecture::name).sorted().toList())
                        + ")"));
    }
}
