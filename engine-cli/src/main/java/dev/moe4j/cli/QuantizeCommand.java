package dev.moe4j.cli;

import dev.moe4j.format.gguf.GgufQuantizer;
import dev.moe4j.format.gguf.QuantType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code moe4j quantize IN.gguf OUT.gguf --type T}. */
@Command(name = "quantize", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Quantize an F32/F16/BF16 GGUF as llama-quantize does.",
        description = {"Quantizes the weight matrices of an F32/F16/BF16 GGUF, the same bytes as llama-quantize"
                + " without an importance matrix: q8_0 ... q6_k every matrix in that type (--pure), q4_k_m and q5_k_m"
                + " llama.cpp's mixes (Q6_K for the output and some attn_v / ffn_down layers)."})
final class QuantizeCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Parameters(index = "0", paramLabel = "IN.gguf", description = "the F32/F16/BF16 model")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT.gguf", description = "the file to write")
    Path out;

    @Option(names = "--type", paramLabel = "T", required = true,
            description = "q8_0|q4_0|q4_k|q5_k|q6_k|q4_k_m|q5_k_m (case does not matter)")
    String type;

    @Override
    public Integer call() throws IOException {
        QuantType target;
        try {
            target = QuantType.parse(type);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--type must be " + QuantType.names() + ", was '" + type + "'");
        }
        Outputs.checkReadable("IN", in);
        Outputs.checkWritable("OUT", out);
        if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new UsageException("OUT must differ from IN");
        }
        long start = System.nanoTime();
        GgufQuantizer.quantize(in, out, target, main.err::println);
        main.err.printf("wrote %s (%d bytes) in %.1f s%n", out, Files.size(out), (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
