package dev.moe4j.generate.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.ToolSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The arguments of one {@link ChatTemplate#render} call, read from the JSON that {@code moe4j render} and the
 * chat fixtures use: {@code {"messages": [...], "tools": [...], "enable_thinking": false, "add_generation_prompt":
 * true}}. Messages are Hugging Face / OpenAI messages ({@code role}, {@code content}, {@code reasoning_content},
 * {@code tool_calls} whose entries are {@code {"function": {"name", "arguments"}}} or {@code {"name", "arguments"}});
 * {@code tools} and {@code enable_thinking} may be absent; {@code add_generation_prompt} defaults to true. Other
 * keys are ignored.
 */
public record RenderRequest(List<ChatMessage> messages, List<ToolSpec> tools, Boolean enableThinking, boolean addGenerationPrompt) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public RenderRequest {
        messages = List.copyOf(messages);
        tools = tools == null ? List.of() : List.copyOf(tools);
    }

    /** @throws IllegalArgumentException when the text is not JSON or not a request */
    public static RenderRequest parse(String json) {
        try {
            return fromJson(JSON.readTree(json));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("request is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** @throws IllegalArgumentException when the JSON is not a request */
    public static RenderRequest fromJson(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("a request must be a JSON object");
        }
        JsonNode messagesJson = root.path("messages");
        if (!messagesJson.isArray() || messagesJson.isEmpty()) {
            throw new IllegalArgumentException("a request needs a non-empty \"messages\" array");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < messagesJson.size(); i++) {
            messages.add(message(messagesJson.get(i), "messages[" + i + "]"));
        }
        List<ToolSpec> tools = new ArrayList<>();
        JsonNode toolsJson = root.path("tools");
        if (!toolsJson.isMissingNode() && !toolsJson.isNull()) {
            if (!toolsJson.isArray()) {
                throw new IllegalArgumentException("\"tools\" must be an array");
            }
            toolsJson.forEach(tool -> tools.add(ToolSpec.of(tool)));
        }
        JsonNode thinking = root.path("enable_thinking");
        Boolean enableThinking = thinking.isBoolean() ? thinking.booleanValue() : null;
        if (!thinking.isBoolean() && !thinking.isMissingNode() && !thinking.isNull()) {
            throw new IllegalArgumentException("\"enable_thinking\" must be true, false or null");
        }
        JsonNode generationPrompt = root.path("add_generation_prompt");
        if (!generationPrompt.isBoolean() && !generationPrompt.isMissingNode()) {
            throw new IllegalArgumentException("\"add_generation_prompt\" must be true or false");
        }
        return new RenderRequest(messages, tools, enableThinking, generationPrompt.asBoolean(true));
    }

    public String render(ChatTemplate template) {
        return template.render(messages, tools, enableThinking, addGenerationPrompt);
    }

    private static ChatMessage message(JsonNode json, String where) {
        if (!json.isObject()) {
            throw new IllegalArgumentException(where + " must be an object");
        }
        List<ToolCall> calls = new ArrayList<>();
        JsonNode callsJson = json.path("tool_calls");
        if (callsJson.isArray()) {
            for (int i = 0; i < callsJson.size(); i++) {
                calls.add(toolCall(callsJson.get(i), where + ".tool_calls[" + i + "]"));
            }
        } else if (!callsJson.isMissingNode() && !callsJson.isNull()) {
            throw new IllegalArgumentException(where + ".tool_calls must be an array");
        }
        String content = text(json, "content", where);
        String reasoning = text(json, "reasoning_content", where);
        try {
            return new ChatMessage(ChatMessage.Role.fromWireName(json.path("role").asText("")), content, reasoning, calls);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
    }

    /** {@code {"type": "function", "function": {"name", "arguments"}}}, or the inner object alone. */
    private static ToolCall toolCall(JsonNode json, String where) {
        JsonNode function = json.path("function").isObject() ? json.get("function") : json;
        JsonNode name = function.path("name");
        JsonNode arguments = function.path("arguments");
        if (!name.isTextual() || arguments.isMissingNode()) {
            throw new IllegalArgumentException(where + " needs a \"name\" string and \"arguments\"");
        }
        return ToolCall.of(name.textValue(), arguments);
    }

    /** A string field, or null when absent or null; multimodal content (a list of parts) is not supported. */
    private static String text(JsonNode message, String field, String where) {
        JsonNode value = message.path(field);
        if (value.isMissingNode() || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new IllegalArgumentException(where + "." + field + " must be a string or null, was " + value.getNodeType());
        }
        return value.textValue();
    }
}
