package dev.moe4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchemaElement;
import dev.moe4j.api.Engine;
import dev.moe4j.api.EngineStoppedException;
import dev.moe4j.api.InvalidRequestException;
import dev.moe4j.api.ToolCall;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Tool schemas and arguments nested far deeper than any real one end in a named exception, not a stack overflow;
 * closing a chat model twice is quiet.
 */
class HardeningTest {

    private static JsonObjectSchema nested(int depth) {
        JsonSchemaElement inner = JsonObjectSchema.builder().build();
        for (int i = 0; i < depth; i++) {
            inner = JsonObjectSchema.builder().addProperty("a", inner).build();
        }
        return (JsonObjectSchema) inner;
    }

    @Test
    void aSchemaNested5000LevelsIsRefusedByName() {
        ToolSpecification spec = ToolSpecification.builder().name("f").parameters(nested(5000)).build();
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> RequestConversion.toolSpec(spec));
        assertTrue(e.getMessage().contains("tool 'f'") && e.getMessage().contains("nested deeper"), e.getMessage());
    }

    @Test
    void aDeepButReasonableSchemaConverts() {
        ToolSpecification spec = ToolSpecification.builder().name("f").parameters(nested(100)).build();
        assertEquals("f", RequestConversion.toolSpec(spec).json().path("function").path("name").asText());
    }

    @Test
    void argumentsNested5000LevelsStayRawText() {
        String arguments = "{\"a\": ".repeat(5000) + "1" + "}".repeat(5000);
        ToolCall call = RequestConversion.toolCall(ToolExecutionRequest.builder().name("f").arguments(arguments).build());
        // beyond Jackson's read limit they are not parsed: the template inserts them as given
        assertTrue(call.hasRawArguments());
        assertEquals(arguments, call.arguments().textValue());
    }

    @Test
    void closingTwiceIsQuiet() {
        Moe4jChatModel chat = Moe4jChatModel.builder().modelPath(Moe4jChatModelTest.MODEL)
                .options(Engine.Options.defaults().withContextLength(64)).build();
        Moe4jStreamingChatModel streaming = Moe4jStreamingChatModel.builder().modelPath(Moe4jChatModelTest.MODEL)
                .options(Engine.Options.defaults().withContextLength(64)).build();
        chat.close();
        streaming.close();
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            chat.close();
            streaming.close();
        } finally {
            System.setErr(original);
        }
        assertEquals("", captured.toString(StandardCharsets.UTF_8));
        assertThrows(EngineStoppedException.class, () -> chat.chat("Hi"));
    }
}
