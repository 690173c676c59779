package dev.moe4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.generate.Prompts;
import dev.moe4j.generate.Scheduler;
import dev.moe4j.testutil.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The generate API on the tiny dense fixture (random weights, real Qwen3 chat template C embedded). */
class EngineTest {
    static Engine engine;

    @BeforeAll
    static void load() {
        engine = Engine.load(Fixtures.model("qwen3-dense-tiny.f32.gguf"), Engine.Options.defaults().withContextLength(256));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void greedyCompletionIsLlamaCppGreedy() {
        Fixtures.Ref ref = Fixtures.ref("qwen3-dense-tiny.f32");
        String prompt = ref.json().get("prompt_text").asText();
        int[] expected = ref.expectedGreedy();
        ChatResponse r = engine.complete(new CompletionRequest(prompt, SamplingParams.GREEDY, expected.length, null, 1L));
        assertEquals(engine.tokenizer().decode(expected, true), r.content());
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(expected.length, r.usage().completionTokens());
        assertEquals(ref.promptTokens().length, r.usage().promptTokens());
    }

    private static ChatRequest.Builder sampled(long seed) {
        return ChatRequest.builder().user("Tell me about licences.").thinking(Thinking.OFF)
                .sampling(new SamplingParams(1.0, 0, 1, 0, 0, 0, 1)).maxTokens(24).seed(seed);
    }

    @Test
    void seedsMakeSamplingReproducible() {
        ChatResponse a = engine.chat(sampled(11).build());
        ChatResponse b = engine.chat(sampled(11).build());
        ChatResponse c = engine.chat(sampled(12).build());
        assertEquals(a.content(), b.content());
        assertNotEquals(a.content(), c.content());
    }

    @Test
    void thinkingBudgetCutsReasoningAfterExactlyNTokens() {
        int budget = 6;
        // Thinking-2507: the prompt opens <think>, so every generated token is reasoning until </think>
        ChatRequest.Builder base = ChatRequest.builder().user("Why?").chatTemplate("qwen3-thinking-2507")
                .sampling(new SamplingParams(1.0, 0, 1, 0, 0, 0, 1)).seed(5);
        ChatResponse unbounded = engine.chat(base.maxTokens(budget).build());
        assertEquals(budget, unbounded.usage().reasoningTokens(), "precondition: no </think> within the budget");
        ChatResponse cut = engine.chat(base.maxTokens(64).thinkingBudget(budget).build());
        assertTrue(cut.thinkingBudgetExhausted());
        String stopText = Prompts.EARLY_STOP.substring(0, Prompts.EARLY_STOP.indexOf("</think>")).strip();
        String expected = unbounded.reasoning().isEmpty() ? stopText : unbounded.reasoning() + "\n\n" + stopText;
        assertEquals(expected, cut.reasoning());
        int stopTokens = engine.tokenizer().encode(Prompts.EARLY_STOP.substring(0, Prompts.EARLY_STOP.indexOf("</think>")),
                true).length;
        // N sampled + the early-stop text + </think>
        assertEquals(budget + stopTokens + 1, cut.usage().reasoningTokens());
        assertTrue(cut.usage().completionTokens() > cut.usage().reasoningTokens(), "the model answers after </think>");
    }

    @Test
    void budgetZeroMeansNoThinking() {
        ChatResponse r = engine.chat(ChatRequest.builder().user("Hi").thinkingBudget(0).greedy().maxTokens(8).build());
        assertEquals("", r.reasoning());
        assertEquals(0, r.usage().reasoningTokens());
        ChatResponse always = engine.chat(ChatRequest.builder().user("Hi").chatTemplate("qwen3-thinking-2507")
                .thinkingBudget(0).greedy().maxTokens(8).build());
        assertEquals("", always.reasoning());
        assertEquals(0, always.usage().reasoningTokens());
    }

    @Test
    void stopStringAcrossTokensNeverStreams() {
        List<String> deltas = new ArrayList<>();
        ChatRequest plain = sampled(21).maxTokens(40).build();
        engine.chatStream(plain, new ChatListener() {
            @Override
            public void onContent(String delta) {
                deltas.add(delta);
            }
        }).await();
        // a stop string made of the end of one streamed piece and the start of the next
        String stop = null;
        int k;
        for (k = 1; k + 1 < deltas.size(); k++) {
            String a = deltas.get(k);
            String b = deltas.get(k + 1);
            if (a.length() >= 2 && b.length() >= 2) {
                stop = a.substring(a.length() - 2) + b.substring(0, 2);
                break;
            }
        }
        assertTrue(stop != null, "the sample should stream pieces of 2+ characters: " + deltas);
        String full = String.join("", deltas);
        StringBuilder streamed = new StringBuilder();
        ChatResponse r = engine.chatStream(sampled(21).maxTokens(40).stop(stop).build(), new ChatListener() {
            @Override
            public void onContent(String delta) {
                streamed.append(delta);
            }
        }).await();
        assertEquals(FinishReason.STOP_STRING, r.finishReason());
        assertEquals(full.substring(0, full.indexOf(stop)), streamed.toString());
        assertEquals(streamed.toString(), r.content());
        assertFalse(streamed.toString().contains(stop));
    }

    @Test
    void cancelFromListenerStopsTheRequestAndFreesBlocks() {
        AtomicReference<ChatHandle> handle = new AtomicReference<>();
        AtomicInteger afterCancel = new AtomicInteger(-1);
        CountDownLatch started = new CountDownLatch(1);
        ChatListener listener = new ChatListener() {
            @Override
            public void onContent(String delta) {
                count();
            }

            @Override
            public void onReasoning(String delta) {
                count();
            }

            private void count() {
                if (afterCancel.incrementAndGet() == 0) {
                    try {
                        started.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    handle.get().cancel();
                }
            }
        };
        handle.set(engine.chatStream(sampled(3).maxTokens(100).build(), listener));
        started.countDown();
        ChatResponse r = handle.get().await();
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        // the engine runs ahead of a blocked listener by at most the hand-off's backlog, then pauses the request
        assertTrue(r.usage().completionTokens() <= Scheduler.LISTENER_BACKLOG + 2, "paused, then stopped: " + r.usage());
        assertEquals(0, afterCancel.get(), "no text after the cancelling callback");
        assertEquals(engine.kvBlocks(), engine.freeKvBlocks(), "the sequence's blocks went back to the pool");
    }

    @Test
    void concurrentRequestsGetWhatTheyGetAlone() throws Exception {
        ChatRequest a = sampled(31).maxTokens(20).build();
        ChatRequest b = ChatRequest.builder().system("Be brief.").user("Name a licence.").greedy().maxTokens(16).build();
        ChatResponse aloneA = engine.chat(a);
        ChatResponse aloneB = engine.chat(b);
        for (int round = 0; round < 3; round++) {
            CompletableFuture<ChatResponse> fa = CompletableFuture.supplyAsync(() -> engine.chat(a));
            CompletableFuture<ChatResponse> fb = CompletableFuture.supplyAsync(() -> engine.chat(b));
            assertEquals(aloneA, fa.get());
            assertEquals(aloneB, fb.get());
        }
        assertEquals(engine.kvBlocks(), engine.freeKvBlocks());
    }

    @Test
    void misuseIsRejectedClearly() {
        InvalidRequestException empty = assertThrows(InvalidRequestException.class, () -> ChatRequest.builder().build());
        assertTrue(empty.getMessage().contains("at least one message"));
        InvalidRequestException budget = assertThrows(InvalidRequestException.class,
                () -> ChatRequest.builder().user("x").thinkingBudget(-2).build());
        assertTrue(budget.getMessage().contains("thinkingBudget"));
        InvalidRequestException topP = assertThrows(InvalidRequestException.class,
                () -> ChatRequest.builder().user("x").sampling(SamplingParams.THINKING.withTopP(1.2)).build());
        assertTrue(topP.getMessage().contains("topP"));
        InvalidRequestException tokens = assertThrows(InvalidRequestException.class,
                () -> ChatRequest.builder().user("x").maxTokens(0).build());
        assertTrue(tokens.getMessage().contains("maxTokens"));
        String longText = "licence ".repeat(400);
        ContextFullException tooLong = assertThrows(ContextFullException.class,
                () -> engine.chat(ChatRequest.of(longText)));
        assertTrue(tooLong.getMessage().contains("the context holds 256"), tooLong.getMessage());
        InvalidRequestException template = assertThrows(InvalidRequestException.class,
                () -> engine.chat(ChatRequest.builder().user("x").chatTemplate("llama-3").build()));
        assertTrue(template.getMessage().contains("llama-3"), template.getMessage());
    }

    @Test
    void generationStopsAtContextEnd() {
        try (Engine small = Engine.load(Fixtures.model("qwen3-dense-tiny.f32.gguf"),
                Engine.Options.defaults().withContextLength(40))) {
            ChatResponse r = small.chat(ChatRequest.builder().user("Hi").thinking(Thinking.OFF).greedy()
                    .maxTokens(500).build());
            assertTrue(r.finishReason() == FinishReason.CONTEXT_FULL || r.finishReason() == FinishReason.STOP,
                    r.finishReason().toString());
            // every fed token holds a position; the last sampled one needs none
            assertTrue(r.usage().totalTokens() <= 41, r.usage().toString());
            assertEquals(small.kvBlocks(), small.freeKvBlocks());
        }
    }
}
