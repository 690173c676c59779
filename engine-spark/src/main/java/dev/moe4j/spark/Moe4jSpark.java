package dev.moe4j.spark;

import dev.moe4j.api.Engine;
import java.io.Serial;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Batch generation over Spark: every row's prompt answered by a moe4j engine on the executor that holds the row.
 *
 * <pre>{@code
 * Moe4jSparkOptions options = Moe4jSparkOptions.builder()
 *         .modelPath("/models/Qwen3-0.6B-Q8_0.gguf").thinking(Thinking.OFF).maxTokens(256).seed(42).build();
 * Dataset<Row> answers = Moe4jSpark.chat(questions, "prompt", options);
 * // the input columns, then content, reasoning, finish_reason, prompt_tokens, completion_tokens
 * }</pre>
 *
 * <p>Each executor JVM loads the model once ({@link ExecutorEngines}) and its tasks share that engine, whose
 * scheduler batches their rows together; a partition keeps {@link Moe4jSparkOptions#window()} rows in flight, so a
 * partition of any size streams through in bounded memory. A row's seed is its seed column's value or
 * {@link #rowSeed(String, long)} of its prompt, never its position, so the output does not depend on how the rows
 * are partitioned. A null prompt gives null result columns. A model that fails to load fails the task with moe4j's
 * message (for example {@code model /x.gguf does not exist}), and so the job.
 *
 * <p>The executors' JVMs need {@code --add-modules jdk.incubator.vector} for the SIMD kernels (README, Spark).
 */
public final class Moe4jSpark {
    /** The columns appended to every row, in order. */
    static final StructField[] RESULT_FIELDS = {
            DataTypes.createStructField("content", DataTypes.StringType, true),
            DataTypes.createStructField("reasoning", DataTypes.StringType, true),
            DataTypes.createStructField("finish_reason", DataTypes.StringType, true),
            DataTypes.createStructField("prompt_tokens", DataTypes.IntegerType, true),
            DataTypes.createStructField("completion_tokens", DataTypes.IntegerType, true),
    };

    private static final Set<DataType> SEED_TYPES = Set.of(DataTypes.LongType, DataTypes.IntegerType,
            DataTypes.ShortType, DataTypes.ByteType);

    private Moe4jSpark() {}

    /**
     * Answers each row's prompt as a chat: the options' system prompt, then the prompt as the user's message,
     * rendered with the model's chat template.
     *
     * @param rows         the input; its rows come back in order within each partition
     * @param promptColumn the string column holding the prompts
     * @param options      the model and how to generate
     * @return the input columns, then {@code content}, {@code reasoning}, {@code finish_reason} ({@code stop},
     *     {@code stop_string}, {@code length}, {@code context_full}), {@code prompt_tokens} and
     *     {@code completion_tokens}; lazy, like every Spark transformation
     * @throws IllegalArgumentException if the prompt column (or the seed column) is missing or of the wrong type,
     *     or the input already has a result column's name
     */
    public static Dataset<Row> chat(Dataset<Row> rows, String promptColumn, Moe4jSparkOptions options) {
        return generate(rows, promptColumn, options, RowGeneration.Mode.CHAT);
    }

    /**
     * Continues each row's prompt as raw text, without a chat template (the system prompt and the thinking
     * settings do not apply; {@code reasoning} is empty).
     *
     * @param rows         the input
     * @param promptColumn the string column holding the prompts
     * @param options      the model and how to generate
     * @return the input columns and the result columns, as {@link #chat}
     * @throws IllegalArgumentException as {@link #chat}
     */
    public static Dataset<Row> complete(Dataset<Row> rows, String promptColumn, Moe4jSparkOptions options) {
        return generate(rows, promptColumn, options, RowGeneration.Mode.COMPLETION);
    }

    private static Dataset<Row> generate(Dataset<Row> rows, String promptColumn, Moe4jSparkOptions options,
                                         RowGeneration.Mode mode) {
        Objects.requireNonNull(rows, "rows");
        Objects.requireNonNull(options, "options");
        StructType schema = rows.schema();
        int promptIndex = column(schema, promptColumn, "prompt", Set.of(DataTypes.StringType));
        int seedIndex = options.seedColumn() == null ? -1 : column(schema, options.seedColumn(), "seed", SEED_TYPES);
        for (StructField result : RESULT_FIELDS) {
            if (Arrays.asList(schema.fieldNames()).contains(result.name())) {
                throw new IllegalArgumentException("the input already has a column '" + result.name()
                        + "', which the answers would add: rename it first");
            }
        }
        List<StructField> fields = new ArrayList<>(Arrays.asList(schema.fields()));
        fields.addAll(Arrays.asList(RESULT_FIELDS));
        StructType out = DataTypes.createStructType(fields);
        return rows.mapPartitions(new RowGeneration(options, mode, promptIndex, seedIndex), Encoders.row(out));
    }

    private static int column(StructType schema, String name, String role, Set<DataType> types) {
        Objects.requireNonNull(name, role + " column");
        List<String> names = Arrays.asList(schema.fieldNames());
        int index = names.indexOf(name);
        if (index < 0) {
            throw new IllegalArgumentException("no " + role + " column '" + name + "' among " + names);
        }
        DataType type = schema.fields()[index].dataType();
        if (!types.contains(type)) {
            throw new IllegalArgumentException(role + " column '" + name + "' is " + type.simpleString()
                    + ", not " + types.stream().map(DataType::simpleString).sorted().toList());
        }
        return index;
    }

    /**
     * The struct the SQL functions return: the result columns of {@link #chat}.
     *
     * @return {@code struct<content, reasoning, finish_reason, prompt_tokens, completion_tokens>}
     */
    public static StructType resultType() {
        return DataTypes.createStructType(RESULT_FIELDS);
    }

    /**
     * Registers a SQL function answering a prompt as a chat, returning {@link #resultType()} (null for a null
     * prompt): {@code SELECT id, name(prompt).content FROM questions}. With a seed column in the options the
     * function takes the seed as a second argument, {@code name(prompt, seed)}; otherwise seeds come from
     * {@link #rowSeed(String, long)}. A SQL function is called row by row, so each task has one request in flight
     * (the executor's tasks are still batched together): {@link #chat} keeps a window per task and is faster.
     *
     * @param spark   the session to register in
     * @param name    the function's name
     * @param options the model and how to generate
     */
    public static void registerChat(SparkSession spark, String name, Moe4jSparkOptions options) {
        register(spark, name, options, RowGeneration.Mode.CHAT);
    }

    /**
     * Registers a SQL function continuing a prompt as raw text; otherwise as {@link #registerChat}.
     *
     * @param spark   the session to register in
     * @param name    the function's name
     * @param options the model and how to generate
     */
    public static void registerCompletion(SparkSession spark, String name, Moe4jSparkOptions options) {
        register(spark, name, options, RowGeneration.Mode.COMPLETION);
    }

    private static void register(SparkSession spark, String name, Moe4jSparkOptions options, RowGeneration.Mode mode) {
        Objects.requireNonNull(options, "options");
        SqlFunction function = new SqlFunction(options, mode);
        if (options.seedColumn() == null) {
            spark.udf().register(name, (UDF1<String, Row>) function::answer, resultType());
        } else {
            spark.udf().register(name, (UDF2<String, Object, Row>) function::answer, resultType());
        }
    }

    /** The SQL functions' body: one row's prompt through this JVM's engine. */
    private record SqlFunction(Moe4jSparkOptions options, RowGeneration.Mode mode) implements java.io.Serializable {
        @Serial
        private static final long serialVersionUID = 1L;

        Row answer(String prompt) {
            return prompt == null ? null : answer(prompt, rowSeed(prompt, options.seed()));
        }

        Row answer(String prompt, Object seed) {
            if (prompt == null) {
                return null;
            }
            if (!(seed instanceof Number n) || seed instanceof Float || seed instanceof Double
                    || seed instanceof java.math.BigDecimal) {
                throw new IllegalArgumentException("the seed argument must be an integer, was "
                        + (seed == null ? "null" : seed.getClass().getSimpleName() + " " + seed));
            }
            Engine engine = ExecutorEngines.engineFor(options);
            return RowFactory.create(RowGeneration.resultValues(
                    RowGeneration.start(engine, options, mode, prompt, n.longValue()).await()));
        }
    }

    /**
     * The seed of a row without a seed column: a 64-bit hash of the prompt's UTF-8 bytes (FNV-1a) mixed with the
     * base seed by SplitMix64's finaliser. It depends on nothing but its arguments, so a row gets the same seed on
     * any executor, in any partition, in any run; equal prompts get equal seeds, hence equal answers (give a seed
     * column to vary them).
     *
     * @param prompt   the row's prompt
     * @param baseSeed the options' seed
     * @return the seed its request is sampled with
     */
    public static long rowSeed(String prompt, long baseSeed) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : prompt.getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix(hash ^ mix(baseSeed));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
