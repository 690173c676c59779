package dev.moe4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.cache.BlockPool;
import dev.moe4j.testing.ScriptedModel;
import dev.moe4j.testutil.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Speculative decoding through the engine, on a scripted model that copies a passage of its prompt: the same
 * responses as plain decoding (end token, maximum tokens, stop strings and thinking budgets cutting through accepted
 * drafts), most tokens accepted from drafts, and every KV block back in the pool.
 */
class EngineSpeculativeTest {
    /** No token twice, so that the scripted model tells its steps apart by a short window (and stays small). */
    static final String PASSAGE = "Seven amber foxes quietly jumped over ninety lazy brown dogs near Oslo while twelve"
            + " grey owls watched from distant silver pines beside frozen lakes under pale winter skies.";
    static final String SAID = "<think>\nCopy it.\n</think>\n\n" + PASSAGE + "<|im_end|>";

    @TempDir
    static Path dir;
    static Engine plain;
    static Engine speculative;

    @BeforeAll
    static void load() {
        Path model = dir.resolve("copy.gguf");
        ScriptedModel.write(Fixtures.model("qwen3-moe-tiny.q8_0.gguf"), model,
                List.of(new ScriptedModel.Script("<|im_start|>assistant\n", SAID)));
        Engine.Options options = Engine.Options.defaults().withContextLength(512).withKvCacheBlocks(64)
                .withMaxSequences(2);
        plain = Engine.load(model, options);
        speculative = Engine.load(model, options.withSpeculative(SpeculativeDecoding.promptLookup(6)));
    }

    @AfterAll
    static void close() {
        plain.close();
        speculative.close();
    }

    private static ChatRequest.Builder copy() {
        return ChatRequest.builder().user("Repeat after me: " + PASSAGE).thinking(Thinking.ON).greedy().maxTokens(200);
    }

    private static void assertPoolWhole(Engine engine) {
        BlockPool pool = engine.kvCache().pool();
        pool.checkConsistency();
        assertEquals(pool.capacity(), pool.freeBlocks(), "every block back in the pool");
    }

    @Test
    void copiesWithMostTokensFromDrafts() {
        ChatResponse expected = plain.chat(copy().build());
        assertEquals(PASSAGE, expected.content(), "precondition: the script");
        long accepted = speculative.acceptedDraftTokens();
        long generated = speculative.tokensGenerated();
        ChatResponse r = speculative.chat(copy().build());
        assertEquals(expected, r);
        accepted = speculative.acceptedDraftTokens() - accepted;
        generated = speculative.tokensGenerated() - generated;
        assertEquals(r.usage().completionTokens(), generated);
        assertTrue(accepted > generated / 2, accepted + " of " + generated + " tokens from drafts");
        // sampled requests take drafts too, and the script's tokens have probability 1
        ChatResponse sampled = speculative.chat(copy().sampling(new SamplingParams(1.0, 0, 1, 0, 0, 0, 1)).seed(9)
                .build());
        assertEquals(PASSAGE, sampled.content());
        assertPoolWhole(speculative);
    }

    @Test
    void limitsCutAcceptedDraftsExactly() {
        for (int max : new int[] {1, 9, 17, 23, 30}) {
            ChatResponse expected = plain.chat(copy().maxTokens(max).build());
            assertEquals(FinishReason.LENGTH, expected.finishReason());
            assertEquals(expected, speculative.chat(copy().maxTokens(max).build()), "max tokens " + max);
        }
        for (String stop : new String[] {"lazy brown", "owls", "Oslo"}) {
            ChatResponse expected = plain.chat(copy().stop(stop).build());
            assertEquals(FinishReason.STOP_STRING, expected.finishReason());
            assertEquals(expected, speculative.chat(copy().stop(stop).build()), "stop " + stop);
        }
        ChatResponse expected = plain.chat(copy().thinkingBudget(2).build());
        assertTrue(expected.thinkingBudgetExhausted());
        assertEquals(expected, speculative.chat(copy().thinkingBudget(2).build()));
        assertPoolWhole(speculative);
    }

    @Test
    void theSameBlocksReachThePrefixCache() {
        Engine.Options options = Engine.Options.defaults().withContextLength(512).withKvCacheBlocks(64)
                .withKvBlockSize(4);
        int[] cached = new int[2];
        for (int i = 0; i < 2; i++) {
            try (Engine engine = Engine.load(dir.resolve("copy.gguf"), i == 0 ? options
                    : options.withSpeculative(SpeculativeDecoding.promptLookup(6)))) {
                ChatResponse r = engine.chat(copy().build());
                assertEquals(PASSAGE, r.content());
                cached[i] = engine.kvCache().pool().cachedBlocks();
                assertTrue(i == 0 || engine.acceptedDraftTokens() > 0);
            }
        }
        // the prompt's and the answer's full blocks, the last accepted drafts' included
        assertEquals(cached[0], cached[1]);
    }

    @Test
    void cancellingMidDraftEndsTheRequest() throws Exception {
        AtomicInteger deltas = new AtomicInteger();
        AtomicReference<ChatHandle> handle = new AtomicReference<>();
        ChatHandle h = speculative.chatStream(copy().build(), new ChatListener() {
            @Override
            public void onContent(String delta) {
                if (deltas.incrementAndGet() == 5) {
                    handle.get().cancel();
                }
            }
        });
        handle.set(h);
        if (deltas.get() >= 5) {
            h.cancel(); // the fifth delta came before the handle was set
        }
        ChatResponse r = h.await();
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertTrue(r.content().length() < PASSAGE.length(), r.content());
        assertPoolWhole(speculative);
    }

    @Test
    void hybridModelsDecodePlainly() {
        Engine.Options options = Engine.Options.defaults().withContextLength(256);
        ChatRequest request = ChatRequest.builder().user("Say it again and again.").thinking(Thinking.OFF).greedy()
                .maxTokens(16).build();
        try (Engine a = Engine.load(Fixtures.model("qwen3-next-tiny.q8_0.gguf"), options);
             Engine b = Engine.load(Fixtures.model("qwen3-next-tiny.q8_0.gguf"),
                     options.withSpeculative(SpeculativeDecoding.promptLookup(4)))) {
            assertEquals(a.chat(request), b.chat(request));
            assertEquals(0, b.draftedTokens(), "no drafts where rejected tokens could not be dropped");
        }
    }
}
