package dev.moe4j.springai;

import dev.moe4j.api.FinishReason;
import dev.moe4j.api.MalformedToolCall;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.Usage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;

/** moe4j responses to Spring AI responses. */
final class ResponseConversion {
    /** The assistant message's metadata key for the reasoning, as Spring AI's OpenAI and DeepSeek models name it. */
    static final String REASONING_CONTENT = "reasoningContent";
    /** The metadata key for tool-call blocks that could not be parsed, as {@code [text, problem]} pairs. */
    static final String MALFORMED_TOOL_CALLS = "malformedToolCalls";

    private ResponseConversion() {}

    static ChatResponse chatResponse(dev.moe4j.api.ChatResponse response, String modelName) {
        List<AssistantMessage.ToolCall> calls = new ArrayList<>();
        for (ToolCall call : response.toolCalls()) {
            calls.add(toolCall(call));
        }
        Map<String, Object> properties = new HashMap<>();
        properties.put(REASONING_CONTENT, response.reasoning());
        if (!response.malformedToolCalls().isEmpty()) {
            List<List<String>> malformed = new ArrayList<>();
            for (MalformedToolCall m : response.malformedToolCalls()) {
                malformed.add(List.of(m.text(), m.problem()));
            }
            properties.put(MALFORMED_TOOL_CALLS, malformed);
        }
        AssistantMessage message = AssistantMessage.builder().content(response.content()).properties(properties)
                .toolCalls(calls).build();
        return new ChatResponse(List.of(new Generation(message, generationMetadata(response.finishReason(), !calls.isEmpty()))),
                metadata(response.usage(), modelName));
    }

    static ChatGenerationMetadata generationMetadata(FinishReason reason, boolean calledTools) {
        return ChatGenerationMetadata.builder().finishReason(finishReason(reason, calledTools)).build();
    }

    static ChatResponseMetadata metadata(Usage usage, String modelName) {
        return ChatResponseMetadata.builder().model(modelName)
                .usage(new DefaultUsage(usage.promptTokens(), usage.completionTokens(), usage.totalTokens(), usage))
                .build();
    }

    /** OpenAI's names, which Spring AI's providers pass on: STOP, LENGTH, TOOL_CALLS; and CANCELLED. */
    static String finishReason(FinishReason reason, boolean calledTools) {
        return switch (reason) {
            case STOP, STOP_STRING -> calledTools ? "TOOL_CALLS" : "STOP";
            case LENGTH, CONTEXT_FULL -> "LENGTH";
            case CANCELLED -> "CANCELLED";
        };
    }

    static AssistantMessage.ToolCall toolCall(ToolCall call) {
        String arguments = call.hasRawArguments() ? call.arguments().textValue() : call.arguments().toString();
        return new AssistantMessage.ToolCall("call_" + UUID.randomUUID().toString().replace("-", ""), "function",
                call.name(), arguments);
    }
}
