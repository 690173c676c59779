package dev.moe4j.generate;

import dev.moe4j.api.ContextFullException;
import dev.moe4j.api.FinishReason;
import dev.moe4j.cache.KvCache;
import dev.moe4j.model.Batch;
import dev.moe4j.model.Model;
import dev.moe4j.model.Scratch;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching on one thread: every step takes the pending tokens of every active generation (a prompt,
 * in chunks, or one decode token) into one {@link Batch}, runs the model once, and hands each generation its
 * logits row. Requests from many threads become sequences here, never parallel forward passes.
 */
public final class Scheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    private final Model model;
    private final KvCache cache;
    private final int maxSequences;
    private final int maxBatchTokens;
    private final LinkedBlockingQueue<Generation> queue = new LinkedBlockingQueue<>();
    private final List<Generation> active = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    public Scheduler(Model model, KvCache cache, int maxSequences, int maxBatchTokens) {
        this.model = model;
        this.cache = cache;
        this.maxSequences = maxSequences;
        this.maxBatchTokens = maxBatchTokens;
        this.thread = new Thread(this::loop, "moe4j-scheduler");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public Generation submit(Generation.Plan plan, dev.moe4j.api.ChatListener listener) {
        Generation g = new Generation(plan, listener);
        if (!running) {
            throw new IllegalStateException("the engine is closed");
        }
        queue.add(g);
        return g;
    }

    private void loop() {
        Scratch scratch = new Scratch(model.config());
        while (running) {
            try {
                admit();
                if (active.isEmpty()) {
                    continue;
                }
                step(scratch);
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {
                LOG.error("generation step failed", e);
                for (Generation g : active) {
                    g.fail(e);
                }
                active.clear();
            }
        }
        for (Generation g : active) {
            g.finish(FinishReason.CANCELLED);
        }
        Generation g;
        while ((g = queue.poll()) != null) {
            g.fail(new IllegalStateException("the engine was closed"));
        }
    }

    /** Moves queued generations into the active set while sequences and KV blocks allow. */
    private void admit() throws InterruptedException {
        if (active.isEmpty()) {
            Generation first = queue.poll(100, TimeUnit.MILLISECONDS);
            if (first == null) {
                return;
            }
            start(first);
        }
        while (active.size() < maxSequences) {
            Generation next = queue.peek();
            if (next == null) {
                return;
            }
            int blocksNeeded = (next.pending().length + cache.blockSize()) / cache.blockSize();
            if (blocksNeeded > cache.pool().freeBlocks()) {
                return; // wait for running sequences to finish
            }
            start(queue.poll());
        }
    }

    private void start(Generation g) {
        if (g.isCancelled()) {
            g.attach(null);
            g.finish(FinishReason.CANCELLED);
            return;
        }
        int blocksNeeded = (g.pending().length + cache.blockSize()) / cache.blockSize();
        if (blocksNeeded > cache.pool().capacity()) {
            g.fail(new ContextFullException("the prompt of " + g.pending().length + " tokens needs " + blocksNeeded
                    + " KV blocks; the cache has " + cache.pool().capacity()));
            return;
        }
        g.attach(cache.newSequence());
        active.add(g);
    }

    private void step(Scratch scratch) {
        // cancelled generations end here, within one step of the request
        for (Iterator<Generation> it = active.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            if (g.isCancelled()) {
                g.finish(FinishReason.CANCELLED);
                it.remove();
            }
        }
        if (active.isEmpty()) {
            return;
        }
        Batch.Builder batch = Batch.builder();
        List<Generation> withLogits = new ArrayList<>();
        int budget = maxBatchTokens;
        int added = 0;
        for (Iterator<Generation> it = active.iterator(); it.hasNext() && budget > 0; ) {
            Generation g = it.next();
            int[] pending = g.pending();
            int base = g.sequence().length();
            int take = Math.min(pending.length - g.fed, budget);
            try {
                g.sequence().reserve(base + take);
            } catch (ContextFullException e) {
                // this sequence cannot grow (context length or KV pool): it ends, the others go on
                g.finish(FinishReason.CONTEXT_FULL);
                it.remove();
                continue;
            }
            for (int i = 0; i < take; i++) {
                boolean last = g.fed + i == pending.length - 1;
                batch.add(pending[g.fed + i], base + i, g.sequence(), last);
            }
            g.fed += take;
            budget -= take;
            added += take;
            if (g.fed == pending.length) {
                withLogits.add(g);
            }
        }
        if (added == 0) {
            return;
        }
        float[] logits = model.forward(batch.build(), scratch);
        int vocab = model.config().vocabSize();
        for (int row = 0; row < withLogits.size(); row++) {
            Generation g = withLogits.get(row);
            g.fed = 0;
            if (!g.onLogits(logits, row * vocab)) {
                active.remove(g);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
