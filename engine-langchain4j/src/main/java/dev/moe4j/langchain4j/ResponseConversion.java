package dev.moe4j.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import dev.moe4j.api.MalformedToolCall;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** moe4j responses to LangChain4j responses. */
final class ResponseConversion {
    /** The AI message's attribute holding tool-call blocks that could not be parsed, as {@code [text, problem]}. */
    static final String MALFORMED_TOOL_CALLS = "moe4j.malformedToolCalls";

    private ResponseConversion() {}

    /**
     * @param toolCallIds ids already given to the response's first tool calls (streamed before the end); the rest get
     *                    fresh ones
     */
    static ChatResponse chatResponse(dev.moe4j.api.ChatResponse response, String modelName, List<String> toolCallIds) {
        List<ToolExecutionRequest> requests = new ArrayList<>();
        List<ToolCall> calls = response.toolCalls();
        for (int i = 0; i < calls.size(); i++) {
            requests.add(toolExecutionRequest(calls.get(i), i < toolCallIds.size() ? toolCallIds.get(i) : newToolCallId()));
        }
        AiMessage.Builder message = AiMessage.builder()
                // a turn that only calls tools has no text, as LangChain4j's other providers report it
                .text(response.content().isEmpty() && !requests.isEmpty() ? null : response.content())
                .thinking(response.reasoning().isEmpty() ? null : response.reasoning())
                .toolExecutionRequests(requests);
        if (!response.malformedToolCalls().isEmpty()) {
            List<List<String>> malformed = new ArrayList<>();
            for (MalformedToolCall m : response.malformedToolCalls()) {
                malformed.add(List.of(m.text(), m.problem()));
            }
            message.attributes(Map.of(MALFORMED_TOOL_CALLS, malformed));
        }
        return ChatResponse.builder()
                .aiMessage(message.build())
                .modelName(modelName)
                .tokenUsage(tokenUsage(response.usage()))
                .finishReason(finishReason(response.finishReason(), !requests.isEmpty()))
                .build();
    }

    static ToolExecutionRequest toolExecutionRequest(ToolCall call, String id) {
        String arguments = call.hasRawArguments() ? call.arguments().textValue() : call.arguments().toString();
        return ToolExecutionRequest.builder().id(id).name(call.name()).arguments(arguments).build();
    }

    static String newToolCallId() {
        return "call_" + UUID.randomUUID().toString().replace("-", "");
    }

    static TokenUsage tokenUsage(Usage usage) {
        return new TokenUsage(usage.promptTokens(), usage.completionTokens(), usage.totalTokens());
    }

    /** A turn that ends after calling tools waits for their results: TOOL_EXECUTION, as in LangChain4j's providers. */
    static FinishReason finishReason(dev.moe4j.api.FinishReason reason, boolean calledTools) {
        return switch (reason) {
            case STOP, STOP_STRING -> calledTools ? FinishReason.TOOL_EXECUTION : FinishReason.STOP;
            case LENGTH, CONTEXT_FULL -> FinishReason.LENGTH;
            case CANCELLED -> FinishReason.OTHER;
        };
    }
}
