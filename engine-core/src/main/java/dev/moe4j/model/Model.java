package dev.moe4j.model;

import dev.moe4j.api.BadModelFileException;
import dev.moe4j.api.ContextFullException;
import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.LayerState;
import dev.moe4j.cache.Sequence;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTensor;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.kernels.Matrix;
import dev.moe4j.kernels.Rope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A loaded Qwen3-family decoder: config and immutable weights, shareable across threads. {@link #forward} runs
 * one {@link Batch} against the sequences' KV cache and returns the logits rows asked for. Per-call state lives
 * in a {@link Scratch} and the sequences; nothing about a sequence is kept here.
 */
public final class Model implements AutoCloseable {
    private final ModelConfig config;
    private final Architecture architecture;
    private final Weights.Model weights;
    private final Rope rope;
    private final Kernels kernels;
    private final AutoCloseable storage;
    private final HuggingFaceFiles huggingFace;

    public Model(ModelConfig config, Architecture architecture, Weights.Model weights, Kernels kernels,
                 AutoCloseable storage) {
        this(config, architecture, weights, kernels, storage, null);
    }

    /** {@code huggingFace} is the model directory's side files, or null for a GGUF file. */
    public Model(ModelConfig config, Architecture architecture, Weights.Model weights, Kernels kernels,
                 AutoCloseable storage, HuggingFaceFiles huggingFace) {
        this.config = Objects.requireNonNull(config);
        this.architecture = Objects.requireNonNull(architecture);
        this.weights = Objects.requireNonNull(weights);
        this.kernels = Objects.requireNonNull(kernels);
        this.storage = storage;
        this.huggingFace = huggingFace;
        this.rope = config.rope();
    }

    /** Loads a GGUF file (mapped, not copied) with the default kernels. */
    public static Model loadGguf(Path path) {
        return loadGguf(path, Kernels.get());
    }

    public static Model loadGguf(Path path, Kernels kernels) {
        return loadGguf(path, kernels, GgufTensorSource.roundedActivationsByDefault());
    }

    /**
     * A GGUF file, its Q4_0 matrices given (or not) their rounded-activation form: decode then rounds activations
     * per block of 32 as llama.cpp does and runs faster, not with the F32 path's bits
     * (see {@link dev.moe4j.kernels.Q4_0Rounded}). Without this argument the system property
     * {@value GgufTensorSource#ROUNDED_ACTIVATIONS_PROPERTY} decides (default off).
     */
    public static Model loadGguf(Path path, Kernels kernels, boolean roundedActivations) {
        GgufFile file = GgufFile.open(path);
        try {
            GgufTensorSource tensors =
                    new GgufTensorSource(file, GgufTensorSource.repackByDefault(), roundedActivations);
            GgufTensor embedding = file.tensor(TensorName.TOKEN_EMBEDDING.gguf(-1));
            if (embedding == null || embedding.rank() != 2) {
                throw new BadModelFileException(path + ": missing 2-D tensor '" + TensorName.TOKEN_EMBEDDING.gguf(-1) + "'");
            }
            int vocab = Math.toIntExact(embedding.dim(1));
            boolean tied = !tensors.has(TensorName.OUTPUT, -1);
            ModelConfig config = ConfigKeys.fromGguf(file.metadata(), vocab, tied);
            Architecture arch = Architecture.forName(config.architecture());
            return new Model(config, arch, load(tensors, config, arch), kernels, file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Loads a {@code .gguf} file or a Hugging Face model directory with the default kernels. */
    public static Model load(Path path) {
        return load(path, Kernels.get());
    }

    public static Model load(Path path, Kernels kernels) {
        return load(path, kernels, GgufTensorSource.roundedActivationsByDefault());
    }

    /**
     * A {@code .gguf} file or a Hugging Face model directory; {@code roundedActivations} as for
     * {@link #loadGguf(Path, Kernels, boolean)} (Hugging Face checkpoints hold no Q4_0 matrices, so it changes nothing
     * for them).
     */
    public static Model load(Path path, Kernels kernels, boolean roundedActivations) {
        if (Files.isDirectory(path)) {
            return loadHuggingFace(path, kernels);
        }
        if (!Files.exists(path)) {
            throw new BadModelFileException("model " + path + " does not exist");
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".safetensors") || name.endsWith(".json")) {
            throw new BadModelFileException(path + " is one file of a Hugging Face model: pass its directory "
                    + path.toAbsolutePath().getParent());
        }
        return loadGguf(path, kernels, roundedActivations);
    }

    /** Loads a Hugging Face model directory (config.json + safetensors, mapped, not copied) with the default kernels. */
    public static Model loadHuggingFace(Path dir) {
        return loadHuggingFace(dir, Kernels.get());
    }

    public static Model loadHuggingFace(Path dir, Kernels kernels) {
        return HuggingFaceLoader.load(dir, kernels);
    }

    /** Resolves every weight: the shared embedding, final norm and head, and the architecture's layers. */
    public static Weights.Model load(TensorSource tensors, ModelConfig config, Architecture arch) {
        int hidden = config.hiddenSize();
        Matrix embedding = tensors.matrix(TensorName.TOKEN_EMBEDDING, -1, config.vocabSize(), hidden);
        List<Weights.Layer> layers = new ArrayList<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            layers.add(arch.layer(tensors, config, layer));
        }
        float[] outputNorm = tensors.vector(TensorName.OUTPUT_NORM, -1, hidden);
        Matrix output = config.tiedEmbeddings()
                ? embedding
                : tensors.matrix(TensorName.OUTPUT, -1, config.vocabSize(), hidden);
        return new Weights.Model(embedding, layers, outputNorm, output);
    }

    public ModelConfig config() {
        return config;
    }

    public Architecture architecture() {
        return architecture;
    }

    public Weights.Model weights() {
        return weights;
    }

    public Kernels kernels() {
        return kernels;
    }

    /** The side files (tokenizer, generation settings) of a Hugging Face directory; empty for a GGUF file. */
    public Optional<HuggingFaceFiles> huggingFaceFiles() {
        return Optional.ofNullable(huggingFace);
    }

    /** End tokens and default sampling: generation_config.json for a Hugging Face directory, else the defaults. */
    public GenerationConfig generationConfig() {
        return huggingFace != null ? huggingFace.generation() : GenerationConfig.DEFAULTS;
    }


    /** A KV cache for this model with room for {@code sequences} sequences of up to {@code maxPositions}. */
    public KvCache newKvCache(int maxPositions, int blockSize, int sequences) {
        int blocksPerSequence = (maxPositions + blockSize - 1) / blockSize;
        return new KvCache(stateLayout(), blockSize, Math.multiplyExact(blocksPerSequence, sequences), maxPositions,
                sequences);
    }

    /** What each layer keeps per sequence (for a {@link KvCache} of this model). */
    public List<LayerState> stateLayout() {
        return weights.layers().stream().map(l -> l.mixer().state()).toList();
    }

    /**
     * Runs the batch: writes its keys and values into its sequences' blocks, advances each sequence's length,
     * and returns the logits of the rows that asked for them, {@code [rows][vocab]} in batch order.
     */
    public float[] forward(Batch batch, Scratch s) {
        int n = batch.size();
        KvCache cache = validate(batch);
        s.ensure(n);
        int hidden = config.hiddenSize();
        float eps = config.rmsNormEps();

        for (int t = 0; t < n; t++) {
            kernels.dequantizeRow(weights.embedding(), batch.token(t), s.x, t * hidden);
        }
        // the rotary angles of each token's position, for every layer
        kernels.parallel().forRange(n, 16, (first, end) -> {
            for (int t = first; t < end; t++) {
                rope.cosSin(batch.position(t), s.cos[t], s.sin[t]);
            }
        });
        for (int layer = 0; layer < config.numLayers(); layer++) {
            Weights.Layer w = weights.layers().get(layer);
            kernels.rmsNormRows(s.xn, 0, s.x, 0, w.inputNorm(), n, hidden, eps);
            switch (w.mixer()) {
                case Weights.Attention a -> AttentionBlock.forward(kernels, config, a, layer, batch, cache, s);
                case Weights.GatedAttention a -> AttentionBlock.forwardGated(kernels, config, a, layer, batch, cache, s);
                case Weights.DeltaNet d -> DeltaNetBlock.forward(kernels, config, d, layer, batch, cache, s);
            }
            kernels.axpy(s.x, 0, 1f, s.out, 0, n * hidden);
            kernels.rmsNormRows(s.xn, 0, s.x, 0, w.ffnNorm(), n, hidden, eps);
            FeedForwardBlock.forward(kernels, config, w.feedForward(), n, s);
            kernels.axpy(s.x, 0, 1f, s.out, 0, n * hidden);
        }
        for (int t = 0; t < n; t++) {
            Sequence seq = batch.sequence(t);
            seq.setLength(Math.max(seq.length(), batch.position(t) + 1));
        }

        // final norm and output head, only for the rows asked for
        int rows = 0;
        for (int t = 0; t < n; t++) {
            if (batch.wantsLogits(t)) {
                kernels.rmsNorm(s.xn, rows * hidden, s.x, t * hidden, weights.outputNorm(), hidden, eps);
                rows++;
            }
        }
        if (rows == 0) {
            return new float[0];
        }
        float[] logits = new float[rows * config.vocabSize()];
        kernels.matmul(logits, weights.output(), s.xn, rows);
        return logits;
    }

    /** Checks tokens and positions, reserves KV blocks; returns the cache all sequences share. */
    private KvCache validate(Batch batch) {
        KvCache cache = batch.sequence(0).cache();
        if (!cache.layers().equals(stateLayout())) {
            throw new IllegalArgumentException("KV cache layers " + cache.layers() + " do not match the model's "
                    + stateLayout());
        }
        Map<Sequence, Integer> next = new HashMap<>();
        for (int t = 0; t < batch.size(); t++) {
            Sequence seq = batch.sequence(t);
            if (seq.cache() != cache) {
                throw new IllegalArgumentException("batch token " + t + ": all sequences of a batch must share one KV cache");
            }
            if (seq.isClosed()) {
                throw new IllegalArgumentException("batch token " + t + ": sequence " + seq.id() + " is closed");
            }
            int token = batch.token(t);
            if (token < 0 || token >= config.vocabSize()) {
                throw new IllegalArgumentException("batch token " + t + ": id " + token
                        + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
            int expected = next.getOrDefault(seq, seq.length());
            if (batch.position(t) != expected) {
                throw new IllegalArgumentException("batch token " + t + ": position " + batch.position(t)
                        + " does not continue sequence " + seq.id() + ", expected " + expected);
            }
            if (expected >= cache.maxPositions()) {
                throw new ContextFullException("sequence " + seq.id() + " is full: position " + expected
                        + " is past the context length " + cache.maxPositions());
            }
            next.put(seq, expected + 1);
        }
        for (Map.Entry<Sequence, Integer> e : next.entrySet()) {
            e.getKey().reserve(e.getValue());
        }
        return cache;
    }

    @Override
    public void close() throws Exception {
        if (storage != null) {
            storage.close();
        }
    }
}
