package dev.moe4j.spark;

import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatResponse;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Streams items through an engine with at most {@code window} requests submitted at once: the engine's scheduler
 * batches them (and those of other threads) while this iterator hands back results in input order. Reading one
 * result submits the next item, so a partition of any length holds only {@code window} items and their answers.
 * Not thread-safe: one consumer, as Spark's task thread is.
 *
 * @param <I> an input item
 * @param <O> an output item
 */
final class WindowedGeneration<I, O> implements Iterator<O>, AutoCloseable {
    private record Pending<I>(I item, ChatHandle handle) {}

    private final Iterator<I> input;
    private final int window;
    private final Function<I, ChatHandle> submit;
    private final BiFunction<I, ChatResponse, O> finish;
    private final ArrayDeque<Pending<I>> inFlight;
    private int maxInFlight;

    /**
     * @param input  the items, read lazily
     * @param window requests submitted at once, at least 1
     * @param submit starts an item's request; returns null for an item that needs none (its response is then null)
     * @param finish the output of an item and its response
     */
    WindowedGeneration(Iterator<I> input, int window, Function<I, ChatHandle> submit,
                       BiFunction<I, ChatResponse, O> finish) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be >= 1, was " + window);
        }
        this.input = input;
        this.window = window;
        this.submit = submit;
        this.finish = finish;
        this.inFlight = new ArrayDeque<>(window);
    }

    @Override
    public boolean hasNext() {
        fill();
        return !inFlight.isEmpty();
    }

    @Override
    public O next() {
        fill();
        Pending<I> head = inFlight.poll();
        if (head == null) {
            throw new NoSuchElementException();
        }
        ChatResponse response;
        try {
            response = head.handle() == null ? null : head.handle().await();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
        return finish.apply(head.item(), response);
    }

    private void fill() {
        while (inFlight.size() < window && input.hasNext()) {
            I item = input.next();
            ChatHandle handle;
            try {
                handle = submit.apply(item);
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
            inFlight.add(new Pending<>(item, handle));
            maxInFlight = Math.max(maxInFlight, inFlight.size());
        }
    }

    /**
     * The most items that were submitted and not yet handed back at one time.
     *
     * @return at most the window
     */
    int maxInFlight() {
        return maxInFlight;
    }

    /** Cancels every request still in flight (a failed row, a killed task, a consumer that stopped reading). */
    @Override
    public void close() {
        for (Pending<I> p; (p = inFlight.poll()) != null; ) {
            if (p.handle() != null) {
                p.handle().cancel();
            }
        }
    }
}
