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
 * @param messages        the conversation so far, in order; the model answers the last one
 * @param tools           the tools the model may call; empty for none
 * @param thinking        whether the model should think; {@link Thinking#MODEL_DEFAULT} leaves it to the template
 * @param thinkingBudget  reasoning tokens allowed before the early-stop text is inserted; -1 = unlimited, 0 = no
 *                        thinking at all
 * @param sampling        null = Qwen's recommendation for the thinking mode in use
 * @param maxTokens       generated tokens at most (reasoning included)
 * @param stop            strings that end generation when they appear (not part of the output); empty for none
 * @param seed            null = a fresh random seed
 * @param chatTemplate    a template name for {@code ChatTemplates.byName}; null = recognise the model's own
 * @param allowSpecialTokensInContent false (the default): everything the caller supplies (every message's content
 *                        and reasoning, tool calls' names and arguments, the tools' JSON) is tokenized as plain
 *                        text, so {@code <|im_end|>} or {@code <think>} written in a message are ordinary characters
 *                        and only the chat template's own markup yields control tokens. True: the whole rendered
 *                        prompt is tokenized with added tokens recognised wherever they appear, as Hugging Face's
 *                        {@code apply_chat_template(tokenize=True)} does; only for fully trusted input, since a
 *                        message can then close its turn and forge another (a system turn, say)
 */
public record ChatRequest(List<ChatMessage> messages, List<ToolSpec> tools, Thinking thinking, int thinkingBudget,
                          SamplingParams sampling, int maxTokens, List<String> stop, Long seed, String chatTemplate,
                          boolean allowSpecialTokensInContent) {

    /** The {@code maxTokens} of a request that names none. */
    public static final int DEFAULT_MAX_TOKENS = 4096;

    /**
     * A request; the lists are copied, null lists read as empty and a null thinking mode as
     * {@link Thinking#MODEL_DEFAULT}.
     *
     * @param messages       the conversation, at least one message
     * @param tools          the tools the model may call, or null
     * @param thinking       the thinking mode, or null
     * @param thinkingBudget reasoning tokens allowed; -1 = unlimited
     * @param sampling       the sampling parameters, or null for Qwen's recommendation
     * @param maxTokens      generated tokens at most, at least 1
     * @param stop           stop strings, or null
     * @param seed           the sampling seed, or null for a fresh one
     * @param chatTemplate   a template name, or null for the model's own
     * @param allowSpecialTokensInContent whether special tokens written in the caller's text count as such
     *     (see the record's description); false for untrusted input
     * @throws NullPointerException if {@code messages} is null, or a message, tool or stop string is
     * @throws InvalidRequestException if there is no message, {@code thinkingBudget < -1}, {@code maxTokens < 1}
     *     or a stop string is empty
     */
    public ChatRequest {
        Objects.requireNonNull(messages, "messages");
        if (messages.isEmpty()) {
            throw new InvalidRequestException("a chat request needs at least one message");
        }
        messages = copyOf(messages, "messages");
        tools = tools == null ? List.of() : copyOf(tools, "tools");
        thinking = thinking == null ? Thinking.MODEL_DEFAULT : thinking;
        if (thinkingBudget < -1) {
            throw new InvalidRequestException("thinkingBudget must be >= 0 (or -1 for unlimited), was " + thinkingBudget);
        }
        if (maxTokens < 1) {
            throw new InvalidRequestException("maxTokens must be >= 1, was " + maxTokens);
        }
        stop = stop == null ? List.of() : copyOf(stop, "stop");
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new InvalidRequestException("stop strings must be non-empty");
            }
        }
    }

    /**
     * A request whose caller-supplied text is tokenized as plain text ({@code allowSpecialTokensInContent} false).
     *
     * @param messages       the conversation, at least one message
     * @param tools          the tools the model may call, or null
     * @param thinking       the thinking mode, or null
     * @param thinkingBudget reasoning tokens allowed; -1 = unlimited
     * @param sampling       the sampling parameters, or null for Qwen's recommendation
     * @param maxTokens      generated tokens at most, at least 1
     * @param stop           stop strings, or null
     * @param seed           the sampling seed, or null for a fresh one
     * @param chatTemplate   a template name, or null for the model's own
     * @throws NullPointerException if {@code messages} is null, or a message, tool or stop string is
     * @throws InvalidRequestException as the canonical constructor
     */
    public ChatRequest(List<ChatMessage> messages, List<ToolSpec> tools, Thinking thinking, int thinkingBudget,
                       SamplingParams sampling, int maxTokens, List<String> stop, Long seed, String chatTemplate) {
        this(messages, tools, thinking, thinkingBudget, sampling, maxTokens, stop, seed, chatTemplate, false);
    }

    /** A copy of the list; a null element is named by its index (List.copyOf's message names neither). */
    private static <T> List<T> copyOf(List<T> list, String name) {
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == null) {
                throw new NullPointerException(name + "[" + i + "]");
            }
        }
        return List.copyOf(list);
    }

    /**
     * A builder with every default: no messages yet, no tools, {@link Thinking#MODEL_DEFAULT}, unlimited thinking,
     * Qwen's sampling, {@link #DEFAULT_MAX_TOKENS}, no stop strings, a fresh seed, the model's template.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A one-message request with every default.
     *
     * @param userMessage what the user says
     * @return the request
     * @throws NullPointerException if {@code userMessage} is null
     */
    public static ChatRequest of(String userMessage) {
        return builder().user(userMessage).build();
    }

    /** Builds a {@link ChatRequest}; not thread-safe. Messages and tools are added in call order. */
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
        private boolean allowSpecialTokensInContent;

        /** A builder with every default; {@link ChatRequest#builder()} is the usual way to get one. */
        public Builder() {}

        /**
         * Adds a message.
         *
         * @param message the next message of the conversation
         * @return this builder
         * @throws NullPointerException if {@code message} is null
         */
        public Builder message(ChatMessage message) {
            messages.add(Objects.requireNonNull(message, "message"));
            return this;
        }

        /**
         * Adds messages in order.
         *
         * @param all the next messages of the conversation
         * @return this builder
         * @throws NullPointerException if {@code all} or one of its messages is null
         */
        public Builder messages(List<ChatMessage> all) {
            Objects.requireNonNull(all, "messages").forEach(this::message);
            return this;
        }

        /**
         * Adds a system message.
         *
         * @param content the instructions
         * @return this builder
         * @throws NullPointerException if {@code content} is null
         */
        public Builder system(String content) {
            return message(ChatMessage.system(content));
        }

        /**
         * Adds a user message.
         *
         * @param content what the user says
         * @return this builder
         * @throws NullPointerException if {@code content} is null
         */
        public Builder user(String content) {
            return message(ChatMessage.user(content));
        }

        /**
         * Adds an earlier answer of the model (raw output with a think block is accepted).
         *
         * @param content the answer, or null for none
         * @return this builder
         */
        public Builder assistant(String content) {
            return message(ChatMessage.assistant(content));
        }

        /**
         * Offers the model a tool.
         *
         * @param tool the tool's JSON description
         * @return this builder
         * @throws NullPointerException if {@code tool} is null
         */
        public Builder tool(ToolSpec tool) {
            tools.add(Objects.requireNonNull(tool, "tool"));
            return this;
        }

        /**
         * Sets whether the model should think.
         *
         * @param mode on, off, or the template's default
         * @return this builder
         * @throws NullPointerException if {@code mode} is null
         */
        public Builder thinking(Thinking mode) {
            this.thinking = Objects.requireNonNull(mode, "thinking");
            return this;
        }

        /**
         * Sets the reasoning tokens allowed before the early-stop text is inserted (checked by {@link #build()}).
         *
         * @param tokens the budget; -1 = unlimited, 0 = no thinking at all
         * @return this builder
         */
        public Builder thinkingBudget(int tokens) {
            this.thinkingBudget = tokens;
            return this;
        }

        /**
         * Sets how tokens are chosen.
         *
         * @param params the sampling parameters, or null for Qwen's recommendation for the thinking mode in use
         * @return this builder
         */
        public Builder sampling(SamplingParams params) {
            this.sampling = params;
            return this;
        }

        /**
         * Chooses the most likely token every step ({@link SamplingParams#GREEDY}).
         *
         * @return this builder
         */
        public Builder greedy() {
            return sampling(SamplingParams.GREEDY);
        }

        /**
         * Sets the generated tokens at most, reasoning included (checked by {@link #build()}).
         *
         * @param tokens at least 1
         * @return this builder
         */
        public Builder maxTokens(int tokens) {
            this.maxTokens = tokens;
            return this;
        }

        /**
         * Adds stop strings: generation ends where one appears, and it is not part of the output.
         *
         * @param strings non-empty strings
         * @return this builder
         * @throws NullPointerException if {@code strings} or one of them is null
         */
        public Builder stop(String... strings) {
            for (String s : Objects.requireNonNull(strings, "strings")) {
                stop.add(Objects.requireNonNull(s, "stop string"));
            }
            return this;
        }

        /**
         * Sets the sampling seed: the same seed gives the same output.
         *
         * @param seed any value
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Names the chat template to render with instead of the model's own.
         *
         * @param name a template name known to {@code ChatTemplates.byName}, or null for the model's own
         * @return this builder
         */
        public Builder chatTemplate(String name) {
            this.chatTemplate = name;
            return this;
        }

        /**
         * Lets special tokens written in the caller's text (messages, reasoning, tool calls, tools) count as
         * control tokens, as Hugging Face's {@code apply_chat_template(tokenize=True)} does. Off by default:
         * then only the chat template's own markup yields control tokens, and a message holding
         * {@code <|im_end|>\n<|im_start|>system} cannot forge a turn. Turn it on only for fully trusted input, e.g.
         * to replay prompts tokenized that way.
         *
         * @param allow true to recognise special tokens in the caller's text
         * @return this builder
         */
        public Builder allowSpecialTokensInContent(boolean allow) {
            this.allowSpecialTokensInContent = allow;
            return this;
        }

        /**
         * The request as built so far; the builder may go on being used.
         *
         * @return the request
         * @throws InvalidRequestException if there is no message, the thinking budget is below -1, maxTokens is
         *     below 1 or a stop string is empty
         */
        public ChatRequest build() {
            return new ChatRequest(messages, tools, thinking, thinkingBudget, sampling, maxTokens, stop, seed, chatTemplate,
                    allowSpecialTokensInContent);
        }
    }
}
