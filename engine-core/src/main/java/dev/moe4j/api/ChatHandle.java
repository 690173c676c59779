package dev.moe4j.api;

/** A running streamed request, returned by {@link Engine#chatStream} and {@link Engine#completeStream}. */
public interface ChatHandle {
    /**
     * Stops generation within one step, or at once if the request is still waiting; no text callback follows, and
     * the response has finish reason {@link FinishReason#CANCELLED} (its text may run past what was streamed).
     */
    void cancel();

    /**
     * Whether the request has ended, completed or failed; {@link #await()} then returns or throws at once.
     *
     * @return true once the request's last callback ({@link ChatListener#onComplete} or
     *     {@link ChatListener#onError}) has run
     */
    boolean isDone();

    /**
     * Waits for the end and returns the response (as passed to {@link ChatListener#onComplete}, after it ran).
     * Throws what failed the request (the same throwable {@link ChatListener#onError} received).
     *
     * @return the response of a request that ended, cancelled ones included
     * @throws ListenerException if the request's own listener threw
     * @throws EngineStoppedException if the engine was closed, or its scheduler stopped on an error, before the
     *     request started
     * @throws ContextFullException if the KV cache cannot hold the sequence even alone
     * @throws java.util.concurrent.CancellationException if the waiting thread is interrupted; the request is then
     *     cancelled and the thread's interrupt flag set again
     * @throws Moe4jException if an {@link Error} failed the request (it is the cause); any other exception of the
     *     forward pass or the sampler that failed this request alone is thrown as it is
     */
    ChatResponse await();
}
