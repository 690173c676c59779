package dev.moe4j.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.Engine;
import dev.moe4j.api.EngineStoppedException;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.ToolSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.content.Media;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.definition.ToolDefinition;
import org.springframework.util.MimeTypeUtils;

/**
 * The chat model on the bundled tiny model (random weights): each answer must equal what the engine gives for the
 * equivalent moe4j request with the same seed.
 */
class Moe4jChatModelTest {
    static final Path MODEL = Path.of("..", "models", "qwen3-moe-tiny.q8_0.gguf");
    static final ObjectMapper JSON = new ObjectMapper();
    /** A template whose prompt opens the think block, so that even random weights reason. */
    static final String THINKING_TEMPLATE = "qwen3-thinking-2507";
    static final SamplingParams SAMPLING = SamplingParams.NON_THINKING.withTemperature(1.0).withTopP(0.9).withTopK(40);
    static Engine engine;
    static Moe4jChatModel model;

    @BeforeAll
    static void load() {
        assertTrue(Files.exists(MODEL), "the bundled model is missing: " + MODEL.toAbsolutePath());
        engine = Engine.load(MODEL, Engine.Options.defaults().withContextLength(1024));
        model = new Moe4jChatModel(engine);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static Prompt prompt(int maxTokens, Moe4jChatOptions options) {
        options.setTemperature(1.0);
        options.setTopP(0.9);
        options.setTopK(40);
        options.setMaxTokens(maxTokens);
        return new Prompt(List.of(new SystemMessage("You are terse."), new UserMessage("Tell me about licences.")), options);
    }

    private static dev.moe4j.api.ChatRequest.Builder moe4jRequest(int maxTokens) {
        return dev.moe4j.api.ChatRequest.builder().system("You are terse.").user("Tell me about licences.")
                .sampling(SAMPLING).maxTokens(maxTokens).seed(7);
    }

    @Test
    void answerEqualsTheEngines() {
        ChatResponse r = model.call(prompt(24, new Moe4jChatOptions().thinking(Thinking.OFF).seed(7)));
        dev.moe4j.api.ChatResponse expected = engine.chat(moe4jRequest(24).thinking(Thinking.OFF).build());

        assertFalse(expected.content().isEmpty(), "precondition: the engine answers something");
        assertEquals(expected.content(), r.getResult().getOutput().getText());
        assertEquals(expected.usage().promptTokens(), r.getMetadata().getUsage().getPromptTokens());
        assertEquals(expected.usage().completionTokens(), r.getMetadata().getUsage().getCompletionTokens());
        assertEquals(dev.moe4j.api.FinishReason.LENGTH, expected.finishReason(), "precondition: cut at maxTokens");
        assertEquals("LENGTH", r.getResult().getMetadata().getFinishReason());
    }

    @Test
    void chatClientCallsAndStreamsThroughTheModel() {
        ChatClient client = ChatClient.create(model);
        Moe4jChatOptions options = new Moe4jChatOptions().thinking(Thinking.OFF).seed(7);
        options.setTemperature(1.0);
        options.setTopP(0.9);
        options.setTopK(40);
        options.setMaxTokens(24);
        dev.moe4j.api.ChatResponse expected = engine.chat(moe4jRequest(24).thinking(Thinking.OFF).build());

        assertEquals(expected.content(), client.prompt().system("You are terse.").user("Tell me about licences.")
                .options(options).call().content());
        assertEquals(expected.content(), String.join("", client.prompt().system("You are terse.")
                .user("Tell me about licences.").options(options).stream().content().collectList().block()));
    }

    @Test
    void reasoningIsTheMessagesReasoningContent() {
        ChatResponse r = model.call(prompt(16, new Moe4jChatOptions().thinking(Thinking.ON).seed(9)
                .chatTemplate(THINKING_TEMPLATE)));
        dev.moe4j.api.ChatResponse expected = engine.chat(moe4jRequest(16).thinking(Thinking.ON).seed(9)
                .sampling(SamplingParams.THINKING.withTemperature(1.0).withTopP(0.9).withTopK(40))
                .chatTemplate(THINKING_TEMPLATE).build());
        assertFalse(expected.reasoning().isEmpty(), "precondition: the engine reasons");
        assertEquals(expected.reasoning(), r.getResult().getOutput().getMetadata().get("reasoningContent"));
        assertEquals(expected.content(), r.getResult().getOutput().getText());
    }

    @Test
    void streamedChunksMakeTheEnginesAnswer() {
        List<ChatResponse> chunks = model.stream(prompt(24, new Moe4jChatOptions().thinking(Thinking.OFF).seed(7)))
                .collectList().block();
        dev.moe4j.api.ChatResponse expected = engine.chat(moe4jRequest(24).thinking(Thinking.OFF).build());

        StringBuilder text = new StringBuilder();
        chunks.forEach(c -> text.append(c.getResult().getOutput().getText()));
        assertEquals(expected.content(), text.toString());
        assertTrue(chunks.size() > 2, "the answer arrives in pieces");
        ChatResponse last = chunks.getLast();
        assertEquals("LENGTH", last.getResult().getMetadata().getFinishReason());
        assertEquals(expected.usage().promptTokens(), last.getMetadata().getUsage().getPromptTokens());
        assertEquals(expected.usage().completionTokens(), last.getMetadata().getUsage().getCompletionTokens());
    }

    @Test
    void streamedReasoningMakesTheEnginesReasoning() {
        List<ChatResponse> chunks = model.stream(prompt(16, new Moe4jChatOptions().thinking(Thinking.ON).seed(9)
                .chatTemplate(THINKING_TEMPLATE))).collectList().block();
        dev.moe4j.api.ChatResponse expected = engine.chat(moe4jRequest(16).thinking(Thinking.ON).seed(9)
                .sampling(SamplingParams.THINKING.withTemperature(1.0).withTopP(0.9).withTopK(40))
                .chatTemplate(THINKING_TEMPLATE).build());
        StringBuilder reasoning = new StringBuilder();
        chunks.forEach(c -> reasoning.append((String) c.getResult().getOutput().getMetadata().get("reasoningContent")));
        assertFalse(expected.reasoning().isEmpty(), "precondition: the engine reasons");
        assertEquals(expected.reasoning(), reasoning.toString());
    }

    /** A tool whose schema is written out; the random model is not expected to call it. */
    record Weather(ToolDefinition getToolDefinition) implements ToolCallback {
        @Override
        public String call(String arguments) {
            return "{\"temp\": 21}";
        }
    }

    @Test
    void toolsAndToolHistoryReachThePromptAsTheEnginesOwnRequest() throws Exception {
        String schema = "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}";
        ToolCallback tool = new Weather(ToolDefinition.builder().name("get_weather").description("Weather of a city")
                .inputSchema(schema).build());
        Moe4jChatOptions options = new Moe4jChatOptions().thinking(Thinking.OFF).seed(7);
        options.setToolCallbacks(List.of(tool));
        options.setInternalToolExecutionEnabled(false);
        options.setStopSequences(List.of("zq"));
        AssistantMessage call = AssistantMessage.builder().content("")
                .properties(Map.of("reasoningContent", "Need the weather."))
                .toolCalls(List.of(new AssistantMessage.ToolCall("c1", "function", "get_weather", "{\"city\": \"Paris\"}")))
                .build();
        ToolResponseMessage result = ToolResponseMessage.builder()
                .responses(List.of(new ToolResponseMessage.ToolResponse("c1", "get_weather", "{\"temp\": 21}"))).build();
        Prompt prompt = prompt(20, options);
        ChatResponse r = model.call(new Prompt(List.of(new UserMessage("Weather in Paris?"), call, result), prompt.getOptions()));

        dev.moe4j.api.ChatResponse expected = engine.chat(dev.moe4j.api.ChatRequest.builder()
                .user("Weather in Paris?")
                .message(ChatMessage.assistant("", "Need the weather.",
                        List.of(ToolCall.of("get_weather", JSON.readTree("{\"city\": \"Paris\"}")))))
                .message(ChatMessage.tool("{\"temp\": 21}"))
                .tool(ToolSpec.of(JSON.readTree("{\"type\": \"function\", \"function\": {\"name\": \"get_weather\","
                        + " \"description\": \"Weather of a city\", \"parameters\": " + schema + "}}")))
                .thinking(Thinking.OFF).sampling(SAMPLING).maxTokens(20).stop("zq").seed(7).build());
        int withoutTools = engine.chat(dev.moe4j.api.ChatRequest.builder().user("Weather in Paris?").maxTokens(1)
                .thinking(Thinking.OFF).build()).usage().promptTokens();

        assertEquals(expected.usage().promptTokens(), r.getMetadata().getUsage().getPromptTokens());
        assertTrue(r.getMetadata().getUsage().getPromptTokens() > withoutTools + 40, "the tool list and history are in the prompt");
        assertEquals(expected.content(), r.getResult().getOutput().getText());
    }

    @Test
    void mediaIsRefusedInCallAndStream() {
        Prompt withImage = new Prompt(UserMessage.builder().text("see")
                .media(Media.builder().mimeType(MimeTypeUtils.IMAGE_PNG).data(new byte[] {1}).build()).build());
        assertThrows(IllegalArgumentException.class, () -> model.call(withImage));
        assertThrows(IllegalArgumentException.class, () -> model.stream(withImage).blockLast());
    }

    @Test
    void cancellingTheSubscriptionFreesTheKvBlocks() throws Exception {
        AtomicBoolean heldBlocks = new AtomicBoolean();
        long tokensBefore = engine.tokensGenerated();
        List<ChatResponse> got = model.stream(prompt(900, new Moe4jChatOptions().thinking(Thinking.OFF).seed(7)))
                .doOnNext(c -> heldBlocks.set(engine.freeKvBlocks() < engine.kvBlocks()))
                .take(1).collectList().block();
        assertEquals(1, got.size());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        // blocks come back (cached prompt blocks count as free) before the request stops counting as running
        while ((engine.freeKvBlocks() != engine.kvBlocks() || engine.runningRequests() != 0)
                && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(heldBlocks.get(), "precondition: the stream held KV blocks while it ran");
        assertEquals(engine.kvBlocks(), engine.freeKvBlocks(), "the cancelled request gave its KV blocks back");
        assertEquals(0, engine.runningRequests());
        long generated = engine.tokensGenerated() - tokensBefore;
        assertTrue(generated < 100, "generation stopped soon after the cancel, not at maxTokens: " + generated + " tokens");
    }

    @Test
    void anEngineLoadedByTheModelIsClosedWithItAndOnePassedInIsNot() {
        Moe4jChatModel owning = Moe4jChatModel.builder().modelPath(MODEL)
                .options(Engine.Options.defaults().withContextLength(64).withKvCacheBlocks(8)).build();
        assertEquals("qwen3-moe-tiny.q8_0.gguf", owning.call(new Prompt("Hi", new Moe4jChatOptions().maxTokens(2)))
                .getMetadata().getModel());
        owning.close();
        assertThrows(EngineStoppedException.class, () -> owning.engine().chat(dev.moe4j.api.ChatRequest.of("Hi")));

        new Moe4jChatModel(engine).close();
        assertEquals(1, engine.chat(dev.moe4j.api.ChatRequest.builder().user("Hi").maxTokens(1).build())
                .usage().completionTokens(), "an engine passed in stays open");
    }
}
