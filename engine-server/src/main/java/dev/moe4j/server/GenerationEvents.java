package dev.moe4j.server;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.ToolCall;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A generation's listener: records when the first text arrived and, for a streamed answer, hands every event to the
 * HTTP thread through a bounded queue. A full queue blocks the engine's delivery thread for this request, which
 * pauses this request alone (a slow client slows only itself); once the HTTP side has {@link #close()}d, events
 * are dropped so that delivery never waits on a reader that is gone.
 */
final class GenerationEvents implements ChatListener {
    sealed interface Event permits Text, Tool, Done, Failed {}

    record Text(boolean reasoning, String delta) implements Event {}

    record Tool(ToolCall call) implements Event {}

    record Done(ChatResponse response) implements Event {}

    record Failed(Throwable error) implements Event {}

    private final long startNanos;
    private final boolean forward;
    private final BlockingQueue<Event> queue = new ArrayBlockingQueue<>(64);
    private volatile long firstNanos;
    private volatile boolean closed;

    /**
     * @param startNanos when the HTTP request arrived ({@link System#nanoTime()})
     * @param forward    whether events go to {@link #take()} (streaming) or are only timed
     */
    GenerationEvents(long startNanos, boolean forward) {
        this.startNanos = startNanos;
        this.forward = forward;
    }

    @Override
    public void onReasoning(String delta) {
        first();
        put(new Text(true, delta));
    }

    @Override
    public void onContent(String delta) {
        first();
        put(new Text(false, delta));
    }

    @Override
    public void onToolCall(ToolCall call) {
        first();
        put(new Tool(call));
    }

    @Override
    public void onComplete(ChatResponse response) {
        put(new Done(response));
    }

    @Override
    public void onError(Throwable error) {
        put(new Failed(error));
    }

    private void first() {
        if (firstNanos == 0) {
            firstNanos = System.nanoTime();
        }
    }

    private void put(Event event) {
        if (!forward) {
            return;
        }
        try {
            while (!closed && !queue.offer(event, 50, TimeUnit.MILLISECONDS)) {
                // the reader is slow: wait for it unless it has gone
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The next event, or null if none came within the timeout. */
    Event poll(long timeout, TimeUnit unit) throws InterruptedException {
        return queue.poll(timeout, unit);
    }

    /** The reader is gone: drop what is queued and everything that follows. */
    void close() {
        closed = true;
        queue.clear();
    }

    /** Seconds from arrival to the first text or tool call, or -1 if none came. */
    double timeToFirstToken() {
        long first = firstNanos;
        return first == 0 ? -1 : (first - startNanos) / 1e9;
    }

    /** Mean seconds per generated token after the first, or -1 when fewer than two were generated. */
    double timePerOutputToken(int completionTokens) {
        long first = firstNanos;
        if (first == 0 || completionTokens < 2) {
            return -1;
        }
        return (System.nanoTime() - first) / 1e9 / (completionTokens - 1);
    }
}
