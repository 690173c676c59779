package dev.moe4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.model.Batch;
import dev.moe4j.model.Model;
import dev.moe4j.model.Scratch;
import dev.moe4j.testutil.Fixtures;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link Engine.Options#withRoundedActivations}: on a prompt of the Q4_0 MoE fixture where a model loaded with rounded
 * activations continues greedily otherwise than the F32 path (prompt in one batch, then a token a step), the engine
 * with the option continues as the rounded model does.
 */
class EngineRoundedActivationsTest {
    private static final int TOKENS = 32;

    private static int[] greedy(Model model, int[] prompt) {
        KvCache cache = model.newKvCache(prompt.length + TOKENS, 16, 1);
        Scratch scratch = new Scratch(model.config());
        int[] out = new int[TOKENS];
        try (Sequence seq = cache.newSequence()) {
            float[] logits = model.forward(Batch.of(seq, prompt, false), scratch);
            for (int i = 0; i < TOKENS; i++) {
                out[i] = argmax(logits);
                if (i + 1 < TOKENS) {
                    logits = model.forward(Batch.of(seq, new int[] {out[i]}, false), scratch);
                }
            }
        }
        return out;
    }

    private static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void engineWithTheOptionContinuesAsTheRoundedModel() throws Exception {
        Fixtures.Ref ref = Fixtures.ref("qwen3-moe-tiny.q4_0");
        String base = ref.json().get("prompt_text").asText();
        try (Engine engine = Engine.load(ref.gguf(),
                        Engine.Options.defaults().withContextLength(256).withRoundedActivations(true));
                Model rounded = Model.loadGguf(ref.gguf(), Kernels.get(), true);
                Model exact = Model.loadGguf(ref.gguf(), Kernels.get(), false)) {
            // the first of a few prompts on which the two paths part within 32 tokens (a search, fixed and short)
            String prompt = null;
            int[] expected = null;
            for (int i = 0; i < 40 && prompt == null; i++) {
                String p = base + " " + i;
                int[] ids = engine.tokenizer().encode(p, true);
                int[] a = greedy(rounded, ids);
                if (!Arrays.equals(a, greedy(exact, ids))) {
                    prompt = p;
                    expected = a;
                }
            }
            assertNotNull(prompt, "rounding changed no greedy continuation of 40 prompts");
            ChatResponse r = engine.complete(new CompletionRequest(prompt, SamplingParams.GREEDY, TOKENS, null, 1L));
            assertEquals(engine.tokenizer().encode(prompt, true).length, r.usage().promptTokens());
            assertEquals(engine.tokenizer().decode(expected, true), r.content(), prompt);
            assertNotEquals(engine.tokenizer().decode(greedy(exact, engine.tokenizer().encode(prompt, true)), true),
                    r.content());
        }
    }
}
