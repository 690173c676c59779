package dev.moe4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.Usage;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/** The OpenAI response shapes (chat completions, their stream chunks, text completions, errors), built with Jackson. */
final class OpenAiResponses {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom IDS = new SecureRandom();

    private OpenAiResponses() {}

    /** {@code prefix} and 24 random hex digits, as OpenAI's ids look. */
    static String id(String prefix) {
        byte[] bytes = new byte[12];
        IDS.nextBytes(bytes);
        return prefix + HexFormat.of().formatHex(bytes);
    }

    static String text(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * OpenAI's finish reasons: a turn that ended on its own after calling tools is "tool_calls"; the context
     * filling up is "length" (as vLLM reports it); a cancelled request is "abort" (vLLM's word; its client is gone).
     */
    static String finishReason(ChatResponse r) {
        return switch (r.finishReason()) {
            case STOP, STOP_STRING -> r.toolCalls().isEmpty() ? "stop" : "tool_calls";
            case LENGTH, CONTEXT_FULL -> "length";
            case CANCELLED -> "abort";
        };
    }

    static String completionFinishReason(FinishReason reason) {
        return switch (reason) {
            case STOP, STOP_STRING -> "stop";
            case LENGTH, CONTEXT_FULL -> "length";
            case CANCELLED -> "abort";
        };
    }

    static ObjectNode usage(Usage u) {
        ObjectNode usage = JSON.createObjectNode();
        usage.put("prompt_tokens", u.promptTokens());
        usage.put("completion_tokens", u.completionTokens());
        usage.put("total_tokens", u.totalTokens());
        usage.putObject("completion_tokens_details").put("reasoning_tokens", u.reasoningTokens());
        return usage;
    }

    /** The arguments as the JSON string OpenAI sends: raw arguments as written, others serialised. */
    static String arguments(ToolCall call) {
        return call.hasRawArguments() ? call.arguments().textValue()
                : call.arguments().isNull() ? "{}" : text(call.arguments());
    }

    static ObjectNode toolCall(ToolCall call, String id) {
        ObjectNode json = JSON.createObjectNode();
        json.put("id", id);
        json.put("type", "function");
        ObjectNode function = json.putObject("function");
        function.put("name", call.name());
        function.put("arguments", arguments(call));
        return json;
    }

    private static ObjectNode envelope(String id, String object, long created, String model) {
        ObjectNode json = JSON.createObjectNode();
        json.put("id", id);
        json.put("object", object);
        json.put("created", created);
        json.put("model", model);
        return json;
    }

    /** A whole {@code chat.completion}; {@code toolCallIds} name the response's tool calls in order. */
    static ObjectNode chatCompletion(String id, long created, String model, ChatResponse r, List<String> toolCallIds) {
        ObjectNode json = envelope(id, "chat.completion", created, model);
        ObjectNode choice = json.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        if (r.content().isEmpty() && !r.toolCalls().isEmpty()) {
            message.putNull("content"); // OpenAI's shape for a turn that only calls tools
        } else {
            message.put("content", r.content());
        }
        if (!r.reasoning().isEmpty()) {
            message.put("reasoning_content", r.reasoning());
        }
        if (!r.toolCalls().isEmpty()) {
            ArrayNode calls = message.putArray("tool_calls");
            for (int i = 0; i < r.toolCalls().size(); i++) {
                calls.add(toolCall(r.toolCalls().get(i), toolCallIds.get(i)));
            }
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(r));
        json.set("usage", usage(r.usage()));
        return json;
    }

    /** A {@code chat.completion.chunk} with one choice; {@code usageNull} adds {@code "usage": null} (include_usage). */
    static ObjectNode chatChunk(String id, long created, String model, ObjectNode delta, String finishReason,
            boolean usageNull) {
        ObjectNode json = envelope(id, "chat.completion.chunk", created, model);
        ObjectNode choice = json.putArray("choices").addObject();
        choice.put("index", 0);
        choice.set("delta", delta);
        choice.putNull("logprobs");
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        if (usageNull) {
            json.putNull("usage");
        }
        return json;
    }

    /** The last chunk of a stream with include_usage: no choices, the request's usage. */
    static ObjectNode usageChunk(String id, String object, long created, String model, Usage usage) {
        ObjectNode json = envelope(id, object, created, model);
        json.putArray("choices");
        json.set("usage", usage(usage));
        return json;
    }

    static ObjectNode delta(String field, String text) {
        ObjectNode delta = JSON.createObjectNode();
        delta.put(field, text);
        return delta;
    }

    /** A delta announcing one tool call whole (the engine parses a call before reporting it). */
    static ObjectNode toolCallDelta(int index, ToolCall call, String callId) {
        ObjectNode delta = JSON.createObjectNode();
        ObjectNode entry = toolCall(call, callId);
        ObjectNode indexed = JSON.createObjectNode();
        indexed.put("index", index);
        indexed.setAll(entry);
        delta.putArray("tool_calls").add(indexed);
        return delta;
    }

    /** A whole {@code text_completion} or one chunk of it. */
    static ObjectNode textCompletion(String id, long created, String model, String text, String finishReason,
            Usage usage, boolean usageNull) {
        ObjectNode json = envelope(id, "text_completion", created, model);
        ObjectNode choice = json.putArray("choices").addObject();
        choice.put("index", 0);
        choice.put("text", text);
        choice.putNull("logprobs");
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        if (usage != null) {
            json.set("usage", usage(usage));
        } else if (usageNull) {
            json.putNull("usage");
        }
        return json;
    }

    static ObjectNode error(ApiException e) {
        ObjectNode json = JSON.createObjectNode();
        ObjectNode error = json.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type);
        if (e.param == null) {
            error.putNull("param");
        } else {
            error.put("param", e.param);
        }
        if (e.code == null) {
            error.putNull("code");
        } else {
            error.put("code", e.code);
        }
        return json;
    }

    static ObjectNode models(String modelId, long created) {
        ObjectNode json = JSON.createObjectNode();
        json.put("object", "list");
        ObjectNode model = json.putArray("data").addObject();
        model.put("id", modelId);
        model.put("object", "model");
        model.put("created", created);
        model.put("owned_by", "moe4j");
        return json;
    }
}
