package dev.moe4j.generate.chat;

import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ToolSpec;
import java.util.List;

/**
 * Turns a conversation into the exact prompt text a model was trained on, byte for byte what Hugging Face's
 * {@code apply_chat_template(..., tokenize=False)} gives with the model's Jinja template. Get one from
 * {@link ChatTemplates}. Implementations are immutable and thread-safe.
 */
public interface ChatTemplate {

    /** How a model thinks, which decides what the generation prompt holds. */
    enum ThinkingMode {
        /** Qwen3 hybrid: thinks unless told not to; {@code enableThinking = false} pre-fills an empty think block. */
        HYBRID,
        /** Qwen3-Thinking-2507: the generation prompt opens the think block, the output holds only {@code </think>}. */
        ALWAYS,
        /** Qwen3-Instruct-2507: never thinks, emits no think block. */
        NEVER
    }

    /** The name {@link ChatTemplates#byName} accepts, e.g. {@code "qwen3"}. */
    String name();

    ThinkingMode thinkingMode();

    /**
     * @param messages            the conversation, at least one message
     * @param tools               the tools to list in the system prompt; null or empty for none
     * @param enableThinking      the hybrid templates' {@code enable_thinking} switch; null leaves it undefined (the
     *                            model decides, and by default thinks); ignored by templates that have no switch
     * @param addGenerationPrompt end with the opening of the assistant's turn, ready for the model to answer
     */
    default String render(List<ChatMessage> messages, List<ToolSpec> tools, Boolean enableThinking,
            boolean addGenerationPrompt) {
        return renderPrompt(messages, tools, enableThinking, addGenerationPrompt).text();
    }

    /**
     * Renders as {@link #render} does, and records which stretches of the text the caller supplied (contents,
     * reasoning, tool calls, the tools' JSON), so that they can be tokenized as plain text while the template's
     * markup keeps its special tokens.
     *
     * @param messages            the conversation, at least one message
     * @param tools               the tools to list in the system prompt; null or empty for none
     * @param enableThinking      as for {@link #render}
     * @param addGenerationPrompt as for {@link #render}
     * @return the text, identical to {@link #render}'s, and the caller's stretches in it
     */
    RenderedPrompt renderPrompt(List<ChatMessage> messages, List<ToolSpec> tools, Boolean enableThinking,
            boolean addGenerationPrompt);
}
