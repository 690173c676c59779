package dev.moe4j.langchain4j;

import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.moe4j.api.Engine;
import java.util.List;
import java.util.Set;

/**
 * A LangChain4j {@link StreamingChatModel} answered in process by a moe4j {@link Engine}: the same messages and
 * parameters as {@link Moe4jChatModel}.
 *
 * <p>The handler gets the answer through {@code onPartialResponse}, the reasoning through {@code onPartialThinking},
 * each tool call once whole through {@code onCompleteToolCall}, then {@code onCompleteResponse} or {@code onError}.
 * Callbacks run in order on a virtual thread of the request's own, so a handler may block. The
 * {@code StreamingHandle} in each partial callback's context cancels the request: generation stops within one
 * step, its KV blocks are freed, and the handler hears nothing more. A request moe4j cannot serve as given is
 * refused by {@link #chat} throwing, before anything streams.
 *
 * <p>An engine passed in stays the caller's; one loaded by {@link Builder#modelPath} is closed by {@link #close()}.
 */
public final class Moe4jStreamingChatModel implements StreamingChatModel, AutoCloseable {
    private final EngineBinding binding;

    /** Over an engine the caller loaded, keeps and closes. */
    public Moe4jStreamingChatModel(Engine engine) {
        this(builder().engine(engine));
    }

    private Moe4jStreamingChatModel(Builder builder) {
        this.binding = builder.binding();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link Moe4jStreamingChatModel}; see {@link Moe4jModelBuilder} for who owns the engine. */
    public static final class Builder extends Moe4jModelBuilder<Builder> {
        private Builder() {}

        public Moe4jStreamingChatModel build() {
            return new Moe4jStreamingChatModel(this);
        }
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        dev.moe4j.api.ChatRequest moe4jRequest = binding.requests().toMoe4j(request);
        StreamRelay relay = new StreamRelay(handler, binding.modelName());
        relay.started(binding.engine().chatStream(moe4jRequest, relay));
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
