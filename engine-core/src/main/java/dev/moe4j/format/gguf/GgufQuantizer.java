package dev.moe4j.format.gguf;

import dev.moe4j.api.UnsupportedModelException;
import dev.moe4j.kernels.DType;
import dev.moe4j.kernels.Matrix;
import dev.moe4j.kernels.ScalarKernels;
import dev.moe4j.kernels.parallel.Parallel;
import dev.moe4j.kernels.quant.BlockFormat;
import dev.moe4j.kernels.quant.BlockQuantizer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Quantises the weight matrices of a GGUF file (F32, F16 or BF16) like {@code llama-quantize} without an
 * importance matrix: a pure type ({@code --pure}) or a Q4_K_M / Q5_K_M mix, per {@link QuantRecipe}. Tensors come
 * out in llama.cpp's order and every quantized byte equals GGML's reference quantiser.
 */
public final class GgufQuantizer {
    private GgufQuantizer() {}

    /** Quantises {@code in} into {@code out} with every matrix in {@code type}. */
    public static void quantize(Path in, Path out, DType type, Consumer<String> progress) throws IOException {
        quantize(in, out, QuantType.pure(type), progress);
    }

    /** Quantises {@code in} into {@code out}; {@code progress} gets one line per tensor. */
    public static void quantize(Path in, Path out, QuantType target, Consumer<String> progress) throws IOException {
        try (GgufFile src = GgufFile.open(in); Arena arena = Arena.ofShared()) {
            GgufMetadata md = src.metadata();
            String arch = md.getString("general.architecture", "");
            int blocks = md.contains(arch + ".block_count") ? (int) md.getLong(arch + ".block_count") : 0;
            int experts = md.contains(arch + ".expert_count") ? (int) md.getLong(arch + ".expert_count") : 0;
            // of the Qwen architectures only qwen2 has llama.cpp's 70B type (80 layers)
            boolean seventyB = arch.equals("qwen2") && blocks == 80;
            List<GgufTensor> tensors = QuantRecipe.ordered(src.tensors().values());
            Map<String, DType> plan = QuantRecipe.plan(tensors.stream().map(QuantRecipe.Entry::of).toList(), target,
                    blocks, experts, seventyB);

            GgufWriter w = new GgufWriter().putAll(md);
            // llama.cpp re-adds these two, so they end the key list
            w.remove("general.quantization_version").putU32("general.quantization_version", 2);
            w.remove("general.file_type").putU32("general.file_type", target.fileType);
            w.remove("split.no").remove("split.count").remove("split.tensors.count");
            int index = 0;
            for (GgufTensor t : tensors) {
                index++;
                DType type = plan.get(t.name());
                if (type == null || type == t.type().dtype()) {
                    w.addTensor(t.name(), t.type(), ggmlDims(t.dims()), t.data());
                    continue;
                }
                if (t.type().dtype() == null || t.type().dtype().isQuantized()) {
                    throw new UnsupportedModelException(in + ": tensor '" + t.name() + "' is " + t.type()
                            + "; quantize from F32, F16 or BF16");
                }
                w.addTensor(t.name(), GgmlType.valueOf(type.name()), ggmlDims(t.dims()), convert(t, type, arena));
                progress.accept("[" + index + "/" + tensors.size() + "] " + t.name() + " " + t.type() + " -> " + type);
            }
            w.write(out);
        }
    }

    /** The dimensions without trailing 1s, as GGUF files written by GGML carry them (a [n, 1] tensor is [n]). */
    private static long[] ggmlDims(long[] dims) {
        int rank = 1;
        for (int i = 1; i < dims.length; i++) {
            rank = dims[i] > 1 ? i + 1 : rank;
        }
        return Arrays.copyOf(dims, rank);
    }

    private static MemorySegment convert(GgufTensor t, DType type, Arena arena) {
        int cols = Math.toIntExact(t.dim(0));
        int rows = Math.toIntExact(t.elementCount() / cols);
        Matrix m = new Matrix(t.name(), t.data(), t.type().dtype(), rows, cols);
        long rowBytes = type.bytesFor(cols);
        MemorySegment q = arena.allocate(rowBytes * rows);
        BlockQuantizer quantizer = type.isQuantized() ? BlockQuantizer.of(type) : null;
        // rows are independent, so splitting them across threads leaves the bytes unchanged
        Parallel.common().forRange(rows, 16, (start, end) -> {
            float[] row = new float[cols];
            for (int r = start; r < end; r++) {
                ScalarKernels.INSTANCE.dequantizeRow(m, r, row, 0);
                long base = r * rowBytes;
                if (quantizer == null) {
                    for (int c = 0; c < cols; c++) {
                        q.set(BlockFormat.LE_SHORT, base + 2L * c, Float.floatToFloat16(row[c]));
                    }
                    continue;
                }
                for (int b = 0; b < cols / type.blockSize(); b++) {
                    quantizer.quantize(row, b * type.blockSize(), q, base + (long) b * type.blockBytes());
                }
            }
        });
        return q;
    }
}
