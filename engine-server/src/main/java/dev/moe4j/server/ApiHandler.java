package dev.moe4j.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.api.ChatHandle;
import dev.moe4j.api.ChatResponse;
import dev.moe4j.api.ContextFullException;
import dev.moe4j.api.Engine;
import dev.moe4j.api.EngineStoppedException;
import dev.moe4j.api.InvalidRequestException;
import dev.moe4j.api.SamplingParams;
import dev.moe4j.api.Thinking;
import dev.moe4j.generate.chat.ChatTemplate;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every route of the server. Runs each request on a virtual thread of its own (blocking reads and writes are
 * cheap there), so a streamed answer is a plain loop over the generation's events.
 */
final class ApiHandler extends Handler.Abstract {
    private static final Logger LOG = LoggerFactory.getLogger(ApiHandler.class);
    private static final String JSON_TYPE = "application/json";
    /** Seconds a stream may stay silent before a keep-alive comment checks that its client is still there. */
    static final int KEEP_ALIVE_SECONDS = 2;

    /** A route and its one method; {@code label} is the route's name in the metrics. */
    enum Route {
        CHAT("/v1/chat/completions", "POST"),
        COMPLETIONS("/v1/completions", "POST"),
        MODELS("/v1/models", "GET"),
        HEALTH("/health", "GET"),
        METRICS("/metrics", "GET");

        final String path;
        final String method;

        Route(String path, String method) {
            this.path = path;
            this.method = method;
        }

        static Route of(String path) {
            for (Route r : values()) {
                if (r.path.equals(path)) {
                    return r;
                }
            }
            return null;
        }
    }

    private final Engine engine;
    private final ServerOptions options;
    private final ServerMetrics metrics;
    private final byte[] expectedAuthorization;
    private final long created = System.currentTimeMillis() / 1000;
    /** Makes "check the queue, then submit" one step, so concurrent arrivals cannot overfill it together. */
    private final Object admission = new Object();

    ApiHandler(Engine engine, ServerOptions options, ServerMetrics metrics) {
        this.engine = engine;
        this.options = options;
        this.metrics = metrics;
        this.expectedAuthorization = options.apiKey() == null ? null
                : ("Bearer " + options.apiKey()).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long start = System.nanoTime();
        Route route = Route.of(Request.getPathInContext(request));
        int status;
        try {
            if (route == null) {
                throw new ApiException(404, "invalid_request_error", "no route " + request.getMethod() + " "
                        + Request.getPathInContext(request), null, "not_found", 0);
            }
            if (!route.method.equals(request.getMethod())) {
                response.getHeaders().put(HttpHeader.ALLOW, route.method);
                throw new ApiException(405, "invalid_request_error", route.path + " takes " + route.method + ", not "
                        + request.getMethod(), null, "method_not_allowed", 0);
            }
            if (route != Route.HEALTH) {
                authorize(request);
            }
            status = switch (route) {
                case CHAT -> chat(request, response, callback, start);
                case COMPLETIONS -> completion(request, response, callback, start);
                case MODELS -> json(response, callback, 200, OpenAiResponses.models(options.modelId(), created));
                case HEALTH -> health(response, callback);
                case METRICS -> metricsText(response, callback);
            };
        } catch (ApiException e) {
            status = error(response, callback, e);
        } catch (InvalidRequestException e) {
            // the engine's types refusing a value the request parsing let through (e.g. JsonLimits)
            status = error(response, callback, ApiException.invalid(null, e.getMessage()));
        } catch (Throwable e) {
            LOG.error("request {} {} failed", request.getMethod(), Request.getPathInContext(request), e);
            status = error(response, callback, new ApiException(500, "server_error",
                    "internal error: " + e, null, null, 0));
        }
        metrics.requests.labelValues(route == null ? "other" : route.path, Integer.toString(status)).inc();
        return true;
    }

    private void authorize(Request request) {
        if (expectedAuthorization == null) {
            return;
        }
        String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        // constant time, so that the key cannot be guessed byte by byte from response times
        if (given == null || !MessageDigest.isEqual(expectedAuthorization, given.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "invalid_request_error", given == null
                    ? "missing API key: send Authorization: Bearer <key>" : "incorrect API key", null,
                    "invalid_api_key", 0);
        }
    }

    private int health(Response response, Callback callback) {
        ObjectNode body = OpenAiResponses.JSON.createObjectNode();
        body.put("status", "ok");
        return json(response, callback, 200, body);
    }

    private int metricsText(Response response, Callback callback) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.write(out);
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, metrics.contentType());
        response.write(true, ByteBuffer.wrap(out.toByteArray()), callback);
        return 200;
    }

    private JsonNode body(Request request) {
        long declared = request.getLength();
        long max = options.maxBodyBytes();
        if (declared > max) {
            throw tooLarge(declared);
        }
        byte[] bytes;
        try (InputStream in = Request.asInputStream(request)) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        } catch (IOException e) {
            throw ApiException.invalid(null, "cannot read the request body: " + e.getMessage());
        }
        if (bytes.length > max) {
            throw tooLarge(-1);
        }
        return parseBody(bytes);
    }

    /** A request body as a JSON object; anything else is a 400 naming the problem. */
    static JsonNode parseBody(byte[] bytes) {
        try {
            JsonNode body = OpenAiResponses.JSON.readTree(bytes);
            if (body == null || !body.isObject()) {
                throw ApiException.invalid(null, "the request body must be a JSON object");
            }
            return body;
        } catch (StreamConstraintsException e) {
            // Jackson's read limits (nesting depth 1000, ...): the body is JSON, but not one the server takes
            throw ApiException.invalid(null, "the JSON body exceeds a limit: " + e.getOriginalMessage());
        } catch (JacksonException e) {
            throw ApiException.invalid(null, "malformed JSON body: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.invalid(null, "cannot read the request body: " + e.getMessage());
        }
    }

    private ApiException tooLarge(long declared) {
        return new ApiException(413, "invalid_request_error", "the request body is larger than "
                + options.maxBodyBytes() + " bytes" + (declared > 0 ? " (" + declared + ")" : ""), null,
                "request_too_large", 0);
    }

    private SamplingParams defaultSampling(Thinking mode) {
        ChatTemplate.ThinkingMode template = engine.chatTemplate().thinkingMode();
        boolean thinks = template == ChatTemplate.ThinkingMode.ALWAYS
                || (template == ChatTemplate.ThinkingMode.HYBRID && mode != Thinking.OFF);
        return thinks ? SamplingParams.THINKING : SamplingParams.NON_THINKING;
    }

    /** Submits a generation unless too many already wait; maps the engine's refusals to HTTP errors. */
    private ChatHandle submit(Supplier<ChatHandle> start, String promptParam) {
        synchronized (admission) {
            int queued = engine.queuedRequests();
            if (queued >= options.maxQueue()) {
                throw new ApiException(503, "server_error", "the server is busy: " + queued
                        + " requests are waiting; retry later", null, "server_overloaded", 1);
            }
            try {
                return start.get();
            } catch (ContextFullException e) {
                throw new ApiException(400, "invalid_request_error", e.getMessage(), promptParam,
                        "context_length_exceeded", 0);
            } catch (InvalidRequestException e) {
                throw ApiException.invalid(null, e.getMessage());
            } catch (EngineStoppedException e) {
                throw new ApiException(503, "server_error", e.getMessage(), null, "engine_stopped", 1);
            }
        }
    }

    private int chat(Request request, Response response, Callback callback, long start) throws IOException {
        OpenAiRequests.Chat chat = OpenAiRequests.chat(body(request), options.modelId(), this::defaultSampling);
        GenerationEvents events = new GenerationEvents(start, chat.stream());
        ChatHandle handle = submit(() -> engine.chatStream(chat.request(), events), "messages");
        String id = OpenAiResponses.id("chatcmpl-");
        long created = System.currentTimeMillis() / 1000;
        if (!chat.stream()) {
            ChatResponse r = await(request, handle, events);
            List<String> ids = new ArrayList<>();
            r.toolCalls().forEach(c -> ids.add(OpenAiResponses.id("call_")));
            return json(response, callback, 200,
                    OpenAiResponses.chatCompletion(id, created, options.modelId(), r, ids));
        }
        return stream(request, response, callback, handle, events, new Sse() {
            int toolCalls;

            @Override
            public String first() {
                ObjectNode delta = OpenAiResponses.JSON.createObjectNode();
                delta.put("role", "assistant");
                delta.put("content", "");
                return chunk(delta, null);
            }

            @Override
            public String event(GenerationEvents.Event event) {
                return switch (event) {
                    case GenerationEvents.Text t ->
                            chunk(OpenAiResponses.delta(t.reasoning() ? "reasoning_content" : "content", t.delta()),
                                    null);
                    case GenerationEvents.Tool t ->
                            chunk(OpenAiResponses.toolCallDelta(toolCalls++, t.call(), OpenAiResponses.id("call_")),
                                    null);
                    case GenerationEvents.Done d -> chunk(OpenAiResponses.JSON.createObjectNode(),
                            OpenAiResponses.finishReason(d.response()));
                    case GenerationEvents.Failed f -> throw new IllegalStateException("handled by the loop");
                };
            }

            @Override
            public String usage(ChatResponse r) {
                return OpenAiResponses.text(OpenAiResponses.usageChunk(id, "chat.completion.chunk", created,
                        options.modelId(), r.usage()));
            }

            private String chunk(ObjectNode delta, String finish) {
                return OpenAiResponses.text(OpenAiResponses.chatChunk(id, created, options.modelId(), delta, finish,
                        chat.includeUsage()));
            }
        }, chat.includeUsage());
    }

    private int completion(Request request, Response response, Callback callback, long start) throws IOException {
        OpenAiRequests.Completion c = OpenAiRequests.completion(body(request), options.modelId());
        GenerationEvents events = new GenerationEvents(start, c.stream());
        ChatHandle handle = submit(() -> engine.completeStream(c.request(), events), "prompt");
        String id = OpenAiResponses.id("cmpl-");
        long created = System.currentTimeMillis() / 1000;
        String model = options.modelId();
        if (!c.stream()) {
            ChatResponse r = await(request, handle, events);
            return json(response, callback, 200, OpenAiResponses.textCompletion(id, created, model, r.content(),
                    OpenAiResponses.completionFinishReason(r.finishReason()), r.usage(), false));
        }
        return stream(request, response, callback, handle, events, new Sse() {
            @Override
            public String first() {
                return null;
            }

            @Override
            public String event(GenerationEvents.Event event) {
                return switch (event) {
                    case GenerationEvents.Text t -> OpenAiResponses.text(OpenAiResponses.textCompletion(id, created,
                            model, t.delta(), null, null, c.includeUsage()));
                    case GenerationEvents.Done d -> OpenAiResponses.text(OpenAiResponses.textCompletion(id, created,
                            model, "", OpenAiResponses.completionFinishReason(d.response().finishReason()), null,
                            c.includeUsage()));
                    case GenerationEvents.Tool t -> null; // raw completions never parse tool calls
                    case GenerationEvents.Failed f -> throw new IllegalStateException("handled by the loop");
                };
            }

            @Override
            public String usage(ChatResponse r) {
                return OpenAiResponses.text(OpenAiResponses.usageChunk(id, "text_completion", created, model,
                        r.usage()));
            }
        }, c.includeUsage());
    }

    private ChatResponse await(Request request, ChatHandle handle, GenerationEvents events) {
        // a long generation writes nothing until its end: the connection's idle timeout must not fail it
        request.addIdleTimeoutListener(timeout -> false);
        request.addFailureListener(failure -> handle.cancel());
        ChatResponse r;
        try {
            r = handle.await();
        } catch (RuntimeException e) {
            LOG.warn("generation failed", e);
            throw new ApiException(500, "server_error", "generation failed: " + e.getMessage(), null, null, 0);
        }
        record(r, events);
        return r;
    }

    private void record(ChatResponse r, GenerationEvents events) {
        metrics.promptTokens.inc(r.usage().promptTokens());
        metrics.completionTokens.inc(r.usage().completionTokens());
        double ttft = events.timeToFirstToken();
        if (ttft >= 0) {
            metrics.timeToFirstToken.observe(ttft);
        }
        double tpot = events.timePerOutputToken(r.usage().completionTokens());
        if (tpot >= 0) {
            metrics.timePerOutputToken.observe(tpot);
        }
    }

    /** How one kind of stream spells its chunks; a null line is not sent. */
    private interface Sse {
        String first();

        String event(GenerationEvents.Event event);

        String usage(ChatResponse r);
    }

    /**
     * Writes the generation's events as server-sent events until it ends. A write that fails means the client went
     * away: the generation is cancelled at once, so its KV blocks return within one step.
     */
    private int stream(Request request, Response response, Callback callback, ChatHandle handle,
            GenerationEvents events, Sse sse, boolean includeUsage) {
        request.addIdleTimeoutListener(timeout -> false);
        request.addFailureListener(failure -> handle.cancel());
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        try {
            send(response, sse.first());
            while (true) {
                GenerationEvents.Event event = events.poll(KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
                if (event == null) {
                    // nothing to say while waiting in the queue or reading a long prompt: an SSE comment (which
                    // clients ignore) finds out whether the client is still there, and frees its place if not
                    write(response, ": keep-alive\n\n");
                    continue;
                }
                if (event instanceof GenerationEvents.Failed f) {
                    LOG.warn("streamed generation failed", f.error());
                    ApiException e = new ApiException(500, "server_error", "generation failed: "
                            + f.error().getMessage(), null, null, 0);
                    send(response, OpenAiResponses.text(OpenAiResponses.error(e)));
                    break;
                }
                send(response, sse.event(event));
                if (event instanceof GenerationEvents.Done d) {
                    record(d.response(), events);
                    if (includeUsage) {
                        send(response, sse.usage(d.response()));
                    }
                    break;
                }
            }
            Content.Sink.write(response, true, "data: [DONE]\n\n", callback);
        } catch (IOException e) {
            handle.cancel();
            events.close();
            metrics.disconnects.inc();
            LOG.debug("client went away mid-stream; generation cancelled", e);
            callback.failed(e);
        } catch (InterruptedException e) {
            handle.cancel();
            events.close();
            Thread.currentThread().interrupt();
            callback.failed(e);
        }
        return 200;
    }

    private static void send(Response response, String json) throws IOException {
        if (json != null) {
            write(response, "data: " + json + "\n\n");
        }
    }

    private static void write(Response response, String text) throws IOException {
        try (Blocker.Callback written = Blocker.callback()) {
            Content.Sink.write(response, false, text, written);
            written.block();
        }
    }

    private static int json(Response response, Callback callback, int status, JsonNode body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_TYPE);
        Content.Sink.write(response, true, OpenAiResponses.text(body), callback);
        return status;
    }

    private static int error(Response response, Callback callback, ApiException e) {
        if (response.isCommitted()) {
            callback.failed(e);
            return e.status;
        }
        if (e.retryAfter > 0) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, Integer.toString(e.retryAfter));
        }
        return json(response, callback, e.status, OpenAiResponses.error(e));
    }
}
