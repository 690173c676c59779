package dev.moe4j.api;

import dev.moe4j.cache.KvCache;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTokenizer;
import dev.moe4j.generate.Generation;
import dev.moe4j.generate.Prompts;
import dev.moe4j.generate.Scheduler;
import dev.moe4j.generate.chat.ChatTemplate;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.model.GgufTensorSource;
import dev.moe4j.model.HuggingFaceFiles;
import dev.moe4j.model.Model;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.tokenizer.Tokenizer;
import dev.moe4j.tokenizer.TokenizerException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded model ready to chat: weights, tokenizer, chat template, a paged KV cache and the scheduler that serves
 * every request. Thread-safe: requests from many threads are batched together.
 *
 * <pre>{@code
 * try (Engine engine = Engine.load(Path.of("Qwen3-0.6B-Q8_0.gguf"))) {
 *     System.out.println(engine.chat(ChatRequest.of("Why is the sky blue?")).content());
 * }
 * }</pre>
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

    /**
     * @param contextLength  positions per sequence; 0 = the model's context length, capped at 32768
     * @param maxSequences   requests generated at the same time (others wait)
     * @param kvBlockSize    tokens per KV-cache block
     * @param kvCacheBytes   memory for the KV cache of all sequences (F32 keys and values)
     * @param maxBatchTokens tokens evaluated in one step (long prompts are fed in chunks of this size)
     * @param roundedActivations Q4_0 decode rounds activations per block of 32 (faster, not the F32 path's bits; see
     *     {@link Model#loadGguf(Path, dev.moe4j.kernels.Kernels, boolean)}); by default the system property
     *     {@value GgufTensorSource#ROUNDED_ACTIVATIONS_PROPERTY}, else off
     */
    public record Options(int contextLength, int maxSequences, int kvBlockSize, long kvCacheBytes, int maxBatchTokens,
            boolean roundedActivations) {
        public Options {
            if (contextLength < 0 || maxSequences < 1 || kvBlockSize < 1 || kvCacheBytes < 1 || maxBatchTokens < 1) {
                throw new InvalidRequestException("engine options must be positive (context length may be 0 = the"
                        + " model's): " + contextLength + ", " + maxSequences + ", " + kvBlockSize + ", " + kvCacheBytes
                        + ", " + maxBatchTokens);
            }
        }

        public static Options defaults() {
            return new Options(0, 4, KvCache.DEFAULT_BLOCK_SIZE, 1L << 30, 512,
                    GgufTensorSource.roundedActivationsByDefault());
        }

        public Options withContextLength(int tokens) {
            return new Options(tokens, maxSequences, kvBlockSize, kvCacheBytes, maxBatchTokens, roundedActivations);
        }

        public Options withMaxSequences(int n) {
            return new Options(contextLength, n, kvBlockSize, kvCacheBytes, maxBatchTokens, roundedActivations);
        }

        public Options withKvCacheBytes(long bytes) {
            return new Options(contextLength, maxSequences, kvBlockSize, bytes, maxBatchTokens, roundedActivations);
        }

        public Options withRoundedActivations(boolean on) {
            return new Options(contextLength, maxSequences, kvBlockSize, kvCacheBytes, maxBatchTokens, on);
        }
    }

    private final Model model;
    private final Tokenizer tokenizer;
    private final Prompts prompts;
    private final KvCache cache;
    private final Scheduler scheduler;

    private Engine(Model model, Tokenizer tokenizer, Set<Integer> endTokens, Options options) {
        this.model = model;
        this.tokenizer = tokenizer;
        ModelConfig c = model.config();
        int context = options.contextLength() > 0 ? options.contextLength() : Math.min(c.contextLength(), 32768);
        long bytesPerBlock = (long) options.kvBlockSize() * c.numLayers() * c.kvDim() * 2 * Float.BYTES;
        int blocksPerSequence = (context + options.kvBlockSize() - 1) / options.kvBlockSize();
        long blocks = Math.min(options.kvCacheBytes() / bytesPerBlock, (long) blocksPerSequence * options.maxSequences());
        if (blocks < 1) {
            throw new InvalidRequestException("a KV cache of " + options.kvCacheBytes() + " bytes holds no block of "
                    + bytesPerBlock + " bytes; give it more memory");
        }
        this.cache = new KvCache(c.numLayers(), c.kvDim(), options.kvBlockSize(), (int) Math.min(blocks, Integer.MAX_VALUE / 2),
                context);
        this.prompts = new Prompts(tokenizer, endTokens, context, Math.min(tokenizer.vocabSize(), c.vocabSize()));
        this.scheduler = new Scheduler(model, cache, options.maxSequences(), options.maxBatchTokens());
        LOG.info("engine ready: {} {} layers, context {}, KV cache {} blocks of {} tokens ({} MB)", c.architecture(),
                c.numLayers(), context, cache.pool().capacity(), options.kvBlockSize(),
                cache.pool().capacity() * bytesPerBlock >> 20);
    }

    public static Engine load(Path path) {
        return load(path, Options.defaults());
    }

    /**
     * Loads a model: a GGUF file (weights, tokenizer and chat template from its metadata) or a Hugging Face model
     * directory (safetensors, config.json, generation_config.json, tokenizer.json and tokenizer_config.json).
     */
    public static Engine load(Path path, Options options) {
        Objects.requireNonNull(path, "path");
        if (!Files.exists(path)) {
            throw new BadModelFileException("model " + path + " does not exist");
        }
        Model model = Model.load(path, Kernels.get(), options.roundedActivations());
        try {
            Tokenizer tokenizer;
            Set<Integer> ends = new LinkedHashSet<>();
            if (model.huggingFaceFiles().isPresent()) {
                HuggingFaceFiles files = model.huggingFaceFiles().get();
                tokenizer = loadTokenizer(files);
                ends.addAll(files.generation().eosTokenIds());
            } else {
                try (GgufFile file = GgufFile.open(path)) {
                    tokenizer = GgufTokenizer.fromMetadata(file);
                    int eos = GgufTokenizer.eosTokenId(file);
                    if (eos >= 0) {
                        ends.add(eos);
                    }
                }
            }
            for (String end : new String[] {"<|im_end|>", "<|endoftext|>"}) {
                tokenizer.tokenId(end).ifPresent(ends::add);
            }
            return new Engine(model, tokenizer, ends, options);
        } catch (RuntimeException e) {
            try {
                model.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static Tokenizer loadTokenizer(HuggingFaceFiles files) {
        Path json = files.tokenizer();
        try (InputStream tokenizerJson = Files.newInputStream(json);
             InputStream config = files.has(HuggingFaceFiles.TOKENIZER_CONFIG)
                     ? Files.newInputStream(files.tokenizerConfig()) : null) {
            return Tokenizer.fromHuggingFace(tokenizerJson, config);
        } catch (IOException e) {
            throw new BadModelFileException("cannot read " + json + ": " + e.getMessage(), e);
        } catch (TokenizerException e) {
            throw new BadModelFileException(json + ": " + e.getMessage(), e);
        }
    }

    /** Runs a chat request to the end. */
    public ChatResponse chat(ChatRequest request) {
        return chatStream(request, new ChatListener() {}).await();
    }

    /** Starts a chat request; the listener sees reasoning, content and tool calls as they are generated. */
    public ChatHandle chatStream(ChatRequest request, ChatListener listener) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(listener, "listener");
        return scheduler.submit(prompts.chat(request, listener), listener);
    }

    /** Raw completion of a prompt without a chat template. */
    public ChatResponse complete(CompletionRequest request) {
        return completeStream(request, new ChatListener() {}).await();
    }

    public ChatHandle completeStream(CompletionRequest request, ChatListener listener) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(listener, "listener");
        return scheduler.submit(prompts.completion(request, listener), listener);
    }

    /** The template the model's embedded chat template was recognised as (or fails saying it is unsupported). */
    public ChatTemplate chatTemplate() {
        return prompts.template(null);
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ModelConfig config() {
        return model.config();
    }

    public int contextLength() {
        return cache.maxPositions();
    }

    /** KV blocks not held by any sequence (all of them when nothing is running). */
    public int freeKvBlocks() {
        return cache.pool().freeBlocks();
    }

    public int kvBlocks() {
        return cache.pool().capacity();
    }

    @Override
    public void close() {
        scheduler.close();
        try {
            model.close();
        } catch (Exception e) {
            LOG.warn("closing the model failed", e);
        }
    }
}
