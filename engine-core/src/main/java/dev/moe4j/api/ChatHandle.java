package dev.moe4j.api;

/** A running streamed request. */
public interface ChatHandle {
    /**
     * Stops generation within one step, or at once if the request is still waiting; no text callback follows, and
     * the response has finish reason {@link FinishReason#CANCELLED} (its text may run past what was streamed).
     */
    void cancel();

    boolean isDone();

    /**
     * Waits for the end and returns the response (as passed to {@link ChatListener#onComplete}, after it ran).
     * Throws what failed the request: {@link ListenerException} if its own listener threw,
     * {@link EngineStoppedException} if the engine closed or its scheduler stopped before it started.
     */
    ChatResponse await();
}
