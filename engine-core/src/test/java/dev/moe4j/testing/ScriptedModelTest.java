package dev.moe4j.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.Engine;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolSpec;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTokenizer;
import dev.moe4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scripted model says its script through the real engine: greedy, sampled, as a tool call and as thinking. */
class ScriptedModelTest {

    static final Path VOCABULARY = Path.of("../models/qwen3-moe-tiny.q8_0.gguf");
    static final String TOOL_CALL = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
            + "</tool_call><|im_end|>";

    @TempDir
    Path dir;

    @Test
    void greedyContinuationIsTheScriptTokenForToken() throws Exception {
        Path model = dir.resolve("m.gguf");
        String say = "The quick brown fox jumps over the lazy dog, and the dog sleeps on.<|im_end|>";
        ScriptedModel.write(VOCABULARY, model, List.of(new ScriptedModel.Script("<|im_start|>assistant\n", say)));
        Tokenizer tokenizer;
        try (GgufFile f = GgufFile.open(VOCABULARY)) {
            tokenizer = GgufTokenizer.fromMetadata(f);
        }
        int[] expected = tokenizer.encode(say, true);
        try (Engine engine = Engine.load(model)) {
            for (String user : List.of("hi", "What is the weather like in a city far away from here?")) {
                ChatResponse r = engine.chat(ChatRequest.builder().user(user).thinking(Thinking.ON).greedy()
                        .maxTokens(200).build());
                assertEquals("The quick brown fox jumps over the lazy dog, and the dog sleeps on.", r.content());
                assertEquals(FinishReason.STOP, r.finishReason());
                assertEquals(expected.length, r.usage().completionTokens());
            }
            // sampling at temperature 1 keeps to the script: its token's probability is 1 to float precision
            for (long seed = 1; seed <= 3; seed++) {
                ChatResponse r = engine.chat(ChatRequest.builder().user("hi").thinking(Thinking.ON)
                        .sampling(new SamplingParams(1.0, 0, 1.0, 0, 0, 0, 1))
                        .seed(seed).maxTokens(200).build());
                assertEquals("The quick brown fox jumps over the lazy dog, and the dog sleeps on.", r.content());
            }
        }
        assertArrayEquals(expected, tokenizer.encode(tokenizer.decode(expected), true));
    }

    @Test
    void toolCallAndThinkingComeOutParsed() throws Exception {
        Path model = dir.resolve("tools.gguf");
        ScriptedModel.write(VOCABULARY, model, List.of(
                new ScriptedModel.Script("<|im_start|>assistant\n",
                        "<think>\nThe user wants the weather; call the tool.\n</think>\n\n" + TOOL_CALL)));
        ObjectMapper json = new ObjectMapper();
        ToolSpec weather = ToolSpec.function("get_weather", "Current weather in a city",
                json.readTree("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
                        + "\"required\":[\"city\"]}"));
        try (Engine engine = Engine.load(model)) {
            ChatResponse r = engine.chat(ChatRequest.builder().user("Weather in Paris?").tool(weather)
                    .thinking(Thinking.ON).greedy().maxTokens(200).build());
            assertEquals("The user wants the weather; call the tool.", r.reasoning().strip());
            assertEquals(FinishReason.STOP, r.finishReason());
            assertEquals("", r.content().strip());
            assertEquals(1, r.toolCalls().size());
            assertEquals("get_weather", r.toolCalls().get(0).name());
            assertEquals(json.readTree("{\"city\":\"Paris\"}"), r.toolCalls().get(0).arguments());
        }
    }

    @Test
    void contradictoryScriptsAreRefused() {
        Path model = dir.resolve("bad.gguf");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScriptedModel.write(
                VOCABULARY, model, List.of(new ScriptedModel.Script("<|im_start|>assistant\n", "yes<|im_end|>"),
                        new ScriptedModel.Script("<|im_start|>assistant\n", "no<|im_end|>"))));
        assertEquals(true, e.getMessage().contains("different next tokens"), e.getMessage());
    }
}
