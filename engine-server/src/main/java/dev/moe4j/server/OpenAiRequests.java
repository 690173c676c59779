package dev.moe4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.CompletionRequest;
import dev.moe4j.api.InvalidRequestException;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.ToolSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads OpenAI request bodies into the engine's requests. Every field the engine cannot honour is rejected with
 * 400 naming it, never ignored; fields that change nothing about generation (such as {@code user}) are ignored, as
 * the reference servers do.
 */
final class OpenAiRequests {
    /** Raw completions' default length, as OpenAI's legacy endpoint. */
    static final int COMPLETION_DEFAULT_MAX_TOKENS = 16;

    private OpenAiRequests() {}

    /** A parsed chat request and how to answer it. */
    record Chat(ChatRequest request, boolean stream, boolean includeUsage) {}

    /** A parsed completion request and how to answer it. */
    record Completion(CompletionRequest request, boolean stream, boolean includeUsage) {}

    /**
     * @param defaults the sampling the engine would choose for this request's thinking mode; fields the request
     *                 sets override it
     */
    static Chat chat(JsonNode body, String modelId, java.util.function.Function<Thinking, SamplingParams> defaults) {
        requireObject(body);
        checkModel(body, modelId);
        checkCommonUnsupported(body);
        rejectIf(body, "functions", v -> true, "deprecated function calling is not supported; use tools");
        rejectIf(body, "function_call", v -> true, "deprecated function calling is not supported; use tool_choice");
        rejectIf(body, "top_logprobs", v -> true, "log probabilities are not supported");
        rejectIf(body, "logprobs", JsonNode::asBoolean, "log probabilities are not supported");
        rejectIf(body, "response_format", v -> !(v.isObject() && "text".equals(v.path("type").asText())),
                "only {\"type\": \"text\"} is supported (no JSON mode or schema-constrained decoding)");
        rejectIf(body, "parallel_tool_calls", v -> v.isBoolean() && !v.booleanValue(),
                "false is not supported: the model may call several tools in one turn");

        ChatRequest.Builder builder = ChatRequest.builder();
        builder.messages(messages(body.get("messages")));
        List<ToolSpec> tools = tools(body.get("tools"));
        if (toolChoiceAllowsTools(body.get("tool_choice"))) {
            tools.forEach(builder::tool);
        }

        Thinking thinking = Thinking.MODEL_DEFAULT;
        JsonNode kwargs = present(body, "chat_template_kwargs");
        Integer budget = optInt(body, "thinking_budget", -1);
        if (kwargs != null) {
            if (!kwargs.isObject()) {
                throw ApiException.invalid("chat_template_kwargs", "chat_template_kwargs must be an object");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = kwargs.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = "chat_template_kwargs." + e.getKey();
                JsonNode v = e.getValue();
                switch (e.getKey()) {
                    case "enable_thinking" -> {
                        if (v.isNull()) {
                            continue;
                        }
                        if (!v.isBoolean()) {
                            throw ApiException.invalid(name, name + " must be a boolean");
                        }
                        thinking = v.booleanValue() ? Thinking.ON : Thinking.OFF;
                    }
                    case "thinking_budget" -> {
                        if (budget == null) {
                            budget = optInt(kwargs, "thinking_budget", -1, name);
                        }
                    }
                    default -> throw ApiException.unsupported(name,
                            "the chat templates take enable_thinking and thinking_budget only");
                }
            }
        }
        builder.thinking(thinking);
        if (budget != null) {
            builder.thinkingBudget(budget);
        }

        Integer maxTokens = optInt(body, "max_completion_tokens", 1);
        if (maxTokens == null) {
            maxTokens = optInt(body, "max_tokens", 1);
        }
        if (maxTokens != null) {
            builder.maxTokens(maxTokens);
        }
        // a budget of 0 means no thinking at all, and the engine samples such a request as non-thinking
        Thinking mode = budget != null && budget == 0 ? Thinking.OFF : thinking;
        SamplingParams sampling = sampling(body, () -> defaults.apply(mode));
        if (sampling != null) {
            builder.sampling(sampling);
        }
        stop(body).forEach(builder::stop);
        Long seed = optLong(body, "seed");
        if (seed != null) {
            builder.seed(seed);
        }
        boolean stream = optBool(body, "stream");
        return new Chat(build(builder::build, "messages"), stream, includeUsage(body, stream));
    }

    static Completion completion(JsonNode body, String modelId) {
        requireObject(body);
        checkModel(body, modelId);
        checkCommonUnsupported(body);
        rejectIf(body, "logprobs", v -> !(v.isNull() || (v.isInt() && v.intValue() == 0)),
                "log probabilities are not supported");
        rejectIf(body, "echo", JsonNode::asBoolean, "echoing the prompt is not supported");
        rejectIf(body, "suffix", v -> !v.isNull(), "suffixes (fill-in-the-middle) are not supported");
        rejectIf(body, "best_of", v -> !(v.isInt() && v.intValue() == 1), "only best_of = 1 is supported");

        JsonNode p = body.get("prompt");
        String prompt;
        if (p != null && p.isTextual()) {
            prompt = p.textValue();
        } else if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            prompt = p.get(0).textValue();
        } else if (p != null && p.isArray() && p.size() > 1) {
            throw ApiException.unsupported("prompt", "one prompt per request is supported, got " + p.size());
        } else {
            throw ApiException.invalid("prompt", "prompt must be a string (token arrays are not supported)");
        }
        if (prompt.isEmpty()) {
            throw ApiException.invalid("prompt", "prompt must not be empty");
        }
        Integer maxTokens = optInt(body, "max_tokens", 1);
        SamplingParams sampling = sampling(body, () -> SamplingParams.NON_THINKING);
        List<String> stop = stop(body);
        Long seed = optLong(body, "seed");
        boolean stream = optBool(body, "stream");
        int max = maxTokens != null ? maxTokens : COMPLETION_DEFAULT_MAX_TOKENS;
        CompletionRequest request = build(() -> new CompletionRequest(prompt, sampling, max, stop, seed), "prompt");
        return new Completion(request, stream, includeUsage(body, stream));
    }

    private static <T> T build(java.util.function.Supplier<T> constructor, String param) {
        try {
            return constructor.get();
        } catch (InvalidRequestException | IllegalArgumentException e) {
            throw ApiException.invalid(param, e.getMessage());
        }
    }

    private static void requireObject(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(null, "the request body must be a JSON object");
        }
    }

    private static void checkModel(JsonNode body, String modelId) {
        JsonNode model = present(body, "model");
        if (model == null) {
            return;
        }
        if (!model.isTextual()) {
            throw ApiException.invalid("model", "model must be a string");
        }
        if (!model.textValue().equals(modelId)) {
            throw new ApiException(404, "invalid_request_error", "the model '" + model.textValue()
                    + "' does not exist; this server serves '" + modelId + "'", "model", "model_not_found", 0);
        }
    }

    private static void checkCommonUnsupported(JsonNode body) {
        JsonNode n = present(body, "n");
        if (n != null && !(n.isIntegralNumber() && n.asLong() == 1)) {
            throw ApiException.unsupported("n", "only n = 1 is supported, was " + n);
        }
        rejectIf(body, "logit_bias", v -> !(v.isObject() && v.isEmpty()), "logit biases are not supported");
    }

    private static void rejectIf(JsonNode body, String field, java.util.function.Predicate<JsonNode> bad, String why) {
        JsonNode v = present(body, field);
        if (v != null && bad.test(v)) {
            throw ApiException.unsupported(field, why);
        }
    }

    /** The field, or null when it is absent or JSON null (OpenAI clients send null for "not set"). */
    private static JsonNode present(JsonNode body, String field) {
        JsonNode v = body.get(field);
        return v == null || v.isNull() ? null : v;
    }

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
    private static boolean toolChoiceAllowsTools(JsonNode choice) {
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

    /** null when the request sets no sampling field (the engine then picks Qwen's defaults for the mode). */
    private static SamplingParams sampling(JsonNode body, java.util.function.Supplier<SamplingParams> base) {
        Double temperature = optDouble(body, "temperature");
        Double topP = optDouble(body, "top_p");
        Integer topK = optInt(body, "top_k", -1);
        Double minP = optDouble(body, "min_p");
        Double presence = optDouble(body, "presence_penalty");
        Double frequency = optDouble(body, "frequency_penalty");
        Double repetition = optDouble(body, "repetition_penalty");
        if (temperature == null && topP == null && topK == null && minP == null && presence == null
                && frequency == null && repetition == null) {
            return null;
        }
        check(temperature == null || temperature >= 0, "temperature", "temperature must be >= 0");
        check(topP == null || (topP > 0 && topP <= 1), "top_p", "top_p must be in (0, 1]");
        check(minP == null || (minP >= 0 && minP <= 1), "min_p", "min_p must be in [0, 1]");
        check(presence == null || (presence >= -2 && presence <= 2), "presence_penalty",
                "presence_penalty must be in [-2, 2]");
        check(frequency == null || (frequency >= -2 && frequency <= 2), "frequency_penalty",
                "frequency_penalty must be in [-2, 2]");
        check(repetition == null || repetition > 0, "repetition_penalty", "repetition_penalty must be > 0 (1 = off)");
        SamplingParams s = base.get();
        return new SamplingParams(
                temperature != null ? temperature : s.temperature(),
                topK != null ? Math.max(0, topK) : s.topK(), // -1 is vLLM's "no limit", the engine's 0
                topP != null ? topP : s.topP(),
                minP != null ? minP : s.minP(),
                presence != null ? presence : s.presencePenalty(),
                frequency != null ? frequency : s.frequencyPenalty(),
                repetition != null ? repetition : s.repetitionPenalty());
    }

    private static List<String> stop(JsonNode body) {
        JsonNode stop = present(body, "stop");
        List<String> out = new ArrayList<>();
        if (stop == null) {
            return out;
        }
        if (stop.isTextual()) {
            out.add(stop.textValue());
        } else if (stop.isArray()) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw ApiException.invalid("stop", "stop must be a string or an array of strings");
                }
                out.add(s.textValue());
            }
        } else {
            throw ApiException.invalid("stop", "stop must be a string or an array of strings");
        }
        for (String s : out) {
            check(!s.isEmpty(), "stop", "stop strings must not be empty");
        }
        return out;
    }

    private static boolean includeUsage(JsonNode body, boolean stream) {
        JsonNode options = present(body, "stream_options");
        if (options == null) {
            return false;
        }
        if (!stream) {
            throw ApiException.invalid("stream_options", "stream_options is only allowed with stream: true");
        }
        if (!options.isObject()) {
            throw ApiException.invalid("stream_options", "stream_options must be an object");
        }
        JsonNode include = present(options, "include_usage");
        if (include != null && !include.isBoolean()) {
            throw ApiException.invalid("stream_options.include_usage", "stream_options.include_usage must be a boolean");
        }
        return include != null && include.booleanValue();
    }

    private static void check(boolean ok, String param, String message) {
        if (!ok) {
            throw ApiException.invalid(param, message);
        }
    }

    private static boolean optBool(JsonNode body, String field) {
        JsonNode v = present(body, field);
        if (v == null) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ApiException.invalid(field, field + " must be a boolean");
        }
        return v.booleanValue();
    }

    private static Double optDouble(JsonNode body, String field) {
        JsonNode v = present(body, field);
        if (v == null) {
            return null;
        }
        if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
            throw ApiException.invalid(field, field + " must be a number");
        }
        return v.doubleValue();
    }

    private static Integer optInt(JsonNode body, String field, int min) {
        return optInt(body, field, min, field);
    }

    private static Integer optInt(JsonNode body, String field, int min, String name) {
        JsonNode v = present(body, field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw ApiException.invalid(name, name + " must be an integer");
        }
        if (v.intValue() < min) {
            throw ApiException.invalid(name, name + " must be >= " + min + ", was " + v.intValue());
        }
        return v.intValue();
    }

    private static Long optLong(JsonNode body, String field) {
        JsonNode v = present(body, field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.invalid(field, field + " must be an integer");
        }
        return v.longValue();
    }
}
