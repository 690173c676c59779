package dev.moe4j.server;

import static dev.moe4j.server.JsonFields.present;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.ToolSpec;
import java.util.ArrayList;
import java.util.List;

/** Reads OpenAI's {@code messages}, {@code tools} and {@code tool_choice} into the engine's types. */
final class OpenAiMessages {
    private OpenAiMessages() {}

    static List<ChatMessage> messages(JsonNode messages) {
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiException.invalid("messages", "messages must be a non-empty array");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            out.add(message(messages.get(i), "messages[" + i + "]"));
        }
        return out;
    }

    private static ChatMessage message(JsonNode m, String at) {
        if (!m.isObject()) {
            throw ApiException.invalid(at, at + " must be an object");
        }
        JsonNode r = m.get("role");
        if (r == null || !r.isTextual()) {
            throw ApiException.invalid(at + ".role", at + ".role must be a string");
        }
        ChatMessage.Role role = switch (r.textValue()) {
            case "system", "developer" -> ChatMessage.Role.SYSTEM; // OpenAI's newer name for system
            case "user" -> ChatMessage.Role.USER;
            case "assistant" -> ChatMessage.Role.ASSISTANT;
            case "tool" -> ChatMessage.Role.TOOL;
            default -> throw ApiException.invalid(at + ".role", "unknown role '" + r.textValue()
                    + "' (expected system, developer, user, assistant or tool)");
        };
        String content = content(m.get("content"), at + ".content");
        if (role != ChatMessage.Role.ASSISTANT) {
            if (content == null) {
                throw ApiException.invalid(at + ".content", at + ".content is required for a " + r.textValue()
                        + " message");
            }
            for (String field : new String[] {"tool_calls", "reasoning_content"}) {
                if (present(m, field) != null) {
                    throw ApiException.invalid(at + "." + field, "only assistant messages carry " + field);
                }
            }
            JsonNode id = present(m, "tool_call_id");
            if (id != null && !id.isTextual()) {
                throw ApiException.invalid(at + ".tool_call_id", at + ".tool_call_id must be a string");
            }
            return switch (role) {
                case SYSTEM -> ChatMessage.system(content);
                case USER -> ChatMessage.user(content);
                default -> ChatMessage.tool(content); // the Qwen templates place tool results by order, not by id
            };
        }
        String reasoning = null;
        JsonNode rc = present(m, "reasoning_content");
        if (rc == null) {
            rc = present(m, "reasoning");
        }
        if (rc != null) {
            if (!rc.isTextual()) {
                throw ApiException.invalid(at + ".reasoning_content", at + ".reasoning_content must be a string");
            }
            reasoning = rc.textValue();
        }
        List<ToolCall> calls = new ArrayList<>();
        JsonNode tc = present(m, "tool_calls");
        if (tc != null) {
            if (!tc.isArray()) {
                throw ApiException.invalid(at + ".tool_calls", at + ".tool_calls must be an array");
            }
            for (int j = 0; j < tc.size(); j++) {
                calls.add(toolCall(tc.get(j), at + ".tool_calls[" + j + "]"));
            }
        }
        if (content == null && calls.isEmpty()) {
            throw ApiException.invalid(at + ".content", at + ".content is required unless tool_calls is set");
        }
        return ChatMessage.assistant(content, reasoning, calls);
    }

    /** A string, or an array of {"type": "text", "text": …} parts joined; null when absent. */
    private static String content(JsonNode c, String at) {
        if (c == null || c.isNull()) {
            return null;
        }
        if (c.isTextual()) {
            return c.textValue();
        }
        if (c.isArray()) {
            StringBuilder text = new StringBuilder();
            for (int k = 0; k < c.size(); k++) {
                JsonNode part = c.get(k);
                String type = part.path("type").asText("");
                if (!"text".equals(type) || !part.path("text").isTextual()) {
                    throw ApiException.unsupported(at + "[" + k + "]",
                            "only text parts {\"type\": \"text\", \"text\": …} are supported, got type '" + type + "'");
                }
                text.append(part.get("text").textValue());
            }
            return text.toString();
        }
        throw ApiException.invalid(at, at + " must be a string or an array of text parts");
    }

    private static ToolCall toolCall(JsonNode call, String at) {
        JsonNode function = call.path("function");
        if (!call.isObject() || !function.isObject()) {
            throw ApiException.invalid(at + ".function", at + " must be {\"type\": \"function\", \"function\": {…}}");
        }
        JsonNode type = present(call, "type");
        if (type != null && !"function".equals(type.asText())) {
            throw ApiException.invalid(at + ".type", at + ".type must be \"function\"");
        }
        JsonNode name = function.get("name");
        if (name == null || !name.isTextual() || name.textValue().isEmpty()) {
            throw ApiException.invalid(at + ".function.name", at + ".function.name must be a non-empty string");
        }
        JsonNode args = function.get("arguments");
        if (args == null || args.isNull()) {
            return ToolCall.withRawArguments(name.textValue(), "{}");
        }
        if (args.isTextual()) {
            // OpenAI sends the arguments as a JSON string: the template inserts it as written
            return ToolCall.withRawArguments(name.textValue(), args.textValue());
        }
        if (args.isObject()) {
            return ToolCall.of(name.textValue(), args);
        }
        throw ApiException.invalid(at + ".function.arguments", at + ".function.arguments must be a JSON string");
    }

    static List<ToolSpec> tools(JsonNode tools) {
        List<ToolSpec> out = new ArrayList<>();
        if (tools == null || tools.isNull()) {
            return out;
        }
        if (!tools.isArray()) {
            throw ApiException.invalid("tools", "tools must be an array");
        }
        for (int i = 0; i < tools.size(); i++) {
            JsonNode t = tools.get(i);
            String at = "tools[" + i + "]";
            if (!t.isObject() || !"function".equals(t.path("type").asText())) {
                throw ApiException.invalid(at + ".type", at + " must be {\"type\": \"function\", \"function\": {…}}");
            }
            JsonNode name = t.path("function").path("name");
            if (!name.isTextual() || name.textValue().isEmpty()) {
                throw ApiException.invalid(at + ".function.name", at + ".function.name must be a non-empty string");
            }
            JsonNode params = t.path("function").get("parameters");
            if (params != null && !params.isObject()) {
                throw ApiException.invalid(at + ".function.parameters", at + ".function.parameters must be a JSON"
                        + " schema object");
            }
            out.add(ToolSpec.of(t));
        }
        return out;
    }

    /** auto (the default) offers the tools, none withholds them; forcing a call is beyond the engine. */
    static boolean toolChoiceAllowsTools(JsonNode choice) {
        if (choice == null || choice.isNull()) {
            return true;
        }
        if (choice.isTextual()) {
            switch (choice.textValue()) {
                case "auto":
                    return true;
                case "none":
                    return false;
                case "required":
                    throw ApiException.unsupported("tool_choice", "\"required\" is not supported: the engine"
                            + " cannot force a tool call (use \"auto\" or \"none\")");
                default:
                    throw ApiException.invalid("tool_choice", "tool_choice must be \"auto\", \"none\" or"
                            + " \"required\", was '" + choice.textValue() + "'");
            }
        }
        if (choice.isObject()) {
            throw ApiException.unsupported("tool_choice", "naming a function is not supported: the engine cannot"
                    + " force a tool call (use \"auto\" or \"none\")");
        }
        throw ApiException.invalid("tool_choice", "tool_choice must be a string or an object");
    }
}
