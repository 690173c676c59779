package dev.moe4j.api;

/** A running streamed request. */
public interface ChatHandle {
    /** Stops generation within one step; the response then has finish reason {@link FinishReason#CANCELLED}. */
    void cancel();

    boolean isDone();

    /** Waits for the end and returns the response (as passed to {@link ChatListener#onComplete}). */
    ChatResponse await();
}
