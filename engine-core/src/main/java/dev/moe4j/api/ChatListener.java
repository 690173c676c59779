package dev.moe4j.api;

/**
 * Receives a streamed generation. Callbacks run on the engine's scheduler thread, in order; keep them short.
 * Reasoning and content arrive as text deltas that never split a character or contain part of a stop string.
 */
public interface ChatListener {
    default void onReasoning(String delta) {}

    default void onContent(String delta) {}

    default void onToolCall(ToolCall call) {}

    /** The last callback of a successful request. */
    default void onComplete(ChatResponse response) {}

    /** The last callback of a failed request. */
    default void onError(Throwable error) {}
}
