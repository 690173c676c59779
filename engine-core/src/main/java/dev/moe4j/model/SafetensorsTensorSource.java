package dev.moe4j.model;

import dev.moe4j.api.BadModelFileException;
import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.format.safetensors.SafetensorsCheckpoint;
import dev.moe4j.format.safetensors.SafetensorsTensor;
import dev.moe4j.format.safetensors.SafetensorsType;
import dev.moe4j.kernels.Matrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Tensors of a Hugging Face safetensors checkpoint, by canonical name. Shapes are PyTorch's {@code [out, in]}, so a
 * matrix {@code [rows][cols]} has shape {@code [rows, cols]}; the per-expert tensors of a MoE layer are gathered
 * into the expert-indexed list the GGUF path gives, each a view over its own (possibly different) shard.
 *
 * <p>The text model's weights sit under {@code model.} in a text-only checkpoint and under
 * {@code model.language_model.} in a multimodal one (beside its vision tower); names are resolved to whichever the
 * checkpoint holds ({@code lm_head.weight} is top-level in both).
 */
public final class SafetensorsTensorSource implements TensorSource {
    static final String TEXT_PREFIX = "model.";
    static final String MULTIMODAL_TEXT_PREFIX = "model.language_model.";

    private final SafetensorsCheckpoint checkpoint;
    private final String textPrefix;

    public SafetensorsTensorSource(SafetensorsCheckpoint checkpoint) {
        this.checkpoint = checkpoint;
        String embedding = TensorName.TOKEN_EMBEDDING.huggingFace().substring(TEXT_PREFIX.length());
        this.textPrefix = checkpoint.tensor(TEXT_PREFIX + embedding) == null
                && checkpoint.tensor(MULTIMODAL_TEXT_PREFIX + embedding) != null ? MULTIMODAL_TEXT_PREFIX : TEXT_PREFIX;
    }

    /**
     * A Hugging Face name as this checkpoint spells it: a name under {@code model.} moved under the text model's
     * prefix, any other as it is.
     */
    public String resolve(String huggingFaceName) {
        return huggingFaceName.startsWith(TEXT_PREFIX)
                ? textPrefix + huggingFaceName.substring(TEXT_PREFIX.length()) : huggingFaceName;
    }

    /** The name this checkpoint gives a canonical tensor ({@code indices}: layer, then expert; ignored if global). */
    public String name(TensorName name, int... indices) {
        return resolve(hfName(name, indices));
    }

    /** Whether the checkpoint holds a tensor of this (resolved) name. */
    public boolean has(String name) {
        return checkpoint.tensor(name) != null;
    }

    /** A tensor of any rank, checked to have {@code shape}, widened to F32 in row-major order. */
    public float[] floats(String name, long... shape) {
        SafetensorsTensor t = require(name, shape);
        return TensorSource.widen(t.name(), t.data(), t.type().dtype(),
                Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact)));
    }

    /**
     * A tensor checked to have {@code shape}, viewed (no copy) as a row-major matrix {@code [rows][cols]}: a stack of
     * matrices {@code [n, r, c]} is {@code [n·r][c]}.
     */
    public Matrix matrix(String name, int rows, int cols, long... shape) {
        if (Arrays.stream(shape).reduce(1, Math::multiplyExact) != (long) rows * cols) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " is not [" + rows
                    + "][" + cols + "]");
        }
        SafetensorsTensor t = require(name, shape);
        return new Matrix(t.name(), t.data(), t.type().dtype(), rows, cols);
    }

    @Override
    public String describe() {
        return checkpoint.dir().toString();
    }

    @Override
    public boolean has(TensorName name, int layer) {
        // formatted() ignores surplus arguments, so (layer, expert 0) fits every name
        return has(resolve(name.huggingFace(layer, 0)));
    }

    /** The tensor's Hugging Face name for {@code indices} (layer, then expert); global names ignore them. */
    private static String hfName(TensorName name, int... indices) {
        return name.isPerLayer() ? name.huggingFace(indices) : name.huggingFace();
    }

    /** The tensor of this (resolved) name, checked to have {@code expectedShape} and a type moe4j computes with. */
    private SafetensorsTensor require(String hfName, long... expectedShape) {
        SafetensorsTensor t = checkpoint.tensor(hfName);
        if (t == null) {
            throw new BadModelFileException(describe() + ": missing tensor '" + hfName + "'");
        }
        if (!Arrays.equals(t.shape(), expectedShape)) {
            throw new BadModelFileException(describe() + ": tensor '" + hfName + "' has shape "
                    + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(expectedShape));
        }
        if (t.type().dtype() == null) {
            throw new UnsupportedModelException(describe() + ": tensor '" + hfName + "' has dtype " + t.type()
                    + ", which moe4j cannot compute with (supported: " + Stream.of(SafetensorsType.values())
                    .filter(type -> type.dtype() != null).map(Enum::name).toList() + ")");
        }
        return t;
    }

    @Override
    public Matrix matrix(TensorName name, int layer, int rows, int cols) {
        SafetensorsTensor t = require(name(name, layer), rows, cols);
        return new Matrix(t.name(), t.data(), t.type().dtype(), rows, cols);
    }

    @Override
    public float[] vector(TensorName name, int layer, int n) {
        SafetensorsTensor t = require(name(name, layer), n);
        return TensorSource.widen(t.name(), t.data(), t.type().dtype(), n);
    }

    @Override
    public List<Matrix> experts(TensorName name, int layer, int experts, int rows, int cols) {
        List<Matrix> out = new ArrayList<>(experts);
        for (int expert = 0; expert < experts; expert++) {
            SafetensorsTensor t = require(resolve(name.huggingFace(layer, expert)), rows, cols);
            out.add(new Matrix(t.name(), t.data(), t.type().dtype(), rows, cols));
        }
        return out;
    }
}
