package dev.moe4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.CompletionRequest;
import dev.moe4j.api.Engine;
import dev.moe4j.api.InvalidRequestException;
import dev.moe4j.api.Moe4jException;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spark in local[2] mode against the bundled tiny model: every answer must equal what {@link Engine} gives for the
 * same request called directly, one row at a time, whatever the partitioning.
 */
class Moe4jSparkTest {
    static final Path MODEL = Path.of("..", "models", "qwen3-moe-tiny.q8_0.gguf").toAbsolutePath().normalize();
    static final int ROWS = 200;
    static final int MAX_TOKENS = 6;
    static final String SYSTEM = "Answer briefly.";
    static final SamplingParams SAMPLED = new SamplingParams(0.9, 40, 0.95, 0.02, 0, 0, 1.1);
    static final StructType QUESTIONS = DataTypes.createStructType(List.of(
            DataTypes.createStructField("id", DataTypes.IntegerType, false),
            DataTypes.createStructField("prompt", DataTypes.StringType, true),
            DataTypes.createStructField("seed", DataTypes.LongType, true)));

    static SparkSession spark;
    static Engine direct;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("moe4j-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                // a remote file system for the copy-to-local-cache path: the local disk under its own scheme
                .config("spark.hadoop.fs.testfs.impl", SchemeLocalFileSystem.class.getName())
                .config("spark.hadoop.fs.testfs.impl.disable.cache", "true")
                .getOrCreate();
        direct = Engine.load(MODEL, baseOptions().build().engine().toEngineOptions());
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
        if (direct != null) {
            direct.close();
        }
    }

    /** The local file system under the scheme {@code testfs:}, standing in for HDFS or S3. */
    public static final class SchemeLocalFileSystem extends RawLocalFileSystem {
        @Override
        public URI getUri() {
            return URI.create("testfs:///");
        }

        @Override
        public String getScheme() {
            return "testfs";
        }
    }

    static Moe4jSparkOptions.Builder baseOptions() {
        return Moe4jSparkOptions.builder().modelPath(MODEL.toString()).maxTokens(MAX_TOKENS).contextLength(256)
                .maxSequences(4).seed(1234);
    }

    static String prompt(int i) {
        String[] topics = {"the sea", "a JVM", "bread", "rivers", "prime numbers", "autumn", "trains"};
        return "Question " + i + ": tell me about " + topics[i % topics.length] + (i % 3 == 0 ? "!" : ".");
    }

    static Dataset<Row> questions(int n, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(RowFactory.create(i, prompt(i), 7919L * i + 3));
        }
        return spark.createDataFrame(rows, QUESTIONS).repartition(partitions);
    }

    /** The request a row becomes, built here from the API so that the expectation does not reuse the module's. */
    static ChatRequest chatRequest(String prompt, SamplingParams sampling, Thinking thinking, long seed) {
        return ChatRequest.builder().system(SYSTEM).user(prompt).thinking(thinking).thinkingBudget(4)
                .sampling(sampling).maxTokens(MAX_TOKENS).seed(seed).build();
    }

    static Map<Integer, Row> byId(Dataset<Row> answers) {
        Map<Integer, Row> out = new HashMap<>();
        for (Row r : answers.collectAsList()) {
            out.put(r.getInt(r.fieldIndex("id")), r);
        }
        return out;
    }

    static void assertAnswer(ChatResponse expected, Row row, String what) {
        assertEquals(expected.content(), row.getAs("content"), what + " content");
        assertEquals(expected.reasoning(), row.getAs("reasoning"), what + " reasoning");
        assertEquals(expected.finishReason().name().toLowerCase(Locale.ROOT), row.getAs("finish_reason"),
                what + " finish_reason");
        assertEquals(expected.usage().promptTokens(), (int) row.getAs("prompt_tokens"), what + " prompt_tokens");
        assertEquals(expected.usage().completionTokens(), (int) row.getAs("completion_tokens"),
                what + " completion_tokens");
    }

    @Test
    void chatEqualsTheEngineRowByRowWhateverThePartitioning() {
        int enginesBefore = ExecutorEngines.instancesCreated();
        Moe4jSparkOptions greedy = baseOptions().systemPrompt(SYSTEM).thinking(Thinking.OFF).thinkingBudget(4)
                .greedy().build();
        Moe4jSparkOptions sampled = baseOptions().systemPrompt(SYSTEM).thinking(Thinking.ON).thinkingBudget(4)
                .temperature(0.9).topK(40).topP(0.95).minP(0.02).repetitionPenalty(1.1).build();
        Map<String, Function<Integer, ChatRequest>> expectations = Map.of(
                "greedy", i -> chatRequest(prompt(i), SamplingParams.GREEDY, Thinking.OFF,
                        Moe4jSpark.rowSeed(prompt(i), 1234)),
                "sampled", i -> chatRequest(prompt(i), SAMPLED, Thinking.ON, Moe4jSpark.rowSeed(prompt(i), 1234)));
        Map<String, Moe4jSparkOptions> options = Map.of("greedy", greedy, "sampled", sampled);
        Map<String, List<ChatResponse>> expected = new HashMap<>();
        for (String mode : options.keySet()) {
            List<ChatResponse> answers = new ArrayList<>();
            for (int i = 0; i < ROWS; i++) {
                answers.add(direct.chat(expectations.get(mode).apply(i)));
            }
            expected.put(mode, answers);
        }
        int differing = 0;
        for (int i = 0; i < ROWS; i++) {
            if (!expected.get("greedy").get(i).content().equals(expected.get("sampled").get(i).content())) {
                differing++;
            }
        }
        assertTrue(differing > ROWS / 2, "sampling changes most answers (" + differing + " of " + ROWS + ")");

        for (int partitions : new int[] {1, 3, 8}) {
            Dataset<Row> input = questions(ROWS, partitions);
            assertEquals(partitions, input.rdd().getNumPartitions());
            for (String mode : options.keySet()) {
                Dataset<Row> answers = Moe4jSpark.chat(input, "prompt", options.get(mode));
                assertEquals(List.of("id", "prompt", "seed", "content", "reasoning", "finish_reason", "prompt_tokens",
                        "completion_tokens"), List.of(answers.schema().fieldNames()));
                Map<Integer, Row> rows = byId(answers);
                assertEquals(ROWS, rows.size());
                for (int i = 0; i < ROWS; i++) {
                    assertEquals(prompt(i), rows.get(i).getAs("prompt"));
                    assertAnswer(expected.get(mode).get(i), rows.get(i), mode + ", " + partitions
                            + " partitions, row " + i);
                }
            }
        }
        // one engine for both sampling modes and every partitioning (none if an earlier test loaded it)
        assertTrue(ExecutorEngines.instancesCreated() - enginesBefore <= 1,
                ExecutorEngines.instancesCreated() - enginesBefore + " engines loaded");
        assertTrue(ExecutorEngines.instancesCreated() >= 1);
    }

    @Test
    void tasksStartingTogetherLoadOneEngine() {
        // settings no other test uses: a fresh key, which both tasks of local[2] ask for at once
        Moe4jSparkOptions options = baseOptions().maxSequences(3).greedy().build();
        int before = ExecutorEngines.instancesCreated();
        assertEquals(8, Moe4jSpark.chat(questions(8, 2), "prompt", options).collectAsList().size());
        assertEquals(8, Moe4jSpark.chat(questions(8, 4), "prompt", options).collectAsList().size());
        assertEquals(1, ExecutorEngines.instancesCreated() - before);
    }

    @Test
    void completionAndSeedColumnEqualTheEngine() {
        Moe4jSparkOptions options = baseOptions().sampling(SAMPLED).seedColumn("seed").build();
        Map<Integer, Row> chats = byId(Moe4jSpark.chat(questions(24, 3), "prompt", options));
        Map<Integer, Row> completions = byId(Moe4jSpark.complete(questions(24, 3), "prompt", options));
        for (int i = 0; i < 24; i++) {
            long seed = 7919L * i + 3;
            ChatRequest chat = ChatRequest.builder().user(prompt(i)).sampling(SAMPLED).maxTokens(MAX_TOKENS)
                    .seed(seed).build();
            assertAnswer(direct.chat(chat), chats.get(i), "chat row " + i);
            assertAnswer(direct.complete(new CompletionRequest(prompt(i), SAMPLED, MAX_TOKENS, null, seed)),
                    completions.get(i), "completion row " + i);
        }
    }

    @Test
    void sqlFunctionsEqualTheEngine() {
        Moe4jSparkOptions options = baseOptions().greedy().build();
        Moe4jSpark.registerChat(spark, "moe4j_chat", options);
        Moe4jSpark.registerCompletion(spark, "moe4j_complete", baseOptions().sampling(SAMPLED).seedColumn("seed")
                .build());
        questions(10, 2).union(spark.createDataFrame(List.of(RowFactory.create(99, null, 1L)), QUESTIONS))
                .createOrReplaceTempView("questions");
        Map<Integer, Row> rows = new HashMap<>();
        for (Row r : spark.sql("SELECT id, moe4j_chat(prompt) AS chat, moe4j_complete(prompt, seed) AS completion"
                + " FROM questions").collectAsList()) {
            rows.put(r.getInt(0), r);
        }
        assertEquals(11, rows.size());
        for (int i = 0; i < 10; i++) {
            long seed = 7919L * i + 3;
            ChatResponse chat = direct.chat(ChatRequest.builder().user(prompt(i)).greedy().maxTokens(MAX_TOKENS)
                    .seed(Moe4jSpark.rowSeed(prompt(i), 1234)).build());
            assertAnswer(chat, rows.get(i).getStruct(1), "chat row " + i);
            ChatResponse completion = direct.complete(new CompletionRequest(prompt(i), SAMPLED, MAX_TOKENS, null,
                    seed));
            assertAnswer(completion, rows.get(i).getStruct(2), "completion row " + i);
        }
        assertNull(rows.get(99).get(1), "a null prompt gives a null answer");
        assertNull(rows.get(99).get(2));
    }

    @Test
    void aNullPromptGivesNullColumnsAndTheRowStays() {
        Dataset<Row> input = spark.createDataFrame(List.of(RowFactory.create(0, null, 5L),
                RowFactory.create(1, prompt(1), 5L)), QUESTIONS);
        Map<Integer, Row> rows = byId(Moe4jSpark.chat(input, "prompt", baseOptions().greedy().build()));
        assertNull(rows.get(0).getAs("content"));
        assertNull(rows.get(0).getAs("prompt_tokens"));
        assertAnswer(direct.chat(ChatRequest.builder().user(prompt(1)).greedy().maxTokens(MAX_TOKENS)
                .seed(Moe4jSpark.rowSeed(prompt(1), 1234)).build()), rows.get(1), "row 1");
    }

    @Test
    void aModelShippedWithAddFileOrReadFromAnotherFileSystemGivesTheSameAnswers(@TempDir Path cache) throws Exception {
        spark.sparkContext().addFile(MODEL.toString());
        Moe4jSparkOptions shipped = baseOptions().greedy().sparkFile(MODEL.getFileName().toString()).build();
        Moe4jSparkOptions remote = baseOptions().greedy().modelPath("testfs://" + MODEL).modelCacheDir(cache.toString())
                .build();
        Moe4jSparkOptions local = baseOptions().greedy().build();
        Map<Integer, Row> expected = byId(Moe4jSpark.chat(questions(12, 2), "prompt", local));
        for (Moe4jSparkOptions options : List.of(shipped, remote)) {
            Map<Integer, Row> rows = byId(Moe4jSpark.chat(questions(12, 2), "prompt", options));
            assertEquals(expected, rows, options.modelPath());
        }
        try (var copies = Files.list(cache)) {
            List<Path> files = copies.toList();
            assertEquals(1, files.size(), "one copy in the cache: " + files);
            assertEquals(-1, Files.mismatch(MODEL, files.getFirst()), "the copy has the model's bytes");
        }
    }

    @Test
    void aModelThatFailsToLoadFailsTheJobWithMoe4jsMessage(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("no-such-model.gguf");
        Path corrupt = Files.writeString(dir.resolve("corrupt.gguf"), "this is not a GGUF file");
        for (Path model : List.of(missing, corrupt)) {
            String engineMessage = assertThrows(Moe4jException.class, () -> Engine.load(model)).getMessage();
            Moe4jSparkOptions options = baseOptions().modelPath(model.toString()).build();
            SparkException failure = assertThrows(SparkException.class,
                    () -> Moe4jSpark.chat(questions(4, 2), "prompt", options).collectAsList());
            assertTrue(failure.getMessage().contains(engineMessage),
                    "the task failure carries \"" + engineMessage + "\": " + failure.getMessage());
        }
        Moe4jSparkOptions notShipped = baseOptions().sparkFile("never-shipped.gguf").build();
        SparkException failure = assertThrows(SparkException.class,
                () -> Moe4jSpark.chat(questions(2, 1), "prompt", notShipped).collectAsList());
        assertTrue(failure.getMessage().contains("model never-shipped.gguf was not shipped with SparkContext.addFile"),
                failure.getMessage());
    }

    @Test
    void badColumnsAndSettingsAreRefusedOnTheDriver() {
        Moe4jSparkOptions options = baseOptions().build();
        Dataset<Row> input = questions(2, 1);
        assertEquals("no prompt column 'question' among [id, prompt, seed]", assertThrows(
                IllegalArgumentException.class, () -> Moe4jSpark.chat(input, "question", options)).getMessage());
        assertEquals("prompt column 'id' is int, not [string]", assertThrows(IllegalArgumentException.class,
                () -> Moe4jSpark.chat(input, "id", options)).getMessage());
        assertEquals("seed column 'prompt' is string, not [bigint, int, smallint, tinyint]", assertThrows(
                IllegalArgumentException.class, () -> Moe4jSpark.chat(input, "prompt",
                        baseOptions().seedColumn("prompt").build())).getMessage());
        Dataset<Row> answered = Moe4jSpark.chat(input, "prompt", options);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Moe4jSpark.chat(answered, "prompt", options))
                .getMessage().contains("already has a column 'content'"));
        assertEquals("topP must be in (0, 1], was 2.0", assertThrows(InvalidRequestException.class,
                () -> baseOptions().topP(2).build()).getMessage());
        assertEquals("maxTokens must be >= 1, was 0", assertThrows(InvalidRequestException.class,
                () -> baseOptions().maxTokens(0).build()).getMessage());
        assertTrue(assertThrows(InvalidRequestException.class, () -> Moe4jSparkOptions.builder().build())
                .getMessage().contains("no model"));
    }

    @Test
    void rowSeedsDependOnThePromptAndTheBaseSeedOnly() {
        assertEquals(Moe4jSpark.rowSeed("same prompt", 7), Moe4jSpark.rowSeed(new String("same prompt"), 7));
        assertFalse(Moe4jSpark.rowSeed("same prompt", 7) == Moe4jSpark.rowSeed("same prompt", 8));
        assertFalse(Moe4jSpark.rowSeed("same prompt", 7) == Moe4jSpark.rowSeed("same prompt!", 7));
        assertFalse(Moe4jSpark.rowSeed("", 0) == 0);
    }
}
