package dev.moe4j.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.moe4j.api.SamplingParams;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link Sampler} ranks with primitive keys (a radix sort over the whole vocabulary, min-p alone ranking only what
 * it keeps); {@link ReferenceSampler} sorts boxed candidates with a comparator. Same seed, same logits: the same
 * token, draw after draw, over random vectors with ties, signed zeros, infinities and NaN, and every truncation.
 */
class SamplerRankingTest {
    private static final double[] TEMPERATURES = {0.3, 0.7, 1, 1.8};
    private static final int[] TOP_KS = {0, 1, 3, 40, 5000};
    private static final double[] TOP_PS = {1, 0.95, 0.5, 0.05};
    private static final double[] MIN_PS = {0, 0.01, 0.2, 1};

    private static float[] logits(Random random, int vocab) {
        float[] l = new float[vocab];
        int kind = random.nextInt(4);
        for (int i = 0; i < vocab; i++) {
            l[i] = switch (kind) {
                case 0 -> (float) (random.nextGaussian() * 3);
                case 1 -> random.nextInt(9) == 0 ? -0f : random.nextInt(7) - 3;  // many ties, both zeros
                case 2 -> (float) (random.nextGaussian() * 40);                 // weights underflow to 0
                default -> random.nextInt(20) == 0 ? -0f : (float) random.nextGaussian();
            };
            int special = random.nextInt(200);
            if (special == 0) {
                l[i] = Float.NEGATIVE_INFINITY;
            } else if (special == 1) {
                l[i] = Float.NaN;
            }
        }
        if (kind == 3 && random.nextInt(3) == 0) {
            l[random.nextInt(vocab)] = Float.POSITIVE_INFINITY; // a broken model's row: NaN weights, the same token
        }
        return l;
    }

    @Test
    void sameTokenAsTheReferenceForEverySeedAndTruncation() {
        Random random = new Random(42);
        Set<Integer> distinct = new HashSet<>();
        int compared = 0;
        for (int trial = 0; trial < 400; trial++) {
            int vocab = 1 + random.nextInt(trial % 10 == 0 ? 3000 : 300);
            SamplingParams p = new SamplingParams(TEMPERATURES[random.nextInt(TEMPERATURES.length)],
                    TOP_KS[random.nextInt(TOP_KS.length)], TOP_PS[random.nextInt(TOP_PS.length)],
                    MIN_PS[random.nextInt(MIN_PS.length)], random.nextInt(3) == 0 ? 0.5 : 0,
                    random.nextInt(3) == 0 ? 0.2 : 0, random.nextInt(3) == 0 ? 1.3 : 1);
            long seed = random.nextLong();
            Sampler sampler = new Sampler(p, vocab, seed);
            ReferenceSampler reference = new ReferenceSampler(p, vocab, seed);
            float[] l = logits(random, vocab + 5);
            boolean any = false;
            for (int i = 0; i < vocab; i++) {
                any |= l[i] != Float.NEGATIVE_INFINITY && !Float.isNaN(l[i]);
            }
            if (!any) {
                continue;
            }
            for (int draw = 0; draw < 20; draw++) {
                int expected = reference.sample(l, 0);
                assertEquals(expected, sampler.sample(l, 0), "trial " + trial + " draw " + draw + " " + p);
                distinct.add(expected);
                reference.accept(expected);
                sampler.accept(expected);
                compared++;
            }
        }
        assertTrue(compared > 7000);
        assertTrue(distinct.size() > 100, "draws spread over many tokens: " + distinct.size());
    }

    @Test
    void sameTokenAtQwenVocabularySize() {
        Random random = new Random(7);
        int vocab = 151_936;
        for (SamplingParams p : new SamplingParams[] {new SamplingParams(0.7, 0, 0.9, 0, 0, 0, 1),
                new SamplingParams(1, 0, 1, 0, 0, 0, 1), new SamplingParams(0.6, 0, 1, 0.05, 0, 0, 1),
                new SamplingParams(0.8, 0, 0.95, 0.02, 0.3, 0, 1.1)}) {
            Sampler sampler = new Sampler(p, vocab, 9);
            ReferenceSampler reference = new ReferenceSampler(p, vocab, 9);
            for (int draw = 0; draw < 6; draw++) {
                float[] l = logits(random, vocab);
                int expected = reference.sample(l, 0);
                assertEquals(expected, sampler.sample(l, 0), p + " draw " + draw);
                reference.accept(expected);
                sampler.accept(expected);
            }
        }
    }
}
