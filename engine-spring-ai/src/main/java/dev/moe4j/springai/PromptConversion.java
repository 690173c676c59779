package dev.moe4j.springai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.ToolSpec;
import java.util.ArrayList;
import java.util.List;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.tool.definition.ToolDefinition;

/**
 * Spring AI prompts to moe4j requests. What moe4j cannot honour (media, another model) is refused with
 * {@link IllegalArgumentException} naming it, rather than dropped.
 */
final class PromptConversion {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PromptConversion() {}

    /**
     * @param options the request's options merged over the model's defaults
     * @param tools   the tool definitions those options resolve to
     */
    static ChatRequest request(List<Message> messages, Moe4jChatOptions options, List<ToolDefinition> tools,
                               String modelName) {
        if (options.getModel() != null && !options.getModel().equals(modelName)) {
            throw new IllegalArgumentException("model '" + options.getModel() + "': this chat model serves the one"
                    + " model it was built with ('" + modelName + "')");
        }
        ChatRequest.Builder b = ChatRequest.builder();
        for (Message m : messages) {
            messages(m).forEach(b::message);
        }
        tools.forEach(t -> b.tool(toolSpec(t)));
        Thinking thinking = options.getThinking() != null ? options.getThinking() : Thinking.MODEL_DEFAULT;
        int budget = options.getThinkingBudget() != null ? options.getThinkingBudget() : -1;
        b.thinking(thinking).thinkingBudget(budget);
        b.sampling(sampling(options, thinking != Thinking.OFF && budget != 0));
        if (options.getMaxTokens() != null) {
            b.maxTokens(options.getMaxTokens());
        }
        if (options.getStopSequences() != null) {
            b.stop(options.getStopSequences().toArray(String[]::new));
        }
        if (options.getSeed() != null) {
            b.seed(options.getSeed());
        }
        if (options.getChatTemplate() != null) {
            b.chatTemplate(options.getChatTemplate());
        }
        return b.build();
    }

    /** null (Qwen's recommendation for the thinking mode) unless an option is set; set ones replace its values. */
    private static SamplingParams sampling(Moe4jChatOptions o, boolean thinks) {
        if (o.getTemperature() == null && o.getTopP() == null && o.getTopK() == null && o.getPresencePenalty() == null
                && o.getFrequencyPenalty() == null) {
            return null;
        }
        SamplingParams s = thinks ? SamplingParams.THINKING : SamplingParams.NON_THINKING;
        if (o.getTemperature() != null) {
            s = s.withTemperature(o.getTemperature());
        }
        if (o.getTopP() != null) {
            s = s.withTopP(o.getTopP());
        }
        if (o.getTopK() != null) {
            s = s.withTopK(o.getTopK());
        }
        if (o.getPresencePenalty() != null) {
            s = s.withPresencePenalty(o.getPresencePenalty());
        }
        if (o.getFrequencyPenalty() != null) {
            s = s.withFrequencyPenalty(o.getFrequencyPenalty());
        }
        return s;
    }

    /** One Spring AI message as moe4j messages: a tool response message holds one result per call. */
    static List<ChatMessage> messages(Message message) {
        return switch (message) {
            case SystemMessage m -> List.of(ChatMessage.system(m.getText()));
            case UserMessage m -> {
                if (!m.getMedia().isEmpty()) {
                    throw new IllegalArgumentException("a user message with media (" + m.getMedia().get(0).getMimeType()
                            + "): moe4j reads text only");
                }
                yield List.of(ChatMessage.user(m.getText()));
            }
            case AssistantMessage m -> {
                Object reasoning = m.getMetadata().get(ResponseConversion.REASONING_CONTENT);
                List<ToolCall> calls = new ArrayList<>();
                for (AssistantMessage.ToolCall call : m.getToolCalls()) {
                    calls.add(toolCall(call.name(), call.arguments()));
                }
                yield List.of(ChatMessage.assistant(m.getText(),
                        reasoning instanceof String r && !r.isEmpty() ? r : null, calls));
            }
            case ToolResponseMessage m -> m.getResponses().stream()
                    .map(r -> ChatMessage.tool(r.responseData())).toList();
            default -> throw new IllegalArgumentException(message.getMessageType() + " messages ("
                    + message.getClass().getSimpleName() + "): moe4j takes system, user, assistant and tool messages");
        };
    }

    /**
     * Arguments that are a JSON object are passed as an object, so the chat template prints them exactly as the
     * model wrote them (Python's json.dumps layout); anything else goes in verbatim.
     */
    static ToolCall toolCall(String name, String arguments) {
        String args = arguments == null ? "{}" : arguments;
        try {
            JsonNode node = JSON.readTree(args);
            if (node != null && node.isObject()) {
                return ToolCall.of(name, node);
            }
        } catch (JsonProcessingException notJson) {
            // kept as the raw text below
        }
        return ToolCall.withRawArguments(name, args);
    }

    /** {@code {"type": "function", "function": {"name", "description", "parameters": the input schema}}}. */
    static ToolSpec toolSpec(ToolDefinition tool) {
        ObjectNode json = JSON.createObjectNode();
        json.put("type", "function");
        ObjectNode function = json.putObject("function");
        function.put("name", tool.name());
        if (tool.description() != null) {
            function.put("description", tool.description());
        }
        try {
            JsonNode schema = JSON.readTree(tool.inputSchema());
            if (schema == null || !schema.isObject()) {
                throw new IllegalArgumentException("tool '" + tool.name() + "': its input schema is not a JSON object");
            }
            function.set("parameters", schema);
        } catch (StreamConstraintsException e) {
            // Jackson's read limits, nesting depth 1000 first: checked while parsing, so no recursion runs away
            throw new IllegalArgumentException("tool '" + tool.name() + "': its input schema exceeds a limit: "
                    + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("tool '" + tool.name() + "': its input schema is not JSON: "
                    + e.getOriginalMessage(), e);
        }
        return ToolSpec.of(json);
    }
}
