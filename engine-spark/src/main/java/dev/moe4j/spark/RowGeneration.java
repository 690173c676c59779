package dev.moe4j.spark;

import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.Engine;
import dev.moe4j.api.InvalidRequestException;
import java.io.Serial;
import java.util.Collections;
import java.util.Iterator;
import java.util.Locale;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.TaskCompletionListener;

/**
 * A partition's rows through its executor's engine: each row's prompt becomes a request, at most
 * {@link Moe4jSparkOptions#window()} of them in flight, and each row comes back with the answer's columns appended.
 */
final class RowGeneration implements MapPartitionsFunction<Row, Row> {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Chat through the model's template, or raw completion. */
    enum Mode { CHAT, COMPLETION }

    /** Requests are awaited, not streamed: nothing to hear along the way. */
    private static final ChatListener SILENT = new ChatListener() {};

    private final Moe4jSparkOptions options;
    private final Mode mode;
    private final int promptIndex;
    private final int seedIndex;

    /**
     * @param seedIndex the seed column's index, or -1 to derive seeds from the prompts
     */
    RowGeneration(Moe4jSparkOptions options, Mode mode, int promptIndex, int seedIndex) {
        this.options = options;
        this.mode = mode;
        this.promptIndex = promptIndex;
        this.seedIndex = seedIndex;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        if (!rows.hasNext()) {
            // an empty partition loads no engine
            return Collections.emptyIterator();
        }
        Engine engine = ExecutorEngines.engineFor(options);
        WindowedGeneration<Row, Row> generation = new WindowedGeneration<>(rows, options.window(),
                row -> submit(engine, row), RowGeneration::withAnswer);
        TaskContext task = TaskContext.get();
        if (task != null) {
            // a task killed, failed, or whose consumer stopped early (a limit) frees its requests' KV blocks
            task.addTaskCompletionListener((TaskCompletionListener) context -> generation.close());
        }
        return generation;
    }

    private ChatHandle submit(Engine engine, Row row) {
        if (row.isNullAt(promptIndex)) {
            return null;
        }
        String prompt = row.getString(promptIndex);
        long seed;
        if (seedIndex < 0) {
            seed = Moe4jSpark.rowSeed(prompt, options.seed());
        } else if (row.isNullAt(seedIndex)) {
            throw new InvalidRequestException("seed column '" + options.seedColumn() + "' is null in a row whose prompt"
                    + " is not: every prompted row needs a seed");
        } else {
            seed = ((Number) row.get(seedIndex)).longValue();
        }
        return start(engine, options, mode, prompt, seed);
    }

    static ChatHandle start(Engine engine, Moe4jSparkOptions options, Mode mode, String prompt, long seed) {
        return mode == Mode.CHAT
                ? engine.chatStream(options.chatRequest(prompt, seed), SILENT)
                : engine.completeStream(options.completionRequest(prompt, seed), SILENT);
    }

    private static Row withAnswer(Row row, ChatResponse response) {
        int n = row.length();
        Object[] values = new Object[n + Moe4jSpark.RESULT_FIELDS.length];
        for (int i = 0; i < n; i++) {
            values[i] = row.get(i);
        }
        if (response != null) {
            System.arraycopy(resultValues(response), 0, values, n, Moe4jSpark.RESULT_FIELDS.length);
        }
        return RowFactory.create(values);
    }

    /** content, reasoning, finish_reason, prompt_tokens, completion_tokens: {@link Moe4jSpark#RESULT_FIELDS}. */
    static Object[] resultValues(ChatResponse response) {
        return new Object[] {response.content(), response.reasoning(),
                response.finishReason().name().toLowerCase(Locale.ROOT), response.usage().promptTokens(),
                response.usage().completionTokens()};
    }
}
