package dev.moe4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.InvalidRequestException;
import dev.moe4j.api.SamplingParams;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static float[] logits(double... probabilities) {
        float[] l = new float[probabilities.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) Math.log(probabilities[i]);
        }
        return l;
    }

    private static int[] histogram(SamplingParams p, float[] logits, int draws, long seed) {
        Sampler s = new Sampler(p, logits.length, seed);
        int[] h = new int[logits.length];
        for (int i = 0; i < draws; i++) {
            h[s.sample(logits, 0)]++;
        }
        return h;
    }

    @Test
    void greedyIsArgmax() {
        Random r = new Random(1);
        for (int trial = 0; trial < 50; trial++) {
            float[] l = new float[1000];
            for (int i = 0; i < l.length; i++) {
                l[i] = (float) r.nextGaussian();
            }
            int argmax = 0;
            for (int i = 1; i < l.length; i++) {
                argmax = l[i] > l[argmax] ? i : argmax;
            }
            assertEquals(argmax, new Sampler(SamplingParams.GREEDY, l.length, trial).sample(l, 0));
            assertEquals(argmax, new Sampler(SamplingParams.THINKING.withTopK(1), l.length, trial).sample(l, 0));
        }
    }

    @Test
    void seedDecidesTheDraws() {
        float[] l = logits(0.2, 0.2, 0.2, 0.2, 0.2);
        SamplingParams p = SamplingParams.THINKING.withTopP(1).withTopK(0);
        assertEquals(Arrays.toString(draws(p, l, 7)), Arrays.toString(draws(p, l, 7)));
        assertNotEquals(Arrays.toString(draws(p, l, 7)), Arrays.toString(draws(p, l, 8)));
    }

    private static int[] draws(SamplingParams p, float[] l, long seed) {
        Sampler s = new Sampler(p, l.length, seed);
        int[] out = new int[40];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.sample(l, 0);
        }
        return out;
    }

    @Test
    void plainSamplingFollowsSoftmax() {
        double[] probs = {0.5, 0.25, 0.125, 0.0625, 0.0625};
        int draws = 40_000;
        int[] h = histogram(new SamplingParams(1, 0, 1, 0, 0, 0, 1), logits(probs), draws, 3);
        for (int i = 0; i < probs.length; i++) {
            double expected = probs[i] * draws;
            double sigma = Math.sqrt(draws * probs[i] * (1 - probs[i]));
            assertTrue(Math.abs(h[i] - expected) < 5 * sigma, "token " + i + ": " + h[i] + " vs " + expected);
        }
    }

    @Test
    void temperatureSharpens() {
        // T = 0.5 squares the probabilities before renormalising: 0.8/0.2 → 0.64/0.04 → 16:1
        int[] h = histogram(new SamplingParams(0.5, 0, 1, 0, 0, 0, 1), logits(0.8, 0.2), 34_000, 4);
        double expected = 34_000 / 17.0;
        assertTrue(Math.abs(h[1] - expected) < 5 * Math.sqrt(expected), "rare token drawn " + h[1] + " times");
    }

    @Test
    void truncationsRemoveTheTail() {
        float[] l = logits(0.5, 0.3, 0.15, 0.05);
        int[] topK = histogram(new SamplingParams(1, 2, 1, 0, 0, 0, 1), l, 5000, 5);
        assertEquals(0, topK[2] + topK[3]);
        int[] topP = histogram(new SamplingParams(1, 0, 0.75, 0, 0, 0, 1), l, 5000, 6);
        assertEquals(0, topP[2] + topP[3], "0.5 + 0.3 reaches 0.75: the rest is cut");
        assertTrue(topP[1] > 0);
        int[] minP = histogram(new SamplingParams(1, 0, 1, 0.2, 0, 0, 1), l, 5000, 7);
        assertEquals(0, minP[3], "0.05 < 0.2 × 0.5");
        assertTrue(minP[2] > 0, "0.15 >= 0.1 stays");
    }

    @Test
    void penaltiesApplyToGeneratedTokens() {
        float[] l = {2f, 1.5f, -1f};
        Sampler presence = new Sampler(SamplingParams.GREEDY.withPresencePenalty(1), 3, 0);
        assertEquals(0, presence.sample(l, 0));
        presence.accept(0);
        assertEquals(1, presence.sample(l, 0), "2 - 1 < 1.5");
        Sampler frequency = new Sampler(SamplingParams.GREEDY.withFrequencyPenalty(0.3), 3, 0);
        frequency.accept(0);
        assertEquals(0, frequency.sample(l, 0), "2 - 0.3 > 1.5");
        frequency.accept(0);
        assertEquals(1, frequency.sample(l, 0), "2 - 0.6 < 1.5");
        Sampler repetition = new Sampler(SamplingParams.GREEDY.withRepetitionPenalty(1.5), 3, 0);
        repetition.accept(0);
        assertEquals(1, repetition.sample(l, 0), "2 / 1.5 < 1.5");
    }

    @Test
    void neverProducesIdsPastTheVocabulary() {
        float[] l = new float[10];
        l[9] = 100;
        assertEquals(0, new Sampler(SamplingParams.GREEDY, 9, 0).sample(l, 0), "id 9 is padding");
    }

    @Test
    void invalidParametersAreNamed() {
        assertTrue(assertThrows(InvalidRequestException.class, () -> SamplingParams.THINKING.withTopP(0))
                .getMessage().contains("topP must be in (0, 1]"));
        assertTrue(assertThrows(InvalidRequestException.class, () -> SamplingParams.THINKING.withTopP(1.5))
                .getMessage().contains("topP"));
        assertTrue(assertThrows(InvalidRequestException.class, () -> SamplingParams.THINKING.withTemperature(-1))
                .getMessage().contains("temperature"));
        assertTrue(assertThrows(InvalidRequestException.class, () -> SamplingParams.THINKING.withTopK(-2))
                .getMessage().contains("topK"));
        assertTrue(assertThrows(InvalidRequestException.class, () -> SamplingParams.THINKING.withMinP(2))
                .getMessage().contains("minP"));
        assertTrue(assertThrows(InvalidRequestException.class, () -> SamplingParams.THINKING.withRepetitionPenalty(0))
                .getMessage().contains("repetitionPenalty"));
    }
}
