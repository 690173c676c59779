package dev.moe4j.bench.tokenizer;

import dev.moe4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.Random;
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

/**
 * Encode time of inputs that break naive BPE: a long run without whitespace, one character repeated, and a long
 * run of digits, at two sizes. Linear behaviour shows as about ten times the time for ten times the input.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class PathologicalEncodeBenchmark {
    @Param({"no-whitespace", "repeated-char", "digits"})
    public String kind;

    @Param({"100000", "1000000"})
    public int length;

    private Tokenizer tokenizer;
    private String input;

    @Setup
    public void setUp() throws IOException {
        tokenizer = EncodeBenchmark.loadTokenizer();
        Random random = new Random(1);
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append(switch (kind) {
                case "no-whitespace" -> (char) ('a' + random.nextInt(26));
                case "repeated-char" -> 'a';
                default -> (char) ('0' + random.nextInt(10));
            });
        }
        input = b.toString();
    }

    @Benchmark
    public int[] encode() {
        return tokenizer.encode(input, true);
    }
}
