package dev.moe4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.testutil.Fixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Engine.Options#prefixCache()}: on by default, a chat that shares a long system prompt with an earlier one
 * starts on its cached blocks and answers exactly as an engine without the cache; off by the option; never on for a
 * model with linear-attention layers.
 */
class EnginePrefixCacheTest {
    private static final String SYSTEM = "You are a careful assistant for questions about software licences. "
            .repeat(6);

    private static List<ChatResponse> conversation(Engine engine) {
        List<ChatResponse> out = new ArrayList<>();
        for (String question : new String[] {"Name a licence.", "Is MIT permissive?", "Name a licence."}) {
            out.add(engine.chat(ChatRequest.builder().system(SYSTEM).user(question).thinking(Thinking.OFF)
                    .sampling(new SamplingParams(0.9, 0, 0.95, 0, 0, 0, 1)).maxTokens(20).seed(3L).build()));
        }
        return out;
    }

    @Test
    void aSharedSystemPromptIsTakenFromTheCacheAndChangesNoAnswer() {
        Engine.Options options = Engine.Options.defaults().withContextLength(512);
        List<ChatResponse> with;
        List<ChatResponse> without;
        try (Engine engine = Engine.load(Fixtures.model("qwen3-moe-tiny.q8_0.gguf"), options)) {
            assertTrue(engine.prefixCaching());
            with = conversation(engine);
            int systemTokens = engine.tokenizer().encode(SYSTEM, false).length;
            assertTrue(engine.cachedPromptTokens() >= 2 * (systemTokens / 16 * 16),
                    "the later chats start on the system prompt's blocks: " + engine.cachedPromptTokens());
            assertEquals(engine.kvBlocks(), engine.freeKvBlocks(), "idle cached blocks count as free");
            engine.kvCache().pool().checkConsistency();
            assertTrue(engine.kvCache().pool().idleCachedBlocks() > 0);
        }
        try (Engine engine = Engine.load(Fixtures.model("qwen3-moe-tiny.q8_0.gguf"),
                options.withPrefixCache(false))) {
            assertFalse(engine.prefixCaching());
            without = conversation(engine);
            assertEquals(0, engine.cachedPromptTokens());
            assertEquals(0, engine.kvCache().pool().cachedBlocks());
        }
        for (int i = 0; i < with.size(); i++) {
            assertEquals(without.get(i).content(), with.get(i).content(), "chat " + i);
            assertEquals(without.get(i).usage(), with.get(i).usage(), "chat " + i);
        }
    }

    @Test
    void modelsWithRecurrentLayersKeepNoPrefixCache() {
        try (Engine engine = Engine.load(Fixtures.model("qwen3-next-tiny.q8_0.gguf"),
                Engine.Options.defaults().withContextLength(512))) {
            assertTrue(engine.config().numLayers() > 0);
            assertFalse(engine.prefixCaching(), "a recurrent state is one slot per sequence, not blocks");
            conversation(engine);
            assertEquals(0, engine.cachedPromptTokens());
        }
    }
}
