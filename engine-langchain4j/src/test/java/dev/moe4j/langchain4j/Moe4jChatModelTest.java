package dev.moe4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.listener.ChatModelRequestContext;
import dev.langchain4j.model.chat.listener.ChatModelResponseContext;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chat models on the bundled tiny model (random weights): each answer must equal what the engine gives for the
 * equivalent moe4j request with the same seed.
 */
class Moe4jChatModelTest {
    static final Path MODEL = Path.of("..", "models", "qwen3-moe-tiny.q8_0.gguf");
    static final ObjectMapper JSON = new ObjectMapper();
    /** A template whose prompt opens the think block, so that even random weights reason. */
    static final String THINKING_TEMPLATE = "qwen3-thinking-2507";
    static Engine engine;

    @BeforeAll
    static void load() {
        assertTrue(Files.exists(MODEL), "the bundled model is missing: " + MODEL.toAbsolutePath());
        engine = Engine.load(MODEL, Engine.Options.defaults().withContextLength(1024));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static final SamplingParams SAMPLING = SamplingParams.NON_THINKING.withTemperature(1.0).withTopP(0.9).withTopK(40);

    private static ChatRequest lc4jRequest(int maxTokens) {
        return ChatRequest.builder()
                .messages(SystemMessage.from("You are terse."), UserMessage.from("Tell me about licences."))
                .parameters(ChatRequestParameters.builder().temperature(1.0).topP(0.9).topK(40)
                        .maxOutputTokens(maxTokens).build())
                .build();
    }

    private static dev.moe4j.api.ChatRequest.Builder moe4jRequest(int maxTokens) {
        return dev.moe4j.api.ChatRequest.builder().system("You are terse.").user("Tell me about licences.")
                .sampling(SAMPLING).maxTokens(maxTokens).seed(7);
    }

    @Test
    void answerEqualsTheEngines() {
        Moe4jChatModel model = Moe4jChatModel.builder().engine(engine).thinking(Thinking.OFF).seed(7).build();
        ChatResponse r = model.chat(lc4jRequest(24));
        dev.moe4j.api.ChatResponse expected = engine.chat(moe4jRequest(24).thinking(Thinking.OFF).build());

        assertFalse(expected.content().isEmpty(), "precondition: the engine answers something");
        assertEquals(expected.content(), r.aiMessage().text());
        assertNull(r.aiMessage().thinking());
        assertEquals(expected.usage().promptTokens(), r.tokenUsage().inputTokenCount());
        assertEquals(expected.usage().completionTokens(), r.tokenUsage().outputTokenCount());
        assertEquals(expected.finishReason() == dev.moe4j.api.FinishReason.LENGTH ? FinishReason.LENGTH : FinishReason.STOP,
                r.finishReason());
        assertEquals(dev.moe4j.api.FinishReason.LENGTH, expected.finishReason(), "precondition: cut at maxTokens");
    }

    @Test
    void listenersSeeTheRequestAndTheResponse() {
        List<Object> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        ChatModelListener listener = new ChatModelListener() {
            @Override
            public void onRequest(ChatModelRequestContext context) {
                seen.add(context.chatRequest().maxOutputTokens());
            }

            @Override
            public void onResponse(ChatModelResponseContext context) {
                seen.add(context.chatResponse().aiMessage().text());
            }
        };
        Moe4jChatModel model = Moe4jChatModel.builder().engine(engine).thinking(Thinking.OFF).seed(7)
                .listeners(List.of(listener)).build();
        ChatResponse r = model.chat(lc4jRequest(6));
        assertEquals(List.of(6, r.aiMessage().text()), seen);
    }

    @Test
    void thinkingComesBackAsThinking() {
        Moe4jChatModel model = Moe4jChatModel.builder().engine(engine).thinking(Thinking.ON).seed(9)
                .chatTemplate(THINKING_TEMPLATE).build();
        ChatResponse r = model.chat(lc4jRequest(16));
        dev.moe4j.api.ChatResponse expected = engine.chat(moe4jRequest(16).thinking(Thinking.ON)
                .sampling(SamplingParams.THINKING.withTemperature(1.0).withTopP(0.9).withTopK(40)).seed(9)
                .chatTemplate(THINKING_TEMPLATE).build());
        assertFalse(expected.reasoning().isEmpty(), "precondition: the engine reasons");
        assertEquals(expected.reasoning(), r.aiMessage().thinking());
        assertEquals(expected.content(), r.aiMessage().text());
        assertEquals(expected.usage().completionTokens(), r.tokenUsage().outputTokenCount());
    }

    @Test
    void defaultParametersApplyAndRequestParametersOverrideThem() {
        Moe4jChatModel model = Moe4jChatModel.builder().engine(engine).thinking(Thinking.OFF).seed(7)
                .defaultRequestParameters(ChatRequestParameters.builder().temperature(0.0).maxOutputTokens(12).build())
                .build();
        ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from("Hi")).build());
        dev.moe4j.api.ChatResponse greedy = engine.chat(dev.moe4j.api.ChatRequest.builder().user("Hi")
                .thinking(Thinking.OFF).sampling(SamplingParams.NON_THINKING.withTemperature(0)).maxTokens(12).build());
        assertTrue(greedy.usage().completionTokens() > 2, "precondition: greedy answers more than two tokens");
        assertEquals(greedy.content(), r.aiMessage().text());
        assertEquals(greedy.usage().completionTokens(), r.tokenUsage().outputTokenCount());

        ChatResponse shorter = model.chat(ChatRequest.builder().messages(UserMessage.from("Hi"))
                .parameters(ChatRequestParameters.builder().maxOutputTokens(2).build()).build());
        assertEquals(2, shorter.tokenUsage().outputTokenCount());
        assertEquals(FinishReason.LENGTH, shorter.finishReason());
    }

    @Test
    void toolsAndToolHistoryReachThePromptAsTheEnginesOwnRequest() throws Exception {
        ToolSpecification spec = ToolSpecification.builder().name("get_weather").description("Weather of a city")
                .parameters(JsonObjectSchema.builder().addStringProperty("city", "the city's name").required("city").build())
                .build();
        AiMessage call = AiMessage.builder().thinking("Need the weather.")
                .toolExecutionRequests(List.of(ToolExecutionRequest.builder().id("c1").name("get_weather")
                        .arguments("{\"city\": \"Paris\"}").build()))
                .build();
        ChatRequest request = ChatRequest.builder()
                .messages(UserMessage.from("Weather in Paris?"), call,
                        ToolExecutionResultMessage.from("c1", "get_weather", "{\"temp\": 21}"))
                .parameters(ChatRequestParameters.builder().temperature(1.0).topP(0.9).topK(40).maxOutputTokens(20)
                        .stopSequences(List.of("zq")).toolSpecifications(spec).build())
                .build();
        ChatResponse r = Moe4jChatModel.builder().engine(engine).thinking(Thinking.OFF).seed(7).build().chat(request);

        ToolSpec tool = ToolSpec.of(JSON.readTree("""
                {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "the city's name"}},
                                "required": ["city"]}}}"""));
        dev.moe4j.api.ChatResponse expected = engine.chat(dev.moe4j.api.ChatRequest.builder()
                .user("Weather in Paris?")
                .message(ChatMessage.assistant(null, "Need the weather.",
                        List.of(ToolCall.of("get_weather", JSON.readTree("{\"city\": \"Paris\"}")))))
                .message(ChatMessage.tool("{\"temp\": 21}"))
                .tool(tool).thinking(Thinking.OFF).sampling(SAMPLING).maxTokens(20).stop("zq").seed(7).build());
        int withoutTools = engine.chat(dev.moe4j.api.ChatRequest.builder().user("Weather in Paris?").maxTokens(1)
                .thinking(Thinking.OFF).build()).usage().promptTokens();

        assertEquals(expected.usage().promptTokens(), r.tokenUsage().inputTokenCount());
        assertTrue(r.tokenUsage().inputTokenCount() > withoutTools + 40, "the tool list and history are in the prompt");
        assertEquals(expected.content(), r.aiMessage().text());
    }

    @Test
    void unsupportedParameterIsRefusedBeforeAnythingRuns() {
        Moe4jChatModel model = new Moe4jChatModel(engine);
        ChatRequest json = ChatRequest.builder().messages(UserMessage.from("Hi"))
                .parameters(ChatRequestParameters.builder().responseFormat(ResponseFormat.JSON).build()).build();
        UnsupportedFeatureException e = assertThrows(UnsupportedFeatureException.class, () -> model.chat(json));
        assertTrue(e.getMessage().contains("responseFormat"), e.getMessage());
        assertThrows(UnsupportedFeatureException.class, () -> new Moe4jStreamingChatModel(engine).chat(json, new Collector()));
        assertThrows(UnsupportedFeatureException.class, () -> Moe4jChatModel.builder().engine(engine)
                .defaultRequestParameters(ChatRequestParameters.builder().responseFormat(ResponseFormat.JSON).build())
                .build(), "a bad default is refused when the model is built");
    }

    /** Collects a stream; {@link #done} completes with the response or the error. */
    static class Collector implements StreamingChatResponseHandler {
        final StringBuilder content = new StringBuilder();
        final StringBuilder thinking = new StringBuilder();
        final CompletableFuture<ChatResponse> done = new CompletableFuture<>();

        @Override
        public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
            content.append(partial.text());
        }

        @Override
        public void onPartialThinking(PartialThinking partial, PartialThinkingContext context) {
            thinking.append(partial.text());
        }

        @Override
        public void onCompleteResponse(ChatResponse response) {
            done.complete(response);
        }

        @Override
        public void onError(Throwable error) {
            done.completeExceptionally(error);
        }
    }

    @Test
    void streamedPartialsMakeTheEnginesAnswer() throws Exception {
        Moe4jStreamingChatModel model = Moe4jStreamingChatModel.builder().engine(engine).thinking(Thinking.OFF).seed(7).build();
        Collector collector = new Collector();
        model.chat(lc4jRequest(24), collector);
        ChatResponse r = collector.done.get(30, TimeUnit.SECONDS);
        dev.moe4j.api.ChatResponse expected = engine.chat(moe4jRequest(24).thinking(Thinking.OFF).build());

        assertEquals(expected.content(), collector.content.toString());
        assertEquals(expected.content(), r.aiMessage().text());
        assertEquals(expected.usage().promptTokens(), r.tokenUsage().inputTokenCount());
        assertEquals(expected.usage().completionTokens(), r.tokenUsage().outputTokenCount());
        assertEquals(FinishReason.LENGTH, r.finishReason());
    }

    @Test
    void streamedThinkingMakesTheEnginesReasoning() throws Exception {
        Moe4jStreamingChatModel model = Moe4jStreamingChatModel.builder().engine(engine).thinking(Thinking.ON).seed(9)
                .chatTemplate(THINKING_TEMPLATE).build();
        Collector collector = new Collector();
        model.chat(lc4jRequest(16), collector);
        ChatResponse r = collector.done.get(30, TimeUnit.SECONDS);
        dev.moe4j.api.ChatResponse expected = engine.chat(moe4jRequest(16).thinking(Thinking.ON)
                .sampling(SamplingParams.THINKING.withTemperature(1.0).withTopP(0.9).withTopK(40)).seed(9)
                .chatTemplate(THINKING_TEMPLATE).build());
        assertFalse(expected.reasoning().isEmpty(), "precondition: the engine reasons");
        assertEquals(expected.reasoning(), collector.thinking.toString());
        assertEquals(expected.reasoning(), r.aiMessage().thinking());
        assertEquals(expected.content(), collector.content.toString());
    }

    @Test
    void cancellingThroughTheStreamingHandleFreesTheKvBlocks() throws Exception {
        Moe4jStreamingChatModel model = Moe4jStreamingChatModel.builder().engine(engine).thinking(Thinking.OFF).seed(7).build();
        AtomicInteger partials = new AtomicInteger();
        AtomicBoolean heldBlocks = new AtomicBoolean();
        AtomicBoolean ended = new AtomicBoolean();
        CompletableFuture<Boolean> cancelled = new CompletableFuture<>();
        long tokensBefore = engine.tokensGenerated();
        model.chat(lc4jRequest(900), new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
                partials.incrementAndGet();
                heldBlocks.set(engine.freeKvBlocks() < engine.kvBlocks());
                context.streamingHandle().cancel();
                cancelled.complete(context.streamingHandle().isCancelled());
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                ended.set(true);
            }

            @Override
            public void onError(Throwable error) {
                ended.set(true);
            }
        });
        assertTrue(cancelled.get(30, TimeUnit.SECONDS));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (engine.freeKvBlocks() != engine.kvBlocks() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(heldBlocks.get(), "precondition: the stream held KV blocks while it ran");
        assertEquals(engine.kvBlocks(), engine.freeKvBlocks(), "the cancelled request gave its KV blocks back");
        long generated = engine.tokensGenerated() - tokensBefore;
        assertTrue(generated < 100, "generation stopped soon after the cancel, not at maxTokens: " + generated + " tokens");
        Thread.sleep(100);
        assertEquals(1, partials.get(), "nothing streams after the cancel");
        assertFalse(ended.get(), "the handler hears nothing after the cancel");
    }

    @Test
    void aHandlerThatThrowsGetsItsOwnExceptionInOnError() throws Exception {
        Moe4jStreamingChatModel model = Moe4jStreamingChatModel.builder().engine(engine).thinking(Thinking.OFF).seed(7).build();
        IllegalStateException thrown = new IllegalStateException("handler failed");
        CompletableFuture<Throwable> error = new CompletableFuture<>();
        model.chat(lc4jRequest(200), new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
                throw thrown;
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                error.complete(null);
            }

            @Override
            public void onError(Throwable e) {
                error.complete(e);
            }
        });
        assertEquals(thrown, error.get(30, TimeUnit.SECONDS));
    }

    @Test
    void anEngineLoadedByTheModelIsClosedWithItAndOnePassedInIsNot() {
        Moe4jChatModel owning = Moe4jChatModel.builder().modelPath(MODEL)
                .options(Engine.Options.defaults().withContextLength(64).withKvCacheBlocks(8)).build();
        assertEquals("qwen3-moe-tiny.q8_0.gguf", owning.chat(ChatRequest.builder().messages(UserMessage.from("Hi"))
                .parameters(ChatRequestParameters.builder().maxOutputTokens(2).build()).build()).modelName());
        owning.close();
        assertThrows(EngineStoppedException.class, () -> owning.engine().chat(dev.moe4j.api.ChatRequest.of("Hi")));

        new Moe4jChatModel(engine).close();
        assertEquals(1, engine.chat(dev.moe4j.api.ChatRequest.builder().user("Hi").maxTokens(1).build())
                .usage().completionTokens(), "an engine passed in stays open");
    }
}
