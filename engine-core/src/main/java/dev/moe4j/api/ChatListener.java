package dev.moe4j.api;

/**
 * Receives a streamed generation. Callbacks of one request run in order on a virtual thread of that request's own,
 * never on the engine's scheduler, so a listener may block or call the engine (a follow-up request, say) and
 * affects only its own request: the engine runs at most a few dozen callbacks ahead of a slow listener and then
 * pauses that request alone. A callback that throws (an exception or an {@link Error}) ends its request:
 * {@link #onError} follows with a {@link ListenerException} whose cause is the throwable, and
 * {@link ChatHandle#await()} throws it. After {@link ChatHandle#cancel()} only {@link #onComplete} follows.
 * Reasoning and content arrive as text deltas that never split a character or contain part of a stop string.
 */
public interface ChatListener {
    default void onReasoning(String delta) {}

    default void onContent(String delta) {}

    default void onToolCall(ToolCall call) {}

    /** The last callback of a request that ended (stopped, cut at a limit or cancelled); await() returns after it. */
    default void onComplete(ChatResponse response) {}

    /** The last callback of a failed request; what it throws is logged and ignored. */
    default void onError(Throwable error) {}
}
