package dev.moe4j.generate.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.ToolSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the templates do beyond the fixture lines (spec §5.5, §5.7). Each expected string was written by hand from
 * the template text and checked against Jinja2 3.1.6 run the way Hugging Face runs it.
 */
class ChatTemplateBehaviourTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ChatTemplate QWEN3 = ChatTemplates.byName("qwen3");
    private static final ChatTemplate THINKING = ChatTemplates.byName("qwen3-thinking-2507");
    private static final ChatTemplate INSTRUCT = ChatTemplates.byName("qwen3-instruct-2507");

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static final ToolSpec WEATHER = ToolSpec.function("get_weather", "Get weather",
            json("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}"));

    private static final String TOOLS_SYSTEM = "<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
            + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get weather\", \"parameters\": "
            + "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}\n</tools>\n\n"
            + "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
            + "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n";

    @Test
    void multiStepToolUseKeepsOnlyTheCurrentAnswersReasoning() {
        List<ChatMessage> messages = List.of(
                ChatMessage.system("S"),
                ChatMessage.user("Q1"),
                ChatMessage.assistant("<think>\nold\n</think>\n\nA1"),
                ChatMessage.user("Weather?"),
                ChatMessage.assistant("", "Need tool.", List.of(ToolCall.of("get_weather", json("{\"city\": \"Paris\"}")))),
                ChatMessage.tool("{\"temp\": 21}"),
                ChatMessage.tool("sunny"),
                ChatMessage.assistant("<think>\nGot it.\n</think>\n\nIt is 21 degrees."));
        String expected = "<|im_start|>system\nS<|im_end|>\n"
                + "<|im_start|>user\nQ1<|im_end|>\n"
                + "<|im_start|>assistant\nA1<|im_end|>\n"
                + "<|im_start|>user\nWeather?<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\nNeed tool.\n</think>\n\n"
                + "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response>\n<tool_response>\nsunny\n</tool_response><|im_end|>\n"
                + "<|im_start|>assistant\n<think>\nGot it.\n</think>\n\nIt is 21 degrees.<|im_end|>\n";
        assertEquals(expected, QWEN3.render(messages, null, null, false));
        assertEquals(expected, ChatTemplates.byName("qwen3-original").render(messages, List.of(), null, false));
    }

    @Test
    void toolResultsWrappedInAUserMessageAreNotAQuery() {
        List<ChatMessage> messages = List.of(
                ChatMessage.user("Q"),
                ChatMessage.assistant("", "r1", List.of(ToolCall.of("f", json("{}")))),
                ChatMessage.user("<tool_response>\nx\n</tool_response>"),
                ChatMessage.assistant("<think>r2</think>done"));
        assertEquals("<|im_start|>user\nQ<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\nr1\n</think>\n\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\n<tool_response>\nx\n</tool_response><|im_end|>\n"
                + "<|im_start|>assistant\n<think>\nr2\n</think>\n\ndone<|im_end|>\n"
                + "<|im_start|>assistant\n", QWEN3.render(messages, null, null, true));
    }

    @Test
    void rawStringArgumentsGoInAsIsAndObjectsThroughTojson() {
        JsonNode args = json("{\"q\": \"é\\\"/\\n\", \"n\": 1.0, \"list\": [1, 2.5e-7, true, null]}");
        List<ChatMessage> messages = List.of(
                ChatMessage.user("U"),
                ChatMessage.assistant("Let me check.", List.of(ToolCall.withRawArguments("a", "{\"x\":1}"), ToolCall.of("b", args))));
        assertEquals("<|im_start|>user\nU<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\n\n</think>\n\nLet me check.\n"
                + "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\":1}}\n</tool_call>\n"
                + "<tool_call>\n{\"name\": \"b\", \"arguments\": {\"q\": \"é\\\"/\\n\", \"n\": 1.0, \"list\": [1, 2.5e-07, true, null]}}\n</tool_call>"
                + "<|im_end|>\n", QWEN3.render(messages, null, null, false));
    }

    @Test
    void reasoningContentWinsOverThinkTagsAndLosesItsOuterNewlines() {
        List<ChatMessage> messages = List.of(ChatMessage.user("Q"), ChatMessage.assistant("<think>x</think>A", "\n\nR\n\n"));
        assertEquals("<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nR\n</think>\n\n<think>x</think>A<|im_end|>\n",
                QWEN3.render(messages, null, null, false));
    }

    @Test
    void softSwitchesPassThroughAndOnlyFalsePrefillsTheEmptyThinkBlock() {
        List<ChatMessage> messages = List.of(ChatMessage.system("Be brief. /no_think"), ChatMessage.user("Explain MoE /think"));
        String prompt = "<|im_start|>system\nBe brief. /no_think<|im_end|>\n<|im_start|>user\nExplain MoE /think<|im_end|>\n<|im_start|>assistant\n";
        assertEquals(prompt, QWEN3.render(messages, null, null, true));
        assertEquals(prompt, QWEN3.render(messages, null, true, true));
        assertEquals(prompt + "<think>\n\n</think>\n\n", QWEN3.render(messages, null, false, true));
        assertEquals(prompt.substring(0, prompt.length() - "<|im_start|>assistant\n".length()), QWEN3.render(messages, null, false, false));
    }

    @Test
    void laterSystemMessagesAndLeadingToolResultsGetTheirOwnTurns() {
        assertEquals("<|im_start|>user\nU<|im_end|>\n<|im_start|>system\nS2<|im_end|>\n<|im_start|>assistant\n",
                QWEN3.render(List.of(ChatMessage.user("U"), ChatMessage.system("S2")), null, null, true));
        assertEquals("<|im_start|>user\n<tool_response>\nr\n</tool_response><|im_end|>\n<|im_start|>assistant\n",
                QWEN3.render(List.of(ChatMessage.tool("r")), null, null, true));
    }

    @Test
    void anAssistantTurnWithoutContentRendersAsEmpty() {
        ChatMessage calls = new ChatMessage(ChatMessage.Role.ASSISTANT, null, null, List.of(ToolCall.of("f", json("{\"a\": 1}"))));
        assertEquals("<|im_start|>user\nU<|im_end|>\n"
                        + "<|im_start|>assistant\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n</tool_call><|im_end|>\n"
                        + "<|im_start|>user\nV<|im_end|>\n<|im_start|>assistant\n",
                QWEN3.render(List.of(ChatMessage.user("U"), calls, ChatMessage.user("V")), null, null, true));
    }

    @Test
    void thinking2507PrefillsThinkAndIgnoresTheSwitch() {
        List<ChatMessage> messages = List.of(ChatMessage.user("Q"), ChatMessage.assistant("A", "R"));
        String history = "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nR\n</think>\n\nA<|im_end|>\n";
        assertEquals(history, THINKING.render(messages, null, null, false));
        assertEquals(history + "<|im_start|>assistant\n<think>\n", THINKING.render(messages, null, false, true));
    }

    @Test
    void instruct2507WritesAssistantTurnsAsGivenAndNeverOpensAThinkBlock() {
        List<ChatMessage> messages = List.of(
                ChatMessage.system("S"),
                ChatMessage.user("Q1 /no_think"),
                ChatMessage.assistant("A1", "ignored reasoning"),
                ChatMessage.user("Q2"));
        String expected = "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ1 /no_think<|im_end|>\n"
                + "<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n";
        assertEquals(expected, INSTRUCT.render(messages, null, null, true));
        assertEquals(expected, INSTRUCT.render(messages, null, false, true));
        // the last assistant turn gets no empty think block either (the hybrid templates add one)
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n",
                INSTRUCT.render(List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Hello")), null, null, false));
    }

    @Test
    void instruct2507ListsToolsAndGroupsToolResults() {
        List<ChatMessage> messages = List.of(
                ChatMessage.user("Weather in Paris and Rome?"),
                ChatMessage.assistant("", List.of(
                        ToolCall.of("get_weather", json("{\"city\": \"Paris\"}")),
                        ToolCall.withRawArguments("get_weather", "{\"city\": \"Rome\"}"))),
                ChatMessage.tool("{\"temp\": 21}"),
                ChatMessage.tool("{\"temp\": 25}"));
        assertEquals(TOOLS_SYSTEM
                + "<|im_start|>user\nWeather in Paris and Rome?<|im_end|>\n"
                + "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n"
                + "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response>\n<tool_response>\n{\"temp\": 25}\n</tool_response><|im_end|>\n"
                + "<|im_start|>assistant\n", INSTRUCT.render(messages, List.of(WEATHER), null, true));
    }

    @Test
    void anEmptyConversationIsRejected() {
        for (String name : ChatTemplates.names()) {
            assertThrows(IllegalArgumentException.class, () -> ChatTemplates.byName(name).render(List.of(), null, null, true));
        }
    }

    @Test
    void messagesRejectMisplacedFields() {
        assertThrows(IllegalArgumentException.class, () -> new ChatMessage(ChatMessage.Role.USER, "u", "r", List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> new ChatMessage(ChatMessage.Role.TOOL, "t", null, List.of(ToolCall.of("f", json("{}")))));
        assertThrows(IllegalArgumentException.class, () -> ToolSpec.of(json("[1]")));
    }
}
