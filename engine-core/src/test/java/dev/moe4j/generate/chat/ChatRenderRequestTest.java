package dev.moe4j.generate.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.ChatMessage;
import org.junit.jupiter.api.Test;

/** Reading the request JSON of {@code moe4j render} and the chat fixtures. */
class ChatRenderRequestTest {

    @Test
    void readsEveryField() {
        RenderRequest r = RenderRequest.parse("""
                {"messages": [{"role": "user", "content": "Q"},
                              {"role": "assistant", "content": null, "reasoning_content": "R",
                               "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{\\"a\\": 1}"}},
                                              {"name": "g", "arguments": {"b": 2}}]}],
                 "tools": [{"type": "function", "function": {"name": "f"}}],
                 "enable_thinking": false, "add_generation_prompt": false, "expected": "ignored"}""");
        assertEquals(2, r.messages().size());
        ChatMessage assistant = r.messages().get(1);
        assertNull(assistant.content());
        assertEquals("R", assistant.reasoningContent());
        assertTrue(assistant.toolCalls().get(0).hasRawArguments());
        assertEquals("{\"a\": 1}", assistant.toolCalls().get(0).arguments().textValue());
        assertEquals(2, assistant.toolCalls().get(1).arguments().get("b").asInt());
        assertEquals(1, r.tools().size());
        assertEquals(Boolean.FALSE, r.enableThinking());
        assertEquals(false, r.addGenerationPrompt());
    }

    @Test
    void defaultsMatchTheFixtureFormat() {
        RenderRequest r = RenderRequest.parse("{\"messages\": [{\"role\": \"user\", \"content\": \"Q\"}]}");
        assertNull(r.enableThinking());
        assertTrue(r.addGenerationPrompt());
        assertTrue(r.tools().isEmpty());
    }

    @Test
    void malformedRequestsSayWhatIsWrong() {
        assertMessage("not valid JSON", "{\"messages\": [");
        assertMessage("non-empty \"messages\"", "{\"messages\": []}");
        assertMessage("unknown message role 'bot'", "{\"messages\": [{\"role\": \"bot\", \"content\": \"x\"}]}");
        assertMessage("messages[0].content must be a string", "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\"}]}]}");
        assertMessage("tool_calls[0] needs", "{\"messages\": [{\"role\": \"assistant\", \"tool_calls\": [{\"function\": {\"name\": \"f\"}}]}]}");
        assertMessage("enable_thinking", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"enable_thinking\": \"no\"}");
    }

    private static void assertMessage(String fragment, String json) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RenderRequest.parse(json));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
