package dev.moe4j.generate;

import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.ContextFullException;
import dev.moe4j.api.EngineStoppedException;
import dev.moe4j.api.FinishReason;
import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.model.Batch;
import dev.moe4j.model.Model;
import dev.moe4j.model.Scratch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching on one thread: a request is admitted when its tokens' KV blocks are free (and, for models
 * with linear-attention layers, a recurrent-state slot); every step takes the pending tokens of the running generations (decode
 * tokens first, then prompt chunks in what is left of the step's token budget) into one {@link Batch}, runs the
 * model once, and hands each generation its logits row. Requests from many threads become sequences here, never
 * parallel forward passes.
 *
 * <p>Nothing one request does reaches another: listeners run off this thread ({@link Delivery}); a request whose
 * sampling or parsing throws ends alone; a forward pass that fails is retried one generation at a time (a failed
 * pass leaves every sequence's length as it was), so only the generation that fails alone ends. When the KV pool
 * cannot give a running sequence its next block, the latest arrival among the running is preempted: its blocks go
 * back, and it waits ahead of new requests to be fed all its tokens again (same bits: the kernels are
 * batch-invariant). If this thread ever stops on an error, every waiting and later request fails at once.
 *
 * <p>With the cache's prefix caching, a request (new or resumed) starts on the cached blocks of its tokens' longest
 * cached run of full blocks, and recomputes at least the last token (its logits are needed) or more, as
 * {@link KvCache.PrefixCaching#minBatchTokens()} says; after each pass every fed sequence offers its newly filled
 * blocks to the cache.
 *
 * <p>With a drafter (speculative decoding), a decoding request's pending token is followed in the step by the tokens
 * {@link PromptLookup} proposes, each asking for logits; the request then takes tokens row by row as its sampler
 * verifies them ({@link Sampler#verify}) and its sequence drops the rejected positions. Drafted positions are never
 * offered to the prefix cache before they are verified.
 */
public final class Scheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    /** Callbacks a request may run ahead of its listener before it is paused. */
    public static final int LISTENER_BACKLOG = Delivery.CAPACITY;

    /**
     * Step token budgets: one while no sequence decodes, a smaller one while streams are waiting on their tokens;
     * and the smallest prompt chunk worth cutting ({@code minPromptChunk}): where a pass of fewer tokens takes
     * another numerical path (the rounded-activation mode), a prompt is cut so that no chunk of it, the last
     * included, is smaller, whenever the budget allows; then its bits do not depend on where it was cut.
     */
    public record Budget(int maxBatchTokens, int decodeStepTokens, int minPromptChunk) {
        public Budget {
            if (maxBatchTokens < 1 || decodeStepTokens < 1 || minPromptChunk < 1) {
                throw new IllegalArgumentException("step token budgets must be positive: " + maxBatchTokens + ", "
                        + decodeStepTokens + ", " + minPromptChunk);
            }
        }

        /** Budgets that cut prompts anywhere. */
        public Budget(int maxBatchTokens, int decodeStepTokens) {
            this(maxBatchTokens, decodeStepTokens, 1);
        }
    }

    private final Model model;
    private final KvCache cache;
    private final int maxSequences;
    private final Budget budget;
    /** Drafts for speculative decoding, or null when off; {@link #draftSampled}: sampled requests take drafts too. */
    private final PromptLookup drafter;
    private final boolean draftSampled;
    private final int[] draftScratch;
    private final AtomicLong drafted = new AtomicLong();
    private final AtomicLong draftsAccepted = new AtomicLong();
    private final Generation.Counters counters;
    private final LinkedBlockingDeque<Generation> queue = new LinkedBlockingDeque<>();
    /** Preempted generations, earliest arrival first: admitted before anything in {@link #queue}. */
    private final PriorityQueue<Generation> preempted = new PriorityQueue<>(Comparator.comparingLong(g -> g.arrival));
    /** Running generations in arrival order. */
    private final List<Generation> active = new ArrayList<>();
    private final AtomicLong arrivals = new AtomicLong();
    private final AtomicLong preemptions = new AtomicLong();
    private final AtomicLong sampled = new AtomicLong();
    private final AtomicLong cachedTokens = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile EngineStoppedException stopped;
    private volatile int activeCount;
    private volatile StepObserver observer;

    /** Sees each step's composition before its forward pass (tests check the scheduling policy with it). */
    interface StepObserver {
        /** Request {@code arrivals[i]} feeds {@code counts[i]} tokens in this step. */
        void onStep(long[] arrivals, int[] counts);
    }

    void observeSteps(StepObserver o) {
        this.observer = o;
    }

    /** Sees each logits row before its request samples from it (tests compare rows bit for bit). */
    interface LogitsObserver {
        /** Request {@code arrival}'s next logits are {@code logits[offset, offset + vocab)}. */
        void onLogits(long arrival, float[] logits, int offset, int vocab);
    }

    private volatile LogitsObserver logitsObserver;

    void observeLogits(LogitsObserver o) {
        this.logitsObserver = o;
    }

    public Scheduler(Model model, KvCache cache, int maxSequences, Budget budget) {
        this(model, cache, maxSequences, budget, null, false);
    }

    /**
     * A scheduler that decodes speculatively: each decoding request whose last token follows an earlier run of its
     * tokens feeds {@code drafter}'s proposal after it, and the one pass verifies it (see
     * {@link Sampler#verify}). Only for models whose state can be cut back (attention layers alone) and whose
     * kernels give a position the same bits in any batch.
     *
     * @param drafter      proposes the draft; null for plain decoding
     * @param draftSampled whether sampled requests take drafts too (greedy ones always do)
     */
    public Scheduler(Model model, KvCache cache, int maxSequences, Budget budget, PromptLookup drafter,
                     boolean draftSampled) {
        if (drafter != null && cache.recurrentSlots() > 0) {
            throw new IllegalArgumentException("speculative decoding needs a model without recurrent layers: their"
                    + " state cannot be cut back to drop rejected draft tokens");
        }
        if (drafter != null && cache.prefixCaching() != null && cache.prefixCaching().minBatchTokens() > 1) {
            throw new IllegalArgumentException("speculative decoding needs passes whose size does not change a"
                    + " position's bits; this cache's prefix caching says passes under "
                    + cache.prefixCaching().minBatchTokens() + " tokens do");
        }
        this.drafter = drafter;
        this.draftSampled = draftSampled;
        this.counters = new Generation.Counters(sampled, drafted, draftsAccepted);
        this.draftScratch = drafter == null ? new int[0] : new int[drafter.draftTokens()];
        if (maxSequences < 1) {
            throw new IllegalArgumentException("maxSequences must be positive, was " + maxSequences);
        }
        this.model = model;
        this.cache = cache;
        this.maxSequences = maxSequences;
        this.budget = budget;
        this.thread = new Thread(this::loop, "moe4j-scheduler");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /**
     * Queues a request. {@code planner} builds its plan around the listener it is given (the request's hand-off,
     * which delivers to {@code listener} off the scheduler thread).
     */
    public Generation submit(Function<ChatListener, Generation.Plan> planner, ChatListener listener) {
        checkRunning();
        CompletableFuture<ChatResponse> result = new CompletableFuture<>();
        Delivery delivery = new Delivery(listener, result);
        Generation g = new Generation(arrivals.getAndIncrement(), planner.apply(delivery), delivery, result,
                queue::remove);
        queue.add(g);
        EngineStoppedException s = stopped;
        if (s != null) {
            g.failQueued(s); // the loop stopped while this was being queued: it must not wait for good
            throw s;
        }
        return g;
    }

    private void checkRunning() {
        EngineStoppedException s = stopped;
        if (s != null) {
            throw s;
        }
    }

    /** Requests waiting to start (or to resume after preemption). */
    public int queued() {
        return queue.size() + preempted.size();
    }

    /** Requests running now. */
    public int running() {
        return activeCount;
    }

    /** Times a running generation gave its KV blocks back to let older ones go on. */
    public long preemptions() {
        return preemptions.get();
    }

    /** Tokens whose keys and values a request (or a resumed one) took from the prefix cache instead of computing. */
    public long cachedTokens() {
        return cachedTokens.get();
    }

    /** Tokens sampled so far, all requests together (each generation step of each request). */
    public long sampledTokens() {
        return sampled.get();
    }

    /** Draft tokens fed for verification so far. */
    public long draftedTokens() {
        return drafted.get();
    }

    /** Draft tokens the verification accepted so far. */
    public long acceptedDraftTokens() {
        return draftsAccepted.get();
    }

    private void loop() {
        Throwable error = null;
        try {
            Scratch scratch = new Scratch(model.config());
            while (running) {
                admit();
                if (!active.isEmpty() && !step(scratch)) {
                    // every running request waits on its listener: nothing to compute until one catches up
                    LockSupport.parkNanos(200_000);
                }
                activeCount = active.size();
            }
        } catch (InterruptedException e) {
            // close()
        } catch (Throwable e) {
            error = e;
            LOG.error("the scheduler stopped; every request fails", e);
        } finally {
            shutDown(error);
        }
    }

    private void shutDown(Throwable error) {
        EngineStoppedException s = error == null ? new EngineStoppedException("the engine is closed", null)
                : new EngineStoppedException("the engine's scheduler stopped on " + error, error);
        stopped = s;
        running = false;
        for (Generation g : active) {
            if (error == null) {
                g.finish(FinishReason.CANCELLED);
            } else {
                g.fail(s);
            }
        }
        active.clear();
        activeCount = 0;
        for (Generation g : preempted) {
            g.failQueued(s);
        }
        preempted.clear();
        Generation g;
        while ((g = queue.poll()) != null) {
            g.failQueued(s);
        }
    }

    /** Moves waiting generations into the running set while sequences and KV blocks allow; preempted ones first. */
    private void admit() throws InterruptedException {
        if (active.isEmpty() && preempted.isEmpty()) {
            Generation first = queue.pollFirst(100, TimeUnit.MILLISECONDS);
            if (first == null) {
                return;
            }
            queue.offerFirst(first); // still first in line; the loop below takes it
        }
        while (active.size() < maxSequences) {
            boolean resumed = !preempted.isEmpty();
            Generation next = resumed ? preempted.peek() : queue.peek();
            if (next == null) {
                return;
            }
            if (!next.isQueued()) {
                remove(next, resumed); // cancelled while waiting
                continue;
            }
            int[] hit = cachedPrefix(next);
            int idleHit = 0;
            for (int block : hit) {
                idleHit += cache.pool().refCount(block) == 0 ? 1 : 0;
            }
            // the first sampled token needs a position too
            int blocks = (next.tokenCount() + cache.blockSize()) / cache.blockSize() - hit.length;
            if (!active.isEmpty() && (blocks > cache.pool().freeBlocks() - idleHit
                    || cache.freeRecurrentSlots() == 0)) {
                return; // wait for running sequences to finish or be preempted
            }
            remove(next, resumed);
            Sequence seq = cache.newSequence();
            if (hit.length > 0) {
                seq.adoptPrefix(next.tokens(), hit.length);
            }
            if (next.activate(seq)) {
                cachedTokens.addAndGet(seq.length());
                insertByArrival(next);
            }
        }
    }

    /** The cached blocks g may start on: whole blocks, leaving at least the last token(s) to compute. */
    private int[] cachedPrefix(Generation g) {
        KvCache.PrefixCaching caching = cache.prefixCaching();
        if (caching == null) {
            return new int[0];
        }
        int maxBlocks = (g.tokenCount() - caching.minBatchTokens()) / cache.blockSize();
        return maxBlocks < 1 ? new int[0] : cache.cachedPrefix(g.tokens(), maxBlocks);
    }

    private void remove(Generation g, boolean resumed) {
        if (resumed) {
            preempted.poll();
        } else {
            queue.remove(g);
        }
    }

    private void insertByArrival(Generation g) {
        int i = active.size();
        while (i > 0 && active.get(i - 1).arrival > g.arrival) {
            i--;
        }
        active.add(i, g);
    }

    /** One forward pass over what the running generations have to feed; false when none could be fed. */
    private boolean step(Scratch scratch) {
        // cancelled generations (and those whose listener threw) end here, within one step of the request
        for (Iterator<Generation> it = active.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            if (g.isCancelled()) {
                g.end();
                it.remove();
            }
        }
        List<Slice> slices = plan();
        if (slices.isEmpty()) {
            return false;
        }
        StepObserver o = observer;
        if (o != null) {
            long[] arrivals = new long[slices.size()];
            int[] counts = new int[slices.size()];
            for (int i = 0; i < arrivals.length; i++) {
                arrivals[i] = slices.get(i).g().arrival;
                counts[i] = slices.get(i).count();
            }
            o.onStep(arrivals, counts);
        }
        run(slices, scratch);
        return true;
    }

    /**
     * A run of a generation's tokens in this step: positions [from, from + count); the last {@code draft.length}
     * of them drafted (not yet the generation's tokens).
     */
    private record Slice(Generation g, int from, int count, int[] draft) {
        Slice(Generation g, int from, int count) {
            this(g, from, count, NO_DRAFT);
        }
    }

    private static final int[] NO_DRAFT = new int[0];

    /**
     * Chooses this step's tokens: every decoding generation's pending tokens first, then prompt chunks, within the
     * step's budget (the smaller one while anything decodes). Reserves their KV blocks, preempting the latest
     * arrivals when the pool runs dry.
     */
    private List<Slice> plan() {
        boolean decoding = false;
        for (Generation g : active) {
            decoding |= !g.prefilling;
        }
        int left = decoding ? budget.decodeStepTokens() : budget.maxBatchTokens();
        List<Slice> slices = new ArrayList<>();
        for (int pass = 0; pass < 2; pass++) {
            boolean prompts = pass == 1;
            for (int i = 0; i < active.size() && left > 0; i++) {
                Generation g = active.get(i);
                if (g.prefilling != prompts || g.delivery().backlogged()) {
                    continue;
                }
                int from = g.sequence().length();
                int count = Math.min(g.remaining(), left);
                if (prompts && count < g.remaining()) {
                    // leave a last chunk of at least minPromptChunk, if this one stays that large too
                    int shorter = Math.min(count, g.remaining() - budget.minPromptChunk());
                    if (shorter >= budget.minPromptChunk()) {
                        count = shorter;
                    }
                }
                Reservation r = reserve(g, from + count, slices);
                left += r.freedTokens;
                if (!r.ok) {
                    i--; // g left the running set
                    continue;
                }
                slices.add(new Slice(g, from, count));
                left -= count;
            }
        }
        if (drafter != null) {
            addDrafts(slices, left);
        }
        return slices;
    }

    /**
     * The draft to verify after g's pending token (position {@code end} onwards): at most {@code room} tokens, no
     * further than the context length.
     */
    private int[] draft(Generation g, int end, int room) {
        if (drafter == null || g.remaining() != 1 || !(draftSampled || g.greedy())) {
            return NO_DRAFT;
        }
        int limit = Math.min(room, cache.maxPositions() - end);
        int n = drafter.draft(g.tokens(), g.tokenCount(), limit, draftScratch);
        if (n == 0) {
            return NO_DRAFT;
        }
        return Arrays.copyOf(draftScratch, n);
    }

    /**
     * Appends drafts to the decoding slices, in arrival order, from the step's budget left after every running
     * request's own tokens and prompt chunks (a draft never delays another request's token or prompt) and from
     * blocks the pool has free (a draft never preempts a request; one the pool cannot hold is cut to the blocks its
     * sequence has).
     */
    private void addDrafts(List<Slice> slices, int left) {
        for (int i = 0; i < slices.size() && left > 0; i++) {
            Slice s = slices.get(i);
            if (s.g().prefilling) {
                continue;
            }
            int end = s.from() + s.count();
            int[] draft = draft(s.g(), end, left);
            int n = draft.length;
            if (n == 0) {
                continue;
            }
            Sequence seq = s.g().sequence();
            if (!seq.tryReserve(end + n)) {
                n = Math.max(0, Math.min(n, seq.blockCount() * cache.blockSize() - end));
            }
            slices.set(i, new Slice(s.g(), s.from(), s.count() + n, Arrays.copyOf(draft, n)));
            left -= n;
        }
    }

    private record Reservation(boolean ok, int freedTokens) {}

    /** Makes room for g's positions [0, end), preempting from the latest arrival back; false if g itself went. */
    private Reservation reserve(Generation g, int end, List<Slice> slices) {
        int freed = 0;
        while (true) {
            try {
                if (g.sequence().tryReserve(end)) {
                    return new Reservation(true, freed);
                }
            } catch (RuntimeException e) {
                active.remove(g);
                g.fail(e);
                return new Reservation(false, freed);
            }
            Generation victim = active.getLast();
            if (victim == g && active.size() == 1) {
                active.remove(g);
                g.fail(new ContextFullException("the KV cache's " + cache.pool().capacity() + " blocks of "
                        + cache.blockSize() + " tokens cannot hold one sequence of " + end + " positions"));
                return new Reservation(false, freed);
            }
            active.removeLast();
            for (Iterator<Slice> it = slices.iterator(); it.hasNext(); ) {
                Slice s = it.next();
                if (s.g() == victim) {
                    freed += s.count();
                    it.remove();
                }
            }
            preemptions.incrementAndGet();
            LOG.debug("KV pool dry: preempting request {} ({} tokens) for request {}", victim.arrival,
                    victim.tokenCount(), g.arrival);
            if (victim.preempt()) {
                preempted.add(victim);
            }
            if (victim == g) {
                return new Reservation(false, freed);
            }
        }
    }

    /** Runs the slices as one batch; if the pass fails, each generation alone, so only one that fails alone ends. */
    private void run(List<Slice> slices, Scratch scratch) {
        Batch.Builder batch = Batch.builder();
        List<Slice> withLogits = new ArrayList<>();
        for (Slice s : slices) {
            Generation g = s.g();
            int own = s.count() - s.draft().length;
            for (int i = 0; i < s.count(); i++) {
                int pos = s.from() + i;
                boolean last = pos == g.tokenCount() - 1;
                // a draft's positions all need logits: each verifies the next drafted token
                batch.add(i < own ? g.token(pos) : s.draft()[i - own], pos, g.sequence(), last || i >= own);
                if (last) {
                    withLogits.add(s);
                }
            }
        }
        float[] logits;
        try {
            logits = model.forward(batch.build(), scratch);
        } catch (RuntimeException | Error e) {
            if (!running) {
                return; // closing: the loop ends and cancels what is running
            }
            if (slices.size() > 1) {
                LOG.warn("a forward pass of {} requests failed ({}); running them one at a time", slices.size(),
                        e.toString());
                for (Slice s : slices) {
                    run(List.of(s), scratch);
                }
                return;
            }
            LOG.error("request {} failed in the forward pass", slices.getFirst().g().arrival, e);
            Generation g = slices.getFirst().g();
            active.remove(g);
            g.fail(e);
            return;
        }
        commitBlocks(slices);
        int vocab = model.config().vocabSize();
        LogitsObserver lo = logitsObserver;
        int row = 0;
        for (Slice s : withLogits) {
            Generation g = s.g();
            int[] draft = s.draft();
            boolean goOn;
            try {
                goOn = g.onLogits(logits, row * vocab, vocab, draft, draft.length, counters);
            } catch (RuntimeException | Error e) {
                LOG.error("request {} failed after its forward pass", g.arrival, e);
                g.fail(e);
                goOn = false;
            }
            if (lo != null) {
                for (int i = 0; i < g.rowsUsed; i++) {
                    lo.onLogits(g.arrival, logits, (row + i) * vocab, vocab);
                }
            }
            row += 1 + draft.length;
            if (!goOn) {
                active.remove(g);
            }
        }
    }

    /**
     * Offers the blocks the pass filled to the prefix cache; a pass too small for its bits to be reproduced by a
     * larger one (see {@link KvCache.PrefixCaching#minBatchTokens()}) ends its sequences' caching where it began.
     */
    private void commitBlocks(List<Slice> slices) {
        KvCache.PrefixCaching caching = cache.prefixCaching();
        if (caching == null) {
            return;
        }
        int batchTokens = 0;
        for (Slice s : slices) {
            batchTokens += s.count();
        }
        boolean reproducible = batchTokens >= caching.minBatchTokens();
        for (Slice s : slices) {
            Sequence seq = s.g().sequence();
            if (reproducible) {
                // not past the generation's own tokens: drafted positions are not verified yet
                seq.commitBlocks(s.g().tokens(), Math.min(seq.length(), s.g().tokenCount()));
            } else {
                seq.commitBlocks(s.g().tokens(), s.from());
                seq.stopCaching();
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
