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
    /**
     * More of the reasoning (the think block's text, without the tags). Does nothing by default.
     *
     * @param delta the text generated since the last reasoning callback; never empty
     */
    default void onReasoning(String delta) {}

    /**
     * More of the answer. Does nothing by default.
     *
     * @param delta the text generated since the last content callback; never empty
     */
    default void onContent(String delta) {}

    /**
     * A tool call the model completed, parsed. Does nothing by default.
     *
     * @param call the tool's name and arguments
     */
    default void onToolCall(ToolCall call) {}

    /**
     * The last callback of a request that ended (stopped, cut at a limit or cancelled); {@link ChatHandle#await()}
     * returns after it. Does nothing by default.
     *
     * @param response the whole response, as {@link ChatHandle#await()} returns it
     */
    default void onComplete(ChatResponse response) {}

    /**
     * The last callback of a failed request; what it throws is logged and ignored. Does nothing by default.
     *
     * @param error what failed the request, as {@link ChatHandle#await()} throws it
     */
    default void onError(Throwable error) {}
}
