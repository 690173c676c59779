package dev.moe4j.springai;

import dev.moe4j.api.Thinking;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.model.tool.DefaultToolCallingChatOptions;
import org.springframework.ai.model.tool.ToolCallingChatOptions;

/**
 * Spring AI's tool-calling chat options plus moe4j's own: whether the model thinks, its thinking budget, the
 * sampling seed and a chat template name. Any {@link ChatOptions} may be given to a prompt; these add the moe4j
 * fields. A field left null takes the chat model's default.
 */
public class Moe4jChatOptions extends DefaultToolCallingChatOptions {
    private Thinking thinking;
    private Integer thinkingBudget;
    private Long seed;
    private String chatTemplate;

    public Thinking getThinking() {
        return thinking;
    }

    /** Whether the model thinks before answering. */
    public void setThinking(Thinking thinking) {
        this.thinking = thinking;
    }

    public Integer getThinkingBudget() {
        return thinkingBudget;
    }

    /** Reasoning tokens allowed before the early-stop text; -1 = unlimited, 0 = no thinking. */
    public void setThinkingBudget(Integer thinkingBudget) {
        this.thinkingBudget = thinkingBudget;
    }

    public Long getSeed() {
        return seed;
    }

    /** Same seed, same answer; null = a fresh random seed. */
    public void setSeed(Long seed) {
        this.seed = seed;
    }

    public String getChatTemplate() {
        return chatTemplate;
    }

    /** A template name for the engine's {@code ChatTemplates.byName}; null = the model's own. */
    public void setChatTemplate(String chatTemplate) {
        this.chatTemplate = chatTemplate;
    }

    /** Fluent setters for one-line construction. */
    public Moe4jChatOptions thinking(Thinking mode) {
        setThinking(mode);
        return this;
    }

    public Moe4jChatOptions thinkingBudget(int tokens) {
        setThinkingBudget(tokens);
        return this;
    }

    public Moe4jChatOptions seed(long seed) {
        setSeed(seed);
        return this;
    }

    public Moe4jChatOptions chatTemplate(String name) {
        setChatTemplate(name);
        return this;
    }

    public Moe4jChatOptions temperature(double t) {
        setTemperature(t);
        return this;
    }

    public Moe4jChatOptions maxTokens(int tokens) {
        setMaxTokens(tokens);
        return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends ChatOptions> T copy() {
        return (T) merge(this, new Moe4jChatOptions());
    }

    /**
     * {@code over}'s set fields over {@code base}'s, as a new object: the request's options over the model's
     * defaults. Tool callbacks, names and context of the request replace the defaults' when it has any.
     */
    static Moe4jChatOptions merge(ChatOptions over, Moe4jChatOptions base) {
        Moe4jChatOptions m = new Moe4jChatOptions();
        m.setModel(first(over == null ? null : over.getModel(), base.getModel()));
        m.setTemperature(first(over == null ? null : over.getTemperature(), base.getTemperature()));
        m.setTopP(first(over == null ? null : over.getTopP(), base.getTopP()));
        m.setTopK(first(over == null ? null : over.getTopK(), base.getTopK()));
        m.setMaxTokens(first(over == null ? null : over.getMaxTokens(), base.getMaxTokens()));
        m.setPresencePenalty(first(over == null ? null : over.getPresencePenalty(), base.getPresencePenalty()));
        m.setFrequencyPenalty(first(over == null ? null : over.getFrequencyPenalty(), base.getFrequencyPenalty()));
        List<String> stop = over == null ? null : over.getStopSequences();
        m.setStopSequences(copyOrNull(stop != null ? stop : base.getStopSequences()));
        ToolCallingChatOptions tools = over instanceof ToolCallingChatOptions t ? t : null;
        m.setToolCallbacks(new ArrayList<>(tools != null && !isEmpty(tools.getToolCallbacks())
                ? tools.getToolCallbacks() : base.getToolCallbacks()));
        m.setToolNames(new HashSet<>(tools != null && !isEmpty(tools.getToolNames())
                ? tools.getToolNames() : base.getToolNames()));
        m.setToolContext(new HashMap<>(tools != null && tools.getToolContext() != null && !tools.getToolContext().isEmpty()
                ? tools.getToolContext() : base.getToolContext()));
        m.setInternalToolExecutionEnabled(first(tools == null ? null : tools.getInternalToolExecutionEnabled(),
                base.getInternalToolExecutionEnabled()));
        Moe4jChatOptions own = over instanceof Moe4jChatOptions o ? o : null;
        m.setThinking(first(own == null ? null : own.getThinking(), base.getThinking()));
        m.setThinkingBudget(first(own == null ? null : own.getThinkingBudget(), base.getThinkingBudget()));
        m.setSeed(first(own == null ? null : own.getSeed(), base.getSeed()));
        m.setChatTemplate(first(own == null ? null : own.getChatTemplate(), base.getChatTemplate()));
        return m;
    }

    private static boolean isEmpty(java.util.Collection<?> c) {
        return c == null || c.isEmpty();
    }

    private static <T> T first(T a, T b) {
        return a != null ? a : b;
    }

    private static List<String> copyOrNull(List<String> list) {
        return list == null ? null : new ArrayList<>(list);
    }
}
