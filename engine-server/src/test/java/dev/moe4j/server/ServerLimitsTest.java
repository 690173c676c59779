package dev.moe4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatListener;
import dev.moe4j.api.CompletionRequest;
import dev.moe4j.api.Engine;
import dev.moe4j.api.FinishReason;
import dev.moe4j.api.SamplingParams;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Authentication, bad requests, oversize bodies and a full queue, on an engine that runs one request at a time. */
class ServerLimitsTest {
    static final String KEY = "sk-test-key";
    static final String[] AUTH = {"Authorization", "Bearer " + KEY};

    static Engine engine;
    static Moe4jServer server;

    @BeforeAll
    static void start() {
        engine = Engine.load(Http.tinyModel(), Engine.Options.defaults().withMaxSequences(1).withContextLength(1024));
        server = Moe4jServer.start(engine, ServerOptions.defaults("tiny").withPort(0).withApiKey(KEY)
                .withMaxQueue(1).withMaxBodyBytes(4096));
    }

    @AfterAll
    static void stop() {
        server.close();
        engine.close();
    }

    static JsonNode error(HttpResponse<String> r) throws Exception {
        JsonNode error = Http.json(r.body()).get("error");
        assertTrue(error != null && error.get("message").isTextual(), r.body());
        return error;
    }

    @Test
    void everyRouteButHealthNeedsTheKey() throws Exception {
        HttpResponse<String> none = Http.get(server, "/v1/models");
        assertEquals(401, none.statusCode());
        assertEquals("invalid_api_key", error(none).get("code").asText());
        assertEquals(401, Http.get(server, "/v1/models", "Authorization", "Bearer wrong").statusCode());
        assertEquals(401, Http.get(server, "/metrics").statusCode());
        assertEquals(401, Http.post(server, "/v1/chat/completions", "{}").statusCode());
        assertEquals(200, Http.get(server, "/v1/models", AUTH).statusCode());
        assertEquals(200, Http.get(server, "/health").statusCode());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}                       | messages[0].role",
        "{\"messages\": []}                                                              | messages",
        "{\"messages\": \"hello\"}                                                       | messages",
        "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}                          | messages[0].content",
        "{\"messages\": [{\"role\": \"user\"}]}                                          | messages[0].content",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": \"hot\"} | temperature",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": -1}  | temperature",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_p\": 1.5}       | top_p",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": -3}   | max_tokens",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_completion_tokens\": 0} | max_completion_tokens",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 2}             | n",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stop\": 7}          | stop",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"seed\": 1.5}        | seed",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"logprobs\": true}   | logprobs",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"reasoning_effort\": \"low\"} | reasoning_effort",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"guided_json\": {}}  | guided_json",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tool_choice\": \"required\"} | tool_choice",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": [{\"type\": \"function\"}]} | tools[0].function.name",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stream_options\": {\"include_usage\": true}} | stream_options",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"chat_template_kwargs\": {\"enable_thinking\": \"yes\"}} | chat_template_kwargs.enable_thinking",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"thinking_budget\": -2} | thinking_budget",
        "{\"messages\": [{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"type\": \"function\", \"function\": {\"arguments\": \"{}\"}}]}]} | messages[0].tool_calls[0].function.name",
    })
    void badChatRequestsGet400NamingTheField(String body, String param) throws Exception {
        HttpResponse<String> r = Http.post(server, "/v1/chat/completions", body, AUTH);
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = error(r);
        assertEquals("invalid_request_error", error.get("type").asText());
        assertEquals(param, error.get("param").asText(), r.body());
    }

    @Test
    void malformedJsonAndBadCompletionsGet400() throws Exception {
        HttpResponse<String> r = Http.post(server, "/v1/chat/completions", "{\"messages\": [", AUTH);
        assertEquals(400, r.statusCode());
        assertTrue(error(r).get("message").asText().contains("malformed JSON"), r.body());
        HttpResponse<String> p = Http.post(server, "/v1/completions", "{\"prompt\": 12}", AUTH);
        assertEquals(400, p.statusCode());
        assertEquals("prompt", error(p).get("param").asText());
        HttpResponse<String> echo = Http.post(server, "/v1/completions", "{\"prompt\": \"a\", \"echo\": true}", AUTH);
        assertEquals(400, echo.statusCode());
        assertEquals("echo", error(echo).get("param").asText());
    }

    @Test
    void aPromptLongerThanTheContextIsRejected() throws Exception {
        String prompt = "word ".repeat(700); // more tokens than the 1024-token context, within the body limit
        HttpResponse<String> r = Http.post(server, "/v1/completions", "{\"prompt\": \"" + prompt + "\"}", AUTH);
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("context_length_exceeded", error(r).get("code").asText());
        assertEquals("prompt", error(r).get("param").asText());
    }

    @Test
    void oversizeBodiesGet413() throws Exception {
        String body = "{\"prompt\": \"" + "x".repeat(5000) + "\"}";
        HttpResponse<String> r = Http.post(server, "/v1/completions", body, AUTH);
        assertEquals(413, r.statusCode());
        assertTrue(error(r).get("message").asText().contains("4096"), r.body());
    }

    /**
     * One request holds the engine's only sequence (its listener blocks, so it stays running); one more waits in
     * the queue of one; the next is refused at once with 503 and Retry-After, and the waiting one is served later.
     */
    @Test
    void aFullQueueGets503WithRetryAfter() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ChatHandle holder = holdTheOnlySequence(release);
        CompletableFuture<HttpResponse<String>> waiting = null;
        try {
            String body = "{\"prompt\": \"queued\", \"max_tokens\": 4, \"seed\": 2}";
            waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return Http.post(server, "/v1/completions", body, AUTH);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await(() -> engine.queuedRequests() == 1, "the second request waits");
            long t0 = System.nanoTime();
            HttpResponse<String> refused = Http.post(server, "/v1/completions", body, AUTH);
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
            assertEquals("server_overloaded", error(refused).get("code").asText());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "refused at once, not after a wait");
            assertEquals(1, engine.runningRequests(), "the holder kept the sequence throughout");
        } finally {
            holder.cancel();
            release.countDown();
        }
        HttpResponse<String> served = waiting.get(20, TimeUnit.SECONDS);
        assertEquals(200, served.statusCode(), served.body());
        holder.await();
    }

    /** A streaming client that gives up while its request still waits frees its place in the queue. */
    @Test
    void aStreamingClientThatLeavesWhileQueuedFreesItsPlace() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ChatHandle holder = holdTheOnlySequence(release);
        try {
            HttpRequest request = HttpRequest.newBuilder(Http.uri(server, "/v1/chat/completions"))
                    .header("Authorization", "Bearer " + KEY)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\": \"user\", \"content\":"
                            + " \"x\"}], \"stream\": true}")).build();
            HttpResponse<InputStream> r = Http.CLIENT.send(request, HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            await(() -> engine.queuedRequests() == 1, "the stream waits");
            r.body().close();
            await(() -> engine.queuedRequests() == 0, "the queued request is cancelled");
            assertEquals(1, engine.runningRequests(), "the holder kept the sequence throughout");
        } finally {
            holder.cancel();
            release.countDown();
        }
        holder.await();
    }

    /**
     * A request whose listener blocks until released: the engine runs a few dozen tokens ahead of it, then pauses
     * it, and it keeps the engine's only sequence meanwhile (its seed is one whose output runs past those tokens
     * without an end token; callers check it still ran).
     */
    private static ChatHandle holdTheOnlySequence(CountDownLatch release) throws InterruptedException {
        ChatHandle holder = engine.completeStream(longRequest(1000), new ChatListener() {
                    @Override
                    public void onContent(String delta) {
                        try {
                            release.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                });
        await(() -> engine.runningRequests() == 1, "the holder runs");
        return holder;
    }

    private static boolean checked;

    /** A sampled request whose output (seed 4) runs past 150 tokens without an end token on the random model. */
    private static CompletionRequest longRequest(int maxTokens) {
        SamplingParams sampling = new SamplingParams(1.0, 40, 1, 0, 0, 0, 1);
        if (!checked) {
            CompletionRequest probe = new CompletionRequest("Tell a very long story.", sampling, 150, List.of(), 4L);
            assertEquals(FinishReason.LENGTH, engine.complete(probe).finishReason(), "seed 4 no longer runs long");
            checked = true;
        }
        return new CompletionRequest("Tell a very long story.", sampling, maxTokens, List.of(), 4L);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }
}
