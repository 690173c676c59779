package dev.moe4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.api.ChatMessage;
import dev.moe4j.api.ChatRequest;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.CompletionRequest;
import dev.moe4j.api.Engine;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.api.ToolCall;
import dev.moe4j.api.ToolSpec;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server over a real engine on the bundled tiny model, through real HTTP: its answers must equal what the
 * engine gives for the same request and seed.
 */
class Moe4jServerTest {
    static final String MODEL = "tiny";
    /** Every sampling field set, so the expected engine request does not depend on the server's defaults. */
    static final SamplingParams SAMPLING = new SamplingParams(0.8, 40, 0.9, 0.05, 0.5, 0.25, 1);
    static final String SAMPLING_JSON = "\"temperature\": 0.8, \"top_k\": 40, \"top_p\": 0.9, \"min_p\": 0.05,"
            + " \"presence_penalty\": 0.5, \"frequency_penalty\": 0.25";

    static Engine engine;
    static Moe4jServer server;

    @BeforeAll
    static void start() {
        engine = Engine.load(Http.tinyModel(), Engine.Options.defaults().withMaxSequences(4));
        server = Moe4jServer.start(engine, ServerOptions.defaults(MODEL).withPort(0));
    }

    @AfterAll
    static void stop() {
        server.close();
        engine.close();
    }

    static ChatRequest expectedChat(int maxTokens, long seed) {
        return ChatRequest.builder().system("You are terse.").user("Name three rivers.").sampling(SAMPLING)
                .maxTokens(maxTokens).seed(seed).build();
    }

    static String chatBody(int maxTokens, long seed, String extra) {
        return "{\"model\": \"" + MODEL + "\", \"messages\": [{\"role\": \"system\", \"content\": \"You are terse.\"},"
                + " {\"role\": \"user\", \"content\": \"Name three rivers.\"}], \"max_tokens\": " + maxTokens
                + ", \"seed\": " + seed + ", " + SAMPLING_JSON + extra + "}";
    }

    static void assertUsage(ChatResponse expected, JsonNode usage) {
        assertEquals(expected.usage().promptTokens(), usage.get("prompt_tokens").asInt());
        assertEquals(expected.usage().completionTokens(), usage.get("completion_tokens").asInt());
        assertEquals(expected.usage().totalTokens(), usage.get("total_tokens").asInt());
        assertEquals(expected.usage().reasoningTokens(),
                usage.get("completion_tokens_details").get("reasoning_tokens").asInt());
    }

    @Test
    void nonStreamingChatEqualsEngineChat() throws Exception {
        ChatResponse expected = engine.chat(expectedChat(20, 7));
        HttpResponse<String> r = Http.post(server, "/v1/chat/completions", chatBody(20, 7, ""));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode body = Http.json(r.body());
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals(MODEL, body.get("model").asText());
        assertTrue(body.get("id").asText().startsWith("chatcmpl-"));
        JsonNode choice = body.get("choices").get(0);
        assertEquals("assistant", choice.get("message").get("role").asText());
        assertEquals(expected.content(), choice.get("message").get("content").asText());
        assertEquals(expected.reasoning(), choice.get("message").path("reasoning_content").asText(""));
        assertEquals(expected.finishReason().name().equals("LENGTH") ? "length" : "stop",
                choice.get("finish_reason").asText());
        assertUsage(expected, body.get("usage"));
    }

    @Test
    void streamedDeltasConcatenateToTheSameAnswerAndEndWithUsage() throws Exception {
        ChatResponse expected = engine.chat(expectedChat(20, 11));
        HttpResponse<String> r = Http.post(server, "/v1/chat/completions",
                chatBody(20, 11, ", \"stream\": true, \"stream_options\": {\"include_usage\": true}"));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> events = Http.events(r.body());
        StringBuilder content = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        String finish = null;
        for (int i = 0; i < events.size() - 1; i++) {
            JsonNode chunk = events.get(i);
            assertEquals("chat.completion.chunk", chunk.get("object").asText());
            assertTrue(chunk.get("usage").isNull(), "include_usage: usage is null on every chunk but the last");
            JsonNode choice = chunk.get("choices").get(0);
            JsonNode delta = choice.get("delta");
            content.append(delta.path("content").asText(""));
            reasoning.append(delta.path("reasoning_content").asText(""));
            if (!choice.get("finish_reason").isNull()) {
                assertEquals(events.size() - 2, i, "finish_reason comes on the last choice chunk");
                finish = choice.get("finish_reason").asText();
            }
        }
        assertEquals("assistant", events.get(0).get("choices").get(0).get("delta").get("role").asText());
        assertEquals(expected.content(), content.toString());
        assertEquals(expected.reasoning(), reasoning.toString());
        assertEquals(expected.finishReason().name().equals("LENGTH") ? "length" : "stop", finish);
        JsonNode last = events.get(events.size() - 1);
        assertEquals(0, last.get("choices").size(), "the usage chunk has no choices");
        assertUsage(expected, last.get("usage"));
    }

    /** Clients at once are batched by the engine, and each still gets exactly what it gets alone. */
    @Test
    void concurrentRequestsEachGetTheirSoloAnswer() throws Exception {
        List<ChatResponse> alone = new ArrayList<>();
        for (int seed = 20; seed < 23; seed++) {
            alone.add(engine.chat(expectedChat(16, seed)));
        }
        List<CompletableFuture<HttpResponse<String>>> together = new ArrayList<>();
        for (int seed = 20; seed < 23; seed++) {
            HttpRequest request = HttpRequest.newBuilder(Http.uri(server, "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(chatBody(16, seed, ""))).build();
            together.add(Http.CLIENT.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = together.get(i).get(30, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
            JsonNode json = Http.json(r.body());
            assertEquals(alone.get(i).content(), json.get("choices").get(0).get("message").get("content").asText());
            assertUsage(alone.get(i), json.get("usage"));
        }
    }

    @Test
    void streamWithoutIncludeUsageHasNoUsage() throws Exception {
        HttpResponse<String> r = Http.post(server, "/v1/chat/completions", chatBody(8, 3, ", \"stream\": true"));
        assertEquals(200, r.statusCode(), r.body());
        for (JsonNode chunk : Http.events(r.body())) {
            assertFalse(chunk.has("usage"), chunk.toString());
            assertEquals(1, chunk.get("choices").size());
        }
    }

    @Test
    void completionsEqualEngineComplete() throws Exception {
        CompletionRequest request = new CompletionRequest("Once upon a time", SAMPLING, 30, List.of(), 5L);
        ChatResponse expected = engine.complete(request);
        String body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 30, \"seed\": 5, " + SAMPLING_JSON;
        HttpResponse<String> r = Http.post(server, "/v1/completions", body + "}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode json = Http.json(r.body());
        assertEquals("text_completion", json.get("object").asText());
        assertEquals(expected.content(), json.get("choices").get(0).get("text").asText());
        assertUsage(expected, json.get("usage"));

        HttpResponse<String> s = Http.post(server, "/v1/completions",
                body + ", \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
        assertEquals(200, s.statusCode(), s.body());
        List<JsonNode> events = Http.events(s.body());
        StringBuilder text = new StringBuilder();
        for (JsonNode e : events.subList(0, events.size() - 1)) {
            text.append(e.get("choices").get(0).get("text").asText());
        }
        assertEquals(expected.content(), text.toString());
        assertUsage(expected, events.get(events.size() - 1).get("usage"));
    }

    /**
     * A conversation with tools, an assistant turn that called one (with reasoning) and the tool's result: the
     * server must hand the engine the same conversation as the Java API does, so the same seed gives the same
     * answer and the same prompt length.
     */
    @Test
    void toolConversationReachesTheEngineAsTheJavaApiBuildsIt() throws Exception {
        ObjectNode params = Http.JSON.createObjectNode();
        params.put("type", "object");
        params.putObject("properties").putObject("city").put("type", "string");
        ToolSpec weather = ToolSpec.function("get_weather", "Current weather of a city", params);
        ChatRequest request = ChatRequest.builder()
                .user("Weather in Paris?")
                .message(ChatMessage.assistant("", "I should call the tool.",
                        List.of(ToolCall.withRawArguments("get_weather", "{\"city\": \"Paris\"}"))))
                .message(ChatMessage.tool("{\"temp\": 21}"))
                .tool(weather).thinking(Thinking.OFF).sampling(SAMPLING).maxTokens(24).seed(9).build();
        ChatResponse expected = engine.chat(request);
        String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Weather in Paris?\"},"
                + " {\"role\": \"assistant\", \"content\": \"\", \"reasoning_content\": \"I should call the tool.\","
                + "  \"tool_calls\": [{\"id\": \"call_1\", \"type\": \"function\", \"function\": {\"name\":"
                + " \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\"}}]},"
                + " {\"role\": \"tool\", \"tool_call_id\": \"call_1\", \"content\": \"{\\\"temp\\\": 21}\"}],"
                + " \"tools\": [" + weather.json() + "], \"tool_choice\": \"auto\","
                + " \"chat_template_kwargs\": {\"enable_thinking\": false},"
                + " \"max_completion_tokens\": 24, \"seed\": 9, " + SAMPLING_JSON + "}";
        HttpResponse<String> r = Http.post(server, "/v1/chat/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode json = Http.json(r.body());
        assertUsage(expected, json.get("usage"));
        assertEquals(expected.content(), json.get("choices").get(0).get("message").get("content").asText());

        // tool_choice "none" withholds the tools: a shorter prompt than with them
        HttpResponse<String> none = Http.post(server, "/v1/chat/completions",
                body.replace("\"tool_choice\": \"auto\"", "\"tool_choice\": \"none\""));
        assertEquals(200, none.statusCode(), none.body());
        assertTrue(Http.json(none.body()).get("usage").get("prompt_tokens").asInt()
                < expected.usage().promptTokens());
    }

    @Test
    void thinkingBudgetZeroAndEnableThinkingFalseGiveNoReasoning() throws Exception {
        ChatRequest request = ChatRequest.builder().user("Hi").thinkingBudget(0).sampling(SAMPLING).maxTokens(16)
                .seed(4).build();
        ChatResponse expected = engine.chat(request);
        HttpResponse<String> r = Http.post(server, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\","
                + " \"content\": \"Hi\"}], \"thinking_budget\": 0, \"max_tokens\": 16, \"seed\": 4, "
                + SAMPLING_JSON + "}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode json = Http.json(r.body());
        assertEquals(expected.content(), json.get("choices").get(0).get("message").get("content").asText());
        assertUsage(expected, json.get("usage"));
        assertEquals(0, json.get("usage").get("completion_tokens_details").get("reasoning_tokens").asInt());
    }

    @Test
    void modelsHealthAndUnknownRoutes() throws Exception {
        JsonNode models = Http.json(Http.get(server, "/v1/models").body());
        assertEquals("list", models.get("object").asText());
        assertEquals(MODEL, models.get("data").get(0).get("id").asText());
        assertEquals(200, Http.get(server, "/health").statusCode());
        HttpResponse<String> missing = Http.get(server, "/v1/nothing");
        assertEquals(404, missing.statusCode());
        assertNotNull(Http.json(missing.body()).get("error").get("message").asText());
        HttpResponse<String> wrongMethod = Http.get(server, "/v1/chat/completions");
        assertEquals(405, wrongMethod.statusCode());
        assertEquals("POST", wrongMethod.headers().firstValue("Allow").orElse(""));
        HttpResponse<String> otherModel = Http.post(server, "/v1/chat/completions",
                "{\"model\": \"gpt-4\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}");
        assertEquals(404, otherModel.statusCode());
        assertEquals("model", Http.json(otherModel.body()).get("error").get("param").asText());
    }

    /**
     * A client that goes away mid-stream cancels its generation: the KV blocks come back at once. (Seed 4 runs
     * past 150 tokens without an end token on this model, so the stream is still going when the client leaves.)
     */
    @Test
    void clientDisconnectCancelsTheGenerationAndFreesItsBlocks() throws Exception {
        double before = metric(scrape(), "moe4j_client_disconnects_total", Map.of());
        String body = "{\"prompt\": \"Tell a very long story.\", \"max_tokens\": 4000, \"seed\": 4,"
                + " \"temperature\": 1.0, \"top_k\": 40, \"stream\": true}";
        HttpRequest request = HttpRequest.newBuilder(Http.uri(server, "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<InputStream> r = Http.CLIENT.send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (int events = 0; events < 5; ) {
                String line = reader.readLine();
                assertNotNull(line, "the stream ended early");
                if (line.startsWith("data: ")) {
                    events++;
                }
            }
            assertTrue(engine.runningRequests() >= 1 || engine.freeKvBlocks() < engine.kvBlocks(),
                    "the generation is running");
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while ((engine.freeKvBlocks() != engine.kvBlocks() || engine.runningRequests() != 0)
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(engine.kvBlocks(), engine.freeKvBlocks(), "every KV block is free again");
        assertEquals(0, engine.runningRequests());
        assertEquals(before + 1, metric(scrape(), "moe4j_client_disconnects_total", Map.of()),
                "the server saw the disconnect and cancelled (not a generation that ran to its end)");
    }

    @Test
    void metricsParseAndCountersMove() throws Exception {
        String before = scrape();
        Map<String, String> chat200 = Map.of("route", "/v1/chat/completions", "status", "200");
        double requests = metric(before, "moe4j_http_requests_total", chat200);
        double prompt = metric(before, "moe4j_prompt_tokens_total", Map.of());
        double completion = metric(before, "moe4j_completion_tokens_total", Map.of());
        double ttft = metric(before, "moe4j_time_to_first_token_seconds_count", Map.of());
        HttpResponse<String> r = Http.post(server, "/v1/chat/completions", chatBody(12, 2, ""));
        assertEquals(200, r.statusCode());
        JsonNode usage = Http.json(r.body()).get("usage");
        String after = scrape();
        assertEquals(requests + 1, metric(after, "moe4j_http_requests_total", chat200));
        assertEquals(prompt + usage.get("prompt_tokens").asInt(), metric(after, "moe4j_prompt_tokens_total", Map.of()));
        assertEquals(completion + usage.get("completion_tokens").asInt(),
                metric(after, "moe4j_completion_tokens_total", Map.of()));
        assertTrue(metric(after, "moe4j_time_to_first_token_seconds_count", Map.of()) >= ttft);
        assertEquals(engine.kvBlocks(), metric(after, "moe4j_kv_blocks", Map.of()));
        assertEquals(0, metric(after, "moe4j_kv_blocks_in_use", Map.of()));
        assertEquals(0, metric(after, "moe4j_queued_requests", Map.of()));
        assertTrue(after.contains("moe4j_time_per_output_token_seconds_bucket"));
        Map<String, String> other404 = Map.of("route", "other", "status", "404");
        double missing = metric(after, "moe4j_http_requests_total", other404);
        Http.get(server, "/v1/nothing");
        assertEquals(missing + 1, metric(scrape(), "moe4j_http_requests_total", other404));
    }

    static String scrape() throws Exception {
        HttpResponse<String> r = Http.get(server, "/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        return r.body();
    }

    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*})? (\\S+)");

    /** A sample's value in Prometheus text format (every line must parse); 0 when the series is absent. */
    static double metric(String text, String name, Map<String, String> labels) {
        double value = 0;
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a Prometheus sample line: " + line);
            if (!m.group(1).equals(name)) {
                continue;
            }
            String l = m.group(2) == null ? "" : m.group(2);
            boolean all = labels.entrySet().stream()
                    .allMatch(e -> l.contains(e.getKey() + "=\"" + e.getValue() + "\""));
            if (all) {
                value = Double.parseDouble(m.group(3));
            }
        }
        return value;
    }
}
