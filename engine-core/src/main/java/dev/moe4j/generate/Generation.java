package dev.moe4j.generate;

import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.ListenerException;
import dev.moe4j.api.Moe4jException;
import dev.moe4j.api.Usage;
import dev.moe4j.cache.Sequence;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One request's generation: its tokens (the prompt and everything fed after it), sampler and output parser, and
 * the thinking budget. Driven by the {@link Scheduler} thread while active; {@link #cancel()} may come from any
 * thread. Its tokens are all it needs to rebuild its KV blocks, so the scheduler may take them away (preemption)
 * and feed the tokens again later; the kernels are batch-invariant, so that gives the same bits.
 */
public final class Generation implements ChatHandle {

    /** What a request asks of the loop, resolved by the engine from the request and the model. */
    public record Plan(int[] promptTokens, Sampler sampler, OutputParser parser, Set<Integer> endTokens,
                       int maxTokens, int thinkingBudget, int[] budgetStopTokens) {}

    private static final int QUEUED = 0;
    private static final int ACTIVE = 1;
    private static final int DONE = 2;

    /** Submission order: the scheduler preempts the latest first. */
    final long arrival;
    private final Plan plan;
    private final Delivery delivery;
    private final CompletableFuture<ChatResponse> result;
    private final Consumer<Generation> leftQueue;
    private final AtomicInteger state = new AtomicInteger(QUEUED);
    private volatile boolean cancelled;
    private Sequence sequence;
    /** The prompt and every token fed after it; the sequence holds keys and values for a prefix of them. */
    private int[] tokens;
    private int tokenCount;
    /** Since (re)admission no logits yet: a prompt, or tokens recomputed after preemption, is being read. */
    boolean prefilling = true;
    int preemptions;
    private int generated;
    private int reasoningTokens;
    private int budgetCount;
    private boolean budgetExhausted;
    /** Logits rows the last {@link #onLogits} call used, and the draft tokens it accepted. */
    int rowsUsed;
    int accepted;

    Generation(long arrival, Plan plan, Delivery delivery, CompletableFuture<ChatResponse> result,
               Consumer<Generation> leftQueue) {
        this.arrival = arrival;
        this.plan = plan;
        this.delivery = delivery;
        this.result = result;
        this.leftQueue = leftQueue;
        this.tokens = plan.promptTokens().clone();
        this.tokenCount = tokens.length;
        delivery.onListenerFailure(this::abort);
    }

    Sequence sequence() {
        return sequence;
    }

    Delivery delivery() {
        return delivery;
    }

    /** Tokens the KV cache must hold before the next sample: the prompt and everything fed since. */
    int tokenCount() {
        return tokenCount;
    }

    int token(int index) {
        return tokens[index];
    }

    /** The tokens array itself, valid in [0, {@link #tokenCount()}); not to be modified. */
    int[] tokens() {
        return tokens;
    }

    /** Tokens not yet in the sequence's KV blocks. */
    int remaining() {
        return tokenCount - sequence.length();
    }

    boolean isQueued() {
        return state.get() == QUEUED;
    }

    /** Scheduler: takes a queued generation into the running set with a fresh sequence; false if it ended. */
    boolean activate(Sequence seq) {
        if (!state.compareAndSet(QUEUED, ACTIVE)) {
            seq.close();
            return false;
        }
        sequence = seq;
        prefilling = true;
        return true;
    }

    /**
     * Scheduler: gives back the KV blocks and waits in the queue again, to be fed all its tokens when readmitted.
     * Returns false if a cancel arriving meanwhile ended it instead.
     */
    boolean preempt() {
        sequence.close();
        sequence = null;
        preemptions++;
        state.set(QUEUED);
        if (cancelled || delivery.failure() != null) {
            endQueued();
            return false;
        }
        return true;
    }

    /** The cancel flag, or a listener that threw: either way the request ends at the next step. */
    boolean isCancelled() {
        return cancelled || delivery.failure() != null;
    }

    /** Handles the logits that followed the last token; returns false when generation has ended. */
    boolean onLogits(float[] logits, int offset) {
        return onLogits(logits, offset, 0, NO_DRAFT, 0, null);
    }

    /** Running totals a verification adds to as it goes (before the request can complete and be observed). */
    record Counters(AtomicLong sampled, AtomicLong drafted, AtomicLong accepted) {}

    private static final int[] NO_DRAFT = new int[0];

    /**
     * Handles the logits of a verification pass: {@code draftLen + 1} rows of {@code vocab} from {@code offset},
     * row i following the last token and {@code draft[0, i)}. Each row gives one token as the sampler verifies the
     * draft's token there (the last row samples freely); the first token that differs from the draft, or that
     * ends the generation or brings forced tokens, ends the run. The keys and values of the accepted draft tokens
     * stay in the sequence, the rejected positions are dropped. Returns false when generation has ended.
     */
    boolean onLogits(float[] logits, int offset, int vocab, int[] draft, int draftLen, Counters counters) {
        prefilling = false;
        rowsUsed = 0;
        accepted = 0;
        if (isCancelled()) {
            end();
            return false;
        }
        int base = tokenCount;
        if (counters != null) {
            counters.drafted().addAndGet(draftLen);
        }
        for (int i = 0; i <= draftLen; i++) {
            int row = offset + i * vocab;
            int next = i < draftLen ? plan.sampler().verify(logits, row, draft[i]) : plan.sampler().sample(logits, row);
            rowsUsed++;
            if (counters != null) {
                counters.sampled().incrementAndGet();
            }
            int before = tokenCount;
            FinishReason end = advance(next);
            if (end != null) {
                if (draftLen > 0) {
                    keepAccepted(base + accepted); // cached for a follow-up request as without drafts
                }
                finish(end);
                return false;
            }
            if (i == draftLen || next != draft[i] || tokenCount != before + 1) {
                break;
            }
            accepted++;
            if (counters != null) {
                counters.accepted().incrementAndGet();
            }
        }
        if (draftLen > 0) {
            keepAccepted(base + accepted);
        }
        return true;
    }

    /**
     * After a verification pass: the pending token and the accepted drafts (positions below {@code length}) keep
     * their keys and values, the rejected positions go, and the blocks now full of verified tokens are offered to
     * the prefix cache (the scheduler offered only those below the drafts).
     */
    private void keepAccepted(int length) {
        sequence.truncate(length);
        sequence.commitBlocks(tokens, length);
    }

    /** Whether this request may take drafted tokens: greedy ones always, sampled ones when asked. */
    boolean greedy() {
        return plan.sampler().isGreedy();
    }

    /** Takes one chosen token: returns why the generation ends, or null after appending it (and any forced tokens). */
    private FinishReason advance(int next) {
        if (plan.endTokens().contains(next)) {
            generated++;
            return FinishReason.STOP;
        }
        if (!consume(next)) {
            return FinishReason.STOP_STRING;
        }
        int[] feed = new int[] {next};
        if (plan.thinkingBudget() >= 0 && plan.parser().channel() == OutputParser.Channel.REASONING
                && budgetCount >= plan.thinkingBudget()) {
            // budget spent: insert the early-stop text and </think>, then let the model answer
            budgetExhausted = true;
            int[] stop = plan.budgetStopTokens();
            for (int id : stop) {
                if (!consume(id)) {
                    return FinishReason.STOP_STRING;
                }
            }
            feed = Arrays.copyOf(feed, 1 + stop.length);
            System.arraycopy(stop, 0, feed, 1, stop.length);
        }
        if (generated >= plan.maxTokens()) {
            return FinishReason.LENGTH;
        }
        if (tokenCount + feed.length > sequence.cache().maxPositions()) {
            return FinishReason.CONTEXT_FULL;
        }
        if (tokenCount + feed.length > tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, tokenCount + feed.length));
        }
        System.arraycopy(feed, 0, tokens, tokenCount, feed.length);
        tokenCount += feed.length;
        return null;
    }

    /** Counts and parses one generated (sampled or forced) token. */
    private boolean consume(int id) {
        generated++;
        plan.sampler().accept(id);
        boolean inReasoning = plan.parser().channel() == OutputParser.Channel.REASONING;
        boolean ok = plan.parser().accept(id);
        if (inReasoning) {
            reasoningTokens++;
            if (plan.parser().channel() == OutputParser.Channel.REASONING) {
                budgetCount++;
            }
        }
        return ok;
    }

    /** Ends a cancelled request, or one whose listener threw, from the thread that owns it. */
    void end() {
        Throwable f = delivery.failure();
        if (f != null) {
            fail(new ListenerException(f));
        } else {
            finish(FinishReason.CANCELLED);
        }
    }

    void finish(FinishReason reason) {
        if (state.getAndSet(DONE) == DONE) {
            return;
        }
        closeSequence();
        try {
            plan.parser().finish();
        } finally {
            ChatResponse response = new ChatResponse(plan.parser().reasoning(), plan.parser().content(),
                    plan.parser().toolCalls(), plan.parser().malformedToolCalls(),
                    new Usage(plan.promptTokens().length, reasoningTokens, generated), reason, budgetExhausted);
            delivery.onComplete(response);
        }
    }

    void fail(Throwable error) {
        if (state.getAndSet(DONE) == DONE) {
            return;
        }
        closeSequence();
        delivery.onError(error);
    }

    private void closeSequence() {
        if (sequence != null) {
            sequence.close();
        }
    }

    /** A waiting generation ends at once on the caller's thread (the scheduler no longer touches it). */
    private void endQueued() {
        if (state.get() == QUEUED && state.compareAndSet(QUEUED, ACTIVE)) {
            leftQueue.accept(this);
            end();
        }
    }

    /** Fails a generation that was never started (the engine stopped); false if it had already left the queue. */
    boolean failQueued(Throwable error) {
        if (state.compareAndSet(QUEUED, ACTIVE)) {
            leftQueue.accept(this);
            fail(error);
            return true;
        }
        return false;
    }

    private void abort() {
        endQueued();
    }

    @Override
    public void cancel() {
        cancelled = true;
        delivery.mute();
        endQueued();
    }

    @Override
    public boolean isDone() {
        return result.isDone();
    }

    @Override
    public ChatResponse await() {
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel();
            throw new CancellationException("interrupted while waiting for generation");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new Moe4jException("generation failed: " + e.getCause(), e.getCause());
        }
    }
}
