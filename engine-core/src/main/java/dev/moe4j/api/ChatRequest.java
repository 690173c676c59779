package dev.moe4j.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An immutable chat request. Build one fluently:
 *
 * <pre>{@code
 * ChatRequest request = ChatRequest.builder()
 *         .system("You are terse.")
 *         .user("Why is the sky blue?")
 *         .thinking(Thinking.ON).thinkingBudget(512)
 *         .maxTokens(1024).seed(42)
 *         .build();
 * }</pre>
 *
 * @param thinkingBudget  reasoning tokens allowed before the early-stop text is inserted; -1 = unlimited, 0 = no
 *                        thinking at all
 * @param sampling        null = Qwen's recommendation for the thinking mode in use
 * @param maxTokens       generated tokens at most (reasoning included)
 * @param seed            null = a fresh random seed
 * @param chatTemplate    a template name for {@code ChatTemplates.byName}; null = recognise the model's own
 */
public record ChatRequest(List<ChatMessage> messages, List<ToolSpec> tools, Thinking thinking, int thinkingBudget,
                          SamplingParams sampling, int maxTokens, List<String> stop, Long seed, String chatTemplate) {

    public static final int DEFAULT_MAX_TOKENS = 4096;

    public ChatRequest {
        Objects.requireNonNull(messages, "messages");
        if (messages.isEmpty()) {
            throw new InvalidRequestException("a chat request needs at least one message");
        }
        messages = List.copyOf(messages);
        tools = tools == null ? List.of() : List.copyOf(tools);
        thinking = thinking == null ? Thinking.MODEL_DEFAULT : thinking;
        if (thinkingBudget < -1) {
            throw new InvalidRequestException("thinkingBudget must be >= 0 (or -1 for unlimited), was " + thinkingBudget);
        }
        if (maxTokens < 1) {
            throw new InvalidRequestException("maxTokens must be >= 1, was " + maxTokens);
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) {
            if (s == null || s.isEmpty()) {
                throw new InvalidRequestException("stop strings must be non-empty");
            }
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A one-message request with every default. */
    public static ChatRequest of(String userMessage) {
        return builder().user(userMessage).build();
    }

    public static final class Builder {
        private final List<ChatMessage> messages = new ArrayList<>();
        private final List<ToolSpec> tools = new ArrayList<>();
        private final List<String> stop = new ArrayList<>();
        private Thinking thinking = Thinking.MODEL_DEFAULT;
        private int thinkingBudget = -1;
        private SamplingParams sampling;
        private int maxTokens = DEFAULT_MAX_TOKENS;
        private Long seed;
        private String chatTemplate;

        public Builder message(ChatMessage message) {
            messages.add(Objects.requireNonNull(message, "message"));
            return this;
        }

        public Builder messages(List<ChatMessage> all) {
            all.forEach(this::message);
            return this;
        }

        public Builder system(String content) {
            return message(ChatMessage.system(content));
        }

        public Builder user(String content) {
            return message(ChatMessage.user(content));
        }

        public Builder assistant(String content) {
            return message(ChatMessage.assistant(content));
        }

        public Builder tool(ToolSpec tool) {
            tools.add(Objects.requireNonNull(tool, "tool"));
            return this;
        }

        public Builder thinking(Thinking mode) {
            this.thinking = Objects.requireNonNull(mode, "thinking");
            return this;
        }

        public Builder thinkingBudget(int tokens) {
            this.thinkingBudget = tokens;
            return this;
        }

        public Builder sampling(SamplingParams params) {
            this.sampling = params;
            return this;
        }

        public Builder greedy() {
            return sampling(SamplingParams.GREEDY);
        }

        public Builder maxTokens(int tokens) {
            this.maxTokens = tokens;
            return this;
        }

        public Builder stop(String... strings) {
            stop.addAll(List.of(strings));
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder chatTemplate(String name) {
            this.chatTemplate = name;
            return this;
        }

        public ChatRequest build() {
            return new ChatRequest(messages, tools, thinking, thinkingBudget, sampling, maxTokens, stop, seed, chatTemplate);
        }
    }
}
