package dev.moe4j.api;

import java.util.List;
import java.util.Objects;

/**
 * Raw completion: the prompt is tokenized as it is (special tokens such as {@code <|im_start|>} parsed), with no
 * chat template, and everything generated is content.
 *
 * @param prompt    the text to continue
 * @param sampling  null = {@link SamplingParams#NON_THINKING}
 * @param maxTokens generated tokens at most
 * @param stop      strings that end generation when they appear (not part of the output); empty for none
 * @param seed      null = a fresh random seed
 */
public record CompletionRequest(String prompt, SamplingParams sampling, int maxTokens, List<String> stop, Long seed) {
    /**
     * A request; the stop list is copied, null reads as empty.
     *
     * @param prompt    the text to continue, not empty
     * @param sampling  the sampling parameters, or null
     * @param maxTokens generated tokens at most, at least 1
     * @param stop      stop strings, or null
     * @param seed      the sampling seed, or null for a fresh one
     * @throws NullPointerException if {@code prompt} or a stop string is null
     * @throws InvalidRequestException if the prompt is empty, {@code maxTokens < 1} or a stop string is empty
     */
    public CompletionRequest {
        Objects.requireNonNull(prompt, "prompt");
        if (prompt.isEmpty()) {
            throw new InvalidRequestException("the prompt must not be empty");
        }
        if (maxTokens < 1) {
            throw new InvalidRequestException("maxTokens must be >= 1, was " + maxTokens);
        }
        if (stop != null) {
            for (int i = 0; i < stop.size(); i++) {
                if (stop.get(i) == null) {
                    throw new NullPointerException("stop[" + i + "]");
                }
            }
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new InvalidRequestException("stop strings must be non-empty");
            }
        }
    }

    /**
     * A request with the default sampling, no stop strings and a fresh seed.
     *
     * @param prompt    the text to continue, not empty
     * @param maxTokens generated tokens at most, at least 1
     * @return the request
     * @throws NullPointerException if {@code prompt} is null
     * @throws InvalidRequestException if the prompt is empty or {@code maxTokens < 1}
     */
    public static CompletionRequest of(String prompt, int maxTokens) {
        return new CompletionRequest(prompt, null, maxTokens, List.of(), null);
    }
}
