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
 */
public final class SafetensorsTensorSource implements TensorSource {
    private final SafetensorsCheckpoint checkpoint;

    public SafetensorsTensorSource(SafetensorsCheckpoint checkpoint) {
        this.checkpoint = checkpoint;
    }

    @Override
    public String describe() {
        return checkpoint.dir().toString();
    }

    @Override
    public boolean has(TensorName name, int layer) {
        // formatted() ignores surplus arguments, so (layer, expert 0) fits every name
        return checkpoint.tensor(name.huggingFace(layer, 0)) != null;
    }

    /** The tensor's Hugging Face name for {@code indices} (layer, then expert); global names ignore them. */
    private static String hfName(TensorName name, int... indices) {
        return name.isPerLayer() ? name.huggingFace(indices) : name.huggingFace();
    }

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
        SafetensorsTensor t = require(hfName(name, layer), rows, cols);
        return new Matrix(t.name(), t.data(), t.type().dtype(), rows, cols);
    }

    @Override
    public float[] vector(TensorName name, int layer, int n) {
        SafetensorsTensor t = require(hfName(name, layer), n);
        return TensorSource.widen(t.name(), t.data(), t.type().dtype(), n);
    }

    @Override
    public List<Matrix> experts(TensorName name, int layer, int experts, int rows, int cols) {
        List<Matrix> out = new ArrayList<>(experts);
        for (int expert = 0; expert < experts; expert++) {
            SafetensorsTensor t = require(name.huggingFace(layer, expert), rows, cols);
            out.add(new Matrix(t.name(), t.data(), t.type().dtype(), rows, cols));
        }
        return out;
    }
}
