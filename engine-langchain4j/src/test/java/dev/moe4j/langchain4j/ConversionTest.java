package dev.moe4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonArraySchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.output.FinishReason;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.MalformedToolCall;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.Usage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Message, parameter and response mapping without an engine: expected values written out by hand. */
class ConversionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final RequestConversion requests = new RequestConversion("tiny", Thinking.OFF, -1, 3L, null);

    @Test
    void responseCarriesTextThinkingToolCallsUsageAndToolExecutionFinish() throws Exception {
        ToolCall weather = ToolCall.of("get_weather", JSON.readTree("{\"city\": \"Paris\", \"days\": [1, 2]}"));
        ToolCall raw = ToolCall.withRawArguments("lookup", "not json");
        dev.moe4j.api.ChatResponse moe4j = new dev.moe4j.api.ChatResponse("Let me check.", "Calling tools.",
                List.of(weather, raw), List.of(), new Usage(10, 3, 7), dev.moe4j.api.FinishReason.STOP, false);

        dev.langchain4j.model.chat.response.ChatResponse r = ResponseConversion.chatResponse(moe4j, "tiny", List.of("given"));

        AiMessage ai = r.aiMessage();
        assertEquals("Calling tools.", ai.text());
        assertEquals("Let me check.", ai.thinking());
        assertEquals(2, ai.toolExecutionRequests().size());
        ToolExecutionRequest first = ai.toolExecutionRequests().get(0);
        assertEquals("given", first.id(), "an id streamed earlier is kept");
        assertEquals("get_weather", first.name());
        assertEquals("{\"city\":\"Paris\",\"days\":[1,2]}", first.arguments());
        ToolExecutionRequest second = ai.toolExecutionRequests().get(1);
        assertEquals("lookup", second.name());
        assertEquals("not json", second.arguments());
        assertTrue(second.id().startsWith("call_"));
        assertEquals(FinishReason.TOOL_EXECUTION, r.finishReason());
        assertEquals(10, r.tokenUsage().inputTokenCount());
        assertEquals(7, r.tokenUsage().outputTokenCount());
        assertEquals(17, r.tokenUsage().totalTokenCount());
        assertEquals("tiny", r.modelName());

        // and back into the history of the next request: the same assistant turn moe4j produced
        assertEquals(ChatMessage.assistant("Calling tools.", "Let me check.", List.of(weather, raw)),
                RequestConversion.message(ai));
    }

    @Test
    void emptyReasoningIsNoThinkingAndToolOnlyTurnHasNoText() throws Exception {
        ToolCall call = ToolCall.of("f", JSON.readTree("{}"));
        var r = ResponseConversion.chatResponse(new dev.moe4j.api.ChatResponse("", "", List.of(call), List.of(),
                new Usage(1, 0, 1), dev.moe4j.api.FinishReason.STOP, false), "m", List.of());
        assertNull(r.aiMessage().thinking());
        assertNull(r.aiMessage().text());
        assertEquals("{}", r.aiMessage().toolExecutionRequests().get(0).arguments());
    }

    @Test
    void malformedToolCallsAreKeptAsAnAttribute() {
        var r = ResponseConversion.chatResponse(new dev.moe4j.api.ChatResponse("", "x",
                List.of(), List.of(new MalformedToolCall("{oops", "not JSON")), new Usage(1, 0, 1),
                dev.moe4j.api.FinishReason.STOP, false), "m", List.of());
        assertEquals(List.of(List.of("{oops", "not JSON")),
                r.aiMessage().attribute(ResponseConversion.MALFORMED_TOOL_CALLS, List.class));
    }

    @Test
    void finishReasons() {
        assertEquals(FinishReason.STOP, ResponseConversion.finishReason(dev.moe4j.api.FinishReason.STOP, false));
        assertEquals(FinishReason.STOP, ResponseConversion.finishReason(dev.moe4j.api.FinishReason.STOP_STRING, false));
        assertEquals(FinishReason.LENGTH, ResponseConversion.finishReason(dev.moe4j.api.FinishReason.LENGTH, false));
        assertEquals(FinishReason.LENGTH, ResponseConversion.finishReason(dev.moe4j.api.FinishReason.CONTEXT_FULL, false));
        assertEquals(FinishReason.OTHER, ResponseConversion.finishReason(dev.moe4j.api.FinishReason.CANCELLED, false));
        assertEquals(FinishReason.TOOL_EXECUTION, ResponseConversion.finishReason(dev.moe4j.api.FinishReason.STOP, true));
    }

    @Test
    void messagesOfEveryKind() {
        assertEquals(ChatMessage.system("Be terse."), RequestConversion.message(SystemMessage.from("Be terse.")));
        assertEquals(ChatMessage.user("a\nb"), RequestConversion.message(
                UserMessage.from(TextContent.from("a"), TextContent.from("b"))));
        assertEquals(ChatMessage.tool("{\"temp\": 21}"), RequestConversion.message(
                ToolExecutionResultMessage.from("c1", "get_weather", "{\"temp\": 21}")));
        assertEquals(ChatMessage.assistant("Hi.", null, List.of()), RequestConversion.message(AiMessage.from("Hi.")));
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class, () -> RequestConversion.message(
                UserMessage.from(TextContent.from("see"), ImageContent.from("https://example.com/a.png"))));
        assertTrue(e.getMessage().contains("IMAGE"), e.getMessage());
    }

    @Test
    void toolSpecificationBecomesAFunctionWithItsJsonSchema() throws Exception {
        ToolSpecification spec = ToolSpecification.builder()
                .name("get_weather").description("Weather of a city")
                .parameters(JsonObjectSchema.builder()
                        .addStringProperty("city", "the city's name")
                        .addProperty("days", JsonArraySchema.builder().items(
                                dev.langchain4j.model.chat.request.json.JsonIntegerSchema.builder().build()).build())
                        .required("city")
                        .build())
                .build();
        String expected = """
                {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                 "parameters": {"type": "object",
                                "properties": {"city": {"type": "string", "description": "the city's name"},
                                               "days": {"type": "array", "items": {"type": "integer"}}},
                                "required": ["city"]}}}""";
        assertEquals(JSON.readTree(expected), RequestConversion.toolSpec(spec).json());
        ToolSpecification bare = ToolSpecification.builder().name("now").build();
        assertEquals(JSON.readTree("{\"type\": \"function\", \"function\": {\"name\": \"now\","
                + " \"parameters\": {\"type\": \"object\", \"properties\": {}, \"required\": []}}}"),
                RequestConversion.toolSpec(bare).json());
    }

    @Test
    void parametersMapToTheRequest() {
        ChatRequest request = ChatRequest.builder().messages(UserMessage.from("Hi"))
                .parameters(ChatRequestParameters.builder().temperature(0.3).topP(0.5).topK(7).presencePenalty(0.1)
                        .frequencyPenalty(0.2).maxOutputTokens(12).stopSequences(List.of("END"))
                        .toolSpecifications(ToolSpecification.builder().name("now").build()).build())
                .build();
        dev.moe4j.api.ChatRequest r = requests.toMoe4j(request);
        assertEquals(new SamplingParams(0.3, 7, 0.5, 0, 0.1, 0.2, 1), r.sampling());
        assertEquals(12, r.maxTokens());
        assertEquals(List.of("END"), r.stop());
        assertEquals(1, r.tools().size());
        assertEquals(Thinking.OFF, r.thinking());
        assertEquals(3L, r.seed());

        ChatRequest none = request.toBuilder().parameters(request.parameters().overrideWith(
                ChatRequestParameters.builder().toolChoice(ToolChoice.NONE).build())).build();
        assertEquals(List.of(), requests.toMoe4j(none).tools(), "tool choice NONE does not list the tools");
        assertNull(requests.toMoe4j(ChatRequest.builder().messages(UserMessage.from("Hi")).build()).sampling(),
                "no sampling parameter: Qwen's recommendation");
    }

    @Test
    void unsupportedParametersAreRefusedByName() {
        assertRefused(ChatRequestParameters.builder().responseFormat(ResponseFormat.JSON).build(), "responseFormat");
        assertRefused(ChatRequestParameters.builder().toolChoice(ToolChoice.REQUIRED)
                .toolSpecifications(ToolSpecification.builder().name("now").build()).build(), "toolChoice REQUIRED");
        assertRefused(ChatRequestParameters.builder().modelName("gpt-4o").build(), "modelName 'gpt-4o'");
        assertRefused(ChatRequestParameters.builder()
                .toolSpecifications(ToolSpecification.builder().name("now").strict(true).build()).build(), "strict");
        // the same model name is harmless
        requests.toMoe4j(ChatRequest.builder().messages(UserMessage.from("Hi"))
                .parameters(ChatRequestParameters.builder().modelName("tiny").build()).build());
    }

    private void assertRefused(ChatRequestParameters parameters, String named) {
        ChatRequest request = ChatRequest.builder().messages(UserMessage.from("Hi")).parameters(parameters).build();
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class, () -> requests.toMoe4j(request));
        assertTrue(e.getMessage().contains(named), e.getMessage());
        assertNotEquals("", e.getMessage());
    }
}
