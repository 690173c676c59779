package dev.moe4j.spark;

import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.CompletionRequest;
import dev.moe4j.api.Engine;
import dev.moe4j.api.InvalidRequestException;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import java.io.Serial;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a Spark job generates: which model, where executors find it, the request each row becomes, the row seeds, and
 * how many rows a partition keeps in flight. Immutable and serializable (it travels inside Spark's closures); build
 * one with {@link #builder()}. Everything is checked by {@link Builder#build()}, on the driver, so a bad setting
 * fails before any task runs.
 *
 * <pre>{@code
 * Moe4jSparkOptions options = Moe4jSparkOptions.builder()
 *         .modelPath("hdfs:///models/Qwen3-0.6B-Q8_0.gguf")
 *         .systemPrompt("Answer in one sentence.")
 *         .thinking(Thinking.OFF)
 *         .temperature(0.7).topP(0.8).topK(20)
 *         .maxTokens(256)
 *         .seed(42)
 *         .build();
 * }</pre>
 */
public final class Moe4jSparkOptions implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    /** The {@code maxTokens} of options that name none. */
    public static final int DEFAULT_MAX_TOKENS = 512;
    /** The context length of options that name none: enough for a batch prompt and its answer, small in memory. */
    public static final int DEFAULT_CONTEXT_LENGTH = 4096;

    /**
     * The engine settings an executor's engine is loaded with; with the model's local path, the key under which
     * a JVM shares one engine.
     *
     * @param contextLength    positions per sequence; 0 = the model's (capped at 32768)
     * @param maxSequences     requests the engine generates at the same time
     * @param kvCacheBytes     the KV cache's memory; 0 = sized from the free heap
     * @param maxBatchTokens   tokens a step while nothing decodes
     * @param decodeStepTokens tokens a step while sequences decode
     * @param warmup           whether loading runs the model once for the JIT
     */
    public record EngineSettings(int contextLength, int maxSequences, long kvCacheBytes, int maxBatchTokens,
                                 int decodeStepTokens, boolean warmup) implements Serializable {
        /**
         * The engine options these settings stand for.
         *
         * @return the options, checked by {@link Engine.Options}
         * @throws InvalidRequestException if a size is out of range
         */
        public Engine.Options toEngineOptions() {
            return Engine.Options.defaults().withContextLength(contextLength).withMaxSequences(maxSequences)
                    .withKvCacheBytes(kvCacheBytes).withMaxBatchTokens(maxBatchTokens)
                    .withDecodeStepTokens(decodeStepTokens).withWarmup(warmup);
        }
    }

    private final String modelPath;
    private final boolean modelFromSparkFiles;
    private final String modelCacheDir;
    private final EngineSettings engine;
    private final String systemPrompt;
    private final Thinking thinking;
    private final int thinkingBudget;
    // the seven SamplingParams fields, or null for Qwen's recommendation (SamplingParams is not serializable)
    private final double[] sampling;
    private final int maxTokens;
    private final List<String> stop;
    private final long seed;
    private final String seedColumn;
    private final int window;

    private Moe4jSparkOptions(Builder b, double[] sampling) {
        this.modelPath = b.modelPath;
        this.modelFromSparkFiles = b.modelFromSparkFiles;
        this.modelCacheDir = b.modelCacheDir;
        this.engine = new EngineSettings(b.contextLength, b.maxSequences, b.kvCacheBytes, b.maxBatchTokens,
                b.decodeStepTokens, b.warmup);
        this.systemPrompt = b.systemPrompt;
        this.thinking = b.thinking;
        this.thinkingBudget = b.thinkingBudget;
        this.sampling = sampling;
        this.maxTokens = b.maxTokens;
        this.stop = List.copyOf(b.stop);
        this.seed = b.seed;
        this.seedColumn = b.seedColumn;
        this.window = b.window > 0 ? b.window : 2 * b.maxSequences;
    }

    /**
     * A builder with every default: no model yet, no system prompt, thinking as the template decides, Qwen's
     * sampling, {@value #DEFAULT_MAX_TOKENS} tokens, base seed 0, a window of twice the engine's sequences.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The model as given: a local path, a {@code file:} URI, any Hadoop file system URI ({@code hdfs:},
     * {@code s3a:}, ...), or a file name added with {@code SparkContext.addFile} when {@link #modelFromSparkFiles()}.
     *
     * @return the model's location
     */
    public String modelPath() {
        return modelPath;
    }

    /**
     * Whether {@link #modelPath()} names a file shipped with {@code SparkContext.addFile} (found through
     * {@code SparkFiles.get}).
     *
     * @return true for a shipped file
     */
    public boolean modelFromSparkFiles() {
        return modelFromSparkFiles;
    }

    /**
     * Where a model on a remote file system is copied, once per JVM.
     *
     * @return a local directory, or null for {@code java.io.tmpdir}/moe4j-models
     */
    public String modelCacheDir() {
        return modelCacheDir;
    }

    /**
     * The executor engine's settings.
     *
     * @return the settings
     */
    public EngineSettings engine() {
        return engine;
    }

    /**
     * The seed of a row whose seed is not taken from a column, mixed with a hash of its prompt.
     *
     * @return the base seed
     */
    public long seed() {
        return seed;
    }

    /**
     * The column holding each row's seed.
     *
     * @return a column name, or null to derive seeds from the prompt and {@link #seed()}
     */
    public String seedColumn() {
        return seedColumn;
    }

    /**
     * Rows a partition keeps submitted to the engine at once.
     *
     * @return the window, at least 1
     */
    public int window() {
        return window;
    }

    /**
     * The sampling parameters rows use.
     *
     * @return the parameters, or null for Qwen's recommendation for the thinking mode in use
     */
    public SamplingParams sampling() {
        return sampling == null ? null : new SamplingParams(sampling[0], (int) sampling[1], sampling[2], sampling[3],
                sampling[4], sampling[5], sampling[6]);
    }

    /**
     * The chat request a row's prompt becomes.
     *
     * @param prompt the user message
     * @param rowSeed the row's seed
     * @return the request: the system prompt if any, the prompt, thinking, sampling, length, stop strings and seed
     */
    public ChatRequest chatRequest(String prompt, long rowSeed) {
        ChatRequest.Builder b = ChatRequest.builder();
        if (systemPrompt != null) {
            b.system(systemPrompt);
        }
        return b.user(prompt).thinking(thinking).thinkingBudget(thinkingBudget).sampling(sampling())
                .maxTokens(maxTokens).stop(stop.toArray(String[]::new)).seed(rowSeed).build();
    }

    /**
     * The completion request a row's prompt becomes (no template: the system prompt and thinking do not apply).
     *
     * @param prompt the text to continue
     * @param rowSeed the row's seed
     * @return the request
     */
    public CompletionRequest completionRequest(String prompt, long rowSeed) {
        return new CompletionRequest(prompt, sampling(), maxTokens, stop, rowSeed);
    }

    /**
     * These options reading the model from another place, everything else equal.
     *
     * @param path a local path or a Hadoop file system URI
     * @return the new options
     */
    public Moe4jSparkOptions withModelPath(String path) {
        return toBuilder().modelPath(path).build();
    }

    private Builder toBuilder() {
        Builder b = new Builder();
        b.modelPath = modelPath;
        b.modelFromSparkFiles = modelFromSparkFiles;
        b.modelCacheDir = modelCacheDir;
        b.contextLength = engine.contextLength();
        b.maxSequences = engine.maxSequences();
        b.kvCacheBytes = engine.kvCacheBytes();
        b.maxBatchTokens = engine.maxBatchTokens();
        b.decodeStepTokens = engine.decodeStepTokens();
        b.warmup = engine.warmup();
        b.systemPrompt = systemPrompt;
        b.thinking = thinking;
        b.thinkingBudget = thinkingBudget;
        b.fixedSampling = sampling();
        b.maxTokens = maxTokens;
        b.stop.addAll(stop);
        b.seed = seed;
        b.seedColumn = seedColumn;
        b.window = window;
        return b;
    }

    /**
     * Builds {@link Moe4jSparkOptions}; not thread-safe. A sampling setter overrides one field of Qwen's
     * recommendation for the thinking mode chosen ({@link SamplingParams#THINKING} with {@link Thinking#ON},
     * {@link SamplingParams#NON_THINKING} otherwise); with none set, the engine picks that recommendation itself.
     */
    public static final class Builder {
        private String modelPath;
        private boolean modelFromSparkFiles;
        private String modelCacheDir;
        private int contextLength = DEFAULT_CONTEXT_LENGTH;
        private int maxSequences = Engine.Options.defaults().maxSequences();
        private long kvCacheBytes;
        private int maxBatchTokens = Engine.Options.defaults().maxBatchTokens();
        private int decodeStepTokens = Engine.Options.defaults().decodeStepTokens();
        private boolean warmup;
        private String systemPrompt;
        private Thinking thinking = Thinking.MODEL_DEFAULT;
        private int thinkingBudget = -1;
        private SamplingParams fixedSampling;
        private Double temperature;
        private Integer topK;
        private Double topP;
        private Double minP;
        private Double presencePenalty;
        private Double frequencyPenalty;
        private Double repetitionPenalty;
        private int maxTokens = DEFAULT_MAX_TOKENS;
        private final List<String> stop = new ArrayList<>();
        private long seed;
        private String seedColumn;
        private int window;

        private Builder() {}

        /**
         * Sets the model every executor loads: a local path (the same on every machine), a {@code file:} URI, or a
         * Hadoop file system URI ({@code hdfs://...}, {@code s3a://...}), copied to a local cache once per JVM.
         *
         * @param path the model's location
         * @return this builder
         */
        public Builder modelPath(String path) {
            this.modelPath = Objects.requireNonNull(path, "path");
            this.modelFromSparkFiles = false;
            return this;
        }

        /**
         * Sets the model to a file shipped with {@code SparkContext.addFile} (or {@code spark-submit --files}):
         * each executor finds its copy through {@code SparkFiles.get(fileName)}.
         *
         * @param fileName the shipped file's name, without directories
         * @return this builder
         */
        public Builder sparkFile(String fileName) {
            this.modelPath = Objects.requireNonNull(fileName, "fileName");
            this.modelFromSparkFiles = true;
            return this;
        }

        /**
         * Sets where a model on a remote file system is copied (default {@code java.io.tmpdir}/moe4j-models).
         *
         * @param dir a local directory on every executor
         * @return this builder
         */
        public Builder modelCacheDir(String dir) {
            this.modelCacheDir = dir;
            return this;
        }

        /**
         * Sets the engine's positions per sequence (default {@value #DEFAULT_CONTEXT_LENGTH}).
         *
         * @param tokens prompt and answer together; 0 = the model's own, capped at 32768
         * @return this builder
         */
        public Builder contextLength(int tokens) {
            this.contextLength = tokens;
            return this;
        }

        /**
         * Sets how many requests an executor's engine generates at once (default 8), shared by its tasks.
         *
         * @param n at least 1
         * @return this builder
         */
        public Builder maxSequences(int n) {
            this.maxSequences = n;
            return this;
        }

        /**
         * Sets the engine's KV-cache memory (default 0: 80 % of the heap still free after loading, which an
         * executor shares with Spark; set it when the executor does more than generate).
         *
         * @param bytes the KV cache's size, or 0
         * @return this builder
         */
        public Builder kvCacheBytes(long bytes) {
            this.kvCacheBytes = bytes;
            return this;
        }

        /**
         * Sets the engine's step budgets (see {@link Engine.Options}).
         *
         * @param maxBatchTokens   tokens a step while nothing decodes
         * @param decodeStepTokens tokens a step while sequences decode
         * @return this builder
         */
        public Builder stepTokens(int maxBatchTokens, int decodeStepTokens) {
            this.maxBatchTokens = maxBatchTokens;
            this.decodeStepTokens = decodeStepTokens;
            return this;
        }

        /**
         * Sets whether an executor's engine warms its kernels up at load (default off).
         *
         * @param on whether to warm up
         * @return this builder
         */
        public Builder warmup(boolean on) {
            this.warmup = on;
            return this;
        }

        /**
         * Sets a system message put before every row's prompt (chat only).
         *
         * @param prompt the instructions, or null for none
         * @return this builder
         */
        public Builder systemPrompt(String prompt) {
            this.systemPrompt = prompt;
            return this;
        }

        /**
         * Sets whether the model thinks (chat only).
         *
         * @param mode on, off, or the template's default
         * @return this builder
         */
        public Builder thinking(Thinking mode) {
            this.thinking = Objects.requireNonNull(mode, "thinking");
            return this;
        }

        /**
         * Sets the reasoning tokens allowed before the early-stop text is inserted (chat only).
         *
         * @param tokens the budget; -1 = unlimited
         * @return this builder
         */
        public Builder thinkingBudget(int tokens) {
            this.thinkingBudget = tokens;
            return this;
        }

        /**
         * Sets every sampling parameter at once (the per-field setters then override fields of it).
         *
         * @param params the parameters, or null for Qwen's recommendation
         * @return this builder
         */
        public Builder sampling(SamplingParams params) {
            this.fixedSampling = params;
            return this;
        }

        /**
         * Chooses the most likely token every step.
         *
         * @return this builder
         */
        public Builder greedy() {
            return sampling(SamplingParams.GREEDY);
        }

        /**
         * Sets the temperature.
         *
         * @param t at least 0; 0 = greedy
         * @return this builder
         */
        public Builder temperature(double t) {
            this.temperature = t;
            return this;
        }

        /**
         * Sets top-k.
         *
         * @param k at least 0; 0 = no limit
         * @return this builder
         */
        public Builder topK(int k) {
            this.topK = k;
            return this;
        }

        /**
         * Sets top-p.
         *
         * @param p in (0, 1]
         * @return this builder
         */
        public Builder topP(double p) {
            this.topP = p;
            return this;
        }

        /**
         * Sets min-p.
         *
         * @param p in [0, 1]
         * @return this builder
         */
        public Builder minP(double p) {
            this.minP = p;
            return this;
        }

        /**
         * Sets the presence penalty.
         *
         * @param p finite; 0 = off
         * @return this builder
         */
        public Builder presencePenalty(double p) {
            this.presencePenalty = p;
            return this;
        }

        /**
         * Sets the frequency penalty.
         *
         * @param p finite; 0 = off
         * @return this builder
         */
        public Builder frequencyPenalty(double p) {
            this.frequencyPenalty = p;
            return this;
        }

        /**
         * Sets the repetition penalty.
         *
         * @param p above 0; 1 = off
         * @return this builder
         */
        public Builder repetitionPenalty(double p) {
            this.repetitionPenalty = p;
            return this;
        }

        /**
         * Sets the generated tokens at most per row, reasoning included (default {@value #DEFAULT_MAX_TOKENS}).
         *
         * @param tokens at least 1
         * @return this builder
         */
        public Builder maxTokens(int tokens) {
            this.maxTokens = tokens;
            return this;
        }

        /**
         * Adds stop strings.
         *
         * @param strings non-empty strings that end a row's generation (not part of its output)
         * @return this builder
         */
        public Builder stop(String... strings) {
            stop.addAll(List.of(strings));
            return this;
        }

        /**
         * Sets the base seed: a row's seed is {@link Moe4jSpark#rowSeed(String, long)} of its prompt and this, so
         * the same rows give the same output however they are partitioned.
         *
         * @param seed any value
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Takes each row's seed from a column (an integer column; a null there fails the task) instead of
         * deriving it from the prompt.
         *
         * @param column the column's name, or null to derive seeds
         * @return this builder
         */
        public Builder seedColumn(String column) {
            this.seedColumn = column;
            return this;
        }

        /**
         * Sets how many rows a partition keeps submitted to the engine at once (default twice
         * {@link #maxSequences}): enough to keep the engine's batch full, few enough to bound a partition's memory.
         *
         * @param rows at least 1
         * @return this builder
         */
        public Builder window(int rows) {
            this.window = rows;
            return this;
        }

        /**
         * Checks the settings and builds the options.
         *
         * @return the options
         * @throws InvalidRequestException naming the first setting out of range, or a missing model
         */
        public Moe4jSparkOptions build() {
            if (modelPath == null || modelPath.isBlank()) {
                throw new InvalidRequestException("no model: set modelPath(...) or sparkFile(...)");
            }
            if (window < 0) {
                throw new InvalidRequestException("window must be >= 1 rows, was " + window);
            }
            if (seedColumn != null && seedColumn.isBlank()) {
                throw new InvalidRequestException("seedColumn must name a column, was blank");
            }
            SamplingParams params = resolvedSampling();
            double[] packed = params == null ? null : new double[] {params.temperature(), params.topK(),
                    params.topP(), params.minP(), params.presencePenalty(), params.frequencyPenalty(),
                    params.repetitionPenalty()};
            Moe4jSparkOptions options = new Moe4jSparkOptions(this, packed);
            // the engine's and the request's own checks, here on the driver rather than in the first task
            options.engine.toEngineOptions();
            options.chatRequest("check", 0);
            options.completionRequest("check", 0);
            return options;
        }

        private SamplingParams resolvedSampling() {
            boolean anyField = temperature != null || topK != null || topP != null || minP != null
                    || presencePenalty != null || frequencyPenalty != null || repetitionPenalty != null;
            if (!anyField) {
                return fixedSampling;
            }
            SamplingParams p = fixedSampling != null ? fixedSampling
                    : thinking == Thinking.ON ? SamplingParams.THINKING : SamplingParams.NON_THINKING;
            if (temperature != null) {
                p = p.withTemperature(temperature);
            }
            if (topK != null) {
                p = p.withTopK(topK);
            }
            if (topP != null) {
                p = p.withTopP(topP);
            }
            if (minP != null) {
                p = p.withMinP(minP);
            }
            if (presencePenalty != null) {
                p = p.withPresencePenalty(presencePenalty);
            }
            if (frequencyPenalty != null) {
                p = p.withFrequencyPenalty(frequencyPenalty);
            }
            if (repetitionPenalty != null) {
                p = p.withRepetitionPenalty(repetitionPenalty);
            }
            return p;
        }
    }
}
