package dev.moe4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.errors.UnauthorizedException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import dev.moe4j.api.Engine;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufTokenizer;
import dev.moe4j.testing.ScriptedModel;
import dev.moe4j.tokenizer.Tokenizer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server through the official OpenAI Java client, as an application calls it. Known answers come from a
 * scripted model (a real forward pass whose output is chosen); sampling, batching and cancellation run on the
 * bundled random tiny model.
 */
class OpenAiClientTest {
    static final String KEY = "sk-moe4j-test";
    static final String REASONING = "The user wants one colour.";
    static final String COLOUR_SAY = "<think>\n" + REASONING + "\n</think>\n\nBlue.<|im_end|>";
    static final String TOOL_SAY = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
            + "</tool_call><|im_end|>";
    static final String FINAL = "It is 21 degrees and sunny in Paris.";

    @TempDir
    static Path dir;
    static Tokenizer tokenizer;
    static Engine scripted;
    static Moe4jServer scriptedServer;
    static OpenAIClient client;
    static Engine tiny;
    static Moe4jServer tinyServer;
    static OpenAIClient tinyClient;

    @BeforeAll
    static void start() throws Exception {
        Path model = dir.resolve("scripted.gguf");
        ScriptedModel.write(Http.tinyModel(), model, List.of(
                new ScriptedModel.Script("Name a colour.<|im_end|>\n<|im_start|>assistant\n", COLOUR_SAY),
                new ScriptedModel.Script("Weather in Paris?<|im_end|>\n<|im_start|>assistant\n", TOOL_SAY),
                new ScriptedModel.Script("</tool_response><|im_end|>\n<|im_start|>assistant\n",
                        FINAL + "<|im_end|>")));
        try (GgufFile f = GgufFile.open(Http.tinyModel())) {
            tokenizer = GgufTokenizer.fromMetadata(f);
        }
        scripted = Engine.load(model, Engine.Options.defaults().withContextLength(1024).withMaxSequences(2));
        scriptedServer = Moe4jServer.start(scripted, ServerOptions.defaults("scripted").withPort(0).withApiKey(KEY));
        client = client(scriptedServer, KEY);
        tiny = Engine.load(Http.tinyModel(), Engine.Options.defaults().withMaxSequences(4));
        tinyServer = Moe4jServer.start(tiny, ServerOptions.defaults("tiny").withPort(0));
        tinyClient = client(tinyServer, "unused");
    }

    @AfterAll
    static void stop() {
        client.close();
        tinyClient.close();
        scriptedServer.close();
        tinyServer.close();
        scripted.close();
        tiny.close();
    }

    static OpenAIClient client(Moe4jServer server, String key) {
        // no retries: a failure must show as it happened
        return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey(key)
                .maxRetries(0).timeout(Duration.ofSeconds(30)).build();
    }

    static ChatCompletionCreateParams.Builder colourRequest() {
        return ChatCompletionCreateParams.builder().model("scripted").addUserMessage("Name a colour.")
                .maxCompletionTokens(100);
    }

    /** The reasoning the server sends in its {@code reasoning_content} extension field. */
    static String reasoningOf(Map<String, JsonValue> additional) {
        JsonValue v = additional.get("reasoning_content");
        return v == null ? "" : v.convert(String.class);
    }

    @Test
    void answerWithReasoningSplitAndUsage() {
        ChatCompletion completion = client.chat().completions().create(colourRequest().build());
        ChatCompletion.Choice choice = completion.choices().get(0);
        assertEquals("Blue.", choice.message().content().orElseThrow().strip());
        assertEquals(REASONING, reasoningOf(choice.message()._additionalProperties()).strip());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, choice.finishReason());
        assertEquals("scripted", completion.model());
        CompletionUsage usage = completion.usage().orElseThrow();
        assertEquals(tokenizer.encode(COLOUR_SAY, true).length, usage.completionTokens(),
                "every scripted token, the end token included");
        int promptTokens = scripted.chat(dev.moe4j.api.ChatRequest.builder().user("Name a colour.").maxTokens(100)
                .build()).usage().promptTokens();
        assertEquals(promptTokens, usage.promptTokens());
        assertEquals(usage.promptTokens() + usage.completionTokens(), usage.totalTokens());
        long reasoningTokens = usage.completionTokensDetails().orElseThrow().reasoningTokens().orElseThrow();
        assertTrue(reasoningTokens > 0 && reasoningTokens < usage.completionTokens(), "reasoning " + reasoningTokens);
    }

    @Test
    void streamedDeltasGiveTheSameAnswerAndUsage() {
        ChatCompletionCreateParams params = colourRequest()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        StringBuilder content = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        List<String> finishes = new ArrayList<>();
        List<CompletionUsage> usages = new ArrayList<>();
        int chunks = 0;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            for (Iterator<ChatCompletionChunk> it = stream.stream().iterator(); it.hasNext(); ) {
                ChatCompletionChunk chunk = it.next();
                chunks++;
                chunk.usage().ifPresent(usages::add);
                for (ChatCompletionChunk.Choice choice : chunk.choices()) {
                    choice.delta().content().ifPresent(content::append);
                    reasoning.append(reasoningOf(choice.delta()._additionalProperties()));
                    choice.finishReason().ifPresent(f -> finishes.add(f.asString()));
                }
            }
        }
        assertTrue(chunks > 3, "the answer came in pieces, got " + chunks + " chunks");
        assertEquals("Blue.", content.toString().strip());
        assertEquals(REASONING, reasoning.toString().strip());
        assertEquals(List.of("stop"), finishes);
        assertEquals(1, usages.size(), "usage comes once, on the last chunk");
        assertEquals(tokenizer.encode(COLOUR_SAY, true).length, usages.get(0).completionTokens());
    }

    static FunctionDefinition weatherTool() {
        return FunctionDefinition.builder().name("get_weather").description("Current weather in a city")
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                        .build())
                .build();
    }

    /** The scripted tool call comes back parsed; sending the tool's result gives the scripted final answer. */
    @Test
    void toolCallThenFinalAnswerAfterTheToolResult() throws Exception {
        ChatCompletion first = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("scripted").addUserMessage("Weather in Paris?").addFunctionTool(weatherTool())
                .maxCompletionTokens(100).build());
        ChatCompletion.Choice choice = first.choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        ChatCompletionMessage message = choice.message();
        assertEquals(1, message.toolCalls().orElseThrow().size());
        ChatCompletionMessageFunctionToolCall call = message.toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("get_weather", call.function().name());
        assertEquals(Http.JSON.readTree("{\"city\": \"Paris\"}"), Http.JSON.readTree(call.function().arguments()));
        assertFalse(call.id().isBlank(), "the call has an id to answer to");

        ChatCompletion second = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("scripted").addUserMessage("Weather in Paris?").addFunctionTool(weatherTool())
                .addMessage(message)
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id())
                        .content("{\"temperature\": 21, \"sky\": \"sunny\"}").build())
                .maxCompletionTokens(100).build());
        assertEquals(FINAL, second.choices().get(0).message().content().orElseThrow().strip());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, second.choices().get(0).finishReason());
        assertTrue(second.choices().get(0).message().toolCalls().map(List::isEmpty).orElse(true));
    }

    /** A streamed tool call, assembled by the client's own accumulator, is the same call with the same reason. */
    @Test
    void streamedToolCallAssemblesInTheClient() throws Exception {
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("scripted").addUserMessage("Weather in Paris?")
                        .addFunctionTool(weatherTool()).maxCompletionTokens(100).build())) {
            stream.stream().forEach(accumulator::accumulate);
        }
        ChatCompletion.Choice choice = accumulator.chatCompletion().choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        List<ChatCompletionMessageToolCall> calls = choice.message().toolCalls().orElseThrow();
        assertEquals(1, calls.size());
        assertEquals("get_weather", calls.get(0).asFunction().function().name());
        assertEquals(Http.JSON.readTree("{\"city\": \"Paris\"}"),
                Http.JSON.readTree(calls.get(0).asFunction().function().arguments()));
    }

    static ChatCompletionCreateParams sampled(long seed, int maxTokens) {
        return ChatCompletionCreateParams.builder().model("tiny").addUserMessage("Tell me a story.")
                .temperature(1.0).seed(seed).maxCompletionTokens(maxTokens).build();
    }

    static String text(ChatCompletion c) {
        ChatCompletionMessage m = c.choices().get(0).message();
        return reasoningOf(m._additionalProperties()) + "|" + m.content().orElse("");
    }

    @Test
    void sameSeedSameSampledText() {
        String once = text(tinyClient.chat().completions().create(sampled(42, 24)));
        String twice = text(tinyClient.chat().completions().create(sampled(42, 24)));
        String other = text(tinyClient.chat().completions().create(sampled(43, 24)));
        assertTrue(once.length() > 10, once);
        assertEquals(once, twice);
        assertNotEquals(once, other, "another seed samples another text");
    }

    /** Requests sent together are batched by the engine and each still gets its solo answer. */
    @Test
    void concurrentRequestsEqualTheirSoloAnswers() throws Exception {
        List<String> alone = new ArrayList<>();
        for (long seed = 100; seed < 104; seed++) {
            alone.add(text(tinyClient.chat().completions().create(sampled(seed, 20))));
        }
        List<CompletableFuture<ChatCompletion>> together = new ArrayList<>();
        for (long seed = 100; seed < 104; seed++) {
            together.add(tinyClient.async().chat().completions().create(sampled(seed, 20)));
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(alone.get(i), text(together.get(i).get(30, TimeUnit.SECONDS)), "request " + i);
        }
    }

    /**
     * Closing a stream mid-way cancels its generation and its KV blocks come back. (Seed 4 runs past 150 tokens
     * without an end token on this model, so the stream is still going when the client leaves.)
     */
    @Test
    void closingAStreamMidwayFreesItsKvBlocks() throws Exception {
        CompletionCreateParams params = CompletionCreateParams.builder().model("tiny")
                .prompt("Tell a very long story.").maxTokens(4000).seed(4).temperature(1.0)
                .putAdditionalBodyProperty("top_k", JsonValue.from(40)).build();
        double disconnects = disconnects();
        int received = 0;
        try (StreamResponse<Completion> stream = tinyClient.completions().createStreaming(params)) {
            Iterator<Completion> it = stream.stream().iterator();
            while (received < 5 && it.hasNext()) {
                it.next();
                received++;
            }
            assertEquals(5, received, "the stream ended early");
            assertTrue(tiny.freeKvBlocks() < tiny.kvBlocks(), "the generation holds KV blocks while it runs");
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while ((tiny.freeKvBlocks() != tiny.kvBlocks() || tiny.runningRequests() != 0)
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(tiny.kvBlocks(), tiny.freeKvBlocks(), "every KV block is free again");
        assertEquals(0, tiny.runningRequests());
        assertEquals(disconnects + 1, disconnects(),
                "the server saw the client leave and cancelled (not a generation that ran to its end)");
    }

    static double disconnects() throws Exception {
        return Moe4jServerTest.metric(Http.get(tinyServer, "/metrics").body(), "moe4j_client_disconnects_total",
                Map.of());
    }

    @Test
    void wrongKeyIsUnauthorizedAndTheRightKeyIsServed() {
        OpenAIClient intruder = client(scriptedServer, "sk-wrong");
        try {
            UnauthorizedException e = assertThrows(UnauthorizedException.class,
                    () -> intruder.chat().completions().create(colourRequest().build()));
            assertEquals(401, e.statusCode());
        } finally {
            intruder.close();
        }
        assertEquals("scripted", client.models().list().items().get(0).id());
    }

    @Test
    void malformedAndUnsupportedRequestsAre400() throws Exception {
        HttpResponse<String> r = Http.post(scriptedServer, "/v1/chat/completions", "{\"messages\": [",
                "Authorization", "Bearer " + KEY);
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = Http.json(r.body()).get("error");
        assertEquals("invalid_request_error", error.get("type").asText(), r.body());

        BadRequestException e = assertThrows(BadRequestException.class, () -> client.chat().completions()
                .create(colourRequest().n(2).build()));
        assertEquals(400, e.statusCode());
        assertEquals("n", e.param().orElse(""), e.getMessage());
    }
}
