package dev.moe4j.springai;

import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.Engine;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.tool.DefaultToolExecutionEligibilityPredicate;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.ToolExecutionEligibilityPredicate;
import org.springframework.ai.model.tool.ToolExecutionResult;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * A Spring AI {@link ChatModel} answered in process by a moe4j {@link Engine}.
 *
 * <pre>{@code
 * try (Engine engine = Engine.load(Path.of("Qwen3-0.6B-Q8_0.gguf"))) {
 *     ChatClient client = ChatClient.create(new Moe4jChatModel(engine));
 *     System.out.println(client.prompt("Why is the sky blue?").call().content());
 * }
 * }</pre>
 *
 * <p>Messages: system, user (text), assistant (text, tool calls, and reasoning from the {@code reasoningContent}
 * metadata) and tool responses. Options: temperature, topP, topK, presence and frequency penalties, maxTokens,
 * stopSequences, tool callbacks and names, and {@link Moe4jChatOptions}' thinking, thinking budget, seed and chat
 * template; a prompt with media or naming another model is refused with {@link IllegalArgumentException}. The
 * answer's reasoning is the assistant message's {@code reasoningContent} metadata; usage and finish reason (STOP,
 * LENGTH, TOOL_CALLS, CANCELLED) are in the response's metadata. Tool calls are executed by the
 * {@link ToolCallingManager} and their results sent back, unless internal tool execution is turned off in the
 * options, as with Spring AI's other chat models.
 *
 * <p>{@link #stream} gives content deltas as chunks (reasoning deltas in their metadata), then one chunk with the tool
 * calls, finish reason and usage; cancelling the subscription stops generation within one step and frees the
 * request's KV blocks. Thread-safe: the engine batches concurrent requests.
 *
 * <p>An engine passed in stays the caller's; one loaded by {@link Builder#modelPath} is closed by {@link #close()}.
 */
public final class Moe4jChatModel implements ChatModel, AutoCloseable {
    private final Engine engine;
    private final boolean owned;
    private final String modelName;
    private final Moe4jChatOptions defaults;
    private final ToolCallingManager toolCallingManager;
    private final ToolExecutionEligibilityPredicate toolExecution = new DefaultToolExecutionEligibilityPredicate();

    /** Over an engine the caller loaded, keeps and closes, with default options. */
    public Moe4jChatModel(Engine engine) {
        this(builder().engine(engine));
    }

    private Moe4jChatModel(Builder b) {
        if ((b.engine == null) == (b.modelPath == null)) {
            throw new IllegalStateException("give exactly one of engine(...) or modelPath(...)");
        }
        this.owned = b.engine == null;
        this.modelName = b.modelName != null ? b.modelName
                : owned ? String.valueOf(b.modelPath.getFileName()) : "moe4j";
        this.defaults = Moe4jChatOptions.merge(null, b.defaultOptions);
        this.toolCallingManager = b.toolCallingManager != null ? b.toolCallingManager : ToolCallingManager.builder().build();
        this.engine = owned ? Engine.load(b.modelPath, b.options) : b.engine;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link Moe4jChatModel} from an engine, or a model path to load one from, and default options. */
    public static final class Builder {
        private Engine engine;
        private Path modelPath;
        private Engine.Options options = Engine.Options.defaults();
        private String modelName;
        private Moe4jChatOptions defaultOptions = new Moe4jChatOptions();
        private ToolCallingManager toolCallingManager;

        private Builder() {}

        /** An engine the caller loaded and keeps owning. */
        public Builder engine(Engine engine) {
            this.engine = Objects.requireNonNull(engine, "engine");
            return this;
        }

        /** A GGUF file or Hugging Face directory to load; the chat model then owns the engine and closes it. */
        public Builder modelPath(Path path) {
            this.modelPath = Objects.requireNonNull(path, "modelPath");
            return this;
        }

        /** How an engine loaded from {@link #modelPath(Path)} serves requests. */
        public Builder options(Engine.Options options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        /** The name reported in responses; default: the model file's name, or "moe4j" for an engine passed in. */
        public Builder modelName(String name) {
            this.modelName = Objects.requireNonNull(name, "modelName");
            return this;
        }

        /** Options every prompt starts from; a prompt's own options override them field by field. */
        public Builder defaultOptions(Moe4jChatOptions options) {
            this.defaultOptions = Objects.requireNonNull(options, "defaultOptions");
            return this;
        }

        /** Resolves and executes tools; default: Spring AI's {@code DefaultToolCallingManager}. */
        public Builder toolCallingManager(ToolCallingManager manager) {
            this.toolCallingManager = Objects.requireNonNull(manager, "toolCallingManager");
            return this;
        }

        public Moe4jChatModel build() {
            return new Moe4jChatModel(this);
        }
    }

    private ChatRequest request(List<Message> messages, Moe4jChatOptions options) {
        return PromptConversion.request(messages, options, toolCallingManager.resolveToolDefinitions(options), modelName);
    }

    @Override
    public ChatResponse call(Prompt prompt) {
        Moe4jChatOptions options = Moe4jChatOptions.merge(prompt.getOptions(), defaults);
        ChatResponse response = ResponseConversion.chatResponse(
                engine.chat(request(prompt.getInstructions(), options)), modelName);
        if (!toolExecution.isToolExecutionRequired(options, response)) {
            return response;
        }
        ToolExecutionResult result = toolCallingManager.executeToolCalls(new Prompt(prompt.getInstructions(), options),
                response);
        if (result.returnDirect()) {
            return ChatResponse.builder().from(response).generations(ToolExecutionResult.buildGenerations(result)).build();
        }
        return call(new Prompt(result.conversationHistory(), options));
    }

    @Override
    public Flux<ChatResponse> stream(Prompt prompt) {
        return Flux.defer(() -> {
            Moe4jChatOptions options = Moe4jChatOptions.merge(prompt.getOptions(), defaults);
            ChatRequest request = request(prompt.getInstructions(), options);
            Flux<ChatResponse> chunks = Flux.create(sink -> {
                FluxRelay relay = new FluxRelay(sink, modelName);
                sink.onCancel(relay::cancel);
                relay.started(engine.chatStream(request, relay));
            });
            return chunks.concatMap(chunk -> {
                if (!chunk.hasToolCalls() || !toolExecution.isToolExecutionRequired(options, chunk)) {
                    return Flux.just(chunk);
                }
                // tools may block: run them off the engine's callback thread
                return Flux.defer(() -> {
                    ToolExecutionResult result = toolCallingManager.executeToolCalls(
                            new Prompt(prompt.getInstructions(), options), chunk);
                    if (result.returnDirect()) {
                        return Flux.just(ChatResponse.builder().from(chunk)
                                .generations(ToolExecutionResult.buildGenerations(result)).build());
                    }
                    return stream(new Prompt(result.conversationHistory(), options));
                }).subscribeOn(Schedulers.boundedElastic());
            });
        });
    }

    /** A copy of the options every prompt starts from. */
    @Override
    public ChatOptions getDefaultOptions() {
        return defaults.copy();
    }

    /** The engine that answers. */
    public Engine engine() {
        return engine;
    }

    /** Closes the engine if this model loaded it; an engine passed in is left open. */
    @Override
    public void close() {
        if (owned) {
            engine.close();
        }
    }
}
