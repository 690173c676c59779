package dev.moe4j.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.Usage;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.content.Media;
import org.springframework.ai.tool.definition.ToolDefinition;
import org.springframework.util.MimeTypeUtils;

/** Message, option and response mapping without an engine: expected values written out by hand. */
class ConversionTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void responseCarriesTextReasoningToolCallsUsageAndFinishReason() throws Exception {
        ToolCall weather = ToolCall.of("get_weather", JSON.readTree("{\"city\": \"Paris\"}"));
        ToolCall raw = ToolCall.withRawArguments("lookup", "not json");
        Usage usage = new Usage(10, 3, 7);
        ChatResponse r = ResponseConversion.chatResponse(new dev.moe4j.api.ChatResponse("Let me check.",
                "Calling tools.", List.of(weather, raw), List.of(), usage, FinishReason.STOP, false), "tiny");

        AssistantMessage message = r.getResult().getOutput();
        assertEquals("Calling tools.", message.getText());
        assertEquals("Let me check.", message.getMetadata().get("reasoningContent"));
        assertEquals(2, message.getToolCalls().size());
        AssistantMessage.ToolCall first = message.getToolCalls().get(0);
        assertEquals("get_weather", first.name());
        assertEquals("function", first.type());
        assertEquals("{\"city\":\"Paris\"}", first.arguments());
        assertTrue(first.id().startsWith("call_"));
        assertEquals("not json", message.getToolCalls().get(1).arguments());
        assertEquals("TOOL_CALLS", r.getResult().getMetadata().getFinishReason());
        assertEquals(10, r.getMetadata().getUsage().getPromptTokens());
        assertEquals(7, r.getMetadata().getUsage().getCompletionTokens());
        assertEquals(17, r.getMetadata().getUsage().getTotalTokens());
        assertSame(usage, r.getMetadata().getUsage().getNativeUsage());
        assertEquals("tiny", r.getMetadata().getModel());

        // and back into the next prompt's history: the same assistant turn moe4j produced
        assertEquals(List.of(ChatMessage.assistant("Calling tools.", "Let me check.", List.of(weather, raw))),
                PromptConversion.messages(message));
    }

    @Test
    void finishReasons() {
        assertEquals("STOP", ResponseConversion.finishReason(FinishReason.STOP, false));
        assertEquals("STOP", ResponseConversion.finishReason(FinishReason.STOP_STRING, false));
        assertEquals("LENGTH", ResponseConversion.finishReason(FinishReason.LENGTH, false));
        assertEquals("LENGTH", ResponseConversion.finishReason(FinishReason.CONTEXT_FULL, false));
        assertEquals("CANCELLED", ResponseConversion.finishReason(FinishReason.CANCELLED, false));
        assertEquals("TOOL_CALLS", ResponseConversion.finishReason(FinishReason.STOP, true));
    }

    @Test
    void messagesOfEveryKind() {
        assertEquals(List.of(ChatMessage.system("Be terse.")), PromptConversion.messages(new SystemMessage("Be terse.")));
        assertEquals(List.of(ChatMessage.user("Hi")), PromptConversion.messages(new UserMessage("Hi")));
        assertEquals(List.of(ChatMessage.assistant("Hello.", null, List.of())),
                PromptConversion.messages(new AssistantMessage("Hello.")));
        ToolResponseMessage results = ToolResponseMessage.builder().responses(List.of(
                new ToolResponseMessage.ToolResponse("c1", "get_weather", "{\"temp\": 21}"),
                new ToolResponseMessage.ToolResponse("c2", "get_time", "noon"))).build();
        assertEquals(List.of(ChatMessage.tool("{\"temp\": 21}"), ChatMessage.tool("noon")),
                PromptConversion.messages(results));
        UserMessage withImage = UserMessage.builder().text("see")
                .media(Media.builder().mimeType(MimeTypeUtils.IMAGE_PNG).data(new byte[] {1}).build()).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptConversion.messages(withImage));
        assertTrue(e.getMessage().contains("image/png"), e.getMessage());
    }

    @Test
    void toolDefinitionBecomesAFunctionWithItsSchema() throws Exception {
        String schema = "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}";
        ToolDefinition tool = ToolDefinition.builder().name("get_weather").description("Weather of a city")
                .inputSchema(schema).build();
        assertEquals(JSON.readTree("{\"type\": \"function\", \"function\": {\"name\": \"get_weather\","
                + " \"description\": \"Weather of a city\", \"parameters\": " + schema + "}}"),
                PromptConversion.toolSpec(tool).json());
        ToolDefinition broken = ToolDefinition.builder().name("bad").description("d").inputSchema("{oops").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptConversion.toolSpec(broken));
        assertTrue(e.getMessage().contains("'bad'"), e.getMessage());
    }

    @Test
    void requestOptionsOverrideTheDefaultsFieldByField() {
        Moe4jChatOptions defaults = new Moe4jChatOptions().thinking(Thinking.OFF).seed(3).temperature(0.5).maxTokens(40);
        ChatOptions request = ChatOptions.builder().temperature(0.9).topP(0.5).topK(7).stopSequences(List.of("END")).build();
        Moe4jChatOptions merged = Moe4jChatOptions.merge(request, defaults);
        ChatRequest r = PromptConversion.request(List.of(new UserMessage("Hi")), merged, List.of(), "tiny");
        assertEquals(SamplingParams.NON_THINKING.withTemperature(0.9).withTopP(0.5).withTopK(7), r.sampling());
        assertEquals(40, r.maxTokens());
        assertEquals(List.of("END"), r.stop());
        assertEquals(Thinking.OFF, r.thinking());
        assertEquals(3L, r.seed());
        assertNull(PromptConversion.request(List.of(new UserMessage("Hi")), new Moe4jChatOptions(), List.of(), "tiny")
                .sampling(), "no sampling option: Qwen's recommendation");
        Moe4jChatOptions copy = defaults.copy();
        assertEquals(Thinking.OFF, copy.getThinking());
        assertEquals(40, copy.getMaxTokens());
    }

    @Test
    void anotherModelIsRefusedByName() {
        Moe4jChatOptions options = Moe4jChatOptions.merge(ChatOptions.builder().model("gpt-4o").build(), new Moe4jChatOptions());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PromptConversion.request(List.of(new UserMessage("Hi")), options, List.of(), "tiny"));
        assertTrue(e.getMessage().contains("'gpt-4o'"), e.getMessage());
    }
}
