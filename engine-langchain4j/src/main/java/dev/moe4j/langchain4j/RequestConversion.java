package dev.moe4j.langchain4j;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonAnyOfSchema;
import dev.langchain4j.model.chat.request.json.JsonArraySchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchemaElement;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.InvalidRequestException;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.ToolSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * LangChain4j requests to moe4j requests. Parameters moe4j cannot honour are refused with
 * {@link UnsupportedFeatureException} rather than dropped, so a caller never gets an answer to a different question.
 */
final class RequestConversion {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String modelName;
    private final Thinking thinking;
    private final int thinkingBudget;
    private final Long seed;
    private final String chatTemplate;

    RequestConversion(String modelName, Thinking thinking, int thinkingBudget, Long seed, String chatTemplate) {
        this.modelName = modelName;
        this.thinking = thinking;
        this.thinkingBudget = thinkingBudget;
        this.seed = seed;
        this.chatTemplate = chatTemplate;
    }

    dev.moe4j.api.ChatRequest toMoe4j(ChatRequest request) {
        ChatRequestParameters p = request.parameters();
        check(p);
        dev.moe4j.api.ChatRequest.Builder b = dev.moe4j.api.ChatRequest.builder();
        for (dev.langchain4j.data.message.ChatMessage m : request.messages()) {
            b.message(message(m));
        }
        // NONE: the model is not told of the tools, so it cannot call them; earlier calls in the history still render
        if (p.toolSpecifications() != null && p.toolChoice() != ToolChoice.NONE) {
            p.toolSpecifications().forEach(spec -> b.tool(toolSpec(spec)));
        }
        b.thinking(thinking).thinkingBudget(thinkingBudget);
        b.sampling(sampling(p));
        if (p.maxOutputTokens() != null) {
            b.maxTokens(p.maxOutputTokens());
        }
        if (p.stopSequences() != null) {
            b.stop(p.stopSequences().toArray(String[]::new));
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (chatTemplate != null) {
            b.chatTemplate(chatTemplate);
        }
        return b.build();
    }

    /** Refuses what moe4j cannot do; the message names the parameter. */
    void check(ChatRequestParameters p) {
        if (p.modelName() != null && !p.modelName().equals(modelName)) {
            throw new UnsupportedFeatureException("modelName '" + p.modelName() + "': this chat model serves the one"
                    + " model it was built with ('" + modelName + "')");
        }
        if (p.toolChoice() == ToolChoice.REQUIRED) {
            throw new UnsupportedFeatureException("toolChoice REQUIRED: moe4j does not constrain decoding, so it cannot"
                    + " force a tool call (use AUTO, or NONE)");
        }
        if (p.responseFormat() != null && p.responseFormat().type() != ResponseFormatType.TEXT) {
            throw new UnsupportedFeatureException("responseFormat " + p.responseFormat().type() + ": moe4j does not"
                    + " constrain decoding to JSON; ask for JSON in the prompt and parse the text instead");
        }
        if (p.toolSpecifications() != null) {
            for (ToolSpecification spec : p.toolSpecifications()) {
                if (Boolean.TRUE.equals(spec.strict())) {
                    throw new UnsupportedFeatureException("tool '" + spec.name() + "' is strict: moe4j does not"
                            + " constrain tool arguments to their schema");
                }
            }
        }
    }

    /** null (Qwen's recommendation for the thinking mode) unless a parameter is set; set ones replace its values. */
    private SamplingParams sampling(ChatRequestParameters p) {
        if (p.temperature() == null && p.topP() == null && p.topK() == null && p.presencePenalty() == null
                && p.frequencyPenalty() == null) {
            return null;
        }
        boolean thinks = thinking != Thinking.OFF && thinkingBudget != 0;
        SamplingParams s = thinks ? SamplingParams.THINKING : SamplingParams.NON_THINKING;
        if (p.temperature() != null) {
            s = s.withTemperature(p.temperature());
        }
        if (p.topP() != null) {
            s = s.withTopP(p.topP());
        }
        if (p.topK() != null) {
            s = s.withTopK(p.topK());
        }
        if (p.presencePenalty() != null) {
            s = s.withPresencePenalty(p.presencePenalty());
        }
        if (p.frequencyPenalty() != null) {
            s = s.withFrequencyPenalty(p.frequencyPenalty());
        }
        return s;
    }

    static ChatMessage message(dev.langchain4j.data.message.ChatMessage message) {
        return switch (message) {
            case SystemMessage m -> ChatMessage.system(m.text());
            case UserMessage m -> ChatMessage.user(text(m.contents(), "UserMessage"));
            case AiMessage m -> ChatMessage.assistant(m.text(), emptyToNull(m.thinking()),
                    m.toolExecutionRequests().stream().map(RequestConversion::toolCall).toList());
            case ToolExecutionResultMessage m -> ChatMessage.tool(
                    m.hasSingleText() ? m.text() : text(m.contents(), "ToolExecutionResultMessage"));
            default -> throw new UnsupportedFeatureException(message.type() + " messages ("
                    + message.getClass().getSimpleName() + "): moe4j takes system, user, AI and tool-result messages");
        };
    }

    /** Text parts joined by newlines; moe4j reads text only. */
    private static String text(List<Content> contents, String where) {
        List<String> parts = new ArrayList<>();
        for (Content c : contents) {
            if (!(c instanceof TextContent t)) {
                throw new UnsupportedFeatureException(c.type() + " content in a " + where + ": moe4j reads text only");
            }
            parts.add(t.text());
        }
        return String.join("\n", parts);
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /**
     * Arguments that are a JSON object are passed as an object, so the chat template prints them exactly as the
     * model wrote them (Python's json.dumps layout); anything else goes in verbatim.
     */
    static ToolCall toolCall(ToolExecutionRequest request) {
        String arguments = request.arguments() == null ? "{}" : request.arguments();
        try {
            JsonNode node = JSON.readTree(arguments);
            if (node != null && node.isObject()) {
                return ToolCall.of(request.name(), node);
            }
        } catch (JsonProcessingException notJson) {
            // kept as the raw text below
        }
        return ToolCall.withRawArguments(request.name(), arguments);
    }

    /** JSON levels a tool's schema may reach, as {@code ToolSpec} allows. */
    static final int MAX_SCHEMA_DEPTH = 1000;

    /**
     * Walks the schema without recursion and refuses one nested deeper than {@link #MAX_SCHEMA_DEPTH} JSON levels,
     * before LangChain4j's recursive {@code toMap} could overflow the stack on it.
     */
    static void checkDepth(JsonSchemaElement root, String toolName) {
        record Level(JsonSchemaElement element, int depth) {}
        ArrayDeque<Level> pending = new ArrayDeque<>();
        pending.push(new Level(root, 3)); // the tool object, "function", "parameters"
        while (!pending.isEmpty()) {
            Level level = pending.pop();
            if (level.depth() > MAX_SCHEMA_DEPTH) {
                throw new InvalidRequestException("tool '" + toolName + "': its parameter schema is nested deeper than "
                        + MAX_SCHEMA_DEPTH + " JSON levels, or contains itself");
            }
            // a property or definition sits two levels down (its map, then itself); an item one; anyOf's two
            switch (level.element()) {
                case JsonObjectSchema o -> {
                    for (Map<String, JsonSchemaElement> children : Arrays.asList(o.properties(), o.definitions())) {
                        if (children != null) {
                            children.values().forEach(c -> pending.push(new Level(c, level.depth() + 2)));
                        }
                    }
                }
                case JsonArraySchema a -> {
                    if (a.items() != null) {
                        pending.push(new Level(a.items(), level.depth() + 1));
                    }
                }
                case JsonAnyOfSchema any -> {
                    if (any.anyOf() != null) {
                        any.anyOf().forEach(c -> pending.push(new Level(c, level.depth() + 2)));
                    }
                }
                case null, default -> { }
            }
        }
    }

    /** {@code {"type": "function", "function": {"name", "description", "parameters": JSON schema}}}. */
    static ToolSpec toolSpec(ToolSpecification spec) {
        ObjectNode tool = JSON.createObjectNode();
        tool.put("type", "function");
        ObjectNode function = tool.putObject("function");
        function.put("name", spec.name());
        if (spec.description() != null) {
            function.put("description", spec.description());
        }
        JsonObjectSchema parameters = spec.parameters() != null ? spec.parameters() : JsonObjectSchema.builder().build();
        checkDepth(parameters, spec.name());
        Map<String, Object> schema = JsonSchemaElementUtils.toMap(parameters);
        function.set("parameters", JSON.valueToTree(schema));
        return ToolSpec.of(tool);
    }
}
