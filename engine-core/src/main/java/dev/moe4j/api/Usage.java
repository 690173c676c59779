package dev.moe4j.api;

/**
 * Token counts of one request.
 *
 * @param promptTokens     tokens of the rendered prompt
 * @param reasoningTokens  generated tokens inside the think block (including any forced early-stop text)
 * @param completionTokens all generated tokens: reasoning, answer and tool calls
 */
public record Usage(int promptTokens, int reasoningTokens, int completionTokens) {
    /**
     * Prompt and generated tokens together.
     *
     * @return {@code promptTokens + completionTokens}
     */
    public int totalTokens() {
        return promptTokens + completionTokens;
    }
}
