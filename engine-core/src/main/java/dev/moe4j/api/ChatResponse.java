package dev.moe4j.api;

import java.util.List;

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
     * @throws NullPointerException if either tool-call list, or an element of one, is null
     */
    public ChatResponse {
        toolCalls = List.copyOf(toolCalls);
        malformedToolCalls = List.copyOf(malformedToolCalls);
    }
}
