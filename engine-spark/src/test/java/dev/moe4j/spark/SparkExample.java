package dev.moe4j.spark;

import dev.moe4j.api.Thinking;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Batch generation on Spark in local mode, as {@code scripts/spark-example [MODEL.gguf] [ROWS]} runs it: a DataFrame
 * of questions answered with {@link Moe4jSpark#chat}, then the same through a SQL function. Without a model it uses
 * the bundled tiny model, whose random weights answer with meaningless text.
 */
public final class SparkExample {
    private SparkExample() {}

    /**
     * Runs the example.
     *
     * @param args the model (default: models/qwen3-moe-tiny.q8_0.gguf) and the number of rows (default 16)
     */
    public static void main(String[] args) {
        String model = args.length > 0 ? args[0] : Path.of("models", "qwen3-moe-tiny.q8_0.gguf").toString();
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        String[] topics = {"the sky", "the sea", "bread", "rivers", "prime numbers", "autumn", "trains", "the JVM"};
        List<Row> questions = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            questions.add(RowFactory.create(i, "In one sentence: why is " + topics[i % topics.length] + " interesting?"));
        }
        StructType schema = DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.IntegerType, false),
                DataTypes.createStructField("prompt", DataTypes.StringType, false)));

        SparkSession spark = SparkSession.builder().master("local[2]").appName("moe4j-spark-example")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            Moe4jSparkOptions options = Moe4jSparkOptions.builder()
                    .modelPath(model)
                    .systemPrompt("You are a concise assistant.")
                    .thinking(Thinking.OFF)
                    .temperature(0.7).topP(0.8).topK(20)
                    .maxTokens(48)
                    .seed(42)
                    .build();
            Dataset<Row> input = spark.createDataFrame(questions, schema).repartition(2);
            Dataset<Row> answers = Moe4jSpark.chat(input, "prompt", options);
            answers.select("id", "content", "finish_reason", "prompt_tokens", "completion_tokens").orderBy("id")
                    .show(rows, 60);

            Moe4jSpark.registerChat(spark, "moe4j_chat", options);
            input.createOrReplaceTempView("questions");
            spark.sql("SELECT id, moe4j_chat(prompt).content AS answer FROM questions WHERE id < 4 ORDER BY id")
                    .show(false);
            System.out.println("moe4j engines loaded in this JVM (driver and executor in local mode): "
                    + ExecutorEngines.instancesCreated());
        } finally {
            spark.stop();
        }
    }
}
