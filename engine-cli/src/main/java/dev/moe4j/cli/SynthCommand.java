package dev.moe4j.cli;

import dev.moe4j.bench.SyntheticModel;
import dev.moe4j.format.gguf.QuantType;
import dev.moe4j.kernels.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code moe4j synth}: a GGUF with random weights at a real model's shapes, for speed work. */
@Command(name = "synth", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Write a random-weight GGUF at a real model's shapes.",
        description = {"Writes a GGUF with RANDOM weights at a real model's shapes, for speed work (k-quant types:"
                + " drawn in F32 and quantized as the quantize command would)."})
final class SynthCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--shape", paramLabel = "NAME", required = true,
            description = "qwen3-0.6b|qwen3-4b|qwen3-30b-a3b|qwen3-next-80b-a3b")
    String shape;

    @Option(names = "--layers", paramLabel = "N", description = "the first N layers only (default: all)")
    Integer layers;

    @Option(names = "--type", paramLabel = "T", defaultValue = "q8_0",
            description = "f32|bf16|f16|q8_0|q4_0|q4_k|q5_k|q6_k|q4_k_m|q5_k_m (default: ${DEFAULT-VALUE})")
    String type;

    @Option(names = "--vocab", paramLabel = "V.gguf",
            description = "a GGUF whose tokenizer to copy (default: a byte-level placeholder vocabulary)")
    Path vocab;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "seed of the weights (default: 42)")
    long seed;

    @Option(names = "--random-blocks",
            description = "quantized matrices of random bits with sane scales instead of quantized draws: same types"
                    + " and sizes without the K-quant search; speed files only")
    boolean randomBlocks;

    @Option(names = "--out", paramLabel = "F.gguf", required = true, description = "the file to write")
    Path out;

    @Override
    public Integer call() throws IOException {
        SyntheticModel.Shape s;
        try {
            s = SyntheticModel.shape(shape);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        String typeName = type.toUpperCase(Locale.ROOT);
        DType plain = switch (typeName) {
            case "F32" -> DType.F32;
            case "BF16" -> DType.BF16;
            case "F16" -> DType.F16;
            case "Q8_0" -> DType.Q8_0;
            case "Q4_0" -> DType.Q4_0;
            default -> null;
        };
        QuantType target = null;
        if (plain == null) {
            try {
                target = QuantType.parse(typeName);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--type must be f32, bf16, f16 or " + QuantType.names() + ", was '" + type
                        + "'");
            }
        }
        int count = layers != null ? layers : s.layers();
        if (count < 1 || count > s.layers()) {
            throw new UsageException("--layers must be in [1, " + s.layers() + "], was " + count);
        }
        if (vocab != null) {
            Outputs.checkReadable("--vocab", vocab);
        }
        Outputs.checkWritable("--out", out);
        long start = System.nanoTime();
        if (target != null && randomBlocks) {
            SyntheticModel.writeRandomBlocks(s, count, target, vocab, out, seed, main.err::println);
        } else if (randomBlocks) {
            throw new UsageException("--random-blocks applies to the K-quant types and mixes (" + QuantType.names() + "), not " + plain);
        } else if (target != null) {
            SyntheticModel.write(s, count, target, vocab, out, seed, main.err::println);
        } else {
            SyntheticModel.write(s, count, plain, vocab, out, seed, main.err::println);
        }
        main.err.printf("wrote %s: %s, %d of %d layers, %s, %.2f GB, random weights, in %.1f s%n", out, s.name(), count,
                s.layers(), target != null ? target : plain, Files.size(out) / 1e9, (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
