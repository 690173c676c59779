package dev.moe4j.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.Engine;
import dev.moe4j.api.EngineStoppedException;
import dev.moe4j.api.ToolCall;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.tool.definition.ToolDefinition;

/**
 * Tool schemas and arguments nested far deeper than any real one end in a named exception, not a stack overflow;
 * closing a chat model twice is quiet.
 */
class HardeningTest {

    @Test
    void aSchemaNested5000LevelsIsRefusedByName() {
        String schema = "{\"type\": \"object\", \"properties\": {\"a\": ".repeat(2500) + "{}" + "}}".repeat(2500);
        ToolDefinition tool = ToolDefinition.builder().name("f").description("d").inputSchema(schema).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptConversion.toolSpec(tool));
        assertTrue(e.getMessage().contains("tool 'f'") && e.getMessage().contains("nesting depth"), e.getMessage());
    }

    @Test
    void argumentsNested5000LevelsStayRawText() {
        String arguments = "{\"a\": ".repeat(5000) + "1" + "}".repeat(5000);
        ToolCall call = PromptConversion.toolCall("f", arguments);
        // beyond Jackson's read limit they are not parsed: the template inserts them as given
        assertTrue(call.hasRawArguments());
        assertEquals(arguments, call.arguments().textValue());
    }

    @Test
    void closingTwiceIsQuiet() {
        Moe4jChatModel model = Moe4jChatModel.builder().modelPath(Moe4jChatModelTest.MODEL)
                .options(Engine.Options.defaults().withContextLength(64)).build();
        model.close();
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            model.close();
        } finally {
            System.setErr(original);
        }
        assertEquals("", captured.toString(StandardCharsets.UTF_8));
        assertThrows(EngineStoppedException.class, () -> model.call(new Prompt("Hi")));
    }
}
