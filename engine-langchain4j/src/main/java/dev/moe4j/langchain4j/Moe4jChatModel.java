package dev.moe4j.langchain4j;

import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.moe4j.api.Engine;
import java.util.List;
import java.util.Set;

/**
 * A LangChain4j {@link ChatModel} answered in process by a moe4j {@link Engine}.
 *
 * <pre>{@code
 * try (Engine engine = Engine.load(Path.of("Qwen3-0.6B-Q8_0.gguf"))) {
 *     ChatModel model = new Moe4jChatModel(engine);
 *     System.out.println(model.chat("Why is the sky blue?"));
 * }
 * }</pre>
 *
 * <p>Messages: system, user (text parts), AI (text, thinking, tool execution requests) and tool results. Parameters:
 * temperature, topP, topK, presence and frequency penalties, maxOutputTokens, stopSequences, tool specifications
 * and tool choice AUTO or NONE; a response format other than text, tool choice REQUIRED, strict tools and another
 * model name are refused with {@link dev.langchain4j.exception.UnsupportedFeatureException}. The answer's reasoning
 * is {@code AiMessage.thinking()}. Thread-safe: the engine batches concurrent requests.
 *
 * <p>An engine passed in stays the caller's; one loaded by {@link Builder#modelPath} is closed by {@link #close()}.
 */
public final class Moe4jChatModel implements ChatModel, AutoCloseable {
    private final EngineBinding binding;

    /** Over an engine the caller loaded, keeps and closes. */
    public Moe4jChatModel(Engine engine) {
        this(builder().engine(engine));
    }

    private Moe4jChatModel(Builder builder) {
        this.binding = builder.binding();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link Moe4jChatModel}; see {@link Moe4jModelBuilder} for who owns the engine. */
    public static final class Builder extends Moe4jModelBuilder<Builder> {
        private Builder() {}

        public Moe4jChatModel build() {
            return new Moe4jChatModel(this);
        }
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        dev.moe4j.api.ChatRequest moe4jRequest = binding.requests().toMoe4j(request);
        return ResponseConversion.chatResponse(binding.engine().chat(moe4jRequest), binding.modelName(), List.of());
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return binding.defaultParameters();
    }

    @Override
    public List<ChatModelListener> listeners() {
        return binding.listeners();
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    @Override
    public Set<Capability> supportedCapabilities() {
        return Set.of();
    }

    /** The engine that answers. */
    public Engine engine() {
        return binding.engine();
    }

    /** Closes the engine if this model loaded it; an engine passed in is left open. */
    @Override
    public void close() {
        binding.close();
    }
}
