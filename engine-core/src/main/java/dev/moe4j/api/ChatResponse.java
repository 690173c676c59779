package dev.moe4j.api;

import java.util.List;
import java.util.Objects;

/**
 * The result of a chat or completion request.
 *
 * @param reasoning               the think block's text (without the tags; empty when the model did not think)
 * @param content                 the answer, without reasoning and without tool-call blocks
 * @param toolCalls               tool calls the model made, parsed
 * @param malformedToolCalls      tool-call blocks that could not be parsed
 * @param usage                   the request's token counts
 * @param finishReason            why generation ended
 * @param thinkingBudgetExhausted whether the thinking budget cut the reasoning short (the early-stop text was
 *                                inserted and the model then answered)
 */
public record ChatResponse(String reasoning, String content, List<ToolCall> toolCalls,
                           List<MalformedToolCall> malformedToolCalls, Usage usage, FinishReason finishReason,
                           boolean thinkingBudgetExhausted) {
    /**
     * A response; the tool-call lists are copied.
     *
     * @param reasoning               the think block's text
     * @param content                 the answer
     * @param toolCalls               the parsed tool calls
     * @param malformedToolCalls      the unparsable tool-call blocks
     * @param usage                   the request's token counts
     * @param finishReason            why generation ended
     * @param thinkingBudgetExhausted whether the thinking budget cut the reasoning short
     * @throws NullPointerException if a text, either tool-call list or an element of one, the usage or the finish
     *     reason is null; the message names it
     */
    public ChatResponse {
        Objects.requireNonNull(reasoning, "reasoning");
        Objects.requireNonNull(content, "content");
        toolCalls = copyOf(toolCalls, "toolCalls");
        malformedToolCalls = copyOf(malformedToolCalls, "malformedToolCalls");
        Objects.requireNonNull(usage, "usage");
        Objects.requireNonNull(finishReason, "finishReason");
    }

    private static <T> List<T> copyOf(List<T> list, String name) {
        Objects.requireNonNull(list, name);
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == null) {
                throw new NullPointerException(name + "[" + i + "]");
            }
        }
        return List.copyOf(list);
    }
}
