package dev.moe4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.Usage;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The request and response mappings on their own, for what the random-weight model cannot be made to produce (a
 * tool call) and for the fields' finer rules. Expected shapes are written out from OpenAI's API reference.
 */
class OpenAiMappingTest {

    static OpenAiRequests.Chat chat(String json) throws Exception {
        return OpenAiRequests.chat(Http.json(json), "m",
                mode -> mode == Thinking.OFF ? SamplingParams.NON_THINKING : SamplingParams.THINKING);
    }

    @Test
    void aResponseWithToolCallsHasOpenAisShape() throws Exception {
        ChatResponse r = new ChatResponse("thought", "",
                List.of(ToolCall.of("get_weather", Http.json("{\"city\": \"Paris\"}")),
                        ToolCall.withRawArguments("get_time", "{\"tz\": \"CET\"}")),
                List.of(), new Usage(30, 5, 17), FinishReason.STOP, false);
        JsonNode json = OpenAiResponses.chatCompletion("chatcmpl-1", 100, "m", r, List.of("call_a", "call_b"));
        JsonNode choice = json.get("choices").get(0);
        assertEquals("tool_calls", choice.get("finish_reason").asText());
        JsonNode message = choice.get("message");
        assertTrue(message.get("content").isNull(), "a turn that only calls tools has null content");
        assertEquals("thought", message.get("reasoning_content").asText());
        JsonNode first = message.get("tool_calls").get(0);
        assertEquals("call_a", first.get("id").asText());
        assertEquals("function", first.get("type").asText());
        assertEquals("get_weather", first.get("function").get("name").asText());
        assertTrue(first.get("function").get("arguments").isTextual(), "arguments are a JSON string");
        assertEquals(Http.json("{\"city\": \"Paris\"}"), Http.json(first.get("function").get("arguments").asText()));
        assertEquals("{\"tz\": \"CET\"}", message.get("tool_calls").get(1).get("function").get("arguments").asText());
        assertEquals(Http.json("{\"prompt_tokens\": 30, \"completion_tokens\": 17, \"total_tokens\": 47,"
                + " \"completion_tokens_details\": {\"reasoning_tokens\": 5}}"), json.get("usage"));
    }

    @Test
    void finishReasonsMapToOpenAisWords() {
        assertEquals("length", OpenAiResponses.finishReason(
                new ChatResponse("", "x", List.of(ToolCall.of("f", null)), List.of(), new Usage(1, 0, 1),
                        FinishReason.LENGTH, false)));
        assertEquals("length", OpenAiResponses.completionFinishReason(FinishReason.CONTEXT_FULL));
        assertEquals("stop", OpenAiResponses.completionFinishReason(FinishReason.STOP_STRING));
    }

    @Test
    void aStreamedToolCallDeltaCarriesItsIndex() throws Exception {
        JsonNode delta = OpenAiResponses.toolCallDelta(2, ToolCall.withRawArguments("f", "{}"), "call_x");
        assertEquals(Http.json("{\"tool_calls\": [{\"index\": 2, \"id\": \"call_x\", \"type\": \"function\","
                + " \"function\": {\"name\": \"f\", \"arguments\": \"{}\"}}]}"), delta);
    }

    @Test
    void messagesOfEveryRoleMapToTheEnginesMessages() throws Exception {
        ChatRequest r = chat("{\"messages\": ["
                + "{\"role\": \"developer\", \"content\": \"be brief\"},"
                + "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"a\"}, {\"type\": \"text\", \"text\": \"b\"}]},"
                + "{\"role\": \"assistant\", \"content\": null, \"reasoning_content\": \"hmm\", \"tool_calls\": [{\"id\": \"c1\","
                + "  \"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": \"{\\\"x\\\": 1}\"}}]},"
                + "{\"role\": \"tool\", \"tool_call_id\": \"c1\", \"content\": \"42\"}],"
                + " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"object\"}}}]}")
                .request();
        assertEquals(List.of(
                ChatMessage.system("be brief"),
                ChatMessage.user("ab"),
                ChatMessage.assistant(null, "hmm", List.of(ToolCall.withRawArguments("f", "{\"x\": 1}"))),
                ChatMessage.tool("42")), r.messages());
        assertEquals(1, r.tools().size());
        assertEquals(Http.json("{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\":"
                + " {\"type\": \"object\"}}}"), r.tools().get(0).json());
    }

    @Test
    void toolChoiceNoneWithholdsTheTools() throws Exception {
        ChatRequest r = chat("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tool_choice\": \"none\","
                + " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]}").request();
        assertTrue(r.tools().isEmpty());
        ApiException named = assertThrows(ApiException.class, () -> chat("{\"messages\": [{\"role\": \"user\","
                + " \"content\": \"x\"}], \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"f\"}}}"));
        assertEquals("tool_choice", named.param);
    }

    @Test
    void samplingFieldsOverrideTheModesDefaults() throws Exception {
        ChatRequest none = chat("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}").request();
        assertNull(none.sampling(), "no field set: the engine picks Qwen's defaults");
        assertEquals(ChatRequest.DEFAULT_MAX_TOKENS, none.maxTokens());
        assertEquals(Thinking.MODEL_DEFAULT, none.thinking());

        OpenAiRequests.Chat c = chat("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": 0,"
                + " \"top_k\": -1, \"repetition_penalty\": 1.1, \"chat_template_kwargs\": {\"enable_thinking\": false},"
                + " \"max_tokens\": 9, \"max_completion_tokens\": 7, \"stop\": \"END\", \"seed\": 3,"
                + " \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
        ChatRequest r = c.request();
        assertEquals(new SamplingParams(0, 0, 0.8, 0, 0, 0, 1.1), r.sampling(), "non-thinking base, -1 = no top-k");
        assertEquals(Thinking.OFF, r.thinking());
        assertEquals(7, r.maxTokens(), "max_completion_tokens wins over the older max_tokens");
        assertEquals(List.of("END"), r.stop());
        assertEquals(3L, r.seed());
        assertTrue(c.stream() && c.includeUsage());

        ChatRequest thinking = chat("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_p\": 0.5,"
                + " \"chat_template_kwargs\": {\"enable_thinking\": true, \"thinking_budget\": 64}}").request();
        assertEquals(new SamplingParams(0.6, 20, 0.5, 0, 0, 0, 1), thinking.sampling());
        assertEquals(Thinking.ON, thinking.thinking());
        assertEquals(64, thinking.thinkingBudget());
    }

    @Test
    void unknownTemplateArgumentsAreRejectedNotIgnored() {
        ApiException e = assertThrows(ApiException.class, () -> chat("{\"messages\": [{\"role\": \"user\","
                + " \"content\": \"x\"}], \"chat_template_kwargs\": {\"add_vision_id\": true}}"));
        assertEquals("chat_template_kwargs.add_vision_id", e.param);
    }

    @Test
    void completionsDefaultToSixteenTokens() throws Exception {
        OpenAiRequests.Completion c = OpenAiRequests.completion(Http.json("{\"prompt\": [\"hi\"]}"), "m");
        assertEquals("hi", c.request().prompt());
        assertEquals(16, c.request().maxTokens());
        assertNull(c.request().sampling());
    }
}
