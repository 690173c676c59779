package dev.moe4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.text.Normalizer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CombiningMarksTest {
    /** Marks of many classes, class-0 spacing marks, marks that decompose (U+0344, U+0F73), supplementary ones. */
    private static final int[] MARKS = ("\u0300\u0301\u0308\u0316\u031B\u0327\u0334\u0338\u0340\u0344\u0345"
            + "\u05B0\u05BC\u0651\u093C\u093E\u09BE\u09CB\u0E48\u0F71\u0F73\u0F80\u20DD\u302A"
            + "\uD834\uDD65\uD834\uDD6D\uD834\uDD6E").codePoints().toArray();

    @Test
    void orderingLongRunsLeavesNfcUnchanged() {
        SplittableRandom random = new SplittableRandom(9);
        String[] bases = {"a", "e", "\u0928", "\u0995", "\u0E01", "\u05D0", " ", "ǖ", "\u1100", ""};
        for (int i = 0; i < 3_000; i++) {
            StringBuilder text = new StringBuilder(bases[random.nextInt(bases.length)]);
            int run = random.nextInt(3) == 0 ? random.nextInt(10) : CombiningMarks.LONG_RUN + random.nextInt(100);
            for (int k = 0; k < run; k++) {
                text.appendCodePoint(MARKS[random.nextInt(MARKS.length)]);
            }
            text.append(bases[random.nextInt(bases.length)]);
            String original = text.toString();
            String ordered = CombiningMarks.orderLongRuns(original);
            assertEquals(Normalizer.normalize(original, Normalizer.Form.NFC),
                    Normalizer.normalize(ordered, Normalizer.Form.NFC), () -> ReferenceCasesTest.describe(original));
            assertEquals(Normalizer.normalize(original, Normalizer.Form.NFD),
                    Normalizer.normalize(ordered, Normalizer.Form.NFD));
        }
    }

    @Test
    void shortRunsAndOrdinaryTextAreUntouched() {
        String text = "e\u0301\u0327 naïve 日本語";
        assertSame(text, CombiningMarks.orderLongRuns(text));
    }

    @Test
    void aLongRunComesOutSortedByClass() {
        String run = "\u0301\u0327".repeat(CombiningMarks.LONG_RUN);
        assertEquals("e" + "\u0327".repeat(CombiningMarks.LONG_RUN) + "\u0301".repeat(CombiningMarks.LONG_RUN),
                CombiningMarks.orderLongRuns("e" + run));
    }
}
