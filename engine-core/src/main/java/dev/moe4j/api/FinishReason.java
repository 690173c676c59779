package dev.moe4j.api;

/** Why generation ended. (A thinking budget that cut the reasoning short is reported by {@link ChatResponse#thinkingBudgetExhausted()}: generation then goes on to the answer.) */
public enum FinishReason {
    /** The model produced an end token ({@code <|im_end|>}, {@code <|endoftext|>} or the model's own). */
    STOP,
    /** One of the request's stop strings appeared; it is not part of the output. */
    STOP_STRING,
    /** The request's {@code maxTokens} were generated. */
    LENGTH,
    /** The sequence reached the context length. */
    CONTEXT_FULL,
    /** {@link ChatHandle#cancel()} was called. */
    CANCELLED
}
