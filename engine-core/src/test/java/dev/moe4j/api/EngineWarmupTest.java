package dev.moe4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.testutil.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Warm-up at load runs the model on a sequence of its own and leaves nothing behind that a caller can observe. */
class EngineWarmupTest {

    private static Engine.Options options(boolean warmup) {
        return Engine.Options.defaults().withContextLength(256).withKvCacheBlocks(48).withMaxSequences(4)
                .withWarmup(warmup);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qwen3-moe-tiny.q8_0.gguf", "qwen3-next-tiny.q8_0.gguf"})
    void warmEngineLooksFreshAndAnswersAsACold(String file) {
        ChatRequest sampled = ChatRequest.builder().user("Tell me about licences.").thinking(Thinking.OFF)
                .sampling(new SamplingParams(1.0, 40, 1, 0, 0, 0, 1)).seed(7L).maxTokens(24).build();
        CompletionRequest greedy = new CompletionRequest("The quick brown fox", SamplingParams.GREEDY, 16, null, 1L);
        try (Engine cold = Engine.load(Fixtures.model(file), options(false));
             Engine warm = Engine.load(Fixtures.model(file), options(true))) {
            assertEquals(0, cold.warmupTokens());
            assertEquals(Engine.WARMUP_PROMPT_TOKENS + Engine.WARMUP_DECODE_STEPS, warm.warmupTokens(),
                    "the warm-up ran");
            assertFresh(warm, cold);

            ChatResponse coldSampled = cold.chat(sampled);
            ChatResponse coldGreedy = cold.complete(greedy);
            ChatResponse warmSampled = warm.chat(sampled);
            ChatResponse warmGreedy = warm.complete(greedy);
            assertTrue(coldSampled.usage().completionTokens() > 1, "the model generates: " + coldSampled.usage());
            assertEquals(coldSampled, warmSampled);
            assertEquals(coldGreedy, warmGreedy);
            assertEquals(cold.tokensGenerated(), warm.tokensGenerated());
            assertEquals(cold.kvBlocks(), warm.freeKvBlocks());
            assertEquals(0, warm.recurrentSlotsInUse());
        }
    }

    private static void assertFresh(Engine warm, Engine cold) {
        assertEquals(cold.kvBlocks(), warm.kvBlocks());
        assertEquals(warm.kvBlocks(), warm.freeKvBlocks(), "the warm-up sequence gave its KV blocks back");
        assertEquals(0, warm.recurrentSlotsInUse(), "and its recurrent slot");
        assertEquals(cold.contextLength(), warm.contextLength());
        assertEquals(0, warm.tokensGenerated());
        assertEquals(0, warm.preemptions());
        assertEquals(0, warm.queuedRequests());
        assertEquals(0, warm.runningRequests());
    }

    @Test
    void warmUpFitsAContextShorterThanItsPrompt() {
        try (Engine engine = Engine.load(Fixtures.model("qwen3-moe-tiny.q8_0.gguf"),
                Engine.Options.defaults().withContextLength(8).withWarmup(true))) {
            assertEquals(8, engine.warmupTokens(), "a one-token prompt and seven decode steps");
            assertEquals(engine.kvBlocks(), engine.freeKvBlocks());
            ChatResponse r = engine.complete(new CompletionRequest("Hi", SamplingParams.GREEDY, 4, null, 1L));
            assertEquals(4, r.usage().completionTokens());
        }
    }
}
