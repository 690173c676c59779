package dev.moe4j.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.moe4j.api.Engine;
import dev.moe4j.testing.ScriptedModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.tool.annotation.Tool;
import org.springframework.ai.tool.annotation.ToolParam;
import org.springframework.ai.tool.function.FunctionToolCallback;

/**
 * Spring AI as applications use it: a {@link ChatClient} over the in-process model with a tool, on a scripted model
 * (a real forward pass whose output is chosen) that calls the tool and then answers from its result. Spring AI, not
 * the test, executes the tool between the two turns.
 */
class ChatClientToolEndToEndTest {
    static final Path VOCABULARY = Path.of("..", "models", "qwen3-moe-tiny.q8_0.gguf");
    static final String FINAL = "It is 21 degrees and sunny in Paris.";

    @TempDir
    static Path dir;
    static Engine engine;
    static ChatClient client;

    /** An application's tool; records each call's argument. */
    static final class WeatherTools {
        final List<String> cities = new CopyOnWriteArrayList<>();

        @Tool(name = "get_weather", description = "Current weather in a city")
        String getWeather(@ToolParam(description = "the city's name") String city) {
            cities.add(city);
            return "{\"temperature\": 21, \"sky\": \"sunny\"}";
        }
    }

    record WeatherRequest(String city) {}

    @BeforeAll
    static void start() throws Exception {
        Path model = dir.resolve("scripted.gguf");
        ScriptedModel.write(VOCABULARY, model, List.of(
                new ScriptedModel.Script("Weather in Paris?<|im_end|>\n<|im_start|>assistant\n",
                        "<think>\nThe user asks for the weather; call the tool.\n</think>\n\n"
                                + "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
                                + "</tool_call><|im_end|>"),
                new ScriptedModel.Script("</tool_response><|im_end|>\n<|im_start|>assistant\n",
                        FINAL + "<|im_end|>")));
        engine = Engine.load(model, Engine.Options.defaults().withContextLength(1024).withMaxSequences(2));
        client = ChatClient.create(new Moe4jChatModel(engine));
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    @Test
    void annotatedToolIsExecutedAndTheScriptedAnswerReturned() {
        WeatherTools tools = new WeatherTools();
        String answer = client.prompt().user("Weather in Paris?").tools(tools).call().content();
        assertEquals(FINAL, answer.strip());
        assertEquals(List.of("Paris"), tools.cities, "Spring AI executed the scripted call once");
    }

    @Test
    void functionToolCallbackIsExecutedWhenStreaming() {
        List<String> cities = new CopyOnWriteArrayList<>();
        FunctionToolCallback<WeatherRequest, String> weather = FunctionToolCallback
                .<WeatherRequest, String>builder("get_weather", request -> {
                    cities.add(request.city());
                    return "{\"temperature\": 21, \"sky\": \"sunny\"}";
                })
                .description("Current weather in a city").inputType(WeatherRequest.class).build();
        List<String> pieces = client.prompt().user("Weather in Paris?").toolCallbacks(weather).stream().content()
                .collectList().block(Duration.ofSeconds(30));
        assertEquals(FINAL, String.join("", pieces).strip());
        assertEquals(List.of("Paris"), cities);
    }
}
