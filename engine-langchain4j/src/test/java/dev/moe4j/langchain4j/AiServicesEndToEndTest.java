package dev.moe4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.TokenStream;
import dev.langchain4j.service.tool.ToolExecution;
import dev.moe4j.api.Engine;
import dev.moe4j.server.Moe4jServer;
import dev.moe4j.server.ServerOptions;
import dev.moe4j.testing.ScriptedModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LangChain4j as applications use it, over a scripted model (a real forward pass whose output is chosen): the
 * in-process models and LangChain4j's own OpenAI client against the moe4j server, through {@link AiServices} with a
 * {@link Tool} that LangChain4j executes between the scripted tool call and the scripted final answer.
 */
class AiServicesEndToEndTest {
    static final Path VOCABULARY = Path.of("..", "models", "qwen3-moe-tiny.q8_0.gguf");
    static final String PLAIN = "The sky is blue.";
    static final String FINAL = "It is 21 degrees and sunny in Paris.";

    @TempDir
    static Path dir;
    static Engine engine;
    static Moe4jServer server;

    /** The service an application declares; AiServices implements it. */
    interface Assistant {
        String chat(String message);
    }

    interface StreamingAssistant {
        TokenStream chat(String message);
    }

    /** The tool LangChain4j calls when the model asks for it; records each call's argument. */
    static final class WeatherTools {
        final List<String> cities = new CopyOnWriteArrayList<>();

        @Tool("Current weather in a city")
        String getWeather(@P(name = "city", value = "the city's name") String city) {
            cities.add(city);
            return "{\"temperature\": 21, \"sky\": \"sunny\"}";
        }
    }

    @BeforeAll
    static void start() throws Exception {
        Path model = dir.resolve("scripted.gguf");
        ScriptedModel.write(VOCABULARY, model, List.of(
                new ScriptedModel.Script("What colour is the sky?<|im_end|>\n<|im_start|>assistant\n",
                        PLAIN + "<|im_end|>"),
                new ScriptedModel.Script("Weather in Paris?<|im_end|>\n<|im_start|>assistant\n",
                        "<tool_call>\n{\"name\": \"getWeather\", \"arguments\": {\"city\": \"Paris\"}}\n"
                                + "</tool_call><|im_end|>"),
                new ScriptedModel.Script("</tool_response><|im_end|>\n<|im_start|>assistant\n",
                        FINAL + "<|im_end|>")));
        engine = Engine.load(model, Engine.Options.defaults().withContextLength(1024).withMaxSequences(2));
        server = Moe4jServer.start(engine, ServerOptions.defaults("scripted").withPort(0));
    }

    @AfterAll
    static void stop() {
        server.close();
        engine.close();
    }

    static OpenAiChatModel openAi() {
        return OpenAiChatModel.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused")
                .modelName("scripted").maxRetries(0).timeout(Duration.ofSeconds(30)).build();
    }

    @Test
    void openAiChatModelAgainstTheServerGivesTheScriptedAnswer() {
        assertEquals(PLAIN, openAi().chat("What colour is the sky?").strip());
    }

    @Test
    void openAiChatModelAgainstTheServerRunsATool() {
        assertToolRoundTrip(openAi());
    }

    @Test
    void inProcessModelRunsATool() {
        assertToolRoundTrip(Moe4jChatModel.builder().engine(engine).build());
    }

    private static void assertToolRoundTrip(ChatModel model) {
        WeatherTools tools = new WeatherTools();
        Assistant assistant = AiServices.builder(Assistant.class).chatModel(model).tools(tools).build();
        assertEquals(FINAL, assistant.chat("Weather in Paris?").strip());
        assertEquals(List.of("Paris"), tools.cities, "LangChain4j executed the scripted call once");
    }

    @Test
    void inProcessStreamingModelRunsAToolThroughATokenStream() throws Exception {
        assertStreamedToolRoundTrip(Moe4jStreamingChatModel.builder().engine(engine).build());
    }

    @Test
    void openAiStreamingChatModelAgainstTheServerRunsAToolThroughATokenStream() throws Exception {
        assertStreamedToolRoundTrip(OpenAiStreamingChatModel.builder()
                .baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused").modelName("scripted")
                .timeout(Duration.ofSeconds(30)).build());
    }

    private static void assertStreamedToolRoundTrip(StreamingChatModel model) throws Exception {
        WeatherTools tools = new WeatherTools();
        StreamingAssistant assistant = AiServices.builder(StreamingAssistant.class).streamingChatModel(model)
                .tools(tools).build();
        StringBuilder partials = new StringBuilder();
        List<ToolExecution> executions = new CopyOnWriteArrayList<>();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        assistant.chat("Weather in Paris?")
                .onPartialResponse(partials::append)
                .onToolExecuted(executions::add)
                .onCompleteResponse(done::complete)
                .onError(done::completeExceptionally)
                .start();
        ChatResponse response = done.get(30, TimeUnit.SECONDS);
        assertEquals(FINAL, response.aiMessage().text().strip());
        assertEquals(FINAL, partials.toString().strip(), "the final answer came as partial responses");
        assertEquals(List.of("Paris"), tools.cities);
        assertEquals(1, executions.size());
        assertEquals("getWeather", executions.get(0).request().name());
        assertTrue(executions.get(0).result().contains("sunny"), executions.get(0).result());
    }
}
