package dev.moe4j.api;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One message of a conversation, as the chat template sees it (the fields of an OpenAI / Hugging Face message).
 *
 * @param role             who speaks
 * @param content          the text; null means no content (an assistant turn that only calls tools) and renders as
 *                         an empty string
 * @param reasoningContent an assistant turn's reasoning kept apart from its content, or null; when null the template
 *                         looks for a {@code <think>…</think>} block inside {@code content} instead
 * @param toolCalls        the tools an assistant turn calls, in order; empty for every other role
 */
public record ChatMessage(Role role, String content, String reasoningContent, List<ToolCall> toolCalls) {

    /** Who speaks a message. */
    public enum Role {
        /** Instructions ahead of the conversation. */
        SYSTEM,
        /** The person talking to the model. */
        USER,
        /** The model: an earlier answer, its reasoning and its tool calls. */
        ASSISTANT,
        /** A tool's result, answering the assistant's call. */
        TOOL;

        /**
         * The name the templates and the JSON request format use.
         *
         * @return {@code "system"}, {@code "user"}, {@code "assistant"} or {@code "tool"}
         */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * The role of a wire name.
         *
         * @param name {@code "system"}, {@code "user"}, {@code "assistant"} or {@code "tool"}
         * @return the role
         * @throws IllegalArgumentException if the name is none of these
         */
        public static Role fromWireName(String name) {
            for (Role role : values()) {
                if (role.wireName().equals(name)) {
                    return role;
                }
            }
            throw new IllegalArgumentException("unknown message role '" + name + "' (expected system, user, assistant or tool)");
        }
    }

    /**
     * A message; the tool-call list is copied.
     *
     * @param role             who speaks
     * @param content          the text, or null for none
     * @param reasoningContent an assistant turn's reasoning, or null
     * @param toolCalls        an assistant turn's tool calls; null means none
     * @throws NullPointerException if {@code role} or a tool call is null
     * @throws IllegalArgumentException if a message other than an assistant's carries reasoning or tool calls
     */
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        if (toolCalls != null) {
            for (int i = 0; i < toolCalls.size(); i++) {
                if (toolCalls.get(i) == null) {
                    throw new NullPointerException("toolCalls[" + i + "]");
                }
            }
        }
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        if (role != Role.ASSISTANT && (reasoningContent != null || !toolCalls.isEmpty())) {
            throw new IllegalArgumentException("only assistant messages carry reasoning or tool calls, not " + role.wireName());
        }
    }

    /**
     * A system message.
     *
     * @param content the instructions
     * @return the message
     * @throws NullPointerException if {@code content} is null
     */
    public static ChatMessage system(String content) {
        return new ChatMessage(Role.SYSTEM, Objects.requireNonNull(content, "content"), null, List.of());
    }

    /**
     * A user message.
     *
     * @param content what the user says
     * @return the message
     * @throws NullPointerException if {@code content} is null
     */
    public static ChatMessage user(String content) {
        return new ChatMessage(Role.USER, Objects.requireNonNull(content, "content"), null, List.of());
    }

    /**
     * An earlier answer; it may hold the model's raw output, {@code <think>…</think>} included.
     *
     * @param content the answer, or null for none
     * @return the message
     */
    public static ChatMessage assistant(String content) {
        return new ChatMessage(Role.ASSISTANT, content, null, List.of());
    }

    /**
     * An earlier answer with its reasoning kept apart.
     *
     * @param content          the answer, or null for none
     * @param reasoningContent the reasoning, or null to look for a think block in {@code content}
     * @return the message
     */
    public static ChatMessage assistant(String content, String reasoningContent) {
        return new ChatMessage(Role.ASSISTANT, content, reasoningContent, List.of());
    }

    /**
     * An earlier answer with its reasoning and the tools it called.
     *
     * @param content          the answer, or null for none
     * @param reasoningContent the reasoning, or null to look for a think block in {@code content}
     * @param toolCalls        the calls in order; null means none
     * @return the message
     * @throws NullPointerException if a tool call is null
     */
    public static ChatMessage assistant(String content, String reasoningContent, List<ToolCall> toolCalls) {
        return new ChatMessage(Role.ASSISTANT, content, reasoningContent, toolCalls);
    }

    /**
     * An earlier answer that called tools.
     *
     * @param content   the answer, or null for none (a turn that only calls tools)
     * @param toolCalls the calls in order; null means none
     * @return the message
     * @throws NullPointerException if a tool call is null
     */
    public static ChatMessage assistant(String content, List<ToolCall> toolCalls) {
        return new ChatMessage(Role.ASSISTANT, content, null, toolCalls);
    }

    /**
     * A tool's result, sent back to the model.
     *
     * @param content the result as text (often JSON)
     * @return the message
     * @throws NullPointerException if {@code content} is null
     */
    public static ChatMessage tool(String content) {
        return new ChatMessage(Role.TOOL, Objects.requireNonNull(content, "content"), null, List.of());
    }
}
