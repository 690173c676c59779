package dev.moe4j.langchain4j;

import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import dev.moe4j.api.Engine;
import dev.moe4j.api.Thinking;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What {@link Moe4jChatModel} and {@link Moe4jStreamingChatModel} are built from: an engine, or a model file to
 * load one from, and the defaults of every request.
 *
 * <p>Ownership: an engine passed to {@link #engine(Engine)} stays the caller's (closing the chat model leaves it
 * open, and several chat models may share it); an engine loaded from {@link #modelPath(Path)} belongs to the chat
 * model, which closes it in {@code close()}.
 *
 * @param <B> the concrete builder
 */
public abstract class Moe4jModelBuilder<B extends Moe4jModelBuilder<B>> {
    private Engine engine;
    private Path modelPath;
    private Engine.Options options = Engine.Options.defaults();
    private String modelName;
    private Thinking thinking = Thinking.MODEL_DEFAULT;
    private int thinkingBudget = -1;
    private Long seed;
    private String chatTemplate;
    private ChatRequestParameters defaultRequestParameters = DefaultChatRequestParameters.EMPTY;
    private final List<ChatModelListener> listeners = new ArrayList<>();

    Moe4jModelBuilder() {}

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** An engine the caller loaded and keeps owning. */
    public B engine(Engine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
        return self();
    }

    /** A GGUF file or Hugging Face directory to load; the chat model then owns the engine and closes it. */
    public B modelPath(Path path) {
        this.modelPath = Objects.requireNonNull(path, "modelPath");
        return self();
    }

    /** How an engine loaded from {@link #modelPath(Path)} serves requests; default {@link Engine.Options#defaults()}. */
    public B options(Engine.Options options) {
        this.options = Objects.requireNonNull(options, "options");
        return self();
    }

    /** The name reported in responses; default: the model file's name, or "moe4j" for an engine passed in. */
    public B modelName(String name) {
        this.modelName = Objects.requireNonNull(name, "modelName");
        return self();
    }

    /** Whether the model thinks before answering (LangChain4j's parameters have no such switch). */
    public B thinking(Thinking mode) {
        this.thinking = Objects.requireNonNull(mode, "thinking");
        return self();
    }

    /** Reasoning tokens allowed before the early-stop text; -1 = unlimited, 0 = no thinking. */
    public B thinkingBudget(int tokens) {
        this.thinkingBudget = tokens;
        return self();
    }

    /** The sampling seed of every request (same request, same answer); default a fresh random seed each time. */
    public B seed(long seed) {
        this.seed = seed;
        return self();
    }

    /** A chat template name for the engine's {@code ChatTemplates.byName}; default: the model's own template. */
    public B chatTemplate(String name) {
        this.chatTemplate = Objects.requireNonNull(name, "chatTemplate");
        return self();
    }

    /** Parameters every request starts from; its own parameters override them. */
    public B defaultRequestParameters(ChatRequestParameters parameters) {
        this.defaultRequestParameters = Objects.requireNonNull(parameters, "defaultRequestParameters");
        return self();
    }

    /** LangChain4j listeners told of each request, response and error. */
    public B listeners(List<ChatModelListener> listeners) {
        this.listeners.addAll(listeners);
        return self();
    }

    EngineBinding binding() {
        if ((engine == null) == (modelPath == null)) {
            throw new IllegalStateException("give exactly one of engine(...) or modelPath(...)");
        }
        if (thinkingBudget < -1) {
            throw new IllegalArgumentException("thinkingBudget must be >= 0 (or -1 for unlimited), was " + thinkingBudget);
        }
        boolean owned = engine == null;
        String name = modelName != null ? modelName
                : owned ? String.valueOf(modelPath.getFileName()) : "moe4j";
        RequestConversion requests = new RequestConversion(name, thinking, thinkingBudget, seed, chatTemplate);
        // checked before loading, so a bad default does not cost a model load
        requests.check(defaultRequestParameters);
        Engine e = owned ? Engine.load(modelPath, options) : engine;
        return new EngineBinding(e, owned, name, requests, defaultRequestParameters, List.copyOf(listeners));
    }
}
