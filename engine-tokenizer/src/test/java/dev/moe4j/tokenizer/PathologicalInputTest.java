package dev.moe4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.text.Normalizer;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * Inputs that make naive tokenizers quadratic: one megabyte-long piece (BPE over a million symbols), a long run of
 * one character, a megabyte of digits (a million one-digit pieces), long whitespace and symbol runs, and a stream of
 * near-miss added tokens, long runs of combining marks (the JDK's NFC alone is quadratic there, see
 * {@link CombiningMarks}). Each must encode within a generous bound, and — the real point — ten times the input may
 * cost at most {@value #MAX_RATIO} times the time. Quadratic work gives 100×; linear or n log n work gives 4–13×,
 * and up to ~19× for a single megabyte-long piece, whose BPE working set (~30 MB) falls out of the CPU caches
 * while the 100 kB one's fits; the bound leaves room for a busy machine.
 */
class PathologicalInputTest {
    private static final int SMALL = 100_000;
    private static final int LARGE = 1_000_000;
    private static final long BOUND_NANOS = 20_000_000_000L;
    private static final double MAX_RATIO = 30;

    private final Tokenizer tokenizer = Qwen3Fixtures.tokenizer();

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /**
     * Best of a few runs of this thread's CPU time, which filters out GC pauses and a busy neighbour better than the
     * mean of wall-clock times: on a loaded machine a run's wall time includes the time others had the core.
     */
    private long bestNanos(String text, int runs) {
        long best = Long.MAX_VALUE;
        for (int run = 0; run < runs; run++) {
            long start = THREADS.getCurrentThreadCpuTime();
            int[] ids = tokenizer.encode(text);
            best = Math.min(best, THREADS.getCurrentThreadCpuTime() - start);
            assertTrue(ids.length > 0);
        }
        return best;
    }

    private void assertScalesLinearly(String name, IntFunction<String> input) {
        String small = input.apply(SMALL);
        String large = input.apply(LARGE);
        bestNanos(small, 2); // warm up the JIT on this input's paths
        long smallNanos = Math.max(bestNanos(small, 3), 1_000_000); // ≥ 1 ms: timer noise dominates below
        long largeNanos = bestNanos(large, 2);
        assertTrue(largeNanos < BOUND_NANOS, name + ": " + largeNanos / 1e9 + " s");
        assertTrue(largeNanos < MAX_RATIO * smallNanos, String.format(
                "%s: 1 MB took %.1f ms, 100 kB %.1f ms — superlinear", name, largeNanos / 1e6, smallNanos / 1e6));
        String nfc = Normalizer.normalize(CombiningMarks.orderLongRuns(large), Normalizer.Form.NFC);
        assertTrue(nfc.equals(tokenizer.decode(tokenizer.encode(large))), name + ": decode(encode(s)) != NFC(s)");
    }

    private static String repeat(String unit, int length) {
        return unit.repeat(length / unit.length());
    }

    private static String random(String alphabet, int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] codePoints = alphabet.codePoints().toArray();
        StringBuilder text = new StringBuilder(length);
        while (text.length() < length) {
            text.appendCodePoint(codePoints[random.nextInt(codePoints.length)]);
        }
        return text.toString();
    }

    @Test
    void oneMegabyteWordWithoutWhitespace() {
        assertScalesLinearly("random letters", n -> random("abcdefghijklmnopqrstuvwxyz", n, 1));
        assertScalesLinearly("random CJK", n -> random("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年", n / 3, 2));
    }

    @Test
    void oneCharacterRepeated() {
        for (String unit : new String[] {"a", "!", " ", "\n", "中", "😀", "é", "\u00A0"}) {
            assertScalesLinearly("repeated " + ReferenceCasesTest.describe(unit), n -> repeat(unit, n));
        }
    }

    @Test
    void oneMegabyteOfDigits() {
        assertScalesLinearly("random digits", n -> random("0123456789", n, 3));
    }

    @Test
    void symbolRunsAndNearMissAddedTokens() {
        assertScalesLinearly("random symbols", n -> random("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~", n, 4));
        assertScalesLinearly("near-miss added tokens", n -> repeat("<|im_", n));
        assertScalesLinearly("whitespace and newlines", n -> random(" \t\n\r\u3000", n, 5));
        assertScalesLinearly("combining marks out of order", n -> "e" + repeat("\u0301\u0327", n));
        assertScalesLinearly("random combining marks", n -> "a" + random("\u0300\u0316\u0327\u0334\u0344\u0345"
                + "\u05B0\u093C\u093E\u0F73\u20DD\uD834\uDD65\uD834\uDD6D", n, 6));
    }
}
