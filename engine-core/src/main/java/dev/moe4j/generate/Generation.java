package dev.moe4j.generate;

import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatListener;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.Moe4jException;
import dev.moe4j.api.Usage;
import dev.moe4j.cache.Sequence;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One request's generation: its sequence, sampler and output parser, the tokens to feed next, and the thinking
 * budget. Driven by the {@link Scheduler} thread; {@link #cancel()} may come from any thread.
 */
public final class Generation implements ChatHandle {

    /** What a request asks of the loop, resolved by the engine from the request and the model. */
    public record Plan(int[] promptTokens, Sampler sampler, OutputParser parser, Set<Integer> endTokens,
                       int maxTokens, int thinkingBudget, int[] budgetStopTokens) {}

    private final Plan plan;
    private final ChatListener listener;
    private final CompletableFuture<ChatResponse> result = new CompletableFuture<>();
    private volatile boolean cancelled;
    private Sequence sequence;
    private int[] pending;
    /** How many of {@link #pending} the scheduler has fed so far (a long prompt goes in chunks). */
    int fed;
    private int generated;
    private int reasoningTokens;
    private int budgetCount;
    private boolean budgetExhausted;

    Generation(Plan plan, ChatListener listener) {
        this.plan = plan;
        this.listener = listener;
        this.pending = plan.promptTokens();
    }

    int[] pending() {
        return pending;
    }

    Sequence sequence() {
        return sequence;
    }

    void attach(Sequence seq) {
        this.sequence = seq;
    }

    boolean isCancelled() {
        return cancelled;
    }

    /** Handles the logits that followed the last pending token; returns false when generation has ended. */
    boolean onLogits(float[] logits, int offset) {
        if (cancelled) {
            finish(FinishReason.CANCELLED);
            return false;
        }
        int next = plan.sampler().sample(logits, offset);
        if (plan.endTokens().contains(next)) {
            generated++;
            finish(FinishReason.STOP);
            return false;
        }
        if (!consume(next)) {
            finish(FinishReason.STOP_STRING);
            return false;
        }
        int[] feed = new int[] {next};
        if (plan.thinkingBudget() >= 0 && plan.parser().channel() == OutputParser.Channel.REASONING
                && budgetCount >= plan.thinkingBudget()) {
            // budget spent: insert the early-stop text and </think>, then let the model answer
            budgetExhausted = true;
            int[] stop = plan.budgetStopTokens();
            for (int id : stop) {
                if (!consume(id)) {
                    finish(FinishReason.STOP_STRING);
                    return false;
                }
            }
            feed = Arrays.copyOf(feed, 1 + stop.length);
            System.arraycopy(stop, 0, feed, 1, stop.length);
        }
        if (generated >= plan.maxTokens()) {
            finish(FinishReason.LENGTH);
            return false;
        }
        if (sequence.length() + feed.length > sequence.cache().maxPositions()) {
            finish(FinishReason.CONTEXT_FULL);
            return false;
        }
        pending = feed;
        return true;
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

    void finish(FinishReason reason) {
        if (result.isDone()) {
            return;
        }
        plan.parser().finish();
        closeSequence();
        ChatResponse response = new ChatResponse(plan.parser().reasoning(), plan.parser().content(),
                plan.parser().toolCalls(), plan.parser().malformedToolCalls(),
                new Usage(plan.promptTokens().length, reasoningTokens, generated), reason, budgetExhausted);
        try {
            listener.onComplete(response);
        } finally {
            result.complete(response);
        }
    }

    void fail(Throwable error) {
        if (result.isDone()) {
            return;
        }
        closeSequence();
        try {
            listener.onError(error);
        } finally {
            result.completeExceptionally(error);
        }
    }

    private void closeSequence() {
        if (sequence != null) {
            sequence.close();
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
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
