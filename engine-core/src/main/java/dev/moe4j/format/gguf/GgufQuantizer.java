package dev.moe4j.format.gguf;

import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.kernels.DType;
import dev.moe4j.kernels.Matrix;
import dev.moe4j.kernels.ScalarKernels;
import dev.moe4j.kernels.quant.BlockQuantizer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Quantises the weight matrices of a GGUF file (F32, F16 or BF16) to Q8_0 or Q4_0, like {@code llama-quantize
 * --pure}: every matrix whose rows are whole blocks, including the embedding and output head, in the one type;
 * 1-D tensors (norms) and MoE router weights ({@code ffn_gate_inp}) stay as they are. The bytes equal GGML's
 * reference quantiser.
 */
public final class GgufQuantizer {
    private GgufQuantizer() {}

    /** GGUF {@code general.file_type} values (llama.cpp's LLAMA_FTYPE_MOSTLY_*). */
    private static int fileType(DType type) {
        return switch (type) {
            case Q8_0 -> 7;
            case Q4_0 -> 2;
            default -> throw new IllegalArgumentException("cannot quantize to " + type + " (q8_0 and q4_0 are supported)");
        };
    }

    /** Quantises {@code in} into {@code out}; {@code progress} gets one line per tensor. */
    public static void quantize(Path in, Path out, DType type, Consumer<String> progress) throws IOException {
        BlockQuantizer quantizer = BlockQuantizer.of(type);
        int fileType = fileType(type);
        try (GgufFile src = GgufFile.open(in); Arena arena = Arena.ofConfined()) {
            GgufWriter w = new GgufWriter().putAll(src.metadata());
            w.putU32("general.quantization_version", 2);
            w.putU32("general.file_type", fileType);
            int index = 0;
            for (GgufTensor t : src.tensors().values()) {
                index++;
                if (!shouldQuantize(t, type)) {
                    w.addTensor(t.name(), t.type(), t.dims(), t.data());
                    continue;
                }
                if (t.type().dtype() == null || t.type().dtype().isQuantized()) {
                    throw new UnsupportedModelException(in + ": tensor '" + t.name() + "' is " + t.type()
                            + "; quantize from F32, F16 or BF16");
                }
                int cols = Math.toIntExact(t.dim(0));
                int rows = Math.toIntExact(t.elementCount() / cols);
                Matrix m = new Matrix(t.name(), t.data(), t.type().dtype(), rows, cols);
                long rowBytes = type.bytesFor(cols);
                MemorySegment q = arena.allocate(rowBytes * rows);
                float[] row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    ScalarKernels.INSTANCE.dequantizeRow(m, r, row, 0);
                    for (int b = 0; b < cols / type.blockSize(); b++) {
                        quantizer.quantize(row, b * type.blockSize(), q, r * rowBytes + (long) b * type.blockBytes());
                    }
                }
                w.addTensor(t.name(), GgmlType.valueOf(type.name()), t.dims(), q);
                progress.accept("[" + index + "/" + src.tensors().size() + "] " + t.name() + " " + t.type() + " -> " + type);
            }
            w.write(out);
        }
    }

    private static boolean shouldQuantize(GgufTensor t, DType type) {
        return t.rank() >= 2 && t.dim(0) % type.blockSize() == 0 && !t.name().endsWith("ffn_gate_inp.weight");
    }
}
