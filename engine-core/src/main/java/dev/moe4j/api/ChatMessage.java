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

    public enum Role {
        SYSTEM, USER, ASSISTANT, TOOL;

        /** The name the templates and the JSON request format use: {@code "system"}, {@code "user"}, … */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Role fromWireName(String name) {
            for (Role role : values()) {
                if (role.wireName().equals(name)) {
                    return role;
                }
            }
            throw new IllegalArgumentException("unknown message role '" + name + "' (expected system, user, assistant or tool)");
        }
    }

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        if (role != Role.ASSISTANT && (reasoningContent != null || !toolCalls.isEmpty())) {
            throw new IllegalArgumentException("only assistant messages carry reasoning or tool calls, not " + role.wireName());
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(Role.SYSTEM, Objects.requireNonNull(content, "content"), null, List.of());
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(Role.USER, Objects.requireNonNull(content, "content"), null, List.of());
    }

    /** An earlier answer; it may hold the model's raw output, {@code <think>…</think>} included. */
    public static ChatMessage assistant(String content) {
        return new ChatMessage(Role.ASSISTANT, content, null, List.of());
    }

    public static ChatMessage assistant(String content, String reasoningContent) {
        return new ChatMessage(Role.ASSISTANT, content, reasoningContent, List.of());
    }

    public static ChatMessage assistant(String content, String reasoningContent, List<ToolCall> toolCalls) {
        return new ChatMessage(Role.ASSISTANT, content, reasoningContent, toolCalls);
    }

    public static ChatMessage assistant(String content, List<ToolCall> toolCalls) {
        return new ChatMessage(Role.ASSISTANT, content, null, toolCalls);
    }

    /** A tool's result, sent back to the model. */
    public static ChatMessage tool(String content) {
        return new ChatMessage(Role.TOOL, Objects.requireNonNull(content, "content"), null, List.of());
    }
}
