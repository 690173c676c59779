package dev.moe4j.generate;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.ListenerException;
import dev.moe4j.api.ToolCall;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's callbacks, handed off by the scheduler and delivered in order on a virtual thread of the
 * request's own: a listener that throws, blocks or calls the engine then touches only its own request. The
 * scheduler never waits here; it stops feeding a request whose listener is {@link #CAPACITY} callbacks behind
 * ({@link #backlogged()}), so a slow listener slows its own request alone and the hand-off stays bounded.
 */
final class Delivery implements ChatListener {
    private static final Logger LOG = LoggerFactory.getLogger(Delivery.class);

    /** Callbacks a request may run ahead of its listener before the scheduler pauses it. */
    static final int CAPACITY = 64;

    private final ChatListener listener;
    private final CompletableFuture<ChatResponse> result;
    private final ConcurrentLinkedQueue<Runnable> events = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean draining = new AtomicBoolean();
    /** The first throwable of a listener callback: the request ends with it. */
    private volatile Throwable failure;
    /** After a cancel only the final callback is delivered. */
    private volatile boolean muted;
    private volatile Runnable onListenerFailure = () -> {};

    Delivery(ChatListener listener, CompletableFuture<ChatResponse> result) {
        this.listener = listener;
        this.result = result;
    }

    /** What to do when a callback throws (the generation ends itself). */
    void onListenerFailure(Runnable action) {
        this.onListenerFailure = action;
    }

    boolean backlogged() {
        return queued.get() >= CAPACITY;
    }

    Throwable failure() {
        return failure;
    }

    void mute() {
        muted = true;
    }

    @Override
    public void onReasoning(String delta) {
        stream(() -> listener.onReasoning(delta));
    }

    @Override
    public void onContent(String delta) {
        stream(() -> listener.onContent(delta));
    }

    @Override
    public void onToolCall(ToolCall call) {
        stream(() -> listener.onToolCall(call));
    }

    /** The last callback of a request that ended; completes the result after the listener has seen it. */
    @Override
    public void onComplete(ChatResponse response) {
        post(() -> {
            Throwable f = failure;
            if (f != null) {
                deliverError(new ListenerException(f));
                return;
            }
            try {
                listener.onComplete(response);
                result.complete(response);
            } catch (Throwable t) {
                result.completeExceptionally(new ListenerException(t));
            }
        });
    }

    /** The last callback of a request that failed; completes the result exceptionally after it. */
    @Override
    public void onError(Throwable error) {
        post(() -> deliverError(failure != null ? new ListenerException(failure) : error));
    }

    private void deliverError(Throwable error) {
        try {
            listener.onError(error);
        } catch (Throwable t) {
            LOG.warn("a listener's onError threw; the request had already failed with {}", error.toString(), t);
        }
        result.completeExceptionally(error);
    }

    private void stream(Runnable callback) {
        post(() -> {
            if (muted || failure != null) {
                return;
            }
            try {
                callback.run();
            } catch (Throwable t) {
                failure = t;
                onListenerFailure.run();
            }
        });
    }

    private void post(Runnable event) {
        queued.incrementAndGet();
        events.add(event);
        if (draining.compareAndSet(false, true)) {
            Thread.ofVirtual().name("moe4j-listener").start(this::drain);
        }
    }

    private void drain() {
        do {
            Runnable event;
            while ((event = events.poll()) != null) {
                queued.decrementAndGet();
                event.run();
            }
            draining.set(false);
            // an event posted between the last poll and the reset finds draining still set: take it here
        } while (!events.isEmpty() && draining.compareAndSet(false, true));
    }
}
