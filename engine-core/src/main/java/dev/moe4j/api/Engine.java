package dev.moe4j.api;

import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.LayerState;
import dev.moe4j.cache.Sequence;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTokenizer;
import dev.moe4j.generate.Generation;
import dev.moe4j.generate.PromptLookup;
import dev.moe4j.generate.Prompts;
import dev.moe4j.generate.Sampler;
import dev.moe4j.generate.Scheduler;
import dev.moe4j.generate.chat.ChatTemplate;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.kernels.RoundedForm;
import dev.moe4j.model.Batch;
import dev.moe4j.model.GgufTensorSource;
import dev.moe4j.model.HuggingFaceFiles;
import dev.moe4j.model.Model;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.Scratch;
import dev.moe4j.tokenizer.Tokenizer;
import dev.moe4j.tokenizer.TokenizerException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
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
     * How an engine serves its requests.
     *
     * @param contextLength    positions per sequence; 0 = the model's context length, capped at 32768 and at what
     *     the KV cache holds (a sequence alone always fits, so only its own length can make it CONTEXT_FULL)
     * @param maxSequences     requests generated at the same time (others wait in arrival order)
     * @param kvBlockSize      tokens per KV-cache block
     * @param kvCacheBytes     memory for the KV cache of all sequences (F32 keys and values); 0 = what fits beside
     *     the weights: 80 % of the heap the JVM may still use after loading, less the forward pass's scratch
     *     (logged at load). When running sequences need more, the latest arrival is preempted and recomputed later
     * @param kvCacheBlocks    the KV cache's exact number of blocks, overriding {@code kvCacheBytes}; 0 = from the
     *     bytes
     * @param maxBatchTokens   tokens evaluated in one step while no sequence is decoding (a lone long prompt is
     *     read in chunks of this size)
     * @param decodeStepTokens tokens evaluated in one step while any sequence is decoding: every decoding sequence's
     *     next token first, prompt chunks in what is left. Smaller keeps running streams' inter-token latency low
     *     while a long prompt arrives; larger reads that prompt sooner (docs/performance.md has the trade measured)
     * @param roundedActivations Q4_0 and Q4_K decode round activations to 9 bits per block (faster, not the F32 path's bits; see
     *     {@link Model#loadGguf(Path, dev.moe4j.kernels.Kernels, boolean)}); by default the system property
     *     {@value GgufTensorSource#ROUNDED_ACTIVATIONS_PROPERTY}, else off
     * @param warmup           at load, run a short prompt and a few decode steps through the model on a sequence of
     *     its own, then free it, so that the first request does not pay for the JIT compiling the kernels (a first
     *     request is otherwise several times slower than the next; figures in docs/performance.md). Off by default,
     *     which keeps loading fast for tests and short-lived tools; recommended for servers and interactive
     *     commands. It changes no output and leaves every counter and the KV cache as a fresh engine has them
     * @param prefixCache      keep full KV blocks after their request ends, keyed by the tokens up to their end, and
     *     start a later request whose tokens begin the same way on them (shared, never copied; evicted least recently
     *     used when the pool needs room). On by default. It changes no output: a request's logits are the bits it
     *     would get without it (in the rounded-activation mode, as long as its passes keep their sizes; see
     *     docs/decisions.md). Ignored (off) for models with linear-attention layers (Qwen3-Next, Qwen3.5), whose
     *     recurrent state is not kept per block
     * @param speculative      speculative decoding with prompt-lookup drafts ({@link SpeculativeDecoding}); off by
     *     default. Greedy output is the same bits either way, sampled output the same distribution
     */
    public record Options(int contextLength, int maxSequences, int kvBlockSize, long kvCacheBytes, int kvCacheBlocks,
            int maxBatchTokens, int decodeStepTokens, boolean roundedActivations, boolean warmup,
            boolean prefixCache, SpeculativeDecoding speculative) {
        /**
         * Checks the sizes.
         *
         * @param contextLength      positions per sequence, or 0
         * @param maxSequences       at least 1
         * @param kvBlockSize        at least 1
         * @param kvCacheBytes       bytes, or 0
         * @param kvCacheBlocks      blocks, or 0
         * @param maxBatchTokens     at least 1
         * @param decodeStepTokens   at least 1
         * @param roundedActivations whether Q4_0 products round their activations
         * @param warmup             whether loading warms the kernels up
         * @param prefixCache        whether full KV blocks are cached and shared between requests
         * @param speculative        speculative decoding, or {@link SpeculativeDecoding#OFF}
         * @throws InvalidRequestException if a size is negative, or one that must be positive is 0
         */
        public Options {
            if (contextLength < 0 || maxSequences < 1 || kvBlockSize < 1 || kvCacheBytes < 0 || kvCacheBlocks < 0
                    || maxBatchTokens < 1 || decodeStepTokens < 1) {
                throw new InvalidRequestException("engine options must be positive (context length and KV cache bytes"
                        + " may be 0 = automatic): contextLength " + contextLength + ", maxSequences " + maxSequences
                        + ", kvBlockSize " + kvBlockSize + ", kvCacheBytes " + kvCacheBytes + ", kvCacheBlocks "
                        + kvCacheBlocks + ", maxBatchTokens " + maxBatchTokens + ", decodeStepTokens " + decodeStepTokens);
            }
            java.util.Objects.requireNonNull(speculative, "speculative (SpeculativeDecoding.OFF for plain decoding)");
        }

        /**
         * The defaults: the model's context (at most 32768), 8 sequences, blocks of
         * {@value KvCache#DEFAULT_BLOCK_SIZE} tokens, a KV cache sized from the free heap, 512 / 128 tokens a step,
         * rounded activations as the system property says, no warm-up, the prefix cache on.
         *
         * @return the default options
         */
        public static Options defaults() {
            return new Options(0, 8, KvCache.DEFAULT_BLOCK_SIZE, 0, 0, 512, 128,
                    GgufTensorSource.roundedActivationsByDefault(), false, true, SpeculativeDecoding.OFF);
        }

        /**
         * These options with another context length.
         *
         * @param tokens positions per sequence; 0 = the model's, capped at 32768 and at what the KV cache holds
         * @return the new options
         * @throws InvalidRequestException if {@code tokens} is negative
         */
        public Options withContextLength(int tokens) {
            return new Options(tokens, maxSequences, kvBlockSize, kvCacheBytes, kvCacheBlocks,
                    maxBatchTokens, decodeStepTokens, roundedActivations, warmup, prefixCache, speculative);
        }

        /**
         * These options with another number of requests generated at the same time.
         *
         * @param n at least 1
         * @return the new options
         * @throws InvalidRequestException if {@code n} is below 1
         */
        public Options withMaxSequences(int n) {
            return new Options(contextLength, n, kvBlockSize, kvCacheBytes, kvCacheBlocks,
                    maxBatchTokens, decodeStepTokens, roundedActivations, warmup, prefixCache, speculative);
        }

        /**
         * These options with another KV-cache block size.
         *
         * @param tokens tokens per block, at least 1
         * @return the new options
         * @throws InvalidRequestException if {@code tokens} is below 1
         */
        public Options withKvBlockSize(int tokens) {
            return new Options(contextLength, maxSequences, tokens, kvCacheBytes, kvCacheBlocks,
                    maxBatchTokens, decodeStepTokens, roundedActivations, warmup, prefixCache, speculative);
        }

        /**
         * These options with another KV-cache size in bytes, and no exact block count.
         *
         * @param bytes the KV cache's memory; 0 = automatic
         * @return the new options
         * @throws InvalidRequestException if {@code bytes} is negative
         */
        public Options withKvCacheBytes(long bytes) {
            return new Options(contextLength, maxSequences, kvBlockSize, bytes, 0, maxBatchTokens, decodeStepTokens,
                    roundedActivations, warmup, prefixCache, speculative);
        }

        /**
         * These options with the KV cache's exact size in blocks of {@link #kvBlockSize()} tokens (overrides the
         * bytes).
         *
         * @param blocks the number of blocks; 0 = from the bytes
         * @return the new options
         * @throws InvalidRequestException if {@code blocks} is negative
         */
        public Options withKvCacheBlocks(int blocks) {
            return new Options(contextLength, maxSequences, kvBlockSize, kvCacheBytes, blocks, maxBatchTokens,
                    decodeStepTokens, roundedActivations, warmup, prefixCache, speculative);
        }

        /**
         * These options with another step budget while no sequence decodes.
         *
         * @param tokens at least 1
         * @return the new options
         * @throws InvalidRequestException if {@code tokens} is below 1
         */
        public Options withMaxBatchTokens(int tokens) {
            return new Options(contextLength, maxSequences, kvBlockSize, kvCacheBytes, kvCacheBlocks,
                    tokens, decodeStepTokens, roundedActivations, warmup, prefixCache, speculative);
        }

        /**
         * These options with another step budget while sequences decode.
         *
         * @param tokens at least 1
         * @return the new options
         * @throws InvalidRequestException if {@code tokens} is below 1
         */
        public Options withDecodeStepTokens(int tokens) {
            return new Options(contextLength, maxSequences, kvBlockSize, kvCacheBytes, kvCacheBlocks,
                    maxBatchTokens, tokens, roundedActivations, warmup, prefixCache, speculative);
        }

        /**
         * These options with Q4_0 rounded activations on or off.
         *
         * @param on whether Q4_0 products round their activations per block of 32
         * @return the new options
         */
        public Options withRoundedActivations(boolean on) {
            return new Options(contextLength, maxSequences, kvBlockSize, kvCacheBytes, kvCacheBlocks, maxBatchTokens,
                    decodeStepTokens, on, warmup, prefixCache, speculative);
        }

        /**
         * These options with warm-up at load on or off (see {@link #warmup()}); recommended for servers and
         * interactive commands.
         *
         * @param on whether loading runs the model once so that the first request is not slowed by the JIT
         * @return the new options
         */
        public Options withWarmup(boolean on) {
            return new Options(contextLength, maxSequences, kvBlockSize, kvCacheBytes, kvCacheBlocks, maxBatchTokens,
                    decodeStepTokens, roundedActivations, on, prefixCache, speculative);
        }

        /**
         * These options with the prefix cache on or off (see {@link #prefixCache()}).
         *
         * @param on whether full KV blocks are cached and shared between requests with the same leading tokens
         * @return the new options
         */
        public Options withPrefixCache(boolean on) {
            return new Options(contextLength, maxSequences, kvBlockSize, kvCacheBytes, kvCacheBlocks, maxBatchTokens,
                    decodeStepTokens, roundedActivations, warmup, on, speculative);
        }

        /**
         * These options with speculative decoding on or off (see {@link #speculative()}).
         *
         * @param speculative the drafts to verify, or {@link SpeculativeDecoding#OFF}
         * @return the new options
         */
        public Options withSpeculative(SpeculativeDecoding speculative) {
            return new Options(contextLength, maxSequences, kvBlockSize, kvCacheBytes, kvCacheBlocks, maxBatchTokens,
                    decodeStepTokens, roundedActivations, warmup, prefixCache, speculative);
        }
    }

    static long bytesPerBlock(List<LayerState> layers, int blockSize) {
        long floats = 0;
        for (LayerState l : layers) {
            if (l instanceof LayerState.Kv kv) {
                floats += 2L * kv.kvDim();
            }
        }
        return floats * blockSize * Float.BYTES;
    }

    /** One sequence's recurrent state over every linear-attention layer. */
    static long bytesPerRecurrentSlot(List<LayerState> layers) {
        long floats = 0;
        for (LayerState l : layers) {
            if (l instanceof LayerState.Recurrent r) {
                floats += (long) r.convFloats() + r.stateFloats();
            }
        }
        return floats * Float.BYTES;
    }

    private final Model model;
    private final Tokenizer tokenizer;
    private final Prompts prompts;
    private final KvCache cache;
    private final Scheduler scheduler;
    private final int warmupTokens;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Engine(Model model, Path path, Tokenizer tokenizer, Set<Integer> endTokens, Options options) {
        this.model = model;
        this.tokenizer = tokenizer;
        ModelConfig c = model.config();
        int blockSize = options.kvBlockSize();
        List<LayerState> layout = model.stateLayout();
        long bytesPerBlock = Math.max(Float.BYTES, bytesPerBlock(layout, blockSize));
        long recurrentBytes = bytesPerRecurrentSlot(layout) * options.maxSequences();
        int wanted = options.contextLength() > 0 ? options.contextLength() : Math.min(c.contextLength(), 32768);
        long budget = (options.kvCacheBytes() > 0 ? options.kvCacheBytes() : automaticKvBytes(c, options))
                - recurrentBytes;
        long blocksPerSequence = (wanted + blockSize - 1) / blockSize;
        long fit = options.kvCacheBlocks() > 0 ? options.kvCacheBlocks()
                : Math.min(Math.max(0, budget) / bytesPerBlock, Integer.MAX_VALUE / 2);
        long blocks = Math.min(fit, blocksPerSequence * options.maxSequences());
        if (blocks < 2) {
            throw new InvalidRequestException("a KV cache of " + budget + " bytes holds " + fit + " blocks of "
                    + bytesPerBlock + " bytes; it needs at least 2 (give the JVM more heap, -Xmx, or kvCacheBytes)");
        }
        int context = wanted;
        if (blocks * blockSize < wanted) {
            // one sequence must always fit alone, or preemption could not guarantee progress
            context = (int) (blocks * blockSize);
            LOG.warn("the KV cache holds {} tokens, less than the context length {}: sequences are capped at {}"
                    + " (raise -Xmx or Engine.Options.kvCacheBytes for more)", context, wanted, context);
        }
        boolean recurrent = layout.stream().anyMatch(l -> l instanceof LayerState.Recurrent);
        KvCache.PrefixCaching prefixCaching = options.prefixCache() && !recurrent
                ? new KvCache.PrefixCaching(prefixIdentity(model, path, options), options.roundedActivations()
                        ? RoundedForm.MAX_TOKENS + 1 : 1)
                : null;
        this.cache = new KvCache(layout, blockSize, (int) blocks, context, options.maxSequences(), prefixCaching);
        this.prompts = new Prompts(tokenizer, endTokens, context, Math.min(tokenizer.vocabSize(), c.vocabSize()));
        // before the scheduler exists, so that no request and none of its counters can see it
        this.warmupTokens = options.warmup()
                ? warmUp(model, tokenizer, cache, Math.min(options.maxBatchTokens(), options.decodeStepTokens())) : 0;
        this.scheduler = new Scheduler(model, cache, options.maxSequences(),
                new Scheduler.Budget(options.maxBatchTokens(), options.decodeStepTokens(),
                        options.roundedActivations() ? RoundedForm.MAX_TOKENS + 1 : 1),
                drafter(options, recurrent), options.speculative().sampled());
        String sizedBy = blocks < fit ? options.maxSequences() + " full-length sequences"
                : options.kvCacheBlocks() > 0 ? "kvCacheBlocks"
                : options.kvCacheBytes() > 0 ? "kvCacheBytes" : "80% of the free heap";
        LOG.info("engine ready: {} {} layers, context {}, KV cache {} blocks of {} tokens ({} MB, {} tokens; sized by"
                        + " {}), up to {} sequences, {} / {} tokens a step", c.architecture(), c.numLayers(), context,
                cache.pool().capacity(), blockSize, cache.pool().capacity() * bytesPerBlock >> 20,
                cache.pool().capacity() * blockSize, sizedBy, options.maxSequences(), options.maxBatchTokens(),
                options.decodeStepTokens());
    }

    /** The speculative drafter the options ask for, where this model and mode keep its output exact; else null. */
    private static PromptLookup drafter(Options options, boolean recurrent) {
        SpeculativeDecoding spec = options.speculative();
        if (!spec.enabled()) {
            return null;
        }
        if (recurrent || options.roundedActivations()) {
            LOG.info("speculative decoding is off: {}", recurrent
                    ? "the model's recurrent layers cannot drop rejected draft tokens"
                    : "rounded activations give a position other bits in a larger pass");
            return null;
        }
        return new PromptLookup(spec.draftTokens(), spec.maxNgram());
    }

    /**
     * What a cached block's keys and values depend on besides its tokens: the model (its configuration and source),
     * the block size, the cache's number format (F32) and the activation mode. One cache serves one model, so this
     * only roots the hash chains; it would keep entries apart if caches were ever shared.
     */
    private static long prefixIdentity(Model model, Path path, Options options) {
        String key = model.config() + "|" + path.toAbsolutePath() + "|block " + options.kvBlockSize() + "|kv f32|rounded "
                + options.roundedActivations();
        long h = 1125899906842597L;
        for (int i = 0; i < key.length(); i++) {
            h = 31 * h + key.charAt(i);
        }
        return h;
    }

    /** Prompt tokens and decode steps of the warm-up sequence. */
    static final int WARMUP_PROMPT_TOKENS = 32;
    static final int WARMUP_DECODE_STEPS = 16;
    private static final String WARMUP_TEXT = "The quick brown fox jumps over the lazy dog while the JVM compiles. ";

    /**
     * Runs a prompt chunk and a few sampled decode steps through the real forward pass on a sequence of its own,
     * then closes it: the JIT compiles the kernels, the attention over the paged cache, the sampler and the
     * tokenizer here rather than during the first request. Leaves the cache as it found it (every block and slot
     * back; a new sequence never reads positions it has not written). Returns the tokens it fed.
     */
    private static int warmUp(Model model, Tokenizer tokenizer, KvCache cache, int maxChunk) {
        long start = System.nanoTime();
        int vocab = Math.min(tokenizer.vocabSize(), model.config().vocabSize());
        int promptTokens = Math.max(1, Math.min(Math.min(WARMUP_PROMPT_TOKENS, maxChunk),
                cache.maxPositions() - WARMUP_DECODE_STEPS));
        int steps = Math.max(0, Math.min(WARMUP_DECODE_STEPS, cache.maxPositions() - promptTokens));
        int[] text = tokenizer.encode(WARMUP_TEXT.repeat(WARMUP_PROMPT_TOKENS / 8 + 1));
        int[] prompt = new int[promptTokens];
        for (int i = 0; i < promptTokens; i++) {
            prompt[i] = Math.floorMod(text[i % text.length], vocab);
        }
        Scratch scratch = new Scratch(model.config());
        Sampler sampler = new Sampler(SamplingParams.NON_THINKING, vocab, 0);
        int[] generated = new int[steps];
        try (Sequence sequence = cache.newSequence()) {
            float[] logits = model.forward(Batch.of(sequence, prompt, false), scratch);
            for (int step = 0; step < steps; step++) {
                int next = sampler.sample(logits, 0);
                sampler.accept(next);
                generated[step] = next;
                logits = model.forward(Batch.of(sequence, new int[] {next}, false), scratch);
            }
        }
        tokenizer.decode(generated);
        LOG.info("warm-up: {} prompt tokens and {} decode steps in {} ms", promptTokens, steps,
                (System.nanoTime() - start) / 1_000_000);
        return promptTokens + steps;
    }

    /** 80 % of the heap the JVM may still use, less the scratch of the largest step. */
    private static long automaticKvBytes(ModelConfig c, Options options) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        int tokens = Math.max(options.maxBatchTokens(), options.decodeStepTokens());
        // the step's activations, and a logits row for every sequence
        long scratch = Scratch.bytesFor(c, tokens) + (long) options.maxSequences() * c.vocabSize() * Float.BYTES;
        return Math.max(0, (long) ((free - scratch) * 0.8));
    }

    /**
     * Loads a model with {@link Options#defaults()}; see {@link #load(Path, Options)}.
     *
     * @param path a GGUF file or a Hugging Face model directory
     * @return the engine, ready for requests; close it to stop its scheduler and unmap the weights
     * @throws NullPointerException if {@code path} is null
     * @throws BadModelFileException if the path does not exist, or a file is unreadable, corrupt, truncated or
     *     inconsistent (the message names the file, key or tensor)
     * @throws UnsupportedModelException if the model uses an architecture, tensor type or feature moe4j does not
     *     support
     * @throws InvalidRequestException if the heap leaves room for fewer than two KV-cache blocks
     */
    public static Engine load(Path path) {
        return load(path, Options.defaults());
    }

    /**
     * Loads a model: a GGUF file (weights, tokenizer and chat template from its metadata) or a Hugging Face model
     * directory (safetensors, config.json, generation_config.json, tokenizer.json and tokenizer_config.json).
     *
     * @param path    a GGUF file or a Hugging Face model directory
     * @param options how the engine serves its requests
     * @return the engine, ready for requests; close it to stop its scheduler and unmap the weights
     * @throws NullPointerException if {@code path} or {@code options} is null
     * @throws BadModelFileException if the path does not exist, or a file is unreadable, corrupt, truncated or
     *     inconsistent (the message names the file, key or tensor)
     * @throws UnsupportedModelException if the model uses an architecture, tensor type or feature moe4j does not
     *     support
     * @throws InvalidRequestException if the options (or the heap, when the KV cache is sized automatically) give
     *     a KV cache of fewer than two blocks
     */
    public static Engine load(Path path, Options options) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
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
            return new Engine(model, path, tokenizer, ends, options);
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

    /**
     * Runs a chat request to the end: renders it with the chat template, generates, and waits for the response.
     *
     * @param request the conversation and how to answer it
     * @return the response
     * @throws NullPointerException if {@code request} is null
     * @throws InvalidRequestException if the request names a chat template that does not exist
     * @throws UnsupportedModelException if the request names no template and the model carries none, or one moe4j
     *     does not recognise
     * @throws ContextFullException if the rendered prompt leaves no room in the context for a generated token, or
     *     the KV cache cannot hold the sequence even alone
     * @throws EngineStoppedException if the engine is closed, or its scheduler stopped on an error
     * @throws java.util.concurrent.CancellationException if the calling thread is interrupted while it waits (the
     *     request is then cancelled)
     * @throws Moe4jException if an {@link Error} failed the request (it is the cause); any other exception of the
     *     forward pass or the sampler that failed this request alone is thrown as it is
     */
    public ChatResponse chat(ChatRequest request) {
        return chatStream(request, new ChatListener() {}).await();
    }

    /**
     * Starts a chat request; the listener sees reasoning, content and tool calls as they are generated. Returns at
     * once: what fails the request later reaches {@link ChatListener#onError} and {@link ChatHandle#await()}.
     *
     * @param request  the conversation and how to answer it
     * @param listener receives the request's callbacks, in order, on a virtual thread of the request's own
     * @return a handle to cancel the request or wait for its response
     * @throws NullPointerException if {@code request} or {@code listener} is null
     * @throws InvalidRequestException if the request names a chat template that does not exist
     * @throws UnsupportedModelException if the request names no template and the model carries none, or one moe4j
     *     does not recognise
     * @throws ContextFullException if the rendered prompt leaves no room in the context for a generated token
     * @throws EngineStoppedException if the engine is closed, or its scheduler stopped on an error
     */
    public ChatHandle chatStream(ChatRequest request, ChatListener listener) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(listener, "listener");
        return scheduler.submit(delivery -> prompts.chat(request, delivery), listener);
    }

    /**
     * Raw completion of a prompt without a chat template, run to the end.
     *
     * @param request the prompt and how to continue it
     * @return the response; everything generated is content
     * @throws NullPointerException if {@code request} is null
     * @throws ContextFullException if the prompt leaves no room in the context for a generated token, or the KV
     *     cache cannot hold the sequence even alone
     * @throws EngineStoppedException if the engine is closed, or its scheduler stopped on an error
     * @throws java.util.concurrent.CancellationException if the calling thread is interrupted while it waits (the
     *     request is then cancelled)
     * @throws Moe4jException if an {@link Error} failed the request (it is the cause); any other exception of the
     *     forward pass or the sampler that failed this request alone is thrown as it is
     */
    public ChatResponse complete(CompletionRequest request) {
        return completeStream(request, new ChatListener() {}).await();
    }

    /**
     * Starts a raw completion; the listener sees the content as it is generated. Returns at once: what fails the
     * request later reaches {@link ChatListener#onError} and {@link ChatHandle#await()}.
     *
     * @param request  the prompt and how to continue it
     * @param listener receives the request's callbacks, in order, on a virtual thread of the request's own
     * @return a handle to cancel the request or wait for its response
     * @throws NullPointerException if {@code request} or {@code listener} is null
     * @throws ContextFullException if the prompt leaves no room in the context for a generated token
     * @throws EngineStoppedException if the engine is closed, or its scheduler stopped on an error
     */
    public ChatHandle completeStream(CompletionRequest request, ChatListener listener) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(listener, "listener");
        return scheduler.submit(delivery -> prompts.completion(request, delivery), listener);
    }

    /**
     * The template the model's embedded chat template was recognised as.
     *
     * @return the template requests without a template name render with
     * @throws UnsupportedModelException if the model carries no chat template, or one moe4j does not recognise
     */
    public ChatTemplate chatTemplate() {
        return prompts.template(null);
    }

    /**
     * The model's tokenizer.
     *
     * @return the tokenizer the engine encodes prompts and decodes output with
     */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * The model's hyperparameters.
     *
     * @return the configuration read from the model file
     */
    public ModelConfig config() {
        return model.config();
    }

    /**
     * Positions a sequence may hold: prompt and generated tokens together.
     *
     * @return the context length in use (the requested one, or less when the KV cache holds less)
     */
    public int contextLength() {
        return cache.maxPositions();
    }

    /**
     * KV blocks not held by any sequence: free ones and cached ones no request uses (evicted when needed).
     *
     * @return free blocks; all of them ({@link #kvBlocks()}) when nothing is running
     */
    public int freeKvBlocks() {
        return cache.pool().freeBlocks();
    }

    /**
     * The KV cache's size.
     *
     * @return blocks in all, each of {@link Options#kvBlockSize()} tokens
     */
    public int kvBlocks() {
        return cache.pool().capacity();
    }

    /**
     * Recurrent-state slots held by sequences.
     *
     * @return slots in use by linear-attention models' sequences; 0 for the other models and when idle
     */
    public int recurrentSlotsInUse() {
        int slots = cache.recurrentSlots();
        return slots == 0 ? 0 : slots - cache.freeRecurrentSlots();
    }

    /**
     * Requests waiting to start or to resume.
     *
     * @return requests queued or preempted
     */
    public int queuedRequests() {
        return scheduler.queued();
    }

    /**
     * Requests generating now.
     *
     * @return requests holding a sequence, at most {@link Options#maxSequences()}
     */
    public int runningRequests() {
        return scheduler.running();
    }

    /**
     * Tokens sampled so far by all requests together (for throughput figures); the warm-up does not count.
     *
     * @return tokens sampled since loading
     */
    public long tokensGenerated() {
        return scheduler.sampledTokens();
    }

    /**
     * Times a running request gave its KV blocks back so that earlier ones could go on (recomputed later).
     *
     * @return preemptions since loading
     */
    public long preemptions() {
        return scheduler.preemptions();
    }

    /**
     * Prompt tokens taken from the prefix cache instead of computed (a resumed request's too).
     *
     * @return tokens since loading; 0 with the prefix cache off
     */
    public long cachedPromptTokens() {
        return scheduler.cachedTokens();
    }

    /**
     * Draft tokens fed for verification (speculative decoding); 0 when it is off.
     *
     * @return tokens since loading
     */
    public long draftedTokens() {
        return scheduler.draftedTokens();
    }

    /**
     * Draft tokens the verification accepted: each saved one forward pass.
     *
     * @return tokens since loading
     */
    public long acceptedDraftTokens() {
        return scheduler.acceptedDraftTokens();
    }

    /**
     * Whether this engine caches full KV blocks between requests ({@link Options#prefixCache()}, off for models
     * with linear-attention layers).
     *
     * @return whether the prefix cache is on
     */
    public boolean prefixCaching() {
        return cache.prefixCaching() != null;
    }

    /** The KV cache (tests check its pool's bookkeeping). */
    KvCache kvCache() {
        return cache;
    }

    /** Tokens the warm-up fed through the model at load (0 without warm-up). */
    int warmupTokens() {
        return warmupTokens;
    }

    /**
     * Stops the scheduler and releases the weights: running requests end as {@link FinishReason#CANCELLED},
     * waiting and later ones fail with {@link EngineStoppedException}. A failure to unmap is logged, not thrown.
     * Closing a closed engine does nothing.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return; // the weights are unmapped once
        }
        scheduler.close();
        try {
            model.close();
        } catch (Exception e) {
            LOG.warn("closing the model failed", e);
        }
    }
}
