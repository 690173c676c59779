package dev.moe4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.testutil.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The error contract of docs/reliability.md: what each entry point throws, and what state it leaves. */
class ErrorContractTest {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    static Engine engine;

    @BeforeAll
    static void load() {
        engine = Engine.load(Fixtures.model("qwen3-dense-tiny.f32.gguf"), Engine.Options.defaults().withContextLength(128));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static ChatRequest small() {
        return ChatRequest.builder().user("Hi").thinking(Thinking.OFF).greedy().maxTokens(4).build();
    }

    /** The engine still answers, and every KV block is back. */
    private static void stillServes() {
        assertEquals(FinishReason.LENGTH, engine.chat(small()).finishReason());
        assertEquals(engine.kvBlocks(), engine.freeKvBlocks());
        assertEquals(0, engine.queuedRequests());
    }

    @Test
    void engineServesOnAfterRefusedRequests() {
        assertThrows(InvalidRequestException.class,
                () -> engine.chat(ChatRequest.builder().user("x").chatTemplate("no-such-template").build()));
        stillServes();
        assertThrows(ContextFullException.class, () -> engine.chat(ChatRequest.of("licence ".repeat(400))));
        assertThrows(ContextFullException.class,
                () -> engine.complete(CompletionRequest.of("licence ".repeat(400), 4)));
        stillServes();
        ChatHandle failed = engine.chatStream(small(), new ChatListener() {
            @Override
            public void onContent(String delta) {
                throw new IllegalStateException("listener bug");
            }
        });
        ListenerException e = assertThrows(ListenerException.class, failed::await);
        assertEquals("listener bug", e.getCause().getMessage());
        stillServes();
    }

    @Test
    void anInterruptedWaitCancelsItsRequestAndTheEngineServesOn() throws Exception {
        ChatHandle running = engine.chatStream(ChatRequest.builder().user("Tell me about licences.").greedy()
                .maxTokens(100).build(), new ChatListener() {});
        Thread.currentThread().interrupt();
        assertThrows(CancellationException.class, running::await);
        assertTrue(Thread.interrupted(), "the interrupt flag is set again");
        // the request ends as cancelled for its other observers, and its blocks come back
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!running.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(running.isDone());
        assertEquals(FinishReason.CANCELLED, running.await().finishReason());
        stillServes();
    }

    /** Every null at the public API is a NullPointerException at the call, naming the parameter. */
    @Test
    void nullsAreRefusedAtTheCallNamingTheParameter() {
        assertNull("path", () -> Engine.load(null));
        assertNull("options", () -> Engine.load(Path.of("x.gguf"), null));
        assertNull("request", () -> engine.chat(null));
        assertNull("request", () -> engine.complete(null));
        assertNull("listener", () -> engine.chatStream(small(), null));
        assertNull("listener", () -> engine.completeStream(CompletionRequest.of("x", 1), null));
        assertNull("content", () -> ChatRequest.of(null));
        assertNull("content", () -> ChatRequest.builder().system(null));
        assertNull("content", () -> ChatMessage.user(null));
        assertNull("content", () -> ChatMessage.tool(null));
        assertNull("role", () -> new ChatMessage(null, "x", null, null));
        assertNull("toolCalls[1]", () -> ChatMessage.assistant("x", Arrays.asList(ToolCall.of("f", null), null)));
        assertNull("message", () -> ChatRequest.builder().message(null));
        assertNull("messages", () -> ChatRequest.builder().messages(null));
        assertNull("tool", () -> ChatRequest.builder().tool(null));
        assertNull("thinking", () -> ChatRequest.builder().thinking(null));
        assertNull("stop string", () -> ChatRequest.builder().stop("a", null));
        assertNull("messages", () -> new ChatRequest(null, null, null, -1, null, 1, null, null, null));
        assertNull("messages[1]", () -> new ChatRequest(Arrays.asList(ChatMessage.user("x"), null), null, null, -1,
                null, 1, null, null, null));
        assertNull("tools[0]", () -> new ChatRequest(List.of(ChatMessage.user("x")), Arrays.asList((ToolSpec) null),
                null, -1, null, 1, null, null, null));
        assertNull("stop[0]", () -> new ChatRequest(List.of(ChatMessage.user("x")), null, null, -1, null, 1,
                Arrays.asList((String) null), null, null));
        assertNull("prompt", () -> CompletionRequest.of(null, 1));
        assertNull("stop[1]", () -> new CompletionRequest("x", null, 1, Arrays.asList("a", null), null));
        assertNull("json", () -> ToolSpec.of(null));
        assertNull("name", () -> ToolSpec.function(null, "d", NODES.objectNode()));
        assertNull("description", () -> ToolSpec.function("f", null, NODES.objectNode()));
        assertNull("parameters", () -> ToolSpec.function("f", "d", null));
        assertNull("name", () -> ToolCall.of(null, null));
        assertNull("arguments", () -> ToolCall.withRawArguments("f", null));
        assertNull("usage", () -> new ChatResponse("", "", List.of(), List.of(), null, FinishReason.STOP, false));
        assertNull("toolCalls[0]", () -> new ChatResponse("", "", Arrays.asList((ToolCall) null), List.of(),
                new Usage(1, 0, 1), FinishReason.STOP, false));
        assertNull("text", () -> engine.tokenizer().encode(null));
        assertNull("text", () -> engine.tokenizer().encode(null, false));
        assertNull("ids", () -> engine.tokenizer().decode(null));
    }

    private static void assertNull(String parameter, Executable call) {
        NullPointerException e = assertThrows(NullPointerException.class, call);
        assertEquals(parameter, e.getMessage());
    }

    /** {"type": "object", "properties": {"a": {"type": "object", "properties": {"a": …}}}}, depth levels deep. */
    private static ObjectNode nestedSchema(int depth) {
        ObjectNode root = NODES.objectNode();
        ObjectNode at = root;
        for (int i = 0; i < depth; i++) {
            at = at.putObject("properties").putObject("a");
        }
        return root;
    }

    private static JsonNode nestedArrays(int depth) {
        ArrayNode root = NODES.arrayNode();
        ArrayNode at = root;
        for (int i = 1; i < depth; i++) {
            at = at.addArray();
        }
        return root;
    }

    @Test
    void deepOrCyclicJsonIsRefusedByName() {
        for (Function<JsonNode, Object> use : List.<Function<JsonNode, Object>>of(
                json -> ToolSpec.function("f", "d", json),
                json -> ToolSpec.of(NODES.objectNode().set("function", json)),
                json -> ToolCall.of("f", json))) {
            InvalidRequestException deep = assertThrows(InvalidRequestException.class, () -> use.apply(nestedSchema(5000)));
            assertTrue(deep.getMessage().contains("nested deeper than 1000 levels"), deep.getMessage());
            assertThrows(InvalidRequestException.class, () -> use.apply(nestedArrays(5000)));

            ObjectNode cyclic = NODES.objectNode();
            cyclic.putObject("properties").set("self", cyclic);
            InvalidRequestException cycle = assertThrows(InvalidRequestException.class, () -> use.apply(cyclic));
            assertTrue(cycle.getMessage().contains("contains itself"), cycle.getMessage());

            // a node shared at every level: small in memory, 2^40 values as a tree
            ArrayNode shared = NODES.arrayNode();
            for (int i = 0; i < 40; i++) {
                ArrayNode next = NODES.arrayNode();
                next.add(shared).add(shared);
                shared = next;
            }
            ArrayNode wide = shared;
            InvalidRequestException big = assertThrows(InvalidRequestException.class, () -> use.apply(wide));
            assertTrue(big.getMessage().contains("more than 1000000 JSON values"), big.getMessage());
        }
        // what Jackson parses with its default limits fits
        assertDoesNotThrow(() -> ToolCall.of("f", new ObjectMapper().readTree("[".repeat(1000) + "]".repeat(1000))));
        // a 963-level tool (two levels a property) is rendered and tokenized (too long for this context, which says so)
        ToolSpec deepButAllowed = ToolSpec.function("f", "d", nestedSchema(480));
        ContextFullException full = assertThrows(ContextFullException.class, () -> engine.chat(
                ChatRequest.builder().user("x").tool(deepButAllowed).greedy().maxTokens(1).build()));
        assertTrue(full.getMessage().contains("the context holds 128"), full.getMessage());
        stillServes();
    }

    @Test
    void closingTwiceIsQuietAndLeavesTheEngineStopped() {
        Engine own = Engine.load(Fixtures.model("qwen3-dense-tiny.f32.gguf"), Engine.Options.defaults().withContextLength(64));
        own.close();
        String log = stderrOf(own::close);
        assertFalse(log.contains("Exception") || log.contains("\tat "), log);
        assertEquals("", log);
        EngineStoppedException stopped = assertThrows(EngineStoppedException.class, () -> own.chat(small()));
        assertTrue(stopped.getMessage().contains("closed"), stopped.getMessage());
        assertThrows(EngineStoppedException.class, () -> own.completeStream(CompletionRequest.of("x", 1),
                new ChatListener() {}));
        // the tokenizer, configuration and template live on the heap and stay usable
        assertArrayEquals(engine.tokenizer().encode("Hi there"), own.tokenizer().encode("Hi there"));
        assertEquals(engine.config(), own.config());
        assertEquals("qwen3", own.chatTemplate().name());
    }

    /** What the SLF4J simple binding (which writes to System.err as it is when a message is logged) prints. */
    static String stderrOf(Runnable action) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
