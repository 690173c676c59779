package dev.moe4j.cli;

import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.model.Batch;
import dev.moe4j.model.Model;
import dev.moe4j.model.Scratch;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code moe4j logits --tokens IDS --out F}: the logits of every position, for comparison with other engines. */
@Command(name = "logits", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Write the logits of every prompt position to a file.",
        description = "Writes little-endian float32 logits [T][n_vocab], one row per position.")
final class LogitsCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--tokens", paramLabel = "IDS", required = true, description = "token ids, e.g. 1,2,3")
    String tokens;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "the file to write")
    Path out;

    @Mixin
    ModelOptions model = new ModelOptions();

    @Override
    public Integer call() throws Exception {
        int[] ids = TokenIds.prompt("--tokens", tokens);
        Outputs.checkWritable("--out", out);
        Path path = model.resolve(main.err);
        try (Model loaded = model.loadModel(path, main.err)) {
            KvCache cache = loaded.newKvCache(ids.length, KvCache.DEFAULT_BLOCK_SIZE, 1);
            float[] logits;
            try (Sequence seq = cache.newSequence()) {
                logits = loaded.forward(Batch.of(seq, ids, true), new Scratch(loaded.config()));
            }
            ByteBuffer buf = ByteBuffer.allocate(logits.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(logits);
            try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(out))) {
                o.write(buf.array());
            }
            main.err.printf("wrote %d × %d logits to %s%n", ids.length, loaded.config().vocabSize(), out);
        }
        return 0;
    }
}
