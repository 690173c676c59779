package dev.moe4j.spark;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.Engine;
import dev.moe4j.api.Thinking;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Rows a second through Spark against the same rows without it, in one JVM:
 * {@code scripts/spark-example --bench --model M.gguf [--rows 64] [--max-tokens 32] [--max-sequences 8] [--window 16]}.
 *
 * <ol>
 *   <li>plain loop: {@code engine.chat} one row after another (one sequence in the engine at a time);</li>
 *   <li>batched loop: the same rows through the window a Spark partition uses, in one thread;</li>
 *   <li>Spark local[2] with the rows in 1 partition, then in 2 (both tasks share this JVM's engine).</li>
 * </ol>
 *
 * <p>Every mode runs the same requests (greedy, same seeds), so each answers with the same tokens; the JIT is warmed
 * on a few rows first. Not a test: it takes as long as the model needs.
 */
public final class SparkBenchmark {
    private SparkBenchmark() {}

    /**
     * Runs the benchmark and prints a table.
     *
     * @param args {@code --model M} (required), {@code --rows N}, {@code --max-tokens T},
     *     {@code --max-sequences S}, {@code --window W}
     */
    public static void main(String[] args) {
        String model = null;
        int rows = 64;
        int maxTokens = 32;
        int maxSequences = 8;
        int window = 0;
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--model" -> model = args[i + 1];
                case "--rows" -> rows = Integer.parseInt(args[i + 1]);
                case "--max-tokens" -> maxTokens = Integer.parseInt(args[i + 1]);
                case "--max-sequences" -> maxSequences = Integer.parseInt(args[i + 1]);
                case "--window" -> window = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--model, --rows, --max-tokens, --max-sequences, --window)");
            }
        }
        if (model == null) {
            throw new IllegalArgumentException("--model M.gguf is required");
        }
        Moe4jSparkOptions options = Moe4jSparkOptions.builder().modelPath(model).thinking(Thinking.OFF).greedy()
                .maxTokens(maxTokens).maxSequences(maxSequences).window(window).seed(7).build();
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            prompts.add("Write a short note, number " + i + ", about batch inference on the JVM.");
        }
        Engine engine = ExecutorEngines.engineFor(options);
        System.out.printf(Locale.ROOT, "model %s, %d rows, %d tokens at most each, %d sequences, window %d, %d cores%n",
                model, rows, maxTokens, maxSequences, options.window(), Runtime.getRuntime().availableProcessors());
        // warm the JIT on both paths (one sequence a step, many) so that no mode pays for compiling
        plain(engine, options, prompts.subList(0, Math.min(rows, 4)));
        batched(engine, options, prompts.subList(0, Math.min(rows, 2 * options.window())));

        List<String> lines = new ArrayList<>();
        lines.add(row("plain loop (engine.chat per row)", rows, time(() -> plain(engine, options, prompts))));
        lines.add(row("batched loop (window " + options.window() + ")", rows,
                time(() -> batched(engine, options, prompts))));
        SparkSession spark = SparkSession.builder().master("local[2]").appName("moe4j-spark-benchmark")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            StructType schema = DataTypes.createStructType(List.of(
                    DataTypes.createStructField("prompt", DataTypes.StringType, false)));
            List<Row> input = prompts.stream().map(p -> RowFactory.create(p)).toList();
            for (int partitions : new int[] {1, 2}) {
                Dataset<Row> df = spark.createDataFrame(input, schema).repartition(partitions).cache();
                df.count();
                lines.add(row("spark local[2], " + partitions + " partition" + (partitions > 1 ? "s" : ""), rows,
                        time(() -> Moe4jSpark.chat(df, "prompt", options).select("completion_tokens")
                                .collectAsList().stream().mapToLong(r -> r.getInt(0)).sum())));
                df.unpersist();
            }
        } finally {
            spark.stop();
        }
        System.out.printf(Locale.ROOT, "%-36s %8s %10s %10s %12s%n", "mode", "rows", "seconds", "rows/s", "tokens/s");
        lines.forEach(System.out::println);
        System.out.println("moe4j engines loaded in this JVM: " + ExecutorEngines.instancesCreated());
    }

    private record Timed(double seconds, long tokens) {}

    private interface Run {
        long tokens();
    }

    private static Timed time(Run run) {
        long start = System.nanoTime();
        long tokens = run.tokens();
        return new Timed((System.nanoTime() - start) / 1e9, tokens);
    }

    private static String row(String mode, int rows, Timed t) {
        return String.format(Locale.ROOT, "%-36s %8d %10.2f %10.2f %12.1f", mode, rows, t.seconds(),
                rows / t.seconds(), t.tokens() / t.seconds());
    }

    private static long plain(Engine engine, Moe4jSparkOptions options, List<String> prompts) {
        long tokens = 0;
        for (String p : prompts) {
            tokens += engine.chat(options.chatRequest(p, Moe4jSpark.rowSeed(p, options.seed())))
                    .usage().completionTokens();
        }
        return tokens;
    }

    private static long batched(Engine engine, Moe4jSparkOptions options, List<String> prompts) {
        ChatListener silent = new ChatListener() {};
        WindowedGeneration<String, ChatResponse> generation = new WindowedGeneration<>(prompts.iterator(),
                options.window(), p -> engine.chatStream(options.chatRequest(p, Moe4jSpark.rowSeed(p, options.seed())),
                        silent), (p, response) -> response);
        long tokens = 0;
        while (generation.hasNext()) {
            tokens += generation.next().usage().completionTokens();
        }
        return tokens;
    }
}
