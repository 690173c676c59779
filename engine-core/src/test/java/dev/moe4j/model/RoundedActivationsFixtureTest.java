package dev.moe4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.cache.KvCache;
import dev.moe4j.cache.Sequence;
import dev.moe4j.kernels.Kernels;
import dev.moe4j.testutil.Fixtures;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The opt-in rounded-activation path of the Q4_0, Q4_K and Q4_K_M fixtures, run one token at a time (it serves decode-sized products):
 * the logits at every position, against llama.cpp's exact-weights reference, have a normalised mean squared error
 * no larger than llama.cpp's own on the same file ({@code llama_cpp_own_vs_exact_nmse}, its Q8_0-rounded
 * activations); and the path is really taken (its logits differ from the F32 path's). A whole prompt in one pass
 * (column-order F32 products where more than 4 tokens meet a matrix) is held to the same limit, and the dense one
 * to the default path's 1e-4.
 */
class RoundedActivationsFixtureTest {

    static List<Fixtures.Ref> q4_0Fixtures() {
        return Fixtures.refs().stream().filter(r -> r.weights().equals("Q4_0")).toList();
    }

    /** Fixtures with matrices that have a rounded-activation form: Q4_0, and Q4_K alone or in llama.cpp's mix. */
    static List<Fixtures.Ref> roundedFixtures() {
        return Fixtures.refs().stream()
                .filter(r -> List.of("Q4_0", "Q4_K", "Q4_K_M").contains(r.weights().toUpperCase(java.util.Locale.ROOT)))
                .toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("roundedFixtures")
    void stepwiseLogitsAreAsCloseToTheExactOnesAsLlamaCppIs(Fixtures.Ref ref) throws Exception {
        double limit = ref.json().get("llama_cpp_own_vs_exact_nmse").asDouble();
        float[] exact = ref.expectedLogits();
        float[] rounded = stepwise(Model.loadGguf(ref.gguf(), Kernels.get(), true), ref.tokens());
        float[] f32 = stepwise(Model.loadGguf(ref.gguf(), Kernels.get(), false), ref.tokens());
        double nmse = nmse(rounded, exact);
        System.out.printf("fixture %-26s rounded activations: NMSE %.3g (llama.cpp's own %.3g), F32 path %.3g%n",
                ref.stem(), nmse, limit, nmse(f32, exact));
        assertTrue(nmse <= limit, ref.stem() + ": NMSE " + nmse + " > llama.cpp's own " + limit);
        assertTrue(nmse(f32, exact) < 1e-9, ref.stem() + ": the F32 path stays exact");
        assertTrue(nmse > 1e-9, ref.stem() + ": rounded activations must change the logits (path not taken?)");
    }

    /**
     * A prompt's products of more than 4 tokens keep F32 activations in this mode but sum in column order. The logits of
     * one forward pass over all 48 tokens: NMSE within llama.cpp's own; for the dense model, where every product has
     * all 48 tokens, within the default path's own bar too, max |Δ| ≤ 1e-4 of the exact reference (the MoE model's
     * experts that get at most 4 of the tokens round them); and not the default path's bits (the tile is taken).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("q4_0Fixtures")
    void promptLogitsInColumnOrderStayCloseToTheExactOnes(Fixtures.Ref ref) throws Exception {
        double limit = ref.json().get("llama_cpp_own_vs_exact_nmse").asDouble();
        float[] exact = ref.expectedLogits();
        Model model = Model.loadGguf(ref.gguf(), Kernels.get(), true);
        boolean dense = !model.config().isMoe();
        float[] columnOrder = prompt(model, ref.tokens());
        float[] canonical = prompt(Model.loadGguf(ref.gguf(), Kernels.get(), false), ref.tokens());
        double worst = 0;
        for (int i = 0; i < exact.length; i++) {
            worst = Math.max(worst, Math.abs(columnOrder[i] - (double) exact[i]));
        }
        double nmse = nmse(columnOrder, exact);
        System.out.printf("fixture %-26s prompt, rounded-activation mode: max |Δ| %.3g, NMSE %.3g%n", ref.stem(),
                worst, nmse);
        assertTrue(nmse <= limit, ref.stem() + ": NMSE " + nmse + " > llama.cpp's own " + limit);
        if (dense) {
            assertTrue(worst <= 1e-4, ref.stem() + ": max |Δ| " + worst + " > 1e-4");
        }
        assertTrue(!java.util.Arrays.equals(columnOrder, canonical),
                ref.stem() + ": the column-order tile must be taken (same bits as the default path)");
    }

    private static float[] prompt(Model model, int[] tokens) {
        try (model) {
            KvCache cache = model.newKvCache(Math.max(256, tokens.length), KvCache.DEFAULT_BLOCK_SIZE, 1);
            try (Sequence seq = cache.newSequence()) {
                return model.forward(Batch.of(seq, tokens, true), new Scratch(model.config()));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Logits at every position, each token its own forward pass over the KV cache. */
    private static float[] stepwise(Model model, int[] tokens) {
        try (model) {
            int vocab = model.config().vocabSize();
            float[] all = new float[tokens.length * vocab];
            KvCache cache = model.newKvCache(Math.max(256, tokens.length), KvCache.DEFAULT_BLOCK_SIZE, 1);
            Scratch scratch = new Scratch(model.config());
            try (Sequence seq = cache.newSequence()) {
                for (int i = 0; i < tokens.length; i++) {
                    float[] logits = model.forward(Batch.of(seq, new int[] {tokens[i]}, false), scratch);
                    assertNotNull(logits);
                    assertEquals(vocab, logits.length);
                    System.arraycopy(logits, 0, all, i * vocab, vocab);
                }
            }
            return all;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Σ (a − b)² / Σ b². */
    private static double nmse(float[] a, float[] b) {
        assertEquals(b.length, a.length);
        double err = 0;
        double ref = 0;
        for (int i = 0; i < a.length; i++) {
            err += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
            ref += (double) b[i] * b[i];
        }
        return err / ref;
    }
}
