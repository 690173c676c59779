package dev.moe4j.cli;

import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.Engine;
import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.model.Batch;
import dev.moe4j.model.Model;
import dev.moe4j.model.Scratch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code moe4j generate -p TEXT}: chat-templated generation, streamed; {@code moe4j generate --tokens IDS}: greedy
 * continuation of token ids, printed as ids.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Generate text from a prompt (-p) or continue token ids (--tokens).",
        description = {"-p: chat-templated generation, streamed (reasoning dimmed on a terminal).",
                "--tokens: greedy continuation of token ids; prints the generated ids, space-separated, on one line."})
final class GenerateCommand implements Callable<Integer> {
    /** Tokens a run over token ids generates when -n is not given. */
    static final int DEFAULT_TOKEN_COUNT = 32;

    @ParentCommand
    Main main;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    /** The prompt: text through the chat template, or token ids. */
    static final class Input {
        @Option(names = "-p", paramLabel = "TEXT", required = true, description = "the user message")
        String prompt;

        @Option(names = "--tokens", paramLabel = "IDS", required = true,
                description = "prompt token ids, e.g. 1,2,3 (-n defaults to " + DEFAULT_TOKEN_COUNT + " here)")
        String tokens;
    }

    @Mixin
    GenerationOptions generation = new GenerationOptions();

    @Mixin
    ModelOptions model = new ModelOptions();

    @Override
    public Integer call() throws Exception {
        return input.tokens != null ? continueTokens() : chat();
    }

    private int chat() throws IOException {
        generation.validate();
        Path path = model.resolve(main.err);
        try (Engine engine = model.loadEngine(path, generation.engineOptions(), main.err, main.terminal)) {
            ChatRequest request = generation.apply(ChatRequest.builder().user(input.prompt), generation.thinking())
                    .build();
            long start = System.nanoTime();
            ChatResponse r = engine.chatStream(request, new StreamPrinter(main.out, main.terminal)).await();
            double s = (System.nanoTime() - start) / 1e9;
            main.err.printf("[%s; %d prompt + %d generated tokens (%d reasoning) in %.2f s, %.1f tok/s]%n",
                    r.finishReason(), r.usage().promptTokens(), r.usage().completionTokens(),
                    r.usage().reasoningTokens(), s, r.usage().completionTokens() / s);
        }
        return 0;
    }

    private int continueTokens() throws Exception {
        String chatOnly = generation.chatOnlyOptionGiven();
        if (chatOnly != null) {
            throw new UsageException(chatOnly + " applies to -p; --tokens always continues greedily");
        }
        int[] prompt = TokenIds.prompt("--tokens", input.tokens);
        int count = generation.maxTokens != null ? generation.maxTokens : DEFAULT_TOKEN_COUNT;
        if (count < 0) {
            throw new UsageException("-n must be >= 0, was " + count);
        }
        Path path = model.resolve(main.err);
        try (Model loaded = model.loadModel(path, main.err)) {
            KvCache cache = loaded.newKvCache(prompt.length + Math.max(count, 1), KvCache.DEFAULT_BLOCK_SIZE, 1);
            Scratch scratch = new Scratch(loaded.config());
            StringBuilder ids = new StringBuilder();
            long start = System.nanoTime();
            try (Sequence seq = cache.newSequence()) {
                float[] logits = loaded.forward(Batch.of(seq, prompt, false), scratch);
                for (int i = 0; i < count; i++) {
                    int next = argmax(logits);
                    ids.append(i == 0 ? "" : " ").append(next);
                    if (i + 1 < count) {
                        logits = loaded.forward(Batch.of(seq, new int[] {next}, false), scratch);
                    }
                }
            }
            main.out.println(ids);
            double seconds = (System.nanoTime() - start) / 1e9;
            main.err.printf("%d prompt + %d generated tokens in %.2f s%n", prompt.length, count, seconds);
        }
        return 0;
    }

    static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }
}
