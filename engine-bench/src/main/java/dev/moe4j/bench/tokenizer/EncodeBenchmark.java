package dev.moe4j.bench.tokenizer;

import dev.moe4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Single-threaded encode throughput of the real Qwen3 tokenizer on English prose, Chinese and Java source. One
 * operation encodes the whole text; {@link #main} turns operations per second into MB/s of UTF-8 input.
 * The tokenizer's piece cache is warm after the first iteration, as it is in a long-running service.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class EncodeBenchmark {
    static final List<String> TOKENIZER_CANDIDATES = List.of(
            "engine-tokenizer/src/test/resources/tokenizer/tokenizer.json",
            "../engine-tokenizer/src/test/resources/tokenizer/tokenizer.json");

    @Param({"english", "chinese", "code"})
    public String text;

    private Tokenizer tokenizer;
    private String content;

    static Tokenizer loadTokenizer() throws IOException {
        String configured = System.getProperty("moe4j.tokenizer");
        for (String candidate : configured != null ? List.of(configured) : TOKENIZER_CANDIDATES) {
            if (Files.isRegularFile(Path.of(candidate))) {
                return Tokenizer.fromHuggingFace(Path.of(candidate));
            }
        }
        throw new IOException("no Qwen3 tokenizer.json found (tried " + TOKENIZER_CANDIDATES
                + "); run from the repository root or pass -Dmoe4j.tokenizer=PATH");
    }

    static String loadText(String name) throws IOException {
        try (InputStream in = EncodeBenchmark.class.getResourceAsStream("/dev/moe4j/bench/text/" + name + ".txt")) {
            if (in == null) {
                throw new IOException("benchmark text '" + name + "' is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Setup
    public void setUp() throws IOException {
        tokenizer = loadTokenizer();
        content = loadText(text);
    }

    @Benchmark
    public int[] encode() {
        return tokenizer.encode(content, true);
    }

    /** Runs the benchmark and prints MB/s per text. */
    public static void main(String[] args) throws RunnerException, IOException {
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(EncodeBenchmark.class.getName() + ".encode")
                .jvmArgsAppend("-Dmoe4j.tokenizer=" + loadTokenizerPath())
                .build()).run();
        System.out.println("\n| text | bytes | encodes/s | MB/s |\n|---|---:|---:|---:|");
        for (RunResult r : results) {
            String name = r.getParams().getParam("text");
            int bytes = loadText(name).getBytes(StandardCharsets.UTF_8).length;
            double ops = r.getPrimaryResult().getScore();
            System.out.printf("| %s | %d | %.1f | %.1f |%n", name, bytes, ops, ops * bytes / 1e6);
        }
    }

    private static String loadTokenizerPath() {
        for (String candidate : TOKENIZER_CANDIDATES) {
            if (Files.isRegularFile(Path.of(candidate))) {
                return Path.of(candidate).toAbsolutePath().toString();
            }
        }
        return System.getProperty("moe4j.tokenizer", TOKENIZER_CANDIDATES.get(0));
    }
}
