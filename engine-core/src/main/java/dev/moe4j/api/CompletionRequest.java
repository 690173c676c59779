package dev.moe4j.api;

import java.util.List;
import java.util.Objects;

/**
 * Raw completion: the prompt is tokenized as it is (special tokens such as {@code <|im_start|>} parsed), with no
 * chat template, and everything generated is content.
 *
 * @param sampling null = {@link SamplingParams#NON_THINKING}
 * @param seed     null = a fresh random seed
 */
public record CompletionRequest(String prompt, SamplingParams sampling, int maxTokens, List<String> stop, Long seed) {
    public CompletionRequest {
        Objects.requireNonNull(prompt, "prompt");
        if (prompt.isEmpty()) {
            throw new InvalidRequestException("the prompt must not be empty");
        }
        if (maxTokens < 1) {
            throw new InvalidRequestException("maxTokens must be >= 1, was " + maxTokens);
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) {
            if (s == null || s.isEmpty()) {
                throw new InvalidRequestException("stop strings must be non-empty");
            }
        }
    }

    public static CompletionRequest of(String prompt, int maxTokens) {
        return new CompletionRequest(prompt, null, maxTokens, List.of(), null);
    }
}
