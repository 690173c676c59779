package dev.moe4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.testutil.Fixtures;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The engine on the hybrid models (Gated DeltaNet + gated attention): batching, streaming, cancellation. */
class HybridEngineTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qwen3-next-tiny.q8_0.gguf", "qwen35-tiny.f32.gguf", "qwen35-moe-tiny.f32.gguf"})
    void concurrentRequestsGetWhatTheyGetAloneAndCancelFreesTheirState(String file) throws Exception {
        try (Engine engine = Engine.load(Fixtures.model(file), Engine.Options.defaults().withContextLength(512))) {
            ChatRequest a = ChatRequest.builder().user("Tell me about licences.").thinking(Thinking.OFF).greedy()
                    .maxTokens(24).build();
            ChatRequest b = ChatRequest.builder().system("Be brief.").user("Name a sky.").thinking(Thinking.OFF)
                    .sampling(new SamplingParams(1.0, 40, 1, 0, 0, 0, 1)).seed(3L).maxTokens(20).build();
            ChatResponse aloneA = engine.chat(a);
            ChatResponse aloneB = engine.chat(b);
            assertTrue(aloneA.usage().completionTokens() > 1, "the model generates: " + aloneA.usage());
            for (int round = 0; round < 2; round++) {
                CompletableFuture<ChatResponse> fa = CompletableFuture.supplyAsync(() -> engine.chat(a));
                CompletableFuture<ChatResponse> fb = CompletableFuture.supplyAsync(() -> engine.chat(b));
                assertEquals(aloneA, fa.get());
                assertEquals(aloneB, fb.get());
            }
            assertEquals(0, engine.recurrentSlotsInUse());
            assertEquals(engine.kvBlocks(), engine.freeKvBlocks());

            // cancelled from its first callback: blocks and the recurrent slot come back
            AtomicReference<ChatHandle> handle = new AtomicReference<>();
            CountDownLatch started = new CountDownLatch(1);
            ChatRequest longer = ChatRequest.builder().user("Tell me about licences.").thinking(Thinking.OFF)
                    .sampling(new SamplingParams(1.0, 40, 1, 0, 0, 0, 1)).seed(4L).maxTokens(400).build();
            handle.set(engine.chatStream(longer, new ChatListener() {
                @Override
                public void onContent(String delta) {
                    try {
                        started.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    handle.get().cancel();
                }
            }));
            started.countDown();
            assertEquals(FinishReason.CANCELLED, handle.get().await().finishReason());
            assertEquals(0, engine.recurrentSlotsInUse(), "the recurrent slot is free");
            assertEquals(engine.kvBlocks(), engine.freeKvBlocks(), "the KV blocks are free");
            assertTrue(engine.runningRequests() <= 1);
        }
    }
}
